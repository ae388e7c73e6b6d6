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
from ioreview.ui.viewer.hanging import FRONTAL, matching_prior, normalised_view, view_of
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


def _series(pk: int, modality: str, description: str, laterality: str = "R", view: str = "",
            view_code: str = "") -> SeriesView:
    h = InstanceHeader(path="", sop_instance_uid=f"1.{pk}", sop_class_uid="", study_instance_uid="",
                       series_instance_uid=f"2.{pk}", modality=modality, series_description=description,
                       laterality=laterality, view_position=view, view_code_meaning=view_code)
    return SeriesView(pk, modality, description, 1, 1, (h,))


@pytest.mark.parametrize("text, view", [
    ("AP", "AP"), ("PA", "PA"), ("LL", "LAT"), ("RL", "LAT"), ("LATERAL", "LAT"), ("L LAT", "LAT"),
    ("L-LAT", "LAT"), ("ap portable", "AP"), ("PA ERECT", "PA"), ("RLO", "OBL"), ("AP OBLIQUE", "OBL"),
    ("RLD", "DECUBITUS"), ("LATERAL DECUBITUS", "DECUBITUS"), ("MLO", "MLO"), ("CC", "CC"),
    ("antero-posterior", "AP"), ("postero-anterior", "PA"), ("left lateral", "LAT"),
    ("latero-medial", "LAT"), ("medio-lateral oblique", "MLO"), ("cranio-caudal", "CC"),
    ("前后位", "AP"), ("后前位", "PA"), ("侧位", "LAT"), ("斜位", "OBL"), ("正位", FRONTAL),
    ("BILATERAL AP", "AP"), ("BILATERAL", ""), ("", ""), ("  ", ""), ("KNEE", ""), ("XYZ", ""),
])
def test_view_positions_are_normalised(text: str, view: str):
    assert normalised_view(text) == view


def test_the_header_view_decides_before_the_description():
    """View Position over View Code Sequence over the description's words."""
    assert view_of(_series(1, "DX", "KNEE AP", view="LL")) == "LAT"
    assert view_of(_series(2, "DX", "KNEE AP", view_code="left lateral")) == "LAT"
    assert view_of(_series(3, "DX", "KNEE AP", view="RL", view_code="antero-posterior")) == "LAT"
    assert view_of(_series(4, "DX", "KNEE AP", view="SPECIAL")) == "AP"  # names no view
    assert view_of(_series(5, "DX", "IMAGES")) == ""


def test_matching_prior_by_view_position_when_descriptions_say_nothing():
    current = _series(1, "DX", "IMAGES", view="AP")
    prior_lat, prior_ap = _series(11, "DX", "IMAGES", view="RL"), _series(12, "DX", "IMAGES", view="AP")
    assert matching_prior(current, [prior_lat, prior_ap]) is prior_ap
    assert matching_prior(_series(2, "DX", "", view="LL"), [prior_ap, prior_lat]) is prior_lat
    # a current image coded in Chinese, priors in English and the other way round
    assert matching_prior(_series(3, "DX", "", view="侧位"), [prior_ap, prior_lat]) is prior_lat
    coded = _series(13, "DX", "", view_code="antero-posterior")
    assert matching_prior(_series(4, "DX", "", view="前后位"), [prior_lat, coded]) is coded
    # a frontal view without a direction goes beside an AP rather than nothing, a PA before it
    frontal = _series(5, "DX", "", view="正位")
    prior_pa = _series(14, "DX", "", view="PA")
    assert matching_prior(frontal, [prior_lat, prior_ap]) is prior_ap
    assert matching_prior(frontal, [prior_lat]) is None
    assert matching_prior(_series(6, "DX", "", view="PA"), [prior_ap, prior_pa]) is prior_pa
    # the view decides over a description that says otherwise (a series mislabelled AP)
    mislabelled = _series(15, "DX", "KNEE AP", view="LL")
    assert matching_prior(_series(7, "DX", "KNEE AP", view="AP"), [mislabelled]) is None


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


def _anonymous(series: SeriesView) -> SeriesView:
    """The series with a description and headers that name no view, as a prior is labelled on
    the reading screen; the headers keep View Position (and laterality, body part)."""
    headers = tuple(dataclasses.replace(h, series_description="IMAGES") for h in series.headers)
    return dataclasses.replace(series, description="Prior post-insertion (day 0): IMAGES",
                               headers=headers)


