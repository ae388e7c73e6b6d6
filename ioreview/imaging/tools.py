"""Assistive image tools (scikit-image): they return masks and numbers, the reader decides.

Region growing for collections (extravasation, haematoma, abscess), a fat map for
fat-attenuation lesions (fat embolism tracks, marrow fat in soft tissue) and CLAHE for
radiographs.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy import ndimage
from skimage.exposure import equalize_adapthist
from skimage.segmentation import flood

__all__ = ["RegionResult", "grow_region", "fat_map", "fat_overlay_rgba", "clahe"]

#: Fat attenuation on CT (HU), the usual band used for fat-containing lesions.
FAT_HU: tuple[float, float] = (-120.0, -30.0)


@dataclass(frozen=True, eq=False)
class RegionResult:
    """A grown region: its mask over the whole input, volume and HU statistics."""

    mask: np.ndarray = field(repr=False)
    volume_ml: float
    mean_hu: float
    sd_hu: float
    n_voxels: int
    slices: tuple[int, ...]
    band_hu: tuple[float, float] = (0.0, 0.0)


def _clean(region: np.ndarray, seed: tuple[int, ...]) -> np.ndarray:
    """Opening cuts thin leaks, closing and hole filling smooth it; keeps the seed's component."""
    struct = ndimage.generate_binary_structure(region.ndim, 1)
    opened = ndimage.binary_opening(region, structure=struct)
    if opened[seed]:
        labels, _ = ndimage.label(opened, structure=struct)
        region = labels == labels[seed]
    closed = ndimage.binary_closing(region, structure=struct, border_value=0) | region
    if closed.ndim == 3:
        filled = np.stack([ndimage.binary_fill_holes(s) for s in closed])
    else:
        filled = ndimage.binary_fill_holes(closed)
    return filled


def grow_region(
    volume_hu: np.ndarray,
    seed: tuple[int, int, int],
    tolerance_hu: float = 30,
    hu_range: tuple[float, float] | None = None,
    spacing_zyx: tuple[float, float, float] = (1, 1, 1),
    max_slices: int | None = None,
) -> RegionResult:
    """Grow a 6-connected region from `seed` (z, y, x) over voxels within the HU band.

    The band is seed value ± `tolerance_hu`, narrowed to `hu_range` when given.  `max_slices`
    limits the search to that many slices centred on the seed.  The region is cleaned with a
    binary opening (removing one-voxel bridges), closing and per-slice hole filling, all inside
    the region's bounding box.  A 2-D image is treated as one slice.
    """
    vol = np.asarray(volume_hu)
    if vol.ndim == 2:
        vol = vol[np.newaxis]
        if len(seed) == 2:
            seed = (0, int(seed[0]), int(seed[1]))
    if vol.ndim != 3:
        raise ValueError(f"volume_hu: expected a (z, y, x) array, got shape {vol.shape}")
    if len(seed) != 3 or any(not 0 <= int(s) < n for s, n in zip(seed, vol.shape)):
        raise ValueError(f"seed: {seed} is outside the volume {vol.shape}")
    if tolerance_hu < 0:
        raise ValueError(f"tolerance_hu: must be >= 0, not {tolerance_hu}")
    if max_slices is not None and max_slices < 1:
        raise ValueError(f"max_slices: must be >= 1, not {max_slices}")
    if any(float(s) <= 0 for s in spacing_zyx) or len(spacing_zyx) != 3:
        raise ValueError(f"spacing_zyx: expected three positive spacings, got {spacing_zyx}")
    sz, sy, sx = (int(s) for s in seed)
    seed_value = float(vol[sz, sy, sx])
    lo, hi = seed_value - tolerance_hu, seed_value + tolerance_hu
    if hu_range is not None:
        r0, r1 = sorted(float(v) for v in hu_range)
        if not r0 <= seed_value <= r1:
            raise ValueError(f"hu_range: the seed value {seed_value:.0f} HU lies outside {hu_range}")
        lo, hi = max(lo, r0), min(hi, r1)
    z0, z1 = 0, vol.shape[0]
    if max_slices is not None:
        half = max_slices // 2
        z0 = max(0, sz - half)
        z1 = min(vol.shape[0], z0 + max_slices)
    sub = vol[z0:z1]
    band = (sub >= lo) & (sub <= hi)
    local_seed = (sz - z0, sy, sx)
    region = flood(band.view(np.uint8), local_seed, connectivity=1)
    idx = np.nonzero(region)
    box = tuple(slice(max(int(a.min()) - 2, 0), min(int(a.max()) + 3, n)) for a, n in zip(idx, sub.shape))
    cleaned_box = _clean(region[box], tuple(s - b.start for s, b in zip(local_seed, box)))
    mask = np.zeros(vol.shape, dtype=bool)
    zbox = slice(box[0].start + z0, box[0].stop + z0)
    mask[zbox, box[1], box[2]] = cleaned_box
    values = vol[mask].astype(np.float64)
    n = int(values.size)
    voxel_ml = float(np.prod([float(s) for s in spacing_zyx])) / 1000.0
    slices = tuple(int(z) for z in np.flatnonzero(mask.any(axis=(1, 2))))
    return RegionResult(
        mask=mask if np.asarray(volume_hu).ndim == 3 else mask[0],
        volume_ml=n * voxel_ml,
        mean_hu=float(values.mean()) if n else float("nan"),
        sd_hu=float(values.std(ddof=1)) if n > 1 else 0.0,
        n_voxels=n,
        slices=slices,
        band_hu=(lo, hi),
    )


