"""The session a window works in, the idle lock screen and the error boundary of actions.

A `SessionController` holds the service object and the logged-in session for one window.
Every slot that calls the service catches `IoreviewError` and passes it to `report`, which
shows the message — or, for `SessionExpired`, locks the window. Locking first emits
`about_to_lock` so an open read form saves its draft (and keeps it in memory if the service
already refuses the session); after the password is re-entered, `unlocked` lets the form
save whatever is still pending, so nothing typed is lost.

The window also locks itself after `idle_seconds` without keyboard or mouse input, a little
before the service's own idle timeout, so the draft is saved while the session still works.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QElapsedTimer, QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ioreview.errors import AccountLocked, IoreviewError, SessionExpired
from ioreview.service import Role

if TYPE_CHECKING:
    from ioreview.service import Session, Trial

__all__ = ["LockOverlay", "SessionController"]

_INPUT_EVENTS = frozenset({
    QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress, QEvent.Type.MouseMove,
    QEvent.Type.Wheel, QEvent.Type.TouchBegin,
})


class SessionController(QObject):
    """The trial, the session, idle detection and locking for one top-level window."""

    about_to_lock = Signal()
    locked_changed = Signal(bool)
    unlocked = Signal()
    logout_requested = Signal()

    def __init__(self, trial: Trial, session: Session, *, idle_seconds: float | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.trial = trial
        self.session = session
        if idle_seconds is None:
            idle_seconds = max(30.0, trial.idle_timeout_s - 30.0)
        self.idle_seconds = float(idle_seconds)
        self._locked = False
        self._locking = False
        self._overlay: LockOverlay | None = None
        self._window: QWidget | None = None
        self._last_input = QElapsedTimer()
        self._last_input.start()
        self._idle_timer = QTimer(self)
        self._idle_timer.setInterval(1000)
        self._idle_timer.timeout.connect(self._check_idle)
        self._idle_timer.start()
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)

    # -- who is logged in --------------------------------------------------------------------
    @property
    def user_label(self) -> str:
        """The signed-in user's display name (or user name)."""
        return self.session.display_name or self.session.username

    @property
    def locked(self) -> bool:
        """True while the lock screen is shown."""
        return self._locked

    # -- idle detection --------------------------------------------------------------------
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt API
        """Note keyboard and mouse input anywhere in the application as activity."""
        if event.type() in _INPUT_EVENTS and not self._locked:
            self._last_input.restart()
        return False

    def seconds_idle(self) -> float:
        """Seconds since the last keyboard or mouse input."""
        return self._last_input.elapsed() / 1000.0

    def note_activity(self) -> None:
        """Count now as user activity (programmatic actions, tests)."""
        self._last_input.restart()

    def _check_idle(self) -> None:
        if not self._locked and self._window is not None and self.seconds_idle() >= self.idle_seconds:
            self.lock(self.tr("Locked after {minutes:g} minutes without activity.").format(
                minutes=round(self.idle_seconds / 60.0, 1)))

    # -- lock and unlock -------------------------------------------------------------------
    def attach(self, window: QWidget) -> None:
        """Cover ``window`` with the lock overlay when locking."""
        self._window = window
        self._overlay = LockOverlay(self, window)
        self._overlay.hide()

    def detach(self) -> None:
        """Stop watching for idle time (the window is closing)."""
        self._idle_timer.stop()
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)
        self._window = None

    def lock(self, reason: str | None = None) -> None:
        """Save what can be saved, then cover the window and ask for the password."""
        if self._locked or self._locking:
            return
        self._locking = True
        try:
            self.about_to_lock.emit()
        finally:
            self._locking = False
        self._locked = True
        self._set_content_enabled(False)
        if self._overlay is not None:
            self._overlay.show_locked(reason or self.tr("Your session has timed out."))
        self.locked_changed.emit(True)

    def unlock(self, password: str) -> None:
        """Re-authenticate through the service; raises `IoreviewError` when refused."""
        self.session = self.trial.unlock(self.session, password)
        self._locked = False
        self._last_input.restart()
        self._set_content_enabled(True)
        if self._overlay is not None:
            self._overlay.hide()
        self.locked_changed.emit(False)
        self.unlocked.emit()

    def _set_content_enabled(self, enabled: bool) -> None:
        window = self._window
        if window is None:
            return
        if isinstance(window, QMainWindow):
            for part in (window.centralWidget(), window.menuBar(), window.statusBar()):
                if part is not None:
                    part.setEnabled(enabled)
        else:
            for child in window.findChildren(QWidget, options=Qt.FindChildOption.FindDirectChildrenOnly):
                if child is not self._overlay:
                    child.setEnabled(enabled)

    # -- the action boundary -------------------------------------------------------------
    def report(self, exc: BaseException, parent: QWidget | None = None,
               title: str | None = None) -> None:
        """Show a service error: lock on an expired session, otherwise a message box."""
        if isinstance(exc, SessionExpired):
            self.lock(str(exc))
            return
        text = str(exc) if isinstance(exc, IoreviewError) else self.tr(
            "Unexpected error: {error}").format(error=f"{type(exc).__name__}: {exc}")
        QMessageBox.warning(parent or self._window, title or self.tr("ioreview"), text)


