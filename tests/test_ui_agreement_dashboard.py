"""The agreement dashboard over a real trial: signed reads, hidden re-reads signed after the
washout and decided adjudications, all through the service. The coordinator's tab shows every
chart with data and every table with rows, recomputes when a filter changes, and saves charts
(PNG) and tables (CSV); the committee's window shows readers by pseudonym; a reader is refused."""
from __future__ import annotations

import csv
import random
from collections.abc import Iterator

import pytest
from PySide6.QtCharts import QBarSeries, QChartView, QXYSeries
from PySide6.QtGui import QGuiApplication, QImage
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox

from adjudication.paradigms import Decision
from ioreview import auth
from ioreview.service import Role
from ioreview.ui.agreement_dashboard import (AgreementDashboard, AgreementWindow, save_chart_png,
                                             save_table_csv)
from ioreview.ui.committee import CommitteeWindow
from ioreview.ui.coordinator import CoordinatorWindow
from ioreview.ui.lock_screen import SessionController
from test_agreement_report import _sign_everything
from test_trial_helpers import PASSWORDS, World, make_world
from ui_support import choose, click

COMMITTEE_PASSWORD = "cm-password1"


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """Three readers' signed reads and re-reads (29 days later), every adjudication decided."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(auth, "DEFAULT_PARAMS", auth.ScryptParams(n=2 ** 4, r=1, p=1))
        w = make_world(tmp_path_factory.mktemp("agreement-ui"))
        rng = random.Random(3)
        _sign_everything(w, rng)
        w.clock.advance(29 * 86400)  # the hidden re-reads leave their washout
        _sign_everything(w, rng)
        adjudicator = w.login("adjudicator")
        for item in w.trial.adjudication_queue(adjudicator):
            view = w.trial.open_adjudication(adjudicator, item.adjudication_id)
            w.trial.submit_adjudication(adjudicator, item.adjudication_id,
                                        [Decision(i.key, "A") for i in view.items],
                                        PASSWORDS["adjudicator"])
        w.trial.create_user(w.admin, "cm", "Committee Member", Role.COMMITTEE,
                            COMMITTEE_PASSWORD)
        yield w


@pytest.fixture
def messages(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    shown: list[str] = []

    def record(_parent, _title, text, *args, **kwargs):
        shown.append(text)
        return QMessageBox.StandardButton.Ok

    for name in ("warning", "information", "critical"):
        monkeypatch.setattr(QMessageBox, name, record)
    return shown


def _wait(qtbot, dashboard: AgreementDashboard) -> None:
    qtbot.waitUntil(lambda: dashboard.report is not None and not dashboard.busy, timeout=20_000)


def _column(model, col: int) -> list[str]:
    return [model.index(row, col).data() for row in range(model.rowCount())]


def _points(view: QChartView) -> list[int]:
    """Data points of each series of a chart view (bars: values of each bar set)."""
    counts = []
    for series in view.chart().series():
        if isinstance(series, QBarSeries):
            counts.extend(bar_set.count() for bar_set in series.barSets())
        else:
            assert isinstance(series, QXYSeries)
            counts.append(series.count())
    return counts


def test_coordinator_dashboard(qtbot, world, tmp_path, messages) -> None:
    session = world.login("coord")
    window = CoordinatorWindow(world.trial, session)
    qtbot.addWidget(window)
    window.resize(1600, 1000)
    window.show()
    qtbot.waitExposed(window)
    dashboard = window.agreement_tab
    window.show_tab(dashboard)  # the tab computes when shown
    assert dashboard.status.text() == "Computing…"
    _wait(qtbot, dashboard)
    assert messages == []
    expected = world.trial.agreement_report(session)

    # every chart has series, every series data points
    views = dashboard.findChildren(QChartView)
    names = {v.objectName() for v in views}
    assert {"ForestPlot", "AdjudicatorAgreementChart", "ReadTimeChart"} <= names
    assert sum(1 for n in names if n.startswith("PChart")) == 3
    for view in views:
        counts = _points(view)
        assert counts and all(c > 0 for c in counts), view.objectName()
    # the forest plot: one headline point per field whose statistic is defined
    forest = dashboard.forest.view.chart()
    defined = [f for f in expected.fields if f.headline and f.headline.result is not None]
    headline_points = sum(s.count() for s in forest.series()
                          if isinstance(s, QXYSeries) and s.name().endswith(
                              ("(nominal)", "(ordinal)", "(numeric)")))
    assert headline_points == len(defined)
    undefined = [f for f in expected.fields if f.headline and f.headline.result is None]
    texts = [dashboard.undefined_list.item(i).text()
             for i in range(dashboard.undefined_list.count())]
    assert len(texts) == max(1, len(undefined))

    # tables: one row per field, per re-reader and finding, per reader
    fields = dashboard.fields_table.model
    assert fields.rowCount() == len(expected.fields) > 0
    assert dashboard.intra_table.model.rowCount() == len(expected.intra) > 0
    assert _column(dashboard.readers_table.model, 0) == ["reader1", "reader2", "reader3"]
    presence = _column(fields, 0).index("Extravasation / compartment involvement: Presence")
    n_all = fields.index(presence, 2).data()
    assert n_all == str(len(world.trial.list_cases(world.admin)))
    assert "–" in fields.index(presence, 5).data() or fields.index(presence, 5).data() == \
        "undefined"
    summary = dashboard.summary.toPlainText()
    assert "read independently by 3 readers" in summary and "hidden re-reads" in summary
    click(qtbot, dashboard.copy_button)
    assert QGuiApplication.clipboard().text() == summary

    # a filter recomputes; a second change while computing wins
    choose(dashboard.timepoint_filter, "follow-up")
    assert dashboard.busy and dashboard.status.text() == "Computing…"
    _wait(qtbot, dashboard)
    assert dashboard.report.filters == {"timepoint": "follow-up"}
    assert dashboard.status.text().startswith("3 cases")
    assert fields.index(presence, 2).data() == "3" != n_all
    choose(dashboard.timepoint_filter, "baseline")
    choose(dashboard.modality_filter, "CR")
    _wait(qtbot, dashboard)
    assert dashboard.report.filters == {"timepoint": "baseline", "modality": "CR"}
    assert dashboard.status.text().startswith("3 cases")
    versions = [dashboard.version_filter.itemData(i)
                for i in range(dashboard.version_filter.count())]
    assert versions[0] is None and len(versions) == 2

    # saving: the functions behind the buttons, and a button through its file dialog
    png = save_chart_png(dashboard.forest.view, tmp_path / "forest.png")
    image = QImage(str(png))
    ratio = dashboard.forest.view.devicePixelRatio()
    assert png.stat().st_size > 1000 and not image.isNull()
    assert (image.width(), image.height()) == (round(dashboard.forest.view.width() * ratio),
                                               round(dashboard.forest.view.height() * ratio))
    path = save_table_csv(fields, tmp_path / "fields.csv")
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0][:3] == ["Field", "Kind", "n"]
    assert len(rows) == fields.rowCount() + 1 and rows[1][0] == _column(fields, 0)[0]
    chosen = iter([tmp_path / "readers.csv", tmp_path / "pchart.png"])
    dashboard.pages.setCurrentIndex(1)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(next(chosen)), ""))
        click(qtbot, dashboard.readers_table.save_button)
        click(qtbot, dashboard.pcharts[0].save_button)
    lines = (tmp_path / "readers.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("Reader,") and lines[1].startswith("reader1,")
    assert not QImage(str(tmp_path / "pchart.png")).isNull()
    assert dashboard.status.text().startswith("Saved")
    window.close()


def test_committee_sees_pseudonyms(qtbot, world, messages) -> None:
    session = world.trial.login("cm", COMMITTEE_PASSWORD)
    window = CommitteeWindow(world.trial, session)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    click(qtbot, window.agreement_button)
    agreement = next(w for w in QApplication.topLevelWidgets()
                     if isinstance(w, AgreementWindow) and w.isVisible())
    dashboard = agreement.dashboard
    _wait(qtbot, dashboard)
    assert messages == []
    assert _column(dashboard.readers_table.model, 0) == ["READER1", "READER2", "READER3"]
    assert {dashboard.intra_table.model.index(r, 0).data()
            for r in range(dashboard.intra_table.model.rowCount())} <= {"READER1", "READER2",
                                                                        "READER3"}
    titles = [p.view.chart().title() for p in dashboard.pcharts]
    assert all(t.startswith("READER") for t in titles) and len(titles) == 3
    assert "reader1" not in dashboard.summary.toPlainText()
    window.controller.lock("test")  # a locked session closes the dashboard window
    qtbot.waitUntil(lambda: window.agreement is None)
    window.close()


def test_reader_is_refused(qtbot, world, messages) -> None:
    controller = SessionController(world.trial, world.login("reader1"))
    dashboard = AgreementDashboard(controller)
    qtbot.addWidget(dashboard)
    dashboard.refresh()
    qtbot.waitUntil(lambda: not dashboard.busy, timeout=10_000)
    assert dashboard.report is None
    assert messages and "agreement" in messages[0].lower()
    assert dashboard.fields_table.model.rowCount() == 0
    assert all(not v.chart().series() for v in dashboard.findChildren(QChartView))
    controller.detach()
