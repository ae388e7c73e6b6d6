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
import hashlib
import json
import math
import os
import pkgutil
import re
import struct
import threading
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

import highdicom as hd
import numpy as np
import pydicom
from highdicom.sr import CodedConcept
from pydicom.charset import convert_encodings
from pydicom.datadict import dictionary_VR, tag_for_keyword
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_file_meta_info, writers
from pydicom.multival import MultiValue
from pydicom.sequence import Sequence as DicomSequence
from pydicom.uid import PYDICOM_ROOT_UID, ExplicitVRLittleEndian, generate_uid
from pydicom.valuerep import (CUSTOMIZABLE_CHARSET_VR, DA, DS, EXPLICIT_VR_LENGTH_32, TM, DSfloat,
                              PersonName, format_number_as_ds, validate_value)

from ioreview.imaging.decode import read_header
from ioreview.imaging.deid import UnreadableHeader, deidentify_dataset

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
    return _frozen(_new_measurement(name, value, unit, derivation))


def _new_measurement(name: SrCode, value: float, unit: SrCode,
                     derivation: SrCode | None = None) -> hd.sr.Measurement:
    return hd.sr.Measurement(name=_coded(*name), value=value, unit=_coded(*unit),
                             derivation=None if derivation is None else _coded(*derivation))


#: (name, value) of a qualitative evaluation; (name, value, unit, derivation) of a measurement
_EvaluationKey = tuple[SrCode, SrCode]
_MeasurementKey = tuple[SrCode, float, SrCode, SrCode | None]


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
_FIELDS_OF: dict[int, tuple[Any, dict[str, tuple[Any, Any]]]] = {}


def _fields_of(protocol: Protocol) -> dict[str, tuple[Finding | None, Field]]:
    """`protocol.locate` as a table: value key -> (finding or None, field), first one kept."""
    entry = _FIELDS_OF.get(id(protocol))
    if entry is None or entry[0] is not protocol:
        table: dict[str, tuple[Any, Any]] = {}
        for key, finding, field in protocol.iter_fields():
            table.setdefault(key, (finding, field))
        if len(_FIELDS_OF) >= 64:
            _FIELDS_OF.clear()
        entry = _FIELDS_OF[id(protocol)] = (protocol, table)  # holds it: the id stays its
    return entry[1]


def _derived_uid(parts: Sequence[str]) -> str:
    """`pydicom.uid.generate_uid(entropy_srcs=parts)` (same digits), as a plain string."""
    digest = hashlib.sha512("".join(parts).encode("utf-8")).hexdigest()
    return f"{PYDICOM_ROOT_UID}{int(digest, 16)}"[:64]


def _field_items(
    protocol: Protocol, finding: Finding | None, field: Field, value: Any,
) -> tuple[list[_EvaluationKey], list[_MeasurementKey]]:
    """The qualitative evaluations and measurements of one recorded value, as code keys."""
    kind = field.type.value
    evaluations: list[_EvaluationKey] = []
    measurements: list[_MeasurementKey] = []
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
        evaluations.append((_finding_key(finding), _key(code)))
    elif kind == "confidence":
        name = _key(protocol.confidence.code) if protocol.confidence.code else _CERTAINTY
        measurements.append((name, float(value), _NO_UNITS, None))
    elif kind == "choice":
        evaluations.append((_field_key(field), _choice_key(field, value)))
    elif kind == "multi_choice":
        items = [value] if isinstance(value, (str, int)) else list(value)
        for item in items:
            evaluations.append((_field_key(field), _choice_key(field, item)))
    elif kind == "boolean":
        evaluations.append((_field_key(field), _YES if value else _NO))
    elif kind in ("number", "integer"):
        number = float(value)
        if not math.isfinite(number):
            raise ValueError(f"{field.id}: {value!r} is not a finite number")
        measurements.append((_field_key(field), number, _unit_key(field.unit), None))
    else:
        raise ValueError(f"{field.id}: field type {kind!r} cannot be exported")
    return evaluations, measurements


# ------------------------------------------------------------------ annotation measurements
def _annotation_measurement(name: str, value: float, modality: str) -> _MeasurementKey:
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
    return (_key(concept), float(value), _unit_key(unit),
            None if derivation is None else _key(derivation))


# ------------------------------------------------------------------ sources
def _read_sources(
    sources: Mapping[str, str | os.PathLike[str]],
    uid_map: Callable[[str], str] | None,
    date_offset_days: int | None,
) -> dict[str, Dataset]:
    out: dict[str, Dataset] = {}
    for uid in sorted(sources):
        path = os.fspath(sources[uid])
        try:
            ds = read_header(path)  # a bare data set too, as import reads it
        except Exception as exc:  # pydicom raises many kinds for a damaged file
            raise UnreadableHeader.of(path, exc) from exc
        if str(ds.SOPInstanceUID) != uid:
            raise ValueError(f"{sources[uid]}: SOP Instance UID {ds.SOPInstanceUID} is not {uid}")
        sop_class = str(ds.get("SOPClassUID", ""))
        _know_iod(sop_class)  # before its IOD is looked up, here and by highdicom
        used = _used_tags(sop_class)
        if used is not None:
            # the rest is never looked at: not converting it from its raw bytes (nor
            # de-identifying it) is most of the time a header costs; de-identification works
            # element by element, so the kept elements come out as from the whole header
            for tag in [t for t in ds.keys() if t not in used]:
                del ds[tag]
        if uid_map is not None:
            del ds.file_meta  # never used as evidence: not de-identified either
            # header only (read without pixels, and an SR carries none): burned-in text in the
            # image's pixels does not reach the SR, so it is no reason to refuse the evidence
            ds = deidentify_dataset(ds, uid_map=uid_map, date_offset_days=date_offset_days,
                                    allow_burned_in=True, copy_first=False)
        # a weight or size of 0 means "unknown" in many files: drop it rather than copy it
        for kw in ("PatientWeight", "PatientSize"):
            if kw in ds and (ds[kw].value in (None, "") or float(ds[kw].value) == 0):
                del ds[kw]
        _mend_evidence(ds)
        out[uid] = ds
    return out


#: Type 2 Patient and General Study attributes an SR copies from its first source (highdicom
#: reads each of them): present, empty when unknown (PS3.3 C.7.1.1, C.7.2.1)
_TYPE_2_COPIED = ("PatientName", "PatientID", "PatientBirthDate", "PatientSex",
                  "StudyDate", "StudyTime", "ReferringPhysicianName", "StudyID",
                  "AccessionNumber")
#: retired image storage SOP classes (PS3.6 Annex A) highdicom has no IOD for, by the IOD
#: that replaced them; any other class it does not know is taken as a Secondary Capture image
_RETIRED_IODS = {
    "1.2.840.10008.5.1.4.1.1.3": "ultrasound-multi-frame-image",  # US Multi-frame (Retired)
    "1.2.840.10008.5.1.4.1.1.5": "nuclear-medicine-image",        # NM Image (Retired)
    "1.2.840.10008.5.1.4.1.1.6": "ultrasound-image",              # US Image (Retired)
    "1.2.840.10008.5.1.4.1.1.77.1": "vl-endoscopic-image",        # VL Image (Retired)
    "1.2.840.10008.5.1.4.1.1.77.2": "vl-endoscopic-image",        # VL Multi-frame (Retired)
}


@functools.lru_cache(maxsize=64)
def _multiframe_class(sop_class_uid: str) -> bool:
    """Whether the IOD of `sop_class_uid` has the Multi-frame Module (Number of Frames): the
    definition of a multi-frame SOP Class that references by frame need (True for a class
    highdicom does not know: the image's own Number of Frames decides)."""
    from highdicom._standard_utils import get_sop_class_iod_map, is_attribute_in_iod

    if sop_class_uid not in get_sop_class_iod_map():
        return True
    with _lazy_module_map():  # the IOD's modules only, not the whole map
        return bool(is_attribute_in_iod("NumberOfFrames", sop_class_uid))


