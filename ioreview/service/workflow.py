"""Each case's way to a final outcome, driven by the protocol's paradigm
(`adjudication.paradigms`): called inside the unit of work that locked or amended a read, it moves
the case to its next stage and creates what that stage needs (an adjudication with a seeded
adjudicator and a seeded A/B draw; a seeded, blinded third reader).  Every change of stage is
audited; an amendment after a decision reopens the case and keeps the superseded decision."""
from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Any

from adjudication.paradigms import (CaseOutcome, Event, FinalValue, Source, Stage, advance,
                                    decision_items, final_outcome, majority, reader_letters)
from adjudication.protocol import Paradigm, Protocol
from ioreview.store import UnitOfWork
from ioreview.store.records import AdjudicationRecord, DiscordanceEvaluation

from .context import ServiceContext
from .values import ReadStatus, Role

__all__ = ["case_outcome", "eligible_adjudicators", "letters_for", "lettered_values",
           "primary_items", "update_case", "third_read_changed"]


def _seed(ctx: ServiceContext) -> int:
    return ctx.label_random.randrange(2 ** 31)


def lettered_values(uow: UnitOfWork, letters: Mapping[str, tuple[int, int]]
                    ) -> dict[str, dict[str, Any]]:
    """The values of each lettered read version."""
    return {letter: uow.reads.values(rid, ver) for letter, (rid, ver) in letters.items()}


def _case_reads(uow: UnitOfWork, case_id: int) -> tuple[list[tuple[int, int]], tuple[int, int] | None]:
    """(primary read refs of the case, its locked third read ref or None)."""
    primary = [(r.read_id, r.version) for r in uow.assignments.primary_reads(case_id)
               if r.read_id is not None and r.status == ReadStatus.SUBMITTED.value]
    third = uow.assignments.third_read(case_id)
    ref = None
    if third is not None:
        read = uow.reads.for_assignment(third.id)
        if read is not None and read.status == ReadStatus.SUBMITTED.value:
            ref = (read.id, read.version)
    return primary, ref  # type: ignore[return-value]


def letters_for(refs: Sequence[tuple[int, int]], seed: int) -> dict[str, tuple[int, int]]:
    """Letters A, B (C) for read versions, drawn from `seed`."""
    versions = dict(refs)
    drawn = reader_letters([rid for rid, _ in refs], seed)
    return {letter: (rid, versions[rid]) for letter, rid in drawn.items()}


def primary_items(protocol: Protocol, values: Sequence[Mapping[str, Any]]) -> tuple[str, ...]:
    """The items to decide between the two primary reads (discordant fields and the details
    of a finding whose presence is discordant)."""
    if len(values) < 2:
        return ()
    keys: set[str] = set()
    for i in range(len(values)):
        for j in range(i + 1, len(values)):
            keys.update(decision_items(protocol, values[i], values[j]))
    return tuple(k for k in protocol.keys() if k in keys)


def _case_reader_ids(uow: UnitOfWork, case_id: int) -> set[int]:
    return {a.reader_id for a in uow.assignments.of_case(case_id)}


def eligible_adjudicators(uow: UnitOfWork, case_id: int) -> list[int]:
    """Active adjudicators who read no part of the case (an adjudicator is never a reader)."""
    readers = _case_reader_ids(uow, case_id)
    return [u.id for u in uow.users.list(Role.ADJUDICATOR.value)
            if u.active and u.id not in readers]


def _draw_adjudicator(uow: UnitOfWork, case_id: int, seed: int) -> int | None:
    eligible = eligible_adjudicators(uow, case_id)
    if not eligible:
        return None
    load = {uid: counts.get("pending", 0) for uid, counts in uow.adjudications.workload().items()}
    rng = random.Random(seed)
    return sorted(eligible, key=lambda u: (load.get(u, 0), rng.random()))[0]


