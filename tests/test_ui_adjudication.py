"""The adjudicator's and the coordinator's adjudication screens end to end, over the real
service and a real SQLite database in which two readers signed discordant reads of one case
(see ui_support.py for the demo trial)."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication, QComboBox, QDialog, QInputDialog, QLabel

from ioreview import auth
from ioreview.service import Annotation, PermissionDenied, Trial
from ioreview.ui.app import apply_theme
from ioreview.ui.adjudication import READER_COLOURS, AdjudicatorWindow, adjudicator_window
from ioreview.ui.coordinator import CoordinatorWindow
from ioreview.ui.sign_dialog import SignDialog
from ui_support import (
    PASSWORDS,
    FakeClock,
    build_database,
    click,
    complete_values,
    copy_database,
    open_trial,
    shared_demo_files,
    when_modal,
)

SHOTS = Path(os.environ.get("IOREVIEW_SHOTS", "/tmp/shots"))
PASSWORDS.setdefault("adjud2", "adjud2-pass-1")


def _sign_read(trial: Trial, reader: str, case_label: str, values: dict[str, Any],
               shape: tuple[tuple[float, float], tuple[float, float]], label: str) -> None:
    session = trial.login(reader, PASSWORDS[reader])
    item = next(i for i in trial.worklist(session) if i.case_label == case_label)
    case = trial.open_case(session, item.assignment_id)
    series = case.series[0]
    annotations = [Annotation(None, "extravasation", "ellipse", h.sop_instance_uid, 0, shape,
                              {}, label) for h in series.headers]
    trial.save_draft(session, case.read_id, values, annotations)
    trial.submit_read(session, case.read_id, PASSWORDS[reader])


@pytest.fixture(scope="session")
def adjudication_template(tmp_path_factory) -> tuple[Path, str]:
    """A trial where reader1 and reader2 signed discordant reads of one case (extravasation
    present vs absent, adequate vs non-diagnostic image quality), each with an annotation on every
    image of the case's first series; a second adjudicator exists for reassignment."""
    saved = auth.DEFAULT_PARAMS
    auth.DEFAULT_PARAMS = auth.ScryptParams(n=2 ** 4, r=1, p=1)
    try:
        root = tmp_path_factory.mktemp("adjudication-db")
        db = root / "template.sqlite"
        build_database(db, shared_demo_files(tmp_path_factory))
        trial = Trial.open(db)
        try:
            system = trial.login("admin", PASSWORDS["admin"])
            trial.create_user(system, "adjud2", "Second Adjudicator", "adjudicator",
                              PASSWORDS["adjud2"])
            protocol = trial.active_protocol(system)[1]
            r1 = trial.login("reader1", PASSWORDS["reader1"])
            r2 = trial.login("reader2", PASSWORDS["reader2"])
            first = {i.case_label: i.timepoint for i in trial.worklist(r1)}
            label = next(i.case_label for i in trial.worklist(r2)
                         if first.get(i.case_label) == "post-insertion")
            values = complete_values(protocol, "post-insertion", extravasation=False)
            _sign_read(trial, "reader1", label,
                       complete_values(protocol, "post-insertion", extravasation=True),
                       ((20.0, 24.0), (52.0, 70.0)), "extravasation")
            _sign_read(trial, "reader2", label, {**values, "image_quality": "non_diagnostic"},
                       ((70.0, 30.0), (100.0, 64.0)), "haze")
        finally:
            trial.close()
    finally:
        auth.DEFAULT_PARAMS = saved
    return db, label


@pytest.fixture
def trial(adjudication_template, tmp_path):
    t = open_trial(copy_database(adjudication_template[0], tmp_path / "trial.sqlite"),
                   FakeClock())
    yield t
    t.close()


