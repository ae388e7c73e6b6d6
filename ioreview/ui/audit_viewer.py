"""The audit viewer (coordinator and admin): the audit trail filtered by user, case, action and
date, a record's before and after with the changed keys marked, a CSV export of what the filter
selects, and the trail's verification run in the background with its result in plain sight.

The table is a lazy Qt model: it asks the service for one page of records at a time as the
view scrolls, so a trail of 100,000 records opens as fast as one of a hundred.
"""
from __future__ import annotations

import html
import json
from datetime import date
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (QAbstractTableModel, QCoreApplication, QDate, QModelIndex,
                            QPersistentModelIndex, Qt)
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QDateEdit, QFileDialog,
                               QHBoxLayout, QHeaderView, QLabel, QLineEdit, QPushButton,
                               QSplitter, QTableView, QTextBrowser, QVBoxLayout, QWidget)

from ioreview.errors import IoreviewError
from ioreview.service import (AuditExportSummary, AuditLogEntry, AuditLogFilter,
                              AuditReport)
from ioreview.ui.tab_base import ControllerTab as _Tab
from ioreview.ui.workers import TaskHandle, run_in_thread

if TYPE_CHECKING:
    from ioreview.service import Session, Trial
    from ioreview.ui.lock_screen import SessionController

__all__ = ["AuditLogModel", "AuditViewer", "changed_keys", "record_html"]

_Index = QModelIndex | QPersistentModelIndex
PAGE = 200
_NO_DATE = QDate(2000, 1, 1)
_OK_STYLE = "color: #b9f6ca; background: #1b5e20; padding: 6px; border-radius: 3px;"
_BAD_STYLE = "color: #ffebee; background: #b71c1c; padding: 6px; border-radius: 3px;"
_BUSY_STYLE = "color: #e0e0e0; background: #37474f; padding: 6px; border-radius: 3px;"


def changed_keys(before: Any, after: Any) -> set[str]:
    """The top-level keys whose value differs between two JSON objects (every key of the one
    that exists when the other is missing)."""
    b = before if isinstance(before, dict) else {}
    a = after if isinstance(after, dict) else {}
    return {k for k in set(a) | set(b) if a.get(k, object()) != b.get(k, object())}


def _json_html(value: Any, marked: set[str]) -> str:
    """Pretty JSON as HTML, the lines of the `marked` top-level keys highlighted."""
    if value is None:
        return "<i>" + html.escape(QCoreApplication.translate("AuditViewer", "(nothing)")) + "</i>"
    if not isinstance(value, dict):
        return "<pre>" + html.escape(json.dumps(value, indent=2, ensure_ascii=False)) + "</pre>"
    lines = ["{"]
    keys = sorted(value)
    for i, key in enumerate(keys):
        text = json.dumps(value[key], indent=2, ensure_ascii=False).replace("\n", "\n  ")
        line = html.escape(f'  "{key}": {text}' + ("," if i < len(keys) - 1 else ""))
        if key in marked:
            line = f'<span style="background:#5d4037;color:#ffe082;">{line}</span>'
        lines.append(line)
    lines.append("}")
    return "<pre style='margin:0'>" + "\n".join(lines) + "</pre>"


def record_html(entry: AuditLogEntry) -> str:
    """The detail pane: who did what when, and the before/after side by side."""
    marked = changed_keys(entry.before, entry.after)
    head = QCoreApplication.translate("AuditViewer", "Record {seq}: {actor} — {action} {entity} {entity_id}").format(
        seq=entry.seq, actor=entry.actor, action=entry.action, entity=entity_text(entry.entity),
        entity_id=entry.entity_id)
    when = QCoreApplication.translate("AuditViewer", "{utc} UTC ({local} local)").format(
        utc=entry.at_utc[:19].replace("T", " "), local=entry.at_local)
    changed = (QCoreApplication.translate("AuditViewer", "Changed: {keys}").format(keys=", ".join(sorted(marked))) if marked
               and entry.before is not None else "")
    # outside the f-string below: lupdate does not extract tr calls inside f-strings
    before = QCoreApplication.translate("AuditViewer", "Before")
    after = QCoreApplication.translate("AuditViewer", "After")
    return (f"<p><b>{html.escape(head)}</b><br>{html.escape(when)}"
            + (f"<br>{html.escape(changed)}" if changed else "") + "</p>"
            "<table width='100%' cellspacing='6'><tr>"
            f"<th align='left'>{html.escape(before)}</th>"
            f"<th align='left'>{html.escape(after)}</th></tr><tr>"
            f"<td valign='top' width='50%'>{_json_html(entry.before, marked)}</td>"
            f"<td valign='top' width='50%'>{_json_html(entry.after, marked)}</td>"
            "</tr></table>")


