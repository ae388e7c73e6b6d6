"""The store: migrations, transactions, audit chain, the DICOM hierarchy."""
from __future__ import annotations

import sqlite3
import subprocess
import sys

import pytest

from ioreview.imaging.header import InstanceHeader
from ioreview.store import SQLiteStore as Store
from ioreview.store import StoreConflict, StoreError
from ioreview.store import dicom_index as di
from ioreview.store.migrations import MIGRATIONS

from test_trial_helpers import fast_kdf  # noqa: F401


def header(n: int, series: str = "1.2.3.1", study: str = "1.2.3", pid: str = "P1",
           **kw) -> InstanceHeader:
    return InstanceHeader(path=f"/data/{n}.dcm", sop_instance_uid=f"1.2.3.1.{n}",
                          sop_class_uid="1.2.840.10008.5.1.4.1.1.2", study_instance_uid=study,
                          series_instance_uid=series, patient_id=pid, modality="CT",
                          instance_number=n, rows=4, columns=4,
                          image_position=(0.0, 0.0, float(n)),
                          image_orientation=(1.0, 0.0, 0.0, 0.0, 1.0, 0.0),
                          pixel_spacing=(0.5, 0.5), window_center=(40.0, 400.0),
                          window_width=(400.0, 2000.0), **kw)


def insert(store: Store, headers: list[InstanceHeader]) -> di.InsertResult:
    with store.atomic("tester") as tx:
        run = di.begin_import_run(tx, ["/data"], "reference")
        return di.IndexWriter(run).insert(tx, headers, archived=False)


def test_new_database_has_wal_foreign_keys_and_schema(tmp_path):
    store = Store(tmp_path / "a.sqlite")
    assert store.scalar("PRAGMA journal_mode") == "wal"
    assert store.scalar("PRAGMA foreign_keys") == 1
    assert store.schema_version() == max(m.version for m in MIGRATIONS)
    for table in ("audit", "patient", "study", "series", "instance", "import_run", "import_file"):
        assert store.db[table].exists(), table


def test_migrations_reapply_safely(tmp_path):
    path = tmp_path / "a.sqlite"
    Store(path).close()
    store = Store(path)
    assert store.migrate() == []
    # Even re-running every statement of every migration is harmless.
    with store.atomic("tester") as tx:
        for m in MIGRATIONS:
            for stmt in m.statements:
                tx.execute(stmt)
    assert store.verify_audit_chain() == []


def test_newer_schema_is_refused(tmp_path):
    path = tmp_path / "a.sqlite"
    store = Store(path)
    with store.atomic("tester") as tx:
        tx.execute("INSERT INTO schema_migrations VALUES (999, 'future', 'x')")
    store.close()
    with pytest.raises(StoreError, match="newer"):
        Store(path)


def test_not_a_database_is_a_clear_error(tmp_path):
    bogus = tmp_path / "x.sqlite"
    bogus.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="not a usable ioreview database"):
        Store(bogus)


def test_hierarchy_insert_and_read_back(tmp_path):
    store = Store(tmp_path / "a.sqlite")
    res = insert(store, [header(i) for i in range(3)] + [header(9, series="1.2.3.2")])
    assert (res.new_patients, res.new_studies, res.new_series, len(res.inserted)) == (1, 1, 2, 4)
    assert di.counts(store) == {"patient": 1, "study": 1, "series": 2, "instance": 4,
                                "import_run": 1}
    series_pk = store.scalar("SELECT id FROM series WHERE series_instance_uid='1.2.3.1'")
    back = di.series_headers(store, series_pk)
    assert [h.instance_number for h in back] == [0, 1, 2]
    assert back[1].image_position == (0.0, 0.0, 1.0)
    assert back[1].window_width == (400.0, 2000.0)
    assert back[1].modality == "CT"
    assert back[1] == header(1)


def test_duplicates_are_reported_not_doubled(tmp_path):
    store = Store(tmp_path / "a.sqlite")
    insert(store, [header(1), header(2)])
    res = insert(store, [header(2), header(3), header(3)])
    assert [h.sop_instance_uid for h in res.inserted] == ["1.2.3.1.3"]
    assert [d.sop_instance_uid for d in res.duplicates] == ["1.2.3.1.2", "1.2.3.1.3"]
    assert di.counts(store)["instance"] == 3


def test_every_write_is_audited_in_a_hash_chain(tmp_path):
    store = Store(tmp_path / "a.sqlite")
    insert(store, [header(1)])
    records = store.audit_records()
    actions = {(r.actor, r.action, r.entity) for r in records}
    assert ("tester", "import", "instance") in actions
    assert ("tester", "create", "patient") in actions
    assert store.verify_audit_chain() == []
    # The database refuses changes to the trail; with its trigger dropped, tampering with any
    # record breaks the keyed chain.
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        store.conn.execute("UPDATE audit SET after_json = '{}' WHERE entity = 'instance'")
    store.conn.execute("DROP TRIGGER audit_no_update")
    store.conn.execute("UPDATE audit SET after_json = '{}' WHERE entity = 'instance'")
    assert any("not authenticated by the trial key" in p for p in store.verify_audit_chain())


