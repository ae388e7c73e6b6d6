"""Tamper evidence (issue 12): the database refuses changes to the audit trail, signatures and
signed reads, and `verify_audit_trail` detects and names every edit made behind the
application's back.

The attacker here can write the database file and read the source, but holds neither the trial
key nor the anchor journal: each attack drops the protective triggers with the sqlite3 module,
edits, recomputes whatever unkeyed hashes the source shows how to recompute (the SHA-256 audit
chain, signatures' content hashes) and puts the triggers back.
"""
from __future__ import annotations

import json
import re
import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ioreview.service import ProblemKind, Trial
from ioreview.service.signatures import content_sha256
from ioreview.store import open_store
from ioreview.store.audit import audit_hash
from ioreview.store.engine import ProtectedRecord
from ioreview.store.migrations import MIGRATIONS
from ioreview.store.sqlite import PROTECTIVE_TRIGGERS, SQLiteStore
from ioreview.store.trial_key import TrialKeyError

from test_trial_helpers import fast_kdf  # noqa: F401

pytestmark = pytest.mark.usefixtures("fast_kdf")


# -- a demo trial, copied for each attack --------------------------------------------------------
@pytest.fixture(scope="module")
def demo_template(tmp_path_factory) -> Path:
    from ioreview.demo import build_demo
    from ioreview.imaging.synthetic import DemoConfig

    root = tmp_path_factory.mktemp("tamper-demo") / "demo"
    build_demo(root, DemoConfig.small())
    return root


@dataclass
class Victim:
    db: Path
    archive: Path

    def verify(self):
        trial = Trial.open(self.db, archive_root=self.archive)
        try:
            coordinator = trial.login("coordinator", "coordinator-demo")
            return trial.verify_audit_trail(coordinator)
        finally:
            trial.close()


@pytest.fixture
def victim(demo_template: Path, tmp_path: Path) -> Victim:
    """A private copy of the demo trial: database, trial key, anchor journal, archive."""
    target = tmp_path / "demo"
    shutil.copytree(demo_template, target, ignore=shutil.ignore_patterns("dicom"))
    return Victim(target / "ioreview.sqlite", target / "archive")