def _know_iod(sop_class_uid: str) -> None:
    """Let highdicom build an SR on a source whose SOP Class it has no IOD for (a retired or
    private image class, which import accepts): it then copies the Patient and Study modules
    as from the replacing IOD (every image IOD has both), instead of failing with a KeyError.
    Only classes absent from highdicom's map are added to it."""
    from highdicom._standard_utils import get_iod_module_map, get_sop_class_iod_map

    known = get_sop_class_iod_map()
    if not sop_class_uid or sop_class_uid in known:
        return
    iod = _RETIRED_IODS.get(sop_class_uid, "secondary-capture-image")
    known[sop_class_uid] = iod if iod in get_iod_module_map() else "secondary-capture-image"
    _copied_tags.cache_clear()
    _used_tags.cache_clear()
    _multiframe_class.cache_clear()


#: the value representations whose values are checked before an SR copies them (text with a
#: format or a length limit, and numbers as text; UIDs are never changed)
_CHECKED_VRS = frozenset({"AE", "AS", "CS", "DA", "DS", "DT", "IS", "LO", "LT", "PN", "SH",
                          "ST", "TM", "UC", "UR", "UT"})
#: what an SR says of a source that claims its identity removed without saying how
_METHOD_NOT_STATED = "De-identified before import; method not stated in the source"


@functools.lru_cache(maxsize=8192)
def _valid_text(vr: str, text: str) -> bool:
    """Whether `text` is a value `vr` allows (PS3.5 6.2); numbers as written.  Values repeat
    from source to source (modality, sex, the de-identified texts), hence the cache."""
    try:
        validate_value(vr, text, pydicom.config.RAISE)
    except (ValueError, TypeError):
        return False
    return True


def _mend_evidence(ds: Dataset) -> None:
    """Make a source header fit to be an SR's evidence where the source itself breaks the
    standard (seen in files from the field, e.g. pydicom-data's): a missing Type 2 Patient or
    Study attribute becomes empty (highdicom cannot build the header without it); a value
    its VR does not allow is dropped from the copied attributes (Type 2: emptied) rather than
    copied into the SR; and Patient Identity Removed "YES" without a de-identification method
    (Type 1C, PS3.3 C.7.1.1) gets a method saying it was not stated.  UIDs are left as they
    are: the SR must reference the source by them."""
    for kw in _TYPE_2_COPIED:
        if kw not in ds:
            setattr(ds, kw, "")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for elem in list(ds):
            if elem.VR not in _CHECKED_VRS or elem.tag == 0x00080005:
                continue
            try:
                valid = elem.is_empty or all(
                    _valid_text(elem.VR, str(v)) for v in (elem.value if elem.VM > 1
                                                           else (elem.value,)))
            except (ValueError, TypeError, OverflowError):  # not even converted from its bytes
                valid = False
            if valid:
                continue
            if elem.keyword in _TYPE_2_COPIED:
                ds[elem.tag].value = ""
            else:
                del ds[elem.tag]
    removed = str(ds.get("PatientIdentityRemoved", "") or "").strip().upper() == "YES"
    if removed and not ds.get("DeidentificationMethod") \
            and not ds.get("DeidentificationMethodCodeSequence"):
        ds.DeidentificationMethod = _METHOD_NOT_STATED


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
        self._encoded: dict[tuple[str, int], _EncodedHeader] = {}
        #: the template an encoded header came from: `header` fills the same one
        self._template_of: dict[tuple[str, int], _HeaderTemplate] = {}

    def header(self, series_uid: str, series_number: int) -> Dataset:
        """The Comprehensive 3D SR document without content and per-instance attributes, as
        highdicom builds it from the evidence (built once per series; from a template when
        evidence of the same shape was seen before, see `_HeaderTemplate`)."""
        key = (series_uid, series_number)
        if key not in self._headers:
            shape = _header_shape(self, series_number) if _TEMPLATES else None
            template = _HEADER_TEMPLATES.get(shape) if shape is not None else None
            template = self._template_of.get(key, template)
            header = template.fill(self, series_uid) if template is not None else None
            if header is None:
                header = self._build_header(series_uid, series_number)
                if shape is not None and shape not in _HEADER_TEMPLATES:
                    _HEADER_TEMPLATES[shape] = _HeaderTemplate(header, shape)
            self._headers[key] = header
        return self._headers[key]

    def encoded_header(self, series_uid: str, series_number: int) -> _EncodedHeader:
        """`header` encoded: its elements but a document's own (`_OWN_TAGS`), each encoded,
        and the Dataset whose file meta a document's file meta is made of.  From a template,
        this is encoded without building the header Dataset (checked against encoding the
        Dataset on each template's first case)."""
        key = (series_uid, series_number)
        if key not in self._encoded:
            encoded = None
            shape = _header_shape(self, series_number) if _TEMPLATES else None
            template = _HEADER_TEMPLATES.get(shape) if shape is not None else None
            if template is not None and template.direct is not False:
                encoded = template.encode(self, series_uid)
                if encoded is not None and template.direct is None:  # its first case: check
                    if _encode_header(self.header(series_uid, series_number)).elements \
                            != encoded.elements:
                        template.direct = False
                        encoded = None
                    else:
                        template.direct = True
                if encoded is not None:
                    self._template_of[key] = template
            if encoded is None:
                encoded = _encode_header(self.header(series_uid, series_number))
            self._encoded[key] = encoded
        return self._encoded[key]

    def _build_header(self, series_uid: str, series_number: int) -> Dataset:
        content_date, content_time = _content_datetime(self.first, self.deidentified)
        stub = hd.sr.ContainerContentItem(name=_concept(_REPORT_TITLE), template_id="1500")
        stub.ContentSequence = hd.sr.ContentSequence([hd.sr.CodeContentItem(
            name=_concept(_LANGUAGE), value=_concept(_ENGLISH),
            relationship_type=hd.sr.RelationshipTypeValues.HAS_CONCEPT_MOD)])
        with warnings.catch_warnings(), _lazy_module_map():
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
        return sr


# ------------------------------------------------------------------ the header of a case
# highdicom builds a case's header (~10-30 ms: it looks every copied attribute up in the
# standard's module tables and checks the source's IOD for pixel data on each construction).
# What it builds depends on the evidence in a few ways only: the root attributes of the Patient
# and Study modules of the first image's IOD are copied as they are (PS3.3 C.7.1.1, C.7.2.1);
# the evidence is listed by study and series (Current Requested Procedure Evidence, PS3.3
# C.17.2); the first image's equipment becomes a Contributing Equipment item; the rest is
# constant.  So the header of a case whose first image has the same IOD, the same copied
# attributes present, the same equipment, character set and de-identification flags is the
# header highdicom built for an earlier such case with the copied attributes, the series UID,
# the evidence and the content date replaced (`tests/test_sr.py` compares the bytes).  Times
# highdicom takes from the clock (instance creation, its own contribution) are those of the
# first such header of the process.  A document is written from the header's encoded
# elements (`_EncodedHeader`); a template encodes them straight from the evidence's values
# (`_HeaderTemplate.encode`) without building the header Dataset, checked against encoding
# the filled Dataset on its first case (`tests/test_sr_templates.py` on several).  A source
# header keeps only the attributes a header can depend on (`_used_tags`) before it is
# de-identified.
_HEADER_TEMPLATES: dict[tuple[Any, ...], _HeaderTemplate] = {}
_EQUIPMENT_KEYWORDS = ("Manufacturer", "ManufacturerModelName", "SoftwareVersions",
                       "DeviceSerialNumber", "InstitutionName", "InstitutionalDepartmentName",
                       "InstitutionAddress", "StationName", "AcquisitionDateTime",
                       "AcquisitionDate", "AcquisitionTime")
