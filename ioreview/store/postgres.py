"""The PostgreSQL implementation of the store (psycopg 3), for several reading workstations.

The same portable statements as SQLite, with `?` placeholders translated to psycopg's `%s`.
Identity columns and `RETURNING id` give new ids; a transaction-scoped advisory lock around the
audit append keeps the hash chain one line while several workstations write.  Read-only units of
work run as `READ ONLY` transactions.
"""
from __future__ import annotations

import functools
import glob
import os
import re
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .engine import (ADJUDICATION_SIGNED_COLUMNS, PANEL_CASE_DECIDED_COLUMNS,
                     PROTECTED_MESSAGES, DatabaseBusy, ProtectedRecord, SqlBackend,
                     StoreConflict, StoreError, protected_message)

__all__ = ["APPEND_ONLY_TABLES", "PostgresStore", "grants_script", "is_postgres_url"]

#: tables the application role may read and append to, but never change or delete from
APPEND_ONLY_TABLES = ("audit", "audit_seal", "signature_record", "signature", "panel_ballot",
                      "panel_vote", "export_record")

_SIGNED_TABLES = ("read_value", "annotation", "key_image")

#: name -> (table, statement) of the protective triggers (schema 7); the functions they call
#: are created first (`_TRIGGER_FUNCTIONS`)
PROTECTIVE_TRIGGERS: dict[str, tuple[str, str]] = {
    **{f"{t}_append_only": (t, f"CREATE TRIGGER {t}_append_only BEFORE UPDATE OR DELETE ON {t}"
                               f" FOR EACH ROW EXECUTE FUNCTION ioreview_refuse('{w}')")
       for t, w in (("audit", "audit"), ("audit_seal", "audit_seal"),
                    ("signature_record", "signature"), ("signature", "signature"))},
    **{f"{t}_no_truncate": (t, f"CREATE TRIGGER {t}_no_truncate BEFORE TRUNCATE ON {t}"
                               f" FOR EACH STATEMENT EXECUTE FUNCTION ioreview_refuse('{w}')")
       for t, w in (("audit", "audit"), ("audit_seal", "audit_seal"),
                    ("signature_record", "signature"), ("signature", "signature"))},
    **{f"{t}_signed": (t, f"CREATE TRIGGER {t}_signed BEFORE INSERT OR UPDATE OR DELETE ON {t}"
                          " FOR EACH ROW EXECUTE FUNCTION ioreview_refuse_signed_version()")
       for t in _SIGNED_TABLES},
    "review_read_locked": ("review_read", "CREATE TRIGGER review_read_locked BEFORE UPDATE OR"
                           " DELETE ON review_read FOR EACH ROW EXECUTE FUNCTION"
                           " ioreview_refuse_unlock()"),
    # schema 10: signed adjudications, committee votes and decisions, export records
    **{f"{t}_signed": (t, f"CREATE TRIGGER {t}_signed BEFORE INSERT OR UPDATE OR DELETE ON {t}"
                          " FOR EACH ROW EXECUTE FUNCTION ioreview_refuse_signed_decision()")
       for t in ("adjudication", "adjudication_decision", "panel_session", "panel_case",
                 "panel_ballot", "panel_vote", "panel_result", "export_record")},
    **{f"{t}_no_truncate": (t, f"CREATE TRIGGER {t}_no_truncate BEFORE TRUNCATE ON {t}"
                               f" FOR EACH STATEMENT EXECUTE FUNCTION ioreview_refuse('{w}')")
       for t, w in (("panel_ballot", "committee"), ("panel_vote", "committee"),
                    ("export_record", "export"))},
}


def _not_only_superseded(kept: Sequence[str]) -> str:
    """An UPDATE of a superseded row, or of a decided one that does more than mark it
    superseded (status, time) with the `kept` columns as they were."""
    return ("OLD.status = 'superseded' OR (OLD.status = 'decided' AND ("
            "NEW.status <> 'superseded' OR NEW.superseded_at IS NULL"
            f" OR ROW({', '.join('NEW.' + c for c in kept)}) IS DISTINCT FROM"
            f" ROW({', '.join('OLD.' + c for c in kept)})))")