def open_adjudication(ctx: ServiceContext, uow: UnitOfWork, case_id: int,
                      evaluation: DiscordanceEvaluation, protocol: Protocol,
                      adjudicator_id: int | None = None) -> AdjudicationRecord | None:
    """Create the case's adjudication (the adjudicator drawn by least pending load, ties by
    the recorded seed, unless given): A/B (and C) drawn from the same seed; the items are the
    primary reads' discordances, or for 2-of-3 the fields without a majority."""
    primary, third = _case_reads(uow, case_id)
    seed = _seed(ctx)
    refs = primary + ([third] if third is not None else [])
    letters = letters_for(refs, seed)
    values = lettered_values(uow, letters)
    if third is not None:
        items = primary_items(protocol, [uow.reads.values(*r) for r in primary])
        items = majority(protocol, values, items).unresolved
    else:
        items = primary_items(protocol, list(values.values()))
    who = adjudicator_id if adjudicator_id is not None else _draw_adjudicator(uow, case_id, seed)
    if who is None:
        uow.audit("adjudicator_unavailable", "case", case_id,
                  after={"reason": "no active adjudicator who did not read the case"})
        return None
    at = ctx.now_iso()
    adjudication_id = uow.adjudications.add(case_id, evaluation.id, who, seed, letters, items, at)
    uow.audit("create", "adjudication", adjudication_id,
              after={"case": case_id, "adjudicator": who, "seed": seed,
                     "letters": {k: list(v) for k, v in letters.items()}, "items": list(items),
                     "evaluation": evaluation.id})
    return uow.adjudications.get(adjudication_id)


def _draw_third_reader(ctx: ServiceContext, uow: UnitOfWork, case_id: int,
                       protocol_version_id: int) -> None:
    if uow.assignments.third_read(case_id) is not None:
        return
    taken = _case_reader_ids(uow, case_id)
    eligible = [u.id for u in uow.users.list(Role.READER.value) if u.active and u.id not in taken]
    seed = _seed(ctx)
    if not eligible:
        uow.audit("third_reader_unavailable", "case", case_id,
                  after={"reason": "every active reader has read the case", "seed": seed})
        return
    load = uow.assignments.primary_counts()
    rng = random.Random(seed)
    reader = sorted(eligible, key=lambda u: (load.get(u, 0), rng.random()))[0]
    run_id = uow.assignments.add_run(seed, protocol_version_id, [reader], ctx.now_iso(),
                                     "system:third-read")
    order_index = uow.assignments.max_order_index(reader) + 1
    assignment_id = uow.assignments.add(case_id, reader, run_id, order_index, False, None,
                                        ctx.clock(), third_read_seed=seed)
    uow.audit("create", "assignment", assignment_id,
              after={"case": case_id, "reader": reader, "order_index": order_index,
                     "purpose": "third read (2-of-3)", "seed": seed, "eligible": eligible})


def _enter(ctx: ServiceContext, uow: UnitOfWork, case_id: int, paradigm: Paradigm,
           before: Stage | None, stage: Stage, event: Event, evaluation: DiscordanceEvaluation,
           protocol: Protocol, reopened: bool | None = None) -> Stage:
    uow.workflow.set(case_id, paradigm.value, stage.value, evaluation.id, ctx.now_iso(),
                     reopened)
    uow.audit("stage", "case", case_id,
              before=None if before is None else {"stage": before.value},
              after={"stage": stage.value, "event": event.value, "paradigm": paradigm.value,
                     "evaluation": evaluation.id})
    if stage is Stage.ADJUDICATION:
        open_adjudication(ctx, uow, case_id, evaluation, protocol)
    elif stage is Stage.THIRD_READ:
        _draw_third_reader(ctx, uow, case_id, evaluation.protocol_version_id)
    return stage


def _reopen(ctx: ServiceContext, uow: UnitOfWork, case_id: int, stage: Stage, cause: str) -> bool:
    """Supersede the case's standing adjudication and panel decisions (kept, never rewritten);
    True when something was superseded."""
    at = ctx.now_iso()
    adjudications = uow.adjudications.supersede_case(case_id, at)
    sessions = uow.panels.supersede_case(case_id, at)
    if adjudications or sessions or stage is Stage.DECIDED:
        uow.audit("reopen", "case", case_id, before={"stage": stage.value},
                  after={"cause": cause, "superseded_adjudications": adjudications,
                         "panel_sessions": sessions})
        return True
    return False


def _majority_unresolved(uow: UnitOfWork, protocol: Protocol, case_id: int) -> bool:
    primary, third = _case_reads(uow, case_id)
    if third is None or len(primary) < 2:
        return True
    values = {chr(ord("A") + i): uow.reads.values(*ref) for i, ref in enumerate(primary + [third])}
    items = primary_items(protocol, [uow.reads.values(*r) for r in primary])
    return bool(majority(protocol, values, items).unresolved)


