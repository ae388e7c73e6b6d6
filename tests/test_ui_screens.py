"""Every screen at 1280x800 and 1920x1080, in English and Chinese (issue 14's acceptance).

Each screen is opened as the role that uses it on the small demo trial, saved under
screenshots/ as ``<screen>_<lang>_<w>x<h>.png`` and checked as a reviewer looks at it: no
visible label, button, tab, group-box title or table header whose text is cut off (unless it
elides on purpose with "…"), no widget reaching outside the window, and in Chinese no visible
text that is still the English source (a source string of the shipped translation, or an English
label of the protocol).
"""
from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QRect, QSettings, Qt
from PySide6.QtGui import QFontMetrics, QTextDocument
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractScrollArea,
    QApplication,
    QCheckBox,
    QComboBox,
    QGroupBox,
    QHeaderView,
    QLabel,
    QMainWindow,
    QMenuBar,
    QPushButton,
    QRadioButton,
    QTabBar,
    QToolButton,
    QWidget,
)

from adjudication.protocol import default_protocol_path, parse_protocol
from ioreview.service import Trial
from ioreview.ui.app import install_translators, ui_locale
from ui_support import choose, save_screenshot

SIZES = ((1280, 800), (1920, 1080))
LANGS = ("en", "zh_CN")
TS_FILE = Path(__file__).resolve().parents[1] / "ioreview/ui/translations/ioreview_zh_CN.ts"
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
ELLIPSIS = "…"


# -- what a reviewer checks ----------------------------------------------------------------------
def _english_sources() -> tuple[set[str], set[str], list[re.Pattern[str]]]:
    """The English texts the UI must not show in Chinese: the translation's sources (format
    strings as patterns) and the protocol's English labels that have a Chinese one."""
    exact: set[str] = set()
    labels: set[str] = set()
    patterns: list[re.Pattern[str]] = []
    for message in ET.parse(TS_FILE).getroot().iter("message"):
        source, translation = message.find("source"), message.find("translation")
        if source is None or translation is not None and translation.text == source.text:
            continue  # the same in both languages (a product name, an abbreviation)
        text = (source.text or "").replace("&&", "\0").replace("&", "").replace("\0", "&").strip()
        if not re.search(r"[A-Za-z]{3,}", text):
            continue
        if "{" in text:
            parts = re.split(r"\{[^}]*\}", text)
            patterns.append(re.compile(".+".join(re.escape(p) for p in parts) + r"\Z", re.S))
        else:
            exact.add(text)
    protocol = parse_protocol(default_protocol_path().read_text(encoding="utf-8"))
    items: list = []
    for finding in protocol.findings:
        items.append(finding)
        for field in finding.fields:
            items.append(field)
            items.extend(field.choices)
    for field in protocol.read_fields:
        items.append(field)
        items.extend(field.choices)
    for item in items:
        label = getattr(item, "label", "")
        if label and label != item.label_in("zh_CN"):
            labels.add(label)
    for timepoint in protocol.timepoints:
        if protocol.timepoint_label(timepoint, "zh_CN") != timepoint:
            labels.add(timepoint)
    return exact, labels, patterns


_SOURCES: tuple[set[str], set[str], list[re.Pattern[str]]] | None = None


def _is_english_source(text: str) -> bool:
    global _SOURCES
    if _SOURCES is None:
        _SOURCES = _english_sources()
    exact, labels, patterns = _SOURCES
    text = text.replace("&", "").strip()
    if not re.search(r"[A-Za-z]{3,}", text):
        return False
    if text in exact or text in labels or any(p.match(text) for p in patterns):
        return True
    # inside a longer, translated text ("前次 baseline（第 -3 天）"): a protocol timepoint or label
    # left in English
    return CJK.search(text) is not None and any(
        re.search(rf"(?<![A-Za-z_-]){re.escape(label)}(?![A-Za-z_-])", text) for label in labels)


def _plain(text: str) -> str:
    if re.search(r"<(b|i|p|br|a|span|div|html|table|ul|li|h\d)\b", text, re.I):
        doc = QTextDocument()
        doc.setHtml(text)
        return doc.toPlainText()
    return text


