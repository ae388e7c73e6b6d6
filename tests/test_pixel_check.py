"""Images whose pixel description cannot be decoded consistently are refused at import with a
reason in words, and rendering them says the same instead of failing with a traceback.

Each case damages a real file (pydicom's test files) the way a broken exporter or a hostile
tester does: the 15 kinds found by hand, and their like.
"""
from __future__ import annotations

import io
import warnings
from collections.abc import Callable
from pathlib import Path

import pydicom
import pytest
from pydicom import config as pydicom_config
from pydicom.data import get_testdata_file, get_testdata_files

from dicom_fuzz import replace_transfer_syntax
from ioreview.imaging.decode import UnsupportedImage, read_dataset
from ioreview.imaging.pixel_check import pixel_description_of, pixel_problems
from ioreview.imaging.render import render_frame
from ioreview.imaging.scan import scan
from ioreview.importing import import_paths
from ioreview.store import SQLiteStore


def _write(ds: pydicom.Dataset) -> bytes:
    buf = io.BytesIO()
    saved = pydicom_config.settings.writing_validation_mode
    pydicom_config.settings.writing_validation_mode = pydicom_config.IGNORE
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds.save_as(buf, enforce_file_format=False)
    finally:
        pydicom_config.settings.writing_validation_mode = saved
    return buf.getvalue()


def _edited(name: str, edit: Callable[[pydicom.Dataset], None]) -> Callable[[], bytes]:
    def make() -> bytes:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = pydicom.dcmread(get_testdata_file(name))
            saved = pydicom_config.settings.writing_validation_mode
            pydicom_config.settings.writing_validation_mode = pydicom_config.IGNORE
            try:
                edit(ds)
            finally:
                pydicom_config.settings.writing_validation_mode = saved
        return _write(ds)
    return make


def _set(**values: object) -> Callable[[pydicom.Dataset], None]:
    def edit(ds: pydicom.Dataset) -> None:
        for keyword, value in values.items():
            setattr(ds, keyword, value)
    return edit


def _no_pixels(ds: pydicom.Dataset) -> None:
    del ds.PixelData


def _rle_over_raw() -> bytes:
    out = replace_transfer_syntax(Path(get_testdata_file("CT_small.dcm")).read_bytes(),
                                  "1.2.840.10008.1.2.5")
    assert out is not None
    return out


def _undefined_length_native() -> bytes:
    data = Path(get_testdata_file("CT_small.dcm")).read_bytes()
    pos = data.rfind(b"\xe0\x7f\x10\x00OW\x00\x00")
    return data[:pos + 8] + b"\xff\xff\xff\xff" + data[pos + 12:] + b"\xfe\xff\xdd\xe0\0\0\0\0"


def _jp2_box_of_length_zero() -> bytes:
    """A JP2-wrapped frame whose second box claims length 0 (pydicom's box walk loops on it)."""
    data = Path(get_testdata_file("GDCMJ2K_TextGBR.dcm")).read_bytes()
    ftyp = data.index(b"ftypjp2 ") - 4
    second = ftyp + int.from_bytes(data[ftyp:ftyp + 4], "big")
    return data[:second] + bytes(4) + data[second + 4:]