_TRIGGER_FUNCTIONS = (
    """CREATE OR REPLACE FUNCTION ioreview_refuse() RETURNS trigger LANGUAGE plpgsql AS $f$
    BEGIN
        RAISE EXCEPTION '%', CASE TG_ARGV[0]
            WHEN 'audit' THEN '""" + PROTECTED_MESSAGES["audit"] + """'
            WHEN 'audit_seal' THEN '""" + PROTECTED_MESSAGES["audit_seal"] + """'
            WHEN 'committee' THEN '""" + PROTECTED_MESSAGES["committee"] + """'
            WHEN 'export' THEN '""" + PROTECTED_MESSAGES["export"] + """'
            ELSE '""" + PROTECTED_MESSAGES["signature"] + """' END
            USING ERRCODE = 'insufficient_privilege';
    END $f$""",
    """CREATE OR REPLACE FUNCTION ioreview_refuse_signed_version() RETURNS trigger
    LANGUAGE plpgsql AS $f$
    DECLARE r RECORD;
    BEGIN
        IF TG_OP = 'INSERT' THEN r := NEW; ELSE r := OLD; END IF;
        IF EXISTS (SELECT 1 FROM signature_record s WHERE s.entity_kind = 'read'
                   AND s.entity_id = r.read_id AND s.version = r.version) THEN
            RAISE EXCEPTION '""" + PROTECTED_MESSAGES["read_version"] + """'
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        RETURN NEW;
    END $f$""",
    """CREATE OR REPLACE FUNCTION ioreview_refuse_unlock() RETURNS trigger
    LANGUAGE plpgsql AS $f$
    BEGIN
        IF OLD.status = 'submitted' AND (TG_OP = 'DELETE' OR NEW.status <> 'submitted'
                OR NEW.version < OLD.version OR NEW.assignment_id <> OLD.assignment_id
                OR NEW.protocol_version_id <> OLD.protocol_version_id
                OR NEW.submitted_at IS DISTINCT FROM OLD.submitted_at) THEN
            RAISE EXCEPTION '""" + PROTECTED_MESSAGES["locked_read"] + """'
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        RETURN NEW;
    END $f$""",
    # a decided adjudication or committee case may only be marked superseded; decisions of a
    # decided adjudication, ballots, votes, export records and a closed session's results and
    # minutes never change
    """CREATE OR REPLACE FUNCTION ioreview_refuse_signed_decision() RETURNS trigger
    LANGUAGE plpgsql AS $f$
    DECLARE refused text := NULL;
    BEGIN
        IF TG_TABLE_NAME IN ('panel_ballot', 'panel_vote') AND TG_OP <> 'INSERT' THEN
            refused := 'committee';
        ELSIF TG_TABLE_NAME = 'export_record' AND TG_OP <> 'INSERT' THEN
            refused := 'export';
        ELSIF TG_TABLE_NAME = 'adjudication' AND TG_OP = 'DELETE' THEN
            IF OLD.status <> 'pending' THEN refused := 'adjudication'; END IF;
        ELSIF TG_TABLE_NAME = 'adjudication' AND TG_OP = 'UPDATE' THEN
            IF """ + _not_only_superseded(ADJUDICATION_SIGNED_COLUMNS) + """ THEN
                refused := 'adjudication';
            END IF;
        ELSIF TG_TABLE_NAME = 'adjudication_decision' THEN
            IF EXISTS (SELECT 1 FROM adjudication a WHERE a.status <> 'pending' AND a.id =
                       CASE WHEN TG_OP = 'INSERT' THEN NEW.adjudication_id
                            ELSE OLD.adjudication_id END) THEN
                refused := 'adjudication';
            END IF;
        ELSIF TG_TABLE_NAME = 'panel_session' AND TG_OP <> 'INSERT' THEN
            IF OLD.status = 'closed' THEN refused := 'committee'; END IF;
        ELSIF TG_TABLE_NAME = 'panel_result' THEN
            IF EXISTS (SELECT 1 FROM panel_session p WHERE p.status = 'closed' AND p.id =
                       CASE WHEN TG_OP = 'INSERT' THEN NEW.session_id
                            ELSE OLD.session_id END) THEN
                refused := 'committee';
            END IF;
        ELSIF TG_TABLE_NAME = 'panel_case' AND TG_OP = 'DELETE' THEN
            IF OLD.status <> 'open' THEN refused := 'committee'; END IF;
        ELSIF TG_TABLE_NAME = 'panel_case' AND TG_OP = 'UPDATE' THEN
            IF """ + _not_only_superseded(PANEL_CASE_DECIDED_COLUMNS) + """ THEN
                refused := 'committee';
            END IF;
        END IF;
        IF refused IS NOT NULL THEN
            RAISE EXCEPTION '%', CASE refused
                WHEN 'committee' THEN '""" + PROTECTED_MESSAGES["committee"] + """'
                WHEN 'export' THEN '""" + PROTECTED_MESSAGES["export"] + """'
                ELSE '""" + PROTECTED_MESSAGES["adjudication"] + """' END
                USING ERRCODE = 'insufficient_privilege';
        END IF;
        IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
        RETURN NEW;
    END $f$""",
)

