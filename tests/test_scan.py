"""The header scanner agrees with pydicom on pydicom's own test files and rejects bad files."""
from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.data import get_charset_files, get_testdata_file, get_testdata_files

from ioreview.imaging.header import InstanceHeader
from ioreview.imaging.scan import (DICOMDIR_REASON, ScanError, dicomdir_referenced_files,
                                   is_dicomdir, scan_file)

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

#: files pydicom reads although they are cut short; the scanner rejects them as truncated
TRUNCATED = {"MR_truncated.dcm": "(7FE0,0010)", "rtplan_truncated.dcm": "(300A,00B0)"}


def _files() -> list[str]:
    return sorted(f for f in get_testdata_files() + get_charset_files() if os.path.isfile(f))


def _read(path: str) -> pydicom.Dataset | None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return pydicom.dcmread(path, stop_before_pixels=True)
        except Exception:  # noqa: BLE001 - "pydicom can read it" is the selection criterion
            return None


READABLE = [f for f in _files() if _read(f) is not None and "SOPInstanceUID" in _read(f)
            and "StudyInstanceUID" in _read(f) and "SeriesInstanceUID" in _read(f)]


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        return "\\".join(str(v).strip(" \0") for v in value)
    return str(value).strip(" \0")


def _floats(value: object) -> tuple[float, ...] | None:
    if value is None or value == "":
        return None
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        return tuple(float(v) for v in value)
    return (float(value),)


def _int(value: object) -> int | None:
    """pydicom's IS/US value as int; None when empty or not a valid integer string."""
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        return None


TEXT_FIELDS = {
    "sop_instance_uid": "SOPInstanceUID", "sop_class_uid": "SOPClassUID",
    "study_instance_uid": "StudyInstanceUID", "series_instance_uid": "SeriesInstanceUID",
    "patient_name": "PatientName", "patient_id": "PatientID", "patient_sex": "PatientSex",
    "patient_birth_date": "PatientBirthDate", "study_date": "StudyDate",
    "study_time": "StudyTime", "study_description": "StudyDescription",
    "series_description": "SeriesDescription", "accession_number": "AccessionNumber",
    "institution_name": "InstitutionName", "referring_physician_name": "ReferringPhysicianName",
    "modality": "Modality", "image_type": "ImageType", "body_part_examined": "BodyPartExamined",
    "frame_of_reference_uid": "FrameOfReferenceUID",
    "photometric_interpretation": "PhotometricInterpretation",
    "specific_character_set": "SpecificCharacterSet", "view_position": "ViewPosition",
}
INT_FIELDS = {"rows": "Rows", "columns": "Columns", "bits_allocated": "BitsAllocated",
              "bits_stored": "BitsStored", "pixel_representation": "PixelRepresentation",
              "samples_per_pixel": "SamplesPerPixel", "series_number": "SeriesNumber",
              "instance_number": "InstanceNumber"}
TUPLE_FIELDS = {"pixel_spacing": ("PixelSpacing", 2), "image_position": ("ImagePositionPatient", 3),
                "image_orientation": ("ImageOrientationPatient", 6),
                "imager_pixel_spacing": ("ImagerPixelSpacing", 2)}


@pytest.mark.parametrize("path", READABLE, ids=lambda p: Path(p).name)
def test_scanner_agrees_with_pydicom(path: str) -> None:
    ds = _read(path)
    assert ds is not None
    name = Path(path).name
    if name in TRUNCATED:
        with pytest.raises(ScanError, match="truncated"):
            scan_file(path)
        return
    h = scan_file(path, with_sha256=False)
    assert isinstance(h, InstanceHeader)
    for field, keyword in TEXT_FIELDS.items():
        assert getattr(h, field) == _text(ds.get(keyword)), (field, name)
    for field, keyword in INT_FIELDS.items():
        assert getattr(h, field) == _int(ds.get(keyword)), (field, name)
    for field, (keyword, n) in TUPLE_FIELDS.items():
        expected = _floats(ds.get(keyword))
        if expected is not None and len(expected) != n:
            expected = None
        assert getattr(h, field) == expected, (field, name)
    items = ds.get("ViewCodeSequence")
    assert h.view_code_meaning == (_text(items[0].get("CodeMeaning")) if items else ""), name
    frames = _int(ds.get("NumberOfFrames"))
    assert h.number_of_frames == (frames if frames and frames > 0 else 1)
    ts = ds.file_meta.get("TransferSyntaxUID") if "TransferSyntaxUID" in ds.file_meta else None
    if ts is not None:
        assert h.transfer_syntax_uid == ts
    assert h.file_size == os.path.getsize(path)


