"""The one de-identification policy (`ioreview.imaging.deid`) on pydicom's real test files:
what the tag browser shows a blinded reader, how headers are blanked, and de-identified copies."""
from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.data import get_charset_files, get_testdata_file
from pydicom.datadict import RepeatersDictionary, keyword_dict
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from ioreview.imaging import deid, header
from ioreview.imaging.deid import (
    MASK,
    DeidentificationRefused,
    TagRow,
    UnreadableHeader,
    blind_header,
    deidentify_dataset,
    reader_may_see,
    tag_rows,
)
from ioreview.imaging.header import IDENTIFYING_FIELDS, InstanceHeader
from ioreview.imaging.scan import scan_file

CT = get_testdata_file("CT_small.dcm")
MR = get_testdata_file("MR_small.dcm")
RTPLAN = get_testdata_file("rtplan.dcm")
GB18030 = get_charset_files("chrX2.dcm")[0]
SQ_CHARSET = get_charset_files("chrSQEncoding.dcm")[0]


def rows_by_keyword(rows: list[TagRow]) -> dict[str, TagRow]:
    return {r.keyword: r for r in rows}


def walk_values(ds: Dataset) -> Iterator[DataElement]:
    if getattr(ds, "file_meta", None):
        yield from ds.file_meta
    for elem in ds:
        yield elem
        if elem.VR == "SQ":
            for item in elem.value:
                yield from walk_values(item)


def secrets_of(path: str) -> list[str]:
    """Identifying values of a test file (names, IDs, dates, institution)."""
    ds = pydicom.dcmread(path)
    found = [str(ds.get(k, "") or "") for k in ("PatientName", "PatientID", "StudyDate",
                                                  "InstitutionName", "StudyInstanceUID")]
    manufacturer = str(ds.get("Manufacturer", ""))  # MR_small's institution is "TOSHIBA"
    return [s for s in found if len(s) >= 4 and s not in manufacturer]


# -- the policy ---------------------------------------------------------------------------------

@pytest.mark.parametrize(("keyword", "vr", "value", "visible"), [
    ("PatientName", "PN", "DOE^JANE", False),
    ("PatientID", "LO", "12345", False),
    ("PatientBirthDate", "DA", "19700101", False),
    ("OtherPatientIDsSequence", "SQ", [], False),
    ("PatientSex", "CS", "F", True),
    ("PatientAge", "AS", "054Y", True),
    ("PatientSize", "DS", "1.7", True),
    ("PatientWeight", "DS", "70", True),
    ("StudyDate", "DA", "20200101", False),
    ("AcquisitionDateTime", "DT", "20200101120000", False),
    ("StudyTime", "TM", "120000", False),
    ("StationAETitle", "AE", "CT01", False),
    ("InstitutionName", "LO", "General Hospital", False),
    ("AccessionNumber", "SH", "A1", False),
    ("AdmissionID", "LO", "ADM1", False),          # Visit group 0038
    ("InterpretationAuthor", "PN", "X", False),    # Results group 4008
    ("ClinicalTrialSubjectID", "LO", "S-001", False),
    ("PatientIdentityRemoved", "CS", "YES", True),
    ("StudyInstanceUID", "UI", "1.2.3.4", False),
    ("SeriesInstanceUID", "UI", "1.2.3.5", False),
    ("SOPInstanceUID", "UI", "1.2.3.6", False),
    ("FrameOfReferenceUID", "UI", "1.2.3.7", False),
    ("MediaStorageSOPInstanceUID", "UI", "1.2.3.6", False),
    ("ReferencedSOPInstanceUID", "UI", "1.2.3.8", False),
    ("SOPClassUID", "UI", "1.2.840.10008.5.1.4.1.1.2", True),
    ("TransferSyntaxUID", "UI", "1.2.840.10008.1.2.1", True),
    ("ReferencedSOPClassUID", "UI", "1.2.840.10008.5.1.4.1.1.2", True),
    ("Modality", "CS", "CT", True),
    ("StudyDescription", "LO", "CT chest", True),
    ("SeriesDescription", "LO", "Axial 5mm", True),
    ("WindowCenter", "DS", "40", True),
])
def test_reader_may_see_follows_the_basic_profile(keyword, vr, value, visible):
    assert reader_may_see(DataElement(keyword_dict[keyword], vr, value)) is visible


