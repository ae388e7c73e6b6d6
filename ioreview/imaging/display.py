"""The grey-scale display pipeline of PS3.3 C.11 as pure functions.

stored values --Modality LUT (C.11.1)--> modality values (HU on CT) --VOI LUT or window
(C.11.2)--> 0..255 display values, inverted for MONOCHROME1 (C.7.6.3.1.2).

The render path folds the whole pipeline into one `DisplayLut` built once per window change:
a linear window becomes one multiply-add in float32 (measured faster than a table gather on
this machine: 512x512 ~0.17 ms against ~0.25 ms, 2000x2000 ~3 ms against ~8 ms), everything
else (SIGMOID, LUT sequences) a uint8 table indexed by the stored bit pattern (≤ 65536
entries), applied with one `np.take`.  Both give the exact formulas of C.11.2.1.2 rounded to
the nearest grey level.
"""
from __future__ import annotations

import math
import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from pydicom.dataset import Dataset
from pydicom.pixels import apply_modality_lut

from ioreview.imaging.header import InstanceHeader

__all__ = [
    "VOI_FUNCTIONS",
    "RADIOGRAPHIC_MODALITIES",
    "PRESETS",
    "DATA_PRESETS",
    "Window",
    "VoiLut",
    "ModalityLut",
    "DisplayLut",
    "modality_lut",
    "apply_window",
    "rescale_for",
    "windows_from_header",
    "voi_luts_from_header",
    "modality_lut_from_header",
    "is_inverted",
    "auto_window",
    "full_range_window",
    "UnknownPreset",
    "all_preset_keys",
    "preset_key",
    "preset_names",
    "resolve_preset",
    "build_display_lut",
    "to_display_uint8",
    "GreyTable",
    "table_index",
    "frame_range",
    "rgb_to_uint8",
]

#: VOI LUT Function values (0028,1056), PS3.3 C.11.2.1.3.
VOI_FUNCTIONS: tuple[str, ...] = ("LINEAR", "LINEAR_EXACT", "SIGMOID")

#: Projection radiography modalities, windowed on their full range by default.
RADIOGRAPHIC_MODALITIES: frozenset[str] = frozenset({"CR", "DX", "MG", "RF", "XA", "PX", "IO", "RG", "DF"})

#: Presets computed from the image itself rather than fixed numbers; every modality has them.
DATA_PRESETS: tuple[str, ...] = ("auto", "full range")

#: folded scale/offset beyond this overflow float32 (`_fold`); such mappings go the exact way
_FOLD_LIMIT = 1e30
_ROWS_PER_CHUNK_ELEMENTS = 131072  # ~0.5 MB float32 scratch: stays in L2 while folding
_CHUNK_ABOVE_ELEMENTS = 1 << 20  # smaller frames fold in one pass (faster than chunking)


@dataclass(frozen=True)
class Window:
    """A window centre/width with its VOI LUT Function (PS3.3 C.11.2.1.2, C.11.2.1.3)."""

    center: float
    width: float
    function: str = "LINEAR"
    explanation: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        fn = str(self.function).upper()
        if fn not in VOI_FUNCTIONS:
            raise ValueError(f"function: {self.function!r} is not one of {', '.join(VOI_FUNCTIONS)}")
        object.__setattr__(self, "function", fn)
        object.__setattr__(self, "center", float(self.center))
        object.__setattr__(self, "width", float(self.width))
        if not math.isfinite(self.center):  # a float by now: math is ~10x cheaper than numpy here
            raise ValueError(f"center: must be finite, not {self.center}")
        if fn == "LINEAR" and not self.width >= 1:
            raise ValueError(f"width: must be >= 1 for LINEAR (PS3.3 C.11.2.1.2.1), not {self.width}")
        if fn != "LINEAR" and not self.width > 0:
            raise ValueError(f"width: must be > 0 for {fn}, not {self.width}")

    @property
    def lower(self) -> float:
        return self.center - self.width / 2

    @property
    def upper(self) -> float:
        return self.center + self.width / 2


