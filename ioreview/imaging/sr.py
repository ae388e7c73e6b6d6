"""DICOM SR export of a read (or a final outcome): one TID 1500 Measurement Report per file.

`write_measurement_report` builds a `highdicom.sr.MeasurementReport` (PS3.16 TID 1500) inside a
`highdicom.sr.Comprehensive3DSR` document and writes it (explicit VR little endian, with file
meta).  Everything DICOM of the export lives here: the service layer passes plain values.

Content tree (PS3.16 TID 1500):

* Observer context (TID 1002): a person ("READER1^": single-component person names are a
  retired form) or, for a committee or the software, a device (TID 1004) named by `observer`
  with a UID derived from that name.
* Procedure reported (CID 100): "CT unspecified body region" (LN 25045-6), "XR unspecified body
  region" (LN 43468-8), "MRI unspecified body region" (LN 25056-3) by the sources' modality,
  else "Imaging procedure" (SCT 363679005).
* One image-level group (TID 1501, no region) for the read-level fields, and one per finding
  with recorded values: finding type = the finding's code; presence as a qualitative evaluation
  named by the finding with a CID 240 value (Present / Absent / Undetermined); certainty of
  finding (DCM 111012) as a number with unit "1" (no units, CID 7181); choices with their codes
  (severity: CID 3716, named "Severity" SCT 246112005); booleans as Yes / No (CID 230); numbers
  with their UCUM units; fields and choices without a standard code in the local scheme
  "99IOREVIEW", declared in the Coding Scheme Identification Sequence.  Free-text fields
  (comments, locations) are not exported: they may name people or dates, and the tidy tables
  carry them.  The finding site is the tibia (SCT 12611008) unless `finding_sites` says
  otherwise, with the read's side as its laterality (CID 244); the timepoint is the groups'
  Time Point Context (TID 1502).
* One planar ROI group (TID 1410) per annotation: its SCOORD image region referencing its
  source image, the annotation kind (local code), its finding's type and site, and its
  measurements (length SCT 410668003 in mm, area SCT 42798000 in mm2, volume SCT 118565006 in
  mL, angle SCT 1483009 in deg, CT number statistics as Attenuation Coefficient DCM 112031 with
  a CID 7464 derivation in [hnsf'U]).

Coordinates: annotations hold (row, col) with pixel centres at whole numbers (the viewer's
convention); SCOORD Graphic Data is (column, row) with (0, 0) at the top left corner of the top
left pixel (PS3.3 C.18.6.1.1; highdicom `ImageToReferenceTransformer`), so a point becomes
(col + 0.5, row + 0.5).  An ellipse stored as two bounding-box corners becomes its four axis end
points, major axis first (SCOORD ELLIPSE).

De-identification: with `uid_map`, every source dataset goes through
`deid.deidentify_dataset` before it is used as evidence or referenced, so the SR carries the
mapped UIDs and the de-identified patient and study modules (Patient ID / Name set to the
`patient_id` pseudonym); the SR's own dates are the (shifted) study date of the sources, never
a calendar date of them.
"""
from __future__ import annotations

import functools
import math
import os
import re
import struct
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import highdicom as hd
import numpy as np
import pydicom
from highdicom.sr import CodedConcept
from pydicom.charset import convert_encodings
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_file_meta_info, writers
from pydicom.sequence import Sequence as DicomSequence
from pydicom.uid import ExplicitVRLittleEndian, generate_uid
from pydicom.valuerep import CUSTOMIZABLE_CHARSET_VR, EXPLICIT_VR_LENGTH_32

from ioreview.imaging.deid import deidentify_dataset

if TYPE_CHECKING:
    from adjudication.protocol import Code, Field, Finding, Protocol

__all__ = [
    "LOCAL_SCHEME",
    "TIBIA",
    "SrCode",
    "SrEvidence",
    "scoord",
    "write_measurement_report",
]

#: The local coding scheme of protocol concepts without a standard code (PS3.16 8.2).
LOCAL_SCHEME = "99IOREVIEW"
_LOCAL_SCHEME_NAME = "ioreview local protocol codes"