_DEID_KEYWORDS = ("PatientIdentityRemoved", "DeidentificationMethod",
                  "DeidentificationMethodCodeSequence", "LongitudinalTemporalInformationModified")
_EQUIPMENT_TAGS = tuple(int(tag_for_keyword(kw)) for kw in _EQUIPMENT_KEYWORDS)  # type: ignore[arg-type]
_DEID_TAGS = tuple(int(tag_for_keyword(kw)) for kw in _DEID_KEYWORDS)  # type: ignore[arg-type]
_SERIES_INSTANCE_UID, _CONTENT_DATE, _CONTENT_TIME = 0x0020000E, 0x00080023, 0x00080033
_EVIDENCE_SEQUENCES = frozenset({0x0040A375, 0x0040A385})  # Current Requested Procedure /
# Pertinent Other Evidence Sequence
_FINISHED_TAGS = frozenset({0x00080110, 0x00100010, 0x00100020})  # set again by `_finish`


class _ModuleAttributes(Mapping[str, list[Any]]):
    """highdicom's module attribute map (`highdicom._standard_utils.get_module_attribute_map`:
    PS3.3 module key -> its attributes), each module decoded from highdicom's JSON file when
    first asked for: decoding the whole 22 MB file cost every exporting process ~0.3-0.5 s of
    CPU for the few modules an SR header needs.  Iterating (or a key not found by its place in
    the file) decodes the whole file, so it behaves as the dict highdicom returns."""

    _FILE = "_standard/module_attribute_map.json"

    def __init__(self) -> None:
        self._text: str | None = None
        self._modules: dict[str, list[Any]] = {}
        self._starts: dict[str, int] | None = None
        self._all: dict[str, list[Any]] | None = None
        self._lock = threading.Lock()

    def _source(self) -> str:
        if self._text is None:
            data = pkgutil.get_data("highdicom", self._FILE)
            if data is None:
                raise FileNotFoundError(f"highdicom {self._FILE}")
            self._text = data.decode("utf-8")
        return self._text

    def _whole(self) -> dict[str, list[Any]]:
        if self._all is None:
            self._all = json.loads(self._source())
        return self._all

    def __getitem__(self, key: str) -> list[Any]:
        with self._lock:
            if key in self._modules:
                return self._modules[key]
            if self._all is None:
                at = self._index().get(key)
                if at is not None:
                    value, _end = json.JSONDecoder().raw_decode(self._source(), at)
                    self._modules[key] = value
                    return value
            return self._whole()[key]

    def _index(self) -> dict[str, int]:
        """Where each module's list starts in the file.  The file is indented by two spaces a
        level: the top level keys, and only they, start a line indented by two spaces (a key
        not found here is looked up in the whole file)."""
        if self._starts is None:
            self._starts = {json.loads(f'"{m.group(1)}"'): m.end() - 1 for m in
                            re.finditer(r'\n  "((?:[^"\\\n]|\\.)*)": \[', self._source())}
        return self._starts

    def __iter__(self) -> Iterator[str]:
        with self._lock:
            return iter(self._whole())

    def __len__(self) -> int:
        with self._lock:
            return len(self._whole())


@functools.cache
def _module_attributes() -> _ModuleAttributes:
    return _ModuleAttributes()


_PATCH_LOCK = threading.RLock()
_patch_depth = 0


@contextmanager
def _lazy_module_map() -> Iterator[None]:
    """highdicom reads the module attribute map while it builds (the SR constructor copies the
    Patient and Study modules and checks IODs; every `ImageRegion` asks whether its source
    image's IOD has pixel data): while it builds, it gets `_module_attributes()`, the same
    content decoded by module.  highdicom's own function is put back afterwards.  Reentrant:
    a build inside a build keeps the outer one's."""
    global _patch_depth
    import highdicom._standard_utils
    import highdicom.base

    with _PATCH_LOCK:
        if _patch_depth:
            _patch_depth += 1
            try:
                yield
            finally:
                _patch_depth -= 1
            return
        modules = [m for m in (highdicom.base, highdicom._standard_utils)
                   if callable(getattr(m, "get_module_attribute_map", None))]
        lazy = _module_attributes()
        originals = [(m, m.get_module_attribute_map) for m in modules]
        for m in modules:
            m.get_module_attribute_map = lambda: lazy  # type: ignore[attr-defined]
        _patch_depth = 1
        try:
            yield
        finally:
            _patch_depth = 0
            for m, original in originals:
                m.get_module_attribute_map = original  # type: ignore[attr-defined]


@functools.lru_cache(maxsize=64)
def _copied_tags(sop_class_uid: str) -> frozenset[int] | None:
    """The root attributes of the Patient and Study modules of the IOD of `sop_class_uid`, the
    attributes highdicom copies from the first evidence image (None: an IOD it does not know)."""
    from highdicom._standard_utils import get_iod_module_map, get_sop_class_iod_map

    iod = get_sop_class_iod_map().get(sop_class_uid)
    if iod is None:
        return None
    tags: set[int] = set()
    for module in get_iod_module_map()[iod]:
        if module["ie"] not in ("Patient", "Study"):
            continue
        for item in _module_attributes()[module["key"]]:
            if len(item["path"]) == 0:
                tag = tag_for_keyword(str(item["keyword"]))
                if tag is None:
                    return None
                tags.add(int(tag))
    return frozenset(tags)


#: what the SR takes from a source besides the copied Patient and Study attributes: what
#: highdicom's `Comprehensive3DSR` reads of its evidence (`sr.sop._SR`, `collect_evidence`,
#: `ContributingEquipment.for_image_acquisition`) and what this module reads
_USED_KEYWORDS = ("SpecificCharacterSet", "SOPClassUID", "SOPInstanceUID", "StudyInstanceUID",
                  "SeriesInstanceUID", "PatientID", "PatientName", "PatientBirthDate",
                  "PatientSex", "AccessionNumber", "StudyID", "StudyDate", "StudyTime",
                  "ReferringPhysicianName", "Modality", "NumberOfFrames", "PatientWeight",
                  "PatientSize", "BurnedInAnnotation", *_EQUIPMENT_KEYWORDS, *_DEID_KEYWORDS)


@functools.lru_cache(maxsize=64)
def _used_tags(sop_class_uid: str) -> frozenset[int] | None:
    """The attributes of a source of `sop_class_uid` that an SR document's header can depend
    on (None: an IOD highdicom does not know, keep everything)."""
    copied = _copied_tags(sop_class_uid)
    if copied is None:
        return None
    return copied | {int(tag_for_keyword(kw)) for kw in _USED_KEYWORDS}  # type: ignore[arg-type]


def _header_shape(evidence: SrEvidence, series_number: int) -> tuple[Any, ...] | None:
    """Everything highdicom's header depends on except the values `_HeaderTemplate.fill` puts
    in (None: no template for this evidence)."""
    first = evidence.first
    sop_class = str(first.get("SOPClassUID", ""))
    tags = _copied_tags(sop_class)
    if tags is None:
        return None
    copied = tuple((tag, first[tag].VR) for tag in sorted(int(t) for t in first.keys() if t in tags))
    equipment = tuple(None if (e := first.get(tag)) is None else (e.VR, str(e.value))
                      for tag in _EQUIPMENT_TAGS)
    flags = tuple(str(first[tag].value) if tag in first else None for tag in _DEID_TAGS)
    charset = first.get(0x00080005)
    return (sop_class, series_number, evidence.deidentified, evidence.patient_id is None,
            None if charset is None else str(charset.value), copied, equipment, flags)