def test_failed_transaction_leaves_no_rows_and_no_audit(tmp_path):
    store = Store(tmp_path / "a.sqlite")
    before = len(store.audit_records())
    with pytest.raises(RuntimeError):
        with store.atomic("tester") as tx:
            run = di.begin_import_run(tx, ["/x"], "reference")
            di.IndexWriter(run).insert(tx, [header(1)], archived=False)
            raise RuntimeError("boom")
    assert di.counts(store)["instance"] == 0
    assert len(store.audit_records()) == before


def test_foreign_keys_are_enforced(tmp_path):
    store = Store(tmp_path / "a.sqlite")
    with pytest.raises(StoreConflict, match="FOREIGN KEY"):
        with store.atomic("tester") as tx:
            tx.execute("INSERT INTO series (series_instance_uid, study_pk) VALUES ('1', 999)")


def test_second_process_writing_waits_then_succeeds(tmp_path):
    """A second process holding the write lock briefly does not make our write fail."""
    path = tmp_path / "a.sqlite"
    Store(path).close()
    code = (
        "import sqlite3, time, sys\n"
        f"c = sqlite3.connect({str(path)!r}, isolation_level=None)\n"
        "c.execute('BEGIN IMMEDIATE'); print('locked', flush=True); time.sleep(1.0)\n"
        "c.execute('COMMIT')\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "locked"
    store = Store(path)
    insert(store, [header(1)])
    proc.wait(timeout=10)
    assert di.counts(store)["instance"] == 1


def test_cases_locked_before_discordance_was_stored_are_evaluated_at_open(tmp_path, fast_kdf):
    """A database from before schema 3 has locked reads but no stored evaluations: opening it
    evaluates them once (audited as a backfill)."""
    from test_trial_helpers import PASSWORDS, complete_values, make_world

    from ioreview.service import Trial

    w = make_world(tmp_path, readers=2)
    sessions = [w.login("reader1"), w.login("reader2")]
    label = w.trial.worklist(sessions[0])[0].case_label
    for n, session in enumerate(sessions):
        item = next(i for i in w.trial.worklist(session) if i.case_label == label)
        view = w.trial.open_case(session, item.assignment_id)
        w.trial.save_draft(session, view.read_id,
                           complete_values(view.timepoint, side=("left", "right")[n]))
        w.trial.submit_read(session, view.read_id, PASSWORDS[f"reader{n + 1}"])
    w.trial.close()
    old = sqlite3.connect(str(tmp_path / "trial.sqlite"), isolation_level=None)
    old.execute("DELETE FROM discordance")
    old.execute("DELETE FROM discordance_evaluation")
    old.close()
    trial = Trial.open(tmp_path / "trial.sqlite", clock=w.clock)
    report = trial.progress(trial.login("admin", PASSWORDS["admin"]))
    assert [(c.case_label, c.fields) for c in report.discordant_cases] == [(label, ("side",))]
    causes = [r.after["cause"] for r in trial.store.audit_records("discordance")]
    assert causes == ["locked", "backfill"]
    Trial.open(tmp_path / "trial.sqlite", clock=w.clock)  # nothing more to do
    assert len(trial.store.audit_records("discordance")) == 2


def test_a_damaged_page_met_while_fetching_is_the_stores_clear_error(tmp_path):
    """SQLite finds a damaged page only when a row on it is fetched, after the statement has
    begun: the fetch raises the store's error too ("damaged ... restore it from a backup",
    exit 2 on the command line), not sqlite3's DatabaseError (a traceback from
    `ioreview audit verify` on a tampered file)."""
    import sqlite3

    from ioreview.store import StoreError
    from ioreview.store.sqlite import SQLiteStore

    db = tmp_path / "t.sqlite"
    store = SQLiteStore(db)
    with store.unit_of_work("test") as uow:
        uow.execute("CREATE TABLE filler (x TEXT)")
        uow.executemany("INSERT INTO filler (x) VALUES (?)", [("v" * 200,) for _ in range(5000)])
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    with sqlite3.connect(db) as conn:
        page = conn.execute("PRAGMA page_size").fetchone()[0]
        last = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.close()
    with open(db, "r+b") as f:  # a leaf page near the table's end: its first rows still read
        f.seek((last - 20) * page)
        f.write(b"\xff" * page)
    store = SQLiteStore(db)
    try:
        # ... and so does the end of the transaction, which SQLite refuses after it
        with pytest.raises(StoreError, match="damaged"), \
                store.unit_of_work("test", write=False) as uow:
            cursor = uow.execute("SELECT x FROM filler")
            assert cursor.fetchone() == ("v" * 200,)  # the statement and its first row: fine
            with pytest.raises(StoreError, match="damaged or not an ioreview database"):
                cursor.fetchall()
            with pytest.raises(StoreError, match="damaged"):
                uow.tuples("SELECT x FROM filler")
            with pytest.raises(StoreError, match="damaged"):
                list(uow.execute("SELECT x FROM filler"))
    finally:
        store.close()
