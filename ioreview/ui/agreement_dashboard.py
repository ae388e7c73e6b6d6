"""The agreement dashboard (issue 10): inter- and intra-reader agreement and reader monitoring
for the coordinator (a tab of the coordination window) and the committee (its own window).

It shows the `AgreementReport` the service computes (`Trial.agreement_report`) and computes no
statistic itself: a forest plot of each field's headline statistic with its 95% CI (kappa,
quadratic-weighted kappa or ICC(A,1); PABAK and AC1 beside kappa where the kappa paradox is
flagged), a p-chart of each reader's discordance rate with 3-sigma limits, the adjudicator
agreement bars, read time and concordance by worklist position, the tables behind them and the
GRRAS summary (Kottner et al. 2011). Every chart saves as PNG and every table as CSV. Filters
(timepoint, modality, protocol version) recompute the report in a worker thread.
"""
from __future__ import annotations

import csv
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCharts import (
    QBarCategoryAxis,
    QBarSeries,
    QBarSet,
    QCategoryAxis,
    QChart,
    QChartView,
    QLineSeries,
    QScatterSeries,
    QValueAxis,
)
from PySide6.QtCore import QAbstractItemModel, QCoreApplication, QPointF, Qt
from PySide6.QtGui import QColor, QGuiApplication, QPainter, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from adjudication.agreement import explain
from adjudication.protocol import MODALITIES
from ioreview.errors import IoreviewError
from ioreview.ui.translation import ui_locale
from ioreview.ui.lock_screen import SessionController
from ioreview.ui.table_model import Column, RecordTableModel
from ioreview.ui.workers import TaskHandle, run_in_thread

if TYPE_CHECKING:
    from adjudication.agreement import Agreement
    from adjudication.protocol import Protocol
    from adjudication.reliability import (AgreementReport, FieldAgreement, Figure, IntraReader,
                                          OrderBin, ReaderMonitor)
    from ioreview.service import Trial

__all__ = ["AgreementDashboard", "AgreementWindow", "ChartPanel", "TablePanel", "agreement_window",
           "format_ci", "format_coefficient", "format_rate", "save_chart_png",
           "save_table_csv", "table_contents", "write_csv"]

#: the modalities offered first in the filter (the others follow alphabetically)
COMMON_MODALITIES = ("CR", "CT", "DX", "MR", "US")
_KIND_COLOURS = {"nominal": QColor(79, 195, 247), "ordinal": QColor(255, 183, 77),
                 "numeric": QColor(129, 199, 132)}
_PARADOX_COLOURS = {"PABAK": QColor(206, 147, 216), "AC1": QColor(240, 98, 146)}
_CHART_BACKGROUND = QColor("#151517")
_GRID = QColor(70, 70, 76)
_DASH = "–"  # en dash between CI bounds


# -- formatting (pure) ------------------------------------------------------------------------
def format_coefficient(value: float | None) -> str:
    """A coefficient with 3 decimals ("0.812"), "—" when there is none."""
    return "—" if value is None else f"{value:.3f}"


def format_ci(result: Agreement | None) -> str:
    """A statistic with its confidence interval: "0.81 (0.72–0.90)"."""
    if result is None:
        return "—"
    low, high = result.ci
    between = " to " if high < 0 else _DASH  # "-0.40 to -0.10" reads better than "-0.40–-0.10"
    return f"{result.value:.2f} ({low:.2f}{between}{high:.2f})"


def format_rate(value: float | None) -> str:
    """A proportion as a percentage with one decimal ("88.9 %")."""
    return "—" if value is None else f"{100.0 * value:.1f} %"


def _figure_text(fig: Figure | None, *, with_ci: bool = False) -> str:
    if fig is None:
        return "—"
    if fig.result is None:
        return QCoreApplication.translate("AgreementDashboard", "undefined")
    return format_ci(fig.result) if with_ci else format_coefficient(fig.result.value)


def _percent_text(fig: Figure | None) -> str:
    if fig is None or fig.result is None:
        return _figure_text(fig)
    return format_rate(fig.result.value)


# -- saving (pure of dialogs) ----------------------------------------------------------------
def save_chart_png(view: QWidget, path: str | Path) -> Path:
    """Write what ``view`` (a chart view) shows to ``path`` as a PNG image of its own size."""
    target = Path(path)
    if not view.grab().save(str(target), "PNG"):
        raise OSError(QCoreApplication.translate(
            "AgreementDashboard", "Could not write the image {path}.").format(path=target))
    return target


def table_contents(model: QAbstractItemModel) -> tuple[list[str], list[list[str]]]:
    """The header and the cell texts of a table model, as the user sees them."""
    header = [str(model.headerData(c, Qt.Orientation.Horizontal,
                                   Qt.ItemDataRole.DisplayRole) or "")
              for c in range(model.columnCount())]
    rows = [[str(model.index(r, c).data(Qt.ItemDataRole.DisplayRole) or "")
             for c in range(model.columnCount())] for r in range(model.rowCount())]
    return header, rows


def write_csv(path: str | Path, header: Sequence[str], rows: Sequence[Sequence[str]]) -> Path:
    """A CSV file in UTF-8 with a header row."""
    target = Path(path)
    with target.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return target


