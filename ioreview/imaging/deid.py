"""What a blinded reader may see of a DICOM header: the one de-identification policy.

The policy follows DICOM PS3.15 Annex E, the Basic Application Level Confidentiality Profile
(Table E.1-1), with two of its options:

* Retain Patient Characteristics Option (E.3.7): Patient's Sex, Age, Size and Weight stay;
  everything else of the Patient group (0010) goes.
* Retain Longitudinal Temporal Information with Modified Dates Option (E.3.6), for
  de-identified reader copies only: dates are shifted by a per-case offset (or removed when
  no offset is given); the tag browser hides dates, times and date-times whatever the offset.

Hidden are: private tags (E.3.10 is not applied, so no private tag is "safe"); every person
name (PN), date (DA), date-time (DT), time (TM) and application entity title (AE); the
Patient (0010), Visit (0038) and Results (4008) groups but for the kept patient
characteristics; the Clinical Trial group (0012) but for the de-identification flags; curves
(50xx) and overlay data and comments (60xx,3000 / 60xx,4000); the attributes of Table E.1-1
listed in `_HIDDEN_KEYWORDS` (institution, device and station identity, request and
procedure identifiers, free-text comments, provenance sequences that carry old values); and
every UID that identifies a study, series, instance, frame of reference or other instance of
something (action U), while UIDs that name a kind (SOP Class, Transfer Syntax, coding scheme,
any UID registered in PS3.6 Annex A) stay.

One deliberate difference from Annex E: Study and Series Description and Body Part Examined
stay, because readers tell series apart by them (Annex E removes descriptions unless the
Clean Descriptors Option cleans them by hand); the coordinator checks them at import.

`blind_header` applies the policy to the indexed header values (`InstanceHeader`),
`tag_rows` to what the tag browser shows, and `deidentify_dataset` to a copy of a dataset for
de-identified reader copies and exports.
"""
from __future__ import annotations

import copy
import dataclasses
import io
import os
import re
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pydicom
from pydicom.dataelem import DataElement
from pydicom.datadict import keyword_for_tag
from pydicom.dataset import Dataset
from pydicom.errors import InvalidDicomError
from pydicom.multival import MultiValue
from pydicom.sequence import Sequence as DicomSequence
from pydicom.tag import BaseTag
from pydicom.uid import UID

from ioreview.imaging.burned_in import MaskRectangle, mask_dataset
from ioreview.imaging.header import IDENTIFYING_FIELDS, InstanceHeader

__all__ = [
    "IDENTIFYING_FIELDS",
    "MASK",
    "MAX_VALUE_CHARS",
    "TagRow",
    "UnreadableHeader",
    "DeidentificationRefused",
    "reader_may_see",
    "blind_header",
    "tag_rows",
    "read_header",
    "deidentify_dataset",
    "identifying_text",
    "reader_copy_bytes",
    "reader_copy_dataset",
    "write_deidentified_copy",
]

#: ISO 2022 escape sequences (PS3.5 6.1.2.5.3).  pydicom 3.0 leaves ESC $ ) A (ISO 2022 IR 58)
#: in text it decodes, though it decodes the GB 2312 bytes after it rightly: drop the sequence.
_ISO2022_ESCAPE = re.compile(r"\x1b(?:\$[()]?|[()\-])[@-Z]")
#: What the tag browser shows in place of a hidden value.
MASK = "\u2022\u2022\u2022"
#: Longer values are cut to this many characters (the last one an ellipsis) in tag rows.
MAX_VALUE_CHARS = 200

