"""The display pipeline against PS3.3 C.11 and pydicom's own modality + VOI output."""
from __future__ import annotations

import copy
import os
import warnings
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file, get_testdata_files
from pydicom.dataset import Dataset
from pydicom.pixels import apply_modality_lut, apply_voi_lut

from ioreview.imaging.decode import UnsupportedImage, read_frames
from ioreview.imaging.display import (
    PRESETS,
    UnknownPreset,
    Window,
    all_preset_keys,
    auto_window,
    apply_window,
    build_display_lut,
    full_range_window,
    is_inverted,
    modality_lut,
    modality_lut_from_header,
    preset_names,
    rescale_for,
    resolve_preset,
    rgb_to_uint8,
    to_display_uint8,
    voi_luts_from_header,
    windows_from_header,
)
from ioreview.imaging.header import InstanceHeader
from ioreview.imaging.render import render_frame, save_png


def _read(path: str) -> Dataset:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pydicom.dcmread(path)


def _pydicom_display(ds: Dataset, stored: np.ndarray, index: int = 0) -> np.ndarray:
    """pydicom's apply_modality_lut + apply_voi_lut(prefer_lut=False), scaled to 0..255."""
    values = apply_modality_lut(stored, ds)
    with np.errstate(over="ignore"):
        out = apply_voi_lut(values, ds, index=index, prefer_lut=False)
    bs = int(ds.BitsStored)
    if ds.get("ModalityLUTSequence"):
        y_min, y_max = 0.0, 2.0 ** int(ds.ModalityLUTSequence[0].LUTDescriptor[2]) - 1
    elif ds.PixelRepresentation == 0:
        y_min, y_max = 0.0, 2.0**bs - 1
    else:
        y_min, y_max = -(2.0 ** (bs - 1)), 2.0 ** (bs - 1) - 1
    if "RescaleSlope" in ds and "RescaleIntercept" in ds:
        y_min = y_min * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
        y_max = y_max * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
    return (np.asarray(out, dtype=np.float64) - y_min) / (y_max - y_min) * 255.0


def _grey_files_with_windows() -> list[str]:
    out = []
    for f in get_testdata_files():
        if not os.path.isfile(f) or os.path.getsize(f) > 12_000_000:
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ds = pydicom.dcmread(f, stop_before_pixels=True)
        except Exception:
            continue
        if (
            "WindowCenter" in ds
            and "WindowWidth" in ds
            and ds.get("PhotometricInterpretation") in ("MONOCHROME1", "MONOCHROME2")
            and ds.get("SamplesPerPixel", 1) == 1
        ):
            out.append(f)
    return sorted(out)


WINDOWED = _grey_files_with_windows()


def test_some_real_files_have_windows() -> None:
    assert len(WINDOWED) >= 8


@pytest.mark.parametrize("path", WINDOWED, ids=[Path(p).name for p in WINDOWED])
def test_header_windows_match_pydicom(path: str) -> None:
    ds = _read(path)
    try:
        stored = read_frames(ds, [0])[0]
    except UnsupportedImage:
        pytest.skip("not decodable here")
    windows = windows_from_header(ds)
    if not windows:
        pytest.skip("no valid window pair")
    slope, intercept = rescale_for(ds)
    for i, window in enumerate(windows):
        lut = build_display_lut(stored.dtype, slope, intercept, window, False, bits_stored=int(ds.BitsStored))
        ours = to_display_uint8(stored, lut).astype(np.float64)
        ref = _pydicom_display(ds, stored, index=i)
        assert np.abs(ours - ref).max() <= 1.0, f"window {window}"


@pytest.mark.parametrize("name", ["CT_small.dcm", "MR_small.dcm", "693_UNCR.dcm", "liver_1frame.dcm", "emri_small.dcm"])
@pytest.mark.parametrize("function", ["LINEAR", "LINEAR_EXACT", "SIGMOID"])
@pytest.mark.parametrize("cw", [(40, 400), (500, 2000), (-600, 1500), (40, 80), (1000, 2000), (128, 1), (90.5, 2.5)])
def test_presets_and_functions_match_pydicom(name: str, function: str, cw: tuple[float, float]) -> None:
    ds = _read(get_testdata_file(name))
    stored = read_frames(ds, [0])[0]
    window = Window(cw[0], cw[1], function)
    ds.WindowCenter, ds.WindowWidth, ds.VOILUTFunction = cw[0], cw[1], function
    slope, intercept = rescale_for(ds)
    lut = build_display_lut(stored.dtype, slope, intercept, window, bits_stored=int(ds.BitsStored))
    ours = to_display_uint8(stored, lut).astype(np.float64)
    assert np.abs(ours - _pydicom_display(ds, stored)).max() <= 1.0


