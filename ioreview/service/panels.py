"""Committee (consensus panel) sessions: the coordinator or a committee chair creates one with
cases waiting for the committee, members and a chair; the chair records attendance; each member
present casts one signed ballot per case (one vote per item, readers as letters); the chair
breaks a majority tie with a signed casting vote and finalises the session with minutes and a
signature, which decides its cases.  Votes stay hidden until every member present has voted
when the protocol says so.  Readers and adjudicators cannot reach any of it."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from adjudication.panel import (PanelError, SessionStatus, Tally,
                                check_can_finalise, check_casting_vote, check_vote, tally,
                                visible_votes)
from adjudication.paradigms import (AdjudicationError, Decision, Event, Stage, advance,
                                    canonical_value, validate_decisions)
from adjudication.protocol import Protocol
from ioreview.auth import verify_password
from ioreview.errors import (BlindingViolation, InvalidInput, IoreviewError, NotFound,
                             PermissionDenied, SignatureRejected)
from ioreview.store import UnitOfWork
from ioreview.store.records import PanelCaseRecord, PanelSessionRecord

from . import signatures
from .adjudication import decision_items_for, lettered_reads
from .context import ADMINS, Actor, ServiceContext
from .reader_copies import case_copy_views, copy_case_series, existing_case_copy_views
from .values import (BALLOT_MEANING, CASTING_MEANING, PANEL_MEANING, CaseAdjudicationStatus,
                     PanelCandidates, PanelCaseView, UserInfo,
                     PanelItemView, PanelMember, PanelSessionSummary, PanelSessionView, Role,
                     Session, SignatureInfo)
from .workflow import lettered_values, letters_for, primary_items

__all__ = ["Panels"]

COMMITTEE = frozenset({Role.COMMITTEE})
ORGANISERS = ADMINS | COMMITTEE
#: who may sit on a committee
MEMBER_ROLES = frozenset({Role.COMMITTEE.value, Role.ADJUDICATOR.value})


def _refused(exc: AdjudicationError) -> IoreviewError:
    return InvalidInput(str(exc))


def _sig(s: Any, uow: Any = None) -> SignatureInfo:
    """The signature with the signer's printed name when `uow` is given (21 CFR 11.50)."""
    user = None if uow is None else uow.users.get(s.signer_id)
    return SignatureInfo(s.id, s.entity_id, s.signer, s.signed_at, s.meaning, s.content_sha256,
                         s.version, s.signer if user is None else user.display_name)


# -- signed content ---------------------------------------------------------------------------
def ballot_content(uow: UnitOfWork, ballot_id: int, signer: str, meaning: str,
                   signed_at: str) -> dict[str, Any] | None:
    ballot = uow.panels.ballot(ballot_id)
    if ballot is None:
        return None
    session_id, case_id, member_id, casting, cast_at = ballot
    return {"ballot_id": ballot_id, "session_id": session_id, "case_id": case_id,
            "member_id": member_id, "casting": casting, "cast_at": cast_at,
            "votes": uow.panels.ballot_votes(ballot_id), "signer": signer, "meaning": meaning,
            "signed_at": signed_at}


def session_content(uow: UnitOfWork, session_id: int, signer: str, meaning: str,
                    signed_at: str) -> dict[str, Any] | None:
    s = uow.panels.session(session_id)
    if s is None:
        return None
    return {"session_id": s.id, "title": s.title, "chair_id": s.chair_id, "rule": s.rule,
            "quorum": s.quorum, "hidden_votes": s.hidden_votes,
            "members": [[uid, name, present] for uid, name, present in s.members],
            "cases": [{"case_id": c.case_id, "letters": {k: list(v) for k, v in c.letters.items()},
                       "items": list(c.items), "status": c.status}
                      for c in uow.panels.cases(session_id)],
            "votes": [[v.ballot_id, v.case_id, v.field, v.member_id, v.casting, v.value]
                      for v in uow.panels.votes(session_id)],
            "results": [[r.case_id, r.field, r.value, r.detail]
                        for r in uow.panels.results(session_id)],
            "minutes": s.minutes, "signer": signer, "meaning": meaning, "signed_at": signed_at}


signatures.CONTENT_BUILDERS["panel_ballot"] = (
    lambda uow, s: ballot_content(uow, s.entity_id, s.signer, s.meaning, s.signed_at))
