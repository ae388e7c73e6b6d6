"""The viewer's whole-series loading, at-rest repaint, assistive tools and key bindings dialog,
driven as a reader drives them on the generated demo study (with its ground truth)."""
from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pydicom
import pytest
from PySide6.QtCore import QEvent, QPointF, QSettings, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication, QDialogButtonBox
from scipy import ndimage

from ioreview.imaging.display import modality_lut, rescale_for
from ioreview.imaging.synthetic import DemoConfig, generate_demo_trial, write_ct_series
from ioreview.imaging.tools import clahe, fat_map
from ioreview.imaging.volume import shutdown_decode_pool
from ioreview.imaging.header import SeriesView
from ioreview.ui.view_app import scan_paths
from ioreview.ui.viewer.assist import RegionProposal
from ioreview.ui.viewer.keymap import Keymap, ViewerAction
from ioreview.ui.viewer.keys_dialog import KeyBindingsDialog
from ioreview.ui.viewer.series_loader import FRAME_CACHE, decode_image
from ioreview.ui.viewer.theme import apply_dark_theme
from ioreview.ui.viewer.viewer_window import ViewerWidget
from ioreview.ui.viewer.viewport import ImageViewport



def click(widget, pos: QPointF, button: Qt.MouseButton = Qt.MouseButton.LeftButton) -> None:
    for kind, buttons in ((QEvent.Type.MouseButtonPress, button), (QEvent.Type.MouseButtonRelease, Qt.MouseButton.NoButton)):
        ev = QMouseEvent(kind, QPointF(pos), widget.mapToGlobal(QPointF(pos)), button, buttons, Qt.KeyboardModifier.NoModifier)
        QApplication.sendEvent(widget, ev)

