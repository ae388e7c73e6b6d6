"""Calibrated measurements: calibration sources (PS3.3 10.7.1.3, C.8.5.5), lengths, ROIs."""
from __future__ import annotations

import math

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset

from ioreview.imaging.header import InstanceHeader
from ioreview.imaging.measure import (
    Calibration,
    CalibrationSource,
    angle_deg,
    calibration_for,
    ellipse_mask,
    length_mm,
    polygon_mask,
    roi_stats,
    value_unit,
)


def _header(**kw: object) -> InstanceHeader:
    return InstanceHeader(path="x", sop_instance_uid="1", sop_class_uid="1", study_instance_uid="1",
                          series_instance_uid="1", **kw)


def test_pixel_spacing_is_in_patient() -> None:
    ds = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    cal = calibration_for(ds)
    assert cal.source is CalibrationSource.PATIENT
    assert (cal.row_spacing_mm, cal.col_spacing_mm) == tuple(float(v) for v in ds.PixelSpacing)
    assert cal.label == "mm (Pixel Spacing, in patient)"
    both = Dataset()
    both.PixelSpacing = [0.2, 0.2]
    both.ImagerPixelSpacing = [0.15, 0.15]
    assert calibration_for(both).source is CalibrationSource.PATIENT


def test_imager_pixel_spacing_at_detector_and_corrected() -> None:
    ds = Dataset()
    ds.ImagerPixelSpacing = [0.15, 0.16]
    cal = calibration_for(ds)
    assert cal.source is CalibrationSource.DETECTOR and cal.row_spacing_mm == 0.15
    assert "at detector" in cal.label
    ds.EstimatedRadiographicMagnificationFactor = 1.2
    cal = calibration_for(ds)
    assert cal.source is CalibrationSource.DETECTOR_CORRECTED
    assert cal.row_spacing_mm == pytest.approx(0.125) and cal.col_spacing_mm == pytest.approx(0.16 / 1.2)
    h = _header(imager_pixel_spacing=(0.2, 0.2), estimated_magnification=1.1)
    assert calibration_for(h).row_spacing_mm == pytest.approx(0.2 / 1.1)
    assert calibration_for(_header(imager_pixel_spacing=(0.2, 0.2))).source is CalibrationSource.DETECTOR
    assert calibration_for(_header(pixel_spacing=(0.5, 0.5))).source is CalibrationSource.PATIENT


def test_real_cr_is_at_detector() -> None:
    import glob
    import os

    paths = [p for p in glob.glob(os.path.join(os.path.dirname(get_testdata_file("CT_small.dcm")),
                                               "dicomdirtests", "77654033", "CR1", "*"))]
    ds = pydicom.dcmread(paths[0])
    assert calibration_for(ds).source is CalibrationSource.DETECTOR


def _us_region(x0: int, y0: int, x1: int, y1: int, dx: float, dy: float, units: int = 3, fmt: int = 1) -> Dataset:
    r = Dataset()
    r.RegionSpatialFormat = fmt
    r.RegionDataType = 1
    r.RegionLocationMinX0, r.RegionLocationMinY0 = x0, y0
    r.RegionLocationMaxX1, r.RegionLocationMaxY1 = x1, y1
    r.PhysicalUnitsXDirection = units
    r.PhysicalUnitsYDirection = units
    r.PhysicalDeltaX, r.PhysicalDeltaY = dx, dy
    return r


def test_ultrasound_regions() -> None:
    ds = Dataset()
    ds.SequenceOfUltrasoundRegions = [_us_region(0, 0, 99, 199, 0.01, 0.02), _us_region(100, 0, 199, 199, 0.03, 0.03)]
    inside = calibration_for(ds, point=(50.0, 20.0))
    assert inside.source is CalibrationSource.ULTRASOUND
    assert (inside.row_spacing_mm, inside.col_spacing_mm) == pytest.approx((0.2, 0.1))
    assert calibration_for(ds, point=(50.0, 150.0)).col_spacing_mm == pytest.approx(0.3)
    assert calibration_for(ds, point=(250.0, 20.0)).source is CalibrationSource.UNCALIBRATED
    assert calibration_for(ds).source is CalibrationSource.UNCALIBRATED  # ambiguous without a point
    spectral = Dataset()
    spectral.SequenceOfUltrasoundRegions = [_us_region(0, 0, 99, 99, 0.01, 0.01, fmt=3)]
    assert calibration_for(spectral, point=(5.0, 5.0)).source is CalibrationSource.UNCALIBRATED
    real = pydicom.dcmread(get_testdata_file("OBXXXX1A.dcm"))
    cal = calibration_for(real, point=(300.0, 400.0))
    assert cal.source in (CalibrationSource.ULTRASOUND, CalibrationSource.UNCALIBRATED)


