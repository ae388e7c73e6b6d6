"""Import of DICOM studies and what the index holds (coordinator views; identifying)."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from ioreview.errors import InvalidInput
from ioreview.store import dicom_index

from .context import ADMINS, ServiceContext
from .values import ReadStatus, SeriesInfo, Session, StudyInfo, TrialInfo

if TYPE_CHECKING:
    from ioreview.importing import ImportSummary

__all__ = ["Imports"]


class Imports:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def import_studies(self, session: Session, paths: Sequence[str | Path], *,
                       copy_to: str | Path | None = None,
                       progress: Callable[[int, int], None] | None = None,
                       checksum: bool = False,
                       archive_limits: bool = True) -> ImportSummary:
        """Coordinator/admin: import DICOM files, folders, zips or DICOMDIRs (the import runs
        in its own transactions, audited as the caller).  Files copied into the archive
        (`copy_to`) always get a SHA-256; files indexed in place get one with `checksum`
        (hashing costs more than indexing) and at the latest when their series joins a case.
        Zip members are archived; `archive_limits=False` lifts the limits on what a member
        may expand to (`importing.ArchiveLimits`)."""
        from ioreview.importing import ArchiveLimits, import_paths

        with self.ctx.use_case(session, ADMINS, "import studies", write=False) as (_u, actor):
            name = actor.audit_name
        try:
            archive: Path | None = self.ctx.archive_root
        except InvalidInput:
            archive = None  # zips are refused with a reason unless copied
        return import_paths(self.ctx.store, name, list(paths),
                            copy_to=None if copy_to is None else Path(copy_to),
                            progress=progress, with_sha256=checksum, archive_root=archive,
                            archive_limits=ArchiveLimits() if archive_limits
                            else ArchiveLimits.off())

    def info(self, session: Session) -> TrialInfo:
        """Coordinator/admin: counts of the DICOM index, users, cases, assignments, reads by
        status, and the active protocol version."""
        with self.ctx.use_case(session, ADMINS, "see trial information",
                               write=False) as (uow, _actor):
            counts = uow.dicom.counts()
            active = uow.protocols.find(active=True)
            tasks = uow.adjudications.workload()
            panels = uow.panels.counts()
        return TrialInfo(
            counts.patients, counts.studies, counts.series, counts.instances, counts.users,
            counts.cases, counts.assignments,
            {s.value: int(counts.reads_by_status.get(s.value, 0)) for s in ReadStatus},
            f"{active.protocol_id} {active.version}" if active is not None else None,
            {"pending": sum(t.get("pending", 0) for t in tasks.values()),
             "decided": sum(t.get("decided", 0) for t in tasks.values()),
             "panel_sessions_open": panels.get("open", 0),
             "panel_sessions_closed": panels.get("closed", 0)})

    def list_studies(self, session: Session) -> list[StudyInfo]:
        """Coordinator/admin (identifying): imported studies with patient, date, modalities
        and the case holding each (None when not yet in a case)."""
        with self.ctx.use_case(session, ADMINS, "list studies", write=False) as (uow, _a):
            labels = uow.cases.study_case_labels()
            return [replace(row, case_label=labels.get(row.id))
                    for row in dicom_index.list_studies(uow)]

    def list_series(self, session: Session, study_pk: int) -> list[SeriesInfo]:
        """Coordinator/admin: the series of one study."""
        with self.ctx.use_case(session, ADMINS, "list series", write=False) as (uow, _a):
            return dicom_index.list_series(uow, int(study_pk))