_PIXEL_DATA = 0x7FE00010
_HIDDEN_VRS = frozenset({"PN", "DA", "DT", "TM", "AE"})
_DATE_VRS = frozenset({"DA", "DT", "TM"})
#: Patient (0010), Clinical Trial (0012), Visit (0038) and Results (4008) groups.
_HIDDEN_GROUPS = frozenset({0x0010, 0x0012, 0x0038, 0x4008})
#: Retain Patient Characteristics Option (PS3.15 E.3.7) and the de-identification flags.
_KEPT_IN_HIDDEN_GROUPS = frozenset({
    "PatientSex", "PatientAge", "PatientSize", "PatientWeight",
    "PatientIdentityRemoved", "DeidentificationMethod", "DeidentificationMethodCodeSequence",
})
#: Attributes of PS3.15 Table E.1-1 not already hidden by their VR or group.
_HIDDEN_KEYWORDS = frozenset({
    # institution, department, station and device identity
    "InstitutionName", "InstitutionAddress", "InstitutionCodeSequence",
    "InstitutionalDepartmentName", "InstitutionalDepartmentTypeCodeSequence", "StationName",
    "DeviceSerialNumber", "DetectorID", "GantryID", "GeneratorID", "CassetteID", "PlateID",
    "UniqueDeviceIdentifier", "UDISequence", "ModifyingDeviceID", "ModifyingDeviceManufacturer",
    "SourceSerialNumber", "TimezoneOffsetFromUTC",
    # people, by address, telephone or identification sequence
    "ReferringPhysicianAddress", "ReferringPhysicianTelephoneNumbers",
    "ReferringPhysicianIdentificationSequence", "ConsultingPhysicianIdentificationSequence",
    "PhysiciansOfRecordIdentificationSequence", "PerformingPhysicianIdentificationSequence",
    "PhysiciansReadingStudyIdentificationSequence", "OperatorIdentificationSequence",
    "RequestingPhysicianIdentificationSequence",
    "ScheduledPerformingPhysicianIdentificationSequence", "PersonAddress",
    "PersonTelephoneNumbers", "PersonTelecomInformation", "PersonIdentificationCodeSequence",
    "ContentCreatorIdentificationCodeSequence", "HumanPerformerOrganization",
    "ActualHumanPerformersSequence", "ScheduledHumanPerformersSequence",
    "AuthorObserverSequence", "ParticipantSequence", "CustodialOrganizationSequence",
    "VerifyingObserverSequence", "VerifyingObserverIdentificationCodeSequence",
    "VerifyingOrganization", "OrderEntererLocation", "OrderCallbackPhoneNumber",
    # orders, requests and procedure steps
    "AccessionNumber", "IssuerOfAccessionNumberSequence", "StudyID", "StudyIDIssuer",
    "RequestAttributesSequence", "RequestedProcedureID", "RequestedProcedureDescription",
    "RequestedProcedureComments", "RequestedProcedureLocation", "RequestedContrastAgent",
    "RequestingService", "RequestingServiceCodeSequence", "ReasonForStudy",
    "ReasonForTheRequestedProcedure", "ReasonForTheImagingServiceRequest",
    "ImagingServiceRequestComments", "PlacerOrderNumberImagingServiceRequest",
    "FillerOrderNumberImagingServiceRequest", "PlacerOrderNumberProcedure",
    "FillerOrderNumberProcedure", "ScheduledProcedureStepID", "ScheduledProcedureStepDescription",
    "ScheduledProcedureStepLocation", "ScheduledStationName", "ScheduledStationNameCodeSequence",
    "ScheduledStationGeographicLocationCodeSequence", "ScheduledStudyLocation",
    "PerformedProcedureStepID", "PerformedProcedureStepDescription",
    "CommentsOnThePerformedProcedureStep", "PerformedLocation", "PerformedStationName",
    "PerformedStationNameCodeSequence", "PerformedStationGeographicLocationCodeSequence",
    "ReferencedPatientSequence", "ReferencedStudySequence", "PreMedication",
    "AdmittingDiagnosesDescription", "AdmittingDiagnosesCodeSequence", "ProtocolName",
    # free text that may name anyone
    "StudyComments", "ImageComments", "FrameComments", "IdentifyingComments",
    "AcquisitionComments", "ImagePresentationComments", "DerivationDescription",
    "AcquisitionDeviceProcessingDescription", "ContributionDescription", "TextString",
    "TextValue", "ContentSequence", "GraphicAnnotationSequence", "TopicTitle", "TopicSubject",
    "TopicAuthor", "TopicKeywords", "OverlayComments", "OverlayData", "IconImageSequence",
    "ConfidentialityConstraintOnPatientDataDescription", "SpecimenAccessionNumber",
    "SpecimenIdentifier", "StorageMediaFileSetID",
    # provenance that keeps the original values, signatures, trailing padding
    "OriginalAttributesSequence", "ModifiedAttributesSequence", "EncryptedAttributesSequence",
    "MACParametersSequence", "DigitalSignaturesSequence", "ReferencedDigitalSignatureSequence",
    "ReferencedSOPInstanceMACSequence", "DataSetTrailingPadding",
    "SourceApplicationEntityTitle", "SendingApplicationEntityTitle",
    "ReceivingApplicationEntityTitle", "PrivateInformation", "PrivateInformationCreatorUID",
})
#: UIDs that name a kind of thing rather than one study, series, instance or frame of reference.
_KIND_UIDS = frozenset({
    "SOPClassUID", "MediaStorageSOPClassUID", "TransferSyntaxUID", "ImplementationClassUID",
    "ReferencedSOPClassUID", "ReferencedSOPClassUIDInFile", "ReferencedTransferSyntaxUIDInFile",
    "AffectedSOPClassUID", "RequestedSOPClassUID", "SOPClassesInStudy",
    "RelatedGeneralSOPClassUID", "OriginalSpecializedSOPClassUID", "CodingSchemeUID",
    "ContextUID", "MappingResourceUID", "EncryptedContentTransferSyntaxUID",
})
#: Elements emptied rather than removed in a de-identified copy (Type 2 in the image IODs).
_EMPTIED_IN_COPY = frozenset({
    "PatientName", "PatientID", "PatientBirthDate", "AccessionNumber", "ReferringPhysicianName",
    "StudyID", "StudyDate", "StudyTime", "ContentDate", "ContentTime",
})
#: De-identification Method (CID 7050) codes of what `deidentify_dataset` does.
_BASIC_PROFILE = ("113100", "Basic Application Confidentiality Profile")
_PATIENT_CHARACTERISTICS = ("113108", "Retain Patient Characteristics Option")
_MODIFIED_DATES = ("113107", "Retain Longitudinal Temporal Information Modified Dates Option")
_CLEAN_DESCRIPTORS = ("113105", "Clean Descriptors Option")
_CLEAN_PIXELS = ("113101", "Clean Pixel Data Option")
#: Text VRs a reader copy keeps and cleans (Clean Descriptors).
_DESCRIPTOR_VRS = frozenset({"LO", "SH", "ST", "LT", "UT", "UC"})
#: Identifying values beside names and dates, collected to clean kept descriptions.
_IDENTIFYING_KEYWORDS = frozenset({
    "PatientID", "OtherPatientIDs", "IssuerOfPatientID", "AccessionNumber", "InstitutionName",
    "InstitutionAddress", "InstitutionalDepartmentName", "StationName", "DeviceSerialNumber",
    "StudyID", "PatientAddress", "PatientTelephoneNumbers", "MedicalRecordLocator",
    "AdmissionID", "RequestedProcedureID", "PerformedProcedureStepID",
})