def _evidence_groups(evidence: SrEvidence) -> tuple[dict[tuple[str, str], list[Dataset]],
                                                     dict[tuple[str, str], list[Dataset]]]:
    """The evidence images by (study, series): those of the first image's study (Current
    Requested Procedure Evidence) and the others (Pertinent Other Evidence), each image once,
    in SOP Instance UID order, as highdicom's `sr.utils.collect_evidence` groups them."""
    study_uid = str(evidence.first.StudyInstanceUID)
    same: dict[tuple[str, str], list[Dataset]] = {}
    other: dict[tuple[str, str], list[Dataset]] = {}
    seen: set[str] = set()
    for uid in sorted(evidence.datasets):
        ds = evidence.datasets[uid]
        sop = str(ds.SOPInstanceUID)
        if sop in seen:
            continue
        group = same if str(ds.StudyInstanceUID) == study_uid else other
        group.setdefault((str(ds.StudyInstanceUID), str(ds.SeriesInstanceUID)), []).append(ds)
        seen.add(sop)
    return same, other


def _sop_reference(ds: Dataset) -> Dataset:
    item = Dataset()
    item.ReferencedSOPClassUID = ds.SOPClassUID
    item.ReferencedSOPInstanceUID = ds.SOPInstanceUID
    return item


def _references(groups: Mapping[tuple[str, str], list[Dataset]]) -> list[Dataset]:
    """Evidence items by study and series, as highdicom's `sr.utils._create_references`."""
    studies: dict[str, list[Dataset]] = {}
    for (study_uid, series_uid), instances in groups.items():
        series = Dataset()
        series.SeriesInstanceUID = series_uid
        series.ReferencedSOPSequence = instances
        studies.setdefault(study_uid, []).append(series)
    items = []
    for study_uid, series_items in studies.items():
        study = Dataset()
        study.StudyInstanceUID = study_uid
        study.ReferencedSeriesSequence = series_items
        items.append(study)
    return items


class _HeaderTemplate:
    """A header highdicom built, to be filled with the copied attributes, series UID, evidence
    and content date of another case of the same shape."""

    def __init__(self, header: Dataset, shape: tuple[Any, ...]) -> None:
        self.header = header
        self.tags = _copied_tags(shape[0]) or frozenset()
        self.deidentified = shape[2]
        self.drop = self.tags | _EVIDENCE_SEQUENCES | _FINISHED_TAGS | {_SERIES_INSTANCE_UID} | (
            {_CONTENT_DATE, _CONTENT_TIME} if self.deidentified else set())
        #: the header's elements every header filled from it shares, and their encodings
        self.shared = {int(e.tag): e for e in header if int(e.tag) not in self.drop}
        self.encoded: dict[tuple[int, tuple[str, ...]], bytes] = {}
        #: `encode` gives the bytes of `fill`'s header: None until checked on a first case
        self.direct: bool | None = None
        self._direct_shared: list[tuple[int, bytes]] | None = None

    def element_bytes(self, elem: Any, encodings: list[str]) -> bytes:
        """`_element_bytes` of an element of a filled header, encoded once when shared."""
        tag = int(elem.tag)
        if self.shared.get(tag) is not elem:
            return _element_bytes(elem, encodings)
        key = (tag, tuple(encodings))
        if key not in self.encoded:
            self.encoded[key] = _element_bytes(elem, encodings)
        return self.encoded[key]

    @staticmethod
    def _accepts(first: Dataset) -> bool:
        try:  # what highdicom's constructor checks of the values (PS3.5 DA, TM; CID 7455)
            DA(first.PatientBirthDate)
            DA(first.StudyDate)
            TM(first.StudyTime)
            if first.PatientSex not in (None, ""):
                hd.PatientSexValues(first.PatientSex)
        except (AttributeError, ValueError):
            return False
        return True

    def encode(self, evidence: SrEvidence, series_uid: str) -> _EncodedHeader | None:
        """What `_encode_header` gives for `fill`'s header, encoded from the evidence's values
        without building that Dataset (None when highdicom would refuse the values)."""
        first = evidence.first
        if not self._accepts(first):
            return None
        encodings = convert_encodings(self.header.get("SpecificCharacterSet") or "ISO_IR 6")
        if self._direct_shared is None:
            self._direct_shared = [(tag, self.element_bytes(e, encodings))
                                   for tag, e in self.shared.items() if tag not in _OWN_TAGS]
        out = dict(self._direct_shared)
        for tag in first.keys():
            if tag in self.tags:
                out[int(tag)] = _copied_bytes(first[tag], encodings)
        out[_SERIES_INSTANCE_UID] = _ui_bytes(_SERIES_INSTANCE_UID, series_uid)
        for tag, groups in zip((0x0040A375, 0x0040A385), _evidence_groups(evidence)):
            if groups:
                out[tag] = _encoded_references(tag, {key: [
                    _ui_bytes(0x00081150, str(ds.SOPClassUID))
                    + _ui_bytes(0x00081155, str(ds.SOPInstanceUID)) for ds in instances]
                    for key, instances in groups.items()})
        if self.deidentified:
            content_date, content_time = _content_datetime(first, True)
            out[_CONTENT_DATE] = _element_bytes(
                DataElement(_CONTENT_DATE, "DA", DA(content_date)), encodings)
            out[_CONTENT_TIME] = _element_bytes(
                DataElement(_CONTENT_TIME, "TM", TM(content_time)), encodings)
        # `_finish`
        out[0x00080110] = _coding_scheme_bytes(tuple(encodings))
        if self.deidentified:
            for kw in _DEID_KEYWORDS:
                if kw in first:
                    elem = first[kw]
                    out[int(elem.tag)] = _element_bytes(
                        DataElement(elem.tag, dictionary_VR(elem.tag), elem.value), encodings)
            for tag in _INSTITUTION_TAGS:
                out.pop(tag, None)
        if evidence.patient_id is not None:
            out.update(_patient_elements(evidence.patient_id, encodings))
        return _EncodedHeader(encodings, sorted(out.items()), self.header)

    def fill(self, evidence: SrEvidence, series_uid: str) -> Dataset | None:
        """The header of `evidence` (None when its values would make highdicom refuse it)."""
        first = evidence.first
        if not self._accepts(first):
            return None
        sr = Dataset()
        for elem in self.shared.values():
            sr.add(elem)
        for tag in self.tags:
            if tag in first:
                sr.add(first[tag])
        sr.add_new(_SERIES_INSTANCE_UID, "UI", series_uid)
        same, other = ({key: [_sop_reference(ds) for ds in instances]
                        for key, instances in groups.items()}
                       for groups in _evidence_groups(evidence))
        if same:
            sr.CurrentRequestedProcedureEvidenceSequence = _references(same)
        if other:
            sr.PertinentOtherEvidenceSequence = _references(other)
        if self.deidentified:
            content_date, content_time = _content_datetime(first, True)
            sr.add_new(_CONTENT_DATE, "DA", DA(content_date))
            sr.add_new(_CONTENT_TIME, "TM", TM(content_time))
        sr.file_meta = FileMetaDataset()
        for elem in self.header.file_meta:
            sr.file_meta.add(elem)
        _finish(sr, first, self.deidentified, evidence.patient_id)
        object.__setattr__(sr, "_ioreview_template", self)
        return sr


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
    _observation_context(observer, observer_kind)  # checks the kind
    sites = {"fat_embolism": None, **dict(finding_sites or {})}

    side = values.get("side")
    laterality = _LATERALITY[side] if isinstance(side, str) and side in _LATERALITY else None
    timepoint = values.get("timepoint")
    time_point = str(timepoint)[:64] if not _is_blank(timepoint) else None

    def site_keys(finding_id: str | None) -> tuple[tuple[SrCode, SrCode | None], ...] | None:
        site = sites.get(finding_id, TIBIA) if finding_id is not None else TIBIA
        return None if site is None else ((_key(site), laterality),)

    sop_uid = sop_instance_uid or generate_uid()

    def group(identifier: str, parts: Sequence[object], **spec: Any) -> _Group:
        return _Group(tracking_text=identifier[:64],
                      tracking_uid=_derived_uid([sop_uid, *map(str, parts)]),
                      time_point=time_point, **spec)

    groups: list[_Group] = []
    # read-level fields: one image-level group without a finding type
    read_eval: list[_EvaluationKey] = []
    read_meas: list[_MeasurementKey] = []
    by_finding: dict[str, tuple[list[Any], list[Any]]] = {}
    for key, value in values.items():
        if key.startswith("committee.") or _is_blank(value):
            continue
        finding, field = _fields_of(protocol).get(key) or protocol.locate(key)
        ev, me = _field_items(protocol, finding, field, value)
        if finding is None:
            read_eval += ev
            read_meas += me
        else:
            got = by_finding.setdefault(finding.id, ([], []))
            got[0].extend(ev)
            got[1].extend(me)
    if read_eval or read_meas:
        groups.append(group("read", ("read",), evaluations=tuple(read_eval),
                            measurements=tuple(read_meas)))
    for finding in protocol.findings:  # protocol order, not the dict's
        if finding.id not in by_finding:
            continue
        ev, me = by_finding[finding.id]
        if not ev and not me:
            continue
        groups.append(group(finding.id, ("finding", finding.id), finding=_finding_key(finding),
                            sites=site_keys(finding.id), evaluations=tuple(ev),
                            measurements=tuple(me)))

    for i, a in enumerate(annotations):
        src = evidence[a.sop_instance_uid]
        n_frames = int(src.get("NumberOfFrames", 1) or 1)
        if not 0 <= int(a.frame) < n_frames:
            raise ValueError(f"annotation on {a.sop_instance_uid}: frame {int(a.frame) + 1} "
                             f"of an image of {n_frames} frames")
        # a frame is referenced only in an image of a multi-frame SOP Class: a single-frame
        # class (US, SC) written with several frames, as some devices do, may not be
        # referenced by frame (PS3.3 C.17.3.2.1); the tables keep the annotation's frame
        frames = (int(a.frame) + 1,) if n_frames > 1 and _multiframe_class(
            str(src.get("SOPClassUID", ""))) else None
        graphic_type, data = scoord(a.kind, a.points)
        finding = None
        if a.finding_id:
            try:
                finding = protocol.finding(a.finding_id)
            except KeyError:
                finding = None
        modality = str(src.get("Modality", ""))
        measurements = tuple(
            _annotation_measurement(name, value, modality)
            for name, value in sorted((a.measurements or {}).items())
            if value is not None and math.isfinite(float(value))
        )
        label = (a.label or "").strip() or f"{a.finding_id or 'annotation'} {a.kind} {i + 1}"
        groups.append(group(
            label, ("annotation", i),
            finding=_finding_key(finding) if finding is not None else None,
            sites=site_keys(finding.id if finding is not None else None),
            measurements=measurements,
            evaluations=((_local_key("annotation-kind", "Annotation kind"),
                          _local_key(a.kind, a.kind)),),
            region=(graphic_type, data, str(src.SOPClassUID), str(src.SOPInstanceUID), frames)))
    if not groups:
        raise ValueError("nothing to report: no recorded values and no annotations")

    series_uid = series_uid or generate_uid()
    document = _Document(observer, observer_kind, _procedures(sources.modalities),
                         tuple(groups))
    if _TEMPLATES:
        try:
            _save_from_templates(sources.encoded_header(series_uid, series_number), document,
                                 path, sop_uid=sop_uid,
                                 instance_number=instance_number,
                                 series_description=title[:64])
            return sop_uid
        except _NotEncodable:
            pass
    _save(sources.header(series_uid, series_number), document.build()[0], path,
          sop_uid=sop_uid, instance_number=instance_number,
          series_description=title[:64])
    return sop_uid


