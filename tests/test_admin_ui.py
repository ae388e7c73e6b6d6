"""The administrator's area: protocol versions with a diff between two, the backup tab, and
which role sees which tab."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from adjudication.protocol import default_protocol_path
from ioreview.service import PermissionDenied
from test_audit_viewer import _shoot, _window, demo_template  # noqa: F401
from test_audit_viewer import demo_trial as audit_demo_trial  # noqa: F401
from test_trial_helpers import fast_kdf, make_world  # noqa: F401


def revised_protocol() -> str:
    """The default protocol as version 1.1.0: a relabelled question with a new choice."""
    text = default_protocol_path().read_text(encoding="utf-8")
    text = text.replace('version = "1.0.0"', 'version = "1.1.0"', 1)
    text = text.replace('label = "Image quality"', 'label = "Overall image quality"', 1)
    text = text.replace('  { value = "non_diagnostic", label = "Non-diagnostic" },\n',
                        '  { value = "non_diagnostic", label = "Non-diagnostic" },\n'
                        '  { value = "not_done", label = "Not done" },\n', 1)
    assert "1.1.0" in text and "Overall image quality" in text and "not_done" in text
    return text


@pytest.mark.usefixtures("trial_backend", "fast_kdf")
def test_protocol_diff_names_the_changed_fields_and_lines(tmp_path):
    w = make_world(tmp_path, assign=False)
    new = w.trial.install_protocol(w.admin, "io_complications-1.1.toml", revised_protocol())
    old = next(v for v in w.trial.protocol_versions(w.admin) if v.id != new.id)
    coord = w.login("coord")
    diff = w.trial.protocol_diff(coord, old.id, new.id)
    assert (diff.old.version, diff.new.version) == ("1.0.0", "1.1.0")
    assert any(line.startswith("+") and "Overall image quality" in line for line in diff.text_diff)
    assert any(line.startswith("-") and 'label = "Image quality"' in line
               for line in diff.text_diff)
    (quality,) = [c for c in diff.fields if c.key == "image_quality"]
    assert quality.change == "changed" and quality.label == "Overall image quality"
    assert any(d.startswith("label: Image quality → Overall image quality")
               for d in quality.details)
    assert any(d.startswith("choices:") and "not_done (Not done)" in d for d in quality.details)
    assert all(c.key == "image_quality" for c in diff.fields)  # nothing else changed
    assert w.trial.protocol_diff(coord, old.id, old.id).fields == ()
    for name in ("reader1", "adjudicator"):
        with pytest.raises(PermissionDenied):
            w.trial.protocol_diff(w.login(name), old.id, new.id)


# -- the screens (the demo trial and helpers of test_audit_viewer) -----------------------------
@pytest.fixture
def demo_trial(audit_demo_trial):
    trial, passwords, _db = audit_demo_trial
    return trial, passwords


def _tab_titles(window) -> list[str]:
    return [window.tabs.tabText(i) for i in range(window.tabs.count())]


def test_admin_gets_the_administration_area_and_the_coordinator_does_not(qtbot, demo_trial):
    trial, passwords = demo_trial
    admin = _window(qtbot, trial, passwords, "admin")
    assert {"Users", "Audit trail", "Protocol versions", "Backup"} <= set(_tab_titles(admin))
    assert "administration" in admin.windowTitle()
    coordinator = _window(qtbot, trial, passwords, "coordinator")
    titles = _tab_titles(coordinator)
    assert "Audit trail" in titles
    assert "Protocol versions" not in titles and "Backup" not in titles
    assert "coordination" in coordinator.windowTitle()


def test_admin_compares_two_protocol_versions(qtbot, demo_trial):
    trial, passwords = demo_trial
    window = _window(qtbot, trial, passwords, "admin")
    tab = window.admin_tabs["protocols"]
    trial.install_protocol(window.controller.session, "io_complications-1.1.toml",
                           revised_protocol())
    window.show_tab(tab)
    assert tab.model.rowCount() == 2
    assert not tab.compare_button.isEnabled()
    for row in (0, 1):
        rect = tab.table.visualRect(tab.model.index(row, 0))
        qtbot.mouseClick(tab.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert tab.compare_button.isEnabled()
    qtbot.mouseClick(tab.compare_button, Qt.MouseButton.LeftButton)
    fields = tab.fields_view.toPlainText()
    assert "[changed] Overall image quality image_quality" in fields
    assert "label: Image quality → Overall image quality" in fields
    assert "not_done (Not done)" in fields
    text = tab.text_view.toPlainText()
    assert '+label = "Overall image quality"' in text and '-label = "Image quality"' in text
    assert tab.hint.text().startswith("From io-site-complications 1.0.0 (installed ")
    _shoot(window, "admin_protocol_diff")


def test_backup_tab_backs_up_in_the_background(qtbot, demo_trial, tmp_path):
    trial, passwords = demo_trial
    window = _window(qtbot, trial, passwords, "admin")
    tab = window.admin_tabs["backup"]
    window.show_tab(tab)
    assert tab.backup_button.isEnabled()
    tab.start_backup(str(tmp_path / "backup"))
    qtbot.waitUntil(lambda: tab.backup_button.isEnabled(), timeout=120_000)
    summary = tab.last_summary
    assert summary is not None, tab.status.text()
    assert summary.manifest.is_file() and summary.n_files > 1
    text = tab.status.text()
    assert text.startswith("Backup finished in ") and "is not in the backup" in text
    assert summary.key_id in text
    _shoot(window, "admin_backup")


def test_coordinator_sees_iso_dates_and_no_idle_import_bar(qtbot, demo_trial):
    import re

    trial, passwords = demo_trial
    window = _window(qtbot, trial, passwords, "coordinator")
    assert not window.import_tab.progress_bar.isVisible()  # nothing until an import starts
    window.show_tab(window.cases_tab)
    model = window.cases_tab.studies_model
    column = next(c for c in range(model.columnCount())
                  if model.headerData(c, Qt.Orientation.Horizontal) == "Study date")
    dates = [model.index(r, column).data() for r in range(model.rowCount())]
    assert dates and all(re.fullmatch(r"\d{4}-\d\d-\d\d", d) for d in dates), dates