def test_uncalibrated_is_pixels() -> None:
    cal = calibration_for(Dataset())
    assert cal.source is CalibrationSource.UNCALIBRATED
    assert cal.unit == "px" and cal.label == "px (uncalibrated)"
    assert length_mm((0, 0), (3, 4), cal) == 5.0


def test_length_and_angle() -> None:
    cal = Calibration(CalibrationSource.PATIENT, 0.5, 2.0)
    assert length_mm((0.0, 0.0), (4.0, 0.0), cal) == pytest.approx(2.0)
    assert length_mm((0.0, 0.0), (0.0, 1.5), cal) == pytest.approx(3.0)
    assert angle_deg((0, 5), (0, 0), (5, 0)) == pytest.approx(90.0)
    assert angle_deg((0, 5), (0, 0), (5, 5)) == pytest.approx(45.0)
    # with anisotropic pixels the physical angle differs from the pixel angle
    assert angle_deg((0, 1), (0, 0), (4, 1), cal) == pytest.approx(45.0)
    with pytest.raises(ValueError, match="vertex"):
        angle_deg((0, 0), (0, 0), (1, 1))
    with pytest.raises(ValueError, match="p0"):
        length_mm((0, "x"), (1, 1), cal)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="row_spacing_mm"):
        Calibration(CalibrationSource.PATIENT, 0.0, 1.0)


def test_masks_and_roi_stats() -> None:
    m = ellipse_mask((100, 100), (50.0, 50.0), (20.0, 10.0))
    assert abs(m.sum() - math.pi * 20 * 10) < 0.03 * math.pi * 200
    sq = polygon_mask((10, 10), [(2, 2), (2, 6), (6, 6), (6, 2)])
    assert sq.sum() in (16, 25)
    values = np.arange(100, dtype=np.int16).reshape(10, 10) - 50
    cal = Calibration(CalibrationSource.PATIENT, 0.5, 0.5)
    stats = roi_stats(values, sq, cal, unit="HU")
    inside = values[sq].astype(float)
    assert stats.n_pixels == sq.sum()
    assert stats.area == pytest.approx(sq.sum() * 0.25) and stats.area_unit == "mm²"
    assert stats.mean == pytest.approx(inside.mean()) and stats.sd == pytest.approx(inside.std(ddof=1))
    assert (stats.min, stats.max) == (inside.min(), inside.max()) and stats.unit == "HU"
    px = roi_stats(values, sq, Calibration.uncalibrated())
    assert px.area == sq.sum() and px.area_unit == "px²"
    empty = roi_stats(values, np.zeros((10, 10), bool), cal)
    assert empty.n_pixels == 0 and math.isnan(empty.mean)
    with pytest.raises(ValueError, match="mask"):
        roi_stats(values, np.zeros((5, 5), bool), cal)
    with pytest.raises(ValueError, match="points"):
        polygon_mask((10, 10), [(1, 1), (2, 2)])
    with pytest.raises(ValueError, match="radii"):
        ellipse_mask((10, 10), (5, 5), (0, 3))


def test_value_unit() -> None:
    assert value_unit(pydicom.dcmread(get_testdata_file("CT_small.dcm"))) == "HU"
    assert value_unit(_header(modality="CT")) == "HU"
    assert value_unit(pydicom.dcmread(get_testdata_file("MR_small.dcm"))) == ""


def test_calibration_header_of_a_bare_data_set_is_read_as_import_reads_it(tmp_path):
    """An older file holding a bare data set (no preamble, 'DICM' or file meta), which import
    indexes, gives its header for calibration like a Part 10 file; a file that is no DICOM at
    all still gives an empty header (the image stays uncalibrated)."""
    from ioreview.imaging.measure import read_calibration_header

    bare = get_testdata_file("OT-PAL-8-face.dcm", download=False)
    if bare is None:
        pytest.skip("OT-PAL-8-face.dcm is not installed (pydicom-data)")
    header = read_calibration_header(bare)
    assert "PixelData" not in header and header.Rows == 480 and header.SOPInstanceUID
    junk = tmp_path / "junk.dcm"
    junk.write_bytes(b"not a dicom file at all" * 20)
    assert len(read_calibration_header(junk)) == 0
