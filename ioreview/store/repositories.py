"""The repositories of a unit of work: portable SQL returning typed records.

Both backends run these statements (`?` placeholders, `RETURNING id`, no dialect functions);
the service layer decides who may call what, nothing here checks roles.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .records import (AssignmentRecord, CaseRecord, InstanceLocation, PrimaryRead,
                      ProtocolVersionRecord, ReaderAssignment, ReaderProgressRow, SeriesSummary,
                      SessionRecord, StudyForCases, TrialCounts, UserRecord, WorklistRow)

if TYPE_CHECKING:
    from .engine import UnitOfWork

__all__ = [
    "AssignmentOverviewRow",
    "AssignmentRepository", "BurnedInMaskRecord", "BurnedInReviewRecord", "CaseRepository",
    "DicomRepository", "ProtocolRepository", "ReaderCopyRecord", "ReaderCopyRepository",
    "ReaderCopySetRecord", "SessionRepository", "UserRepository",
]


def _placeholders(values: Sequence[Any]) -> str:
    return ", ".join("?" * len(values))


def _opt_int(value: Any) -> int | None:
    return None if value is None else int(value)


def _opt_float(value: Any) -> float | None:
    return None if value is None else float(value)


class _Repository:
    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow

    def _update(self, table: str, allowed: Sequence[str], row_id: int,
                changes: Mapping[str, Any]) -> None:
        unknown = set(changes) - set(allowed)
        if unknown:
            raise ValueError(f"cannot update {table} columns {sorted(unknown)}")
        if changes:
            sets = ", ".join(f"{c} = ?" for c in changes)
            self.uow.execute(f"UPDATE {table} SET {sets} WHERE id = ?",
                             (*changes.values(), row_id))


# -- users and sessions -----------------------------------------------------------------------
_USER_COLUMNS = ("display_name", "role", "active", "failed_logins", "locked_until",
                 "password_hash", "password_changed_at")
_USER_SELECT = ("SELECT u.*, (SELECT COUNT(*) FROM password_change_required p"
                " WHERE p.user_id = u.id) AS must_change_password FROM app_user u")


def _user(r: Mapping[str, Any]) -> UserRecord:
    return UserRecord(int(r["id"]), r["username"], r["display_name"], r["role"],
                      r["password_hash"], bool(r["active"]), int(r["failed_logins"]),
                      _opt_float(r["locked_until"]), r["created_at"], r["password_changed_at"],
                      bool(r.get("must_change_password") or 0))


class UserRepository(_Repository):
    def add(self, username: str, display_name: str, role: str, password_hash: str,
            at: str) -> int:
        return self.uow.insert(
            "INSERT INTO app_user (username, display_name, role, password_hash, active,"
            " failed_logins, created_at, password_changed_at) VALUES (?,?,?,?,1,0,?,?)",
            (username, display_name, role, password_hash, at, at))

    def get(self, user_id: int | None) -> UserRecord | None:
        if user_id is None:
            return None
        r = self.uow.row(f"{_USER_SELECT} WHERE u.id = ?", (int(user_id),))
        return None if r is None else _user(r)

    def find(self, username: str) -> UserRecord | None:
        r = self.uow.row(f"{_USER_SELECT} WHERE u.username = ?", (username,))
        return None if r is None else _user(r)

    def list(self, role: str | None = None) -> list[UserRecord]:
        if role is None:
            return [_user(r) for r in self.uow.rows(f"{_USER_SELECT} ORDER BY u.id")]
        return [_user(r) for r in self.uow.rows(
            f"{_USER_SELECT} WHERE u.role = ? ORDER BY u.id", (role,))]

    def update(self, user_id: int, **changes: Any) -> None:
        if "active" in changes:
            changes["active"] = int(bool(changes["active"]))
        self._update("app_user", _USER_COLUMNS, user_id, changes)

    def count(self) -> int:
        return int(self.uow.scalar("SELECT COUNT(*) FROM app_user"))

    def set_must_change_password(self, user_id: int, required: bool, at: str) -> None:
        """Require (or stop requiring) a password change at the account's next log-in."""
        self.uow.execute("DELETE FROM password_change_required WHERE user_id = ?", (user_id,))
        if required:
            self.uow.execute("INSERT INTO password_change_required (user_id, since)"
                             " VALUES (?, ?)", (user_id, at))

    # -- password history and log-in throttling ---------------------------------------------
    def retire_password(self, user_id: int, password_hash: str, at: str) -> None:
        """Keep a replaced password's hash (reuse of recent passwords is refused)."""
        self.uow.execute("INSERT INTO password_history (user_id, password_hash, retired_at)"
                         " VALUES (?,?,?)", (user_id, password_hash, at))

    def recent_passwords(self, user_id: int, limit: int) -> list[str]:
        """The hashes of the user's `limit` most recently replaced passwords, newest first."""
        return [r[0] for r in self.uow.tuples(
            "SELECT password_hash FROM password_history WHERE user_id = ? ORDER BY id DESC"
            " LIMIT ?", (user_id, int(limit)))]

    def throttle(self, subject: str) -> tuple[int, float] | None:
        """(failures, time of the last failure) recorded for a log-in throttling subject."""
        r = self.uow.row("SELECT failures, last_failure_at FROM login_throttle"
                         " WHERE subject = ?", (subject,))
        return None if r is None else (int(r["failures"]), float(r["last_failure_at"]))

    def record_throttle_failure(self, subject: str, now: float) -> int:
        """Count one more failed log-in for `subject`; the new count."""
        current = self.throttle(subject)
        failures = 1 if current is None else current[0] + 1
        if current is None:
            self.uow.execute("INSERT INTO login_throttle (subject, failures, last_failure_at)"
                             " VALUES (?,?,?)", (subject, failures, now))
        else:
            self.uow.execute("UPDATE login_throttle SET failures = ?, last_failure_at = ?"
                             " WHERE subject = ?", (failures, now, subject))
        return failures

    def clear_throttle(self, *subjects: str) -> None:
        for subject in subjects:
            self.uow.execute("DELETE FROM login_throttle WHERE subject = ?", (subject,))

    # -- trial settings (account policy) ---------------------------------------------------
    def setting(self, name: str) -> Any:
        """A trial setting's value (decoded JSON), or None when it was never set."""
        value = self.uow.scalar("SELECT value_json FROM trial_setting WHERE name = ?", (name,))
        return None if value is None else json.loads(value)

    def claim_first_admin(self, username: str, at: str) -> None:
        """Mark the trial's first administrator as created: a plain insert of a unique row,
        so of two transactions racing for it the second fails (StoreConflict)."""
        self.uow.execute("INSERT INTO trial_setting (name, value_json, changed_at, changed_by)"
                         " VALUES (?,?,?,?)", ("first_admin", json.dumps(username), at, username))

    def set_setting(self, name: str, value: Any, at: str, by: str) -> None:
        text = json.dumps(value, sort_keys=True)
        if self.uow.scalar("SELECT 1 FROM trial_setting WHERE name = ?", (name,)) is None:
            self.uow.execute("INSERT INTO trial_setting (name, value_json, changed_at,"
                             " changed_by) VALUES (?,?,?,?)", (name, text, at, by))
        else:
            self.uow.execute("UPDATE trial_setting SET value_json = ?, changed_at = ?,"
                             " changed_by = ? WHERE name = ?", (text, at, by, name))