@dataclass(frozen=True, eq=False)
class VoiLut:
    """One item of the VOI LUT Sequence (PS3.3 C.11.2.1.1): a table from modality values."""

    first_mapped: int
    data: np.ndarray = field(repr=False)
    bits: int
    explanation: str = ""

    def apply(self, values: np.ndarray, y_min: float = 0.0, y_max: float = 255.0) -> np.ndarray:
        """Map modality values through the table, rescaled to [y_min, y_max] (float64)."""
        idx = np.floor(np.asarray(values, dtype=np.float64)) - self.first_mapped
        np.clip(idx, 0, len(self.data) - 1, out=idx)
        out = self.data[idx.astype(np.intp)].astype(np.float64)
        return out / float(2**self.bits - 1) * (y_max - y_min) + y_min


@dataclass(frozen=True, eq=False)
class ModalityLut:
    """The first item of the Modality LUT Sequence (PS3.3 C.11.1.1)."""

    first_mapped: int
    data: np.ndarray = field(repr=False)
    bits: int

    def apply(self, stored: np.ndarray) -> np.ndarray:
        idx = np.asarray(stored, dtype=np.int64) - self.first_mapped
        np.clip(idx, 0, len(self.data) - 1, out=idx)
        return self.data[idx].astype(np.float64)

    @property
    def output_range(self) -> tuple[float, float]:
        return 0.0, float(2**self.bits - 1)


def modality_lut(
    arr: np.ndarray, slope: float = 1.0, intercept: float = 0.0, ds: Dataset | None = None
) -> np.ndarray:
    """Stored values to modality values (PS3.3 C.11.1), as float64.

    With a dataset holding a Modality LUT Sequence the table is applied through pydicom's
    `apply_modality_lut`; otherwise the linear rescale ``arr * slope + intercept``.
    """
    if ds is not None and ds.get("ModalityLUTSequence"):
        return np.asarray(apply_modality_lut(arr, ds), dtype=np.float64)
    out = np.asarray(arr, dtype=np.float64) * float(slope)
    out += float(intercept)
    return out


def apply_window(
    values: np.ndarray, window: Window, y_min: float = 0.0, y_max: float = 255.0
) -> np.ndarray:
    """Apply a window exactly as PS3.3 C.11.2.1.2.1 / C.11.2.1.3.1 / C.11.2.1.3.2 define it.

    Returns float64 in [y_min, y_max] (not rounded).
    """
    x = np.asarray(values, dtype=np.float64)
    y_range = y_max - y_min
    c, w = window.center, window.width
    if window.function == "SIGMOID":
        with np.errstate(over="ignore"):
            return y_range / (1.0 + np.exp(-4.0 * (x - c) / w)) + y_min
    if window.function == "LINEAR":
        c, w = c - 0.5, w - 1.0
        if w == 0:
            return np.where(x <= c, y_min, y_max).astype(np.float64)
    out = ((x - c) / w + 0.5) * y_range + y_min
    return np.clip(out, y_min, y_max, out=out)