signatures.CONTENT_BUILDERS["panel_session"] = (
    lambda uow, s: session_content(uow, s.entity_id, s.signer, s.meaning, s.signed_at))


def _members(uow: UnitOfWork, record: PanelSessionRecord) -> tuple[PanelMember, ...]:
    """The session's members with their printed names (the committee sees one another by
    name; readers stay letters)."""
    printed = {u.id: u.display_name for u in uow.users.list()}
    return tuple(PanelMember(uid, name, present, uid == record.chair_id,
                             printed.get(uid) or name)
                 for uid, name, present in record.members)


class Panels:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    # -- helpers -----------------------------------------------------------------------------
    def _session(self, uow: UnitOfWork, actor: Actor, session_id: int) -> PanelSessionRecord:
        record = uow.panels.session(int(session_id))
        if record is None:
            raise NotFound(f"Committee session {session_id} does not exist.")
        if actor.role in ADMINS:
            return record
        if actor.user_id not in {m[0] for m in record.members}:
            raise BlindingViolation(f"You are not a member of committee session {session_id}.")
        return record

    @staticmethod
    def _present(record: PanelSessionRecord) -> set[int]:
        return {uid for uid, _n, present in record.members if present}

    def _tallies(self, uow: UnitOfWork, record: PanelSessionRecord
                 ) -> dict[tuple[int, str], tuple[Tally, dict[int, Any], Any, bool]]:
        """(case, item) -> (tally, votes by member, casting vote, has casting vote), for the
        session's open or decided cases."""
        present = self._present(record)
        votes: dict[tuple[int, str], dict[int, Any]] = {}
        casting: dict[tuple[int, str], Any] = {}
        for v in uow.panels.votes(record.id):
            if v.casting:
                casting[(v.case_id, v.field)] = v.value
            else:
                votes.setdefault((v.case_id, v.field), {})[v.member_id] = v.value
        out = {}
        for c in uow.panels.cases(record.id):
            if c.status == "superseded":
                continue
            for key in c.items:
                k = (c.case_id, key)
                t = tally(votes.get(k, {}), present, _rules(record), casting.get(k),
                          has_casting_vote=k in casting)
                out[k] = (t, votes.get(k, {}), casting.get(k), k in casting)
        return out

    def _protocol(self, uow: UnitOfWork, record: PanelSessionRecord) -> Protocol:
        return self.ctx.protocol(uow, record.protocol_version_id)

    def _summary(self, uow: UnitOfWork, record: PanelSessionRecord) -> PanelSessionSummary:
        return PanelSessionSummary(
            record.id, record.title, record.chair, record.status, record.created_at,
            record.closed_at, len(uow.panels.cases(record.id)),
            _members(uow, record))

    def _blocker(self, uow: UnitOfWork, record: PanelSessionRecord, minutes: str = "x") -> str | None:
        tallies = {k: v[0] for k, v in self._tallies(uow, record).items()}
        try:
            check_can_finalise(SessionStatus(record.status), record.quorum,
                               self._present(record), tallies, minutes,
                               self._labels(uow, record))
        except PanelError as exc:
            return str(exc)
        return None

    def _labels(self, uow: UnitOfWork, record: PanelSessionRecord) -> dict[tuple[int, str], str]:
        protocol = self._protocol(uow, record)
        return {(c.case_id, k): f"{c.case_label} {protocol.label_for(k)}"
                for c in uow.panels.cases(record.id) for k in c.items}

    def _without_copies(self, uow: UnitOfWork, record: PanelSessionRecord) -> list[int]:
        """The session's cases whose de-identified copies are not all made yet."""
        missing = []
        for c in uow.panels.cases(record.id):
            case = uow.cases.get(c.case_id)
            assert case is not None
            if existing_case_copy_views(uow, case) is None:
                missing.append(case.id)
        return missing

    def _view(self, uow: UnitOfWork, actor: Actor, record: PanelSessionRecord) -> PanelSessionView:
        """The session as `actor` may see it; each case's images are its de-identified copies
        (made first where missing, which needs a write transaction) with the readers'
        annotations on the copies' UIDs."""
        protocol = self._protocol(uow, record)
        present = self._present(record)
        names = {uid: name for uid, name, _p in record.members}
        tallies = self._tallies(uow, record)
        closed = record.status == SessionStatus.CLOSED.value
        cases = []
        for c in uow.panels.cases(record.id):
            case = uow.cases.get(c.case_id)
            assert case is not None
            series, copy_sets = case_copy_views(self.ctx, uow, case)
            values = lettered_values(uow, c.letters)
            items = []
            for di in decision_items_for(protocol, c.items, values):
                t, votes, _cv, has_cv = tallies.get((c.case_id, di.key),
                                                    (tally({}, present, _rules(record)), {},
                                                     None, False))
                seen = visible_votes(votes, present, actor.user_id or -1, record.hidden_votes,
                                     closed)
                hidden = seen is not None and set(seen) != set(votes)
                items.append(PanelItemView(
                    c.case_id, di.key, di.label, di.committee_only,
                    {letter: v.get(di.key) for letter, v in values.items()}, t.status.value,
                    t.value, t.counts if not hidden else (), t.voted, t.present,
                    None if hidden else {names.get(m, str(m)): v for m, v in votes.items()},
                    votes.get(actor.user_id or -1), (actor.user_id or -1) in votes, has_cv,
                    di))
            cases.append(PanelCaseView(c.case_id, case.label, case.timepoint,
                                       case.days_from_insertion, c.status, series,
                                       lettered_reads(uow, c.letters, copy_sets),
                                       tuple(items)))
        signed = uow.signatures.of("panel_session", record.id)
        return PanelSessionView(
            record.id, record.title, record.chair, record.chair_id, record.status, record.rule,
            record.quorum, record.hidden_votes,
            _members(uow, record),
            len(present) >= record.quorum, protocol, tuple(cases), record.minutes,
            record.closed_at, None if closed else self._blocker(uow, record),
            _sig(signed[-1], uow) if signed else None)

    def _password(self, session: Session, action: str, roles: frozenset[Role]) -> Any:
        with self.ctx.use_case(session, roles, action, write=False) as (uow, actor):
            user = uow.users.get(actor.user_id)
            if user is None:
                raise PermissionDenied(f"You cannot {action} from a workstation session.")
            return user.password_hash

    def _attempt(self, uow: UnitOfWork, actor: Actor, ok: bool, hash_seen: str,
                 what: str) -> IoreviewError | None:
        assert actor.user_id is not None
        return self.ctx.record_password_attempt(
            uow, actor.user_id, ok, hash_seen,
            lambda left: SignatureRejected(
                f"The password does not match; the {what} was NOT signed. {left} attempt(s) "
                "left before the account locks for 15 minutes."), f"sign {what}")

    # -- use cases ---------------------------------------------------------------------------
    def create_panel_session(self, session: Session, title: str, chair_id: int,
                             member_ids: Sequence[int], case_ids: Sequence[int]
                             ) -> PanelSessionSummary:
        """Coordinator, or a committee member as its chair: a committee session for cases
        waiting for the committee, with members (committee or adjudicator accounts who read
        none of the cases) and a chair among them."""
        title = (title or "").strip()
        if not title:
            raise InvalidInput("Give the committee session a title (e.g. the meeting date).")
        with self.ctx.use_case(session, ORGANISERS, "organise committee sessions") as (uow, actor):
            chair_id = int(chair_id)
            members = list(dict.fromkeys(int(m) for m in member_ids))
            if chair_id not in members:
                members.insert(0, chair_id)
            if actor.role is Role.COMMITTEE and chair_id != actor.user_id:
                raise PermissionDenied("A committee member creates sessions that they chair.")
            case_ids = list(dict.fromkeys(int(c) for c in case_ids))
            if not case_ids:
                raise InvalidInput("Choose at least one case waiting for the committee.")
            readers: set[int] = set()
            for cid in case_ids:
                w = uow.workflow.get(cid)
                if w is None or w.stage != Stage.PANEL.value:
                    label = w.case_label if w else str(cid)
                    raise InvalidInput(f"Case {label} is not waiting for the committee; send it "
                                       "to the committee first.")
                if uow.panels.open_case_sessions(cid):
                    raise InvalidInput(f"Case {w.case_label} is already in an open session.")
                readers.update(a.reader_id for a in uow.assignments.of_case(cid))
            for uid in members:
                user = uow.users.get(uid)
                if user is None or not user.active or user.role not in MEMBER_ROLES:
                    raise InvalidInput(f"User {uid} cannot sit on the committee: members are "
                                       "active committee or adjudicator accounts.")
                if uid in readers:
                    raise InvalidInput(f"{user.username} read one of these cases and cannot "
                                       "sit on its committee.")
            version_id, protocol = self.ctx.require_active(uow)
            rules = protocol.panel
            at = self.ctx.now_iso()
            session_id = uow.panels.add_session(title, chair_id, rules.rule.value, rules.quorum,
                                                rules.hidden_votes, version_id,
                                                actor.audit_name, at)
            for uid in members:
                uow.panels.add_member(session_id, uid)
            for cid in case_ids:
                self._add_case(uow, session_id, cid, protocol)
            uow.audit("create", "panel_session", session_id,
                      after={"title": title, "chair": chair_id, "members": members,
                             "cases": case_ids, "rule": rules.rule.value,
                             "quorum": rules.quorum, "hidden_votes": rules.hidden_votes})
            record = uow.panels.session(session_id)
            assert record is not None
            return self._summary(uow, record)

    def _add_case(self, uow: UnitOfWork, session_id: int, case_id: int,
                  protocol: Protocol) -> None:
        evaluation = uow.discordance.current(case_id)
        ev = evaluation[0] if evaluation else None
        refs = list(ev.reads) if ev else []
        third = uow.assignments.third_read(case_id)
        if third is not None:
            read = uow.reads.for_assignment(third.id)
            if read is not None and read.status == "submitted":
                refs.append((read.id, read.version))
        seed = self.ctx.label_random.randrange(2 ** 31)
        letters = letters_for(refs, seed)
        primary = [uow.reads.values(*r) for r in (ev.reads if ev else [])]
        items = primary_items(protocol, primary) + protocol.committee_keys()
        copy_case_series(self.ctx, uow, case_id)  # the images the committee is handed
        uow.panels.add_case(session_id, case_id, ev.id if ev else None, seed, letters, items)
        uow.audit("add_case", "panel_session", session_id,
                  after={"case": case_id, "seed": seed,
                         "letters": {k: list(v) for k, v in letters.items()},
                         "items": list(items)})

    def committee_candidates(self, session: Session) -> PanelCandidates:
        """Coordinator or committee member: who may sit on a committee (active committee and
        adjudicator accounts) and the cases waiting for the committee, to create a session.
        A committee member sees the cases by label and timepoint only (no subject, no
        adjudication details)."""
        with self.ctx.use_case(session, ORGANISERS, "organise committee sessions",
                               write=False) as (uow, actor):
            members = tuple(UserInfo(u.id, u.username, u.display_name, Role(u.role), u.active,
                                     None, 0)
                            for u in uow.users.list() if u.active and u.role in MEMBER_ROLES)
            cases = []
            for w in uow.workflow.list(Stage.PANEL.value):
                if uow.panels.open_case_sessions(w.case_id):
                    continue
                case = uow.cases.get(w.case_id)
                assert case is not None
                cases.append(CaseAdjudicationStatus(
                    case.id, case.label, case.subject if actor.role in ADMINS else "",
                    case.timepoint, case.days_from_insertion, w.paradigm, w.stage, w.reopened,
                    (), (), ()))
            return PanelCandidates(members, tuple(cases))

    def panel_sessions(self, session: Session) -> list[PanelSessionSummary]:
        """Committee member: own sessions; coordinator: all."""
        with self.ctx.use_case(session, ORGANISERS, "see committee sessions",
                               write=False) as (uow, actor):
            records = uow.panels.sessions(None if actor.role in ADMINS else actor.user_id)
            return [self._summary(uow, r) for r in records]

    def open_panel_session(self, session: Session, session_id: int) -> PanelSessionView:
        """Member or coordinator: the session with its cases (readers as letters; images as
        de-identified copies), items, tallies, and the votes the caller may see."""
        with self.ctx.use_case(session, ORGANISERS, "see committee sessions",
                               write=False) as (uow, actor):
            record = self._session(uow, actor, session_id)
            if not self._without_copies(uow, record):
                return self._view(uow, actor, record)
        # copies are made when a case is built or joins a session; one built before copies
        # existed gets them now
        with self.ctx.use_case(session, ORGANISERS, "see committee sessions") as (uow, actor):
            record = self._session(uow, actor, session_id)
            return self._view(uow, actor, record)

    def record_attendance(self, session: Session, session_id: int,
                          present: Mapping[int, bool]) -> PanelSessionView:
        """The chair or the coordinator: who is present (while the session is open)."""
        with self.ctx.use_case(session, ORGANISERS, "record attendance") as (uow, actor):
            record = self._session(uow, actor, session_id)
            if actor.role not in ADMINS and actor.user_id != record.chair_id:
                raise PermissionDenied("Only the chair (or the coordinator) records attendance.")
            if record.status != SessionStatus.OPEN.value:
                raise InvalidInput("The session is finalised; attendance is fixed.")
            members = {uid for uid, _n, _p in record.members}
            voted = {v.member_id for v in uow.panels.votes(record.id)}
            before = {uid: p for uid, _n, p in record.members}
            for uid, flag in present.items():
                uid = int(uid)
                if uid not in members:
                    raise InvalidInput(f"User {uid} is not a member of this session.")
                if not flag and uid in voted:
                    raise InvalidInput("A member who has voted stays recorded as present.")
                uow.panels.set_present(record.id, uid, bool(flag))
            uow.audit("attendance", "panel_session", record.id,
                      before={str(k): v for k, v in before.items()},
                      after={str(int(k)): bool(v) for k, v in present.items()})
            updated = uow.panels.session(record.id)
            assert updated is not None
            return self._view(uow, actor, updated)

    def cast_votes(self, session: Session, session_id: int, case_id: int,
                   votes: Sequence[Decision], password: str) -> SignatureInfo:
        """A member present: one signed ballot for a case: per item, Reader A/B (C) or an own
        value (committee-only items take own values); one vote per member per item."""
        hash_seen = self._password(session, "vote", COMMITTEE | {Role.ADJUDICATOR})
        check = self.ctx.in_background(verify_password, password or "", hash_seen)
        ok = check.result()
        error: IoreviewError | None = None
        info: SignatureInfo | None = None
        with self.ctx.use_case(session, COMMITTEE | {Role.ADJUDICATOR}, "vote") as (uow, actor):
            record = self._session(uow, actor, session_id)
            case = self._case(uow, record, int(case_id))
            protocol = self._protocol(uow, record)
            already = {v.field for v in uow.panels.votes(record.id, case.case_id)
                       if v.member_id == actor.user_id and not v.casting}
            items = set(case.items)
            try:
                for key in case.items:
                    check_vote(SessionStatus(record.status), {m[0] for m in record.members},
                               self._present(record), actor.user_id or -1,
                               (case.case_id, key), {(case.case_id, k) for k in items},
                               {actor.user_id or -1} if key in already else set())
                decided = validate_decisions(
                    protocol, case.items, lettered_values(uow, case.letters),
                    [v if isinstance(v, Decision) else Decision(*v) for v in votes],
                    require_rationale=False)
            except AdjudicationError as exc:
                raise _refused(exc) from None
            error = self._attempt(uow, actor, ok, hash_seen, "ballot")
            if error is None:
                at = self.ctx.now_iso()
                values = {k: decided[k].value for k in case.items}
                ballot_id = uow.panels.add_ballot(record.id, case.case_id, actor.user_id or 0,
                                                  False, values, at)
                uow.audit("vote", "panel_session", record.id,
                          after={"case": case.case_id, "ballot": ballot_id, "votes": values})
                content = ballot_content(uow, ballot_id, actor.username, BALLOT_MEANING, at)
                info = _sig(signatures.sign(uow, "panel_ballot", ballot_id, 1,
                                            actor.user_id or 0, actor.username, at,
                                            BALLOT_MEANING, content))
        if error is not None:
            raise error
        assert info is not None
        return info

    def _case(self, uow: UnitOfWork, record: PanelSessionRecord, case_id: int) -> PanelCaseRecord:
        for c in uow.panels.cases(record.id):
            if c.case_id == case_id:
                if c.status == "superseded":
                    raise InvalidInput(f"Case {c.case_label} left this session: a read was "
                                       "amended, so it is evaluated again.")
                return c
        raise NotFound(f"Case {case_id} is not in committee session {record.id}.")

    def cast_deciding_vote(self, session: Session, session_id: int, case_id: int, key: str,
                           value: Any, password: str) -> SignatureInfo:
        """The chair: break a majority tie on one item, once every member present has voted,
        choosing one of the tied values; signed."""
        hash_seen = self._password(session, "cast a deciding vote", COMMITTEE)
        ok = self.ctx.in_background(verify_password, password or "", hash_seen).result()
        error: IoreviewError | None = None
        info: SignatureInfo | None = None
        with self.ctx.use_case(session, COMMITTEE, "cast a deciding vote") as (uow, actor):
            record = self._session(uow, actor, session_id)
            case = self._case(uow, record, int(case_id))
            current = self._tallies(uow, record).get((case.case_id, key))
            if current is None:
                raise InvalidInput(f"{key!r} is not an item of case {case.case_label}.")
            try:
                check_casting_vote(SessionStatus(record.status), record.chair_id,
                                   actor.user_id or -1, current[0])
            except AdjudicationError as exc:
                raise _refused(exc) from None
            tied = [k for k, n in current[0].counts if n == current[0].counts[0][1]]
            if canonical_value(value) not in tied:
                raise InvalidInput("The casting vote chooses one of the tied values.")
            error = self._attempt(uow, actor, ok, hash_seen, "casting vote")
            if error is None:
                at = self.ctx.now_iso()
                ballot_id = uow.panels.add_ballot(record.id, case.case_id, actor.user_id or 0,
                                                  True, {key: value}, at)
                uow.audit("casting_vote", "panel_session", record.id,
                          after={"case": case.case_id, "field": key, "value": value,
                                 "ballot": ballot_id})
                content = ballot_content(uow, ballot_id, actor.username, CASTING_MEANING, at)
                info = _sig(signatures.sign(uow, "panel_ballot", ballot_id, 1,
                                            actor.user_id or 0, actor.username, at,
                                            CASTING_MEANING, content))
        if error is not None:
            raise error
        assert info is not None
        return info

    def finalise_panel_session(self, session: Session, session_id: int, minutes: str,
                               password: str) -> SignatureInfo:
        """The chair: close the session with minutes (quorum present, every item decided),
        signed; its cases are decided by the committee."""
        minutes = (minutes or "").strip()
        hash_seen = self._password(session, "finalise committee sessions", COMMITTEE)
        ok = self.ctx.in_background(verify_password, password or "", hash_seen).result()
        error: IoreviewError | None = None
        info: SignatureInfo | None = None
        with self.ctx.use_case(session, COMMITTEE, "finalise committee sessions") as (uow, actor):
            record = self._session(uow, actor, session_id)
            if actor.user_id != record.chair_id:
                raise PermissionDenied("Only the chair finalises the session.")
            tallies = self._tallies(uow, record)
            try:
                check_can_finalise(SessionStatus(record.status), record.quorum,
                                   self._present(record), {k: v[0] for k, v in tallies.items()},
                                   minutes, self._labels(uow, record))
            except AdjudicationError as exc:
                raise _refused(exc) from None
            error = self._attempt(uow, actor, ok, hash_seen, "committee decision")
            if error is None:
                at = self.ctx.now_iso()
                results = []
                for (cid, key), (t, _votes, _cv, _has) in sorted(tallies.items()):
                    counts = "-".join(str(n) for _k, n in t.counts)
                    detail = (f"committee {record.rule} vote {counts} ({t.present} present)"
                              + ("; chair's casting vote" if t.casting else ""))
                    results.append((cid, key, t.value, detail))
                uow.panels.close(record.id, minutes, at, results)
                uow.audit("finalise", "panel_session", record.id,
                          after={"minutes": minutes, "results": [list(r) for r in results]})
                for c in uow.panels.cases(record.id):
                    if c.status != "decided":
                        continue
                    w = uow.workflow.get(c.case_id)
                    assert w is not None
                    stage = advance(w.paradigm, Stage(w.stage), Event.PANEL_DECIDED)
                    uow.workflow.set(c.case_id, w.paradigm, stage.value, w.evaluation_id, at)
                    uow.audit("stage", "case", c.case_id, before={"stage": w.stage},
                              after={"stage": stage.value, "event": Event.PANEL_DECIDED.value,
                                     "panel_session": record.id})
                content = session_content(uow, record.id, actor.username, PANEL_MEANING, at)
                info = _sig(signatures.sign(uow, "panel_session", record.id, 1,
                                            actor.user_id or 0, actor.username, at,
                                            PANEL_MEANING, content))
        if error is not None:
            raise error
        assert info is not None
        return info


def _rules(record: PanelSessionRecord) -> Any:
    from adjudication.protocol import PanelRule, PanelRules

    return PanelRules(PanelRule(record.rule), record.quorum, record.hidden_votes)

