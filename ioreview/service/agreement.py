"""Agreement statistics and reader monitoring for the coordinator and the committee: the
locked reads, discordances and decided adjudications gathered in one read-only unit of work and
handed to `adjudication.reliability` (pure).  Readers and adjudicators cannot reach it.  The
coordinator sees readers by user name; the committee by a stable pseudonym (READER1 ...), as
nobody but the coordinator sees reader names beside decisions."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from adjudication.reliability import (AdjudicationRow, AgreementReport, DiscordanceRow, ReadRow,
                                      trial_agreement)
from ioreview.errors import InvalidInput
from ioreview.store import UnitOfWork

from .context import ADMINS, ServiceContext
from .values import Role, Session

__all__ = ["AgreementFigures", "collect"]

VIEWERS = ADMINS | frozenset({Role.COMMITTEE})


def _epoch(text: str | None) -> float:
    if not text:
        return 0.0
    return datetime.fromisoformat(text).timestamp()


def collect(uow: UnitOfWork, names: Mapping[int, str], *, timepoint: str | None = None,
            modality: str | None = None, protocol_version_id: int | None = None
            ) -> tuple[list[ReadRow], list[DiscordanceRow], list[AdjudicationRow]]:
    """The locked reads (readers named by `names`), standing discordances and decided
    adjudications of the cases matching the filters, as `adjudication.reliability` takes them."""
    locked = uow.reads.locked()
    modalities = uow.cases.modalities()

    def keep(r: Any) -> bool:
        if timepoint and r.timepoint != timepoint:
            return False
        if modality and modality not in modalities.get(r.case_id, set()):
            return False
        if protocol_version_id is not None and r.protocol_version_id != protocol_version_id:
            return False
        return True

    chosen = [r for r in locked if keep(r)]
    values = uow.reads.values_of([(r.read_id, r.version) for r in chosen])
    reads = [ReadRow(r.read_id, r.case_id, names.get(r.reader_id, str(r.reader_id)),
                     values[(r.read_id, r.version)], r.is_reread, _epoch(r.signed_at),
                     r.active_seconds, r.position, r.timepoint,
                     frozenset(modalities.get(r.case_id, set())),
                     r.protocol_version_id, r.is_primary, r.subject)
             for r in chosen]
    cases = {r.case_id for r in chosen}
    discordances = [DiscordanceRow(e.case_id, tuple(f.field for f in e.fields),
                                   _epoch(e.evaluated_at))
                    for e in uow.discordance.current() if e.case_id in cases]
    adjudications = [AdjudicationRow(a.case_id, {k: rid for k, (rid, _v) in a.letters.items()},
                                     {d.field: d.choice for d in a.decisions})
                     for a in uow.adjudications.all("decided") if a.case_id in cases]
    return reads, discordances, adjudications


class AgreementFigures:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def agreement_report(self, session: Session, *, timepoint: str | None = None,
                         modality: str | None = None,
                         protocol_version_id: int | None = None) -> AgreementReport:
        """Coordinator / committee: inter- and intra-reader agreement per field, reader
        monitoring (adjudication rate, adjudicator agreement, RDI, p-charts), read time and
        agreement by worklist position, and a GRRAS summary, over the locked reads of the
        cases matching the filters (timepoint, modality, protocol version)."""
        with self.ctx.use_case(session, VIEWERS, "see agreement statistics",
                               write=False) as (uow, actor):
            if protocol_version_id is not None:
                if uow.protocols.get(int(protocol_version_id)) is None:
                    raise InvalidInput(f"Protocol version {protocol_version_id} is not "
                                       "installed.")
                version_id = int(protocol_version_id)
                protocol = self.ctx.protocol(uow, version_id)
            else:
                version_id, protocol = self.ctx.require_active(uow)
            users = uow.users.list()
            if actor.role in ADMINS:
                names = {u.id: u.username for u in users}
            else:
                readers = sorted(u.id for u in users if u.role == Role.READER.value)
                names = {uid: f"READER{i}" for i, uid in enumerate(readers, 1)}
            reads, discordances, adjudications = collect(
                uow, names, timepoint=timepoint, modality=modality,
                protocol_version_id=None if protocol_version_id is None else version_id)
        filters = {"timepoint": timepoint, "modality": modality,
                   "protocol_version_id": protocol_version_id}
        return trial_agreement(protocol, reads, discordances, adjudications,
                               filters={k: v for k, v in filters.items() if v is not None})
