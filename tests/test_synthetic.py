"""Tests of the synthetic demo trial generator (pure, no Qt): files, truth, determinism."""

from __future__ import annotations

import csv
import hashlib
import json
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.pixels import apply_modality_lut
from pydicom.uid import JPEG2000Lossless
from scipy.ndimage import binary_erosion

from ioreview.imaging import synthetic_dicom as sd
from ioreview.imaging.synthetic import (
    DemoConfig,
    DemoManifest,
    generate_demo_trial,
    write_ct_series,
)
from ioreview.imaging.synthetic_anatomy import Tissue


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoManifest:
    return generate_demo_trial(tmp_path_factory.mktemp("demo"), DemoConfig.small())


@pytest.fixture(scope="module")
def truth(demo: DemoManifest) -> dict:
    return json.loads(demo.ground_truth_path.read_text(encoding="utf-8"))


def _series(demo: DemoManifest, modality: str) -> list[tuple[dict, dict]]:
    return [(rec, s) for rec in demo.timepoints for s in rec["series"] if s["modality"] == modality]


def _ct_volume(demo: DemoManifest, series: dict) -> np.ndarray:
    datasets = [pydicom.dcmread(f) for f in sorted((demo.root / series["folder"]).glob("*.dcm"))]
    return np.stack([apply_modality_lut(ds.pixel_array, ds) for ds in datasets])


def test_every_file_is_valid_dicom_and_decodes(demo: DemoManifest) -> None:
    files = sorted(demo.dicom_dir.rglob("*.dcm"))
    assert len(files) == demo.n_files > 0
    sop_classes = set()
    for path in files:
        ds = pydicom.dcmread(path)
        assert ds.file_meta.TransferSyntaxUID == pydicom.uid.ExplicitVRLittleEndian
        assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
        assert ds.pixel_array.size > 0
        sop_classes.add(ds.SOPClassUID)
        rel = path.relative_to(demo.dicom_dir).parts
        assert rel[0] == ds.PatientID and len(rel) == 4
    assert sop_classes == {
        sd.CT_IMAGE_STORAGE,
        sd.MR_IMAGE_STORAGE,
        sd.DX_PRESENTATION_STORAGE,
        sd.US_MULTIFRAME_STORAGE,
    }


def test_fast_series_writer_matches_save_as(tmp_path: Path) -> None:
    ps = sd.PatientStudy(
        "IOT-009",
        "Zhou^Zhe=周^喆",
        "GB18030",
        "19800101",
        "M",
        "1.2.3",
        "20260301",
        "101500",
        "1",
        "A1",
        "TIBIA",
        "山西白求恩医院",
        "Li^Ming=李^明",
    )
    series = sd.SeriesInfo("1.2.3.4", 3, "LOWER LEG AXIAL", "CT", "R", "1.2.3.5")
    pixels = np.arange(64 * 64, dtype=np.int16).reshape(64, 64)
    writer = sd.SeriesFileWriter(
        sd.ct_slice(ps, series, "1.2.3.4.1", 1, pixels, (0, 0, 0), 0.6, 1.0, 1.0)
    )
    full = sd.ct_slice(ps, series, "1.2.3.4.22", 7, pixels + 5, (1.5, 2.5, -7.0), 0.6, 1.0, 1.0)
    full.save_as(tmp_path / "a.dcm", enforce_file_format=True)
    writer.write(tmp_path / "b.dcm", sd.varying_part("1.2.3.4.22", 7, (1.5, 2.5, -7.0), pixels + 5))
    assert (tmp_path / "a.dcm").read_bytes() == (tmp_path / "b.dcm").read_bytes()


def test_same_seed_gives_identical_files(tmp_path: Path) -> None:
    config = DemoConfig(
        n_subjects=2,
        seed=5,
        ct_shape=(48, 48),
        ct_slices=6,
        xray_shape=(96, 72),
        us_frames=3,
        mr_slices=3,
    )
    a = generate_demo_trial(tmp_path / "a", config)
    b = generate_demo_trial(tmp_path / "b", config)
    c = generate_demo_trial(tmp_path / "c", DemoConfig(**{**config.__dict__, "seed": 6}))

    def digest(root: Path) -> dict[str, str]:
        return {
            str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*"))
            if p.is_file()
        }

    assert digest(a.root) == digest(b.root)
    assert digest(a.root) != digest(c.root)
    uids_a = [r["study_instance_uid"] for r in a.timepoints]
    assert uids_a == [r["study_instance_uid"] for r in b.timepoints]
    assert not set(uids_a) & {r["study_instance_uid"] for r in c.timepoints}


