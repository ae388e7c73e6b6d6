"""Values that cross the service boundary: roles, statuses and the frozen results of use cases.

Roles and read statuses are defined here once; the UI and the CLI use these enums.
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from ioreview.imaging.header import SeriesView
from ioreview.store.records import AnnotationRecord, KeyImageRecord
from ioreview.store.records import SeriesRow as SeriesInfo
from ioreview.store.records import StudyRow as StudyInfo

if TYPE_CHECKING:
    from adjudication.protocol import Protocol

__all__ = [
    "ADJUDICATION_MEANING", "AdjudicationOverview", "AdjudicationQueueItem", "AdjudicationTask",
    "AdjudicationView", "AdjudicatorLoad", "BALLOT_MEANING", "CASTING_MEANING",
    "CaseAdjudicationStatus", "CaseOutcomeView", "DecisionItem", "FinalValueView",
    "LetteredRead", "PANEL_MEANING", "PanelCandidates", "PanelCaseView", "PanelItemView", "PanelMember",
    "PanelSessionSummary", "PanelSessionView", "SubjectOutcomeView",
    "AMENDMENT_MEANING", "ANNOTATION_KINDS", "Annotation", "AssignmentSummary", "AuditReport",
    "CaseInfo", "CaseView", "DEFAULT_TIMEPOINTS", "DiscordantCase",
    "KeyImage", "PriorView", "ProgressReport", "ProtocolVersionInfo", "ReadState", "ReadStatus",
    "ReadVersion", "ReaderProgress", "Role", "SIGNATURE_MEANING", "SeriesView", "SeriesInfo",
    "Session", "SignatureInfo", "StudyInfo", "TrialInfo", "UNSCHEDULED", "UserInfo",
    "WorklistItem",
    "AssignmentEntry", "AssignmentPurpose", "AssignmentTable", "ReaderAssignmentTotals",
    "ReassignmentResult",
    "AuditExportSummary", "AuditLogEntry", "AuditLogFilter", "AuditLogPage",
    "FieldChange", "ProtocolDiff",
    "AccountPolicy",
    "BurnedInPreview", "BurnedInSeries",
    "AuditProblem", "BackupSummary", "ProblemKind", "RestoreSummary",
]

SIGNATURE_MEANING = "I confirm this read"
AMENDMENT_MEANING = "I confirm this amended read"
DEFAULT_TIMEPOINTS = ("baseline", "post-insertion", "post-removal", "follow-up")
UNSCHEDULED = "unscheduled"
ANNOTATION_KINDS = frozenset(
    {"arrow", "length", "angle", "ellipse", "polygon", "freehand", "point", "region"})


class Role(str, Enum):
    READER = "reader"
    ADJUDICATOR = "adjudicator"
    COMMITTEE = "committee"
    COORDINATOR = "coordinator"
    ADMIN = "admin"


class ReadStatus(str, Enum):
    """Status of a read; a submitted read is signed and locked (amendments add versions)."""

    NEW = "new"
    IN_PROGRESS = "in_progress"
    SUBMITTED = "submitted"


@dataclass(frozen=True)
class Session:
    """A logged-in user; the token is the credential, the other fields are for display only
    (the service always re-reads the role from the database)."""

    user_id: int
    username: str
    display_name: str
    role: Role
    token: str
    started_at: float
    #: the password was set by an administrator or has expired: until `change_password`
    #: succeeds, every other use case refuses this session (PasswordChangeRequired)
    must_change_password: bool = False


@dataclass(frozen=True)
class UserInfo:
    id: int
    username: str
    display_name: str
    role: Role
    active: bool
    locked_until: float | None
    failed_logins: int
    must_change_password: bool = False


@dataclass(frozen=True)
class ProtocolVersionInfo:
    id: int
    protocol_id: str
    version: str
    sha256: str
    installed_at: str
    active: bool


@dataclass(frozen=True)
class CaseInfo:
    """A case as the coordinator sees it (the subject is identifying: never shown to readers)."""

    id: int
    label: str
    subject: str
    timepoint: str
    days_from_insertion: int | None
    n_series: int


@dataclass(frozen=True)
class AssignmentSummary:
    seed: int
    n_assignments: int
    n_rereads: int
    per_reader: dict[str, int]


@dataclass(frozen=True)
class WorklistItem:
    assignment_id: int
    read_id: int | None
    case_label: str
    timepoint: str
    days_from_insertion: int | None
    status: ReadStatus
    order_index: int


@dataclass(frozen=True)
class PriorView:
    """An earlier timepoint of the same subject, shown for comparison (blinded)."""

    case_label: str
    timepoint: str
    days_from_insertion: int | None
    series: tuple[SeriesView, ...]


#: A shape on one frame of one instance; points are (row, col) in image pixels.
Annotation = AnnotationRecord
#: An image the reader marked as key, with a note.
KeyImage = KeyImageRecord


@dataclass(frozen=True)
class CaseView:
    """Everything a reader needs to read one assigned case, already blinded."""

    assignment_id: int
    read_id: int
    case_label: str
    timepoint: str
    days_from_insertion: int | None
    series: tuple[SeriesView, ...]
    priors: tuple[PriorView, ...]
    protocol: Protocol
    protocol_version_id: int
    values: dict[str, Any]
    annotations: tuple[Annotation, ...]
    key_images: tuple[KeyImage, ...]
    status: ReadStatus
    elapsed_s: float
    version: int = 1
    #: non-empty when a newer protocol version is active than the one this read uses
    protocol_notice: str = ""


@dataclass(frozen=True)
class ReadState:
    """What an autosave returns: enough to update a status bar."""

    read_id: int
    status: ReadStatus
    version: int
    saved_at: str
    elapsed_s: float
    n_values: int
    n_annotations: int
    n_key_images: int


@dataclass(frozen=True)
class SignatureInfo:
    id: int
    read_id: int
    signer: str
    signed_at: str
    meaning: str
    content_sha256: str
    version: int = 1
    #: the signer's printed name (21 CFR 11.50); empty where the service did not look it up
    signer_name: str = ""

    @property
    def signed_utc(self) -> str:
        """The signing time in UTC as "2026-11-29 14:03"."""
        return _minutes(self.signed_at, local=False)

    @property
    def signed_local(self) -> str:
        """The signing time in this workstation's time zone as "2026-11-29 22:03"."""
        return _minutes(self.signed_at, local=True)


