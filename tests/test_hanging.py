"""Hanging from the protocol: [hanging] parsed and validated, and 1x2 puts the current image
beside the prior's same view (not beside another view of the same day)."""
from __future__ import annotations

import dataclasses

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication

from adjudication.protocol import HangingProtocol, InvalidProtocol, default_protocol_path, parse_protocol
from ioreview.imaging.header import InstanceHeader, SeriesView
from ioreview.imaging.synthetic import DemoConfig, generate_demo_trial
from ioreview.ui.view_app import scan_paths
from ioreview.ui.viewer.browser import series_key
from ioreview.ui.viewer.hanging import matching_prior, view_of
from ioreview.ui.viewer.viewer_window import ViewerWidget
from ui_support import SCREENSHOTS

SHOTS = SCREENSHOTS  # screenshots/ (gitignored), as tests/ui_support.py saves them


def _protocol_text() -> str:
    return default_protocol_path().read_text(encoding="utf-8")


def _without_hanging(text: str) -> str:
    start = text.index("[hanging]")
    end = text.index("compare_with_prior = true", start) + len("compare_with_prior = true")
    return text[:start] + text[end:]


def test_default_protocol_hangs_radiographs_and_mr_side_by_side():
    protocol = parse_protocol(_protocol_text())
    assert protocol.hanging.layout_for("DX") == "1x2"
    assert protocol.hanging.layout_for("ct") == "1x1"
    assert protocol.hanging.layout_for("PT") == "1x1"  # the default for the rest
    assert protocol.hanging.compare_with_prior


def test_a_protocol_without_hanging_gets_the_defaults():
    protocol = parse_protocol(_without_hanging(_protocol_text()))
    assert protocol.hanging == HangingProtocol()
    assert protocol.hanging.layout_for("DX") == "1x1"


@pytest.mark.parametrize("bad, where, words", [
    ('layouts = { DX = "3x3" }', "hanging.layouts.DX", "not one of 1x1, 1x2, 2x2"),
    ('layouts = { dx = "1x2" }', "hanging.layouts.dx", "modality code in capitals"),
    ('default = "4x4"', "hanging.default", "not one of"),
    ('sideways = true', "hanging", "sideways"),
])
def test_bad_hanging_is_named_with_its_line(bad, where, words):
    text = _without_hanging(_protocol_text()) + f"\n[hanging]\n{bad}\n"
    with pytest.raises(InvalidProtocol) as info:
        parse_protocol(text)
    message = str(info.value)
    assert where in message and words in message
    line = text.count("\n", 0, text.index(bad)) + 1
    assert f":{line}" in message or f"line {line}" in message


def _series(pk: int, modality: str, description: str, laterality: str = "R") -> SeriesView:
    h = InstanceHeader(path="", sop_instance_uid=f"1.{pk}", sop_class_uid="", study_instance_uid="",
                       series_instance_uid=f"2.{pk}", modality=modality, series_description=description,
                       laterality=laterality)
    return SeriesView(pk, modality, description, 1, 1, (h,))


def test_matching_prior_takes_the_same_view_side_and_sequence():
    ap, lat = _series(1, "DX", "KNEE/TIB-FIB AP"), _series(2, "DX", "KNEE/TIB-FIB LAT")
    prior_lat, prior_ap = _series(11, "DX", "KNEE/TIB-FIB LATERAL"), _series(12, "DX", "KNEE/TIB-FIB AP")
    other_side = _series(13, "DX", "KNEE/TIB-FIB AP", laterality="L")
    ct = _series(14, "CT", "LOWER LEG AXIAL")
    assert view_of(prior_lat) == "LAT"
    assert matching_prior(ap, [prior_lat, other_side, ct, prior_ap]) is prior_ap
    assert matching_prior(lat, [prior_ap, prior_lat]) is prior_lat
    assert matching_prior(ap, [other_side, ct]) is None
    t1, stir = _series(3, "MR", "T1 SE AX"), _series(4, "MR", "STIR AX")
    prior_t1, prior_stir = _series(15, "MR", "T1 SE AX"), _series(16, "MR", "STIR AX")
    assert matching_prior(stir, [prior_t1, prior_stir]) is prior_stir
    # a series that names no view still finds its prior by modality and description
    assert matching_prior(_series(5, "US", "IO SITE CINE"), [_series(17, "US", "IO SITE CINE")]).series_pk == 17


@pytest.fixture(scope="module")
def two_timepoints(tmp_path_factory) -> tuple[list[SeriesView], list[SeriesView]]:
    """The demo subject's series: (first timepoint, later timepoint) by study."""
    root = tmp_path_factory.mktemp("hanging-demo")
    manifest = generate_demo_trial(root, DemoConfig(n_subjects=1, ct_shape=(64, 64), ct_slices=8,
                                                    xray_shape=(256, 200), us_frames=4, mr_slices=4))
    found, bad = scan_paths([str(manifest.dicom_dir)])
    assert not bad
    studies: dict[str, list[SeriesView]] = {}
    for n, s in enumerate(found, 1):
        view = SeriesView(n, s.modality, s.description, s.n_instances, s.n_frames, s.headers)
        studies.setdefault(s.headers[0].study_instance_uid, []).append(view)
    with_dx = [v for v in studies.values() if sum(s.modality == "DX" for s in v) >= 2]
    assert len(with_dx) >= 2
    return with_dx[-1], with_dx[0]


def test_1x2_hangs_the_current_image_beside_the_priors_same_view(qtbot, tmp_path, two_timepoints):
    current, prior = two_timepoints
    viewer = ViewerWidget(settings=QSettings(str(tmp_path / "v.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(viewer)
    viewer.resize(1200, 700)
    viewer.show()
    labelled = [dataclasses.replace(s, description=f"Prior post-insertion (day 0): {s.description}") for s in prior]
    viewer.set_hanging({"DX": "1x2", "CT": "1x1"}, "1x1", True)
    # the current series first; the prior's AP listed after its LAT, as a service might
    ordered = sorted(current, key=lambda s: (s.modality != "DX", "AP" not in s.description))
    prior_order = sorted(labelled, key=lambda s: "LAT" not in s.description)
    viewer.set_series(ordered + prior_order, [series_key(s) for s in prior_order])
    left, right = viewer.grid.visible_viewports()
    assert viewer.grid.layout_name == "1x2"  # from the protocol, for a DX
    assert "AP" in left.source.description and not left.source.description.startswith("Prior")
    assert right.source.description.startswith("Prior") and "AP" in right.source.description
    assert "LAT" not in right.source.description
    # the LAT of today, then 1x2 again: the prior's LAT beside it
    lat = next(s for s in current if s.modality == "DX" and "LAT" in s.description)
    viewer.set_layout("1x1")
    viewer.show_series(series_key(lat), viewer.grid.viewports[0])
    viewer.set_layout("1x2")
    left, right = viewer.grid.visible_viewports()
    assert "LAT" in left.source.description and not left.source.description.startswith("Prior")
    assert right.source.description.startswith("Prior") and "LAT" in right.source.description
    qtbot.waitUntil(lambda: left._stored is not None and right._stored is not None)
    SHOTS.mkdir(parents=True, exist_ok=True)
    QApplication.processEvents()
    viewer.grab().save(str(SHOTS / "viewer_1x2_prior.png"))
    # no prior at all: 1x2 falls back to the next series not shown (today's LAT)
    viewer.set_series(ordered, [])
    left, right = viewer.grid.visible_viewports()
    assert viewer.grid.layout_name == "1x2"
    assert "AP" in left.source.description and "LAT" in right.source.description
    viewer.shutdown()