def save_table_csv(model: QAbstractItemModel, path: str | Path) -> Path:
    """Write a table model (header row and every row, as shown) to ``path`` as CSV."""
    return write_csv(path, *table_contents(model))


# -- building blocks --------------------------------------------------------------------------
def _axis_style(axis: QValueAxis | QCategoryAxis | QBarCategoryAxis) -> None:
    axis.setGridLineColor(_GRID)


class ChartPanel(QWidget):
    """A chart view with a "Save PNG…" button under it."""

    def __init__(self, name: str, save: Callable[[ChartPanel], None],
                 parent: QWidget | None = None, *, min_height: int = 240) -> None:
        super().__init__(parent)
        self.setObjectName(name + "Panel")
        self.chart = QChart()
        self.chart.setTheme(QChart.ChartTheme.ChartThemeDark)
        self.chart.setBackgroundBrush(_CHART_BACKGROUND)
        self.chart.setBackgroundRoundness(2)
        self.chart.legend().setAlignment(Qt.AlignmentFlag.AlignBottom)
        self.view = QChartView(self.chart)
        self.view.setObjectName(name)
        self.view.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.view.setMinimumHeight(min_height)
        self.save_button = QPushButton(self.tr("Save PNG…"))
        self.save_button.setObjectName(name + "Save")
        self.save_button.clicked.connect(lambda: save(self))
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.save_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view, 1)
        layout.addLayout(row)

    def clear(self, title: str) -> None:
        """Remove every series and axis and set the title."""
        self.chart.removeAllSeries()
        for axis in list(self.chart.axes()):
            self.chart.removeAxis(axis)
        self.chart.setTitle(title)

    def add(self, series: QLineSeries | QScatterSeries | QBarSeries, *axes: object,
            legend: bool = True) -> None:
        """Add ``series`` attached to ``axes`` (already on the chart)."""
        self.chart.addSeries(series)
        for axis in axes:
            series.attachAxis(axis)
        if not legend:
            for marker in self.chart.legend().markers(series):
                marker.setVisible(False)


class TablePanel(QWidget):
    """A read-only table with a "Save CSV…" button under it."""

    def __init__(self, name: str, columns: Sequence[Column],
                 save: Callable[[TablePanel], None], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(name + "Panel")
        self.model = RecordTableModel(columns, self)
        self.view = QTableView()
        self.view.setObjectName(name)
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setAlternatingRowColors(True)
        self.view.verticalHeader().hide()
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.save_button = QPushButton(self.tr("Save CSV…"))
        self.save_button.setObjectName(name + "Save")
        self.save_button.clicked.connect(lambda: save(self))
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.save_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view, 1)
        layout.addLayout(row)


def _boxed(title: str, widget: QWidget) -> QGroupBox:
    box = QGroupBox(title)
    QVBoxLayout(box).addWidget(widget)
    return box