SCREENSHOTS = Path(__file__).resolve().parents[1] / "screenshots"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The demo study of one subject with its ground truth and CT label mask."""
    root = tmp_path_factory.mktemp("viewer-tools-demo")
    config = DemoConfig(n_subjects=1, ct_shape=(256, 256), ct_slices=40, xray_shape=(1024, 800), us_frames=20, mr_slices=10)
    manifest = generate_demo_trial(root, config)
    found, bad = scan_paths([str(manifest.dicom_dir)])
    assert not bad
    series: dict[str, SeriesView] = {}
    for n, s in enumerate(found, 1):
        key = f"{s.modality} {s.description}"
        series.setdefault(key, SeriesView(n, s.modality, s.description, s.n_instances, s.n_frames, s.headers))
    truth = json.loads(manifest.ground_truth_path.read_text())
    post = next(t for t in truth["timepoints"] if t["timepoint"] == "post-insertion")
    masks = next(iter((root / "masks").glob("*post-insertion_CT.npz")))
    return {"series": series, "truth": post, "labels": np.load(masks)["labels"], "label_ids": truth["mask_labels"]}


@pytest.fixture(scope="module", autouse=True)
def _pool_cleanup():
    yield
    shutdown_decode_pool()


def pick(demo: dict, modality: str) -> SeriesView:
    return next(s for s in demo["series"].values() if s.modality == modality)


@pytest.fixture
def viewer(qtbot, tmp_path):
    apply_dark_theme(QApplication.instance())
    w = ViewerWidget(settings=QSettings(str(tmp_path / "viewer.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(w)
    w.resize(1400, 900)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.shutdown()


def open_series(qtbot, viewer: ViewerWidget, series: SeriesView, complete: bool = True) -> ImageViewport:
    viewer.set_series([series])
    vp = viewer.grid.viewports[0]
    qtbot.waitUntil(lambda: vp._stored is not None, timeout=10000)
    if complete:
        loader = viewer._loaders[str(series.series_pk)]
        qtbot.waitUntil(lambda: loader.complete, timeout=30000)
    return vp


# ------------------------------------------------------------------ whole series in memory
def test_a_ct_series_loads_whole_into_one_array_served_as_views(qtbot, viewer, demo):
    ct = pick(demo, "CT")
    vp = open_series(qtbot, viewer, ct)
    loader = vp.source
    assert loader.stack is not None and loader.stack.shape == (ct.n_instances, 256, 256)
    assert loader.stack.nbytes == ct.n_instances * 256 * 256 * loader.stack.dtype.itemsize
    assert not [k for k in FRAME_CACHE._items if k[0] == loader.loader_id]  # no second copy
    for i in range(loader.count):
        img = loader.image(i)
        assert np.shares_memory(img, loader.stack)
        np.testing.assert_array_equal(img, decode_image(loader.ref(i)))
    assert np.shares_memory(vp._stored, loader.stack)
    assert loader.decoded_count == loader.count
    assert viewer.progress.isHidden()
    # a multi-frame cine still goes frame by frame through the bounded cache
    us = pick(demo, "US")
    vp = open_series(qtbot, viewer, us, complete=False)
    assert vp.source.stack is None


def test_a_jpeg2000_series_decodes_on_the_pool_first_image_first(qtbot, viewer, tmp_path):
    folder = tmp_path / "j2k"
    write_ct_series(folder, n_slices=24, shape=(96, 96), seed=3, transfer_syntax=pydicom.uid.JPEG2000Lossless)
    found, bad = scan_paths([str(folder)])
    assert not bad and found[0].headers[0].pixel_data_offset is None
    s = found[0]
    series = SeriesView(1, s.modality, s.description, s.n_instances, s.n_frames, s.headers)
    seen: list[tuple[int, int]] = []
    viewer.set_series([series])
    loader = viewer._loaders["1"]
    loader.progressChanged.connect(lambda d, t: seen.append((d, t)))
    vp = viewer.grid.viewports[0]
    qtbot.waitUntil(lambda: vp._stored is not None, timeout=10000)
    assert vp.index == 0 and loader._ready[0]
    qtbot.waitUntil(lambda: loader.complete, timeout=60000)
    assert seen and seen[-1] == (24, 24)
    for i in (0, 7, 23):
        np.testing.assert_array_equal(loader.image(i), decode_image(loader.ref(i)))
    vp.set_index(20)
    assert vp._shown_index == 20  # served at once from the array


# ------------------------------------------------------------------ at-rest repaint
def test_at_rest_repaint_blits_the_cached_smooth_layer(qtbot, viewer, demo):
    vp = open_series(qtbot, viewer, pick(demo, "CT"))
    vp._fast = False
    vp.repaint()
    layer, key = vp._layer, vp._layer_key
    assert layer is not None
    vp._hover = QPointF(100, 100)
    vp.repaint()  # the hover text changes, the image does not
    assert vp._layer is layer and vp._layer_key == key
    vp.set_window(vp.window.__class__(vp.window.center + 20, vp.window.width))
    vp.repaint()
    assert vp._layer_key != key
    before = vp._layer_key
    vp.mark_interactive()  # while dragging: nearest neighbour, straight to the widget
    vp.set_zoom(1.3)
    vp.repaint()
    assert vp._layer_key == before
    qtbot.waitUntil(lambda: not vp._fast, timeout=2000)
    vp.repaint()
    assert vp._layer_key != before


# ------------------------------------------------------------------ region growing
def _truth(node: object, name: str) -> dict:
    """The ground-truth record `name` wherever it sits in the timepoint's record."""
    if isinstance(node, dict):
        if name in node and isinstance(node[name], dict) and "volume_ml" in node[name]:
            return node[name]
        for v in node.values():
            try:
                return _truth(v, name)
            except KeyError:
                pass
    if isinstance(node, list):
        for v in node:
            try:
                return _truth(v, name)
            except KeyError:
                pass
    raise KeyError(name)