def entity_text(entity: str) -> str:
    return entity.replace("_", " ")


class AuditLogModel(QAbstractTableModel):
    """Audit records matching a filter, newest first, fetched a page at a time."""

    N_COLUMNS = 7

    def __init__(self, trial: Trial, session: Session, parent: Any = None) -> None:
        super().__init__(parent)
        self.trial = trial
        self.session = session
        self.filter = AuditLogFilter()
        self.total = 0
        self._rows: list[AuditLogEntry] = []
        self._titles = [
            "#", QCoreApplication.translate("AuditViewer", "Time (UTC)"),
            QCoreApplication.translate("AuditViewer", "Local time"),
            QCoreApplication.translate("AuditViewer", "User"),
            QCoreApplication.translate("AuditViewer", "Action"),
            QCoreApplication.translate("AuditViewer", "Entity"),
            QCoreApplication.translate("AuditViewer", "Id")]

    def reload(self, f: AuditLogFilter | None = None) -> None:
        """Show the first page for filter `f` (the current one when None); service errors
        pass through to the caller's error boundary and leave the table empty."""
        if f is not None:
            self.filter = f
        self.beginResetModel()
        self._rows = []
        self.total = 0
        try:
            page = self._page(0)
            self._rows = list(page.entries)
            self.total = page.total
        finally:
            self.endResetModel()

    def _page(self, offset: int):  # noqa: ANN202 - AuditLogPage
        f = self.filter
        return self.trial.audit_log(self.session, user=f.user, case=f.case, action=f.action,
                                    since=f.since, until=f.until, limit=PAGE, offset=offset)

    def canFetchMore(self, parent: _Index = QModelIndex()) -> bool:  # noqa: N802, B008
        return not parent.isValid() and len(self._rows) < self.total

    def fetchMore(self, parent: _Index = QModelIndex()) -> None:  # noqa: N802, B008
        if parent.isValid():
            return
        try:
            page = self._page(len(self._rows))
        except IoreviewError:
            self.total = len(self._rows)  # stop fetching; the next reload reports it
            return
        if not page.entries:
            self.total = len(self._rows)
            return
        first = len(self._rows)
        self.beginInsertRows(QModelIndex(), first, first + len(page.entries) - 1)
        self._rows.extend(page.entries)
        self.endInsertRows()

    def entry(self, row: int) -> AuditLogEntry:
        return self._rows[row]

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else self.N_COLUMNS

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self._titles[section]
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        e = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return (str(e.seq), e.at_utc[:19].replace("T", " "), e.at_local, e.actor, e.action,
                    entity_text(e.entity), e.entity_id)[index.column()]
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() == 0:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


def _date_edit(name: str) -> QDateEdit:
    edit = QDateEdit()
    edit.setObjectName(name)
    edit.setCalendarPopup(True)
    edit.setDisplayFormat("yyyy-MM-dd")
    edit.setMinimumDate(_NO_DATE)
    edit.setSpecialValueText(QCoreApplication.translate("AuditViewer", "any"))
    edit.setDate(_NO_DATE)
    return edit


def _date_of(edit: QDateEdit) -> date | None:
    d = edit.date()
    return None if d == _NO_DATE else date(d.year(), d.month(), d.day())


