"""Analytic model of the proximal lower leg with an intraosseous needle and its complications.

The synthetic demo trial draws every modality from this one model, so a collection seen on CT,
ultrasound and MR is the same object and the ground truth can be measured from the labels.
Coordinates are in millimetres in a leg frame: ``u`` runs lateral -> medial, ``v`` anterior ->
posterior, ``s`` proximal -> distal measured from the tibial plateau.  Everything is evaluated
on numpy grids (vectorised), one axial plane at a time.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np

Array = np.ndarray


class Tissue(IntEnum):
    """Label of one voxel of the leg model (stored in the ground-truth masks)."""

    AIR = 0
    SKIN = 1
    FAT = 2
    MUSCLE_ANTERIOR = 3
    MUSCLE_LATERAL = 4
    MUSCLE_SUPERFICIAL_POSTERIOR = 5
    MUSCLE_DEEP_POSTERIOR = 6
    SEPTUM = 7
    CORTEX = 8
    MARROW = 9
    FIBULA_CORTEX = 10
    FIBULA_MARROW = 11
    VESSEL = 12
    NEEDLE = 13
    HUB = 14
    EXTRAVASATION = 15
    HAEMATOMA = 16
    FAT_GLOBULE = 17
    FRACTURE = 18
    MARROW_OEDEMA = 19
    ABSCESS = 20
    SOFT_TISSUE_OEDEMA = 21
    NEEDLE_TRACK = 22


#: Tissue holding each compartment named in the ground truth.
COMPARTMENT_TISSUE: dict[str, Tissue] = {
    "subcutis": Tissue.FAT,
    "anterior": Tissue.MUSCLE_ANTERIOR,
    "lateral": Tissue.MUSCLE_LATERAL,
    "superficial posterior": Tissue.MUSCLE_SUPERFICIAL_POSTERIOR,
    "deep posterior": Tissue.MUSCLE_DEEP_POSTERIOR,
}

MUSCLES = (
    Tissue.MUSCLE_ANTERIOR,
    Tissue.MUSCLE_LATERAL,
    Tissue.MUSCLE_SUPERFICIAL_POSTERIOR,
    Tissue.MUSCLE_DEEP_POSTERIOR,
)

#: Labels that are findings (kept in the saved masks); the rest is normal anatomy.
LESION_TISSUES = (
    Tissue.NEEDLE,
    Tissue.EXTRAVASATION,
    Tissue.HAEMATOMA,
    Tissue.FAT_GLOBULE,
    Tissue.FRACTURE,
    Tissue.MARROW_OEDEMA,
    Tissue.ABSCESS,
    Tissue.SOFT_TISSUE_OEDEMA,
    Tissue.NEEDLE_TRACK,
)


def _table(values: dict[Tissue, float], default: float = 0.0) -> Array:
    out = np.full(len(Tissue), default, dtype=np.float32)
    for tissue, value in values.items():
        out[int(tissue)] = value
    return out


#: Nominal CT numbers (HU) per tissue; shared/domain.md gives the ranges used.
CT_HU = _table(
    {
        Tissue.AIR: -1000,
        Tissue.SKIN: 30,
        Tissue.FAT: -100,
        Tissue.MUSCLE_ANTERIOR: 52,
        Tissue.MUSCLE_LATERAL: 48,
        Tissue.MUSCLE_SUPERFICIAL_POSTERIOR: 45,
        Tissue.MUSCLE_DEEP_POSTERIOR: 55,
        Tissue.SEPTUM: -70,
        Tissue.CORTEX: 1400,
        Tissue.MARROW: -20,
        Tissue.FIBULA_CORTEX: 1300,
        Tissue.FIBULA_MARROW: -30,
        Tissue.VESSEL: 40,
        Tissue.NEEDLE: 3000,
        Tissue.HUB: 120,
        Tissue.EXTRAVASATION: 10,
        Tissue.HAEMATOMA: 65,
        Tissue.FAT_GLOBULE: -100,
        Tissue.FRACTURE: 25,
        Tissue.MARROW_OEDEMA: 30,
        Tissue.ABSCESS: 20,
        Tissue.SOFT_TISSUE_OEDEMA: 10,
        Tissue.NEEDLE_TRACK: 15,
    }
)

#: Relative MR signal (arbitrary units) for a T1-weighted spin echo and a STIR sequence.
MR_T1 = _table(
    {
        Tissue.AIR: 4,
        Tissue.SKIN: 520,
        Tissue.FAT: 900,
        Tissue.SEPTUM: 760,
        Tissue.MUSCLE_ANTERIOR: 390,
        Tissue.MUSCLE_LATERAL: 380,
        Tissue.MUSCLE_SUPERFICIAL_POSTERIOR: 370,
        Tissue.MUSCLE_DEEP_POSTERIOR: 385,
        Tissue.CORTEX: 25,
        Tissue.MARROW: 840,
        Tissue.FIBULA_CORTEX: 25,
        Tissue.FIBULA_MARROW: 820,
        Tissue.VESSEL: 40,
        Tissue.NEEDLE: 0,
        Tissue.HUB: 0,
        Tissue.EXTRAVASATION: 170,
        Tissue.HAEMATOMA: 430,
        Tissue.FAT_GLOBULE: 900,
        Tissue.FRACTURE: 180,
        Tissue.MARROW_OEDEMA: 260,
        Tissue.ABSCESS: 190,
        Tissue.SOFT_TISSUE_OEDEMA: 420,
        Tissue.NEEDLE_TRACK: 200,
    }
)
MR_STIR = _table(
    {
        Tissue.AIR: 4,
        Tissue.SKIN: 380,
        Tissue.FAT: 70,
        Tissue.SEPTUM: 90,
        Tissue.MUSCLE_ANTERIOR: 300,
        Tissue.MUSCLE_LATERAL: 290,
        Tissue.MUSCLE_SUPERFICIAL_POSTERIOR: 285,
        Tissue.MUSCLE_DEEP_POSTERIOR: 295,
        Tissue.CORTEX: 20,
        Tissue.MARROW: 95,
        Tissue.FIBULA_CORTEX: 20,
        Tissue.FIBULA_MARROW: 90,
        Tissue.VESSEL: 30,
        Tissue.NEEDLE: 0,
        Tissue.HUB: 0,
        Tissue.EXTRAVASATION: 1350,
        Tissue.HAEMATOMA: 900,
        Tissue.FAT_GLOBULE: 70,
        Tissue.FRACTURE: 1100,
        Tissue.MARROW_OEDEMA: 1050,
        Tissue.ABSCESS: 1500,
        Tissue.SOFT_TISSUE_OEDEMA: 800,
        Tissue.NEEDLE_TRACK: 1200,
    }
)

#: Ultrasound echogenicity (0 anechoic .. 1 strong reflector) before speckle and shadowing.
US_ECHO = _table(
    {
        Tissue.AIR: 0.001,
        Tissue.SKIN: 0.5,
        Tissue.FAT: 0.06,
        Tissue.SEPTUM: 0.35,
        Tissue.MUSCLE_ANTERIOR: 0.12,
        Tissue.MUSCLE_LATERAL: 0.12,
        Tissue.MUSCLE_SUPERFICIAL_POSTERIOR: 0.12,
        Tissue.MUSCLE_DEEP_POSTERIOR: 0.12,
        Tissue.CORTEX: 1.0,
        Tissue.MARROW: 0.05,
        Tissue.FIBULA_CORTEX: 1.0,
        Tissue.FIBULA_MARROW: 0.05,
        Tissue.VESSEL: 0.002,
        Tissue.NEEDLE: 1.0,
        Tissue.HUB: 0.3,
        Tissue.EXTRAVASATION: 0.0015,
        Tissue.HAEMATOMA: 0.02,
        Tissue.FAT_GLOBULE: 0.4,
        Tissue.FRACTURE: 0.1,
        Tissue.MARROW_OEDEMA: 0.05,
        Tissue.ABSCESS: 0.01,
        Tissue.SOFT_TISSUE_OEDEMA: 0.1,
        Tissue.NEEDLE_TRACK: 0.05,
    }
)


@dataclass(frozen=True)
class Ellipsoid:
    """An axis-aligned ellipsoid in the leg frame (centre and semi-axes in mm)."""

    centre: tuple[float, float, float]
    axes: tuple[float, float, float]

    def inside(self, u: Array, v: Array, s: float | Array) -> Array:
        cu, cv, cs = self.centre
        au, av, as_ = self.axes
        return ((u - cu) / au) ** 2 + ((v - cv) / av) ** 2 + ((s - cs) / as_) ** 2 <= 1.0

    def s_range(self) -> tuple[float, float]:
        return self.centre[2] - self.axes[2], self.centre[2] + self.axes[2]


@dataclass(frozen=True)
class Segment:
    """A cylinder of the given radius around the segment start -> end (needle, track)."""

    start: tuple[float, float, float]
    end: tuple[float, float, float]
    radius: float

    def distance(self, u: Array, v: Array, s: float | Array) -> Array:
        a = np.asarray(self.start)
        d = np.asarray(self.end) - a
        length2 = float(d @ d)
        pu, pv, ps = u - a[0], v - a[1], s - a[2]
        t = np.clip((pu * d[0] + pv * d[1] + ps * d[2]) / length2, 0.0, 1.0)
        return np.sqrt((pu - t * d[0]) ** 2 + (pv - t * d[1]) ** 2 + (ps - t * d[2]) ** 2)

    def inside(self, u: Array, v: Array, s: float | Array) -> Array:
        return self.distance(u, v, s) <= self.radius

    def s_range(self) -> tuple[float, float]:
        lo, hi = sorted((self.start[2], self.end[2]))
        return lo - self.radius, hi + self.radius


@dataclass(frozen=True)
class Collection:
    """A fluid collection: an ellipsoid filling only the tissues it is allowed to replace.

    ``dependent_tissue`` draws a fluid-fluid level: the posterior (dependent, supine patient)
    half below ``level_v`` gets that tissue instead (haematocrit effect).
    """

    shape: Ellipsoid
    tissue: Tissue
    allowed: tuple[Tissue, ...]
    hu: float
    level_v: float | None = None
    dependent_hu: float | None = None


@dataclass(frozen=True)
class Fracture:
    """A fracture plane through the tibia; ``shift`` (mm, u and v) displaces the distal part."""

    point: tuple[float, float, float]
    normal: tuple[float, float, float]
    extent: float
    shift: tuple[float, float] = (0.0, 0.0)

    def signed_distance(self, u: Array, v: Array, s: float | Array) -> Array:
        n = np.asarray(self.normal)
        return (u - self.point[0]) * n[0] + (v - self.point[1]) * n[1] + (s - self.point[2]) * n[2]


@dataclass(frozen=True)
class Osteomyelitis:
    """Marrow oedema around the needle track, cortical loss at the track, optional abscess."""

    oedema: Ellipsoid
    soft_tissue: Ellipsoid
    cortical_loss: Segment
    abscess: Ellipsoid | None = None


@dataclass(frozen=True)
class LegAnatomy:
    """Size and side of one subject's leg; the shape functions accept scalar or array ``s``."""

    side: str = "R"
    habitus: float = 1.0
    fat_mm: float = 6.0

    def leg(self, s: float | Array) -> tuple[Array, Array, Array, Array]:
        """Skin ellipse: centre (u, v) and semi-axes; the calf bulges posteriorly."""
        calf = np.exp(-(((np.asarray(s, dtype=float) - 120.0) / 70.0) ** 2))
        h = self.habitus
        return 0.0 * calf, 4.0 * calf * h, (51.0 + 3.0 * calf) * h, (46.0 + 9.0 * calf) * h

    def tibia(self, s: float | Array) -> tuple[Array, Array, Array, Array, Array, Array]:
        """Tibia: centre, semi-axes, cortical thickness (mm) and triangularity.

        Wide thin-walled metaphysis under the plateau tapering to a thick triangular shaft.
        """
        s = np.asarray(s, dtype=float)
        decay = np.exp(-np.clip(s, 0.0, None) / 45.0)
        width = 30.0 + 45.0 * decay
        depth = 26.0 + 22.0 * decay
        cortex = 4.6 - 3.2 * np.exp(-np.clip(s, 0.0, None) / 40.0)
        k = 0.10 * (1.0 - np.exp(-np.clip(s, 0.0, None) / 60.0))
        _, _, _, leg_av = self.leg(s)
        cu = 9.0 + 0.0 * s
        cv = -leg_av + self.fat_mm + 2.5 + depth / 2.0
        return cu, cv, width / 2.0, depth / 2.0, cortex, k

    def fibula(self, s: float | Array) -> tuple[Array, Array, Array, Array]:
        """Fibula: centre, radius and cortical thickness; the head is wider near the knee."""
        s = np.asarray(s, dtype=float)
        radius = 7.0 + 6.0 * np.exp(-(((s - 14.0) / 14.0) ** 2))
        return -34.0 * self.habitus + 0.0 * s, 7.0 + 0.0 * s, radius, 2.2 + 0.0 * s

    def tibia_masks(self, u: Array, v: Array, s: float | Array) -> tuple[Array, Array]:
        """Boolean masks (whole bone, medullary cavity) of the tibia at these points."""
        cu, cv, au, av, cortex, k = (p if np.ndim(p) else float(p) for p in self.tibia(s))
        x = (u - cu) / au
        y = (v - cv) / av
        rho = np.sqrt(x * x + y * y)
        theta = np.arctan2(y, x)
        outline = 1.0 + k * np.cos(3.0 * (theta + np.pi / 2.0))
        top = np.sqrt(np.clip(np.asarray(s, dtype=float) / 4.0, 0.0, 1.0))
        outer = rho <= outline * top
        inner = rho <= (outline - cortex / ((au + av) / 2.0)) * top
        return outer, inner

    def surface_point(self, s: float, theta: float) -> tuple[float, float]:
        """Point (u, v) on the outer tibial surface in direction ``theta`` of the normalised frame."""
        cu, cv, au, av, _, k = (float(x) for x in self.tibia(s))
        r = 1.0 + k * np.cos(3.0 * (theta + np.pi / 2.0))
        return cu + r * au * np.cos(theta), cv + r * av * np.sin(theta)


