"""The coordinator's window: users, import, cases, assignments and progress.

Every tab shows what the service returns and forwards the coordinator's intent to it; the
service checks the role, writes the audit trail and computes the figures (progress counts,
discordances). Import runs in a worker thread with a progress bar.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Concatenate, ParamSpec, TypeVar

from PySide6.QtCharts import (
    QBarCategoryAxis,
    QBarSet,
    QChart,
    QChartView,
    QHorizontalStackedBarSeries,
    QValueAxis,
)
from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QAction, QCloseEvent, QColor, QPainter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ioreview.errors import IoreviewError
from ioreview.service import Role
from ioreview.ui.lock_screen import SessionController
from ioreview.ui.table_model import Column, RecordTableModel
from ioreview.ui.workers import TaskHandle, run_in_thread

if TYPE_CHECKING:
    from ioreview.service import (
        AssignmentSummary,
        ImportSummary,
        ProgressReport,
        ReaderProgress,
        SeriesInfo,
        Session,
        Trial,
        UserInfo,
    )

__all__ = [
    "AssignmentsTab", "CasesTab", "Column", "CoordinatorWindow", "ImportTab", "ProgressTab",
    "RecordTableModel", "UserDialog", "UsersTab",
]

_Index = QModelIndex | QPersistentModelIndex
_P = ParamSpec("_P")
_T = TypeVar("_T")


def _table(model: QAbstractTableModel, name: str) -> QTableView:
    view = QTableView()
    view.setObjectName(name)
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setAlternatingRowColors(True)
    view.verticalHeader().hide()
    header = view.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setStretchLastSection(True)
    return view


class _Tab(QWidget):
    """Base of the tabs: access to the controller and the error boundary."""

    def __init__(self, controller: SessionController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller

    @property
    def trial(self) -> Trial:
        """The service this tab forwards the coordinator's intent to."""
        return self.controller.trial

    def call(self, use_case: Callable[Concatenate[Session, _P], _T], /,
             *args: _P.args, **kwargs: _P.kwargs) -> _T | None:
        """Run ``use_case(session, *args, **kwargs)`` (a method of the service, such as
        ``self.trial.list_users``) as the logged-in user; a service error is shown and None
        is returned."""
        try:
            return use_case(self.controller.session, *args, **kwargs)
        except IoreviewError as exc:
            self.controller.report(exc, self)
            return None

    def refresh(self) -> None:
        """Reload what the tab shows."""


# -- users ----------------------------------------------------------------------------------
class _FormDialog(QDialog):
    """A form with an inline error line and OK/Cancel; OK runs `_check` first."""

    def _build(self, rows: Sequence[tuple[str, QWidget]]) -> None:
        self.message = QLabel()
        self.message.setStyleSheet("color: #ff8a80;")
        self.message.setWordWrap(True)
        self.message.hide()
        form = QFormLayout()
        for label, widget in rows:
            form.addRow(label, widget)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._check)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(buttons)

    def _check(self) -> None:
        self.accept()


