"""The audit chain: append-only records, each hash covering its content and the previous hash.

21 CFR Part 11 style tamper evidence.  Appending reads the last hash and inserts after it, so the
caller must hold the backend's append lock (SQLite: the single write lock of BEGIN IMMEDIATE;
PostgreSQL: a transaction-scoped advisory lock) for the chain to stay one line under
concurrent writers.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

GENESIS_HASH = "0" * 64


def utc_now() -> str:
    """ISO 8601 UTC timestamp with microseconds: sortable text, portable across backends."""
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def canonical_json(value: Any) -> str:
    """The one canonical JSON text used for audit payloads and signed content."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=str)


def audit_hash(prev_hash: str, at: str, actor: str, action: str, entity: str,
               entity_id: str, before: str | None, after: str | None) -> str:
    """Hash of one audit record chained to the previous one."""
    h = hashlib.sha256()
    for part in (prev_hash, at, actor, action, entity, entity_id, before or "", after or ""):
        h.update(part.encode("utf-8"))
        h.update(b"\x1f")
    return h.hexdigest()


@dataclass(frozen=True)
class AuditRecord:
    seq: int
    at: str
    actor: str
    action: str
    entity: str
    entity_id: str
    before: Any
    after: Any
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class PendingAudit:
    actor: str
    action: str
    entity: str
    entity_id: str
    before: str | None
    after: str | None


def chain(prev: str, at: str, pending: list[PendingAudit]) -> list[tuple[Any, ...]]:
    """Rows (at, actor, action, entity, entity_id, before, after, prev_hash, hash) for the
    pending records, chained after `prev`."""
    rows = []
    for p in pending:
        h = audit_hash(prev, at, p.actor, p.action, p.entity, p.entity_id, p.before, p.after)
        rows.append((at, p.actor, p.action, p.entity, p.entity_id, p.before, p.after, prev, h))
        prev = h
    return rows


def verify_rows(rows: Any) -> list[str]:
    """Problems found recomputing the chain over (seq, at, actor, action, entity, entity_id,
    before, after, prev_hash, hash) rows in seq order (empty when intact)."""
    problems = []
    prev = GENESIS_HASH
    for seq, at, actor, action, entity, eid, before, after, prev_hash, h in rows:
        if prev_hash != prev:
            problems.append(f"audit record {seq}: previous-hash link broken")
        if audit_hash(prev_hash, at, actor, action, entity, eid, before, after) != h:
            problems.append(f"audit record {seq}: content does not match its hash")
        prev = h
    return problems
