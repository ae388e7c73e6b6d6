"""The storage port: what the service layer may ask of a trial database.

`TrialStore` is implemented by `SQLiteStore` (one file) and `PostgresStore` (a server); both
pass the same contract tests (tests/test_store_contract.py).  A use case opens one
`UnitOfWork`, works through its repositories (users, sessions, protocols, cases, assignments,
reads, signatures, discordance, dicom), which return the frozen records of
`ioreview.store.records`, and queues audit records that commit with it.

Beside the unit of work the port offers what trust and recovery need: the trial key and its
sidecar files, the audit chain's anchor and its keyed verification, the protective triggers,
and backup.  Restoring into a PostgreSQL server (`restore_from`, `wipe`) is that backend's own.
"""
from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path
from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from .audit import Anchor, AuditRecord, ChainProblem
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

    def audit_anchor(self) -> tuple[int, str]:
        """(length, head) of the audit chain, read together."""
        ...

    def verify_chain(self, anchors: Sequence[Anchor] = ()) -> list[ChainProblem]:
        """The keyed chain, the seal and the anchors checked; every problem names its record."""
        ...

    def missing_protections(self) -> list[str]:
        """The protective triggers removed behind the database's back."""
        ...

    # -- the trial key, outside the database
    @property
    def key_path(self) -> Path | None: ...

    @property
    def anchor_path(self) -> Path | None: ...

    @property
    def trial_key(self) -> bytes: ...

    def recorded_key_id(self) -> str | None: ...

    def keyed_digest(self, purpose: str, text: str) -> str: ...

    # -- backup and recovery
    def backup_to(self, path: Path) -> tuple[int, str]:
        """Copy the database into the new file `path`; the copy's audit (length, head)."""
        ...

    def is_empty(self) -> bool: ...

    def relocate_paths(self, old_prefix: str, new_prefix: str) -> int: ...

    def close(self) -> None: ...
