"""The audit viewer: its use cases on both backends (filters, paging, the case filter, CSV
export) and the screen acting as a coordinator (filters, before/after, verification)."""
from __future__ import annotations

import csv
import hashlib
import shutil
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from ioreview.service import (AuditLogFilter, InvalidInput, NotFound, PermissionDenied)
from test_trial_helpers import (PASSWORDS, World, complete_values, fast_kdf,  # noqa: F401
                                make_world)
from ui_support import save_screenshot


def _sign_first_read(w: World, reader: str = "reader1") -> tuple[str, int]:
    """`reader` signs the first case of their worklist; its label and read id."""
    session = w.login(reader)
    item = w.trial.worklist(session)[0]
    view = w.trial.open_case(session, item.assignment_id)
    w.trial.save_draft(session, view.read_id, complete_values(view.timepoint))
    w.trial.submit_read(session, view.read_id, PASSWORDS[reader])
    return view.case_label, view.read_id




@pytest.mark.usefixtures("trial_backend", "fast_kdf")
class TestAuditLogService:
    def test_filters_page_and_count(self, tmp_path):
        w = make_world(tmp_path)
        label, read_id = _sign_first_read(w)
        coord = w.login("coord")
        everything = w.trial.audit_log(coord, limit=5)
        assert everything.total >= 50 and len(everything.entries) == 5
        seqs = [e.seq for e in everything.entries]
        assert seqs == sorted(seqs, reverse=True)  # newest first
        second = w.trial.audit_log(coord, limit=5, offset=5)
        assert second.entries[0].seq == seqs[-1] - 1 and second.total == everything.total

        by_reader = w.trial.audit_log(coord, user="reader1", limit=500)
        assert by_reader.total == len(by_reader.entries) > 0
        assert {e.actor for e in by_reader.entries} == {"reader1"}
        assert {"submit", "save_draft", "sign", "login"} <= {e.action for e in by_reader.entries}

        signs = w.trial.audit_log(coord, action="sign")
        assert signs.total == 1
        (sign,) = signs.entries
        assert sign.entity == "signature" and sign.after["read"] == read_id
        assert sign.after["meaning"] == "I confirm this read"
        assert sign.at_utc.endswith("+00:00") and len(sign.at_local) == 19

        actions = w.trial.audit_actions(coord)
        assert actions == sorted(actions) and {"sign", "create", "install"} <= set(actions)
        assert "reader1" in w.trial.audit_actors(coord)

    def test_case_filter_finds_the_case_its_reads_and_signatures(self, tmp_path):
        w = make_world(tmp_path)
        label, read_id = _sign_first_read(w)
        coord = w.login("coord")
        page = w.trial.audit_log(coord, case=label, limit=500)
        kinds = {(e.entity, e.action) for e in page.entries}
        assert ("case", "create") in kinds
        assert ("assignment", "create") in kinds
        assert {("read", "start"), ("read", "save_draft"), ("read", "submit"),
                ("signature", "sign")} <= kinds
        assert all(e.entity_id == str(read_id) for e in page.entries if e.entity == "read")
        # another case's records are not there
        other = next(c.label for c in w.trial.list_cases(coord) if c.label != label)
        other_page = w.trial.audit_log(coord, case=other, limit=500)
        assert not {e.seq for e in other_page.entries} & {e.seq for e in page.entries}
        assert ("signature", "sign") not in {(e.entity, e.action) for e in other_page.entries}
        with pytest.raises(NotFound, match="No case is labelled"):
            w.trial.audit_log(coord, case="CASE-NONE")

    def test_time_filters(self, tmp_path):
        w = make_world(tmp_path)
        coord = w.login("coord")
        total = w.trial.audit_log(coord).total
        today = datetime.now().date()
        assert w.trial.audit_log(coord, since=today, until=today).total == total
        assert w.trial.audit_log(coord, since=today + timedelta(days=1)).total == 0
        assert w.trial.audit_log(coord, until=today - timedelta(days=1)).total == 0
        assert w.trial.audit_log(coord, since=today.isoformat()).total == total
        future = datetime.now(timezone.utc) + timedelta(hours=1)
        assert w.trial.audit_log(coord, until=future).total == total
        assert w.trial.audit_log(coord, since=future).total == 0
        with pytest.raises(InvalidInput, match="not a date"):
            w.trial.audit_log(coord, since="yesterday")
        with pytest.raises(InvalidInput, match="after the 'to' date"):
            w.trial.audit_log(coord, since=today, until=today - timedelta(days=2))
        with pytest.raises(InvalidInput):
            w.trial.audit_log(coord, limit=0)

    def test_export_csv_writes_what_the_filter_selects_and_is_audited(self, tmp_path):
        w = make_world(tmp_path)
        label, _read_id = _sign_first_read(w)
        coord = w.login("coord")
        out = tmp_path / "audit.csv"
        summary = w.trial.export_audit_csv(coord, out, AuditLogFilter(case=label))
        rows = list(csv.DictReader(out.open(encoding="utf-8", newline="")))
        assert summary.n_records == len(rows) == w.trial.audit_log(coord, case=label).total
        assert summary.sha256 == hashlib.sha256(out.read_bytes()).hexdigest()
        assert [int(r["seq"]) for r in rows] == sorted(int(r["seq"]) for r in rows)
        assert any(r["action"] == "sign" and '"meaning":"I confirm this read"' in r["after_json"]
                   for r in rows)
        (audited,) = w.trial.audit_log(coord, action="export_csv").entries
        assert audited.actor == "coord" and audited.after["sha256"] == summary.sha256
        assert audited.after["filter"]["case"] == label
        everything = w.trial.export_audit_csv(coord, tmp_path / "all.csv")
        assert everything.n_records == w.trial.audit_log(coord).total - 1  # not its own record
        with pytest.raises(InvalidInput, match="does not exist"):
            w.trial.export_audit_csv(coord, tmp_path / "missing" / "a.csv")

    def test_readers_and_adjudicators_are_refused(self, tmp_path):
        w = make_world(tmp_path)
        for name in ("reader1", "adjudicator"):
            session = w.login(name)
            for call in (lambda s: w.trial.audit_log(s), w.trial.audit_actions,
                         w.trial.audit_actors,
                         lambda s: w.trial.export_audit_csv(s, tmp_path / "x.csv")):
                with pytest.raises(PermissionDenied):
                    call(session)
        assert not (tmp_path / "x.csv").exists()