@dataclass(frozen=True)
class LegScene:
    """One subject's leg at one timepoint: anatomy plus whatever the ground truth puts in it."""

    anatomy: LegAnatomy
    needle: Segment | None = None
    hub: Segment | None = None
    track: Segment | None = None
    collections: tuple[Collection, ...] = ()
    fracture: Fracture | None = None
    osteomyelitis: Osteomyelitis | None = None


def _compartments(anatomy: LegAnatomy, u: Array, v: Array, s: float) -> Array:
    """Muscle compartment of each point, from angles about the fibula (intermuscular septa)."""
    fu, fv, _, _ = (float(x) for x in anatomy.fibula(s))
    tu, tv, tau, tav, _, _ = (float(x) for x in anatomy.tibia(s))
    phi = np.arctan2(v - fv, u - fu)
    membrane = np.arctan2(tv + 0.3 * tav - fv, tu - tau * 0.6 - fu)
    anterior_septum = np.arctan2(-1.0, -0.35)
    posterior_septum = np.arctan2(1.0, -0.55)
    out = np.full(u.shape, int(Tissue.MUSCLE_SUPERFICIAL_POSTERIOR), dtype=np.uint8)
    anterior = (phi < membrane) & (phi > anterior_septum)
    lateral = (phi <= anterior_septum) | (phi >= posterior_septum)
    out[anterior] = Tissue.MUSCLE_ANTERIOR
    out[lateral] = Tissue.MUSCLE_LATERAL
    deep_centre_u = (fu + tu) / 2.0
    deep = (
        ~anterior
        & ~lateral
        & (((u - deep_centre_u) / 30.0) ** 2 + ((v - (fv + 8.0)) / 17.0) ** 2 <= 1.0)
    )
    out[deep] = Tissue.MUSCLE_DEEP_POSTERIOR
    return out