def _text_width(metrics: QFontMetrics, text: str) -> int:
    return max((metrics.horizontalAdvance(line) for line in text.split("\n")), default=0)


def _visible(widget: QWidget, window: QWidget) -> bool:
    return widget.isVisibleTo(window) and widget.width() > 0 and widget.height() > 0


def _clipped_by_scroll_area(widget: QWidget, window: QWidget) -> bool:
    """Inside a scroll area's viewport (scrolled content may lie outside by design)."""
    return _scroll_area_of(widget, window) is not None


def _scroll_area_of(widget: QWidget, window: QWidget) -> QAbstractScrollArea | None:
    parent = widget.parentWidget()
    while parent is not None and parent is not window:
        if isinstance(parent, QAbstractScrollArea):
            return parent
        parent = parent.parentWidget()
    return None


def _cut_sideways(widget: QWidget, window: QWidget) -> bool:
    """A form row wider than the scroll area showing it: the reader scrolls up and down, not
    sideways, so its right part is cut off."""
    area = _scroll_area_of(widget, window)
    if area is None or area.viewport() is widget or isinstance(widget, QHeaderView):
        return False
    if isinstance(widget.parentWidget(), QAbstractScrollArea):
        return False  # the area's own scroll bars and corner
    viewport = area.viewport()
    left = widget.mapTo(viewport, widget.rect().topLeft()).x()
    return left + widget.width() > viewport.width() + 1 and left < viewport.width()


def _where(widget: QWidget) -> str:
    names = []
    w: QWidget | None = widget
    while w is not None and len(names) < 4:
        names.append(w.objectName() or type(w).__name__)
        w = w.parentWidget()
    return "/".join(reversed(names))


