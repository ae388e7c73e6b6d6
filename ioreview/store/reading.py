"""SQL for the blinded reading workflow: users, sessions, protocol versions, cases,
assignments, reads and their values, annotations, key images, signatures and amendments.

Functions take the open `Transaction` of the calling use case (reads and writes happen in the
same transaction) and return plain dicts or values.  The service layer (`ioreview.trial`)
decides who may call what; nothing here checks roles.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .db import Transaction

__all__ = [
    "USER_COLUMNS", "add_case_series", "amendments", "annotations", "assigned_case_ids",
    "assignments_for_case", "case_series_pks", "cases_of_subject", "count_rows",
    "end_session", "find_user", "get_assignment", "get_case", "get_read", "get_session",
    "get_user", "insert_amendment", "insert_assignment", "insert_assignment_run",
    "insert_case", "insert_protocol_version", "insert_read", "insert_session",
    "insert_signature", "insert_user", "instance_location", "instance_uids_of_series",
    "key_images", "label_taken",
    "list_cases", "list_protocol_versions", "list_users", "max_order_index",
    "primary_assignment_counts", "primary_reads", "protocol_version", "protocol_version_by",
    "read_for_assignment", "read_status_counts", "read_values", "reader_assignments",
    "reader_progress", "replace_annotations", "replace_key_images", "replace_read_values",
    "series_in_cases", "series_summaries", "set_active_protocol", "signatures",
    "studies_for_cases", "study_case_labels", "study_series_pks", "touch_session",
    "update_read", "update_user", "worklist_rows",
]

USER_COLUMNS = ("username", "display_name", "role", "active", "failed_logins", "locked_until",
                "password_hash", "password_changed_at")
_READ_COLUMNS = ("status", "version", "updated_at", "submitted_at", "active_seconds")


def _rows(tx: Transaction, sql: str, params: Any = ()) -> list[dict[str, Any]]:
    cur = tx.execute(sql, params)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


def _row(tx: Transaction, sql: str, params: Any = ()) -> dict[str, Any] | None:
    rows = _rows(tx, sql, params)
    return rows[0] if rows else None


def _placeholders(values: Sequence[Any]) -> str:
    return ", ".join("?" * len(values))


def _update(tx: Transaction, table: str, allowed: Sequence[str], row_id: int,
            changes: Mapping[str, Any]) -> None:
    unknown = set(changes) - set(allowed)
    if unknown:
        raise ValueError(f"cannot update {table} columns {sorted(unknown)}")
    if not changes:
        return
    assignments = ", ".join(f"{c} = ?" for c in changes)
    tx.execute(f"UPDATE {table} SET {assignments} WHERE id = ?", (*changes.values(), row_id))


def count_rows(tx: Transaction, table: str) -> int:
    """Row count of one of this module's tables (or the DICOM hierarchy)."""
    if table not in {"app_user", "review_case", "assignment", "review_read", "signature",
                     "amendment", "patient", "study", "series", "instance"}:
        raise ValueError(f"unknown table {table}")
    return int(tx.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])


# -- users ---------------------------------------------------------------------------------------
def insert_user(tx: Transaction, username: str, display_name: str, role: str,
                password_hash: str, at: str) -> int:
    cur = tx.execute(
        "INSERT INTO app_user (username, display_name, role, password_hash, active,"
        " failed_logins, created_at, password_changed_at) VALUES (?,?,?,?,1,0,?,?)",
        (username, display_name, role, password_hash, at, at))
    return int(cur.lastrowid)


def get_user(tx: Transaction, user_id: int) -> dict[str, Any] | None:
    return _row(tx, "SELECT * FROM app_user WHERE id = ?", (user_id,))


def find_user(tx: Transaction, username: str) -> dict[str, Any] | None:
    return _row(tx, "SELECT * FROM app_user WHERE username = ?", (username,))


