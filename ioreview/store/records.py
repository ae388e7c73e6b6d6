"""Typed records the store hands to the service layer (never row dicts, SQL or table names).

Values are converted at the boundary so both backends return the same Python types: booleans
as bool (SQLite stores 0/1), counts as int (PostgreSQL sums are numeric), JSON columns decoded.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class UserRecord:
    id: int
    username: str
    display_name: str
    role: str
    password_hash: str
    active: bool
    failed_logins: int
    locked_until: float | None
    created_at: str
    password_changed_at: str
    #: set when an administrator created the account or reset its password: the next log-in
    #: may only change the password
    must_change_password: bool = False


@dataclass(frozen=True)
class SessionRecord:
    id: int
    user_id: int | None
    system_name: str | None
    started_at: float
    last_activity: float
    ended_at: float | None


@dataclass(frozen=True)
class ProtocolVersionRecord:
    id: int
    protocol_id: str
    version: str
    title: str | None
    source: str
    sha256: str
    installed_at: str
    installed_by: str
    active: bool
    text: str | None = None


@dataclass(frozen=True)
class CaseRecord:
    id: int
    label: str
    subject: str
    timepoint: str
    days_from_insertion: int | None
    study_pk: int | None
    created_at: str
    n_series: int = 0


@dataclass(frozen=True)
class AssignmentRecord:
    id: int
    case_id: int
    reader_id: int
    run_id: int
    label: str | None
    order_index: int
    is_reread: bool
    available_from: float
    #: the label the reader sees: the re-read's own label, else the case's
    display_label: str
    #: "primary", or "third" for a 2-of-3 third read
    purpose: str = "primary"


@dataclass(frozen=True)
class ReaderAssignment:
    """An available assignment of a reader with what blinding checks need."""

    id: int
    case_id: int
    subject: str
    days_from_insertion: int | None
    protocol_version_id: int | None


@dataclass(frozen=True, slots=True)
class WorklistRow:
    assignment_id: int
    read_id: int | None
    label: str
    timepoint: str
    days_from_insertion: int | None
    status: str | None
    order_index: int
    available_from: float


@dataclass(frozen=True)
class ReadRecord:
    """A read with its assignment's reader, case and availability."""

    id: int
    assignment_id: int
    protocol_version_id: int
    status: str
    version: int
    started_at: str
    updated_at: str
    submitted_at: str | None
    active_seconds: float
    reader_id: int
    case_id: int
    available_from: float
    is_reread: bool
    display_label: str
    #: "primary", or "third" for a 2-of-3 third read
    purpose: str = "primary"


@dataclass(frozen=True)
class AnnotationRecord:
    """A shape on one frame of one instance; points are (row, col) in image pixels (the
    service hands it out as `Annotation`)."""

    id: int | None
    finding_id: str | None
    kind: str
    sop_instance_uid: str
    frame: int
    points: tuple[tuple[float, float], ...]
    measurements: dict[str, float] = field(default_factory=dict)
    label: str = ""


@dataclass(frozen=True)
class KeyImageRecord:
    """An image a reader marked as key (the service's `KeyImage`)."""

    sop_instance_uid: str
    frame: int
    note: str = ""


@dataclass(frozen=True)
class SignatureRecord:
    """An electronic signature of one version of a signable entity (a read now; adjudication
    decisions, panel outcomes and exports next): who, when (UTC), what it means, and the
    SHA-256 of the canonical content signed."""

    id: int
    entity_kind: str
    entity_id: int
    version: int
    signer_id: int
    signer: str
    signed_at: str
    meaning: str
    content_sha256: str


@dataclass(frozen=True)
class AmendmentRecord:
    id: int
    read_id: int
    from_version: int
    to_version: int
    reason: str
    amended_by: int
    amended_at: str


@dataclass(frozen=True)
class DiscordantField:
    field: str
    rule: str
    reason: str
    values: tuple[Any, ...]


@dataclass(frozen=True)
class DiscordanceEvaluation:
    """One evaluation of a case's locked reads under the protocol's discordance rules."""

    id: int
    case_id: int
    case_label: str
    protocol_version_id: int
    reads: tuple[tuple[int, int], ...]
    cause: str
    evaluated_at: str
    superseded_at: str | None
    fields: tuple[DiscordantField, ...]

    @property
    def discordant(self) -> bool:
        return bool(self.fields)


@dataclass(frozen=True)
class SeriesSummary:
    id: int
    study_pk: int
    modality: str | None
    series_description: str | None
    series_number: int | None
    n_instances: int
    n_frames: int


@dataclass(frozen=True)
class StudyForCases:
    study_pk: int
    study_date: str | None
    patient_key: str
    patient_id: str | None
    in_case: bool