# -- the screen ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_template(tmp_path_factory):
    from ioreview.demo import build_demo
    from ioreview.imaging.synthetic import DemoConfig

    root = tmp_path_factory.mktemp("audit-demo")
    result = build_demo(root / "demo", DemoConfig.small())
    return root / "demo", {u.username: u.password for u in result.users}


@pytest.fixture
def demo_trial(demo_template, tmp_path):
    """A private copy of the demo trial (database, key, archive), opened."""
    from ioreview.service import Trial

    source, passwords = demo_template
    target = tmp_path / "demo"
    shutil.copytree(source, target, ignore=shutil.ignore_patterns("dicom"))
    trial = Trial.open(target / "ioreview.sqlite")
    yield trial, passwords, target / "ioreview.sqlite"
    trial.close()


def _window(qtbot, trial, passwords, user):
    from ioreview.ui.app import window_for_session

    session = trial.login(user, passwords[user])
    window = window_for_session(trial, session)
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    return window


def _shoot(widget, name: str) -> Path:
    path = save_screenshot(widget, name)
    assert path.is_file()
    return path


def _break_audit_record(db: Path, seq: int) -> None:
    """Edit one audit record behind the application's back, as an attacker with the file
    would (dropping any protective trigger first)."""
    con = sqlite3.connect(db)
    for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'"):
        con.execute(f'DROP TRIGGER "{name}"')
    con.execute("UPDATE audit SET after_json = ? WHERE seq = ?", ('{"status":"forged"}', seq))
    con.commit()
    con.close()


