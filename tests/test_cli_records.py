"""`ioreview audit`, `backup` and `restore` on the command line (issue 12): what an inspector or
a coordinator runs, as a logged-in user, on a real SQLite trial."""
from __future__ import annotations

import csv
import sqlite3
from pathlib import Path

import pytest

from test_cli_mistakes import run
from test_trial_helpers import PASSWORDS, complete_values, fast_kdf, make_world  # noqa: F401


@pytest.fixture
def signed_trial(tmp_path, fast_kdf):  # noqa: F811
    """A closed SQLite trial with one signed read, and the administrator's credentials."""
    w = make_world(tmp_path, readers=2, db_name="cli.sqlite")
    s1 = w.login("reader1")
    view = w.trial.open_case(s1, w.trial.worklist(s1)[0].assignment_id)
    w.trial.save_draft(s1, view.read_id, complete_values(view.timepoint))
    w.trial.submit_read(s1, view.read_id, PASSWORDS["reader1"])
    db = w.store.target
    label = view.case_label
    w.trial.close()
    secret = tmp_path / "admin.pw"
    secret.write_text(PASSWORDS["admin"] + "\n")
    secret.chmod(0o600)
    who = ("--user", "admin", "--password-file", str(secret))
    return db, str(tmp_path / "archive"), who, view.read_id, label


def test_verify_an_untouched_trial(signed_trial, capsys):
    db, archive, who, _read, _label = signed_trial
    code, out, err = run(capsys, "--db", db, "--archive", archive, *who, "audit", "verify")
    assert code == 0, out + err
    assert "intact" in out and "1 signatures" in out and "anchor" in out


def test_a_changed_signed_value_is_named_with_the_first_broken_record(signed_trial, capsys):
    db, archive, who, read_id, _label = signed_trial
    with sqlite3.connect(db) as conn:  # the attacker drops the triggers first
        for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'"):
            conn.execute(f'DROP TRIGGER "{name}"')
        n = conn.execute("UPDATE read_value SET value_json = '\"right\"' WHERE read_id = ? AND "
                         "field = 'side'", (read_id,)).rowcount
    assert n >= 1
    code, out, err = run(capsys, "--db", db, "--archive", archive, *who, "audit")
    assert code == 1
    assert out.startswith("FIRST PROBLEM at")
    assert "signature" in out and "NOT intact" in err


def test_audit_log_filters_and_writes_csv(signed_trial, capsys, tmp_path):
    db, archive, who, _read, label = signed_trial
    code, out, err = run(capsys, "--db", db, "--archive", archive, *who, "audit", "log",
                         "--case", label, "--what", "sign")
    assert code == 0, err
    lines = out.strip().splitlines()
    assert lines and all(" sign " in line and "reader1" in line for line in lines)
    target = tmp_path / "trail.csv"
    code, out, err = run(capsys, "--db", db, "--archive", archive, *who, "audit", "log",
                         "--by", "reader1", "--csv", str(target))
    assert code == 0 and "Wrote" in out, err
    with target.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert rows and {r["actor"] for r in rows} == {"reader1"}


def test_readers_cannot_see_the_trail(signed_trial, capsys, tmp_path):
    db, archive, _who, _read, _label = signed_trial
    secret = tmp_path / "reader.pw"
    secret.write_text(PASSWORDS["reader2"] + "\n")
    secret.chmod(0o600)
    for action in ("verify", "log"):
        code, _, err = run(capsys, "--db", db, "--archive", archive, "--user", "reader2",
                           "--password-file", str(secret), "audit", action)
        assert code == 2 and err.splitlines()[-1].startswith("ioreview: You cannot")


def test_backup_restore_round_trip_and_a_tampered_backup_is_refused(signed_trial, capsys,
                                                                     tmp_path):
    db, archive, who, _read, _label = signed_trial
    code, out, err = run(capsys, "--db", db, "--archive", archive, *who, "backup",
                         str(tmp_path / "bk"))
    assert code == 0 and "not in the backup" in out, err
    restored = tmp_path / "restored" / "trial.sqlite"
    restored.parent.mkdir()
    code, out, err = run(capsys, "--db", str(restored), "restore", str(tmp_path / "bk"))
    assert code == 0 and "Restored and verified" in out, err
    code, out, err = run(capsys, "--db", str(restored), *who, "audit")
    assert code == 0 and "intact" in out, out + err
    # a second restore onto the same database is refused
    code, _, err = run(capsys, "--db", str(restored), "restore", str(tmp_path / "bk"))
    assert code == 2 and err.count("\n") == 1
    # a backup whose database was edited is refused, and nothing is restored
    bk_db = next(p for p in (tmp_path / "bk").iterdir() if p.suffix == ".sqlite")
    with sqlite3.connect(bk_db) as conn:
        for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'"):
            conn.execute(f'DROP TRIGGER "{name}"')
        conn.execute("UPDATE app_user SET role = 'admin' WHERE username = 'reader2'")
    again = tmp_path / "again" / "trial.sqlite"
    again.parent.mkdir()
    code, out, err = run(capsys, "--db", str(again), "restore", str(tmp_path / "bk"))
    assert code == 2 and "ioreview:" in err
    assert not again.exists() or again.stat().st_size == 0


def test_admin_grants_is_for_postgresql(signed_trial, capsys):
    db, archive, who, _read, _label = signed_trial
    code, _, err = run(capsys, "--db", db, "--archive", archive, *who, "admin", "grants",
                       "ioreview_app")
    assert code == 2 and "PostgreSQL" in err


@pytest.mark.postgres
def test_admin_grants_prints_the_script(postgres_url, tmp_path, capsys, monkeypatch,
                                        fast_kdf):  # noqa: F811
    monkeypatch.setenv("IOREVIEW_KEY_FILE", str(tmp_path / "trial.key"))
    w = make_world(tmp_path, readers=1, assign=False, db=postgres_url)
    w.trial.close()
    secret = tmp_path / "admin.pw"
    secret.write_text(PASSWORDS["admin"] + "\n")
    secret.chmod(0o600)
    code, out, err = run(capsys, "--db", postgres_url, "--archive", str(tmp_path / "archive"),
                         "--user", "admin", "--password-file", str(secret), "admin", "grants",
                         "ioreview_app")
    assert code == 0, err
    assert "GRANT" in out and "ioreview_app" in out and "audit" in out
