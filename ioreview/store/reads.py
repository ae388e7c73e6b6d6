"""The repositories of what readers produce: reads with their values, annotations, key
images and amendments; signatures of any signable entity; persisted discordance evaluations.

Portable SQL returning typed records, as in `repositories`.
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .records import (AmendmentRecord, AnnotationRecord, DiscordanceEvaluation,
                      DiscordantField, KeyImageRecord, LockedRead, ReadRecord,
                      SignatureRecord)
from .repositories import PRIMARY, AssignmentRepository, _Repository, _placeholders

__all__ = ["DiscordanceRepository", "ReadRepository", "SignatureRepository"]


# -- reads ------------------------------------------------------------------------------------
_READ_COLUMNS = ("status", "version", "updated_at", "submitted_at", "active_seconds")
_READ_SELECT = ("SELECT r.*, a.reader_id, a.case_id, a.available_from, a.is_reread,"
                " CASE WHEN t.assignment_id IS NULL THEN 'primary' ELSE 'third' END AS purpose,"
                " COALESCE(a.label, c.label) AS display_label"
                " FROM review_read r JOIN assignment a ON a.id = r.assignment_id"
                " JOIN review_case c ON c.id = a.case_id"
                " LEFT JOIN third_read t ON t.assignment_id = a.id")


def _read(r: Mapping[str, Any]) -> ReadRecord:
    return ReadRecord(int(r["id"]), int(r["assignment_id"]), int(r["protocol_version_id"]),
                      r["status"], int(r["version"]), r["started_at"], r["updated_at"],
                      r["submitted_at"], float(r["active_seconds"]), int(r["reader_id"]),
                      int(r["case_id"]), float(r["available_from"]), bool(r["is_reread"]),
                      r["display_label"], r["purpose"])


def _annotation(r: Mapping[str, Any]) -> AnnotationRecord:
    return AnnotationRecord(int(r["id"]), r["finding_id"], r["kind"], r["sop_instance_uid"],
                            int(r["frame"]),
                            tuple((float(p[0]), float(p[1])) for p in json.loads(r["points_json"])),
                            dict(json.loads(r["measurements_json"])), r["label"])


class ReadRepository(_Repository):
    def _bump(self, assignment_id: int) -> None:
        reader = self.uow.scalar("SELECT reader_id FROM assignment WHERE id = ?",
                                 (assignment_id,))
        if reader is not None:
            AssignmentRepository(self.uow).note_worklist_change(int(reader), assignment_id)

    def add(self, assignment_id: int, protocol_version_id: int, status: str, at: str) -> int:
        self._bump(assignment_id)
        return self.uow.insert(
            "INSERT INTO review_read (assignment_id, protocol_version_id, status, version,"
            " started_at, updated_at, active_seconds) VALUES (?,?,?,1,?,?,0)",
            (assignment_id, protocol_version_id, status, at, at))

    def get(self, read_id: int) -> ReadRecord | None:
        r = self.uow.row(_READ_SELECT + " WHERE r.id = ?", (int(read_id),))
        return None if r is None else _read(r)

    def for_assignment(self, assignment_id: int) -> ReadRecord | None:
        r = self.uow.row(_READ_SELECT + " WHERE r.assignment_id = ?", (int(assignment_id),))
        return None if r is None else _read(r)

    def of_reader(self, reader_id: int) -> list[ReadRecord]:
        return [_read(r) for r in self.uow.rows(
            _READ_SELECT + " WHERE a.reader_id = ? ORDER BY r.id", (reader_id,))]

    def update(self, read_id: int, **changes: Any) -> None:
        if "status" in changes:
            assignment = self.uow.scalar("SELECT assignment_id FROM review_read WHERE id = ?",
                                         (read_id,))
            if assignment is not None:
                self._bump(int(assignment))
        self._update("review_read", _READ_COLUMNS, read_id, changes)

    def lock(self, read: ReadRecord, at: str) -> None:
        """Mark a read signed and locked (its worklist row changes)."""
        self.uow.note_worklist_change(read.reader_id, read.assignment_id)
        self._update("review_read", _READ_COLUMNS, read.id,
                     {"status": "submitted", "submitted_at": at, "updated_at": at})

    def values(self, read_id: int, version: int) -> dict[str, Any]:
        return {f: json.loads(v) for f, v in self.uow.tuples(
            "SELECT field, value_json FROM read_value WHERE read_id = ? AND version = ?"
            " ORDER BY field", (read_id, version))}

    def locked(self, case_ids: Sequence[int] | None = None) -> list[LockedRead]:
        """Every signed read (current version) with what agreement figures need: case,
        reader, re-read / third-read flags, signing time, reading time and the 1-based
        position of its assignment in the reader's worklist (only of `case_ids` if given)."""
        where, params = "", []
        if case_ids is not None:
            if not case_ids:
                return []
            where = f" AND a.case_id IN ({_placeholders(case_ids)})"
            params = [int(c) for c in case_ids]
        return [LockedRead(int(r["id"]), int(r["version"]), int(r["case_id"]),
                           int(r["reader_id"]), bool(r["is_reread"]), bool(r["is_primary"]),
                           r["submitted_at"], float(r["active_seconds"]), int(r["position"]),
                           r["timepoint"], r["subject"], int(r["protocol_version_id"]))
                for r in self.uow.rows(
            "SELECT r.id, r.version, r.submitted_at, r.active_seconds, r.protocol_version_id,"
            " a.case_id, a.reader_id, a.is_reread, p.position, c.timepoint, c.subject,"
            " CASE WHEN t.assignment_id IS NULL THEN 1 ELSE 0 END AS is_primary"
            " FROM review_read r JOIN assignment a ON a.id = r.assignment_id"
            " JOIN review_case c ON c.id = a.case_id"
            " LEFT JOIN third_read t ON t.assignment_id = a.id"
            " JOIN (SELECT id, ROW_NUMBER() OVER (PARTITION BY reader_id"
            " ORDER BY order_index, id) AS position FROM assignment) p ON p.id = a.id"
            " WHERE r.status = 'submitted'" + where + " ORDER BY r.id", params)]

    def values_of(self, refs: Sequence[tuple[int, int]]) -> dict[tuple[int, int], dict[str, Any]]:
        """Values of several (read id, version) pairs in one query."""
        out: dict[tuple[int, int], dict[str, Any]] = {tuple(ref): {} for ref in refs}
        ids = sorted({r for r, _v in refs})
        for i in range(0, len(ids), 500):
            chunk = ids[i:i + 500]
            for read_id, version, f, v in self.uow.tuples(
                    "SELECT read_id, version, field, value_json FROM read_value WHERE read_id IN"
                    f" ({_placeholders(chunk)}) ORDER BY read_id, version, field", chunk):
                key = (int(read_id), int(version))
                if key in out:
                    out[key][f] = json.loads(v)
        return out

    def replace_values(self, read_id: int, version: int, values: Mapping[str, Any],
                       units: Mapping[str, str | None]) -> None:
        self.uow.execute("DELETE FROM read_value WHERE read_id = ? AND version = ?",
                         (read_id, version))
        self.uow.executemany(
            "INSERT INTO read_value (read_id, version, field, value_json, unit)"
            " VALUES (?,?,?,?,?)",
            [(read_id, version, k, json.dumps(v, ensure_ascii=False), units.get(k))
             for k, v in values.items()])

    def annotations(self, read_id: int, version: int) -> list[AnnotationRecord]:
        return [_annotation(r) for r in self.uow.rows(
            "SELECT * FROM annotation WHERE read_id = ? AND version = ? ORDER BY id",
            (read_id, version))]

    def count_annotations(self, read_id: int, version: int) -> int:
        return int(self.uow.scalar(
            "SELECT COUNT(*) FROM annotation WHERE read_id = ? AND version = ?",
            (read_id, version)))

    def replace_annotations(self, read_id: int, version: int,
                            annotations: Iterable[AnnotationRecord]) -> None:
        self.uow.execute("DELETE FROM annotation WHERE read_id = ? AND version = ?",
                         (read_id, version))
        self.uow.executemany(
            "INSERT INTO annotation (read_id, version, finding_id, kind, sop_instance_uid, frame,"
            " points_json, measurements_json, label) VALUES (?,?,?,?,?,?,?,?,?)",
            [(read_id, version, a.finding_id, a.kind, a.sop_instance_uid, a.frame,
              json.dumps([list(p) for p in a.points]),
              json.dumps(a.measurements, sort_keys=True), a.label) for a in annotations])

    def key_images(self, read_id: int, version: int) -> list[KeyImageRecord]:
        return [KeyImageRecord(u, int(f), n) for u, f, n in self.uow.tuples(
            "SELECT sop_instance_uid, frame, note FROM key_image"
            " WHERE read_id = ? AND version = ? ORDER BY id", (read_id, version))]

    def count_key_images(self, read_id: int, version: int) -> int:
        return int(self.uow.scalar(
            "SELECT COUNT(*) FROM key_image WHERE read_id = ? AND version = ?",
            (read_id, version)))

    def replace_key_images(self, read_id: int, version: int,
                           key_images: Iterable[KeyImageRecord]) -> None:
        self.uow.execute("DELETE FROM key_image WHERE read_id = ? AND version = ?",
                         (read_id, version))
        self.uow.executemany(
            "INSERT INTO key_image (read_id, version, sop_instance_uid, frame, note)"
            " VALUES (?,?,?,?,?)",
            [(read_id, version, k.sop_instance_uid, k.frame, k.note) for k in key_images])

    def add_amendment(self, read_id: int, from_version: int, to_version: int, reason: str,
                      amended_by: int, at: str) -> int:
        return self.uow.insert(
            "INSERT INTO amendment (read_id, from_version, to_version, reason, amended_by,"
            " amended_at) VALUES (?,?,?,?,?,?)",
            (read_id, from_version, to_version, reason, amended_by, at))

    def amendments(self, read_id: int) -> list[AmendmentRecord]:
        return [AmendmentRecord(int(r["id"]), int(r["read_id"]), int(r["from_version"]),
                                int(r["to_version"]), r["reason"], int(r["amended_by"]),
                                r["amended_at"]) for r in self.uow.rows(
            "SELECT * FROM amendment WHERE read_id = ? ORDER BY to_version", (read_id,))]

    def count(self) -> int:
        return int(self.uow.scalar("SELECT COUNT(*) FROM review_read"))


