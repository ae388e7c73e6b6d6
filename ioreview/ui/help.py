"""The Help menu of every role's window: a shortcut sheet generated from the viewer's keymap
(where the window has a viewer) and the window's own shortcuts, a short guide for the role
(reader, adjudicator, committee member, coordinator) and an About box.

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
    QMainWindow,
    QMenu,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from ioreview.ui.viewer.keymap import ACTION_GROUPS, Keymap, action_title, button_title, drag_title, group_title

__all__ = ["GUIDES", "AboutDialog", "AboutInfo", "GuideDialog", "HelpMenu", "ReadersGuideDialog",
           "ShortcutRow", "ShortcutSheetDialog", "add_help_menu", "guide_title", "shortcut_rows",
           "window_shortcut_actions"]


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


def shortcut_rows(keymap: Keymap | None, window_actions: Sequence[QAction] = ()
                  ) -> list[ShortcutRow]:
    """Every binding of `keymap` (keys, then mouse) and every `window_actions` shortcut (only
    those when the window has no viewer: `keymap` None)."""
    rows: list[ShortcutRow] = []
    if keymap is not None:
        rows += _viewer_rows(keymap)
    window = group_title("window_actions")
    for act in window_actions:
        keys = ", ".join(k.toString(QKeySequence.SequenceFormat.NativeText) for k in act.shortcuts())
        if keys:
            rows.append(ShortcutRow(window, act.text().replace("&", "").rstrip("…."), keys))
    return rows


def _viewer_rows(keymap: Keymap) -> list[ShortcutRow]:
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
    return rows


class ShortcutSheetDialog(QDialog):
    """The shortcut sheet: a table of group, action and keys, generated when opened."""

    def __init__(self, keymap: Keymap | None, window_actions: Sequence[QAction] = (),
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
        note.setVisible(keymap is not None)
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


#: the roles that have a guide (the Help menu of each role's window opens its own)
GUIDES = ("reader", "adjudicator", "committee", "coordinator")


def _reader_sections() -> list[tuple[str, list[str]]]:
    return [
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


def _adjudicator_sections() -> list[tuple[str, list[str]]]:
    return [
        (QCoreApplication.translate("Help", "Your queue"),
         [QCoreApplication.translate("Help", "The queue lists the cases waiting for your decision, oldest first, with the "
            "fields the two reads disagree on. Open a case with a double-click or Open case.")]),
        (QCoreApplication.translate("Help", "Deciding"),
         [QCoreApplication.translate("Help", "The readers appear as Reader A and Reader B, drawn per case; their "
            "annotations are drawn in their colours and can be hidden with the checkboxes above "
            "the forms. The discordant fields are highlighted and each names the rule that "
            "flagged it."),
          QCoreApplication.translate("Help", "For every discordant field accept Reader A's or Reader B's value, or give "
            "your own value with a rationale. You may measure in the viewer; your measurements "
            "are kept with the adjudication.")]),
        (QCoreApplication.translate("Help", "Signing"),
         [QCoreApplication.translate("Help", "Sign adjudication asks for your password; the signed decision is final for "
            "the case and leaves your queue. A case whose reads are amended later comes back "
            "with the earlier decision kept.")]),
    ]


def _committee_sections() -> list[tuple[str, list[str]]]:
    return [
        (QCoreApplication.translate("Help", "Sessions"),
         [QCoreApplication.translate("Help", "The list shows the committee sessions you are a member of. The chair "
            "records who is present; votes count once the quorum is present.")]),
        (QCoreApplication.translate("Help", "Voting"),
         [QCoreApplication.translate("Help", "For every item of a case choose Reader A's or Reader B's value, or your own; "
            "questions for the committee only (such as Gurd's criteria) take your own answer. "
            "Sign ballot asks for your password. Votes may stay hidden until everyone present "
            "has voted."),
          QCoreApplication.translate("Help", "On a tie the chair gives the casting vote. When every item is decided, the "
            "chair finalises the session with minutes and a signature.")]),
    ]


def _coordinator_sections() -> list[tuple[str, list[str]]]:
    return [
        (QCoreApplication.translate("Help", "Setting up a trial"),
         [QCoreApplication.translate("Help", "Users: add readers, adjudicators, committee members and coordinators; each "
            "chooses a password at the first log-in. Import: index DICOM folders, zip files or "
            "DICOMDIRs. Cases: build pseudonymous cases (subject x timepoint) from the studies."),
          QCoreApplication.translate("Help", "Burned-in text: series that may carry names in their pixels are held back "
            "from readers until you mask the text or confirm that there is none.")]),
        (QCoreApplication.translate("Help", "Running the reads"),
         [QCoreApplication.translate("Help", "Assignments: generate each reader's seeded worklist (hidden re-reads are "
            "marked for you only) and reassign a case with a reason. Progress shows reads and "
            "open discordances; a click on a discordance opens its case in Adjudication."),
          QCoreApplication.translate("Help", "Adjudication: see where every discordant case stands, reassign an "
            "adjudication or send a case to the committee. Outcomes: the final values per case "
            "and the endpoints per subject. Agreement: inter- and intra-reader agreement and "
            "reader monitoring.")]),
        (QCoreApplication.translate("Help", "Records"),
         [QCoreApplication.translate("Help", "Trial > Export writes the tables, codebook, SR and report, signed by you. "
            "The Audit tab lists every recorded action.")]),
    ]


def _sections(guide: str) -> list[tuple[str, list[str]]]:
    return {"reader": _reader_sections, "adjudicator": _adjudicator_sections,
            "committee": _committee_sections, "coordinator": _coordinator_sections}[guide]()


def _guide_html(guide: str = "reader") -> str:
    parts = []
    for title, paragraphs in _sections(guide):
        parts.append(f"<h3>{html.escape(title)}</h3>")
        parts.extend(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    return "".join(parts)


def guide_title(guide: str) -> str:
    """The menu entry and window title of a role's guide."""
    return {"reader": QCoreApplication.translate("Help", "Reader's guide"), "adjudicator": QCoreApplication.translate("Help", "Adjudicator's guide"),
            "committee": QCoreApplication.translate("Help", "Committee member's guide"),
            "coordinator": QCoreApplication.translate("Help", "Coordinator's guide")}[guide]