def test_progress_reports_every_file(tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    config = DemoConfig(
        n_subjects=1,
        seed=3,
        ct_shape=(32, 32),
        ct_slices=4,
        xray_shape=(64, 48),
        us_frames=2,
        mr_slices=2,
    )
    manifest = generate_demo_trial(
        tmp_path, config, progress=lambda done, total: calls.append((done, total))
    )
    assert calls[-1] == (manifest.n_files, manifest.n_files)
    assert [d for d, _ in calls] == list(range(1, manifest.n_files + 1))


def test_guaranteed_complications_exist(demo: DemoManifest) -> None:
    present = {
        name for rec in demo.timepoints for name, f in rec["findings"].items() if f.get("present")
    }
    for name in ("extravasation", "haematoma", "cortical_breach", "osteomyelitis", "fat_globules"):
        assert name in present
    positions = {rec["findings"]["needle_position"]["value"] for rec in demo.timepoints}
    assert "through-and-through" in positions
    modalities = {m for rec in demo.timepoints for m in rec["modalities"]}
    assert modalities == {"DX", "CT", "US", "MR"}


def test_ground_truth_records_incidence_and_enrichment(truth: dict, demo: DemoManifest) -> None:
    assert truth["enriched_demo"] is True
    assert truth["reported_incidence"]["any_complication"] == pytest.approx(0.046)
    assert set(truth["enrichment_used"]) >= {"extravasation", "osteomyelitis"}
    with demo.ground_truth_csv.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 8 * len(demo.timepoints)
    assert {r["finding"] for r in rows} >= {"needle_position", "extravasation", "fat_embolism"}


def test_study_dates_follow_insertion_date(truth: dict, demo: DemoManifest) -> None:
    import datetime as dt

    insertion = {
        s["subject_id"]: dt.date.fromisoformat(s["insertion_date"]) for s in truth["subjects"]
    }
    for rec, series in _series(demo, "DX") + _series(demo, "CT"):
        ds = pydicom.dcmread(
            next((demo.root / series["folder"]).glob("*.dcm")), stop_before_pixels=True
        )
        expected = insertion[rec["subject_id"]] + dt.timedelta(days=rec["days_from_insertion"])
        assert ds.StudyDate == expected.strftime("%Y%m%d")
        assert ds.StudyInstanceUID == rec["study_instance_uid"]
        assert series["series_instance_uid"] in rec["series_uids_by_modality"][ds.Modality]


def test_patient_names_round_trip_by_character_set(truth: dict, demo: DemoManifest) -> None:
    seen = set()
    for subject in truth["subjects"]:
        path = next((demo.dicom_dir / subject["subject_id"]).rglob("*.dcm"))
        raw = path.read_bytes()
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        assert ds.SpecificCharacterSet == subject["specific_character_set"]
        assert str(ds.PatientName) == subject["patient_name"]
        charset = subject["specific_character_set"]
        codec = {"GB18030": "gb18030", "ISO_IR 192": "utf-8", "ISO_IR 100": "latin-1"}[charset]
        assert subject["patient_name"].encode(codec) in raw
        if charset != "ISO_IR 100":
            assert ds.InstitutionName == "山西白求恩医院"
        seen.add(charset)
    assert seen == {"GB18030", "ISO_IR 192", "ISO_IR 100"}


def test_ct_geometry_and_hu_calibration(demo: DemoManifest) -> None:
    rec, series = _series(demo, "CT")[0]
    files = sorted((demo.root / series["folder"]).glob("*.dcm"))
    headers = [pydicom.dcmread(f, stop_before_pixels=True) for f in files]
    z = [float(h.ImagePositionPatient[2]) for h in headers]
    assert np.allclose(np.diff(z), -series["slice_spacing_mm"])
    assert all(h.FrameOfReferenceUID == headers[0].FrameOfReferenceUID for h in headers)
    assert [float(x) for x in headers[0].ImageOrientationPatient] == [1, 0, 0, 0, 1, 0]
    assert float(headers[0].RescaleIntercept) == -1024 and headers[0].PixelRepresentation == 1
    hu = _ct_volume(demo, series)
    assert hu.min() >= -1024 and np.percentile(hu, 1) < -900  # air around the leg


def test_ct_values_inside_masks_match_ground_truth(demo: DemoManifest) -> None:
    checked = set()
    for rec, series in _series(demo, "CT"):
        hu = _ct_volume(demo, series)
        labels = np.load(demo.root / series["mask"])["labels"]
        assert labels.shape == hu.shape
        voxel = series["voxel_mm3"]
        f = rec["findings"]
        needle = labels == Tissue.NEEDLE
        assert needle.any() and np.median(hu[needle]) > 1500
        for name, tissue in (
            ("extravasation", Tissue.EXTRAVASATION),
            ("haematoma", Tissue.HAEMATOMA),
            ("fat_globules", Tissue.FAT_GLOBULE),
        ):
            mask = labels == tissue
            if not f[name]["present"]:
                assert not mask.any()
                continue
            assert f[name]["voxel_count"] == int(mask.sum()) > 0
            assert f[name]["volume_ml"] == pytest.approx(mask.sum() * voxel / 1000.0, abs=1e-3)
            assert f[name]["mean_hu"] == pytest.approx(float(hu[mask].mean()), abs=0.01)
            checked.add(name)
        if f["extravasation"]["present"]:
            assert -5 <= f["extravasation"]["mean_hu"] <= 40
            assert 0 <= f["extravasation"]["nominal_hu"] <= 20
        if f["haematoma"]["present"]:
            assert 30 <= f["haematoma"]["mean_hu"] <= 100
        if f["fat_globules"]["present"]:
            assert f["fat_globules"]["mean_hu"] < -20
    assert checked == {"extravasation", "haematoma", "fat_globules"}


def test_tissue_hu_in_expected_ranges(tmp_path: Path) -> None:
    """At a fine grid the interior of each tissue reads its textbook CT number."""
    config = DemoConfig(
        n_subjects=3,
        seed=1,
        ct_shape=(192, 192),
        ct_slices=24,
        xray_shape=(64, 48),
        us_frames=1,
        mr_slices=1,
    )
    manifest = generate_demo_trial(tmp_path, config)
    rec, series = next(
        (r, s) for r, s in _series(manifest, "CT") if r["findings"]["extravasation"]["present"]
    )
    hu = _ct_volume(manifest, series)
    labels = np.load(manifest.root / series["mask"])["labels"]
    core = binary_erosion(labels == Tissue.EXTRAVASATION, iterations=1)
    assert core.any()
    assert abs(float(hu[core].mean()) - rec["findings"]["extravasation"]["nominal_hu"]) < 8
    assert 5 < float(hu[core].std()) < 20  # ~10 HU noise
    assert np.percentile(hu, 99.5) > 900  # cortical bone
    assert ((hu > -130) & (hu < -70)).mean() > 0.03  # subcutaneous fat


def test_needle_tip_position_matches_label(demo: DemoManifest) -> None:
    for rec, series in _series(demo, "CT"):
        position = rec["findings"]["needle_position"]["value"]
        assert position in ("intramedullary", "cortex", "through-and-through", "soft tissue")
        assert len(rec["findings"]["needle_position"]["tip_mm"]) == 3


def test_radiographs_have_projection_attributes(demo: DemoManifest) -> None:
    photometrics = set()
    for rec, series in _series(demo, "DX"):
        ds = pydicom.dcmread(next((demo.root / series["folder"]).glob("*.dcm")))
        assert ds.BitsStored == 12 and ds.BitsAllocated == 16
        assert ds.ViewPosition in ("AP", "LL", "RL")
        assert ds.ImageLaterality == rec["side"] and ds.BodyPartExamined == "LEG"
        assert float(ds.EstimatedRadiographicMagnificationFactor) == pytest.approx(1.1)
        assert "PixelSpacing" not in ds and len(ds.ImagerPixelSpacing) == 2
        assert ds.pixel_array.max() <= 4095
        photometrics.add(ds.PhotometricInterpretation)
    assert photometrics == {"MONOCHROME1", "MONOCHROME2"}


def test_ultrasound_cine_is_calibrated_multiframe(demo: DemoManifest) -> None:
    for rec, series in _series(demo, "US"):
        ds = pydicom.dcmread(next((demo.root / series["folder"]).glob("*.dcm")))
        assert ds.SOPClassUID == sd.US_MULTIFRAME_STORAGE
        frames = ds.pixel_array
        assert int(ds.NumberOfFrames) == frames.shape[0] == 6
        assert float(ds.FrameTime) > 0 and ds.CineRate > 0
        region = ds.SequenceOfUltrasoundRegions[0]
        assert region.PhysicalUnitsXDirection == 3 and region.PhysicalDeltaX > 0
        assert region.RegionLocationMaxX1 < ds.Columns and region.RegionLocationMaxY1 < ds.Rows
        assert not np.array_equal(frames[0], frames[-1])  # the probe moves
        ext = rec["findings"]["extravasation"]
        if "US" in ext["evidence"]:
            inside = frames[
                :,
                region.RegionLocationMinY0 : region.RegionLocationMaxY1,
                region.RegionLocationMinX0 : region.RegionLocationMaxX1,
            ]
            assert ext["us_extent_cm"] > 0.5 and (inside < 10).mean() > 0.05  # anechoic fluid


def test_mr_t1_and_stir_share_frame_of_reference(demo: DemoManifest) -> None:
    by_study: dict[str, list] = {}
    for rec, series in _series(demo, "MR"):
        files = sorted((demo.root / series["folder"]).glob("*.dcm"))
        by_study.setdefault(rec["study_instance_uid"], []).append((rec, series, files))
    assert by_study
    for items in by_study.values():
        assert len(items) == 2
        (rec, _, t1_files), (_, _, stir_files) = items
        t1 = pydicom.dcmread(t1_files[0])
        stir = pydicom.dcmread(stir_files[0])
        assert t1.FrameOfReferenceUID == stir.FrameOfReferenceUID
        assert t1.ImagePositionPatient == stir.ImagePositionPatient
        assert stir.ScanningSequence == "IR" and t1.ScanningSequence == "SE"


def test_osteomyelitis_marrow_is_dark_on_t1_bright_on_stir(demo: DemoManifest) -> None:
    found = False
    for rec, series in _series(demo, "MR"):
        if not rec["findings"]["osteomyelitis"]["present"] or series["description"] != "STIR AX":
            continue
        labels = np.load(demo.root / series["mask"])["labels"]
        t1_series = next(s for s in rec["series"] if s["description"] == "T1 SE AX")
        stir = np.stack(
            [
                pydicom.dcmread(f).pixel_array
                for f in sorted((demo.root / series["folder"]).glob("*.dcm"))
            ]
        )
        t1 = np.stack(
            [
                pydicom.dcmread(f).pixel_array
                for f in sorted((demo.root / t1_series["folder"]).glob("*.dcm"))
            ]
        )
        oedema = labels == Tissue.MARROW_OEDEMA
        assert oedema.any()
        voxel = series["voxel_mm3"]
        assert rec["findings"]["osteomyelitis"]["oedema_volume_ml"] == pytest.approx(
            oedema.sum() * voxel / 1000, abs=1e-3
        )
        fat = (labels == 0) & (t1 > 700)
        assert stir[oedema].mean() > 3 * stir[fat].mean()
        assert t1[oedema].mean() < 0.6 * t1[fat].mean()
        found = True
    assert found


@pytest.mark.parametrize("syntax", [None, JPEG2000Lossless])
def test_write_ct_series(tmp_path: Path, syntax: str | None) -> None:
    paths = write_ct_series(
        tmp_path, n_slices=5, shape=(64, 64), seed=2, transfer_syntax=syntax, patient_id="BENCH-XYZ"
    )
    assert len(paths) == 5
    ds = pydicom.dcmread(paths[2])
    assert ds.PatientID == "BENCH-XYZ" and ds.Rows == 64
    assert ds.file_meta.TransferSyntaxUID == (syntax or pydicom.uid.ExplicitVRLittleEndian)
    hu = apply_modality_lut(ds.pixel_array, ds)
    assert hu.min() < -900 and hu.max() > 900
    again = write_ct_series(
        tmp_path / "again",
        n_slices=5,
        shape=(64, 64),
        seed=2,
        transfer_syntax=syntax,
        patient_id="BENCH-XYZ",
    )
    assert [p.read_bytes() for p in paths] == [p.read_bytes() for p in again]