def list_users(tx: Transaction, role: str | None = None) -> list[dict[str, Any]]:
    if role is None:
        return _rows(tx, "SELECT * FROM app_user ORDER BY id")
    return _rows(tx, "SELECT * FROM app_user WHERE role = ? ORDER BY id", (role,))


def update_user(tx: Transaction, user_id: int, **changes: Any) -> None:
    _update(tx, "app_user", USER_COLUMNS, user_id, changes)


# -- sessions ------------------------------------------------------------------------------------
def insert_session(tx: Transaction, token_sha256: str, user_id: int | None,
                   system_name: str | None, now: float) -> int:
    cur = tx.execute(
        "INSERT INTO user_session (token_sha256, user_id, system_name, started_at,"
        " last_activity) VALUES (?,?,?,?,?)", (token_sha256, user_id, system_name, now, now))
    return int(cur.lastrowid)


def get_session(tx: Transaction, token_sha256: str) -> dict[str, Any] | None:
    return _row(tx, "SELECT * FROM user_session WHERE token_sha256 = ?", (token_sha256,))


def touch_session(tx: Transaction, session_id: int, now: float) -> None:
    tx.execute("UPDATE user_session SET last_activity = ? WHERE id = ?", (now, session_id))


def end_session(tx: Transaction, session_id: int, now: float) -> None:
    tx.execute("UPDATE user_session SET ended_at = ? WHERE id = ?", (now, session_id))


# -- protocol versions ---------------------------------------------------------------------------
def insert_protocol_version(tx: Transaction, protocol_id: str, version: str, title: str,
                            source: str, text: str, sha256: str, at: str, by: str) -> int:
    cur = tx.execute(
        "INSERT INTO protocol_version (protocol_id, version, title, source, text, sha256,"
        " installed_at, installed_by, active) VALUES (?,?,?,?,?,?,?,?,0)",
        (protocol_id, version, title, source, text, sha256, at, by))
    return int(cur.lastrowid)


def protocol_version(tx: Transaction, version_id: int) -> dict[str, Any] | None:
    return _row(tx, "SELECT * FROM protocol_version WHERE id = ?", (version_id,))


def protocol_version_by(tx: Transaction, *, sha256: str | None = None,
                        protocol_id: str | None = None, version: str | None = None,
                        active: bool | None = None) -> dict[str, Any] | None:
    """The protocol version matching the given criteria (the newest when several do)."""
    where, params = [], []
    if sha256 is not None:
        where.append("sha256 = ?")
        params.append(sha256)
    if protocol_id is not None:
        where.append("protocol_id = ?")
        params.append(protocol_id)
    if version is not None:
        where.append("version = ?")
        params.append(version)
    if active is not None:
        where.append("active = ?")
        params.append(int(active))
    sql = "SELECT * FROM protocol_version"
    if where:
        sql += " WHERE " + " AND ".join(where)
    return _row(tx, sql + " ORDER BY id DESC LIMIT 1", params)


def list_protocol_versions(tx: Transaction) -> list[dict[str, Any]]:
    return _rows(tx, "SELECT id, protocol_id, version, title, source, sha256, installed_at,"
                     " installed_by, active FROM protocol_version ORDER BY id")


def set_active_protocol(tx: Transaction, version_id: int) -> None:
    tx.execute("UPDATE protocol_version SET active = CASE WHEN id = ? THEN 1 ELSE 0 END",
               (version_id,))


# -- cases ---------------------------------------------------------------------------------------
def label_taken(tx: Transaction, label: str) -> bool:
    """True when `label` is used by a case or by a re-read assignment."""
    return bool(tx.execute(
        "SELECT 1 FROM review_case WHERE label = ? UNION ALL"
        " SELECT 1 FROM assignment WHERE label = ?", (label, label)).fetchone())