class UserDialog(_FormDialog):
    """Ask for a new user's name, display name, role and initial password."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Add user"))
        self.username = QLineEdit()
        self.username.setObjectName("new_username")
        self.display_name = QLineEdit()
        self.display_name.setObjectName("new_display_name")
        self.role = QComboBox()
        self.role.setObjectName("new_role")
        names = {Role.READER: self.tr("reader"), Role.ADJUDICATOR: self.tr("adjudicator"),
                 Role.COMMITTEE: self.tr("committee"), Role.COORDINATOR: self.tr("coordinator"),
                 Role.ADMIN: self.tr("admin")}
        for role in Role:
            self.role.addItem(names[role], role.value)
        self.password = QLineEdit()
        self.password.setObjectName("new_password")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password_again = QLineEdit()
        self.password_again.setObjectName("new_password_again")
        self.password_again.setEchoMode(QLineEdit.EchoMode.Password)
        self._build([(self.tr("User name"), self.username),
                     (self.tr("Display name"), self.display_name),
                     (self.tr("Role"), self.role),
                     (self.tr("Initial password"), self.password),
                     (self.tr("Repeat password"), self.password_again)])

    def chosen_role(self) -> Role:
        """The role picked for the new user."""
        return Role(self.role.currentData())

    def _check(self) -> None:
        if not self.username.text().strip():
            self.message.setText(self.tr("Enter a user name."))
        elif self.password.text() != self.password_again.text():
            self.message.setText(self.tr("The two passwords differ."))
        else:
            self.accept()
            return
        self.message.show()


class UsersTab(_Tab):
    """List users; add, deactivate/reactivate, reset a password."""

    def __init__(self, controller: SessionController, parent: QWidget | None = None) -> None:
        super().__init__(controller, parent)
        self.model = RecordTableModel([
            Column(self.tr("User name"), lambda u: u.username),
            Column(self.tr("Display name"), lambda u: u.display_name),
            Column(self.tr("Role"), lambda u: u.role.value),
            Column(self.tr("Active"), lambda u: u.active),
            Column(self.tr("Failed log-ins"), lambda u: u.failed_logins, True),
            Column(self.tr("Locked"), lambda u: self.tr("locked") if u.locked_until else ""),
        ], self)
        self.view = _table(self.model, "UsersView")
        self.add_button = QPushButton(self.tr("Add user…"))
        self.add_button.clicked.connect(self.add_user)
        self.toggle_button = QPushButton(self.tr("Deactivate / reactivate"))
        self.toggle_button.clicked.connect(self.toggle_active)
        self.reset_button = QPushButton(self.tr("Reset password…"))
        self.reset_button.clicked.connect(self.reset_password)
        buttons = QHBoxLayout()
        for b in (self.add_button, self.toggle_button, self.reset_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.view, 1)
        layout.addLayout(buttons)

    def refresh(self) -> None:
        """Reload the user list."""
        users = self.call(self.trial.list_users)
        if users is not None:
            self.model.set_records(users)

    def selected_user(self) -> UserInfo | None:
        """The user of the selected row, or None."""
        index = self.view.currentIndex()
        return self.model.record(index.row()) if index.isValid() else None

    def add_user(self) -> None:
        """Ask for the new user's details and create the account."""
        dialog = UserDialog(self)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        username = dialog.username.text().strip()
        if self.call(self.trial.create_user, username,
                     dialog.display_name.text().strip() or username,
                     dialog.chosen_role(), dialog.password.text()) is not None:
            self.refresh()

    def toggle_active(self) -> None:
        """Deactivate an active account or reactivate an inactive one."""
        user = self.selected_user()
        if user is None:
            QMessageBox.information(self, self.tr("Users"), self.tr("Select a user first."))
            return
        if self.call(self.trial.set_user_active, user.id, not user.active) is not None:
            self.refresh()

    def reset_password(self) -> None:
        """Set a new password for the selected user (also clears a lock-out)."""
        user = self.selected_user()
        if user is None:
            QMessageBox.information(self, self.tr("Users"), self.tr("Select a user first."))
            return
        dialog = QDialog(self)
        dialog.setWindowTitle(self.tr("Reset password of {user}").format(user=user.username))
        password = QLineEdit()
        password.setEchoMode(QLineEdit.EchoMode.Password)
        form = QFormLayout(dialog)
        form.addRow(self.tr("New password"), password)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(dialog.accept)
        buttons.rejected.connect(dialog.reject)
        form.addRow(buttons)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        if self.call(self.trial.reset_password, user.id, password.text()) is not None:
            self.refresh()


