"""A side pane (worklist, adjudication queue, committee attendance) that a narrow window folds
away for the images when the first case opens: the reading, adjudicator's and committee's
windows share this one rule.

Once folded, F6 (the pane's action) brings it back and it stays, because the user chose; a
pane folded automatically comes back by itself when the window is widened again."""
from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMainWindow, QSplitter, QWidget

__all__ = ["FOLD_BELOW", "PaneFold", "SplitterFit", "pane_action"]

#: below this window width, opening a case folds the side pane away: the side pane, the images
#: and the form or decisions do not fit side by side
FOLD_BELOW = 1500


class PaneFold:
    """The fold state of the pane that `action` shows and hides in `window`; `message` gives
    the status-bar text (translated in the window's own context) shown when it folds."""

    def __init__(self, window: QMainWindow, action: QAction, message: Callable[[], str]) -> None:
        self.window = window
        self.action = action
        self._message_text = message
        #: folded once already (or the user chose): opening further cases leaves it alone
        self.folded_once = False
        #: folded by this rule, not by the user: it comes back when the window widens
        self.auto_folded = False
        self._message = ""
        action.triggered.connect(self.toggled_by_user)

    def toggled_by_user(self) -> None:
        self.folded_once = True
        self.auto_folded = False

    def fold_for_images(self) -> None:
        """On a narrow window, the first case opened folds the pane away."""
        if self.folded_once or self.window.width() >= FOLD_BELOW:
            return
        self.folded_once = True
        if self.action.isChecked():
            self.auto_folded = True
            self.action.setChecked(False)
            self._message = self._message_text()
            self.window.statusBar().showMessage(self._message, 8000)

    def window_resized(self, case_open: bool) -> None:
        """Bring an automatically folded pane back on a wide window; fold it on a narrow one
        with a case open."""
        if self.auto_folded and self.window.width() >= FOLD_BELOW:
            self.auto_folded = False
            self.folded_once = False
            self.action.setChecked(True)
            if self.window.statusBar().currentMessage() == self._message:
                self.window.statusBar().clearMessage()  # no longer true
        elif case_open:
            self.fold_for_images()


def pane_action(parent: QObject, text: str, shortcut: str, tip: str, name: str = "") -> QAction:
    """The checked, checkable action that shows and hides a side pane (toolbar, View menu)."""
    action = QAction(text, parent)
    if name:
        action.setObjectName(name)
    action.setCheckable(True)
    action.setChecked(True)
    action.setShortcut(shortcut)
    action.setToolTip(tip)
    return action


class SplitterFit:
    """A window's panes sized by `sizes(width)` whenever it asks (`fit`), until the user drags
    the splitter (`set_by_user`; also true for sizes restored from an earlier session)."""

    def __init__(self, window: QWidget, splitter: QSplitter, sizes: Callable[[int], list[int]],
                 moved: Callable[[], None] | None = None) -> None:
        self.window = window
        self.splitter = splitter
        self.sizes = sizes
        self.set_by_user = False
        self._moved = moved
        splitter.splitterMoved.connect(lambda _pos, _index: self.dragged())

    def fit(self) -> None:
        if not self.set_by_user:
            self.splitter.setSizes(self.sizes(self.splitter.width() or self.window.width()))

    def dragged(self) -> None:
        self.set_by_user = True
        if self._moved is not None:
            self._moved()
