"""Calibrated measurements on image pixels, labelled with where the calibration comes from.

Points are (row, col) image pixel coordinates as floats.  Pixel Spacing is "in patient";
Imager Pixel Spacing is "at detector" and is only a patient size once divided by the
Estimated Radiographic Magnification Factor (PS3.3 10.7.1.3); ultrasound calibrates per
region (PS3.3 C.8.5.5).  Without any of these, lengths stay in pixels: never guessed.
"""
from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

import numpy as np
from pydicom.dataset import Dataset

from ioreview.imaging.decode import read_header
from ioreview.imaging.header import InstanceHeader

__all__ = [
    "CalibrationSource",
    "Calibration",
    "RoiStats",
    "calibration_for",
    "read_calibration_header",
    "length_mm",
    "angle_deg",
    "ellipse_mask",
    "polygon_mask",
    "roi_stats",
    "value_unit",
]

Point = tuple[float, float]

#: Region Spatial Format (0018,6012) 1 = 2D tissue or flow; Physical Units (0018,6024) 3 = cm.
_US_2D = 1
_US_CM = 3


class CalibrationSource(str, Enum):
    """Where a length calibration comes from (shown next to every measurement)."""

    PATIENT = "Pixel Spacing, in patient"
    DETECTOR = "Imager Pixel Spacing, at detector"
    DETECTOR_CORRECTED = "Imager Pixel Spacing corrected by Estimated Radiographic Magnification Factor"
    ULTRASOUND = "Ultrasound region calibration"
    UNCALIBRATED = "pixels"


@dataclass(frozen=True)
class Calibration:
    """Millimetres per pixel along rows (vertical) and columns (horizontal), and their source."""

    source: CalibrationSource
    row_spacing_mm: float = 1.0
    col_spacing_mm: float = 1.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "source", CalibrationSource(self.source))
        for name in ("row_spacing_mm", "col_spacing_mm"):
            v = float(getattr(self, name))
            if not (math.isfinite(v) and v > 0):
                raise ValueError(f"{name}: must be a positive number, not {v}")
            object.__setattr__(self, name, v)

    @property
    def calibrated(self) -> bool:
        return self.source is not CalibrationSource.UNCALIBRATED

    @property
    def unit(self) -> str:
        """Length unit of measurements made with this calibration: "mm" or "px"."""
        return "mm" if self.calibrated else "px"

    @property
    def area_unit(self) -> str:
        return "mm²" if self.calibrated else "px²"

    @property
    def label(self) -> str:
        """Overlay text, e.g. "mm (Imager Pixel Spacing, at detector)"."""
        if not self.calibrated:
            return "px (uncalibrated)"
        return f"mm ({self.source.value})"

    @classmethod
    def uncalibrated(cls) -> Calibration:
        return cls(CalibrationSource.UNCALIBRATED, 1.0, 1.0)


def _pair(value: Any) -> tuple[float, float] | None:
    if value is None:
        return None
    try:
        vals = [float(v) for v in value]
    except (TypeError, ValueError):
        return None
    if len(vals) != 2 or not all(math.isfinite(v) and v > 0 for v in vals):
        return None
    return vals[0], vals[1]


def _positive(value: Any) -> float | None:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) and v > 0 else None


def _functional_pixel_spacing(ds: Dataset) -> Any:
    for group in ("SharedFunctionalGroupsSequence", "PerFrameFunctionalGroupsSequence"):
        seq = ds.get(group)
        if seq and seq[0].get("PixelMeasuresSequence"):
            return seq[0].PixelMeasuresSequence[0].get("PixelSpacing")
    return None