@pytest.mark.parametrize("path", sorted(f for f in get_charset_files() if f.endswith(".dcm")),
                         ids=lambda p: Path(p).name)
def test_charset_person_names_match_pydicom(path: str) -> None:
    ds = _read(path)
    assert ds is not None
    try:
        h = scan_file(path)
    except ScanError as exc:
        assert "missing" in exc.reason
        return
    assert h.patient_name == _text(ds.get("PatientName"))


@pytest.mark.parametrize("name, expected", [
    ("chrH31.dcm", "Yamada^Tarou=山田^太郎=やまだ^たろう"),
    ("chrX1.dcm", "Wang^XiaoDong=王^小東"),
    ("chrX2.dcm", "Wang^XiaoDong=王^小东"),
    ("chrKoreanMulti.dcm", "김희중"),
])
def test_multibyte_names(name: str, expected: str) -> None:
    assert scan_file(get_charset_files(name)[0]).patient_name == expected


def _write(path: Path, charset: str | list[str], name: str | bytes, text: str | bytes) -> Path:
    from pydicom.dataelem import DataElement
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, SecondaryCaptureImageStorage, generate_uid

    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
    ds.SpecificCharacterSet = charset
    ds.SOPClassUID = SecondaryCaptureImageStorage
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.add(DataElement(0x00100010, "PN", name))
    ds.add(DataElement(0x00081030, "LO", text))
    ds.save_as(path, enforce_file_format=True)
    return path


@pytest.mark.parametrize("charset, name, text", [
    ("GB18030", "王^小东", "胫骨 CT"),
    ("GBK", "王^小东", "胫骨 CT"),
    ("ISO_IR 192", "Buc^Jérôme=ЛЮКС^Ψ", "胫骨 CT"),
])
def test_gb18030_gbk_utf8_round_trip(tmp_path: Path, charset: str, name: str, text: str
                                     ) -> None:
    path = _write(tmp_path / "x.dcm", charset, name, text)
    ds = pydicom.dcmread(path)
    h = scan_file(path)
    assert h.patient_name == name == str(ds.PatientName)
    assert h.study_description == text == ds.StudyDescription


def test_iso_2022_ir_58_escape_sequences(tmp_path: Path) -> None:
    """PS3.5 K.2: GB 2312 designated into G1 by ESC $ ) A, reset at '^' and '='."""
    raw = b"Wang^XiaoDong=\x1b$)A\xcd\xf5^\x1b$)A\xd0\xa1\xb6\xab"
    path = _write(tmp_path / "ir58.dcm", ["", "ISO 2022 IR 58"], raw, b"\x1b$)A\xd0\xa1\xb6\xab")
    h = scan_file(path)
    assert h.patient_name == "Wang^XiaoDong=王^小东"
    assert h.study_description == "小东"
    # pydicom 3.0.2 decodes the GB 2312 bytes right but keeps the escape sequence
    assert str(pydicom.dcmread(path).PatientName).replace("\x1b$)A", "") == h.patient_name


@pytest.mark.parametrize("name, big_endian", [("CT_small.dcm", False), ("MR_small.dcm", False),
                                              ("MR_small_bigendian.dcm", True),
                                              ("SC_rgb.dcm", False)])