@functools.lru_cache(maxsize=64)
def _procedures(modalities: tuple[str, ...]) -> tuple[SrCode, ...]:
    """Procedure reported (CID 100) of sources of these modalities."""
    procedures = [_PROCEDURES[m] for m in modalities if m in _PROCEDURES]
    return tuple(dict.fromkeys(procedures)) or (_IMAGING_PROCEDURE,)


# ------------------------------------------------------------------ the content tree
# A document is described by plain values first (`_Group`, `_Document`); `build` turns them into
# highdicom's TID 1500 objects.  highdicom's constructors validate and copy as they go (a
# finding group ~1-3 ms, an ROI group ~4-8 ms, the report ~3-6 ms): most groups of an export
# differ only in their tracking identifier and UID, an ROI group also in its coordinates, its
# image and its measured values.  So each distinct shape is built by highdicom once per
# process, with stand-in values where a document puts its own, and encoded with those
# elements left as holes (`_Template`); a document is its templates with its own values
# encoded into the holes.  A shape is the structure only (`_Group.shape`: which optional
# items, how many evaluations, sites and measurements, the graphic type): every code (finding,
# site, laterality, evaluation name and value, measurement name, unit, derivation) is an item
# of a code sequence and a hole of its own, filled with that code's encoding (`_code_item`),
# the time point is a text hole and Graphic Data takes any number of points; the benchmark
# trial's 5,200 groups have 10 shapes.  `tests/test_sr.py` and `tests/test_sr_templates.py`
# check that this gives the same bytes as encoding the document highdicom builds whole
# (`_TEMPLATES = False`).
_TEMPLATES = True

_TEXT_VALUE, _UID, _NUMERIC_VALUE, _FLOAT_VALUE = 0x0040A160, 0x0040A124, 0x0040A30A, 0x0040A161
_GRAPHIC_DATA, _REFERENCED_SOP_INSTANCE = 0x00700022, 0x00081155
_STAND_IN_TEXT = "ioreview stand-in tracking identifier"
_STAND_IN_UID = "2.25.271828182845904523536028747135266249"
_STAND_IN_IMAGE = "2.25.314159265358979323846264338327950288"
_STAND_IN_TIME_POINT = "ioreview stand-in time point"
#: points of a stand-in region by graphic type (any count that highdicom accepts: the Graphic
#: Data element is a hole, its length follows the document's points)
_STAND_IN_POINTS = {"POINT": 1, "MULTIPOINT": 2, "POLYLINE": 2, "CIRCLE": 2, "ELLIPSE": 4}


def _stand_in_value(i: int) -> float:
    return -987654.5 - 2 * i


@functools.lru_cache(maxsize=4096)
def _code_item(code: SrCode, encodings: tuple[str, ...]) -> bytes:
    """The encoded item of a code sequence that holds `code` (a code hole's value)."""
    return _ITEM + _dataset_bytes(_coded(*code), list(encodings)) + _ITEM_END