def screen_problems(window: QWidget, lang: str) -> list[str]:
    """What a reviewer would flag on ``window`` as it is laid out now."""
    problems: list[str] = []
    texts: list[tuple[str, QWidget]] = []
    frame = window.rect()
    for widget in [window, *window.findChildren(QWidget)]:
        if widget is not window and not _visible(widget, window):
            continue
        if QWidget.window(widget) is not window:
            continue
        if widget is not window and not _clipped_by_scroll_area(widget, window):
            rect = QRect(widget.mapTo(window, widget.rect().topLeft()), widget.size())
            if not frame.contains(rect):
                problems.append(f"outside the window: {_where(widget)} at {rect.getRect()}")
        if widget is not window and _cut_sideways(widget, window) and (
                isinstance(widget, (QLabel, QAbstractButton, QComboBox, QGroupBox))):
            problems.append(f"cut off at the right of its scroll area: {_where(widget)}")
        metrics = widget.fontMetrics()
        if isinstance(widget, QLabel):
            text = _plain(widget.text())
            if not text or widget.pixmap() is not None and not widget.pixmap().isNull():
                continue
            texts.append((text, widget))
            if text.endswith(ELLIPSIS):
                continue
            room = widget.contentsRect()
            if widget.wordWrap():
                needed = widget.heightForWidth(widget.width())
                if needed > widget.height() + 1:
                    problems.append(f"wrapped text cut off ({needed} > {widget.height()} px): "
                                    f"{_where(widget)} {text[:60]!r}")
            elif _text_width(metrics, text) > room.width() + 1:
                problems.append(f"text cut off ({_text_width(metrics, text)} > {room.width()} px): "
                                f"{_where(widget)} {text[:60]!r}")
        elif isinstance(widget, QAbstractButton):
            text = widget.text().replace("&&", "\0").replace("&", "").replace("\0", "&")
            if not text or isinstance(widget, QToolButton) and (
                    widget.toolButtonStyle() == Qt.ToolButtonStyle.ToolButtonIconOnly
                    or widget.parentWidget() is not None
                    and isinstance(widget.parentWidget(), QTabBar)):
                continue
            texts.append((text, widget))
            if text.endswith(ELLIPSIS) and widget.width() >= widget.minimumSizeHint().width():
                continue
            needed = _text_width(metrics, text)
            if isinstance(widget, (QCheckBox, QRadioButton)):
                needed = widget.sizeHint().width()
            elif not widget.icon().isNull():
                needed += widget.iconSize().width() + 4
            if needed > widget.contentsRect().width() - (0 if isinstance(widget, (QCheckBox, QRadioButton)) else 4):
                problems.append(f"button text cut off ({needed} > {widget.width()} px): "
                                f"{_where(widget)} {text!r}")
        elif isinstance(widget, QTabBar):
            for i in range(widget.count()):
                text = widget.tabText(i).replace("&", "")
                texts.append((text, widget))
                rect = widget.tabRect(i)
                if not widget.rect().contains(rect):
                    problems.append(f"tab out of view: {_where(widget)} {text!r}")
                elif metrics.horizontalAdvance(text) > rect.width() - 8:
                    problems.append(f"tab text cut off: {_where(widget)} {text!r}")
        elif isinstance(widget, QGroupBox):
            text = widget.title().replace("&", "")
            texts.append((text, widget))
            if metrics.horizontalAdvance(text) + 16 > widget.width():
                problems.append(f"group title cut off: {_where(widget)} {text!r}")
        elif isinstance(widget, QHeaderView) and widget.orientation() == Qt.Orientation.Horizontal:
            model = widget.model()
            if model is None:
                continue
            for section in range(widget.count()):
                if widget.isSectionHidden(section):
                    continue
                text = str(model.headerData(section, Qt.Orientation.Horizontal) or "")
                texts.append((text, widget))
                left = widget.sectionViewportPosition(section)
                if left >= widget.viewport().width():
                    continue
                needed = _text_width(widget.fontMetrics(), text) + 8
                if needed > widget.sectionSize(section):
                    problems.append(f"column title cut off ({needed} > "
                                    f"{widget.sectionSize(section)} px): {_where(widget)} {text!r}")
        elif isinstance(widget, QComboBox):
            texts.append((widget.currentText(), widget))
        elif isinstance(widget, QMenuBar):
            texts.extend((a.text().replace("&", ""), widget) for a in widget.actions())
    if lang != "en":
        title = window.windowTitle()
        for text, widget in [(title, window), *texts]:
            if _is_english_source(text):
                problems.append(f"English in the Chinese UI: {_where(widget)} {text[:80]!r}")
    return list(dict.fromkeys(problems))


def shoot(window: QWidget, screen: str, lang: str, size: tuple[int, int] | None = None
          ) -> list[str]:
    """Lay ``window`` out at ``size``, save its screenshot, return what is wrong on it."""
    if size is not None:
        window.resize(*size)
    for _ in range(3):
        QApplication.processEvents()
    w, h = (window.width(), window.height())
    save_screenshot(window, f"{screen}_{lang}_{w}x{h}")
    return [f"{screen} {lang} {w}x{h}: {p}" for p in screen_problems(window, lang)]


# -- fixtures -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Iterator[tuple[Path, dict[str, str]]]:
    from ioreview.demo import build_demo
    from ioreview.imaging.synthetic import DemoConfig

    root = tmp_path_factory.mktemp("screens-demo")
    result = build_demo(root / "demo", DemoConfig.small())
    passwords = {u.username: u.password for u in result.users}
    trial = Trial.open(root / "demo" / "ioreview.sqlite")
    try:
        give_adjudicator_and_committee_work(trial, passwords)
    finally:
        trial.close()
    yield root / "demo", passwords


