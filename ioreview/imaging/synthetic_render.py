"""Pixel synthesis for the demo trial: CT, MR, radiograph and ultrasound cine of one leg scene.

Each function turns a `LegScene` (synthetic_anatomy) into the stored pixel values of one series,
vectorised with numpy, and returns the tissue labels where a ground-truth measurement needs them.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from scipy.ndimage import gaussian_filter

from ioreview.imaging.synthetic_anatomy import (
    CT_HU,
    MR_STIR,
    MR_T1,
    US_ECHO,
    LegScene,
    Segment,
    Tissue,
    label_plane,
    smooth_noise,
)

Array = np.ndarray

#: CT noise (HU, SD) as on a standard-dose extremity scan with a soft kernel.
CT_NOISE_HU = 10.0
#: HU written as stored value + intercept; int16 stored values cover -1024..3071 HU.
CT_INTERCEPT = -1024.0


@dataclass(frozen=True)
class AxialGrid:
    """Sampling of axial planes: image size, pixel size (mm), and the depth ``s`` of each slice."""

    rows: int
    cols: int
    pixel_mm: float
    s_positions: tuple[float, ...]
    side: str = "R"

    @cached_property
    def _uv(self) -> tuple[Array, Array]:
        x = (np.arange(self.cols, dtype=np.float32) - (self.cols - 1) / 2.0) * self.pixel_mm
        y = (np.arange(self.rows, dtype=np.float32) - (self.rows - 1) / 2.0) * self.pixel_mm
        xx, yy = np.meshgrid(x, y)
        medial_sign = 1.0 if self.side == "R" else -1.0
        return medial_sign * xx, yy

    def plane(self) -> tuple[Array, Array]:
        """Leg-frame (u, v) of every pixel (float32); columns run to the patient's left (+x, LPS)."""
        return self._uv


def _trabecular_weight(s: float) -> float:
    """Share of cancellous bone in the tibial medulla: high in the metaphysis, none in the shaft."""
    return float(np.clip(1.0 - (s - 25.0) / 50.0, 0.0, 1.0))


def ct_labels(scene: LegScene, grid: AxialGrid, indices: range | list[int]) -> Array:
    """Tissue labels (slices, rows, cols) of the given slice indices."""
    u, v = grid.plane()
    out = np.empty((len(indices), grid.rows, grid.cols), dtype=np.uint8)
    for n, k in enumerate(indices):
        out[n] = label_plane(scene, u, v, grid.s_positions[k])
    return out


def ct_hu(
    scene: LegScene, grid: AxialGrid, labels: Array, first_index: int, rng: np.random.Generator
) -> Array:
    """CT numbers (float32 HU) for a slab of labels: tissue values, bone texture, blur, noise."""
    hu = CT_HU[labels]
    _, v = grid.plane()
    for c in scene.collections:
        if c.level_v is not None and c.dependent_hu is not None:
            sel = labels == c.tissue
            hu[sel] = np.where(
                np.broadcast_to(v > c.level_v, labels.shape)[sel], c.dependent_hu, c.hu
            )
        else:
            hu[labels == c.tissue] = c.hu
    plane_shape = labels.shape[1:]
    density = 130.0 * smooth_noise(rng, plane_shape, 2.0)
    texture = np.clip(smooth_noise(rng, plane_shape, 0.9) - 0.3, 0.0, None) * 420.0 + 140.0
    for n in range(labels.shape[0]):
        k = first_index + n
        cortex = (labels[n] == Tissue.CORTEX) | (labels[n] == Tissue.FIBULA_CORTEX)
        hu[n][cortex] += np.roll(density, k, axis=0)[cortex]
        w = _trabecular_weight(grid.s_positions[k])
        if w > 0.0:
            marrow = labels[n] == Tissue.MARROW
            hu[n][marrow] += w * np.roll(texture, (3 * k, 5 * k), axis=(0, 1))[marrow]
    sigma = 0.45 * 0.625 / grid.pixel_mm
    hu = gaussian_filter(hu, sigma=(0.0, sigma, sigma), mode="nearest")
    hu += rng.standard_normal(hu.shape, dtype=np.float32) * np.float32(CT_NOISE_HU)
    return hu