#: (scheme, value, meaning) triplets used below; each is in pydicom's DICOM code dictionary
#: (pydicom.sr.codedict, PS3.16 2024) unless marked as SNOMED CT only.
SrCode = tuple[str, str, str]
TIBIA: SrCode = ("SCT", "12611008", "Tibia")  # CID 4031-family anatomic sites (7304, 8134)
_PRESENCE_FALLBACK: Mapping[str, SrCode] = {  # CID 240
    "present": ("SCT", "52101004", "Present"),
    "absent": ("SCT", "272519000", "Absent"),
    "indeterminate": ("SCT", "373068000", "Undetermined"),
}
_YES: SrCode = ("SCT", "373066001", "Yes")  # CID 230
_NO: SrCode = ("SCT", "373067005", "No")  # CID 230
_CERTAINTY: SrCode = ("DCM", "111012", "Certainty of Finding")  # CID 6048
_SEVERITY: SrCode = ("SCT", "246112005", "Severity")  # SNOMED CT attribute (pydicom dict)
_LATERALITY: Mapping[str, SrCode] = {  # CID 244
    "left": ("SCT", "7771000", "Left"),
    "right": ("SCT", "24028007", "Right"),
}
_PROCEDURES: Mapping[str, SrCode] = {  # CID 100
    "CT": ("LN", "25045-6", "CT unspecified body region"),
    "DX": ("LN", "43468-8", "XR unspecified body region"),
    "CR": ("LN", "43468-8", "XR unspecified body region"),
    "MR": ("LN", "25056-3", "MRI unspecified body region"),
}
_IMAGING_PROCEDURE: SrCode = ("SCT", "363679005", "Imaging procedure")  # CID 100
_REPORT_TITLE: SrCode = ("DCM", "126000", "Imaging Measurement Report")  # CID 7021
_LANGUAGE: SrCode = ("DCM", "121049", "Language of Content Item and Descendants")
_ENGLISH: SrCode = ("RFC5646", "en", "English")  # only in the header's throw-away content

#: UCUM units (CID 7181 / 7183 meanings where listed there).
_UNIT_MEANINGS: Mapping[str, str] = {
    "mm": "millimeter",
    "cm": "centimeter",
    "mm2": "square millimeter",
    "cm2": "square centimeter",
    "mL": "milliliter",
    "ml": "milliliter",
    "mm3": "cubic millimeter",
    "cm3": "cubic centimeter",
    "[hnsf'U]": "Hounsfield unit",
    "deg": "Degree",
    "1": "no units",
    "s": "second",
    "min": "minute",
    "h": "hour",
    "d": "day",
    "%": "Percent",
    "{pixel}": "pixel",
    "{pixel2}": "square pixel",
}
_NO_UNITS = ("UCUM", "1", "no units")

_LENGTH: SrCode = ("SCT", "410668003", "Length")  # CID 7469
_AREA: SrCode = ("SCT", "42798000", "Area")  # CID 7469
_VOLUME: SrCode = ("SCT", "118565006", "Volume")  # CID 7469
_ANGLE: SrCode = ("SCT", "1483009", "Angle")  # pydicom dict (SCT)
_ATTENUATION: SrCode = ("DCM", "112031", "Attenuation Coefficient")  # CID 7469
_DERIVATIONS: Mapping[str, SrCode] = {  # CID 7464
    "mean": ("SCT", "373098007", "Mean"),
    "sd": ("SCT", "386136009", "Standard Deviation"),
    "min": ("SCT", "255605001", "Minimum"),
    "max": ("SCT", "56851009", "Maximum"),
}

#: annotation kind -> SCOORD graphic type (PS3.3 C.18.6.1.2: 2D SCOORD has POINT, MULTIPOINT,
#: POLYLINE, CIRCLE and ELLIPSE; a closed polygon is a POLYLINE whose last point repeats the
#: first; highdicom's ImageRegion refuses MULTIPOINT)
_GRAPHIC_TYPES: Mapping[str, str] = {
    "ellipse": "ELLIPSE",
    "polygon": "POLYLINE",
    "freehand": "POLYLINE",
    "length": "POLYLINE",
    "arrow": "POLYLINE",
    "angle": "POLYLINE",
    "point": "POINT",
    "region": "POINT",  # a grown region is stored as its seed point
}

_CLOSED_KINDS = frozenset({"polygon", "freehand"})

_MANUFACTURER = "ioreview"
_CODE_VALUE_RE = re.compile(r"[^A-Za-z0-9._\-]+")