def give_adjudicator_and_committee_work(trial: Trial, passwords: dict[str, str]) -> None:
    """The small demo ends with nothing to adjudicate: two readers sign reads that differ from
    their colleague's (extravasation present), so two cases wait for adjudication; one stays in
    "adjudicator"'s queue, the other is decided and sent to the committee, whose open session
    has everyone present and one ballot cast."""
    from adjudication.paradigms import Decision
    from ui_support import complete_values

    def log_in(name: str):
        return trial.login(name, passwords[name])

    for reader in ("reader2", "reader3"):  # reader1's cases stay as the reading test expects
        session = log_in(reader)
        item = next(i for i in trial.worklist(session) if i.status.value == "new"
                    and any(o.case_label == i.case_label and o.status.value == "submitted"
                            for o in trial.worklist(log_in("reader1"))))
        case = trial.open_case(session, item.assignment_id)
        trial.save_draft(session, case.read_id,
                         complete_values(case.protocol, case.timepoint, extravasation=True))
        trial.submit_read(session, case.read_id, passwords[reader])
    queues = {name: (s, trial.adjudication_queue(s))
              for name in ("adjudicator", "adjudicator2") for s in [log_in(name)]}
    waiting = [(name, item) for name, (_s, q) in queues.items() for item in q]
    assert len(waiting) == 2, waiting
    keep = next((w for w in waiting if w[0] == "adjudicator"), waiting[0])
    if keep[0] != "adjudicator":  # both went to adjudicator2: hand one over
        coordinator = log_in("coordinator")
        ids = {u.username: u.id for u in trial.list_users(coordinator)}
        overview = trial.adjudication_overview(coordinator)
        case = next(c for c in overview.cases if c.case_label == keep[1].case_label)
        trial.reassign_adjudication(coordinator, case.case_id, ids["adjudicator"])
    name, item = next(w for w in waiting if w is not keep)
    session = queues[name][0]
    view = trial.open_adjudication(session, item.adjudication_id)
    trial.submit_adjudication(session, item.adjudication_id,
                              [Decision(i.key, "A") for i in view.items], passwords[name])
    coordinator = log_in("coordinator")
    ids = {u.username: u.id for u in trial.list_users(coordinator)}
    case = next(c for c in trial.adjudication_overview(coordinator).cases
                if c.case_label == item.case_label)
    trial.send_to_panel(coordinator, case.case_id,
                        "Committee to rule on fat embolism syndrome")
    members = ["committee", "committee2", "committee3"]
    summary = trial.create_panel_session(coordinator, "Committee meeting 1", ids["committee"],
                                         [ids[m] for m in members], [case.case_id])
    trial.record_attendance(log_in("committee"), summary.session_id,
                            dict.fromkeys((ids[m] for m in members), True))
    member = log_in("committee2")
    panel = trial.open_panel_session(member, summary.session_id)

    def no_criteria(key: str) -> object:  # the committee's clinical questions: none met
        field = panel.protocol.committee_field(key)
        return [] if field.type.value == "multi_choice" else "no" if field.choices else False

    trial.cast_votes(member, summary.session_id, case.case_id,
                     [Decision(i.key, "own", no_criteria(i.key)) if i.committee_only
                      else Decision(i.key, "A") for i in panel.cases[0].items],
                     passwords["committee2"])


@pytest.fixture
def trial(demo, tmp_path) -> Iterator[tuple[Trial, dict[str, str]]]:
    source, passwords = demo
    target = tmp_path / "demo"
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("dicom"))
    t = Trial.open(target / "ioreview.sqlite")
    yield t, passwords
    t.close()


@pytest.fixture(params=LANGS)
def lang(request, qapp) -> Iterator[str]:
    installed = install_translators(qapp, request.param) if request.param != "en" else []
    assert ui_locale() == (None if request.param == "en" else request.param)
    try:
        yield request.param
    finally:
        for translator in installed:
            qapp.removeTranslator(translator)


@pytest.fixture
def settings(tmp_path) -> QSettings:
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


def _show(qtbot, window: QWidget) -> QWidget:
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


