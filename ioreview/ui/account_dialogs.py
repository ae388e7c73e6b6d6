"""Dialogs about one's own account: changing the password (from the Session menu, or forced
right after log-in), and the first run of a new trial, which creates its first administrator.

Each dialog calls the service itself when OK is pressed and stays open on a refusal, showing
the service's message under the fields, so nothing typed is lost.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QVBoxLayout,
    QWidget,
)

from ioreview.errors import IoreviewError

if TYPE_CHECKING:
    from ioreview.service import Session, Trial, UserInfo
    from ioreview.ui.lock_screen import SessionController

__all__ = ["ChangePasswordDialog", "FirstRunDialog", "add_change_password_action",
           "require_password_change"]

_ERROR_STYLE = "color: #ff8a80;"


def _password_edit(name: str) -> QLineEdit:
    edit = QLineEdit()
    edit.setObjectName(name)
    edit.setEchoMode(QLineEdit.EchoMode.Password)
    return edit


def _message_label(name: str) -> QLabel:
    label = QLabel()
    label.setObjectName(name)
    label.setWordWrap(True)
    label.setStyleSheet(_ERROR_STYLE)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.hide()
    return label


class _InlineDialog(QDialog):
    """A form whose OK runs `submit`; an `IoreviewError` is shown inline and the dialog stays
    open with everything typed still in place."""

    def _build(self, intro: str, rows: list[tuple[str, QWidget]], ok_text: str) -> None:
        self.setMinimumWidth(460)
        self.intro = QLabel(intro)
        self.intro.setWordWrap(True)
        self.message = _message_label("AccountDialogMessage")
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        for label, widget in rows:
            form.addRow(label, widget)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText(ok_text)
        self.ok_button.setDefault(True)
        self.buttons.accepted.connect(self.attempt)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)

    def show_message(self, text: str) -> None:
        """Show (or, with "", hide) the explanation under the fields."""
        self.message.setText(text)
        self.message.setVisible(bool(text))
        self.adjustSize()

    def check(self) -> str:
        """A problem found before asking the service ("" when none)."""
        return ""

    def submit(self) -> None:
        """Call the service (raises `IoreviewError` when it refuses)."""

    def attempt(self) -> None:
        """OK: check, call the service, accept; or explain and stay open."""
        problem = self.check()
        if problem:
            self.show_message(problem)
            return
        try:
            self.submit()
        except IoreviewError as exc:
            self.show_message(str(exc))
            return
        self.show_message("")
        self.accept()


class ChangePasswordDialog(_InlineDialog):
    """Change one's own password: the current one, the new one twice.  With `forced` the
    dialog explains that the password must be changed before anything else.  After `accept`,
    `session` is the session the service returned."""

    def __init__(self, trial: Trial, session: Session, parent: QWidget | None = None, *,
                 forced: bool = False) -> None:
        super().__init__(parent)
        self.trial = trial
        self.session = session
        self.setObjectName("ChangePasswordDialog")
        self.setWindowTitle(self.tr("Change password"))
        self.current = _password_edit("current_password")
        self.new = _password_edit("new_password")
        self.again = _password_edit("new_password_again")
        intro = (self.tr("Your password was set by an administrator or has expired. Choose a "
                         "new one before you continue.") if forced else
                 self.tr("Choose a new password for {user}.").format(user=session.username))
        rules = QLabel(self.tr(
            "At least 10 characters; not a common password and nothing made from your user "
            "name or name; not one of your last 5 passwords. A few unrelated words work "
            "well."))
        rules.setObjectName("PasswordRules")
        rules.setWordWrap(True)
        self._build(intro, [(self.tr("Current password"), self.current),
                            (self.tr("New password"), self.new),
                            (self.tr("Repeat new password"), self.again)],
                    self.tr("Change password"))
        self.layout().insertWidget(1, rules)
        self.current.setFocus(Qt.FocusReason.OtherFocusReason)

    def check(self) -> str:
        if not self.current.text() or not self.new.text():
            return self.tr("Enter your current password and the new one.")
        if self.new.text() != self.again.text():
            return self.tr("The two new passwords differ; type the new one again in both "
                           "fields.")
        return ""

    def submit(self) -> None:
        self.session = self.trial.change_password(self.session, self.current.text(),
                                                  self.new.text())


class FirstRunDialog(_InlineDialog):
    """A trial without accounts: create its first administrator (the same rules as
    `ioreview admin init`).  After `accept`, `user` is the account and `password` what was
    typed, so the application can log in with it at once."""

    def __init__(self, trial: Trial, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.trial = trial
        self.user: UserInfo | None = None
        self.setObjectName("FirstRunDialog")
        self.setWindowTitle(self.tr("ioreview — first run"))
        self.username = QLineEdit()
        self.username.setObjectName("first_username")
        self.username.setPlaceholderText(self.tr("e.g. admin"))
        self.display_name = QLineEdit()
        self.display_name.setObjectName("first_display_name")
        self.display_name.setPlaceholderText(self.tr("printed on signatures"))
        self.password = _password_edit("first_password")
        self.password_again = _password_edit("first_password_again")
        self._build(
            self.tr("This trial database has no user accounts yet. Create the first "
                    "administrator: that account then adds the coordinators, readers and "
                    "adjudicators (Users tab). The same can be done on the command line with "
                    "'ioreview admin init'."),
            [(self.tr("User name"), self.username),
             (self.tr("Display name"), self.display_name),
             (self.tr("Password"), self.password),
             (self.tr("Repeat password"), self.password_again)],
            self.tr("Create administrator"))
        self.username.setFocus(Qt.FocusReason.OtherFocusReason)

    def check(self) -> str:
        if not self.username.text().strip():
            return self.tr("Enter a user name.")
        if self.password.text() != self.password_again.text():
            return self.tr("The two passwords differ; type the password again in both fields.")
        return ""

    def submit(self) -> None:
        self.user = self.trial.create_first_admin(self.username.text().strip(),
                                                  self.display_name.text().strip(),
                                                  self.password.text())


def require_password_change(trial: Trial, session: Session,
                            parent: QWidget | None = None) -> Session | None:
    """Right after log-in: when the session must change its password, ask for the change
    (the session reaches nothing else).  The session to go on with, or None when the user
    cancelled (the caller logs out)."""
    if not session.must_change_password:
        return session
    dialog = ChangePasswordDialog(trial, session, parent, forced=True)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    return dialog.session


def add_change_password_action(menu: QMenu, controller: SessionController,
                               parent: QWidget, *, before: QAction | None = None) -> QAction:
    """Add "Change password…" to a window's Session menu (above `before`, e.g. Log out); the
    new session (same token) is handed back to `controller`."""
    action = QAction(QCoreApplication.translate("AccountDialogs", "Change password…"), parent)
    action.setObjectName("ChangePasswordAction")

    def change() -> None:
        if controller.locked:
            return
        dialog = ChangePasswordDialog(controller.trial, controller.session, parent)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            controller.session = dialog.session

    action.triggered.connect(change)
    if before is None:
        menu.addAction(action)
    else:
        menu.insertAction(before, action)
    return action