def _ultrasound(ds: Dataset, point: Point | None) -> Calibration | None:
    regions = ds.get("SequenceOfUltrasoundRegions") or []
    usable = []
    for r in regions:
        if (
            r.get("RegionSpatialFormat") == _US_2D
            and r.get("PhysicalUnitsXDirection") == _US_CM
            and r.get("PhysicalUnitsYDirection") == _US_CM
        ):
            dx, dy = _positive(r.get("PhysicalDeltaX")), _positive(r.get("PhysicalDeltaY"))
            if dx is None or dy is None:
                continue
            box = (
                r.get("RegionLocationMinX0", 0),
                r.get("RegionLocationMinY0", 0),
                r.get("RegionLocationMaxX1", 0),
                r.get("RegionLocationMaxY1", 0),
            )
            usable.append((box, Calibration(CalibrationSource.ULTRASOUND, dy * 10.0, dx * 10.0)))
    if point is None:
        return usable[0][1] if len(usable) == 1 else None
    row, col = point
    for (x0, y0, x1, y1), cal in usable:
        if x0 <= col <= x1 and y0 <= row <= y1:
            return cal
    return None


def calibration_for(ds_or_header: Dataset | InstanceHeader, point: Point | None = None) -> Calibration:
    """The calibration to use for a measurement at `point` (row, col) of this image.

    Order: Pixel Spacing (PS3.3 10.7.1.3, "in patient"); for projection radiographs Imager
    Pixel Spacing divided by Estimated Radiographic Magnification Factor when present, else
    Imager Pixel Spacing itself labelled "at detector"; ultrasound regions measured in cm
    (PS3.3 C.8.5.5.1) containing `point` (or the only such region when `point` is None);
    otherwise uncalibrated pixels.
    """
    if isinstance(ds_or_header, InstanceHeader):
        h = ds_or_header
        ps = _pair(h.pixel_spacing)
        ips = _pair(h.imager_pixel_spacing)
        emf = _positive(h.estimated_magnification)
        ds = None
    else:
        ds = ds_or_header
        ps = _pair(ds.get("PixelSpacing")) or _pair(_functional_pixel_spacing(ds))
        ips = _pair(ds.get("ImagerPixelSpacing"))
        emf = _positive(ds.get("EstimatedRadiographicMagnificationFactor"))
    if ps is not None:
        return Calibration(CalibrationSource.PATIENT, ps[0], ps[1])
    if ips is not None:
        if emf is not None:
            return Calibration(CalibrationSource.DETECTOR_CORRECTED, ips[0] / emf, ips[1] / emf)
        return Calibration(CalibrationSource.DETECTOR, ips[0], ips[1])
    if ds is not None:
        cal = _ultrasound(ds, point)
        if cal is not None:
            return cal
    return Calibration.uncalibrated()


def read_calibration_header(path: str | os.PathLike[str]) -> Dataset:
    """A file's header without pixels, for `calibration_for` where the index lacks what it
    needs (ultrasound regions, PS3.3 C.8.5.5); empty when the file cannot be read, so the
    image stays uncalibrated rather than guessed."""
    try:
        return read_header(path)  # an older bare data set too, as import reads it
    except Exception:  # pydicom raises many kinds for damaged files
        return Dataset()


def _point(p: Sequence[float], name: str) -> tuple[float, float]:
    try:
        r, c = (float(v) for v in p)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name}: expected a (row, col) pair, got {p!r}") from exc
    if not (math.isfinite(r) and math.isfinite(c)):
        raise ValueError(f"{name}: coordinates must be finite, got {p!r}")
    return r, c


def length_mm(p0: Point, p1: Point, cal: Calibration) -> float:
    """Distance between two points: millimetres, or pixels when `cal` is uncalibrated (see cal.unit)."""
    r0, c0 = _point(p0, "p0")
    r1, c1 = _point(p1, "p1")
    return math.hypot((r1 - r0) * cal.row_spacing_mm, (c1 - c0) * cal.col_spacing_mm)


