"""Adjudication: the adjudicator's queue, the blinded adjudication view (readers as A/B), signed
decisions; and the coordinator's view of it: progress and workload, reassignment, sending a
case to the committee, final outcomes per case and per subject.

An adjudicator sees only the cases assigned to them, readers only as letters; readers see
nothing of adjudication; reader names beside decisions only reach the coordinator.  A decision
is signed ("I confirm this adjudication") with the password, checked outside the write
transaction as for reads."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from adjudication.discordance import DiscordanceRule, NoDiscordance, find_discordant_fields
from adjudication.paradigms import (AdjudicationError, Decision, Event, Stage, advance,
                                    subject_endpoints, CaseAtTimepoint, validate_decisions)
from adjudication.protocol import Protocol
from ioreview.auth import verify_password
from ioreview.errors import (BlindingViolation, InvalidInput, IoreviewError, NotFound,
                             SignatureRejected)
from ioreview.store import UnitOfWork
from ioreview.store.records import AdjudicationRecord, DecisionRecord

from . import signatures
from .context import ADMINS, Actor, ServiceContext
from .reader_copies import case_copy_views, to_copy_uids, to_original_uids
from .reading import clean_annotations
from .values import (ADJUDICATION_MEANING, AdjudicationOverview, AdjudicationQueueItem,
                     AdjudicationTask, AdjudicationView, AdjudicatorLoad, Annotation,
                     CaseAdjudicationStatus, CaseOutcomeView, DecisionItem, FinalValueView,
                     LetteredRead, Role, Session, SignatureInfo, SubjectOutcomeView)
from .values_adjudication import ItemReason
from .workflow import case_outcome, eligible_adjudicators, lettered_values, open_adjudication

__all__ = ["Adjudication", "decision_items_for", "lettered_reads", "adjudication_content"]

ADJUDICATORS = frozenset({Role.ADJUDICATOR})


class WorkflowRefused(InvalidInput):
    """A step the case's stage does not allow (the domain's IllegalTransition, in words)."""


def decision_items_for(protocol: Protocol, items: Sequence[str],
                       values: dict[str, dict[str, Any]]) -> tuple[DecisionItem, ...]:
    """The items with the rule that flagged each and the reason, reasons naming the letters
    (compared in letter order, so "Reader A" in a reason is the A on screen)."""
    letters = sorted(values)
    reasons: dict[str, tuple[str, str]] = {}
    coded: dict[str, tuple[DiscordanceRule, list[ItemReason]]] = {}
    for i, x in enumerate(letters):
        for y in letters[i + 1:]:
            for d in find_discordant_fields(protocol, values[x], values[y]):
                text = d.reason.replace("Reader A", f"Reader {x}").replace(
                    "Reader B", f"Reader {y}") if (x, y) != ("A", "B") else d.reason
                if len(letters) > 2:
                    text = f"{x} vs {y}: {text}"
                rule, old = reasons.get(d.key, (d.rule.describe(), ""))
                reasons[d.key] = (rule, f"{old}; {text}" if old else text)
                if d.detail is not None:
                    params = dict(d.detail.params)
                    if "empty" in params:  # the pair's "A"/"B" as the letter on screen
                        params["empty"] = x if params["empty"] == "A" else y
                    coded.setdefault(d.key, (d.rule, []))[1].append(
                        ItemReason((x, y), d.detail.code, params))
    out = []
    for key in items:
        if key.startswith("committee."):
            out.append(DecisionItem(key, protocol.label_for(key), "committee-only",
                                    "decided by the committee", True, "committee_only", {},
                                    (ItemReason((), "committee_decides", {}),)))
            continue
        field = protocol.field(key)
        with_presence = isinstance(field.discordance, NoDiscordance)
        rule = ("judged with the finding's presence" if with_presence
                else field.discordance.describe())
        rule, reason = reasons.get(key, (rule, "follows the finding's presence decision"))
        if key in coded:
            flagged_by, why = coded[key]
            out.append(DecisionItem(key, protocol.label_for(key), rule, reason, False,
                                    flagged_by.kind.value, flagged_by.parameters(), tuple(why)))
        else:
            out.append(DecisionItem(
                key, protocol.label_for(key), rule, reason, False,
                "with_presence" if with_presence else field.discordance.kind.value,
                {} if with_presence else field.discordance.parameters(),
                (ItemReason((), "follows_presence", {}),)))
    return tuple(out)


def lettered_reads(uow: UnitOfWork, letters: dict[str, tuple[int, int]],
                   copy_sets: Sequence[int] | None = None) -> tuple[LetteredRead, ...]:
    """The reads by letter; with `copy_sets`, their annotations and key images (stored on
    the originals' UIDs) on the UIDs of those de-identified copies, as handed out."""
    out = []
    for letter, (rid, ver) in sorted(letters.items()):
        annotations = tuple(uow.reads.annotations(rid, ver))
        key_images = tuple(uow.reads.key_images(rid, ver))
        if copy_sets is not None:
            annotations, key_images = to_copy_uids(uow, copy_sets, annotations, key_images)
        out.append(LetteredRead(letter, uow.reads.values(rid, ver), annotations, key_images))
    return tuple(out)


def adjudication_content(uow: UnitOfWork, record: AdjudicationRecord, signer: str,
                         meaning: str, signed_at: str) -> dict[str, Any]:
    """What an adjudicator signs: the case, the read versions by letter, every decision with
    its rationale, own measurements, who, when and what the signature means."""
    return {
        "adjudication_id": record.id, "case_id": record.case_id,
        "evaluation_id": record.evaluation_id, "seed": record.seed,
        "letters": {k: list(v) for k, v in sorted(record.letters.items())},
        "items": list(record.items), "signer": signer, "meaning": meaning,
        "signed_at": signed_at,
        "decisions": [{"field": d.field, "choice": d.choice, "value": d.value,
                       "rationale": d.rationale} for d in record.decisions],
        "annotations": [{"finding_id": a.finding_id, "kind": a.kind,
                         "sop_instance_uid": a.sop_instance_uid, "frame": a.frame,
                         "label": a.label, "points": [list(p) for p in a.points],
                         "measurements": a.measurements}
                        for a in uow.adjudications.annotations(record.id)],
    }


def _adjudication_content_for(uow: UnitOfWork, s: Any) -> dict[str, Any] | None:
    record = uow.adjudications.get(s.entity_id)
    if record is None:
        return None
    return adjudication_content(uow, record, s.signer, s.meaning, s.signed_at)


signatures.CONTENT_BUILDERS["adjudication"] = _adjudication_content_for


def _signature_info(s: Any, uow: Any = None) -> SignatureInfo:
    """The signature with the signer's printed name when `uow` is given (21 CFR 11.50)."""
    user = None if uow is None else uow.users.get(s.signer_id)
    return SignatureInfo(s.id, s.entity_id, s.signer, s.signed_at, s.meaning, s.content_sha256,
                         s.version, s.signer if user is None else user.display_name)


def _decision(d: DecisionRecord) -> Decision:
    return Decision(d.field, d.choice, d.value, d.rationale)


class Adjudication:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    # -- the adjudicator --------------------------------------------------------------------
    def _own(self, uow: UnitOfWork, actor: Actor, adjudication_id: int) -> AdjudicationRecord:
        record = uow.adjudications.get(int(adjudication_id))
        if record is None or record.adjudicator_id != actor.user_id:
            raise BlindingViolation(f"Adjudication {adjudication_id} is not assigned to you.")
        return record

    def adjudication_queue(self, session: Session) -> list[AdjudicationQueueItem]:
        """Adjudicator: own pending adjudications, oldest first, with the fields to decide."""
        with self.ctx.use_case(session, ADJUDICATORS, "see the adjudication queue",
                               write=False) as (uow, actor):
            out = []
            for r in uow.adjudications.pending_for(actor.user_id or 0):
                case = uow.cases.get(r.case_id)
                assert case is not None
                out.append(AdjudicationQueueItem(
                    r.id, case.label, case.timepoint, case.days_from_insertion, r.created_at,
                    tuple(r.items)))
            return out

    def _view(self, uow: UnitOfWork, record: AdjudicationRecord) -> AdjudicationView:
        case = uow.cases.get(record.case_id)
        assert case is not None
        evaluation = next((e for e in uow.discordance.history(record.case_id)
                           if e.id == record.evaluation_id), None)
        assert evaluation is not None
        protocol = self.ctx.protocol(uow, evaluation.protocol_version_id)
        values = lettered_values(uow, record.letters)
        signed = uow.signatures.of("adjudication", record.id)
        # de-identified copies (the case's set); annotations are stored on original UIDs
        series, copy_sets = case_copy_views(self.ctx, uow, case)
        own, _keys = to_copy_uids(uow, copy_sets, uow.adjudications.annotations(record.id), ())
        return AdjudicationView(
            record.id, case.label, case.timepoint, case.days_from_insertion,
            series, protocol, lettered_reads(uow, record.letters, copy_sets),
            decision_items_for(protocol, record.items, values), record.status,
            tuple(_decision(d) for d in record.decisions), own,
            _signature_info(signed[-1], uow) if signed else None)

    def open_adjudication(self, session: Session, adjudication_id: int) -> AdjudicationView:
        """Adjudicator: an own adjudication: the case's de-identified copies, both reads as
        Reader A / B (annotations included, on the copies' UIDs), the items with the rule and
        the reason."""
        with self.ctx.use_case(session, ADJUDICATORS, "adjudicate") as (uow, actor):
            record = self._own(uow, actor, adjudication_id)
            uow.audit("open", "adjudication", record.id)
            return self._view(uow, record)

    def _decidable(self, uow: UnitOfWork, record: AdjudicationRecord,
                   decisions: Sequence[Decision], annotations: Sequence[Annotation] | None
                   ) -> tuple[dict[str, Decision], list[Any]]:
        if record.status != "pending":
            raise WorkflowRefused(f"The adjudication of {record.case_label} is {record.status}; "
                                  "it cannot be decided again.")
        workflow = uow.workflow.get(record.case_id)
        if workflow is None or workflow.stage != Stage.ADJUDICATION.value:
            raise WorkflowRefused(f"Case {record.case_label} is not waiting for adjudication.")
        evaluation = uow.discordance.current(record.case_id)
        protocol = self.ctx.protocol(uow, evaluation[0].protocol_version_id)
        values = lettered_values(uow, record.letters)
        try:
            decided = validate_decisions(protocol, record.items, values,
                                         [d if isinstance(d, Decision) else Decision(*d)
                                          for d in decisions])
        except AdjudicationError as exc:
            raise InvalidInput(str(exc)) from None
        clean: list[Any] = []
        if annotations:
            case = uow.cases.get(record.case_id)
            assert case is not None
            uids = uow.dicom.instance_uids(uow.cases.series_pks(case.id))
            # drawn on the copies handed out; stored on the originals' UIDs, as reads are
            originals, _keys = to_original_uids(uow, annotations, None)
            clean = clean_annotations(protocol, originals or [], uids)
        return decided, clean

    def submit_adjudication(self, session: Session, adjudication_id: int,
                            decisions: Sequence[Decision], password: str,
                            annotations: Sequence[Annotation] | None = None) -> SignatureInfo:
        """Adjudicator: decide every item of an own pending adjudication (accept Reader A, B
        (C), or an own value with a rationale), with own measurements if any, and sign ("I
        confirm this adjudication").  SignatureRejected on a wrong password (counts towards
        the lock-out); InvalidInput names a missing or invalid decision."""
        with self.ctx.use_case(session, ADJUDICATORS, "adjudicate", write=False) as (uow, actor):
            record = self._own(uow, actor, adjudication_id)
            user = uow.users.get(actor.user_id)
            assert user is not None
            check = self.ctx.in_background(verify_password, password or "", user.password_hash)
            self._decidable(uow, record, decisions, annotations)
        ok = check.result()
        error: IoreviewError | None = None
        info: SignatureInfo | None = None
        with self.ctx.use_case(session, ADJUDICATORS, "adjudicate") as (uow, actor):
            record = self._own(uow, actor, adjudication_id)
            decided, clean = self._decidable(uow, record, decisions, annotations)
            assert actor.user_id is not None
            error = self.ctx.record_password_attempt(
                uow, actor.user_id, ok, user.password_hash,
                lambda left: SignatureRejected(
                    "The password does not match; the adjudication was NOT signed. "
                    f"{left} attempt(s) left before the account locks for 15 minutes."),
                "sign adjudication")
            if error is None:
                at = self.ctx.now_iso()
                rows = [DecisionRecord(d.key, d.choice, d.value, d.rationale)
                        for d in (decided[k] for k in record.items)]
                uow.adjudications.decide(record.id, rows, clean, at)
                uow.audit("decide", "adjudication", record.id,
                          after={"case": record.case_id,
                                 "decisions": [{"field": r.field, "choice": r.choice,
                                                "value": r.value, "rationale": r.rationale}
                                               for r in rows],
                                 "annotations": len(clean)})
                stored = uow.adjudications.get(record.id)
                assert stored is not None
                content = adjudication_content(uow, stored, actor.username,
                                               ADJUDICATION_MEANING, at)
                signature = signatures.sign(uow, "adjudication", record.id, 1, actor.user_id,
                                            actor.username, at, ADJUDICATION_MEANING, content)
                workflow = uow.workflow.get(record.case_id)
                assert workflow is not None
                stage = advance(workflow.paradigm, Stage(workflow.stage), Event.ADJUDICATED)
                uow.workflow.set(record.case_id, workflow.paradigm, stage.value,
                                 workflow.evaluation_id, at)
                uow.audit("stage", "case", record.case_id, before={"stage": workflow.stage},
                          after={"stage": stage.value, "event": Event.ADJUDICATED.value,
                                 "adjudication": record.id, "signature": signature.id})
                info = _signature_info(signature)
        if error is not None:
            raise error
        assert info is not None
        return info

    # -- the coordinator --------------------------------------------------------------------
    def _status(self, uow: UnitOfWork, case_id: int,
                names: dict[int, str] | None = None) -> CaseAdjudicationStatus:
        case = uow.cases.get(case_id)
        if case is None:
            raise NotFound(f"Case {case_id} does not exist.")
        workflow = uow.workflow.get(case_id)
        if names is None:
            names = {u.id: u.username for u in uow.users.list()}
        evaluation = uow.discordance.current(case_id)
        items: tuple[DecisionItem, ...] = ()
        if evaluation:
            # the items again from the evaluated reads (readers lettered in the evaluation's
            # order, as in its stored English reasons), with the rules and reasons as codes the
            # coordinator's screen says in its language; the stored text where a read is gone
            e = evaluation[0]
            protocol = self.ctx.protocol(uow, e.protocol_version_id)
            refs = [(int(r), int(v)) for r, v in e.reads]
            values_by_ref = uow.reads.values_of(refs)
            stored = {f.field: f for f in e.fields}
            if 2 <= len(refs) <= 8 and all(values_by_ref.get(ref) for ref in refs):
                items = tuple(
                    replace(item, rule=stored[item.key].rule, reason=stored[item.key].reason)
                    if item.key in stored else item
                    for item in decision_items_for(
                        protocol, [f.field for f in e.fields],
                        {"ABCDEFGH"[i]: values_by_ref[ref] for i, ref in enumerate(refs)}))
            else:
                items = tuple(DecisionItem(f.field, protocol.label_for(f.field), f.rule,
                                           f.reason) for f in e.fields)
        reads = {r.read_id: r.reader_id for r in uow.assignments.primary_reads(case_id)}
        third = uow.assignments.third_read(case_id)
        if third is not None:
            read = uow.reads.for_assignment(third.id)
            if read is not None:
                reads[read.id] = third.reader_id
        tasks = tuple(AdjudicationTask(
            a.id, a.adjudicator, a.status, a.created_at, a.decided_at,
            {letter: names.get(reads.get(rid, -1), "?") for letter, (rid, _v) in a.letters.items()},
            tuple(_decision(d) for d in a.decisions)) for a in uow.adjudications.of_case(case_id))
        sessions = tuple(uow.panels.sessions_of_case(case_id))
        return CaseAdjudicationStatus(
            case.id, case.label, case.subject, case.timepoint, case.days_from_insertion,
            workflow.paradigm if workflow else "", workflow.stage if workflow else "reading",
            bool(workflow and workflow.reopened), items, tasks, sessions,
            names.get(third.reader_id) if third is not None else None)

    def adjudication_status(self, session: Session, case_id: int) -> CaseAdjudicationStatus:
        """Coordinator: where one case stands: stage, discordant fields, adjudications (with
        reader names behind the letters), committee sessions."""
        with self.ctx.use_case(session, ADMINS, "see adjudication status",
                               write=False) as (uow, _actor):
            return self._status(uow, int(case_id))

    def adjudication_overview(self, session: Session) -> AdjudicationOverview:
        """Coordinator: cases per stage, pending and decided adjudications, the workload per
        adjudicator, and every case past reading."""
        with self.ctx.use_case(session, ADMINS, "see adjudication progress",
                               write=False) as (uow, _actor):
            workload = uow.adjudications.workload()
            loads = tuple(AdjudicatorLoad(u.id, u.username,
                                          workload.get(u.id, {}).get("pending", 0),
                                          workload.get(u.id, {}).get("decided", 0))
                          for u in uow.users.list(Role.ADJUDICATOR.value))
            panel = uow.panels.counts()
            stages = uow.workflow.stage_counts()
            names = {u.id: u.username for u in uow.users.list()}
            cases = tuple(self._status(uow, w.case_id, names) for w in uow.workflow.list()
                          if w.stage != Stage.CONCORDANT.value)
            return AdjudicationOverview(
                stages, sum(v.get("pending", 0) for v in workload.values()),
                sum(v.get("decided", 0) for v in workload.values()),
                panel.get("open", 0), panel.get("closed", 0), loads, cases)

    def reassign_adjudication(self, session: Session, case_id: int,
                              adjudicator_id: int) -> CaseAdjudicationStatus:
        """Coordinator: give a case waiting for adjudication to another adjudicator (who read
        no part of it); creates the adjudication when none could be drawn."""
        with self.ctx.use_case(session, ADMINS, "reassign adjudications") as (uow, _actor):
            case_id, adjudicator_id = int(case_id), int(adjudicator_id)
            workflow = uow.workflow.get(case_id)
            if workflow is None or workflow.stage != Stage.ADJUDICATION.value:
                raise WorkflowRefused(f"Case {case_id} is not waiting for adjudication.")
            if adjudicator_id not in eligible_adjudicators(uow, case_id):
                raise InvalidInput("Choose an active adjudicator who did not read this case.")
            current = uow.adjudications.current(case_id)
            if current is None:
                evaluation = uow.discordance.current(case_id)[0]
                protocol = self.ctx.protocol(uow, evaluation.protocol_version_id)
                open_adjudication(self.ctx, uow, case_id, evaluation, protocol, adjudicator_id)
            else:
                if current.status != "pending":
                    raise WorkflowRefused("Only a pending adjudication can be reassigned.")
                uow.adjudications.reassign(current.id, adjudicator_id)
                uow.audit("reassign", "adjudication", current.id,
                          before={"adjudicator": current.adjudicator_id},
                          after={"adjudicator": adjudicator_id})
            return self._status(uow, case_id)

    def send_to_panel(self, session: Session, case_id: int, reason: str) -> CaseAdjudicationStatus:
        """Coordinator: send a case to the committee by hand (a pending adjudication is
        superseded and kept; a decided outcome stays until the committee decides)."""
        reason = (reason or "").strip()
        if not reason:
            raise InvalidInput("Say why the case goes to the committee.")
        with self.ctx.use_case(session, ADMINS, "send cases to the committee") as (uow, _actor):
            case_id = int(case_id)
            workflow = uow.workflow.get(case_id)
            stage = Stage(workflow.stage) if workflow else Stage.READING
            try:
                new = advance(workflow.paradigm if workflow else "two_plus_one", stage,
                              Event.SENT_TO_PANEL)
            except AdjudicationError as exc:
                raise WorkflowRefused(str(exc)) from None
            assert workflow is not None
            at = self.ctx.now_iso()
            superseded: list[int] = []
            current = uow.adjudications.current(case_id)
            if current is not None and current.status == "pending":
                superseded = uow.adjudications.supersede_case(case_id, at)
            uow.workflow.set(case_id, workflow.paradigm, new.value, workflow.evaluation_id, at)
            uow.audit("stage", "case", case_id, before={"stage": stage.value},
                      after={"stage": new.value, "event": Event.SENT_TO_PANEL.value,
                             "reason": reason, "superseded_adjudications": superseded})
            return self._status(uow, case_id)

    def _outcome(self, uow: UnitOfWork, case_id: int) -> tuple[CaseOutcomeView, Any]:
        """The case's outcome view and the domain outcome (None while not final)."""
        case = uow.cases.get(case_id)
        if case is None:
            raise NotFound(f"Case {case_id} does not exist.")
        stage, outcome, protocol = case_outcome(self.ctx, uow, case_id)
        values: tuple[FinalValueView, ...] = ()
        if outcome is not None and protocol is not None:
            values = tuple(FinalValueView(v.key, protocol.label_for(v.key), v.value,
                                          v.source.value, v.detail) for v in outcome.values)
        return CaseOutcomeView(case.id, case.label, case.subject, case.timepoint,
                               case.days_from_insertion, stage.value, values), outcome

    def case_outcome(self, session: Session, case_id: int) -> CaseOutcomeView:
        """Coordinator: a case's final values and where each came from."""
        with self.ctx.use_case(session, ADMINS, "see final outcomes",
                               write=False) as (uow, _actor):
            return self._outcome(uow, int(case_id))[0]

    def final_outcomes(self, session: Session) -> tuple[list[CaseOutcomeView],
                                                         list[SubjectOutcomeView]]:
        """Coordinator: every case's outcome, and per subject each complication
        across timepoints (present at any, first timepoint present, worst severity)."""
        with self.ctx.use_case(session, ADMINS, "see final outcomes",
                               write=False) as (uow, _actor):
            cases = uow.cases.list()
            found = [self._outcome(uow, c.id) for c in cases]
            views = [view for view, _outcome in found]
            active = self.ctx.active_version(uow)
            subjects: list[SubjectOutcomeView] = []
            if active is not None:
                by_subject: dict[str, list[CaseAtTimepoint]] = {}
                for case, (_view, outcome) in zip(cases, found):
                    by_subject.setdefault(case.subject, []).append(CaseAtTimepoint(
                        case.label, case.timepoint, case.days_from_insertion, outcome))
                subjects = [SubjectOutcomeView(s, subject_endpoints(active[1], c))
                            for s, c in sorted(by_subject.items())]
            return views, subjects