def test_window_formulas_ps3_3() -> None:
    x = np.array([-1000.0, -160.5, -160.0, 40.0, 239.5, 240.0, 3000.0])
    y = apply_window(x, Window(40, 400))
    # C.11.2.1.2.1: x <= c - 0.5 - (w-1)/2 -> ymin; x > c - 0.5 + (w-1)/2 -> ymax
    assert y[0] == 0 and y[1] == 0 and y[-1] == 255 and y[-2] == 255
    assert y[3] == pytest.approx(((40 - 39.5) / 399 + 0.5) * 255)
    exact = apply_window(np.array([-160.0, 40.0, 240.0]), Window(40, 400, "LINEAR_EXACT"))
    np.testing.assert_allclose(exact, [0, 127.5, 255])
    sig = apply_window(np.array([40.0]), Window(40, 400, "SIGMOID"))
    assert sig[0] == pytest.approx(127.5)
    one = apply_window(np.array([127.0, 128.0]), Window(128, 1))
    np.testing.assert_array_equal(one, [0, 255])


def test_window_validation() -> None:
    with pytest.raises(ValueError, match="width"):
        Window(40, 0.5)
    with pytest.raises(ValueError, match="width"):
        Window(40, 0, "SIGMOID")
    with pytest.raises(ValueError, match="function"):
        Window(40, 400, "GAMMA")
    assert Window(40, 400, "linear_exact").function == "LINEAR_EXACT"
    assert Window(40, 0.5, "LINEAR_EXACT").width == 0.5


@pytest.mark.parametrize("dtype", [np.int16, np.uint16, np.uint8, np.int8])
@pytest.mark.parametrize("invert", [False, True])
def test_folded_arithmetic_equals_table(dtype: type, invert: bool) -> None:
    info = np.iinfo(dtype)
    stored = np.arange(info.min, info.max + 1, dtype=np.int64).astype(dtype).reshape(1, -1)
    lut = build_display_lut(dtype, 1.0, -1024.0, Window(40, 400), invert)
    assert lut.scale is not None and lut.table is not None
    folded = to_display_uint8(stored, lut)
    gathered = np.take(lut.table, stored.view(np.dtype(f"u{stored.dtype.itemsize}")))
    np.testing.assert_array_equal(folded, gathered)
    exact = np.clip(apply_window(stored * 1.0 - 1024.0, Window(40, 400)), 0, 255)
    if invert:
        exact = 255 - exact
    assert np.abs(folded - exact).max() <= 0.5 + 1e-3


def test_table_path_for_sigmoid_and_32_bit_fallback() -> None:
    stored = np.arange(-2000, 2000, dtype=np.int16).reshape(40, 100)
    lut = build_display_lut(np.int16, 1.0, 0.0, Window(0, 500, "SIGMOID"))
    assert lut.scale is None
    ref = np.clip(apply_window(stored, Window(0, 500, "SIGMOID")) + 0.5, 0, 255).astype(np.uint8)
    np.testing.assert_array_equal(to_display_uint8(stored, lut), ref)
    big = stored.astype(np.int32) * 1000
    lut32 = build_display_lut(np.int32, 0.001, 0.0, Window(0, 500, "SIGMOID"))
    assert lut32.table is None
    np.testing.assert_array_equal(to_display_uint8(big, lut32), ref)
    lin32 = build_display_lut(np.uint32, 1.0, 0.0, Window(2**20, 2**21))
    assert to_display_uint8(np.array([[0, 2**20, 2**22]], dtype=np.uint32), lin32).tolist() == [[0, 128, 255]]


def test_to_display_checks_dtype_and_out() -> None:
    lut = build_display_lut(np.int16, 1.0, 0.0, Window(0, 100))
    with pytest.raises(ValueError, match="stored"):
        to_display_uint8(np.zeros((2, 2), np.uint16), lut)
    out = np.empty((2, 2), np.uint8)
    assert to_display_uint8(np.zeros((2, 2), np.int16), lut, out=out) is out
    with pytest.raises(ValueError, match="slope"):
        build_display_lut(np.int16, 0.0, 0.0, Window(0, 100))
    with pytest.raises(ValueError, match="dtype"):
        build_display_lut(np.float32, 1.0, 0.0, Window(0, 100))


def test_monochrome1_inverts() -> None:
    path = get_testdata_file("RG1_UNCI.dcm")
    ds = _read(path)
    assert is_inverted(ds)
    shown = render_frame(path).astype(int)
    plain = render_frame(path, invert=False).astype(int)
    assert np.abs(shown - (255 - plain)).max() <= 1


