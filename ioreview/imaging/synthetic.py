"""Synthetic demo trial: seeded DICOM studies of IO-needle sites with their ground truth.

`generate_demo_trial` writes an enriched demo of NCT07239375-style imaging (radiographs, lower-leg
CT, MR T1/STIR, ultrasound cine) under ``DIR/dicom/<subject>/<timepoint>/<series>/<n>.dcm`` and
the truth beside it (``ground_truth.json``, ``ground_truth.csv`` and label masks).  The same seed
gives byte-identical files.  `write_ct_series` writes one large CT series for benchmarks.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from ioreview.imaging import synthetic_dicom as sd
from ioreview.imaging.synthetic_anatomy import LESION_TISSUES, LegAnatomy, LegScene, Tissue
from ioreview.imaging.synthetic_render import (
    burn_in_text,
    CT_INTERCEPT,
    AxialGrid,
    ct_hu,
    ct_labels,
    hu_to_stored,
    mr_images,
    radiograph,
    ultrasound_cine,
)
from ioreview.imaging.synthetic_scene import (
    NEEDLE_POSITIONS,
    TIMEPOINT_DAYS,
    SubjectFindings,
    SubjectGeometry,
    build_geometry,
    place_globules,
    scene_at,
)

Progress = Callable[[int, int], None]

#: Adult incidences reported in the literature (shared/domain.md), per IO insertion.
REPORTED_INCIDENCE: dict[str, float | str] = {
    "any_complication": 0.046,
    "extravasation": 0.037,
    "displacement": 0.085,
    "compartment_syndrome": 0.006,
    "osteomyelitis": "0.004-0.006",
    "serious": 0.002,
}
#: Per-subject probabilities used for the enriched demo (12 subjects at real rates show nothing).
ENRICHED_RATES: dict[str, float] = {
    "extravasation": 0.35,
    "haematoma": 0.25,
    "needle_malposition": 0.3,
    "fracture": 0.12,
    "osteomyelitis": 0.2,
    "fat_globules": 0.2,
}
#: Findings present in at least one subject whatever the seed.
GUARANTEED = ("extravasation", "haematoma", "cortical_breach", "osteomyelitis", "fat_globules")

CT_FOV_MM = 160.0
XRAY_IMAGER_PIXEL_MM = 0.143
XRAY_MAGNIFICATION = 1.1
XRAY_S_TOP = -25.0
US_SHAPE = (480, 640)
US_FRAME_TIME_MS = 40.0
MR_THICKNESS_MM = 4.0
MR_SPACING_MM = 5.0
Z_PLATEAU_MM = -420.0
TABLE_Y_MM = 20.0

_CHINESE = (
    ("Wang^Fang", "王^芳", "F"),
    ("Li^Qiang", "李^强", "M"),
    ("Zhang^Wei", "张^伟", "M"),
    ("Liu^Yang", "刘^洋", "M"),
    ("Chen^Jing", "陈^静", "F"),
    ("Yang^Lei", "杨^磊", "M"),
    ("Zhao^Min", "赵^敏", "F"),
    ("Huang^Li", "黄^丽", "F"),
    ("Zhou^Zhe", "周^喆", "M"),
    ("Wu^Kun", "吴^堃", "M"),
    ("Xu^Yan", "徐^燕", "F"),
    ("Sun^Hui", "孙^慧", "F"),
)
_LATIN = (
    ("Müller^Jürgen", "M"),
    ("Dubois^Hélène", "F"),
    ("Søndergaard^Åse", "F"),
    ("Peña^José", "M"),
)
_CHARSETS = ("GB18030", "ISO_IR 192", "ISO_IR 100", "GB18030")


@dataclass(frozen=True)
class DemoConfig:
    """Size and seed of the demo trial."""

    n_subjects: int = 12
    seed: int = 2026
    ct_shape: tuple[int, int] = (256, 256)
    ct_slices: int = 120
    xray_shape: tuple[int, int] = (1024, 800)
    us_frames: int = 40
    mr_slices: int = 20

    @classmethod
    def small(cls, seed: int = 1) -> DemoConfig:
        """A tiny trial for fast tests: 3 subjects, coarse images, few frames and slices."""
        return cls(
            n_subjects=3,
            seed=seed,
            ct_shape=(64, 64),
            ct_slices=12,
            xray_shape=(128, 96),
            us_frames=6,
            mr_slices=6,
        )


@dataclass(frozen=True)
class DemoManifest:
    """Where the demo went and what it holds; ``timepoints`` are the ground-truth records."""

    root: Path
    dicom_dir: Path
    ground_truth_path: Path
    n_files: int
    subjects: tuple[str, ...]
    ground_truth_csv: Path = Path()
    n_bytes: int = 0
    timepoints: tuple[dict[str, Any], ...] = field(default=(), repr=False)


@dataclass(frozen=True)
class _Timepoint:
    label: str
    days: int
    modalities: tuple[str, ...]


@dataclass(frozen=True)
class _Subject:
    index: int
    subject_id: str
    patient_name: str
    character_set: str
    sex: str
    birth_date: str
    insertion_date: dt.date
    anatomy: LegAnatomy
    findings: SubjectFindings
    timepoints: tuple[_Timepoint, ...]
    lateral_monochrome1: bool


def _rng(seed: int, *keys: int) -> np.random.Generator:
    return np.random.default_rng([seed, *keys])


def _draw_findings(rng: np.random.Generator) -> SubjectFindings:
    r = ENRICHED_RATES
    position = "intramedullary"
    if rng.random() < r["needle_malposition"]:
        position = str(rng.choice(["cortex", "through-and-through", "soft tissue"]))
    extravasation = None
    if rng.random() < r["extravasation"]:
        extravasation = str(rng.choice(["subcutis", "anterior", "lateral"]))
    haematoma = str(rng.choice(["subcutis", "anterior"])) if rng.random() < r["haematoma"] else None
    fracture = "none"
    if rng.random() < r["fracture"]:
        fracture = str(rng.choice(["non-displaced", "displaced"]))
    osteo = bool(rng.random() < r["osteomyelitis"])
    return SubjectFindings(
        needle_position=position,
        extravasation=extravasation,
        haematoma=haematoma,
        haematoma_fluid_level=bool(rng.random() < 0.4),
        fracture=fracture,
        osteomyelitis=osteo,
        abscess=bool(osteo and rng.random() < 0.5),
        fat_globules=bool(rng.random() < r["fat_globules"]),
    )


def _has(f: SubjectFindings, name: str) -> bool:
    return {
        "extravasation": f.extravasation is not None,
        "haematoma": f.haematoma is not None,
        "cortical_breach": f.cortical_breach,
        "osteomyelitis": f.osteomyelitis,
        "fat_globules": f.fat_globules,
    }[name]


def _guarantee(f: SubjectFindings, name: str) -> SubjectFindings:
    if name == "extravasation":
        return replace(f, extravasation="anterior")
    if name == "haematoma":
        return replace(f, haematoma="subcutis")
    if name == "cortical_breach":
        return replace(f, needle_position="through-and-through")
    if name == "osteomyelitis":
        return replace(f, osteomyelitis=True, abscess=True)
    return replace(f, fat_globules=True)


def _settle(f: SubjectFindings) -> SubjectFindings:
    """Make a subject's findings coherent: leaks follow the needle, globules need a collection."""
    if f.needle_position == "through-and-through" and f.extravasation is not None:
        f = replace(f, extravasation="posterior")
    if f.needle_position == "through-and-through" and f.extravasation is None:
        f = replace(f, extravasation="posterior")
    if f.needle_position == "soft tissue":
        f = replace(f, extravasation="subcutis")
    if f.fat_globules and f.extravasation is None and f.haematoma is None:
        f = replace(f, extravasation="subcutis")
    if f.extravasation == f.haematoma == "subcutis":
        f = replace(f, haematoma="anterior")
    if f.extravasation == f.haematoma == "anterior":
        f = replace(f, haematoma="subcutis")
    if not f.haematoma:
        f = replace(f, haematoma_fluid_level=False)
    return f


