"""The SQLite connection, transactions and the audit trail.

One SQLite file, opened through sqlite-utils, in WAL mode with foreign keys on.  Every write
happens inside `Store.atomic()` and appends audit records in the same transaction, so a write
without its audit record cannot be committed.  Audit records form a hash chain: each record's
hash covers its content and the previous record's hash (21 CFR Part 11 style tamper evidence).
"""
from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import sqlite_utils

from ioreview.errors import IoreviewError

from .schema import MIGRATIONS, Migration

GENESIS_HASH = "0" * 64


class StoreError(IoreviewError):
    """A database problem the user can act on (locked, newer schema, corrupt file...)."""


class DatabaseBusy(StoreError):
    """Another process holds the write lock for longer than the busy timeout."""


def utc_now() -> str:
    """ISO 8601 UTC timestamp with microseconds: sortable text, portable across backends."""
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


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


class Transaction:
    """The handle a use case writes through: the connection plus the audit appender."""

    def __init__(self, store: Store, actor: str) -> None:
        self.store = store
        self.actor = actor
        self.conn: sqlite3.Connection = store.conn
        self._pending: list[tuple[str, str, str, str | None, str | None]] = []

    def execute(self, sql: str, params: Any = ()) -> sqlite3.Cursor:
        return self.conn.execute(sql, params)

    def executemany(self, sql: str, rows: Any) -> sqlite3.Cursor:
        return self.conn.executemany(sql, rows)

    def audit(self, action: str, entity: str, entity_id: Any, before: Any = None,
              after: Any = None) -> None:
        """Queue an audit record; it is written (chained) before the transaction commits."""
        self._pending.append((
            action, entity, str(entity_id),
            None if before is None else _canonical(before),
            None if after is None else _canonical(after),
        ))

    def _flush_audit(self) -> None:
        if not self._pending:
            return
        row = self.conn.execute("SELECT hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
        prev = row[0] if row else GENESIS_HASH
        at = utc_now()
        rows = []
        for action, entity, entity_id, before, after in self._pending:
            h = audit_hash(prev, at, self.actor, action, entity, entity_id, before, after)
            rows.append((at, self.actor, action, entity, entity_id, before, after, prev, h))
            prev = h
        self.conn.executemany(
            "INSERT INTO audit (at, actor, action, entity, entity_id, before_json, after_json,"
            " prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?)",
            rows,
        )
        self._pending.clear()


class Store:
    """The study store: one SQLite file (WAL, foreign keys on, busy timeout)."""

    def __init__(self, path: str | Path, *, busy_timeout_ms: int = 10_000,
                 migrate: bool = True) -> None:
        self.path = Path(path)
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False,
                                   timeout=busy_timeout_ms / 1000)
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            if str(path) != ":memory:":
                conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{path}: not a usable ioreview database ({exc})") from exc
        self.conn = conn
        self.db = sqlite_utils.Database(conn)
        self._lock = threading.RLock()
        self._depth = 0
        if migrate:
            self.migrate()

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- transactions ---------------------------------------------------------------------
    @contextmanager
    def atomic(self, actor: str) -> Iterator[Transaction]:
        """One write transaction (BEGIN IMMEDIATE) with its audit records; nested calls join."""
        with self._lock:
            tx = Transaction(self, actor)
            if self._depth:
                self._depth += 1
                try:
                    yield tx
                    tx._flush_audit()
                finally:
                    self._depth -= 1
                return
            try:
                self.conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                if "locked" in str(exc) or "busy" in str(exc):
                    raise DatabaseBusy(
                        f"{self.path}: another process is writing to this database; "
                        "try again in a moment") from exc
                raise
            self._depth = 1
            try:
                yield tx
                tx._flush_audit()
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            else:
                self.conn.execute("COMMIT")
            finally:
                self._depth = 0

    # -- reading ----------------------------------------------------------------------------
    def query(self, sql: str, params: Any = ()) -> list[dict[str, Any]]:
        cur = self.conn.execute(sql, params)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row)) for row in cur.fetchall()]

    def scalar(self, sql: str, params: Any = ()) -> Any:
        row = self.conn.execute(sql, params).fetchone()
        return row[0] if row else None

    # -- schema -------------------------------------------------------------------------------
    def schema_version(self) -> int:
        if not self.db["schema_migrations"].exists():
            return 0
        return int(self.scalar("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"))

    def migrate(self, migrations: tuple[Migration, ...] = MIGRATIONS) -> list[int]:
        """Apply pending migrations; safe to call again (already-applied ones are skipped and
        each migration's statements are themselves idempotent)."""
        newest = max(m.version for m in migrations)
        self.conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY,"
            " name TEXT NOT NULL, applied_at TEXT NOT NULL)")
        current = self.schema_version()
        if current > newest:
            raise StoreError(
                f"{self.path}: database schema version {current} is newer than this ioreview "
                f"({newest}); update ioreview before opening it")
        applied = []
        for m in sorted(migrations, key=lambda m: m.version):
            if m.version <= current:
                continue
            with self.atomic("system") as tx:
                for stmt in m.statements:
                    tx.execute(stmt)
                tx.execute("INSERT INTO schema_migrations (version, name, applied_at)"
                           " VALUES (?,?,?)", (m.version, m.name, utc_now()))
                tx.audit("migrate", "schema", m.version, after={"name": m.name})
            applied.append(m.version)
        return applied

    # -- audit ----------------------------------------------------------------------------------
    def audit_records(self, entity: str | None = None, entity_id: Any = None,
                      limit: int | None = None) -> list[AuditRecord]:
        sql = "SELECT * FROM audit"
        where, params = [], []
        if entity is not None:
            where.append("entity = ?")
            params.append(entity)
        if entity_id is not None:
            where.append("entity_id = ?")
            params.append(str(entity_id))
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY seq"
        if limit:
            sql += f" LIMIT {int(limit)}"
        return [
            AuditRecord(r["seq"], r["at"], r["actor"], r["action"], r["entity"], r["entity_id"],
                        None if r["before_json"] is None else json.loads(r["before_json"]),
                        None if r["after_json"] is None else json.loads(r["after_json"]),
                        r["prev_hash"], r["hash"])
            for r in self.query(sql, params)
        ]

    def audit_count(self) -> int:
        return int(self.scalar("SELECT COUNT(*) FROM audit"))

    def verify_audit_chain(self) -> list[str]:
        """Recompute the chain; return a list of problems (empty when intact)."""
        problems = []
        prev = GENESIS_HASH
        cur = self.conn.execute(
            "SELECT seq, at, actor, action, entity, entity_id, before_json, after_json,"
            " prev_hash, hash FROM audit ORDER BY seq")
        for seq, at, actor, action, entity, eid, before, after, prev_hash, h in cur:
            if prev_hash != prev:
                problems.append(f"audit record {seq}: previous-hash link broken")
            if audit_hash(prev_hash, at, actor, action, entity, eid, before, after) != h:
                problems.append(f"audit record {seq}: content does not match its hash")
            prev = h
        return problems


def row_values(mapping: Mapping[str, Any], columns: tuple[str, ...]) -> tuple[Any, ...]:
    return tuple(mapping.get(c) for c in columns)