def angle_deg(a: Point, vertex: Point, b: Point, cal: Calibration | None = None) -> float:
    """The angle a-vertex-b in degrees (0..180), in physical space when `cal` is given."""
    ra, ca = _point(a, "a")
    rv, cv = _point(vertex, "vertex")
    rb, cb = _point(b, "b")
    sr, sc = (cal.row_spacing_mm, cal.col_spacing_mm) if cal is not None else (1.0, 1.0)
    u = np.array([(ra - rv) * sr, (ca - cv) * sc])
    v = np.array([(rb - rv) * sr, (cb - cv) * sc])
    nu, nv = np.linalg.norm(u), np.linalg.norm(v)
    if nu == 0 or nv == 0:
        raise ValueError("vertex: coincides with an end point; the angle is undefined")
    cos = float(np.clip(np.dot(u, v) / (nu * nv), -1.0, 1.0))
    return math.degrees(math.acos(cos))


def ellipse_mask(shape: tuple[int, int], center: Point, radii: tuple[float, float]) -> np.ndarray:
    """Boolean mask of an axis-aligned ellipse; `radii` are (row radius, col radius) in pixels."""
    if len(shape) != 2:
        raise ValueError(f"shape: expected (rows, cols), got {shape!r}")
    r, c = _point(center, "center")
    rr_, cr_ = (float(v) for v in radii)
    if rr_ <= 0 or cr_ <= 0:
        raise ValueError(f"radii: must be positive, got {radii!r}")
    mask = np.zeros(shape, dtype=bool)
    from skimage.draw import ellipse  # (scikit-image loads on first use: ~0.1 s)

    rr, cc = ellipse(r, c, rr_, cr_, shape=shape)
    mask[rr, cc] = True
    return mask


def polygon_mask(shape: tuple[int, int], points: Sequence[Point]) -> np.ndarray:
    """Boolean mask of a closed polygon through `points` (row, col)."""
    if len(shape) != 2:
        raise ValueError(f"shape: expected (rows, cols), got {shape!r}")
    pts = np.array([_point(p, "points") for p in points], dtype=np.float64)
    if len(pts) < 3:
        raise ValueError(f"points: a polygon needs at least 3 points, got {len(pts)}")
    mask = np.zeros(shape, dtype=bool)
    from skimage.draw import polygon

    rr, cc = polygon(pts[:, 0], pts[:, 1], shape=shape)
    mask[rr, cc] = True
    return mask


@dataclass(frozen=True)
class RoiStats:
    """Statistics of the modality values inside an ROI; `sd` is the sample SD (n - 1)."""

    area: float
    area_unit: str
    mean: float
    sd: float
    min: float
    max: float
    n_pixels: int
    unit: str


def value_unit(ds_or_header: Dataset | InstanceHeader) -> str:
    """The unit of modality values: "HU" on CT, else Rescale Type (PS3.3 C.11.1.1.2) or ""."""
    if isinstance(ds_or_header, InstanceHeader):
        return "HU" if ds_or_header.modality.upper() == "CT" else ""
    modality = str(ds_or_header.get("Modality", "") or "").upper()
    rescale_type = str(ds_or_header.get("RescaleType", "") or "")
    if modality == "CT":
        return "HU"
    return "" if rescale_type.upper() == "US" else rescale_type


def roi_stats(values: np.ndarray, mask: np.ndarray, cal: Calibration, unit: str = "") -> RoiStats:
    """Area and value statistics of `values` (modality units, e.g. HU) inside `mask`."""
    v = np.asarray(values)
    m = np.asarray(mask, dtype=bool)
    if v.shape[:2] != m.shape or v.ndim != 2:
        raise ValueError(f"mask: shape {m.shape} does not match the 2-D values {v.shape}")
    inside = v[m].astype(np.float64)
    n = int(inside.size)
    area = n * cal.row_spacing_mm * cal.col_spacing_mm
    if n == 0:
        nan = float("nan")
        return RoiStats(0.0, cal.area_unit, nan, nan, nan, nan, 0, unit)
    sd = float(inside.std(ddof=1)) if n > 1 else 0.0
    return RoiStats(
        float(area), cal.area_unit, float(inside.mean()), sd, float(inside.min()), float(inside.max()), n, unit
    )