def test_private_unknown_and_group_length_tags():
    assert not reader_may_see(DataElement(0x00091001, "LO", "GE_GENESIS_FF"))
    assert not reader_may_see(DataElement(0x00090010, "LO", "GEMS_IDEN_01"))
    assert not reader_may_see(DataElement(0x00080077, "LO", "not in the dictionary"))
    assert reader_may_see(DataElement(0x00080000, "UL", 42))
    assert not reader_may_see(DataElement(0x60004000, "LT", "overlay note"))
    assert not reader_may_see(DataElement(0x50000010, "US", 3))  # curve group


def test_every_policy_keyword_is_a_dicom_keyword():
    repeaters = {entry[4] for entry in RepeatersDictionary.values()}
    named = (deid._HIDDEN_KEYWORDS | deid._KIND_UIDS | deid._EMPTIED_IN_COPY
             | deid._KEPT_IN_HIDDEN_GROUPS)
    assert sorted(k for k in named if k not in keyword_dict and k not in repeaters) == []


# -- blind_header -------------------------------------------------------------------------------

def test_blind_header_blanks_identity_and_dates_keeps_pixels_reachable():
    h = scan_file(CT, with_sha256=False)
    assert h.patient_name and h.study_date and h.institution_name
    blinded = blind_header(h)
    assert all(getattr(blinded, f) == "" for f in IDENTIFYING_FIELDS)
    assert (blinded.path, blinded.sop_instance_uid, blinded.pixel_data_offset) == (
        h.path, h.sop_instance_uid, h.pixel_data_offset)
    assert blinded.modality == "CT" and blinded.patient_sex == h.patient_sex
    assert deid.IDENTIFYING_FIELDS is header.IDENTIFYING_FIELDS
    assert IDENTIFYING_FIELDS <= set(InstanceHeader.field_names())
    # UIDs stay for the viewer, and this file's UIDs embed the acquisition date: only
    # de-identified reader copies (UIDs replaced) hide that; every other field is clean
    rest = dataclasses.replace(blinded, path="", sop_instance_uid="", study_instance_uid="",
                               series_instance_uid="", frame_of_reference_uid="")
    assert not any(s in repr(rest) for s in ("CompressedSamples", "1CT1", "20040119", "JFK IMAGING"))


# -- tag rows -----------------------------------------------------------------------------------

def test_masked_rows_of_a_ct_hide_identity_keep_the_image_description():
    rows = tag_rows(CT, masked=True)
    by = rows_by_keyword(rows)
    assert rows[0].tag == "(0002,0000)"  # file meta first
    for keyword in ("PatientName", "PatientID", "StudyDate", "StudyTime", "InstitutionName",
                    "StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID",
                    "FrameOfReferenceUID", "MediaStorageSOPInstanceUID", "InstanceCreatorUID"):
        assert by[keyword].value == MASK and by[keyword].masked, keyword
    assert by["OtherPatientIDsSequence"] == TagRow("(0010,1002)", "OtherPatientIDsSequence", MASK, masked=True)
    assert not any(r.keyword.startswith(">") for r in rows)  # the hidden sequence is not opened
    assert by["PatientSex"].value == "O" and not by["PatientSex"].masked
    assert by["Modality"].value == "CT"
    assert by["SOPClassUID"].value == "1.2.840.10008.5.1.4.1.1.2"
    assert by["TransferSyntaxUID"].value == "1.2.840.10008.1.2.1"
    assert by["ImageType"].value == "ORIGINAL\\PRIMARY\\AXIAL"
    assert by["FileMetaInformationVersion"].value == "<2 bytes>"
    private = [r for r in rows if r.tag.startswith("(0009,") or r.tag.startswith("(0043,")]
    assert private and all(r.masked and r.value in (MASK, "") for r in private)
    assert by["AccessionNumber"].value == ""  # nothing to hide: shown empty, still flagged
    assert by["AccessionNumber"].masked
    shown = " ".join(r.value for r in rows)
    assert not any(s in shown for s in secrets_of(CT))


def test_unmasked_rows_show_values_and_nested_items():
    rows = tag_rows(CT, masked=False)
    by = rows_by_keyword(rows)
    assert by["PatientName"].value == "CompressedSamples^CT1" and not by["PatientName"].masked
    seq = by["OtherPatientIDsSequence"]
    assert seq.items == 2 and seq.value == "<2 item(s)>"
    nested = rows[rows.index(seq) + 1:rows.index(seq) + 5]
    assert [r.keyword for r in nested] == [">PatientID", ">TypeOfPatientID"] * 2
    assert nested[0].depth == 1 and nested[0].name == "PatientID"


