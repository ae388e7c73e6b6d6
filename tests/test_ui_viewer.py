"""The image viewer driven as a reader drives it: mouse, wheel and keys on real DICOM files.

The demo generator writes a small study (radiographs, a CT, an ultrasound cine, T1 and STIR
MR in one frame of reference); the files are indexed by the real scanner and shown in the
real `ViewerWidget`.
"""
from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, QSettings, Qt
from PySide6.QtGui import QMouseEvent, QWheelEvent
from PySide6.QtWidgets import QApplication

from ioreview.imaging.deid import MASK, TagRow, tag_rows
from ioreview.imaging.header import SeriesView
from ioreview.imaging.synthetic import DemoConfig, generate_demo_trial
from ioreview.ui.view_app import scan_paths
from ioreview.ui.viewer.keymap import ViewerAction
from ioreview.ui.viewer.tag_browser import TagBrowserDialog
from ioreview.ui.viewer.theme import apply_dark_theme
from ioreview.ui.viewer.viewer_window import ViewerWidget
from ioreview.ui.viewer.viewport import ImageViewport

SCREENSHOTS = Path(__file__).resolve().parents[1] / "screenshots"
IDENTIFYING = ("patient_name", "patient_id", "patient_birth_date", "accession_number", "institution_name",
               "study_date", "series_date", "content_date")


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> dict[str, SeriesView]:
    """The demo study of one subject, as the service would hand it over: {description: SeriesView}."""
    root = tmp_path_factory.mktemp("viewer-demo")
    config = DemoConfig(n_subjects=1, ct_shape=(256, 256), ct_slices=40, xray_shape=(1024, 800), us_frames=20, mr_slices=10)
    manifest = generate_demo_trial(root, config)
    found, bad = scan_paths([str(manifest.dicom_dir)])
    assert not bad
    out: dict[str, SeriesView] = {}
    for n, s in enumerate(found, 1):
        key = f"{s.modality} {s.description}"
        if key in out:  # same protocol at another timepoint
            continue
        out[key] = SeriesView(n, s.modality, s.description, s.n_instances, s.n_frames, s.headers)
    return out


def pick(study: dict[str, SeriesView], modality: str, words: str = "") -> SeriesView:
    return next(s for k, s in study.items() if s.modality == modality and words in k)