class UnreadableHeader(ValueError):
    """A file's DICOM header cannot be read; `path` and `reason` say which and why."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(
            f"{path}: the DICOM header cannot be read ({reason}); check that the file is a "
            "complete DICOM file, or re-export it from the modality or PACS"
        )
        self.path = path
        self.reason = reason

    @classmethod
    def of(cls, path: str, exc: BaseException) -> UnreadableHeader:
        """The error for `path`, whose read raised `exc` (pydicom raises many kinds for a
        damaged file; an OSError gives its system message)."""
        if isinstance(exc, InvalidDicomError):
            return cls(path, "not a DICOM file")
        if isinstance(exc, OSError) and exc.strerror:
            return cls(path, exc.strerror)
        return cls(path, _first_line(exc))


class DeidentificationRefused(ValueError):
    """The dataset cannot be made safe by header de-identification alone."""


@dataclass(frozen=True, slots=True)
class TagRow:
    """One row of the tag browser.

    `keyword` carries one ">" per sequence nesting level (as DICOM dumps do); `masked` says
    the policy hides the value (then `value` is `MASK`, or "" when there was nothing to hide);
    `items` is the number of items of a shown sequence, so a UI can word it in its language.
    """

    tag: str
    keyword: str
    value: str
    masked: bool = False
    items: int | None = None

    @property
    def depth(self) -> int:
        return len(self.keyword) - len(self.keyword.lstrip(">"))

    @property
    def name(self) -> str:
        """The keyword without its nesting marks."""
        return self.keyword.lstrip(">")


def reader_may_see(elem: DataElement) -> bool:
    """True when a blinded reader may see this element's value (the policy above)."""
    if _hidden_by_name(BaseTag(elem.tag), elem.keyword) or elem.VR in _HIDDEN_VRS:
        return False
    if elem.VR == "UI":
        return elem.keyword in _KIND_UIDS or all(_is_registered_uid(v) for v in _values(elem.value))
    return True