def update_case(ctx: ServiceContext, uow: UnitOfWork, evaluation: DiscordanceEvaluation,
                cause: str) -> Stage:
    """After the case's primary reads were evaluated (locked, amended, backfilled): move the
    case on (reads_locked the first time, read_amended after)."""
    case_id = evaluation.case_id
    protocol = ctx.protocol(uow, evaluation.protocol_version_id)
    paradigm = protocol.paradigm
    current = uow.workflow.get(case_id)
    stage = Stage.READING if current is None else Stage(current.stage)
    if stage is Stage.READING:
        new = advance(paradigm, stage, Event.READS_LOCKED, discordant=evaluation.discordant)
        return _enter(ctx, uow, case_id, paradigm, None if current is None else stage, new,
                      Event.READS_LOCKED, evaluation, protocol)
    reopened = _reopen(ctx, uow, case_id, stage, cause)
    _, third = _case_reads(uow, case_id)
    unresolved = evaluation.discordant and _majority_unresolved(uow, protocol, case_id)
    new = advance(paradigm, stage, Event.READ_AMENDED, discordant=evaluation.discordant,
                  unresolved=unresolved, third_read_locked=third is not None)
    return _enter(ctx, uow, case_id, paradigm, stage, new, Event.READ_AMENDED, evaluation,
                  protocol, reopened=reopened or None)


def third_read_changed(ctx: ServiceContext, uow: UnitOfWork, case_id: int, cause: str) -> Stage | None:
    """After a 2-of-3 third read locked (or was amended): the majority decides or the fields
    without one go to an adjudicator."""
    current = uow.workflow.get(case_id)
    evaluations = uow.discordance.current(case_id)
    if current is None or not evaluations:
        return None
    evaluation = evaluations[0]
    protocol = ctx.protocol(uow, evaluation.protocol_version_id)
    stage = Stage(current.stage)
    unresolved = _majority_unresolved(uow, protocol, case_id)
    if stage is Stage.THIRD_READ:
        new = advance(protocol.paradigm, stage, Event.THIRD_READ_LOCKED, unresolved=unresolved)
        return _enter(ctx, uow, case_id, protocol.paradigm, stage, new,
                      Event.THIRD_READ_LOCKED, evaluation, protocol)
    reopened = _reopen(ctx, uow, case_id, stage, cause)
    new = advance(protocol.paradigm, stage, Event.READ_AMENDED,
                  discordant=evaluation.discordant, unresolved=unresolved,
                  third_read_locked=True)
    return _enter(ctx, uow, case_id, protocol.paradigm, stage, new, Event.READ_AMENDED,
                  evaluation, protocol, reopened=reopened or None)


# -- final outcome -----------------------------------------------------------------------------
def case_outcome(ctx: ServiceContext, uow: UnitOfWork, case_id: int
                 ) -> tuple[Stage, CaseOutcome | None, Protocol | None]:
    """The case's stage and, once final, every field's accepted value with its source."""
    current = uow.workflow.get(case_id)
    if current is None:
        return Stage.READING, None, None
    stage = Stage(current.stage)
    evaluations = uow.discordance.current(case_id)
    if not evaluations:
        return stage, None, None
    evaluation = evaluations[0]
    protocol = ctx.protocol(uow, evaluation.protocol_version_id)
    if not stage.is_final:
        return stage, None, protocol
    primary = [uow.reads.values(rid, ver) for rid, ver in evaluation.reads]
    resolved: dict[str, FinalValue] = {}
    primary_refs, third = _case_reads(uow, case_id)
    if third is not None and evaluation.discordant and protocol.paradigm is Paradigm.two_of_three:
        values = {chr(ord("A") + i): uow.reads.values(*ref)
                  for i, ref in enumerate(primary_refs + [third])}
        found = majority(protocol, values, primary_items(protocol, primary))
        for key, (value, agreeing) in found.values.items():
            resolved[key] = FinalValue(key, value, Source.MAJORITY,
                                       f"2 of 3 readers ({' and '.join(agreeing)})")
    adjudication = uow.adjudications.current(case_id)
    if adjudication is not None and adjudication.status == "decided":
        for d in adjudication.decisions:
            detail = (f"own value: {d.rationale}" if d.choice == "own"
                      else f"Reader {d.choice}" + (f": {d.rationale}" if d.rationale else ""))
            resolved[d.field] = FinalValue(d.field, d.value, Source.ADJUDICATOR, detail)
    for r in uow.panels.standing_results(case_id):
        resolved[r.field] = FinalValue(r.field, r.value, Source.PANEL, r.detail)
    return stage, final_outcome(protocol, primary, resolved), protocol
