"""The key bindings dialog: every viewer action with its key and an alternative, remappable.

Edits go through `Keymap.set_keys` (so into QSettings) only when the reader presses OK and no
key is bound twice; "Restore defaults" refills the editors with the Weasis/OHIF-like defaults.
"""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QKeySequenceEdit,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ioreview.ui.viewer import theme
from ioreview.ui.viewer.keymap import DEFAULT_KEYS, Keymap, ViewerAction, action_title

#: Keys per action the dialog edits (a main key and one alternative).
SLOTS = 2


def _text(seq: QKeySequence) -> str:
    return seq.toString(QKeySequence.SequenceFormat.PortableText)


class KeyBindingsDialog(QDialog):
    """A table of actions with two `QKeySequenceEdit`s each; OK saves to the `Keymap`."""

    def __init__(self, keymap: Keymap, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Key bindings"))
        self.keymap = keymap
        self.actions = list(ViewerAction)
        self.table = QTableWidget(len(self.actions), 1 + SLOTS, self)
        self.table.setHorizontalHeaderLabels([self.tr("Action"), self.tr("Key"), self.tr("Alternative")])
        self.table.verticalHeader().hide()
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self._editors: dict[tuple[ViewerAction, int], QKeySequenceEdit] = {}
        for row, action in enumerate(self.actions):
            item = QTableWidgetItem(action_title(action))
            item.setFlags(Qt.ItemFlag.ItemIsEnabled)
            self.table.setItem(row, 0, item)
            for slot in range(SLOTS):
                edit = QKeySequenceEdit(self.table)
                edit.setMaximumSequenceLength(1)
                edit.setClearButtonEnabled(True)
                edit.keySequenceChanged.connect(lambda _seq: self._check())
                self.table.setCellWidget(row, 1 + slot, edit)
                self._editors[(action, slot)] = edit
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.problem = QLabel(self)
        self.problem.setStyleSheet(f"color: {theme.ANNOTATION};")
        self.problem.setWordWrap(True)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok
            | QDialogButtonBox.StandardButton.Cancel
            | QDialogButtonBox.StandardButton.RestoreDefaults,
            self,
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults).clicked.connect(self.restore_defaults)
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel(self.tr("Click a key field and press the new key; the cross clears it."), self))
        lay.addWidget(self.table, 1)
        lay.addWidget(self.problem)
        lay.addWidget(self.buttons)
        self.resize(520, 620)
        self._fill({a: tuple(_text(k) for k in keymap.keys_for(a)) for a in self.actions})

    def editor(self, action: ViewerAction, slot: int = 0) -> QKeySequenceEdit:
        """The key field of `action` (slot 0: key, 1: alternative)."""
        return self._editors[(ViewerAction(action), slot)]

    def _fill(self, keys: dict[ViewerAction, tuple[str, ...]]) -> None:
        for action in self.actions:
            texts = keys.get(action, ())
            for slot in range(SLOTS):
                self._editors[(action, slot)].setKeySequence(QKeySequence(texts[slot]) if slot < len(texts) else QKeySequence())
        self._check()

    def restore_defaults(self) -> None:
        self._fill(dict(DEFAULT_KEYS))

    def bindings(self) -> dict[ViewerAction, tuple[str, ...]]:
        """The keys in the editors, as portable text, empty fields left out."""
        out: dict[ViewerAction, tuple[str, ...]] = {}
        for action in self.actions:
            texts = [_text(self._editors[(action, slot)].keySequence()) for slot in range(SLOTS)]
            out[action] = tuple(dict.fromkeys(t for t in texts if t))
        return out

    def conflicts(self) -> list[str]:
        """One message per key bound to more than one action."""
        owners: dict[str, list[ViewerAction]] = {}
        for action, keys in self.bindings().items():
            for k in keys:
                owners.setdefault(k, []).append(action)
        return [
            self.tr("%1 is bound to: %2").replace("%1", QKeySequence(k).toString(QKeySequence.SequenceFormat.NativeText))
            .replace("%2", ", ".join(action_title(a) for a in acts))
            for k, acts in owners.items()
            if len(acts) > 1
        ]

    def _check(self) -> bool:
        problems = self.conflicts()
        self.problem.setText("\n".join(problems))
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(not problems)
        return not problems

    def accept(self) -> None:
        """Save the changed bindings (refused while a key is bound twice)."""
        if not self._check():
            return
        for action, keys in self.bindings().items():
            current = tuple(_text(k) for k in self.keymap.keys_for(action))
            if keys != current:
                self.keymap.set_keys(action, keys)
        super().accept()