def _hidden_by_name(tag: BaseTag, keyword: str) -> bool:
    """Hidden whatever its VR: private, unknown, listed, or in a hidden group."""
    if tag.is_private:
        return True
    if not keyword:
        # not in the PS3.6 dictionary: only group lengths are known to be harmless
        return tag.element != 0
    if keyword in _HIDDEN_KEYWORDS:
        return True
    if tag.group in _HIDDEN_GROUPS and keyword not in _KEPT_IN_HIDDEN_GROUPS:
        return True
    return 0x5000 <= tag.group <= 0x50FF  # curves (retired)


def blind_header(h: InstanceHeader) -> InstanceHeader:
    """The header with every identifying attribute and calendar date blanked.

    The UIDs and the file path stay: the viewer reads pixels with them.  (An archive path may
    name the patient; reader copies, stored under neutral names, remove that.)
    """
    return dataclasses.replace(h, **{name: "" for name in IDENTIFYING_FIELDS})


def read_header(path: str | os.PathLike[str]) -> Dataset:
    """A file's header without pixel data, read forgivingly (files without a preamble too).

    Raises `UnreadableHeader` when the file is missing, unreadable or not DICOM at all.
    """
    where = os.fspath(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = pydicom.dcmread(where, stop_before_pixels=True, force=True)
    except FileNotFoundError:
        raise UnreadableHeader(where, "no such file") from None
    except IsADirectoryError:
        raise UnreadableHeader(where, "it is a folder") from None
    except Exception as exc:  # pydicom raises many kinds for damaged files
        raise UnreadableHeader.of(where, exc) from exc
    if not ds.file_meta and not any(BaseTag(t).is_private or _known(t) for t in ds.keys()):
        raise UnreadableHeader(where, "no DICOM elements found")
    return ds


def tag_rows(dataset_or_path: Dataset | str | os.PathLike[str], *, masked: bool) -> list[TagRow]:
    """The rows of the tag browser for a dataset or file: file meta first, then the dataset.

    Sequences show their item count and, unless hidden, their items nested below them;
    Pixel Data shows as "<pixel data>" and other binary values as "<N bytes>".  Text is
    decoded by the dataset's Specific Character Set (PS3.5 6.1), nested items by their own.
    With `masked`, values the policy hides show as `MASK` (`reader_may_see`).
    """
    ds = dataset_or_path if isinstance(dataset_or_path, Dataset) else read_header(dataset_or_path)
    rows: list[TagRow] = []
    meta = getattr(ds, "file_meta", None)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # invalid values are shown as they are, not warned about
        if meta:
            _walk(meta, masked, 0, rows)
        _walk(ds, masked, 0, rows)
    return rows


def deidentify_dataset(
    ds: Dataset,
    *,
    uid_map: Callable[[str], str],
    date_offset_days: int | None,
    allow_burned_in: bool = False,
    copy_first: bool = True,
) -> Dataset:
    """A de-identified copy of `ds` under the same policy; `ds` itself is not changed (with
    `copy_first=False`, for a dataset the caller read for this alone, `ds` is changed and
    returned: deep-copying a header costs as much as de-identifying it).

    Hidden elements are removed, or emptied where the image IODs require them (Type 2:
    Patient's Name and ID, Study Date, Accession Number...); private tags are removed; UIDs
    of instances are replaced by `uid_map` (which must map a UID the same way every time, so
    references between files still match); dates and date-times are shifted by
    `date_offset_days` with times kept, or removed when it is None; the patient's birth date is
    always emptied.  Patient Identity Removed, De-identification Method (and its code
    sequence, CID 7050) and Longitudinal Temporal Information Modified record what was done;
    the caller sets any pseudonym (Patient ID = case label) afterwards.  Pixel data is not
    touched, so an image whose Burned In Annotation is YES is refused unless
    `allow_burned_in` says its pixels were checked.
    """
    if not allow_burned_in and str(ds.get("BurnedInAnnotation", "") or "").upper() == "YES":
        raise DeidentificationRefused(
            "The image has identifying text burned into its pixels (Burned In Annotation = YES); "
            "header de-identification cannot remove it: exclude the series or clean its pixels "
            "first (PS3.15 E.3.1 Clean Pixel Data Option)."
        )
    out = copy.deepcopy(ds) if copy_first else ds
    meta = getattr(out, "file_meta", None)
    if meta:
        _deidentify(meta, uid_map, date_offset_days)
    _deidentify(out, uid_map, date_offset_days)
    out.PatientIdentityRemoved = "YES"
    out.DeidentificationMethod = "ioreview PS3.15 Basic Profile" + (
        ", dates shifted" if date_offset_days is not None else ", dates removed")
    codes = [_BASIC_PROFILE, _PATIENT_CHARACTERISTICS]
    if date_offset_days is not None:
        codes.append(_MODIFIED_DATES)
    out.DeidentificationMethodCodeSequence = DicomSequence([_code_item(v, m) for v, m in codes])
    out.LongitudinalTemporalInformationModified = "MODIFIED" if date_offset_days is not None else "REMOVED"
    if meta and "MediaStorageSOPInstanceUID" in meta and "SOPInstanceUID" in out:
        meta.MediaStorageSOPInstanceUID = out.SOPInstanceUID
    return out


def reader_copy_dataset(ds: Dataset, *, uid_map: Callable[[str], str],
                        date_offset_days: int | None, patient_label: str,
                        rectangles: Sequence[MaskRectangle] = (),
                        pixels_checked: bool = False) -> Dataset:
    """The de-identified copy a reader is handed, under the one policy.

    `deidentify_dataset` (Basic Profile, patient characteristics kept, dates shifted by
    `date_offset_days` or removed, instance UIDs through `uid_map`), then the Clean Descriptors
    Option (PS3.15 E.3.5) for the descriptions that stay: any name part, ID, accession
    number, institution or calendar date of the original found in kept text is removed; then
    Patient ID and Name become `patient_label`.  With `rectangles` the pixels are masked on
    every frame (`burned_in.mask_dataset`: Burned In Annotation becomes NO); an image whose
    Burned In Annotation is YES is refused unless masked or `pixels_checked`.
    """
    secrets = identifying_text(ds)
    out = deidentify_dataset(ds, uid_map=uid_map, date_offset_days=date_offset_days,
                             allow_burned_in=pixels_checked or bool(rectangles))
    _clean_descriptors(out, secrets)
    out.PatientID = patient_label
    out.PatientName = f"{patient_label}^"
    if rectangles:
        mask_dataset(out, rectangles)
    elif pixels_checked:  # the coordinator looked and found no text
        out.BurnedInAnnotation = "NO"
    # LO is at most 64 characters: one value per step (VM 1-n)
    out.DeidentificationMethod = [
        "ioreview PS3.15 Basic Profile",
        "dates shifted" if date_offset_days is not None else "dates removed",
        "descriptors cleaned", *(["pixels masked"] if rectangles else [])]
    out.DeidentificationMethodCodeSequence.append(_code_item(*_CLEAN_DESCRIPTORS))
    if rectangles:
        out.DeidentificationMethodCodeSequence.append(_code_item(*_CLEAN_PIXELS))
    return out


def reader_copy_bytes(src: str | os.PathLike[str], *, uid_map: Callable[[str], str],
                      date_offset_days: int | None, patient_label: str,
                      rectangles: Sequence[MaskRectangle] = (),
                      pixels_checked: bool = False) -> bytes:
    """The file bytes of `reader_copy_dataset` for the file `src` (a DICOM file with its
    File Meta Information, PS3.10).  Raises `UnreadableHeader` for a file that cannot be
    read, `DeidentificationRefused` for burned-in text left unchecked, ValueError for pixels
    that cannot be masked."""
    where = os.fspath(src)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = pydicom.dcmread(where, force=True)
    except OSError as exc:
        raise UnreadableHeader(where, exc.strerror or str(exc)) from exc
    except Exception as exc:  # pydicom raises many kinds for damaged files
        raise UnreadableHeader(where, _first_line(exc)) from exc
    out = reader_copy_dataset(ds, uid_map=uid_map, date_offset_days=date_offset_days,
                              patient_label=patient_label, rectangles=rectangles,
                              pixels_checked=pixels_checked)
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pydicom.dcmwrite(buffer, out, enforce_file_format=True)
    return buffer.getvalue()


def identifying_text(ds: Dataset) -> list[str]:
    """The identifying strings of a dataset (longest first): every name and name part, IDs,
    accession numbers, institutions and calendar dates (as YYYYMMDD), at any depth.  Used to
    clean kept descriptions and by tests that look for leaks."""
    found: set[str] = set()
    for elem in _all_elements(ds):
        if elem.VR == "SQ" or isinstance(elem.value, (bytes, bytearray)):
            continue
        for value in _values(elem.value):
            text = _ISO2022_ESCAPE.sub("", str(value)).strip()
            if not text:
                continue
            if elem.VR == "PN":
                found.add(text)
                found.update(p.strip() for p in re.split(r"[\^=]", text))
            elif elem.VR in ("DA", "DT"):
                if len(text) >= 8 and text[:8].isdigit():
                    found.add(text[:8])
            elif elem.keyword in _IDENTIFYING_KEYWORDS:
                found.add(text)
    return sorted((s for s in found if any(c.isalnum() for c in s)
                   and (len(s) >= 2 or not s.isascii())), key=lambda s: (-len(s), s))


# ------------------------------------------------------------------ tag rows
def write_deidentified_copy(src: str | os.PathLike[str], dst: str | os.PathLike[str], *,
                            uid_map: Callable[[str], str], date_offset_days: int | None,
                            patient_id: str | None = None) -> str:
    """Write a de-identified copy of the file `src` at `dst` under the one policy
    (`deidentify_dataset`); `patient_id` becomes Patient ID and Patient Name.  Returns the
    copy's SOP Instance UID (`uid_map` of the original)."""
    ds = pydicom.dcmread(os.fspath(src))
    out = deidentify_dataset(ds, uid_map=uid_map, date_offset_days=date_offset_days)
    if patient_id:
        out.PatientID = patient_id
        out.PatientName = f"{patient_id}^"
    out.save_as(os.fspath(dst), enforce_file_format=True)
    return str(out.SOPInstanceUID)


def _walk(ds: Dataset, masked: bool, depth: int, rows: list[TagRow]) -> None:
    for tag in list(ds.keys()):
        tag = BaseTag(tag)
        tag_text = f"({tag.group:04X},{tag.element:04X})"
        try:
            elem = ds[tag]
        except Exception as exc:  # a damaged element: say so and show the rest
            shown = "<unreadable>" if masked else f"<unreadable: {_first_line(exc)}>"
            rows.append(TagRow(tag_text, ">" * depth + _name_of(tag), shown, masked=masked))
            continue
        keyword = ">" * depth + (elem.keyword or elem.name)
        hidden = masked and not reader_may_see(elem)
        if elem.VR == "SQ":
            if hidden:
                rows.append(TagRow(tag_text, keyword, MASK, masked=True))
                continue
            items = list(elem.value or [])
            rows.append(TagRow(tag_text, keyword, f"<{len(items)} item(s)>", items=len(items)))
            for item in items:
                _walk(item, masked, depth + 1, rows)
            continue
        if tag == _PIXEL_DATA:
            rows.append(TagRow(tag_text, keyword, "<pixel data>", masked=hidden))
            continue
        if hidden:
            rows.append(TagRow(tag_text, keyword, "" if _is_blank(elem.value) else MASK, masked=True))
            continue
        rows.append(TagRow(tag_text, keyword, _value_text(elem.value)))


def _value_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (bytes, bytearray)):
        return f"<{len(value)} bytes>"
    if isinstance(value, (MultiValue, list, tuple)):
        text = "\\".join(_value_text(v) for v in value)
    else:
        text = str(value)
    if "\x1b" in text:
        text = _ISO2022_ESCAPE.sub("", text)
    return text if len(text) <= MAX_VALUE_CHARS else text[: MAX_VALUE_CHARS - 1] + "\u2026"


