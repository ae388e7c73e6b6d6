"""Values that cross the service boundary: roles, statuses and the frozen results of use cases.

Roles and read statuses are defined here once; the UI and the CLI use these enums.

The results of the reading, coordination and adjudication use cases live in `values_reading`,
`values_coordination` and `values_adjudication` and are loaded on first use (PEP 562): every
name here can still be imported from this module, but a command pays at start-up only for the
result types it uses (a frozen dataclass costs about a millisecond to create on Python 3.11).
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any

from ioreview.imaging.header import SeriesView
from ioreview.store.records import AnnotationRecord, KeyImageRecord
from ioreview.store.records import SeriesRow as SeriesInfo
from ioreview.store.records import StudyRow as StudyInfo

if TYPE_CHECKING:
    from .values_reading import (
        WorklistItem, PriorView, CaseView, ReadState, SignatureInfo, ReadVersion)
    from .values_coordination import (
        AssignmentSummary, ReaderProgress, DiscordantCase, ProgressReport, ProblemKind,
        AuditProblem, AuditReport, AuditLogFilter, AuditLogEntry, AuditLogPage,
        AuditExportSummary, FieldChange, ProtocolDiff, BurnedInSeries, BurnedInPreview,
        BackupSummary, RestoreSummary, AssignmentPurpose, AssignmentEntry,
        ReaderAssignmentTotals, AssignmentTable, ReassignmentResult)
    from .values_adjudication import (
        DecisionItem, LetteredRead, AdjudicationQueueItem, AdjudicationView, AdjudicationTask,
        CaseAdjudicationStatus, AdjudicatorLoad, AdjudicationOverview, FinalValueView,
        CaseOutcomeView, SubjectOutcomeView, PanelCandidates, PanelMember, PanelSessionSummary,
        PanelItemView, PanelCaseView, PanelSessionView)

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


#: A shape on one frame of one instance; points are (row, col) in image pixels.
Annotation = AnnotationRecord
#: An image the reader marked as key, with a note.
KeyImage = KeyImageRecord



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



# -- adjudication, committee sessions, final outcomes ------------------------------------------
ADJUDICATION_MEANING = "I confirm this adjudication"
BALLOT_MEANING = "I confirm my committee votes"
CASTING_MEANING = "I confirm my casting vote as chair"
PANEL_MEANING = "I confirm this committee decision and its minutes"


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


#: the result types loaded on first use, by the module that holds them
_MODULES: dict[str, tuple[str, ...]] = {
    ".values_reading": (
        "WorklistItem", "PriorView", "CaseView", "ReadState", "SignatureInfo", "ReadVersion",),
    ".values_coordination": (
        "AssignmentSummary", "ReaderProgress", "DiscordantCase", "ProgressReport",
        "ProblemKind", "AuditProblem", "AuditReport", "AuditLogFilter", "AuditLogEntry",
        "AuditLogPage", "AuditExportSummary", "FieldChange", "ProtocolDiff", "BurnedInSeries",
        "BurnedInPreview", "BackupSummary", "RestoreSummary", "AssignmentPurpose",
        "AssignmentEntry", "ReaderAssignmentTotals", "AssignmentTable", "ReassignmentResult",),
    ".values_adjudication": (
        "DecisionItem", "LetteredRead", "AdjudicationQueueItem", "AdjudicationView",
        "AdjudicationTask", "CaseAdjudicationStatus", "AdjudicatorLoad", "AdjudicationOverview",
        "FinalValueView", "CaseOutcomeView", "SubjectOutcomeView", "PanelCandidates",
        "PanelMember", "PanelSessionSummary", "PanelItemView", "PanelCaseView",
        "PanelSessionView",),
}
_HOMES = {name: module for module, names in _MODULES.items() for name in names}

def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(home, __package__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_HOMES))
