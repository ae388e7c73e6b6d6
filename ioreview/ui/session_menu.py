"""The Session menu every role's window has: Refresh (F5), Lock screen (Ctrl+L), Change
password… and Log out, built in one place so the four windows say and do the same."""
from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMainWindow, QMenu

from ioreview.ui.account_dialogs import add_change_password_action
from ioreview.ui.lock_screen import SessionController

__all__ = ["SessionMenu", "add_session_menu"]


class SessionMenu(QMenu):
    """Session: Refresh, Lock screen, Change password…, Log out (its actions as attributes)."""

    def __init__(self, window: QMainWindow, controller: SessionController, *,
                 refresh: Callable[[], None], log_out: Callable[[], None]) -> None:
        super().__init__(QCoreApplication.translate("SessionMenu", "&Session"), window)
        self.setObjectName("SessionMenu")
        self.refresh_action = QAction(
            QCoreApplication.translate("SessionMenu", "Refresh"), window)
        self.refresh_action.setObjectName("RefreshAction")
        self.refresh_action.setShortcut("F5")
        self.refresh_action.setToolTip(QCoreApplication.translate(
            "SessionMenu", "Load what is new from the trial database"))
        self.refresh_action.triggered.connect(lambda _checked=False: refresh())
        self.lock_action = QAction(
            QCoreApplication.translate("SessionMenu", "Lock screen"), window)
        self.lock_action.setObjectName("LockAction")
        self.lock_action.setShortcut("Ctrl+L")
        self.lock_action.triggered.connect(
            lambda _checked=False: controller.lock(
                QCoreApplication.translate("SessionMenu", "Locked by the user.")))
        self.logout_action = QAction(
            QCoreApplication.translate("SessionMenu", "Log out"), window)
        self.logout_action.setObjectName("LogOutAction")
        self.logout_action.triggered.connect(lambda _checked=False: log_out())
        for action in (self.refresh_action, self.lock_action, self.logout_action):
            self.addAction(action)
        self.change_password_action = add_change_password_action(
            self, controller, window, before=self.logout_action)
        self.insertSeparator(self.logout_action)


def add_session_menu(window: QMainWindow, controller: SessionController, *,
                     refresh: Callable[[], None], log_out: Callable[[], None]) -> SessionMenu:
    """Put the Session menu first on ``window``'s menu bar; ``refresh`` reloads what the
    window shows, ``log_out`` ends the session and closes the window."""
    menu = SessionMenu(window, controller, refresh=refresh, log_out=log_out)
    window.menuBar().addMenu(menu)
    return menu