@dataclass(frozen=True, eq=False)
class _Group:
    """One measurement group: image-level (TID 1501) or, with `region`, planar ROI (TID 1410).
    `region` is (graphic type, (column, row) graphic data, SOP Class UID, SOP Instance UID,
    frame numbers or None)."""

    tracking_text: str
    tracking_uid: str
    time_point: str | None
    finding: SrCode | None = None
    sites: tuple[tuple[SrCode, SrCode | None], ...] | None = None
    evaluations: tuple[_EvaluationKey, ...] = ()
    measurements: tuple[_MeasurementKey, ...] = ()
    region: tuple[str, np.ndarray, str, str, tuple[int, ...] | None] | None = None

    def shape(self) -> tuple[Any, ...]:
        """Everything highdicom's group depends on except the values of the holes: which
        optional items it has and how many, not their codes, texts or numbers."""
        region = None
        if self.region is not None:
            graphic_type, _data, sop_class, _sop, frames = self.region
            region = (graphic_type, sop_class, frames)
        return (self.time_point is None, self.finding is None,
                None if self.sites is None else tuple(lat is None for _s, lat in self.sites),
                len(self.evaluations), tuple(d is None for _n, _v, _u, d in self.measurements),
                region)

    def build(self) -> Any:
        """The group as highdicom builds it."""
        return self._build(self.tracking_text, self.tracking_uid,
                           [v for _n, v, _u, _d in self.measurements],
                           None if self.region is None else self.region[1],
                           None if self.region is None else self.region[3], cached=True)

    def stand_in(self) -> tuple[Any, dict[tuple[int, Any], str], dict[int, str]]:
        """The group built with stand-in values and codes, and its holes: (tag, stand-in
        value) -> hole name for elements, id(stand-in code) -> hole name for the items of
        codes (each code of the group is an item of a code sequence, PS3.3 8.8)."""
        holes: dict[tuple[int, Any], str] = {(_TEXT_VALUE, _STAND_IN_TEXT): "text",
                                             (_UID, _STAND_IN_UID): "uid"}
        items: dict[int, str] = {}
        keep: list[CodedConcept] = []  # ids stay those of these objects while they live

        def code(name: str) -> CodedConcept:
            concept = CodedConcept(value=f"STANDIN{len(keep)}", scheme_designator="99STANDIN",
                                   meaning=f"stand-in {len(keep)}")
            keep.append(concept)
            items[id(concept)] = name
            return concept

        measurements = []
        for i, (_n, _v, _u, d) in enumerate(self.measurements):
            v = _stand_in_value(i)
            holes[(_NUMERIC_VALUE, str(DS(v, auto_format=True)))] = f"ds{i}"
            holes[(_FLOAT_VALUE, v)] = f"fd{i}"
            measurements.append(hd.sr.Measurement(
                name=code(f"mn{i}"), value=v, unit=code(f"mu{i}"),
                derivation=None if d is None else code(f"md{i}")))
        evaluations = [hd.sr.QualitativeEvaluation(code(f"en{i}"), code(f"ev{i}"))
                       for i in range(len(self.evaluations))]
        sites = None if self.sites is None else [
            hd.sr.FindingSite(anatomic_location=code(f"site{i}"),
                              laterality=None if lat is None else code(f"lat{i}"))
            for i, (_s, lat) in enumerate(self.sites)]
        time_point = None
        if self.time_point is not None:
            holes[(_TEXT_VALUE, _STAND_IN_TIME_POINT)] = "time"
            time_point = hd.sr.TimePointContext(time_point=_STAND_IN_TIME_POINT)
        tracking = hd.sr.TrackingIdentifier(identifier=_STAND_IN_TEXT, uid=_STAND_IN_UID)
        finding = None if self.finding is None else code("finding")
        if self.region is None:
            group = hd.sr.MeasurementsAndQualitativeEvaluations(
                tracking_identifier=tracking, time_point_context=time_point,
                finding_type=finding, finding_sites=sites,
                qualitative_evaluations=evaluations or None,
                measurements=measurements or None)
        else:
            graphic_type, _data, sop_class, _sop, frames = self.region
            n = _STAND_IN_POINTS[graphic_type]
            data = -7000.5 - np.arange(2 * n, dtype=np.float64).reshape(n, 2)
            holes[(_GRAPHIC_DATA, tuple(data.flatten().tolist()))] = "graphic"
            holes[(_REFERENCED_SOP_INSTANCE, _STAND_IN_IMAGE)] = "image"
            region = hd.sr.ImageRegion(
                graphic_type=graphic_type, graphic_data=data,
                source_image=hd.sr.SourceImageForRegion(
                    referenced_sop_class_uid=sop_class,
                    referenced_sop_instance_uid=_STAND_IN_IMAGE,
                    referenced_frame_numbers=None if frames is None else list(frames)))
            group = hd.sr.PlanarROIMeasurementsAndQualitativeEvaluations(
                tracking_identifier=tracking, referenced_region=region,
                time_point_context=time_point, finding_type=finding, finding_sites=sites,
                measurements=measurements or None, qualitative_evaluations=evaluations)
        object.__setattr__(group, "_ioreview_stand_ins", keep)
        return group, holes, items

    def fill(self, encodings: tuple[str, ...]) -> dict[str, Any]:
        """This group's values for the holes of its template."""
        out: dict[str, Any] = {"text": self.tracking_text, "uid": self.tracking_uid}
        if self.time_point is not None:
            out["time"] = self.time_point
        if self.finding is not None:
            out["finding"] = _code_item(self.finding, encodings)
        for i, (site, lat) in enumerate(self.sites or ()):
            out[f"site{i}"] = _code_item(site, encodings)
            if lat is not None:
                out[f"lat{i}"] = _code_item(lat, encodings)
        for i, (name, value) in enumerate(self.evaluations):
            out[f"en{i}"] = _code_item(name, encodings)
            out[f"ev{i}"] = _code_item(value, encodings)
        for i, (n, v, u, d) in enumerate(self.measurements):
            out[f"ds{i}"] = _ds_value(v)
            out[f"fd{i}"] = v
            out[f"mn{i}"] = _code_item(n, encodings)
            out[f"mu{i}"] = _code_item(u, encodings)
            if d is not None:
                out[f"md{i}"] = _code_item(d, encodings)
        if self.region is not None:
            out["graphic"] = self.region[1].flatten().tolist()
            out["image"] = self.region[3]
        return out

    def _build(self, text: str, uid: str, values: Sequence[float], data: np.ndarray | None,
               sop_instance_uid: str | None, *, cached: bool) -> Any:
        measurement = _measurement_item if cached else _new_measurement
        measurements = [measurement(n, v, u, d)
                        for (n, _v, u, d), v in zip(self.measurements, values)]
        evaluations = [_evaluation(*e) for e in self.evaluations]
        sites = None if self.sites is None else [_finding_site(*s) for s in self.sites]
        time_point = None if self.time_point is None else _time_point(self.time_point)
        tracking = hd.sr.TrackingIdentifier(identifier=text, uid=uid)
        finding = None if self.finding is None else _coded(*self.finding)
        if self.region is None:
            return hd.sr.MeasurementsAndQualitativeEvaluations(
                tracking_identifier=tracking,
                time_point_context=time_point,
                finding_type=finding,
                finding_sites=sites,
                qualitative_evaluations=evaluations or None,
                measurements=measurements or None,
            )
        graphic_type, _data, sop_class, _sop, frames = self.region
        with _lazy_module_map():
            region = hd.sr.ImageRegion(
                graphic_type=graphic_type,
                graphic_data=data,
                source_image=hd.sr.SourceImageForRegion(
                    referenced_sop_class_uid=sop_class,
                    referenced_sop_instance_uid=sop_instance_uid,
                    referenced_frame_numbers=None if frames is None else list(frames)),
            )
        return hd.sr.PlanarROIMeasurementsAndQualitativeEvaluations(
            tracking_identifier=tracking,
            referenced_region=region,
            time_point_context=time_point,
            finding_type=finding,
            finding_sites=sites,
            measurements=measurements or None,
            qualitative_evaluations=evaluations,
        )


@dataclass(frozen=True)
class _Document:
    """A TID 1500 Measurement Report: the observer, the procedure and the groups."""

    observer: str
    observer_kind: str
    procedures: tuple[SrCode, ...]
    groups: tuple[_Group, ...]

    def build(self, groups: Sequence[Any] | None = None) -> Any:
        """The report as highdicom builds it (of `groups` already built, else of its own)."""
        return hd.sr.MeasurementReport(
            observation_context=_observation_context(self.observer, self.observer_kind),
            procedure_reported=[_concept(p) for p in self.procedures],
            imaging_measurements=[g.build() for g in self.groups] if groups is None
            else list(groups),
            title=_concept(_REPORT_TITLE),
        )