# -- the dashboard ----------------------------------------------------------------------------
class AgreementDashboard(QWidget):
    """Agreement charts, tables and the GRRAS summary of the trial, with filters.

    Construct it over the window's `SessionController`; `refresh()` loads the filters (once)
    and computes the report in a worker thread ("Computing…" meanwhile)."""

    def __init__(self, controller: SessionController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("AgreementDashboard")
        self.controller = controller
        self.report: AgreementReport | None = None
        self.protocol: Protocol | None = None
        self.task: TaskHandle | None = None
        self._busy = False
        self._pending = False
        self._filters_loaded = False
        self._stat_names = {"kappa": self.tr("kappa"), "weighted kappa": self.tr("weighted kappa"),
                            "ICC(A,1)": self.tr("ICC(A,1)")}
        self._kind_names = {"nominal": self.tr("nominal"), "ordinal": self.tr("ordinal"),
                            "numeric": self.tr("numeric")}
        self._headline_names = {"nominal": self.tr("kappa (nominal)"),
                                "ordinal": self.tr("weighted kappa (ordinal)"),
                                "numeric": self.tr("ICC(A,1) (numeric)"),
                                "PABAK": self.tr("PABAK (kappa paradox)"),
                                "AC1": self.tr("AC1 (kappa paradox)")}

        # filters and status
        self.timepoint_filter = QComboBox()
        self.timepoint_filter.setObjectName("TimepointFilter")
        self.modality_filter = QComboBox()
        self.modality_filter.setObjectName("ModalityFilter")
        self.version_filter = QComboBox()
        self.version_filter.setObjectName("ProtocolVersionFilter")
        for combo in (self.timepoint_filter, self.modality_filter, self.version_filter):
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
            combo.currentIndexChanged.connect(self._filters_changed)
        self.status = QLabel()
        self.status.setObjectName("AgreementStatus")
        self.refresh_button = QPushButton(self.tr("Recompute"))
        self.refresh_button.clicked.connect(self.recompute)
        bar = QHBoxLayout()
        for label, combo in ((self.tr("Timepoint"), self.timepoint_filter),
                             (self.tr("Modality"), self.modality_filter),
                             (self.tr("Protocol version"), self.version_filter)):
            bar.addWidget(QLabel(label))
            bar.addWidget(combo)
            bar.addSpacing(12)
        bar.addWidget(self.status, 1)
        bar.addWidget(self.refresh_button)

        # agreement per field
        self.forest = ChartPanel("ForestPlot", self.save_chart, min_height=320)
        self.undefined_list = QListWidget()
        self.undefined_list.setObjectName("UndefinedFields")
        self.undefined_list.setWordWrap(True)
        self.paradox_list = QListWidget()
        self.paradox_list.setObjectName("ParadoxFields")
        self.paradox_list.setWordWrap(True)
        notes = QSplitter(Qt.Orientation.Vertical)
        notes.addWidget(_boxed(self.tr("Kappa paradox (see PABAK and AC1)"), self.paradox_list))
        notes.addWidget(_boxed(self.tr("Not estimable on these data"), self.undefined_list))
        notes.setSizes([160, 340])
        self.fields_table = TablePanel("FieldAgreementTable", self._field_columns(),
                                       self.save_table)
        top = QSplitter(Qt.Orientation.Horizontal)
        top.addWidget(self.forest)
        top.addWidget(notes)
        top.setStretchFactor(0, 3)
        top.setStretchFactor(1, 1)
        top.setSizes([1180, 340])
        fields_page = QSplitter(Qt.Orientation.Vertical)
        fields_page.addWidget(top)
        fields_page.addWidget(self.fields_table)
        fields_page.setSizes([620, 300])

        # readers
        self.pcharts: list[ChartPanel] = []
        self.pchart_grid = QGridLayout()
        pchart_holder = QWidget()
        pchart_holder.setLayout(self.pchart_grid)
        self.pchart_scroll = QScrollArea()
        self.pchart_scroll.setWidgetResizable(True)
        self.pchart_scroll.setWidget(pchart_holder)
        self.adjudicator_chart = ChartPanel("AdjudicatorAgreementChart", self.save_chart)
        self.readers_table = TablePanel("ReaderMonitorTable", self._reader_columns(),
                                        self.save_table)
        lower = QSplitter(Qt.Orientation.Horizontal)
        lower.addWidget(self.adjudicator_chart)
        lower.addWidget(self.readers_table)
        lower.setSizes([700, 820])
        readers_page = QSplitter(Qt.Orientation.Vertical)
        readers_page.addWidget(_boxed(self.tr("Discordance rate per reader (p-charts, 3-sigma "
                                              "limits)"), self.pchart_scroll))
        readers_page.addWidget(lower)
        readers_page.setSizes([480, 420])

        # re-reads and worklist order
        self.read_time_chart = ChartPanel("ReadTimeChart", self.save_chart)
        self.intra_table = TablePanel("IntraReaderTable", self._intra_columns(), self.save_table)
        self.intra_note = QLabel()
        self.intra_note.setObjectName("IntraReaderNote")
        self.intra_note.setWordWrap(True)
        intra_box = _boxed(self.tr("Intra-reader agreement (hidden re-reads)"), self.intra_note)
        intra_box.layout().addWidget(self.intra_table)
        order_page = QSplitter(Qt.Orientation.Horizontal)
        order_page.addWidget(intra_box)
        order_page.addWidget(_boxed(self.tr("Read time and concordance by worklist position"),
                                    self.read_time_chart))
        order_page.setSizes([760, 760])

        # GRRAS summary
        self.summary = QPlainTextEdit()
        self.summary.setObjectName("GrrasSummary")
        self.summary.setReadOnly(True)
        font = self.summary.font()
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self.summary.setFont(font)
        self.copy_button = QPushButton(self.tr("Copy"))
        self.copy_button.setObjectName("CopySummary")
        self.copy_button.clicked.connect(self.copy_summary)
        summary_page = QWidget()
        summary_layout = QVBoxLayout(summary_page)
        summary_layout.addWidget(QLabel(self.tr(
            "A GRRAS-style paragraph (Kottner et al. 2011) to paste into a report:")))
        summary_layout.addWidget(self.summary, 1)
        copy_row = QHBoxLayout()
        copy_row.addStretch(1)
        copy_row.addWidget(self.copy_button)
        summary_layout.addLayout(copy_row)

        self.pages = QTabWidget()
        self.pages.setObjectName("AgreementPages")
        self.pages.addTab(fields_page, self.tr("Agreement per field"))
        self.pages.addTab(readers_page, self.tr("Reader monitoring"))
        self.pages.addTab(order_page, self.tr("Re-reads and worklist order"))
        self.pages.addTab(summary_page, self.tr("GRRAS summary"))
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.pages, 1)
        self.status.setText(self.tr("Not computed yet."))

    # -- columns ---------------------------------------------------------------------------
    def _field_columns(self) -> list[Column]:
        def headline(f: FieldAgreement) -> str:
            return _figure_text(f.headline, with_ci=True)

        def statistic(f: FieldAgreement) -> str:
            h = f.headline
            return "" if h is None else self._stat_names.get(h.name, h.name)

        def note(f: FieldAgreement) -> str:
            reasons = [f"{self._stat_names.get(fig.name, fig.name)}: "
                       f"{self.reason_text(fig.error)}" for fig in f.figures if fig.error]
            if f.limits_error:
                reasons.append(self.tr("limits of agreement: {reason}").format(
                    reason=self.reason_text(f.limits_error)))
            return "; ".join(reasons)

        def limits(f: FieldAgreement) -> str:
            if f.limits is None:
                return "—" if f.kind == "numeric" else ""
            return f"{f.limits.lower:.2f} to {f.limits.upper:.2f}"

        def bias(f: FieldAgreement) -> str:
            if f.limits is None:
                return "—" if f.kind == "numeric" else ""
            low, high = f.limits.bias_ci
            between = " to " if high < 0 else _DASH
            return f"{f.limits.bias:.2f} ({low:.2f}{between}{high:.2f})"

        return [
            Column(self.tr("Field"), lambda f: self._label(f.key, f.label)),
            Column(self.tr("Kind"), lambda f: self._kind_names.get(f.kind, f.kind)),
            Column(self.tr("n"), lambda f: f.n, True),
            Column(self.tr("Percent agreement"), lambda f: _percent_text(f.figure("percent")),
                   True),
            Column(self.tr("Statistic"), statistic),
            Column(self.tr("Value (95% CI)"), headline, True),
            Column(self.tr("PABAK"), lambda f: _figure_text(f.figure("PABAK")), True),
            Column(self.tr("AC1"), lambda f: _figure_text(f.figure("AC1")), True),
            Column(self.tr("Krippendorff's alpha"), lambda f: _figure_text(f.figure("alpha")),
                   True),
            Column(self.tr("Prevalence"), lambda f: format_rate(f.prevalence)
                   if f.prevalence is not None else "", True),
            Column(self.tr("Kappa paradox"), lambda f: self.tr("yes") if f.paradox else ""),
            Column(self.tr("Bland-Altman bias (95% CI)"), bias, True),
            Column(self.tr("Limits of agreement"), limits, True),
            Column(self.tr("Why undefined"), note),
        ]

    def _intra_columns(self) -> list[Column]:
        def interval(i: IntraReader) -> str:
            return "—" if i.interval_days is None else f"{i.interval_days:.1f}"

        return [
            Column(self.tr("Reader"), lambda i: i.reader),
            Column(self.tr("Finding"), lambda i: self._label(i.key, i.label)),
            Column(self.tr("n"), lambda i: i.n, True),
            Column(self.tr("Percent agreement"),
                   lambda i: _percent_text(next((f for f in i.figures if f.name == "percent"),
                                                None)), True),
            Column(self.tr("Kappa (95% CI)"),
                   lambda i: _figure_text(next((f for f in i.figures if f.name == "kappa"),
                                               None), with_ci=True), True),
            Column(self.tr("Interval (days)"), interval, True),
        ]

    def _reader_columns(self) -> list[Column]:
        def by_finding(m: ReaderMonitor) -> str:
            return "; ".join(f"{self._finding_label(fid)} {format_rate(rate)}"
                             for fid, rate in m.by_finding.items() if rate > 0)

        return [
            Column(self.tr("Reader"), lambda m: m.reader),
            Column(self.tr("Cases read"), lambda m: m.cases_read, True),
            Column(self.tr("Discordant"), lambda m: m.adjudicated, True),
            Column(self.tr("Adjudication rate"), lambda m: format_rate(m.adjudication_rate),
                   True),
            Column(self.tr("Adjudicated items"), lambda m: f"{m.sided} / {m.items}", True),
            Column(self.tr("Adjudicator agreement"), lambda m: format_rate(m.agreement_rate),
                   True),
            Column(self.tr("RDI"), lambda m: format_coefficient(m.rdi), True),
            Column(self.tr("Periods out of limits"),
                   lambda m: sum(1 for p in m.pchart if p.out), True),
            Column(self.tr("Discordant by finding"), by_finding),
        ]

    def _label(self, key: str, fallback: str) -> str:
        """The protocol's name of a value key in the UI language."""
        if self.protocol is None:
            return fallback
        try:
            return self.protocol.label_for(key, ui_locale())
        except (KeyError, ValueError):
            return fallback

    def _finding_label(self, finding_id: str) -> str:
        if self.protocol is None:
            return finding_id
        try:
            return self.protocol.finding(finding_id).label_in(ui_locale())
        except KeyError:
            return finding_id

    # -- the service --------------------------------------------------------------------------
    @property
    def trial(self) -> Trial:
        """The service the dashboard asks for the report."""
        return self.controller.trial

    @property
    def busy(self) -> bool:
        """True while a report is being computed."""
        return self._busy

    def refresh(self) -> None:
        """Load the filters (first time) and recompute the report."""
        if not self._filters_loaded:
            self._load_filters()
        self.recompute()

    def _load_filters(self) -> None:
        session = self.controller.session
        try:
            version_id, protocol = self.trial.active_protocol(session)
            versions = self.trial.protocol_versions(session)
        except IoreviewError as exc:
            self.controller.report(exc, self, self.tr("Agreement"))
            return
        self.protocol = protocol
        locale = ui_locale()
        combos = (self.timepoint_filter, self.modality_filter, self.version_filter)
        for combo in combos:
            combo.blockSignals(True)
            combo.clear()
        self.timepoint_filter.addItem(self.tr("All timepoints"), None)
        for tp in protocol.timepoints:
            self.timepoint_filter.addItem(protocol.timepoint_label(tp, locale), tp)
        self.modality_filter.addItem(self.tr("All modalities"), None)
        for code in COMMON_MODALITIES + tuple(sorted(MODALITIES - set(COMMON_MODALITIES))):
            self.modality_filter.addItem(code, code)
        self.version_filter.addItem(self.tr("All versions"), None)
        for v in versions:
            text = f"{v.protocol_id} {v.version}"
            if v.id == version_id:
                text = self.tr("{version} (active)").format(version=text)
            self.version_filter.addItem(text, v.id)
        for combo in combos:
            combo.blockSignals(False)
        self._filters_loaded = True

    def filters(self) -> dict[str, object]:
        """The chosen filters as keyword arguments of `agreement_report`."""
        return {"timepoint": self.timepoint_filter.currentData(),
                "modality": self.modality_filter.currentData(),
                "protocol_version_id": self.version_filter.currentData()}

    def _filters_changed(self) -> None:
        if self._filters_loaded:
            self.recompute()

    def recompute(self) -> None:
        """Compute the report for the chosen filters in a worker thread; a request made while
        one runs is served (with the newest filters) once it ends."""
        if self._busy:
            self._pending = True
            return
        self._busy = True
        self._pending = False
        self.status.setText(self.tr("Computing…"))
        self.refresh_button.setEnabled(False)
        self.task = run_in_thread(self.trial.agreement_report, self.controller.session,
                                  on_done=self._on_done, on_error=self._on_error,
                                  **self.filters())

    def _finished(self) -> bool:
        """End of a computation; True when a newer request is waiting (and was started)."""
        self._busy = False
        self.refresh_button.setEnabled(True)
        if self._pending:
            self.recompute()
            return True
        return False

    def _on_done(self, report: AgreementReport) -> None:
        if self._finished():
            return
        self.show_report(report)

    def _on_error(self, exc: BaseException) -> None:
        if self._finished():
            return
        self.status.setText(self.tr("Not computed: {error}").format(error=str(exc)))
        self.controller.report(exc, self, self.tr("Agreement"))

    # -- showing --------------------------------------------------------------------------
    def show_report(self, report: AgreementReport) -> None:
        """Fill every chart, table and the summary from ``report``."""
        self.report = report
        self.status.setText(self.tr(
            "{cases} cases · {subjects} subjects · {readers} readers · {rereads} re-reads")
            .format(cases=report.n_cases, subjects=report.n_subjects,
                    readers=report.n_readers, rereads=report.n_rereads))
        self.fields_table.model.set_records(report.fields)
        self.intra_table.model.set_records(report.intra)
        self.intra_note.setText("" if report.intra else self.tr(
            "No hidden re-read has been signed in this selection yet: re-reads become "
            "available to readers after the protocol's washout."))
        self.intra_note.setVisible(not report.intra)
        self.readers_table.model.set_records(report.readers)
        self.summary.setPlainText(report.summary)
        self._draw_forest(report.fields)
        self._list_notes(report.fields)
        self._draw_pcharts(report.readers)
        self._draw_adjudicator_bars(report.readers)
        self._draw_read_time(report.order)

    def reason_text(self, message: str | None) -> str:
        """Why a statistic is undefined, in the UI language (`adjudication.agreement` gives
        the reason as a code with parameters; an unknown one is shown as it came)."""
        reason = explain(message or "")
        if reason is None:
            return message or ""
        p = reason.params
        if reason.code == "too_few_subjects":
            return self.tr("needs at least {minimum} subject(s) with complete ratings; got {n}"
                           ).format(minimum=p["minimum"], n=p["n"])
        if reason.code == "too_few_subjects_dropped":
            return self.tr("needs at least {minimum} subject(s) with complete ratings; got {n} "
                           "({dropped} more left out for a missing rating)").format(
                minimum=p["minimum"], n=p["n"], dropped=p["dropped"])
        if reason.code in ("chance_agreement_one", "single_label"):
            return self.tr("undefined: both readers gave one and the same answer on every case, "
                           "so chance agreement is 1; see percent agreement and AC1")
        if reason.code == "one_category":
            return self.tr("undefined: only one answer occurs on these cases")
        if reason.code == "too_few_units":
            return self.tr("needs at least 2 cases read by two or more readers; got {n}").format(
                n=p["n"])
        if reason.code == "no_variance":
            return self.tr("undefined: every value is the same (no variance)")
        if reason.code == "too_few_pairs":
            return self.tr("needs at least 2 pairs of measurements; got {n} ({dropped} left "
                           "out for a missing value)").format(n=p["n"], dropped=p["dropped"])
        return message or ""

    def _list_notes(self, fields: Sequence[FieldAgreement]) -> None:
        self.undefined_list.clear()
        self.paradox_list.clear()
        for f in fields:
            h = f.headline
            if h is not None and h.result is None:
                self.undefined_list.addItem(self.tr("{field} ({statistic}, n = {n}): {reason}")
                                            .format(field=self._label(f.key, f.label),
                                                    statistic=self._stat_names.get(h.name,
                                                                                   h.name),
                                                    n=f.n, reason=self.reason_text(h.error)))
            if f.paradox:
                self.paradox_list.addItem(self.tr(
                    "{field}: kappa {kappa} with {percent} agreement (prevalence {prev}); "
                    "PABAK {pabak}, AC1 {ac1}").format(
                    field=self._label(f.key, f.label),
                    kappa=_figure_text(f.figure("kappa"), with_ci=True),
                    percent=_percent_text(f.figure("percent")),
                    prev=format_rate(f.prevalence),
                    pabak=_figure_text(f.figure("PABAK"), with_ci=True),
                    ac1=_figure_text(f.figure("AC1"), with_ci=True)))
        if not self.undefined_list.count():
            self.undefined_list.addItem(self.tr("Every field's statistic is defined."))
        if not self.paradox_list.count():
            self.paradox_list.addItem(self.tr("No field is flagged."))

    def _draw_forest(self, fields: Sequence[FieldAgreement]) -> None:
        """Headline statistic and 95% CI per field, top to bottom in form order."""
        panel = self.forest
        panel.clear(self.tr("Inter-reader agreement per field (95% CI)"))
        shown = [f for f in fields if f.headline is not None and f.headline.result is not None]
        n = len(shown)
        low_end, high_end = -1.0, 1.0
        x_axis = QCategoryAxis()  # labelled ticks at exact steps of 0.2
        y_axis = QCategoryAxis()
        y_axis.setLabelsPosition(QCategoryAxis.AxisLabelsPosition.AxisLabelsPositionOnValue)
        y_axis.setRange(-0.75, max(n, 1) - 0.25)
        _axis_style(y_axis)
        font = y_axis.labelsFont()
        font.setPointSizeF(max(7.0, font.pointSizeF() * 0.9))
        y_axis.setLabelsFont(font)
        used: set[str] = set()
        labels = []
        for f in shown:
            head = f.headline
            assert head is not None and head.result is not None
            label = f"{self._label(f.key, f.label)}   {format_ci(head.result)}"
            if f.paradox:
                label += " ⚠"
            while label in used:  # a category axis keeps one label per text
                label += "\u200b"
            used.add(label)
            labels.append(label)
        for i in reversed(range(n)):
            y_axis.append(labels[i], float(n - 1 - i))
        lowest = min([-0.2] + [f.headline.result.ci[0] for f in shown
                               if f.headline and f.headline.result])
        axis_min = max(low_end, math.floor((lowest - 0.02) / 0.2) * 0.2)  # ticks at 0.2 steps
        # a little room beyond both ends, so a marker at 1.00 is drawn whole, not halved
        x_axis.setRange(axis_min - 0.04, high_end + 0.04)
        x_axis.setLabelsPosition(QCategoryAxis.AxisLabelsPosition.AxisLabelsPositionOnValue)
        for k in range(round(axis_min / 0.2), round(high_end / 0.2) + 1):
            x_axis.append(f"{k * 0.2:.1f}".replace("-0.0", "0.0"), round(k * 0.2, 10))
        x_axis.setTitleText(self.tr("kappa / weighted kappa / ICC(A,1)"))
        _axis_style(x_axis)
        panel.chart.addAxis(x_axis, Qt.AlignmentFlag.AlignBottom)
        panel.chart.addAxis(y_axis, Qt.AlignmentFlag.AlignLeft)

        def clip(v: float) -> float:
            return min(high_end, max(axis_min, v))

        zero = QLineSeries()
        zero.append(0.0, -0.75)
        zero.append(0.0, max(n, 1) - 0.25)
        panel.add(zero, x_axis, y_axis, legend=False)
        pen = QPen(QColor(160, 160, 168), 1, Qt.PenStyle.DashLine)
        zero.setPen(pen)

        points: dict[str, QScatterSeries] = {}
        for i, f in enumerate(shown):
            y = float(n - 1 - i)
            entries = [("headline", f.headline, 0.0)]
            if f.paradox:
                entries += [("PABAK", f.figure("PABAK"), 0.22), ("AC1", f.figure("AC1"), -0.22)]
            for kind, fig, dy in entries:
                if fig is None or fig.result is None:
                    continue
                colour = (_KIND_COLOURS[f.kind] if kind == "headline"
                          else _PARADOX_COLOURS[kind])
                whisker = QLineSeries()
                whisker.append(clip(fig.result.ci[0]), y + dy)
                whisker.append(clip(fig.result.ci[1]), y + dy)
                panel.add(whisker, x_axis, y_axis, legend=False)
                whisker.setPen(QPen(colour, 2 if kind == "headline" else 1.5))
                key = f.kind if kind == "headline" else kind
                if key not in points:
                    series = QScatterSeries()
                    series.setName(self._headline_names[key])
                    series.setMarkerSize(11.0 if kind == "headline" else 8.0)
                    series.setMarkerShape(QScatterSeries.MarkerShape.MarkerShapeRectangle
                                          if kind == "headline"
                                          else QScatterSeries.MarkerShape.MarkerShapeCircle)
                    points[key] = series
                points[key].append(QPointF(clip(fig.result.value), y + dy))
        for key, series in points.items():
            panel.add(series, x_axis, y_axis)
            colour = _KIND_COLOURS.get(key) or _PARADOX_COLOURS[key]
            series.setColor(colour)
            series.setBorderColor(colour)
        panel.view.setMinimumHeight(max(320, 26 * n + 120))

    def _draw_pcharts(self, readers: Sequence[ReaderMonitor]) -> None:
        """One p-chart per reader: discordance rate per period, centre line, 3-sigma limits,
        out-of-limit periods in red."""
        for panel in self.pcharts:
            self.pchart_grid.removeWidget(panel)
            panel.deleteLater()
        self.pcharts = []
        columns = 3 if len(readers) > 4 else max(1, min(len(readers), 3))
        for index, m in enumerate(readers):
            panel = ChartPanel(f"PChart{index + 1}", self.save_chart, min_height=260)
            panel.setProperty("reader", m.reader)
            self._draw_pchart(panel, m)
            self.pchart_grid.addWidget(panel, index // columns, index % columns)
            self.pcharts.append(panel)

    def _draw_pchart(self, panel: ChartPanel, m: ReaderMonitor) -> None:
        panel.clear(self.tr("{reader}: discordance rate (centre {centre})").format(
            reader=m.reader, centre=format_rate(m.centre)))
        points = m.pchart
        x_axis = QCategoryAxis()
        x_axis.setLabelsPosition(QCategoryAxis.AxisLabelsPosition.AxisLabelsPositionOnValue)
        x_axis.setRange(-0.5, max(len(points), 1) - 0.5)
        for k, p in enumerate(points):
            x_axis.append(f"{p.period} (n={p.n})", float(k))
        y_axis = QValueAxis()
        top = max([p.ucl for p in points] + [p.p for p in points] + [0.1])
        upper = 100.0 * top * 1.1 + 1
        if upper > 100.0:  # room above 100 % for the markers, ticks up to 100 %
            y_axis.setRange(0.0, 106.0)
            y_axis.setTickType(QValueAxis.TickType.TicksDynamic)
            y_axis.setTickAnchor(0.0)
            y_axis.setTickInterval(20.0)
        else:
            y_axis.setRange(0.0, upper)
            y_axis.applyNiceNumbers()
        y_axis.setLabelFormat("%.0f %%")
        y_axis.setTitleText(self.tr("discordant cases"))
        for axis in (x_axis, y_axis):
            _axis_style(axis)
        panel.chart.addAxis(x_axis, Qt.AlignmentFlag.AlignBottom)
        panel.chart.addAxis(y_axis, Qt.AlignmentFlag.AlignLeft)
        if not points:
            return
        ucl, lcl = QLineSeries(), QLineSeries()
        ucl.setName(self.tr("3-sigma limits"))
        for k, p in enumerate(points):  # limits step with each period's n
            ucl.append(k - 0.5, 100.0 * p.ucl)
            ucl.append(k + 0.5, 100.0 * p.ucl)
            lcl.append(k - 0.5, 100.0 * p.lcl)
            lcl.append(k + 0.5, 100.0 * p.lcl)
        centre = QLineSeries()
        centre.setName(self.tr("centre line"))
        centre.append(-0.5, 100.0 * (m.centre or 0.0))
        centre.append(len(points) - 0.5, 100.0 * (m.centre or 0.0))
        rate = QLineSeries()
        rate.setName(self.tr("discordance rate"))
        for k, p in enumerate(points):
            rate.append(float(k), 100.0 * p.p)
        panel.add(ucl, x_axis, y_axis)
        panel.add(lcl, x_axis, y_axis, legend=False)
        panel.add(centre, x_axis, y_axis)
        panel.add(rate, x_axis, y_axis)
        limit_pen = QPen(QColor(239, 154, 154), 1.5, Qt.PenStyle.DashLine)
        ucl.setPen(limit_pen)
        lcl.setPen(limit_pen)
        centre.setPen(QPen(QColor(176, 190, 197), 1.5))
        rate.setPen(QPen(QColor(79, 195, 247), 2))
        rate.setPointsVisible(True)
        rate.setMarkerSize(8.0)
        out = [(k, p) for k, p in enumerate(points) if p.out]
        if out:
            flagged = QScatterSeries()
            flagged.setName(self.tr("outside the limits"))
            for k, p in out:
                flagged.append(float(k), 100.0 * p.p)
            panel.add(flagged, x_axis, y_axis)
            flagged.setColor(QColor(244, 67, 54))
            flagged.setMarkerSize(12.0)

    def _draw_adjudicator_bars(self, readers: Sequence[ReaderMonitor]) -> None:
        panel = self.adjudicator_chart
        panel.clear(self.tr("Adjudication per reader"))
        sets = [(self.tr("adjudicator sided with the reader"), QColor(102, 187, 106),
                 [m.agreement_rate for m in readers]),
                (self.tr("adjudication rate"), QColor(255, 202, 40),
                 [m.adjudication_rate for m in readers]),
                (self.tr("RDI"), QColor(239, 83, 80), [m.rdi for m in readers])]
        series = QBarSeries()
        for name, colour, values in sets:
            bar_set = QBarSet(name)
            bar_set.setColor(colour)
            bar_set.setLabelColor(QColor(235, 235, 235))
            font = bar_set.labelFont()
            font.setPointSizeF(max(7.0, font.pointSizeF() * 0.85))
            bar_set.setLabelFont(font)
            for v in values:
                bar_set.append(round(100.0 * (v or 0.0), 1))
            series.append(bar_set)
        series.setBarWidth(0.85)
        series.setLabelsVisible(True)
        series.setLabelsFormat("@value %")
        series.setLabelsPosition(QBarSeries.LabelsPosition.LabelsOutsideEnd)
        categories = QBarCategoryAxis()
        categories.append([m.reader for m in readers])
        values_axis = QValueAxis()
        values_axis.setRange(0, 112)  # room for the labels above a full bar
        values_axis.setTickType(QValueAxis.TickType.TicksDynamic)
        values_axis.setTickAnchor(0.0)
        values_axis.setTickInterval(20.0)
        values_axis.setLabelFormat("%.0f %%")
        for axis in (categories, values_axis):
            _axis_style(axis)
        panel.chart.addAxis(categories, Qt.AlignmentFlag.AlignBottom)
        panel.chart.addAxis(values_axis, Qt.AlignmentFlag.AlignLeft)
        panel.add(series, categories, values_axis)

    def _draw_read_time(self, order: Sequence[OrderBin]) -> None:
        panel = self.read_time_chart
        panel.clear(self.tr("Mean read time and concordance by worklist position"))
        categories = QBarCategoryAxis()
        categories.append([f"{b.first}{_DASH}{b.last}" for b in order])
        categories.setTitleText(self.tr("position in the reader's worklist"))
        seconds_axis = QValueAxis()
        top = max([b.mean_seconds or 0.0 for b in order] + [1.0])
        seconds_axis.setRange(0, top * 1.1)
        seconds_axis.applyNiceNumbers()
        seconds_axis.setLabelFormat("%.0f")
        seconds_axis.setTitleText(self.tr("mean read time (s)"))
        rate_axis = QValueAxis()
        rate_axis.setRange(0, 100)
        rate_axis.setLabelFormat("%.0f %%")
        rate_axis.setTitleText(self.tr("concordant cases"))
        for axis in (categories, seconds_axis, rate_axis):
            _axis_style(axis)
        rate_axis.setGridLineVisible(False)
        panel.chart.addAxis(categories, Qt.AlignmentFlag.AlignBottom)
        panel.chart.addAxis(seconds_axis, Qt.AlignmentFlag.AlignLeft)
        panel.chart.addAxis(rate_axis, Qt.AlignmentFlag.AlignRight)
        seconds = QBarSet(self.tr("mean read time (s)"))
        seconds.setColor(QColor(96, 125, 139))
        seconds.setLabelColor(QColor(235, 235, 235))
        for b in order:
            seconds.append(round(b.mean_seconds or 0.0))
        bars = QBarSeries()
        bars.append(seconds)
        bars.setLabelsVisible(True)
        bars.setLabelsPosition(QBarSeries.LabelsPosition.LabelsInsideEnd)
        panel.add(bars, categories, seconds_axis)
        concordant = QLineSeries()
        concordant.setName(self.tr("concordant cases"))
        for k, b in enumerate(order):
            if b.concordant_rate is not None:
                concordant.append(float(k), 100.0 * b.concordant_rate)
        panel.add(concordant, categories, rate_axis)
        concordant.setPen(QPen(QColor(129, 199, 132), 2.5))
        concordant.setPointsVisible(True)
        concordant.setMarkerSize(9.0)

    # -- saving and copying -----------------------------------------------------------------
    def save_chart(self, panel: ChartPanel) -> None:
        """Ask where to save ``panel``'s chart and write it as PNG."""
        name = panel.view.objectName()
        reader = panel.property("reader")
        suggestion = f"agreement-{name}{'-' + str(reader) if reader else ''}.png"
        path, _ = QFileDialog.getSaveFileName(self, self.tr("Save chart"), suggestion,
                                              self.tr("PNG image (*.png)"))
        if not path:
            return
        try:
            save_chart_png(panel.view, path)
        except OSError as exc:
            QMessageBox.warning(self, self.tr("Save chart"), str(exc))
            return
        self.status.setText(self.tr("Saved {path}").format(path=path))

    def save_table(self, panel: TablePanel) -> None:
        """Ask where to save ``panel``'s table and write it as CSV."""
        suggestion = f"agreement-{panel.view.objectName()}.csv"
        path, _ = QFileDialog.getSaveFileName(self, self.tr("Save table"), suggestion,
                                              self.tr("CSV file (*.csv)"))
        if not path:
            return
        try:
            save_table_csv(panel.model, path)
        except OSError as exc:
            QMessageBox.warning(self, self.tr("Save table"), str(exc))
            return
        self.status.setText(self.tr("Saved {path}").format(path=path))

    def copy_summary(self) -> None:
        """Put the GRRAS summary on the clipboard."""
        QGuiApplication.clipboard().setText(self.summary.toPlainText())


class AgreementWindow(QWidget):
    """The dashboard in a window of its own (the committee opens it); it closes when the
    session locks, as the window it was opened from is covered then."""

    def __init__(self, controller: SessionController, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setObjectName("AgreementWindow")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.setWindowTitle(self.tr("ioreview — agreement statistics"))
        self.dashboard = AgreementDashboard(controller, self)
        QVBoxLayout(self).addWidget(self.dashboard)
        controller.locked_changed.connect(self._on_locked)
        self.resize(1600, 1000)

    def _on_locked(self, locked: bool) -> None:
        if locked:
            self.close()


def agreement_window(controller: SessionController, parent: QWidget | None = None
                     ) -> AgreementWindow:
    """Open the dashboard in its own window and start computing."""
    window = AgreementWindow(controller, parent)
    window.show()
    window.dashboard.refresh()
    return window