def _float(value: Any, default: float) -> float:
    """A rescale value as written; `default` when absent or not a number.  A NaN, an
    infinity or a zero slope is kept, so that displaying it fails with a reason
    (`pixel_check.rescale_problem`) instead of showing a plausible but wrong image."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def _frame_item(ds: Dataset, frame: int, sequence: str) -> Dataset | None:
    """The functional group item (PS3.3 C.7.6.16) for `frame`: per-frame first, then shared."""
    per_frame = ds.get("PerFrameFunctionalGroupsSequence")
    if per_frame and 0 <= frame < len(per_frame):
        seq = per_frame[frame].get(sequence)
        if seq:
            return seq[0]
    shared = ds.get("SharedFunctionalGroupsSequence")
    if shared:
        seq = shared[0].get(sequence)
        if seq:
            return seq[0]
    return None


def rescale_for(ds_or_header: Dataset | InstanceHeader, frame: int = 0) -> tuple[float, float]:
    """Rescale slope and intercept (PS3.3 C.11.1.1.2), from functional groups when enhanced."""
    if isinstance(ds_or_header, InstanceHeader):
        return _float(ds_or_header.rescale_slope, 1.0), _float(ds_or_header.rescale_intercept, 0.0)
    ds = ds_or_header
    if "RescaleSlope" in ds or "RescaleIntercept" in ds:
        return _float(ds.get("RescaleSlope"), 1.0), _float(ds.get("RescaleIntercept"), 0.0)
    item = _frame_item(ds, frame, "PixelValueTransformationSequence")
    if item is not None:
        return _float(item.get("RescaleSlope"), 1.0), _float(item.get("RescaleIntercept"), 0.0)
    return 1.0, 0.0


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
        return [value]
    return list(value)


def _windows(centers: Any, widths: Any, function: Any, explanations: Any) -> list[Window]:
    cs, ws, es = _as_list(centers), _as_list(widths), _as_list(explanations)
    fn = str(function or "LINEAR").upper()
    out: list[Window] = []
    for i, (c, w) in enumerate(zip(cs, ws)):
        try:
            out.append(Window(float(c), float(w), fn, str(es[i]) if i < len(es) else ""))
        except (TypeError, ValueError):
            continue
    return out


def windows_from_header(ds_or_header: Dataset | InstanceHeader, frame: int = 0) -> list[Window]:
    """Every valid Window Center/Width pair of the VOI LUT module (PS3.3 C.11.2), in order.

    For enhanced multi-frame datasets the Frame VOI LUT functional group is used.  Pairs that
    break the width rules of C.11.2.1.2 are skipped.  Use `voi_luts_from_header` for tables.
    """
    if isinstance(ds_or_header, InstanceHeader):
        return _windows(ds_or_header.window_center, ds_or_header.window_width,
                        ds_or_header.voi_lut_function or "LINEAR", None)
    ds = ds_or_header
    if "WindowCenter" in ds and "WindowWidth" in ds:
        return _windows(
            ds.WindowCenter, ds.WindowWidth, ds.get("VOILUTFunction"), ds.get("WindowCenterWidthExplanation")
        )
    item = _frame_item(ds, frame, "FrameVOILUTSequence")
    if item is not None and "WindowCenter" in item and "WindowWidth" in item:
        return _windows(
            item.WindowCenter, item.WindowWidth, item.get("VOILUTFunction"), item.get("WindowCenterWidthExplanation")
        )
    return []


def _lut_data(item: Dataset, ds: Dataset) -> tuple[int, np.ndarray, int]:
    descriptor = [int(v) for v in item.LUTDescriptor]
    n = descriptor[0] or 65536
    first = descriptor[1]
    bits = descriptor[2]
    elem = item["LUTData"]
    if elem.VR == "OW" or isinstance(elem.value, (bytes, bytearray)):
        little = True
        meta = getattr(ds, "file_meta", None)
        ts = str(getattr(meta, "TransferSyntaxUID", "") or "")
        if ts == "1.2.840.10008.1.2.2":
            little = False
        data = np.frombuffer(bytes(elem.value), dtype="<u2" if little else ">u2")[:n]
    else:
        data = np.asarray(_as_list(elem.value), dtype=np.int64)[:n]
    return first, np.asarray(data, dtype=np.uint16 if bits > 8 else np.uint8), bits


def voi_luts_from_header(ds: Dataset) -> list[VoiLut]:
    """Items of the VOI LUT Sequence (PS3.3 C.11.2.1.1) as `VoiLut` tables."""
    out: list[VoiLut] = []
    for item in ds.get("VOILUTSequence") or []:
        if "LUTDescriptor" not in item or "LUTData" not in item:
            continue
        first, data, bits = _lut_data(item, ds)
        out.append(VoiLut(first, data, bits, str(item.get("LUTExplanation", "") or "")))
    return out


def modality_lut_from_header(ds: Dataset) -> ModalityLut | None:
    """The Modality LUT Sequence item (PS3.3 C.11.1.1) when present, else None."""
    seq = ds.get("ModalityLUTSequence")
    if not seq or "LUTDescriptor" not in seq[0] or "LUTData" not in seq[0]:
        return None
    first, data, bits = _lut_data(seq[0], ds)
    return ModalityLut(first, data, bits)


def is_inverted(ds_or_header: Dataset | InstanceHeader) -> bool:
    """MONOCHROME1 shows minimum values white (PS3.3 C.7.6.3.1.2): invert the display."""
    if isinstance(ds_or_header, InstanceHeader):
        pi = ds_or_header.photometric_interpretation
    else:
        pi = ds_or_header.get("PhotometricInterpretation", "")
    return str(pi or "").strip().upper() == "MONOCHROME1"


def full_range_window(lo: float, hi: float) -> Window:
    """A LINEAR window that maps `lo` to 0 and `hi` to 255 exactly."""
    lo, hi = float(lo), float(hi)
    if hi < lo:
        raise ValueError(f"hi: {hi} is below lo {lo}")
    return Window((lo + hi + 1.0) / 2.0, hi - lo + 1.0, "LINEAR", "full range")


def _sample(values: np.ndarray, limit: int = 262144) -> np.ndarray:
    arr = np.asarray(values)
    if arr.size <= limit:
        return arr.ravel()
    step = int(np.ceil(np.sqrt(arr.size / limit)))
    if arr.ndim >= 2:
        return arr[..., ::step, ::step].ravel()
    return arr[::step * step]


def auto_window(values: np.ndarray, modality: str = "") -> Window:
    """A window from the data: full range for radiographs, 0.5-99.5 percentiles otherwise.

    `values` are modality values (after rescale).  The image is subsampled to ≤ 256k pixels,
    so this stays well under a millisecond for big radiographs.
    """
    sample = _sample(values)
    if sample.size == 0:
        raise ValueError("values: empty array")
    sample = sample[np.isfinite(sample)] if sample.dtype.kind == "f" else sample
    if sample.size == 0:
        raise ValueError("values: no finite values")
    if modality.upper() in RADIOGRAPHIC_MODALITIES:
        lo, hi = float(sample.min()), float(sample.max())
        return Window((lo + hi + 1.0) / 2.0, hi - lo + 1.0, "LINEAR", "auto")
    lo, hi = (float(v) for v in np.percentile(sample, (0.5, 99.5)))
    if hi - lo < 1.0:
        lo, hi = float(sample.min()), float(sample.max())
    return Window((lo + hi) / 2.0, max(hi - lo, 1.0), "LINEAR", "auto")


#: Fixed presets per modality (window centre/width in modality units; HU for CT).
PRESETS: dict[str, dict[str, Window]] = {
    "CT": {
        "soft tissue": Window(40, 400, explanation="soft tissue"),
        "bone": Window(500, 2000, explanation="bone"),
        "bone (narrow)": Window(300, 1500, explanation="bone (narrow)"),
        "lung": Window(-600, 1500, explanation="lung"),
        "brain": Window(40, 80, explanation="brain"),
        "subdural": Window(75, 215, explanation="subdural"),
        "fat/fluid": Window(-40, 300, explanation="fat/fluid"),
        "mediastinum": Window(50, 350, explanation="mediastinum"),
        "liver": Window(60, 160, explanation="liver"),
    },
    "DX": {},
    "CR": {},
    "MR": {},
    "US": {},
}


class UnknownPreset(ValueError):
    """A preset name that is not one of the modality's presets (the message lists them)."""


