"""DICOM tag browser: a filterable tree of (tag, keyword, value) rows.

The rows come from a callable supplied by the host, so what a reader may see is decided
below the UI (the service masks identifying values); this dialog only shows them.  Rows whose
keyword starts with ">" are nested under the row above (sequence items), one level per ">".
"""
from __future__ import annotations

from collections.abc import Callable, Iterable

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QDialog, QLineEdit, QTreeWidget, QTreeWidgetItem, QVBoxLayout, QWidget

TagRow = tuple[str, str, str]


class TagBrowserDialog(QDialog):
    """Shows the tag rows of one instance; typing filters by tag, keyword or value."""

    def __init__(self, rows: Callable[[], Iterable[TagRow]], title: str = "", parent: QWidget | None = None) -> None:
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
        for tag, keyword, value in self._rows_fn():
            depth = len(keyword) - len(keyword.lstrip(">"))
            item = QTreeWidgetItem([tag, keyword.lstrip(">"), value])
            item.setToolTip(2, value[:2000])
            del stack[depth:]
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

    def visible_rows(self) -> list[TagRow]:
        out: list[TagRow] = []

        def walk(item: QTreeWidgetItem) -> None:
            if not item.isHidden():
                out.append((item.text(0), item.text(1), item.text(2)))
            for i in range(item.childCount()):
                walk(item.child(i))

        for i in range(self.tree.topLevelItemCount()):
            walk(self.tree.topLevelItem(i))
        return out


def dataset_tag_rows(path: str) -> list[TagRow]:
    """Rows for every element of a file's header (pixel data left out), for `ioreview view`.

    Used only where no blinding applies (a quick look at local files); the reading screen
    supplies rows from the service instead.
    """
    import pydicom

    ds = pydicom.dcmread(path, stop_before_pixels=True, force=True)
    rows: list[TagRow] = []

    def walk(d: pydicom.Dataset, depth: int) -> None:
        for elem in d:
            tag = f"({elem.tag.group:04X},{elem.tag.element:04X})"
            kw = ">" * depth + (elem.keyword or elem.name)
            if elem.VR == "SQ":
                rows.append((tag, kw, QCoreApplication.translate("TagBrowser", "%1 item(s)").replace("%1", str(len(elem.value)))))
                for item in elem.value:
                    walk(item, depth + 1)
            else:
                text = repr(elem.value) if isinstance(elem.value, bytes) else str(elem.value)
                rows.append((tag, kw, text if len(text) <= 200 else text[:200] + "…"))

    if hasattr(ds, "file_meta"):
        walk(ds.file_meta, 0)
    walk(ds, 0)
    return rows