@pytest.fixture
def viewer(qtbot, tmp_path):
    app = QApplication.instance()
    apply_dark_theme(app)
    w = ViewerWidget(settings=QSettings(str(tmp_path / "viewer.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(w)
    w.resize(1200, 800)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.shutdown()


def open_series(qtbot, viewer: ViewerWidget, *series: SeriesView) -> ImageViewport:
    viewer.set_series(list(series))
    vp = viewer.grid.viewports[0]
    qtbot.waitUntil(lambda: vp._stored is not None, timeout=5000)
    vp.setFocus()
    return vp


def mouse(widget, kind: QEvent.Type, pos: QPointF, button: Qt.MouseButton, buttons: Qt.MouseButton,
          mods: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
    ev = QMouseEvent(kind, QPointF(pos), widget.mapToGlobal(QPointF(pos)), button, buttons, mods)
    QApplication.sendEvent(widget, ev)


def drag(widget, start: QPointF, end: QPointF, button=Qt.MouseButton.LeftButton, steps: int = 8) -> None:
    """Press at `start`, move in steps, release at `end` — as a hand would."""
    mouse(widget, QEvent.Type.MouseButtonPress, start, button, button)
    for k in range(1, steps + 1):
        p = start + (end - start) * (k / steps)
        mouse(widget, QEvent.Type.MouseMove, p, Qt.MouseButton.NoButton, button)
    mouse(widget, QEvent.Type.MouseButtonRelease, end, button, Qt.MouseButton.NoButton)


def click(widget, pos: QPointF, button=Qt.MouseButton.LeftButton) -> None:
    mouse(widget, QEvent.Type.MouseButtonPress, pos, button, button)
    mouse(widget, QEvent.Type.MouseButtonRelease, pos, button, Qt.MouseButton.NoButton)


def wheel(widget, pos: QPointF, dy: int, mods=Qt.KeyboardModifier.NoModifier) -> None:
    ev = QWheelEvent(QPointF(pos), widget.mapToGlobal(QPointF(pos)), QPoint(0, 0), QPoint(0, dy),
                     Qt.MouseButton.NoButton, mods, Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(widget, ev)


# ------------------------------------------------------------------ viewing
def test_first_image_then_wheel_scrolls_slices(qtbot, viewer, study):
    ct = pick(study, "CT")
    vp = open_series(qtbot, viewer, ct)
    assert vp.source.count == ct.n_instances
    assert vp.index == 0
    centre = QPointF(vp.width() / 2, vp.height() / 2)
    wheel(vp, centre, -120)
    assert vp.index == 1
    wheel(vp, centre, -360)
    assert vp.index == 4
    wheel(vp, centre, 120)
    assert vp.index == 3
    qtbot.waitUntil(lambda: vp._shown_index == 3)
    # the slices come in order along the normal: positions change monotonically
    h0, h3 = vp.source.ref(0).header, vp.source.ref(3).header
    assert h0.image_position[2] != h3.image_position[2]


def test_ctrl_wheel_zooms_about_the_cursor(qtbot, viewer, study):
    vp = open_series(qtbot, viewer, pick(study, "CT"))
    at = QPointF(vp.width() * 0.3, vp.height() * 0.4)
    under = vp.widget_to_image(at)
    wheel(vp, at, 240, Qt.KeyboardModifier.ControlModifier)  # two notches, ~20 % each
    assert vp.zoom > 1.4
    after = vp.image_to_widget(under)
    assert abs(after.x() - at.x()) < 0.5 and abs(after.y() - at.y()) < 0.5


def test_left_drag_changes_window(qtbot, viewer, study):
    vp = open_series(qtbot, viewer, pick(study, "CT"))
    before = vp.window
    assert (before.center, before.width) == (50.0, 400.0)  # from the header
    centre = QPointF(vp.width() / 2, vp.height() / 2)
    drag(vp, centre, centre + QPointF(100, 40))
    assert vp.window.width > before.width
    assert vp.window.center < before.center
    bl = " ".join(vp.overlay().bottom_left)
    assert f"W {vp.window.width:.0f}" in bl
    # what is painted follows the window: display values change
    img0 = vp.grab().toImage()
    drag(vp, centre, centre + QPointF(-150, 0))
    img1 = vp.grab().toImage()
    assert img0 != img1


def test_displayed_pixels_are_the_headless_render(qtbot, viewer, study):
    """What the viewport paints (before scaling) is exactly `ioreview render` of the same
    frame and window, on the first slice, after a window drag and after scrolling."""
    from ioreview.imaging.render import render_frame

    vp = open_series(qtbot, viewer, pick(study, "CT"))
    centre = QPointF(vp.width() / 2, vp.height() / 2)

    def shown() -> np.ndarray:
        vp._ensure_display()
        img = vp._qimage
        words = np.frombuffer(img.constBits(), np.uint32).reshape(img.height(), img.bytesPerLine() // 4)
        rgb32 = words[:, : img.width()]
        assert np.all(rgb32 >> 24 == 0xFF) and np.array_equal((rgb32 >> 8) & 0xFF, rgb32 & 0xFF)
        return (rgb32 & 0xFF).astype(np.uint8)

    def expected() -> np.ndarray:
        return render_frame(vp.source.ref(vp.index).header.path, window=vp.window)

    assert np.array_equal(shown(), expected())
    for k in range(1, 6):  # a drag, as the mouse moves
        vp.mark_interactive()
        mouse(vp, QEvent.Type.MouseButtonPress, centre, Qt.MouseButton.LeftButton, Qt.MouseButton.LeftButton)
        mouse(vp, QEvent.Type.MouseMove, centre + QPointF(-30 * k, 25 * k), Qt.MouseButton.NoButton, Qt.MouseButton.LeftButton)
        mouse(vp, QEvent.Type.MouseButtonRelease, centre + QPointF(-30 * k, 25 * k), Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton)
        vp._fast = False
        assert np.array_equal(shown(), expected()), vp.window
    for _ in range(3):
        wheel(vp, centre, -120)
        qtbot.waitUntil(lambda: vp._shown_index == vp.index)
        assert np.array_equal(shown(), expected())


def test_right_drag_zooms_and_middle_drag_pans(qtbot, viewer, study):
    vp = open_series(qtbot, viewer, pick(study, "CT"))
    centre = QPointF(vp.width() / 2, vp.height() / 2)
    drag(vp, centre, centre + QPointF(0, -100), Qt.MouseButton.RightButton)
    assert vp.zoom > 1.5
    drag(vp, centre, centre + QPointF(30, 20), Qt.MouseButton.MiddleButton)
    assert (round(vp.pan.x()), round(vp.pan.y())) == (30, 20)


def test_keys_move_through_images_and_change_the_view(qtbot, viewer, study):
    ct = pick(study, "CT")
    vp = open_series(qtbot, viewer, ct, *(s for s in study.values() if s is not ct))
    n = vp.source.count
    qtbot.keyClick(vp, Qt.Key.Key_Down)
    assert vp.index == 1
    qtbot.keyClick(vp, Qt.Key.Key_End)
    assert vp.index == n - 1
    qtbot.keyClick(vp, Qt.Key.Key_Up)
    assert vp.index == n - 2
    qtbot.keyClick(vp, Qt.Key.Key_Home)
    assert vp.index == 0
    qtbot.keyClick(vp, Qt.Key.Key_I)
    assert vp.invert
    qtbot.keyClick(vp, Qt.Key.Key_H)
    assert vp.flip_h
    markers = vp._markers()
    assert markers["left"] == "L" and markers["right"] == "R"  # flipped: patient left on the left
    qtbot.keyClick(vp, Qt.Key.Key_R)
    assert vp.rotation == 90
    qtbot.keyClick(vp, Qt.Key.Key_2)  # second CT preset: bone
    assert vp.window.width == 2000.0 and vp.window_name == "bone"
    qtbot.keyClick(vp, Qt.Key.Key_Escape)
    assert (vp.flip_h, vp.rotation, vp.zoom, vp.invert) == (False, 0, 1.0, False)
    assert vp.window.width == 400.0
    qtbot.keyClick(vp, Qt.Key.Key_PageDown)  # next series
    assert viewer._shown[vp] != str(pick(study, "CT").series_pk)


def test_keys_are_remappable(qtbot, viewer, study):
    vp = open_series(qtbot, viewer, pick(study, "CT"))
    viewer.keymap.set_keys(ViewerAction.INVERT, ("J",))
    qtbot.keyClick(vp, Qt.Key.Key_I)
    assert not vp.invert
    qtbot.keyClick(vp, Qt.Key.Key_J)
    assert vp.invert


def test_orientation_markers_for_an_axial_slice(qtbot, viewer, study):
    vp = open_series(qtbot, viewer, pick(study, "CT"))
    assert vp._markers() == {"right": "L", "left": "R", "bottom": "P", "top": "A"}


def test_overlays_never_show_identifying_values(qtbot, viewer, study):
    for s in study.values():
        vp = open_series(qtbot, viewer, s)
        h = s.headers[0]
        text = vp.overlay().all_text()
        for field in IDENTIFYING:
            value = getattr(h, field)
            if value:
                assert value not in text, (field, value)
        assert h.patient_name  # the files do carry a name
        for part in h.patient_name.replace("=", "^").split("^"):
            if len(part) > 1:
                assert part not in text


# ------------------------------------------------------------------ measuring
def test_length_drawn_with_the_mouse_is_in_mm(qtbot, viewer, study):
    ct = pick(study, "CT")
    vp = open_series(qtbot, viewer, ct)
    added = []
    viewer.annotationAdded.connect(added.append)
    viewer.set_current_finding("F2", "F2 extravasation")
    viewer.set_tool("length")
    p0, p1 = vp.image_to_widget((100.0, 60.0)), vp.image_to_widget((100.0, 140.0))
    drag(vp, p0, p1)
    assert len(added) == 1
    a = added[0]
    row_mm, col_mm = ct.headers[0].pixel_spacing
    assert a.kind == "length"
    assert a.measurements["length_mm"] == pytest.approx(80 * col_mm, abs=1e-6)
    assert a.text == f"{80 * col_mm:.1f} mm"
    assert a.finding_id == "F2" and a.label == "F2 extravasation"
    assert a.calibration == "mm (Pixel Spacing, in patient)"
    record = a.to_trial()
    assert record.points == ((100.0, 60.0), (100.0, 140.0))
    assert record.sop_instance_uid == vp.current_ref().header.sop_instance_uid


def test_uncalibrated_image_measures_in_pixels_and_says_so(qtbot, viewer, study):
    dx = pick(study, "DX")
    bare = tuple(dataclasses.replace(h, pixel_spacing=None, imager_pixel_spacing=None, estimated_magnification=None)
                 for h in dx.headers)
    vp = open_series(qtbot, viewer, dataclasses.replace(dx, headers=bare))
    viewer.set_tool("length")
    drag(vp, vp.image_to_widget((200.0, 100.0)), vp.image_to_widget((230.0, 140.0)))
    a = viewer.annotation_list()[0]
    assert a.measurements == {"length_px": pytest.approx(50.0)}
    assert "px" in a.text and "uncalibrated" in a.text
    assert "uncalibrated" in " ".join(vp.overlay().bottom_left)


def test_radiograph_length_uses_magnification_corrected_spacing(qtbot, viewer, study):
    dx = pick(study, "DX")
    vp = open_series(qtbot, viewer, dx)
    viewer.set_tool("length")
    drag(vp, vp.image_to_widget((300.0, 200.0)), vp.image_to_widget((300.0, 300.0)))
    a = viewer.annotation_list()[0]
    h = dx.headers[0]
    assert a.measurements["length_mm"] == pytest.approx(100 * h.imager_pixel_spacing[1] / h.estimated_magnification)
    assert "magnification corrected" in a.text


def test_ellipse_roi_gives_hu_statistics(qtbot, viewer, study):
    vp = open_series(qtbot, viewer, pick(study, "CT"))
    viewer.set_tool("ellipse")
    drag(vp, vp.image_to_widget((110.0, 110.0)), vp.image_to_widget((130.0, 140.0)))
    a = viewer.annotation_list()[0]
    assert a.kind == "ellipse"
    assert a.measurements["n_pixels"] > 300
    row_mm, col_mm = vp.current_header().pixel_spacing
    assert a.measurements["area_mm²"] == pytest.approx(a.measurements["n_pixels"] * row_mm * col_mm)
    assert "HU" in a.text and "mm²" in a.text
    assert a.measurements["min"] <= a.measurements["mean"] <= a.measurements["max"]


def test_angle_and_polygon_by_clicks(qtbot, viewer, study):
    vp = open_series(qtbot, viewer, pick(study, "CT"))
    viewer.set_tool("angle")
    for pt in ((100.0, 150.0), (100.0, 100.0), (50.0, 100.0)):
        click(vp, vp.image_to_widget(pt))
    angle = viewer.annotation_list()[0]
    assert angle.measurements["angle_deg"] == pytest.approx(90.0)
    viewer.set_tool("polygon")
    for pt in ((60.0, 60.0), (60.0, 90.0), (90.0, 90.0)):
        click(vp, vp.image_to_widget(pt))
    qtbot.keyClick(vp, Qt.Key.Key_Return)
    poly = [a for a in viewer.annotation_list() if a.kind == "polygon"][0]
    assert len(poly.points) == 3 and poly.measurements["n_pixels"] > 0


def test_undo_redo_and_editing_an_annotation(qtbot, viewer, study):
    vp = open_series(qtbot, viewer, pick(study, "CT"))
    changed, removed = [], []
    viewer.annotationChanged.connect(changed.append)
    viewer.annotationRemoved.connect(removed.append)
    viewer.set_tool("length")
    drag(vp, vp.image_to_widget((50.0, 50.0)), vp.image_to_widget((50.0, 90.0)))
    assert len(viewer.annotation_list()) == 1
    viewer.set_tool("navigate")
    # drag the end handle 20 pixels further: the length follows and the W/L does not move
    window = vp.window
    drag(vp, vp.image_to_widget((50.0, 90.0)), vp.image_to_widget((50.0, 110.0)))
    a = viewer.annotation_list()[0]
    assert a.points[1] == pytest.approx((50.0, 110.0))
    assert a.measurements["length_mm"] == pytest.approx(60 * vp.current_header().pixel_spacing[1])
    assert vp.window == window
    assert changed
    qtbot.keyClick(vp, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # undo the edit
    assert viewer.annotation_list()[0].points[1] == pytest.approx((50.0, 90.0))
    viewer.undo_action.trigger()  # undo the drawing
    assert viewer.annotation_list() == []
    assert removed
    viewer.redo_action.trigger()
    assert len(viewer.annotation_list()) == 1
    qtbot.keyClick(vp, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert viewer.annotation_list()[0].points[1] == pytest.approx((50.0, 110.0))
    # relabel for another finding, then delete with the key
    uid = viewer.annotation_list()[0].uid
    viewer.set_annotation_finding(uid, "F7", "F7 fracture")
    assert viewer.annotation_list()[0].label == "F7 fracture"
    viewer.annotations.select(uid)
    qtbot.keyClick(vp, Qt.Key.Key_Delete)
    assert viewer.annotation_list() == []


def test_read_only_viewer_shows_but_does_not_draw(qtbot, viewer, study):
    vp = open_series(qtbot, viewer, pick(study, "CT"))
    viewer.set_tool("length")
    drag(vp, vp.image_to_widget((50.0, 50.0)), vp.image_to_widget((50.0, 90.0)))
    saved = [a.to_trial() for a in viewer.annotation_list()]
    viewer.set_annotations(saved)
    viewer.set_read_only(True)
    assert viewer.tool == "navigate"
    drag(vp, vp.image_to_widget((50.0, 90.0)), vp.image_to_widget((80.0, 120.0)))
    assert viewer.annotation_list()[0].points == saved[0].points


# ------------------------------------------------------------------ cine, sync, layout, MPR
def test_cine_plays_a_multiframe_clip_at_the_header_rate(qtbot, viewer, study):
    us = pick(study, "US")
    vp = open_series(qtbot, viewer, us)
    assert vp.source.count == us.n_frames
    qtbot.keyClick(vp, Qt.Key.Key_C)
    assert vp.cine.running
    assert vp.cine.fps == pytest.approx(1000.0 / us.headers[0].frame_time_ms)
    assert viewer.cine_action.isChecked()
    qtbot.waitUntil(lambda: vp.index >= 3, timeout=3000)
    assert any("Frame" in line for line in vp.overlay().top_right)
    qtbot.keyClick(vp, Qt.Key.Key_C)
    assert not vp.cine.running


def test_scrolling_is_synchronised_in_one_frame_of_reference(qtbot, viewer, study):
    t1, stir = pick(study, "MR", "T1"), pick(study, "MR", "STIR")
    assert t1.headers[0].frame_of_reference_uid == stir.headers[0].frame_of_reference_uid
    viewer.set_layout("1x2")
    viewer.set_series([t1, stir])
    a, b = viewer.grid.visible_viewports()
    qtbot.waitUntil(lambda: a._stored is not None and b._stored is not None, timeout=5000)
    wheel(a, QPointF(50, 50), -360)
    assert a.index == 3 and b.index == 3
    drag(b, QPointF(50, 50), QPointF(50, 0), Qt.MouseButton.RightButton)
    assert a.zoom == pytest.approx(b.zoom)
    viewer.sync_action.trigger()  # off
    wheel(a, QPointF(50, 50), -120)
    assert (a.index, b.index) == (4, 3)


def test_layouts_and_double_click_maximise(qtbot, viewer, study):
    viewer.set_series(list(study.values()))
    viewer.set_layout("2x2")
    vps = viewer.grid.visible_viewports()
    assert len(vps) == 4 and all(v.source is not None for v in vps)
    assert len({viewer._shown[v] for v in vps}) == 4
    target = vps[2]
    mouse(target, QEvent.Type.MouseButtonDblClick, QPointF(40, 40), Qt.MouseButton.LeftButton, Qt.MouseButton.LeftButton)
    assert viewer.grid.visible_viewports() == [target]
    mouse(target, QEvent.Type.MouseButtonDblClick, QPointF(40, 40), Qt.MouseButton.LeftButton, Qt.MouseButton.LeftButton)
    assert len(viewer.grid.visible_viewports()) == 4


def test_browser_lists_series_with_thumbnails_and_drop_shows_them(qtbot, viewer, study):
    viewer.set_series(list(study.values()))
    assert viewer.browser.count() == len(study)
    item = viewer.browser.item(1)
    assert viewer.browser.thumbnails_pending == len(study)  # they start after the first images
    qtbot.waitUntil(lambda: viewer.browser.thumbnails_pending == 0, timeout=5000)
    qtbot.waitUntil(lambda: not item.icon().pixmap(96, 96).toImage().pixelColor(48, 48).name() == "#18181b", timeout=5000)
    data = viewer.browser.mimeData([item])
    vp = viewer.grid.viewports[0]
    received = []
    vp.seriesDropped.connect(received.append)
    from PySide6.QtGui import QDragEnterEvent, QDropEvent

    enter = QDragEnterEvent(QPoint(20, 20), Qt.DropAction.CopyAction, data, Qt.MouseButton.LeftButton,
                            Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(vp, enter)
    assert enter.isAccepted()
    ev = QDropEvent(QPointF(20, 20), Qt.DropAction.CopyAction, data, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(vp, ev)
    assert received == [item.data(Qt.ItemDataRole.UserRole)]
    assert viewer._shown[vp] == received[0]


def test_mpr_reformats_a_ct_volume(qtbot, viewer, study):
    ct = pick(study, "CT")
    open_series(qtbot, viewer, ct)
    viewer.mpr_action.trigger()
    qtbot.waitUntil(lambda: viewer.mpr.volume is not None, timeout=10000)
    views = viewer.mpr.views
    rows, cols = ct.headers[0].rows, ct.headers[0].columns
    assert views["axial"].source.count == ct.n_instances
    assert views["coronal"].source.count == rows
    assert views["sagittal"].source.count == cols
    assert views["coronal"]._stored.shape == (ct.n_instances, cols)
    assert views["coronal"].pixel_aspect() > 1.0  # slices thicker than pixels
    m = views["coronal"]._markers()
    assert m["top"] == "H" and m["bottom"] == "F"
    views["axial"].set_window(views["axial"].window.__class__(500, 2000), "bone")
    assert views["sagittal"].window.width == 2000
    viewer.mpr_action.trigger()
    assert viewer.stack.currentWidget() is viewer.grid


def test_mpr_reuses_the_loaded_stack(qtbot, viewer, study):
    """Once the series is in memory, reformats view the same array: no second copy."""
    from ioreview.imaging.volume import load_volume

    ct = pick(study, "CT")
    open_series(qtbot, viewer, ct)
    loader = viewer._loaders[str(ct.series_pk)]
    qtbot.waitUntil(lambda: loader.complete, timeout=10000)
    viewer.mpr_action.trigger()
    volume = viewer.mpr.volume
    assert volume is not None
    assert np.shares_memory(volume.array, loader.stack)
    reference = load_volume(list(ct.headers), workers=1)
    assert np.array_equal(volume.array, reference.array)
    assert volume.spacing_zyx == reference.spacing_zyx
    assert viewer.mpr.views["coronal"]._markers()["top"] == "H"
    viewer.mpr_action.trigger()


def test_tag_browser_shows_host_rows_and_filters(qtbot, viewer, study):
    open_series(qtbot, viewer, pick(study, "CT"))
    rows = [("(0008,0060)", "Modality", "CT"), ("(0010,0010)", "PatientName", "***"),
            ("(0040,0275)", "RequestAttributesSequence", "1 item(s)"), ("(0040,1001)", ">RequestedProcedureID", "X")]
    viewer.set_tag_rows_provider(lambda ref: rows)
    dlg = viewer.show_tags()
    qtbot.addWidget(dlg)
    assert isinstance(dlg, TagBrowserDialog)
    assert len(dlg.visible_rows()) == 4
    dlg.filter.setText("modality")
    assert dlg.visible_rows() == [rows[0]]
    dlg.filter.setText("requested")
    assert [r[1] for r in dlg.visible_rows()] == ["RequestAttributesSequence", "RequestedProcedureID"]


def test_tag_browser_shows_policy_rows_of_a_real_file(qtbot, viewer, study):
    """Rows from the one policy (`deid.tag_rows`): masked values greyed as MASK, sequences
    nested under their item count."""
    open_series(qtbot, viewer, pick(study, "CT"))
    viewer.set_tag_rows_provider(lambda ref: tag_rows(ref.header.path, masked=True))
    dlg = viewer.show_tags()
    qtbot.addWidget(dlg)
    shown = {keyword: value for _tag, keyword, value in dlg.visible_rows()}
    assert shown["PatientName"] == MASK and shown["StudyInstanceUID"] == MASK
    assert shown["Modality"] == "CT" and shown["SOPClassUID"] == "1.2.840.10008.5.1.4.1.1.2"
    rows = [TagRow("(0008,1140)", "ReferencedImageSequence", "<2 item(s)>", items=2),
            TagRow("(0008,1150)", ">ReferencedSOPClassUID", "1.2.840.10008.5.1.4.1.1.2"),
            TagRow("(0008,1155)", ">ReferencedSOPInstanceUID", MASK, masked=True),
            TagRow("(0008,1150)", ">ReferencedSOPClassUID", "1.2.840.10008.5.1.4.1.1.2")]
    viewer.set_tag_rows_provider(lambda ref: rows)
    dlg = viewer.show_tags()
    qtbot.addWidget(dlg)
    top = dlg.tree.topLevelItem(0)
    assert (top.text(1), top.text(2), top.childCount()) == ("ReferencedImageSequence", "2 item(s)", 3)
    assert top.child(1).text(2) == MASK


def test_view_app_lists_bad_files(tmp_path, study):
    (tmp_path / "notes.txt").write_text("not dicom")
    ct = pick(study, "CT")
    found, bad = scan_paths([str(tmp_path), ct.headers[0].path])
    assert len(found) == 1 and found[0].n_instances == 1
    assert [Path(f).name for f, _ in bad] == ["notes.txt"]


def _shows_an_image(vp: ImageViewport) -> bool:
    """Something other than the black background is painted above the middle of the pane
    (where a message would be written, and away from the corner overlays)."""
    img = vp.grab().toImage()
    w, h = img.width(), img.height()
    return any(img.pixelColor(x, y).lightness() > 20
               for x in range(w // 3, 2 * w // 3, 5) for y in range(h // 4, h // 2 - 40, 5))


def test_a_frame_that_cannot_be_read_says_why_and_the_rest_still_show(qtbot, viewer, study,
                                                                       tmp_path):
    import shutil

    ct = pick(study, "CT")
    for h in ct.headers:
        shutil.copy(h.path, tmp_path / Path(h.path).name)
    [copy], bad = scan_paths([str(tmp_path)])
    assert not bad
    series = SeriesView(1, copy.modality, copy.description, copy.n_instances, copy.n_frames,
                        copy.headers)
    vp = open_series(qtbot, viewer, series)
    broken = vp.source.ref(2).header.path
    Path(broken).write_bytes(Path(broken).read_bytes()[:2000])  # damaged after it was indexed
    viewer.set_series([series])  # opened again: the stack is read from disk anew
    vp = viewer.grid.viewports[0]
    vp.setFocus()
    vp.set_index(2)
    qtbot.waitUntil(lambda: vp.message.startswith("cannot display: "), timeout=5000)
    assert "truncated" in vp.message and broken not in vp.message
    assert not _shows_an_image(vp)  # not another slice's pixels under the message
    qtbot.keyClick(vp, Qt.Key.Key_Down)
    qtbot.waitUntil(lambda: vp.index == 3 and vp.message == "", timeout=5000)
    qtbot.waitUntil(lambda: _shows_an_image(vp), timeout=5000)


def test_a_rescale_that_cannot_be_applied_says_why(qtbot, viewer, study):
    ct = pick(study, "CT")
    headers = list(ct.headers)
    headers[0] = dataclasses.replace(headers[0], rescale_slope=0.0)
    series = SeriesView(1, ct.modality, ct.description, ct.n_instances, ct.n_frames,
                        tuple(headers))
    viewer.set_series([series])
    vp = viewer.grid.viewports[0]
    vp.setFocus()
    slope_zero = next(i for i in range(vp.source.count) if vp.source.ref(i).header is headers[0])
    vp.set_index(slope_zero)
    qtbot.waitUntil(lambda: vp.message.startswith("cannot display: "), timeout=5000)
    assert "Rescale Slope 0" in vp.message
    vp.set_index(slope_zero + 1 if slope_zero + 1 < vp.source.count else slope_zero - 1)
    qtbot.waitUntil(lambda: vp.message == "" and _shows_an_image(vp), timeout=5000)


def test_many_repaints_do_not_leak_none(qtbot, viewer, study):
    """PySide6 6.12.0 on Python 3.11 dropped a reference to None per update() (see design.md)."""
    import sys

    vp = open_series(qtbot, viewer, pick(study, "CT"))
    before = sys.getrefcount(None)
    for i in range(20000):
        vp.update()
    QApplication.processEvents()
    assert sys.getrefcount(None) >= before - 100


# ------------------------------------------------------------------ screenshots
@pytest.mark.parametrize("kind", ["CT", "DX", "US"])
def test_screenshot(qtbot, viewer, study, kind):
    viewer.resize(1400, 900)
    s = pick(study, kind)
    vp = open_series(qtbot, viewer, s)
    viewer.set_current_finding("F1", "F1")
    if kind == "CT":
        vp.set_index(s.n_instances // 2)
        qtbot.waitUntil(lambda: vp._shown_index == vp.index)
        viewer.set_tool("length")
        drag(vp, vp.image_to_widget((60.0, 150.0)), vp.image_to_widget((60.0, 200.0)))
        viewer.set_tool("ellipse")
        drag(vp, vp.image_to_widget((150.0, 110.0)), vp.image_to_widget((180.0, 150.0)))
    elif kind == "DX":
        viewer.set_tool("angle")
        for pt in ((600.0, 300.0), (500.0, 420.0), (600.0, 520.0)):
            click(vp, vp.image_to_widget(pt))
        viewer.set_tool("arrow")
        drag(vp, vp.image_to_widget((300.0, 150.0)), vp.image_to_widget((420.0, 330.0)))
    else:
        qtbot.keyClick(vp, Qt.Key.Key_C)
        qtbot.waitUntil(lambda: vp.index >= 4, timeout=3000)
        qtbot.keyClick(vp, Qt.Key.Key_C)
        viewer.set_tool("length")
        drag(vp, vp.image_to_widget((150.0, 250.0)), vp.image_to_widget((250.0, 250.0)))
    viewer.set_tool("navigate")
    vp._hover = QPointF(vp.width() * 0.5, vp.height() * 0.5)
    qtbot.waitUntil(lambda: viewer.browser.thumbnails_pending == 0, timeout=5000)
    SCREENSHOTS.mkdir(exist_ok=True)
    assert viewer.grab().save(str(SCREENSHOTS / f"viewer_{kind.lower()}.png"))


def test_screenshot_mpr_and_2x2(qtbot, viewer, study):
    viewer.resize(1400, 900)
    ct = pick(study, "CT")
    open_series(qtbot, viewer, ct, *(s for s in study.values() if s is not ct))
    viewer.set_layout("2x2")
    qtbot.waitUntil(lambda: all(v._stored is not None for v in viewer.grid.visible_viewports()), timeout=5000)
    qtbot.waitUntil(lambda: viewer.browser.thumbnails_pending == 0, timeout=5000)
    SCREENSHOTS.mkdir(exist_ok=True)
    assert viewer.grab().save(str(SCREENSHOTS / "viewer_2x2.png"))
    viewer.set_layout("1x1")
    viewer.show_series(str(ct.series_pk))
    viewer.mpr_action.trigger()
    qtbot.waitUntil(lambda: viewer.mpr.volume is not None, timeout=10000)
    assert viewer.grab().save(str(SCREENSHOTS / "viewer_mpr.png"))


def test_compressed_series_warm_the_decode_pool_when_a_case_opens(qtbot, viewer, study, monkeypatch):
    import dataclasses

    from ioreview.ui.viewer import viewer_window

    calls: list[int] = []
    monkeypatch.setattr(viewer_window, "warm_decode_pool", lambda: calls.append(1))
    ct = pick(study, "CT")
    viewer.set_series([ct])
    assert calls == []  # uncompressed: nothing to decode
    j2k = dataclasses.replace(ct, headers=tuple(
        dataclasses.replace(h, transfer_syntax_uid="1.2.840.10008.1.2.4.90") for h in ct.headers))
    viewer.set_series([j2k])
    assert calls == []  # not while the first image decodes: it would compete for the cores
    qtbot.waitUntil(lambda: calls == [1], timeout=10_000)  # once it is on screen (or failed)