# -- signatures -------------------------------------------------------------------------------
def _signature(r: Mapping[str, Any]) -> SignatureRecord:
    return SignatureRecord(int(r["id"]), r["entity_kind"], int(r["entity_id"]), int(r["version"]),
                           int(r["signer_id"]), r["signer"], r["signed_at"], r["meaning"],
                           r["content_sha256"])


_SIGNATURE_SELECT = ("SELECT s.*, u.username AS signer FROM signature_record s"
                     " JOIN app_user u ON u.id = s.signer_id")


class SignatureRepository(_Repository):
    def add(self, entity_kind: str, entity_id: int, version: int, signer_id: int,
            signed_at: str, meaning: str, content_sha256: str) -> int:
        return self.uow.insert(
            "INSERT INTO signature_record (entity_kind, entity_id, version, signer_id, signed_at,"
            " meaning, content_sha256) VALUES (?,?,?,?,?,?,?)",
            (entity_kind, entity_id, version, signer_id, signed_at, meaning, content_sha256))

    def of(self, entity_kind: str, entity_id: int) -> list[SignatureRecord]:
        return [_signature(r) for r in self.uow.rows(
            _SIGNATURE_SELECT + " WHERE s.entity_kind = ? AND s.entity_id = ?"
            " ORDER BY s.version, s.id", (entity_kind, entity_id))]

    def all(self, entity_kind: str | None = None) -> list[SignatureRecord]:
        if entity_kind is None:
            return [_signature(r) for r in self.uow.rows(_SIGNATURE_SELECT + " ORDER BY s.id")]
        return [_signature(r) for r in self.uow.rows(
            _SIGNATURE_SELECT + " WHERE s.entity_kind = ? ORDER BY s.id", (entity_kind,))]


