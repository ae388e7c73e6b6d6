"""The results of the adjudicator's and the committee's use cases, and final outcomes
(re-exported by `ioreview.service.values`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from ioreview.imaging.header import SeriesView

from .values import UserInfo
from .values_reading import SignatureInfo

if TYPE_CHECKING:
    from adjudication.protocol import Protocol

__all__ = ['ItemReason', 'DecisionItem', 'LetteredRead', 'AdjudicationQueueItem', 'AdjudicationView', 'AdjudicationTask', 'CaseAdjudicationStatus', 'AdjudicatorLoad', 'AdjudicationOverview', 'FinalValueView', 'CaseOutcomeView', 'SubjectOutcomeView', 'PanelCandidates', 'PanelMember', 'PanelSessionSummary', 'PanelItemView', 'PanelCaseView', 'PanelSessionView']


@dataclass(frozen=True)
class ItemReason:
    """One reason an item is to be decided, as a code with parameters so a screen can say it
    in its own language with the protocol's labels (`adjudication.discordance.DiscordanceReason`
    codes and parameters, the reader "A"/"B" of ``one_empty`` already the letter on screen;
    also ``committee_decides`` and ``follows_presence``, without parameters).  `letters` are
    the two reads compared (empty when the reason compares none)."""

    letters: tuple[str, ...]
    code: str
    params: dict[str, Any]


@dataclass(frozen=True)
class DecisionItem:
    """One field to decide for a case: its label, the rule that flagged it and why (reasons
    name the readers by letter).  `rule` and `reason` are English (the coordinator's table,
    exports); `rule_code` (a `RuleKind` value, ``committee_only`` or ``with_presence``) with
    `rule_params` and `reasons` say the same as codes, where the item was evaluated now."""

    key: str
    label: str
    rule: str
    reason: str
    committee_only: bool = False
    rule_code: str = ""
    rule_params: dict[str, Any] = field(default_factory=dict)
    reasons: tuple[ItemReason, ...] = ()


@dataclass(frozen=True)
class LetteredRead:
    """A locked read as an adjudicator or the committee sees it: by letter, never by name."""

    letter: str
    values: dict[str, Any]
    annotations: tuple[AnnotationRecord, ...]
    key_images: tuple[KeyImageRecord, ...]


@dataclass(frozen=True)
class AdjudicationQueueItem:
    adjudication_id: int
    case_label: str
    timepoint: str
    days_from_insertion: int | None
    waiting_since: str
    items: tuple[str, ...]  # the keys of the fields to decide (Protocol.label_for names them)


@dataclass(frozen=True)
class AdjudicationView:
    """Everything the adjudication screen shows; the series are blinded, readers are letters."""

    adjudication_id: int
    case_label: str
    timepoint: str
    days_from_insertion: int | None
    series: tuple[SeriesView, ...]
    protocol: Protocol
    reads: tuple[LetteredRead, ...]
    items: tuple[DecisionItem, ...]
    status: str  # pending | decided | superseded
    decisions: tuple[Any, ...] = ()  # adjudication.paradigms.Decision once decided
    annotations: tuple[AnnotationRecord, ...] = ()  # the adjudicator's own measurements
    signature: SignatureInfo | None = None


@dataclass(frozen=True)
class AdjudicationTask:
    """An adjudication as the coordinator sees it (reader names included)."""

    adjudication_id: int
    adjudicator: str
    status: str
    created_at: str
    decided_at: str | None
    readers: dict[str, str]  # letter -> reader user name
    decisions: tuple[Any, ...] = ()


@dataclass(frozen=True)
class CaseAdjudicationStatus:
    """Where one case stands (coordinator): stage, discordant fields, tasks and sessions."""

    case_id: int
    case_label: str
    subject: str
    timepoint: str
    days_from_insertion: int | None
    paradigm: str
    stage: str
    reopened: bool
    items: tuple[DecisionItem, ...]
    tasks: tuple[AdjudicationTask, ...]
    panel_sessions: tuple[int, ...]
    third_reader: str | None = None


class AdjudicatorLoad(NamedTuple):
    user_id: int
    username: str
    pending: int
    decided: int


@dataclass(frozen=True)
class AdjudicationOverview:
    """Adjudication progress for the coordinator."""

    stages: dict[str, int]
    pending: int
    decided: int
    panel_sessions_open: int
    panel_sessions_closed: int
    workload: tuple[AdjudicatorLoad, ...]
    cases: tuple[CaseAdjudicationStatus, ...]


@dataclass(frozen=True)
class FinalValueView:
    key: str
    label: str
    value: Any
    source: str
    detail: str


@dataclass(frozen=True)
class CaseOutcomeView:
    case_id: int
    case_label: str
    subject: str
    timepoint: str
    days_from_insertion: int | None
    stage: str
    values: tuple[FinalValueView, ...]  # empty while the case has no final outcome


@dataclass(frozen=True)
class SubjectOutcomeView:
    subject: str
    endpoints: tuple[Any, ...]  # adjudication.paradigms.Endpoint per presence finding


@dataclass(frozen=True)
class PanelCandidates:
    """What creating a committee session chooses from: members and cases waiting for it."""

    members: tuple[UserInfo, ...]
    cases: tuple[CaseAdjudicationStatus, ...]


@dataclass(frozen=True)
class PanelMember:
    user_id: int
    username: str
    present: bool
    is_chair: bool
    display_name: str = ""  # the printed name (the user name where none is recorded)


@dataclass(frozen=True)
class PanelSessionSummary:
    session_id: int
    title: str
    chair: str
    status: str  # open | closed
    created_at: str
    closed_at: str | None
    n_cases: int
    members: tuple[PanelMember, ...]


@dataclass(frozen=True)
class PanelItemView:
    """One item of a case in a committee session: the readers' values by letter, the tally,
    and the votes the viewer may see (None while votes are hidden)."""

    case_id: int
    key: str
    label: str
    committee_only: bool
    reader_values: dict[str, Any]
    status: str  # waiting | decided | tie | no_consensus
    value: Any
    counts: tuple[tuple[str, int], ...]
    voted: int
    present: int
    votes: dict[str, Any] | None
    my_vote: Any
    has_my_vote: bool
    casting: bool
    why: DecisionItem | None = None  # the rule that flagged the item and the reasons


@dataclass(frozen=True)
class PanelCaseView:
    case_id: int
    case_label: str
    timepoint: str
    days_from_insertion: int | None
    status: str  # open | decided | superseded
    series: tuple[SeriesView, ...]
    reads: tuple[LetteredRead, ...]
    items: tuple[PanelItemView, ...]


@dataclass(frozen=True)
class PanelSessionView:
    session_id: int
    title: str
    chair: str
    chair_id: int
    status: str
    rule: str
    quorum: int
    hidden_votes: bool
    members: tuple[PanelMember, ...]
    quorum_met: bool
    protocol: Protocol
    cases: tuple[PanelCaseView, ...]
    minutes: str
    closed_at: str | None
    finalise_blocker: str | None  # why it cannot be finalised now (None: it can)
    signature: SignatureInfo | None = None