def hu_to_stored(hu: Array) -> Array:
    """HU -> int16 stored values for RescaleIntercept -1024, slope 1 (clipped to 12-bit HU range)."""
    return np.clip(np.rint(hu - CT_INTERCEPT), 0, 4095).astype(np.int16)


def mr_images(
    scene: LegScene, grid: AxialGrid, rng: np.random.Generator
) -> tuple[Array, Array, Array]:
    """T1-weighted and STIR magnitude images (uint16, 12-bit) and the labels they came from."""
    labels = ct_labels(scene, grid, range(len(grid.s_positions)))
    _, v = grid.plane()
    coil = (1.18 - 0.3 * (v - v.min()) / max(float(np.ptp(v)), 1.0)).astype(np.float32)
    out = []
    for table, sigma_noise in ((MR_T1, 14.0), (MR_STIR, 18.0)):
        img = table[labels] * coil[None]
        img = gaussian_filter(img, sigma=(0.0, 0.6, 0.6))
        re = img + rng.normal(0.0, sigma_noise, img.shape).astype(np.float32)
        im = rng.normal(0.0, sigma_noise, img.shape).astype(np.float32)
        out.append(np.clip(np.rint(np.sqrt(re * re + im * im)), 0, 4095).astype(np.uint16))
    return out[0], out[1], labels


# --- radiographs -------------------------------------------------------------------------


def _chord(centre: Array, half_across: Array, half_along: Array, coord: Array) -> Array:
    """Path length along the ray through an ellipse, at transverse coordinate ``coord``."""
    t = (coord - centre) / np.maximum(half_across, np.float32(1e-6))
    return 2.0 * half_along * np.sqrt(np.clip(1.0 - t * t, 0.0, None))


def _f32(*values: Array | float) -> list[Array]:
    return [np.asarray(x, dtype=np.float32) for x in values]


def _segment_projection(seg: Segment, ray_axis: int, a: Array, s: Array) -> Array:
    """Path length of rays (along leg axis ``ray_axis``: 0 = u, 1 = v) through a cylinder.

    ``a`` is the transverse coordinate of each column (1, cols), ``s`` that of each row (rows, 1);
    only the bounding box of the projected cylinder is evaluated.
    """
    out = np.zeros((s.shape[0], a.shape[1]), dtype=np.float32)
    p0 = np.asarray(seg.start, dtype=float)
    p1 = np.asarray(seg.end, dtype=float)
    keep = 1 - ray_axis
    q0 = np.array([p0[keep], p0[2]])
    q1 = np.array([p1[keep], p1[2]])
    d = q1 - q0
    length2 = float(d @ d)
    axis = (p1 - p0) / np.linalg.norm(p1 - p0)
    sin_angle = max(float(np.sqrt(max(0.0, 1.0 - axis[ray_axis] ** 2))), 0.05)
    pad = seg.radius + 1.0
    cols = np.nonzero((a[0] >= min(q0[0], q1[0]) - pad) & (a[0] <= max(q0[0], q1[0]) + pad))[0]
    rows = np.nonzero((s[:, 0] >= min(q0[1], q1[1]) - pad) & (s[:, 0] <= max(q0[1], q1[1]) + pad))[
        0
    ]
    if cols.size == 0 or rows.size == 0:
        return out
    r0, r1, c0, c1 = rows.min(), rows.max() + 1, cols.min(), cols.max() + 1
    aa = a[:, c0:c1].astype(np.float64)
    ss = s[r0:r1].astype(np.float64)
    if length2 < 1e-9:
        dist = np.sqrt((aa - q0[0]) ** 2 + (ss - q0[1]) ** 2)
    else:
        tt = np.clip(((aa - q0[0]) * d[0] + (ss - q0[1]) * d[1]) / length2, 0.0, 1.0)
        dist = np.sqrt((aa - q0[0] - tt * d[0]) ** 2 + (ss - q0[1] - tt * d[1]) ** 2)
    chord = 2.0 * np.sqrt(np.clip(seg.radius**2 - dist**2, 0.0, None)) / sin_angle
    out[r0:r1, c0:c1] = np.minimum(chord, float(np.linalg.norm(p1 - p0)) + 2.0 * seg.radius)
    return out