def _plan(config: DemoConfig) -> tuple[_Subject, ...]:
    """Draw every subject (identity, findings, timepoints, modalities) from the seed."""
    seed = config.seed
    findings = [_draw_findings(_rng(seed, i, 1)) for i in range(config.n_subjects)]
    order = [int(k) for k in _rng(seed, 999).permutation(config.n_subjects)]
    for k, name in enumerate(GUARANTEED):
        if not any(_has(f, name) for f in findings):
            i = order[k % config.n_subjects]
            findings[i] = _guarantee(findings[i], name)
    findings = [_settle(f) for f in findings]

    subjects = []
    for i, f in enumerate(findings):
        rng = _rng(seed, i, 2)
        charset = _CHARSETS[i % len(_CHARSETS)]
        if charset == "ISO_IR 100":
            name, sex = _LATIN[(i // len(_CHARSETS)) % len(_LATIN)]
        else:
            latin, han, sex = _CHINESE[i % len(_CHINESE)]
            name = f"{latin}={han}" if i % 2 == 0 else han
        insertion = dt.date(2026, 3, 2) + dt.timedelta(days=int(rng.integers(0, 240)))
        age = int(rng.integers(18, 66))
        birth = dt.date(insertion.year - age, int(rng.integers(1, 13)), int(rng.integers(1, 29)))
        anatomy = LegAnatomy(
            side=str(rng.choice(["R", "L"])),
            habitus=float(rng.uniform(0.92, 1.1)),
            fat_mm=float(rng.uniform(4.0, 10.0)),
        )
        extras = [t for t in ("baseline", "post-removal", "follow-up") if rng.random() < 0.45]
        if f.osteomyelitis and "follow-up" not in extras:
            extras = extras[-1:] + ["follow-up"]
        extras = extras[:2]
        collection = f.extravasation is not None or f.haematoma is not None
        complicated = collection or f.needle_position != "intramedullary" or f.fracture != "none"
        timepoints = []
        for label in ("baseline", "post-insertion", "post-removal", "follow-up"):
            if label != "post-insertion" and label not in extras:
                continue
            days = TIMEPOINT_DAYS[label]
            if label == "post-insertion":
                days = int(rng.integers(0, 2))
                mods = ["DX"]
                if complicated or f.fat_globules or rng.random() < 0.35:
                    mods.append("CT")
                if collection and "post-removal" not in extras and rng.random() < 0.5:
                    mods.append("US")
            elif label == "baseline":
                mods = ["DX"]
            elif label == "post-removal":
                mods = ["US"] if collection else ["DX"]
            else:
                mods = ["DX"] + (["MR"] if f.osteomyelitis or rng.random() < 0.35 else [])
            timepoints.append(_Timepoint(label, days, tuple(mods)))
        subjects.append(
            _Subject(
                i,
                f"IOT-{i + 1:03d}",
                name,
                charset,
                sex,
                birth.strftime("%Y%m%d"),
                insertion,
                anatomy,
                f,
                tuple(timepoints),
                lateral_monochrome1=(i % 3 == 1),
            )
        )
    for modality in ("CT", "US", "MR"):
        if not any(modality in t.modalities for s in subjects for t in s.timepoints):
            s = subjects[0]
            tps = tuple(
                (
                    replace(t, modalities=t.modalities + (modality,))
                    if t.label == "post-insertion"
                    else t
                )
                for t in s.timepoints
            )
            subjects[0] = replace(s, timepoints=tps)
    return tuple(subjects)


def _n_files(config: DemoConfig, subjects: tuple[_Subject, ...]) -> int:
    per = {"DX": 2, "CT": config.ct_slices, "US": 1, "MR": 2 * config.mr_slices}
    return sum(per[m] for s in subjects for t in s.timepoints for m in t.modalities)


class _Writer:
    """Saves datasets and reports progress."""

    def __init__(self, total: int, progress: Progress | None) -> None:
        self.total = total
        self.done = 0
        self.bytes = 0
        self.progress = progress

    def save(self, ds: Any, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        ds.save_as(path, enforce_file_format=True)
        return self._count(path)

    def save_slices(
        self, folder: Path, make: Callable[[int], Any], n: int, vary: Callable[[int], Any]
    ) -> None:
        """Write ``n`` slices of one series: slice 0 in full, the rest sharing its header."""
        folder.mkdir(parents=True, exist_ok=True)
        first = make(0)
        fast = sd.SeriesFileWriter(first)
        for k in range(n):
            path = folder / f"{k + 1:04d}.dcm"
            fast.write(path, vary(k))
            self._count(path)

    def _count(self, path: Path) -> Path:
        self.done += 1
        self.bytes += path.stat().st_size
        if self.progress is not None:
            self.progress(self.done, self.total)
        return path


def _ct_grid(
    config_shape: tuple[int, int], n_slices: int, insertion_s: float, side: str
) -> AxialGrid:
    rows, cols = config_shape
    spacing = float(np.clip(150.0 / n_slices, 1.0, 5.0))
    coverage = spacing * n_slices
    s0 = max(2.0, insertion_s - 0.3 * coverage)
    return AxialGrid(
        rows, cols, CT_FOV_MM / cols, tuple(s0 + k * spacing for k in range(n_slices)), side
    )


def _position(grid: AxialGrid, s: float) -> tuple[float, float, float]:
    """ImagePositionPatient (LPS) of the first pixel of the axial slice at depth ``s``."""
    leg_x = -95.0 if grid.side == "R" else 95.0
    return (
        leg_x - (grid.cols - 1) / 2.0 * grid.pixel_mm,
        TABLE_Y_MM - (grid.rows - 1) / 2.0 * grid.pixel_mm,
        Z_PLATEAU_MM - s,
    )


def _measure(
    labels: np.ndarray, hu: np.ndarray | None, tissue: Tissue, voxel_mm3: float
) -> dict[str, Any]:
    mask = labels == tissue
    count = int(mask.sum())
    out: dict[str, Any] = {"voxel_count": count, "volume_ml": round(count * voxel_mm3 / 1000.0, 4)}
    if hu is not None and count:
        out["mean_hu"] = round(float(hu[mask].mean()), 2)
    return out


def _lesion_mask(labels: np.ndarray) -> np.ndarray:
    return np.where(np.isin(labels, LESION_TISSUES), labels, 0).astype(np.uint8)


def _write_ct(
    writer: _Writer,
    folder: Path,
    ps: sd.PatientStudy,
    series: sd.SeriesInfo,
    scene: LegScene,
    grid: AxialGrid,
    rng: np.random.Generator,
    globule_radii: tuple[float, ...],
    globule_host: Tissue | None,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Build the CT volume once, slice it into files; returns labels, HU as stored and globules."""
    labels = ct_labels(scene, grid, range(len(grid.s_positions)))
    n_globules = 0
    if globule_radii and globule_host is not None:
        spacing = grid.s_positions[1] - grid.s_positions[0] if len(grid.s_positions) > 1 else 1.0
        v_rows = grid.plane()[1][:, 0]
        n_globules = place_globules(
            labels, globule_host, globule_radii, grid.pixel_mm, spacing, v_rows, rng
        )
    stored = hu_to_stored(ct_hu(scene, grid, labels, 0, rng))
    spacing = grid.s_positions[1] - grid.s_positions[0] if len(grid.s_positions) > 1 else 1.0

    def make(k: int) -> Any:
        uid = sd.seeded_uid(series.uid, "sop", k)
        pos = _position(grid, grid.s_positions[k])
        return sd.ct_slice(ps, series, uid, k + 1, stored[k], pos, grid.pixel_mm, spacing, spacing)

    def vary(k: int) -> Any:
        uid = sd.seeded_uid(series.uid, "sop", k)
        return sd.varying_part(uid, k + 1, _position(grid, grid.s_positions[k]), stored[k])

    writer.save_slices(folder, make, len(grid.s_positions), vary)
    return labels, stored.astype(np.float32) + CT_INTERCEPT, n_globules


def _patient_study(
    subject: _Subject, tp: _Timepoint, seed: int, study_uid: str, rng: np.random.Generator
) -> sd.PatientStudy:
    chinese = subject.character_set != "ISO_IR 100"
    date = subject.insertion_date + dt.timedelta(days=tp.days)
    return sd.PatientStudy(
        patient_id=subject.subject_id,
        patient_name=subject.patient_name,
        character_set=subject.character_set,
        birth_date=subject.birth_date,
        sex=subject.sex,
        study_uid=study_uid,
        study_date=date.strftime("%Y%m%d"),
        study_time="".join(f"{int(rng.integers(lo, hi)):02d}" for lo, hi in ((7, 20), (0, 60), (0, 60))),
        study_id=str(1 + list(TIMEPOINT_DAYS).index(tp.label)),
        accession_number=f"A{date.strftime('%y%m%d')}{subject.index + 1:03d}{len(tp.label) % 10}",
        study_description="TIBIA IO SITE " + ("RIGHT" if subject.anatomy.side == "R" else "LEFT"),
        institution_name="山西白求恩医院" if chinese else "Shanxi Bethune Hospital",
        referring_physician="Li^Ming=李^明" if chinese else "Li^Ming",
    )


def _finding_rows(record: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for name, f in record["findings"].items():
        rows.append(
            {
                "subject_id": record["subject_id"],
                "timepoint": record["timepoint"],
                "days_from_insertion": record["days_from_insertion"],
                "study_instance_uid": record["study_instance_uid"],
                "finding": name,
                "value": f.get("value", ""),
                "present": f.get("present", ""),
                "location": f.get("compartment") or f.get("location") or "",
                "volume_ml": f.get("volume_ml", ""),
                "mean_hu": f.get("mean_hu", ""),
                "size_cm": f.get("us_extent_cm", ""),
                "evidence": ";".join(f.get("evidence", [])),
            }
        )
    return rows


def _write_subject(
    subject: _Subject, config: DemoConfig, root: Path, writer: _Writer
) -> list[dict[str, Any]]:
    """Write every study of one subject and return its ground-truth records."""
    seed = config.seed
    f = subject.findings
    geo: SubjectGeometry = build_geometry(f, subject.anatomy, _rng(seed, subject.index, 3))
    side = subject.anatomy.side
    ct_measure: dict[str, Any] = {}
    records = []
    for t_index, tp in enumerate(subject.timepoints):
        rng = _rng(seed, subject.index, 10 + t_index)
        study_uid = sd.seeded_uid(seed, subject.subject_id, tp.label, "study")
        ps = _patient_study(subject, tp, seed, study_uid, rng)
        scene = scene_at(geo, tp.label)
        folder = root / "dicom" / subject.subject_id / tp.label
        frame_uid = sd.seeded_uid(seed, subject.subject_id, tp.label, "frame")
        series_records: list[dict[str, Any]] = []
        number = 0
        evidence: dict[str, list[str]] = {}

        def new_series(
            modality: str, description: str, slug: str, frame: str = ""
        ) -> tuple[sd.SeriesInfo, Path]:
            nonlocal number
            number += 1
            uid = sd.seeded_uid(seed, subject.subject_id, tp.label, "series", number)
            time = f"{ps.study_time[:2]}{min(59, int(ps.study_time[2:4]) + 2 * number):02d}00"
            info = sd.SeriesInfo(uid, number, description, modality, side, frame, time)
            sub = folder / f"S{number:02d}_{modality}_{slug}"
            series_records.append(
                {
                    "modality": modality,
                    "series_instance_uid": uid,
                    "series_number": number,
                    "description": description,
                    "folder": str(sub.relative_to(root)),
                }
            )
            return info, sub

        if "DX" in tp.modalities:
            pixel = XRAY_IMAGER_PIXEL_MM * 1024.0 / config.xray_shape[0]
            for view in ("AP", "LAT"):
                info, sub = new_series("DX", f"KNEE/TIB-FIB {view}", view)
                img = radiograph(
                    scene, view, config.xray_shape, pixel / XRAY_MAGNIFICATION, XRAY_S_TOP, rng
                )
                mono1 = view == "LAT" and subject.lateral_monochrome1
                ds = sd.dx_image(
                    ps,
                    info,
                    sd.seeded_uid(info.uid, "sop", 1),
                    1,
                    img,
                    view,
                    side,
                    pixel,
                    XRAY_MAGNIFICATION,
                    mono1,
                )
                writer.save(ds, sub / "0001.dcm")
                series_records[-1]["n_instances"] = 1
                series_records[-1]["photometric"] = "MONOCHROME1" if mono1 else "MONOCHROME2"
            evidence.setdefault("needle_position", []).append("DX")
            evidence.setdefault("fracture", []).append("DX")

        if "CT" in tp.modalities:
            grid = _ct_grid(config.ct_shape, config.ct_slices, geo.insertion_s, side)
            info, sub = new_series(
                "CT",
                f"LOWER LEG AXIAL {grid.s_positions[1] - grid.s_positions[0]:g}mm",
                "AXIAL",
                frame_uid,
            )
            host = None
            if f.fat_globules:
                host = Tissue.HAEMATOMA if geo.haematoma is not None else Tissue.EXTRAVASATION
            labels, hu, n_globules = _write_ct(
                writer, sub, ps, info, scene, grid, rng, geo.globule_radius_mm, host
            )
            spacing = grid.s_positions[1] - grid.s_positions[0]
            voxel = grid.pixel_mm**2 * spacing
            mask_path = root / "masks" / f"{subject.subject_id}_{tp.label}_CT.npz"
            mask_path.parent.mkdir(parents=True, exist_ok=True)
            np.savez_compressed(mask_path, labels=_lesion_mask(labels))
            series_records[-1].update(
                n_instances=len(grid.s_positions),
                mask=str(mask_path.relative_to(root)),
                voxel_mm3=voxel,
                pixel_mm=grid.pixel_mm,
                slice_spacing_mm=spacing,
            )
            for name, tissue in (
                ("extravasation", Tissue.EXTRAVASATION),
                ("haematoma", Tissue.HAEMATOMA),
                ("fat_globules", Tissue.FAT_GLOBULE),
                ("needle", Tissue.NEEDLE),
            ):
                ct_measure[name] = _measure(labels, hu, tissue, voxel)
            ct_measure["fat_globules"]["count"] = n_globules
            for name in (
                "needle_position",
                "extravasation",
                "haematoma",
                "cortical_breach",
                "fracture",
                "fat_globules",
            ):
                evidence.setdefault(name, []).append("CT")

        us_result = None
        if "US" in tp.modalities:
            info, sub = new_series("US", "IO SITE TRANSVERSE CINE", "CINE")
            probe_s = geo.insertion_s + (12.0 if tp.label == "post-insertion" else 0.0)
            probe, inward = _probe(geo, probe_s)
            us_result = ultrasound_cine(scene, probe, inward, config.us_frames, US_SHAPE, rng)
            banner = tp.label == "post-insertion"
            frames = us_result.frames
            if banner:  # the machine's patient banner, burned into the pixels
                frames = burn_in_text(frames, (
                    str(ps.patient_name).split("=")[0].replace("^", " "),
                    f"ID {ps.patient_id}  {ps.study_date}",
                    str(ps.institution_name)))
            ds = sd.us_cine(
                ps,
                info,
                sd.seeded_uid(info.uid, "sop", 1),
                frames,
                us_result.region,
                us_result.delta_cm,
                US_FRAME_TIME_MS,
                side,
            )
            if banner:
                ds.BurnedInAnnotation = "YES"
            else:  # not said: flagged for the coordinator to look at
                del ds.BurnedInAnnotation
            writer.save(ds, sub / "0001.dcm")
            series_records[-1]["n_instances"] = 1
            if us_result.fluid_visible:
                evidence.setdefault("extravasation", []).append("US")
                evidence.setdefault("haematoma", []).append("US")

        mr_measure: dict[str, Any] = {}
        if "MR" in tp.modalities:
            rows, cols = config.ct_shape
            centre = geo.insertion_s + 8.0
            s0 = max(2.0, centre - (config.mr_slices - 1) / 2.0 * MR_SPACING_MM)
            grid = AxialGrid(
                rows,
                cols,
                CT_FOV_MM / cols,
                tuple(s0 + k * MR_SPACING_MM for k in range(config.mr_slices)),
                side,
            )
            t1, stir, labels = mr_images(scene, grid, rng)
            for image, stir_flag, desc, slug in (
                (t1, False, "T1 SE AX", "T1_AX"),
                (stir, True, "STIR AX", "STIR_AX"),
            ):
                info, sub = new_series("MR", desc, slug, frame_uid)

                def make(
                    k: int,
                    info: sd.SeriesInfo = info,
                    image: np.ndarray = image,
                    stir_flag: bool = stir_flag,
                ) -> Any:
                    return sd.mr_slice(
                        ps,
                        info,
                        sd.seeded_uid(info.uid, "sop", k),
                        k + 1,
                        image[k],
                        _position(grid, grid.s_positions[k]),
                        grid.pixel_mm,
                        MR_THICKNESS_MM,
                        MR_SPACING_MM,
                        stir_flag,
                    )

                def vary(k: int, info: sd.SeriesInfo = info, image: np.ndarray = image) -> Any:
                    return sd.varying_part(
                        sd.seeded_uid(info.uid, "sop", k),
                        k + 1,
                        _position(grid, grid.s_positions[k]),
                        image[k],
                    )

                writer.save_slices(sub, make, len(grid.s_positions), vary)
                series_records[-1]["n_instances"] = len(grid.s_positions)
            voxel = grid.pixel_mm**2 * MR_SPACING_MM
            mask_path = root / "masks" / f"{subject.subject_id}_{tp.label}_MR.npz"
            mask_path.parent.mkdir(parents=True, exist_ok=True)
            np.savez_compressed(mask_path, labels=_lesion_mask(labels))
            for rec in series_records[-2:]:
                rec.update(
                    mask=str(mask_path.relative_to(root)),
                    voxel_mm3=voxel,
                    pixel_mm=grid.pixel_mm,
                    slice_spacing_mm=MR_SPACING_MM,
                )
            mr_measure = {
                "oedema": _measure(labels, None, Tissue.MARROW_OEDEMA, voxel),
                "abscess": _measure(labels, None, Tissue.ABSCESS, voxel),
            }
            evidence.setdefault("osteomyelitis", []).append("MR")

        records.append(
            _truth_record(
                subject, tp, geo, ps, series_records, evidence, ct_measure, mr_measure, us_result
            )
        )
    return records


def _probe(
    geo: SubjectGeometry, s: float
) -> tuple[tuple[float, float, float], tuple[float, float]]:
    """Skin point over the anteromedial tibia at depth ``s`` and the inward beam direction."""
    d = np.array(geo.path.direction[:2])
    d /= np.linalg.norm(d)
    a = geo.anatomy
    cu, cv = (float(x) for x in a.tibia(s)[:2])
    lcu, lcv, lau, lav = (float(x) for x in a.leg(s))
    t = np.arange(0.0, 120.0, 0.1)
    pu, pv = cu - t * d[0], cv - t * d[1]
    outside = ((pu - lcu) / lau) ** 2 + ((pv - lcv) / lav) ** 2 > 1.0
    k = int(np.argmax(outside))
    return (float(pu[k]), float(pv[k]), float(s)), (float(d[0]), float(d[1]))


def _truth_record(
    subject: _Subject,
    tp: _Timepoint,
    geo: SubjectGeometry,
    ps: sd.PatientStudy,
    series: list[dict[str, Any]],
    evidence: dict[str, list[str]],
    ct: dict[str, Any],
    mr: dict[str, Any],
    us: Any,
) -> dict[str, Any]:
    """Ground truth of one subject x timepoint: the patient's state and where it can be seen."""
    f = subject.findings
    label = tp.label
    after = label != "baseline"
    collections_now = label in ("post-insertion", "post-removal")
    by_modality: dict[str, list[str]] = {}
    for s in series:
        by_modality.setdefault(s["modality"], []).append(s["series_instance_uid"])

    def ev(name: str) -> list[str]:
        return sorted(set(evidence.get(name, [])))

    needle_value = {"baseline": "absent", "post-insertion": f.needle_position}.get(label, "removed")
    findings: dict[str, dict[str, Any]] = {
        "needle_position": {
            "value": needle_value,
            "present": label == "post-insertion",
            "inserted_position": f.needle_position if after else None,
            "tip_mm": (
                [round(x, 2) for x in geo.path.at(geo.path.tip_depth)]
                if label == "post-insertion"
                else None
            ),
            "evidence": ev("needle_position") if label == "post-insertion" else [],
        }
    }
    for name, comp, coll in (
        ("extravasation", geo.extravasation_compartment, geo.extravasation),
        ("haematoma", f.haematoma, geo.haematoma),
    ):
        present = bool(coll is not None and collections_now)
        rec: dict[str, Any] = {"present": present, "compartment": comp if present else None}
        if present and coll is not None:
            rec["nominal_hu"] = coll.hu if coll.level_v is None else [coll.hu, coll.dependent_hu]
            rec.update({k: v for k, v in ct.get(name, {}).items()})
            if name == "haematoma":
                rec["fluid_level"] = f.haematoma_fluid_level
            if us is not None and us.fluid_visible:
                rec["us_extent_cm"] = us.fluid_extent_cm
        rec["evidence"] = ev(name) if present else []
        findings[name] = rec
    findings["cortical_breach"] = {
        "present": bool(f.cortical_breach and after),
        "location": "posterior cortex" if f.cortical_breach and after else None,
        "evidence": ev("cortical_breach") if f.cortical_breach and after else [],
    }
    findings["fracture"] = {
        "value": f.fracture if after else "none",
        "present": bool(f.fracture != "none" and after),
        "evidence": ev("fracture") if f.fracture != "none" and after else [],
    }
    osteo_now = f.osteomyelitis and label == "follow-up"
    osteo: dict[str, Any] = {"present": osteo_now, "abscess": bool(osteo_now and f.abscess)}
    if osteo_now and mr:
        osteo["oedema_volume_ml"] = mr["oedema"]["volume_ml"]
        osteo["abscess_volume_ml"] = mr["abscess"]["volume_ml"]
        osteo["t1_pattern"] = "confluent"
    osteo["evidence"] = ev("osteomyelitis") if osteo_now else []
    findings["osteomyelitis"] = osteo
    glob_now = f.fat_globules and collections_now
    glob: dict[str, Any] = {"present": glob_now}
    if glob_now:
        glob["host"] = "haematoma" if f.haematoma else "extravasation"
        glob.update(ct.get("fat_globules", {}))
        glob["nominal_hu"] = -100.0
    glob["evidence"] = ev("fat_globules") if glob_now and label == "post-insertion" else []
    findings["fat_globules"] = glob
    findings["fat_embolism"] = {"present": False, "evidence": [], "note": "no chest CT in the demo"}
    return {
        "subject_id": subject.subject_id,
        "timepoint": label,
        "days_from_insertion": tp.days,
        "side": subject.anatomy.side,
        "study_instance_uid": ps.study_uid,
        "study_date": ps.study_date,
        "modalities": list(tp.modalities),
        "series_uids_by_modality": by_modality,
        "series": series,
        "findings": findings,
    }


def generate_demo_trial(
    out_dir: Path | str, config: DemoConfig = DemoConfig(), progress: Progress | None = None
) -> DemoManifest:
    """Write the seeded demo trial and its ground truth under ``out_dir``; deterministic per seed."""
    root = Path(out_dir)
    root.mkdir(parents=True, exist_ok=True)
    subjects = _plan(config)
    writer = _Writer(_n_files(config, subjects), progress)
    records: list[dict[str, Any]] = []
    for subject in subjects:
        records.extend(_write_subject(subject, config, root, writer))
    truth = {
        "generator": "ioreview.imaging.synthetic",
        "trial": "NCT07239375 (synthetic enriched demo)",
        "config": asdict(config),
        "enriched_demo": True,
        "reported_incidence": REPORTED_INCIDENCE,
        "enrichment_used": ENRICHED_RATES,
        "guaranteed_findings": list(GUARANTEED),
        "needle_positions": list(NEEDLE_POSITIONS),
        "mask_labels": {t.name.lower(): int(t) for t in Tissue},
        "subjects": [
            {
                "subject_id": s.subject_id,
                "side": s.anatomy.side,
                "insertion_date": s.insertion_date.isoformat(),
                "patient_name": s.patient_name,
                "specific_character_set": s.character_set,
                "findings": asdict(s.findings),
                "timepoints": [t.label for t in s.timepoints],
            }
            for s in subjects
        ],
        "timepoints": records,
    }
    gt_path = root / "ground_truth.json"
    gt_path.write_text(json.dumps(truth, indent=1, ensure_ascii=False), encoding="utf-8")
    csv_path = root / "ground_truth.csv"
    rows = [row for r in records for row in _finding_rows(r)]
    with csv_path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return DemoManifest(
        root=root,
        dicom_dir=root / "dicom",
        ground_truth_path=gt_path,
        n_files=writer.done,
        subjects=tuple(s.subject_id for s in subjects),
        ground_truth_csv=csv_path,
        n_bytes=writer.bytes,
        timepoints=tuple(records),
    )


def write_ct_series(
    out_dir: Path | str,
    n_slices: int = 500,
    shape: tuple[int, int] = (512, 512),
    seed: int = 0,
    transfer_syntax: str | None = None,
    **patient: str,
) -> list[Path]:
    """Write one realistic lower-leg CT series (needle in place) for benchmarks.

    Slices are built in slabs so a 512x512x500 series never needs the whole volume in memory.
    ``transfer_syntax`` None writes explicit VR little endian; a compressed syntax such as
    `pydicom.uid.JPEG2000Lossless` is encoded with ``Dataset.compress``.  ``patient`` overrides
    PatientStudy fields (patient_id, patient_name, character_set, ...).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = _rng(seed, 7)
    anatomy = LegAnatomy(side="R", habitus=1.0, fat_mm=6.0)
    geo = build_geometry(SubjectFindings(extravasation="anterior"), anatomy, _rng(seed, 8))
    scene = scene_at(geo, "post-insertion")
    grid = _ct_grid(shape, n_slices, geo.insertion_s, "R")
    study_uid = sd.seeded_uid("bench", seed, "study")
    values: dict[str, Any] = {
        "patient_id": "BENCH-001",
        "patient_name": "Bench^Leg",
        "character_set": "ISO_IR 192",
        "birth_date": "19700101",
        "sex": "O",
        "study_uid": study_uid,
        "study_date": "20260301",
        "study_time": "120000",
        "study_id": "1",
        "accession_number": "BENCH1",
        "study_description": "CT LOWER LEG BENCHMARK",
        "institution_name": "山西白求恩医院",
        "referring_physician": "",
    }
    values.update(patient)
    ps = sd.PatientStudy(**values)
    series = sd.SeriesInfo(
        sd.seeded_uid("bench", seed, "series"),
        1,
        "LOWER LEG AXIAL",
        "CT",
        "R",
        sd.seeded_uid("bench", seed, "frame"),
        "120100",
    )
    spacing = grid.s_positions[1] - grid.s_positions[0] if n_slices > 1 else 1.0
    paths: list[Path] = []
    fast: sd.SeriesFileWriter | None = None
    slab = 16
    for start in range(0, n_slices, slab):
        idx = list(range(start, min(n_slices, start + slab)))
        labels = ct_labels(scene, grid, idx)
        stored = hu_to_stored(ct_hu(scene, grid, labels, start, rng))
        for n, k in enumerate(idx):
            uid = sd.seeded_uid(series.uid, "sop", k)
            position = _position(grid, grid.s_positions[k])
            path = out / f"{k + 1:04d}.dcm"
            if transfer_syntax is None:
                if fast is None:
                    fast = sd.SeriesFileWriter(
                        sd.ct_slice(
                            ps,
                            series,
                            uid,
                            k + 1,
                            stored[n],
                            position,
                            grid.pixel_mm,
                            spacing,
                            spacing,
                        )
                    )
                fast.write(path, sd.varying_part(uid, k + 1, position, stored[n]))
            else:
                ds = sd.ct_slice(
                    ps, series, uid, k + 1, stored[n], position, grid.pixel_mm, spacing, spacing
                )
                ds.compress(
                    transfer_syntax,
                    stored[n],
                    encoding_plugin="pylibjpeg",
                    generate_instance_uid=False,
                )
                ds.save_as(path, enforce_file_format=True)
            paths.append(path)
    return paths
