"""The storage port: what the service layer may ask of a trial database.

`TrialStore` is implemented by `SQLiteStore` (one file) and `PostgresStore` (a server); both
pass the same contract tests (tests/test_store_contract.py).  A use case opens one
`UnitOfWork`, works through its repositories (users, sessions, protocols, cases, assignments,
reads, signatures, discordance, dicom), which return the frozen records of
`ioreview.store.records`, and queues audit records that commit with it.
"""
from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from .audit import AuditRecord
from .engine import UnitOfWork

__all__ = ["TrialStore", "UnitOfWork"]


@runtime_checkable
class TrialStore(Protocol):
    dialect: str
    location: str
    target: str

    def unit_of_work(self, actor: str, *, write: bool = True
                     ) -> AbstractContextManager[UnitOfWork]: ...

    @property
    def default_archive_root(self) -> Path | None: ...

    def schema_version(self) -> int: ...

    def migrate(self) -> list[int]: ...

    def audit_records(self, entity: str | None = None, entity_id: Any = None,
                      limit: int | None = None) -> list[AuditRecord]: ...

    def audit_count(self) -> int: ...

    def audit_head(self) -> str: ...

    def verify_audit_chain(self) -> list[str]: ...

    def close(self) -> None: ...
