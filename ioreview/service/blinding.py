"""What a reader may see: own assignments and reads only, once available, and of the DICOM
index only the blinded headers of their cases (and those cases' priors)."""
from __future__ import annotations

from collections.abc import Sequence

from adjudication.protocol import Protocol
from ioreview.errors import BlindingViolation
from ioreview.imaging.deid import blind_header
from ioreview.store import UnitOfWork, dicom_index
from ioreview.store.records import AssignmentRecord, CaseRecord, ReadRecord

from .context import Actor, ServiceContext
from .values import PriorView, SeriesView

__all__ = ["own_assignment", "own_read", "prior_cases", "reader_may_see_series",
           "series_views", "prior_views", "visible_uids"]


def own_assignment(ctx: ServiceContext, uow: UnitOfWork, actor: Actor, assignment_id: int
                   ) -> AssignmentRecord:
    row = uow.assignments.get(int(assignment_id))
    if row is None or row.reader_id != actor.user_id or row.available_from > ctx.clock():
        raise BlindingViolation(f"Assignment {assignment_id} is not in your worklist.")
    return row


def own_read(ctx: ServiceContext, uow: UnitOfWork, actor: Actor, read_id: int) -> ReadRecord:
    row = uow.reads.get(int(read_id))
    if row is None or row.reader_id != actor.user_id or row.available_from > ctx.clock():
        raise BlindingViolation(f"Read {read_id} is not one of your reads.")
    return row


def prior_cases(uow: UnitOfWork, case: CaseRecord, protocol: Protocol) -> list[CaseRecord]:
    """Earlier timepoints of the case's subject, when the protocol shows priors."""
    if protocol.priors.value != "earlier_timepoints" or case.days_from_insertion is None:
        return []
    return [c for c in uow.cases.of_subject(case.subject)
            if c.id != case.id and c.days_from_insertion is not None
            and c.days_from_insertion < case.days_from_insertion]


def series_views(uow: UnitOfWork, series_pks: Sequence[int]) -> tuple[SeriesView, ...]:
    """The series as a reader may see them: identifying fields and calendar dates blanked."""
    views = []
    summaries = uow.dicom.series_summaries(series_pks)
    headers_of = dicom_index.series_headers_of(uow, [row.id for row in summaries])
    for row in summaries:
        headers = tuple(blind_header(h) for h in headers_of[row.id])
        views.append(SeriesView(row.id, row.modality or "", row.series_description or "",
                                row.n_instances, row.n_frames, headers))
    return tuple(views)


def prior_views(uow: UnitOfWork, case: CaseRecord, protocol: Protocol
                ) -> tuple[PriorView, ...]:
    return tuple(
        PriorView(f"Prior: {c.timepoint}, day {c.days_from_insertion}", c.timepoint,
                  c.days_from_insertion, series_views(uow, uow.cases.series_pks(c.id)))
        for c in prior_cases(uow, case, protocol))


def visible_uids(uow: UnitOfWork, case: CaseRecord, protocol: Protocol) -> set[str]:
    """SOP Instance UIDs of the case and of the priors shown with it."""
    pks = list(uow.cases.series_pks(case.id))
    for prior in prior_cases(uow, case, protocol):
        pks.extend(uow.cases.series_pks(prior.id))
    return uow.dicom.instance_uids(pks)


def reader_may_see_series(ctx: ServiceContext, uow: UnitOfWork, actor: Actor,
                          series_pk: int) -> bool:
    """True when the series belongs to one of the reader's available cases or its priors."""
    assert actor.user_id is not None
    for row in uow.assignments.available_to_reader(actor.user_id, ctx.clock()):
        case = uow.cases.get(row.case_id)
        if case is None:
            continue
        if row.protocol_version_id is None:
            active = ctx.active_version(uow)
            protocol = active[1] if active else None
        else:
            protocol = ctx.protocol(uow, row.protocol_version_id)
        pks = set(uow.cases.series_pks(case.id))
        if protocol is not None:
            for prior in prior_cases(uow, case, protocol):
                pks.update(uow.cases.series_pks(prior.id))
        if series_pk in pks:
            return True
    return False