# ------------------------------------------------------------------ coordinates
def scoord(kind: str, points: Sequence[tuple[float, float]]) -> tuple[str, np.ndarray]:
    """The SCOORD graphic type and (column, row) Graphic Data of an annotation.

    `points` are (row, col) with pixel centres at whole numbers; DICOM puts (0, 0) at the top
    left corner of the top left pixel, so each point moves by half a pixel.  An ellipse (two
    bounding-box corners) becomes its four axis end points, major axis first; a polygon or a
    freehand outline becomes a closed POLYLINE (first point repeated at the end, PS3.3
    C.18.6.1.2: 2D SCOORD has no POLYGON type).
    """
    if kind not in _GRAPHIC_TYPES:
        raise ValueError(f"annotation kind {kind!r} has no SCOORD form (known: {sorted(_GRAPHIC_TYPES)})")
    graphic_type = _GRAPHIC_TYPES[kind]
    pts = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    if len(pts) == 0:
        raise ValueError(f"{kind}: no points")
    xy = np.column_stack([pts[:, 1] + 0.5, pts[:, 0] + 0.5])
    if graphic_type == "ELLIPSE":
        if len(xy) != 2:
            raise ValueError(f"ellipse: expected the 2 corner points of its bounding box, got {len(xy)}")
        (x0, y0), (x1, y1) = xy
        cx, cy, a, b = (x0 + x1) / 2, (y0 + y1) / 2, abs(x1 - x0) / 2, abs(y1 - y0) / 2
        if a <= 0 or b <= 0:
            raise ValueError("ellipse: its bounding box has no area")
        horizontal = [(cx - a, cy), (cx + a, cy)]
        vertical = [(cx, cy - b), (cx, cy + b)]
        xy = np.array(horizontal + vertical if a >= b else vertical + horizontal, dtype=np.float64)
    elif kind in _CLOSED_KINDS:
        if len(xy) < 3:
            raise ValueError(f"{kind}: a polygon needs at least 3 points, got {len(xy)}")
        if not np.array_equal(xy[0], xy[-1]):
            xy = np.vstack([xy, xy[:1]])
    elif graphic_type == "POLYLINE":
        if len(xy) < 2:
            raise ValueError(f"{kind}: needs at least 2 points, got {len(xy)}")
    else:  # POINT
        xy = xy[:1]
    return graphic_type, xy


# ------------------------------------------------------------------ codes
# highdicom validates every coded concept and content item it builds (~0.1-1 ms each); a code,
# a qualitative evaluation or a finding site is the same for every document that uses it, so
# each is built once per process and the same (never modified) item is placed in every
# document's content tree (pydicom 3 sequences keep no parent link, so sharing is safe).
_T = Any


def _frozen(item: _T) -> _T:
    """Mark a cached content item as never changed again: its encoding is kept with it."""
    object.__setattr__(item, "_ioreview_encoded", None)
    return item


@functools.lru_cache(maxsize=4096)
def _coded(scheme: str, value: str, meaning: str) -> CodedConcept:
    return _frozen(CodedConcept(value=value, scheme_designator=scheme, meaning=meaning))


def _key(code: SrCode | Code) -> SrCode:
    if isinstance(code, tuple):
        scheme, value, meaning = code
    else:
        scheme, value, meaning = code.scheme, code.value, code.meaning
    return scheme, str(value), (meaning or str(value))[:64]


def _local_key(value: str, meaning: str) -> SrCode:
    text = _CODE_VALUE_RE.sub("-", str(value)).strip("-") or "unnamed"
    return LOCAL_SCHEME, text, (meaning or text)[:64]


def _unit_key(unit: str | None) -> SrCode:
    return ("UCUM", unit, _UNIT_MEANINGS.get(unit, unit)) if unit else _NO_UNITS


def _concept(code: SrCode | Code) -> CodedConcept:
    return _coded(*_key(code))


def _local(value: str, meaning: str) -> CodedConcept:
    return _coded(*_local_key(value, meaning))


def _unit(unit: str | None) -> CodedConcept:
    return _coded(*_unit_key(unit))


@functools.lru_cache(maxsize=4096)
def _evaluation(name: SrCode, value: SrCode) -> hd.sr.QualitativeEvaluation:
    return _frozen(hd.sr.QualitativeEvaluation(_coded(*name), _coded(*value)))


@functools.lru_cache(maxsize=1024)
def _finding_site(site: SrCode, laterality: SrCode | None) -> hd.sr.FindingSite:
    return _frozen(hd.sr.FindingSite(
        anatomic_location=_coded(*site),
        laterality=None if laterality is None else _coded(*laterality)))


@functools.lru_cache(maxsize=256)
def _time_point(text: str) -> hd.sr.TimePointContext:
    return _frozen(hd.sr.TimePointContext(time_point=text))


@functools.lru_cache(maxsize=8192)
def _measurement_item(name: SrCode, value: float, unit: SrCode,
                      derivation: SrCode | None = None) -> hd.sr.Measurement:
    return _frozen(hd.sr.Measurement(
        name=_coded(*name), value=value, unit=_coded(*unit),
        derivation=None if derivation is None else _coded(*derivation)))