def _minutes(iso_time: str, *, local: bool) -> str:
    from datetime import datetime, timezone

    try:
        when = datetime.fromisoformat(iso_time)
    except (TypeError, ValueError):
        return iso_time or ""
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    when = when.astimezone() if local else when.astimezone(timezone.utc)
    return when.strftime("%Y-%m-%d %H:%M")


@dataclass(frozen=True)
class ReadVersion:
    """One version of a read: the first signed one, then one per amendment."""

    version: int
    status: ReadStatus
    values: dict[str, Any]
    annotations: tuple[Annotation, ...]
    key_images: tuple[KeyImage, ...]
    signature: SignatureInfo | None
    amendment_reason: str | None
    amended_at: str | None


class ReaderProgress(NamedTuple):
    reader: str
    assigned: int
    submitted: int
    in_progress: int


class DiscordantCase(NamedTuple):
    case_label: str
    fields: tuple[str, ...]
    #: when the case's locked reads were last evaluated (UTC ISO time)
    evaluated_at: str = ""


@dataclass(frozen=True)
class ProgressReport:
    per_reader: list[ReaderProgress]
    cases_total: int
    cases_complete: int
    open_discordances: int
    discordant_cases: list[DiscordantCase]



@dataclass(frozen=True)
class TrialInfo:
    """What a trial database holds (`ioreview info`)."""

    patients: int
    studies: int
    series: int
    instances: int
    users: int
    cases: int
    assignments: int
    reads: dict[str, int]
    protocol: str | None
    #: pending and decided adjudications, open and closed committee sessions
    adjudication: dict[str, int] | None = None

    def to_json_dict(self) -> dict[str, Any]:
        return {"patients": self.patients, "studies": self.studies, "series": self.series,
                "instances": self.instances, "users": self.users, "cases": self.cases,
                "assignments": self.assignments, "reads": dict(self.reads),
                "protocol": self.protocol, "adjudication": dict(self.adjudication or {})}