def insert_case(tx: Transaction, label: str, subject: str, timepoint: str,
                days_from_insertion: int | None, study_pk: int | None, at: str) -> int:
    cur = tx.execute(
        "INSERT INTO review_case (label, subject, timepoint, days_from_insertion, study_pk,"
        " created_at) VALUES (?,?,?,?,?,?)",
        (label, subject, timepoint, days_from_insertion, study_pk, at))
    return int(cur.lastrowid)


def add_case_series(tx: Transaction, case_id: int, series_pks: Iterable[int]) -> None:
    tx.executemany("INSERT INTO case_series (case_id, series_pk) VALUES (?,?)",
                   [(case_id, pk) for pk in series_pks])


def series_in_cases(tx: Transaction, series_pks: Sequence[int]) -> dict[int, int]:
    """series pk -> case id for those of `series_pks` already in a case."""
    if not series_pks:
        return {}
    return dict(tx.execute(
        f"SELECT series_pk, case_id FROM case_series WHERE series_pk IN"
        f" ({_placeholders(series_pks)})", tuple(series_pks)).fetchall())


def series_summaries(tx: Transaction, series_pks: Sequence[int]) -> list[dict[str, Any]]:
    """Series rows with their study pk and instance/frame counts, in the order given."""
    if not series_pks:
        return []
    rows = _rows(
        tx,
        "SELECT se.id, se.study_pk, se.modality, se.series_description, se.series_number,"
        " (SELECT COUNT(*) FROM instance i WHERE i.series_pk = se.id) AS n_instances,"
        " (SELECT COALESCE(SUM(i.number_of_frames), 0) FROM instance i"
        "   WHERE i.series_pk = se.id) AS n_frames"
        f" FROM series se WHERE se.id IN ({_placeholders(series_pks)})", tuple(series_pks))
    by_id = {r["id"]: r for r in rows}
    return [by_id[pk] for pk in series_pks if pk in by_id]


def get_case(tx: Transaction, case_id: int) -> dict[str, Any] | None:
    return _row(tx, "SELECT c.*, (SELECT COUNT(*) FROM case_series cs WHERE cs.case_id = c.id)"
                    " AS n_series FROM review_case c WHERE c.id = ?", (case_id,))


def list_cases(tx: Transaction) -> list[dict[str, Any]]:
    return _rows(tx, "SELECT c.*, (SELECT COUNT(*) FROM case_series cs WHERE cs.case_id = c.id)"
                     " AS n_series FROM review_case c"
                     " ORDER BY c.subject, c.days_from_insertion, c.id")


def case_series_pks(tx: Transaction, case_id: int) -> list[int]:
    return [r[0] for r in tx.execute(
        "SELECT cs.series_pk FROM case_series cs JOIN series se ON se.id = cs.series_pk"
        " WHERE cs.case_id = ? ORDER BY se.series_number, se.id", (case_id,)).fetchall()]


def cases_of_subject(tx: Transaction, subject: str) -> list[dict[str, Any]]:
    return _rows(tx, "SELECT * FROM review_case WHERE subject = ?"
                     " ORDER BY days_from_insertion, id", (subject,))


def studies_for_cases(tx: Transaction) -> list[dict[str, Any]]:
    """Every study with its patient key/id and whether any of its series is already in a case."""
    return _rows(
        tx,
        "SELECT st.id AS study_pk, st.study_date, p.patient_key, p.patient_id,"
        " EXISTS (SELECT 1 FROM case_series cs JOIN series se ON se.id = cs.series_pk"
        "         WHERE se.study_pk = st.id) AS in_case"
        " FROM study st JOIN patient p ON p.id = st.patient_pk"
        " ORDER BY p.patient_key, st.study_date, st.id")


def study_series_pks(tx: Transaction, study_pk: int) -> list[int]:
    return [r[0] for r in tx.execute(
        "SELECT id FROM series WHERE study_pk = ? ORDER BY series_number, id",
        (study_pk,)).fetchall()]


