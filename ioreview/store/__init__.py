"""The only package that knows SQL: the storage port, its SQLite and PostgreSQL
implementations, migrations and the audit chain."""
from __future__ import annotations

from pathlib import Path

from .audit import AuditRecord, utc_now
from .engine import DatabaseBusy, ReadOnlyViolation, StoreConflict, StoreError, UnitOfWork
from .port import TrialStore
from .postgres import PostgresStore, is_postgres_url
from .sqlite import SQLiteStore

__all__ = ["AuditRecord", "DatabaseBusy", "PostgresStore", "ReadOnlyViolation", "SQLiteStore",
           "StoreConflict", "StoreError", "TrialStore", "UnitOfWork", "is_postgres_url",
           "open_store", "utc_now"]


def open_store(target: str | Path, *, migrate: bool = True) -> SQLiteStore | PostgresStore:
    """Open (creating and migrating if needed) the trial database named by `target`: a
    `postgresql://user@host:port/name` URL, or the path of a SQLite file."""
    if is_postgres_url(target):
        return PostgresStore(str(target), migrate=migrate)
    return SQLiteStore(target, migrate=migrate)