def test_1x2_hangs_the_prior_whose_view_position_matches(qtbot, tmp_path, two_timepoints):
    """The prior's descriptions say nothing: only View Position (written by the demo's
    radiographs as AP and LL/RL) tells its AP from its lateral."""
    current, prior = two_timepoints
    prior_dx = [_anonymous(s) for s in prior if s.modality == "DX"]
    assert {s.headers[0].view_position for s in prior_dx} == {"AP", "LL"} or \
        {s.headers[0].view_position for s in prior_dx} == {"AP", "RL"}
    assert {view_of(s) for s in prior_dx} == {"AP", "LAT"}
    # the lateral listed first: without the view, the tie would hang it beside today's AP
    prior_order = sorted(prior_dx, key=lambda s: s.headers[0].view_position == "AP")
    viewer = ViewerWidget(settings=QSettings(str(tmp_path / "v.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(viewer)
    viewer.resize(1200, 700)
    viewer.show()
    viewer.set_hanging({"DX": "1x2"}, "1x1", True)
    ordered = sorted(current, key=lambda s: (s.modality != "DX", "AP" not in s.description))
    viewer.set_series(ordered + prior_order, [series_key(s) for s in prior_order])
    left, right = viewer.grid.visible_viewports()
    assert viewer.grid.layout_name == "1x2"
    assert "AP" in left.source.description and not left.source.description.startswith("Prior")
    assert right.source.description.startswith("Prior")
    assert right.source.series.headers[0].view_position == "AP"
    qtbot.waitUntil(lambda: left._stored is not None and right._stored is not None)
    SHOTS.mkdir(parents=True, exist_ok=True)
    QApplication.processEvents()
    viewer.grab().save(str(SHOTS / "viewer_1x2_prior_by_view_position_ap.png"))
    lat = next(s for s in current if s.modality == "DX" and "LAT" in s.description)
    viewer.set_layout("1x1")
    viewer.show_series(series_key(lat), viewer.grid.viewports[0])
    viewer.set_layout("1x2")
    left, right = viewer.grid.visible_viewports()
    assert "LAT" in left.source.description
    assert right.source.description.startswith("Prior")
    assert right.source.series.headers[0].view_position in ("LL", "RL")
    qtbot.waitUntil(lambda: left._stored is not None and right._stored is not None)
    QApplication.processEvents()
    viewer.grab().save(str(SHOTS / "viewer_1x2_prior_by_view_position_lat.png"))
    viewer.shutdown()


def test_a_readers_radiographs_keep_their_view_position(tmp_path, db_url):
    """End to end on a demo trial (SQLite and PostgreSQL): the de-identified copies a reader
    opens keep View Position (PS3.15 Table E.1-1 keeps it), their blinded headers carry it, and
    each current radiograph finds the prior of the same view by it alone."""
    import pydicom

    from ioreview.demo import build_demo
    from ioreview.service import Trial

    result = build_demo(tmp_path / "demo", DemoConfig.small(),
                        db=None if db_url.endswith(".sqlite") else db_url)
    trial = Trial.open(result.db, archive_root=result.archive_root)
    try:
        reader = trial.login("reader1", "reader1-demo")
        hung = 0
        for item in trial.worklist(reader):
            case = trial.open_case(reader, item.assignment_id)
            current = [s for s in case.series if s.modality == "DX"]
            priors = [s for p in case.priors for s in p.series if s.modality == "DX"]
            for series in current + priors:
                h = series.headers[0]
                assert h.patient_name == "" and h.study_date == ""  # blinded, yet
                assert h.view_position in ("AP", "LL", "RL")
                assert view_of(series) == ("AP" if h.view_position == "AP" else "LAT")
                assert pydicom.dcmread(h.path, stop_before_pixels=True).ViewPosition == h.view_position
            anonymous = [_anonymous(s) for s in priors]
            for series in current if anonymous else ():
                match = matching_prior(series, anonymous)
                assert match is not None and view_of(match) == view_of(series)
                hung += 1
        assert hung >= 2
    finally:
        trial.close()