_ROLE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


def grants_script(role: str, database: str) -> str:
    """The SQL a database owner runs once to let the application role `role` use the trial
    database `database` without being able to change or delete audit records, the seal or
    signatures (the triggers refuse it too, but the owner of a table can disable triggers: the
    application must not connect as the owner).  ValueError for an unusable role name."""
    if not _ROLE_NAME.match(role or "") or not _ROLE_NAME.match(database or ""):
        raise ValueError("a role or database name is made of letters, digits and '_' and does "
                         "not start with a digit")
    append_only = ", ".join(APPEND_ONLY_TABLES)
    return "\n".join((
        f"-- ioreview: grants of the application role {role} on the trial database "
        f"{database}.",
        "-- Run as the database owner (who also runs `ioreview` once after each upgrade, so",
        "-- migrations apply); workstations connect as the application role.",
        f"REVOKE ALL ON DATABASE {database} FROM PUBLIC;",
        f"GRANT CONNECT, TEMPORARY ON DATABASE {database} TO {role};",
        "REVOKE CREATE ON SCHEMA public FROM PUBLIC;",
        f"GRANT USAGE ON SCHEMA public TO {role};",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role};",
        f"REVOKE UPDATE, DELETE, TRUNCATE ON {append_only} FROM {role};",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role};",
        "",
    ))

#: advisory lock key for the audit chain ("IORV" as an integer)
AUDIT_LOCK_KEY = 0x494F5256


def client_program(name: str) -> Path:
    """A PostgreSQL client program (pg_dump, pg_restore): the newest of Debian's
    /usr/lib/postgresql/*/bin (a newer pg_dump reads older servers), else the one on PATH."""
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
                        key=lambda p: [int(x) for x in re.findall(r"/(\d+)/bin/", p)[:1]])
    if candidates:
        return Path(candidates[-1])
    found = shutil.which(name)
    if found:
        return Path(found)
    raise StoreError(f"{name} was not found: install the PostgreSQL client programs "
                     "(Debian: postgresql-client)")


def is_postgres_url(target: object) -> bool:
    return isinstance(target, str) and target.startswith(("postgresql://", "postgres://"))


@functools.lru_cache(maxsize=1024)
def _translate(sql: str) -> str:
    """`?` placeholders to `%s` (a literal `%` doubled); no statement here quotes a `?`."""
    return sql.replace("%", "%%").replace("?", "%s")


def _redact(url: str) -> str:
    return re.sub(r"//([^:/@]+):[^@]*@", r"//\1:***@", url)


