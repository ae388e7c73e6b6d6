"""First run, password changes (forced and from the Session menu), the Add-user dialog keeping
its input, unlocking an account and the lock screen, acted out as a user over a real trial."""
from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QPushButton

from ioreview.service import Role, Trial
from ioreview.ui.account_dialogs import ChangePasswordDialog, FirstRunDialog
from ioreview.ui.app import window_for_session
from ioreview.ui.coordinator import CoordinatorWindow, UserDialog
from ioreview.ui.login import LoginDialog
from ui_support import SCREENSHOTS, PASSWORDS, FakeClock, build_database, open_trial

SHOTS = SCREENSHOTS  # screenshots/ (gitignored), as tests/ui_support.py saves them


def _shot(widget, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    widget.grab().save(str(SHOTS / f"{name}.png"))


@pytest.fixture
def trial(tmp_path: Path):
    db = tmp_path / "login.sqlite"
    build_database(db, None)
    t = open_trial(db, FakeClock())
    yield t
    t.close()


@pytest.fixture
def empty_trial(tmp_path: Path):
    t = Trial.open(tmp_path / "new.sqlite", clock=FakeClock())
    yield t
    t.close()


def _type(qtbot, edit, text: str) -> None:
    edit.clear()
    qtbot.keyClicks(edit, text)


def _fully_shown(label: QLabel) -> bool:
    """The label is visible and tall enough for its wrapped text."""
    return label.isVisible() and label.height() >= label.heightForWidth(label.width())


def test_first_run_creates_the_admin_and_keeps_input_on_refusal(qtbot, empty_trial) -> None:
    assert not empty_trial.has_accounts()
    dialog = FirstRunDialog(empty_trial)
    qtbot.addWidget(dialog)
    dialog.show()
    _type(qtbot, dialog.username, "admin")
    _type(qtbot, dialog.display_name, "Site Administrator")
    _type(qtbot, dialog.password, "password123")
    _type(qtbot, dialog.password_again, "password123")
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert dialog.isVisible() and dialog.user is None
    assert "common" in dialog.message.text() and _fully_shown(dialog.message)
    assert dialog.username.text() == "admin" and dialog.password.text() == "password123"
    _shot(dialog, "first_run_refused")
    _type(qtbot, dialog.password, "ridge lantern morning")
    _type(qtbot, dialog.password_again, "ridge lantern mornin")
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert "differ" in dialog.message.text() and dialog.user is None
    _type(qtbot, dialog.password_again, "ridge lantern morning")
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert dialog.result() == FirstRunDialog.DialogCode.Accepted
    assert dialog.user is not None and dialog.user.role is Role.ADMIN
    assert empty_trial.login("admin", "ridge lantern morning").role is Role.ADMIN


def test_first_run_dialog_screenshot(qtbot, empty_trial) -> None:
    dialog = FirstRunDialog(empty_trial)
    qtbot.addWidget(dialog)
    dialog.show()
    _type(qtbot, dialog.username, "admin")
    _shot(dialog, "first_run")
    assert "no user accounts" in dialog.intro.text()


def test_wrong_password_message_is_shown_whole(qtbot, trial) -> None:
    dialog = LoginDialog(trial)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.username_edit.text() == ""  # a new login box starts empty
    for _ in range(3):
        _type(qtbot, dialog.username_edit, "reader1")
        _type(qtbot, dialog.password_edit, "not-the-password")
        qtbot.mouseClick(dialog.login_button, Qt.MouseButton.LeftButton)
    text = dialog.message_label.text()
    assert "wrong password" in text.lower() and "Wait" in text
    qtbot.waitUntil(lambda: _fully_shown(dialog.message_label))
    _shot(dialog, "login_wrong_password")


def test_forced_change_after_login(qtbot, trial) -> None:
    coord = trial.login("coord", PASSWORDS["coord"])
    trial.create_user(coord, "reader9", "Reader Nine", Role.READER, "tulip meadow gate",
                      must_change_password=True)
    login = LoginDialog(trial)
    qtbot.addWidget(login)
    _type(qtbot, login.username_edit, "reader9")
    _type(qtbot, login.password_edit, "tulip meadow gate")
    qtbot.mouseClick(login.login_button, Qt.MouseButton.LeftButton)
    session = login.session
    assert session is not None and session.must_change_password
    dialog = ChangePasswordDialog(trial, session, forced=True)
    qtbot.addWidget(dialog)
    dialog.show()
    assert "administrator" in dialog.intro.text()
    _type(qtbot, dialog.current, "tulip meadow gate")
    _type(qtbot, dialog.new, "reader9reader9")
    _type(qtbot, dialog.again, "reader9reader9")
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert dialog.isVisible() and "user name" in dialog.message.text()
    assert dialog.new.text() == "reader9reader9"  # what was typed is kept
    qtbot.waitUntil(lambda: _fully_shown(dialog.message))
    _shot(dialog, "forced_change_refused")
    _type(qtbot, dialog.new, "harbour light sixty")
    _type(qtbot, dialog.again, "harbour light sixty")
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert dialog.result() == ChangePasswordDialog.DialogCode.Accepted
    assert not dialog.session.must_change_password
    assert trial.worklist(dialog.session) == []


def test_every_role_window_offers_change_password(qtbot, trial) -> None:
    trial.create_user(trial.login("coord", PASSWORDS["coord"]), "chair", "Chair",
                      Role.COMMITTEE, "chair-pass-1")
    for name, password in (("reader1", PASSWORDS["reader1"]), ("coord", PASSWORDS["coord"]),
                           ("adjud", PASSWORDS["adjud"]), ("chair", "chair-pass-1")):
        window = window_for_session(trial, trial.login(name, password))
        qtbot.addWidget(window)
        texts = [a.text() for m in window.menuBar().actions() if m.menu()
                 for a in m.menu().actions()]
        assert "Change password…" in texts, name
        assert texts.index("Change password…") < texts.index("Log out"), name


def test_change_password_from_the_session_menu(qtbot, trial) -> None:
    window = window_for_session(trial, trial.login("reader1", PASSWORDS["reader1"]))
    qtbot.addWidget(window)
    window.show()
    action = next(a for m in window.menuBar().actions() if m.menu()
                  for a in m.menu().actions() if a.objectName() == "ChangePasswordAction")
    dialog = ChangePasswordDialog(trial, window.controller.session, window)
    qtbot.addWidget(dialog)
    dialog.show()
    _type(qtbot, dialog.current, PASSWORDS["reader1"])
    _type(qtbot, dialog.new, "copper river stone")
    _type(qtbot, dialog.again, "copper river stone")
    _shot(dialog, "change_password")
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert dialog.result() == ChangePasswordDialog.DialogCode.Accepted
    assert trial.login("reader1", "copper river stone").username == "reader1"
    assert action.isEnabled()


def test_add_user_keeps_its_input_and_explains_inline(qtbot, trial) -> None:
    window = CoordinatorWindow(trial, trial.login("coord", PASSWORDS["coord"]))
    qtbot.addWidget(window)
    tab = window.users_tab
    created = []

    def create(dialog: UserDialog) -> object:
        result = trial.create_user(window.controller.session, dialog.username.text(),
                                   dialog.display_name.text(), dialog.chosen_role(),
                                   dialog.password.text(), must_change_password=True)
        created.append(result)
        return result

    dialog = UserDialog(tab, create)
    qtbot.addWidget(dialog)
    dialog.show()
    _type(qtbot, dialog.username, "reader7")
    _type(qtbot, dialog.display_name, "Reader Seven")
    _type(qtbot, dialog.password, "short")
    _type(qtbot, dialog.password_again, "short")
    buttons = dialog.findChildren(QPushButton)
    ok = next(b for b in buttons if b.text() in ("OK", "&OK"))
    qtbot.mouseClick(ok, Qt.MouseButton.LeftButton)
    assert dialog.isVisible() and "at least 10" in dialog.message.text()
    assert (dialog.username.text(), dialog.display_name.text()) == ("reader7", "Reader Seven")
    _shot(dialog, "add_user_refused")
    _type(qtbot, dialog.password, "violet window sill")
    _type(qtbot, dialog.password_again, "violet window sill")
    qtbot.mouseClick(ok, Qt.MouseButton.LeftButton)
    assert dialog.result() == UserDialog.DialogCode.Accepted
    assert created and created[0].must_change_password


def test_unlock_account_from_the_users_tab(qtbot, trial) -> None:
    clock = trial.ctx.clock
    for _ in range(10):
        try:
            trial.login("reader2", "wrong-password", "kiosk/x")
        except Exception:  # noqa: BLE001 - failures, delays and the lock are all expected
            pass
        clock.advance(15 * 60 - 1)
    assert any(u.locked_until for u in trial.list_users(trial.login("coord", PASSWORDS["coord"]))
               if u.username == "reader2")
    window = CoordinatorWindow(trial, trial.login("coord", PASSWORDS["coord"]))
    qtbot.addWidget(window)
    window.show()
    tab = window.users_tab
    tab.refresh()
    row = next(i for i in range(tab.model.rowCount()) if tab.model.record(i).username == "reader2")
    tab.view.selectRow(row)
    qtbot.mouseClick(tab.unlock_button, Qt.MouseButton.LeftButton)
    _shot(window, "users_tab_unlocked")
    assert trial.login("reader2", PASSWORDS["reader2"]).username == "reader2"


def test_lock_screen_mentions_a_draft_only_to_readers(qtbot, trial) -> None:
    coordination = CoordinatorWindow(trial, trial.login("coord", PASSWORDS["coord"]))
    qtbot.addWidget(coordination)
    coordination.show()
    coordination.controller.lock("Locked by the user.")
    overlay = coordination.controller._overlay
    assert overlay is not None and not overlay.saved_label.isVisible()
    _shot(coordination, "lock_screen_coordinator")
    reading = window_for_session(trial, trial.login("reader1", PASSWORDS["reader1"]))
    qtbot.addWidget(reading)
    reading.show()
    reading.controller.lock("Locked by the user.")
    assert reading.controller._overlay.saved_label.isVisible()