def _session(r: Mapping[str, Any]) -> SessionRecord:
    return SessionRecord(int(r["id"]), _opt_int(r["user_id"]), r["system_name"],
                         float(r["started_at"]), float(r["last_activity"]),
                         _opt_float(r["ended_at"]))


class SessionRepository(_Repository):
    def add(self, token_sha256: str, user_id: int | None, system_name: str | None,
            now: float) -> int:
        return self.uow.insert(
            "INSERT INTO user_session (token_sha256, user_id, system_name, started_at,"
            " last_activity) VALUES (?,?,?,?,?)", (token_sha256, user_id, system_name, now, now))

    def by_token(self, token_sha256: str) -> SessionRecord | None:
        r = self.uow.row("SELECT * FROM user_session WHERE token_sha256 = ?", (token_sha256,))
        return None if r is None else _session(r)

    def touch(self, session_id: int, now: float) -> None:
        self.uow.execute("UPDATE user_session SET last_activity = ? WHERE id = ?",
                         (now, session_id))

    def end(self, session_id: int, now: float) -> None:
        self.uow.execute("UPDATE user_session SET ended_at = ? WHERE id = ?", (now, session_id))

    def end_all_of_user(self, user_id: int, now: float) -> int:
        """End every open session of `user_id`; how many were open."""
        ids = [r[0] for r in self.uow.tuples(
            "SELECT id FROM user_session WHERE user_id = ? AND ended_at IS NULL", (user_id,))]
        for session_id in ids:
            self.end(session_id, now)
        return len(ids)


# -- protocol versions ------------------------------------------------------------------------
_PV_LIST = ("id, protocol_id, version, title, source, sha256, installed_at, installed_by,"
            " active")


def _pv(r: Mapping[str, Any]) -> ProtocolVersionRecord:
    return ProtocolVersionRecord(int(r["id"]), r["protocol_id"], r["version"], r["title"],
                                 r["source"], r["sha256"], r["installed_at"], r["installed_by"],
                                 bool(r["active"]), r.get("text"))