def fat_map(values_hu: np.ndarray, hu_range: tuple[float, float] = FAT_HU) -> np.ndarray:
    """Boolean mask of fat-attenuation pixels (default -120..-30 HU, inclusive)."""
    lo, hi = sorted(float(v) for v in hu_range)
    v = np.asarray(values_hu)
    return (v >= lo) & (v <= hi)


def fat_overlay_rgba(
    mask: np.ndarray, color: tuple[int, int, int] = (255, 200, 0), alpha: float = 0.45
) -> np.ndarray:
    """An RGBA uint8 overlay: `color` at `alpha` where `mask` is set, transparent elsewhere."""
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha: must be within 0..1, not {alpha}")
    if len(color) != 3 or any(not 0 <= int(c) <= 255 for c in color):
        raise ValueError(f"color: expected three 0..255 values, got {color!r}")
    m = np.asarray(mask, dtype=bool)
    out = np.zeros(m.shape + (4,), dtype=np.uint8)
    out[m] = (int(color[0]), int(color[1]), int(color[2]), int(round(alpha * 255)))
    return out


def clahe(
    image: np.ndarray, clip_limit: float = 0.01, kernel_size: int | tuple[int, int] | None = None
) -> np.ndarray:
    """Contrast-limited adaptive histogram equalisation for display, as uint8 (H, W).

    The image (any grey values) is first scaled from its 0.5-99.5 percentiles to 0..1; the
    result is for looking only, never for measuring.
    """
    img = np.asarray(image)
    if img.ndim != 2:
        raise ValueError(f"image: expected a 2-D grey image, got shape {img.shape}")
    if not 0 < clip_limit <= 1:
        raise ValueError(f"clip_limit: must be within (0, 1], not {clip_limit}")
    f = img.astype(np.float64)
    lo, hi = np.percentile(f, (0.5, 99.5))
    if hi <= lo:
        lo, hi = float(f.min()), float(f.max())
    scaled = np.zeros_like(f) if hi <= lo else np.clip((f - lo) / (hi - lo), 0.0, 1.0)
    eq = equalize_adapthist(scaled, kernel_size=kernel_size, clip_limit=clip_limit)
    return np.clip(eq * 255.0 + 0.5, 0, 255).astype(np.uint8)
