"""What the two backends share: the unit of work, migrations and the audit trail over a DB-API
connection, with the few dialect differences behind `SqlBackend`'s hooks.

Statements are written once, in portable SQL with `?` placeholders and `RETURNING id`; the
PostgreSQL backend translates the placeholders.  A write unit of work takes the backend's write
lock (SQLite: BEGIN IMMEDIATE; PostgreSQL: a transaction-scoped advisory lock around the audit
append), a read-only one takes none.  Nested units of work join the outer one.
"""
from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ioreview.errors import IoreviewError

from .audit import (AuditRecord, PendingAudit, canonical_json, chain, utc_now, verify_rows,
                    GENESIS_HASH)
from .migrations import MIGRATIONS, Migration, render

__all__ = ["DatabaseBusy", "ReadOnlyViolation", "SqlBackend", "StoreConflict", "StoreError",
           "UnitOfWork"]


class StoreError(IoreviewError):
    """A database problem the user can act on (locked, newer schema, corrupt file...)."""


class DatabaseBusy(StoreError):
    """Another process holds the write lock for longer than the busy timeout."""


class StoreConflict(StoreError):
    """A change collides with data written meanwhile (a unique value taken, a row gone)."""


class ReadOnlyViolation(StoreError):
    """A read-only unit of work tried to write (a programming error in a use case)."""