def _field_key(field: Field) -> SrCode:
    if field.code is not None:
        return _key(field.code)
    if field.id == "severity" and any(c.code is not None for c in field.choices):
        return _SEVERITY
    return _local_key(field.id, field.label)


def _finding_key(finding: Finding) -> SrCode:
    return _key(finding.code) if finding.code is not None else _local_key(finding.id, finding.label)


def _finding_concept(finding: Finding) -> CodedConcept:
    return _coded(*_finding_key(finding))


def _choice_key(field: Field, value: Any) -> SrCode:
    choice = field.choice(value)
    if choice is not None and choice.code is not None:
        return _key(choice.code)
    label = choice.label if choice is not None else str(value)
    return _local_key(str(value), label)


def _is_blank(value: Any) -> bool:
    return value is None or value == "" or (isinstance(value, (list, tuple, set, frozenset)) and not value)


# ------------------------------------------------------------------ values -> TID 1501 items
def _field_items(
    protocol: Protocol, finding: Finding | None, field: Field, value: Any,
) -> tuple[list[hd.sr.QualitativeEvaluation], list[hd.sr.Measurement]]:
    kind = field.type.value
    evaluations: list[hd.sr.QualitativeEvaluation] = []
    measurements: list[hd.sr.Measurement] = []
    if kind == "text":
        return evaluations, measurements  # free text is not exported (may identify)
    if kind == "presence":
        if finding is None:
            raise ValueError(f"{field.id}: a presence field outside a finding")
        presence = protocol.presence
        codes = {"present": presence.present, "absent": presence.absent,
                 "indeterminate": presence.indeterminate}
        code = codes.get(str(value)) or _PRESENCE_FALLBACK.get(str(value))
        if code is None:
            raise ValueError(f"{finding.id}.presence: {value!r} is not present / absent / indeterminate")
        evaluations.append(_evaluation(_finding_key(finding), _key(code)))
    elif kind == "confidence":
        name = _key(protocol.confidence.code) if protocol.confidence.code else _CERTAINTY
        measurements.append(_measurement_item(name, float(value), _NO_UNITS))
    elif kind == "choice":
        evaluations.append(_evaluation(_field_key(field), _choice_key(field, value)))
    elif kind == "multi_choice":
        items = [value] if isinstance(value, (str, int)) else list(value)
        for item in items:
            evaluations.append(_evaluation(_field_key(field), _choice_key(field, item)))
    elif kind == "boolean":
        evaluations.append(_evaluation(_field_key(field), _YES if value else _NO))
    elif kind in ("number", "integer"):
        number = float(value)
        if not math.isfinite(number):
            raise ValueError(f"{field.id}: {value!r} is not a finite number")
        measurements.append(_measurement_item(_field_key(field), number, _unit_key(field.unit)))
    else:
        raise ValueError(f"{field.id}: field type {kind!r} cannot be exported")
    return evaluations, measurements


# ------------------------------------------------------------------ annotation measurements
def _annotation_measurement(name: str, value: float, modality: str) -> hd.sr.Measurement:
    key = name.replace("\u00b2", "2").replace("\u00b3", "3")
    derivation: SrCode | None = None
    unit: str | None = None
    concept: SrCode
    base, _, suffix = key.rpartition("_")
    if not base:
        base, suffix = key, ""
    if key == "length_mm":
        concept, unit = _LENGTH, "mm"
    elif key == "length_px":
        concept, unit = _local_key(key, "Length in pixels (uncalibrated)"), "{pixel}"
    elif key in ("area_mm2", "area_cm2"):
        concept, unit = _AREA, suffix
    elif key == "area_px2":
        concept, unit = _local_key(key, "Area in pixels (uncalibrated)"), "{pixel2}"
    elif key in ("volume_ml", "volume_mL"):
        concept, unit = _VOLUME, "mL"
    elif key == "volume_mm3":
        concept, unit = _VOLUME, "mm3"
    elif key == "angle_deg":
        concept, unit = _ANGLE, "deg"
    elif (base in _DERIVATIONS and suffix == "hu") or (key in _DERIVATIONS and modality == "CT"):
        stat = base if suffix == "hu" else key
        concept, unit, derivation = _ATTENUATION, "[hnsf'U]", _DERIVATIONS[stat]
    elif key in _DERIVATIONS:
        concept, unit, derivation = _local_key("pixel-value", "Pixel value"), None, _DERIVATIONS[key]
    else:
        units = {"mm": "mm", "cm": "cm", "mm2": "mm2", "ml": "mL", "hu": "[hnsf'U]", "deg": "deg"}
        concept, unit = _local_key(key, key.replace("_", " ")), units.get(suffix.lower())
    return _measurement_item(_key(concept), float(value), _unit_key(unit),
                             None if derivation is None else _key(derivation))