# -- import -----------------------------------------------------------------------------------
class ImportTab(_Tab):
    """Choose a folder (or zip / DICOMDIR) and import it in a worker thread."""

    def __init__(self, controller: SessionController, parent: QWidget | None = None) -> None:
        super().__init__(controller, parent)
        self.task: TaskHandle | None = None
        self.last_summary: ImportSummary | None = None
        self.path_edit = QLineEdit()
        self.path_edit.setObjectName("import_path")
        self.path_edit.setPlaceholderText(self.tr("folder, zip file or DICOMDIR"))
        browse = QPushButton(self.tr("Choose folder…"))
        browse.clicked.connect(self.choose_folder)
        self.import_button = QPushButton(self.tr("Import"))
        self.import_button.setObjectName("ImportButton")
        self.import_button.clicked.connect(self.start_import)
        self.progress_bar = QProgressBar()
        self.progress_bar.setObjectName("ImportProgress")
        self.progress_bar.setValue(0)
        self.progress_bar.setFormat(self.tr("%v of %m files"))
        self.progress_bar.setTextVisible(True)
        self.progress_bar.setStyleSheet(
            "QProgressBar { min-height: 18px; max-height: 18px; color: #ffffff; }")
        self.log = QPlainTextEdit()
        self.log.setObjectName("ImportLog")
        self.log.setReadOnly(True)
        row = QHBoxLayout()
        row.addWidget(self.path_edit, 1)
        row.addWidget(browse)
        row.addWidget(self.import_button)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.progress_bar)
        layout.addWidget(self.log, 1)

    def choose_folder(self) -> None:
        """Pick the folder to import."""
        folder = QFileDialog.getExistingDirectory(self, self.tr("Folder with DICOM files"))
        if folder:
            self.path_edit.setText(folder)

    def start_import(self) -> None:
        """Run `import_studies` in a worker thread, showing its progress."""
        path = self.path_edit.text().strip()
        if not path:
            QMessageBox.information(self, self.tr("Import"), self.tr("Choose a folder first."))
            return
        if self.task is not None and self.task.running:
            return
        self.import_button.setEnabled(False)
        self.progress_bar.setRange(0, 0)
        self.log.appendPlainText(self.tr("Importing {path} …").format(path=path))
        self.task = run_in_thread(
            self.trial.import_studies, self.controller.session, [path],
            on_progress=self._on_progress, on_done=self._on_done, on_error=self._on_error)

    def _on_progress(self, done: int, total: int) -> None:
        if total > 0:
            self.progress_bar.setRange(0, total)
            self.progress_bar.setValue(done)

    def _on_done(self, summary: ImportSummary) -> None:
        self.last_summary = summary
        self.import_button.setEnabled(True)
        maximum = max(self.progress_bar.maximum(), 1)
        self.progress_bar.setRange(0, maximum)
        self.progress_bar.setValue(maximum)
        self.log.appendPlainText(self.tr(
            "Done: {seen} files seen, {imported} imported, {dups} duplicates, {rej} rejected; "
            "new: {p} patients, {st} studies, {se} series.").format(
            seen=summary.files_seen, imported=summary.imported, dups=len(summary.duplicates),
            rej=len(summary.rejected), p=summary.new_patients, st=summary.new_studies,
            se=summary.new_series))
        for item in summary.rejected[:50]:
            self.log.appendPlainText(f"  {item.path}: {item.reason}")

    def _on_error(self, exc: BaseException) -> None:
        self.import_button.setEnabled(True)
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(0)
        self.log.appendPlainText(self.tr("Import failed: {error}").format(error=str(exc)))
        self.controller.report(exc, self, self.tr("Import"))