@dataclass(frozen=True)
class InstanceLocation:
    id: int
    path: str
    series_pk: int


@dataclass(frozen=True)
class ReaderProgressRow:
    user_id: int
    display_name: str
    assigned: int
    submitted: int
    in_progress: int


@dataclass(frozen=True)
class PrimaryRead:
    """A primary (not re-read) assignment with its case and its read, if started."""

    assignment_id: int
    case_id: int
    label: str
    reader_id: int
    read_id: int | None
    status: str | None
    version: int | None
    protocol_version_id: int | None


@dataclass(frozen=True)
class StudyRow:
    """An imported study as the coordinator sees it (identifying)."""

    id: int
    study_instance_uid: str
    study_date: str | None
    study_description: str | None
    accession_number: str | None
    patient_id: str | None
    patient_name: str | None
    patient_pk: int
    n_series: int
    modalities: str
    case_label: str | None = None


@dataclass(frozen=True)
class SeriesRow:
    id: int
    study_pk: int
    series_instance_uid: str
    study_instance_uid: str
    modality: str | None
    series_number: int | None
    series_description: str | None
    series_date: str | None
    body_part_examined: str | None
    laterality: str | None
    n_instances: int
    n_frames: int


@dataclass(frozen=True)
class UnarchivedInstance:
    id: int
    sop_instance_uid: str
    path: str
    sha256: str | None
    file_size: int | None


@dataclass(frozen=True)
class ImportFileRow:
    path: str
    outcome: str
    reason: str | None
    sop_instance_uid: str | None


@dataclass(frozen=True)
class InstancePath:
    sop_instance_uid: str
    path: str
    sha256: str | None
    archived: bool


@dataclass(frozen=True)
class TrialCounts:
    """What `info` reports: counts of the DICOM index and the reading workflow."""

    patients: int
    studies: int
    series: int
    instances: int
    users: int
    cases: int
    assignments: int
    reads_by_status: dict[str, int]


@dataclass(frozen=True)
class WorkflowRecord:
    """Where a case stands on its way to a final outcome (`adjudication.paradigms.Stage`)."""

    case_id: int
    case_label: str
    paradigm: str
    stage: str
    evaluation_id: int | None
    reopened: bool
    updated_at: str


@dataclass(frozen=True)
class DecisionRecord:
    field: str
    choice: str  # "A", "B", "C" or "own"
    value: Any
    rationale: str


@dataclass(frozen=True)
class AdjudicationRecord:
    """One adjudication task of a case: its adjudicator, the A/B draw (seed and letters ->
    [read id, version]) and the items to decide; decisions once decided."""

    id: int
    case_id: int
    case_label: str
    evaluation_id: int
    adjudicator_id: int
    adjudicator: str
    status: str  # pending | decided | superseded
    seed: int
    letters: dict[str, tuple[int, int]]
    items: tuple[str, ...]
    created_at: str
    decided_at: str | None
    superseded_at: str | None
    decisions: tuple[DecisionRecord, ...] = ()


@dataclass(frozen=True)
class PanelSessionRecord:
    id: int
    title: str
    chair_id: int
    chair: str
    status: str  # open | closed
    rule: str
    quorum: int
    hidden_votes: bool
    protocol_version_id: int
    created_by: str
    created_at: str
    closed_at: str | None
    minutes: str
    members: tuple[tuple[int, str, bool], ...] = ()  # (user id, username, present)


@dataclass(frozen=True)
class PanelCaseRecord:
    session_id: int
    case_id: int
    case_label: str
    evaluation_id: int | None
    seed: int
    letters: dict[str, tuple[int, int]]
    items: tuple[str, ...]
    status: str  # open | decided | superseded
    superseded_at: str | None


@dataclass(frozen=True)
class PanelVoteRecord:
    ballot_id: int
    case_id: int
    field: str
    member_id: int
    member: str
    casting: bool
    value: Any
    cast_at: str


@dataclass(frozen=True)
class PanelResultRecord:
    session_id: int
    case_id: int
    field: str
    value: Any
    detail: str
    closed_at: str


@dataclass(frozen=True)
class LockedRead:
    """A signed read as agreement statistics need it."""

    read_id: int
    version: int
    case_id: int
    reader_id: int
    is_reread: bool
    is_primary: bool  # False for a 2-of-3 third read
    signed_at: str | None
    active_seconds: float
    position: int     # 1-based position of its assignment in the reader's worklist
    timepoint: str
    subject: str
    protocol_version_id: int


@dataclass(frozen=True)
class ExportRecord:
    """One export: who, when, with which parameters, the manifest's SHA-256 and the audit
    chain's head at the moment of export."""

    id: int
    created_at: str
    created_by: str
    parameters: dict[str, Any]
    manifest_sha256: str
    audit_head: str
    identified: bool
    n_files: int
