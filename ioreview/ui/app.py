"""Application start: theme, translations, login, then the screen for the user's role."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QMainWindow, QMessageBox, QStyleFactory

from ioreview.errors import IoreviewError
from ioreview.ui.translation import TRANSLATIONS_DIR, install_translators, ui_locale
from ioreview.service import Role, Trial

if TYPE_CHECKING:
    from ioreview.service import Session

__all__ = ["run_app", "apply_theme", "install_translators", "ui_locale", "window_for_session"]

def _fallback_palette() -> QPalette:
    """A dark reading-room palette (used when the viewer's theme module is not available)."""
    p = QPalette()
    window, base, text = QColor(30, 33, 38), QColor(22, 24, 28), QColor(220, 223, 228)
    p.setColor(QPalette.ColorRole.Window, window)
    p.setColor(QPalette.ColorRole.WindowText, text)
    p.setColor(QPalette.ColorRole.Base, base)
    p.setColor(QPalette.ColorRole.AlternateBase, QColor(36, 39, 45))
    p.setColor(QPalette.ColorRole.ToolTipBase, window)
    p.setColor(QPalette.ColorRole.ToolTipText, text)
    p.setColor(QPalette.ColorRole.PlaceholderText, QColor(130, 135, 142))
    p.setColor(QPalette.ColorRole.Text, text)
    p.setColor(QPalette.ColorRole.Button, QColor(44, 48, 55))
    p.setColor(QPalette.ColorRole.ButtonText, text)
    p.setColor(QPalette.ColorRole.BrightText, QColor(255, 120, 120))
    p.setColor(QPalette.ColorRole.Link, QColor(110, 170, 255))
    p.setColor(QPalette.ColorRole.Highlight, QColor(52, 101, 164))
    p.setColor(QPalette.ColorRole.HighlightedText, QColor(255, 255, 255))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText,
                 QPalette.ColorRole.WindowText):
        p.setColor(QPalette.ColorGroup.Disabled, role, QColor(120, 124, 130))
    return p


def apply_theme(app: QApplication) -> None:
    """Apply the dark reading-room theme of the viewer (`ioreview.ui.viewer.theme`); without
    it, Fusion with a dark palette so every widget is still dark."""
    try:
        from ioreview.ui.viewer.theme import apply_dark_theme
    except ImportError:
        fusion = QStyleFactory.create("Fusion")
        if fusion is not None:
            app.setStyle(fusion)
        app.setPalette(_fallback_palette())
        return
    apply_dark_theme(app)




def window_for_session(trial: Trial, session: Session, *, idle_seconds: float | None = None
                       ) -> QMainWindow | None:
    """The main window for the session's role (None when the role has no screen here)."""
    if session.role is Role.READER:
        from ioreview.ui.reading import ReadingWindow
        return ReadingWindow(trial, session, idle_seconds=idle_seconds,
                             database=trial.store.location)
    if session.role in (Role.COORDINATOR, Role.ADMIN):
        from ioreview.ui.coordinator import CoordinatorWindow
        return CoordinatorWindow(trial, session, idle_seconds=idle_seconds)
    if session.role is Role.ADJUDICATOR:
        from ioreview.ui.adjudication import adjudicator_window
        return adjudicator_window(trial, session, idle_seconds=idle_seconds)
    if session.role is Role.COMMITTEE:
        from ioreview.ui.committee import committee_window
        return committee_window(trial, session)
    return None


def run_app(db_path: str, *, lang: str | None = None,
            archive_root: str | Path | None = None) -> int:
    """Start the desktop application on the trial database ``db_path`` (a SQLite file or a
    PostgreSQL URL; ``archive_root`` is the case-file archive, see `Trial.open`).

    Shows the login dialog, then the reader's reading window or the coordinator's window;
    logging out returns to the login dialog. Returns the process exit code.
    """
    from ioreview.ui.login import log_in

    app = QApplication.instance() or QApplication(sys.argv[:1])
    QCoreApplication.setApplicationName("ioreview")
    QCoreApplication.setOrganizationName("ioreview")
    apply_theme(app)  # type: ignore[arg-type]
    translators = install_translators(app, lang)
    try:
        trial = Trial.open(db_path, archive_root=archive_root)
    except (IoreviewError, OSError) as exc:
        QMessageBox.critical(None, QCoreApplication.translate("run_app", "ioreview"),
                             QCoreApplication.translate(
                                 "run_app", "Cannot open the trial database {path}:\n{error}"
                             ).format(path=db_path, error=str(exc)))
        return 1
    code = 0
    try:
        while True:
            # first run (no accounts), log in (user name empty after a log-out), forced change
            session = log_in(trial)
            if session is None:
                break
            window = window_for_session(trial, session)
            if window is None:
                QMessageBox.information(
                    None, QCoreApplication.translate("run_app", "ioreview"),
                    QCoreApplication.translate(
                        "run_app", "There is no screen for the role '{role}' in this version."
                    ).format(role=session.role.value))
                _logout_quietly(trial, session)
                continue
            window.show()
            code = app.exec()
            if not window.logout_requested:
                break
    finally:
        del translators
        trial.close()
    return code


def _logout_quietly(trial: Trial, session: Session) -> None:
    """End the session, ignoring an already expired one."""
    try:
        trial.logout(session)
    except IoreviewError:
        pass
