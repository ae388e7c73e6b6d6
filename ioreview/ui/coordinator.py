"""The coordinator's window: users, import, cases, assignments, progress, adjudication and
final outcomes.

Every tab shows what the service returns and forwards the coordinator's intent to it; the
service checks the role, writes the audit trail and computes the figures (progress counts,
discordances). Import runs in a worker thread with a progress bar.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCharts import (
    QBarCategoryAxis,
    QBarSet,
    QChart,
    QChartView,
    QHorizontalStackedBarSeries,
    QValueAxis,
)
from PySide6.QtCore import (
    QCoreApplication,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QAction, QCloseEvent, QColor, QPainter
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QInputDialog,
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
from ioreview.ui.roles import role_name
from ioreview.ui.agreement_dashboard import AgreementDashboard
from ioreview.ui.translation import ui_locale
from ioreview.ui.assignments_view import AssignmentsView
from ioreview.ui.help import add_help_menu
from ioreview.ui.session_menu import add_session_menu
from ioreview.ui.lock_screen import SessionController
from ioreview.ui.table_model import Column, RecordTableModel
from ioreview.ui.tab_base import ControllerTab as _Tab
from ioreview.ui.tab_base import iso_date, readable_time
from ioreview.ui.tab_base import table_view as _table
from ioreview.ui.workers import TaskHandle, run_in_thread

if TYPE_CHECKING:
    from adjudication.protocol import Protocol
    from ioreview.service import (
        AdjudicationOverview,
        AssignmentSummary,
        CaseAdjudicationStatus,
        FinalValueView,
        ImportSummary,
        ProgressReport,
        ReaderProgress,
        SeriesInfo,
        Session,
        Trial,
        UserInfo,
    )

__all__ = [
    "AdjudicationStatusDialog", "AdjudicationTab", "AssignmentsTab", "CasesTab", "Column", "CoordinatorWindow", "ImportTab", "ProgressTab",
    "OutcomesTab", "RecordTableModel", "UserDialog", "UsersTab", "iso_date", "readable_time",
]

_Index = QModelIndex | QPersistentModelIndex


def _day(days: int | None) -> str:
    return "—" if days is None else f"{days:+d}"


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
    """Ask for a new user's name, display name, role and initial password.  With `submit`
    (a callable that creates the account) OK calls it and a refusal is shown under the fields,
    the dialog staying open with everything typed."""

    def __init__(self, parent: QWidget | None = None,
                 submit: Callable[[UserDialog], object] | None = None) -> None:
        super().__init__(parent)
        self.submit = submit
        self.setWindowTitle(self.tr("Add user"))
        self.username = QLineEdit()
        self.username.setObjectName("new_username")
        self.display_name = QLineEdit()
        self.display_name.setObjectName("new_display_name")
        self.role = QComboBox()
        self.role.setObjectName("new_role")
        for role in Role:
            self.role.addItem(role_name(role), role.value)
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
            try:
                if self.submit is not None:
                    self.submit(self)
            except IoreviewError as exc:
                self.message.setText(str(exc))
            else:
                self.accept()
                return
        self.message.show()
        self.adjustSize()


class UsersTab(_Tab):
    """List users; add, deactivate/reactivate, reset a password."""

    def __init__(self, controller: SessionController, parent: QWidget | None = None) -> None:
        super().__init__(controller, parent)
        self.model = RecordTableModel([
            Column(self.tr("User name"), lambda u: u.username),
            Column(self.tr("Display name"), lambda u: u.display_name),
            Column(self.tr("Role"), lambda u: role_name(u.role)),
            Column(self.tr("Active"), lambda u: u.active),
            Column(self.tr("Failed log-ins"), lambda u: u.failed_logins, True),
            Column(self.tr("Locked"), lambda u: self.tr("locked") if u.locked_until else ""),
            Column(self.tr("Password"),
                   lambda u: self.tr("must be changed") if u.must_change_password else ""),
        ], self)
        self.view = _table(self.model, "UsersView")
        self.add_button = QPushButton(self.tr("Add user…"))
        self.add_button.clicked.connect(self.add_user)
        self.toggle_button = QPushButton(self.tr("Deactivate / reactivate"))
        self.toggle_button.clicked.connect(self.toggle_active)
        self.reset_button = QPushButton(self.tr("Reset password…"))
        self.reset_button.clicked.connect(self.reset_password)
        self.unlock_button = QPushButton(self.tr("Unlock account"))
        self.unlock_button.setObjectName("UnlockAccountButton")
        self.unlock_button.clicked.connect(self.unlock_account)
        buttons = QHBoxLayout()
        for b in (self.add_button, self.toggle_button, self.reset_button, self.unlock_button):
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
        """Ask for the new user's details and create the account (the user chooses a new
        password at the first log-in); a refusal is explained in the dialog, which keeps what
        was typed."""
        def create(dialog: UserDialog) -> object:
            username = dialog.username.text().strip()
            return self.trial.create_user(
                self.controller.session, username,
                dialog.display_name.text().strip() or username, dialog.chosen_role(),
                dialog.password.text(), must_change_password=True)

        if UserDialog(self, create).exec() == QDialog.DialogCode.Accepted:
            self.refresh()

    def unlock_account(self) -> None:
        """Lift the selected account's lock-out and log-in delays."""
        user = self.selected_user()
        if user is None:
            QMessageBox.information(self, self.tr("Users"), self.tr("Select a user first."))
            return
        if self.call(self.trial.unlock_account, user.id) is not None:
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
        self.progress_bar.hide()  # nothing to show until an import starts
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
        self.progress_bar.show()
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
            Column(self.tr("Study date"), lambda s: iso_date(s.study_date)),
            Column(self.tr("Description"), lambda s: s.study_description),
            Column(self.tr("Modalities"), lambda s: s.modalities),
            Column(self.tr("Series"), lambda s: s.n_series, True),
        ], self)
        self.cases_model = RecordTableModel([
            Column(self.tr("Case label"), lambda c: c.label),
            Column(self.tr("Subject"), lambda c: c.subject),
            Column(self.tr("Timepoint"), lambda c: self.timepoint_name(c.timepoint)),
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
    """Generate assignments (seeded per-reader order, hidden re-reads); the case x reader
    table with reassignment and the per-reader totals (`AssignmentsView`)."""

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
        self.assignments_view = AssignmentsView(controller)
        self.model = self.assignments_view.totals_model  # per reader, as the service counts
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
        layout.addWidget(self.assignments_view, 1)

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
        self.assignments_view.refresh()

    def refresh(self) -> None:
        """Reload the case x reader table and the per-reader totals."""
        self.assignments_view.refresh()


# -- progress ------------------------------------------------------------------------------------
class ProgressTab(_Tab):
    """Reads per reader (table and chart), completed cases, open discordances; clicking a
    discordance asks for its case in the Adjudication tab (`case_requested`)."""

    #: the label of the case whose open discordance was clicked
    case_requested = Signal(str)

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
        self.discordance_view.setToolTip(self.tr(
            "Click a case to show it in the Adjudication tab; double-click for its status"))
        self.discordance_view.clicked.connect(self._request_case)
        self.discordance_view.doubleClicked.connect(self._show_status)

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

    def _request_case(self, index: QModelIndex) -> None:
        if index.isValid():
            self.case_requested.emit(self.discordance_model.record(index.row()).case_label)

    def _show_status(self, index: QModelIndex) -> None:
        """The adjudication status of the double-clicked open discordance."""
        if not index.isValid():
            return
        label = self.discordance_model.record(index.row()).case_label
        cases = self.call(self.trial.list_cases) or []
        case = next((c for c in cases if c.label == label), None)
        if case is None:
            return
        status = self.call(self.trial.adjudication_status, case.id)
        if status is not None:
            active = self.call(self.trial.active_protocol)
            AdjudicationStatusDialog(status, self, active[1] if active else None).exec()

    def _load_field_labels(self) -> None:
        """Reader-facing names of the protocol's value keys (for the discordance list)."""
        active = self.call(self.trial.active_protocol)
        if active is None:
            return
        protocol = active[1]
        self._field_labels = {key: protocol.label_for(key, ui_locale())
                              for key in protocol.keys()}

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
        most = max([r.assigned for r in per_reader] + [1])
        values.setRange(0, most)
        # whole cases: a tick per case up to 10, else a nice step ("0 1 3 4 6" read as a bug)
        if most <= 10:
            values.setTickCount(most + 1)
        else:
            values.setTickType(QValueAxis.TickType.TicksDynamic)
            values.setTickAnchor(0)
            values.setTickInterval(max(1, round(most / 5 / 5) * 5) if most > 25 else 5)
        values.setTitleText(self.tr("cases"))
        self.chart.addAxis(categories, Qt.AlignmentFlag.AlignLeft)
        self.chart.addAxis(values, Qt.AlignmentFlag.AlignBottom)
        series.attachAxis(categories)
        series.attachAxis(values)


# -- adjudication ---------------------------------------------------------------------------------
class AdjudicationStatusDialog(QDialog):
    """Where one case stands: stage, discordant fields with rule and reason, adjudications
    (reader names behind the letters: the coordinator only), committee sessions."""

    def __init__(self, status: CaseAdjudicationStatus, parent: QWidget | None = None,
                 protocol: Protocol | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("AdjudicationStatusDialog")
        self.setWindowTitle(self.tr("Adjudication status of {case}").format(
            case=status.case_label))
        self.resize(1000, 480)
        timepoint = status.timepoint if protocol is None else \
            protocol.timepoint_label(status.timepoint, ui_locale())
        summary = QLabel(self.tr(
            "Subject {subject} · {timepoint} · day {day} · paradigm {paradigm} · stage "
            "<b>{stage}</b>{reopened}").format(
            subject=status.subject, timepoint=timepoint,
            day=_day(status.days_from_insertion), paradigm=paradigm_text(status.paradigm),
            stage=stage_text(status.stage),
            reopened=self.tr(" · reopened") if status.reopened else ""))
        summary.setWordWrap(True)
        if protocol is not None:  # the field, rule and reason in the UI language
            from ioreview.ui.adjudication import reason_text, rule_text

            locale = ui_locale()
            columns = [Column(self.tr("Field"), lambda i: _label_in(protocol, i, locale)),
                       Column(self.tr("Rule"), lambda i: rule_text(protocol, i)),
                       Column(self.tr("Reason"), lambda i: reason_text(protocol, i, locale))]
        else:
            columns = [Column(self.tr("Field"), lambda i: i.label),
                       Column(self.tr("Rule"), lambda i: i.rule),
                       Column(self.tr("Reason"), lambda i: i.reason)]
        self.items_model = RecordTableModel(columns, self)
        self.items_model.set_records(status.items)
        self.tasks_model = RecordTableModel([
            Column(self.tr("Adjudicator"), lambda t: t.adjudicator),
            Column(self.tr("Status"), lambda t: adjudication_status_text(t.status)),
            Column(self.tr("Created"), lambda t: readable_time(t.created_at)),
            Column(self.tr("Decided"), lambda t: readable_time(t.decided_at)),
            Column(self.tr("Readers"), lambda t: ", ".join(
                f"{letter}: {name}" for letter, name in sorted(t.readers.items()))),
        ], self)
        self.tasks_model.set_records(status.tasks)
        items_box = QGroupBox(self.tr("Discordant fields"))
        QVBoxLayout(items_box).addWidget(_table(self.items_model, "StatusItemsView"))
        tasks_box = QGroupBox(self.tr("Adjudications"))
        QVBoxLayout(tasks_box).addWidget(_table(self.tasks_model, "StatusTasksView"))
        extra = []
        if status.third_reader:
            extra.append(self.tr("Third reader: {name}").format(name=status.third_reader))
        if status.panel_sessions:
            extra.append(self.tr("Committee sessions: {ids}").format(
                ids=", ".join(str(i) for i in status.panel_sessions)))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(summary)
        layout.addWidget(items_box, 1)
        layout.addWidget(tasks_box, 1)
        if extra:
            layout.addWidget(QLabel(" · ".join(extra)))
        layout.addWidget(buttons)


def _label_in(protocol: Protocol, item: Any, locale: str | None) -> str:
    """A decision item's field as the protocol names it in `locale` (the service's label
    where the protocol does not know the key)."""
    try:
        return protocol.label_for(item.key, locale)
    except KeyError:
        return str(item.label)


def paradigm_text(paradigm: str) -> str:
    """How a case's disagreements are resolved, in words (the stored value as a fallback)."""
    names = {"two_plus_one": QCoreApplication.translate("Paradigm", "2 readers + adjudicator"),
             "two_of_three": QCoreApplication.translate("Paradigm", "2 of 3 readers"),
             "consensus_panel": QCoreApplication.translate("Paradigm", "consensus committee")}
    return names.get(paradigm, paradigm)


def adjudication_status_text(status: str) -> str:
    """An adjudication's status in words (the stored value as a fallback)."""
    names = {"pending": QCoreApplication.translate("AdjudicationStatus", "pending"),
             "decided": QCoreApplication.translate("AdjudicationStatus", "decided"),
             "superseded": QCoreApplication.translate("AdjudicationStatus", "superseded")}
    return names.get(status, status)


def stage_text(stage: str) -> str:
    """A case's stage in words (the stored value as a fallback)."""
    names = {"reading": QCoreApplication.translate("CaseStage", "reading"),
             "concordant": QCoreApplication.translate("CaseStage", "concordant"),
             "adjudication": QCoreApplication.translate("CaseStage", "waiting for adjudication"),
             "third_read": QCoreApplication.translate("CaseStage", "waiting for a third read"),
             "panel": QCoreApplication.translate("CaseStage", "waiting for the committee"),
             "decided": QCoreApplication.translate("CaseStage", "decided")}
    return names.get(stage, stage)


class AdjudicationTab(_Tab):
    """Cases per stage, pending and decided adjudications, the workload per adjudicator, and
    the cases past reading with reassignment and sending to the committee."""

    def __init__(self, controller: SessionController, parent: QWidget | None = None) -> None:
        super().__init__(controller, parent)
        self.overview: AdjudicationOverview | None = None
        self.stages_label = QLabel()
        self.stages_label.setObjectName("AdjudicationStages")
        self.stages_label.setWordWrap(True)
        font = self.stages_label.font()
        font.setPointSizeF(font.pointSizeF() * 1.1)
        self.stages_label.setFont(font)
        self.workload_model = RecordTableModel([
            Column(self.tr("Adjudicator"), lambda w: w.username),
            Column(self.tr("Pending"), lambda w: w.pending, True),
            Column(self.tr("Decided"), lambda w: w.decided, True),
        ], self)
        self.workload_view = _table(self.workload_model, "AdjudicatorWorkloadView")
        self.cases_model = RecordTableModel([
            Column(self.tr("Case"), lambda c: c.case_label),
            Column(self.tr("Subject"), lambda c: c.subject),
            Column(self.tr("Stage"), lambda c: stage_text(c.stage)),
            Column(self.tr("Adjudicator"), lambda c: c.tasks[-1].adjudicator if c.tasks else ""),
            Column(self.tr("Reopened"), lambda c: c.reopened),
            Column(self.tr("Discordant fields"),
                   lambda c: "; ".join(self.field_name(i.key, i.label) for i in c.items)),
        ], self)
        self.cases_view = _table(self.cases_model, "AdjudicationCasesView")
        self.cases_view.doubleClicked.connect(lambda _i: self.show_status())
        self.reassign_button = QPushButton(self.tr("Reassign…"))
        self.reassign_button.setObjectName("ReassignButton")
        self.reassign_button.clicked.connect(self.reassign)
        self.panel_button = QPushButton(self.tr("Send to committee…"))
        self.panel_button.setObjectName("SendToCommitteeButton")
        self.panel_button.clicked.connect(self.send_to_committee)
        self.status_button = QPushButton(self.tr("Status…"))
        self.status_button.clicked.connect(self.show_status)
        self.sessions_button = QPushButton(self.tr("Committee sessions…"))
        self.sessions_button.setObjectName("CommitteeSessionsButton")
        self.sessions_button.setToolTip(self.tr(
            "Create committee sessions for the cases waiting for the committee, record "
            "attendance and follow the votes"))
        self.sessions_button.clicked.connect(self.show_sessions)
        self.sessions_window: QMainWindow | None = None
        refresh = QPushButton(self.tr("Refresh"))
        refresh.clicked.connect(self.refresh)
        top = QHBoxLayout()
        top.addWidget(self.stages_label, 1)
        top.addWidget(refresh)
        workload_box = QGroupBox(self.tr("Workload per adjudicator"))
        QVBoxLayout(workload_box).addWidget(self.workload_view)
        cases_box = QGroupBox(self.tr("Cases past reading"))
        QVBoxLayout(cases_box).addWidget(self.cases_view)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(workload_box)
        splitter.addWidget(cases_box)
        splitter.setSizes([380, 1100])
        buttons = QHBoxLayout()
        for b in (self.reassign_button, self.panel_button, self.status_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(self.sessions_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(splitter, 1)
        layout.addLayout(buttons)

    def refresh(self) -> None:
        """Reload the overview."""
        overview = self.call(self.trial.adjudication_overview)
        if overview is None:
            return
        self.overview = overview
        stages = " · ".join(f"{stage_text(stage)} {n}"
                            for stage, n in sorted(overview.stages.items()))
        self.stages_label.setText(self.tr(
            "Cases per stage: {stages}<br>Adjudications: {pending} pending · {decided} decided"
            " · committee sessions: {open} open, {closed} closed").format(
            stages=stages or "—", pending=overview.pending, decided=overview.decided,
            open=overview.panel_sessions_open, closed=overview.panel_sessions_closed))
        self.workload_model.set_records(overview.workload)
        keep = self.selected_case()
        self.cases_model.set_records(overview.cases)
        if keep is not None:
            self._select(keep.case_id)

    def _select(self, case_id: int) -> None:
        for row, case in enumerate(self.cases_model.records()):
            if case.case_id == case_id:
                self.cases_view.selectRow(row)

    def select_case(self, case_label: str) -> bool:
        """Select the case labelled ``case_label`` and scroll to it (False: not past
        reading, so not listed)."""
        for row, case in enumerate(self.cases_model.records()):
            if case.case_label == case_label:
                self.cases_view.selectRow(row)
                self.cases_view.scrollTo(self.cases_model.index(row, 0))
                return True
        return False

    def selected_case(self) -> CaseAdjudicationStatus | None:
        """The case of the selected row, or None."""
        index = self.cases_view.currentIndex()
        return self.cases_model.record(index.row()) if index.isValid() else None

    def _need_case(self) -> CaseAdjudicationStatus | None:
        case = self.selected_case()
        if case is None:
            QMessageBox.information(self, self.tr("Adjudication"), self.tr("Select a case first."))
        return case

    def reassign(self) -> None:
        """Give the selected case to another adjudicator (the service checks eligibility)."""
        case = self._need_case()
        if case is None:
            return
        users = self.call(self.trial.list_users) or []
        adjudicators = [u for u in users if u.role is Role.ADJUDICATOR and u.active]
        if not adjudicators:
            QMessageBox.information(self, self.tr("Adjudication"),
                                    self.tr("There is no active adjudicator."))
            return
        names = [f"{u.username} ({u.display_name})" for u in adjudicators]
        choice, ok = QInputDialog.getItem(
            self, self.tr("Reassign {case}").format(case=case.case_label),
            self.tr("Adjudicator (who read no part of the case):"), names, 0, False)
        if not ok:
            return
        user = adjudicators[names.index(choice)]
        if self.call(self.trial.reassign_adjudication, case.case_id, user.id) is not None:
            self.refresh()

    def send_to_committee(self) -> None:
        """Send the selected case to the committee, with the reason asked for."""
        case = self._need_case()
        if case is None:
            return
        reason, ok = QInputDialog.getMultiLineText(
            self, self.tr("Send {case} to the committee").format(case=case.case_label),
            self.tr("Why does the case go to the committee?"))
        if not ok:
            return
        if self.call(self.trial.send_to_panel, case.case_id, reason) is not None:
            self.refresh()

    def show_sessions(self) -> None:
        """The committee sessions (create, attendance, votes) in their own window."""
        from ioreview.ui.committee import CommitteeWindow

        if self.sessions_window is None:
            self.sessions_window = CommitteeWindow(self.trial, self.controller.session)
            self.sessions_window.resize(1500, 950)
        self.sessions_window.show()
        self.sessions_window.raise_()
        self.sessions_window.activateWindow()

    def show_status(self) -> None:
        """The selected case's adjudication status in a dialog."""
        case = self._need_case()
        if case is None:
            return
        status = self.call(self.trial.adjudication_status, case.case_id)
        if status is not None:
            active = self.call(self.trial.active_protocol)
            AdjudicationStatusDialog(status, self, active[1] if active else None).exec()


def source_text(source: str) -> str:
    """Where a final value came from, in words."""
    names = {"concordant": QCoreApplication.translate("FinalValue", "readers agree"),
             "majority": QCoreApplication.translate("FinalValue", "2 of 3 readers"),
             "adjudicator": QCoreApplication.translate("FinalValue", "adjudicator"),
             "panel": QCoreApplication.translate("FinalValue", "committee"),
             "not_adjudicated": QCoreApplication.translate("FinalValue", "not adjudicated")}
    return names.get(source, source)


class OutcomesTab(_Tab):
    """Final values per case (value, source, detail) and endpoints per subject."""

    def __init__(self, controller: SessionController, parent: QWidget | None = None) -> None:
        super().__init__(controller, parent)
        self.protocol: Protocol | None = None
        self.values_model = RecordTableModel([
            Column(self.tr("Case"), lambda r: r[0].case_label),
            Column(self.tr("Timepoint"), lambda r: self.timepoint_name(r[0].timepoint)),
            Column(self.tr("Stage"), lambda r: stage_text(r[0].stage)),
            Column(self.tr("Field"), lambda r: self._field_name(r[1]) if r[1] else ""),
            Column(self.tr("Value"), lambda r: self._value_text(r[1]) if r[1] else ""),
            Column(self.tr("Source"), lambda r: source_text(r[1].source) if r[1] else ""),
            Column(self.tr("Detail"), lambda r: r[1].detail if r[1] else ""),
        ], self)
        self.values_view = _table(self.values_model, "FinalValuesView")
        self.only_decided = QCheckBox(self.tr("Only cases with a final outcome"))
        self.only_decided.setChecked(True)
        self.only_decided.toggled.connect(self.refresh)
        self.subjects_model = RecordTableModel([
            Column(self.tr("Subject"), lambda r: r[0]),
            Column(self.tr("Finding"), lambda r: self._finding_text(r[1].finding)),
            Column(self.tr("Present at any timepoint"),
                   lambda r: self.tr("pending") if r[1].present_any is None
                   else self.tr("yes") if r[1].present_any else self.tr("no")),
            Column(self.tr("First timepoint"), lambda r: "" if r[1].first_timepoint is None
                   else self.tr("{timepoint} (day {day})").format(
                       timepoint=self.timepoint_name(r[1].first_timepoint),
                       day=_day(r[1].first_day))),
            Column(self.tr("Worst severity"),
                   lambda r: "" if r[1].worst_severity is None else self._value_text_of(
                       f"{r[1].finding}.severity", r[1].worst_severity)),
            Column(self.tr("Complete"), lambda r: self.tr("{final} of {total} cases").format(
                final=r[1].cases_final, total=r[1].cases_total)),
        ], self)
        self.subjects_view = _table(self.subjects_model, "SubjectEndpointsView")
        refresh = QPushButton(self.tr("Refresh"))
        refresh.clicked.connect(self.refresh)
        top = QHBoxLayout()
        top.addWidget(self.only_decided)
        top.addStretch(1)
        top.addWidget(refresh)
        values_box = QGroupBox(self.tr("Final values per case"))
        QVBoxLayout(values_box).addWidget(self.values_view)
        subjects_box = QGroupBox(self.tr("Endpoints per subject"))
        QVBoxLayout(subjects_box).addWidget(self.subjects_view)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(values_box)
        splitter.addWidget(subjects_box)
        splitter.setSizes([520, 360])
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(splitter, 1)

    def _value_text_of(self, key: str, value: object) -> str:
        from ioreview.ui.adjudication import value_text

        if self.protocol is None:
            return _value(value)
        text = value_text(self.protocol, key, value, ui_locale())
        return f"{value:.4g}" if isinstance(value, float) and text == str(value) else text

    def _field_name(self, final: FinalValueView) -> str:
        """The field as the protocol names it in the UI language (the service's English
        label where the protocol does not know the key)."""
        if self.protocol is None:
            return final.label
        try:
            return self.protocol.label_for(final.key, ui_locale())
        except KeyError:
            return final.label

    def _value_text(self, final: FinalValueView) -> str:
        if isinstance(final.value, float):
            field = None
            try:
                field = self.protocol.field(final.key) if self.protocol else None
            except KeyError:
                pass
            unit = f" {field.unit}" if field is not None and field.unit else ""
            return f"{final.value:.4g}{unit}"
        return self._value_text_of(final.key, final.value)

    def _finding_text(self, finding_id: str) -> str:
        try:
            return self.protocol.finding(finding_id).label_in(ui_locale()) if self.protocol \
                else finding_id
        except KeyError:
            return finding_id

    def refresh(self) -> None:
        """Reload the final outcomes."""
        active = self.call(self.trial.active_protocol)
        self.protocol = active[1] if active is not None else None
        outcomes = self.call(self.trial.final_outcomes)
        if outcomes is None:
            return
        cases, subjects = outcomes
        rows: list[tuple[object, object]] = []
        for case in cases:
            if case.values:
                rows.extend((case, v) for v in case.values)
            elif not self.only_decided.isChecked():
                rows.append((case, None))
        self.values_model.set_records(rows)
        self.subjects_model.set_records([(s.subject, e) for s in subjects for e in s.endpoints])


def _value(value: object) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return str(value)


# -- the window ---------------------------------------------------------------------------------
class CoordinatorWindow(QMainWindow):
    """Tabs for users, import, cases, assignments, progress, adjudication, outcomes and
    agreement."""

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
        self.adjudication_tab = AdjudicationTab(self.controller)
        self.outcomes_tab = OutcomesTab(self.controller)
        self.agreement_tab = AgreementDashboard(self.controller)
        self.tabs.addTab(self.users_tab, self.tr("Users"))
        self.tabs.addTab(self.import_tab, self.tr("Import"))
        self.tabs.addTab(self.cases_tab, self.tr("Cases"))
        self.tabs.addTab(self.assignments_tab, self.tr("Assignments"))
        self.tabs.addTab(self.progress_tab, self.tr("Progress"))
        self.tabs.addTab(self.adjudication_tab, self.tr("Adjudication"))
        self.tabs.addTab(self.outcomes_tab, self.tr("Outcomes"))
        self.tabs.addTab(self.agreement_tab, self.tr("Agreement"))
        from ioreview.ui.burned_in import BurnedInTextTab  # imports this module's _Tab
        self.burned_in_tab = BurnedInTextTab(self.controller)
        self.tabs.insertTab(self.tabs.indexOf(self.cases_tab) + 1, self.burned_in_tab,
                            self.tr("Burned-in text"))
        from ioreview.ui.admin import add_admin_tabs  # the audit viewer; admin-only tabs
        self.admin_tabs = add_admin_tabs(self.tabs, self.controller)
        if session.role is Role.ADMIN:
            self.setWindowTitle(self.tr("ioreview — administration ({user})").format(
                user=self.controller.user_label))
        self.tabs.currentChanged.connect(self._on_tab_changed)
        self.progress_tab.case_requested.connect(self.show_case_adjudication)
        self.setCentralWidget(self.tabs)

        self.session_menu = add_session_menu(
            self, self.controller, refresh=lambda: self._on_tab_changed(self.tabs.currentIndex()),
            log_out=self.log_out)
        trial_menu = self.menuBar().addMenu(self.tr("&Trial"))
        self.export_action = QAction(self.tr("Export…"), self)
        self.export_action.setShortcut("Ctrl+E")
        self.export_action.triggered.connect(self.show_export)
        trial_menu.addAction(self.export_action)
        self.help_menu = add_help_menu(self, "coordinator", database=trial.store.location,
                                       protocol=self._protocol_name)
        self.statusBar().showMessage(self.tr("Signed in as {user} ({role})").format(
            user=self.controller.user_label, role=role_name(session.role)))
        self.controller.attach(self)
        self.controller.logout_requested.connect(self.log_out)
        self.controller.unlocked.connect(lambda: self._on_tab_changed(self.tabs.currentIndex()))
        self.resize(1280, 820)
        self.users_tab.refresh()

    def _protocol_name(self) -> tuple[str, str]:
        try:
            protocol = self.controller.trial.active_protocol(self.controller.session)[1]
        except IoreviewError:
            return "", ""
        return protocol.id, protocol.version

    def show_export(self) -> None:
        """The export dialog (tables, codebook, SDTM-style results, SR, report; signed)."""
        from ioreview.ui.export_dialog import ExportDialog

        if self.controller.locked:
            return
        ExportDialog(self.controller.trial, self.controller.session, self).exec()

    def _on_tab_changed(self, index: int) -> None:
        tab = self.tabs.widget(index)
        if isinstance(tab, (_Tab, AgreementDashboard)) and not self.controller.locked:
            tab.refresh()

    def show_tab(self, tab: QWidget) -> None:
        """Switch to ``tab`` (and refresh it)."""
        self.tabs.setCurrentWidget(tab)

    def show_case_adjudication(self, case_label: str) -> None:
        """The Adjudication tab with ``case_label`` selected (a clicked open discordance)."""
        self.show_tab(self.adjudication_tab)
        if not self.adjudication_tab.select_case(case_label):
            self.statusBar().showMessage(self.tr(
                "Case {case} is not past reading yet: it is not in the adjudication list.").format(
                case=case_label), 8000)

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