def test_modality_lut_sequence_matches_pydicom() -> None:
    ds = _read(get_testdata_file("mlut_18.dcm"))
    stored = read_frames(ds)[0]
    mlut = modality_lut_from_header(ds)
    assert mlut is not None
    np.testing.assert_array_equal(mlut.apply(stored), apply_modality_lut(stored, ds))
    np.testing.assert_array_equal(modality_lut(stored, ds=ds), apply_modality_lut(stored, ds))
    window = Window(2000, 3000)
    ds2 = copy.deepcopy(ds)
    ds2.WindowCenter, ds2.WindowWidth = 2000, 3000
    lut = build_display_lut(stored.dtype, window=window, modality=mlut, bits_stored=int(ds.BitsStored))
    ours = to_display_uint8(stored, lut).astype(float)
    assert np.abs(ours - _pydicom_display(ds2, stored)).max() <= 1.0
    rendered = render_frame(get_testdata_file("mlut_18.dcm"), window=window)
    np.testing.assert_array_equal(rendered, ours.astype(np.uint8))


def test_voi_lut_sequence_matches_pydicom() -> None:
    path = get_testdata_file("vlut_04.dcm")
    ds = _read(path)
    stored = read_frames(ds)[0]
    luts = voi_luts_from_header(ds)
    assert len(luts) == 1
    ref = apply_voi_lut(apply_modality_lut(stored, ds), ds) / (2.0 ** luts[0].bits - 1) * 255
    ours = render_frame(path).astype(float)
    assert np.abs(ours - ref).max() <= 1.0


def test_windows_from_instance_header() -> None:
    h = InstanceHeader(path="x", sop_instance_uid="1", sop_class_uid="1", study_instance_uid="1",
                       series_instance_uid="1", window_center=(40.0, 500.0), window_width=(400.0, 0.0))
    assert windows_from_header(h) == [Window(40, 400)]
    assert rescale_for(h) == (1.0, 0.0)


def test_multiple_windows_and_explanations() -> None:
    ds = Dataset()
    ds.WindowCenter = [40, 500]
    ds.WindowWidth = [400, 2000]
    ds.WindowCenterWidthExplanation = ["SOFT", "BONE"]
    ds.VOILUTFunction = "LINEAR_EXACT"
    ws = windows_from_header(ds)
    assert [(w.center, w.width, w.function, w.explanation) for w in ws] == [
        (40, 400, "LINEAR_EXACT", "SOFT"), (500, 2000, "LINEAR_EXACT", "BONE")]


def test_enhanced_functional_groups() -> None:
    ds = _read(get_testdata_file("eCT_Supplemental.dcm"))
    slope, intercept = rescale_for(ds, 1)
    item = ds.SharedFunctionalGroupsSequence[0]
    per = ds.PerFrameFunctionalGroupsSequence[1]
    src = per if "PixelValueTransformationSequence" in per else item
    assert (slope, intercept) == (float(src.PixelValueTransformationSequence[0].RescaleSlope),
                                  float(src.PixelValueTransformationSequence[0].RescaleIntercept))
    assert render_frame(get_testdata_file("eCT_Supplemental.dcm"), frame=1).shape == (512, 512)


def test_presets_and_auto_window() -> None:
    assert PRESETS["CT"]["soft tissue"] == Window(40, 400)
    assert PRESETS["CT"]["lung"] == Window(-600, 1500)
    assert preset_names("CT")[:2] == ["soft tissue", "bone"]
    assert preset_names("DX") == ["auto", "full range"]
    assert preset_names("MR") == ["auto", "full range"]
    values = np.arange(1000, dtype=float).reshape(10, 100)
    radiograph = auto_window(values, "DX")
    lut = build_display_lut(np.int16, 1.0, 0.0, radiograph)
    shown = to_display_uint8(np.array([0, 999], np.int16), lut)
    assert shown.tolist() == [0, 255]
    mr = auto_window(values, "MR")
    assert mr.lower == pytest.approx(np.percentile(values, 0.5))
    assert mr.upper == pytest.approx(np.percentile(values, 99.5))
    assert resolve_preset("Bone", "ct") == Window(500, 2000)
    assert resolve_preset("full range", "CR", values) == full_range_window(0, 999)
    with pytest.raises(UnknownPreset, match="choose one of soft_tissue, bone, bone_narrow"):
        resolve_preset("nope", "CT")
    # the command line's spelling of every name (`ioreview render --help`) is accepted
    assert resolve_preset("soft_tissue", "CT") == PRESETS["CT"]["soft tissue"]
    assert resolve_preset("fat_fluid", "CT") == PRESETS["CT"]["fat/fluid"]
    assert resolve_preset("bone_narrow", "CT") == PRESETS["CT"]["bone (narrow)"]
    assert resolve_preset("full_range", "CR", values) == full_range_window(0, 999)
    assert "soft_tissue" in all_preset_keys() and "full_range" in all_preset_keys()
    with pytest.raises(ValueError, match="values"):
        resolve_preset("auto", "MR")