def _extravasation_seed(demo: dict, vp: ImageViewport) -> tuple[int, int, int]:
    """(viewer index, row, col) deep inside the extravasation of the ground-truth mask."""
    region = demo["labels"] == demo["label_ids"]["extravasation"]
    zs = np.flatnonzero(region.any(axis=(1, 2)))
    k = int(zs[len(zs) // 2])
    depth = ndimage.distance_transform_edt(region[k])
    r, c = np.unravel_index(int(np.argmax(depth)), depth.shape)
    loader = vp.source
    index = next(i for i in range(loader.count) if loader.ref(i).header.instance_number == k + 1)
    return index, int(r), int(c)


def test_grow_region_proposes_accept_fills_the_form_and_annotates(qtbot, viewer, demo):
    ct = pick(demo, "CT")
    vp = open_series(qtbot, viewer, ct)
    index, r, c = _extravasation_seed(demo, vp)
    vp.set_index(index)
    viewer.set_current_finding("extravasation", "Extravasation")
    viewer.tool_actions["grow_region"].trigger()
    assert vp.tools.tool == "grow_region"
    click(vp, vp.image_to_widget((float(r), float(c))))
    qtbot.waitUntil(lambda: viewer.region_proposal() is not None, timeout=20000)
    region = viewer.region_proposal()
    panel = viewer.region_panel
    assert panel.isVisible() and panel.accept_button.isEnabled()
    text = panel.summary.text()
    m = re.match(r"Volume ([\d.]+) mL, mean (-?\d+) HU \(SD (\d+)\), (\d+) slices", text)
    assert m, text
    expected_ml = _truth(demo["truth"], "extravasation")["volume_ml"]
    assert float(m.group(1)) == pytest.approx(expected_ml, rel=0.35)
    assert -10 <= int(m.group(2)) <= 25  # a fluid collection
    assert int(m.group(4)) == len(region.slice_indices) >= 5
    # the overlay shows on every slice the region covers, and not elsewhere
    assert vp._overlay_images()
    outside = next(i for i in range(vp.source.count) if i not in region.slice_indices)
    vp.set_index(outside)
    assert not vp._overlay_images()
    vp.set_index(region.slice_indices[0])
    assert vp._overlay_images()
    with qtbot.waitSignal(viewer.regionAccepted, timeout=2000) as got:
        qtbot.mouseClick(panel.accept_button, Qt.MouseButton.LeftButton)
    proposal: RegionProposal = got.args[0]
    assert proposal.volume_ml == pytest.approx(float(m.group(1)), abs=0.05)
    assert proposal.slices == int(m.group(4))
    seed_ref = vp.source.ref(index)
    assert (proposal.sop_instance_uid, proposal.frame) == (seed_ref.header.sop_instance_uid, seed_ref.frame)
    assert proposal.seed == pytest.approx((r, c), abs=0.6)
    a = viewer.annotations.get(proposal.annotation_uid)
    assert a.kind == "region" and a.finding_id == "extravasation" and a.label == "Extravasation"
    assert a.measurements["volume_ml"] == pytest.approx(proposal.volume_ml)
    assert a.measurements["mean_hu"] == pytest.approx(proposal.mean_hu)
    assert a.to_trial().kind == "region"
    assert not panel.isVisible() and vp.region is None
    viewer.annotations.undo_stack.undo()
    assert viewer.annotations.get(proposal.annotation_uid) is None


def test_reject_removes_the_overlay_and_thresholds_come_from_the_host(qtbot, viewer, demo):
    vp = open_series(qtbot, viewer, pick(demo, "CT"))
    index, r, c = _extravasation_seed(demo, vp)
    vp.set_index(index)
    viewer.set_tool_thresholds(fat_hu=(-150, -40), fluid_hu=(-5, 25), blood_hu=(35, 90))
    assert viewer.region_panel.band.itemText(1) == "fluid -5..25 HU"
    assert vp.fat_hu == (-150.0, -40.0)
    assert viewer.grow_region_at(vp, r, c)
    qtbot.waitUntil(lambda: viewer.region_proposal() is not None, timeout=20000)
    assert viewer.region_proposal().hu_range is not None
    assert viewer.region_proposal().result.band_hu[0] >= -5 and viewer.region_proposal().result.band_hu[1] <= 25
    qtbot.mouseClick(viewer.region_panel.reject_button, Qt.MouseButton.LeftButton)
    assert vp.region is None and not vp._overlay_images() and not viewer.region_panel.isVisible()
    assert not [a for a in viewer.annotation_list() if a.kind == "region"]
    # a band the seed is not in says so instead of growing
    viewer.region_panel.band.setCurrentIndex(viewer.region_panel.band.findData("blood"))
    assert viewer.grow_region_at(vp, r, c)
    qtbot.waitUntil(lambda: "outside the blood range" in viewer.region_panel.summary.text(), timeout=20000)
    assert not viewer.region_panel.accept_button.isEnabled() and vp.region is None


def test_grow_region_needs_a_ct(qtbot, viewer, demo):
    vp = open_series(qtbot, viewer, pick(demo, "DX"))
    assert not viewer.grow_region_at(vp, 100, 100)
    assert "CT" in viewer.status.text()


# ------------------------------------------------------------------ fat map and CLAHE
def test_fat_map_overlays_the_fat_pixels_of_the_slice(qtbot, viewer, demo):
    vp = open_series(qtbot, viewer, pick(demo, "CT"))
    vp.set_index(vp.source.count // 2)
    assert not vp._overlay_images()
    viewer.fat_action.trigger()
    assert viewer.fat_map_on and vp.fat_map_on
    overlays = vp._overlay_images()
    assert len(overlays) == 1
    h = vp.current_header()
    expected = fat_map(modality_lut(vp._stored, *rescale_for(h)), (-120, -30))
    img = overlays[0]
    alpha = np.array([[img.pixelColor(x, y).alpha() for x in range(0, 256, 4)] for y in range(0, 256, 4)])
    assert ((alpha > 0) == expected[::4, ::4]).all()
    assert expected.sum() > 100  # the subcutaneous fat
    assert any("Fat map" in t for t in vp.overlay().bottom_right)
    viewer.fat_action.trigger()
    assert not vp._overlay_images()


def test_clahe_shows_the_enhanced_radiograph_computed_off_thread(qtbot, viewer, demo):
    vp = open_series(qtbot, viewer, pick(demo, "DX"))
    vp._fast = False
    normal = vp.grab().toImage()
    viewer.clahe_action.trigger()

    def enhanced_on_screen() -> bool:
        vp.repaint()
        return vp._clahe_shown

    qtbot.waitUntil(enhanced_on_screen, timeout=20000)
    expected = clahe(vp._stored)
    shown = vp._qimage
    for y, x in ((100, 100), (500, 400), (900, 700)):
        assert shown.pixelColor(x, y).red() == expected[y, x]
    assert vp.grab().toImage() != normal
    assert any("CLAHE" in t for t in vp.overlay().bottom_right)
    cached = vp._clahe[vp._clahe_key()]
    viewer.clahe_action.trigger()
    vp.repaint()
    assert not vp._clahe_shown
    viewer.clahe_action.trigger()
    vp.repaint()
    assert vp._clahe_shown and vp._clahe[vp._clahe_key()] is cached  # computed once per frame


# ------------------------------------------------------------------ key bindings
def test_key_bindings_dialog_remaps_a_key_end_to_end(qtbot, viewer, demo, tmp_path):
    vp = open_series(qtbot, viewer, pick(demo, "CT"))
    viewer.key_bindings_action.trigger()
    dlg = viewer.findChild(KeyBindingsDialog)
    assert dlg is not None and dlg.isVisible()
    edit = dlg.editor(ViewerAction.INVERT)
    assert edit.keySequence().toString() == "I"
    edit.clear()
    edit.setFocus()
    qtbot.keyClick(edit, Qt.Key.Key_J)
    qtbot.waitUntil(lambda: edit.keySequence().toString() == "J", timeout=3000)
    # a key bound twice is refused until resolved
    flip = dlg.editor(ViewerAction.FLIP_HORIZONTAL)
    flip.setKeySequence("J")
    assert not dlg.buttons.button(QDialogButtonBox.StandardButton.Ok).isEnabled() and "J" in dlg.problem.text()
    flip.setKeySequence("H")
    qtbot.mouseClick(dlg.buttons.button(QDialogButtonBox.StandardButton.Ok), Qt.MouseButton.LeftButton)
    assert not dlg.isVisible()
    vp.setFocus()
    qtbot.keyClick(vp, Qt.Key.Key_I)
    assert not vp.invert
    qtbot.keyClick(vp, Qt.Key.Key_J)
    assert vp.invert
    stored = Keymap(QSettings(str(tmp_path / "viewer.ini"), QSettings.Format.IniFormat))
    assert [k.toString() for k in stored.keys_for(ViewerAction.INVERT)] == ["J"]
    assert [k.toString() for k in stored.keys_for(ViewerAction.RESET)] == ["Esc", "Space"]
    # restore defaults puts I back
    viewer.key_bindings_action.trigger()
    dlg2 = [d for d in viewer.findChildren(KeyBindingsDialog) if d.isVisible()][0]
    dlg2.buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults).click()
    dlg2.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    qtbot.keyClick(vp, Qt.Key.Key_I)
    assert not vp.invert


# ------------------------------------------------------------------ screenshots
def test_screenshots_region_panel_and_fat_map(qtbot, viewer, demo):
    vp = open_series(qtbot, viewer, pick(demo, "CT"))
    index, r, c = _extravasation_seed(demo, vp)
    vp.set_index(index)
    viewer.set_current_finding("extravasation", "Extravasation")
    viewer.set_tool("grow_region")
    click(vp, vp.image_to_widget((float(r), float(c))))
    qtbot.waitUntil(lambda: viewer.region_proposal() is not None, timeout=20000)
    vp.set_zoom(1.6, vp.image_to_widget((float(r), float(c))))
    vp._fast = False
    SCREENSHOTS.mkdir(exist_ok=True)
    assert viewer.grab().save(str(SCREENSHOTS / "viewer_region_grow.png"))
    viewer.reject_region()
    viewer.set_tool("navigate")
    vp.reset_view()
    viewer.set_fat_map(True)
    vp._fast = False
    assert viewer.grab().save(str(SCREENSHOTS / "viewer_fat_map.png"))