# ------------------------------------------------------------------ sources
def _read_sources(
    sources: Mapping[str, str | os.PathLike[str]],
    uid_map: Callable[[str], str] | None,
    date_offset_days: int | None,
) -> dict[str, Dataset]:
    out: dict[str, Dataset] = {}
    for uid in sorted(sources):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = pydicom.dcmread(os.fspath(sources[uid]), stop_before_pixels=True)
        if str(ds.SOPInstanceUID) != uid:
            raise ValueError(f"{sources[uid]}: SOP Instance UID {ds.SOPInstanceUID} is not {uid}")
        if uid_map is not None:
            ds = deidentify_dataset(ds, uid_map=uid_map, date_offset_days=date_offset_days)
        # a weight or size of 0 means "unknown" in many files: drop it rather than copy it
        for kw in ("PatientWeight", "PatientSize"):
            if kw in ds and (ds[kw].value in (None, "") or float(ds[kw].value) == 0):
                del ds[kw]
        out[uid] = ds
    return out


@functools.lru_cache(maxsize=256)
def _observation_context(observer: str, observer_kind: str) -> hd.sr.ObservationContext:
    context = _observer_context(observer, observer_kind)
    person = observer_kind.strip().lower() == "person"
    return hd.sr.ObservationContext(observer_person_context=context if person else None,
                                    observer_device_context=None if person else context)


def _observer_context(observer: str, observer_kind: str) -> hd.sr.ObserverContext:
    kind = observer_kind.strip().lower()
    if kind == "person":
        name = observer if "^" in observer else f"{observer}^"
        return hd.sr.ObserverContext(
            observer_type=hd.sr.CodedConcept("121006", "DCM", "Person"),
            observer_identifying_attributes=hd.sr.PersonObserverIdentifyingAttributes(name=name),
        )
    if kind in ("device", "organisation", "organization", "committee"):
        uid = generate_uid(entropy_srcs=["ioreview observer", observer])
        return hd.sr.ObserverContext(
            observer_type=hd.sr.CodedConcept("121007", "DCM", "Device"),
            observer_identifying_attributes=hd.sr.DeviceObserverIdentifyingAttributes(
                uid=uid, name=observer, manufacturer_name=_MANUFACTURER,
            ),
        )
    raise ValueError(f"observer_kind must be 'person' or 'device' / 'organisation', not {observer_kind!r}")


# ------------------------------------------------------------------ the evidence of a case
class SrEvidence:
    """The source images of one case, read once (headers only, `stop_before_pixels`) and
    de-identified once, for every SR document of the case; it also keeps the document header
    that highdicom builds from them (patient, study, evidence and series modules), so that a
    case's second and later documents only add their content tree.

    `sources` maps the SOP Instance UID of every image of the case to its file.  With `uid_map`
    the sources are de-identified (`deid.deidentify_dataset`, dates shifted by
    `date_offset_days` or removed) and `patient_id` becomes Patient ID and Patient Name."""

    def __init__(self, sources: Mapping[str, str | os.PathLike[str]], *,
                 uid_map: Callable[[str], str] | None = None,
                 date_offset_days: int | None = None, patient_id: str | None = None) -> None:
        if not sources:
            raise ValueError("no source images: an SR needs at least one image as evidence")
        self.datasets = _read_sources(sources, uid_map, date_offset_days)
        self.deidentified = uid_map is not None
        self.patient_id = patient_id
        self.first = self.datasets[sorted(self.datasets)[0]]
        self.modalities = tuple(sorted({str(ds.get("Modality", "")) for ds in self.datasets.values()}))
        self._headers: dict[tuple[str, int], Dataset] = {}

    def header(self, series_uid: str, series_number: int) -> Dataset:
        """The Comprehensive 3D SR document without content and per-instance attributes, as
        highdicom builds it from the evidence (built once per series)."""
        key = (series_uid, series_number)
        if key not in self._headers:
            content_date, content_time = _content_datetime(self.first, self.deidentified)
            stub = hd.sr.ContainerContentItem(name=_concept(_REPORT_TITLE), template_id="1500")
            stub.ContentSequence = hd.sr.ContentSequence([hd.sr.CodeContentItem(
                name=_concept(_LANGUAGE), value=_concept(_ENGLISH),
                relationship_type=hd.sr.RelationshipTypeValues.HAS_CONCEPT_MOD)])
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # e.g. highdicom's notes on copied patient attributes
                sr = hd.sr.Comprehensive3DSR(
                    evidence=[self.datasets[u] for u in sorted(self.datasets)],
                    content=stub,
                    series_instance_uid=series_uid,
                    series_number=series_number,
                    sop_instance_uid=generate_uid(),
                    instance_number=1,
                    manufacturer=_MANUFACTURER,
                    is_complete=True,
                    is_final=True,
                    series_description="-",
                    content_date=content_date,
                    content_time=content_time,
                )
            for elem in stub:  # the content comes per document
                del sr[elem.tag]
            _finish(sr, self.first, self.deidentified, self.patient_id)
            self._headers[key] = sr
        return self._headers[key]