# -- discordance ------------------------------------------------------------------------------
class DiscordanceRepository(_Repository):
    def record(self, case_id: int, protocol_version_id: int, reads: Sequence[tuple[int, int]],
               fields: Sequence[DiscordantField], cause: str, at: str) -> int:
        """Store a new evaluation of a case (superseding the current one) with its fields."""
        self.uow.execute("UPDATE discordance_evaluation SET superseded_at = ?"
                         " WHERE case_id = ? AND superseded_at IS NULL", (at, case_id))
        evaluation_id = self.uow.insert(
            "INSERT INTO discordance_evaluation (case_id, protocol_version_id, reads_json,"
            " n_discordant, cause, evaluated_at) VALUES (?,?,?,?,?,?)",
            (case_id, protocol_version_id, json.dumps([list(r) for r in reads]), len(fields),
             cause, at))
        self.uow.executemany(
            "INSERT INTO discordance (evaluation_id, case_id, field, rule, reason, values_json)"
            " VALUES (?,?,?,?,?,?)",
            [(evaluation_id, case_id, f.field, f.rule, f.reason,
              json.dumps(list(f.values), ensure_ascii=False)) for f in fields])
        return evaluation_id

    def _evaluations(self, where: str, params: Sequence[Any]) -> list[DiscordanceEvaluation]:
        rows = self.uow.rows(
            "SELECT e.*, c.label FROM discordance_evaluation e JOIN review_case c"
            f" ON c.id = e.case_id WHERE {where} ORDER BY e.id", params)
        if not rows:
            return []
        ids = [int(r["id"]) for r in rows]
        fields: dict[int, list[DiscordantField]] = {i: [] for i in ids}
        for i in range(0, len(ids), 500):
            chunk = ids[i:i + 500]
            for eid, f, rule, reason, values in self.uow.tuples(
                    "SELECT evaluation_id, field, rule, reason, values_json FROM discordance"
                    f" WHERE evaluation_id IN ({_placeholders(chunk)}) ORDER BY id", chunk):
                fields[int(eid)].append(DiscordantField(f, rule, reason,
                                                        tuple(json.loads(values))))
        return [DiscordanceEvaluation(
            int(r["id"]), int(r["case_id"]), r["label"], int(r["protocol_version_id"]),
            tuple((int(a), int(b)) for a, b in json.loads(r["reads_json"])), r["cause"],
            r["evaluated_at"], r["superseded_at"], tuple(fields[int(r["id"])])) for r in rows]

    def current(self, case_id: int | None = None) -> list[DiscordanceEvaluation]:
        """The standing evaluation of every evaluated case (or of one case)."""
        if case_id is None:
            return self._evaluations("e.superseded_at IS NULL", ())
        return self._evaluations("e.superseded_at IS NULL AND e.case_id = ?", (case_id,))

    def cases_awaiting_evaluation(self) -> list[int]:
        """Cases whose primary reads are all locked but which have no standing evaluation
        (databases from before discordance was stored)."""
        return [int(c) for (c,) in self.uow.tuples(
            "SELECT a.case_id FROM assignment a LEFT JOIN review_read r"
            " ON r.assignment_id = a.id WHERE " + PRIMARY + " GROUP BY a.case_id"
            " HAVING SUM(CASE WHEN r.status = 'submitted' THEN 1 ELSE 0 END) = COUNT(*)"
            " AND NOT EXISTS (SELECT 1 FROM discordance_evaluation e"
            " WHERE e.case_id = a.case_id AND e.superseded_at IS NULL) ORDER BY a.case_id")]

    def history(self, case_id: int) -> list[DiscordanceEvaluation]:
        return self._evaluations("e.case_id = ?", (case_id,))
