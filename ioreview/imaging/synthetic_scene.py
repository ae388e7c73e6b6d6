"""Places the IO needle and the drawn complications of one synthetic subject in the leg model.

`SubjectFindings` is what the demo's ground truth says happened to a subject; `build_geometry`
turns it into needle, collections, fracture and infection shapes, and `scene_at` gives the
`LegScene` a scanner would see at each timepoint (needle in place, removed, infection later).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ioreview.imaging.synthetic_anatomy import (
    COMPARTMENT_TISSUE,
    MUSCLES,
    Collection,
    Ellipsoid,
    Fracture,
    LegAnatomy,
    LegScene,
    Osteomyelitis,
    Segment,
    Tissue,
    label_plane,
)

NEEDLE_RADIUS_MM = 0.9  # 15 G cannula
NEEDLE_POSITIONS = ("intramedullary", "cortex", "through-and-through", "soft tissue")
FRACTURE_GRADES = ("none", "non-displaced", "displaced")
TIMEPOINT_DAYS = {"baseline": -1, "post-insertion": 0, "post-removal": 2, "follow-up": 14}


def _point(values: np.ndarray | tuple[float, ...]) -> tuple[float, float, float]:
    """Three plain floats (u, v, s) from an array-like."""
    u, v, s = (float(x) for x in values)
    return u, v, s


@dataclass(frozen=True)
class SubjectFindings:
    """The complications drawn for one subject (the demo's truth, independent of timepoint)."""

    needle_position: str = "intramedullary"
    extravasation: str | None = None  # compartment name, see COMPARTMENT_TISSUE
    haematoma: str | None = None
    haematoma_fluid_level: bool = False
    fracture: str = "none"
    osteomyelitis: bool = False
    abscess: bool = False
    fat_globules: bool = False

    @property
    def cortical_breach(self) -> bool:
        return self.needle_position == "through-and-through"


@dataclass(frozen=True)
class NeedlePath:
    """Entry geometry along the needle axis: points (u, v, s) and depths (mm from the skin)."""

    skin: tuple[float, float, float]
    direction: tuple[float, float, float]
    cortex_in: float
    marrow_in: float
    marrow_out: float
    cortex_out: float
    tip_depth: float

    def at(self, depth: float) -> tuple[float, float, float]:
        return _point(np.asarray(self.skin) + depth * np.asarray(self.direction))


@dataclass(frozen=True)
class SubjectGeometry:
    """All shapes of one subject; `scene_at` picks those present at a timepoint."""

    anatomy: LegAnatomy
    insertion_s: float
    path: NeedlePath
    needle: Segment
    hub: Segment
    track: Segment
    extravasation: Collection | None
    haematoma: Collection | None
    fracture: Fracture | None
    osteomyelitis: Osteomyelitis | None
    globule_radius_mm: tuple[float, ...]
    extravasation_compartment: str | None = None


def _march(
    anatomy: LegAnatomy, start: np.ndarray, direction: np.ndarray, length: float
) -> NeedlePath:
    """Depths at which the ray enters skin, cortex, marrow and leaves marrow and cortex."""
    step = 0.05
    t = np.arange(0.0, length, step)
    pts = start[None, :] + t[:, None] * direction[None, :]
    u, v, s = pts[:, 0], pts[:, 1], pts[:, 2]
    lcu, lcv, lau, lav = anatomy.leg(s)
    in_leg = ((u - lcu) / lau) ** 2 + ((v - lcv) / lav) ** 2 <= 1.0
    outer, inner = anatomy.tibia_masks(u, v, s)
    skin_i = int(np.argmax(in_leg))
    skin = pts[skin_i]
    rel = t - t[skin_i]
    o_idx = np.nonzero(outer)[0]
    i_idx = np.nonzero(inner)[0]
    return NeedlePath(
        skin=_point(skin),
        direction=_point(direction),
        cortex_in=float(rel[o_idx[0]]),
        marrow_in=float(rel[i_idx[0]]),
        marrow_out=float(rel[i_idx[-1]]),
        cortex_out=float(rel[o_idx[-1]]),
        tip_depth=0.0,
    )


def _compartment_centre(
    anatomy: LegAnatomy, tissue: Tissue, s: float, near: tuple[float, float]
) -> tuple[float, float]:
    """Centre of the part of a compartment nearest to ``near`` (centroid of the nearest pixels)."""
    c = np.arange(-80.0, 80.0, 1.0)
    u, v = np.meshgrid(c, c)
    labels = label_plane(LegScene(anatomy), u, v, s)
    sel = labels == tissue
    if not sel.any():
        return near
    d = np.hypot(u[sel] - near[0], v[sel] - near[1])
    order = np.argsort(d)[: max(40, int(sel.sum() * 0.25))]
    return float(u[sel][order].mean()), float(v[sel][order].mean())


def _collection(
    anatomy: LegAnatomy,
    compartment: str,
    tissue: Tissue,
    path: NeedlePath,
    s_centre: float,
    rng: np.random.Generator,
    hu: float,
    near: tuple[float, float],
    level: bool = False,
) -> Collection:
    allowed_tissue = COMPARTMENT_TISSUE[compartment]
    if compartment == "subcutis":
        inward = np.array(path.direction[:2]) / np.linalg.norm(path.direction[:2])
        cu, cv = np.array(path.skin[:2]) + inward * (anatomy.fat_mm / 2.0 + 1.6)
        axes = (float(rng.uniform(20, 28)), float(rng.uniform(11, 15)), float(rng.uniform(25, 38)))
        allowed: tuple[Tissue, ...] = (Tissue.FAT,)
    else:
        cu, cv = _compartment_centre(anatomy, allowed_tissue, s_centre, near)
        axes = (float(rng.uniform(14, 19)), float(rng.uniform(10, 14)), float(rng.uniform(30, 45)))
        allowed = (allowed_tissue, Tissue.SEPTUM)
    shape = Ellipsoid((float(cu), float(cv), float(s_centre)), axes)
    if level:
        return Collection(shape, tissue, allowed, 35.0, level_v=float(cv), dependent_hu=72.0)
    return Collection(shape, tissue, allowed, hu)


def build_geometry(
    findings: SubjectFindings, anatomy: LegAnatomy, rng: np.random.Generator
) -> SubjectGeometry:
    """Needle path and complication shapes for one subject, drawn from ``rng``."""
    s_ins = float(rng.uniform(38.0, 48.0))
    theta = -np.pi / 3.0 + float(rng.uniform(-0.12, 0.12))
    pu, pv = anatomy.surface_point(s_ins, theta)
    _, _, au, av, _, _ = (float(x) for x in anatomy.tibia(s_ins))
    outward = np.array([np.cos(theta) / au, np.sin(theta) / av])  # normal of the anteromedial face
    outward /= np.linalg.norm(outward)
    tilt = np.deg2rad(float(rng.uniform(8.0, 15.0)))
    direction = np.array([-outward[0] * np.cos(tilt), -outward[1] * np.cos(tilt), np.sin(tilt)])
    start = np.array([pu, pv, s_ins]) - 40.0 * direction
    path = _march(anatomy, start, direction, 160.0)
    p = findings.needle_position
    if p == "intramedullary":
        tip = path.marrow_in + min(12.0, 0.45 * (path.marrow_out - path.marrow_in))
    elif p == "cortex":
        tip = (path.cortex_in + path.marrow_in) / 2.0
    elif p == "through-and-through":
        tip = path.cortex_out + float(rng.uniform(5.0, 9.0))
    else:
        tip = max(path.cortex_in - 2.5, path.cortex_in * 0.55)
    path = NeedlePath(**{**path.__dict__, "tip_depth": float(tip)})
    needle = Segment(path.at(-14.0), path.at(tip), NEEDLE_RADIUS_MM)
    hub = Segment(path.at(-16.0), path.at(-2.5), 4.5)
    track = Segment(path.at(0.0), path.at(tip), NEEDLE_RADIUS_MM)

    tip_point = path.at(tip)
    extravasation = None
    comp_name = findings.extravasation
    if comp_name == "posterior":
        comp_name = _compartment_beyond(anatomy, path, tip)
    if comp_name is not None:
        comp = comp_name
        near = (tip_point[0], tip_point[1]) if comp != "subcutis" else path.skin[:2]
        extravasation = _collection(
            anatomy,
            comp,
            Tissue.EXTRAVASATION,
            path,
            s_ins + float(rng.uniform(4.0, 12.0)),
            rng,
            float(rng.uniform(4.0, 18.0)),
            near,
        )
    haematoma = None
    if findings.haematoma is not None:
        comp = findings.haematoma
        s_centre = s_ins - float(rng.uniform(10.0, 16.0)) if comp == "subcutis" else s_ins - 6.0
        haematoma = _collection(
            anatomy,
            comp,
            Tissue.HAEMATOMA,
            path,
            max(s_centre, 14.0),
            rng,
            float(rng.uniform(55.0, 78.0)),
            path.skin[:2],
            level=findings.haematoma_fluid_level,
        )
    fracture = None
    if findings.fracture != "none":
        normal = np.array([float(rng.uniform(-0.35, 0.35)), float(rng.uniform(0.1, 0.3)), 1.0])
        normal /= np.linalg.norm(normal)
        entry = path.at(path.cortex_in + 0.5)
        displaced = findings.fracture == "displaced"
        fracture = Fracture(
            entry,
            _point(normal),
            extent=1e6 if displaced else float(rng.uniform(22.0, 30.0)),
            shift=(
                (float(rng.uniform(2.0, 3.5)), float(rng.uniform(1.0, 2.0)))
                if displaced
                else (0.0, 0.0)
            ),
        )
    osteo = None
    if findings.osteomyelitis:
        marrow_point = path.at(path.marrow_in + 6.0)
        skin_in = path.at(3.0)
        abscess = None
        if findings.abscess:
            a_c = np.array(path.at(path.cortex_in - 3.5))
            abscess = Ellipsoid(_point(a_c), (9.0, 5.0, 14.0))
        osteo = Osteomyelitis(
            oedema=Ellipsoid(marrow_point, (14.0, 11.0, 22.0)),
            soft_tissue=Ellipsoid(skin_in, (18.0, 12.0, 26.0)),
            cortical_loss=Segment(
                path.at(path.cortex_in - 1.0), path.at(path.marrow_in + 1.0), 2.5
            ),
            abscess=abscess,
        )
    globules = tuple(float(rng.uniform(2.0, 3.2)) for _ in range(int(rng.integers(4, 9))))
    return SubjectGeometry(
        anatomy,
        s_ins,
        path,
        needle,
        hub,
        track,
        extravasation,
        haematoma,
        fracture,
        osteo,
        globules if findings.fat_globules else (),
        comp_name,
    )


def _compartment_beyond(anatomy: LegAnatomy, path: NeedlePath, tip: float) -> str:
    """Compartment the needle tip ends in after leaving the posterior cortex (leak goes there)."""
    scene = LegScene(anatomy)
    counts: dict[str, int] = {}
    for extra in (0.0, 2.0, 4.0, 6.0, 8.0):
        t = tissue_at(scene, path.at(tip + extra))
        if t in MUSCLES or t == Tissue.FAT:
            name = compartment_of(t)
            counts[name] = counts.get(name, 0) + 1
    return max(counts, key=lambda k: counts[k]) if counts else "deep posterior"


def scene_at(geometry: SubjectGeometry, timepoint: str) -> LegScene:
    """What is in the leg at a timepoint: nothing before insertion, needle and collections
    after it, a track and resolving collections after removal, infection at follow-up."""
    g = geometry
    collections = tuple(c for c in (g.extravasation, g.haematoma) if c is not None)
    if timepoint == "baseline":
        return LegScene(g.anatomy)
    if timepoint == "post-insertion":
        return LegScene(
            g.anatomy, needle=g.needle, hub=g.hub, collections=collections, fracture=g.fracture
        )
    if timepoint == "post-removal":
        return LegScene(g.anatomy, track=g.track, collections=collections, fracture=g.fracture)
    return LegScene(g.anatomy, track=g.track, fracture=g.fracture, osteomyelitis=g.osteomyelitis)


def tissue_at(scene: LegScene, point: tuple[float, float, float]) -> Tissue:
    """Label of the model at one point."""
    u = np.array([[point[0]]])
    v = np.array([[point[1]]])
    return Tissue(int(label_plane(scene, u, v, point[2])[0, 0]))


def compartment_of(tissue: Tissue) -> str:
    """Compartment name holding a tissue (fat and skin count as subcutis)."""
    for name, t in COMPARTMENT_TISSUE.items():
        if t == tissue:
            return name
    return "subcutis"


def place_globules(
    labels: np.ndarray,
    host: Tissue,
    radii_mm: tuple[float, ...],
    pixel_mm: float,
    spacing_mm: float,
    v_of_row: np.ndarray,
    rng: np.random.Generator,
) -> int:
    """Draw marrow fat globules into ``labels`` (in place) inside the host collection.

    Fat floats: centres are taken from the least dependent (most anterior) host voxels.
    Returns the number of globules drawn.
    """
    z, y, x = np.nonzero(labels == host)
    if z.size == 0:
        return 0
    order = np.argsort(v_of_row[y], kind="stable")
    top = order[: max(1, order.size // 3)]
    picks = rng.choice(top, size=min(len(radii_mm), top.size), replace=False)
    drawn = 0
    for pick, r in zip(picks, radii_mm):
        centre = (int(z[pick]), int(y[pick]), int(x[pick]))
        reach = (int(r // spacing_mm) + 1, int(r // pixel_mm) + 1, int(r // pixel_mm) + 1)
        lo = [max(0, c - h) for c, h in zip(centre, reach)]
        hi = [min(n, c + h + 1) for c, h, n in zip(centre, reach, labels.shape)]
        box = labels[lo[0] : hi[0], lo[1] : hi[1], lo[2] : hi[2]]
        zz, yy, xx = np.ogrid[lo[0] : hi[0], lo[1] : hi[1], lo[2] : hi[2]]
        d2 = ((zz - centre[0]) * spacing_mm) ** 2 + ((yy - centre[1]) * pixel_mm) ** 2
        d2 = d2 + ((xx - centre[2]) * pixel_mm) ** 2
        sphere = (d2 <= r * r) & (box == host)
        box[sphere] = Tissue.FAT_GLOBULE
        labels[centre] = Tissue.FAT_GLOBULE
        drawn += 1
    return drawn
