"""The Help menu: a shortcut sheet generated from the viewer's keymap, a short reader's guide
and an About box.

The sheet is built from `ioreview.ui.viewer.keymap` (what the keys do now, remapped keys
included) and from the window's own actions that carry a shortcut, so it cannot drift from the
program.  The About box shows what the window hands it (version, database location, active
protocol); nothing here calls the service.
"""
from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QMenu,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from ioreview.ui.viewer.keymap import ACTION_GROUPS, Keymap, action_title, button_title, drag_title, group_title

__all__ = ["AboutDialog", "AboutInfo", "HelpMenu", "ReadersGuideDialog", "ShortcutRow",
           "ShortcutSheetDialog", "shortcut_rows"]


@dataclass(frozen=True)
class ShortcutRow:
    """One line of the shortcut sheet."""

    group: str
    action: str
    keys: str


@dataclass(frozen=True)
class AboutInfo:
    """What the About box shows; the window fills it from what it already holds."""

    version: str
    database: str = ""
    protocol_id: str = ""
    protocol_version: str = ""


def shortcut_rows(keymap: Keymap, window_actions: Sequence[QAction] = ()) -> list[ShortcutRow]:
    """Every binding of `keymap` (keys, then mouse) and every `window_actions` shortcut."""
    rows: list[ShortcutRow] = []
    for group, actions in ACTION_GROUPS:
        title = group_title(group)
        for action in actions:
            rows.append(ShortcutRow(title, action_title(action), keymap.key_text(action)))
    mouse = group_title("mouse")
    for button, drag in keymap.drags().items():
        rows.append(ShortcutRow(mouse, drag_title(drag), button_title(button)))
    rows.append(ShortcutRow(mouse, QCoreApplication.translate("Help", "Next / previous image"),
                            QCoreApplication.translate("Help", "Wheel")))
    rows.append(ShortcutRow(mouse, QCoreApplication.translate("Help", "Zoom about the cursor"),
                            QCoreApplication.translate("Help", "Ctrl+Wheel")))
    rows.append(ShortcutRow(mouse, QCoreApplication.translate("Help", "Maximise a viewport, or restore the layout"),
                            QCoreApplication.translate("Help", "Double-click")))
    window = group_title("window_actions")
    for act in window_actions:
        keys = ", ".join(k.toString(QKeySequence.SequenceFormat.NativeText) for k in act.shortcuts())
        if keys:
            rows.append(ShortcutRow(window, act.text().replace("&", "").rstrip("…."), keys))
    return rows


class ShortcutSheetDialog(QDialog):
    """The shortcut sheet: a table of group, action and keys, generated when opened."""

    def __init__(self, keymap: Keymap, window_actions: Sequence[QAction] = (),
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ShortcutSheet")
        self.setWindowTitle(self.tr("Keyboard and mouse shortcuts"))
        self.rows = shortcut_rows(keymap, window_actions)
        self.table = QTableWidget(0, 2, self)
        self.table.setHorizontalHeaderLabels([self.tr("Action"), self.tr("Keys")])
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 6)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setShowGrid(False)
        group = None
        for row in self.rows:
            if row.group != group:
                group = row.group
                self._add_row(group, "", heading=True)
            self._add_row(row.action, row.keys or self.tr("(not bound)"))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        note = QLabel(self.tr("Keys can be changed under Help > Key bindings…"), self)
        note.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(self.table, 1)
        lay.addWidget(note)
        lay.addWidget(buttons)
        self.resize(560, 680)

    def _add_row(self, left: str, right: str, heading: bool = False) -> None:
        r = self.table.rowCount()
        self.table.insertRow(r)
        for c, text in enumerate((left, right)):
            item = QTableWidgetItem(text)
            if heading:
                font = item.font()
                font.setBold(True)
                item.setFont(font)
            self.table.setItem(r, c, item)
        if heading:
            self.table.setSpan(r, 0, 1, 2)

    def shown_text(self) -> list[tuple[str, str]]:
        """The table as the user reads it, row by row (headings have an empty second cell)."""
        out = []
        for r in range(self.table.rowCount()):
            left = self.table.item(r, 0)
            right = self.table.item(r, 1)
            out.append((left.text() if left else "", right.text() if right else ""))
        return out