def test_pixel_offset_points_at_pixels(name: str, big_endian: bool) -> None:
    path = get_testdata_file(name)
    h = scan_file(path)
    ds = pydicom.dcmread(path)
    arr = ds.pixel_array
    assert h.pixel_data_offset is not None and h.pixel_data_length == len(ds.PixelData)
    with open(path, "rb") as f:
        f.seek(h.pixel_data_offset)
        raw = f.read(h.pixel_data_length)
    dtype = arr.dtype.newbyteorder(">" if big_endian else "<")
    np.testing.assert_array_equal(np.frombuffer(raw, dtype)[:arr.size].reshape(arr.shape), arr)


def test_encapsulated_pixel_data_has_no_offset() -> None:
    h = scan_file(get_testdata_file("JPEG2000.dcm"))
    assert h.pixel_data_offset is None and h.pixel_data_length is None
    assert h.transfer_syntax_uid == "1.2.840.10008.1.2.4.91"


def test_deflated_goes_through_pydicom() -> None:
    path = get_testdata_file("image_dfl.dcm")
    h = scan_file(path)
    assert h.sop_instance_uid == pydicom.dcmread(path).SOPInstanceUID
    assert h.pixel_data_offset is None


def test_sha256_of_whole_file() -> None:
    import hashlib

    path = get_testdata_file("CT_small.dcm")
    assert scan_file(path).sha256 == hashlib.sha256(Path(path).read_bytes()).hexdigest()
    assert scan_file(path, with_sha256=False).sha256 == ""


def _reason(path: Path) -> str:
    with pytest.raises(ScanError) as info:
        scan_file(path)
    assert info.value.reason and str(path) in str(info.value)
    return info.value.reason


def test_bad_files_give_reasons(tmp_path: Path) -> None:
    ct = Path(get_testdata_file("CT_small.dcm")).read_bytes()
    cases = {
        "empty.dcm": (b"", "empty file"),
        "garbage.dcm": (os.urandom(4000), "not a DICOM file"),
        "text.txt": (b"hello world\n" * 100, "not a DICOM file"),
        "preamble_only.dcm": (ct[:132], "truncated"),
        "cut_header.dcm": (ct[:700], "truncated file (ends inside element"),
        "cut_pixels.dcm": (ct[:-1000], "truncated file (ends inside element (7FE0,0010))"),
    }
    for name, (data, expected) in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        assert expected in _reason(path), name
    assert _reason(tmp_path / "missing.dcm") == "unreadable: file not found"
    assert _reason(tmp_path).startswith("unreadable")


def test_every_truncation_point_is_a_scan_error(tmp_path: Path) -> None:
    ct = Path(get_testdata_file("CT_small.dcm")).read_bytes()
    path = tmp_path / "cut.dcm"
    for cut in list(range(1, 1200, 7)) + list(range(6000, 6400, 13)):
        path.write_bytes(ct[:cut])
        try:
            h = scan_file(path)
        except ScanError:
            continue
        # a cut exactly between two elements is a well-formed file without pixel data
        assert h.pixel_data_offset is None and h.file_size == cut


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_permission_denied(tmp_path: Path) -> None:
    path = tmp_path / "locked.dcm"
    path.write_bytes(Path(get_testdata_file("CT_small.dcm")).read_bytes())
    path.chmod(0)
    assert _reason(path) == "unreadable: permission denied"


def test_missing_uids() -> None:
    reason = _reason(Path(get_testdata_file("no_meta_group_length.dcm")))
    assert reason.startswith("missing SOP Instance UID")


def test_dicomdir() -> None:
    path = Path(get_testdata_file("DICOMDIR"))
    assert is_dicomdir(path)
    assert not is_dicomdir(get_testdata_file("CT_small.dcm"))
    assert _reason(path) == DICOMDIR_REASON
    refs = dicomdir_referenced_files(path)
    assert len(refs) == 31 and all(p.is_file() for p in refs)
    assert all(path.parent in p.parents for p in refs)