def test_deeply_nested_sequences_keep_their_depth():
    rows = tag_rows(RTPLAN, masked=False)
    by_depth = {r.depth for r in rows}
    assert {0, 1, 2} <= by_depth
    beams = rows_by_keyword(rows)["BeamSequence"]
    assert beams.items == len(pydicom.dcmread(RTPLAN).BeamSequence)
    # an item row always follows a row one level up or at its own level
    for before, row in zip(rows, rows[1:]):
        assert row.depth <= before.depth + 1
    masked = tag_rows(RTPLAN, masked=True)
    assert any(r.keyword.startswith(">>") for r in masked)  # visible sequences stay open


def test_pixel_data_binary_and_long_values():
    ds = pydicom.dcmread(CT)  # with pixels
    ds.ImageComments = "x" * 500
    ds.add_new(0x00291010, "OB", b"\x00" * 17)  # private OB
    rows = rows_by_keyword(tag_rows(ds, masked=False))
    assert rows["PixelData"].value == "<pixel data>"
    assert rows["ImageComments"].value == "x" * 199 + "\u2026"
    assert len(rows["ImageComments"].value) == deid.MAX_VALUE_CHARS
    binary = [r for r in tag_rows(ds, masked=False) if r.tag == "(0029,1010)"]
    assert binary[0].value == "<17 bytes>"
    assert rows_by_keyword(tag_rows(ds, masked=True))["ImageComments"].value == MASK


def test_names_decode_by_the_specific_character_set(tmp_path: Path):
    gb = rows_by_keyword(tag_rows(GB18030, masked=False))
    assert gb["SpecificCharacterSet"].value == "GB18030"
    assert gb["PatientName"].value == "Wang^XiaoDong=王^小东"
    # ISO 2022 IR 58: GB 2312 designated by ESC $ ) A before each fragment (PS3.5 K.2)
    esc = b"\x1b$)A"
    ds = Dataset()
    ds.SpecificCharacterSet = ["", "ISO 2022 IR 58"]
    ds.add(DataElement(0x00100010, "PN", b"Zhang^XiaoDong=" + esc + "张".encode("gb2312") + b"^"
                       + esc + "小东".encode("gb2312") + b"="))
    ds.add(DataElement(0x00081030, "LO", esc + "胸部".encode("gb2312") + b" CT "))
    ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    path = tmp_path / "ir58.dcm"
    ds.save_as(path, enforce_file_format=True)
    assert path.read_bytes().count(esc) == 3
    rows = rows_by_keyword(tag_rows(path, masked=False))
    assert rows["PatientName"].value == "Zhang^XiaoDong=张^小东"
    assert rows["StudyDescription"].value == "胸部 CT"
    assert rows_by_keyword(tag_rows(path, masked=True))["StudyDescription"].value == "胸部 CT"


def test_a_sequence_item_decodes_by_its_own_character_set():
    rows = tag_rows(SQ_CHARSET, masked=False)
    by = rows_by_keyword(rows)
    assert by["RequestedProcedureCodeSequence"].items == 1
    assert by[">PatientName"].value == "ﾔﾏﾀﾞ^ﾀﾛｳ=山田^太郎=やまだ^たろう"
    masked = rows_by_keyword(tag_rows(SQ_CHARSET, masked=True))
    assert masked[">PatientName"].value == MASK
    assert masked["RequestingPhysician"].value == MASK
    assert masked[">CodeValue"].value == "CodeValue"


def test_unreadable_files_raise_a_named_error(tmp_path: Path):
    text = tmp_path / "notes.txt"
    text.write_text("not dicom at all\n" * 3)
    for path, reason in ((text, "no DICOM elements"), (tmp_path / "missing.dcm", "no such file"),
                         (tmp_path, "folder")):
        with pytest.raises(UnreadableHeader) as caught:
            tag_rows(path, masked=True)
        assert isinstance(caught.value, ValueError)
        assert str(path) in str(caught.value) and reason in str(caught.value)
        assert caught.value.path == str(path)


# -- de-identified copies -----------------------------------------------------------------------

class UidMap:
    """A deterministic UID map that records what it replaced."""

    def __init__(self) -> None:
        self.seen: dict[str, str] = {}

    def __call__(self, uid: str) -> str:
        return self.seen.setdefault(uid, f"2.25.{len(self.seen) + 1}")