def _guide_html() -> str:
    sections = [
        (QCoreApplication.translate("Help", "Your worklist"),
         [QCoreApplication.translate("Help", "The worklist shows your own cases in your own order. Open a case with a double-click "
            "or Open case; Next unread opens the first case you have not submitted."),
          QCoreApplication.translate("Help", "Cases are pseudonymous. Dates appear as days relative to IO insertion, never as calendar dates, "
            "and you will not see other readers' reads. Read each case on its own images.")]),
        (QCoreApplication.translate("Help", "Looking at the images"),
         [QCoreApplication.translate("Help", "Left-drag changes window/level, right-drag zooms, middle-drag pans, the wheel moves through "
            "images. Number keys pick window presets, 0 returns to the window of the image header."),
          QCoreApplication.translate("Help", "Layouts 1x1, 1x2 and 2x2 are on the Layout group of the toolbar; in 1x2 the current image "
            "is hung beside the same view of the prior timepoint when there is one. MPR shows axial, "
            "coronal and sagittal reformats of a CT or MR series; click or drag in one pane to move "
            "the crosshair and the other panes follow."),
          QCoreApplication.translate("Help", "Hide the worklist or the read form with the toolbar's panel buttons so the images take "
            "the screen.")]),
        (QCoreApplication.translate("Help", "Measuring and annotating"),
         [QCoreApplication.translate("Help", "Pick a tool from the Measure or Annotate group (or press its key) and draw on the image. "
            "Lengths and areas are in mm and name their calibration: Imager Pixel Spacing is at the "
            "detector and is not a patient size unless the magnification is corrected."),
          QCoreApplication.translate("Help", "Click a field of a finding in the read form before drawing: the new shape documents "
            "that finding. Grow region (CT) proposes a collection's volume and mean HU for you to "
            "accept or reject; nothing is filled in without your acceptance.")]),
        (QCoreApplication.translate("Help", "Signing"),
         [QCoreApplication.translate("Help", "Your draft is saved as you work. Submitting signs the read with your password and locks "
            "it; a signed read can only be amended with a reason and a new signature.")]),
    ]
    parts = []
    for title, paragraphs in sections:
        parts.append(f"<h3>{html.escape(title)}</h3>")
        parts.extend(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    return "".join(parts)


class ReadersGuideDialog(QDialog):
    """A short reader's guide: the worklist, the viewer, measuring, signing."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ReadersGuide")
        self.setWindowTitle(self.tr("Reader's guide"))
        self.text = QTextBrowser(self)
        self.text.setOpenExternalLinks(False)
        self.text.setHtml(_guide_html())
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(self.text, 1)
        lay.addWidget(buttons)
        self.resize(620, 560)


class AboutDialog(QDialog):
    """Version, database location and active protocol, as the window knows them."""

    def __init__(self, info: AboutInfo, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("AboutIoreview")
        self.setWindowTitle(self.tr("About ioreview"))
        protocol = " ".join(x for x in (info.protocol_id, info.protocol_version) if x)
        rows = [
            (self.tr("Version"), info.version),
            (self.tr("Database"), info.database or self.tr("(not known)")),
            (self.tr("Active protocol"), protocol or self.tr("(none installed)")),
        ]
        body = "".join(f"<tr><td><b>{html.escape(k)}</b>&nbsp;&nbsp;</td><td>{html.escape(v)}</td></tr>"
                       for k, v in rows)
        self.label = QLabel(
            "<h3>ioreview</h3><p>" + html.escape(self.tr("Blinded imaging review for clinical trials.")) + "</p>"
            f"<table>{body}</table>", self)
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.label.setWordWrap(True)
        self.rows = rows
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(self.label)
        lay.addWidget(buttons)
        self.setMinimumWidth(460)


class HelpMenu(QMenu):
    """Help: Keyboard shortcuts (F1), Key bindings…, Reader's guide, About.

    `window_actions()` lists the window's actions whose shortcuts the sheet includes;
    `about()` gives the About box's facts when it opens.
    """

    def __init__(self, keymap: Keymap, *, window_actions: Callable[[], Sequence[QAction]],
                 about: Callable[[], AboutInfo], key_bindings: QAction | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(QCoreApplication.translate("Help", "&Help"), parent)
        self.setObjectName("HelpMenu")
        self.keymap = keymap
        self._window_actions = window_actions
        self._about = about
        self.dialog: QDialog | None = None
        self.shortcuts_action = self.addAction(QCoreApplication.translate("Help", "Keyboard shortcuts"))
        self.shortcuts_action.setShortcut(QKeySequence(QKeySequence.StandardKey.HelpContents))
        self.shortcuts_action.triggered.connect(lambda _c=False: self.show_shortcuts())
        if key_bindings is not None:
            self.addAction(key_bindings)
        self.guide_action = self.addAction(QCoreApplication.translate("Help", "Reader's guide"))
        self.guide_action.triggered.connect(lambda _c=False: self.show_guide())
        self.addSeparator()
        self.about_action = self.addAction(QCoreApplication.translate("Help", "About ioreview"))
        self.about_action.triggered.connect(lambda _c=False: self.show_about())

    def _open(self, dialog: QDialog) -> QDialog:
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.destroyed.connect(lambda _o=None: setattr(self, "dialog", None))
        self.dialog = dialog
        dialog.show()
        return dialog

    def show_shortcuts(self) -> ShortcutSheetDialog:
        dlg = ShortcutSheetDialog(self.keymap, self._window_actions(), self.parentWidget())
        self._open(dlg)
        return dlg

    def show_guide(self) -> ReadersGuideDialog:
        dlg = ReadersGuideDialog(self.parentWidget())
        self._open(dlg)
        return dlg

    def show_about(self) -> AboutDialog:
        dlg = AboutDialog(self._about(), self.parentWidget())
        self._open(dlg)
        return dlg
