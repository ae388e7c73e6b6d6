"""Reading the audit trail page by page with filters (the audit viewer and its CSV export).

Portable SQL over the `audit` table: a filter by actor, action, time range and case (the
case's own records and those of its assignments, reads, signatures, adjudications and
discordance evaluations), counted and paged newest first, so a trail of 100,000 records is
shown without loading it whole.
"""
from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from .audit import AuditRecord

__all__ = ["AuditFilter", "AuditLogQuery"]


@dataclass(frozen=True)
class AuditFilter:
    """Which audit records to show; None (or an empty tuple of cases) means any.  `since` and
    `until` are ISO 8601 UTC times as the trail stores them (`until` is exclusive)."""

    actor: str | None = None
    action: str | None = None
    case_ids: tuple[int, ...] | None = None
    since: str | None = None
    until: str | None = None


def _case_clause(case_ids: Sequence[int]) -> tuple[str, list[Any]]:
    """Records of the cases and of everything that belongs to them."""
    marks = ", ".join("?" * len(case_ids))
    ids = list(case_ids)
    parts = [
        (f"(entity = 'case' AND entity_id IN (SELECT CAST(id AS TEXT) FROM review_case"
         f" WHERE id IN ({marks})))"),
        (f"(entity = 'assignment' AND entity_id IN (SELECT CAST(id AS TEXT) FROM assignment"
         f" WHERE case_id IN ({marks})))"),
        (f"(entity = 'read' AND entity_id IN (SELECT CAST(r.id AS TEXT) FROM review_read r"
         f" JOIN assignment a ON a.id = r.assignment_id WHERE a.case_id IN ({marks})))"),
        (f"(entity = 'adjudication' AND entity_id IN (SELECT CAST(id AS TEXT) FROM adjudication"
         f" WHERE case_id IN ({marks})))"),
        (f"(entity = 'discordance' AND entity_id IN (SELECT CAST(id AS TEXT)"
         f" FROM discordance_evaluation WHERE case_id IN ({marks})))"),
        (f"(entity = 'signature' AND entity_id IN (SELECT CAST(s.id AS TEXT)"
         f" FROM signature_record s JOIN review_read r ON s.entity_kind = 'read'"
         f" AND r.id = s.entity_id JOIN assignment a ON a.id = r.assignment_id"
         f" WHERE a.case_id IN ({marks})"
         f" UNION SELECT CAST(s.id AS TEXT) FROM signature_record s JOIN adjudication j"
         f" ON s.entity_kind = 'adjudication' AND j.id = s.entity_id"
         f" WHERE j.case_id IN ({marks})))"),
    ]
    return "(" + " OR ".join(parts) + ")", ids * 7


def _where(f: AuditFilter) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if f.actor is not None:
        clauses.append("actor = ?")
        params.append(f.actor)
    if f.action is not None:
        clauses.append("action = ?")
        params.append(f.action)
    if f.since is not None:
        clauses.append("at >= ?")
        params.append(f.since)
    if f.until is not None:
        clauses.append("at < ?")
        params.append(f.until)
    if f.case_ids is not None:
        if not f.case_ids:
            clauses.append("1 = 0")
        else:
            sql, case_params = _case_clause(f.case_ids)
            clauses.append(sql)
            params.extend(case_params)
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def _record(r: dict[str, Any]) -> AuditRecord:
    return AuditRecord(int(r["seq"]), r["at"], r["actor"], r["action"], r["entity"],
                       r["entity_id"],
                       None if r["before_json"] is None else json.loads(r["before_json"]),
                       None if r["after_json"] is None else json.loads(r["after_json"]),
                       r["prev_hash"], r["hash"])


class AuditLogQuery:
    """Filtered, paged reads of the audit trail inside one unit of work."""

    def __init__(self, uow: Any) -> None:
        self.uow = uow

    def count(self, f: AuditFilter) -> int:
        where, params = _where(f)
        return int(self.uow.scalar("SELECT COUNT(*) FROM audit" + where, params) or 0)

    def page(self, f: AuditFilter, limit: int, offset: int) -> list[AuditRecord]:
        """Matching records, newest first."""
        where, params = _where(f)
        rows = self.uow.rows(
            "SELECT * FROM audit" + where + f" ORDER BY seq DESC LIMIT {int(limit)}"
            f" OFFSET {int(offset)}", params)
        return [_record(r) for r in rows]

    def each(self, f: AuditFilter, batch: int = 5000) -> Iterator[AuditRecord]:
        """Every matching record, oldest first, fetched `batch` at a time by key."""
        where, params = _where(f)
        joiner = " AND " if where else " WHERE "
        last = 0
        while True:
            rows = self.uow.rows(
                "SELECT * FROM audit" + where + joiner + "seq > ?"
                f" ORDER BY seq LIMIT {int(batch)}", [*params, last])
            if not rows:
                return
            for r in rows:
                yield _record(r)
            last = int(rows[-1]["seq"])

    def actions(self) -> list[str]:
        return [str(r[0]) for r in self.uow.tuples(
            "SELECT DISTINCT action FROM audit ORDER BY action")]

    def actors(self) -> list[str]:
        return [str(r[0]) for r in self.uow.tuples(
            "SELECT DISTINCT actor FROM audit ORDER BY actor")]

    def case_ids_for_label(self, label: str) -> list[int]:
        """The case with this label, or the case of the (hidden re-read) assignment with it."""
        return [int(r[0]) for r in self.uow.tuples(
            "SELECT id FROM review_case WHERE label = ?"
            " UNION SELECT case_id FROM assignment WHERE label = ?", (label, label))]
