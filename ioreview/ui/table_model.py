"""A read-only Qt table model over a list of records, shared by the coordinator's tables and
the reader's worklist."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QCoreApplication,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
)

__all__ = ["Column", "RecordTableModel"]

_Index = QModelIndex | QPersistentModelIndex


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return (QCoreApplication.translate("RecordTableModel", "yes") if value
                else QCoreApplication.translate("RecordTableModel", "no"))
    return str(value.value if isinstance(value, Enum) else value)


@dataclass(frozen=True)
class Column:
    """A table column: its header and how to get the cell text from a record."""

    title: str
    get: Callable[[Any], Any]
    align_right: bool = False


class RecordTableModel(QAbstractTableModel):
    """A read-only table of records (dataclasses, named tuples or dicts)."""

    def __init__(self, columns: Sequence[Column], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.columns = list(columns)
        self._records: list[Any] = []

    def set_records(self, records: Sequence[Any]) -> None:
        """Replace the shown records."""
        self.beginResetModel()
        self._records = list(records)
        self.endResetModel()

    def record(self, row: int) -> Any:
        """The record of ``row``."""
        return self._records[row]

    def records(self) -> list[Any]:
        """All records."""
        return list(self._records)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802, B008 - Qt API
        """Number of records."""
        return 0 if parent.isValid() else len(self._records)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802, B008 - Qt API
        """Number of columns."""
        return 0 if parent.isValid() else len(self.columns)

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802 - Qt API
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Column titles."""
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.columns[section].title
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Cell text and alignment."""
        if not index.isValid():
            return None
        column = self.columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return _text(column.get(self._records[index.row()]))
        if role == Qt.ItemDataRole.TextAlignmentRole and column.align_right:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None
