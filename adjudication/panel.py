"""A consensus panel (committee) session as a state machine: attendance and quorum, one vote per
member present per item, majority or unanimity, the chair's casting vote on a majority tie,
votes hidden until every member present has voted (a protocol option), and finalisation with
minutes only when every item is decided.  Pure: no Qt, no database."""
from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Set
from dataclasses import dataclass
from enum import Enum
from typing import Any

from adjudication.paradigms import AdjudicationError, canonical_value
from adjudication.protocol import PanelRule, PanelRules

__all__ = ["NoDecision", "PanelError", "QuorumNotMet", "SessionClosed", "SessionStatus",
           "Tally", "TallyStatus", "VoteNotAllowed", "check_can_finalise", "check_vote",
           "check_casting_vote", "tally", "visible_votes"]


class PanelError(AdjudicationError):
    """Base of the panel's named errors."""


class QuorumNotMet(PanelError):
    """Fewer members present than the protocol's quorum."""


class VoteNotAllowed(PanelError):
    """The member may not cast this vote (absent, not a member, already voted, unknown item)."""


class NoDecision(PanelError):
    """Items are still undecided (waiting for votes, tied, or without the required consensus)."""


class SessionClosed(PanelError):
    """The session was finalised; its votes and minutes are fixed."""


class SessionStatus(str, Enum):
    OPEN = "open"
    CLOSED = "closed"


class TallyStatus(str, Enum):
    WAITING = "waiting"            # not every member present has voted
    DECIDED = "decided"
    TIE = "tie"                    # majority rule, a tie: the chair's casting vote decides
    NO_CONSENSUS = "no_consensus"  # unanimity rule, members disagree


@dataclass(frozen=True)
class Tally:
    status: TallyStatus
    value: Any = None
    counts: tuple[tuple[str, int], ...] = ()  # canonical value -> votes, most first
    voted: int = 0
    present: int = 0
    casting: bool = False  # decided by the chair's casting vote


def tally(votes: Mapping[int, Any], present: Set[int], rule: PanelRules | PanelRule,
          casting_vote: Any = None, *, has_casting_vote: bool = False) -> Tally:
    """The state of one item: `votes` maps member -> value (members present only count);
    `casting_vote` is the chair's, used only to break a majority tie."""
    rule = rule.rule if isinstance(rule, PanelRules) else PanelRule(rule)
    counted = {m: v for m, v in votes.items() if m in present}
    values = {canonical_value(v): v for v in counted.values()}
    counts = Counter(canonical_value(v) for v in counted.values())
    ranked = tuple(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    n_present, n_voted = len(present), len(counted)
    if n_voted < n_present or n_present == 0:
        return Tally(TallyStatus.WAITING, None, ranked, n_voted, n_present)
    if rule is PanelRule.unanimity:
        if len(counts) == 1:
            return Tally(TallyStatus.DECIDED, values[ranked[0][0]], ranked, n_voted, n_present)
        return Tally(TallyStatus.NO_CONSENSUS, None, ranked, n_voted, n_present)
    # Majority: the value with the most votes (2-1-1 of 4 decides for the 2); a tie for the
    # most is broken by the chair's casting vote.
    top = [k for k, n in ranked if n == ranked[0][1]]
    if len(top) == 1:
        return Tally(TallyStatus.DECIDED, values[top[0]], ranked, n_voted, n_present)
    if has_casting_vote and canonical_value(casting_vote) in top:
        return Tally(TallyStatus.DECIDED, values[canonical_value(casting_vote)], ranked,
                     n_voted, n_present, casting=True)
    return Tally(TallyStatus.TIE, None, ranked, n_voted, n_present)


def check_vote(status: SessionStatus, members: Set[int], present: Set[int], member: int,
               item: tuple[int, str], items: Set[tuple[int, str]], already: Set[int]) -> None:
    """Raise unless `member` may vote on `item` now (one vote per member per item)."""
    if status is SessionStatus.CLOSED:
        raise SessionClosed("This committee session is finalised; its votes are fixed.")
    if member not in members:
        raise VoteNotAllowed("Only members of this session vote in it.")
    if member not in present:
        raise VoteNotAllowed("You are not recorded as present; the chair records attendance "
                             "before you vote.")
    if item not in items:
        raise VoteNotAllowed(f"{item[1]!r} is not an item of this session's case.")
    if member in already:
        raise VoteNotAllowed("You have already voted on this item (one vote per member).")


def check_casting_vote(status: SessionStatus, chair: int, member: int, current: Tally) -> None:
    if status is SessionStatus.CLOSED:
        raise SessionClosed("This committee session is finalised; its votes are fixed.")
    if member != chair:
        raise VoteNotAllowed("Only the chair casts the deciding vote on a tie.")
    if current.status is not TallyStatus.TIE:
        raise VoteNotAllowed("A casting vote breaks a tie once every member present has voted;"
                             f" this item is {current.status.value.replace('_', ' ')}.")


def check_can_finalise(status: SessionStatus, quorum: int, present: Set[int],
                       tallies: Mapping[tuple[int, str], Tally], minutes: str,
                       label: Mapping[tuple[int, str], str] | None = None) -> None:
    """Raise unless the session can be closed: open, quorum present, every item decided,
    minutes written."""
    if status is SessionStatus.CLOSED:
        raise SessionClosed("This committee session is already finalised.")
    if len(present) < quorum:
        raise QuorumNotMet(f"Quorum not met: {len(present)} member(s) present, the protocol "
                           f"needs {quorum}. Record attendance, or postpone the session.")
    if not (minutes or "").strip():
        raise NoDecision("Write the minutes before finalising the session.")
    open_items = [k for k, t in tallies.items() if t.status is not TallyStatus.DECIDED]
    if open_items:
        name = (lambda k: (label or {}).get(k, f"{k[1]} (case {k[0]})"))
        words = [f"{name(k)}: {tallies[k].status.value.replace('_', ' ')}" for k in open_items]
        raise NoDecision("Not every item is decided: " + "; ".join(words) + ".")


def visible_votes(votes: Mapping[int, Any], present: Set[int], viewer: int, hidden: bool,
                  closed: bool) -> dict[int, Any] | None:
    """The votes `viewer` may see on an item: all once the session is closed or every member
    present has voted (or when votes are not hidden); otherwise only the viewer's own."""
    counted = {m: v for m, v in votes.items() if m in present}
    if closed or not hidden or (present and len(counted) >= len(present)):
        return dict(votes)
    return {m: v for m, v in votes.items() if m == viewer}