class AuditViewer(_Tab):
    """The audit trail tab: filters, the lazy table, the detail pane, export and verify."""

    def __init__(self, controller: SessionController, parent: QWidget | None = None) -> None:
        super().__init__(controller, parent)
        self.setObjectName("AuditViewer")
        self.verify_task: TaskHandle | None = None
        self.export_task: TaskHandle | None = None
        self.last_export: AuditExportSummary | None = None
        self.last_report: AuditReport | None = None
        self.user_box = QComboBox()
        self.user_box.setObjectName("audit_user")
        self.user_box.setEditable(True)
        self.user_box.setMinimumContentsLength(12)
        self.case_edit = QLineEdit()
        self.case_edit.setObjectName("audit_case")
        self.case_edit.setPlaceholderText(self.tr("case label"))
        self.action_box = QComboBox()
        self.action_box.setObjectName("audit_action")
        self.action_box.setMinimumContentsLength(12)
        self.from_edit = _date_edit("audit_from")
        self.to_edit = _date_edit("audit_to")
        self.apply_button = QPushButton(self.tr("Apply filter"))
        self.apply_button.setObjectName("AuditApply")
        self.apply_button.setDefault(True)
        self.apply_button.clicked.connect(self.apply_filter)
        self.case_edit.returnPressed.connect(self.apply_filter)
        self.clear_button = QPushButton(self.tr("Clear"))
        self.clear_button.clicked.connect(self.clear_filter)
        filters = QHBoxLayout()
        for label, widget in ((self.tr("User"), self.user_box), (self.tr("Case"), self.case_edit),
                              (self.tr("Action"), self.action_box),
                              (self.tr("From"), self.from_edit), (self.tr("To"), self.to_edit)):
            filters.addWidget(QLabel(label))
            filters.addWidget(widget, 1 if widget is self.case_edit else 0)
        filters.addWidget(self.apply_button)
        filters.addWidget(self.clear_button)

        self.model = AuditLogModel(controller.trial, controller.session, self)
        self.table = QTableView()
        self.table.setObjectName("AuditTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(22)
        header = self.table.horizontalHeader()
        for column, width in enumerate((64, 150, 150, 110, 110, 130)):
            self.table.setColumnWidth(column, width)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        self.table.selectionModel().currentRowChanged.connect(self._show_record)
        self.detail = QTextBrowser()
        self.detail.setObjectName("AuditDetail")
        self.detail.setPlaceholderText(self.tr("Select a record to see its before and after."))
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.table)
        splitter.addWidget(self.detail)
        splitter.setSizes([440, 260])

        self.count_label = QLabel()
        self.count_label.setObjectName("AuditCount")
        self.export_button = QPushButton(self.tr("Export CSV…"))
        self.export_button.setObjectName("AuditExport")
        self.export_button.clicked.connect(self.export_csv)
        self.verify_button = QPushButton(self.tr("Verify audit trail"))
        self.verify_button.setObjectName("AuditVerify")
        self.verify_button.clicked.connect(self.verify)
        self.verify_label = QLabel()
        self.verify_label.setObjectName("AuditVerifyResult")
        self.verify_label.setWordWrap(True)
        self.verify_label.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse)
        self.verify_label.hide()
        bottom = QHBoxLayout()
        bottom.addWidget(self.count_label, 1)
        bottom.addWidget(self.export_button)
        bottom.addWidget(self.verify_button)
        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addWidget(self.verify_label)
        layout.addWidget(splitter, 1)
        layout.addLayout(bottom)
        self._choices_loaded = False

    # -- filters ------------------------------------------------------------------------------
    def _load_choices(self) -> None:
        actors = self.call(self.trial.audit_actors)
        actions = self.call(self.trial.audit_actions)
        if actors is None or actions is None:
            return
        for box, values in ((self.user_box, actors), (self.action_box, actions)):
            current = box.currentText()
            box.blockSignals(True)
            box.clear()
            box.addItem(self.tr("any"), None)
            for value in values:
                box.addItem(value, value)
            index = box.findText(current) if current else 0
            box.setCurrentIndex(max(index, 0))
            box.blockSignals(False)
        self._choices_loaded = True

    def current_filter(self) -> AuditLogFilter:
        def chosen(box: QComboBox) -> str | None:
            data = box.currentData()
            text = box.currentText().strip()
            if data is None and (not text or text == self.tr("any")):
                return None
            return str(data) if data is not None else text

        return AuditLogFilter(user=chosen(self.user_box),
                              case=self.case_edit.text().strip() or None,
                              action=chosen(self.action_box),
                              since=_date_of(self.from_edit), until=_date_of(self.to_edit))

    def refresh(self) -> None:
        """Reload the filter choices and the first page of the current filter."""
        self._load_choices()
        self.apply_filter()

    def apply_filter(self) -> None:
        """Show the records the filter widgets select."""
        self.detail.clear()
        try:
            self.model.reload(self.current_filter())
        except IoreviewError as exc:
            self.count_label.setText(self.tr("No records shown."))
            self.controller.report(exc, self, self.tr("Audit trail"))
            return
        self.count_label.setText(self.tr("{n} matching record(s)").format(n=self.model.total))
        if self.model.rowCount():
            self.table.selectRow(0)

    def clear_filter(self) -> None:
        self.user_box.setCurrentIndex(0)
        self.action_box.setCurrentIndex(0)
        self.case_edit.clear()
        self.from_edit.setDate(_NO_DATE)
        self.to_edit.setDate(_NO_DATE)
        self.apply_filter()

    def _show_record(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid():
            self.detail.setHtml(record_html(self.model.entry(current.row())))

    # -- export and verification ---------------------------------------------------------------
    def export_csv(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, self.tr("Export the audit trail"),
                                              "audit-trail.csv", self.tr("CSV files (*.csv)"))
        if path:
            self.export_to(path)

    def export_to(self, path: str) -> None:
        """Write the records the filter selects to `path` in a worker thread (a whole trail
        takes seconds) and say how many."""
        if self.export_task is not None and self.export_task.running:
            return
        self.export_button.setEnabled(False)
        self.count_label.setText(self.tr("Exporting to {path} …").format(path=path))
        self.export_task = run_in_thread(self.trial.export_audit_csv, self.controller.session,
                                         path, self.current_filter(),
                                         on_done=self._exported, on_error=self._export_failed)

    def _exported(self, summary: AuditExportSummary) -> None:
        self.export_button.setEnabled(True)
        self.last_export = summary
        self.count_label.setText(self.tr("{n} record(s) exported to {path}").format(
            n=summary.n_records, path=summary.path))

    def _export_failed(self, exc: BaseException) -> None:
        self.export_button.setEnabled(True)
        self.count_label.setText(self.tr("The export failed."))
        self.controller.report(exc, self, self.tr("Export the audit trail"))

    def verify(self) -> None:
        """Run the audit trail's verification in a worker thread."""
        if self.verify_task is not None and self.verify_task.running:
            return
        self.verify_button.setEnabled(False)
        self.verify_label.setStyleSheet(_BUSY_STYLE)
        self.verify_label.setText(self.tr("Verifying the audit trail and every signature…"))
        self.verify_label.show()
        self.verify_task = run_in_thread(self.trial.verify_audit_trail, self.controller.session,
                                         on_done=self._verified, on_error=self._verify_failed)

    def _verified(self, report: AuditReport) -> None:
        self.verify_button.setEnabled(True)
        self.last_report = report
        if report.intact:
            self.verify_label.setStyleSheet(_OK_STYLE)
            self.verify_label.setText(self.tr(
                "✔ Audit trail intact: {n} records verified, every signature matches what was "
                "signed.").format(n=report.n_records))
            return
        self.verify_label.setStyleSheet(_BAD_STYLE)
        more = len(report.problems) - 1
        first = report.first_broken
        if first is not None and first.seq > 0:
            text = self.tr("✘ Audit trail BROKEN ({n} records checked). First broken record: "
                           "#{seq} ({kind}): {message}").format(
                n=report.n_records, seq=first.seq, kind=first.kind.value,
                message=first.message)
        else:
            text = self.tr("✘ Audit trail BROKEN ({n} records checked). First problem: {first}"
                           ).format(n=report.n_records,
                                    first=str(first) if first else report.problems[0])
        if more:
            text += " " + self.tr("({more} more problem(s))").format(more=more)
        self.verify_label.setText(text)
        self.verify_label.setToolTip("\n".join(report.problems[:50]))

    def _verify_failed(self, exc: BaseException) -> None:
        self.verify_button.setEnabled(True)
        self.verify_label.setStyleSheet(_BAD_STYLE)
        self.verify_label.setText(self.tr("The verification could not run: {error}").format(
            error=str(exc)))
        self.controller.report(exc, self, self.tr("Audit trail"))