def preset_names(modality: str) -> list[str]:
    """Preset names in key order for a modality: its fixed presets, then the data presets."""
    fixed = list(PRESETS.get(modality.upper(), {}))
    return fixed + list(DATA_PRESETS)


def preset_key(name: str) -> str:
    """A preset name as typed on a command line: lower case, words joined by '_'
    ("soft tissue" -> "soft_tissue", "fat/fluid" -> "fat_fluid", "bone (narrow)" ->
    "bone_narrow"); `resolve_preset` accepts either spelling."""
    return re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_")


def all_preset_keys() -> list[str]:
    """Every preset name of every modality, command-line spelling, fixed presets first."""
    keys = [preset_key(k) for presets in PRESETS.values() for k in presets]
    keys += [preset_key(k) for k in DATA_PRESETS]
    return list(dict.fromkeys(keys))


def resolve_preset(name: str, modality: str, values: np.ndarray | None = None) -> Window:
    """The window for preset `name` (either spelling, see `preset_key`); data presets need
    the modality values of the image.  Raises `UnknownPreset` for a name the modality lacks."""
    fixed = PRESETS.get(modality.upper(), {})
    key = preset_key(name)
    for k, w in fixed.items():
        if preset_key(k) == key:
            return w
    data = {preset_key(k): k for k in DATA_PRESETS}
    if key in data:
        if values is None:
            raise ValueError(f"values: preset {name!r} is computed from the image; pass its values")
        if data[key] == "auto":
            return auto_window(values, modality)
        sample = np.asarray(values)
        return full_range_window(float(np.nanmin(sample)), float(np.nanmax(sample)))
    have = ", ".join(preset_key(k) for k in preset_names(modality))
    raise UnknownPreset(f"unknown preset {name!r} for {modality or 'this modality'}: "
                        f"choose one of {have}")