# ------------------------------------------------------------------ the report
def write_measurement_report(
    path: str | os.PathLike[str],
    *,
    protocol: Protocol,
    values: Mapping[str, Any],
    annotations: Sequence[Any],
    observer: str,
    observer_kind: str,
    sources: Mapping[str, str | os.PathLike[str]] | SrEvidence,
    uid_map: Callable[[str], str] | None = None,
    date_offset_days: int | None = None,
    patient_id: str | None = None,
    series_uid: str | None = None,
    sop_instance_uid: str | None = None,
    series_number: int = 1,
    instance_number: int = 1,
    title: str = "ioreview measurement report",
    finding_sites: Mapping[str, SrCode | None] | None = None,
) -> str:
    """Write one TID 1500 measurement report of `values` and `annotations`; return its SOP
    Instance UID.

    `values` maps protocol value keys ("extravasation.presence", "side") to what was recorded;
    committee-only keys are skipped, unknown keys raise KeyError.  `annotations` have
    `finding_id, kind, sop_instance_uid, frame` (0-based), `points` ((row, col) pixels),
    `measurements` (name -> float) and `label`.  `sources` is the case's `SrEvidence` (read once
    for all of its documents) or maps the SOP Instance UID of every image of the case to its
    file; every annotation's image must be among them.  With a mapping, `uid_map`,
    `date_offset_days` and `patient_id` are as in `SrEvidence`.  `title` is the Series
    Description; the document title is "Imaging Measurement Report" (DCM 126000, CID 7021).
    `finding_sites` maps finding ids to a site code (scheme, value, meaning) or None for no
    site; other findings are sited at the tibia (`TIBIA`).
    """
    if not isinstance(sources, SrEvidence):
        sources = SrEvidence(sources, uid_map=uid_map, date_offset_days=date_offset_days,
                             patient_id=patient_id)
    evidence = sources.datasets
    for a in annotations:
        if a.sop_instance_uid not in evidence:
            raise ValueError(f"annotation on {a.sop_instance_uid}: that image is not among the sources")
    observation_context = _observation_context(observer, observer_kind)  # checks the kind
    sites = {"fat_embolism": None, **dict(finding_sites or {})}

    side = values.get("side")
    laterality = _LATERALITY[side] if isinstance(side, str) and side in _LATERALITY else None
    timepoint = values.get("timepoint")
    time_point_context = _time_point(str(timepoint)[:64]) if not _is_blank(timepoint) else None

    def site_items(finding_id: str | None) -> list[hd.sr.FindingSite] | None:
        site = sites.get(finding_id, TIBIA) if finding_id is not None else TIBIA
        if site is None:
            return None
        return [_finding_site(_key(site), laterality)]

    def tracking(identifier: str, *parts: object) -> hd.sr.TrackingIdentifier:
        return hd.sr.TrackingIdentifier(
            identifier=identifier[:64], uid=generate_uid(entropy_srcs=[sop_uid, *map(str, parts)]))

    sop_uid = sop_instance_uid or generate_uid()
    groups: list[Any] = []

    # read-level fields: one image-level group without a finding type
    read_eval: list[hd.sr.QualitativeEvaluation] = []
    read_meas: list[hd.sr.Measurement] = []
    by_finding: dict[str, tuple[list[Any], list[Any]]] = {}
    for key, value in values.items():
        if key.startswith("committee.") or _is_blank(value):
            continue
        finding, field = protocol.locate(key)
        ev, me = _field_items(protocol, finding, field, value)
        if finding is None:
            read_eval += ev
            read_meas += me
        else:
            got = by_finding.setdefault(finding.id, ([], []))
            got[0].extend(ev)
            got[1].extend(me)
    if read_eval or read_meas:
        groups.append(hd.sr.MeasurementsAndQualitativeEvaluations(
            tracking_identifier=tracking("read", "read"),
            time_point_context=time_point_context,
            qualitative_evaluations=read_eval or None,
            measurements=read_meas or None,
        ))
    for finding in protocol.findings:  # protocol order, not the dict's
        if finding.id not in by_finding:
            continue
        ev, me = by_finding[finding.id]
        if not ev and not me:
            continue
        groups.append(hd.sr.MeasurementsAndQualitativeEvaluations(
            tracking_identifier=tracking(finding.id, "finding", finding.id),
            time_point_context=time_point_context,
            finding_type=_finding_concept(finding),
            finding_sites=site_items(finding.id),
            qualitative_evaluations=ev or None,
            measurements=me or None,
        ))

    for i, a in enumerate(annotations):
        src = evidence[a.sop_instance_uid]
        n_frames = int(src.get("NumberOfFrames", 1) or 1)
        frames = [int(a.frame) + 1] if n_frames > 1 else None
        graphic_type, data = scoord(a.kind, a.points)
        region = hd.sr.ImageRegion(
            graphic_type=graphic_type,
            graphic_data=data,
            source_image=hd.sr.SourceImageForRegion.from_source_image(src, referenced_frame_numbers=frames),
        )
        finding = None
        if a.finding_id:
            try:
                finding = protocol.finding(a.finding_id)
            except KeyError:
                finding = None
        modality = str(src.get("Modality", ""))
        measurements = [
            _annotation_measurement(name, value, modality)
            for name, value in sorted((a.measurements or {}).items())
            if value is not None and math.isfinite(float(value))
        ]
        label = (a.label or "").strip() or f"{a.finding_id or 'annotation'} {a.kind} {i + 1}"
        groups.append(hd.sr.PlanarROIMeasurementsAndQualitativeEvaluations(
            tracking_identifier=tracking(label, "annotation", i),
            referenced_region=region,
            time_point_context=time_point_context,
            finding_type=_finding_concept(finding) if finding is not None else None,
            finding_sites=site_items(finding.id if finding is not None else None),
            measurements=measurements or None,
            qualitative_evaluations=[_evaluation(_local_key("annotation-kind", "Annotation kind"),
                                                 _local_key(a.kind, a.kind))],
        ))
    if not groups:
        raise ValueError("nothing to report: no recorded values and no annotations")

    report = hd.sr.MeasurementReport(
        observation_context=observation_context,
        procedure_reported=_procedures(sources.modalities),
        imaging_measurements=groups,
        title=_concept(_REPORT_TITLE),
    )
    header = sources.header(series_uid or generate_uid(), series_number)
    _save(header, report[0], path, sop_uid=sop_uid, instance_number=instance_number,
          series_description=title[:64])
    return sop_uid