def radiograph(
    scene: LegScene,
    view: str,
    shape: tuple[int, int],
    pixel_mm: float,
    s_top: float,
    rng: np.random.Generator,
) -> Array:
    """A 12-bit log-exposure radiograph (bone bright, MONOCHROME2 sense) of the knee and tibia.

    ``view`` is "AP" (ray along v; columns run to the patient's left) or "LAT" (ray along u;
    columns run posterior).  Line integrals are analytic chords through the leg's ellipses.
    """
    a = scene.anatomy
    rows, cols = shape
    s64 = (s_top + np.arange(rows) * pixel_mm)[:, None]
    (s,) = _f32(s64)
    c = (np.arange(cols) - (cols - 1) / 2.0) * pixel_mm
    ray = 1 if view == "AP" else 0
    medial_sign = 1.0 if a.side == "R" else -1.0
    (across,) = _f32((medial_sign * c if view == "AP" else c)[None, :])

    def chord(cu: Array, cv: Array, au: Array, av: Array, coord: Array = across) -> Array:
        cu, cv, au, av = _f32(cu, cv, au, av)
        if ray == 1:
            return _chord(cu, au, av, coord)
        return _chord(cv, av, au, coord)

    lcu, lcv, lau, lav = a.leg(s64)
    leg = chord(lcu, lcv, lau, lav)
    fascia = chord(lcu, lcv, lau - a.fat_mm - 1.6, lav - a.fat_mm - 1.6)
    tcu, tcv, tau, tav, tcortex, _ = a.tibia(s64)
    top = np.sqrt(np.clip(s64 / 4.0, 0.0, 1.0))

    def tibia_chords(coord: Array) -> tuple[Array, Array]:
        outer = chord(tcu, tcv, tau * top, tav * top, coord)
        inner = chord(
            tcu,
            tcv,
            np.clip(tau - tcortex, 0, None) * top,
            np.clip(tav - tcortex, 0, None) * top,
            coord,
        )
        return outer, inner

    t_outer, t_inner = tibia_chords(across)
    pu, pv = (across, tcv.astype(np.float32)) if ray == 1 else (tcu.astype(np.float32), across)
    f = scene.fracture
    fracture_line = None
    if f is not None:
        dist = f.signed_distance(pu, pv, s)
        if f.shift != (0.0, 0.0):
            shift = f.shift[0] if ray == 1 else f.shift[1]
            so, si = tibia_chords(across - np.float32(shift))
            distal = dist > 0
            t_outer = np.where(distal, so, t_outer)
            t_inner = np.where(distal, si, t_inner)
        near = np.sqrt((pu - f.point[0]) ** 2 + (pv - f.point[1]) ** 2 + (s - f.point[2]) ** 2)
        fracture_line = (np.abs(dist) <= 0.45) & (near <= f.extent) & (t_outer > 0)

    fu, fv, fr, fcortex = a.fibula(s64)
    f_outer = chord(fu, fv, fr, fr)
    f_inner = chord(fu, fv, fr - fcortex, fr - fcortex)
    # distal femur with rounded condyles above the joint space
    round_end = np.sqrt(np.clip((-4.0 - s64) / 14.0, 0.0, 1.0))
    fcu, fcv = float(a.tibia(0.0)[0]), float(a.tibia(0.0)[1]) + 6.0
    fem_outer = chord(fcu, fcv, 40.0 * a.habitus * round_end, 31.0 * a.habitus * round_end)
    fem_inner = chord(
        fcu, fcv, (40.0 * a.habitus - 2.0) * round_end, (31.0 * a.habitus - 2.0) * round_end
    )

    muscle = np.clip(fascia - t_outer - f_outer - fem_outer, 0.0, None)
    fat = np.clip(leg - fascia, 0.0, None)
    (trabecular,) = _f32(np.clip(1.0 - (s64 - 25.0) / 50.0, 0.0, 1.0))
    half = ((rows + 1) // 2, (cols + 1) // 2)
    coarse = gaussian_filter(rng.standard_normal(half, dtype=np.float32), (1.1, 0.6))
    texture = 1.0 + 1.4 * np.repeat(np.repeat(coarse, 2, axis=0), 2, axis=1)[:rows, :cols]
    marrow_mu = 0.021 + 0.016 * trabecular * np.clip(texture, 0.2, None)
    bone = 0.052 * (t_outer - t_inner + f_outer - f_inner + fem_outer - fem_inner)
    bone += marrow_mu * (t_inner + f_inner + fem_inner)
    if fracture_line is not None:
        bone = np.where(fracture_line, bone * 0.45, bone)
    if scene.track is not None:
        hole = _segment_projection(scene.track, ray, across, s)
        bone = np.clip(bone - 0.05 * hole * (t_outer > 0), 0.0, None)
    if scene.osteomyelitis is not None:
        e = scene.osteomyelitis.oedema
        k = ((pu - e.centre[0]) / e.axes[0]) ** 2 + ((pv - e.centre[1]) / e.axes[1]) ** 2
        k = k + ((s - e.centre[2]) / e.axes[2]) ** 2
        bone = np.where(k <= 1.0, bone * 0.8, bone)
        # periosteal reaction: a thin line parallel to the medial (AP) or anterior (LAT) cortex
        edge = (tcu + tau + 2.0) if ray == 1 else (tcv - tav - 2.0)
        band = (np.abs(across - edge.astype(np.float32)) <= 0.5) & (
            np.abs(s - e.centre[2]) <= e.axes[2]
        )
        bone = bone + 0.5 * band
    atten = 0.018 * fat + 0.021 * muscle + bone
    for seg, mu in ((scene.needle, 0.6), (scene.hub, 0.02)):
        if seg is not None:
            atten += mu * _segment_projection(seg, ray, across, s)
    img = 140.0 + 780.0 * atten
    img += rng.standard_normal(shape, dtype=np.float32) * (6.0 + 0.12 * np.sqrt(img))
    return np.clip(np.rint(img), 0, 4095).astype(np.uint16)


# --- ultrasound --------------------------------------------------------------------------


@dataclass(frozen=True)
class UltrasoundCine:
    """Frames (uint8) plus the calibrated image region and what the probe saw."""

    frames: Array
    region: tuple[int, int, int, int]  # x0, y0, x1, y1 (inclusive)
    delta_cm: float
    fluid_extent_cm: float
    fluid_visible: bool


def ultrasound_cine(
    scene: LegScene,
    probe: tuple[float, float, float],
    inward: tuple[float, float],
    n_frames: int,
    shape: tuple[int, int],
    rng: np.random.Generator,
    depth_mm: float = 40.0,
) -> UltrasoundCine:
    """Transverse linear-probe cine at ``probe`` (u, v, s) looking along ``inward`` (u, v).

    B-mode from tissue echogenicity, Rayleigh speckle, acoustic shadowing under cortex and metal,
    posterior enhancement under fluid, log compression; small probe motion between frames.
    """
    rows, cols = shape
    y0, y1 = int(rows * 0.08), int(rows * 0.95) - 1
    x0, x1 = int(cols * 0.125), int(cols * 0.875) - 1
    region_rows, region_cols = y1 - y0 + 1, x1 - x0 + 1
    delta = depth_mm / region_rows
    margin = 6
    du, dv = inward
    tu, tv = -dv, du
    depth = (np.arange(region_rows + 2 * margin) - margin) * delta
    lateral = (np.arange(region_cols + 2 * margin) - (region_cols + 2 * margin - 1) / 2.0) * delta
    dd, ll = np.meshgrid(depth, lateral, indexing="ij")
    pu = probe[0] + ll * tu + (dd - 1.0) * du
    pv = probe[1] + ll * tv + (dd - 1.0) * dv
    labels = label_plane(scene, pu, pv, probe[2])
    echo = US_ECHO[labels].astype(np.float64)
    muscle = (labels >= Tissue.MUSCLE_ANTERIOR) & (labels <= Tissue.MUSCLE_DEEP_POSTERIOR)
    fibres = gaussian_filter(rng.standard_normal(labels.shape), (0.6, 5.0))
    echo = np.where(muscle, echo * np.clip(1.0 + 2.0 * fibres, 0.2, None), echo)
    hard = np.isin(
        labels, (Tissue.CORTEX, Tissue.FIBULA_CORTEX, Tissue.NEEDLE, Tissue.NEEDLE_TRACK)
    )
    below_hard = np.cumsum(hard, axis=0) > max(1, int(round(1.2 / delta)))
    echo = np.where(below_hard, echo * 1e-4, echo)
    fluid = np.isin(labels, (Tissue.EXTRAVASATION, Tissue.HAEMATOMA, Tissue.ABSCESS))
    enhancement = np.clip(np.cumsum(fluid, axis=0) * delta / 8.0, 0.0, 1.0)
    echo = echo * (1.0 + 0.6 * enhancement * ~fluid) * np.exp(-0.012 * np.clip(dd, 0, None))
    centre = labels[margin:-margin, margin:-margin]
    fluid_c = np.isin(centre, (Tissue.EXTRAVASATION, Tissue.HAEMATOMA, Tissue.ABSCESS))
    extent = 0.0
    if fluid_c.any():
        ys, xs = np.nonzero(fluid_c)
        extent = float(max(np.ptp(ys) + 1, np.ptp(xs) + 1) * delta / 10.0)

    def complex_speckle() -> Array:
        re = gaussian_filter(rng.standard_normal(labels.shape), (0.8, 1.6))
        im = gaussian_filter(rng.standard_normal(labels.shape), (0.8, 1.6))
        return re + 1j * im

    static = np.sqrt(0.85) * complex_speckle()
    pool = [np.sqrt(0.15) * complex_speckle() for _ in range(3)]
    amplitude = np.clip(echo, 0.0, None).astype(np.float32)
    frames = np.zeros((n_frames, rows, cols), dtype=np.uint8)
    dynamic_range = 60.0
    for k in range(n_frames):
        phase = 2.0 * np.pi * k / max(n_frames, 1)
        sx = int(round(3.0 * np.sin(phase)))
        sy = int(round(1.5 * np.sin(2.0 * phase)))
        speckle = np.abs(static + np.roll(pool[k % 3], 7 * k, axis=1)).astype(np.float32)
        speckle /= speckle.mean()
        db = 20.0 * np.log10(amplitude * speckle + 1e-4)
        img = np.clip((db + dynamic_range) * (255.0 / dynamic_range), 0.0, 255.0)
        crop = img[margin + sy : margin + sy + region_rows, margin + sx : margin + sx + region_cols]
        frames[k, y0 : y1 + 1, x0 : x1 + 1] = np.rint(crop).astype(np.uint8)
    return UltrasoundCine(
        frames, (x0, y0, x1, y1), delta / 10.0, round(extent, 2), bool(fluid_c.any())
    )


#: Where the demo's ultrasound machine burns its patient banner into every frame
#: (row0, col0, row1, col1, ends exclusive): the coordinator masks this box.
US_TEXT_BOX = (4, 8, 44, 328)


def burn_in_text(frames: np.ndarray, lines: tuple[str, ...], box: tuple[int, int, int, int] = US_TEXT_BOX
                 ) -> np.ndarray:
    """Frames (frames x rows x cols, 8-bit) with `lines` drawn in white inside `box`, as an
    ultrasound machine burns a patient banner (name, ID, date) into its images."""
    from PIL import Image, ImageDraw, ImageFont

    r0, c0, r1, c1 = box
    canvas = Image.new("L", (c1 - c0, r1 - r0), 0)
    draw = ImageDraw.Draw(canvas)
    font = ImageFont.load_default()
    for n, line in enumerate(lines[:3]):
        draw.text((2, 1 + 13 * n), line.encode("ascii", "replace").decode(), fill=255, font=font)
    text = np.asarray(canvas) > 96
    out = np.array(frames, copy=True)
    out[:, r0:r1, c0:c1][:, text] = 255
    return out