# -- cases ------------------------------------------------------------------------------------
class CaseDialog(_FormDialog):
    """Group series of one study into a case: subject, timepoint, days from insertion."""

    def __init__(self, subject: str, timepoints: Sequence[str],
                 series: Sequence[SeriesInfo],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("New case"))
        self.subject = QLineEdit(subject)
        self.subject.setObjectName("case_subject")
        self.timepoint = QComboBox()
        self.timepoint.setObjectName("case_timepoint")
        self.timepoint.setEditable(True)
        self.timepoint.addItems(list(timepoints))
        self.days = QSpinBox()
        self.days.setObjectName("case_days")
        self.days.setRange(-366, 3660)
        self.days.setMinimum(-367)
        self.days.setSpecialValueText(self.tr("unknown"))
        self.days.setValue(0)
        self.setMinimumWidth(560)
        self.series = QListWidget()
        self.series.setObjectName("case_series")
        self.series.setStyleSheet(
            "QListView::indicator { width: 12px; height: 12px; border: 1px solid #6a6a72;"
            " background: #1b1b1f; }"
            "QListView::indicator:checked { background: #3d9be9; border-color: #3d9be9; }")
        for row in series:
            text = self.tr("{modality}  #{number}  {description}  ({n} images)").format(
                modality=row.modality or "", number=row.series_number or "",
                description=row.series_description or "", n=row.n_instances or 0)
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, row.id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked)
            self.series.addItem(item)
        self._build([(self.tr("Subject"), self.subject),
                     (self.tr("Timepoint"), self.timepoint),
                     (self.tr("Days from insertion"), self.days),
                     (self.tr("Series"), self.series)])

    def chosen_series(self) -> list[int]:
        return [int(self.series.item(i).data(Qt.ItemDataRole.UserRole))
                for i in range(self.series.count())
                if self.series.item(i).checkState() == Qt.CheckState.Checked]

    def days_from_insertion(self) -> int | None:
        return None if self.days.value() == self.days.minimum() else self.days.value()

    def _check(self) -> None:
        if not self.chosen_series():
            self.message.setText(self.tr("Tick at least one series."))
            self.message.show()
            return
        self.accept()


class CasesTab(_Tab):
    """Imported studies, building cases from them, and the list of cases."""

    def __init__(self, controller: SessionController, parent: QWidget | None = None) -> None:
        super().__init__(controller, parent)
        self.studies_model = RecordTableModel([
            Column(self.tr("Patient ID"), lambda s: s.patient_id),
            Column(self.tr("Study date"), lambda s: s.study_date),
            Column(self.tr("Description"), lambda s: s.study_description),
            Column(self.tr("Modalities"), lambda s: s.modalities),
            Column(self.tr("Series"), lambda s: s.n_series, True),
        ], self)
        self.cases_model = RecordTableModel([
            Column(self.tr("Case label"), lambda c: c.label),
            Column(self.tr("Subject"), lambda c: c.subject),
            Column(self.tr("Timepoint"), lambda c: c.timepoint),
            Column(self.tr("Day"), lambda c: "" if c.days_from_insertion is None
                   else f"{c.days_from_insertion:+d}", True),
            Column(self.tr("Series"), lambda c: c.n_series, True),
        ], self)
        self.studies_view = _table(self.studies_model, "StudiesView")
        self.cases_view = _table(self.cases_model, "CasesView")
        self.build_button = QPushButton(self.tr("Build cases from studies"))
        self.build_button.setObjectName("BuildCasesButton")
        self.build_button.clicked.connect(self.build_cases)
        self.new_case_button = QPushButton(self.tr("New case from selected study..."))
        self.new_case_button.setObjectName("NewCaseButton")
        self.new_case_button.clicked.connect(self.new_case)
        self.result_label = QLabel()
        studies_box = QGroupBox(self.tr("Imported studies (identifying: coordinator only)"))
        QVBoxLayout(studies_box).addWidget(self.studies_view)
        cases_box = QGroupBox(self.tr("Cases"))
        QVBoxLayout(cases_box).addWidget(self.cases_view)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(studies_box)
        splitter.addWidget(cases_box)
        row = QHBoxLayout()
        row.addWidget(self.build_button)
        row.addWidget(self.new_case_button)
        row.addWidget(self.result_label, 1)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter, 1)
        layout.addLayout(row)

    def refresh(self) -> None:
        """Reload studies and cases."""
        studies = self.call(self.trial.list_studies)
        if studies is not None:
            self.studies_model.set_records(studies)
        cases = self.call(self.trial.list_cases)
        if cases is not None:
            self.cases_model.set_records(cases)

    def build_cases(self) -> None:
        """One case per (subject, study) not yet in a case."""
        created = self.call(self.trial.build_cases_from_studies)
        if created is None:
            return
        self.result_label.setText(self.tr("{n} new case(s) built.").format(n=len(created)))
        self.refresh()

    def case_dialog_for_selection(self) -> CaseDialog | None:
        """The dialog pre-filled for the selected study (None when nothing is selected)."""
        rows = self.studies_view.selectionModel().selectedRows()
        if not rows:
            self.result_label.setText(self.tr("Select a study first."))
            return None
        study = self.studies_model.record(rows[0].row())
        series = self.call(self.trial.list_series, study.id)
        active = self.call(self.trial.active_protocol)
        if series is None:
            return None
        timepoints = active[1].timepoints if active else ()
        return CaseDialog(study.patient_id or "", timepoints, series, self)

    def new_case(self) -> None:
        """Group (some of) the selected study's series into a new case."""
        dialog = self.case_dialog_for_selection()
        if dialog is None or dialog.exec() != QDialog.DialogCode.Accepted:
            return
        self.create_case_from(dialog)

    def create_case_from(self, dialog: CaseDialog) -> None:
        case = self.call(self.trial.create_case, dialog.subject.text().strip(),
                         dialog.timepoint.currentText().strip(), dialog.days_from_insertion(),
                         dialog.chosen_series())
        if case is not None:
            self.result_label.setText(self.tr("Created case {label}.").format(label=case.label))
            self.refresh()