class ProtocolRepository(_Repository):
    def add(self, protocol_id: str, version: str, title: str, source: str, text: str,
            sha256: str, at: str, by: str) -> int:
        return self.uow.insert(
            "INSERT INTO protocol_version (protocol_id, version, title, source, text, sha256,"
            " installed_at, installed_by, active) VALUES (?,?,?,?,?,?,?,?,0)",
            (protocol_id, version, title, source, text, sha256, at, by))

    def get(self, version_id: int) -> ProtocolVersionRecord | None:
        r = self.uow.row("SELECT * FROM protocol_version WHERE id = ?", (int(version_id),))
        return None if r is None else _pv(r)

    def find(self, *, sha256: str | None = None, protocol_id: str | None = None,
             version: str | None = None, active: bool | None = None
             ) -> ProtocolVersionRecord | None:
        """The protocol version matching the given criteria (the newest when several do),
        without its text (use `get` for the text)."""
        where, params = [], []
        for column, value in (("sha256", sha256), ("protocol_id", protocol_id),
                              ("version", version)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        if active is not None:
            where.append("active = ?")
            params.append(int(active))
        sql = f"SELECT {_PV_LIST} FROM protocol_version"
        if where:
            sql += " WHERE " + " AND ".join(where)
        r = self.uow.row(sql + " ORDER BY id DESC LIMIT 1", params)
        return None if r is None else _pv(r)

    def list(self) -> list[ProtocolVersionRecord]:
        return [_pv(r) for r in self.uow.rows(
            f"SELECT {_PV_LIST} FROM protocol_version ORDER BY id")]

    def activate(self, version_id: int) -> None:
        self.uow.execute("UPDATE protocol_version SET active = CASE WHEN id = ? THEN 1 ELSE 0"
                         " END", (version_id,))


# -- cases ------------------------------------------------------------------------------------
_CASE_SELECT = ("SELECT c.*, (SELECT COUNT(*) FROM case_series cs WHERE cs.case_id = c.id)"
                " AS n_series FROM review_case c")


def _case(r: Mapping[str, Any]) -> CaseRecord:
    return CaseRecord(int(r["id"]), r["label"], r["subject"], r["timepoint"],
                      _opt_int(r["days_from_insertion"]), _opt_int(r["study_pk"]),
                      r["created_at"], int(r.get("n_series") or 0))


class CaseRepository(_Repository):
    def label_taken(self, label: str) -> bool:
        """True when `label` is used by a case or by a re-read assignment."""
        return self.uow.scalar(
            "SELECT 1 FROM review_case WHERE label = ? UNION ALL"
            " SELECT 1 FROM assignment WHERE label = ?", (label, label)) is not None

    def add(self, label: str, subject: str, timepoint: str, days_from_insertion: int | None,
            study_pk: int | None, at: str, series_pks: Iterable[int]) -> int:
        case_id = self.uow.insert(
            "INSERT INTO review_case (label, subject, timepoint, days_from_insertion, study_pk,"
            " created_at) VALUES (?,?,?,?,?,?)",
            (label, subject, timepoint, days_from_insertion, study_pk, at))
        self.uow.executemany("INSERT INTO case_series (case_id, series_pk) VALUES (?,?)",
                             [(case_id, pk) for pk in series_pks])
        return case_id

    def get(self, case_id: int) -> CaseRecord | None:
        r = self.uow.row(_CASE_SELECT + " WHERE c.id = ?", (int(case_id),))
        return None if r is None else _case(r)

    def list(self) -> list[CaseRecord]:
        return [_case(r) for r in self.uow.rows(
            _CASE_SELECT + " ORDER BY c.subject, c.days_from_insertion, c.id")]

    def count(self) -> int:
        return int(self.uow.scalar("SELECT COUNT(*) FROM review_case"))

    def of_subject(self, subject: str) -> list[CaseRecord]:
        return [_case(r) for r in self.uow.rows(
            _CASE_SELECT + " WHERE c.subject = ? ORDER BY c.days_from_insertion, c.id",
            (subject,))]

    def modalities(self) -> dict[int, set[str]]:
        """Every case's modalities, in one query."""
        out: dict[int, set[str]] = {}
        for case_id, modality in self.uow.tuples(
                "SELECT cs.case_id, s.modality FROM case_series cs JOIN series s"
                " ON s.id = cs.series_pk"):
            out.setdefault(int(case_id), set()).update([modality] if modality else [])
        return out

    def series_pks(self, case_id: int) -> list[int]:
        return [int(r[0]) for r in self.uow.tuples(
            "SELECT cs.series_pk FROM case_series cs JOIN series se ON se.id = cs.series_pk"
            " WHERE cs.case_id = ? ORDER BY se.series_number, se.id", (case_id,))]

    def series_in_cases(self, series_pks: Sequence[int]) -> dict[int, int]:
        """series pk -> case id for those of `series_pks` already in a case."""
        if not series_pks:
            return {}
        return {int(s): int(c) for s, c in self.uow.tuples(
            f"SELECT series_pk, case_id FROM case_series WHERE series_pk IN"
            f" ({_placeholders(series_pks)})", tuple(series_pks))}

    def studies_for_cases(self) -> list[StudyForCases]:
        """Every study with its patient key/id and whether any of its series is in a case."""
        return [StudyForCases(int(r["study_pk"]), r["study_date"], r["patient_key"],
                              r["patient_id"], bool(r["in_case"])) for r in self.uow.rows(
            "SELECT st.id AS study_pk, st.study_date, p.patient_key, p.patient_id,"
            " EXISTS (SELECT 1 FROM case_series cs JOIN series se ON se.id = cs.series_pk"
            "         WHERE se.study_pk = st.id) AS in_case"
            " FROM study st JOIN patient p ON p.id = st.patient_pk"
            " ORDER BY p.patient_key, st.study_date, st.id")]

    def study_case_labels(self) -> dict[int, str]:
        """study pk -> label of the case holding (some of) its series."""
        return {int(s): label for s, label in self.uow.tuples(
            "SELECT se.study_pk, MIN(c.label) FROM case_series cs JOIN series se"
            " ON se.id = cs.series_pk JOIN review_case c ON c.id = cs.case_id"
            " GROUP BY se.study_pk")}


# -- assignments ------------------------------------------------------------------------------
_ASSIGNMENT_SELECT = ("SELECT a.*, COALESCE(a.label, c.label) AS display_label,"
                      " CASE WHEN t.assignment_id IS NULL THEN 'primary' ELSE 'third' END"
                      " AS purpose FROM assignment a JOIN review_case c ON c.id = a.case_id"
                      " LEFT JOIN third_read t ON t.assignment_id = a.id")
#: SQL condition: assignment `a` is a primary read (not a hidden re-read, not a third read)
PRIMARY = ("a.is_reread = 0 AND NOT EXISTS (SELECT 1 FROM third_read t3"
           " WHERE t3.assignment_id = a.id)")


def _assignment(r: Mapping[str, Any]) -> AssignmentRecord:
    return AssignmentRecord(int(r["id"]), int(r["case_id"]), int(r["reader_id"]),
                            int(r["run_id"]), r["label"], int(r["order_index"]),
                            bool(r["is_reread"]), float(r["available_from"]),
                            r["display_label"], r["purpose"])


class AssignmentRepository(_Repository):
    def add_run(self, seed: int, protocol_version_id: int | None, reader_ids: Sequence[int],
                at: str, by: str) -> int:
        return self.uow.insert(
            "INSERT INTO assignment_run (seed, protocol_version_id, readers_json, created_at,"
            " created_by) VALUES (?,?,?,?,?)",
            (seed, protocol_version_id, json.dumps(list(reader_ids)), at, by))

    def add(self, case_id: int, reader_id: int, run_id: int, order_index: int,
            is_reread: bool, label: str | None, available_from: float,
            third_read_seed: int | None = None) -> int:
        """A new assignment; with `third_read_seed` it is a 2-of-3 third read of the case."""
        assignment_id = self.uow.insert(
            "INSERT INTO assignment (case_id, reader_id, run_id, label, order_index, is_reread,"
            " available_from) VALUES (?,?,?,?,?,?,?)",
            (case_id, reader_id, run_id, label, order_index, int(is_reread), available_from))
        if third_read_seed is not None:
            self.uow.execute("INSERT INTO third_read (assignment_id, case_id, seed)"
                             " VALUES (?,?,?)", (assignment_id, case_id, int(third_read_seed)))
        self.note_worklist_change(reader_id, assignment_id)
        return assignment_id

    def get(self, assignment_id: int) -> AssignmentRecord | None:
        r = self.uow.row(_ASSIGNMENT_SELECT + " WHERE a.id = ?", (int(assignment_id),))
        return None if r is None else _assignment(r)

    def of_case(self, case_id: int) -> list[AssignmentRecord]:
        return [_assignment(r) for r in self.uow.rows(
            _ASSIGNMENT_SELECT + " WHERE a.case_id = ? ORDER BY a.id", (case_id,))]

    def of_reader(self, reader_id: int) -> list[AssignmentRecord]:
        """All of a reader's assignments (available or not), in their order."""
        return [_assignment(r) for r in self.uow.rows(
            _ASSIGNMENT_SELECT + " WHERE a.reader_id = ? ORDER BY a.order_index, a.id",
            (reader_id,))]

    def rereads(self) -> list[AssignmentRecord]:
        return [_assignment(r) for r in self.uow.rows(
            _ASSIGNMENT_SELECT + " WHERE a.is_reread = 1 ORDER BY a.id")]

    def count(self) -> int:
        return int(self.uow.scalar("SELECT COUNT(*) FROM assignment"))

    def third_read(self, case_id: int) -> AssignmentRecord | None:
        """The case's 2-of-3 third-read assignment, if one was drawn."""
        r = self.uow.row(_ASSIGNMENT_SELECT + " WHERE t.case_id = ?", (int(case_id),))
        return None if r is None else _assignment(r)

    def assigned_case_ids(self) -> set[int]:
        return {int(r[0]) for r in self.uow.tuples(
            "SELECT DISTINCT case_id FROM assignment WHERE is_reread = 0")}

    def primary_counts(self) -> dict[int, int]:
        return {int(r): int(n) for r, n in self.uow.tuples(
            "SELECT reader_id, COUNT(*) FROM assignment WHERE is_reread = 0"
            " GROUP BY reader_id")}

    def max_order_index(self, reader_id: int) -> int:
        value = self.uow.scalar("SELECT MAX(order_index) FROM assignment WHERE reader_id = ?",
                                (reader_id,))
        return -1 if value is None else int(value)

    def note_worklist_change(self, reader_id: int, assignment_id: int) -> None:
        """Log that a row of the reader's worklist changed (new assignment, read started or
        locked), so cached worklists refresh just that row.  Written with the audit records,
        under the append lock, so revision numbers follow commit order on every backend."""
        self.uow.note_worklist_change(reader_id, assignment_id)

    def worklist_revision(self, reader_id: int) -> int:
        """The newest change to the reader's worklist rows (0 for none); availability over
        time is not a change (it is in the rows)."""
        rev = self.uow.scalar("SELECT MAX(id) FROM worklist_change WHERE reader_id = ?",
                              (reader_id,))
        return 0 if rev is None else int(rev)

    def worklist_changes(self, reader_id: int, since: int) -> set[int]:
        """Assignments whose worklist row changed after revision `since`."""
        return {int(a) for (a,) in self.uow.tuples(
            "SELECT assignment_id FROM worklist_change WHERE reader_id = ? AND id > ?",
            (reader_id, since))}

    def worklist(self, reader_id: int, now: float | None = None,
                 assignment_ids: Sequence[int] | None = None) -> list[WorklistRow]:
        """A reader's assignments (available at `now`, or all; or only `assignment_ids`), in
        their order, with the read if any."""
        sql = ("SELECT a.id, r.id, COALESCE(a.label, c.label), c.timepoint,"
               " c.days_from_insertion, r.status, a.order_index, a.available_from"
               " FROM assignment a JOIN review_case c ON c.id = a.case_id"
               " LEFT JOIN review_read r ON r.assignment_id = a.id WHERE a.reader_id = ?")
        params: list[Any] = [reader_id]
        if now is not None:
            sql += " AND a.available_from <= ?"
            params.append(now)
        if assignment_ids is not None:
            if not assignment_ids:
                return []
            sql += f" AND a.id IN ({_placeholders(assignment_ids)})"
            params.extend(assignment_ids)
        return [WorklistRow(*row) for row in self.uow.tuples(
            sql + " ORDER BY a.order_index, a.id", params)]

    def available_to_reader(self, reader_id: int, now: float) -> list[ReaderAssignment]:
        """A reader's available assignments with case subject/days and the read's protocol."""
        return [ReaderAssignment(int(r["id"]), int(r["case_id"]), r["subject"],
                                 _opt_int(r["days_from_insertion"]),
                                 _opt_int(r["protocol_version_id"])) for r in self.uow.rows(
            "SELECT a.id, a.case_id, c.subject, c.days_from_insertion, r.protocol_version_id"
            " FROM assignment a JOIN review_case c ON c.id = a.case_id"
            " LEFT JOIN review_read r ON r.assignment_id = a.id"
            " WHERE a.reader_id = ? AND a.available_from <= ?", (reader_id, now))]

    def reader_progress(self) -> list[ReaderProgressRow]:
        """Per reader with assignments: assigned, submitted and in-progress counts."""
        return [ReaderProgressRow(int(r["id"]), r["display_name"], int(r["assigned"]),
                                  int(r["submitted"] or 0), int(r["in_progress"] or 0))
                for r in self.uow.rows(
            "SELECT u.id, u.display_name, COUNT(a.id) AS assigned,"
            " SUM(CASE WHEN r.status = 'submitted' THEN 1 ELSE 0 END) AS submitted,"
            " SUM(CASE WHEN r.status = 'in_progress' THEN 1 ELSE 0 END) AS in_progress"
            " FROM app_user u JOIN assignment a ON a.reader_id = u.id"
            " LEFT JOIN review_read r ON r.assignment_id = a.id"
            " GROUP BY u.id, u.display_name ORDER BY u.display_name, u.id")]

    def primary_reads(self, case_id: int | None = None) -> list[PrimaryRead]:
        """Primary (not re-read, not third-read) assignments with their case and read (if
        any)."""
        sql = ("SELECT a.id AS assignment_id, a.case_id, c.label, a.reader_id, r.id AS read_id,"
               " r.status, r.version, r.protocol_version_id"
               " FROM assignment a JOIN review_case c ON c.id = a.case_id"
               " LEFT JOIN review_read r ON r.assignment_id = a.id WHERE " + PRIMARY)
        params: tuple[Any, ...] = ()
        if case_id is not None:
            sql += " AND a.case_id = ?"
            params = (case_id,)
        return [PrimaryRead(int(r["assignment_id"]), int(r["case_id"]), r["label"],
                            int(r["reader_id"]), _opt_int(r["read_id"]), r["status"],
                            _opt_int(r["version"]), _opt_int(r["protocol_version_id"]))
                for r in self.uow.rows(sql + " ORDER BY a.case_id, a.id", params)]

    def status_counts(self) -> dict[str, int]:
        """Assignments by read status ("new" when no read was started)."""
        return {s: int(n) for s, n in self.uow.tuples(
            "SELECT COALESCE(r.status, 'new'), COUNT(*) FROM assignment a"
            " LEFT JOIN review_read r ON r.assignment_id = a.id"
            " GROUP BY COALESCE(r.status, 'new')")}

    def overview(self) -> list[AssignmentOverviewRow]:
        """Every assignment as the coordinator's case x reader table shows it: the case's
        label, the reader, the purpose, the read's status, the 1-based position in the
        reader's whole list (available or not) and when it becomes available."""
        return [AssignmentOverviewRow(
            int(r["id"]), int(r["case_id"]), r["case_label"], r["label"], int(r["reader_id"]),
            r["username"], r["display_name"], bool(r["is_reread"]), bool(r["is_third"]),
            _opt_int(r["read_id"]), r["status"], int(r["position"]), float(r["available_from"]))
            for r in self.uow.rows(
                "SELECT a.id, a.case_id, c.label AS case_label, a.label, a.reader_id,"
                " u.username, u.display_name, a.is_reread, a.available_from,"
                " CASE WHEN t.assignment_id IS NULL THEN 0 ELSE 1 END AS is_third,"
                " r.id AS read_id, r.status, p.position"
                " FROM assignment a JOIN review_case c ON c.id = a.case_id"
                " JOIN app_user u ON u.id = a.reader_id"
                " LEFT JOIN third_read t ON t.assignment_id = a.id"
                " LEFT JOIN review_read r ON r.assignment_id = a.id"
                " JOIN (SELECT id, ROW_NUMBER() OVER (PARTITION BY reader_id"
                " ORDER BY order_index, id) AS position FROM assignment) p ON p.id = a.id"
                " ORDER BY c.label, a.is_reread, u.username, a.id")]

    def reader_has_case(self, case_id: int, reader_id: int) -> bool:
        """Whether the reader has any assignment of the case (primary, re-read, third read)."""
        return self.uow.scalar("SELECT COUNT(*) FROM assignment WHERE case_id = ?"
                               " AND reader_id = ?", (int(case_id), int(reader_id))) > 0

    def move(self, assignment_id: int, reader_id: int, order_index: int) -> None:
        """Give the assignment to another reader at `order_index` of their list; both
        readers' worklists change (the row leaves one and joins the other)."""
        old = self.uow.scalar("SELECT reader_id FROM assignment WHERE id = ?",
                              (int(assignment_id),))
        self.uow.execute("UPDATE assignment SET reader_id = ?, order_index = ? WHERE id = ?",
                         (int(reader_id), int(order_index), int(assignment_id)))
        if old is not None:
            self.note_worklist_change(int(old), int(assignment_id))
        self.note_worklist_change(int(reader_id), int(assignment_id))

    def withdraw_draft(self, read_id: int, at: str) -> None:
        """Empty an unsigned read (its values, annotations and key images, its time on case)
        so that the assignment's next reader starts afresh under the same read id (ids are
        never reused for another read); the caller audits what it held."""
        if self.uow.scalar("SELECT status FROM review_read WHERE id = ?",
                           (int(read_id),)) in (None, "submitted"):
            return
        for table in ("annotation", "key_image", "read_value"):
            self.uow.execute(f"DELETE FROM {table} WHERE read_id = ?", (int(read_id),))
        self.uow.execute("UPDATE review_read SET active_seconds = 0, started_at = ?,"
                         " updated_at = ? WHERE id = ?", (at, at, int(read_id)))


@dataclass(frozen=True)
class AssignmentOverviewRow:
    """One row of the coordinator's assignment table (`AssignmentRepository.overview`)."""

    assignment_id: int
    case_id: int
    case_label: str
    reread_label: str | None
    reader_id: int
    username: str
    display_name: str
    is_reread: bool
    is_third_read: bool
    read_id: int | None
    status: str | None
    position: int
    available_from: float


# -- the DICOM index as the reading workflow needs it -----------------------------------------
class DicomRepository(_Repository):
    def series_summaries(self, series_pks: Sequence[int]) -> list[SeriesSummary]:
        """Series with their study and instance/frame counts, in the order given."""
        if not series_pks:
            return []
        rows = self.uow.rows(
            "SELECT se.id, se.study_pk, se.modality, se.series_description, se.series_number,"
            " (SELECT COUNT(*) FROM instance i WHERE i.series_pk = se.id) AS n_instances,"
            " (SELECT COALESCE(SUM(i.number_of_frames), 0) FROM instance i"
            "   WHERE i.series_pk = se.id) AS n_frames"
            f" FROM series se WHERE se.id IN ({_placeholders(series_pks)})", tuple(series_pks))
        by_id = {int(r["id"]): SeriesSummary(
            int(r["id"]), int(r["study_pk"]), r["modality"], r["series_description"],
            _opt_int(r["series_number"]), int(r["n_instances"]), int(r["n_frames"]))
            for r in rows}
        return [by_id[pk] for pk in series_pks if pk in by_id]

    def study_series_pks(self, study_pk: int) -> list[int]:
        return [int(r[0]) for r in self.uow.tuples(
            "SELECT id FROM series WHERE study_pk = ? ORDER BY series_number, id", (study_pk,))]

    def instance_location(self, sop_instance_uid: str) -> InstanceLocation | None:
        r = self.uow.row("SELECT id, path, series_pk FROM instance WHERE sop_instance_uid = ?",
                         (sop_instance_uid,))
        return None if r is None else InstanceLocation(int(r["id"]), r["path"],
                                                       int(r["series_pk"]))

    def instance_uids(self, series_pks: Sequence[int]) -> set[str]:
        if not series_pks:
            return set()
        return {r[0] for r in self.uow.tuples(
            f"SELECT sop_instance_uid FROM instance WHERE series_pk IN"
            f" ({_placeholders(series_pks)})", tuple(series_pks))}

    def counts(self) -> TrialCounts:
        def n(table: str) -> int:
            return int(self.uow.scalar(f"SELECT COUNT(*) FROM {table}"))

        return TrialCounts(n("patient"), n("study"), n("series"), n("instance"), n("app_user"),
                           n("review_case"), n("assignment"),
                           AssignmentRepository(self.uow).status_counts())


# -- de-identified reader copies and burned-in text review -----------------------------------
@dataclass(frozen=True)
class ReaderCopySetRecord:
    """A set of de-identified copies with its own UIDs: a case's (assignment None) or a
    hidden re-read's (the copies of the case and its priors handed out with that re-read)."""

    id: int
    case_id: int
    assignment_id: int | None
    patient_label: str
    date_offset_days: int | None
    uid_salt: str
    created_at: str


@dataclass(frozen=True)
class ReaderCopyRecord:
    """One de-identified copy of an original instance: where it is, its bytes' SHA-256, the
    mask applied to its pixels (if any), its scanned header (copy UIDs, copy offsets) and
    which original UIDs it replaced (original -> copy)."""

    id: int
    copy_set_id: int
    series_pk: int
    instance_pk: int
    sop_instance_uid: str
    path: str
    sha256: str
    mask_id: int | None
    header: dict[str, Any]
    replaced_uids: dict[str, str]


@dataclass(frozen=True)
class BurnedInReviewRecord:
    """Whether a series' pixels may carry text and what the coordinator decided:
    status "not_flagged", "flagged" (undecided), "masked" or "clean"."""

    series_pk: int
    reason: str
    status: str
    flagged_at: str
    decided_by: str | None
    decided_at: str | None
    mask_id: int | None


@dataclass(frozen=True)
class BurnedInMaskRecord:
    id: int
    series_pk: int
    #: (row0, col0, row1, col1) rectangles in pixel coordinates of the frame, end exclusive
    rectangles: tuple[tuple[int, int, int, int], ...]
    created_by: str
    created_at: str


def _copy_set(r: Mapping[str, Any]) -> ReaderCopySetRecord:
    return ReaderCopySetRecord(int(r["id"]), int(r["case_id"]), _opt_int(r["assignment_id"]),
                               r["patient_label"], _opt_int(r["date_offset_days"]),
                               r["uid_salt"], r["created_at"])


def _copy(r: Mapping[str, Any]) -> ReaderCopyRecord:
    return ReaderCopyRecord(int(r["id"]), int(r["copy_set_id"]), int(r["series_pk"]),
                            int(r["instance_pk"]), r["sop_instance_uid"], r["path"],
                            r["sha256"], _opt_int(r["mask_id"]), json.loads(r["header_json"]),
                            json.loads(r["replaced_uids_json"]))


def _review(r: Mapping[str, Any]) -> BurnedInReviewRecord:
    return BurnedInReviewRecord(int(r["series_pk"]), r["reason"], r["status"], r["flagged_at"],
                                r["decided_by"], r["decided_at"], _opt_int(r["mask_id"]))


def _mask(r: Mapping[str, Any]) -> BurnedInMaskRecord:
    rects = tuple(tuple(int(v) for v in rect) for rect in json.loads(r["rectangles_json"]))
    return BurnedInMaskRecord(int(r["id"]), int(r["series_pk"]), rects,  # type: ignore[arg-type]
                              r["created_by"], r["created_at"])


class ReaderCopyRepository(_Repository):
    """Copy sets, the copies in them, burned-in text reviews and masks."""

    def digests(self) -> set[str]:
        """The SHA-256 (archive file name) of every committed reader copy (crash recovery's
        orphan sweep: one query, however many cases)."""
        return {r[0] for r in self.uow.tuples(
            "SELECT DISTINCT sha256 FROM reader_copy WHERE sha256 <> ''")}

    # copy sets
    def add_set(self, case_id: int, assignment_id: int | None, patient_label: str,
                date_offset_days: int | None, uid_salt: str, at: str) -> int:
        return self.uow.insert(
            "INSERT INTO reader_copy_set (case_id, assignment_id, patient_label,"
            " date_offset_days, uid_salt, created_at) VALUES (?,?,?,?,?,?)",
            (case_id, assignment_id, patient_label, date_offset_days, uid_salt, at))

    def set(self, copy_set_id: int) -> ReaderCopySetRecord | None:
        r = self.uow.row("SELECT * FROM reader_copy_set WHERE id = ?", (int(copy_set_id),))
        return None if r is None else _copy_set(r)

    def case_set(self, case_id: int) -> ReaderCopySetRecord | None:
        r = self.uow.row("SELECT * FROM reader_copy_set WHERE case_id = ?"
                         " AND assignment_id IS NULL", (int(case_id),))
        return None if r is None else _copy_set(r)

    def assignment_set(self, assignment_id: int) -> ReaderCopySetRecord | None:
        r = self.uow.row("SELECT * FROM reader_copy_set WHERE assignment_id = ?",
                         (int(assignment_id),))
        return None if r is None else _copy_set(r)

    def sets_of_cases(self, case_ids: Sequence[int]) -> list[ReaderCopySetRecord]:
        """Every copy set (the cases' own and their re-reads') of these cases."""
        if not case_ids:
            return []
        return [_copy_set(r) for r in self.uow.rows(
            f"SELECT * FROM reader_copy_set WHERE case_id IN ({_placeholders(case_ids)})"
            " ORDER BY id", tuple(case_ids))]

    # copies
    def add_copy(self, copy_set_id: int, series_pk: int, instance_pk: int,
                 sop_instance_uid: str, path: str, sha256: str, mask_id: int | None,
                 header: Mapping[str, Any], replaced_uids: Mapping[str, str], at: str) -> int:
        return self.uow.insert(
            "INSERT INTO reader_copy (copy_set_id, series_pk, instance_pk, sop_instance_uid,"
            " path, sha256, mask_id, header_json, replaced_uids_json, created_at)"
            " VALUES (?,?,?,?,?,?,?,?,?,?)",
            (copy_set_id, series_pk, instance_pk, sop_instance_uid, path, sha256, mask_id,
             json.dumps(dict(header), ensure_ascii=False, sort_keys=True),
             json.dumps(dict(replaced_uids), sort_keys=True), at))

    def remove_copies(self, copy_set_id: int, series_pk: int) -> list[str]:
        """Forget the copies of a series in a set (to remake them); returns their paths."""
        paths = [r[0] for r in self.uow.tuples(
            "SELECT path FROM reader_copy WHERE copy_set_id = ? AND series_pk = ?",
            (copy_set_id, series_pk))]
        self.uow.execute("DELETE FROM reader_copy WHERE copy_set_id = ? AND series_pk = ?",
                         (copy_set_id, series_pk))
        return paths

    def copies(self, copy_set_id: int, series_pks: Sequence[int]) -> list[ReaderCopyRecord]:
        """The copies of these series in a set, by series and instance number."""
        if not series_pks:
            return []
        return [_copy(r) for r in self.uow.rows(
            "SELECT c.* FROM reader_copy c JOIN instance i ON i.id = c.instance_pk"
            f" WHERE c.copy_set_id = ? AND c.series_pk IN ({_placeholders(series_pks)})"
            " ORDER BY c.series_pk, i.instance_number, i.id",
            (copy_set_id, *series_pks))]

    def copied_series(self, copy_set_id: int) -> set[int]:
        return {int(r[0]) for r in self.uow.tuples(
            "SELECT DISTINCT series_pk FROM reader_copy WHERE copy_set_id = ?", (copy_set_id,))}

    def by_uid(self, sop_instance_uid: str) -> ReaderCopyRecord | None:
        r = self.uow.row("SELECT * FROM reader_copy WHERE sop_instance_uid = ?",
                         (sop_instance_uid,))
        return None if r is None else _copy(r)

    def original_uids(self, copy_uids: Sequence[str]) -> dict[str, str]:
        """copy SOP Instance UID -> original SOP Instance UID, for those that are copies."""
        out: dict[str, str] = {}
        uids = list(dict.fromkeys(copy_uids))
        for i in range(0, len(uids), 500):
            chunk = uids[i:i + 500]
            out.update((c, o) for c, o in self.uow.tuples(
                "SELECT c.sop_instance_uid, i.sop_instance_uid FROM reader_copy c JOIN instance"
                f" i ON i.id = c.instance_pk WHERE c.sop_instance_uid IN ({_placeholders(chunk)})",
                chunk))
        return out

    def copy_uids(self, copy_set_ids: Sequence[int], original_uids: Sequence[str]
                  ) -> dict[str, str]:
        """original SOP Instance UID -> its copy's in the first of `copy_set_ids` holding one."""
        if not copy_set_ids or not original_uids:
            return {}
        out: dict[str, str] = {}
        rank = {int(s): n for n, s in enumerate(copy_set_ids)}
        best: dict[str, int] = {}
        uids = list(dict.fromkeys(original_uids))
        for i in range(0, len(uids), 500):
            chunk = uids[i:i + 500]
            for set_id, original, copy in self.uow.tuples(
                    "SELECT c.copy_set_id, i.sop_instance_uid, c.sop_instance_uid FROM"
                    " reader_copy c JOIN instance i ON i.id = c.instance_pk WHERE c.copy_set_id"
                    f" IN ({_placeholders(copy_set_ids)}) AND i.sop_instance_uid IN"
                    f" ({_placeholders(chunk)})", (*copy_set_ids, *chunk)):
                if original not in best or rank[int(set_id)] < best[original]:
                    best[original] = rank[int(set_id)]
                    out[original] = copy
        return out

    def count(self) -> int:
        return int(self.uow.scalar("SELECT COUNT(*) FROM reader_copy"))

    # burned-in text
    def all_series_pks(self) -> list[int]:
        """Every imported series, in import order."""
        return [int(r[0]) for r in self.uow.tuples("SELECT id FROM series ORDER BY id")]

    def review(self, series_pk: int) -> BurnedInReviewRecord | None:
        r = self.uow.row("SELECT * FROM burned_in_review WHERE series_pk = ?", (int(series_pk),))
        return None if r is None else _review(r)

    def reviews(self, series_pks: Sequence[int] | None = None) -> list[BurnedInReviewRecord]:
        if series_pks is None:
            return [_review(r) for r in self.uow.rows(
                "SELECT * FROM burned_in_review ORDER BY series_pk")]
        if not series_pks:
            return []
        return [_review(r) for r in self.uow.rows(
            "SELECT * FROM burned_in_review WHERE series_pk IN"
            f" ({_placeholders(series_pks)}) ORDER BY series_pk", tuple(series_pks))]

    def add_review(self, series_pk: int, reason: str, status: str, at: str) -> None:
        self.uow.execute(
            "INSERT INTO burned_in_review (series_pk, reason, status, flagged_at)"
            " VALUES (?,?,?,?)", (series_pk, reason, status, at))

    def decide(self, series_pk: int, status: str, by: str, at: str,
               mask_id: int | None) -> None:
        self.uow.execute(
            "UPDATE burned_in_review SET status = ?, decided_by = ?, decided_at = ?,"
            " mask_id = ? WHERE series_pk = ?", (status, by, at, mask_id, series_pk))

    def add_mask(self, series_pk: int, rectangles: Sequence[Sequence[int]], by: str,
                 at: str) -> int:
        return self.uow.insert(
            "INSERT INTO burned_in_mask (series_pk, rectangles_json, created_by, created_at)"
            " VALUES (?,?,?,?)",
            (series_pk, json.dumps([list(map(int, r)) for r in rectangles]), by, at))

    def mask(self, mask_id: int | None) -> BurnedInMaskRecord | None:
        if mask_id is None:
            return None
        r = self.uow.row("SELECT * FROM burned_in_mask WHERE id = ?", (int(mask_id),))
        return None if r is None else _mask(r)

    def masks(self, series_pk: int) -> list[BurnedInMaskRecord]:
        return [_mask(r) for r in self.uow.rows(
            "SELECT * FROM burned_in_mask WHERE series_pk = ? ORDER BY id", (int(series_pk),))]