def study_case_labels(tx: Transaction) -> dict[int, str]:
    """study pk -> label of the case holding (some of) its series."""
    return dict(tx.execute(
        "SELECT se.study_pk, MIN(c.label) FROM case_series cs JOIN series se"
        " ON se.id = cs.series_pk JOIN review_case c ON c.id = cs.case_id"
        " GROUP BY se.study_pk").fetchall())


def instance_location(tx: Transaction, sop_instance_uid: str) -> dict[str, Any] | None:
    return _row(tx, "SELECT id, path, series_pk FROM instance WHERE sop_instance_uid = ?",
                (sop_instance_uid,))


def instance_uids_of_series(tx: Transaction, series_pks: Sequence[int]) -> set[str]:
    if not series_pks:
        return set()
    return {r[0] for r in tx.execute(
        f"SELECT sop_instance_uid FROM instance WHERE series_pk IN"
        f" ({_placeholders(series_pks)})", tuple(series_pks)).fetchall()}


# -- assignments ---------------------------------------------------------------------------------
def insert_assignment_run(tx: Transaction, seed: int, protocol_version_id: int | None,
                          reader_ids: Sequence[int], at: str, by: str) -> int:
    cur = tx.execute(
        "INSERT INTO assignment_run (seed, protocol_version_id, readers_json, created_at,"
        " created_by) VALUES (?,?,?,?,?)",
        (seed, protocol_version_id, json.dumps(list(reader_ids)), at, by))
    return int(cur.lastrowid)


def assigned_case_ids(tx: Transaction) -> set[int]:
    return {r[0] for r in tx.execute(
        "SELECT DISTINCT case_id FROM assignment WHERE is_reread = 0").fetchall()}


def primary_assignment_counts(tx: Transaction) -> dict[int, int]:
    return dict(tx.execute("SELECT reader_id, COUNT(*) FROM assignment WHERE is_reread = 0"
                           " GROUP BY reader_id").fetchall())


def max_order_index(tx: Transaction, reader_id: int) -> int:
    value = tx.execute("SELECT MAX(order_index) FROM assignment WHERE reader_id = ?",
                       (reader_id,)).fetchone()[0]
    return -1 if value is None else int(value)


def insert_assignment(tx: Transaction, case_id: int, reader_id: int, run_id: int,
                      order_index: int, is_reread: bool, label: str | None,
                      available_from: float) -> int:
    cur = tx.execute(
        "INSERT INTO assignment (case_id, reader_id, run_id, label, order_index, is_reread,"
        " available_from) VALUES (?,?,?,?,?,?,?)",
        (case_id, reader_id, run_id, label, order_index, int(is_reread), available_from))
    return int(cur.lastrowid)


def get_assignment(tx: Transaction, assignment_id: int) -> dict[str, Any] | None:
    return _row(tx, "SELECT a.*, COALESCE(a.label, c.label) AS display_label"
                    " FROM assignment a JOIN review_case c ON c.id = a.case_id"
                    " WHERE a.id = ?", (assignment_id,))


def assignments_for_case(tx: Transaction, case_id: int) -> list[dict[str, Any]]:
    return _rows(tx, "SELECT * FROM assignment WHERE case_id = ? ORDER BY id", (case_id,))


def worklist_rows(tx: Transaction, reader_id: int, now: float) -> list[dict[str, Any]]:
    """A reader's assignments available at `now`, in their order, with the read if any."""
    return _rows(
        tx,
        "SELECT a.id AS assignment_id, r.id AS read_id, COALESCE(a.label, c.label) AS label,"
        " c.timepoint, c.days_from_insertion, r.status, a.order_index"
        " FROM assignment a JOIN review_case c ON c.id = a.case_id"
        " LEFT JOIN review_read r ON r.assignment_id = a.id"
        " WHERE a.reader_id = ? AND a.available_from <= ?"
        " ORDER BY a.order_index, a.id", (reader_id, now))


