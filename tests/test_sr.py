"""DICOM SR export (`ioreview.imaging.sr`): a TID 1500 measurement report of a read on a
synthetic CT and radiograph, identified and de-identified, checked with dciodvfy and read back
through highdicom."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import highdicom as hd
import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset

from adjudication.protocol import load_default_protocol
from ioreview.imaging import synthetic_dicom as sd
from ioreview.imaging.sr import LOCAL_SCHEME, scoord, write_measurement_report

REQUIRE_DCIODVFY_ENV = "IOREVIEW_REQUIRE_DCIODVFY"

PATIENT_NAME = "Zhang^Wei"
PATIENT_ID = "MRN-88231"
BIRTH_DATE = "19610314"
STUDY_DATE = "20240517"
INSTITUTION = "Saint Elsewhere Hospital"
PSEUDONYM = "SUBJ-007"


@dataclass(frozen=True)
class Ann:
    """An annotation as the service hands it out (store.records.AnnotationRecord's fields)."""

    finding_id: str | None
    kind: str
    sop_instance_uid: str
    frame: int
    points: tuple[tuple[float, float], ...]
    measurements: dict[str, float] = field(default_factory=dict)
    label: str = ""


@pytest.fixture
def frozen_clock(monkeypatch):
    """highdicom writes the time of construction into a header: the same time for all."""
    import datetime as dt
    import types

    import highdicom.base
    import highdicom.base_content

    class Frozen(dt.datetime):
        @classmethod
        def now(cls, tz=None):
            return cls(2026, 11, 30, 3, 4, 5, 678901)

    clock = types.SimpleNamespace(datetime=Frozen, date=dt.date, time=dt.time)
    monkeypatch.setattr(highdicom.base, "datetime", clock)
    monkeypatch.setattr(highdicom.base_content, "datetime", clock)


@pytest.fixture(scope="module")
def protocol():
    return load_default_protocol()


def write_case(root: Path, name: str = "sr", *, patient_id: str = PATIENT_ID,
               patient_name: str = PATIENT_NAME, birth_date: str = BIRTH_DATE, sex: str = "M",
               study_date: str = STUDY_DATE, accession: str = "ACC99123") -> dict:
    """A small CT slice and a radiograph of one patient and study, written as files."""
    root.mkdir(parents=True, exist_ok=True)
    ps = sd.PatientStudy(
        patient_id=patient_id, patient_name=patient_name, character_set="ISO_IR 100",
        birth_date=birth_date, sex=sex, study_uid=sd.seeded_uid(name, "study"),
        study_date=study_date, study_time="101500", study_id="4711", accession_number=accession,
        study_description="Tibia IO site", institution_name=INSTITUTION,
        referring_physician="Doctor^Referring",
    )
    ct_series = sd.SeriesInfo(uid=sd.seeded_uid(name, "ct"), number=2, description="CT leg",
                              modality="CT", laterality="L",
                              frame_of_reference_uid=sd.seeded_uid(name, "for"))
    dx_series = sd.SeriesInfo(uid=sd.seeded_uid(name, "dx"), number=3, description="DX tibia",
                              modality="DX", laterality="L")
    rng = np.random.default_rng(5)
    ct_uid, dx_uid = sd.seeded_uid(name, "ct", 1), sd.seeded_uid(name, "dx", 1)
    ct = sd.ct_slice(ps, ct_series, ct_uid, 1, (rng.integers(900, 1200, (64, 64))).astype(np.int16),
                     (-50.0, -50.0, 10.0), 0.8, 2.0, 2.0)
    dx = sd.dx_image(ps, dx_series, dx_uid, 1, rng.integers(0, 4095, (64, 48)).astype(np.uint16),
                     "AP", "L", 0.15, 1.1, False)
    paths = {ct_uid: root / "ct.dcm", dx_uid: root / "dx.dcm"}
    ct.save_as(paths[ct_uid], enforce_file_format=True)
    dx.save_as(paths[dx_uid], enforce_file_format=True)
    originals = {  # every instance UID of the sources, to look for in a de-identified SR
        str(u) for ds in (ct, dx) for u in (ds.SOPInstanceUID, ds.SeriesInstanceUID,
                                             ds.StudyInstanceUID, ds.FrameOfReferenceUID if "FrameOfReferenceUID" in ds else None) if u
    }
    return {"ct": ct_uid, "dx": dx_uid, "paths": {k: str(v) for k, v in paths.items()},
            "originals": originals, "study_date": study_date}


@pytest.fixture(scope="module")
def case(tmp_path_factory) -> dict:
    """A small CT slice and a radiograph of one patient and study, written as files."""
    return write_case(tmp_path_factory.mktemp("sr_sources"))


VALUES = {
    "image_quality": "adequate",
    "side": "left",
    "timepoint": "post-insertion",
    "read_comment": "Called Dr Zhang on 2024-05-17",  # free text: never exported
    "extravasation.presence": "present",
    "extravasation.confidence": 4,
    "extravasation.compartment": ["anterior", "lateral"],
    "extravasation.volume_ml": 12.5,
    "extravasation.contrast_extravasation": True,
    "extravasation.severity": "moderate",
    "haematoma.presence": "absent",
    "haematoma.confidence": 2,
    "fracture.presence": "indeterminate",
    "fracture.confidence": 3,
    "needle_position.tip_position": "through_and_through",
}


def annotations_for(case) -> list[Ann]:
    return [
        Ann("extravasation", "ellipse", case["ct"], 0, ((10.0, 12.0), (30.0, 20.0)),
            {"area_mm2": 80.1, "mean_hu": 35.0}, "extravasation ROI"),
        Ann("extravasation", "length", case["dx"], 0, ((5.0, 6.0), (40.0, 30.0)),
            {"length_mm": 12.3}, "max size"),
        Ann("haematoma", "polygon", case["ct"], 0, ((20.0, 20.0), (20.0, 40.0), (35.0, 30.0)),
            {"area_mm2": 45.5, "volume_ml": 4.2}, ""),
    ]


def write(tmp_path: Path, protocol, case, *, deidentified: bool, uid_table: dict | None = None,
          observer="READER1", observer_kind="person") -> tuple[Path, str]:
    out = tmp_path / ("deid.dcm" if deidentified else "ident.dcm")
    kwargs = {}
    if deidentified:
        table = uid_table if uid_table is not None else {}

        def uid_map(uid: str) -> str:
            return table.setdefault(uid, pydicom.uid.generate_uid(prefix="2.25."))

        kwargs = {"uid_map": uid_map, "date_offset_days": -1000, "patient_id": PSEUDONYM}
    uid = write_measurement_report(
        out, protocol=protocol, values=VALUES, annotations=annotations_for(case),
        observer=observer, observer_kind=observer_kind, sources=case["paths"], **kwargs,
    )
    return out, uid


# ------------------------------------------------------------------ helpers
def dciodvfy(path: Path) -> str:
    exe = shutil.which("dciodvfy")
    if exe is None:
        if os.environ.get(REQUIRE_DCIODVFY_ENV, "").strip() not in ("", "0"):
            pytest.fail(f"dciodvfy required ({REQUIRE_DCIODVFY_ENV}=1) but not installed "
                        "(Debian package dicom3tools)", pytrace=False)
        pytest.skip("dciodvfy not installed (Debian package dicom3tools); CI installs it")
    run = subprocess.run([exe, str(path)], capture_output=True, text=True, timeout=60)
    return run.stdout + run.stderr


def code(c) -> tuple[str, str]:
    return (c.scheme_designator, c.value)


def evaluations(group) -> list[tuple[tuple[str, str], tuple[str, str]]]:
    return [(code(e.name), code(e.value)) for e in group.get_qualitative_evaluations()]


def measurements(group) -> dict[tuple[str, str], tuple[float, str, tuple[str, str] | None]]:
    return {code(m.name): (m.value, m.unit.value, code(m.derivation) if m.derivation else None)
            for m in group.get_measurements()}


def text_of(ds: Dataset) -> str:
    """Every value of the dataset (file meta and nested items) as one string."""
    parts: list[str] = []

    def walk(d: Dataset) -> None:
        for elem in d:
            if elem.VR == "SQ":
                for item in elem.value:
                    walk(item)
            elif elem.tag != 0x7FE00010:
                parts.append(str(elem.value))
    if getattr(ds, "file_meta", None):
        walk(ds.file_meta)
    walk(ds)
    return "\n".join(parts)


def referenced_uids(ds: Dataset) -> set[str]:
    found: set[str] = set()

    def walk(d: Dataset) -> None:
        for elem in d:
            if elem.VR == "SQ":
                for item in elem.value:
                    walk(item)
            elif elem.keyword == "ReferencedSOPInstanceUID":
                found.add(str(elem.value))
    walk(ds)
    return found


# ------------------------------------------------------------------ tests
def test_scoord_converts_row_col_to_dicom_column_row():
    gt, xy = scoord("length", ((5.0, 6.0), (40.0, 30.0)))
    assert gt == "POLYLINE" and xy.tolist() == [[6.5, 5.5], [30.5, 40.5]]
    gt, xy = scoord("ellipse", ((10.0, 12.0), (30.0, 20.0)))  # 8 wide, 20 high: vertical major
    assert gt == "ELLIPSE" and xy.tolist() == [[16.5, 10.5], [16.5, 30.5], [12.5, 20.5], [20.5, 20.5]]
    gt, xy = scoord("polygon", ((1, 1), (1, 5), (4, 3)))
    assert gt == "POLYLINE" and xy[0].tolist() == xy[-1].tolist() and len(xy) == 4
    assert scoord("point", ((2, 3),))[0] == "POINT"
    with pytest.raises(ValueError):
        scoord("ellipse", ((1, 1), (1, 9)))


def test_identified_report_passes_dciodvfy(tmp_path, protocol, case):
    path, _ = write(tmp_path, protocol, case, deidentified=False)
    out = dciodvfy(path)
    errors = [line for line in out.splitlines() if line.startswith("Error")]
    assert errors == [], out


def test_deidentified_report_passes_dciodvfy(tmp_path, protocol, case):
    path, _ = write(tmp_path, protocol, case, deidentified=True,
                    observer="ADJUDICATION COMMITTEE", observer_kind="organisation")
    out = dciodvfy(path)
    errors = [line for line in out.splitlines() if line.startswith("Error")]
    assert errors == [], out


def test_report_reads_back_with_findings_codes_measurements_and_coordinates(tmp_path, protocol, case):
    path, uid = write(tmp_path, protocol, case, deidentified=False)
    ds = pydicom.dcmread(path)
    assert ds.file_meta.TransferSyntaxUID == pydicom.uid.ExplicitVRLittleEndian
    assert ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.88.34"  # Comprehensive 3D SR
    assert ds.SOPInstanceUID == uid
    assert [(i.CodingSchemeDesignator) for i in ds.CodingSchemeIdentificationSequence] == [LOCAL_SCHEME]
    # identified: the patient and study are those of the sources
    assert (str(ds.PatientName), ds.PatientID, ds.PatientBirthDate) == (PATIENT_NAME, PATIENT_ID, BIRTH_DATE)
    assert ds.StudyInstanceUID == sd.seeded_uid("sr", "study")
    assert VALUES["read_comment"] not in text_of(ds)  # free text is not exported

    sr = hd.sr.srread(path)
    report = sr.content
    observer = report.get_observer_contexts()[0]
    assert code(observer.observer_type) == ("DCM", "121006")
    assert str(observer.observer_identifying_attributes.name) == "READER1^"
    procedures = {(i.ConceptCodeSequence[0].CodingSchemeDesignator, i.ConceptCodeSequence[0].CodeValue)
                  for i in ds.ContentSequence
                  if i.ConceptNameCodeSequence[0].CodeValue == "121058"}
    assert procedures == {("LN", "25045-6"), ("LN", "43468-8")}  # CT and XR, CID 100

    image_groups = report.get_image_measurement_groups()
    by_id = {g.tracking_identifier: g for g in image_groups}
    assert list(by_id) == ["read", "needle_position", "extravasation", "haematoma", "fracture"]
    read = by_id["read"]
    assert (("99IOREVIEW", "image_quality"), ("99IOREVIEW", "adequate")) in evaluations(read)
    assert (("99IOREVIEW", "side"), ("99IOREVIEW", "left")) in evaluations(read)
    assert (("99IOREVIEW", "tip_position"), ("99IOREVIEW", "through_and_through")) in \
        evaluations(by_id["needle_position"])

    ext = by_id["extravasation"]
    assert code(ext.finding_type) == ("SCT", "76676007")
    site = ext.finding_sites[0]
    assert code(site.value) == ("SCT", "12611008") and code(site.laterality) == ("SCT", "7771000")
    ev = evaluations(ext)
    assert (("SCT", "76676007"), ("SCT", "52101004")) in ev  # present, CID 240
    assert (("SCT", "246112005"), ("SCT", "6736007")) in ev  # severity moderate, CID 3716
    assert (("DCM", "113568"), ("SCT", "373066001")) in ev  # contrast extravasation: yes
    assert [v for n, v in ev if n == ("99IOREVIEW", "compartment")] == [
        ("99IOREVIEW", "anterior"), ("99IOREVIEW", "lateral")]
    me = measurements(ext)
    assert me[("DCM", "111012")] == (4.0, "1", None)  # certainty of finding
    assert me[("99IOREVIEW", "volume_ml")] == (12.5, "mL", None)
    assert (("SCT", "35566002"), ("SCT", "272519000")) in evaluations(by_id["haematoma"])  # absent
    assert (("SCT", "31978002"), ("SCT", "373068000")) in evaluations(by_id["fracture"])  # undetermined
    assert measurements(by_id["fracture"])[("DCM", "111012")][0] == 3.0

    rois = report.get_planar_roi_measurement_groups()
    anns = annotations_for(case)
    assert len(rois) == len(anns) == 3
    for group, ann in zip(rois, anns):
        region = group.roi
        assert region.ContentSequence[0].referenced_sop_instance_uid == ann.sop_instance_uid
        gt, expected = scoord(ann.kind, ann.points)
        assert region.graphic_type.value == gt
        np.testing.assert_allclose(region.value, expected, atol=1e-4)  # float32 Graphic Data
        assert code(group.finding_type) == code(hd.sr.CodedConcept(
            protocol.finding(ann.finding_id).code.value, "SCT", "x"))
        assert (("99IOREVIEW", "annotation-kind"), ("99IOREVIEW", ann.kind)) in evaluations(group)
    # the ellipse (CT): four axis end points in (column, row), area in mm2, mean CT number in HU
    np.testing.assert_allclose(rois[0].roi.value,
                               [[16.5, 10.5], [16.5, 30.5], [12.5, 20.5], [20.5, 20.5]], atol=1e-4)
    assert measurements(rois[0]) == {
        ("SCT", "42798000"): (80.1, "mm2", None),
        ("DCM", "112031"): (35.0, "[hnsf'U]", ("SCT", "373098007")),
    }
    assert measurements(rois[1]) == {("SCT", "410668003"): (12.3, "mm", None)}
    assert rois[1].roi.graphic_type.value == "POLYLINE" and len(rois[1].roi.value) == 2
    assert measurements(rois[2]) == {("SCT", "42798000"): (45.5, "mm2", None),
                                     ("SCT", "118565006"): (4.2, "mL", None)}
    assert rois[2].tracking_identifier == "haematoma polygon 3"


def test_deidentified_report_has_no_phi_and_mapped_references(tmp_path, protocol, case):
    table: dict[str, str] = {}
    path, uid = write(tmp_path, protocol, case, deidentified=True, uid_table=table,
                      observer="ADJUDICATION COMMITTEE", observer_kind="organisation")
    ds = pydicom.dcmread(path)
    text = text_of(ds)
    for secret in (PATIENT_NAME, "Zhang", PATIENT_ID, BIRTH_DATE, INSTITUTION, STUDY_DATE,
                   "ACC99123", "Referring", *case["originals"]):
        assert secret not in text, secret
    assert ds.PatientID == PSEUDONYM and str(ds.PatientName) == PSEUDONYM + "^"
    assert ds.PatientIdentityRemoved == "YES"
    assert ds.StudyInstanceUID == table[sd.seeded_uid("sr", "study")]
    shifted = (date(2024, 5, 17) + timedelta(days=-1000)).strftime("%Y%m%d")
    assert ds.ContentDate == ds.StudyDate == shifted  # the shifted study date, not today
    refs = referenced_uids(ds)
    assert refs == {table[case["ct"]], table[case["dx"]]}
    sr = hd.sr.srread(path)
    evidence = {e[2] for e in sr.get_evidence()}
    assert evidence == {table[case["ct"]], table[case["dx"]]}
    rois = sr.content.get_planar_roi_measurement_groups()
    assert [g.roi.ContentSequence[0].referenced_sop_instance_uid for g in rois] == [
        table[a.sop_instance_uid] for a in annotations_for(case)]
    observer = sr.content.get_observer_contexts()
    assert code(observer[0].observer_type) == ("DCM", "121007")  # the committee as a device
    assert uid == ds.SOPInstanceUID


def test_rejects_annotations_on_images_outside_the_sources(tmp_path, protocol, case):
    stray = Ann("extravasation", "point", "1.2.3.4.5", 0, ((1.0, 1.0),))
    with pytest.raises(ValueError, match="not among the sources"):
        write_measurement_report(tmp_path / "x.dcm", protocol=protocol, values=VALUES,
                                 annotations=[stray], observer="READER1", observer_kind="person",
                                 sources=case["paths"])
    with pytest.raises(ValueError, match="observer_kind"):
        write_measurement_report(tmp_path / "x.dcm", protocol=protocol, values=VALUES,
                                 annotations=[], observer="READER1", observer_kind="robot",
                                 sources=case["paths"])


@pytest.mark.parametrize("deidentified", [False, True])
def test_documents_from_templates_are_the_documents_highdicom_builds(tmp_path, protocol, case,
                                                                    monkeypatch, deidentified):
    """Groups of one shape are built by highdicom once and filled in per document: the bytes
    must be those of encoding the document highdicom builds whole (same header, so the same
    creation times), for values, annotations and observers that vary between documents."""
    from ioreview.imaging import sr

    kwargs = {}
    if deidentified:
        table: dict[str, str] = {}
        kwargs = {"uid_map": lambda uid: table.setdefault(uid, pydicom.uid.generate_uid(
            prefix="2.25.")), "patient_id": PSEUDONYM}
    evidence = sr.SrEvidence(case["paths"], **kwargs)
    base = annotations_for(case)
    documents = []
    for n in range(4):  # the same shapes with other values, then other shapes
        values = {**VALUES, "extravasation.volume_ml": 5.5 + n, "extravasation.confidence": 1 + n}
        anns = [Ann(a.finding_id, a.kind, a.sop_instance_uid, 0,
                    tuple((r + n, c + 2 * n) for r, c in a.points),
                    {k: v * (n + 1) for k, v in a.measurements.items()},
                    a.label or f"Größe {n}") for a in base]
        documents.append((values, anns[:3 - n % 2], "READER1" if n < 2 else "READER2", "person"))
    documents.append(({k: v for k, v in VALUES.items() if not k.startswith("haematoma")}, [],
                      "ADJUDICATION COMMITTEE", "device"))
    for n, (values, anns, observer, kind) in enumerate(documents):
        written = {}
        for templates in (True, False):
            monkeypatch.setattr(sr, "_TEMPLATES", templates)
            path = tmp_path / f"{n}-{templates}.dcm"
            sr.write_measurement_report(
                path, protocol=protocol, values=values, annotations=anns, observer=observer,
                observer_kind=kind, sources=evidence, series_uid="2.25.12345",
                sop_instance_uid=f"2.25.{1000 + n}", instance_number=n + 1, title=f"doc {n}")
            written[templates] = path.read_bytes()
        assert written[True] == written[False], f"document {n}"
    assert sr._GROUP_TEMPLATES, "no group was built from a template"


@pytest.mark.parametrize("deidentified", [False, True])
def test_headers_from_a_template_are_the_headers_highdicom_builds(tmp_path, protocol, monkeypatch,
                                                                 frozen_clock, deidentified):
    """The header of a case whose evidence has the shape of an earlier case's is that header
    with the case's own copied attributes, series, evidence and content date: the documents'
    bytes must equal those highdicom builds whole (the clock frozen: highdicom writes the
    time of construction), for patients, studies and dates that differ."""
    from ioreview.imaging import sr

    monkeypatch.setattr(sr, "_HEADER_TEMPLATES", {})
    cases = [write_case(tmp_path / "a", "header-a"),
             write_case(tmp_path / "b", "header-b", patient_id="MRN-1", patient_name="Li^Na",
                        birth_date="19790101", study_date="20250102", accession="X7"),
             write_case(tmp_path / "c", "header-c", patient_id="MRN-22", patient_name="Wang^Fang",
                        sex="F", birth_date="", study_date="20230630", accession="")]
    for n, c in enumerate(cases):
        kwargs: dict = {}
        if deidentified:
            table: dict[str, str] = {}
            kwargs = {"uid_map": lambda uid, table=table: table.setdefault(
                uid, pydicom.uid.generate_uid(prefix="2.25.")), "patient_id": f"SUBJ-00{n}",
                "date_offset_days": 10 * n}
        written = {}
        for templates in (True, False):
            monkeypatch.setattr(sr, "_TEMPLATES", templates)
            evidence = sr.SrEvidence(c["paths"], **kwargs)
            path = tmp_path / f"{n}-{templates}.dcm"
            sr.write_measurement_report(
                path, protocol=protocol, values=VALUES, annotations=annotations_for(c),
                observer="READER1", observer_kind="person", sources=evidence,
                series_uid=f"2.25.{777 + n}", sop_instance_uid=f"2.25.{1000 + n}",
                instance_number=1, title=f"case {n}")
            written[templates] = path.read_bytes()
        assert written[True] == written[False], f"case {n}"
        ds = pydicom.dcmread(tmp_path / f"{n}-True.dcm")
        assert ds.PatientID == (f"SUBJ-00{n}" if deidentified else ["MRN-88231", "MRN-1",
                                                                      "MRN-22"][n])
    # a template per shape: the cases whose first image (lowest UID) is a CT share one
    firsts = {sorted(c["paths"])[0] == c["ct"] for c in cases}
    assert len(sr._HEADER_TEMPLATES) == len(firsts) < len(cases)


# ------------------------------------------------------------------ sources from the field
#: pydicom-data files that break the standard in ways import accepts, and whether their UIDs
#: are legal (an identified SR must reference a source by its own UIDs, legal or not)
FIELD_SOURCES = [
    ("color-pl.dcm", 0, False),      # retired US Image Storage class; no Patient ID
    ("SC_rgb_2frame.dcm", 1, True),  # a single-frame class (SC) written with 2 frames
    ("693_UNCR.dcm", 0, True),       # Patient Identity Removed YES without a method
    ("bad_sequence.dcm", 0, False),  # an Age String and a Short String its VR does not allow
    ("OT-PAL-8-face.dcm", 0, True),  # a bare data set: no preamble, 'DICM' or file meta
]


@pytest.mark.filterwarnings("ignore::UserWarning")  # pydicom on the files' own broken values
@pytest.mark.parametrize("name,frame,legal_uids", FIELD_SOURCES)
@pytest.mark.parametrize("deidentified", [False, True])
def test_reports_on_nonconforming_sources_from_the_field_pass_dciodvfy(
        tmp_path, protocol, name, frame, legal_uids, deidentified):
    """An SR on a real file that breaks the standard is still written, passes dciodvfy and
    reads back: missing Type 2 Patient/Study attributes are written empty, values their VR
    does not allow are not copied, a source claiming its identity removed gets a method, a
    retired SOP Class is copied as its replacing IOD, and a frame is referenced only in a
    multi-frame SOP Class (the file's own errors, e.g. illegal UIDs kept in an identified
    SR, are left out of the count); a bare data set is read as import reads it."""
    from pydicom.data import get_testdata_file

    path = get_testdata_file(name, download=False)
    if path is None:
        pytest.skip(f"{name} is not installed (pydicom-data)")
    source = pydicom.dcmread(path, stop_before_pixels=True, force=True)
    uid = str(source.SOPInstanceUID)
    kwargs = {}
    if deidentified:
        table: dict[str, str] = {}
        kwargs = {"uid_map": lambda u: table.setdefault(u, pydicom.uid.generate_uid("2.25.")),
                  "date_offset_days": None, "patient_id": PSEUDONYM}
    out = tmp_path / "field.dcm"
    ann = Ann("extravasation", "ellipse", uid, frame, ((2.0, 2.0), (6.0, 8.0)),
              {"area_mm2": 3.5}, "roi")
    write_measurement_report(out, protocol=protocol, values=VALUES, annotations=[ann],
                             observer="READER1", observer_kind="person", sources={uid: path},
                             **kwargs)
    errors = [line for line in dciodvfy(out).splitlines() if line.startswith("Error")]
    if not (deidentified or legal_uids):
        errors = [e for e in errors if "Illegal root for UID" not in e
                  and not re.search(r"\) UI .*UID", e)]
        if all(e == "Error - Dicom dataset contains invalid data values for Value "
               "Representations" for e in errors):  # dciodvfy's summary of those UID errors
            errors = []
    assert errors == [], "\n".join(errors)
    sr = hd.sr.srread(out)
    regions = [g for g in sr.content.get_planar_roi_measurement_groups()]
    assert len(regions) == 1
    assert str(sr.PatientID) == (PSEUDONYM if deidentified else str(source.get("PatientID", "")))
