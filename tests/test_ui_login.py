"""Login dialog, role routing and translator wiring, over a real trial database."""
from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from ioreview.service import Role
from ioreview.ui.adjudication import AdjudicatorWindow
from ioreview.ui.app import install_translators, window_for_session
from ioreview.ui.committee import CommitteeWindow
from ioreview.ui.coordinator import CoordinatorWindow
from ioreview.ui.login import LoginDialog
from ioreview.ui.reading import ReadingWindow
from ui_support import PASSWORDS, FakeClock, build_database, open_trial


@pytest.fixture
def trial(tmp_path: Path):
    db = tmp_path / "login.sqlite"
    build_database(db, None)
    t = open_trial(db, FakeClock())
    yield t
    t.close()


def _log_in(qtbot, dialog: LoginDialog, username: str, password: str) -> None:
    dialog.username_edit.clear()
    qtbot.keyClicks(dialog.username_edit, username)
    dialog.password_edit.clear()
    qtbot.keyClicks(dialog.password_edit, password)
    qtbot.mouseClick(dialog.login_button, Qt.MouseButton.LeftButton)


def test_wrong_password_explains_and_keeps_the_user_name(qtbot, trial) -> None:
    dialog = LoginDialog(trial)
    qtbot.addWidget(dialog)
    dialog.show()
    _log_in(qtbot, dialog, "reader1", "not-the-password")
    assert dialog.result() != LoginDialog.DialogCode.Accepted
    assert dialog.session is None
    assert dialog.message_label.isVisible()
    assert "wrong password" in dialog.message_label.text().lower()
    assert dialog.username_edit.text() == "reader1"
    assert dialog.password_edit.text() == ""

    qtbot.keyClicks(dialog.password_edit, PASSWORDS["reader1"])
    qtbot.mouseClick(dialog.login_button, Qt.MouseButton.LeftButton)
    assert dialog.result() == LoginDialog.DialogCode.Accepted
    assert dialog.session.username == "reader1"
    assert dialog.session.role is Role.READER


def test_repeated_failures_ask_to_wait_then_lock(qtbot, trial) -> None:
    dialog = LoginDialog(trial)
    qtbot.addWidget(dialog)
    dialog.show()
    for _ in range(4):
        _log_in(qtbot, dialog, "reader2", "wrong-password")
    assert "wait 1 second" in dialog.message_label.text().lower()
    _log_in(qtbot, dialog, "reader2", PASSWORDS["reader2"])
    assert dialog.session is None, "an attempt during the wait is refused unchecked"
    clock = trial.ctx.clock
    for _ in range(7):
        clock.advance(15 * 60)
        _log_in(qtbot, dialog, "reader2", "wrong-password")
    assert "locked" in dialog.message_label.text().lower()
    clock.advance(200)  # past the delay, within the lock
    _log_in(qtbot, dialog, "reader2", PASSWORDS["reader2"])
    assert dialog.session is None, "a locked account must not log in"
    assert "lock" in dialog.message_label.text().lower()


def test_empty_fields_are_explained(qtbot, trial) -> None:
    dialog = LoginDialog(trial)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.mouseClick(dialog.login_button, Qt.MouseButton.LeftButton)
    assert dialog.message_label.isVisible()
    assert dialog.session is None


def test_each_role_gets_its_screen(qtbot, trial) -> None:
    reader = trial.login("reader1", PASSWORDS["reader1"])
    coordinator = trial.login("coord", PASSWORDS["coord"])
    adjudicator = trial.login("adjud", PASSWORDS["adjud"])
    reading = window_for_session(trial, reader)
    coordination = window_for_session(trial, coordinator)
    assert isinstance(reading, ReadingWindow)
    assert isinstance(coordination, CoordinatorWindow)
    qtbot.addWidget(reading)
    qtbot.addWidget(coordination)
    adjudication = window_for_session(trial, adjudicator)
    qtbot.addWidget(adjudication)
    assert isinstance(adjudication, AdjudicatorWindow)
    trial.create_user(coordinator, "chair", "Chair", Role.COMMITTEE, "chair-pass-1")
    committee = window_for_session(trial, trial.login("chair", "chair-pass-1"))
    qtbot.addWidget(committee)
    assert isinstance(committee, CommitteeWindow)


def test_chinese_translation_loading_is_wired(qapp: QApplication) -> None:
    """zh_CN installs whatever translation files exist; English needs none."""
    assert install_translators(qapp, "en_US") == []
    installed = install_translators(qapp, "zh_CN")
    try:
        qm = Path(__file__).resolve().parents[1] / "ioreview/ui/translations/ioreview_zh_CN.qm"
        if qm.exists():
            assert installed, "the shipped Chinese translation must load"
    finally:
        for translator in installed:
            qapp.removeTranslator(translator)