class _Hole(NamedTuple):
    name: str
    tag: int
    vr: str


class _Template:
    """The encoding of a highdicom-built item or element list with holes: bytes, and the
    places where a document's own element (or, for an item hole, its items) go."""

    def __init__(self, parts: Sequence[bytes | _Hole]) -> None:
        merged: list[bytes | _Hole] = []
        for p in parts:
            if isinstance(p, bytes) and merged and isinstance(merged[-1], bytes):
                merged[-1] += p
            else:
                merged.append(p)
        self.parts = tuple(merged)

    def render(self, values: Mapping[str, Any], encodings: list[str]) -> bytes:
        out: list[bytes] = []
        append = out.append
        for p in self.parts:
            if isinstance(p, bytes):
                append(p)
                continue
            name, tag, vr = p
            if tag == 0:  # item hole: the encoded items themselves
                append(values[name])
                continue
            value = values[name]
            data = _value_bytes(vr, value)
            if data is None:
                append(_element_bytes(DataElement(tag, vr, value), encodings))
            elif vr in EXPLICIT_VR_LENGTH_32:
                append(_HEADS[tag, vr] + struct.pack("<HI", 0, len(data)) + data)
            elif len(data) > 0xFFFF:  # e.g. an outline of many points: pydicom writes it
                raise _NotEncodable(f"{name}: {len(data)} bytes")
            else:
                append(_HEADS[tag, vr] + struct.pack("<H", len(data)) + data)
        return b"".join(out)


class _Heads(dict[tuple[int, str], bytes]):
    def __missing__(self, key: tuple[int, str]) -> bytes:
        tag, vr = key
        head = struct.pack("<HH", tag >> 16, tag & 0xFFFF) + vr.encode("ascii")
        self[key] = head
        return head


_HEADS = _Heads()


class _Raw(bytes):
    """A hole's value already encoded (padded, without tag, VR and length)."""


def _ds_value(value: float) -> _Raw:
    """The encoded Numeric Value of `value` as highdicom writes it (`DS(value,
    auto_format=True)`: `format_number_as_ds`, padded with a space)."""
    # 0.0 and -0.0 are one key of a cache but not one text
    return _ds_encoded(value) if value else _ds_text(value)


def _ds_text(value: float) -> _Raw:
    data = format_number_as_ds(value).encode("ascii")
    return _Raw(data + b" " if len(data) % 2 else data)


_ds_encoded = functools.lru_cache(maxsize=8192)(_ds_text)


def _value_bytes(vr: str, value: Any) -> bytes | None:
    """The encoded value of a hole as pydicom's writers encode it (explicit VR little endian),
    for the VRs and values the holes hold; None for anything else (then pydicom encodes it).
    A UID is padded with NUL, text and number strings with a space (PS3.5 6.2); ASCII text
    encodes alike in every character set the SR may declare."""
    if type(value) is _Raw:
        return value
    if vr == "UI" and isinstance(value, str) and value.isascii():
        data = value.encode("ascii")
        return data + b"\0" if len(data) % 2 else data
    if vr in ("UT", "LO", "SH", "LT", "ST") and isinstance(value, str) and value.isascii():
        data = value.encode("ascii")
        return data + b" " if len(data) % 2 else data
    if vr == "DS" and isinstance(value, DSfloat):
        text = value.original_string if hasattr(value, "original_string") else str(value)
        data = text.encode("ascii")
        return data + b" " if len(data) % 2 else data
    if vr == "FD" and type(value) is float:
        return struct.pack("<d", value)
    if vr == "FL" and isinstance(value, list) and all(type(v) is float for v in value):
        try:
            return struct.pack(f"<{len(value)}f", *value)
        except (OverflowError, struct.error):
            return None
    return None


def _hole_key(elem: Any) -> Any:
    value = elem.value
    if elem.VR in ("FL", "FD"):
        return tuple(float(v) for v in value) if isinstance(value, (list, MultiValue)) \
            else float(value)
    return str(value)


def _element_parts(elements: Any, encodings: list[str], holes: Mapping[tuple[int, Any], str],
                   items: Mapping[int, str], found: set[str], out: list[bytes | _Hole]) -> None:
    """Encode `elements` as `_element_bytes` does, leaving `holes` (elements by tag and value)
    and `items` (sequence items by identity) as `_Hole`s."""
    tags = {tag for tag, _v in holes}
    for elem in elements:
        tag = int(elem.tag)
        if elem.VR == "SQ":
            out.append(struct.pack("<HH", tag >> 16, tag & 0xFFFF) + b"SQ\0\0\xff\xff\xff\xff")
            for item in elem.value or ():
                name = items.get(id(item))
                if name is not None:
                    found.add(name)
                    out.append(_Hole(name, 0, ""))
                    continue
                out.append(_ITEM)
                if "_ioreview_encoded" in item.__dict__:
                    out.append(_dataset_bytes(item, encodings))
                else:
                    if "SpecificCharacterSet" in item:
                        raise _NotEncodable("a nested Specific Character Set")
                    _element_parts(item, encodings, holes, items, found, out)
                out.append(_ITEM_END)
            out.append(_SEQUENCE_END)
            continue
        name = holes.get((tag, _hole_key(elem))) if tag in tags and not elem.is_empty else None
        if name is not None:
            if name in found:
                raise _NotEncodable(f"hole {name} twice")
            found.add(name)
            out.append(_Hole(name, tag, elem.VR))
        else:
            out.append(_element_bytes(elem, encodings))


_GROUP_TEMPLATES: dict[tuple[Any, ...], _Template | None] = {}
_DOCUMENT_TEMPLATES: dict[tuple[Any, ...], list[tuple[int, _Template]] | None] = {}


def _group_template(group: _Group, encodings: tuple[str, ...]) -> _Template:
    key = (group.region is None, group.shape(), encodings)
    template = _GROUP_TEMPLATES.get(key, _MISSING)
    if template is _MISSING:
        template = None
        try:
            with _lazy_module_map():
                built, holes, items = group.stand_in()
            if len(built) != 1:
                raise _NotEncodable("a group of more than one content item")
            parts: list[bytes | _Hole] = []
            found: set[str] = set()
            _element_parts(built[0], list(encodings), holes, items, found, parts)
            if found == set(holes.values()) | set(items.values()):
                template = _Template(parts)
        except _NotEncodable:
            pass
        _GROUP_TEMPLATES[key] = template
    if template is None:
        raise _NotEncodable("this group has no template")
    return template


_MISSING: Any = object()


@functools.cache
def _placeholder_group() -> Any:
    return hd.sr.MeasurementsAndQualitativeEvaluations(
        tracking_identifier=hd.sr.TrackingIdentifier(identifier="placeholder",
                                                     uid=_STAND_IN_UID))


def _document_template(document: _Document, encodings: list[str]) -> list[tuple[int, _Template]]:
    """The root content item's elements, each a template; the measurement groups go in the
    item hole "groups"."""
    key = (document.observer, document.observer_kind, document.procedures, tuple(encodings))
    if key not in _DOCUMENT_TEMPLATES:
        result = None
        try:
            placeholder = _placeholder_group()
            root = document.build([placeholder])[0]
            result = []
            found: set[str] = set()
            for elem in root:
                parts: list[bytes | _Hole] = []
                _element_parts([elem], encodings, {}, {id(placeholder[0]): "groups"}, found,
                               parts)
                result.append((int(elem.tag), _Template(parts)))
            if found != {"groups"}:
                result = None
        except _NotEncodable:
            pass
        _DOCUMENT_TEMPLATES[key] = result
    result = _DOCUMENT_TEMPLATES[key]
    if result is None:
        raise _NotEncodable("this document has no template")
    return result


