"""What the two backends share: the unit of work, migrations and the audit trail over a DB-API
connection, with the few dialect differences behind `SqlBackend`'s hooks.

Statements are written once, in portable SQL with `?` placeholders and `RETURNING id`; the
PostgreSQL backend translates the placeholders.  A write unit of work takes the backend's write
lock (SQLite: BEGIN IMMEDIATE; PostgreSQL: a transaction-scoped advisory lock around the audit
append), a read-only one takes none.  Nested units of work join the outer one.

Tamper evidence (see `audit.py`): schema 7 seals the audit chain under the trial key and adds
the triggers that refuse changing the trail, signatures and signed reads (each backend's
`_protect_records`); from the seal on, audit records are keyed and every commit that appended
some is anchored in the journal beside the key; `verify_chain` checks all of it.
"""
from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ioreview.errors import IoreviewError

from .trial_key import TrialKeyError, key_id, load_key, load_or_create_key

from .audit import (GENESIS_HASH, SEAL_ACTION, Anchor, AuditRecord, ChainProblem,
                    AnchorJournal, PendingAudit, canonical_json, chain, check_anchors,
                    locate_rewrite, read_anchor, utc_now, verify_rows)
from .migrations import KEYED_AUDIT, MIGRATIONS, SIGNED_DECISIONS, Migration, render

__all__ = ["DatabaseBusy", "ProtectedRecord", "ReadOnlyViolation", "SqlBackend",
           "StoreConflict", "StoreError", "UnitOfWork"]

_log = logging.getLogger(__name__)

#: what the protective triggers say when they refuse a change (both backends)
#: (no apostrophes: the messages are quoted inside trigger bodies)
PROTECTED_MESSAGES = {
    "audit": "audit records cannot be changed or deleted: the audit trail is append-only",
    "audit_seal": "the seal of the audit trail cannot be changed or deleted",
    "signature": "electronic signatures cannot be changed or deleted",
    "read_version": "a signed read version cannot be changed: amend the read instead",
    "locked_read": "a signed, locked read cannot be unlocked or deleted: amend it instead",
    "adjudication": "a signed adjudication cannot be changed or deleted; an amended read "
                    "supersedes it",
    "committee": "signed committee votes, and the decisions and minutes of a closed session, "
                 "cannot be changed or deleted",
    "export": "export records cannot be changed or deleted",
}

#: what a decided adjudication and a decided committee case keep when they are superseded
ADJUDICATION_SIGNED_COLUMNS = ("case_id", "evaluation_id", "adjudicator_id", "seed",
                               "letters_json", "items_json", "annotations_json", "created_at",
                               "decided_at")
PANEL_CASE_DECIDED_COLUMNS = ("session_id", "case_id", "evaluation_id", "seed", "letters_json",
                              "items_json")


class StoreError(IoreviewError):
    """A database problem the user can act on (locked, newer schema, corrupt file...)."""


class DatabaseBusy(StoreError):
    """Another process holds the write lock for longer than the busy timeout."""


class StoreConflict(StoreError):
    """A change collides with data written meanwhile (a unique value taken, a row gone)."""


class ReadOnlyViolation(StoreError):
    """A read-only unit of work tried to write (a programming error in a use case)."""


class ProtectedRecord(StoreError):
    """The database refused to change or delete a protected record (an audit record, a
    signature, a signed read version): those are append-only."""


