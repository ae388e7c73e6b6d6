"""Overlay text never overlaps, MPR panes share a crosshair, colour images take window/level.

Real demo DICOM files in the real `ViewerWidget`, as in test_ui_viewer.py.
"""
from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtWidgets import QApplication

from ioreview.ui.viewer.keymap import ViewerAction
from ioreview.ui.viewer.overlays import OverlayText, overlay_fonts, overlay_layout
from ioreview.ui.viewer.viewport import ImageViewport
from test_ui_viewer import click, open_series, pick, study, viewer, wheel  # noqa: F401 - fixtures
from ui_support import SCREENSHOTS

SHOTS = SCREENSHOTS  # screenshots/ (gitignored), as tests/ui_support.py saves them


def assert_laid_out(vp: ImageViewport, original: OverlayText | None = None) -> None:
    """No two overlay texts intersect, all lie inside the pane, and every line shown is an
    original line, a piece of one broken at spaces, or one cut by an ellipsis."""
    layout = vp.overlay_layout()
    bounds = QRectF(vp.rect())
    assert layout.lines
    for line in layout.lines:
        assert bounds.contains(line.rect), (line.text, line.rect, bounds)
    for a, b in itertools.combinations(layout.lines, 2):
        assert not a.rect.intersects(b.rect), (a.text, b.text, vp.size())
    text = original or vp.overlay()
    words = set(" ".join(text.top_left + text.top_right + text.bottom_left + text.bottom_right).split(" "))
    for line in layout.lines:
        if line.corner in ("left", "right", "top", "bottom"):
            continue
        for word in line.text.split(" "):
            assert word in words or word.endswith("…"), (word, line.text)


@pytest.mark.parametrize("size", [(1200, 800), (600, 780), (400, 300), (260, 200), (160, 140)])
def test_overlay_texts_never_overlap_on_a_radiograph_with_the_cursor_read_out(qtbot, viewer, study, size):
    vp = open_series(qtbot, viewer, pick(study, "DX", "AP"))
    viewer.resize(*size)
    QApplication.processEvents()
    vp._hover = QPointF(vp.width() / 2, vp.height() / 2)  # the cursor read-out line, as on hover
    text = vp.overlay()
    assert any("Magnification" in t for t in text.bottom_left)
    assert text.bottom_right and "(" in text.bottom_right[0]
    assert_laid_out(vp, text)


def test_calibration_wraps_in_1x2_instead_of_being_cut(qtbot, viewer, study):
    open_series(qtbot, viewer, pick(study, "DX", "AP"), pick(study, "DX", "LAT"))
    viewer.resize(1200, 800)
    viewer.set_layout("1x2")
    QApplication.processEvents()
    for vp in viewer.grid.visible_viewports():
        qtbot.waitUntil(lambda v=vp: v._stored is not None)
        assert_laid_out(vp)
        shown = " ".join(line.text for line in vp.overlay_layout().lines if line.corner == "bl")
        assert "Estimated Radiographic Magnification Factor" in shown  # all of it, wrapped
    SHOTS.mkdir(parents=True, exist_ok=True)
    viewer.grab().save(str(SHOTS / "viewer_1x2_dx.png"))