_OWN_TAGS = frozenset({0x00080018, 0x00200013, 0x0008103E})  # SOP Instance UID, Instance
# Number, Series Description: a document's own


class _EncodedHeader(NamedTuple):
    """A header's elements but a document's own, by tag in tag order, each encoded; and the
    Dataset whose file meta every document of the header has (`_file_meta_bytes`)."""

    encodings: list[str]
    elements: list[tuple[int, bytes]]
    meta: Dataset


def _encode_header(header: Dataset) -> _EncodedHeader:
    encodings = convert_encodings(header.get("SpecificCharacterSet") or "ISO_IR 6")
    template = header.__dict__.get("_ioreview_template")
    elements = [(int(e.tag), template.element_bytes(e, encodings) if template is not None
                 else _element_bytes(e, encodings))
                for e in header if int(e.tag) not in _OWN_TAGS]
    return _EncodedHeader(encodings, elements,
                          template.header if template is not None else header)


def _ui_bytes(tag: int, uid: str) -> bytes:
    data = _value_bytes("UI", uid)
    if data is None:
        return _element_bytes(DataElement(tag, "UI", uid), [])
    return _HEADS[tag, "UI"] + struct.pack("<H", len(data)) + data


def _sequence_bytes(tag: int, items: Sequence[bytes]) -> bytes:
    return b"".join([_HEADS[tag, "SQ"], b"\0\0\xff\xff\xff\xff",
                     *(_ITEM + item + _ITEM_END for item in items), _SEQUENCE_END])


def _encoded_references(tag: int, groups: Mapping[tuple[str, str], list[bytes]]) -> bytes:
    """`_references` encoded (items' elements in tag order, as a Dataset iterates them):
    Referenced Series Sequence (0008,1115) before Study Instance UID (0020,000D), Referenced
    SOP Sequence (0008,1199) before Series Instance UID (0020,000E)."""
    studies: dict[str, list[bytes]] = {}
    for (study_uid, series_uid), instances in groups.items():
        studies.setdefault(study_uid, []).append(
            _sequence_bytes(0x00081199, instances) + _ui_bytes(0x0020000E, series_uid))
    return _sequence_bytes(tag, [_sequence_bytes(0x00081115, series) + _ui_bytes(0x0020000D, study)
                                 for study, series in studies.items()])


_INSTITUTION_TAGS = (0x00080080, 0x00080081, 0x00081040)  # Name, Address, Department


_COPIED_BYTES: dict[tuple[int, str, str, tuple[str, ...]], bytes] = {}


def _copied_bytes(elem: DataElement, encodings: list[str]) -> bytes:
    """`_element_bytes` of a copied attribute; a text value seen before is encoded once (a
    writer's bytes follow from the tag, VR, value and character set alone)."""
    value = elem.value
    if type(value) is PersonName and not str(value):
        value = ""  # an emptied name (de-identified)
    elif type(value) is not str or len(value) > 64:
        return _element_bytes(elem, encodings)
    key = (int(elem.tag), elem.VR, value, tuple(encodings))
    data = _COPIED_BYTES.get(key)
    if data is None:
        if len(_COPIED_BYTES) >= 16384:
            _COPIED_BYTES.clear()
        data = _COPIED_BYTES[key] = _element_bytes(elem, encodings)
    return data


@functools.lru_cache(maxsize=64)
def _coding_scheme_bytes(encodings: tuple[str, ...]) -> bytes:
    return _element_bytes(_coding_scheme_element(), list(encodings))


def _coding_scheme_element() -> DataElement:
    scheme = Dataset()
    scheme.CodingSchemeDesignator = LOCAL_SCHEME
    scheme.CodingSchemeName = _LOCAL_SCHEME_NAME
    scheme.CodingSchemeResponsibleOrganization = _MANUFACTURER
    return DataElement(0x00080110, "SQ", DicomSequence([scheme]))


def _patient_elements(patient_id: str, encodings: list[str]) -> dict[int, bytes]:
    name = patient_id if "^" in patient_id else f"{patient_id}^"
    return {0x00100020: _element_bytes(DataElement(0x00100020, "LO", patient_id), encodings),
            0x00100010: _element_bytes(DataElement(0x00100010, "PN", name), encodings)}


def _save_from_templates(header: _EncodedHeader, document: _Document,
                         path: str | os.PathLike[str], *, sop_uid: str, instance_number: int,
                         series_description: str) -> None:
    """Write the document as `_save` writes the one highdicom builds, from templates."""
    encodings, elements = header.encodings, header.elements
    codings = tuple(encodings)
    groups = b"".join([_ITEM + _group_template(g, codings).render(g.fill(codings), encodings)
                       + _ITEM_END for g in document.groups])
    own = [(0x00080018, _element_bytes(DataElement(0x00080018, "UI", sop_uid), encodings)),
           (0x00200013, _element_bytes(DataElement(0x00200013, "IS", instance_number), encodings)),
           (0x0008103E, _element_bytes(DataElement(0x0008103E, "LO", series_description),
                                       encodings))]
    content = [(tag, t.render({"groups": groups}, encodings))
               for tag, t in _document_template(document, encodings)]
    body = b"".join(b for _tag, b in sorted(elements + own + content, key=lambda x: x[0]))
    with open(os.fspath(path), "wb") as f:
        f.write(b"\0" * 128 + b"DICM" + _file_meta_bytes(header.meta, sop_uid) + body)


_MEDIA_STORAGE_SOP_INSTANCE, _GROUP_LENGTH = 0x00020003, 0x00020000


def _pydicom_file_meta(header: Dataset, sop_uid: str) -> bytes:
    file_meta = FileMetaDataset()
    for elem in header.file_meta:
        file_meta.add(elem)
    file_meta.add_new("MediaStorageSOPInstanceUID", "UI", sop_uid)
    meta = DicomBytesIO()
    meta.is_little_endian, meta.is_implicit_VR = True, False
    write_file_meta_info(meta, file_meta, enforce_standard=True)
    return meta.getvalue()


def _file_meta_bytes(header: Dataset, sop_uid: str) -> bytes:
    """The File Meta Information of a document of `header` (PS3.10 7.1): the header's, with
    the document's Media Storage SOP Instance UID and the group length that follows from it.
    Encoded here from the header's elements once pydicom's encoding of the header's first
    document showed the same bytes, else by pydicom every time."""
    memo = header.__dict__.get("_ioreview_meta")
    if memo is False:
        return _pydicom_file_meta(header, sop_uid)
    if memo is None:
        before: list[bytes] = []
        after: list[bytes] = []
        try:
            for elem in header.file_meta:
                tag = int(elem.tag)
                if tag not in (_GROUP_LENGTH, _MEDIA_STORAGE_SOP_INSTANCE):
                    (before if tag < _MEDIA_STORAGE_SOP_INSTANCE else after).append(
                        _element_bytes(elem, ["iso8859"]))
        except _NotEncodable:
            object.__setattr__(header, "_ioreview_meta", False)
            return _pydicom_file_meta(header, sop_uid)
        memo = (b"".join(before), b"".join(after))
    uid = _value_bytes("UI", sop_uid)
    if uid is None:
        return _pydicom_file_meta(header, sop_uid)
    body = (memo[0] + _HEADS[_MEDIA_STORAGE_SOP_INSTANCE, "UI"] + struct.pack("<H", len(uid))
            + uid + memo[1])
    meta = struct.pack("<HH2sHI", 0x0002, 0x0000, b"UL", 4, len(body)) + body
    if "_ioreview_meta" not in header.__dict__:  # the first document: check against pydicom
        checked = _pydicom_file_meta(header, sop_uid)
        object.__setattr__(header, "_ioreview_meta", memo if checked == meta else False)
        return checked
    return meta


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
