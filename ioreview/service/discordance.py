"""Persisted discordance: when a case's last primary read locks, its reads are compared under
the protocol's rules and the result is stored with the rule and the values compared; an
amendment re-evaluates it (the earlier evaluation is kept, superseded, and audited)."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from adjudication.discordance import find_discordant_fields
from adjudication.protocol import Protocol
from ioreview.store import UnitOfWork
from ioreview.store.records import DiscordanceEvaluation, DiscordantField, PrimaryRead

from .context import ServiceContext
from .values import ReadStatus
from .workflow import update_case

__all__ = ["evaluate_case", "discordant_fields"]


def discordant_fields(protocol: Protocol, values: Sequence[dict[str, Any]]
                      ) -> list[DiscordantField]:
    """Discordant fields over every pair of reads, in form order, with the values compared."""
    found: dict[str, DiscordantField] = {}
    for i in range(len(values)):
        for j in range(i + 1, len(values)):
            for d in find_discordant_fields(protocol, values[i], values[j]):
                if d.key not in found:
                    found[d.key] = DiscordantField(
                        d.key, d.rule.describe(), d.reason,
                        tuple(v.get(d.key) for v in values))
    return [found[k] for k in protocol.keys() if k in found]


def _locked(reads: Sequence[PrimaryRead]) -> bool:
    return bool(reads) and all(r.status == ReadStatus.SUBMITTED.value for r in reads)


def evaluate_case(ctx: ServiceContext, uow: UnitOfWork, case_id: int, cause: str
                  ) -> DiscordanceEvaluation | None:
    """Evaluate the case's locked primary reads and store the result (superseding the standing
    one); None while a primary read is still open.  Audited as "evaluate" with the fields
    before and after."""
    reads = uow.assignments.primary_reads(case_id)
    if not _locked(reads):
        return None
    refs = [(r.read_id, r.version) for r in reads]
    assert all(a is not None and b is not None for a, b in refs)
    values_by_ref = uow.reads.values_of(refs)  # type: ignore[arg-type]
    values = [values_by_ref[ref] for ref in refs]  # type: ignore[index]
    version_id = max(r.protocol_version_id or 0 for r in reads)
    protocol = ctx.protocol(uow, version_id)
    fields = discordant_fields(protocol, values)
    before = uow.discordance.current(case_id)
    at = ctx.now_iso()
    evaluation_id = uow.discordance.record(case_id, version_id, refs,  # type: ignore[arg-type]
                                           fields, cause, at)
    uow.audit("evaluate", "discordance", evaluation_id,
              before=({"fields": [f.field for f in before[0].fields]} if before else None),
              after={"case": case_id, "cause": cause, "reads": refs,
                     "fields": [f.field for f in fields]})
    label = reads[0].label
    evaluation = DiscordanceEvaluation(evaluation_id, case_id, label, version_id,
                                       tuple(refs), cause, at, None,  # type: ignore[arg-type]
                                       tuple(fields))
    update_case(ctx, uow, evaluation, cause)
    return evaluation