class ProblemKind(str, Enum):
    """What a verification problem concerns."""

    CHAIN = "chain"              # the audit chain itself (a record edited, deleted, forged...)
    SIGNATURE = "signature"      # a signature no longer matches what was signed
    CROSS_CHECK = "cross-check"  # domain tables disagree with the trail
    ANCHOR = "anchor"            # the chain disagrees with its anchors outside the database


@dataclass(frozen=True)
class AuditProblem:
    """One problem found by `verify_audit_trail`: its kind, the audit record it was found at
    (0 when it concerns no single record) and a sentence an inspector understands."""

    kind: ProblemKind
    seq: int
    message: str

    def __str__(self) -> str:
        return f"{self.kind.value}: {self.message}"


@dataclass(frozen=True)
class AuditReport:
    """The result of verifying the audit trail.  `problems` are the sentences (as printed);
    `issues` the same problems, typed; `first_broken` the earliest broken audit record."""

    n_records: int
    problems: tuple[str, ...]
    issues: tuple[AuditProblem, ...] = ()
    head: str = ""
    key_id: str = ""
    n_signatures: int = 0
    n_anchors: int = 0

    @property
    def intact(self) -> bool:
        return not self.problems

    @property
    def first_broken(self) -> AuditProblem | None:
        """The problem at the lowest audit record (chain and anchor problems first)."""
        at_records = [p for p in self.issues if p.seq > 0]
        if not at_records:
            return self.issues[0] if self.issues else None
        return min(at_records, key=lambda p: (p.seq, p.kind != ProblemKind.CHAIN))



# -- adjudication, committee sessions, final outcomes ------------------------------------------
ADJUDICATION_MEANING = "I confirm this adjudication"
BALLOT_MEANING = "I confirm my committee votes"
CASTING_MEANING = "I confirm my casting vote as chair"
PANEL_MEANING = "I confirm this committee decision and its minutes"


@dataclass(frozen=True)
class DecisionItem:
    """One field to decide for a case: its label, the rule that flagged it and why (reasons
    name the readers by letter)."""

    key: str
    label: str
    rule: str
    reason: str
    committee_only: bool = False


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
    items: tuple[str, ...]  # the labels of the fields to decide


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


# -- the audit viewer ---------------------------------------------------------------------------
@dataclass(frozen=True)
class AuditLogFilter:
    """Which audit records to show (None: any).  `case` is a case label (its reads,
    assignments, signatures, adjudications and discordance evaluations come with it); `since`
    and `until` are datetimes (naive: local time), dates (whole local days, both included) or
    ISO 8601 text."""

    user: str | None = None
    case: str | None = None
    action: str | None = None
    since: Any = None
    until: Any = None


@dataclass(frozen=True)
class AuditLogEntry:
    """One audit record as the audit viewer shows it; `before`/`after` are the decoded JSON."""

    seq: int
    at_utc: str  # ISO 8601 UTC, as stored
    at_local: str  # "2026-11-29 22:03:05" in this workstation's time zone
    actor: str
    action: str
    entity: str
    entity_id: str
    before: Any
    after: Any


@dataclass(frozen=True)
class AuditLogPage:
    """One page of matching audit records, newest first, and how many match in all."""

    entries: tuple[AuditLogEntry, ...]
    total: int
    offset: int


@dataclass(frozen=True)
class AuditExportSummary:
    path: str
    n_records: int
    sha256: str


# -- accounts -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class AccountPolicy:
    """The trial's account settings: password expiry in days (0: passwords never expire), the
    number of failed log-ins in a row that locks a non-admin account and for how long, and how
    many earlier passwords may not be reused."""

    password_expiry_days: int
    lock_after_failures: int
    lock_minutes: int
    history: int


