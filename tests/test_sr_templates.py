"""The SR export's templates (`ioreview.imaging.sr`): measurement groups that differ only in
their codes, texts and numbers share one highdicom-built template, and a header encoded
straight from a header template has the bytes of the header Dataset filled from it; in
both cases the documents are those highdicom builds whole."""
from __future__ import annotations

import highdicom.base
import numpy as np
import pydicom
import pytest
from test_sr import PSEUDONYM, VALUES, Ann, annotations_for, frozen_clock, write_case  # noqa: F401

from adjudication.protocol import load_default_protocol
from ioreview.imaging import sr


@pytest.fixture(scope="module")
def protocol():
    return load_default_protocol()


def _uid_map():
    table: dict[str, str] = {}
    return lambda uid: table.setdefault(uid, pydicom.uid.generate_uid(prefix="2.25."))


def _both_ways(tmp_path, monkeypatch, name, evidence, **kwargs) -> tuple[bytes, bytes]:
    written = {}
    for templates in (True, False):
        monkeypatch.setattr(sr, "_TEMPLATES", templates)
        path = tmp_path / f"{name}-{templates}.dcm"
        sr.write_measurement_report(path, sources=evidence, series_uid="2.25.4242",
                                    instance_number=1, title=name, **kwargs)
        written[templates] = path.read_bytes()
    monkeypatch.setattr(sr, "_TEMPLATES", True)
    return written[True], written[False]


@pytest.mark.parametrize("deidentified", [False, True])
def test_groups_differing_in_codes_texts_and_points_share_a_template(
        tmp_path, protocol, monkeypatch, deidentified):
    """Other choices, presence values, side, timepoint and outline point counts are holes of
    the same templates: the second document builds no new group template, and both are the
    documents highdicom builds whole."""
    monkeypatch.setattr(sr, "_GROUP_TEMPLATES", {})
    case = write_case(tmp_path / "src", "group-templates")
    kwargs = {"uid_map": _uid_map(), "patient_id": PSEUDONYM} if deidentified else {}
    evidence = sr.SrEvidence(case["paths"], **kwargs)
    other_values = {**VALUES, "image_quality": "limited", "side": "right",
                    "timepoint": "follow-up", "extravasation.presence": "absent",
                    "extravasation.compartment": ["subcutaneous", "knee_joint"],
                    "extravasation.severity": "severe", "haematoma.presence": "present",
                    "extravasation.contrast_extravasation": False,
                    "needle_position.tip_position": "cortex"}
    base = annotations_for(case)
    other_anns = [Ann(a.finding_id, a.kind, a.sop_instance_uid, 0,
                      a.points + ((a.points[-1][0] + 3.0, a.points[-1][1] + 5.0),)
                      if a.kind == "polygon" else a.points,
                      {k: v + 1.25 for k, v in a.measurements.items()}, a.label)
                  for a in base]
    counts = []
    for n, (values, anns) in enumerate(((VALUES, base), (other_values, other_anns))):
        new, whole = _both_ways(tmp_path, monkeypatch, f"doc{n}", evidence, protocol=protocol,
                                values=values, annotations=anns, observer="READER1",
                                observer_kind="person", sop_instance_uid=f"2.25.{500 + n}")
        assert new == whole, f"document {n}"
        counts.append(len(sr._GROUP_TEMPLATES))
        assert all(t is not None for t in sr._GROUP_TEMPLATES.values())
    assert counts[0] == counts[1] > 0
    ds = pydicom.dcmread(tmp_path / "doc1-True.dcm")
    text = str(ds.ContentSequence)
    assert "follow-up" in text and "Right" in text and "post-insertion" not in text


@pytest.mark.parametrize("deidentified", [False, True])
def test_a_header_encoded_from_its_template_is_the_filled_header(
        tmp_path, protocol, monkeypatch, frozen_clock, deidentified):
    """Evidence of one study, of two studies (Pertinent Other Evidence) and of other
    patients: `_HeaderTemplate.encode` gives the elements of the header `fill` builds, and the
    documents are those highdicom builds whole."""
    monkeypatch.setattr(sr, "_HEADER_TEMPLATES", {})
    a = write_case(tmp_path / "a", "direct-a")
    a2 = write_case(tmp_path / "a2", "direct-a2", study_date="20240601")  # a later study
    b = write_case(tmp_path / "b", "direct-b", patient_id="MRN-5", patient_name="Li^Na",
                   birth_date="19800202", study_date="20250303", accession="Q1")
    c = write_case(tmp_path / "c", "direct-c", patient_id="MRN-6", patient_name="Wu^Yi",
                   sex="F", birth_date="", study_date="20230101", accession="")
    variants = [a["paths"], b["paths"], {**a["paths"], **a2["paths"]}, c["paths"],
                {**b["paths"], **a2["paths"]}]
    checked = 0
    for n, paths in enumerate(variants):
        kwargs = {"uid_map": _uid_map(), "patient_id": f"SUBJ-{n}",
                  "date_offset_days": 7 * n} if deidentified else {}
        evidence = sr.SrEvidence(paths, **kwargs)
        first_case = [c_ for c_ in (a, a2, b, c) if sorted(paths)[0] in c_["paths"]][0]
        new, whole = _both_ways(tmp_path, monkeypatch, f"case{n}", evidence, protocol=protocol,
                                values=VALUES, annotations=annotations_for(first_case),
                                observer="READER1", observer_kind="person",
                                sop_instance_uid=f"2.25.{900 + n}")
        assert new == whole, f"case {n}"
        template = sr._HEADER_TEMPLATES.get(sr._header_shape(evidence, 1))
        if template is not None and template.header is not None:
            fresh = sr.SrEvidence(paths, **kwargs)
            encoded = template.encode(fresh, "2.25.4242")
            if encoded is not None:
                filled = template.fill(fresh, "2.25.4242")
                assert encoded.elements == sr._encode_header(filled).elements, f"case {n}"
                checked += 1
    assert checked >= 3
    assert all(t.direct is not False for t in sr._HEADER_TEMPLATES.values())
    assert any(t.direct for t in sr._HEADER_TEMPLATES.values())
    two_studies = pydicom.dcmread(tmp_path / "case2-True.dcm")
    assert "PertinentOtherEvidenceSequence" in two_studies