def reader_assignments(tx: Transaction, reader_id: int, now: float) -> list[dict[str, Any]]:
    """A reader's available assignments with case subject/days and the read's protocol."""
    return _rows(
        tx,
        "SELECT a.id, a.case_id, c.subject, c.days_from_insertion, r.protocol_version_id"
        " FROM assignment a JOIN review_case c ON c.id = a.case_id"
        " LEFT JOIN review_read r ON r.assignment_id = a.id"
        " WHERE a.reader_id = ? AND a.available_from <= ?", (reader_id, now))


# -- reads ---------------------------------------------------------------------------------------
def read_for_assignment(tx: Transaction, assignment_id: int) -> dict[str, Any] | None:
    return _row(tx, "SELECT * FROM review_read WHERE assignment_id = ?", (assignment_id,))


def get_read(tx: Transaction, read_id: int) -> dict[str, Any] | None:
    """A read with its assignment's reader, case and availability."""
    return _row(
        tx,
        "SELECT r.*, a.reader_id, a.case_id, a.available_from, a.is_reread,"
        " COALESCE(a.label, c.label) AS display_label"
        " FROM review_read r JOIN assignment a ON a.id = r.assignment_id"
        " JOIN review_case c ON c.id = a.case_id WHERE r.id = ?", (read_id,))


def insert_read(tx: Transaction, assignment_id: int, protocol_version_id: int, status: str,
                at: str) -> int:
    cur = tx.execute(
        "INSERT INTO review_read (assignment_id, protocol_version_id, status, version,"
        " started_at, updated_at, active_seconds) VALUES (?,?,?,1,?,?,0)",
        (assignment_id, protocol_version_id, status, at, at))
    return int(cur.lastrowid)


def update_read(tx: Transaction, read_id: int, **changes: Any) -> None:
    _update(tx, "review_read", _READ_COLUMNS, read_id, changes)


def read_values(tx: Transaction, read_id: int, version: int) -> dict[str, Any]:
    return {f: json.loads(v) for f, v in tx.execute(
        "SELECT field, value_json FROM read_value WHERE read_id = ? AND version = ?"
        " ORDER BY field", (read_id, version)).fetchall()}


def replace_read_values(tx: Transaction, read_id: int, version: int,
                        values: Mapping[str, Any], units: Mapping[str, str | None]) -> None:
    tx.execute("DELETE FROM read_value WHERE read_id = ? AND version = ?", (read_id, version))
    tx.executemany(
        "INSERT INTO read_value (read_id, version, field, value_json, unit) VALUES (?,?,?,?,?)",
        [(read_id, version, k, json.dumps(v, ensure_ascii=False), units.get(k))
         for k, v in values.items()])


def annotations(tx: Transaction, read_id: int, version: int) -> list[dict[str, Any]]:
    rows = _rows(tx, "SELECT * FROM annotation WHERE read_id = ? AND version = ? ORDER BY id",
                 (read_id, version))
    for r in rows:
        r["points"] = json.loads(r.pop("points_json"))
        r["measurements"] = json.loads(r.pop("measurements_json"))
    return rows


def replace_annotations(tx: Transaction, read_id: int, version: int,
                        rows: Iterable[Mapping[str, Any]]) -> None:
    """Replace a read version's annotations; rows have finding_id, kind, sop_instance_uid,
    frame, points, measurements, label."""
    tx.execute("DELETE FROM annotation WHERE read_id = ? AND version = ?", (read_id, version))
    tx.executemany(
        "INSERT INTO annotation (read_id, version, finding_id, kind, sop_instance_uid, frame,"
        " points_json, measurements_json, label) VALUES (?,?,?,?,?,?,?,?,?)",
        [(read_id, version, r["finding_id"], r["kind"], r["sop_instance_uid"], r["frame"],
          json.dumps(r["points"]), json.dumps(r["measurements"], sort_keys=True), r["label"])
         for r in rows])


