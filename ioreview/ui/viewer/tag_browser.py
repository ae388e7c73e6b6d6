"""DICOM tag browser: a filterable tree of tag rows.

The rows come from a callable supplied by the host, so what a reader may see is decided
below the UI (`ioreview.imaging.deid`, applied by the service); this dialog only shows them.
Rows are `TagRow` values (plain (tag, keyword, value) tuples are accepted too); rows whose
keyword starts with ">" are nested under the row above (sequence items), one level per ">".
`ioreview view` shows local files unmasked through `ioreview.imaging.deid.tag_rows`.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable

from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QDialog, QLineEdit, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

from ioreview.imaging.deid import TagRow

#: A row as hosts hand it over: a `TagRow`, or a (tag, keyword, value) tuple.
TagRowLike = TagRow | tuple[str, str, str]


def _as_row(row: TagRowLike) -> TagRow:
    return row if isinstance(row, TagRow) else TagRow(*row)


def _value_text(row: TagRow) -> str:
    """The value as shown: a sequence's item count in the user's language."""
    if row.items is None:
        return row.value
    return QCoreApplication.translate("TagBrowser", "%1 item(s)").replace("%1", str(row.items))


class TagBrowserDialog(QDialog):
    """Shows the tag rows of one instance; typing filters by tag, keyword or value."""

    def __init__(self, rows: Callable[[], Iterable[TagRowLike]], title: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title or self.tr("DICOM tags"))
        self.resize(720, 640)
        self._rows_fn = rows
        lay = QVBoxLayout(self)
        self.filter = QLineEdit(self)
        self.filter.setPlaceholderText(self.tr("Filter by tag, keyword or value"))
        self.filter.setClearButtonEnabled(True)
        lay.addWidget(self.filter)
        self.tree = QTreeWidget(self)
        self.tree.setColumnCount(3)
        self.tree.setHeaderLabels([self.tr("Tag"), self.tr("Keyword"), self.tr("Value")])
        self.tree.setAlternatingRowColors(True)
        self.tree.setUniformRowHeights(True)
        lay.addWidget(self.tree)
        self.filter.textChanged.connect(self._apply_filter)
        self.reload()

    def reload(self) -> None:
        """Ask the host for the rows again and rebuild the tree."""
        self.tree.clear()
        stack: list[QTreeWidgetItem] = []
        muted = self.palette().color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text)
        for row in map(_as_row, self._rows_fn()):
            value = _value_text(row)
            item = QTreeWidgetItem([row.tag, row.name, value])
            item.setToolTip(2, value[:2000])
            if row.masked:
                item.setForeground(2, muted)
            del stack[row.depth:]
            if stack:
                stack[-1].addChild(item)
            else:
                self.tree.addTopLevelItem(item)
            stack.append(item)
        self.tree.expandAll()
        for col in range(2):
            self.tree.resizeColumnToContents(col)
        self._apply_filter(self.filter.text())

    def _apply_filter(self, text: str) -> None:
        needle = text.strip().lower()

        def visit(item: QTreeWidgetItem) -> bool:
            own = not needle or any(needle in item.text(c).lower() for c in range(3))
            child_match = False
            for i in range(item.childCount()):
                child_match = visit(item.child(i)) or child_match
            show = own or child_match
            item.setHidden(not show)
            return show

        for i in range(self.tree.topLevelItemCount()):
            visit(self.tree.topLevelItem(i))

    def visible_rows(self) -> list[tuple[str, str, str]]:
        """(tag, keyword, value) of the rows the filter leaves visible, in tree order."""
        out: list[tuple[str, str, str]] = []

        def walk(item: QTreeWidgetItem) -> None:
            if not item.isHidden():
                out.append((item.text(0), item.text(1), item.text(2)))
            for i in range(item.childCount()):
                walk(item.child(i))

        for i in range(self.tree.topLevelItemCount()):
            walk(self.tree.topLevelItem(i))
        return out