def _boundaries(labels: Array) -> Array:
    """Pixels whose right or lower neighbour has another label (for fascial planes)."""
    edge = np.zeros(labels.shape, dtype=bool)
    edge[:, :-1] |= labels[:, :-1] != labels[:, 1:]
    edge[:-1, :] |= labels[:-1, :] != labels[1:, :]
    return edge


def label_plane(scene: LegScene, u: Array, v: Array, s: float) -> Array:
    """Tissue labels (uint8) of the axial plane at depth ``s`` sampled at points (u, v)."""
    a = scene.anatomy
    lcu, lcv, lau, lav = (float(x) for x in a.leg(s))
    q = np.sqrt(((u - lcu) / lau) ** 2 + ((v - lcv) / lav) ** 2)
    depth = (1.0 - q) * (lau + lav) / 2.0
    labels = np.zeros(u.shape, dtype=np.uint8)
    inside = depth >= 0.0
    labels[inside] = Tissue.SKIN
    labels[depth > 1.6] = Tissue.FAT
    deep = depth > 1.6 + a.fat_mm
    muscles = _compartments(a, u, v, s)
    septa = _boundaries(np.where(deep, muscles, 0)) & deep
    labels[deep] = muscles[deep]
    labels[septa] = Tissue.SEPTUM

    # the anteromedial face of the tibia is subcutaneous: no muscle in front of it
    tu, tv, _, _, _, _ = (float(x) for x in a.tibia(s))
    angle = np.arctan2(v - tv, u - tu)
    subcutaneous = deep & (angle > -np.pi / 2.0 - 0.15) & (angle < 0.35)
    labels[subcutaneous] = Tissue.FAT

    # vessels: anterior tibial bundle on the membrane, posterior tibial and peroneal deep
    fu, fv, fr, fcortex = (float(x) for x in a.fibula(s))
    for vu, vv, r in (
        (0.55 * tu + 0.45 * fu, (tv + fv) / 2.0 - 5.0, 2.0),
        (0.6 * tu + 0.4 * fu + 4.0, fv + 12.0, 2.4),
        (fu + 8.0, fv + 9.0, 1.8),
    ):
        labels[(((u - vu) ** 2 + (v - vv) ** 2) <= r * r) & deep] = Tissue.VESSEL

    fib_r = np.sqrt((u - fu) ** 2 + (v - fv) ** 2)
    labels[fib_r <= fr] = Tissue.FIBULA_CORTEX
    labels[fib_r <= fr - fcortex] = Tissue.FIBULA_MARROW

    bu, bv = u, v
    fracture_band = None
    if scene.fracture is not None:
        f = scene.fracture
        dist = f.signed_distance(u, v, s)
        distal = dist > 0
        bu = np.where(distal, u - f.shift[0], u)
        bv = np.where(distal, v - f.shift[1], v)
        near = np.sqrt((u - f.point[0]) ** 2 + (v - f.point[1]) ** 2 + (s - f.point[2]) ** 2)
        fracture_band = (np.abs(dist) <= 0.7) & (near <= f.extent)
    outer, inner = a.tibia_masks(bu, bv, s)
    labels[outer] = Tissue.CORTEX
    labels[inner] = Tissue.MARROW
    if fracture_band is not None:
        labels[fracture_band & outer] = Tissue.FRACTURE

    o = scene.osteomyelitis
    if o is not None and _in_range(
        (
            min(o.soft_tissue.s_range()[0], o.oedema.s_range()[0]) - 3.0,
            max(o.soft_tissue.s_range()[1], o.oedema.s_range()[1]) + 3.0,
        ),
        s,
    ):
        soft = o.soft_tissue.inside(u, v, s) & np.isin(labels, (Tissue.FAT,) + MUSCLES)
        labels[soft] = Tissue.SOFT_TISSUE_OEDEMA
        labels[o.oedema.inside(u, v, s) & (labels == Tissue.MARROW)] = Tissue.MARROW_OEDEMA
        loss = o.cortical_loss.inside(u, v, s) & (labels == Tissue.CORTEX)
        labels[loss] = Tissue.MARROW_OEDEMA
        if o.abscess is not None:
            allowed = (Tissue.FAT, Tissue.SOFT_TISSUE_OEDEMA, Tissue.MARROW_OEDEMA) + MUSCLES
            labels[o.abscess.inside(u, v, s) & np.isin(labels, allowed)] = Tissue.ABSCESS

    if scene.track is not None and _in_range(scene.track.s_range(), s):
        track = scene.track.inside(u, v, s) & np.isin(labels, (Tissue.CORTEX, Tissue.MARROW))
        labels[track] = Tissue.NEEDLE_TRACK

    for c in scene.collections:
        if _in_range(c.shape.s_range(), s):
            mask = c.shape.inside(u, v, s) & np.isin(labels, c.allowed)
            labels[mask] = c.tissue

    if scene.needle is not None and _in_range(scene.needle.s_range(), s):
        labels[scene.needle.inside(u, v, s)] = Tissue.NEEDLE
    if scene.hub is not None and _in_range(scene.hub.s_range(), s):
        labels[scene.hub.inside(u, v, s) & (labels == Tissue.AIR)] = Tissue.HUB
    return labels


def _in_range(bounds: tuple[float, float], s: float | Array) -> bool:
    """Whether any of ``s`` lies within ``bounds`` (cheap test before a full-plane evaluation)."""
    s_arr = np.asarray(s)
    return bool(((s_arr >= bounds[0]) & (s_arr <= bounds[1])).any())


def smooth_noise(rng: np.random.Generator, shape: tuple[int, ...], sigma: float) -> Array:
    """Zero-mean, unit-SD Gaussian random field with correlation length ``sigma`` pixels."""
    from scipy.ndimage import gaussian_filter

    field_ = gaussian_filter(rng.standard_normal(shape, dtype=np.float32), sigma)
    sd = float(field_.std()) or 1.0
    return field_ / sd