@functools.lru_cache(maxsize=64)
def _procedures(modalities: tuple[str, ...]) -> list[CodedConcept]:
    """Procedure reported (CID 100) of sources of these modalities."""
    procedures = [_PROCEDURES[m] for m in modalities if m in _PROCEDURES]
    return [_concept(p) for p in dict.fromkeys(procedures)] or [_concept(_IMAGING_PROCEDURE)]


def _save(header: Dataset, content: Dataset, path: str | os.PathLike[str], *, sop_uid: str,
          instance_number: int, series_description: str) -> None:
    """Write the document: the case's header with this document's identity and its content
    tree's root item (what highdicom's `_SR` copies from the content), explicit VR little
    endian with file meta.  The header's elements are copied, never changed."""
    sr = Dataset()
    for elem in header:
        sr.add(elem)
    sr.file_meta = FileMetaDataset()
    for elem in header.file_meta:
        sr.file_meta.add(elem)
    # add_new puts a new element in place (assigning an attribute would change the header's)
    sr.file_meta.add_new("MediaStorageSOPInstanceUID", "UI", sop_uid)
    sr.add_new("SOPInstanceUID", "UI", sop_uid)
    sr.add_new("InstanceNumber", "IS", instance_number)
    sr.add_new("SeriesDescription", "LO", series_description)
    for elem in content:
        sr.add(elem)
    try:
        body = _dataset_bytes(sr, convert_encodings(sr.get("SpecificCharacterSet") or "ISO_IR 6"),
                              top=True)
    except _NotEncodable:
        sr.save_as(os.fspath(path), enforce_file_format=True)
        return
    meta = DicomBytesIO()
    meta.is_little_endian, meta.is_implicit_VR = True, False
    write_file_meta_info(meta, sr.file_meta, enforce_standard=True)
    with open(os.fspath(path), "wb") as f:
        f.write(b"\0" * 128 + b"DICM" + meta.getvalue() + body)