# -- assignments -------------------------------------------------------------------------------
class AssignmentsTab(_Tab):
    """Generate assignments (seeded per-reader order, hidden re-reads), show counts."""

    def __init__(self, controller: SessionController, parent: QWidget | None = None) -> None:
        super().__init__(controller, parent)
        self.use_seed = QCheckBox(self.tr("Use seed"))
        self.use_seed.setChecked(True)
        self.seed = QSpinBox()
        self.seed.setObjectName("AssignmentSeed")
        self.seed.setRange(0, 2_000_000_000)
        self.seed.setValue(20260101)
        self.use_seed.toggled.connect(self.seed.setEnabled)
        self.generate_button = QPushButton(self.tr("Generate assignments"))
        self.generate_button.setObjectName("GenerateAssignmentsButton")
        self.generate_button.clicked.connect(self.generate)
        self.result_label = QLabel()
        self.result_label.setObjectName("AssignmentResult")
        self.result_label.setWordWrap(True)
        self.model = RecordTableModel([
            Column(self.tr("Reader"), lambda r: r[0]),
            Column(self.tr("Assignments"), lambda r: r[1], True),
        ], self)
        self.view = _table(self.model, "AssignmentCountsView")
        row = QHBoxLayout()
        row.addWidget(self.use_seed)
        row.addWidget(self.seed)
        row.addWidget(self.generate_button)
        row.addStretch(1)
        explain = QLabel(self.tr(
            "Every unassigned case goes to the protocol's number of readers, balanced, in a "
            "seeded random order per reader; a hidden re-read subset returns after the washout. "
            "The seed is recorded in the database."))
        explain.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(explain)
        layout.addLayout(row)
        layout.addWidget(self.result_label)
        layout.addWidget(self.view, 1)

    def generate(self) -> None:
        """Generate the assignments with the chosen seed (or a random one)."""
        seed = self.seed.value() if self.use_seed.isChecked() else None
        summary = self.call(self.trial.generate_assignments, seed=seed)
        if summary is None:
            return
        self.show_summary(summary)

    def show_summary(self, summary: AssignmentSummary) -> None:
        """Show the outcome of one generation."""
        self.result_label.setText(self.tr(
            "{n} assignments created ({r} hidden re-reads) with seed {seed}.").format(
            n=summary.n_assignments, r=summary.n_rereads, seed=summary.seed))
        self.model.set_records(sorted(summary.per_reader.items()))

    def refresh(self) -> None:
        """Show assigned counts per reader from the progress report."""
        report = self.call(self.trial.progress)
        if report is not None and not self.model.rowCount():
            self.model.set_records([(r.reader, r.assigned) for r in report.per_reader])


