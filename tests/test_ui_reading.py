"""A reader's session end to end: log in, worklist, open a case, annotate, fill, sign, lock.

Everything runs over the real service and a real SQLite database built from the synthetic
demo trial (see ui_support.py).
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from ioreview.service import Annotation, ReadStatus
from ioreview.ui.login import LoginDialog
from ioreview.ui.read_form import ReadFormPanel
from ioreview.ui.reading import ReadingWindow
from ioreview.ui.sign_dialog import SignDialog
from ui_support import (
    PASSWORDS,
    FakeClock,
    ServiceCalls,
    build_database,
    choose,
    click,
    copy_database,
    shared_demo_files,
    open_trial,
    save_screenshot,
    when_modal,
)

DATE_RE = re.compile(r"\b(19|20)\d{2}-?\d{2}-?\d{2}\b")


@pytest.fixture(scope="session")
def reading_template(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("reading-db")
    demo = shared_demo_files(tmp_path_factory)
    db = root / "template.sqlite"
    build_database(db, demo)
    return db


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def trial(reading_template: Path, tmp_path: Path, clock: FakeClock):
    t = open_trial(copy_database(reading_template, tmp_path / "trial.sqlite"), clock)
    yield t
    t.close()


def login_through_dialog(qtbot, trial, username: str):
    dialog = LoginDialog(trial)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClicks(dialog.username_edit, username)
    qtbot.keyClicks(dialog.password_edit, PASSWORDS[username])
    qtbot.mouseClick(dialog.login_button, Qt.MouseButton.LeftButton)
    assert dialog.result() == LoginDialog.DialogCode.Accepted, dialog.message_label.text()
    return dialog.session


def open_window(qtbot, trial, username: str, **kwargs) -> ReadingWindow:
    session = login_through_dialog(qtbot, trial, username)
    window = ReadingWindow(trial, session, **kwargs)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


def worklist_labels(window: ReadingWindow) -> list[str]:
    return [item.case_label for item in window.worklist_model.records()]


def open_first_case(qtbot, window: ReadingWindow) -> ReadFormPanel:
    view = window.worklist_view
    index = window.worklist_model.index(0, 1)
    view.scrollTo(index)
    rect = view.visualRect(index)
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    form = window.read_form
    assert form.case is not None
    assert form.case.case_label == worklist_labels(window)[0]
    return form


def fill_complete_read(form: ReadFormPanel) -> None:
    """Answer every required question: extravasation present, everything else absent."""
    e = form.editors
    choose(e["image_quality"].editor, "adequate")
    choose(e["side"].editor, "right")
    if e["timepoint"].raw_value() is None:
        choose(e["timepoint"].editor, form.case.timepoint)
    choose(e["needle_position.tip_position"].editor, "intramedullary")
    for finding in form.protocol.findings:
        if not finding.presence:
            continue
        if finding.id == "extravasation":
            choose(e["extravasation.presence"].editor, "present")
            choose(e["extravasation.confidence"].editor, 5)
        else:
            choose(e[f"{finding.id}.presence"].editor, "absent")
            choose(e[f"{finding.id}.confidence"].editor, 1)
    choose(e["extravasation.severity"].editor, "mild")
    for value, check in e["extravasation.compartment"]._checks:
        if value == "anterior":
            check.setChecked(True)


def test_full_reading_session(qtbot, trial, messages) -> None:
    window = open_window(qtbot, trial, "reader1")
    labels = worklist_labels(window)
    assert labels, "reader1 has cases to read"
    model = window.worklist_model
    for row in range(model.rowCount()):
        for column in range(model.columnCount()):
            assert not DATE_RE.search(str(model.index(row, column).data())), "no dates shown"
    assert model.index(0, 4).data() == "new"
    save_screenshot(window, "reading_worklist")

    form = open_first_case(qtbot, window)
    assert model.index(0, 4).data() == "in progress"
    assert not form.is_read_only()

    # annotate: a length measured in the viewer on a CT image, linked to extravasation
    ct = next(s for s in form.case.series if s.modality == "CT")
    uid = ct.headers[len(ct.headers) // 2].sop_instance_uid
    window.viewer.add_annotation(Annotation(
        None, None, "length", uid, 0, ((20.0, 20.0), (40.0, 44.0)), {"length_mm": 31.2}))
    assert len(form.annotations) == 1
    group = form.groups["extravasation"]
    click(qtbot, group.link_button)
    assert form.annotations[0].finding_id == "extravasation"
    assert group.annotation_list.count() == 1

    window.viewer.toggle_key_image()
    assert len(form.key_images) == 1
    assert "1 key image" in form.key_image_label.text()

    fill_complete_read(form)
    size = form.editors["extravasation.max_size_cm"]
    click(qtbot, size.fill_button)
    assert size.value() == pytest.approx(3.12)
    assert form.refresh_form_state() == []
    save_screenshot(window, "reading_form_beside_viewer")

    # sign: a wrong password first, then the right one
    outcome: dict[str, str] = {}

    def sign(dialog: SignDialog) -> None:
        assert "I confirm this read" in dialog.meaning_label.text()
        qtbot.keyClicks(dialog.password_edit, "wrong-password")
        qtbot.mouseClick(dialog.sign_button, Qt.MouseButton.LeftButton)
        outcome["wrong"] = dialog.message_label.text()
        outcome["still_open"] = str(dialog.isVisible())
        qtbot.keyClicks(dialog.password_edit, PASSWORDS["reader1"])
        qtbot.mouseClick(dialog.sign_button, Qt.MouseButton.LeftButton)

    seen = when_modal(SignDialog, sign)
    qtbot.mouseClick(form.submit_button, Qt.MouseButton.LeftButton)
    assert seen, "the signature dialog was shown"
    assert "not signed" in outcome["wrong"].lower() or "does not match" in outcome["wrong"].lower()
    assert outcome["still_open"] == "True"
    assert messages == []

    # locked: read-only form, banner, status submitted everywhere
    assert form.is_read_only()
    assert form.banner.isVisible() and "locked" in form.banner.text().lower()
    assert form.editors["image_quality"].editor.isEnabled() is False
    assert form.editors["extravasation.max_size_cm"].editor.isReadOnly()
    assert not form.submit_button.isVisible() and form.amend_button.isVisible()
    assert model.index(0, 4).data() == "submitted"
    item = trial.worklist(window.controller.session)[0]
    assert item.status is ReadStatus.SUBMITTED
    case = trial.open_case(window.controller.session, item.assignment_id)
    assert case.values["extravasation.presence"] == "present"
    assert case.values["extravasation.max_size_cm"] == pytest.approx(3.12)
    assert [a.finding_id for a in case.annotations] == ["extravasation"]
    assert len(case.key_images) == 1
    save_screenshot(window, "reading_signed")


def test_one_autosave_is_one_service_call(qtbot, trial, monkeypatch, messages) -> None:
    window = open_window(qtbot, trial, "reader1")
    form = open_first_case(qtbot, window)
    assert form.flush()
    calls = ServiceCalls(trial, monkeypatch)
    choose(form.editors["image_quality"].editor, "limited")
    assert form.dirty and form.save_state.text() == "Unsaved changes…"
    qtbot.waitUntil(lambda: not form.dirty, timeout=5000)
    qtbot.wait(50)
    assert calls.names == ["save_draft"]
    assert form.save_state.text() == "Draft saved"
    assert window.worklist_model.index(0, 4).data() == "in progress"
    assert messages == []


def test_one_submit_is_one_save_and_one_signature(qtbot, trial, monkeypatch, messages) -> None:
    window = open_window(qtbot, trial, "reader1")
    form = open_first_case(qtbot, window)
    form.autosave_timer.setInterval(60_000)  # the answers are still unsaved when submitting
    fill_complete_read(form)
    assert form.dirty
    calls = ServiceCalls(trial, monkeypatch)

    def sign(dialog: SignDialog) -> None:
        qtbot.keyClicks(dialog.password_edit, PASSWORDS["reader1"])
        qtbot.mouseClick(dialog.sign_button, Qt.MouseButton.LeftButton)

    seen = when_modal(SignDialog, sign)
    qtbot.mouseClick(form.submit_button, Qt.MouseButton.LeftButton)
    assert seen, "the signature dialog was shown"
    assert calls.names == ["save_draft", "submit_read"]

    # what the reader sees: signed and locked, in the form and in the worklist
    assert form.is_read_only() and not form.dirty
    assert "locked (version 1)" in form.banner.text()
    assert form.save_state.text() == "Signed"
    assert window.worklist_model.index(0, 4).data() == "submitted"
    assert "1 submitted" in window.worklist_summary.text()
    assert messages == []
    calls.clear()
    case = trial.open_case(window.controller.session, form.case.assignment_id)
    assert case.status is ReadStatus.SUBMITTED
    assert set(case.values) == set(form.values())
    assert case.values["extravasation.compartment"] == ["anterior"]


def test_an_incomplete_submit_asks_the_service_nothing_more(qtbot, trial, monkeypatch,
                                                            messages) -> None:
    window = open_window(qtbot, trial, "reader1")
    form = open_first_case(qtbot, window)
    form.autosave_timer.setInterval(60_000)
    choose(form.editors["side"].editor, "left")
    calls = ServiceCalls(trial, monkeypatch)
    seen = when_modal(SignDialog, lambda dialog: None, timeout_ms=300)
    qtbot.mouseClick(form.submit_button, Qt.MouseButton.LeftButton)
    qtbot.wait(400)
    assert not seen, "no signature dialog for an incomplete read"
    assert calls.names == ["save_draft"], "the unsaved answer is kept, nothing is checked twice"
    assert "required" in form.editors["image_quality"].message.text()
    assert "required answer(s) missing" in form.summary.text()
    assert not form.is_read_only()
    assert messages == []


def test_second_reader_has_own_order(qtbot, trial) -> None:
    first = open_window(qtbot, trial, "reader1")
    second = open_window(qtbot, trial, "reader2")
    labels1, labels2 = worklist_labels(first), worklist_labels(second)
    assert labels1 and labels2
    assert labels1 == [i.case_label for i in trial.worklist(first.controller.session)]
    assert labels2 == [i.case_label for i in trial.worklist(second.controller.session)]
    shared = [label for label in labels1 if label in labels2]
    assert len(shared) >= 3
    assert [lab for lab in labels2 if lab in shared] != shared, "orders are randomized per reader"
    assert labels1[0] != labels2[0]


def test_invalid_value_is_explained_inline_and_not_saved(qtbot, trial, messages) -> None:
    window = open_window(qtbot, trial, "reader1")
    form = open_first_case(qtbot, window)
    size = form.editors["extravasation.max_size_cm"]
    qtbot.keyClicks(size.editor, "abc")
    assert size.message.isVisible()
    assert "not a number" in size.message.text()
    size.editor.clear()
    qtbot.keyClicks(size.editor, "75")
    assert "outside the allowed range" in size.message.text()
    assert "invalid" in form.summary.text()

    # submitting an incomplete read explains what is missing, no dialog
    qtbot.mouseClick(form.submit_button, Qt.MouseButton.LeftButton)
    assert "required" in form.editors["image_quality"].message.text()
    assert not form.is_read_only()
    assert messages == []


def test_draft_autosaves_and_survives_reopening(qtbot, trial, messages) -> None:
    window = open_window(qtbot, trial, "reader1")
    form = open_first_case(qtbot, window)
    choose(form.editors["image_quality"].editor, "limited")
    assert form.dirty
    qtbot.waitUntil(lambda: not form.dirty, timeout=5000)
    assignment = form.case.assignment_id
    case = trial.open_case(window.controller.session, assignment)
    assert case.values["image_quality"] == "limited"
    assert case.elapsed_s > 0, "active time on the case is recorded with the draft"

    # open another case and come back: the answer is still there
    window.open_assignment(window.worklist_model.record(1).assignment_id)
    window.open_assignment(assignment)
    assert form.editors["image_quality"].value() == "limited"
    assert messages == []


def test_session_expiry_locks_and_keeps_the_draft(qtbot, trial, clock, messages) -> None:
    window = open_window(qtbot, trial, "reader1")
    form = open_first_case(qtbot, window)
    overlay = window.controller._overlay
    clock.advance(trial.idle_timeout_s + 60)
    choose(form.editors["image_quality"].editor, "non_diagnostic")
    qtbot.keyClicks(form.editors["read_comment"].editor, "motion artefact")
    assert not form.save_now()
    assert window.controller.locked
    assert overlay.isVisible()
    assert form.dirty, "the unsaved draft is kept in the form"
    assert messages == []
    save_screenshot(window, "reading_locked")

    qtbot.keyClicks(overlay.password_edit, "wrong-password")
    qtbot.mouseClick(overlay.unlock_button, Qt.MouseButton.LeftButton)
    assert window.controller.locked
    assert "wrong password" in overlay.message_label.text().lower()

    qtbot.keyClicks(overlay.password_edit, PASSWORDS["reader1"])
    qtbot.mouseClick(overlay.unlock_button, Qt.MouseButton.LeftButton)
    assert not window.controller.locked
    assert not overlay.isVisible()
    assert not form.dirty
    case = trial.open_case(window.controller.session, form.case.assignment_id)
    assert case.values["image_quality"] == "non_diagnostic"
    assert case.values["read_comment"] == "motion artefact"


def test_idle_lock_saves_the_draft_first(qtbot, trial, messages) -> None:
    window = open_window(qtbot, trial, "reader1", idle_seconds=1.0)
    form = open_first_case(qtbot, window)
    form.autosave_timer.setInterval(60_000)  # only the lock may save here
    choose(form.editors["side"].editor, "left")
    window.controller._last_input.restart()
    qtbot.waitUntil(lambda: window.controller.locked, timeout=5000)
    assert not form.dirty
    case = trial.open_case(window.controller.session, form.case.assignment_id)
    assert case.values["side"] == "left"


def test_amendment_needs_reason_and_signature(qtbot, trial, messages) -> None:
    window = open_window(qtbot, trial, "reader1")
    form = open_first_case(qtbot, window)
    fill_complete_read(form)
    when_modal(SignDialog, lambda d: (qtbot.keyClicks(d.password_edit, PASSWORDS["reader1"]),
                                      qtbot.mouseClick(d.sign_button, Qt.MouseButton.LeftButton)))
    qtbot.mouseClick(form.submit_button, Qt.MouseButton.LeftButton)
    assert form.is_read_only()

    qtbot.mouseClick(form.amend_button, Qt.MouseButton.LeftButton)
    assert not form.is_read_only()
    choose(form.editors["image_quality"].editor, "limited")
    notes: dict[str, str] = {}

    def amend(dialog: SignDialog) -> None:
        notes["meaning"] = dialog.meaning_label.text()
        qtbot.keyClicks(dialog.password_edit, PASSWORDS["reader1"])
        qtbot.mouseClick(dialog.sign_button, Qt.MouseButton.LeftButton)
        notes["no_reason"] = dialog.message_label.text()
        qtbot.keyClicks(dialog.reason_edit, "Image quality re-assessed on the lateral view")
        dialog.password_edit.clear()
        qtbot.keyClicks(dialog.password_edit, PASSWORDS["reader1"])
        qtbot.mouseClick(dialog.sign_button, Qt.MouseButton.LeftButton)

    when_modal(SignDialog, amend)
    qtbot.mouseClick(form.sign_amend_button, Qt.MouseButton.LeftButton)
    assert "reason" in notes["no_reason"].lower()
    assert form.is_read_only()
    history = trial.read_history(window.controller.session, form.read_id)
    # the dialog states the meaning the service signs the amendment with
    assert "I confirm this amended read" in notes["meaning"]
    assert history[-1].signature.meaning == "I confirm this amended read"
    assert [v.version for v in history] == [1, 2]
    assert history[-1].values["image_quality"] == "limited"
    assert history[0].values["image_quality"] == "adequate"


def test_protocol_change_mid_read_is_explained_and_keeps_the_draft(qtbot, trial, messages) -> None:
    window = open_window(qtbot, trial, "reader1")
    form = open_first_case(qtbot, window)
    choose(form.editors["image_quality"].editor, "limited")
    assert form.save_now()
    assignment = form.case.assignment_id

    coordinator = trial.login("coord", PASSWORDS["coord"])
    from adjudication.protocol import default_protocol_path
    text = default_protocol_path().read_text(encoding="utf-8").replace(
        'version = "1.0.0"', 'version = "1.1.0"', 1)
    trial.install_protocol(coordinator, "io_complications-1.1.0.toml", text=text)

    window.open_assignment(window.worklist_model.record(1).assignment_id)
    window.open_assignment(assignment)
    assert form.notice.isVisible()
    assert "1.1.0" in form.notice.text()
    assert form.editors["image_quality"].value() == "limited"
    assert messages == []


def test_protocol_tool_thresholds_reach_the_viewer(qtbot, trial, messages) -> None:
    coordinator = trial.login("coord", PASSWORDS["coord"])
    from adjudication.protocol import default_protocol_path
    text = default_protocol_path().read_text(encoding="utf-8").replace(
        'version = "1.0.0"', 'version = "1.2.0"', 1).replace(
        "fat_hu = [-120, -30]", "fat_hu = [-150, -40]", 1)
    trial.install_protocol(coordinator, "io_complications-1.2.0.toml", text=text)
    window = open_window(qtbot, trial, "reader1")
    form = open_first_case(qtbot, window)
    assert form.case.protocol.tools.fat_hu == (-150, -40)
    assert window.viewer.widget.thresholds.fat_hu == (-150.0, -40.0)
    assert messages == []
