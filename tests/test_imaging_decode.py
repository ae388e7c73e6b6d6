"""Decoding every test file of pydicom and pydicom-data, and native reads at stored offsets."""
from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file, get_testdata_files
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRBigEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian, generate_uid

from ioreview.imaging.decode import UnsupportedImage, read_dataset, read_frame_at_offset, read_frames
from ioreview.imaging.header import InstanceHeader

ALL_FILES = sorted(f for f in get_testdata_files() if os.path.isfile(f))


def _id(path: str) -> str:
    parts = Path(path).parts
    return "/".join(parts[-2:])


def _pydicom_array(path: str) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pydicom.dcmread(path).pixel_array


@pytest.mark.parametrize("path", ALL_FILES, ids=[_id(p) for p in ALL_FILES])
def test_every_file_decodes_or_says_why(path: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            arr = read_frames(path, [0])
        except UnsupportedImage as exc:
            message = str(exc)
            assert Path(path).name in message
            assert len(message) > len(path) + 10
            return
    assert arr.ndim in (3, 4)
    assert arr.shape[0] == 1
    if arr.ndim == 4:
        assert arr.shape[3] == 3
    assert arr.dtype.byteorder in ("=", "|")


@pytest.mark.parametrize(
    "name",
    [
        "CT_small.dcm",
        "MR_small.dcm",
        "MR_small_implicit.dcm",
        "MR_small_RLE.dcm",
        "MR_small_jp2klossless.dcm",
        "MR_small_jpeg_ls_lossless.dcm",
        "JPEG-LL.dcm",
        "JPEG2000.dcm",
        "JPGExtended.dcm",
        "image_dfl.dcm",
        "693_J2KR.dcm",
        "SC_rgb_rle.dcm",
        "SC_rgb_jpeg_gdcm.dcm",
        "SC_rgb_jls_lossy_line.dcm",
    ],
)
def test_matches_pydicom(name: str) -> None:
    path = get_testdata_file(name)
    ours = read_frames(path)[0]
    ref = _pydicom_array(path)
    np.testing.assert_array_equal(ours, ref)


def test_lossless_codecs_give_the_same_values() -> None:
    ref = read_frames(get_testdata_file("MR_small.dcm"))
    for name in ("MR_small_RLE.dcm", "MR_small_jp2klossless.dcm", "MR_small_jpeg_ls_lossless.dcm",
                 "MR_small_bigendian.dcm", "MR_small_expb.dcm", "MR_small_implicit.dcm"):
        np.testing.assert_array_equal(read_frames(get_testdata_file(name)), ref, err_msg=name)


def test_big_endian_comes_back_native() -> None:
    arr = read_frames(get_testdata_file("MR_small_bigendian.dcm"))
    assert arr.dtype == np.dtype("int16") and arr.dtype.isnative


def test_single_frames_of_multiframe() -> None:
    path = get_testdata_file("emri_small_jpeg_2k_lossless.dcm")
    ref = _pydicom_array(path)
    ours = read_frames(path, [3, 7])
    assert ours.shape == (2, 64, 64)
    np.testing.assert_array_equal(ours[0], ref[3])
    np.testing.assert_array_equal(ours[1], ref[7])
    np.testing.assert_array_equal(read_frames(pydicom.dcmread(path), [9])[0], ref[9])
    assert read_frames(path).shape == (10, 64, 64)


def test_frame_out_of_range() -> None:
    with pytest.raises(ValueError, match="frame"):
        read_frames(pydicom.dcmread(get_testdata_file("emri_small.dcm")), [10])


def test_ybr_full_becomes_rgb() -> None:
    rgb = read_frames(get_testdata_file("SC_rgb.dcm"))[0].astype(int)
    for name in ("SC_ybr_full_uncompressed.dcm", "SC_ybr_full_422_uncompressed.dcm"):
        out = read_frames(get_testdata_file(name))[0].astype(int)
        assert out.shape == rgb.shape
        assert np.abs(out - rgb).max() <= 8, name
    # lossy JPEG in YBR_FULL: colour edges ring, so compare on average
    out = read_frames(get_testdata_file("SC_rgb_dcmtk_+eb+cy+n1.dcm"))[0].astype(int)
    assert np.abs(out - rgb).mean() < 3


def test_palette_becomes_rgb() -> None:
    out = read_frames(get_testdata_file("OBXXXX1A.dcm"))
    assert out.shape == (1, 600, 800, 3)


def test_no_pixel_data() -> None:
    with pytest.raises(UnsupportedImage, match="no pixel data"):
        read_frames(get_testdata_file("rtplan.dcm"))
    with pytest.raises(UnsupportedImage, match="no pixel data"):
        read_frames(pydicom.dcmread(get_testdata_file("rtplan.dcm")))


def test_not_dicom(tmp_path: Path) -> None:
    p = tmp_path / "notes.txt"
    p.write_text("hello")
    with pytest.raises(UnsupportedImage, match="not a DICOM Part 10 file"):
        read_dataset(p)
    with pytest.raises(UnsupportedImage, match="not a DICOM Part 10 file"):
        read_frames(p)
    with pytest.raises(UnsupportedImage, match="no such file"):
        read_dataset(tmp_path / "missing.dcm")


def test_undecodable_names_the_transfer_syntax() -> None:
    with pytest.raises(UnsupportedImage, match=r"JPEG Extended|1\.2\.840\.10008\.1\.2\.4\.51"):
        read_frames(get_testdata_file("JPEG-lossy.dcm"))


def test_float_pixel_data(tmp_path: Path) -> None:
    ds = _base_dataset(ExplicitVRLittleEndian)
    ds.Rows, ds.Columns, ds.SamplesPerPixel = 4, 4, 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = 32
    ds.FloatPixelData = np.arange(16, dtype="<f4").tobytes()
    p = tmp_path / "float.dcm"
    ds.save_as(p, enforce_file_format=True)
    with pytest.raises(UnsupportedImage, match="Float Pixel Data"):
        read_frames(p)
    with pytest.raises(UnsupportedImage, match="Float Pixel Data"):
        read_frames(pydicom.dcmread(p))


# ---------------------------------------------------------------- native reads at offsets


def _base_dataset(ts: str) -> Dataset:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ts
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = generate_uid()
    ds.Modality = "OT"
    return ds


def pixel_data_location(path: Path, ts: str) -> tuple[int, int]:
    """(offset, length) of the Pixel Data value in a native file written by pydicom."""
    raw = path.read_bytes()
    big = ts == ExplicitVRBigEndian
    tag = b"\x7f\xe0\x00\x10" if big else b"\xe0\x7f\x10\x00"
    pos = raw.rfind(tag)
    assert pos > 0
    if ts == ImplicitVRLittleEndian:
        length = int.from_bytes(raw[pos + 4 : pos + 8], "little")
        return pos + 8, length
    assert raw[pos + 4 : pos + 6] in (b"OW", b"OB")
    length = int.from_bytes(raw[pos + 8 : pos + 12], "big" if big else "little")
    return pos + 12, length


def _write_native(tmp_path: Path, arr: np.ndarray, ts: str, bits_stored: int, signed: bool,
                  photometric: str = "MONOCHROME2", planar: int = 0) -> tuple[Path, InstanceHeader]:
    ds = _base_dataset(ts)
    frames = arr.shape[0]
    rows, cols = arr.shape[1], arr.shape[2]
    spp = arr.shape[3] if arr.ndim == 4 else 1
    ds.Rows, ds.Columns, ds.SamplesPerPixel = rows, cols, spp
    ds.PhotometricInterpretation = photometric
    ds.BitsAllocated = arr.dtype.itemsize * 8
    ds.BitsStored = bits_stored
    ds.HighBit = bits_stored - 1
    ds.PixelRepresentation = 1 if signed else 0
    if spp == 3:
        ds.PlanarConfiguration = planar
    if frames > 1:
        ds.NumberOfFrames = frames
    data = arr
    if spp == 3 and planar == 1:
        data = np.ascontiguousarray(arr.transpose(0, 3, 1, 2))
    big = ts == ExplicitVRBigEndian
    data = data.astype(data.dtype.newbyteorder(">" if big else "<"))
    ds.PixelData = data.tobytes()
    p = tmp_path / f"native_{generate_uid()[-8:]}.dcm"
    ds.save_as(p, enforce_file_format=True, little_endian=not big, implicit_vr=ts == ImplicitVRLittleEndian)
    offset, length = pixel_data_location(p, ts)
    header = InstanceHeader(
        path=str(p), sop_instance_uid=ds.SOPInstanceUID, sop_class_uid=ds.SOPClassUID,
        study_instance_uid=ds.StudyInstanceUID, series_instance_uid=ds.SeriesInstanceUID,
        transfer_syntax_uid=ts, rows=rows, columns=cols, number_of_frames=frames,
        samples_per_pixel=spp, photometric_interpretation=photometric,
        bits_allocated=ds.BitsAllocated, bits_stored=bits_stored,
        pixel_representation=ds.PixelRepresentation, planar_configuration=planar if spp == 3 else None,
        pixel_data_offset=offset, pixel_data_length=length,
    )
    return p, header


@pytest.mark.parametrize("ts", [ExplicitVRLittleEndian, ImplicitVRLittleEndian, ExplicitVRBigEndian])
def test_offset_read_signed_12_bit(tmp_path: Path, ts: str) -> None:
    rng = np.random.default_rng(1)
    values = rng.integers(-2048, 2048, size=(3, 7, 9)).astype(np.int16)
    # garbage in the unused high bits must be sign-extended away (PS3.5 8.1.1)
    cells = (values.view(np.uint16) & 0x0FFF) | 0x5000
    p, h = _write_native(tmp_path, cells.view(np.int16), ts, 12, True)
    for f in range(3):
        out = read_frame_at_offset(h, f)
        assert out.dtype == np.int16 and out.dtype.isnative
        np.testing.assert_array_equal(out, values[f])
        np.testing.assert_array_equal(out, read_frames(p, [f])[0])


def test_offset_read_unsigned_masks_unused_bits(tmp_path: Path) -> None:
    values = np.arange(5 * 6, dtype=np.uint16).reshape(1, 5, 6) * 100
    p, h = _write_native(tmp_path, values | 0xF000, ExplicitVRLittleEndian, 12, False)
    np.testing.assert_array_equal(read_frame_at_offset(h), values[0])
    np.testing.assert_array_equal(read_frame_at_offset(h), read_frames(p)[0])


def test_offset_read_8_bit_and_rgb_planar(tmp_path: Path) -> None:
    grey = np.arange(35, dtype=np.uint8).reshape(1, 5, 7)
    _, h = _write_native(tmp_path, grey, ExplicitVRLittleEndian, 8, False)
    np.testing.assert_array_equal(read_frame_at_offset(h), grey[0])
    rgb = np.random.default_rng(0).integers(0, 256, size=(1, 5, 7, 3)).astype(np.uint8)
    for planar in (0, 1):
        p, h = _write_native(tmp_path, rgb, ExplicitVRLittleEndian, 8, False, "RGB", planar)
        np.testing.assert_array_equal(read_frame_at_offset(h), rgb[0])
        np.testing.assert_array_equal(read_frames(p)[0], rgb[0])


def test_offset_read_refuses_what_it_cannot_read(tmp_path: Path) -> None:
    values = np.zeros((1, 4, 4), dtype=np.uint16)
    _, h = _write_native(tmp_path, values, ExplicitVRLittleEndian, 16, False)
    from dataclasses import replace

    with pytest.raises(UnsupportedImage, match="not native"):
        read_frame_at_offset(replace(h, transfer_syntax_uid="1.2.840.10008.1.2.4.90"))
    with pytest.raises(UnsupportedImage, match="offset"):
        read_frame_at_offset(replace(h, pixel_data_offset=None))
    with pytest.raises(ValueError, match="frame"):
        read_frame_at_offset(h, 1)
    with pytest.raises(UnsupportedImage, match="truncated|fewer"):
        read_frame_at_offset(replace(h, pixel_data_offset=h.pixel_data_offset + 8, pixel_data_length=None))


def _single_frame_grey(path: str) -> InstanceHeader | None:
    from ioreview.imaging.scan import scan_file

    try:
        h = scan_file(path, with_sha256=False)
    except Exception:  # noqa: BLE001 - not an image file
        return None
    if not h.has_pixels or (h.number_of_frames or 1) != 1 or (h.samples_per_pixel or 1) != 1:
        return None
    return h


def test_grey_slice_fast_paths_equal_the_general_decode() -> None:
    """`read_grey_slice` (the volume loader's hot path: offsets for native, OpenJPEG straight
    on the codestream for JPEG 2000) gives exactly `read_frames` for every single-frame grey
    file here, and falls back when a codestream's signedness disagrees with the header."""
    from ioreview.imaging import decode

    j2k = direct = native = 0
    warnings.simplefilter("ignore")  # some test files carry invalid values on purpose
    for path in ALL_FILES:
        h = _single_frame_grey(path)
        if h is None:
            continue
        try:
            ref = read_frames(path, [0])[0]
        except UnsupportedImage:
            continue
        got = decode.read_grey_slice(h)
        assert got.dtype == ref.dtype and np.array_equal(got, ref), path
        if h.transfer_syntax_uid in decode._J2K_TRANSFER_SYNTAXES:
            j2k += 1
            if decode._j2k_direct(h) is not None:
                direct += 1
        elif h.transfer_syntax_uid in decode.NATIVE_TRANSFER_SYNTAXES:
            native += 1
    assert j2k >= 10 and direct >= 8 and native >= 20, (j2k, direct, native)
    mismatch = _single_frame_grey(get_testdata_file("J2K_pixelrep_mismatch.dcm"))
    assert mismatch is not None and decode._j2k_direct(mismatch) is None