def test_coordinator_filters_by_case_and_sees_before_and_after(qtbot, demo_trial):
    from ioreview.ui.audit_viewer import AuditViewer

    trial, passwords, _db = demo_trial
    window = _window(qtbot, trial, passwords, "coordinator")
    viewer = window.admin_tabs["audit"]
    assert isinstance(viewer, AuditViewer)
    assert "protocols" not in window.admin_tabs  # admin-only tabs stay hidden
    window.show_tab(viewer)
    assert viewer.model.total > 200 and viewer.model.rowCount() == 200  # one page so far
    viewer.table.scrollToBottom()
    qtbot.waitUntil(lambda: viewer.model.rowCount() > 200)

    coordinator = trial.login("coordinator", passwords["coordinator"])
    submitted = trial.audit_log(coordinator, action="submit").entries[0]
    read_case = next(e for e in trial.audit_log(coordinator, action="start", limit=500).entries
                     if e.entity_id == submitted.entity_id).after["assignment"]
    label = next(e.after["label"] for e in trial.audit_log(coordinator, action="create",
                                                            limit=500).entries
                 if e.entity == "case" and e.entity_id == str(next(
                     a.after["case"] for a in trial.audit_log(coordinator, action="create",
                                                              limit=500).entries
                     if a.entity == "assignment" and a.entity_id == str(read_case))))
    qtbot.keyClicks(viewer.case_edit, label)
    qtbot.mouseClick(viewer.apply_button, Qt.MouseButton.LeftButton)
    shown = [viewer.model.entry(r) for r in range(viewer.model.rowCount())]
    assert shown and viewer.model.total == len(shown)
    assert {e.entity for e in shown} <= {"case", "assignment", "read", "signature",
                                         "discordance", "adjudication"}
    assert f"{len(shown)} matching record(s)" in viewer.count_label.text()
    row = next(r for r in range(len(shown)) if shown[r].action == "submit")
    viewer.table.selectRow(row)
    text = viewer.detail.toPlainText()
    assert "in_progress" in text and "submitted" in text and "Changed:" in text
    assert "status" in text.split("Changed:")[1].splitlines()[0]
    assert "#5d4037" in viewer.detail.toHtml().lower()  # the changed keys are marked
    _shoot(window, "audit_viewer_filtered")

    # the user and action boxes offer what the trail holds
    assert viewer.user_box.findText("reader1") >= 0
    viewer.clear_filter()
    viewer.action_box.setCurrentIndex(viewer.action_box.findText("sign"))
    qtbot.mouseClick(viewer.apply_button, Qt.MouseButton.LeftButton)
    assert {viewer.model.entry(r).action for r in range(viewer.model.rowCount())} == {"sign"}

    # a wrong case label is one clear message, not a traceback
    shown_messages = []
    viewer.controller.report = lambda exc, *a, **k: shown_messages.append(str(exc))
    viewer.case_edit.setText("CASE-NOPE")
    qtbot.mouseClick(viewer.apply_button, Qt.MouseButton.LeftButton)
    assert shown_messages == ["No case is labelled 'CASE-NOPE'; check the label on the Cases tab."]
    assert viewer.model.rowCount() == 0


def test_export_csv_from_the_screen(qtbot, demo_trial, tmp_path):
    trial, passwords, _db = demo_trial
    window = _window(qtbot, trial, passwords, "coordinator")
    viewer = window.admin_tabs["audit"]
    window.show_tab(viewer)
    viewer.action_box.setCurrentIndex(viewer.action_box.findText("sign"))
    out = tmp_path / "signatures.csv"
    viewer.export_to(str(out))
    qtbot.waitUntil(lambda: viewer.last_export is not None, timeout=60_000)
    rows = list(csv.DictReader(out.open(encoding="utf-8", newline="")))
    assert rows and {r["action"] for r in rows} == {"sign"}
    assert f"{len(rows)} record(s) exported" in viewer.count_label.text()