class PostgresStore(SqlBackend):
    """A trial database on a PostgreSQL server, named by a `postgresql://` URL."""

    dialect = "postgresql"

    def __init__(self, url: str, *, migrate: bool = True, connect_timeout_s: int = 10) -> None:
        super().__init__()
        try:
            import psycopg
        except ImportError as exc:  # pragma: no cover - a declared dependency
            raise StoreError("PostgreSQL needs the psycopg package (pip install "
                             "'psycopg[binary]')") from exc
        self._psycopg = psycopg
        self.url = self.target = url
        self.location = _redact(url)
        try:
            self.conn = psycopg.connect(url, autocommit=True, connect_timeout=connect_timeout_s,
                                        application_name="ioreview")
        except psycopg.Error as exc:
            raise StoreError(f"{self.location}: cannot connect to the PostgreSQL server "
                             f"({str(exc).strip()})") from exc
        if migrate:
            self.migrate()

    def close(self) -> None:
        self._close_anchor()
        self.conn.close()

    def _table_exists(self, name: str) -> bool:
        with self._lock:
            return self.conn.execute("SELECT to_regclass(%s) IS NOT NULL",
                                     (name,)).fetchone()[0]

    def _execute(self, sql: str, params: Sequence[Any]) -> Any:
        try:
            return self.conn.execute(_translate(sql), tuple(params))
        except self._psycopg.Error as exc:
            raise self._translate_error(exc) from exc

    def _executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        try:
            with self.conn.cursor() as cur:
                cur.executemany(_translate(sql), rows)
        except self._psycopg.Error as exc:
            raise self._translate_error(exc) from exc

    def _translate_error(self, exc: Exception) -> StoreError:
        errors = self._psycopg.errors
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        protected = protected_message(text)
        if protected is not None:
            return ProtectedRecord(f"{self.location}: refused: {protected}.")
        if isinstance(exc, errors.InsufficientPrivilege):
            return ProtectedRecord(f"{self.location}: refused by the server: {text}.")
        if isinstance(exc, self._psycopg.IntegrityError):
            return StoreConflict(f"{self.location}: the change conflicts with the stored data "
                                 f"({text}); reload and try again")
        if isinstance(exc, (errors.LockNotAvailable, errors.DeadlockDetected,
                            errors.SerializationFailure)):
            return DatabaseBusy(f"{self.location}: the database is busy with another "
                                "workstation's change; try again")
        if isinstance(exc, self._psycopg.OperationalError) or self.conn.closed:
            return StoreError(f"{self.location}: the connection to the server failed ({text}); "
                              "check the server and start ioreview again")
        return StoreError(f"{self.location}: {text}")

    def _begin(self, write: bool) -> None:
        try:
            self.conn.execute("BEGIN" if write else "BEGIN READ ONLY")
        except self._psycopg.OperationalError as exc:
            raise StoreError(f"{self.location}: the connection to the server failed "
                             f"({str(exc).strip()})") from exc

    def _commit(self) -> None:
        try:
            self.conn.execute("COMMIT")
        except self._psycopg.Error as exc:
            raise self._translate_error(exc) from exc

    def _rollback(self) -> None:
        if not self.conn.closed:
            try:
                self.conn.execute("ROLLBACK")
            except self._psycopg.OperationalError:
                pass  # the connection is gone: the server rolled back

    # -- tamper evidence -------------------------------------------------------------------------
    def _protect_records(self, uow: Any) -> None:
        # straight to the connection: the bodies hold '%', which `_translate` would double
        for statement in _TRIGGER_FUNCTIONS:
            self.conn.execute(statement)
        for name, (table, statement) in PROTECTIVE_TRIGGERS.items():
            self.conn.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            self.conn.execute(statement)

    def missing_protections(self) -> list[str]:
        if not self._table_exists("audit_seal"):
            return []
        with self._lock:
            present = {n for (n,) in self.conn.execute(
                "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal AND tgenabled <> 'D'"
            ).fetchall()}
        return sorted(set(PROTECTIVE_TRIGGERS) - present)

    @property
    def database_name(self) -> str:
        with self._lock:
            return str(self.conn.execute("SELECT current_database()").fetchone()[0])

    # -- backup and restore (pg_dump / pg_restore) -----------------------------------------------
    def backup_to(self, path: Path) -> tuple[int, str]:
        """Dump the database into the new file `path` (pg_dump's custom format) from one
        snapshot, and return the audit trail's (length, head) in that snapshot."""
        pg_dump = client_program("pg_dump")
        with self._lock:
            self.conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            try:
                snapshot = self.conn.execute("SELECT pg_export_snapshot()").fetchone()[0]
                last = self.conn.execute(
                    "SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
                done = subprocess.run(
                    [str(pg_dump), "--format=custom", "--no-owner", "--no-privileges",
                     f"--snapshot={snapshot}", f"--file={path}", f"--dbname={self.url}"],
                    capture_output=True, text=True, check=False)
            finally:
                self.conn.execute("COMMIT")
        if done.returncode != 0:
            raise StoreError(f"{self.location}: pg_dump failed: "
                             f"{done.stderr.strip().splitlines()[-1] if done.stderr else ''}")
        os.chmod(path, 0o600)
        return (int(last[0]), last[1]) if last else (0, "0" * 64)

    def restore_from(self, path: Path) -> None:
        """Load a pg_dump file into this (empty) database."""
        pg_restore = client_program("pg_restore")
        done = subprocess.run(
            [str(pg_restore), "--no-owner", "--no-privileges", "--exit-on-error",
             "--single-transaction", f"--dbname={self.url}", str(path)],
            capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise StoreError(f"{self.location}: pg_restore failed: "
                             f"{done.stderr.strip().splitlines()[-1] if done.stderr else ''}")
        self._seal = None

    def is_empty(self) -> bool:
        """No tables in the public schema: a database a trial can be restored into."""
        with self._lock:
            return not self.conn.execute(
                "SELECT 1 FROM pg_tables WHERE schemaname = 'public' LIMIT 1").fetchone()

    def wipe(self) -> None:
        """Remove everything from the public schema (a refused restore leaves it empty)."""
        with self._lock:
            self.conn.execute("DROP SCHEMA public CASCADE")
            self.conn.execute("CREATE SCHEMA public")
        self._seal = None

    def _lock_audit_chain(self, uow: Any) -> None:
        self.conn.execute("SELECT pg_advisory_xact_lock(%s)", (AUDIT_LOCK_KEY,))