# ------------------------------------------------------------------ encoding
# pydicom's writer spends ~0.1 ms on each nested dataset of a highdicom content tree (character
# set, ambiguous VRs, attribute access through highdicom's content item classes): a report of
# ~200 content items took longer to write than to build.  The content tree is therefore
# encoded here, explicit VR little endian (PS3.5 7.1.2), with every sequence and item of
# undefined length (PS3.5 7.5.2), so that an item's encoding does not depend on where it
# sits and a shared, never-changed item (`_frozen`) is encoded once per process.  Element
# values are encoded by pydicom's own value writers; anything unusual (an ambiguous VR, a
# value too long for a 16-bit length) falls back to pydicom's `save_as`.
_ITEM = struct.pack("<HHI", 0xFFFE, 0xE000, 0xFFFFFFFF)
_ITEM_END = struct.pack("<HHI", 0xFFFE, 0xE00D, 0)
_SEQUENCE_END = struct.pack("<HHI", 0xFFFE, 0xE0DD, 0)


class _NotEncodable(Exception):
    pass


def _element_bytes(elem: Any, encodings: list[str]) -> bytes:
    vr = elem.VR
    tag = int(elem.tag)
    head = struct.pack("<HH", tag >> 16, tag & 0xFFFF)
    if vr == "SQ":
        parts = [head, b"SQ\0\0\xff\xff\xff\xff"]
        for item in elem.value or ():
            parts += (_ITEM, _dataset_bytes(item, encodings), _ITEM_END)
        parts.append(_SEQUENCE_END)
        return b"".join(parts)
    if elem.is_raw or vr not in writers or len(vr) != 2:
        raise _NotEncodable(f"{elem.tag}: {vr}")
    buffer = DicomBytesIO()
    buffer.is_little_endian, buffer.is_implicit_VR = True, False
    if not elem.is_empty:
        fn, param = writers[vr]
        if vr in CUSTOMIZABLE_CHARSET_VR:
            fn(buffer, elem, encodings=encodings)
        elif param is not None:
            fn(buffer, elem, param)
        else:
            fn(buffer, elem)
    value = buffer.getvalue()
    if vr in EXPLICIT_VR_LENGTH_32:
        return head + vr.encode("ascii") + struct.pack("<HI", 0, len(value)) + value
    if len(value) > 0xFFFF:
        raise _NotEncodable(f"{elem.tag}: {len(value)} bytes")
    return head + vr.encode("ascii") + struct.pack("<H", len(value)) + value


def _dataset_bytes(ds: Dataset, encodings: list[str], top: bool = False) -> bytes:
    frozen = "_ioreview_encoded" in ds.__dict__
    if frozen:
        memo = ds.__dict__["_ioreview_encoded"]
        if memo is not None and memo[0] == encodings:
            return memo[1]
    if not top and "SpecificCharacterSet" in ds:
        raise _NotEncodable("a nested Specific Character Set")
    data = b"".join(_element_bytes(elem, encodings) for elem in ds)
    if frozen:
        object.__setattr__(ds, "_ioreview_encoded", (list(encodings), data))
    return data


def _content_datetime(first: Dataset, deidentified: bool) -> tuple[str | None, str | None]:
    """Content Date and Time of the SR: now, or in a de-identified report the (shifted) study
    date of the sources with a midnight time, so that no real calendar date leaks; "19000101"
    when the sources' dates were removed (Content Date is Type 1)."""
    if not deidentified:
        return None, None  # highdicom: now
    study_date = str(first.get("StudyDate", "") or "")
    return (study_date if len(study_date) == 8 else "19000101"), "000000"


def _finish(sr: Dataset, first: Dataset, deidentified: bool, patient_id: str | None) -> None:
    """Coding scheme declaration, de-identification flags and the pseudonym."""
    scheme = Dataset()
    scheme.CodingSchemeDesignator = LOCAL_SCHEME
    scheme.CodingSchemeName = _LOCAL_SCHEME_NAME
    scheme.CodingSchemeResponsibleOrganization = _MANUFACTURER
    sr.CodingSchemeIdentificationSequence = DicomSequence([scheme])
    if deidentified:
        for kw in ("PatientIdentityRemoved", "DeidentificationMethod",
                   "DeidentificationMethodCodeSequence", "LongitudinalTemporalInformationModified"):
            if kw in first:
                setattr(sr, kw, first[kw].value)
        for kw in ("InstitutionName", "InstitutionAddress", "InstitutionalDepartmentName"):
            if kw in sr:
                del sr[kw]
    if patient_id is not None:
        sr.PatientID = patient_id
        sr.PatientName = patient_id if "^" in patient_id else f"{patient_id}^"
    sr.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