def test_render_with_preset_and_window() -> None:
    path = get_testdata_file("CT_small.dcm")
    ds = _read(path)
    stored = read_frames(ds)[0]
    hu = stored * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
    bone = render_frame(path, preset="bone")
    expected = np.clip(apply_window(hu, Window(500, 2000)) + 0.5, 0, 255).astype(np.uint8)
    assert np.abs(bone.astype(int) - expected).max() <= 1
    assert render_frame(path, window=Window(500, 2000)).tolist() == bone.tolist()
    with pytest.raises(ValueError, match="preset"):
        render_frame(path, window=Window(1, 2), preset="bone")


def test_rgb_passes_through() -> None:
    path = get_testdata_file("SC_rgb.dcm")
    np.testing.assert_array_equal(render_frame(path), read_frames(path)[0])
    deep = render_frame(get_testdata_file("SC_rgb_16bit.dcm"))
    assert deep.dtype == np.uint8 and deep.max() > 200
    assert rgb_to_uint8(np.array([[0, 65535, 256]], np.uint16), 16).tolist() == [[0, 255, 1]]
    palette = render_frame(get_testdata_file("OBXXXX1A_expb.dcm"))
    assert palette.shape == (600, 800, 3) and palette.max() > 100


def test_save_png_round_trip(tmp_path: Path) -> None:
    import imageio.v3 as iio

    img = render_frame(get_testdata_file("CT_small.dcm"))
    p = save_png(img, tmp_path / "ct.png")
    np.testing.assert_array_equal(iio.imread(p), img)
    rgb = render_frame(get_testdata_file("SC_rgb.dcm"))
    np.testing.assert_array_equal(iio.imread(save_png(rgb, tmp_path / "rgb.png")), rgb)
    with pytest.raises(ValueError, match="array"):
        save_png(np.zeros((4, 4), np.uint16), tmp_path / "bad.png")


ALL_FILES = sorted(f for f in get_testdata_files() if os.path.isfile(f))


@pytest.mark.parametrize("path", ALL_FILES, ids=["/".join(Path(p).parts[-2:]) for p in ALL_FILES])
def test_every_file_renders_or_raises_unsupported(path: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            out = render_frame(path)
        except UnsupportedImage as exc:
            assert Path(path).name in str(exc)
            return
    assert out.dtype == np.uint8
    assert out.ndim == 2 or (out.ndim == 3 and out.shape[2] == 3)


def test_grey_table_matches_uint8_path_over_frames_and_windows():
    """The viewer's drag/scroll path fills its 32-bit table only over the values met; every
    frame and window still shows exactly the grey levels of `to_display_uint8`."""
    from ioreview.imaging.display import GreyTable, frame_range

    rng = np.random.default_rng(11)
    cases = (
        (np.int16, -2048, 2047, 1.0, -1024.0),   # signed, ranges crossing zero
        (np.uint16, 0, 4095, 1.0, 0.0),
        (np.uint8, 0, 255, 2.0, -10.0),
        (np.int8, -128, 127, 1.0, 0.0),
    )
    for dtype, lo, hi, slope, intercept in cases:
        table = GreyTable(dtype)
        frames = [rng.integers(lo, hi, (40, 30), endpoint=True).astype(dtype) for _ in range(3)]
        # a narrow frame first, then wider ones: the filled range has to grow both ways
        frames.insert(0, rng.integers((lo + hi) // 2 - 5, (lo + hi) // 2 + 5, (40, 30)).astype(dtype))
        windows = [Window(40, 400), Window(100, 50, function="LINEAR_EXACT"), Window(0, 300, function="SIGMOID")]
        for window in windows:
            for invert in (False, True):
                lut = build_display_lut(np.dtype(dtype), slope, intercept, window, invert)
                for frame in frames:
                    rgb = table.apply(frame, lut, frame_range(frame))
                    grey = (rgb & 0xFF).astype(np.uint8)
                    assert np.all(rgb >> 24 == 0xFF)
                    assert np.array_equal((rgb >> 16) & 0xFF, grey)
                    assert np.array_equal(grey, to_display_uint8(frame, lut)), (dtype, window, invert)
        # a strided (decimated) view maps the same as its copy
        frame = frames[-1]
        lut = build_display_lut(np.dtype(dtype), slope, intercept, Window(40, 400))
        view = frame[::2, ::3]
        assert np.array_equal(table.apply(view, lut, frame_range(frame)),
                              table.apply(np.ascontiguousarray(view), lut, frame_range(frame)))


def test_grey_table_refuses_what_it_cannot_map():
    from ioreview.imaging.display import GreyTable

    with pytest.raises(ValueError, match="dtype"):
        GreyTable(np.int32)
    table = GreyTable(np.uint16)
    with pytest.raises(ValueError, match="stored"):
        table.apply(np.zeros((2, 2), np.int16), build_display_lut(np.int16), (0, 0))
    with pytest.raises(ValueError, match="lut"):
        table.prepare(build_display_lut(np.int16), 0, 1)