def key_images(tx: Transaction, read_id: int, version: int) -> list[dict[str, Any]]:
    return _rows(tx, "SELECT sop_instance_uid, frame, note FROM key_image"
                     " WHERE read_id = ? AND version = ? ORDER BY id", (read_id, version))


def replace_key_images(tx: Transaction, read_id: int, version: int,
                       rows: Iterable[Mapping[str, Any]]) -> None:
    tx.execute("DELETE FROM key_image WHERE read_id = ? AND version = ?", (read_id, version))
    tx.executemany(
        "INSERT INTO key_image (read_id, version, sop_instance_uid, frame, note)"
        " VALUES (?,?,?,?,?)",
        [(read_id, version, r["sop_instance_uid"], r["frame"], r["note"]) for r in rows])


def insert_signature(tx: Transaction, read_id: int, version: int, signer_id: int,
                     signed_at: str, meaning: str, content_sha256: str) -> int:
    cur = tx.execute(
        "INSERT INTO signature (read_id, version, signer_id, signed_at, meaning,"
        " content_sha256) VALUES (?,?,?,?,?,?)",
        (read_id, version, signer_id, signed_at, meaning, content_sha256))
    return int(cur.lastrowid)


def signatures(tx: Transaction, read_id: int) -> list[dict[str, Any]]:
    return _rows(tx, "SELECT s.*, u.username AS signer FROM signature s"
                     " JOIN app_user u ON u.id = s.signer_id WHERE s.read_id = ?"
                     " ORDER BY s.version", (read_id,))


def insert_amendment(tx: Transaction, read_id: int, from_version: int, to_version: int,
                     reason: str, amended_by: int, at: str) -> int:
    cur = tx.execute(
        "INSERT INTO amendment (read_id, from_version, to_version, reason, amended_by,"
        " amended_at) VALUES (?,?,?,?,?,?)",
        (read_id, from_version, to_version, reason, amended_by, at))
    return int(cur.lastrowid)


def amendments(tx: Transaction, read_id: int) -> list[dict[str, Any]]:
    return _rows(tx, "SELECT * FROM amendment WHERE read_id = ? ORDER BY to_version",
                 (read_id,))


# -- progress --------------------------------------------------------------------------------------
def reader_progress(tx: Transaction) -> list[dict[str, Any]]:
    """Per reader with assignments: assigned, submitted and in-progress counts."""
    return _rows(
        tx,
        "SELECT u.id, u.display_name, COUNT(a.id) AS assigned,"
        " SUM(CASE WHEN r.status = 'submitted' THEN 1 ELSE 0 END) AS submitted,"
        " SUM(CASE WHEN r.status = 'in_progress' THEN 1 ELSE 0 END) AS in_progress"
        " FROM app_user u JOIN assignment a ON a.reader_id = u.id"
        " LEFT JOIN review_read r ON r.assignment_id = a.id"
        " GROUP BY u.id, u.display_name ORDER BY u.display_name, u.id")


def primary_reads(tx: Transaction) -> list[dict[str, Any]]:
    """Every primary (not re-read) assignment with its case and read (if any)."""
    return _rows(
        tx,
        "SELECT a.id AS assignment_id, a.case_id, c.label, a.reader_id, r.id AS read_id,"
        " r.status, r.version, r.protocol_version_id"
        " FROM assignment a JOIN review_case c ON c.id = a.case_id"
        " LEFT JOIN review_read r ON r.assignment_id = a.id"
        " WHERE a.is_reread = 0 ORDER BY a.case_id, a.id")


def read_status_counts(tx: Transaction) -> dict[str, int]:
    """Assignments by read status ("new" when no read was started)."""
    return dict(tx.execute(
        "SELECT COALESCE(r.status, 'new'), COUNT(*) FROM assignment a"
        " LEFT JOIN review_read r ON r.assignment_id = a.id"
        " GROUP BY COALESCE(r.status, 'new')").fetchall())
