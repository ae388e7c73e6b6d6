"""Render one frame exactly as the viewer shows it, without Qt: for the CLI, reports and tests.

stored values (decode) -> Modality LUT -> window / VOI LUT -> 8-bit, through the same
`DisplayLut` the viewer uses; colour images pass through as 8-bit RGB.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset
from pydicom.pixels import apply_color_lut

from ioreview.imaging.decode import UnsupportedImage, read_dataset, read_frames
from ioreview.imaging.display import (
    VoiLut,
    Window,
    build_display_lut,
    is_inverted,
    modality_lut,
    modality_lut_from_header,
    rescale_for,
    resolve_preset,
    rgb_to_uint8,
    to_display_uint8,
    voi_luts_from_header,
    windows_from_header,
)

__all__ = ["render_frame", "render_dataset_frame", "save_png"]


def render_frame(
    path: str | os.PathLike[str],
    frame: int = 0,
    window: Window | None = None,
    preset: str | None = None,
    invert: bool | None = None,
) -> np.ndarray:
    """Frame `frame` of a file as display values: uint8 (H, W) grey or (H, W, 3) RGB.

    The window is `window`, else the named `preset` (see `display.preset_names`), else the
    first window in the header, else its first VOI LUT, else an automatic window.  `invert`
    defaults to True for MONOCHROME1.  Raises `UnsupportedImage` for anything not showable.
    """
    if window is not None and preset is not None:
        raise ValueError("preset: give either window or preset, not both")
    ds = read_dataset(path)
    return render_dataset_frame(ds, frame, window=window, preset=preset, invert=invert)


def render_dataset_frame(
    ds: Dataset,
    frame: int = 0,
    window: Window | None = None,
    preset: str | None = None,
    invert: bool | None = None,
) -> np.ndarray:
    """`render_frame` for a dataset already read."""
    if frame < 0:
        raise ValueError(f"frame: must be >= 0, not {frame}")
    stored = read_frames(ds, [frame])[0]
    if stored.ndim == 3:
        bits = _colour_bits(ds)
        return rgb_to_uint8(stored, bits)
    if stored.dtype.kind not in "uib":
        raise UnsupportedImage(f"{getattr(ds, 'filename', 'dataset')}: grey values of type {stored.dtype}")
    slope, intercept = rescale_for(ds, frame)
    mlut = modality_lut_from_header(ds)
    chosen: Window | VoiLut | None = window
    if chosen is None and preset is not None:
        chosen = resolve_preset(preset, str(ds.get("Modality", "") or ""), _values(stored, slope, intercept, mlut, ds))
    if chosen is None:
        windows = windows_from_header(ds, frame)
        luts = voi_luts_from_header(ds)
        if windows:
            chosen = windows[0]
        elif luts:
            chosen = luts[0]
        else:
            chosen = resolve_preset("auto", str(ds.get("Modality", "") or ""), _values(stored, slope, intercept, mlut, ds))
    inv = is_inverted(ds) if invert is None else bool(invert)
    bits_stored = int(ds.get("BitsStored", 0) or 0) or None
    lut = build_display_lut(stored.dtype, slope, intercept, chosen, inv, bits_stored=bits_stored, modality=mlut)
    return to_display_uint8(stored, lut)


def _values(stored: np.ndarray, slope: float, intercept: float, mlut: object, ds: Dataset) -> np.ndarray:
    if mlut is not None:
        return modality_lut(stored, ds=ds)
    return modality_lut(stored, slope, intercept)


def _colour_bits(ds: Dataset) -> int | None:
    """Significant bits of the decoded colour samples (palette entries or Bits Stored)."""
    if str(ds.get("PhotometricInterpretation", "")).upper() == "PALETTE COLOR":
        desc = ds.get("RedPaletteColorLookupTableDescriptor")
        if desc is not None:
            if int(desc[2]) == 8:
                return 8
            # Some writers put 8-bit entries in a 16-bit table (PS3.3 C.7.6.3.1.5 allows
            # only 16); viewers treat a table whose entries never exceed 255 as 8-bit.
            n = int(desc[0]) or 65536
            entries = apply_color_lut(np.arange(int(desc[1]), int(desc[1]) + n, dtype=np.int64).clip(0, None), ds)
            return 8 if int(entries.max()) <= 255 else 16
    bs = ds.get("BitsStored")
    return int(bs) if bs else None


def save_png(array: np.ndarray, path: str | os.PathLike[str]) -> Path:
    """Write a uint8 (H, W), (H, W, 3) or (H, W, 4) array as PNG; returns the path."""
    import imageio.v3 as iio

    a = np.asarray(array)
    if a.dtype != np.uint8:
        raise ValueError(f"array: PNG export takes uint8 display values, not {a.dtype}")
    if a.ndim not in (2, 3) or (a.ndim == 3 and a.shape[2] not in (3, 4)):
        raise ValueError(f"array: expected (H, W), (H, W, 3) or (H, W, 4), got {a.shape}")
    p = Path(path)
    iio.imwrite(p, a, extension=".png")
    return p
