"""The coordinator's assignment table and reassignment, and the open discordances that lead to
the Adjudication tab, driven as a coordinator would (pytest-qt, real SQLite trial)."""
from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from ioreview.service import AssignmentPurpose, ReadStatus, Role
from ioreview.ui.assignments_view import ReassignDialog
from ioreview.ui.coordinator import CoordinatorWindow
from ioreview.ui.login import LoginDialog
from ui_support import (PASSWORDS, FakeClock, build_database, click, complete_values,
                        open_trial, save_screenshot, shared_demo_files,
                        when_modal)

READER3 = "reader3-pass"


@pytest.fixture
def trial(tmp_path_factory, tmp_path: Path):
    db = tmp_path / "coordinator.sqlite"
    build_database(db, shared_demo_files(tmp_path_factory))
    t = open_trial(db, FakeClock())
    coord = t.login("coord", PASSWORDS["coord"])
    t.create_user(coord, "reader3", "Reader Three", Role.READER, READER3)
    yield t
    t.close()


@pytest.fixture
def window(qtbot, trial) -> CoordinatorWindow:
    dialog = LoginDialog(trial)
    qtbot.addWidget(dialog)
    qtbot.keyClicks(dialog.username_edit, "coord")
    qtbot.keyClicks(dialog.password_edit, PASSWORDS["coord"])
    qtbot.mouseClick(dialog.login_button, Qt.MouseButton.LeftButton)
    assert dialog.session is not None, dialog.message_label.text()
    w = CoordinatorWindow(trial, dialog.session)
    qtbot.addWidget(w)
    w.resize(1280, 800)
    w.show()
    qtbot.waitExposed(w)
    return w


def cells(view, col: int) -> list[str]:
    model = view.model()
    return [model.index(r, col).data() for r in range(model.rowCount())]


def click_row(qtbot, view, row: int) -> None:
    rect = view.visualRect(view.model().index(row, 0))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_reassign_a_draft_through_the_dialog(qtbot, window, trial, messages) -> None:
    reader1 = trial.login("reader1", PASSWORDS["reader1"])
    item = trial.worklist(reader1)[0]
    draft = trial.open_case(reader1, item.assignment_id)
    trial.save_draft(reader1, draft.read_id, {"image_quality": "limited"})

    window.show_tab(window.assignments_tab)
    view = window.assignments_tab.assignments_view
    table = view.entries_view
    assert "hidden re-read" in cells(table, 2)
    assert {"reader1", "reader2"} <= set(cells(view.totals_view, 0))
    note = view.totals_note.text()
    assert "hidden re-read" in note and "washout" in note
    totals = {r.reader: r for r in view.totals_model.records()}
    assert totals["reader1"].in_worklist == len(trial.worklist(reader1))
    assert totals["reader1"].hidden_rereads >= 1
    save_screenshot(window, "assignments_table")

    # the coordinator filters for the case and selects reader1's row
    qtbot.keyClicks(view.filter_edit, item.case_label)
    row = next(r for r, (case, reader) in enumerate(zip(cells(table, 0), cells(table, 1)))
               if case == item.case_label and reader == "reader1")
    click_row(qtbot, table, row)
    assert view.selected_entry().status is ReadStatus.IN_PROGRESS
    assert cells(table, 3)[row] == "draft"

    def fill(dialog: ReassignDialog) -> None:
        assert [dialog.reader_combo.itemData(i) for i in range(dialog.reader_combo.count())] \
            == [u.id for u in trial.list_users(window.controller.session)
                if u.username == "reader3"]  # reader2 has the case already
        click(qtbot, dialog.ok_button)  # no reason yet
        assert dialog.isVisible() and "reason" in dialog.message.text()
        qtbot.keyClicks(dialog.reason_edit, "Reader 1 is on leave until March")
        dialog.message.setText("")
        save_screenshot(dialog, "reassign_dialog")
        click(qtbot, dialog.ok_button)

    seen = when_modal(ReassignDialog, fill)
    click(qtbot, view.reassign_button)
    assert seen and seen[0].result() == ReassignDialog.DialogCode.Accepted, messages
    assert messages == []
    moved = view.selected_entry()
    assert moved is not None and moved.assignment_id == item.assignment_id
    assert moved.reader == "reader3" and moved.purpose is AssignmentPurpose.PRIMARY

    # the new reader sees it in their worklist, the old one no longer; the reason is audited
    reader3 = trial.login("reader3", READER3)
    assert item.case_label in {i.case_label for i in trial.worklist(reader3)}
    assert item.assignment_id not in {i.assignment_id for i in trial.worklist(reader1)}
    assert trial.open_case(reader3, item.assignment_id).values.get("image_quality") is None
    record = trial.store.audit_records(entity="assignment",
                                       entity_id=item.assignment_id)[-1]
    assert record.action == "reassign" and record.actor == "coord"
    assert record.after["reason"] == "Reader 1 is on leave until March"


def test_a_signed_read_is_refused_in_the_dialog(qtbot, window, trial, messages) -> None:
    reader1 = trial.login("reader1", PASSWORDS["reader1"])
    item = trial.worklist(reader1)[0]
    case = trial.open_case(reader1, item.assignment_id)
    protocol = trial.active_protocol(window.controller.session)[1]
    trial.save_draft(reader1, case.read_id,
                     complete_values(protocol, case.timepoint, extravasation=False))
    trial.submit_read(reader1, case.read_id, PASSWORDS["reader1"])
    window.show_tab(window.assignments_tab)
    view = window.assignments_tab.assignments_view
    view.refresh()
    assert view.select_assignment(item.assignment_id)

    def fill(dialog: ReassignDialog) -> None:
        qtbot.keyClicks(dialog.reason_edit, "try")
        click(qtbot, dialog.ok_button)
        assert dialog.isVisible() and "signed" in dialog.message.text()
        dialog.reject()

    seen = when_modal(ReassignDialog, fill)
    click(qtbot, view.reassign_button)
    assert seen and view.selected_entry().reader == "reader1"


def test_clicking_a_discordance_selects_the_case_in_the_adjudication_tab(
        qtbot, window, trial, messages) -> None:
    protocol = trial.active_protocol(window.controller.session)[1]
    r1 = trial.login("reader1", PASSWORDS["reader1"])
    r2 = trial.login("reader2", PASSWORDS["reader2"])
    label = next(i.case_label for i in trial.worklist(r1)
                 if i.case_label in {j.case_label for j in trial.worklist(r2)})
    for session, name, extravasation in ((r1, "reader1", True), (r2, "reader2", False)):
        item = next(i for i in trial.worklist(session) if i.case_label == label)
        case = trial.open_case(session, item.assignment_id)
        trial.save_draft(session, case.read_id,
                         complete_values(protocol, case.timepoint, extravasation=extravasation))
        trial.submit_read(session, case.read_id, PASSWORDS[name])

    window.show_tab(window.progress_tab)
    view = window.progress_tab.discordance_view
    row = cells(view, 0).index(label)
    click_row(qtbot, view, row)
    assert window.tabs.currentWidget() is window.adjudication_tab
    selected = window.adjudication_tab.selected_case()
    assert selected is not None and selected.case_label == label
    assert messages == []