@pytest.mark.parametrize("charset, name, text", [
    ("ISO_IR 100", "Buc^Jérôme", "Genou gauche"),
    ("ISO_IR 192", "王^小东=Wang^Xiaodong", "山西白求恩医院\\胫骨"),
])
def test_plain_charsets_decode_like_pydicom_without_importing_it(tmp_path: Path, charset: str,
                                                                name: str, text: str) -> None:
    """UTF-8 and Latin-1 text is decoded by Python's codecs (no pydicom import at start-up),
    exactly as pydicom decodes it; invalid bytes still go through pydicom's decoding."""
    import subprocess
    import sys

    path = _write(tmp_path / "x.dcm", charset, name, text)
    ds = pydicom.dcmread(path)
    h = scan_file(path)
    assert h.patient_name == str(ds.PatientName) == name
    shown = ds.StudyDescription
    assert h.study_description == ("\\".join(shown) if "\\" in text else shown)
    probe = ("import sys; from ioreview.imaging.scan import scan_file; "
             f"h = scan_file({str(path)!r}); print(h.patient_name); "
             "print('pydicom' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True).stdout.splitlines()
    assert out == [name, "False"]
    bad = _write(tmp_path / "bad.dcm", "ISO_IR 192", name, b"\xff\xfe broken")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = pydicom.dcmread(bad).StudyDescription
    assert scan_file(bad).study_description == expected.strip()


def test_test_files_with_a_view_position_are_compared() -> None:
    """pydicom's and pydicom-data's radiographs carry View Position (0018,5101): the comparison
    above covers the new field on real files, not only on files without it."""
    views = {Path(f).name: scan_file(f, with_sha256=False).view_position for f in READABLE
             if Path(f).name not in TRUNCATED and "ViewPosition" in _read(f)}
    assert views.get("RG1_UNCI.dcm") == "PA" and views.get("RG3_UNCI.dcm") == "AP"
    assert {"AP", "PA", "LL"} <= set(views.values()), views


def _write_view(path: Path, syntax: str, *, view: str | bytes = "AP",
                meaning: str | None = "antero-posterior", charset: str = "ISO_IR 100",
                undefined_sequence: bool = False, undefined_item: bool = False,
                nested: bool = False, items: int = 1, as_un: bool = False) -> Path:
    """A DX header with View Position and a View Code Sequence encoded as asked."""
    from pydicom.dataelem import DataElement
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.filebase import DicomBytesIO
    from pydicom.filewriter import write_dataset
    from pydicom.uid import generate_uid

    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = syntax
    ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.1.1"
    ds.SpecificCharacterSet = charset
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.Modality = "DX"
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    seq = []
    for n in range(items):
        item = Dataset()
        item.CodeValue, item.CodingSchemeDesignator = f"R-1020{n}", "SRT"
        if nested:  # a nested sequence of undefined length before the Code Meaning
            inner = Dataset()
            inner.CodeValue = "X"
            item.add_new(0x00080051, "SQ", [inner])
            item[0x00080051].is_undefined_length = True
            inner.is_undefined_length_sequence_item = True
        if meaning is not None:
            item.CodeMeaning = meaning if n == 0 else f"other {n}"
        item.is_undefined_length_sequence_item = undefined_item
        seq.append(item)
    ds.ViewCodeSequence = seq
    ds["ViewCodeSequence"].is_undefined_length = undefined_sequence
    ds.add(DataElement(0x00185101, "CS", view))
    ds.InstanceNumber = 1
    raw = b""
    if as_un:  # (0054,0220) as UN: its items in Implicit VR Little Endian (PS3.5 6.2.2)
        fp = DicomBytesIO()
        fp.is_little_endian, fp.is_implicit_VR = True, True
        alone = Dataset()
        alone.add(ds[0x00540220])
        write_dataset(fp, alone)
        length = b"\xff\xff\xff\xff" if undefined_sequence else fp.getvalue()[4:8]
        raw = b"\x54\x00\x20\x02UN\x00\x00" + length + fp.getvalue()[8:]
        del ds[0x00540220]  # the last element: appended to the file as it is
    ds.save_as(path, enforce_file_format=True)
    with open(path, "ab") as f:
        f.write(raw)
    return path


@pytest.mark.parametrize("syntax", ["1.2.840.10008.1.2", "1.2.840.10008.1.2.1",
                                    "1.2.840.10008.1.2.2"], ids=["implicit", "explicit", "big"])
@pytest.mark.parametrize("options", [
    {}, {"undefined_sequence": True}, {"undefined_item": True},
    {"undefined_sequence": True, "undefined_item": True, "nested": True}, {"nested": True},
    {"items": 3}, {"items": 0}, {"meaning": None}, {"view": ""},
    {"view": "LATERAL", "meaning": "left lateral"},
], ids=lambda o: ",".join(f"{k}={v}" for k, v in o.items()) or "plain")
def test_view_position_and_view_code_like_pydicom(tmp_path: Path, syntax: str, options: dict
                                                  ) -> None:
    """The scanner's View Position and first View Code Meaning equal pydicom's, however the
    sequence and its items are encoded (defined or undefined length, nested sequences)."""
    from ioreview.imaging.scan import header_from_dataset

    path = _write_view(tmp_path / "dx.dcm", syntax, **options)
    ds = pydicom.dcmread(path)
    h = scan_file(path)
    items = ds.get("ViewCodeSequence")
    meaning = _text(items[0].get("CodeMeaning")) if items else ""
    assert h.view_position == _text(ds.get("ViewPosition"))
    assert h.view_code_meaning == meaning
    assert options.get("items") == 0 or options.get("meaning", "") is None or meaning
    assert header_from_dataset(ds, path).view_code_meaning == meaning
    assert h.pixel_data_offset is None and h.instance_number == 1  # the walk went on after it


@pytest.mark.parametrize("undefined", [False, True])
def test_view_code_sequence_as_un(tmp_path: Path, undefined: bool) -> None:
    path = _write_view(tmp_path / "un.dcm", "1.2.840.10008.1.2.1", as_un=True,
                       undefined_sequence=undefined, undefined_item=undefined)
    assert b"\x54\x00\x20\x02UN" in path.read_bytes()
    h = scan_file(path)
    assert h.view_code_meaning == "antero-posterior" and h.view_position == "AP"
    assert h.instance_number == 1


def test_chinese_view_texts(tmp_path: Path) -> None:
    """View texts in a local language are decoded by the Specific Character Set (PS3.5 6.1);
    View Position is CS, but modalities in the wild write GB18030 text into it."""
    from ioreview.imaging.scan import header_from_dataset

    path = _write_view(tmp_path / "zh.dcm", "1.2.840.10008.1.2.1", charset="GB18030",
                       view="ABCD", meaning="前后位")
    data = path.read_bytes()
    assert data.count(b"ABCD") == 1 and len("正位".encode("gb18030")) == 4
    path.write_bytes(data.replace(b"ABCD", "正位".encode("gb18030")))
    h = scan_file(path)
    assert h.view_code_meaning == "前后位" and h.view_position == "正位"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = pydicom.dcmread(path)
    assert header_from_dataset(ds, path).view_position == "正位"


def test_a_damaged_view_code_sequence_is_left_out(tmp_path: Path) -> None:
    """A View Code Sequence whose item is damaged gives no code meaning; the rest of the
    header is read as before."""
    path = _write_view(tmp_path / "bad.dcm", "1.2.840.10008.1.2.1")
    data = path.read_bytes()
    at = data.index(b"\xfe\xff\x00\xe0")  # the first item's tag
    path.write_bytes(data[:at] + b"\x00\x00\x00\x00" + data[at + 4:])
    h = scan_file(path)
    assert h.view_code_meaning == "" and h.view_position == "AP" and h.instance_number == 1
