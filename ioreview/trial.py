"""The service layer: every use case of a blinded read, with the acting user.

Each public method of `Trial` checks the session and the caller's role first, runs in one
store transaction that appends its audit records, and returns plain frozen dataclasses.  Role
checks and blinding live here, below the UI: a reader never receives another reader's work,
identifying DICOM attributes, calendar dates, or a case they are not assigned.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import random
import re
import secrets
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from adjudication.discordance import find_discordant_fields
from adjudication.protocol import InvalidProtocol, Protocol, parse_protocol
from adjudication.readform import FieldProblem
from adjudication.readform import validate_read as validate_values
from ioreview.auth import check_password_policy, hash_password, new_token, token_digest, \
    verify_password
from ioreview.errors import (AccountLocked, AuthenticationFailed, BlindingViolation,
                             InvalidInput, IoreviewError, NotFound, PermissionDenied,
                             ReadIncomplete, ReadLocked, SessionExpired, SignatureRejected)
from ioreview.imaging.header import IDENTIFYING_FIELDS, InstanceHeader
from ioreview.importing import ArchiveError, archive_series
from ioreview.store import Store, Transaction
from ioreview.store import dicom_index, reading

if TYPE_CHECKING:
    from ioreview.importing import ImportSummary

__all__ = [
    "AccountLocked", "Annotation", "AssignmentSummary", "AuthenticationFailed",
    "BlindingViolation", "CaseInfo", "CaseView", "DiscordantCase", "InvalidInput",
    "InvalidProtocol", "IoreviewError", "KeyImage", "NotFound", "PermissionDenied", "PriorView",
    "ProgressReport", "ProtocolVersionInfo", "ReadIncomplete", "ReadLocked", "ReadState",
    "ReadStatus", "ReadVersion", "ReaderProgress", "Role", "SeriesView", "Session",
    "SessionExpired", "SignatureInfo", "SignatureRejected", "Trial", "UserInfo", "WorklistItem",
    "timepoint_for_days",
]

SIGNATURE_MEANING = "I confirm this read"
AMENDMENT_MEANING = "I confirm this amended read"
MAX_FAILED_ATTEMPTS = 5
LOCKOUT_S = 15 * 60
DEFAULT_TIMEPOINTS = ("baseline", "post-insertion", "post-removal", "follow-up")
UNSCHEDULED = "unscheduled"
MASK = "\u2022\u2022\u2022"
_GENERIC_LOGIN_FAILURE = "Unknown user name or wrong password. Check both and try again."
_USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,31}$")
_LABEL_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
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


# -- values crossing the service boundary ------------------------------------------------------
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


@dataclass(frozen=True)
class UserInfo:
    id: int
    username: str
    display_name: str
    role: Role
    active: bool
    locked_until: float | None
    failed_logins: int


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
class SeriesView:
    """A series as a reader may see it: identifying fields and calendar dates blanked."""

    series_pk: int
    modality: str
    description: str
    n_instances: int
    n_frames: int
    headers: tuple[InstanceHeader, ...]


@dataclass(frozen=True)
class PriorView:
    """An earlier timepoint of the same subject, shown for comparison (blinded)."""

    case_label: str
    timepoint: str
    days_from_insertion: int | None
    series: tuple[SeriesView, ...]


@dataclass(frozen=True)
class Annotation:
    """A shape on one frame of one instance; points are (row, col) in image pixels."""

    id: int | None
    finding_id: str | None
    kind: str
    sop_instance_uid: str
    frame: int
    points: tuple[tuple[float, float], ...]
    measurements: dict[str, float] = field(default_factory=dict)
    label: str = ""


@dataclass(frozen=True)
class KeyImage:
    sop_instance_uid: str
    frame: int
    note: str = ""


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


@dataclass(frozen=True)
class ProgressReport:
    per_reader: list[ReaderProgress]
    cases_total: int
    cases_complete: int
    open_discordances: int
    discordant_cases: list[DiscordantCase]


_ADMINS = frozenset({Role.COORDINATOR, Role.ADMIN})
_READERS = frozenset({Role.READER})


@dataclass(frozen=True)
class _Actor:
    """The caller as the database knows it (never trust the role held by a Session object)."""

    session_id: int
    user_id: int | None
    username: str
    display_name: str
    role: Role

    @property
    def audit_name(self) -> str:
        return self.username


# -- small pure helpers ---------------------------------------------------------------------------
def timepoint_for_days(days: int | None, labels: Sequence[str] = DEFAULT_TIMEPOINTS) -> str:
    """The timepoint label for a study `days` after insertion: < 0 baseline, 0-1
    post-insertion, 2-7 post-removal, > 7 follow-up (the n-th protocol label, the last when
    the protocol has fewer); "unscheduled" without a date."""
    if days is None or not labels:
        return UNSCHEDULED
    index = 0 if days < 0 else 1 if days <= 1 else 2 if days <= 7 else 3
    return labels[min(index, len(labels) - 1)]


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec="microseconds")


def _local_time(ts: float) -> str:
    return datetime.fromtimestamp(ts).astimezone().strftime("%Y-%m-%d %H:%M")


def _canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _parse_date(text: str | None) -> date | None:
    """A DICOM DA ("20260314") or ISO ("2026-03-14") date; None when empty or unreadable."""
    if not text:
        return None
    text = str(text).strip()
    for fmt in ("%Y%m%d", "%Y-%m-%d"):
        try:
            return datetime.strptime(text[:10] if "-" in text else text[:8], fmt).date()
        except ValueError:
            continue
    return None


def _blind_header(h: InstanceHeader) -> InstanceHeader:
    """The header with every identifying attribute and calendar date blanked."""
    return dataclasses.replace(h, **{name: "" for name in IDENTIFYING_FIELDS})


def _jsonable(key: str, value: Any) -> Any:
    """A form value as JSON-storable data (tuples/sets -> lists, numpy scalars -> Python)."""
    if isinstance(value, (set, frozenset)):
        value = sorted(value, key=str)
    if isinstance(value, (list, tuple)):
        return [_jsonable(key, v) for v in value]
    if hasattr(value, "item") and callable(value.item):
        value = value.item()
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidInput(f"Field {key}: {value} is not a number that can be stored.")
        return value
    raise InvalidInput(f"Field {key}: a value of type {type(value).__name__} cannot be stored.")


def _finite(value: Any, what: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"{what}: {value!r} is not a number.") from None
    if not math.isfinite(number):
        raise InvalidInput(f"{what}: {value!r} is not a finite number.")
    return number


# -- DICOM tag browser masking (PS3.15 Annex E basic profile, conservatively) -------------------
_MASKED_VRS = frozenset({"PN", "DA", "DT", "TM", "AE"})
_MASKED_GROUPS = frozenset({0x0010, 0x0038, 0x4008})
_PATIENT_GROUP_KEEP = frozenset({"PatientSex", "PatientAge", "PatientSize", "PatientWeight"})
_MASKED_KEYWORDS = frozenset({
    "AccessionNumber", "InstitutionName", "InstitutionAddress", "InstitutionalDepartmentName",
    "InstitutionCodeSequence", "ReferringPhysicianAddress", "ReferringPhysicianTelephoneNumbers",
    "ReferringPhysicianIdentificationSequence", "StationName", "DeviceSerialNumber",
    "StudyID", "RequestedProcedureID", "PerformedProcedureStepID", "ScheduledProcedureStepID",
    "RequestAttributesSequence", "IssuerOfAccessionNumberSequence", "PerformingPhysicianName",
    "OperatorsName", "PhysiciansOfRecord", "NameOfPhysiciansReadingStudy",
    "OperatorIdentificationSequence", "PerformingPhysicianIdentificationSequence",
    "PhysiciansOfRecordIdentificationSequence", "StudyComments", "ImageComments",
    "RequestingPhysician", "RequestingService", "FillerOrderNumberImagingServiceRequest",
    "PlacerOrderNumberImagingServiceRequest", "ContentCreatorName", "DeviceUID",
    "StorageMediaFileSetID", "ProtocolName", "PerformedProcedureStepDescription",
})


def _masks(elem: Any) -> bool:
    """True when a reader must not see this element's value."""
    if elem.tag.is_private:
        return True
    if elem.VR in _MASKED_VRS or elem.keyword in _MASKED_KEYWORDS:
        return True
    return elem.tag.group in _MASKED_GROUPS and elem.keyword not in _PATIENT_GROUP_KEEP