def protected_message(text: str) -> str | None:
    """The protective trigger's message inside a driver's error text, if it is one."""
    for message in PROTECTED_MESSAGES.values():
        if message in text:
            return message
    return None


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
        #: (last seq, head, time) of the audit records this unit of work appended
        self._appended: tuple[int, str, str] | None = None
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
        from .repositories import ReaderCopyRepository
        self.reader_copies = ReaderCopyRepository(self)

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

    def _flush_audit(self, *, sealing: bool = False) -> None:
        """Append the queued audit records (and worklist changes) under the append lock, keyed
        with the trial key once the chain is sealed (`sealing`: the migration that seals it
        writes its own record first, unkeyed)."""
        if not self._pending and not self._worklist_changes:
            return
        self.backend._lock_audit_chain(self)
        self.executemany("INSERT INTO worklist_change (reader_id, assignment_id) VALUES (?,?)",
                         list(dict.fromkeys(self._worklist_changes)))
        self._worklist_changes.clear()
        if not self._pending:
            return
        key = None if sealing else self.backend._chain_key(self)
        last = self.tuples("SELECT seq, hash, at FROM audit ORDER BY seq DESC LIMIT 1")
        seq, prev = (int(last[0][0]), last[0][1]) if last else (0, GENESIS_HASH)
        # never before the previous record: workstations' clocks differ a little, and a clock
        # stepped back must not look like a record moved in time
        at = max(utc_now(), last[0][2]) if last else utc_now()
        rows = chain(prev, at, self._pending, key=key, next_seq=seq + 1)
        self.executemany(
            "INSERT INTO audit (seq, at, actor, action, entity, entity_id, before_json,"
            " after_json, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?,?)", rows)
        self._pending.clear()
        self._appended = (int(rows[-1][0]), rows[-1][-1], at)


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
        #: (key id, seal's seq) once this database is known to be sealed
        self._seal: tuple[str, int] | None = None

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
        """The per-trial secret key: created (0600) the first time it is needed by a database
        not sealed yet; for a sealed one it must be the key whose fingerprint the seal holds
        (TrialKeyError names the file otherwise)."""
        key = getattr(self, "_trial_key", None)
        if key is None:
            import secrets

            path = self.key_path
            recorded = self.recorded_key_id()
            if path is None:
                key = secrets.token_bytes(32)
            elif recorded is None:
                key = load_or_create_key(path)
            else:
                key = load_key(path)
                if key is None:
                    raise TrialKeyError(
                        f"{self.location}: the trial key is missing: this database was sealed "
                        f"with key {recorded} and {path} does not exist. Put the trial's key "
                        "file there (a copy of the one kept with the original database"
                        + (", or name it with IOREVIEW_KEY_FILE" if self.dialect != "sqlite"
                           else "") + "); without it the audit trail cannot be verified or "
                        "extended.")
            if recorded is not None and key_id(key) != recorded:
                raise TrialKeyError(
                    f"{self.location}: {path} holds key {key_id(key)}, but this database was "
                    f"sealed with key {recorded}: use the trial's own key file.")
            self._trial_key = key
        return key

    def recorded_key_id(self) -> str | None:
        """The fingerprint of the key this database was sealed with (None: not sealed)."""
        seal = self.seal_state()
        return None if seal is None else seal[0]

    def seal_state(self) -> tuple[str, int] | None:
        """(key fingerprint, sequence number of the seal record), or None when unsealed."""
        if self._seal is None and self._table_exists("audit_seal"):
            with self._lock:
                rows = self._execute("SELECT key_id, sealed_seq FROM audit_seal", ()).fetchall()
            if len(rows) == 1:
                self._seal = (rows[0][0], int(rows[0][1]))
        return self._seal

    def _chain_key(self, uow: UnitOfWork) -> bytes | None:
        """The key of new audit records: the trial key once sealed; refused when the schema has
        a seal table but the seal is gone (the trail was tampered with)."""
        if self.seal_state() is not None:
            return self.trial_key
        if self._table_exists("audit_seal"):
            raise StoreError(
                f"{self.location}: the audit trail's seal is missing (removed behind the "
                "application's back); nothing more is recorded. Run `ioreview audit verify` "
                "and restore the database from a backup.")
        return None

    def _seal_chain(self, uow: UnitOfWork) -> None:
        """Seal the chain under the trial key (inside the migration that adds the seal): verify
        the plain chain so far, record the key's fingerprint and append the seal record."""
        rows = uow.tuples("SELECT seq, at, actor, action, entity, entity_id, before_json,"
                          " after_json, prev_hash, hash FROM audit ORDER BY seq")
        problems = verify_rows(rows)
        length, head = (int(rows[-1][0]), rows[-1][-1]) if rows else (0, GENESIS_HASH)
        kid = key_id(self.trial_key)
        journal = self.anchor_path
        if journal is not None and journal.exists():
            # anchors are written from the seal on: this journal is another database's that
            # lived at this path before (a rebuilt demo, a file replaced); keep it aside
            aside = journal.with_name(f"{journal.name}.replaced-{utc_now()[:19]}")
            journal.rename(aside)
            _log.warning("%s: a new audit trail starts; the earlier anchor journal was moved "
                         "to %s", self.location, aside)
        uow.execute("INSERT INTO audit_seal (key_id, sealed_seq, sealed_at) VALUES (?,?,?)",
                    (kid, length + 1, utc_now()))
        uow.audit(SEAL_ACTION, "audit", kid,
                  after={"key_id": kid, "prefix_length": length, "prefix_head": head,
                         "prefix_problems": [p.message for p in problems]})

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
                if uow._appended is not None and self._seal is not None:
                    self._write_anchor(*uow._appended)

    def _write_anchor(self, seq: int, head: str, at: str) -> None:
        """Anchor the committed head outside the database (best effort: the commit stands)."""
        path = self.anchor_path
        if path is None:
            return
        journal = getattr(self, "_journal", None)
        if journal is None or journal.path != path:
            journal = self._journal = AnchorJournal(path)
        try:
            journal.append(seq, head, at)
        except OSError as exc:
            _log.warning("%s: cannot append to the audit anchor journal %s (%s)",
                         self.location, path, exc)

    def _close_anchor(self) -> None:
        journal = getattr(self, "_journal", None)
        if journal is not None:
            try:
                journal.close()
            except OSError as exc:
                _log.warning("%s: cannot sync the audit anchor journal (%s)", self.location, exc)
            self._journal = None

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
        """Apply pending migrations; safe to call again, and from two processes at once.  A
        sealed database then needs its trial key: TrialKeyError names the file when it is
        missing or another trial's."""
        applied = self._apply_migrations(migrations)
        if self.seal_state() is not None:
            self.trial_key  # noqa: B018 - loads and checks the key
        return applied

    def _apply_migrations(self, migrations: tuple[Migration, ...]) -> list[int]:
        newest = max(m.version for m in migrations)
        current = self.schema_version()
        self._refuse_newer(current, newest)
        if current == newest and self._applied_versions() >= {m.version for m in migrations}:
            return []
        applied = []
        # one transaction for every pending migration: a new database is created whole or
        # not at all, with one durable commit instead of one per migration (~10 ms each)
        with self.unit_of_work("system") as uow:
            uow.execute(render("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER"
                               " PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)",
                               self.dialect))
            self._lock_audit_chain(uow)
            # another process may have migrated meanwhile
            current = int(uow.scalar("SELECT COALESCE(MAX(version), 0) FROM schema_migrations"))
            self._refuse_newer(current, newest)
            done = {int(v) for (v,) in uow.tuples("SELECT version FROM schema_migrations")}
            for m in sorted(migrations, key=lambda m: m.version):
                # every missing version applies, also one numbered below the newest applied
                # (a migration that landed after a later-numbered one in development)
                if m.version in done:
                    continue
                for stmt in m.statements:
                    uow.execute(render(stmt, self.dialect))
                uow.execute("INSERT INTO schema_migrations (version, name, applied_at)"
                            " VALUES (?,?,?)", (m.version, m.name, utc_now()))
                uow.audit("migrate", "schema", m.version, after={"name": m.name})
                if m.version == KEYED_AUDIT.version:
                    self._protect_records(uow)
                    uow._flush_audit(sealing=True)
                    self._seal_chain(uow)
                elif m.version == SIGNED_DECISIONS.version and \
                        (KEYED_AUDIT.version in done or KEYED_AUDIT.version in applied):
                    # (without schema 7 yet, its migration protects everything when it applies)
                    self._protect_records(uow)
                applied.append(m.version)
        return applied

    def _applied_versions(self) -> set[int]:
        if not self._table_exists("schema_migrations"):
            return set()
        with self.unit_of_work("system", write=False) as uow:
            return {int(v) for (v,) in uow.tuples("SELECT version FROM schema_migrations")}

    def _protect_records(self, uow: UnitOfWork) -> None:
        """Create the triggers that refuse UPDATE and DELETE of audit records, the seal,
        signatures and signed read versions (dialect-specific; `PROTECTED_MESSAGES`)."""
        raise NotImplementedError

    def missing_protections(self) -> list[str]:
        """The protective triggers that are not in the database (removed behind its back)."""
        return []

    def relocate_paths(self, old_prefix: str, new_prefix: str) -> int:
        """Point archived files' paths under `old_prefix` to `new_prefix` (a trial restored
        with its archive somewhere else); audited; returns how many paths changed."""
        if old_prefix == new_prefix:
            return 0
        n = 0
        with self.unit_of_work("system") as uow:
            for table in ("instance", "reader_copy"):
                if not self._table_exists(table):
                    continue
                n += uow.execute(
                    f"UPDATE {table} SET path = ? || substr(path, ?)"
                    " WHERE substr(path, 1, ?) = ?",
                    (new_prefix, len(old_prefix) + 1, len(old_prefix), old_prefix)).rowcount
            uow.audit("relocate", "archive", new_prefix,
                      before={"archive": old_prefix}, after={"archive": new_prefix,
                                                            "paths": n})
        return n

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
        return self.audit_anchor()[1]

    def audit_anchor(self) -> tuple[int, str]:
        """(length, head): the newest audit record's sequence number and hash, read together
        (what export manifests and backups record as their anchor)."""
        with self.unit_of_work("system", write=False) as uow:
            last = uow.tuples("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")
        return (int(last[0][0]), last[0][1]) if last else (0, GENESIS_HASH)

    def verify_chain(self, anchors: Sequence[Anchor] = ()) -> list[ChainProblem]:
        """Walk the chain with the trial key, check the seal, and compare the chain with the
        anchor journal and the given `anchors` (export manifests, backups); every problem names
        its record.  TrialKeyError when the key is missing or wrong."""
        with self.unit_of_work("system", write=False) as uow:
            rows = uow.tuples(
                "SELECT seq, at, actor, action, entity, entity_id, before_json, after_json,"
                " prev_hash, hash FROM audit ORDER BY seq")
        problems: list[ChainProblem] = []
        seal = self.seal_state()
        if seal is None:
            if self._table_exists("audit_seal"):
                problems.append(ChainProblem(0, (
                    "the audit trail's seal (the trial key's fingerprint) was removed from the "
                    "database: the trail cannot be authenticated")))
            problems += verify_rows(rows)
        else:
            kid, sealed_seq = seal
            key = self.trial_key
            problems += self._check_seal_record(rows, kid, sealed_seq)
            walk = verify_rows(rows, key, sealed_seq)
            problems += walk
        heads = {int(r[0]): r[-1] for r in rows}
        length = int(rows[-1][0]) if rows else 0
        journal: list[Anchor] = []
        if self.anchor_path is not None:
            journal, bad = read_anchor(self.anchor_path)
            problems += [ChainProblem(0, f"the anchor journal has an unreadable line: {b}",
                                      "anchor") for b in bad]
            if not journal and length and seal is not None:
                problems.append(ChainProblem(0, (
                    f"the anchor journal {self.anchor_path} is missing or empty, so deleted "
                    "records at the end of the trail could not be seen; keep the journal "
                    "beside the trial key"), "anchor"))
        problems += check_anchors([*journal, *anchors], heads, length)
        if seal is not None and any(p.kind == "chain" and p.seq >= seal[1] for p in problems):
            located = locate_rewrite(rows, self.trial_key, seal[1], [*journal, *anchors])
            if located is not None:
                problems.append(located)
        return problems

    @staticmethod
    def _check_seal_record(rows: Sequence[Sequence[Any]], kid: str,
                           sealed_seq: int) -> list[ChainProblem]:
        """The seal record must be where the seal table says (its MAC is checked with the rest;
        problems of the plain prefix found at sealing are found again by the walk)."""
        row = next((r for r in rows if int(r[0]) == sealed_seq), None)
        if row is None or row[3] != SEAL_ACTION or row[5] != kid:
            return [ChainProblem(sealed_seq, (
                f"audit record {sealed_seq} should be the seal under the trial key {kid}, but "
                + ("it is missing" if row is None else f"it is '{row[3]} {row[4]} {row[5]}'")
                + ": the seal was moved or removed"))]
        return []

    def verify_audit_chain(self) -> list[str]:
        """Recompute the chain (keyed, with the seal and the anchors); the problems as
        sentences (empty when intact)."""
        return [p.message for p in self.verify_chain()]