class GuideDialog(QDialog):
    """A short guide for one role (``guide`` one of `GUIDES`)."""

    def __init__(self, guide: str = "reader", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("Guide")
        self.guide = guide
        self.setWindowTitle(guide_title(guide))
        self.text = QTextBrowser(self)
        self.text.setOpenExternalLinks(False)
        self.text.setHtml(_guide_html(guide))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(self.text, 1)
        lay.addWidget(buttons)
        self.resize(620, 560)


class ReadersGuideDialog(GuideDialog):
    """A short reader's guide: the worklist, the viewer, measuring, signing."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("reader", parent)
        self.setObjectName("ReadersGuide")


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
    """Help: Keyboard shortcuts (F1), Key bindings…, the role's guide, About.

    `window_actions()` lists the window's actions whose shortcuts the sheet includes (with the
    viewer's keymap when the window has a viewer, ``keymap``); `about()` gives the About box's
    facts when it opens; ``guide`` is the role whose guide the menu offers (`GUIDES`).
    """

    def __init__(self, keymap: Keymap | None, *, window_actions: Callable[[], Sequence[QAction]],
                 about: Callable[[], AboutInfo], key_bindings: QAction | None = None,
                 guide: str = "reader", parent: QWidget | None = None) -> None:
        super().__init__(QCoreApplication.translate("Help", "&Help"), parent)
        if guide not in GUIDES:
            raise ValueError(f"guide: must be one of {', '.join(GUIDES)}, not {guide!r}")
        self.setObjectName("HelpMenu")
        self.keymap = keymap
        self.guide = guide
        self._window_actions = window_actions
        self._about = about
        self.dialog: QDialog | None = None
        self.shortcuts_action = self.addAction(QCoreApplication.translate("Help", "Keyboard shortcuts"))
        self.shortcuts_action.setShortcut(QKeySequence(QKeySequence.StandardKey.HelpContents))
        self.shortcuts_action.triggered.connect(lambda _c=False: self.show_shortcuts())
        if key_bindings is not None:
            self.addAction(key_bindings)
        self.guide_action = self.addAction(guide_title(guide))
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

    def show_guide(self) -> GuideDialog:
        dlg = ReadersGuideDialog(self.parentWidget()) if self.guide == "reader" else GuideDialog(
            self.guide, self.parentWidget())
        self._open(dlg)
        return dlg

    def show_about(self) -> AboutDialog:
        dlg = AboutDialog(self._about(), self.parentWidget())
        self._open(dlg)
        return dlg


def window_shortcut_actions(window: QMainWindow, *extra: QWidget) -> list[QAction]:
    """The actions of ``window``'s menus (and of ``extra`` widgets) that carry a shortcut, for
    the shortcut sheet."""
    actions = [a for m in window.menuBar().actions() if m.menu() is not None
               for a in m.menu().actions()]
    for widget in extra:
        actions += widget.actions()
    return list(dict.fromkeys(a for a in actions if not a.isSeparator() and a.shortcuts()))


def add_help_menu(window: QMainWindow, guide: str, *, keymap: Keymap | None = None,
                  key_bindings: QAction | None = None, database: str = "",
                  protocol: Callable[[], tuple[str, str]] | None = None,
                  extra: Sequence[QWidget] = ()) -> HelpMenu:
    """Put Help (shortcut sheet, the role's guide, About) last on ``window``'s menu bar.
    ``protocol()`` names the active protocol (id, version) for About, ``database`` where the
    trial is; ``extra`` widgets add their shortcut actions (the viewer's) to the sheet."""
    from ioreview import __version__

    def about() -> AboutInfo:
        pid, version = protocol() if protocol is not None else ("", "")
        return AboutInfo(__version__, database, pid, version)

    menu = HelpMenu(keymap, window_actions=lambda: window_shortcut_actions(window, *extra),
                    about=about, key_bindings=key_bindings, guide=guide, parent=window)
    window.menuBar().addMenu(menu)
    return menu