# -- the screens ---------------------------------------------------------------------------------
def test_login_and_first_run_dialogs(qtbot, trial, lang, tmp_path) -> None:
    from ioreview.ui.account_dialogs import ChangePasswordDialog, FirstRunDialog
    from ioreview.ui.login import LoginDialog

    t, passwords = trial
    problems: list[str] = []
    login = _show(qtbot, LoginDialog(t))
    problems += shoot(login, "login", lang)
    qtbot.keyClicks(login.username_edit, "reader1")
    qtbot.keyClicks(login.password_edit, "wrong password")
    qtbot.mouseClick(login.login_button, Qt.MouseButton.LeftButton)
    assert login.message_label.isVisible()
    problems += shoot(login, "login_wrong_password", lang)
    session = t.login("reader1", passwords["reader1"])
    change = _show(qtbot, ChangePasswordDialog(t, session, forced=True))
    problems += shoot(change, "change_password", lang)
    empty = Trial.open(tmp_path / "empty.sqlite")
    try:
        first = _show(qtbot, FirstRunDialog(empty))
        problems += shoot(first, "first_run", lang)
    finally:
        empty.close()
    assert not problems, "\n".join(problems)


def _reading_window(qtbot, t: Trial, passwords, settings):
    from ioreview.ui.reading import ReadingWindow

    session = t.login("reader1", passwords["reader1"])
    return _show(qtbot, ReadingWindow(t, session, settings=settings))


def _pick_cases(window) -> tuple[int, int]:
    """The reader's open case with DX and CT and no prior, and one with a radiograph prior."""
    trial, session = window.controller.trial, window.controller.session
    plain = with_prior = None
    for item in window.worklist_model.records():
        case = trial.open_case(session, item.assignment_id)
        modalities = {s.modality for s in case.series}
        if not case.priors and {"DX", "CT"} <= modalities and item.status.value != "submitted":
            plain = item.assignment_id
        if "DX" in modalities and any(s.modality == "DX" for p in case.priors for s in p.series):
            with_prior = item.assignment_id
    assert plain is not None and with_prior is not None, "the demo changed: pick other cases"
    return plain, with_prior


def _wait_images(qtbot, viewer) -> None:
    """Until the panes show their images and the series browser its thumbnails."""
    from ioreview.ui.viewer.browser import SeriesBrowser

    qtbot.waitUntil(lambda: all(vp.source is None or vp._stored is not None
                                for vp in viewer.grid.visible_viewports()), timeout=10_000)
    for browser in viewer.findChildren(SeriesBrowser):
        qtbot.waitUntil(lambda b=browser: b.thumbnails_pending == 0, timeout=20_000)


def test_reading_window(qtbot, trial, lang, settings) -> None:
    """The reader's window: a DX case (1x2, both views), the CT of the same case, its MPR, a
    case with a prior (current beside the prior's same view), and the read form with a finding
    present (its required fields marked)."""
    from ioreview.ui.viewer.browser import series_key

    t, passwords = trial
    window = _reading_window(qtbot, t, passwords, settings)
    viewer = window.viewer.widget
    problems: list[str] = []

    def both_sizes(screen: str) -> None:
        for size in SIZES:
            window.resize(*size)
            _wait_images(qtbot, viewer)
            problems.extend(shoot(window, screen, lang, size))

    plain, with_prior = _pick_cases(window)
    window.resize(*SIZES[0])
    window.open_assignment(plain)
    both_sizes("reading_dx")
    for size in SIZES:  # the images get most of the screen; the worklist where there is room
        window.resize(*size)
        QApplication.processEvents()
        assert viewer.width() >= 0.5 * size[0], (size, viewer.width())
        assert window.worklist_panel.isVisible() == (size[0] >= 1500)
    form = window.read_form
    choose(form.editors["extravasation.presence"].editor, "present")
    assert form.editors["extravasation.compartment"].label.text().endswith("*")
    form.editors["extravasation.compartment"].label.parentWidget()  # laid out in the form
    both_sizes("read_form_present")
    viewer.set_layout("1x1")
    viewer.show_series(series_key(next(s for s in viewer.series() if s.modality == "CT")))
    both_sizes("reading_ct")
    viewer.mpr_action.setChecked(True)
    viewer._toggle_mpr()
    qtbot.waitUntil(lambda: viewer.mpr.volume is not None, timeout=10_000)
    both_sizes("reading_mpr")
    viewer.mpr_action.setChecked(False)
    viewer._toggle_mpr()
    window.open_assignment(with_prior)
    assert viewer.grid.layout_name == "1x2" and viewer.prior_series()
    both_sizes("reading_prior_1x2")
    assert not problems, "\n".join(problems)


