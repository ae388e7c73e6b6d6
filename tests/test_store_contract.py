"""The storage port's contract: every backend (SQLite file, PostgreSQL server) must pass these.

Tests speak only the port (units of work, repositories, typed records, the audit trail); no SQL.
"""
from __future__ import annotations

import threading
from dataclasses import fields, is_dataclass

import pytest

from ioreview.store import ReadOnlyViolation, StoreConflict, StoreError, open_store
from ioreview.store.engine import ProtectedRecord
from ioreview.store.migrations import MIGRATIONS
from ioreview.store.records import (CaseRecord, DiscordantField, ReadRecord, SignatureRecord,
                                    UserRecord)

from test_trial_helpers import add_studies


@pytest.fixture
def store(db_url):
    s = open_store(db_url)
    yield s
    s.close()


def _user(uow, name: str = "reader1", role: str = "reader") -> int:
    return uow.users.add(name, name.title(), role, "scrypt$x", "2026-01-01T00:00:00+00:00")


def _case_with_read(store) -> tuple[int, int, int, int]:
    """(user id, case id, assignment id, read id) on a fresh store."""
    add_studies(store, subjects=1, per_series=1)
    with store.unit_of_work("tester") as uow:
        user = _user(uow)
        pv = uow.protocols.add("p", "1", "P", "p.toml", "text", "sha", "t", "tester")
        uow.protocols.activate(pv)
        series = uow.dicom.study_series_pks(uow.cases.studies_for_cases()[0].study_pk)
        case = uow.cases.add("CASE-AAAA", "S1", "baseline", 0, None, "t", series)
        run = uow.assignments.add_run(1, pv, [user], "t", "tester")
        assignment = uow.assignments.add(case, user, run, 0, False, None, 0.0)
        read = uow.reads.add(assignment, pv, "in_progress", "t")
    return user, case, assignment, read


def test_new_store_is_migrated_and_its_audit_chain_intact(store):
    assert store.schema_version() == max(m.version for m in MIGRATIONS)
    assert store.verify_audit_chain() == []
    # one record per migration, and the seal that starts the keyed chain
    assert store.audit_count() == len(MIGRATIONS) + 1 and len(store.audit_head()) == 64
    assert [r.action for r in store.audit_records()].count("seal") == 1
    assert store.migrate() == []


def test_reopening_migrates_nothing_and_keeps_data(db_url):
    with open_store(db_url) as s:
        with s.unit_of_work("tester") as uow:
            _user(uow)
    with open_store(db_url) as s:
        assert s.migrate() == []
        with s.unit_of_work("tester", write=False) as uow:
            assert [u.username for u in uow.users.list()] == ["reader1"]


def test_insert_returns_ids_and_records_are_typed(store):
    with store.unit_of_work("tester") as uow:
        a, b = _user(uow, "a1"), _user(uow, "b1")
        assert isinstance(a, int) and b > a
        user = uow.users.get(a)
    assert isinstance(user, UserRecord) and is_dataclass(user)
    assert user.active is True and user.failed_logins == 0 and user.locked_until is None
    with pytest.raises(Exception):  # frozen
        user.active = False  # type: ignore[misc]


def test_a_failed_unit_of_work_leaves_nothing_behind(store):
    before = store.audit_count()
    with pytest.raises(RuntimeError):
        with store.unit_of_work("tester") as uow:
            _user(uow)
            uow.audit("create", "user", 1)
            raise RuntimeError("boom")
    with store.unit_of_work("tester", write=False) as uow:
        assert uow.users.list() == []
    assert store.audit_count() == before


def test_read_only_units_refuse_writes_and_audit(store):
    with pytest.raises(ReadOnlyViolation):
        with store.unit_of_work("tester", write=False) as uow:
            _user(uow)
    with pytest.raises(ReadOnlyViolation):
        with store.unit_of_work("tester", write=False) as uow:
            uow.audit("x", "y", 1)
    with pytest.raises(ReadOnlyViolation):
        with store.unit_of_work("tester", write=False):
            with store.unit_of_work("tester"):
                pass


def test_nested_units_join_and_keep_each_records_actor(store):
    with store.unit_of_work("outer") as uow:
        uow.audit("a", "thing", 1)
        with store.unit_of_work("inner") as inner:
            assert inner is uow
            inner.audit("b", "thing", 2)
        uow.audit("c", "thing", 3)
    records = store.audit_records("thing")
    assert [(r.action, r.actor) for r in records] == [("a", "outer"), ("b", "inner"),
                                                       ("c", "outer")]
    assert store.verify_audit_chain() == []