def test_verification_runs_in_the_background_and_shows_intact_then_broken(qtbot, demo_trial):
    trial, passwords, db = demo_trial
    window = _window(qtbot, trial, passwords, "admin")
    viewer = window.admin_tabs["audit"]
    window.show_tab(viewer)
    qtbot.mouseClick(viewer.verify_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: viewer.last_report is not None, timeout=60_000)
    assert viewer.last_report.intact, viewer.last_report.problems
    assert "intact" in viewer.verify_label.text() and "#1b5e20" in viewer.verify_label.styleSheet()
    _shoot(window, "audit_verify_intact")

    seq = next(e.seq for e in trial.audit_log(window.controller.session, action="submit").entries)
    _break_audit_record(db, seq)
    viewer.last_report = None
    qtbot.mouseClick(viewer.verify_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: viewer.last_report is not None, timeout=60_000)
    assert not viewer.last_report.intact
    text = viewer.verify_label.text()
    assert "BROKEN" in text and f"First broken record: #{seq}" in text
    assert "#b71c1c" in viewer.verify_label.styleSheet()
    _shoot(window, "audit_verify_broken")


# -- signature manifestation (21 CFR 11.50) -----------------------------------------------------
def test_a_signed_read_shows_who_signed_when_and_what_it_means(qtbot, demo_trial):
    import re

    from ioreview.service import ReadStatus

    trial, passwords, _db = demo_trial
    window = _window(qtbot, trial, passwords, "reader1")
    item = next(i for i in trial.worklist(window.controller.session)
                if i.status is ReadStatus.SUBMITTED)
    window.open_assignment(item.assignment_id)
    form = window.read_form
    assert form.is_read_only() and form.banner.isVisible()
    text = form.banner.text()
    assert "Signed and locked (version 1)" in text
    pattern = (r"Version 1: Signed by Dr\. Wei Zhang \(reader1\) on \d{4}-\d\d-\d\d \d\d:\d\d UTC "
               r"\((\d{4}-\d\d-\d\d )?\d\d:\d\d local\) — meaning: I confirm this read")
    assert re.search(pattern, text), text
    (version,) = trial.read_history(window.controller.session, form.case.read_id)
    assert version.signature.signer_name == "Dr. Wei Zhang"
    assert version.signature.signed_utc in text
    _shoot(window, "signed_read_signature_block")


def test_exports_carry_the_signature_columns(demo_trial, tmp_path):
    trial, passwords, _db = demo_trial
    coordinator = trial.login("coordinator", passwords["coordinator"])
    plain = trial.export_trial(coordinator, tmp_path / "deid", passwords["coordinator"])
    named = trial.export_trial(coordinator, tmp_path / "named", passwords["coordinator"],
                               identified=True)

    def rows(summary, table):
        path = Path(summary.out_dir) / f"{table}.csv"
        return list(csv.DictReader(path.open(encoding="utf-8", newline="")))

    deid = rows(plain, "reads")
    assert deid and {r["signer_name"] for r in deid} <= {"READER1", "READER2", "READER3"}
    assert {r["signature_meaning"] for r in deid} == {"I confirm this read"}
    assert "signed_at_utc" not in deid[0]  # calendar times stay out of de-identified exports
    ident = rows(named, "reads")
    assert "Dr. Wei Zhang" in {r["signer_name"] for r in ident}
    assert all(r["signed_at_utc"].endswith("+00:00") for r in ident)
    codebook = (Path(plain.out_dir) / "codebook.csv").read_text(encoding="utf-8")
    assert "signer_name" in codebook and "signature_meaning" in codebook


def test_the_export_dialog_shows_the_export_signature(qtbot, demo_trial, tmp_path):
    from ioreview.ui.export_dialog import ExportDialog

    trial, passwords, _db = demo_trial
    session = trial.login("coordinator", passwords["coordinator"])
    dialog = ExportDialog(trial, session)
    qtbot.addWidget(dialog)
    dialog.resize(900, 600)
    dialog.show()
    qtbot.keyClicks(dialog.folder, str(tmp_path / "out"))
    qtbot.keyClicks(dialog.password, passwords["coordinator"])
    qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.summary is not None, timeout=60_000)
    assert dialog.summary.signature.signer_name == "Mei Chen"
    text = dialog.message.text()
    assert "Signed by Mei Chen (coordinator) on " in text
    assert "meaning: I confirm this export" in text
    _shoot(dialog, "export_signature")
