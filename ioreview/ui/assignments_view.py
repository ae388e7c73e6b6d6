"""The coordinator's assignment table: every case x reader assignment with its purpose, read
status, position in the reader's list and availability, the per-reader totals with why a
reader's worklist shows fewer, and reassignment of a read that is not signed yet.

Hidden re-reads are marked "hidden re-read" here only: this view is the coordinator's (the
service refuses its data to readers).  The widget shows what `Trial.assignment_table` returns
and forwards a reassignment with its reason to `Trial.reassign`, which decides eligibility.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QSortFilterProxyModel, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from ioreview.errors import IoreviewError
from ioreview.service import AssignmentPurpose, ReadStatus, Role
from ioreview.ui.tab_base import readable_time, table_view
from ioreview.ui.table_model import Column, RecordTableModel

if TYPE_CHECKING:
    from ioreview.service import (AssignmentEntry, AssignmentTable, ReassignmentResult,
                                  Session, Trial, UserInfo)
    from ioreview.ui.lock_screen import SessionController

__all__ = ["AssignmentsView", "ReassignDialog", "purpose_text", "status_text"]


def purpose_text(purpose: AssignmentPurpose) -> str:
    """Why the reader has the case, in words ("hidden re-read" for the coordinator's eyes)."""
    names = {AssignmentPurpose.PRIMARY: QCoreApplication.translate("AssignmentsView", "primary read"),
             AssignmentPurpose.HIDDEN_REREAD: QCoreApplication.translate(
                 "AssignmentsView", "hidden re-read"),
             AssignmentPurpose.THIRD_READ: QCoreApplication.translate(
                 "AssignmentsView", "third read")}
    return names.get(purpose, purpose.value)


def status_text(status: ReadStatus) -> str:
    """A read's status in words."""
    names = {ReadStatus.NEW: QCoreApplication.translate("AssignmentsView", "not started"),
             ReadStatus.IN_PROGRESS: QCoreApplication.translate("AssignmentsView", "draft"),
             ReadStatus.SUBMITTED: QCoreApplication.translate("AssignmentsView", "signed")}
    return names.get(status, status.value)


def _available_text(entry: AssignmentEntry) -> str:
    if entry.available_now:
        return QCoreApplication.translate("AssignmentsView", "now")
    return QCoreApplication.translate("AssignmentsView", "from {when}").format(
        when=readable_time(entry.available_from))


class ReassignDialog(QDialog):
    """Choose another reader for one assignment and say why; the reason is required.

    ``submit(reader_id, reason)`` calls the service; a refusal is shown inline and the dialog
    stays open with what was typed. The readers offered are the active readers who have no
    part of the case (the service checks again)."""

    def __init__(self, entry: AssignmentEntry, readers: Sequence[UserInfo],
                 submit: Callable[[int, str], object], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ReassignDialog")
        self.entry = entry
        self._submit = submit
        self.result_value: object = None
        self.setWindowTitle(self.tr("Reassign {case}").format(case=entry.case_label))
        self.setMinimumWidth(520)
        what = QLabel(self.tr(
            "Case <b>{case}</b> ({purpose}) is now assigned to <b>{reader}</b>, read status: "
            "{status}.").format(case=entry.case_label, purpose=purpose_text(entry.purpose),
                                reader=entry.reader_name or entry.reader,
                                status=status_text(entry.status)))
        what.setWordWrap(True)
        consequence = QLabel(self.tr(
            "The new reader starts with an empty read. A draft of the current reader is "
            "withdrawn: its answers are kept in the audit trail, and the case leaves that "
            "reader's worklist. A hidden re-read of the case that is not signed moves with it."))
        consequence.setWordWrap(True)
        consequence.setObjectName("ReassignConsequence")
        self.reader_combo = QComboBox()
        self.reader_combo.setObjectName("ReassignReader")
        for user in readers:
            self.reader_combo.addItem(f"{user.display_name} ({user.username})", user.id)
        self.reason_edit = QPlainTextEdit()
        self.reason_edit.setObjectName("ReassignReason")
        self.reason_edit.setPlaceholderText(self.tr(
            "Why does the case go to another reader? (kept in the audit trail)"))
        self.reason_edit.setFixedHeight(70)
        self.message = QLabel()
        self.message.setObjectName("ReassignMessage")
        self.message.setStyleSheet("color: #ff8a80;")
        self.message.setWordWrap(True)
        self.message.hide()
        form = QFormLayout()
        form.addRow(self.tr("New reader"), self.reader_combo)
        form.addRow(self.tr("Reason *"), self.reason_edit)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText(self.tr("Reassign"))
        self.buttons.accepted.connect(self.attempt)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(what)
        layout.addWidget(consequence)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        if not readers:
            self.show_message(self.tr(
                "No active reader is free of this case: create or activate a reader first."))
            self.ok_button.setEnabled(False)
        self.reason_edit.setFocus()

    def show_message(self, text: str) -> None:
        """Show an inline explanation above the buttons."""
        self.message.setText(text)
        self.message.setVisible(bool(text))

    def reason(self) -> str:
        return self.reason_edit.toPlainText().strip()

    def attempt(self) -> None:
        """Reassign through the service; stay open and explain when refused."""
        if not self.reason():
            self.show_message(self.tr("Enter the reason for the reassignment."))
            self.reason_edit.setFocus()
            return
        reader_id = self.reader_combo.currentData()
        if reader_id is None:
            return
        try:
            self.result_value = self._submit(int(reader_id), self.reason())
        except IoreviewError as exc:
            self.show_message(str(exc))
            return
        self.accept()


class AssignmentsView(QWidget):
    """The case x reader table with a filter, the per-reader totals with their explanation,
    and Reassign… (see the module docstring)."""

    def __init__(self, controller: SessionController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.setObjectName("AssignmentsView")
        self.table: AssignmentTable | None = None
        self.entries_model = RecordTableModel([
            Column(self.tr("Case"), lambda e: e.case_label),
            Column(self.tr("Reader"), lambda e: e.reader),
            Column(self.tr("Purpose"), lambda e: purpose_text(e.purpose)),
            Column(self.tr("Status"), lambda e: status_text(e.status)),
            Column(self.tr("Position"), lambda e: e.position, True),
            Column(self.tr("Available"), _available_text),
            Column(self.tr("Label the reader sees"),
                   lambda e: e.reread_label if e.reread_label else e.case_label),
        ], self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.entries_model)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.proxy.setFilterKeyColumn(-1)
        self.entries_view = table_view(self.proxy, "AssignmentTableView")
        self.entries_view.setSortingEnabled(True)
        self.entries_view.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.entries_view.doubleClicked.connect(lambda _i: self.reassign_selected())
        self.filter_edit = QLineEdit()
        self.filter_edit.setObjectName("AssignmentFilter")
        self.filter_edit.setPlaceholderText(self.tr("Filter by case, reader or status"))
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.textChanged.connect(self.proxy.setFilterFixedString)
        self.reassign_button = QPushButton(self.tr("Reassign…"))
        self.reassign_button.setObjectName("ReassignReadButton")
        self.reassign_button.setToolTip(self.tr(
            "Give the selected read (not signed) to another reader, with a reason"))
        self.reassign_button.clicked.connect(self.reassign_selected)

        self.totals_model = RecordTableModel([
            Column(self.tr("Reader"), lambda t: t.reader),
            Column(self.tr("Assigned"), lambda t: t.assigned, True),
            Column(self.tr("In worklist now"), lambda t: t.in_worklist, True),
            Column(self.tr("Hidden re-reads"), lambda t: t.hidden_rereads, True),
            Column(self.tr("Not yet available"), lambda t: t.not_yet_available, True),
        ], self)
        self.totals_view = table_view(self.totals_model, "ReaderTotalsView")
        self.totals_note = QLabel()
        self.totals_note.setObjectName("ReaderTotalsNote")
        self.totals_note.setWordWrap(True)
        self.totals_note.setStyleSheet("color: #b8b8c0;")

        entries_box = QGroupBox(self.tr("Assignments (case x reader; coordinator only)"))
        top = QHBoxLayout()
        top.addWidget(self.filter_edit, 1)
        top.addWidget(self.reassign_button)
        entries_layout = QVBoxLayout(entries_box)
        entries_layout.addLayout(top)
        entries_layout.addWidget(self.entries_view, 1)
        totals_box = QGroupBox(self.tr("Per reader"))
        totals_layout = QVBoxLayout(totals_box)
        totals_layout.addWidget(self.totals_view, 1)
        totals_layout.addWidget(self.totals_note)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(entries_box)
        splitter.addWidget(totals_box)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter, 1)

    @property
    def trial(self) -> Trial:
        return self.controller.trial

    @property
    def session(self) -> Session:
        return self.controller.session

    def refresh(self) -> None:
        """Reload the table from the service (keeps the selected assignment selected)."""
        try:
            table = self.trial.assignment_table(self.session)
        except IoreviewError as exc:
            self.controller.report(exc, self)
            return
        keep = self.selected_entry()
        self.table = table
        self.entries_model.set_records(table.entries)
        self.totals_model.set_records(table.readers)
        self.totals_note.setText(self._totals_note(table))
        if keep is not None:
            self.select_assignment(keep.assignment_id)

    def _totals_note(self, table: AssignmentTable) -> str:
        hidden = sum(t.hidden_rereads for t in table.readers)
        waiting = sum(t.not_yet_available for t in table.readers)
        return self.tr(
            "Readers' worklists show only what is available now, so their totals are lower "
            "than \"Assigned\": {hidden} hidden re-read(s) become available only after the "
            "washout and are not named as re-reads to the reader (they carry their own case "
            "label), and {waiting} assignment(s) in all are not available yet.").format(
            hidden=hidden, waiting=waiting)

    def selected_entry(self) -> AssignmentEntry | None:
        """The assignment of the selected row, or None."""
        index = self.entries_view.currentIndex()
        if not index.isValid():
            return None
        return self.entries_model.record(self.proxy.mapToSource(index).row())

    def select_assignment(self, assignment_id: int) -> bool:
        """Select the row of ``assignment_id`` (False when it is not shown)."""
        for row, entry in enumerate(self.entries_model.records()):
            if entry.assignment_id == assignment_id:
                index = self.proxy.mapFromSource(self.entries_model.index(row, 0))
                if index.isValid():
                    self.entries_view.selectRow(index.row())
                    self.entries_view.setCurrentIndex(index)
                    return True
        return False

    def eligible_readers(self, entry: AssignmentEntry) -> list[UserInfo]:
        """Active readers with no part of the entry's case."""
        try:
            users = self.trial.list_users(self.session)
        except IoreviewError as exc:
            self.controller.report(exc, self)
            return []
        holders = {e.reader_id for e in (self.table.entries if self.table else ())
                   if e.case_id == entry.case_id}
        return [u for u in users if u.role is Role.READER and u.active and u.id not in holders]

    def reassign_dialog(self, entry: AssignmentEntry) -> ReassignDialog:
        """The dialog that reassigns ``entry`` (not yet shown)."""

        def submit(reader_id: int, reason: str) -> ReassignmentResult:
            return self.trial.reassign(self.session, entry.assignment_id, reader_id, reason)

        return ReassignDialog(entry, self.eligible_readers(entry), submit, self)

    def reassign_selected(self) -> None:
        """Ask for the new reader and the reason, then reassign and reload."""
        entry = self.selected_entry()
        if entry is None:
            self.controller.report(IoreviewError(self.tr(
                "Select an assignment in the table first.")), self)
            return
        dialog = self.reassign_dialog(entry)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.refresh()
            self.select_assignment(entry.assignment_id)