def test_updates_convert_types_both_ways(store):
    with store.unit_of_work("tester") as uow:
        uid = _user(uow)
        uow.users.update(uid, active=False, failed_logins=3, locked_until=1_790_000_000.123456)
        user = uow.users.get(uid)
    assert user.active is False and user.failed_logins == 3
    assert user.locked_until == pytest.approx(1_790_000_000.123456, abs=1e-6)
    with pytest.raises(ValueError):
        with store.unit_of_work("tester") as uow:
            uow.users.update(uid, username="evil")


def test_reads_values_annotations_and_counts(store):
    user, case, assignment, read = _case_with_read(store)
    from ioreview.store.records import AnnotationRecord, KeyImageRecord

    with store.unit_of_work("tester") as uow:
        uow.reads.replace_values(read, 1, {"a": "x", "b": 2.5, "c": ["p", "q"], "d": "中文"},
                                 {"b": "cm"})
        uow.reads.replace_annotations(read, 1, [AnnotationRecord(
            None, None, "length", "1.2.3", 0, ((1.0, 2.0), (3.5, 4.25)), {"mm": 12.5}, "L")])
        uow.reads.replace_key_images(read, 1, [KeyImageRecord("1.2.3", 2, "note")])
        uow.reads.update(read, status="submitted", active_seconds=12.5)
    with store.unit_of_work("tester", write=False) as uow:
        r = uow.reads.get(read)
        assert isinstance(r, ReadRecord) and r.status == "submitted" and r.is_reread is False
        assert r.reader_id == user and r.case_id == case and r.display_label == "CASE-AAAA"
        assert uow.reads.values(read, 1) == {"a": "x", "b": 2.5, "c": ["p", "q"], "d": "中文"}
        assert uow.reads.values_of([(read, 1), (read, 2)]) == {
            (read, 1): {"a": "x", "b": 2.5, "c": ["p", "q"], "d": "中文"}, (read, 2): {}}
        [a] = uow.reads.annotations(read, 1)
        assert a.points == ((1.0, 2.0), (3.5, 4.25)) and a.measurements == {"mm": 12.5}
        assert uow.reads.key_images(read, 1) == [KeyImageRecord("1.2.3", 2, "note")]
        assert uow.reads.count_annotations(read, 1) == 1
        counts = uow.dicom.counts()
        assert counts.cases == 1 and counts.reads_by_status == {"submitted": 1}
        assert all(type(getattr(counts, f.name)) is int for f in fields(counts)
                   if f.name != "reads_by_status")
        [progress] = uow.assignments.reader_progress()
        assert (progress.assigned, progress.submitted, progress.in_progress) == (1, 1, 0)
        assert type(progress.submitted) is int
        [row] = uow.assignments.worklist(user, 1.0)
        assert (row.read_id, row.status, row.label) == (read, "submitted", "CASE-AAAA")
        assert isinstance(uow.cases.get(case), CaseRecord) and uow.cases.get(case).n_series == 1


def test_signatures_of_any_entity_kind(store):
    user, _case, _assignment, read = _case_with_read(store)
    with store.unit_of_work("tester") as uow:
        first = uow.signatures.add("read", read, 1, user, "t1", "I confirm this read", "a" * 64)
        uow.signatures.add("export", 7, 1, user, "t2", "I approve this export", "b" * 64)
    with store.unit_of_work("tester", write=False) as uow:
        [s] = uow.signatures.of("read", read)
        assert isinstance(s, SignatureRecord) and s.id == first and s.signer == "reader1"
        assert [x.entity_kind for x in uow.signatures.all()] == ["read", "export"]
    with pytest.raises(StoreConflict, match="conflicts"):  # one per signer and version
        with store.unit_of_work("tester") as uow:
            uow.signatures.add("read", read, 1, user, "t3", "again", "c" * 64)
    with store.unit_of_work("tester", write=False) as uow:  # nothing of it was kept
        assert len(uow.signatures.of("read", read)) == 1


def test_discordance_evaluations_are_kept_and_superseded(store):
    _user_id, case, _assignment, read = _case_with_read(store)
    with store.unit_of_work("tester") as uow:
        pv = uow.protocols.find(active=True).id
        uow.discordance.record(case, pv, [(read, 1)], [DiscordantField(
            "side", "mismatch", "left vs right", ("left", "right"))], "locked", "t1")
    with store.unit_of_work("tester") as uow:
        uow.discordance.record(case, pv, [(read, 2)], [], "amended", "t2")
    with store.unit_of_work("tester", write=False) as uow:
        [current] = uow.discordance.current()
        assert current.cause == "amended" and not current.discordant
        old, new = uow.discordance.history(case)
        assert old.superseded_at == "t2" and new.superseded_at is None
        assert old.fields[0].values == ("left", "right") and old.reads == ((read, 1),)


