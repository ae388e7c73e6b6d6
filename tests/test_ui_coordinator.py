"""The coordinator's window over a real trial: users, import, cases, assignments, progress."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from ioreview.imaging.synthetic_render import US_TEXT_BOX
from ioreview.ui.coordinator import CoordinatorWindow, UserDialog
from ioreview.ui.login import LoginDialog
from ui_support import (
    ASSIGNMENT_SEED,
    PASSWORDS,
    FakeClock,
    build_database,
    click,
    complete_values,
    open_trial,
    save_screenshot,
    shared_demo_files,
    when_modal,
)


@pytest.fixture
def demo(tmp_path_factory):
    return shared_demo_files(tmp_path_factory)


@pytest.fixture
def trial(tmp_path: Path):
    """Users and the protocol, nothing imported yet."""
    db = tmp_path / "coordinator.sqlite"
    build_database(db, None)
    t = open_trial(db, FakeClock())
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
    w.show()
    qtbot.waitExposed(w)
    return w


def column(model, col: int) -> list[str]:
    return [model.index(row, col).data() for row in range(model.rowCount())]


def test_manage_users(qtbot, window, trial, messages) -> None:
    tab = window.users_tab
    assert {"coord", "reader1", "reader2", "adjud"} <= set(column(tab.model, 0))

    def fill(dialog: UserDialog) -> None:
        qtbot.keyClicks(dialog.username, "reader3")
        qtbot.keyClicks(dialog.display_name, "Reader Three")
        dialog.role.setCurrentIndex(dialog.role.findData("reader"))
        qtbot.keyClicks(dialog.password, "reader3-pass")
        qtbot.keyClicks(dialog.password_again, "reader3-pass")
        dialog._check()

    when_modal(UserDialog, fill)
    click(qtbot, tab.add_button)
    assert "reader3" in column(tab.model, 0)
    assert messages == []

    row = column(tab.model, 0).index("reader3")
    tab.view.selectRow(row)
    click(qtbot, tab.toggle_button)
    row = column(tab.model, 0).index("reader3")
    assert tab.model.index(row, 3).data() == "no"
    assert not next(u for u in trial.list_users(window.controller.session)
                    if u.username == "reader3").active

    # a too-short password is refused inline with the service's explanation, the dialog
    # keeping what was typed
    refusals: list[tuple[str, str, bool]] = []

    def short(dialog: UserDialog) -> None:
        qtbot.keyClicks(dialog.username, "reader4")
        qtbot.keyClicks(dialog.password, "short")
        qtbot.keyClicks(dialog.password_again, "short")
        dialog._check()
        refusals.append((dialog.message.text(), dialog.username.text(), dialog.isVisible()))

    when_modal(UserDialog, short)
    click(qtbot, tab.add_button)
    [(text, kept, still_open)] = refusals
    assert "10" in text and kept == "reader4" and still_open
    assert messages == []
    assert "reader4" not in column(tab.model, 0)


def decide_burned_in_text(qtbot, window: CoordinatorWindow) -> None:
    """As a coordinator: in the Burned-in text tab, draw a rectangle over the demo ultrasound's
    patient banner (in its series that say Burned In Annotation YES) and save the mask; confirm
    the other flagged series clean after looking at them."""
    window.show_tab(window.burned_in_tab)
    tab = window.burned_in_tab
    waiting = [n for n in range(tab.model.rowCount())
               if tab.model.record(n).status == "flagged"]
    assert waiting, "the demo's ultrasound cines are flagged"
    n_masked = 0
    for row in waiting:
        tab.view.selectRow(row)
        series = tab.model.record(row)
        assert tab.selected() == series and not tab.canvas.rectangles
        if "YES" in series.reason:
            banner = tab.canvas._to_widget(US_TEXT_BOX).adjusted(-2, -2, 2, 2)
            qtbot.mousePress(tab.canvas, Qt.MouseButton.LeftButton, pos=banner.topLeft())
            qtbot.mouseMove(tab.canvas, banner.center())
            qtbot.mouseMove(tab.canvas, banner.bottomRight())
            qtbot.mouseRelease(tab.canvas, Qt.MouseButton.LeftButton, pos=banner.bottomRight())
            [drawn] = tab.canvas.rectangles
            r0, c0, r1, c1 = US_TEXT_BOX
            assert drawn[0] <= r0 and drawn[1] <= c0 and drawn[2] >= r1 and drawn[3] >= c1
            click(qtbot, tab.save_button)
            assert "masked" in tab.message.text()
            n_masked += 1
        else:
            click(qtbot, tab.clean_button)
            assert "confirmed clean" in tab.message.text()
    assert n_masked
    statuses = [tab.model.record(n).status for n in range(tab.model.rowCount())]
    assert "flagged" not in statuses and "masked" in statuses
    shots = Path(os.environ.get("IOREVIEW_SHOTS", "/tmp/shots"))
    shots.mkdir(parents=True, exist_ok=True)
    window.grab().save(str(shots / "coordinator_burned_in.png"))


def test_import_build_assign_and_progress(qtbot, window, trial, demo, messages) -> None:
    # import in a worker thread with a progress bar
    window.show_tab(window.import_tab)
    tab = window.import_tab
    tab.path_edit.setText(str(demo.dicom_dir))
    click(qtbot, tab.import_button)
    assert not tab.import_button.isEnabled()
    qtbot.waitUntil(lambda: tab.last_summary is not None, timeout=60_000)
    assert tab.import_button.isEnabled()
    assert tab.last_summary.imported > 0
    assert tab.progress_bar.value() == tab.progress_bar.maximum() > 1
    assert "imported" in tab.log.toPlainText()
    save_screenshot(window, "coordinator_import")

    # cases from the imported studies
    window.show_tab(window.cases_tab)
    cases = window.cases_tab
    assert cases.studies_model.rowCount() > 0
    click(qtbot, cases.build_button)
    assert cases.cases_model.rowCount() == cases.studies_model.rowCount()
    assert all(label.startswith("CASE-") for label in column(cases.cases_model, 0))
    save_screenshot(window, "coordinator_cases")

    # images that may carry burned-in text wait for the coordinator before readers get them
    decide_burned_in_text(qtbot, window)

    # assignments with a recorded seed
    window.show_tab(window.assignments_tab)
    assign = window.assignments_tab
    assign.seed.setValue(ASSIGNMENT_SEED)
    click(qtbot, assign.generate_button)
    assert f"seed {ASSIGNMENT_SEED}" in assign.result_label.text()
    assert set(column(assign.model, 0)) == {"reader1", "reader2"}
    assert messages == []

    # two readers disagree on one case, agree on another, a third is in progress
    protocol = trial.active_protocol(window.controller.session)[1]
    first_cases: list[str] = []
    for username, extravasation in (("reader1", True), ("reader2", False)):
        session = trial.login(username, PASSWORDS[username])
        items = sorted(trial.worklist(session), key=lambda i: i.case_label)
        for n, item in enumerate(items[:3]):
            case = trial.open_case(session, item.assignment_id)
            if n == 2:
                continue
            values = complete_values(protocol, case.timepoint,
                                     extravasation=extravasation and n == 0)
            trial.save_draft(session, case.read_id, values, active_seconds=90)
            trial.submit_read(session, case.read_id, PASSWORDS[username])
            first_cases.append(item.case_label)

    window.show_tab(window.progress_tab)
    progress = window.progress_tab
    readers = progress.readers_model
    assert readers.rowCount() == 2
    assert column(readers, 2) == ["2", "2"]
    assert column(readers, 3) == ["1", "1"]
    assert progress.chart.series(), "the chart shows the reads per reader"
    assert progress.report.cases_complete == 2
    assert "2 of" in progress.summary.text()
    assert progress.discordance_model.rowCount() == progress.report.open_discordances
    save_screenshot(window, "coordinator_progress")
    assert messages == []


def test_import_error_is_shown(qtbot, window, tmp_path, messages) -> None:
    window.show_tab(window.import_tab)
    tab = window.import_tab
    tab.path_edit.setText(str(tmp_path / "does-not-exist"))
    click(qtbot, tab.import_button)
    qtbot.waitUntil(lambda: tab.import_button.isEnabled(), timeout=30_000)
    text = tab.log.toPlainText()
    assert "failed" in text.lower() or tab.last_summary is not None


def test_new_case_from_selected_study(qtbot, window, trial, demo, messages) -> None:
    trial.import_studies(window.controller.session, [demo.dicom_dir])
    window.show_tab(window.cases_tab)
    cases = window.cases_tab
    cases.refresh()
    assert cases.case_dialog_for_selection() is None
    assert "Select a study" in cases.result_label.text()
    cases.studies_view.selectRow(0)
    dialog = cases.case_dialog_for_selection()
    assert dialog is not None, (cases.result_label.text(), messages)
    qtbot.addWidget(dialog)
    study = cases.studies_model.record(0)
    assert dialog.subject.text() == study.patient_id
    assert dialog.series.count() == study.n_series
    # only the first series, timepoint from the protocol, day +1
    for i in range(1, dialog.series.count()):
        dialog.series.item(i).setCheckState(Qt.CheckState.Unchecked)
    dialog.timepoint.setCurrentText("post-insertion")
    dialog.days.setValue(1)
    dialog.show()
    save_screenshot(dialog, "coordinator_new_case")
    cases.create_case_from(dialog)
    assert messages == []
    created = trial.list_cases(window.controller.session)
    assert [(c.subject, c.timepoint, c.days_from_insertion, c.n_series) for c in created] == \
        [(study.patient_id, "post-insertion", 1, 1)]
    assert created[0].label in cases.result_label.text()
    # the same series cannot go into a second case: the service's message is shown
    cases.studies_view.selectRow(0)
    dialog2 = cases.case_dialog_for_selection()
    qtbot.addWidget(dialog2)
    cases.create_case_from(dialog2)
    assert messages and "already belongs to case" in messages[-1]