class LockOverlay(QWidget):
    """A panel covering the whole window while the session is locked."""

    def __init__(self, controller: SessionController, window: QWidget) -> None:
        super().__init__(window)
        self.controller = controller
        self.setObjectName("LockOverlay")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        window.installEventFilter(self)

        panel = QFrame(self)
        panel.setObjectName("LockPanel")
        panel.setFrameShape(QFrame.Shape.StyledPanel)
        panel.setStyleSheet(
            "#LockPanel { background: #1e2126; border: 1px solid #3a3f47; border-radius: 6px; }"
            "#LockPanel QLabel { background: transparent; }")
        panel.setMinimumWidth(380)

        title = QLabel(self.tr("Session locked"))
        font = title.font()
        font.setPointSizeF(font.pointSizeF() * 1.4)
        font.setBold(True)
        title.setFont(font)
        self.reason_label = QLabel()
        self.reason_label.setWordWrap(True)
        self.user_label = QLabel()
        self.saved_label = QLabel(self.tr(
            "Your draft has been kept; it is saved again as soon as you unlock."))
        self.saved_label.setWordWrap(True)
        self.password_edit = QLineEdit()
        self.password_edit.setObjectName("unlock_password")
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.password_edit.setPlaceholderText(self.tr("password"))
        self.password_edit.returnPressed.connect(self.attempt_unlock)
        self.message_label = QLabel()
        self.message_label.setObjectName("LockMessage")
        self.message_label.setWordWrap(True)
        self.message_label.setStyleSheet("color: #ff8a80;")
        self.message_label.hide()
        self.unlock_button = QPushButton(self.tr("Unlock"))
        self.unlock_button.setDefault(True)
        self.unlock_button.clicked.connect(self.attempt_unlock)
        self.logout_button = QPushButton(self.tr("Log out"))
        self.logout_button.clicked.connect(controller.logout_requested.emit)

        buttons = QHBoxLayout()
        buttons.addWidget(self.logout_button)
        buttons.addStretch(1)
        buttons.addWidget(self.unlock_button)
        inner = QVBoxLayout(panel)
        inner.setContentsMargins(24, 20, 24, 20)
        inner.addWidget(title)
        inner.addWidget(self.reason_label)
        inner.addWidget(self.user_label)
        inner.addWidget(self.saved_label)
        inner.addWidget(self.password_edit)
        inner.addWidget(self.message_label)
        inner.addLayout(buttons)

        outer = QVBoxLayout(self)
        outer.addStretch(1)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(panel)
        row.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(1)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt API
        """Keep covering the window when it is resized."""
        if event.type() == QEvent.Type.Resize and watched is self.parentWidget():
            self.setGeometry(self.parentWidget().rect())
        return False

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt API
        """Dim (and hide) what is underneath."""
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(10, 12, 15, 240))
        painter.end()

    def show_locked(self, reason: str) -> None:
        """Show the overlay with why the session was locked."""
        self.reason_label.setText(reason)
        self.user_label.setText(self.tr("Signed in as {user}").format(
            user=self.controller.user_label))
        # only a reader's window keeps a draft (the read form saves it on locking)
        self.saved_label.setVisible(self.controller.session.role is Role.READER)
        self.message_label.hide()
        self.password_edit.clear()
        self.password_edit.setEnabled(True)
        self.unlock_button.setEnabled(True)
        parent = self.parentWidget()
        if parent is not None:
            self.setGeometry(parent.rect())
        self.show()
        self.raise_()
        self.password_edit.setFocus()

    def attempt_unlock(self) -> None:
        """Unlock with the typed password, or explain why not."""
        password = self.password_edit.text()
        if not password:
            self.message_label.setText(self.tr("Enter your password to unlock."))
            self.message_label.show()
            return
        try:
            self.controller.unlock(password)
        except AccountLocked as exc:
            self.password_edit.clear()
            self.password_edit.setEnabled(False)
            self.unlock_button.setEnabled(False)
            self.message_label.setText(str(exc))
            self.message_label.show()
        except IoreviewError as exc:
            self.password_edit.clear()
            self.message_label.setText(str(exc))
            self.message_label.show()