# -- the attacker's tools: sqlite3 and the source ------------------------------------------------
@pytest.fixture
def attacker(victim: Victim) -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(victim.db, isolation_level=None)
    names = [n for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")]
    for name in names:
        conn.execute(f"DROP TRIGGER {name}")
    yield conn
    for statement in PROTECTIVE_TRIGGERS.values():  # cover the tracks
        conn.execute(statement)
    conn.close()


def rechain(conn: sqlite3.Connection, start: int = 1) -> None:
    """Recompute the plain SHA-256 chain from record `start` on, as the source shows."""
    prev = conn.execute("SELECT hash FROM audit WHERE seq < ? ORDER BY seq DESC LIMIT 1",
                        (start,)).fetchone()
    prev = prev[0] if prev else "0" * 64
    rows = conn.execute("SELECT seq, at, actor, action, entity, entity_id, before_json,"
                        " after_json FROM audit WHERE seq >= ? ORDER BY seq", (start,)).fetchall()
    conn.execute("UPDATE audit SET hash = 'x' || seq WHERE seq >= ?", (start,))  # UNIQUE hash
    for seq, at, actor, action, entity, eid, before, after in rows:
        h = audit_hash(prev, at, actor, action, entity, eid, before, after)
        conn.execute("UPDATE audit SET prev_hash = ?, hash = ? WHERE seq = ?", (prev, h, seq))
        prev = h


def renumber(conn: sqlite3.Connection) -> None:
    """Close the gaps in the sequence numbers (records after a deleted one move down)."""
    seqs = [s for (s,) in conn.execute("SELECT seq FROM audit ORDER BY seq")]
    for new, old in enumerate(seqs, 1):
        if new != old:
            conn.execute("UPDATE audit SET seq = ? WHERE seq = ?", (new, old))


def signed_read(conn: sqlite3.Connection) -> tuple[int, int, int, int]:
    """(signature id, read id, version, seq of its signing record) of a signed read."""
    sid, read_id, version = conn.execute(
        "SELECT s.id, s.entity_id, s.version FROM signature_record s JOIN review_read r"
        " ON r.id = s.entity_id AND r.version = s.version WHERE s.entity_kind = 'read'"
        " ORDER BY s.id LIMIT 1").fetchone()
    (seq,) = conn.execute("SELECT seq FROM audit WHERE action = 'sign' AND entity = 'signature'"
                          " AND entity_id = ?", (str(sid),)).fetchone()
    return sid, read_id, version, seq


def read_content_sha(conn: sqlite3.Connection, sid: int) -> str:
    """The SHA-256 a read signature holds, rebuilt from the tables as signatures.py does."""
    kind, read_id, version, signer_id, signed_at, meaning = conn.execute(
        "SELECT entity_kind, entity_id, version, signer_id, signed_at, meaning"
        " FROM signature_record WHERE id = ?", (sid,)).fetchone()
    assignment_id, pv = conn.execute("SELECT assignment_id, protocol_version_id FROM review_read"
                                     " WHERE id = ?", (read_id,)).fetchone()
    (signer,) = conn.execute("SELECT username FROM app_user WHERE id = ?",
                             (signer_id,)).fetchone()
    values = {f: json.loads(v) for f, v in conn.execute(
        "SELECT field, value_json FROM read_value WHERE read_id = ? AND version = ?"
        " ORDER BY field", (read_id, version))}
    annotations = [{"version": version, "finding_id": f, "kind": k, "sop_instance_uid": u,
                    "frame": fr, "label": lab, "points": json.loads(p),
                    "measurements": json.loads(m)}
                   for f, k, u, fr, lab, p, m in conn.execute(
                       "SELECT finding_id, kind, sop_instance_uid, frame, label, points_json,"
                       " measurements_json FROM annotation WHERE read_id = ? AND version = ?"
                       " ORDER BY id", (read_id, version))]
    key_images = [{"sop_instance_uid": u, "frame": fr, "note": n} for u, fr, n in conn.execute(
        "SELECT sop_instance_uid, frame, note FROM key_image WHERE read_id = ? AND version = ?"
        " ORDER BY id", (read_id, version))]
    return content_sha256({
        "read_id": read_id, "assignment_id": assignment_id, "version": version,
        "protocol_version_id": pv, "signer": signer, "meaning": meaning,
        "signed_at": signed_at, "values": values, "annotations": annotations,
        "key_images": key_images})


def change_a_value(conn: sqlite3.Connection, read_id: int, version: int) -> str:
    field, value = conn.execute("SELECT field, value_json FROM read_value WHERE read_id = ? AND"
                                " version = ? ORDER BY field LIMIT 1",
                                (read_id, version)).fetchone()
    conn.execute("UPDATE read_value SET value_json = ? WHERE read_id = ? AND version = ? AND"
                 " field = ?", (json.dumps("tampered"), read_id, version, field))
    return field


def named(report, kind: ProblemKind, *phrases: str, seq: int | None = None) -> bool:
    return any(p.kind == kind and all(ph in p.message for ph in phrases)
               and (seq is None or p.seq == seq) for p in report.issues)


# -- an untouched trial ----------------------------------------------------------------------------
def test_an_untouched_demo_trial_verifies(victim: Victim):
    report = victim.verify()
    assert report.intact, report.problems
    assert report.n_signatures > 0 and len(report.key_id) == 32 and report.first_broken is None
    with sqlite3.connect(victim.db) as conn:
        kinds = {k for (k,) in conn.execute("SELECT DISTINCT entity_kind FROM signature_record")}
    assert "read" in kinds  # (adjudication, committee and export signatures: their own tests)


# -- the database refuses --------------------------------------------------------------------------
def test_the_database_refuses_changes_to_protected_records(victim: Victim):
    conn = sqlite3.connect(victim.db, isolation_level=None)
    sid, read_id, version, seq = signed_read(conn)
    attempts = {
        "UPDATE audit SET actor = 'x' WHERE seq = 5": "append-only",
        "DELETE FROM audit WHERE seq > 100": "append-only",
        "DELETE FROM audit_seal": "seal of the audit trail",
        f"UPDATE signature_record SET meaning = 'x' WHERE id = {sid}": "signatures cannot",
        f"DELETE FROM signature_record WHERE id = {sid}": "signatures cannot",
        f"UPDATE read_value SET value_json = '1' WHERE read_id = {read_id}"
        f" AND version = {version}": "signed read version",
        f"DELETE FROM annotation WHERE read_id = {read_id} AND version = {version}": None,
        f"INSERT INTO key_image (read_id, version, sop_instance_uid, frame) VALUES ({read_id},"
        f" {version}, '1.2', 0)": "signed read version",
        f"UPDATE review_read SET status = 'in_progress' WHERE id = {read_id}": "locked read",
        f"DELETE FROM review_read WHERE id = {read_id}": "locked read",
        # schema 10: the demo's decided adjudications and its closed committee session
        "UPDATE adjudication_decision SET choice = 'B'": "signed adjudication",
        "DELETE FROM adjudication_decision": "signed adjudication",
        "UPDATE adjudication SET adjudicator_id = 1 WHERE status = 'decided'":
            "signed adjudication",
        "DELETE FROM adjudication WHERE status = 'decided'": "signed adjudication",
        "UPDATE panel_vote SET value_json = '1'": "committee votes",
        "DELETE FROM panel_ballot": "committee votes",
        "UPDATE panel_session SET minutes = 'x' WHERE status = 'closed'": "closed session",
        "DELETE FROM panel_result": "closed session",
    }
    for statement, message in attempts.items():
        before = conn.total_changes
        try:
            conn.execute(statement)
        except sqlite3.IntegrityError as exc:
            assert message is None or message in str(exc), (statement, exc)
        else:  # only a statement that matched no row may pass
            assert conn.total_changes == before, statement
    conn.close()
    assert victim.verify().intact


def test_the_store_names_a_refused_change(victim: Victim):
    store = open_store(victim.db)
    with pytest.raises(ProtectedRecord, match="refused: audit records cannot be changed"):
        with store.unit_of_work("intruder") as uow:
            uow.execute("DELETE FROM audit WHERE seq = 3")
    store.close()


# -- the twelve edits ------------------------------------------------------------------------------
def test_deleting_the_last_20_audit_records(victim: Victim, attacker):
    (last,) = attacker.execute("SELECT MAX(seq) FROM audit").fetchone()
    attacker.execute("DELETE FROM audit WHERE seq > ?", (last - 20,))
    report = victim.verify()
    # (verifying logs in first: the trail grows again from record {last - 19})
    assert named(report, ProblemKind.ANCHOR, "the trail ends at record",
                 f"shows it held record {last}", "record(s) at the end were deleted")


def test_changing_a_signed_locked_reads_value(victim: Victim, attacker):
    sid, read_id, version, _seq = signed_read(attacker)
    change_a_value(attacker, read_id, version)
    report = victim.verify()
    assert named(report, ProblemKind.SIGNATURE, f"signature {sid} (read {read_id} version "
                 f"{version}", "no longer matches what was signed")


def test_deleting_a_signature_and_unlocking_the_read(victim: Victim, attacker):
    sid, read_id, _version, seq = signed_read(attacker)
    attacker.execute("DELETE FROM signature_record WHERE id = ?", (sid,))
    attacker.execute("UPDATE review_read SET status = 'in_progress', submitted_at = NULL"
                     " WHERE id = ?", (read_id,))
    report = victim.verify()
    assert named(report, ProblemKind.CROSS_CHECK, f"records signature {sid}",
                 "that signature is gone", seq=seq)
    assert named(report, ProblemKind.CROSS_CHECK, f"read {read_id} signed and locked",
                 "is now 'in_progress'")


def test_editing_a_read_and_recomputing_the_whole_chain(victim: Victim, attacker):
    sid, read_id, version, seq = signed_read(attacker)
    change_a_value(attacker, read_id, version)
    sha = read_content_sha(attacker, sid)
    attacker.execute("UPDATE signature_record SET content_sha256 = ? WHERE id = ?", (sha, sid))
    (after,) = attacker.execute("SELECT after_json FROM audit WHERE seq = ?", (seq,)).fetchone()
    after = json.dumps({**json.loads(after), "content_sha256": sha}, sort_keys=True,
                       separators=(",", ":"))
    attacker.execute("UPDATE audit SET after_json = ? WHERE seq = ?", (after, seq))
    rechain(attacker)
    report = victim.verify()
    # signatures and the signing record agree now; the keyed chain does not
    assert not named(report, ProblemKind.SIGNATURE, f"signature {sid} ")
    assert named(report, ProblemKind.CHAIN, "not authenticated by the trial key")
    assert named(report, ProblemKind.ANCHOR, "the trail was rewritten")
    located = [p for p in report.issues if "are not what was written" in p.message]
    # the anchors bound where the content changed: the edited signing record is in the range
    first, last = re.match(r"audit records (\d+) to (\d+) ", located[0].message).groups()
    assert int(first) <= seq <= int(last)


def test_deleting_all_signing_records_and_recomputing(victim: Victim, attacker):
    (n,) = attacker.execute("SELECT COUNT(*) FROM signature_record").fetchone()
    (first,) = attacker.execute("SELECT MIN(seq) FROM audit WHERE action = 'sign'").fetchone()
    attacker.execute("DELETE FROM audit WHERE action = 'sign'")
    renumber(attacker)
    rechain(attacker)
    report = victim.verify()
    orphans = [p for p in report.issues if p.kind == ProblemKind.CROSS_CHECK
               and "has no signing record in the audit trail" in p.message]
    assert len(orphans) == n
    assert named(report, ProblemKind.CHAIN, "not authenticated by the trial key")
    assert report.first_broken is not None and report.first_broken.seq <= first


def test_appending_a_forged_record_with_a_valid_hash(victim: Victim, attacker):
    seq, head, at = attacker.execute("SELECT seq, hash, at FROM audit ORDER BY seq DESC"
                                     " LIMIT 1").fetchone()
    forged = (seq + 1, at, "reader1", "unlock", "read", "1", None, '{"status":"in_progress"}')
    h = audit_hash(head, *forged[1:])
    attacker.execute("INSERT INTO audit (seq, at, actor, action, entity, entity_id, before_json,"
                     " after_json, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?,?)",
                     (*forged, head, h))
    report = victim.verify()
    assert report.first_broken is not None and report.first_broken.seq == seq + 1
    assert named(report, ProblemKind.CHAIN, f"audit record {seq + 1} (unlock read 1 by reader1",
                 "forged or recomputed without the key", seq=seq + 1)


def test_raising_a_reader_to_admin(victim: Victim, attacker):
    attacker.execute("UPDATE app_user SET role = 'admin' WHERE username = 'reader1'")
    report = victim.verify()
    assert named(report, ProblemKind.CROSS_CHECK, "account reader1 has the role admin",
                 "its last audited role is reader")


def test_editing_an_audit_records_text(victim: Victim, attacker):
    (seq,) = attacker.execute("SELECT seq FROM audit WHERE action = 'create' AND entity = 'user'"
                              " ORDER BY seq LIMIT 1").fetchone()
    attacker.execute("UPDATE audit SET after_json = replace(after_json, 'reader', 'admin')"
                     " WHERE seq = ?", (seq,))
    rechain(attacker, seq)
    report = victim.verify()
    assert report.first_broken.seq == seq and report.first_broken.kind == ProblemKind.CHAIN
    assert "not authenticated by the trial key" in report.first_broken.message


def test_deleting_a_middle_audit_record(victim: Victim, attacker):
    (seq,) = attacker.execute("SELECT seq FROM audit WHERE action = 'login' ORDER BY seq"
                              " LIMIT 1").fetchone()
    attacker.execute("DELETE FROM audit WHERE seq = ?", (seq,))
    report = victim.verify()  # first without hiding the gap ...
    assert named(report, ProblemKind.CHAIN, f"audit record {seq} is missing", seq=seq)
    renumber(attacker)  # ... then renumbered and rechained
    rechain(attacker, seq)
    report = victim.verify()
    assert report.first_broken.seq == seq and report.first_broken.kind == ProblemKind.CHAIN


def test_inserting_a_record_in_the_middle(victim: Victim, attacker):
    (seq,) = attacker.execute("SELECT seq FROM audit WHERE action = 'login' ORDER BY seq"
                              " LIMIT 1").fetchone()
    for (s,) in attacker.execute("SELECT seq FROM audit WHERE seq >= ? ORDER BY seq DESC",
                                 (seq,)).fetchall():
        attacker.execute("UPDATE audit SET seq = ? WHERE seq = ?", (s + 1, s))
    (at,) = attacker.execute("SELECT at FROM audit WHERE seq = ?", (seq + 1,)).fetchone()
    attacker.execute("INSERT INTO audit (seq, at, actor, action, entity, entity_id, prev_hash,"
                     " hash) VALUES (?,?,?,?,?,?,?,?)",
                     (seq, at, "coordinator", "set_active", "user", "2", "", "x"))
    rechain(attacker, seq)
    report = victim.verify()
    assert report.first_broken.seq == seq and report.first_broken.kind == ProblemKind.CHAIN
    assert "set_active user 2 by coordinator" in report.first_broken.message


def test_changing_a_signatures_meaning_signer_and_time(victim: Victim, attacker):
    sid, _read_id, _version, seq = signed_read(attacker)
    (other,) = attacker.execute("SELECT id FROM app_user WHERE username = 'reader2'").fetchone()
    attacker.execute("UPDATE signature_record SET meaning = 'I reviewed this read',"
                     " signer_id = ?, signed_at = '2026-01-01T00:00:00.000000+00:00'"
                     " WHERE id = ?", (other, sid))
    report = victim.verify()  # the signed content no longer matches ...
    assert named(report, ProblemKind.SIGNATURE, f"signature {sid} ", "'I reviewed this read'",
                 "signed by reader2", "no longer matches")
    attacker.execute("UPDATE signature_record SET content_sha256 = ? WHERE id = ?",
                     (read_content_sha(attacker, sid), sid))
    report = victim.verify()  # ... and with its hash recomputed, its signing record differs
    assert not named(report, ProblemKind.SIGNATURE, f"signature {sid} ")
    assert named(report, ProblemKind.CROSS_CHECK, f"records signature {sid}",
                 "differs in its meaning, content hash, signer", seq=seq)


def test_moving_a_timestamp_backwards(victim: Victim, attacker):
    (seq,) = attacker.execute("SELECT seq FROM audit WHERE action = 'submit' ORDER BY seq"
                              " LIMIT 1").fetchone()
    attacker.execute("UPDATE audit SET at = '2020-01-01T00:00:00.000000+00:00' WHERE seq = ?",
                     (seq,))
    rechain(attacker, seq)
    report = victim.verify()
    assert named(report, ProblemKind.CHAIN, "its time runs backwards", seq=seq)
    assert report.first_broken.seq == seq


# -- the key ---------------------------------------------------------------------------------------
def test_a_missing_or_wrong_key_is_one_clear_message(victim: Victim, tmp_path: Path):
    key = Path(f"{victim.db}.key")
    saved = key.read_bytes()
    key.unlink()
    with pytest.raises(TrialKeyError, match="the trial key is missing"):
        Trial.open(victim.db, archive_root=victim.archive)
    assert not key.exists()  # never replaced by a new key
    other = tmp_path / "other.sqlite"
    open_store(other).close()
    key.write_bytes(Path(f"{other}.key").read_bytes())
    with pytest.raises(TrialKeyError, match="sealed with key"):
        Trial.open(victim.db, archive_root=victim.archive)
    key.write_bytes(saved)
    assert victim.verify().intact


def test_an_older_unkeyed_database_is_sealed_on_first_open(tmp_path: Path):
    db = tmp_path / "old.sqlite"
    old = SQLiteStore(db, migrate=False)
    old.migrate(tuple(m for m in MIGRATIONS if m.version <= 6))
    for n in range(5):
        with old.unit_of_work("someone") as uow:
            uow.audit("create", "thing", n, after={"n": n})
    old.close()
    assert not Path(f"{db}.key").exists()
    store = open_store(db)  # schema 7: the plain chain is verified and sealed
    seal = [r for r in store.audit_records() if r.action == "seal"]
    assert len(seal) == 1 and seal[0].after["prefix_length"] == 6 + 5 + 1
    assert seal[0].after["prefix_problems"] == []
    assert store.verify_audit_chain() == []
    with store.unit_of_work("someone") as uow:
        uow.audit("create", "thing", 99)
    store.close()
    # editing the unkeyed prefix and recomputing its plain chain breaks the keyed seal
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("DROP TRIGGER audit_no_update")
    conn.execute("UPDATE audit SET after_json = '{\"n\":7}' WHERE entity = 'thing'"
                 " AND entity_id = '2'")
    rechain(conn)
    conn.close()
    problems = open_store(db).verify_chain()
    assert problems[0].seq == seal[0].seq and "seal" in problems[0].message


# -- PostgreSQL: the keyed chain and the triggers -------------------------------------------------
@pytest.mark.postgres
def test_postgres_refuses_changes_and_its_chain_is_keyed(postgres_url: str, tmp_path: Path,
                                                         monkeypatch):
    monkeypatch.setenv("IOREVIEW_KEY_FILE", str(tmp_path / "trial.key"))
    store = open_store(postgres_url)
    assert store.seal_state() is not None and store.missing_protections() == []
    with store.unit_of_work("tester") as uow:
        uow.audit("create", "thing", 1, after={"v": 1})
        sig = uow.signatures.add("export", 1, 1, _pg_user(uow), "t", "m", "0" * 64)
        uow.execute("INSERT INTO export_record (created_at, created_by, parameters_json,"
                    " manifest_sha256, audit_head, identified, n_files) VALUES"
                    " ('t', 'tester', '{}', ?, ?, 0, 1)", ("0" * 64, "0" * 64))
    for statement in ("UPDATE audit SET actor = 'x'", "DELETE FROM audit",
                      "TRUNCATE audit CASCADE", "DELETE FROM audit_seal",
                      f"UPDATE signature_record SET meaning = 'x' WHERE id = {sig}",
                      "DELETE FROM signature_record", "UPDATE export_record SET n_files = 2",
                      "DELETE FROM export_record", "TRUNCATE export_record",
                      "TRUNCATE panel_vote CASCADE"):
        with pytest.raises(ProtectedRecord, match="refused"):
            with store.unit_of_work("intruder") as uow:
                uow.execute(statement)
    assert store.verify_audit_chain() == []
    (head_seq, head) = store.audit_anchor()
    # the attacker drops the trigger, appends a record with a valid SHA-256 and edits one
    with store.unit_of_work("intruder") as uow:
        uow.execute("DROP TRIGGER audit_append_only ON audit")
        uow.execute("INSERT INTO audit (seq, at, actor, action, entity, entity_id, prev_hash,"
                    " hash) VALUES (?,?,?,?,?,?,?,?)",
                    (head_seq + 1, "2099-01-01", "x", "forge", "thing", "2", head,
                     audit_hash(head, "2099-01-01", "x", "forge", "thing", "2", None, None)))
    problems = store.verify_chain()
    assert problems[0].seq == head_seq + 1 and "forged" in problems[0].message
    assert "audit_append_only" in store.missing_protections()
    store.close()


def _pg_user(uow) -> int:
    return uow.users.add("signer", "Signer", "admin", "scrypt$x", "2026-01-01T00:00:00+00:00")


def test_a_database_with_later_migrations_but_not_the_seal_is_sealed(tmp_path: Path):
    """Schema 7 landed after 8 and 9 in development: a database already at 9 still gets it."""
    db = tmp_path / "dev.sqlite"
    dev = SQLiteStore(db, migrate=False)
    dev.migrate(tuple(m for m in MIGRATIONS if m.version != 7))
    assert dev.seal_state() is None
    dev.close()
    store = open_store(db)
    assert store.seal_state() is not None and store.missing_protections() == []
    assert store.verify_audit_chain() == [] and store.migrate() == []
    store.close()