def _shot(widget, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance()
    if app is not None and app.property("ioreview_themed") is None:
        apply_theme(app)
        app.setProperty("ioreview_themed", True)
    QApplication.processEvents()
    widget.grab().save(str(SHOTS / f"{name}.png"))


def _adjudicator_of(trial: Trial, label: str) -> str:
    coord = trial.login("coord", PASSWORDS["coord"])
    case = next(c for c in trial.list_cases(coord) if c.label == label)
    return trial.adjudication_status(coord, case.id).tasks[0].adjudicator


def _open_adjudicator_window(qtbot, trial: Trial, label: str):
    """The window of the adjudicator of the case `label`, logged in, shown at 1600x1000."""
    name = _adjudicator_of(trial, label)
    window = adjudicator_window(trial, trial.login(name, PASSWORDS[name]))
    qtbot.addWidget(window)
    window.resize(1600, 1000)
    window.show()
    qtbot.waitExposed(window)
    return window


def _colour_pixels(image, colour: QColor) -> int:
    """How many pixels of ``image`` are (nearly) ``colour``."""
    n = 0
    for y in range(0, image.height(), 2):
        for x in range(0, image.width(), 2):
            c = image.pixelColor(x, y)
            if (abs(c.red() - colour.red()) + abs(c.green() - colour.green())
                    + abs(c.blue() - colour.blue())) < 40:
                n += 1
    return n


def test_adjudicator_decides_and_signs_a_discordant_case(qtbot, trial, adjudication_template,
                                                         messages):
    label = adjudication_template[1]
    name = _adjudicator_of(trial, label)
    window = _open_adjudicator_window(qtbot, trial, label)
    model = window.queue_view.model()
    assert model.rowCount() == 1
    assert model.index(0, 0).data() == label
    assert "Image quality" in model.index(0, 4).data()
    assert "T" not in model.index(0, 3).data()  # "2026-11-29 21:04", not ISO
    _shot(window, "adjudicator_queue")

    window.queue_view.selectRow(0)
    click(qtbot, window.open_button)
    panel = window.panel
    assert label in panel.title.text()
    # both readers' annotations drawn over the images, each in its colour, as A and B only
    assert sorted(panel.layer_boxes) == ["A", "B"]
    shown = window.layers.shown()
    assert shown["A"] and shown["B"]
    qtbot.wait(300)
    pane = window.viewer.widget.active_viewport()
    image = pane.grab().toImage()
    assert _colour_pixels(image, READER_COLOURS["A"]) > 20
    assert _colour_pixels(image, READER_COLOURS["B"]) > 20
    _shot(window, "adjudication_view")
    click(qtbot, panel.layer_boxes["B"])
    assert window.layers.shown()["B"] == [] and window.layers.shown()["A"]
    qtbot.wait(50)
    image = pane.grab().toImage()
    assert _colour_pixels(image, READER_COLOURS["B"]) < 5
    assert _colour_pixels(image, READER_COLOURS["A"]) > 20
    click(qtbot, panel.layer_boxes["B"])
    assert "reader1" not in panel.forms.horizontalHeaderItem(1).text()

    # the discordant fields are highlighted in the side-by-side table, with rule and reason
    keys = [e.key for e in panel.editors]
    assert keys[:2] == ["image_quality", "extravasation.presence"]
    rows = {panel.forms.item(r, 0).text(): r for r in range(panel.forms.rowCount())}
    quality_row = rows["Image quality"]
    assert "Discordant" in panel.forms.item(quality_row, 1).toolTip()
    why = panel.editor("image_quality").findChild(type(panel.title), "DecisionReason").text()
    # the rule and the readers' values as the form names them (choice labels, not codes)
    assert "2 or more steps apart" in why and "Non-diagnostic" in why and "Adequate" in why
    assert "'non_diagnostic'" not in why and "non_diagnostic" not in why

    # decide: image quality as an own value with a rationale, everything else: the reader
    # who saw the extravasation
    present = next(x for x in ("A", "B")
                   if "Present" in panel.editor("extravasation.presence").choices[x].text())
    quality = panel.editor("image_quality")
    click(qtbot, quality.choices["own"])
    combo = quality.editor
    assert isinstance(combo, QComboBox)
    combo.setCurrentIndex(combo.findData("adequate"))
    qtbot.keyClicks(quality.rationale, "bone and soft tissue both assessable")
    for key in keys[1:]:
        click(qtbot, panel.editor(key).choices[present])
    # an own measurement of the adjudicator
    uid = window.viewer.current_image()
    assert uid is not None
    window.viewer.add_annotation(Annotation(None, "extravasation", "length", uid[0], 0,
                                            ((30.0, 30.0), (50.0, 60.0)), {}, "adjudicator"))

    outcome: dict[str, str] = {}

    def sign(dialog: SignDialog) -> None:
        assert "I confirm this adjudication" in dialog.meaning_label.text()
        qtbot.keyClicks(dialog.password_edit, "wrong-password")
        click(qtbot, dialog.sign_button)
        outcome["wrong"] = dialog.message_label.text()
        assert dialog.isVisible()
        qtbot.keyClicks(dialog.password_edit, PASSWORDS[name])
        click(qtbot, dialog.sign_button)

    seen = when_modal(SignDialog, sign)
    click(qtbot, panel.sign_button)
    assert seen, "the signature dialog was shown"
    assert "NOT signed" in outcome["wrong"]
    assert model.rowCount() == 0, "the signed case left the queue"
    assert panel.view is None and "signed" in window.statusBar().currentMessage()

    coord = trial.login("coord", PASSWORDS["coord"])
    case = next(c for c in trial.list_cases(coord) if c.label == label)
    values = {v.key: v for v in trial.case_outcome(coord, case.id).values}
    assert values["image_quality"].value == "adequate"
    assert values["image_quality"].source == "adjudicator"
    assert values["extravasation.presence"].value == "present"
    assert trial.adjudication_status(coord, case.id).tasks[0].status == "decided"
    window.close()


def test_adjudicator_keeps_decisions_after_a_wrong_password(qtbot, trial, adjudication_template,
                                                            messages):
    name = _adjudicator_of(trial, adjudication_template[1])
    window = AdjudicatorWindow(trial, trial.login(name, PASSWORDS[name]))
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    window.open_row(0)
    editor = window.panel.editors[0]
    click(qtbot, editor.choices["A"])
    dialog = window.make_sign_dialog()
    qtbot.addWidget(dialog)
    qtbot.keyClicks(dialog.password_edit, "nope")
    click(qtbot, dialog.sign_button)
    # a missing decision is named by the service, the choice made stays
    assert "still open" in dialog.message_label.text() or "NOT signed" in \
        dialog.message_label.text()
    assert editor.choice() == "A"
    assert window.queue_view.model().rowCount() == 1
    window.close()


def test_coordinator_adjudication_and_outcome_tabs(qtbot, trial, adjudication_template,
                                                   messages, monkeypatch):
    label = adjudication_template[1]
    first = _adjudicator_of(trial, label)
    other = "adjud2" if first == "adjud" else "adjud"
    window = CoordinatorWindow(trial, trial.login("coord", PASSWORDS["coord"]))
    qtbot.addWidget(window)
    window.resize(1600, 1000)
    window.show()
    tab = window.adjudication_tab
    window.show_tab(tab)
    model = tab.cases_view.model()
    rows = [model.index(r, 0).data() for r in range(model.rowCount())]
    assert label in rows
    row = rows.index(label)
    assert model.index(row, 2).data() == "waiting for adjudication"
    assert model.index(row, 3).data() == first
    assert "waiting for adjudication 1" in tab.stages_label.text()
    loads = tab.workload_view.model()
    assert {loads.index(r, 0).data() for r in range(loads.rowCount())} == {"adjud", "adjud2"}
    _shot(window, "coordinator_adjudication")

    # reassign to the other adjudicator
    tab.cases_view.selectRow(row)
    monkeypatch.setattr(QInputDialog, "getItem",
                        lambda *a, **k: (next(x for x in a[3] if x.startswith(other)), True))
    click(qtbot, tab.reassign_button)
    assert model.index(row, 3).data() == other, messages

    # the adjudication status dialog from the open discordances of the progress tab
    window.show_tab(window.progress_tab)
    view = window.progress_tab.discordance_view
    disc = view.model()
    drow = next(r for r in range(disc.rowCount()) if disc.index(r, 0).data() == label)
    shown = when_modal(QDialog, lambda d: d.findChild(QDialog) or None)
    view.doubleClicked.emit(disc.index(drow, 0))
    assert shown and label in shown[0].windowTitle()

    # the second adjudicator decides: the outcome tab shows the values
    adj = trial.login(other, PASSWORDS[other])
    item = trial.adjudication_queue(adj)[0]
    view_ = trial.open_adjudication(adj, item.adjudication_id)
    from adjudication.paradigms import Decision
    decisions = [Decision(i.key, "A") for i in view_.items]
    trial.submit_adjudication(adj, item.adjudication_id, decisions, PASSWORDS[other])
    window.show_tab(window.outcomes_tab)
    outcomes = window.outcomes_tab
    values = outcomes.values_view.model()
    found = {(values.index(r, 0).data(), values.index(r, 3).data(), values.index(r, 5).data())
             for r in range(values.rowCount())}
    assert any(c == label and s == "adjudicator" for c, _f, s in found)
    subjects = outcomes.subjects_view.model()
    assert subjects.rowCount() > 0
    _shot(window, "coordinator_outcomes")

    # the decided case goes to the committee by hand, with a reason; the coordinator then
    # opens the committee sessions to create one
    window.show_tab(tab)
    tab.refresh()
    row = [model.index(r, 0).data() for r in range(model.rowCount())].index(label)
    tab.cases_view.selectRow(row)
    monkeypatch.setattr(QInputDialog, "getMultiLineText",
                        lambda *a, **k: ("confirm the outcome in committee", True))
    click(qtbot, tab.panel_button)
    assert model.index(row, 2).data() == "waiting for the committee", messages
    click(qtbot, tab.sessions_button)
    sessions = tab.sessions_window
    assert sessions is not None and sessions.isVisible() and sessions.new_button.isVisible()
    assert [c.case_label for c in trial.committee_candidates(window.controller.session).cases] \
        == [label]
    sessions.close()
    window.close()


def test_a_reader_reaches_no_adjudication(qtbot, trial, messages):
    reader = trial.login("reader1", PASSWORDS["reader1"])
    with pytest.raises(PermissionDenied):
        trial.adjudication_queue(reader)
    with pytest.raises(PermissionDenied):
        trial.adjudication_overview(reader)
    window = AdjudicatorWindow(trial, reader)
    qtbot.addWidget(window)
    assert window.queue_view.model().rowCount() == 0
    assert not window.open_button.isEnabled()
    assert messages and "adjudication" in messages[0].lower()


def test_rules_and_reasons_in_chinese_with_the_protocols_labels(qtbot, trial,
                                                                 adjudication_template, qapp):
    """In the Chinese UI the rule and reason lines name the readers' values by the protocol's
    Chinese choice labels, and the queue names the discordant fields in Chinese."""
    from ioreview.ui.app import install_translators

    label = adjudication_template[1]
    installed = install_translators(qapp, "zh_CN")
    try:
        window = _open_adjudicator_window(qtbot, trial, label)
        fields = window.queue_view.model().index(0, 4).data()
        window.open_row(0)
        protocol = window.panel.view.protocol
        assert protocol.label_for("image_quality", "zh_CN") in fields
        assert "Image quality" not in fields
        quality = protocol.field("image_quality")
        why = window.panel.editor("image_quality").findChild(QLabel, "DecisionReason").text()
        for value in ("adequate", "non_diagnostic"):
            assert quality.choice(value).label_in("zh_CN") in why
            assert value not in why
        presence = window.panel.editor("extravasation.presence").findChild(
            QLabel, "DecisionReason").text()
        field = protocol.field("extravasation.presence")
        assert field.choice("present").label_in("zh_CN") in presence
        assert "'present'" not in presence
        window.close()
    finally:
        for translator in installed:
            qapp.removeTranslator(translator)


def test_readers_labels_at_one_spot_do_not_print_over_each_other(qtbot, trial,
                                                                  adjudication_template):
    """Two findings marked with the same shape (the demo's readers do that), and both readers
    on one spot: each label and measurement block gets its own place on the pane."""
    import dataclasses

    from ioreview.service import LetteredRead

    label = adjudication_template[1]
    window = _open_adjudicator_window(qtbot, trial, label)
    window.open_row(0)
    pane = window.viewer.widget.active_viewport()
    uid = window.viewer.current_image()[0]
    a = next(x for r in window.panel.view.reads for x in r.annotations
             if x.sop_instance_uid == uid)
    same = [dataclasses.replace(a, label=text) for text in ("extravasation", "haematoma")]
    window.layers.set_reads([LetteredRead("A", {}, tuple(same), ()),
                             LetteredRead("B", {}, (same[0],), ())])

    def painted() -> bool:
        pane.grab()
        return len(window.layers.text_blocks(pane)) == 3

    qtbot.waitUntil(painted, timeout=5000)
    blocks = window.layers.text_blocks(pane)
    for i, one in enumerate(blocks):
        for other in blocks[i + 1:]:
            assert not one.intersects(other), (one, other)
    window.close()


def test_coordinator_status_dialog_says_rules_and_reasons_in_chinese(qtbot, trial,
                                                                      adjudication_template, qapp):
    """The coordinator's adjudication status names the discordant fields, rules and reasons
    in the UI language from the rules' codes (evaluations store English text only); the
    service keeps the stored English text beside the codes."""
    from ioreview.ui.app import install_translators
    from ioreview.ui.coordinator import AdjudicationStatusDialog

    label = adjudication_template[1]
    coord = trial.login("coord", PASSWORDS["coord"])
    case = next(c for c in trial.list_cases(coord) if c.label == label)
    status = trial.adjudication_status(coord, case.id)
    item = next(i for i in status.items if i.key == "image_quality")
    assert item.rule_code == "ordinal_difference" and item.reasons[0].code == "steps_apart"
    assert "non_diagnostic" in item.reason or "Non-diagnostic" in item.reason  # stored English
    protocol = trial.active_protocol(coord)[1]
    installed = install_translators(qapp, "zh_CN")
    try:
        dialog = AdjudicationStatusDialog(status, None, protocol)
        qtbot.addWidget(dialog)
        dialog.show()
        _shot(dialog, "coordinator_status_zh")
        model = dialog.items_model
        rows = {model.index(r, 0).data(): (model.index(r, 1).data(), model.index(r, 2).data())
                for r in range(model.rowCount())}
        name = protocol.label_for("image_quality", "zh_CN")
        assert name in rows and "Image quality" not in rows
        rule, why = rows[name]
        quality = protocol.field("image_quality")
        for value in ("adequate", "non_diagnostic"):
            assert quality.choice(value).label_in("zh_CN") in why
            assert value not in why
        assert rule != item.rule and why != item.reason
        dialog.close()
    finally:
        for translator in installed:
            qapp.removeTranslator(translator)