CASES: dict[str, tuple[Callable[[], bytes], str]] = {
    # the 15 kinds
    "Rows 0": (_edited("CT_small.dcm", _set(Rows=0)), "Rows is 0"),
    "Columns 0": (_edited("CT_small.dcm", _set(Columns=0)), "Columns is 0"),
    "BitsAllocated 0": (_edited("CT_small.dcm", _set(BitsAllocated=0)), "Bits Allocated 0"),
    "BitsAllocated 13": (_edited("CT_small.dcm", _set(BitsAllocated=13)), "Bits Allocated 13"),
    "BitsStored 40": (_edited("CT_small.dcm", _set(BitsStored=40)),
                      "Bits Stored 40 is not between 1 and Bits Allocated (16)"),
    "NumberOfFrames 2^31-1": (_edited("CT_small.dcm", _set(NumberOfFrames="2147483647")),
                              "fewer than the"),
    "NumberOfFrames -5": (_edited("CT_small.dcm", _set(NumberOfFrames="-5")),
                          "Number of Frames -5 is not a positive count"),
    "65535 x 65535 with 128 KiB": (
        _edited("CT_small.dcm", _set(Rows=65535, Columns=65535, PixelData=bytes(131072))),
        "needs 8.0 GiB"),
    "SamplesPerPixel 0": (_edited("CT_small.dcm", _set(SamplesPerPixel=0)),
                          "Samples per Pixel 0"),
    "SamplesPerPixel 3 with MONOCHROME2": (
        _edited("CT_small.dcm", _set(SamplesPerPixel=3, PlanarConfiguration=0)),
        "Samples per Pixel 3 does not match Photometric Interpretation MONOCHROME2"),
    "photometric XYZ": (_edited("CT_small.dcm", _set(PhotometricInterpretation="XYZ")),
                        "'XYZ' is not a DICOM photometric interpretation"),
    "RLE transfer syntax over raw pixels": (_rle_over_raw,
                                            "compressed but the Pixel Data is not encapsulated"),
    "no PixelData": (_edited("CT_small.dcm", _no_pixels), "no Pixel Data"),
    "undefined-length native pixels": (_undefined_length_native, "undefined length"),
    "NaN slope": (_edited("CT_small.dcm", _set(RescaleSlope="NaN")),
                  "Rescale Slope nan is not a finite, non-zero number"),
    # and their like
    "zero slope": (_edited("CT_small.dcm", _set(RescaleSlope="0")), "Rescale Slope 0"),
    "JPEG frame of another size": (_edited("JPEG-LL.dcm", _set(Rows=100)),
                                   "the JPEG frame is 1024 x 256 pixels but Rows x Columns say"),
    "JPEG 2000 frame of another size": (_edited("MR_small_jp2klossless.dcm", _set(Columns=60)),
                                        "the JPEG 2000 frame is 64 x 64 pixels"),
    "more frames than fragments": (
        _edited("emri_small_jpeg_2k_lossless.dcm", _set(NumberOfFrames="20")),
        "Number of Frames is 20 but the encapsulated Pixel Data holds 10 fragment(s)"),
    "RLE segments against samples": (_edited("MR_small_RLE.dcm", _set(BitsAllocated=8, BitsStored=8, HighBit=7)),
                                     "the RLE frame holds 2 segment(s)"),
    "PALETTE COLOR without palettes": (
        _edited("CT_small.dcm", _set(PhotometricInterpretation="PALETTE COLOR",
                                     PixelRepresentation=0)),
        "palette lookup tables are missing"),
    "JP2 box of length 0": (_jp2_box_of_length_zero, "a box of length 0"),
    "Pixel Representation 2": (_edited("CT_small.dcm", _set(PixelRepresentation=2)),
                               "Pixel Representation 2"),
    "transfer syntax without a decoder": (
        lambda: replace_transfer_syntax(Path(get_testdata_file("CT_small.dcm")).read_bytes(),
                                        "1.2.840.10008.1.2.4.100") or b"",
        "has no pixel decoder"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_inconsistent_pixels_are_refused_at_import_and_render_says_why(
        name: str, tmp_path: Path) -> None:
    make, reason = CASES[name]
    path = tmp_path / "case.dcm"
    path.write_bytes(make())
    summary = import_paths(SQLiteStore(tmp_path / "t.sqlite"), "tester", [path])
    assert summary.imported == 0
    [rejected] = summary.rejected
    assert reason in rejected.reason, rejected.reason
    with pytest.raises(UnsupportedImage) as info:
        render_frame(path)
    assert reason in str(info.value)
    # the lean scanner and the pydicom description agree
    assert scan(path).pixel_problems
    assert pixel_problems(pixel_description_of(read_dataset(path)))


@pytest.mark.parametrize("name", ["CT_small.dcm", "JPEG-LL.dcm", "MR_small_jp2klossless.dcm",
                                  "emri_small_jpeg_2k_lossless.dcm", "MR_small_RLE.dcm",
                                  "OT-PAL-8-face.dcm", "SC_rgb.dcm", "US1_J2KR.dcm",
                                  "GDCMJ2K_TextGBR.dcm"])
def test_the_originals_import_and_render(name: str, tmp_path: Path) -> None:
    summary = import_paths(SQLiteStore(tmp_path / "t.sqlite"), "tester",
                           [get_testdata_file(name)])
    assert summary.imported == 1, summary.rejected
    assert render_frame(get_testdata_file(name)).size > 0


def test_no_real_test_file_that_decodes_is_refused() -> None:
    """Every file of pydicom and pydicom-data whose first frame pydicom decodes passes the
    check (no false refusals)."""
    from ioreview.imaging.decode import read_frames

    refused = []
    for path in get_testdata_files():
        if not Path(path).is_file():
            continue
        try:
            problems = scan(path).pixel_problems
        except Exception:  # noqa: BLE001 - not indexable at all: not this test's business
            continue
        if not problems:
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                read_frames(path, [0])
        except Exception:  # noqa: BLE001 - refused and undecodable: right
            continue
        refused.append((Path(path).name, problems))
    assert refused == []


def test_library_warnings_go_to_the_import_log_not_stderr(tmp_path: Path, capfd) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.StudyDescription = b"\xc3\x28 bad UTF-8 \xa0\xa1"
    path = tmp_path / "warned.dcm"
    path.write_bytes(_write(ds))
    summary = import_paths(SQLiteStore(tmp_path / "t.sqlite"), "tester", [path])
    assert summary.imported == 1
    [warned] = summary.warned
    assert "DICOM library warnings" in warned.reason and "UTF" in warned.reason.upper()
    assert summary.to_json_dict()["warned_count"] == 1
    assert capfd.readouterr().err == ""