def test_mpr_panes_lay_out_their_overlays_and_share_a_crosshair(qtbot, viewer, study):
    ct = pick(study, "CT")
    open_series(qtbot, viewer, ct)
    viewer.resize(1280, 720)
    viewer.mpr_action.setChecked(True)
    viewer._toggle_mpr()
    mpr = viewer.mpr
    qtbot.waitUntil(lambda: mpr.volume is not None and all(v._stored is not None for v in mpr.views.values()),
                    timeout=15_000)
    QApplication.processEvents()
    for vp in mpr.views.values():
        assert_laid_out(vp)
    nz, ny, nx = mpr.volume.array.shape[:3]
    assert mpr.crosshair == (nz // 2, ny // 2, nx // 2)
    # a click in the axial pane moves the coronal and sagittal slices to the point clicked
    axial, coronal, sagittal = (mpr.views[p] for p in ("axial", "coronal", "sagittal"))
    target = axial.image_to_widget((60.0, 180.0))
    click(axial, target)
    assert mpr.crosshair == (nz // 2, 60, 180)
    assert (coronal.index, sagittal.index) == (60, 180)
    # a Shift+drag in the sagittal pane moves the axial slice (rows run head to foot)
    start = sagittal.image_to_widget(mpr.image_point("sagittal"))
    row_of_z5 = nz - 1 - 5 if mpr._flipped() else 5
    end = sagittal.image_to_widget((float(row_of_z5), 100.0))
    qtbot.mousePress(sagittal, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ShiftModifier, start.toPoint())
    qtbot.mouseMove(sagittal, end.toPoint())
    from test_ui_viewer import mouse
    from PySide6.QtCore import QEvent
    mouse(sagittal, QEvent.Type.MouseMove, end, Qt.MouseButton.NoButton, Qt.MouseButton.LeftButton,
          Qt.KeyboardModifier.ShiftModifier)
    qtbot.mouseRelease(sagittal, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ShiftModifier, end.toPoint())
    assert mpr.crosshair == (5, 100, 180)
    assert axial.index == 5 and coronal.index == 100
    # scrolling the coronal pane moves the crosshair along y; the reference lines follow
    wheel(coronal, QPointF(coronal.width() / 2, coronal.height() / 2), -120)
    assert mpr.crosshair[1] == coronal.index == 101
    # the reference lines are drawn: the axial pane shows green (coronal) and orange (sagittal)
    img = axial.grab().toImage()
    y_line = axial.image_to_widget((101.0, 0.0)).y()
    x_line = axial.image_to_widget((0.0, 180.0)).x()
    dpr = img.devicePixelRatio()
    green = img.pixelColor(int(axial.width() * 0.1 * dpr), int(y_line * dpr))
    orange = img.pixelColor(int(x_line * dpr), int(axial.height() * 0.6 * dpr))
    assert green.green() > 150 and green.red() < 140, green.name()
    assert orange.red() > 200 and orange.blue() < 120, orange.name()
    SHOTS.mkdir(parents=True, exist_ok=True)
    viewer.grab().save(str(SHOTS / "viewer_mpr_crosshair.png"))


def _assert_inside_and_apart(rect: QRectF, lines) -> None:
    """Every laid-out line inside `rect`, and no two lines overlapping."""
    w, h = rect.width(), rect.height()
    for line in lines:
        assert rect.contains(line.rect), (w, h, line.text)
    for a, b in itertools.combinations(lines, 2):
        assert not a.rect.intersects(b.rect), (w, h, a.text, b.text)


def test_layout_engine_at_sizes_no_viewport_reaches(qtbot):
    """The layout alone: long corner texts in tiny and wide rectangles never collide."""
    from PySide6.QtGui import QFont

    text = OverlayText(
        ["A very long series description that goes on and on", "CT axial", "Series 12"],
        ["Im 120 / 500", "Pos -493.2 mm", "Thk 3.8 mm", "512 × 512", "Loading 20 / 500"],
        ["W 400  L 40  (soft tissue)", "Zoom 147%", "mm (Imager Pixel Spacing corrected by Estimated "
                                                   "Radiographic Magnification Factor)"],
        ["(383, 401)  2123 HU", "Cine 15 fps"],
    )
    markers = {"left": "R", "right": "L", "top": "A", "bottom": "P"}
    font, big = overlay_fonts(QFont())
    for w, h in [(2000, 1200), (900, 900), (420, 760), (300, 300), (180, 120), (90, 90), (40, 40)]:
        rect = QRectF(0, 0, w, h)
        layout = overlay_layout(rect, text, markers, font, big)
        _assert_inside_and_apart(rect, layout.lines)
        corner_lines = [ln.text for ln in layout.lines if ln.corner in ("tl", "tr", "bl", "br")]
        if w >= 2000:
            assert len(corner_lines) == 13  # every line whole
        elif w >= 900:
            assert "Radiographic Magnification Factor)" in " ".join(corner_lines)  # wrapped, not cut


def test_a_narrow_pane_keeps_its_window_line_whole_beside_the_orientation_letter(qtbot):
    """An MPR pane at 1280 pixels is ~230 wide: with nothing in the bottom-right corner the
    window line may pass above the bottom letter; only the row beside the letter stops before
    it (elided), and nothing collides at any size."""
    from PySide6.QtGui import QFont

    text = OverlayText(["LOWER LEG AXIAL 5mm", "CT coronal"], ["Im 33 / 64", "64 × 12"],
                       ["窗宽 400 窗位 50（DICOM 默认）", "缩放 362%",
                        "mm（像素间距，患者体内尺寸）"], [])
    markers = {"left": "R", "right": "L", "top": "H", "bottom": "F"}
    font, big = overlay_fonts(QFont())
    for w, h in [(230, 690), (260, 500), (200, 300), (160, 160), (120, 400), (600, 400)]:
        rect = QRectF(0, 0, w, h)
        layout = overlay_layout(rect, text, markers, font, big)
        _assert_inside_and_apart(rect, layout.lines)
        if w >= 230:
            assert text.bottom_left[0] in [ln.text for ln in layout.lines], (w, h)


def _rgb_file(path: Path) -> Path:
    """A small RGB ultrasound image (Doppler-like colour over grey) written with pydicom."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    rows, cols = 64, 80
    arr = np.zeros((rows, cols, 3), np.uint8)
    arr[..., :] = np.linspace(40, 200, cols, dtype=np.uint8)[None, :, None]
    arr[20:40, 30:50] = (200, 40, 40)
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.6.1"
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.Modality, ds.SeriesDescription, ds.SeriesNumber, ds.InstanceNumber = "US", "DOPPLER RGB", 1, 1
    ds.PatientID = "X"
    ds.Rows, ds.Columns, ds.SamplesPerPixel, ds.PlanarConfiguration = rows, cols, 3, 0
    ds.PhotometricInterpretation = "RGB"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    ds.PixelData = arr.tobytes()
    target = path / "rgb.dcm"
    ds.save_as(target, enforce_file_format=True)
    return target


def test_colour_images_take_window_level_on_every_channel_and_reset(qtbot, viewer, tmp_path):
    from ioreview.imaging.header import SeriesView
    from ioreview.ui.view_app import scan_paths
    from test_ui_viewer import drag

    found, bad = scan_paths([str(_rgb_file(tmp_path))])
    assert not bad
    s = found[0]
    vp = open_series(qtbot, viewer, SeriesView(1, s.modality, s.description, s.n_instances, s.n_frames, s.headers))
    assert vp._stored.ndim == 3
    assert vp.window is not None and vp.window.width == 256.0
    assert any(t.startswith("W 256") for t in vp.overlay().bottom_left)  # W/L shown for colour too

    def pixel(row: int, col: int):
        return vp.grab().toImage().pixelColor(vp.image_to_widget((row, col)).toPoint())

    before_red, before_grey = pixel(30, 40), pixel(5, 5)
    # left-drag to the left narrows the window: more contrast
    drag(vp, QPointF(300, 300), QPointF(200, 300))
    assert vp.window.width < 256.0
    after_red, after_grey = pixel(30, 40), pixel(5, 5)
    assert after_red.red() > before_red.red() and after_red.red() >= after_red.green()  # contrast up, still red
    assert abs(after_grey.red() - after_grey.green()) <= 2  # grey stays grey: same map on every channel
    assert after_grey != before_grey
    vp.perform(ViewerAction.RESET)
    assert vp.window.width == 256.0
    assert pixel(30, 40) == before_red
    assert vp.presets() == []