@pytest.mark.parametrize("path", [CT, MR, GB18030], ids=["CT_small", "MR_small", "chrX2"])
@pytest.mark.parametrize("offset", [None, 30], ids=["dates-removed", "dates-shifted"])
def test_deidentified_copy_keeps_pixels_and_nothing_identifying(path, offset, tmp_path: Path):
    original = pydicom.dcmread(path)
    before = pydicom.dcmread(path)
    uids = UidMap()
    out = deidentify_dataset(original, uid_map=uids, date_offset_days=offset)

    assert original == before  # the input is not changed
    assert out.PixelData == original.PixelData
    assert np.array_equal(out.pixel_array, original.pixel_array)
    assert out.PatientName == "" and out.PatientID == "" and out.get("PatientBirthDate", "") == ""
    assert "InstitutionName" not in out and "OtherPatientIDsSequence" not in out
    assert not any(e.tag.is_private for e in walk_values(out))
    assert out.PatientIdentityRemoved == "YES" and out.DeidentificationMethod
    codes = [item.CodeValue for item in out.DeidentificationMethodCodeSequence]
    assert codes[:2] == ["113100", "113108"]
    assert out.SOPClassUID == original.SOPClassUID
    assert out.file_meta.TransferSyntaxUID == original.file_meta.TransferSyntaxUID
    for keyword in ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID"):
        assert out[keyword].value == uids.seen[original[keyword].value]
    assert out.file_meta.MediaStorageSOPInstanceUID == out.SOPInstanceUID
    assert out.PatientSex == original.PatientSex
    dates = [e for e in walk_values(out) if e.VR in ("DA", "DT") and e.value]
    if offset is None:
        assert dates == [] and out.StudyDate == ""
        assert not any(e.VR == "TM" and e.value for e in walk_values(out))
        assert out.LongitudinalTemporalInformationModified == "REMOVED"
    else:
        assert codes[2] == "113107" and out.LongitudinalTemporalInformationModified == "MODIFIED"
        if original.get("StudyDate"):
            assert out.StudyDate != original.StudyDate and len(out.StudyDate) == 8
    text = " ".join(str(e.value) for e in walk_values(out) if e.VR != "SQ" and not isinstance(e.value, bytes))
    assert not any(s in text for s in secrets_of(path))
    # a copy is a valid file that reads back, and the reader's view of it hides the same things
    out.save_as(tmp_path / "copy.dcm", enforce_file_format=True)
    again = pydicom.dcmread(tmp_path / "copy.dcm")
    assert np.array_equal(again.pixel_array, original.pixel_array)
    assert rows_by_keyword(tag_rows(again, masked=True))["StudyInstanceUID"].value == MASK


def test_dates_shift_by_the_offset_and_times_stay():
    ds = pydicom.dcmread(CT)
    out = deidentify_dataset(ds, uid_map=UidMap(), date_offset_days=-19)
    assert (ds.StudyDate, out.StudyDate) == ("20040119", "20031231")
    assert out.StudyTime == ds.StudyTime
    ds.AcquisitionDateTime = "20040119120000.5+0100"
    ds.InstanceCoercionDateTime = "2004"  # a year alone cannot be shifted by days
    out = deidentify_dataset(ds, uid_map=UidMap(), date_offset_days=1)
    assert out.AcquisitionDateTime == "20040120120000.5+0100"
    assert out.InstanceCoercionDateTime == ""


def test_references_in_sequences_map_like_the_instances_they_name():
    ct = pydicom.dcmread(CT)
    item = Dataset()
    item.ReferencedSOPClassUID = ct.SOPClassUID
    item.ReferencedSOPInstanceUID = ct.SOPInstanceUID
    ct.ReferencedImageSequence = Sequence([item])
    req = Dataset()
    req.RequestedProcedureID = "RP-7"
    ct.RequestAttributesSequence = Sequence([req])
    uids = UidMap()
    out = deidentify_dataset(ct, uid_map=uids, date_offset_days=None)
    ref = out.ReferencedImageSequence[0]
    assert ref.ReferencedSOPInstanceUID == out.SOPInstanceUID == uids(ct.SOPInstanceUID)
    assert ref.ReferencedSOPClassUID == ct.SOPClassUID
    assert "RequestAttributesSequence" not in out


def test_overlays_go_whole_and_burned_in_text_is_refused():
    ds = pydicom.dcmread(MR)
    ds.add_new(0x60000010, "US", 4)         # OverlayRows
    ds.add_new(0x60000011, "US", 4)         # OverlayColumns
    ds.add_new(0x60003000, "OW", b"\x00" * 2)
    out = deidentify_dataset(ds, uid_map=UidMap(), date_offset_days=None)
    assert not any(e.tag.group == 0x6000 for e in out)
    ds.BurnedInAnnotation = "YES"
    with pytest.raises(DeidentificationRefused, match="Burned In Annotation"):
        deidentify_dataset(ds, uid_map=UidMap(), date_offset_days=None)
    checked = deidentify_dataset(ds, uid_map=UidMap(), date_offset_days=None, allow_burned_in=True)
    assert checked.PatientName == ""