def _is_blank(value: Any) -> bool:
    return value is None or value == "" or value == b"" or (isinstance(value, MultiValue) and len(value) == 0)


def _name_of(tag: BaseTag) -> str:
    return keyword_for_tag(tag) or ("Private tag" if tag.is_private else "Unknown tag")


def _known(tag: int) -> bool:
    return bool(keyword_for_tag(tag))


def _values(value: Any) -> Iterator[Any]:
    if isinstance(value, (MultiValue, list, tuple)):
        yield from value
    elif value is not None and value != "":
        yield value


def _is_registered_uid(value: Any) -> bool:
    """The UID is in the DICOM registry (PS3.6 Annex A), so it names a kind, not an instance."""
    uid = UID(str(value))
    return uid.name != str(uid)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


# ------------------------------------------------------------------ de-identified copies
def _deidentify(ds: Dataset, uid_map: Callable[[str], str], offset: int | None) -> None:
    removed_overlays: set[int] = set()
    for tag in list(ds.keys()):
        tag = BaseTag(tag)
        elem = ds[tag]
        keyword, vr = elem.keyword, elem.VR
        if vr == "SQ":
            if _hidden_by_name(tag, keyword):
                del ds[tag]
            else:
                for item in elem.value or []:
                    _deidentify(item, uid_map, offset)
        elif keyword == "PatientBirthDate" or (
            keyword in _EMPTIED_IN_COPY and (offset is None or vr not in _DATE_VRS)
        ):
            elem.value = ""
        elif _hidden_by_name(tag, keyword):
            if keyword == "OverlayData":
                removed_overlays.add(tag.group)
            del ds[tag]
        elif vr in _DATE_VRS:
            if offset is None:
                del ds[tag]
            elif vr != "TM":
                elem.value = _shift(elem.value, vr, offset)
        elif vr in _HIDDEN_VRS:
            del ds[tag]
        elif vr == "UI" and not reader_may_see(elem):
            elem.value = _map_uids(elem.value, uid_map)
    for tag in [t for t in ds.keys() if BaseTag(t).group in removed_overlays]:
        del ds[tag]  # an overlay plane without its data is not a valid module