# -- protocol history ---------------------------------------------------------------------------
@dataclass(frozen=True)
class FieldChange:
    """A protocol setting or form field that differs between two protocol versions."""

    key: str
    label: str
    change: str  # added | removed | changed
    details: tuple[str, ...]


@dataclass(frozen=True)
class ProtocolDiff:
    """What changed from one installed protocol version to another."""

    old: ProtocolVersionInfo
    new: ProtocolVersionInfo
    text_diff: tuple[str, ...]  # unified diff lines of the TOML text
    fields: tuple[FieldChange, ...]


# -- reader copies and burned-in text ------------------------------------------------------------
@dataclass(frozen=True)
class BurnedInSeries:
    """A series whose pixels may carry text, as the coordinator reviews it: `status` is
    "flagged" (readers do not get it yet), "masked" (`rectangles` blacked out in the readers'
    copies) or "clean" (confirmed to carry no text); `reason` says why it was flagged."""

    series_pk: int
    case_label: str
    modality: str
    description: str
    n_instances: int
    n_frames: int
    rows: int
    columns: int
    reason: str
    status: str
    decided_by: str
    decided_at: str
    #: (row0, col0, row1, col1) in pixels of the frame, ends exclusive
    rectangles: tuple[tuple[int, int, int, int], ...] = ()


@dataclass(frozen=True)
class BurnedInPreview:
    """The first frame of a series as 8-bit pixels (rows x columns, or x 3 for colour)."""

    series_pk: int
    rows: int
    columns: int
    pixels: Any


# -- backup and restore ---------------------------------------------------------------------------
@dataclass(frozen=True)
class BackupSummary:
    """A backup folder: its manifest, what it holds, and the audit trail's anchor at the time.
    The trial key is not in it: `key_path` says where the key is kept."""

    folder: Path
    manifest: Path
    n_files: int
    n_archive_files: int
    audit_length: int
    audit_head: str
    key_id: str
    key_path: str


@dataclass(frozen=True)
class RestoreSummary:
    """A verified restore: where the database and archive went, and what was verified."""

    target: str
    archive_dir: Path
    n_archive_files: int
    audit_length: int
    audit_head: str
    n_signatures: int


# -- the coordinator's assignment table and reassignment ----------------------------------------
class AssignmentPurpose(str, Enum):
    """Why a reader has a case: a primary read, a hidden re-read (the same reader again after
    the washout, for intra-reader agreement) or a 2-of-3 third read."""

    PRIMARY = "primary"
    HIDDEN_REREAD = "hidden_reread"
    THIRD_READ = "third_read"


@dataclass(frozen=True)
class AssignmentEntry:
    """One row of the coordinator's case x reader table (never shown to readers: a hidden
    re-read is marked as such here)."""

    assignment_id: int
    case_id: int
    case_label: str
    reader_id: int
    reader: str  # username
    reader_name: str
    purpose: AssignmentPurpose
    status: ReadStatus
    position: int  # 1-based, in the reader's whole list (available or not)
    available_from: str  # ISO 8601 UTC
    available_now: bool
    #: the label the reader sees for a hidden re-read (its own, not the case's)
    reread_label: str | None = None


@dataclass(frozen=True)
class ReaderAssignmentTotals:
    """A reader's assignments, and why their worklist shows fewer: hidden re-reads and
    assignments still in their washout are not in it yet."""

    reader_id: int
    reader: str
    reader_name: str
    assigned: int
    hidden_rereads: int
    not_yet_available: int
    in_worklist: int


@dataclass(frozen=True)
class AssignmentTable:
    entries: tuple[AssignmentEntry, ...]
    readers: tuple[ReaderAssignmentTotals, ...]


@dataclass(frozen=True)
class ReassignmentResult:
    """What `reassign` did: which readers, and whether the old reader's draft was withdrawn
    (its answers are in the audit record) and a hidden re-read moved with the case."""

    assignment_id: int
    case_label: str
    from_reader: str
    to_reader: str
    draft_withdrawn: bool
    moved_rereads: tuple[int, ...] = ()