def _show_value(elem: Any) -> str:
    value = elem.value
    if isinstance(value, (bytes, bytearray)):
        return f"<{len(value)} bytes>"
    text = str(value)
    return text if len(text) <= 200 else text[:197] + "..."


def _tag_rows(dataset: Any, masked: bool, depth: int = 0) -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = []
    for elem in dataset:
        tag = f"({elem.tag.group:04X},{elem.tag.element:04X})"
        keyword = ">" * depth + (elem.keyword or elem.name)
        hidden = masked and _masks(elem)
        if elem.VR == "SQ":
            rows.append((tag, keyword, MASK if hidden else f"<{len(elem.value)} item(s)>"))
            if not hidden:
                for item in elem.value:
                    rows.extend(_tag_rows(item, masked, depth + 1))
            continue
        if elem.tag == 0x7FE00010:
            rows.append((tag, keyword, "<pixel data>"))
            continue
        rows.append((tag, keyword, MASK if hidden and not _is_blank(elem) else _show_value(elem)))
    return rows


def _is_blank(elem: Any) -> bool:
    return elem.value is None or elem.value == "" or elem.value == b""


@dataclass(frozen=True)
class AuditReport:
    n_records: int
    problems: tuple[str, ...]

    @property
    def intact(self) -> bool:
        return not self.problems