def test_concurrent_writers_keep_one_audit_chain(db_url):
    """Writers on separate connections (as separate workstations) never fork the chain."""
    open_store(db_url).close()
    errors: list[BaseException] = []

    def write(n: int) -> None:
        try:
            with open_store(db_url) as s:
                for i in range(25):
                    with s.unit_of_work(f"writer{n}") as uow:
                        uow.audit("tick", "thread", f"{n}:{i}")
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with open_store(db_url) as s:
        assert len(s.audit_records("thread")) == 100
        assert s.verify_audit_chain() == []


def test_tampering_with_a_record_breaks_the_chain(store):
    with store.unit_of_work("tester") as uow:
        uow.audit("create", "thing", 1, after={"v": 1})
        uow.audit("create", "thing", 2, after={"v": 2})
    # the database refuses the change ...
    with pytest.raises(ProtectedRecord, match="append-only"):
        with store.unit_of_work("tester") as uow:
            uow.execute("UPDATE audit SET after_json = ? WHERE entity = ? AND entity_id = ?",
                        ('{"v":9}', "thing", "1"))
    assert store.verify_audit_chain() == []
    # ... and when its protection is removed first, the keyed chain shows the edit
    with store.unit_of_work("tester") as uow:
        uow.execute("DROP TRIGGER audit_no_update" if store.dialect == "sqlite"
                    else "DROP TRIGGER audit_append_only ON audit")
        uow.execute("UPDATE audit SET after_json = ? WHERE entity = ? AND entity_id = ?",
                    ('{"v":9}', "thing", "1"))
    problems = store.verify_audit_chain()
    assert problems and "not authenticated by the trial key" in problems[0]
    assert "create thing 1" in problems[0]
    assert store.missing_protections() != []


def test_a_taken_unique_value_is_a_conflict_not_a_driver_error(store):
    with store.unit_of_work("tester") as uow:
        _user(uow, "same")
    with pytest.raises(StoreConflict, match="reload and try again"):
        with store.unit_of_work("tester") as uow:
            _user(uow, "same")
    with store.unit_of_work("tester", write=False) as uow:
        assert [u.username for u in uow.users.list()] == ["same"]


def test_a_lost_server_connection_is_one_clear_error(postgres_url):
    import psycopg

    store = open_store(postgres_url)
    pid = store.conn.info.backend_pid
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    with pytest.raises(StoreError, match="connection to the server failed"):
        with store.unit_of_work("tester", write=False) as uow:
            uow.users.list()
    store.close()


def _radiograph(n: int, view: str = "", meaning: str = ""):
    from ioreview.imaging.header import InstanceHeader

    return InstanceHeader(path=f"/data/dx{n}.dcm", sop_instance_uid=f"1.2.9.1.{n}",
                          sop_class_uid="1.2.840.10008.5.1.4.1.1.1.1", study_instance_uid="1.2.9",
                          series_instance_uid="1.2.9.1", patient_id="P9", modality="DX",
                          instance_number=n, rows=8, columns=8, view_position=view,
                          view_code_meaning=meaning)


def _index(store, headers) -> None:
    from ioreview.store import dicom_index as di

    with store.unit_of_work("tester") as uow:
        run = di.begin_import_run(uow, ["/data"], "reference")
        di.IndexWriter(run).insert(uow, headers, archived=False)


def test_each_instances_view_is_stored_and_read_back(store):
    """Schema 11: View Position and the View Code Sequence's meaning of each instance (views
    differ between the images of one CR/DX series), and none for an instance without."""
    from ioreview.store import dicom_index as di

    written = [_radiograph(1, "AP", "antero-posterior"), _radiograph(2, "LL", ""),
               _radiograph(3), _radiograph(4, "正位", "前后位"), _radiograph(5, "", "lateral")]
    _index(store, written)
    pk = di.series_pk_of(store, "1.2.9.1")
    assert pk is not None
    read = di.series_headers(store, pk)
    assert [(h.view_position, h.view_code_meaning) for h in read] == [
        ("AP", "antero-posterior"), ("LL", ""), ("", ""), ("正位", "前后位"), ("", "lateral")]
    assert read[0] == written[0]


def test_a_database_from_before_schema_11_keeps_working(db_url):
    """An index written at schema 10 gains the view table on opening; its instances read back
    without a view, and new imports store theirs."""
    from ioreview.store import dicom_index as di

    old = open_store(db_url, migrate=False)
    old.migrate(tuple(m for m in MIGRATIONS if m.version <= 10))
    assert old.schema_version() == 10
    _index(old, [_radiograph(1)])  # no view: schema 10's instance table is enough
    old.close()
    with open_store(db_url) as s:
        assert s.schema_version() == max(m.version for m in MIGRATIONS) >= 11
        _index(s, [_radiograph(2, "PA", "postero-anterior")])
        pk = di.series_pk_of(s, "1.2.9.1")
        assert pk is not None
        assert [(h.instance_number, h.view_position, h.view_code_meaning)
                for h in di.series_headers(s, pk)] == [(1, "", ""), (2, "PA", "postero-anterior")]