def test_coordinator_tabs(qtbot, trial, lang) -> None:
    from ioreview.ui.coordinator import CoordinatorWindow

    t, passwords = trial
    session = t.login("coordinator", passwords["coordinator"])
    window = _show(qtbot, CoordinatorWindow(t, session))
    problems: list[str] = []
    for i in range(window.tabs.count()):
        window.tabs.setCurrentIndex(i)
        tab = window.tabs.widget(i)
        name = type(tab).__name__
        if name == "AgreementDashboard":  # shot with its report, not "Computing…"
            qtbot.waitUntil(lambda: tab.report is not None and tab.refresh_button.isEnabled(),
                            timeout=60_000)
        for size in SIZES:
            problems += shoot(window, f"coordinator_{name}", lang, size)
        if lang != "en" and name != "AuditViewer":  # the trail's own codes, as recorded
            users = {u.username for u in t.list_users(session)}
            problems += [f"coordinator_{name} {lang}: {p}" for p in english_cells(tab, users)]
    assert not problems, "\n".join(problems)


def english_cells(widget: QWidget, names: set[str]) -> list[str]:
    """Table cells of ``widget``'s visible tables that show a protocol label or timepoint (or
    a translated UI text) in English (user ``names`` are names, not English)."""
    from PySide6.QtWidgets import QTableView

    problems = []
    for view in widget.findChildren(QTableView):
        model = view.model()
        if model is None or not view.isVisibleTo(widget):
            continue
        for row in range(model.rowCount()):
            for column in range(model.columnCount()):
                text = model.index(row, column).data()
                if isinstance(text, str) and text not in names and _is_english_source(text):
                    problems.append(f"English in a table cell: {view.objectName()} "
                                    f"[{row}, {column}] {text[:80]!r}")
    return list(dict.fromkeys(problems))


def test_admin_screens(qtbot, trial, lang) -> None:
    from ioreview.ui.coordinator import CoordinatorWindow

    t, passwords = trial
    session = t.login("admin", passwords["admin"])
    window = _show(qtbot, CoordinatorWindow(t, session))
    problems: list[str] = []
    for name, tab in window.admin_tabs.items():
        if name == "audit":
            continue  # the coordinator's Audit trail tab, shot with the coordinator's tabs
        window.tabs.setCurrentWidget(tab)
        for size in SIZES:
            problems += shoot(window, f"admin_{name}", lang, size)
    assert not problems, "\n".join(problems)


def test_adjudicator_and_committee_windows(qtbot, trial, lang) -> None:
    """The adjudicator's queue with a case open (forms side by side, decisions), the
    committee's list of sessions and its open session (attendance, items, ballot)."""
    from ioreview.ui.adjudication import AdjudicatorWindow
    from ioreview.ui.committee import CommitteeWindow

    t, passwords = trial
    adjudicator = _show(qtbot, AdjudicatorWindow(t, t.login("adjudicator",
                                                            passwords["adjudicator"])))
    committee = _show(qtbot, CommitteeWindow(t, t.login("committee", passwords["committee"])))
    problems: list[str] = []
    assert adjudicator.queue(), "the fixture leaves a case in the adjudicator's queue"
    assert committee.sessions_model.rowCount() == 1
    for size in SIZES:
        problems += shoot(committee, "committee_sessions", lang, size)
    adjudicator.open_row(0)
    committee.open_row(0)
    assert committee.case is not None
    for size in SIZES:
        adjudicator.resize(*size)
        _wait_images(qtbot, adjudicator.viewer.widget)
        problems += shoot(adjudicator, "adjudicator", lang, size)
        committee.resize(*size)
        _wait_images(qtbot, committee.viewer.widget)
        problems += shoot(committee, "committee_session", lang, size)
        # below 1500 px attendance and cases fold away for the images (F6 brings them back)
        assert committee.attendance_group.isVisible() == (size[0] >= 1500), size
        share = 0.45 if size[0] < 1500 else 0.35  # ~450 px of 1280 before the fold
        assert committee.viewer.widget.width() >= share * size[0], committee.viewer.widget.width()
        assert all(box.isVisible() for box in committee.reader_toggles.values())
    assert not problems, "\n".join(problems)