# -- progress ------------------------------------------------------------------------------------
class ProgressTab(_Tab):
    """Reads per reader (table and chart), completed cases, open discordances."""

    def __init__(self, controller: SessionController, parent: QWidget | None = None) -> None:
        super().__init__(controller, parent)
        self.report: ProgressReport | None = None
        self.summary = QLabel()
        self.summary.setObjectName("ProgressSummary")
        font = self.summary.font()
        font.setPointSizeF(font.pointSizeF() * 1.1)
        self.summary.setFont(font)
        self.readers_model = RecordTableModel([
            Column(self.tr("Reader"), lambda r: r.reader),
            Column(self.tr("Assigned"), lambda r: r.assigned, True),
            Column(self.tr("Submitted"), lambda r: r.submitted, True),
            Column(self.tr("In progress"), lambda r: r.in_progress, True),
            Column(self.tr("Not started"),
                   lambda r: max(r.assigned - r.submitted - r.in_progress, 0), True),
            Column(self.tr("Done"), lambda r: f"{100.0 * r.submitted / r.assigned:.0f} %"
                   if r.assigned else "—", True),
        ], self)
        self.readers_view = _table(self.readers_model, "ReaderProgressView")
        self._field_labels: dict[str, str] = {}
        self.discordance_model = RecordTableModel([
            Column(self.tr("Case"), lambda d: d.case_label),
            Column(self.tr("Discordant fields"),
                   lambda d: "; ".join(self._field_labels.get(f, f) for f in d.fields)),
        ], self)
        self.discordance_view = _table(self.discordance_model, "DiscordanceView")

        self.chart = QChart()
        self.chart.setTheme(QChart.ChartTheme.ChartThemeDark)
        self.chart.setBackgroundBrush(QColor("#151517"))
        self.chart.setBackgroundRoundness(2)
        self.chart.setTitle(self.tr("Cases read per reader"))
        self.chart.legend().setAlignment(Qt.AlignmentFlag.AlignBottom)
        self.chart_view = QChartView(self.chart)
        self.chart_view.setObjectName("ProgressChart")
        self.chart_view.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.chart_view.setMinimumHeight(260)

        refresh = QPushButton(self.tr("Refresh"))
        refresh.clicked.connect(self.refresh)
        top = QHBoxLayout()
        top.addWidget(self.summary, 1)
        top.addWidget(refresh)
        readers_box = QGroupBox(self.tr("Reads per reader"))
        QVBoxLayout(readers_box).addWidget(self.readers_view)
        disc_box = QGroupBox(self.tr("Open discordances"))
        QVBoxLayout(disc_box).addWidget(self.discordance_view)
        tables = QSplitter(Qt.Orientation.Horizontal)
        tables.addWidget(readers_box)
        tables.addWidget(disc_box)
        tables.setSizes([600, 400])
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(tables)
        splitter.addWidget(self.chart_view)
        splitter.setSizes([300, 340])
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(splitter, 1)

    def refresh(self) -> None:
        """Reload the progress report and redraw the chart."""
        report = self.call(self.trial.progress)
        if report is None:
            return
        self.report = report
        if report.discordant_cases and not self._field_labels:
            self._load_field_labels()
        self.summary.setText(self.tr(
            "{complete} of {total} cases complete · {open} open discordance(s)").format(
            complete=report.cases_complete, total=report.cases_total,
            open=report.open_discordances))
        self.readers_model.set_records(report.per_reader)
        self.discordance_model.set_records(report.discordant_cases)
        self._draw_chart(report.per_reader)

    def _load_field_labels(self) -> None:
        """Reader-facing names of the protocol's value keys (for the discordance list)."""
        active = self.call(self.trial.active_protocol)
        if active is None:
            return
        protocol = active[1]
        self._field_labels = {key: protocol.label_for(key) for key in protocol.keys()}

    def _draw_chart(self, per_reader: Sequence[ReaderProgress]) -> None:
        self.chart.removeAllSeries()
        for axis in list(self.chart.axes()):
            self.chart.removeAxis(axis)
        readers = [r.reader for r in per_reader]
        submitted = QBarSet(self.tr("Submitted"))
        submitted.setColor(QColor(102, 187, 106))
        in_progress = QBarSet(self.tr("In progress"))
        in_progress.setColor(QColor(255, 202, 40))
        not_started = QBarSet(self.tr("Not started"))
        not_started.setColor(QColor(96, 125, 139))
        for r in per_reader:
            submitted.append(r.submitted)
            in_progress.append(r.in_progress)
            not_started.append(max(r.assigned - r.submitted - r.in_progress, 0))
        series = QHorizontalStackedBarSeries()
        for bar_set in (submitted, in_progress, not_started):
            bar_set.setLabelColor(QColor(20, 20, 20))
            series.append(bar_set)
        series.setLabelsVisible(True)
        self.chart.addSeries(series)
        categories = QBarCategoryAxis()
        categories.append(readers)
        values = QValueAxis()
        values.setLabelFormat("%d")
        values.setRange(0, max([r.assigned for r in per_reader] + [1]))
        values.setTitleText(self.tr("cases"))
        self.chart.addAxis(categories, Qt.AlignmentFlag.AlignLeft)
        self.chart.addAxis(values, Qt.AlignmentFlag.AlignBottom)
        series.attachAxis(categories)
        series.attachAxis(values)