def test_highdicom_builds_the_same_header_with_the_module_map_decoded_by_module(
        tmp_path, monkeypatch, frozen_clock):
    """While highdicom builds a header it reads its module attribute map through
    `_module_attributes` (decoded by module): the header is the one it builds with its own
    map, every module equals highdicom's, and the whole file was never decoded."""
    import contextlib

    from highdicom._standard_utils import get_module_attribute_map

    case = write_case(tmp_path / "src", "lazy-map")
    evidence = sr.SrEvidence(case["paths"], uid_map=_uid_map(), patient_id=PSEUDONYM)
    lazy = sr._encode_header(evidence._build_header("2.25.77", 1))
    assert sr._module_attributes()._all is None
    assert highdicom.base.get_module_attribute_map is get_module_attribute_map  # put back
    monkeypatch.setattr(sr, "_lazy_module_map", contextlib.nullcontext)
    own = sr._encode_header(evidence._build_header("2.25.77", 1))
    assert lazy.elements == own.elements
    full = get_module_attribute_map()
    by_module = sr._ModuleAttributes()
    assert set(by_module._index()) == set(full)  # every module is found where it starts
    assert all(by_module[key] == full[key] for key in list(full)[::7])
    assert by_module._all is None


def test_image_regions_are_built_without_decoding_the_whole_module_map(frozen_clock):
    """highdicom asks of every image region whether its source's IOD has pixel data; a
    group's template is built with the module map decoded by module, and the map is
    highdicom's own again afterwards."""
    from highdicom._standard_utils import get_module_attribute_map

    sr._GROUP_TEMPLATES.clear()
    sr._module_attributes.cache_clear()
    group = sr._Group(tracking_text="t", tracking_uid="2.25.1", time_point=None,
                      evaluations=(), measurements=(),
                      region=("POLYLINE", np.array([[1.0, 2.0], [3.0, 4.0]]),
                              "1.2.840.10008.5.1.4.1.1.2", "2.25.2", None))
    assert sr._group_template(group, ("ISO_IR 100",)) is not None
    assert sr._module_attributes()._modules  # asked for, by module
    assert sr._module_attributes()._all is None
    assert highdicom._standard_utils.get_module_attribute_map is get_module_attribute_map


@pytest.mark.parametrize("deidentified", [False, True])
def test_a_header_from_the_kept_source_attributes_is_the_header_of_the_whole_source(
        tmp_path, monkeypatch, frozen_clock, deidentified):
    """A source keeps only the attributes an SR header can depend on (`_used_tags`): the
    header highdicom builds from it is the one it builds from the whole source header."""
    case = write_case(tmp_path / "src", "kept-attributes")
    kwargs = {"uid_map": _uid_map(), "patient_id": PSEUDONYM} if deidentified else {}
    kept = sr.SrEvidence(case["paths"], **kwargs)
    monkeypatch.setattr(sr, "_used_tags", lambda sop_class_uid: None)
    whole = sr.SrEvidence(case["paths"], **kwargs)
    assert len(whole.first) > len(kept.first)
    assert sr._encode_header(kept._build_header("2.25.88", 1)).elements == \
        sr._encode_header(whole._build_header("2.25.88", 1)).elements


def test_numeric_values_are_encoded_as_highdicom_writes_them():
    """Numeric Value as `DS(value, auto_format=True)`, -0.0 after 0.0 included (equal keys of
    a cache, not equal texts)."""
    for v in (0.0, -0.0, 1.5, -2.25, 123456.789012345, 1e-9, 0.0):
        text = str(pydicom.valuerep.DS(v, auto_format=True))
        assert bytes(sr._ds_value(v)).rstrip(b" ") == text.encode("ascii"), v