class UnitOfWork:
    """One transaction: the repositories a use case works through, and the audit appender.

    Obtain one from `store.unit_of_work(actor, write=...)`; everything done through it commits
    together, audit records included, or not at all.
    """

    def __init__(self, backend: SqlBackend, actor: str, write: bool) -> None:
        from .adjudications import (AdjudicationRepository, ExportRepository, PanelRepository,
                                    WorkflowRepository)
        from .reads import DiscordanceRepository, ReadRepository, SignatureRepository
        from .repositories import (AssignmentRepository, CaseRepository, DicomRepository,
                                   ProtocolRepository, SessionRepository, UserRepository)

        self.backend = backend
        self.actor = actor
        self.write = write
        self._pending: list[PendingAudit] = []
        self._worklist_changes: list[tuple[int, int]] = []
        self.users = UserRepository(self)
        self.sessions = SessionRepository(self)
        self.protocols = ProtocolRepository(self)
        self.cases = CaseRepository(self)
        self.assignments = AssignmentRepository(self)
        self.reads = ReadRepository(self)
        self.signatures = SignatureRepository(self)
        self.discordance = DiscordanceRepository(self)
        self.dicom = DicomRepository(self)
        self.workflow = WorkflowRepository(self)
        self.adjudications = AdjudicationRepository(self)
        self.panels = PanelRepository(self)
        self.exports = ExportRepository(self)

    # -- statements (store-internal: repositories call these) ------------------------------------
    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self.backend._execute(sql, params)

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        rows = list(rows)
        if rows:
            self.backend._executemany(sql, rows)

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        cur = self.backend._execute(sql, params)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row)) for row in cur.fetchall()]

    def row(self, sql: str, params: Sequence[Any] = ()) -> dict[str, Any] | None:
        rows = self.rows(sql, params)
        return rows[0] if rows else None

    def tuples(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in self.backend._execute(sql, params).fetchall()]

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        row = self.backend._execute(sql, params).fetchone()
        return row[0] if row else None

    def insert(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run an INSERT and return the new row's id (`RETURNING id`, identity columns)."""
        if not self.write:
            raise ReadOnlyViolation("a read-only unit of work cannot insert")
        return int(self.backend._execute(sql + " RETURNING id", params).fetchone()[0])

    # -- audit -------------------------------------------------------------------------------------
    def audit(self, action: str, entity: str, entity_id: Any, before: Any = None,
              after: Any = None) -> None:
        """Queue an audit record; it is chained and written just before the commit."""
        if not self.write:
            raise ReadOnlyViolation(f"audit {action} {entity}: the unit of work is read-only")
        self._pending.append(PendingAudit(
            self.actor, action, entity, str(entity_id),
            None if before is None else canonical_json(before),
            None if after is None else canonical_json(after)))

    def note_worklist_change(self, reader_id: int, assignment_id: int) -> None:
        if not self.write:
            raise ReadOnlyViolation("a read-only unit of work cannot change a worklist")
        self._worklist_changes.append((reader_id, assignment_id))

    def _flush_audit(self) -> None:
        """Append the queued audit records (and worklist changes) under the append lock."""
        if not self._pending and not self._worklist_changes:
            return
        self.backend._lock_audit_chain(self)
        self.executemany("INSERT INTO worklist_change (reader_id, assignment_id) VALUES (?,?)",
                         list(dict.fromkeys(self._worklist_changes)))
        self._worklist_changes.clear()
        if not self._pending:
            return
        prev = self.scalar("SELECT hash FROM audit ORDER BY seq DESC LIMIT 1") or GENESIS_HASH
        self.executemany(
            "INSERT INTO audit (at, actor, action, entity, entity_id, before_json, after_json,"
            " prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?)",
            chain(prev, utc_now(), self._pending))
        self._pending.clear()


class SqlBackend(ABC):
    """A trial database: units of work, migrations and the audit trail."""

    dialect: str = "sqlite"
    #: a short description for messages ("/path/trial.sqlite", "postgresql://host/db")
    location: str = ""
    #: what `open_store` opens this database from again (a path, or the URL itself)
    target: str = ""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._current: UnitOfWork | None = None

    # -- backend hooks --------------------------------------------------------------------------
    @abstractmethod
    def _execute(self, sql: str, params: Sequence[Any]) -> Any: ...

    @abstractmethod
    def _executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...

    @abstractmethod
    def _begin(self, write: bool) -> None: ...

    @abstractmethod
    def _commit(self) -> None: ...

    @abstractmethod
    def _rollback(self) -> None: ...

    def _lock_audit_chain(self, uow: UnitOfWork) -> None:
        """Serialise audit appends (nothing to do where a write transaction is exclusive)."""

    @abstractmethod
    def close(self) -> None: ...

    @abstractmethod
    def _table_exists(self, name: str) -> bool: ...

    @property
    def default_archive_root(self) -> Path | None:
        """Where case files are archived when no archive root is configured (None: required)."""
        return None

    # -- the trial key (outside the database; `trial_key.py`) -----------------------------------
    @property
    def key_path(self) -> Path | None:
        """The trial key file (None for a database in memory: a key for this process)."""
        from .trial_key import sidecar_paths

        return None if self.target == ":memory:" else sidecar_paths(self.target,
                                                                    self.location)[0]

    @property
    def anchor_path(self) -> Path | None:
        """The anchor journal of the audit chain's head, outside the database."""
        from .trial_key import sidecar_paths

        return None if self.target == ":memory:" else sidecar_paths(self.target,
                                                                    self.location)[1]

    @property
    def trial_key(self) -> bytes:
        """The per-trial secret key (created, 0600, the first time it is needed)."""
        key = getattr(self, "_trial_key", None)
        if key is None:
            import secrets

            from .trial_key import load_or_create_key

            path = self.key_path
            key = secrets.token_bytes(32) if path is None else load_or_create_key(path)
            self._trial_key = key
        return key

    def keyed_digest(self, purpose: str, text: str) -> str:
        """HMAC-SHA256 (hex) of `text` under the trial key's sub-key for `purpose`."""
        from .trial_key import keyed_digest

        return keyed_digest(self.trial_key, purpose, text)

    def __enter__(self) -> SqlBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- units of work --------------------------------------------------------------------------
    @contextmanager
    def unit_of_work(self, actor: str, *, write: bool = True) -> Iterator[UnitOfWork]:
        """One transaction as `actor`.  `write=False` takes no write lock and refuses writes
        through the audit appender; a unit of work opened inside another joins it (a write
        inside a read-only one is refused)."""
        with self._lock:
            outer = self._current
            if outer is not None:
                if write and not outer.write:
                    raise ReadOnlyViolation("a write unit of work cannot join a read-only one")
                saved_actor = outer.actor
                outer.actor = actor if write else outer.actor
                try:
                    yield outer
                finally:
                    outer.actor = saved_actor
                return
            uow = UnitOfWork(self, actor, write)
            self._begin(write)
            self._current = uow
            try:
                yield uow
                if write:
                    uow._flush_audit()
            except BaseException:
                self._current = None
                self._rollback()
                raise
            else:
                self._current = None
                self._commit()

    def atomic(self, actor: str) -> Any:
        """A write unit of work (the name the import code and older tests use)."""
        return self.unit_of_work(actor, write=True)

    # -- schema ---------------------------------------------------------------------------------
    def schema_version(self) -> int:
        if not self._table_exists("schema_migrations"):
            return 0
        with self.unit_of_work("system", write=False) as uow:
            return int(uow.scalar("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"))

    def migrate(self, migrations: tuple[Migration, ...] = MIGRATIONS) -> list[int]:
        """Apply pending migrations; safe to call again, and from two processes at once."""
        newest = max(m.version for m in migrations)
        current = self.schema_version()
        self._refuse_newer(current, newest)
        if current == newest:
            return []
        applied = []
        with self.unit_of_work("system") as uow:
            uow.execute(render("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER"
                               " PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)",
                               self.dialect))
        for m in sorted(migrations, key=lambda m: m.version):
            with self.unit_of_work("system") as uow:
                self._lock_audit_chain(uow)
                # another process may have migrated meanwhile
                current = int(uow.scalar(
                    "SELECT COALESCE(MAX(version), 0) FROM schema_migrations"))
                self._refuse_newer(current, newest)
                if m.version <= current:
                    continue
                for stmt in m.statements:
                    uow.execute(render(stmt, self.dialect))
                uow.execute("INSERT INTO schema_migrations (version, name, applied_at)"
                            " VALUES (?,?,?)", (m.version, m.name, utc_now()))
                uow.audit("migrate", "schema", m.version, after={"name": m.name})
            applied.append(m.version)
        return applied

    def _refuse_newer(self, current: int, newest: int) -> None:
        if current > newest:
            raise StoreError(
                f"{self.location}: database schema version {current} is newer than this "
                f"ioreview ({newest}); update ioreview before opening it")

    # -- audit ----------------------------------------------------------------------------------
    def audit_records(self, entity: str | None = None, entity_id: Any = None,
                      limit: int | None = None) -> list[AuditRecord]:
        import json

        sql = "SELECT * FROM audit"
        where: list[str] = []
        params: list[Any] = []
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
        with self.unit_of_work("system", write=False) as uow:
            rows = uow.rows(sql, params)
        return [
            AuditRecord(int(r["seq"]), r["at"], r["actor"], r["action"], r["entity"],
                        r["entity_id"],
                        None if r["before_json"] is None else json.loads(r["before_json"]),
                        None if r["after_json"] is None else json.loads(r["after_json"]),
                        r["prev_hash"], r["hash"])
            for r in rows
        ]

    def audit_count(self) -> int:
        with self.unit_of_work("system", write=False) as uow:
            return int(uow.scalar("SELECT COUNT(*) FROM audit"))

    def audit_head(self) -> str:
        """The hash of the newest audit record (the chain's head)."""
        with self.unit_of_work("system", write=False) as uow:
            return uow.scalar("SELECT hash FROM audit ORDER BY seq DESC LIMIT 1") or GENESIS_HASH

    def verify_audit_chain(self) -> list[str]:
        """Recompute the chain; return a list of problems (empty when intact)."""
        with self.unit_of_work("system", write=False) as uow:
            rows = uow.tuples(
                "SELECT seq, at, actor, action, entity, entity_id, before_json, after_json,"
                " prev_hash, hash FROM audit ORDER BY seq")
        return verify_rows(rows)