def test_every_role_window_has_the_same_session_menu_and_its_own_help(qtbot, trial) -> None:
    """Reader, adjudicator, committee member and coordinator: one Session menu (Refresh F5,
    Lock screen Ctrl+L, Change password…, Log out) and Help with the shortcut sheet, the
    role's guide and About."""
    from ioreview.ui.adjudication import AdjudicatorWindow
    from ioreview.ui.committee import CommitteeWindow
    from ioreview.ui.coordinator import CoordinatorWindow
    from ioreview.ui.reading import ReadingWindow

    t, passwords = trial
    settings = QSettings(str(Path(t.store.location).with_name("ui.ini")),
                         QSettings.Format.IniFormat)
    windows = {
        "reader": ReadingWindow(t, t.login("reader1", passwords["reader1"]), settings=settings,
                                database=t.store.location),
        "adjudicator": AdjudicatorWindow(t, t.login("adjudicator", passwords["adjudicator"])),
        "committee": CommitteeWindow(t, t.login("committee", passwords["committee"])),
        "coordinator": CoordinatorWindow(t, t.login("coordinator", passwords["coordinator"])),
    }
    for guide, window in windows.items():
        _show(qtbot, window)
        menus = [a.text().replace("&", "") for a in window.menuBar().actions()]
        assert menus[0] == "Session" and menus[-1] == "Help", (guide, menus)
        session = [(a.text(), a.shortcut().toString()) for a in window.session_menu.actions()
                   if not a.isSeparator()]
        assert session == [("Refresh", "F5"), ("Lock screen", "Ctrl+L"),
                           ("Change password…", ""), ("Log out", "")], (guide, session)
        help_menu = window.help_menu
        assert help_menu.guide == guide
        sheet = help_menu.show_shortcuts()
        rows = dict(sheet.shown_text())
        assert rows["Lock screen"] == "Ctrl+L" and rows["Refresh"] == "F5", guide
        assert ("Length" in rows) == (guide != "coordinator"), guide  # the viewer's keys
        sheet.close()
        text = help_menu.show_guide().text.toPlainText()
        assert len(text) > 200, guide
        help_menu.dialog.close()
        about = help_menu.show_about()
        assert dict(about.rows)["Database"] == t.store.location, guide
        about.close()
        window.session_menu.lock_action.trigger()
        assert window.controller.locked, guide
        window.controller.unlock(passwords[{"reader": "reader1"}.get(guide, guide)])
        assert not window.controller.locked, guide


def test_the_adjudicators_tools_are_all_on_screen_at_1280(qtbot, trial) -> None:
    """The viewer's toolbar runs across the adjudicator's (and the committee's) window: at
    1280x800 every tool has its own button inside the window, none folded into a drop-down."""
    from ioreview.ui.adjudication import AdjudicatorWindow

    t, passwords = trial
    window = _show(qtbot, AdjudicatorWindow(t, t.login("adjudicator", passwords["adjudicator"])))
    window.resize(1280, 800)
    window.open_row(0)
    QApplication.processEvents()
    toolbar = window.viewer.toolbar()
    assert toolbar.parentWidget() is window
    assert not window.queue_panel.isVisible()  # folded away for the images; F6 brings it back
    actions = toolbar.all_actions()
    assert window.queue_action in actions and len(actions) >= 25
    for action in actions:
        group = toolbar.group_of(action)
        button = group.buttons[action]
        assert not group.folded and button.isVisible(), action.text()
        rect = QRect(button.mapTo(window, button.rect().topLeft()), button.size())
        assert window.rect().contains(rect), action.text()
    window.queue_action.trigger()
    assert window.queue_panel.isVisible()
    window.resize(1920, 1080)
    QApplication.processEvents()
    assert window.queue_panel.isVisible()
