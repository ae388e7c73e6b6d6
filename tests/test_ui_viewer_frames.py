"""Frames painted from the viewport's caches are the frames a fresh pane paints.

A window/level drag repaints through kept state (the view geometry, the frame's table
indices, the overlay's calibration line and text pixmaps); these tests drive the real
`ViewerWidget` on the demo study and compare the painted pixels with those of a new
`ImageViewport` that has seen nothing, given the same source, image, window and view.
"""
from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QFont, QImage
from PySide6.QtWidgets import QApplication

from ioreview.ui.viewer.overlays import OverlayText, clear_overlay_caches, overlay_fonts, overlay_layout
from ioreview.ui.viewer.viewport import ImageViewport
from test_ui_viewer import drag, open_series, pick, study, viewer  # noqa: F401 - fixtures


def fresh_like(qtbot, vp: ImageViewport, interactive: bool) -> ImageViewport:
    """A new pane showing what `vp` shows: same source, image, window, view and size."""
    other = ImageViewport(keymap=vp.keymap)
    qtbot.addWidget(other)
    other.resize(vp.size())
    other.set_source(vp.source, vp.index)
    other.set_window(vp.window, vp.window_name)
    other.set_invert(vp.invert)
    other.zoom, other.pan = vp.zoom, QPointF(vp.pan)
    other.flip_h, other.flip_v, other.rotation = vp.flip_h, vp.flip_v, vp.rotation
    if interactive:
        other.mark_interactive()
    return other


def open_loaded(qtbot, viewer, series) -> ImageViewport:
    """The series open and loaded to its last image: a fresh pane shows no "Loading" line, so
    the pane compared with it must not either (on a busy machine loading outlasts the drag)."""
    vp = open_series(qtbot, viewer, series)
    qtbot.waitUntil(lambda: vp._loaded is None or vp._loaded[0] >= vp._loaded[1], timeout=20000)
    return vp


def grab(vp: ImageViewport) -> QImage:
    return vp.grab().toImage()


def test_each_frame_of_a_window_drag_is_what_a_fresh_pane_paints(qtbot, viewer, study):
    vp = open_loaded(qtbot, viewer, pick(study, "CT"))
    centre = QPointF(vp.width() / 2, vp.height() / 2)
    vp._hover = None
    for k, move in enumerate((QPointF(60, -20), QPointF(-90, 35), QPointF(15, 70))):
        drag(vp, centre, centre + move, steps=12)  # twelve interactive frames from kept state
        vp.mark_interactive()
        shown = grab(vp)
        fresh = fresh_like(qtbot, vp, interactive=True)
        assert shown == grab(fresh), (k, vp.window)
        # the kept corner text (only its window line re-made) is the text made from scratch
        assert vp.overlay() == fresh.overlay(), (k, vp.window)
    vp._settled()  # the smooth repaint when the user pauses
    assert grab(vp) == grab(fresh_like(qtbot, vp, interactive=False))


def test_view_changes_between_frames_reach_the_painted_frame(qtbot, viewer, study):
    """Zoom, pan, flips, rotation, resizing and scrolling each change what the kept geometry
    gives; after each the frame equals a fresh pane's, transform and pixels."""
    vp = open_loaded(qtbot, viewer, pick(study, "CT"))
    steps = (
        lambda: vp.set_zoom(1.8, QPointF(40, 60)),
        lambda: vp.set_pan(QPointF(-35, 22)),
        vp.flip_horizontal,
        vp.flip_vertical,
        vp.rotate,
        lambda: viewer.resize(900, 640),
        lambda: vp.step(3),
        lambda: vp.set_invert(True),
        lambda: vp.reset_view(keep_window=True),
    )
    for n, change in enumerate(steps):
        vp.mark_interactive()
        change()
        QApplication.processEvents()
        vp.mark_interactive()
        other = fresh_like(qtbot, vp, interactive=True)
        assert vp.image_transform() == other.image_transform(), n
        assert vp.effective_zoom() == other.effective_zoom(), n
        assert vp.overlay() == other.overlay(), n
        assert grab(vp) == grab(other), n


def test_a_window_drag_lays_out_the_overlay_as_from_scratch(qtbot):
    """Each step of a drag re-places only the window line when nothing else can move; the
    layout is the one computed with every cache empty, at sizes where the corners share the
    bottom band, where lines wrap, and where the window line is the widest."""
    font, big = overlay_fonts(QFont())
    markers = {"left": "R", "right": "L", "top": "A", "bottom": "P"}
    calibrations = ("mm (Pixel Spacing, in patient)", "px", "mm (Imager Pixel Spacing corrected by Estimated "
                    "Radiographic Magnification Factor)")
    readout = "(1120, 2233)  -1045 HU  Fat map -190..-30 HU  Cine 12 fps  CLAHE: computing…"
    for size in ((1000, 1000), (420, 330), (260, 200), (170, 150)):
        rect = QRectF(0, 0, *size)
        for calibration in calibrations:
            for name in ("", "abdomen", "a very long window name given by the modality"):
                texts = [
                    OverlayText(["CT chest", "CT", "Series 3"], ["Im 12 / 40", "Pos -120.5 mm", "512 × 512"],
                                [f"W {400 + 37 * k}  L {40 - 13 * k}" + (f"  ({name})" if name else ""), "Zoom 195%",
                                 calibration], [["(120, 233)  -45 HU"], [], [readout]][k % 3])
                    for k in range(9)
                ]
                warm = [overlay_layout(rect, t, markers, font, big) for t in texts]
                for t, got in zip(texts, warm):
                    clear_overlay_caches()
                    assert got == overlay_layout(rect, t, markers, font, big), (size, t.bottom_left)
