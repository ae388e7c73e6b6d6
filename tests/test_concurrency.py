"""Several workstations at once: two processes autosaving while a third logs in, per backend.

No error may reach a caller and nothing may be lost: every autosave lands (active time adds
up), every login starts a session, and the audit chain stays one line.
"""
from __future__ import annotations

import multiprocessing
import traceback
from pathlib import Path

import pytest

from test_trial_helpers import PASSWORDS, complete_values, fast_kdf, make_world  # noqa: F401

pytestmark = pytest.mark.usefixtures("trial_backend", "fast_kdf")

SAVES = 200
LOGINS = 50


def _autosave(db: str, archive: str, reader: str, out: multiprocessing.Queue) -> None:
    from ioreview.service import Trial

    try:
        trial = Trial.open(db, archive_root=archive)
        session = trial.login(reader, PASSWORDS[reader])
        item = trial.worklist(session)[0]
        view = trial.open_case(session, item.assignment_id)
        values = complete_values(view.timepoint)
        for i in range(SAVES):
            values["image_quality"] = ("adequate", "limited")[i % 2]
            trial.save_draft(session, view.read_id, values, active_seconds=1.0)
        out.put((reader, "ok", view.read_id))
    except BaseException:  # noqa: BLE001 - reported to the test
        out.put((reader, "error", traceback.format_exc()))


def _login(db: str, archive: str, out: multiprocessing.Queue) -> None:
    from ioreview.service import Trial

    try:
        trial = Trial.open(db, archive_root=archive)
        for _ in range(LOGINS):
            trial.logout(trial.login("reader3", PASSWORDS["reader3"]))
        out.put(("login", "ok", None))
    except BaseException:  # noqa: BLE001 - reported to the test
        out.put(("login", "error", traceback.format_exc()))


def test_two_autosavers_and_a_login_loop_lose_nothing(tmp_path: Path) -> None:
    w = make_world(tmp_path)
    db = w.store.target
    archive = str(tmp_path / "archive")
    w.trial.close()
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=_autosave, args=(db, archive, r, out))
             for r in ("reader1", "reader2")]
    procs.append(ctx.Process(target=_login, args=(db, archive, out)))
    for p in procs:
        p.start()
    results = [out.get(timeout=300) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    errors = [r for r in results if r[1] != "ok"]
    assert errors == [], "\n".join(str(e[2]) for e in errors)

    from ioreview.service import Trial

    trial = Trial.open(db, archive_root=archive)
    admin = trial.login("admin", PASSWORDS["admin"])
    report = trial.verify_audit_trail(admin)
    assert report.intact, report.problems
    for reader in ("reader1", "reader2"):
        read_id = next(r[2] for r in results if r[0] == reader)
        session = trial.login(reader, PASSWORDS[reader])
        [version] = trial.read_history(session, read_id)
        assert version.values["image_quality"] == "limited"  # the 200th save (i = 199)
        saves = [r for r in trial.store.audit_records("read", read_id)
                 if r.action == "save_draft"]
        assert len(saves) == SAVES and saves[-1].after["active_seconds"] == float(SAVES)
    logins = [r for r in trial.store.audit_records("user", w.user_ids["reader3"])
              if r.action == "login"]
    assert len(logins) == LOGINS
