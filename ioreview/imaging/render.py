"""Render one frame exactly as the viewer shows it, without Qt: for the CLI, reports and tests.

stored values (decode) -> Modality LUT -> window / VOI LUT -> 8-bit, through the same
`DisplayLut` the viewer uses; colour images pass through as 8-bit RGB.
"""
from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset
from pydicom.pixels import apply_color_lut

from ioreview.imaging.decode import (FrameOutOfRange, UnsupportedImage, failure_reason,
                                     read_dataset, read_frames, read_indexed_frame)
from ioreview.imaging.pixel_check import pixel_description_of, pixel_problems, rescale_problem
from ioreview.imaging.display import (
    UnknownPreset,
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
from ioreview.imaging.header import InstanceHeader

__all__ = ["display_values", "render_frame", "render_dataset_frame", "render_indexed_frame",
           "save_png"]


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
    """`render_frame` for a dataset already read.

    A frame number out of range raises `FrameOutOfRange`, a preset the modality lacks
    `UnknownPreset`; anything else that keeps the frame from being shown raises
    `UnsupportedImage` naming the problem: a pixel description that cannot be decoded
    consistently (`pixel_check`), a rescale that cannot be applied, values no window maps,
    a header value too damaged to read.  The DICOM library's warnings are not printed.
    """
    where = str(getattr(ds, "filename", None) or "dataset")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return _render(ds, frame, window, preset, invert, where)
    except (UnsupportedImage, UnknownPreset, FrameOutOfRange):
        raise
    except Exception as exc:  # a damaged header value met while rendering
        raise UnsupportedImage(f"{where}: {failure_reason(exc)}") from exc


def _render(ds: Dataset, frame: int, window: Window | None, preset: str | None,
            invert: bool | None, where: str) -> np.ndarray:
    problems = pixel_problems(pixel_description_of(ds))
    if problems:
        raise UnsupportedImage(f"{where}: {'; '.join(problems)}")
    count = _nframes(ds)
    if not 0 <= frame < count:
        raise FrameOutOfRange(f"frame: {frame} is out of range ({count} frames)", frame, count)
    stored = read_frames(ds, [frame])[0]
    if stored.ndim == 3:
        return rgb_to_uint8(stored, _colour_bits(ds))
    if stored.dtype.kind not in "uib":
        raise UnsupportedImage(f"{where}: grey values of type {stored.dtype}")
    slope, intercept = rescale_for(ds, frame)
    why = rescale_problem(slope, intercept)
    if why is not None:
        raise UnsupportedImage(f"{where}: {why}")
    modality = str(ds.get("Modality", "") or "")
    mlut = modality_lut_from_header(ds)
    chosen: Window | VoiLut | None = window
    if chosen is None and preset is not None:
        chosen = resolve_preset(preset, modality, _values(stored, slope, intercept, mlut, ds))
    try:
        if chosen is None:
            windows = windows_from_header(ds, frame)
            luts = voi_luts_from_header(ds)
            if windows:
                chosen = windows[0]
            elif luts:
                chosen = luts[0]
            else:
                chosen = resolve_preset("auto", modality,
                                        _values(stored, slope, intercept, mlut, ds))
        inv = is_inverted(ds) if invert is None else bool(invert)
        bits_stored = int(ds.get("BitsStored", 0) or 0) or None
        lut = build_display_lut(stored.dtype, slope, intercept, chosen, inv,
                                bits_stored=bits_stored, modality=mlut)
        return to_display_uint8(stored, lut)
    except (ValueError, IndexError, TypeError) as exc:
        raise UnsupportedImage(f"{where}: its values cannot be mapped to grey levels "
                               f"({exc})") from exc


def display_values(stored: np.ndarray, header: InstanceHeader, modality: str = "",
                   window: Window | None = None) -> np.ndarray:
    """Stored values of an indexed frame as the viewer first shows them: uint8 grey through
    the header's rescale and its first window (else an automatic one), inverted for
    MONOCHROME1; colour as 8-bit RGB.  Raises `UnsupportedImage` when the rescale cannot be
    applied (PS3.3 C.11.1.1.2) or no window maps the values."""
    if stored.ndim == 3:
        return rgb_to_uint8(stored, header.bits_stored)
    if stored.dtype.kind not in "uib":
        raise UnsupportedImage(f"{header.path}: grey values of type {stored.dtype}")
    slope, intercept = rescale_for(header)
    why = rescale_problem(slope, intercept)
    if why is not None:
        raise UnsupportedImage(f"{header.path}: {why}")
    try:
        if window is None:
            windows = windows_from_header(header)
            if windows:
                window = windows[0]
            else:
                step = max(1, int(np.sqrt(stored.size / 262144)))
                window = resolve_preset("auto", modality or header.modality,
                                        modality_lut(stored[::step, ::step], slope, intercept))
        lut = build_display_lut(stored.dtype, slope, intercept, window, is_inverted(header),
                                bits_stored=header.bits_stored)
        return to_display_uint8(stored, lut)
    except ValueError as exc:
        raise UnsupportedImage(f"{header.path}: its values cannot be mapped to grey levels "
                               f"({exc})") from exc


def render_indexed_frame(header: InstanceHeader, frame: int = 0) -> np.ndarray:
    """Frame `frame` of an indexed instance as the viewer first shows it (uint8); anything
    that keeps it from being shown raises `UnsupportedImage`, as the viewer reports it."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return display_values(read_indexed_frame(header, frame), header)
    except (UnsupportedImage, FrameOutOfRange):
        raise
    except Exception as exc:  # what the viewer's loader turns into "cannot display: ..."
        raise UnsupportedImage(f"{header.path}: {failure_reason(exc, header.path)}") from exc


def _nframes(ds: Dataset) -> int:
    try:
        return max(int(ds.get("NumberOfFrames", 1) or 1), 1)
    except (TypeError, ValueError):
        return 1


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
