"""The login dialog shown at start (and after logging out, with an empty user name)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from ioreview.auth import workstation_source
from ioreview.errors import AccountLocked, AuthenticationFailed, IoreviewError

if TYPE_CHECKING:
    from ioreview.service import Session, Trial

__all__ = ["LoginDialog", "log_in"]


class LoginDialog(QDialog):
    """Asks for user name and password and opens a service session.

    A wrong password, a wait after repeated failures or a locked account is explained
    inline (the text wraps, the dialog grows to show all of it); the user name stays filled in
    and only the password field is cleared.  The service throttles attempts per account and
    per workstation (`source`: host name and OS user).  After `accept`, `session` holds the
    session (which may have to change its password first: `require_password_change`).
    """

    def __init__(self, trial: Trial, parent: QWidget | None = None, *, username: str = "") -> None:
        super().__init__(parent)
        self.trial = trial
        self.session: Session | None = None
        self.source = workstation_source()
        self.setWindowTitle(self.tr("ioreview — log in"))
        self.setObjectName("LoginDialog")
        self.setMinimumWidth(420)

        heading = QLabel(self.tr("Blinded imaging review"))
        heading.setObjectName("LoginHeading")
        font = heading.font()
        font.setPointSizeF(font.pointSizeF() * 1.4)
        font.setBold(True)
        heading.setFont(font)

        self.username_edit = QLineEdit(username)
        self.username_edit.setObjectName("username")
        self.username_edit.setPlaceholderText(self.tr("user name"))
        self.password_edit = QLineEdit()
        self.password_edit.setObjectName("password")
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.password_edit.setPlaceholderText(self.tr("password"))

        form = QFormLayout()
        form.addRow(self.tr("User name"), self.username_edit)
        form.addRow(self.tr("Password"), self.password_edit)

        self.message_label = QLabel()
        self.message_label.setObjectName("LoginMessage")
        self.message_label.setWordWrap(True)
        self.message_label.setMinimumWidth(360)
        self.message_label.setStyleSheet("color: #ff8a80;")
        self.message_label.hide()

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.login_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.login_button.setText(self.tr("Log in"))
        self.login_button.setDefault(True)
        self.buttons.accepted.connect(self.attempt_login)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addLayout(form)
        layout.addWidget(self.message_label)
        layout.addWidget(self.buttons)

        (self.password_edit if username else self.username_edit).setFocus(
            Qt.FocusReason.OtherFocusReason)

    def show_message(self, text: str) -> None:
        """Show an inline explanation under the fields."""
        self.message_label.setText(text)
        self.message_label.setVisible(bool(text))
        self.adjustSize()

    def attempt_login(self) -> None:
        """Try the credentials; accept on success, explain and stay open otherwise."""
        username = self.username_edit.text().strip()
        password = self.password_edit.text()
        if not username or not password:
            self.show_message(self.tr("Enter your user name and password."))
            return
        try:
            self.session = self.trial.login(username, password, self.source)
        except (AuthenticationFailed, AccountLocked) as exc:
            self.password_edit.clear()
            self.password_edit.setFocus()
            self.show_message(str(exc))
            return
        except IoreviewError as exc:
            self.password_edit.clear()
            self.show_message(str(exc))
            return
        self.show_message("")
        self.accept()


def log_in(trial: Trial, parent: QWidget | None = None) -> Session | None:
    """The way into the application: on a trial without accounts the first-run dialog creates
    the administrator (who is then logged in); otherwise the login dialog, with an empty user
    name.  A session that must change its password gets the change dialog first.  None when
    the user gives up (the application quits)."""
    from ioreview.ui.account_dialogs import FirstRunDialog, require_password_change

    while True:
        session: Session | None = None
        if not trial.has_accounts():
            first = FirstRunDialog(trial, parent)
            if first.exec() != QDialog.DialogCode.Accepted or first.user is None:
                return None
            try:
                session = trial.login(first.user.username, first.password.text(),
                                      workstation_source())
            except IoreviewError:
                session = None  # the login dialog explains what is wrong
        if session is None:
            dialog = LoginDialog(trial, parent)
            if dialog.exec() != QDialog.DialogCode.Accepted or dialog.session is None:
                return None
            session = dialog.session
        changed = require_password_change(trial, session, parent)
        if changed is not None:
            return changed
        try:
            trial.logout(session)
        except IoreviewError:
            pass
