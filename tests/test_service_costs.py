"""What a use case costs the database: read-only calls take no write lock, passwords are
checked outside write transactions, an autosave is one write and a submit one more."""
from __future__ import annotations

import sqlite3
from contextlib import contextmanager

import pytest

import ioreview.service.accounts as accounts_module
import ioreview.service.reading as reading_module
from ioreview.service import TOUCH_INTERVAL_S

from test_trial_helpers import PASSWORDS, complete_values, fast_kdf, make_world  # noqa: F401

pytestmark = pytest.mark.usefixtures("fast_kdf")


@contextmanager
def write_lock_held_elsewhere(path):
    """Another process's connection holding SQLite's write lock."""
    other = sqlite3.connect(str(path), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        yield
    finally:
        other.execute("ROLLBACK")
        other.close()


def count_units(monkeypatch, store) -> list[bool]:
    """Record each outermost unit of work as write (True) or read-only (False)."""
    opened: list[bool] = []
    real = store.unit_of_work

    @contextmanager
    def counting(actor, *, write=True):
        outer = store._current is None
        with real(actor, write=write) as uow:
            if outer:
                opened.append(write)
            yield uow

    monkeypatch.setattr(store, "unit_of_work", counting)
    return opened


def test_read_only_use_cases_work_while_another_process_writes(tmp_path):
    """Worklist, validation, history, lists and progress read a WAL snapshot: a writer
    elsewhere does not make them wait (the busy timeout is cut so a wait would fail)."""
    w = make_world(tmp_path, readers=2)
    s1 = w.login("reader1")
    view = w.trial.open_case(s1, w.trial.worklist(s1)[0].assignment_id)
    w.store.conn.execute("PRAGMA busy_timeout = 100")
    with write_lock_held_elsewhere(w.store.path):
        assert len(w.trial.worklist(s1)) >= 4
        assert w.trial.validate_read(s1, view.read_id)  # an empty draft: problems listed
        assert len(w.trial.read_history(s1, view.read_id)) == 1
        w.trial.check_session(s1)
        assert w.trial.progress(w.admin).cases_total == 9
        assert len(w.trial.list_cases(w.admin)) == 9
        assert w.trial.info(w.admin).cases == 9


def test_passwords_are_checked_outside_write_transactions(tmp_path, monkeypatch):
    w = make_world(tmp_path, readers=2)
    path = w.store.path
    checked: list[str] = []

    def no_write_lock_held(password, stored):
        probe = sqlite3.connect(str(path), isolation_level=None, timeout=0)
        probe.execute("BEGIN IMMEDIATE")  # fails at once if a writer holds the lock
        probe.execute("ROLLBACK")
        probe.close()
        checked.append(password)
        return real(password, stored)

    real = reading_module.verify_password
    monkeypatch.setattr(reading_module, "verify_password", no_write_lock_held)
    monkeypatch.setattr(accounts_module, "verify_password", no_write_lock_held)
    s1 = w.login("reader1")
    view = w.trial.open_case(s1, w.trial.worklist(s1)[0].assignment_id)
    w.trial.save_draft(s1, view.read_id, complete_values(view.timepoint))
    w.trial.submit_read(s1, view.read_id, PASSWORDS["reader1"])
    assert checked == [PASSWORDS["reader1"]] * 2


def test_an_autosave_is_one_write_and_a_submit_one_more(tmp_path, monkeypatch):
    w = make_world(tmp_path, readers=2)
    s1 = w.login("reader1")
    view = w.trial.open_case(s1, w.trial.worklist(s1)[0].assignment_id)
    opened = count_units(monkeypatch, w.store)
    w.trial.save_draft(s1, view.read_id, complete_values(view.timepoint), active_seconds=3)
    assert opened == [True]
    opened.clear()
    w.trial.submit_read(s1, view.read_id, PASSWORDS["reader1"])
    assert opened == [False, True]  # checks and the password hash, then sign and lock
    opened.clear()
    w.trial.worklist(s1)
    assert opened == [False]


def test_session_activity_is_written_at_most_every_few_seconds(tmp_path, monkeypatch):
    w = make_world(tmp_path, readers=2)
    s1 = w.login("reader1")
    opened = count_units(monkeypatch, w.store)
    for _ in range(5):
        w.trial.worklist(s1)
        w.clock.advance(TOUCH_INTERVAL_S / 10)
    assert opened == [False] * 5
    w.clock.advance(TOUCH_INTERVAL_S)
    w.trial.worklist(s1)
    assert opened[-2:] == [False, True]  # the read, then the activity time
    # ... and the idle lock still counts from the last activity.
    w.clock.advance(w.trial.idle_timeout_s - 1)
    w.trial.check_session(s1)