# -- the window ---------------------------------------------------------------------------------
class CoordinatorWindow(QMainWindow):
    """Tabs for users, import, cases, assignments and progress."""

    def __init__(self, trial: Trial, session: Session, *, idle_seconds: float | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("CoordinatorWindow")
        self.controller = SessionController(trial, session, idle_seconds=idle_seconds,
                                            parent=self)
        self.logout_requested = False
        self.setWindowTitle(self.tr("ioreview — coordination ({user})").format(
            user=self.controller.user_label))
        self.tabs = QTabWidget()
        self.users_tab = UsersTab(self.controller)
        self.import_tab = ImportTab(self.controller)
        self.cases_tab = CasesTab(self.controller)
        self.assignments_tab = AssignmentsTab(self.controller)
        self.progress_tab = ProgressTab(self.controller)
        self.tabs.addTab(self.users_tab, self.tr("Users"))
        self.tabs.addTab(self.import_tab, self.tr("Import"))
        self.tabs.addTab(self.cases_tab, self.tr("Cases"))
        self.tabs.addTab(self.assignments_tab, self.tr("Assignments"))
        self.tabs.addTab(self.progress_tab, self.tr("Progress"))
        self.tabs.currentChanged.connect(self._on_tab_changed)
        self.setCentralWidget(self.tabs)

        menu = self.menuBar().addMenu(self.tr("&Session"))
        refresh = QAction(self.tr("Refresh"), self)
        refresh.setShortcut("F5")
        refresh.triggered.connect(lambda: self._on_tab_changed(self.tabs.currentIndex()))
        lock = QAction(self.tr("Lock screen"), self)
        lock.setShortcut("Ctrl+L")
        lock.triggered.connect(lambda: self.controller.lock(self.tr("Locked by the user.")))
        logout = QAction(self.tr("Log out"), self)
        logout.triggered.connect(self.log_out)
        for action in (refresh, lock, logout):
            menu.addAction(action)
        self.statusBar().showMessage(self.tr("Signed in as {user} ({role})").format(
            user=self.controller.user_label, role=session.role.value))
        self.controller.attach(self)
        self.controller.logout_requested.connect(self.log_out)
        self.controller.unlocked.connect(lambda: self._on_tab_changed(self.tabs.currentIndex()))
        self.resize(1280, 820)
        self.users_tab.refresh()

    def _on_tab_changed(self, index: int) -> None:
        tab = self.tabs.widget(index)
        if isinstance(tab, _Tab) and not self.controller.locked:
            tab.refresh()

    def show_tab(self, tab: QWidget) -> None:
        """Switch to ``tab`` (and refresh it)."""
        self.tabs.setCurrentWidget(tab)

    def log_out(self) -> None:
        """End the session and close (the app shows the login again)."""
        self.logout_requested = True
        self.close()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt API
        """Stop idle detection and end the session when logging out."""
        self.controller.detach()
        if self.logout_requested:
            try:
                self.controller.trial.logout(self.controller.session)
            except IoreviewError:
                pass
        super().closeEvent(event)