class Trial:
    """One trial database and its use cases.  Open with `Trial.open(path)`.

    `clock` returns epoch seconds (inject one in tests); `label_random` draws the pseudonymous
    case labels (a `secrets.SystemRandom` unless given).
    """

    def __init__(self, store: Store, *, idle_timeout_s: float = 900,
                 clock: Callable[[], float] = time.time,
                 label_random: random.Random | None = None) -> None:
        self.store = store
        self.idle_timeout_s = float(idle_timeout_s)
        self._clock = clock
        self._label_random = label_random or secrets.SystemRandom()
        self._protocols: dict[int, Protocol] = {}

    @classmethod
    def open(cls, db_path: str | Path, *, idle_timeout_s: float = 900,
             clock: Callable[[], float] = time.time,
             label_random: random.Random | None = None) -> Trial:
        """Open (creating and migrating if needed) the trial database at `db_path`."""
        return cls(Store(db_path), idle_timeout_s=idle_timeout_s, clock=clock,
                   label_random=label_random)

    @property
    def archive_dir(self) -> Path:
        """The managed, content-addressed archive next to the database (`import --copy` and
        the files of every case live there, so readers never see source folder names)."""
        return self.store.path.parent / "archive"

    def close(self) -> None:
        """Close the database connection."""
        self.store.close()

    # == internals: sessions, roles, transactions ===============================================
    @contextmanager
    def _use_case(self, session: Session, roles: frozenset[Role] | None, action: str
                  ) -> Iterator[tuple[Transaction, _Actor]]:
        """One transaction as the session's user, after the session and role checks."""
        with self.store.atomic("system") as tx:
            actor = self._authorize(tx, session)
            tx.actor = actor.audit_name
            if roles is not None and actor.role not in roles:
                allowed = " or ".join(sorted(r.value for r in roles))
                raise PermissionDenied(
                    f"You cannot {action}: it needs the {allowed} role and you are signed in "
                    f"as {actor.role.value}.")
            yield tx, actor

    def _authorize(self, tx: Transaction, session: Session) -> _Actor:
        if not isinstance(session, Session) or not session.token:
            raise SessionExpired("You are not signed in; log in first.")
        row = reading.get_session(tx, token_digest(session.token))
        if row is None or row["ended_at"] is not None:
            raise SessionExpired("Your session has ended; log in again.")
        now = self._clock()
        if row["user_id"] is None:
            if session.user_id != 0:
                raise SessionExpired("This session is not valid; log in again.")
            name = f"cli:{row['system_name']}"
            actor = _Actor(row["id"], None, name, f"Workstation ({row['system_name']})",
                           Role.ADMIN)
        else:
            if row["user_id"] != session.user_id:
                raise SessionExpired("This session belongs to another user; log in again.")
            user = reading.get_user(tx, row["user_id"])
            if user is None or not user["active"]:
                raise SessionExpired("Your account has been deactivated; ask the coordinator.")
            if user["locked_until"] is not None and now < user["locked_until"]:
                raise AccountLocked(self._locked_message(user), user["locked_until"])
            if now - row["last_activity"] > self.idle_timeout_s:
                minutes = max(1, round(self.idle_timeout_s / 60))
                raise SessionExpired(
                    f"The screen locked after {minutes} minute(s) without activity; enter your "
                    "password to continue. Your saved work is kept.")
            actor = _Actor(row["id"], user["id"], user["username"], user["display_name"],
                           Role(user["role"]))
        reading.touch_session(tx, row["id"], now)
        return actor

    @staticmethod
    def _locked_message(user: Mapping[str, Any]) -> str:
        return (f"Too many failed password attempts: the account {user['username']} is locked "
                f"until {_local_time(user['locked_until'])}. Try again then, or ask an "
                "administrator to reset the password.")

    def _password_attempt(self, tx: Transaction, user: Mapping[str, Any], ok: bool,
                          failure: Callable[[int], IoreviewError], context: str
                          ) -> IoreviewError | None:
        """Record one password check for `user` (lock-out after MAX_FAILED_ATTEMPTS
        consecutive failures); return the exception to raise after the commit, or None."""
        now = self._clock()
        failed = int(user["failed_logins"])
        locked_until = user["locked_until"]
        if locked_until is not None and now < locked_until:
            tx.audit("attempt_while_locked", "user", user["id"], after={"context": context})
            return AccountLocked(self._locked_message(user), locked_until)
        if locked_until is not None:
            failed = 0
        if ok:
            if failed or locked_until is not None:
                reading.update_user(tx, user["id"], failed_logins=0, locked_until=None)
            return None
        failed += 1
        if failed >= MAX_FAILED_ATTEMPTS:
            until = now + LOCKOUT_S
            reading.update_user(tx, user["id"], failed_logins=failed, locked_until=until)
            tx.audit("lock", "user", user["id"],
                     after={"failed_attempts": failed, "locked_until": _iso(until),
                            "context": context})
            return AccountLocked(self._locked_message({**user, "locked_until": until}), until)
        reading.update_user(tx, user["id"], failed_logins=failed, locked_until=None)
        tx.audit("password_failed", "user", user["id"],
                 after={"failed_attempts": failed, "context": context})
        return failure(MAX_FAILED_ATTEMPTS - failed)

    def _start_session(self, tx: Transaction, user: Mapping[str, Any]) -> Session:
        now = self._clock()
        token = new_token()
        session_id = reading.insert_session(tx, token_digest(token), user["id"], None, now)
        tx.audit("login", "user", user["id"], after={"session": session_id})
        return Session(user["id"], user["username"], user["display_name"], Role(user["role"]),
                       token, now)

    # == sessions & users ========================================================================
    def login(self, username: str, password: str) -> Session:
        """Start a session.  AuthenticationFailed (generic message) on a wrong name/password;
        AccountLocked after 5 consecutive failures (locked 15 minutes; the message says until
        when)."""
        name = (username or "").strip().lower()
        error: IoreviewError | None = None
        session: Session | None = None
        with self.store.atomic(name or "anonymous") as tx:
            user = reading.find_user(tx, name)
            ok = verify_password(password or "", user["password_hash"] if user else None)
            if user is None or not user["active"]:
                tx.audit("login_failed", "user", name or "?",
                         after={"reason": "unknown or inactive account"})
                error = AuthenticationFailed(_GENERIC_LOGIN_FAILURE)
            else:
                error = self._password_attempt(
                    tx, user, ok, lambda _left: AuthenticationFailed(_GENERIC_LOGIN_FAILURE),
                    "login")
                if error is None:
                    session = self._start_session(tx, user)
        if error is not None:
            raise error
        assert session is not None
        return session

    def system_session(self, name: str = "cli") -> Session:
        """An admin-role session for the workstation command line, audited as "cli:<name>"."""
        name = (name or "").strip()
        if not name:
            raise InvalidInput("A workstation session needs a name (e.g. the operator's login).")
        now = self._clock()
        token = new_token()
        with self.store.atomic(f"cli:{name}") as tx:
            session_id = reading.insert_session(tx, token_digest(token), None, name, now)
            tx.audit("login", "session", session_id, after={"system": name})
        return Session(0, f"cli:{name}", f"Workstation ({name})", Role.ADMIN, token, now)

    def check_session(self, session: Session) -> None:
        """SessionExpired when idle longer than `idle_timeout_s` or logged out; otherwise
        refresh the session's activity time."""
        with self._use_case(session, None, "continue"):
            pass

    def unlock(self, session: Session, password: str) -> Session:
        """Idle lock screen: the same user re-enters the password to resume the session."""
        error: IoreviewError | None = None
        with self.store.atomic("system") as tx:
            row = reading.get_session(tx, token_digest(getattr(session, "token", "") or ""))
            if row is None or row["ended_at"] is not None:
                raise SessionExpired("Your session has ended; log in again.")
            if row["user_id"] is None:
                reading.touch_session(tx, row["id"], self._clock())
                return session
            if row["user_id"] != session.user_id:
                raise SessionExpired("This session belongs to another user; log in again.")
            user = reading.get_user(tx, row["user_id"])
            if user is None or not user["active"]:
                raise SessionExpired("Your account has been deactivated; ask the coordinator.")
            tx.actor = user["username"]
            ok = verify_password(password or "", user["password_hash"])
            error = self._password_attempt(
                tx, user, ok,
                lambda left: AuthenticationFailed(
                    f"Wrong password; the screen stays locked ({left} attempt(s) left before "
                    "the account locks)."),
                "unlock")
            if error is None:
                reading.touch_session(tx, row["id"], self._clock())
                tx.audit("unlock", "session", row["id"])
        if error is not None:
            raise error
        return session

    def logout(self, session: Session) -> None:
        """End the session (allowed while the screen is idle-locked; ending twice is harmless)."""
        with self.store.atomic("system") as tx:
            row = reading.get_session(tx, token_digest(getattr(session, "token", "") or ""))
            if row is None or row["ended_at"] is not None:
                return
            tx.actor = (f"cli:{row['system_name']}" if row["user_id"] is None
                        else session.username)
            reading.end_session(tx, row["id"], self._clock())
            tx.audit("logout", "session", row["id"])

    @staticmethod
    def _user_info(row: Mapping[str, Any]) -> UserInfo:
        return UserInfo(row["id"], row["username"], row["display_name"], Role(row["role"]),
                        bool(row["active"]), row["locked_until"], int(row["failed_logins"]))

    @staticmethod
    def _parse_role(role: Role | str) -> Role:
        try:
            return Role(role)
        except ValueError:
            names = ", ".join(r.value for r in Role)
            raise InvalidInput(f"Unknown role {role!r}; choose one of {names}.") from None

    @staticmethod
    def _guard_admin_accounts(actor: _Actor, target_role: Role) -> None:
        if target_role is Role.ADMIN and actor.role is not Role.ADMIN:
            raise PermissionDenied(
                "Only an administrator can create or change administrator accounts.")

    @staticmethod
    def _check_password(password: str) -> None:
        problem = check_password_policy(password)
        if problem:
            raise InvalidInput(problem)

    def _target_user(self, tx: Transaction, actor: _Actor, user_id: int) -> dict[str, Any]:
        row = reading.get_user(tx, user_id)
        if row is None:
            raise NotFound(f"There is no user with id {user_id}.")
        self._guard_admin_accounts(actor, Role(row["role"]))
        return row

    def create_user(self, session: Session, username: str, display_name: str,
                    role: Role | str, password: str) -> UserInfo:
        """Admin/coordinator: add a user (only an admin may create an admin).  Password
        policy: at least 8 characters (InvalidInput otherwise)."""
        with self._use_case(session, _ADMINS, "create users") as (tx, actor):
            role = self._parse_role(role)
            self._guard_admin_accounts(actor, role)
            name = (username or "").strip().lower()
            if not _USERNAME_RE.match(name):
                raise InvalidInput(
                    f"User name {username!r}: use 2-32 lower-case letters, digits, '.', '_' or "
                    "'-', starting with a letter or digit.")
            display = (display_name or "").strip()
            if not display:
                raise InvalidInput("Give the user a display name (shown on signatures).")
            self._check_password(password)
            if reading.find_user(tx, name) is not None:
                raise InvalidInput(f"The user name {name!r} is taken; choose another.")
            user_id = reading.insert_user(tx, name, display, role.value,
                                          hash_password(password), _iso(self._clock()))
            tx.audit("create", "user", user_id,
                     after={"username": name, "display_name": display, "role": role.value})
            return self._user_info(reading.get_user(tx, user_id))

    def list_users(self, session: Session) -> list[UserInfo]:
        """Admin/coordinator: all users."""
        with self._use_case(session, _ADMINS, "list users") as (tx, _actor):
            return [self._user_info(r) for r in reading.list_users(tx)]

    def set_user_active(self, session: Session, user_id: int, active: bool) -> UserInfo:
        """Admin/coordinator: enable or disable an account (not one's own)."""
        with self._use_case(session, _ADMINS, "enable or disable users") as (tx, actor):
            row = self._target_user(tx, actor, user_id)
            if row["id"] == actor.user_id and not active:
                raise InvalidInput("You cannot deactivate your own account.")
            reading.update_user(tx, user_id, active=int(bool(active)))
            tx.audit("set_active", "user", user_id, before={"active": bool(row["active"])},
                     after={"active": bool(active)})
            return self._user_info(reading.get_user(tx, user_id))

    def reset_password(self, session: Session, user_id: int, new_password: str) -> UserInfo:
        """Admin/coordinator: set a new password (also clears a lock-out)."""
        with self._use_case(session, _ADMINS, "reset passwords") as (tx, actor):
            self._target_user(tx, actor, user_id)
            self._check_password(new_password)
            reading.update_user(tx, user_id, password_hash=hash_password(new_password),
                                password_changed_at=_iso(self._clock()), failed_logins=0,
                                locked_until=None)
            tx.audit("reset_password", "user", user_id)
            return self._user_info(reading.get_user(tx, user_id))

    def change_password(self, session: Session, old_password: str, new_password: str) -> None:
        """Any user: change the own password (the current one is required)."""
        error: IoreviewError | None = None
        with self._use_case(session, None, "change a password") as (tx, actor):
            if actor.user_id is None:
                raise PermissionDenied("A workstation session has no password to change.")
            user = reading.get_user(tx, actor.user_id)
            self._check_password(new_password)
            if new_password == old_password:
                raise InvalidInput("The new password must differ from the current one.")
            ok = verify_password(old_password or "", user["password_hash"])
            error = self._password_attempt(
                tx, user, ok,
                lambda left: AuthenticationFailed(
                    f"The current password is wrong; nothing was changed ({left} attempt(s) "
                    "left before the account locks)."),
                "change_password")
            if error is None:
                reading.update_user(tx, actor.user_id, password_hash=hash_password(new_password),
                                    password_changed_at=_iso(self._clock()))
                tx.audit("change_password", "user", actor.user_id)
        if error is not None:
            raise error

    # == protocol =================================================================================
    def _protocol(self, tx: Transaction, version_id: int) -> Protocol:
        cached = self._protocols.get(version_id)
        if cached is None:
            row = reading.protocol_version(tx, version_id)
            if row is None:
                raise NotFound(f"Protocol version {version_id} is not installed.")
            cached = parse_protocol(row["text"], f"{row['source']} (version id {version_id})")
            self._protocols[version_id] = cached
        return cached

    def _active_version(self, tx: Transaction) -> tuple[int, Protocol] | None:
        row = reading.protocol_version_by(tx, active=True)
        return None if row is None else (row["id"], self._protocol(tx, row["id"]))

    def _require_active(self, tx: Transaction) -> tuple[int, Protocol]:
        active = self._active_version(tx)
        if active is None:
            raise NotFound("No read protocol is installed; a coordinator installs one first "
                           "(Protocol > Install, or `ioreview protocol install FILE`).")
        return active

    @staticmethod
    def _version_info(row: Mapping[str, Any]) -> ProtocolVersionInfo:
        return ProtocolVersionInfo(row["id"], row["protocol_id"], row["version"], row["sha256"],
                                   row["installed_at"], bool(row["active"]))

    def install_protocol(self, session: Session, source: str | Path,
                         text: str | None = None) -> ProtocolVersionInfo:
        """Coordinator/admin: install a protocol file (or `text`, named `source`) as the active
        version.  Every version is kept; installing identical text again re-activates it;
        InvalidProtocol passes through with its problems (file, line, field)."""
        with self._use_case(session, _ADMINS, "install a protocol") as (tx, actor):
            if text is None:
                try:
                    text = Path(source).read_text(encoding="utf-8")
                except OSError as exc:
                    raise InvalidInput(f"Cannot read the protocol file {source}: "
                                       f"{exc.strerror or exc}.") from exc
                except UnicodeDecodeError:
                    raise InvalidInput(f"{source} is not UTF-8 text; save it as UTF-8.") from None
            protocol = parse_protocol(text, str(source))
            sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
            existing = reading.protocol_version_by(tx, sha256=sha)
            if existing is not None:
                version_id = existing["id"]
                tx.audit("activate", "protocol_version", version_id,
                         after={"protocol_id": protocol.id, "version": protocol.version})
            else:
                clash = reading.protocol_version_by(tx, protocol_id=protocol.id,
                                                    version=protocol.version)
                if clash is not None:
                    raise InvalidInput(
                        f"{source}: protocol {protocol.id} version {protocol.version} is already "
                        "installed with different content; give the edited file a new version "
                        "number ([protocol] version) and install it again.")
                version_id = reading.insert_protocol_version(
                    tx, protocol.id, protocol.version, protocol.title, str(source), text, sha,
                    _iso(self._clock()), actor.audit_name)
                tx.audit("install", "protocol_version", version_id,
                         after={"protocol_id": protocol.id, "version": protocol.version,
                                "sha256": sha, "source": str(source)})
            reading.set_active_protocol(tx, version_id)
            return self._version_info(reading.protocol_version(tx, version_id))

    def active_protocol(self, session: Session) -> tuple[int, Protocol]:
        """The active protocol version id and the parsed protocol (NotFound if none)."""
        with self._use_case(session, None, "see the protocol") as (tx, _actor):
            return self._require_active(tx)

    def protocol_versions(self, session: Session) -> list[ProtocolVersionInfo]:
        """All installed protocol versions, oldest first."""
        with self._use_case(session, None, "see the protocol") as (tx, _actor):
            return [self._version_info(r) for r in reading.list_protocol_versions(tx)]

    # == import & info =============================================================================
    def import_studies(self, session: Session, paths: Sequence[str | Path], *,
                       copy_to: str | Path | None = None,
                       progress: Callable[[int, int], None] | None = None,
                       checksum: bool = False) -> ImportSummary:
        """Coordinator/admin: import DICOM files, folders, zips or DICOMDIRs (the import runs
        in its own transactions, audited as the caller).  Files copied into the archive
        (`copy_to`) always get a SHA-256; files indexed in place get one with `checksum`
        (hashing costs more than indexing) and at the latest when their series joins a case."""
        from ioreview.importing import import_paths

        with self._use_case(session, _ADMINS, "import studies") as (_tx, actor):
            name = actor.audit_name
        return import_paths(self.store, name, list(paths), copy_to=copy_to, progress=progress,
                            with_sha256=checksum)

    def info(self, session: Session) -> dict[str, Any]:
        """Coordinator/admin: counts of the DICOM index, users, cases, assignments, reads by
        status, and the active protocol version."""
        with self._use_case(session, _ADMINS, "see trial information") as (tx, _actor):
            statuses = reading.read_status_counts(tx)
            active = reading.protocol_version_by(tx, active=True)
            return {
                "patients": reading.count_rows(tx, "patient"),
                "studies": reading.count_rows(tx, "study"),
                "series": reading.count_rows(tx, "series"),
                "instances": reading.count_rows(tx, "instance"),
                "users": reading.count_rows(tx, "app_user"),
                "cases": reading.count_rows(tx, "review_case"),
                "assignments": reading.count_rows(tx, "assignment"),
                "reads": {s.value: int(statuses.get(s.value, 0)) for s in ReadStatus},
                "protocol": (f"{active['protocol_id']} {active['version']}"
                             if active is not None else None),
            }

    def list_studies(self, session: Session) -> list[dict[str, Any]]:
        """Coordinator/admin (identifying): imported studies with patient, date, modalities
        and the case holding each (None when not yet in a case)."""
        with self._use_case(session, _ADMINS, "list studies") as (tx, _actor):
            labels = reading.study_case_labels(tx)
            return [{**row, "case_label": labels.get(row["id"])}
                    for row in dicom_index.list_studies(self.store)]

    def list_series(self, session: Session, study_pk: int) -> list[dict[str, Any]]:
        """Coordinator/admin: the series of one study."""
        with self._use_case(session, _ADMINS, "list series") as (_tx, _actor):
            return dicom_index.list_series(self.store, int(study_pk))

    # == cases & assignments =======================================================================
    def _new_label(self, tx: Transaction) -> str:
        length = 4
        for attempt in range(200):
            if attempt == 100:
                length = 6
            label = "CASE-" + "".join(self._label_random.choice(_LABEL_ALPHABET)
                                      for _ in range(length))
            if not reading.label_taken(tx, label):
                return label
        raise IoreviewError("Could not draw a free case label; try again.")

    @staticmethod
    def _case_info(row: Mapping[str, Any]) -> CaseInfo:
        return CaseInfo(row["id"], row["label"], row["subject"], row["timepoint"],
                        row["days_from_insertion"], int(row["n_series"]))

    def _create_case(self, tx: Transaction, subject: str, timepoint: str,
                     days_from_insertion: int | None, series_pks: Sequence[int]) -> CaseInfo:
        subject = (subject or "").strip()
        timepoint = (timepoint or "").strip()
        if not subject:
            raise InvalidInput("A case needs a subject (the patient it belongs to).")
        if not timepoint:
            raise InvalidInput("A case needs a timepoint label (e.g. post-insertion).")
        if days_from_insertion is not None and (
                isinstance(days_from_insertion, bool) or not isinstance(days_from_insertion, int)):
            raise InvalidInput(f"Days from insertion must be a whole number, not "
                               f"{days_from_insertion!r}.")
        pks = list(dict.fromkeys(int(pk) for pk in series_pks))
        if not pks:
            raise InvalidInput("A case needs at least one series.")
        found = reading.series_summaries(tx, pks)
        missing = sorted(set(pks) - {r["id"] for r in found})
        if missing:
            raise InvalidInput(f"Series {', '.join(map(str, missing))} do not exist; "
                               "refresh the study list.")
        taken = reading.series_in_cases(tx, pks)
        if taken:
            pk, case_id = next(iter(taken.items()))
            case = reading.get_case(tx, case_id)
            raise InvalidInput(f"Series {pk} already belongs to case {case['label']}; a series "
                               "can be in one case only.")
        studies = {r["study_pk"] for r in found}
        study_pk = studies.pop() if len(studies) == 1 else None
        try:
            archive_series(tx, pks, self.archive_dir)
        except ArchiveError as exc:
            raise InvalidInput(str(exc)) from exc
        label = self._new_label(tx)
        case_id = reading.insert_case(tx, label, subject, timepoint, days_from_insertion,
                                      study_pk, _iso(self._clock()))
        reading.add_case_series(tx, case_id, pks)
        tx.audit("create", "case", case_id,
                 after={"label": label, "subject": subject, "timepoint": timepoint,
                        "days_from_insertion": days_from_insertion, "series": pks})
        return self._case_info(reading.get_case(tx, case_id))

    def create_case(self, session: Session, subject: str, timepoint: str,
                    days_from_insertion: int | None, series_pks: Sequence[int]) -> CaseInfo:
        """Coordinator/admin: group series into a case with a new pseudonymous label
        ("CASE-" and 4 random characters); a series can be in one case only."""
        with self._use_case(session, _ADMINS, "create cases") as (tx, _actor):
            return self._create_case(tx, subject, timepoint, days_from_insertion, series_pks)

    def build_cases_from_studies(self, session: Session,
                                 insertion_dates: Mapping[str, str] | None = None
                                 ) -> list[CaseInfo]:
        """Coordinator/admin: one case per (patient, study) not yet in a case.  Days count
        from the subject's insertion date (`insertion_dates` keyed by patient ID or patient
        key, as YYYYMMDD or YYYY-MM-DD; else the subject's earliest study); the timepoint
        label follows from the days (see `timepoint_for_days`)."""
        with self._use_case(session, _ADMINS, "build cases") as (tx, _actor):
            for subject, text in (insertion_dates or {}).items():
                if _parse_date(text) is None:
                    raise InvalidInput(f"Insertion date {text!r} for subject {subject} is not a "
                                       "date; use YYYY-MM-DD.")
            active = self._active_version(tx)
            labels = active[1].timepoints if active else DEFAULT_TIMEPOINTS
            by_subject: dict[str, list[dict[str, Any]]] = defaultdict(list)
            for row in reading.studies_for_cases(tx):
                by_subject[row["patient_key"]].append(row)
            created: list[CaseInfo] = []
            for key, studies in by_subject.items():
                insertion = self._insertion_date(key, studies, insertion_dates or {})
                subject = studies[0]["patient_id"] or key
                for study in studies:
                    if study["in_case"]:
                        continue
                    series = reading.study_series_pks(tx, study["study_pk"])
                    if not series:
                        continue
                    day = _parse_date(study["study_date"])
                    days = (day - insertion).days if day and insertion else None
                    created.append(self._create_case(tx, subject,
                                                     timepoint_for_days(days, labels),
                                                     days, series))
            return created

    @staticmethod
    def _insertion_date(key: str, studies: Sequence[Mapping[str, Any]],
                        given: Mapping[str, str]) -> date | None:
        patient_id = studies[0]["patient_id"]
        text = given.get(key) or (given.get(patient_id) if patient_id else None)
        if text:
            parsed = _parse_date(text)
            if parsed is None:
                raise InvalidInput(f"Insertion date {text!r} for subject {patient_id or key} is "
                                   "not a date; use YYYY-MM-DD.")
            return parsed
        dates = [d for d in (_parse_date(s["study_date"]) for s in studies) if d]
        return min(dates) if dates else None

    def list_cases(self, session: Session) -> list[CaseInfo]:
        """Coordinator/admin: all cases, by subject and time."""
        with self._use_case(session, _ADMINS, "list cases") as (tx, _actor):
            return [self._case_info(r) for r in reading.list_cases(tx)]

    def _reader_ids(self, tx: Transaction, readers: Sequence[int] | None) -> list[int]:
        if readers is None:
            return [r["id"] for r in reading.list_users(tx, Role.READER.value) if r["active"]]
        ids = list(dict.fromkeys(int(r) for r in readers))
        for user_id in ids:
            row = reading.get_user(tx, user_id)
            if row is None or row["role"] != Role.READER.value or not row["active"]:
                raise InvalidInput(f"User {user_id} is not an active reader; choose readers from "
                                   "the user list.")
        return ids

    @staticmethod
    def _reader_order(cases: Sequence[Mapping[str, Any]], rng: random.Random,
                      by_time: bool) -> list[Mapping[str, Any]]:
        """A reader's randomized order; with priors, subjects are shuffled and each subject's
        cases are read in time order."""
        if not by_time:
            order = list(cases)
            rng.shuffle(order)
            return order
        subjects: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
        for case in cases:
            subjects[case["subject"]].append(case)
        names = sorted(subjects)
        rng.shuffle(names)
        return [c for name in names for c in sorted(
            subjects[name], key=lambda c: (c["days_from_insertion"] is None,
                                           c["days_from_insertion"] or 0, c["id"]))]

    @staticmethod
    def _place_rereads(order: list[Mapping[str, Any]], fraction: float, rng: random.Random
                       ) -> list[tuple[Mapping[str, Any], bool]]:
        """Insert a hidden re-read of a random `fraction` of `order` among the later cases
        (after its original and in the second half)."""
        sequence: list[tuple[Mapping[str, Any], bool]] = [(c, False) for c in order]
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
        with self._use_case(session, _ADMINS, "generate assignments") as (tx, actor):
            version_id, protocol = self._require_active(tx)
            reader_ids = self._reader_ids(tx, readers)
            per_case = protocol.readers_per_case
            if len(reader_ids) < per_case:
                raise InvalidInput(
                    f"Protocol {protocol.id} {protocol.version} needs {per_case} readers per case "
                    f"but only {len(reader_ids)} active reader(s) are available; create more "
                    "reader accounts first.")
            seed = secrets.randbelow(2 ** 31) if seed is None else int(seed)
            assigned = reading.assigned_case_ids(tx)
            cases = [c for c in reading.list_cases(tx) if c["id"] not in assigned]
            cases.sort(key=lambda c: c["id"])
            usernames = {r: reading.get_user(tx, r)["username"] for r in reader_ids}
            if not cases:
                return AssignmentSummary(seed, 0, 0, {usernames[r]: 0 for r in reader_ids})
            rng = random.Random(seed)
            load = {r: reading.primary_assignment_counts(tx).get(r, 0) for r in reader_ids}
            per_reader: dict[int, list[Mapping[str, Any]]] = {r: [] for r in reader_ids}
            for case in cases:
                chosen = sorted(reader_ids, key=lambda r: (load[r], rng.random()))[:per_case]
                for r in chosen:
                    load[r] += 1
                    per_reader[r].append(case)
            run_id = reading.insert_assignment_run(tx, seed, version_id, reader_ids,
                                                   _iso(self._clock()), actor.audit_name)
            now = self._clock()
            washout_until = now + protocol.rereads.washout_days * 86400.0
            by_time = protocol.priors.value == "earlier_timepoints"
            counts: dict[str, int] = {}
            rows: list[tuple[int, int, int, bool]] = []
            for r in reader_ids:
                reader_rng = random.Random(f"{seed}:{r}")
                order = self._reader_order(per_reader[r], reader_rng, by_time)
                sequence = self._place_rereads(order, protocol.rereads.fraction, reader_rng)
                base = reading.max_order_index(tx, r) + 1
                rows.extend((case["id"], r, base + offset, is_reread)
                            for offset, (case, is_reread) in enumerate(sequence))
                counts[usernames[r]] = len(sequence)
            # Insert in a shuffled order so that row ids say nothing about order or re-reads.
            rng.shuffle(rows)
            for case_id, r, order_index, is_reread in rows:
                label = self._new_label(tx) if is_reread else None
                available = washout_until if is_reread else now
                assignment_id = reading.insert_assignment(
                    tx, case_id, r, run_id, order_index, is_reread, label, available)
                tx.audit("create", "assignment", assignment_id,
                         after={"case": case_id, "reader": r, "order_index": order_index,
                                "is_reread": is_reread, "label": label,
                                "available_from": _iso(available)})
            n_total = len(rows)
            n_rereads = sum(1 for row in rows if row[3])
            tx.audit("generate", "assignment_run", run_id,
                     after={"seed": seed, "readers": reader_ids, "assignments": n_total,
                            "rereads": n_rereads, "protocol_version": version_id})
            return AssignmentSummary(seed, n_total, n_rereads, counts)

    # == reading ===================================================================================
    def _own_assignment(self, tx: Transaction, actor: _Actor, assignment_id: int
                        ) -> dict[str, Any]:
        row = reading.get_assignment(tx, int(assignment_id))
        if (row is None or row["reader_id"] != actor.user_id
                or row["available_from"] > self._clock()):
            raise BlindingViolation(f"Assignment {assignment_id} is not in your worklist.")
        return row

    def _own_read(self, tx: Transaction, actor: _Actor, read_id: int) -> dict[str, Any]:
        row = reading.get_read(tx, int(read_id))
        if (row is None or row["reader_id"] != actor.user_id
                or row["available_from"] > self._clock()):
            raise BlindingViolation(f"Read {read_id} is not one of your reads.")
        return row

    def _series_views(self, tx: Transaction, series_pks: Sequence[int]) -> tuple[SeriesView, ...]:
        views = []
        for row in reading.series_summaries(tx, series_pks):
            headers = tuple(_blind_header(h)
                            for h in dicom_index.series_headers(self.store, row["id"]))
            views.append(SeriesView(row["id"], row["modality"] or "",
                                    row["series_description"] or "", int(row["n_instances"]),
                                    int(row["n_frames"]), headers))
        return tuple(views)

    @staticmethod
    def _prior_cases(tx: Transaction, case: Mapping[str, Any], protocol: Protocol
                     ) -> list[dict[str, Any]]:
        if protocol.priors.value != "earlier_timepoints" or case["days_from_insertion"] is None:
            return []
        return [c for c in reading.cases_of_subject(tx, case["subject"])
                if c["id"] != case["id"] and c["days_from_insertion"] is not None
                and c["days_from_insertion"] < case["days_from_insertion"]]

    def _case_modalities(self, tx: Transaction, case_id: int) -> set[str]:
        return {r["modality"] for r in reading.series_summaries(
            tx, reading.case_series_pks(tx, case_id)) if r["modality"]}

    def _visible_uids(self, tx: Transaction, case: Mapping[str, Any], protocol: Protocol
                      ) -> set[str]:
        pks = list(reading.case_series_pks(tx, case["id"]))
        for prior in self._prior_cases(tx, case, protocol):
            pks.extend(reading.case_series_pks(tx, prior["id"]))
        return reading.instance_uids_of_series(tx, pks)

    @staticmethod
    def _annotation(row: Mapping[str, Any]) -> Annotation:
        return Annotation(row["id"], row["finding_id"], row["kind"], row["sop_instance_uid"],
                          int(row["frame"]), tuple((float(p[0]), float(p[1]))
                                                   for p in row["points"]),
                          dict(row["measurements"]), row["label"])

    @staticmethod
    def _key_image(row: Mapping[str, Any]) -> KeyImage:
        return KeyImage(row["sop_instance_uid"], int(row["frame"]), row["note"])

    def _case_view(self, tx: Transaction, assignment: Mapping[str, Any],
                   read: Mapping[str, Any]) -> CaseView:
        case = reading.get_case(tx, assignment["case_id"])
        protocol = self._protocol(tx, read["protocol_version_id"])
        priors = tuple(
            PriorView(f"Prior: {c['timepoint']}, day {c['days_from_insertion']}",
                      c["timepoint"], c["days_from_insertion"],
                      self._series_views(tx, reading.case_series_pks(tx, c["id"])))
            for c in self._prior_cases(tx, case, protocol))
        version = int(read["version"])
        notice = ""
        active = reading.protocol_version_by(tx, active=True)
        status = ReadStatus(read["status"])
        if (active is not None and active["id"] != read["protocol_version_id"]
                and status is not ReadStatus.SUBMITTED):
            notice = (f"This read was started under protocol {protocol.id} {protocol.version}; "
                      f"version {active['version']} is now active. Your read stays under "
                      f"{protocol.version} and can be signed as it is.")
        return CaseView(
            assignment_id=assignment["id"], read_id=read["id"],
            case_label=assignment["display_label"], timepoint=case["timepoint"],
            days_from_insertion=case["days_from_insertion"],
            series=self._series_views(tx, reading.case_series_pks(tx, case["id"])),
            priors=priors, protocol=protocol, protocol_version_id=read["protocol_version_id"],
            values=reading.read_values(tx, read["id"], version),
            annotations=tuple(self._annotation(a)
                              for a in reading.annotations(tx, read["id"], version)),
            key_images=tuple(self._key_image(k)
                             for k in reading.key_images(tx, read["id"], version)),
            status=status, elapsed_s=float(read["active_seconds"]), version=version,
            protocol_notice=notice)

    def worklist(self, session: Session) -> list[WorklistItem]:
        """Reader: the caller's own assignments available now, in their randomized order.
        `order_index` is the position in this list (re-reads still in their washout leave no
        gap that would betray them)."""
        with self._use_case(session, _READERS, "see a worklist") as (tx, actor):
            rows = reading.worklist_rows(tx, actor.user_id, self._clock())
            return [WorklistItem(r["assignment_id"], r["read_id"], r["label"], r["timepoint"],
                                 r["days_from_insertion"],
                                 ReadStatus(r["status"]) if r["status"] else ReadStatus.NEW,
                                 position)
                    for position, r in enumerate(rows)]

    def open_case(self, session: Session, assignment_id: int) -> CaseView:
        """Reader: open an own assignment as a blinded view, starting a draft read under the
        active protocol version if none exists (BlindingViolation for any other assignment)."""
        with self._use_case(session, _READERS, "read cases") as (tx, actor):
            assignment = self._own_assignment(tx, actor, assignment_id)
            read = reading.read_for_assignment(tx, assignment["id"])
            if read is None:
                version_id, _protocol = self._require_active(tx)
                read_id = reading.insert_read(tx, assignment["id"], version_id,
                                              ReadStatus.IN_PROGRESS.value, _iso(self._clock()))
                tx.audit("start", "read", read_id,
                         after={"assignment": assignment["id"], "protocol_version": version_id})
                read = reading.read_for_assignment(tx, assignment["id"])
            tx.audit("open", "read", read["id"])
            return self._case_view(tx, assignment, read)

    def _clean_values(self, protocol: Protocol, values: Mapping[str, Any]) -> dict[str, Any]:
        if not isinstance(values, Mapping):
            raise InvalidInput("Read values must be a mapping of field key to value.")
        keys = protocol.keys()
        unknown = sorted(set(values) - set(keys))
        if unknown:
            raise InvalidInput(
                f"Unknown field(s) {', '.join(map(repr, unknown))} for protocol {protocol.id} "
                f"{protocol.version}; nothing was saved. Reopen the case to get the current form.")
        return {k: _jsonable(k, values[k]) for k in keys
                if k in values and values[k] is not None}

    def _clean_annotations(self, protocol: Protocol, annotations: Sequence[Annotation],
                           uids: set[str]) -> list[dict[str, Any]]:
        findings = {f.id for f in protocol.findings}
        rows = []
        for n, a in enumerate(annotations, 1):
            what = f"Annotation {n}"
            if not isinstance(a, Annotation):
                raise InvalidInput(f"{what} is not an Annotation.")
            if a.kind not in ANNOTATION_KINDS:
                raise InvalidInput(f"{what}: unknown kind {a.kind!r}; use one of "
                                   f"{', '.join(sorted(ANNOTATION_KINDS))}.")
            if a.finding_id is not None and a.finding_id not in findings:
                raise InvalidInput(f"{what}: {a.finding_id!r} is not a finding of the protocol.")
            if a.sop_instance_uid not in uids:
                raise InvalidInput(f"{what} is on an image that is not part of this case.")
            frame = int(_finite(a.frame, f"{what} frame"))
            if frame < 0:
                raise InvalidInput(f"{what}: the frame number cannot be negative.")
            points = []
            for p in a.points:
                if len(p) != 2:
                    raise InvalidInput(f"{what}: points are (row, column) pairs.")
                points.append([_finite(p[0], f"{what} point"), _finite(p[1], f"{what} point")])
            measurements = self._measurements(a.measurements or {}, what)
            rows.append({"finding_id": a.finding_id, "kind": a.kind,
                         "sop_instance_uid": a.sop_instance_uid, "frame": frame,
                         "points": points, "measurements": measurements,
                         "label": str(a.label or "")})
        return rows

    @staticmethod
    def _measurements(raw: Mapping[str, Any], what: str) -> dict[str, float]:
        """Numeric measurements; undefined ones (None, NaN, e.g. the mean of an empty region)
        are left out rather than failing the autosave."""
        out = {}
        for key, value in raw.items():
            if value is None or (isinstance(value, float) and not math.isfinite(value)):
                continue
            out[str(key)] = _finite(value, f"{what} measurement {key}")
        return out

    @staticmethod
    def _clean_key_images(key_images: Sequence[KeyImage], uids: set[str]
                          ) -> list[dict[str, Any]]:
        rows = []
        for n, k in enumerate(key_images, 1):
            if not isinstance(k, KeyImage):
                raise InvalidInput(f"Key image {n} is not a KeyImage.")
            if k.sop_instance_uid not in uids:
                raise InvalidInput(f"Key image {n} is not an image of this case.")
            frame = int(_finite(k.frame, f"Key image {n} frame"))
            if frame < 0:
                raise InvalidInput(f"Key image {n}: the frame number cannot be negative.")
            rows.append({"sop_instance_uid": k.sop_instance_uid, "frame": frame,
                         "note": str(k.note or "")})
        return rows

    @staticmethod
    def _units(protocol: Protocol, values: Mapping[str, Any]) -> dict[str, str | None]:
        return {k: protocol.field(k).unit for k in values}

    def save_draft(self, session: Session, read_id: int, values: Mapping[str, Any],
                   annotations: Sequence[Annotation] | None = None,
                   key_images: Sequence[KeyImage] | None = None,
                   active_seconds: float = 0) -> ReadState:
        """Reader: autosave an own unsigned read.  `values` replace the draft's values (None
        clears a field); annotations / key images replace the stored ones when given;
        `active_seconds` is the time on the case since the last save.  Unknown fields are
        rejected (nothing saved); completeness is not required.  ReadLocked once signed."""
        with self._use_case(session, _READERS, "save reads") as (tx, actor):
            read = self._own_read(tx, actor, read_id)
            if read["status"] == ReadStatus.SUBMITTED.value:
                raise ReadLocked(f"Read of {read['display_label']} is signed and locked; use "
                                 "Amend to change it (a reason and your signature are needed).")
            protocol = self._protocol(tx, read["protocol_version_id"])
            clean = self._clean_values(protocol, values)
            seconds = _finite(active_seconds, "Active seconds")
            if seconds < 0:
                raise InvalidInput("Active seconds cannot be negative.")
            case = reading.get_case(tx, read["case_id"])
            uids = (self._visible_uids(tx, case, protocol)
                    if annotations is not None or key_images is not None else set())
            version = int(read["version"])
            reading.replace_read_values(tx, read["id"], version, clean,
                                        self._units(protocol, clean))
            if annotations is not None:
                reading.replace_annotations(tx, read["id"], version,
                                            self._clean_annotations(protocol, annotations, uids))
            if key_images is not None:
                reading.replace_key_images(tx, read["id"], version,
                                           self._clean_key_images(key_images, uids))
            saved_at = _iso(self._clock())
            total = float(read["active_seconds"]) + seconds
            reading.update_read(tx, read["id"], updated_at=saved_at, active_seconds=total)
            n_annotations = len(reading.annotations(tx, read["id"], version))
            n_key_images = len(reading.key_images(tx, read["id"], version))
            tx.audit("save_draft", "read", read["id"],
                     after={"values": clean, "annotations": n_annotations,
                            "key_images": n_key_images, "active_seconds": total})
            return ReadState(read["id"], ReadStatus(read["status"]), version, saved_at, total,
                             len(clean), n_annotations, n_key_images)

    def _problems(self, tx: Transaction, read: Mapping[str, Any], protocol: Protocol,
                  values: Mapping[str, Any]) -> list[FieldProblem]:
        return validate_values(protocol, values, self._case_modalities(tx, read["case_id"]))

    def validate_read(self, session: Session, read_id: int) -> list[FieldProblem]:
        """Reader: what is missing or wrong in an own read, per field (empty when complete)."""
        with self._use_case(session, _READERS, "check reads") as (tx, actor):
            read = self._own_read(tx, actor, read_id)
            protocol = self._protocol(tx, read["protocol_version_id"])
            values = reading.read_values(tx, read["id"], int(read["version"]))
            return self._problems(tx, read, protocol, values)

    def _sign(self, tx: Transaction, actor: _Actor, read: Mapping[str, Any], version: int,
              meaning: str) -> SignatureInfo:
        signed_at = _iso(self._clock())
        content = {
            "read_id": read["id"], "assignment_id": read["assignment_id"], "version": version,
            "protocol_version_id": read["protocol_version_id"], "signer": actor.username,
            "meaning": meaning, "signed_at": signed_at,
            "values": reading.read_values(tx, read["id"], version),
            "annotations": [{k: v for k, v in a.items() if k not in ("id", "read_id")}
                            for a in reading.annotations(tx, read["id"], version)],
            "key_images": reading.key_images(tx, read["id"], version),
        }
        sha = hashlib.sha256(_canonical_json(content).encode("utf-8")).hexdigest()
        assert actor.user_id is not None
        signature_id = reading.insert_signature(tx, read["id"], version, actor.user_id,
                                                signed_at, meaning, sha)
        tx.audit("sign", "signature", signature_id,
                 after={"read": read["id"], "version": version, "meaning": meaning,
                        "content_sha256": sha})
        return SignatureInfo(signature_id, read["id"], actor.username, signed_at, meaning, sha,
                             version)

    def _reauthenticate(self, tx: Transaction, actor: _Actor, password: str, context: str
                        ) -> IoreviewError | None:
        user = reading.get_user(tx, actor.user_id)
        ok = verify_password(password or "", user["password_hash"])
        return self._password_attempt(
            tx, user, ok,
            lambda left: SignatureRejected(
                f"The password does not match; the read was NOT signed. {left} attempt(s) left "
                "before the account locks for 15 minutes."),
            context)

    def submit_read(self, session: Session, read_id: int, password: str) -> SignatureInfo:
        """Reader: sign ("I confirm this read") and lock an own complete read.  ReadIncomplete
        lists the problems; SignatureRejected on a wrong password (counts towards the
        lock-out); ReadLocked when already signed."""
        error: IoreviewError | None = None
        signature: SignatureInfo | None = None
        with self._use_case(session, _READERS, "sign reads") as (tx, actor):
            read = self._own_read(tx, actor, read_id)
            if read["status"] == ReadStatus.SUBMITTED.value:
                raise ReadLocked(f"Read of {read['display_label']} is already signed and locked; "
                                 "use Amend to change it.")
            protocol = self._protocol(tx, read["protocol_version_id"])
            version = int(read["version"])
            problems = self._problems(tx, read, protocol,
                                      reading.read_values(tx, read["id"], version))
            if problems:
                raise ReadIncomplete(problems)
            error = self._reauthenticate(tx, actor, password, "sign read")
            if error is None:
                signature = self._sign(tx, actor, read, version, SIGNATURE_MEANING)
                reading.update_read(tx, read["id"], status=ReadStatus.SUBMITTED.value,
                                    submitted_at=signature.signed_at,
                                    updated_at=signature.signed_at)
                tx.audit("submit", "read", read["id"],
                         before={"status": read["status"]},
                         after={"status": ReadStatus.SUBMITTED.value, "version": version,
                                "signature": signature.id})
        if error is not None:
            raise error
        assert signature is not None
        return signature

    def amend_read(self, session: Session, read_id: int, reason: str,
                   values: Mapping[str, Any], password: str,
                   annotations: Sequence[Annotation] | None = None) -> SignatureInfo:
        """Reader: change an own signed read as a new, signed version with a reason.  `values`
        are merged over the signed ones (None clears a field); annotations replace the signed
        ones when given, else are carried over; earlier versions and signatures stay."""
        error: IoreviewError | None = None
        signature: SignatureInfo | None = None
        with self._use_case(session, _READERS, "amend reads") as (tx, actor):
            read = self._own_read(tx, actor, read_id)
            if read["status"] != ReadStatus.SUBMITTED.value:
                raise InvalidInput(f"Read of {read['display_label']} is not signed yet; edit the "
                                   "draft and sign it instead of amending.")
            reason = (reason or "").strip()
            if not reason:
                raise InvalidInput("An amendment needs a reason; say why the signed read "
                                   "changes.")
            protocol = self._protocol(tx, read["protocol_version_id"])
            old = int(read["version"])
            before = reading.read_values(tx, read["id"], old)
            if not isinstance(values, Mapping):
                raise InvalidInput("Read values must be a mapping of field key to value.")
            merged = self._clean_values(protocol, {**before, **values})
            problems = self._problems(tx, read, protocol, merged)
            if problems:
                raise ReadIncomplete(problems)
            case = reading.get_case(tx, read["case_id"])
            if annotations is not None:
                new_annotations = self._clean_annotations(
                    protocol, annotations, self._visible_uids(tx, case, protocol))
            else:
                new_annotations = reading.annotations(tx, read["id"], old)
            error = self._reauthenticate(tx, actor, password, "amend read")
            if error is None:
                new = old + 1
                reading.replace_read_values(tx, read["id"], new, merged,
                                            self._units(protocol, merged))
                reading.replace_annotations(tx, read["id"], new, new_annotations)
                reading.replace_key_images(tx, read["id"], new,
                                           reading.key_images(tx, read["id"], old))
                at = _iso(self._clock())
                amendment_id = reading.insert_amendment(tx, read["id"], old, new, reason,
                                                        actor.user_id, at)
                reading.update_read(tx, read["id"], version=new, updated_at=at)
                tx.audit("amend", "read", read["id"],
                         before={"version": old, "values": before},
                         after={"version": new, "values": merged, "reason": reason,
                                "amendment": amendment_id})
                signature = self._sign(tx, actor, read, new, AMENDMENT_MEANING)
        if error is not None:
            raise error
        assert signature is not None
        return signature

    def read_history(self, session: Session, read_id: int) -> list[ReadVersion]:
        """Reader: the versions of an own read, oldest first, with signatures and the reasons
        for amendments."""
        with self._use_case(session, _READERS, "see read history") as (tx, actor):
            read = self._own_read(tx, actor, read_id)
            signatures = {s["version"]: s for s in reading.signatures(tx, read["id"])}
            amendments = {a["to_version"]: a for a in reading.amendments(tx, read["id"])}
            history = []
            for version in range(1, int(read["version"]) + 1):
                s = signatures.get(version)
                a = amendments.get(version)
                history.append(ReadVersion(
                    version=version,
                    status=ReadStatus.SUBMITTED if s else ReadStatus(read["status"]),
                    values=reading.read_values(tx, read["id"], version),
                    annotations=tuple(self._annotation(r)
                                      for r in reading.annotations(tx, read["id"], version)),
                    key_images=tuple(self._key_image(r)
                                     for r in reading.key_images(tx, read["id"], version)),
                    signature=(SignatureInfo(s["id"], read["id"], s["signer"], s["signed_at"],
                                             s["meaning"], s["content_sha256"], version)
                               if s else None),
                    amendment_reason=a["reason"] if a else None,
                    amended_at=a["amended_at"] if a else None))
            return history

    def _reader_may_see_instance(self, tx: Transaction, actor: _Actor, series_pk: int) -> bool:
        for row in reading.reader_assignments(tx, actor.user_id, self._clock()):
            case = reading.get_case(tx, row["case_id"])
            version_id = row["protocol_version_id"]
            if version_id is None:
                active = self._active_version(tx)
                protocol = active[1] if active else None
            else:
                protocol = self._protocol(tx, version_id)
            pks = set(reading.case_series_pks(tx, case["id"]))
            if protocol is not None:
                for prior in self._prior_cases(tx, case, protocol):
                    pks.update(reading.case_series_pks(tx, prior["id"]))
            if series_pk in pks:
                return True
        return False

    def tags_for_display(self, session: Session, sop_instance_uid: str
                         ) -> list[tuple[str, str, str]]:
        """(tag "(0010,0010)", keyword, value) rows for the DICOM tag browser, read from the
        file.  For every role but coordinator/admin, identifying values (names, IDs, all
        dates and times, institution, addresses, private tags...) show as "•••"; a reader may
        look only at images of their own available cases (and those cases' priors)."""
        with self._use_case(session, None, "see DICOM tags") as (tx, actor):
            location = reading.instance_location(tx, str(sop_instance_uid))
            unmasked = actor.role in _ADMINS
            if actor.role is Role.READER:
                if location is None or not self._reader_may_see_instance(
                        tx, actor, location["series_pk"]):
                    raise BlindingViolation("This image is not part of a case in your worklist.")
            elif not unmasked and (location is None
                                   or not reading.series_in_cases(tx, [location["series_pk"]])):
                raise BlindingViolation("This image is not part of a case.")
            if location is None:
                raise NotFound(f"No image with SOP Instance UID {sop_instance_uid} is indexed.")
            path = location["path"]
        import pydicom

        try:
            dataset = pydicom.dcmread(path, stop_before_pixels=True, force=True)
        except (OSError, pydicom.errors.InvalidDicomError) as exc:
            shown = path if unmasked else "the archive"
            raise NotFound(f"The image file cannot be read from {shown}; ask the coordinator "
                           "to check the archive.") from exc
        rows = _tag_rows(dataset.file_meta, not unmasked) if dataset.file_meta else []
        return rows + _tag_rows(dataset, not unmasked)

    # == coordinator views ========================================================================
    def verify_audit_trail(self, session: Session) -> AuditReport:
        """Coordinator/admin: recompute the audit trail's hash chain (21 CFR Part 11 style
        tamper evidence); every problem names the record it was found in."""
        with self._use_case(session, _ADMINS, "verify the audit trail") as (_tx, _actor):
            return AuditReport(self.store.audit_count(), tuple(self.store.verify_audit_chain()))

    def progress(self, session: Session) -> ProgressReport:
        """Coordinator/admin: reads per reader, completed cases (every primary read signed) and
        open discordances (cases whose signed reads disagree per the protocol's rules)."""
        with self._use_case(session, _ADMINS, "see reading progress") as (tx, _actor):
            per_reader = [ReaderProgress(r["display_name"], int(r["assigned"]),
                                         int(r["submitted"] or 0), int(r["in_progress"] or 0))
                          for r in reading.reader_progress(tx)]
            by_case: dict[int, list[dict[str, Any]]] = defaultdict(list)
            for row in reading.primary_reads(tx):
                by_case[row["case_id"]].append(row)
            complete = 0
            discordant: list[DiscordantCase] = []
            for reads in by_case.values():
                if any(r["status"] != ReadStatus.SUBMITTED.value for r in reads):
                    continue
                complete += 1
                fields = self._discordant_fields(tx, reads)
                if fields:
                    discordant.append(DiscordantCase(reads[0]["label"], fields))
            return ProgressReport(per_reader, reading.count_rows(tx, "review_case"), complete,
                                  len(discordant), discordant)

    def _discordant_fields(self, tx: Transaction, reads: Sequence[Mapping[str, Any]]
                           ) -> tuple[str, ...]:
        values = [reading.read_values(tx, r["read_id"], int(r["version"])) for r in reads]
        protocol = self._protocol(tx, max(r["protocol_version_id"] for r in reads))
        keys: dict[str, None] = {}
        for i in range(len(values)):
            for j in range(i + 1, len(values)):
                for d in find_discordant_fields(protocol, values[i], values[j]):
                    keys[d.key] = None
        return tuple(k for k in protocol.keys() if k in keys)
