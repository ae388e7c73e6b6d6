"""The coordinator's oversight: reading progress, standing discordances, audit verification."""
from __future__ import annotations

from collections import defaultdict

from .context import ADMINS, ServiceContext
from .signatures import verify_signatures
from .values import AuditReport, DiscordantCase, ProgressReport, ReaderProgress, ReadStatus, \
    Session

__all__ = ["Monitoring"]


class Monitoring:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def progress(self, session: Session) -> ProgressReport:
        """Coordinator/admin: reads per reader, completed cases (every primary read signed) and
        open discordances, as evaluated when each case's last read locked (or was amended)."""
        with self.ctx.use_case(session, ADMINS, "see reading progress",
                               write=False) as (uow, _actor):
            per_reader = [ReaderProgress(r.display_name, r.assigned, r.submitted, r.in_progress)
                          for r in uow.assignments.reader_progress()]
            by_case: dict[int, list[str | None]] = defaultdict(list)
            for row in uow.assignments.primary_reads():
                by_case[row.case_id].append(row.status)
            complete = sum(1 for statuses in by_case.values()
                           if all(s == ReadStatus.SUBMITTED.value for s in statuses))
            discordant = [DiscordantCase(e.case_label, tuple(f.field for f in e.fields),
                                         e.evaluated_at)
                          for e in uow.discordance.current() if e.discordant]
            return ProgressReport(per_reader, uow.cases.count(), complete, len(discordant),
                                  discordant)

    def verify_audit_trail(self, session: Session) -> AuditReport:
        """Coordinator/admin: recompute the audit trail's hash chain and re-check every
        electronic signature against the content it signed (21 CFR Part 11 style tamper
        evidence); every problem names the record it was found in."""
        with self.ctx.use_case(session, ADMINS, "verify the audit trail",
                               write=False) as (uow, _actor):
            signature_problems = verify_signatures(uow)
        return AuditReport(self.ctx.store.audit_count(),
                           tuple(self.ctx.store.verify_audit_chain() + signature_problems))
