"""Assignments: each case to `readers_per_case` readers, in a seeded random order per reader,
with hidden re-reads after a washout (intra-reader agreement); the coordinator's case x reader
table, and reassignment of a read that is not signed yet."""
from __future__ import annotations

import random
import secrets
from collections import defaultdict
from collections.abc import Sequence

from adjudication.protocol import Protocol
from ioreview.errors import InvalidInput, NotFound, ReadLocked
from ioreview.store import UnitOfWork
from ioreview.store.records import CaseRecord

from .blinding import prior_cases
from .cases import new_label
from .context import ADMINS, ServiceContext, iso
from .reader_copies import copy_reread_series
from .values import (AssignmentEntry, AssignmentPurpose, AssignmentSummary, AssignmentTable,
                     ReaderAssignmentTotals, ReadStatus, ReassignmentResult, Role, Session)

__all__ = ["Assignments"]


class Assignments:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    @staticmethod
    def _reader_ids(uow: UnitOfWork, readers: Sequence[int] | None) -> list[int]:
        if readers is None:
            return [r.id for r in uow.users.list(Role.READER.value) if r.active]
        ids = list(dict.fromkeys(int(r) for r in readers))
        for user_id in ids:
            row = uow.users.get(user_id)
            if row is None or row.role != Role.READER.value or not row.active:
                raise InvalidInput(f"User {user_id} is not an active reader; choose readers from "
                                   "the user list.")
        return ids

    @staticmethod
    def _reader_order(cases: Sequence[CaseRecord], rng: random.Random,
                      by_time: bool) -> list[CaseRecord]:
        """A reader's randomized order; with priors, subjects are shuffled and each subject's
        cases are read in time order."""
        if not by_time:
            order = list(cases)
            rng.shuffle(order)
            return order
        subjects: dict[str, list[CaseRecord]] = defaultdict(list)
        for case in cases:
            subjects[case.subject].append(case)
        names = sorted(subjects)
        rng.shuffle(names)
        return [c for name in names for c in sorted(
            subjects[name], key=lambda c: (c.days_from_insertion is None,
                                           c.days_from_insertion or 0, c.id))]

    @staticmethod
    def _place_rereads(order: list[CaseRecord], fraction: float, rng: random.Random
                       ) -> list[tuple[CaseRecord, bool]]:
        """Insert a hidden re-read of a random `fraction` of `order` among the later cases
        (after its original and in the second half)."""
        sequence: list[tuple[CaseRecord, bool]] = [(c, False) for c in order]
        if fraction <= 0 or not order:
            return sequence
        n = max(1, round(fraction * len(order)))
        for case in rng.sample(list(order), min(n, len(order))):
            original = next(i for i, (c, r) in enumerate(sequence) if c is case and not r)
            low = max(original + 1, len(sequence) // 2)
            sequence.insert(rng.randint(low, len(sequence)), (case, True))
        return sequence

    def generate_assignments(self, session: Session, readers: Sequence[int] | None = None,
                             seed: int | None = None) -> AssignmentSummary:
        """Coordinator/admin: assign every case not yet assigned to `readers_per_case` readers
        (from the active protocol), balancing the load; each reader's new cases follow in a
        random order drawn from the seed (recorded with the run) and the reader's id; a hidden
        re-read subset (protocol `rereads.fraction`) gets its own label and becomes available
        only after `rereads.washout_days`.  Cases already assigned are left alone."""
        with self.ctx.use_case(session, ADMINS, "generate assignments") as (uow, actor):
            version_id, protocol = self.ctx.require_active(uow)
            reader_ids = self._reader_ids(uow, readers)
            per_case = protocol.readers_per_case
            if len(reader_ids) < per_case:
                raise InvalidInput(
                    f"Protocol {protocol.id} {protocol.version} needs {per_case} readers per case "
                    f"but only {len(reader_ids)} active reader(s) are available; create more "
                    "reader accounts first.")
            seed = secrets.randbelow(2 ** 31) if seed is None else int(seed)
            assigned = uow.assignments.assigned_case_ids()
            cases = [c for c in uow.cases.list() if c.id not in assigned]
            cases.sort(key=lambda c: c.id)
            usernames = {u.id: u.username for u in uow.users.list() if u.id in reader_ids}
            if not cases:
                return AssignmentSummary(seed, 0, 0, {usernames[r]: 0 for r in reader_ids})
            rng = random.Random(seed)
            primary = uow.assignments.primary_counts()
            load = {r: primary.get(r, 0) for r in reader_ids}
            per_reader: dict[int, list[CaseRecord]] = {r: [] for r in reader_ids}
            for case in cases:
                chosen = sorted(reader_ids, key=lambda r: (load[r], rng.random()))[:per_case]
                for r in chosen:
                    load[r] += 1
                    per_reader[r].append(case)
            run_id = uow.assignments.add_run(seed, version_id, reader_ids, self.ctx.now_iso(),
                                             actor.audit_name)
            now = self.ctx.clock()
            washout_until = now + protocol.rereads.washout_days * 86400.0
            by_time = protocol.priors.value == "earlier_timepoints"
            counts: dict[str, int] = {}
            rows: list[tuple[int, int, int, bool]] = []
            for r in reader_ids:
                reader_rng = random.Random(f"{seed}:{r}")
                order = self._reader_order(per_reader[r], reader_rng, by_time)
                sequence = self._place_rereads(order, protocol.rereads.fraction, reader_rng)
                base = uow.assignments.max_order_index(r) + 1
                rows.extend((case.id, r, base + offset, is_reread)
                            for offset, (case, is_reread) in enumerate(sequence))
                counts[usernames[r]] = len(sequence)
            # Insert in a shuffled order so that row ids say nothing about order or re-reads.
            rng.shuffle(rows)
            rereads: list[int] = []
            for case_id, r, order_index, is_reread in rows:
                label = new_label(self.ctx, uow) if is_reread else None
                available = washout_until if is_reread else now
                assignment_id = uow.assignments.add(case_id, r, run_id, order_index, is_reread,
                                                     label, available)
                uow.audit("create", "assignment", assignment_id,
                         after={"case": case_id, "reader": r, "order_index": order_index,
                                "is_reread": is_reread, "label": label,
                                "available_from": iso(available)})
                if is_reread:
                    rereads.append(assignment_id)
            n_total = len(rows)
            n_rereads = sum(1 for row in rows if row[3])
            uow.audit("generate", "assignment_run", run_id,
                     after={"seed": seed, "readers": reader_ids, "assignments": n_total,
                            "rereads": n_rereads, "protocol_version": version_id})
            summary = AssignmentSummary(seed, n_total, n_rereads, counts)
        # each re-read's copies in its own short transaction, so reading workstations are not
        # held for the whole batch (a re-read left without copies by a crash gets them at its
        # first opening)
        for assignment_id in rereads:
            with self.ctx.use_case(session, ADMINS, "generate assignments") as (uow, _actor):
                self._copy_rereads(uow, [assignment_id], protocol)
        return summary

    def _copy_rereads(self, uow: UnitOfWork, assignment_ids: Sequence[int],
                      protocol: Protocol) -> None:
        """Each hidden re-read's own de-identified copies, made now so that its first
        opening writes nothing (reader_copies)."""
        jobs = []
        for assignment_id in assignment_ids:
            assignment = uow.assignments.get(assignment_id)
            case = uow.cases.get(assignment.case_id) if assignment else None
            assert assignment is not None and case is not None
            jobs.append((assignment, case, prior_cases(uow, case, protocol)))
        copy_reread_series(self.ctx, uow, jobs)


    def assignment_table(self, session: Session) -> AssignmentTable:
        """Coordinator/admin: every assignment as a case x reader row (purpose, read status,
        position in the reader's list, available from), hidden re-reads marked as such, and
        per reader the totals with what their worklist does not show yet (hidden re-reads,
        assignments still in their washout).  Readers never get this view."""
        with self.ctx.use_case(session, ADMINS, "see the assignment table",
                               write=False) as (uow, _actor):
            rows = uow.assignments.overview()
        now = self.ctx.clock()
        entries = tuple(AssignmentEntry(
            r.assignment_id, r.case_id, r.case_label, r.reader_id, r.username, r.display_name,
            AssignmentPurpose.HIDDEN_REREAD if r.is_reread else
            AssignmentPurpose.THIRD_READ if r.is_third_read else AssignmentPurpose.PRIMARY,
            ReadStatus(r.status or ReadStatus.NEW.value), r.position, iso(r.available_from),
            r.available_from <= now, r.reread_label) for r in rows)
        totals: dict[int, ReaderAssignmentTotals] = {}
        for e in sorted(entries, key=lambda e: (e.reader, e.reader_id)):
            t = totals.get(e.reader_id) or ReaderAssignmentTotals(
                e.reader_id, e.reader, e.reader_name, 0, 0, 0, 0)
            hidden = e.purpose is AssignmentPurpose.HIDDEN_REREAD
            totals[e.reader_id] = ReaderAssignmentTotals(
                t.reader_id, t.reader, t.reader_name, t.assigned + 1,
                t.hidden_rereads + hidden, t.not_yet_available + (not e.available_now),
                t.in_worklist + e.available_now)
        return AssignmentTable(entries, tuple(totals.values()))

    def reassign(self, session: Session, assignment_id: int, new_reader_id: int,
                 reason: str) -> ReassignmentResult:
        """Coordinator/admin: give an assignment whose read is not signed to another active
        reader who has no part of the case, with a reason (audited).  The new reader starts
        empty: a draft of the old reader is withdrawn (its answers, annotation and key-image
        counts and time go into the audit record, which the coordinator can read; the read
        keeps its id for the new reader, emptied; the old reader no longer sees the case),
        and the old reader's unsigned hidden re-read of the case moves with it.  A signed read
        is refused (ReadLocked), and so is a hidden re-read on its own (it measures the same
        reader twice)."""
        with self.ctx.use_case(session, ADMINS, "reassign reads") as (uow, _actor):
            reason = (reason or "").strip()
            if not reason:
                raise InvalidInput("Give a reason for the reassignment; it is kept in the "
                                   "audit trail.")
            assignment = uow.assignments.get(int(assignment_id))
            if assignment is None:
                raise NotFound(f"Assignment {assignment_id} does not exist; refresh the "
                               "assignment table.")
            case = uow.cases.get(assignment.case_id)
            assert case is not None
            old = uow.users.get(assignment.reader_id)
            old_name = old.username if old is not None else str(assignment.reader_id)
            if assignment.is_reread:
                raise InvalidInput(
                    f"This is {old_name}'s hidden re-read of case {case.label}: it measures the "
                    "same reader twice and cannot go to another reader. Reassign the primary "
                    "read instead (an unsigned hidden re-read moves with it).")
            new = uow.users.get(int(new_reader_id))
            if new is None or new.role != Role.READER.value or not new.active:
                raise InvalidInput(f"User {new_reader_id} is not an active reader; choose "
                                   "a reader from the user list.")
            if new.id == assignment.reader_id:
                raise InvalidInput(f"Case {case.label} is already assigned to {new.username}.")
            if uow.assignments.reader_has_case(case.id, new.id):
                raise InvalidInput(
                    f"{new.username} already has case {case.label} (a read, a hidden re-read "
                    "or a third read): a reader reads a case once, so choose another reader.")
            moving = [assignment] + [
                a for a in uow.assignments.of_case(case.id)
                if a.is_reread and a.reader_id == assignment.reader_id]
            reads = {a.id: uow.reads.for_assignment(a.id) for a in moving}
            primary_read = reads[assignment.id]
            if primary_read is not None and primary_read.status == ReadStatus.SUBMITTED.value:
                raise ReadLocked(
                    f"{old_name}'s read of case {case.label} is signed: a signed read stays "
                    "with its reader (an amendment can change it); nothing was reassigned.")
            moving = [a for a in moving if a is assignment or reads[a.id] is None
                      or reads[a.id].status != ReadStatus.SUBMITTED.value]
            order_index = uow.assignments.max_order_index(new.id) + 1
            withdrawn = False
            for offset, a in enumerate(moving):
                draft = reads[a.id]
                before: dict[str, object] = {"reader": a.reader_id, "order_index": a.order_index}
                if draft is not None:
                    before["draft"] = {
                        "read": draft.id, "values": uow.reads.values(draft.id, draft.version),
                        "annotations": uow.reads.count_annotations(draft.id, draft.version),
                        "key_images": uow.reads.count_key_images(draft.id, draft.version),
                        "active_seconds": draft.active_seconds, "started_at": draft.started_at}
                    uow.assignments.withdraw_draft(draft.id, self.ctx.now_iso())
                    uow.audit("withdraw", "read", draft.id,
                              before=before["draft"], after={"reason": reason})
                    withdrawn = True
                uow.assignments.move(a.id, new.id, order_index + offset)
                uow.audit("reassign", "assignment", a.id, before=before,
                          after={"reader": new.id, "order_index": order_index + offset,
                                 "reason": reason, "case": case.id,
                                 "is_reread": a.is_reread})
            return ReassignmentResult(assignment.id, case.label, old_name, new.username,
                                      withdrawn, tuple(a.id for a in moving[1:]))