@dataclass(frozen=True, eq=False)
class DisplayLut:
    """Stored values to 0..255, folded from rescale (or Modality LUT), window and inversion.

    `scale`/`offset` are set when the mapping is linear (LINEAR or LINEAR_EXACT window after a
    linear rescale); `to_display_uint8` then uses the folded multiply-add, which is faster than
    a gather and gives the same result.  `table` (uint8, indexed by the stored value's unsigned
    bit pattern, for stored types of ≤ 16 bits; else None) is built on first use and kept: the
    linear path never needs it, so a window drag does not pay for a 64k-entry table per step.
    """

    dtype: np.dtype
    scale: float | None
    offset: float | None
    slope: float
    intercept: float
    window: Window | VoiLut
    invert: bool
    modality: ModalityLut | None = None
    _table: list[np.ndarray | None] = field(default_factory=list, init=False, repr=False)

    @property
    def table(self) -> np.ndarray | None:
        """The 2**bits-entry uint8 table of every stored bit pattern (None above 16 bits)."""
        if not self._table:
            self._table.append(_build_table(self))
        return self._table[0]


def _build_table(lut: DisplayLut) -> np.ndarray | None:
    """Every stored bit pattern of `lut.dtype` mapped to 0..255 (None for types over 16 bits)."""
    dt = lut.dtype
    if dt.itemsize > 2:
        return None
    n = 2 ** (dt.itemsize * 8)
    return _grey_of(lut, np.arange(n, dtype=np.int64).astype(np.dtype(f"u{dt.itemsize}")).view(dt))


def _grey_of(lut: DisplayLut, values: np.ndarray) -> np.ndarray:
    """0..255 display values of a 1-D array of stored values through `lut`."""
    if lut.scale is not None and lut.offset is not None:
        return _fold(values.reshape(1, -1), lut.scale, lut.offset).ravel()
    return _exact(values, lut.slope, lut.intercept, lut.window, lut.invert, lut.modality)


def _stored_range(dtype: np.dtype, bits_stored: int | None) -> tuple[int, int]:
    bits = min(bits_stored or dtype.itemsize * 8, dtype.itemsize * 8)
    if dtype.kind == "i":
        return -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    return 0, 2**bits - 1


def _exact(
    stored: np.ndarray,
    slope: float,
    intercept: float,
    window: Window | VoiLut,
    invert: bool,
    modality: ModalityLut | None,
) -> np.ndarray:
    # extreme rescale values overflow to +-inf, which the clip below saturates
    with np.errstate(over="ignore", invalid="ignore"):
        values = modality.apply(stored) if modality is not None else modality_lut(stored, slope, intercept)
        if isinstance(window, VoiLut):
            y = window.apply(values)
        else:
            y = apply_window(values, window)
        if invert:
            y = 255.0 - y
        y += 0.5
        np.clip(y, 0.0, 255.0, out=y)
        np.nan_to_num(y, copy=False, nan=0.0)
        return y.astype(np.uint8)


