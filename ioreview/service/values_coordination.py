"""The results of the coordinator's and the administrator's use cases: progress, assignments,
audit verification and log, protocol differences, burned-in review, backup and restore
(re-exported by `ioreview.service.values`).
"""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any, NamedTuple

from .values import ReadStatus

__all__ = ['AssignmentSummary', 'ReaderProgress', 'DiscordantCase', 'ProgressReport', 'ProblemKind', 'AuditProblem', 'AuditReport', 'AuditLogFilter', 'AuditLogEntry', 'AuditLogPage', 'AuditExportSummary', 'FieldChange', 'ProtocolDiff', 'BurnedInSeries', 'BurnedInPreview', 'BackupSummary', 'RestoreSummary', 'AssignmentPurpose', 'AssignmentEntry', 'ReaderAssignmentTotals', 'AssignmentTable', 'ReassignmentResult']


@dataclass(frozen=True)
class AssignmentSummary:
    seed: int
    n_assignments: int
    n_rereads: int
    per_reader: dict[str, int]


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
