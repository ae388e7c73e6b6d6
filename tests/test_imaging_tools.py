"""Assistive tools: region growing, fat map, CLAHE."""
from __future__ import annotations

import math

import numpy as np
import pytest

from ioreview.imaging.tools import clahe, fat_map, fat_overlay_rgba, grow_region


def _phantom() -> np.ndarray:
    """Muscle (50 HU) with a fluid sphere (15 HU, r=8 voxels) and a bone slab joined by a thin bridge."""
    rng = np.random.default_rng(0)
    z, y, x = np.mgrid[:32, :48, :48]
    vol = np.full((32, 48, 48), 60.0) + rng.normal(0, 3, (32, 48, 48))
    sphere = (z - 16) ** 2 + (y - 20) ** 2 + (x - 20) ** 2 <= 8**2
    vol[sphere] = 15.0 + rng.normal(0, 3, sphere.sum())
    vol[:, 40:, :] = 20.0  # a second fluid-like slab
    vol[16, 28:40, 20] = 15.0  # one-voxel bridge from the sphere to the slab
    return vol


def test_grow_region_finds_the_collection() -> None:
    vol = _phantom()
    res = grow_region(vol, (16, 20, 20), tolerance_hu=20, spacing_zyx=(2.0, 0.5, 0.5))
    expected = 4 / 3 * math.pi * 8**3
    assert abs(res.n_voxels - expected) < 0.1 * expected
    assert not res.mask[:, 40:, :].any()  # the bridge was cut by the opening
    assert res.volume_ml == pytest.approx(res.n_voxels * 2.0 * 0.25 / 1000)
    assert abs(res.mean_hu - 15.0) < 1.0 and res.sd_hu < 5
    assert res.slices == tuple(range(8, 25))
    assert res.mask.shape == vol.shape and res.mask.dtype == bool


def test_grow_region_limits() -> None:
    vol = _phantom()
    res = grow_region(vol, (16, 20, 20), tolerance_hu=20, max_slices=5)
    assert res.slices == (14, 15, 16, 17, 18)
    narrow = grow_region(vol, (16, 20, 20), tolerance_hu=100, hu_range=(0, 30))
    assert narrow.band_hu == (0.0, 30.0)
    with pytest.raises(ValueError, match="hu_range"):
        grow_region(vol, (16, 20, 20), hu_range=(100, 200))
    with pytest.raises(ValueError, match="seed"):
        grow_region(vol, (40, 20, 20))
    with pytest.raises(ValueError, match="tolerance_hu"):
        grow_region(vol, (16, 20, 20), tolerance_hu=-1)
    flat = grow_region(vol[16], (20, 20), tolerance_hu=20)  # type: ignore[arg-type]
    assert flat.mask.ndim == 2 and flat.n_voxels > 150


def test_fat_map_and_overlay() -> None:
    hu = np.array([[-200, -120, -80], [-30, -29, 40]])
    m = fat_map(hu)
    assert m.tolist() == [[False, True, True], [True, False, False]]
    rgba = fat_overlay_rgba(m)
    assert rgba.shape == (2, 3, 4) and rgba.dtype == np.uint8
    assert rgba[0, 1].tolist() == [255, 200, 0, 115] and rgba[0, 0].tolist() == [0, 0, 0, 0]
    with pytest.raises(ValueError, match="alpha"):
        fat_overlay_rgba(m, alpha=2)


def test_clahe() -> None:
    rng = np.random.default_rng(1)
    img = (rng.normal(2000, 50, (128, 160))).astype(np.uint16)
    img[:, :80] += 400
    out = clahe(img)
    assert out.shape == img.shape and out.dtype == np.uint8
    assert out.std() > 30
    with pytest.raises(ValueError, match="clip_limit"):
        clahe(img, clip_limit=0)
    with pytest.raises(ValueError, match="image"):
        clahe(np.zeros((2, 2, 2)))