def _fold(x: np.ndarray, scale: float, offset: float, out: np.ndarray | None = None) -> np.ndarray:
    """clip(x * scale + offset, 0, 255) truncated to uint8, in float32, row-chunked.

    Chunking keeps the float32 scratch in cache; on a 2000x2000 frame this halves the time.
    Frames above `_CHUNK_ABOVE_ELEMENTS` are folded in two halves on two threads (numpy
    releases the GIL in its loops), which nearly halves a big radiograph again.
    """
    if out is None:
        out = np.empty(x.shape, dtype=np.uint8)
    if x.ndim == 0 or x.size == 0:
        np.copyto(out, np.clip(np.float32(x) * np.float32(scale) + np.float32(offset), 0, 255), casting="unsafe")
        return out
    x2 = x.reshape(-1, x.shape[-1]) if x.ndim != 2 else x
    o2 = out.reshape(-1, out.shape[-1]) if out.ndim != 2 else out  # a view: out is C-contiguous
    s, b = np.float32(scale), np.float32(offset)
    if x2.size <= _CHUNK_ABOVE_ELEMENTS:
        _fold_rows(x2, o2, s, b, x2.shape[0])
        return out
    rows = max(1, _ROWS_PER_CHUNK_ELEMENTS // max(x2.shape[1], 1))
    half = x2.shape[0] // 2
    job = _pool().submit(_fold_rows, x2[:half], o2[:half], s, b, rows)
    _fold_rows(x2[half:], o2[half:], s, b, rows)
    job.result()
    return out


def _fold_rows(x2: np.ndarray, o2: np.ndarray, s: np.float32, b: np.float32, rows: int) -> None:
    """`_fold` of a 2-D block, `rows` rows at a time through one float32 scratch buffer."""
    buf = np.empty((min(rows, x2.shape[0]), x2.shape[1]), dtype=np.float32)
    for i in range(0, x2.shape[0], rows):
        xs = x2[i : i + rows]
        bb = buf[: xs.shape[0]]
        np.multiply(xs, s, out=bb)
        bb += b
        np.clip(bb, 0.0, 255.0, out=bb)
        np.copyto(o2[i : i + rows], bb, casting="unsafe")


def build_display_lut(
    dtype: np.dtype | type | str,
    slope: float = 1.0,
    intercept: float = 0.0,
    window: Window | VoiLut | None = None,
    invert: bool = False,
    *,
    bits_stored: int | None = None,
    modality: ModalityLut | None = None,
) -> DisplayLut:
    """Fold Modality LUT (C.11.1), VOI (C.11.2) and MONOCHROME1 inversion into one mapping.

    `dtype` is the dtype of the stored array to be shown.  Without a window the whole range
    of stored values (by `bits_stored`) after rescale is shown.
    """
    dt = np.dtype(dtype)
    if dt.kind not in "uib":
        raise ValueError(f"dtype: stored values must be integers, not {dt}")
    if dt.kind == "b":
        dt = np.dtype(np.uint8)
    if not math.isfinite(slope) or slope == 0:
        raise ValueError(f"slope: must be finite and non-zero, not {slope}")
    if not math.isfinite(intercept):
        raise ValueError(f"intercept: must be finite, not {intercept}")
    if window is None:
        lo, hi = _stored_range(dt, bits_stored)
        if modality is not None:
            ys = modality.apply(np.array([lo, hi]))
            lo_v, hi_v = float(ys.min()), float(ys.max())
        else:
            lo_v, hi_v = sorted((lo * slope + intercept, hi * slope + intercept))
        window = full_range_window(lo_v, hi_v)
    scale: float | None = None
    offset: float | None = None
    if modality is None and isinstance(window, Window) and window.function != "SIGMOID":
        c, w = window.center, window.width
        if window.function == "LINEAR":
            c, w = c - 0.5, w - 1.0
        if w > 0:
            # y = ((x*slope + intercept - c) / w + 0.5) * 255
            scale = slope * 255.0 / w
            offset = ((intercept - c) / w + 0.5) * 255.0
            if invert:
                scale, offset = -scale, 255.0 - offset
            offset += 0.5
            if not (abs(scale) < _FOLD_LIMIT and abs(offset) < _FOLD_LIMIT):
                # beyond float32 (a damaged slope such as 1e308): the exact float64 path
                scale = offset = None
    return DisplayLut(dt, scale, offset, float(slope), float(intercept), window, bool(invert), modality)


def to_display_uint8(stored: np.ndarray, lut: DisplayLut, out: np.ndarray | None = None) -> np.ndarray:
    """Stored grey values to 0..255 display values through a prebuilt `DisplayLut`."""
    arr = np.asarray(stored)
    if arr.dtype.kind == "b":
        arr = arr.view(np.uint8)
    if arr.dtype.byteorder not in ("=", "|"):
        arr = arr.astype(arr.dtype.newbyteorder("="))
    if arr.dtype != lut.dtype:
        raise ValueError(f"stored: dtype {arr.dtype} does not match the DisplayLut's {lut.dtype}")
    if out is not None and (out.shape != arr.shape or out.dtype != np.uint8 or not out.flags.c_contiguous):
        raise ValueError(f"out: needs a C-contiguous uint8 array of shape {arr.shape}")
    if lut.scale is not None and lut.offset is not None:
        return _fold(arr, lut.scale, lut.offset, out)
    if lut.table is not None:
        idx = arr.view(np.dtype(f"u{arr.dtype.itemsize}"))
        if out is None:
            out = np.empty(arr.shape, dtype=np.uint8)
        if idx.size > _CHUNK_ABOVE_ELEMENTS and idx.ndim >= 2:
            _gather_in_halves(lut.table, idx, out)
        else:
            np.take(lut.table, idx, out=out, mode="wrap")
        return out
    result = _exact(arr, lut.slope, lut.intercept, lut.window, lut.invert, lut.modality)
    if out is None:
        return result
    out[...] = result
    return out


_F0, _F255 = np.float32(0.0), np.float32(255.0)
_GREY_RGB, _OPAQUE = np.uint32(0x010101), np.uint32(0xFF000000)


class GreyTable:
    """A reusable stored-value -> 0xFFgggggg table for one `DisplayLut` at a time, filled only
    over the stored values actually met.

    A window/level drag changes the window on every mouse move.  Building the whole 64k-entry
    table for each step would cost a quarter of a 512x512 frame; folding the frame to uint8
    and widening it to 32-bit pixels costs two passes.  Instead this table is (re)filled over
    the frame's own value range (a CT slice spans a few thousand values: ~10 µs) and the frame
    is mapped in one gather straight to paintable pixels.  Scrolling with the same window only
    extends the filled range when a slice brings values not seen yet.

    Entries outside the filled range are garbage, so callers pass the frame's true min and max
    (`frame_range`).  Only integer stored types of at most 16 bits have a table.
    """

    __slots__ = ("dtype", "table", "_lut", "_lo", "_hi", "_ramp", "_buffer")

    def __init__(self, dtype: np.dtype | type | str) -> None:
        dt = np.dtype(dtype)
        if dt.kind not in "iu" or dt.itemsize > 2:
            raise ValueError(f"dtype: a grey table needs integers of at most 16 bits, not {dt}")
        self.dtype = dt
        self.table = np.empty(2 ** (dt.itemsize * 8), dtype=np.uint32)
        self._lut: DisplayLut | None = None
        self._lo = 0
        self._hi = -1
        self._ramp: tuple[int, int, np.ndarray] | None = None
        self._buffer: np.ndarray | None = None

    @staticmethod
    def supports(dtype: np.dtype) -> bool:
        return dtype.kind in "iu" and dtype.itemsize <= 2

    def _fill(self, lut: DisplayLut, lo: int, hi: int) -> None:
        """Entries for stored values lo..hi (inclusive), split where a signed range crosses 0."""
        pieces = [(lo, min(hi, -1)), (max(lo, 0), hi)] if lo < 0 else [(lo, hi)]
        mask = self.table.size - 1
        linear = lut.scale is not None and lut.offset is not None
        values = self._values(lo, hi) if linear else None
        for a, b in pieces:
            if b < a:
                continue
            start = a & mask
            dest = self.table[start : start + (b - a + 1)]
            if values is not None:
                # `_fold` on the values a..b, written straight as grey pixels: the same float32
                # multiply-add and truncation, without building the stored values first
                # (the ufuncs themselves, not np.clip's Python wrappers: this runs on every
                # step of a window drag, where the wrappers cost more than the arithmetic)
                grey = self._scratch(b - a + 1)
                np.multiply(values[a - lo : b - lo + 1], np.float32(lut.scale), out=grey)
                np.add(grey, np.float32(lut.offset), out=grey)
                np.minimum(grey, _F255, out=grey)
                np.maximum(grey, _F0, out=grey)
                np.copyto(dest, grey, casting="unsafe")
                np.multiply(dest, _GREY_RGB, out=dest)
            else:
                grey8 = _grey_of(lut, np.arange(a, b + 1, dtype=np.int64).astype(self.dtype))
                np.multiply(grey8, np.uint32(0x010101), out=dest, casting="unsafe")
            np.bitwise_or(dest, _OPAQUE, out=dest)

    def _values(self, lo: int, hi: int) -> np.ndarray:
        """The stored values lo..hi as float32 (exact for ≤ 16-bit integers), kept between
        fills: a window drag refills the same range on every step."""
        got = self._ramp
        if got is None or got[0] != lo or got[1] != hi:
            got = self._ramp = (lo, hi, np.arange(lo, hi + 1, dtype=np.float32))
        return got[2]

    def _scratch(self, n: int) -> np.ndarray:
        if self._buffer is None or self._buffer.size < n:
            self._buffer = np.empty(max(n, 4096), dtype=np.float32)
        return self._buffer[:n]

    def prepare(self, lut: DisplayLut, lo: int, hi: int) -> None:
        """Make entries lo..hi valid for `lut` (refilling everything when `lut` is new)."""
        if lut.dtype != self.dtype:
            raise ValueError(f"lut: built for {lut.dtype}, this table is for {self.dtype}")
        lo, hi = int(lo), int(hi)
        if lut is not self._lut or self._hi < self._lo:
            self._lut = lut
            self._fill(lut, lo, hi)
            self._lo, self._hi = lo, hi
            return
        if lo < self._lo:
            self._fill(lut, lo, self._lo - 1)
            self._lo = lo
        if hi > self._hi:
            self._fill(lut, self._hi + 1, hi)
            self._hi = hi

    def apply(self, stored: np.ndarray, lut: DisplayLut, frame_range: tuple[int, int],
              out: np.ndarray | None = None, index: np.ndarray | None = None) -> np.ndarray:
        """`stored` as opaque grey 32-bit pixels (QImage.Format_RGB32 layout), the same grey
        levels as `to_display_uint8(stored, lut)`.  `frame_range` is (min, max) of `stored`;
        `index` is `table_index(stored)` when the caller keeps it for the frame (a window drag
        applies a new table to the same frame on every step)."""
        arr = np.asarray(stored)
        if arr.dtype != self.dtype:
            raise ValueError(f"stored: dtype {arr.dtype} does not match the table's {self.dtype}")
        if index is not None and (index.shape != arr.shape or index.dtype != np.intp):
            raise ValueError(f"index: needs table_index(stored), an intp array of shape {arr.shape}")
        self.prepare(lut, *frame_range)
        if out is None or out.shape != arr.shape or out.dtype != np.uint32 or not out.flags.c_contiguous:
            out = np.empty(arr.shape, dtype=np.uint32)
        if index is None:
            index = arr.view(np.dtype(f"u{arr.dtype.itemsize}"))  # same item size: fine for any strides
        self.table.take(index, out=out, mode="wrap")
        return out


def table_index(stored: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """The unsigned bit patterns of an integer frame of at most 16 bits as intp: what
    `np.take` indexes a `GreyTable` with.  `np.take` casts smaller indices to intp into a new
    array on every call; a caller that keeps this for its frame saves that pass (and the page
    faults of a fresh array) on every window step.  `out`, when of the right shape, is reused."""
    arr = np.asarray(stored)
    if arr.dtype.kind not in "iu" or arr.dtype.itemsize > 2:
        raise ValueError(f"stored: needs integers of at most 16 bits, not {arr.dtype}")
    if out is None or out.shape != arr.shape or out.dtype != np.intp or not out.flags.c_contiguous:
        out = np.empty(arr.shape, dtype=np.intp)
    np.copyto(out, arr.view(np.dtype(f"u{arr.dtype.itemsize}")), casting="unsafe")
    return out


def frame_range(stored: np.ndarray) -> tuple[int, int]:
    """(min, max) of an integer frame as Python ints."""
    arr = np.asarray(stored)
    return int(arr.min()), int(arr.max())


_worker: ThreadPoolExecutor | None = None


def _pool() -> ThreadPoolExecutor:
    """One helper thread for the second half of a big frame's display pass."""
    global _worker
    if _worker is None:
        _worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ioreview-lut")
    return _worker


def _gather_in_halves(table: np.ndarray, idx: np.ndarray, out: np.ndarray) -> None:
    """np.take releases the GIL: two halves on two threads nearly halve a big radiograph."""
    half = idx.shape[0] // 2
    job = _pool().submit(np.take, table, idx[:half], None, out[:half], "wrap")
    np.take(table, idx[half:], out=out[half:], mode="wrap")
    job.result()


def rgb_to_uint8(arr: np.ndarray, bits: int | None = None) -> np.ndarray:
    """Colour samples to 8 bits for display; RGB of 8 bits passes through unchanged.

    Deeper samples (16-bit palettes, 12/16/32-bit RGB) keep their top 8 of `bits` bits.
    """
    a = np.asarray(arr)
    if a.dtype == np.uint8:
        return a
    if a.dtype.kind not in "ui":
        raise ValueError(f"arr: colour samples must be integers, not {a.dtype}")
    nbits = bits or a.dtype.itemsize * 8
    if nbits <= 8:
        return np.clip(a, 0, 255).astype(np.uint8)
    return (np.clip(a, 0, None).astype(np.uint64) >> np.uint64(nbits - 8)).clip(0, 255).astype(np.uint8)