def _map_uids(value: Any, uid_map: Callable[[str], str]) -> Any:
    if isinstance(value, (MultiValue, list, tuple)):
        return [_map_uid(str(v), uid_map) for v in value]
    return _map_uid(str(value), uid_map) if value else value


def _map_uid(uid: str, uid_map: Callable[[str], str]) -> str:
    return uid if _is_registered_uid(uid) else uid_map(uid)


def _shift(value: Any, vr: str, offset: int) -> Any:
    """A DA or DT value (or several) moved by `offset` days; unparseable dates become empty."""
    if isinstance(value, (MultiValue, list, tuple)):
        return [_shift_one(str(v), vr, offset) for v in value]
    return _shift_one(str(value), vr, offset) if value else value


def _shift_one(text: str, vr: str, offset: int) -> str:
    text = text.strip()
    digits = text[:8]
    if len(digits) < 8 or not digits.isdigit():
        return ""
    try:
        moved = date(int(digits[:4]), int(digits[4:6]), int(digits[6:8])) + timedelta(days=offset)
    except (ValueError, OverflowError):
        return ""
    return moved.strftime("%Y%m%d") + (text[8:] if vr == "DT" else "")


def _all_elements(ds: Dataset) -> Iterator[DataElement]:
    for elem in ds:
        yield elem
        if elem.VR == "SQ":
            for item in elem.value or []:
                yield from _all_elements(item)


def _clean_descriptors(ds: Dataset, secrets: Sequence[str]) -> None:
    """Remove every identifying string (case-insensitively) from kept free text."""
    if not secrets:
        return
    pattern = re.compile("|".join(re.escape(s) for s in secrets), re.IGNORECASE)
    for elem in _all_elements(ds):
        if elem.VR not in _DESCRIPTOR_VRS or isinstance(elem.value, (bytes, bytearray)):
            continue
        if isinstance(elem.value, (MultiValue, list, tuple)):
            elem.value = [pattern.sub("", str(v)).strip() for v in elem.value]
        elif elem.value:
            elem.value = pattern.sub("", str(elem.value)).strip()


def _code_item(value: str, meaning: str) -> Dataset:
    item = Dataset()
    item.CodeValue = value
    item.CodingSchemeDesignator = "DCM"
    item.CodeMeaning = meaning
    return item
