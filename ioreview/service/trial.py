"""`Trial`: one trial database and all its use cases, the entry point the CLI and the UI hold.

A thin facade: each use case lives in the module of its group (accounts, protocols, imports,
cases, assignments, reading, tags, monitoring, adjudication, panels, agreement) over one shared `ServiceContext`; `Trial`
exposes them under one typed object so callers need not know the grouping.
"""
from __future__ import annotations

import importlib
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from ioreview.errors import InvalidInput
from ioreview.recovery import RecoveryReport, recover
from ioreview.store import TrialStore, open_store

from .context import ServiceContext

__all__ = ["Trial"]

if TYPE_CHECKING:
    from .accounts import Accounts
    from .protocols import Protocols
    from .imports import Imports
    from .cases import Cases
    from .assignments import Assignments
    from .reading import Reading
    from .tags import Tags
    from .reader_copies import ReaderCopies
    from .monitoring import Monitoring
    from .adjudication import Adjudication
    from .panels import Panels
    from .agreement import AgreementFigures
    from .exports.trial_export import Exports
    from .backup import Backups
    from .audit_log import AuditLog
    from .protocol_history import ProtocolHistory

_G = TypeVar("_G")


class _Group(Generic[_G]):
    """A group of use cases, created over the trial's context on first use, so a command
    imports only the modules it needs (start-up: `ioreview import` never loads the export,
    statistics or report code)."""

    def __init__(self, module: str, cls: str) -> None:
        self.module, self.cls = module, cls
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, trial: Trial | None, owner: type | None = None) -> Any:
        if trial is None:
            return self
        group = getattr(importlib.import_module(self.module, __package__), self.cls)(trial.ctx)
        trial.__dict__[self.name] = group  # later look-ups find the instance's attribute
        return group


class _UseCase:
    """A use case of a group, exposed on `Trial` under its own name."""

    def __init__(self, group: str, method: str = "") -> None:
        self.group, self.method = group, method
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name
        self.method = self.method or name

    def __get__(self, trial: Trial | None, owner: type | None = None) -> Any:
        if trial is None:
            return self
        bound = getattr(getattr(trial, self.group), self.method)
        trial.__dict__[self.name] = bound
        return bound



class Trial:
    """One trial database and its use cases.  Open with `Trial.open(db)`.

    `clock` returns epoch seconds (inject one in tests); `label_random` draws the pseudonymous
    case labels (a `secrets.SystemRandom` unless given); `archive_root` is the folder of the
    content-addressed case archive (beside a SQLite file unless given; required for a
    PostgreSQL database, shared by every workstation).
    """

    def __init__(self, store: TrialStore, *, idle_timeout_s: float = 900,
                 clock: Callable[[], float] = time.time,
                 label_random: random.Random | None = None,
                 archive_root: str | Path | None = None) -> None:
        self.ctx = ServiceContext(store, idle_timeout_s=idle_timeout_s, clock=clock,
                                  label_random=label_random, archive_root=archive_root)
        #: what `Trial.open` found and put right after a crash (nothing when created directly)
        self.recovery = RecoveryReport()

    # -- the groups of use cases (each module imported on first use) -------------------------
    accounts: _Group[Accounts] = _Group(".accounts", "Accounts")
    protocols: _Group[Protocols] = _Group(".protocols", "Protocols")
    imports: _Group[Imports] = _Group(".imports", "Imports")
    cases: _Group[Cases] = _Group(".cases", "Cases")
    assignments: _Group[Assignments] = _Group(".assignments", "Assignments")
    reading: _Group[Reading] = _Group(".reading", "Reading")
    tags: _Group[Tags] = _Group(".tags", "Tags")
    reader_copies: _Group[ReaderCopies] = _Group(".reader_copies", "ReaderCopies")
    monitoring: _Group[Monitoring] = _Group(".monitoring", "Monitoring")
    adjudication: _Group[Adjudication] = _Group(".adjudication", "Adjudication")
    panels: _Group[Panels] = _Group(".panels", "Panels")
    agreement: _Group[AgreementFigures] = _Group(".agreement", "AgreementFigures")
    exports: _Group[Exports] = _Group(".exports.trial_export", "Exports")
    backups: _Group[Backups] = _Group(".backup", "Backups")
    audit_trail: _Group[AuditLog] = _Group(".audit_log", "AuditLog")
    protocol_history: _Group[ProtocolHistory] = _Group(".protocol_history", "ProtocolHistory")

    # -- the use cases, by group ---------------------------------------------------------------
    #: what `Trial.open` found and put right after a crash (nothing when created directly)
    # accounts and sessions
    login = _UseCase("accounts")
    system_session = _UseCase("accounts")
    check_session = _UseCase("accounts")
    unlock = _UseCase("accounts")
    logout = _UseCase("accounts")
    create_user = _UseCase("accounts")
    list_users = _UseCase("accounts")
    set_user_active = _UseCase("accounts")
    reset_password = _UseCase("accounts")
    change_password = _UseCase("accounts")
    unlock_account = _UseCase("accounts")
    create_first_admin = _UseCase("accounts")
    account_policy = _UseCase("accounts")
    set_account_policy = _UseCase("accounts")
    # protocols
    install_protocol = _UseCase("protocols")
    active_protocol = _UseCase("protocols")
    protocol_versions = _UseCase("protocols")
    protocol_diff = _UseCase("protocol_history")
    # import and the index
    import_studies = _UseCase("imports")
    info = _UseCase("imports")
    list_studies = _UseCase("imports")
    list_series = _UseCase("imports")
    # cases and assignments
    create_case = _UseCase("cases")
    build_cases_from_studies = _UseCase("cases")
    list_cases = _UseCase("cases")
    list_burned_in_series = _UseCase("reader_copies")
    burned_in_preview = _UseCase("reader_copies")
    mask_burned_in_text = _UseCase("reader_copies")
    confirm_no_burned_in_text = _UseCase("reader_copies")
    generate_assignments = _UseCase("assignments")
    assignment_table = _UseCase("assignments")
    reassign = _UseCase("assignments")
    # reading and signing
    worklist = _UseCase("reading")
    open_case = _UseCase("reading")
    save_draft = _UseCase("reading")
    validate_read = _UseCase("reading")
    submit_read = _UseCase("reading")
    amend_read = _UseCase("reading")
    read_history = _UseCase("reading")
    # tags and oversight
    tags_for_display = _UseCase("tags")
    progress = _UseCase("monitoring")
    verify_audit_trail = _UseCase("monitoring")
    # the audit viewer
    audit_log = _UseCase("audit_trail")
    audit_actions = _UseCase("audit_trail")
    audit_actors = _UseCase("audit_trail")
    export_audit_csv = _UseCase("audit_trail")
    # adjudication and final outcomes
    adjudication_queue = _UseCase("adjudication")
    open_adjudication = _UseCase("adjudication")
    submit_adjudication = _UseCase("adjudication")
    adjudication_status = _UseCase("adjudication")
    adjudication_overview = _UseCase("adjudication")
    reassign_adjudication = _UseCase("adjudication")
    send_to_panel = _UseCase("adjudication")
    case_outcome = _UseCase("adjudication")
    final_outcomes = _UseCase("adjudication")
    # committee sessions
    create_panel_session = _UseCase("panels")
    committee_candidates = _UseCase("panels")
    panel_sessions = _UseCase("panels")
    open_panel_session = _UseCase("panels")
    record_attendance = _UseCase("panels")
    cast_votes = _UseCase("panels")
    cast_deciding_vote = _UseCase("panels")
    finalise_panel_session = _UseCase("panels")
    # agreement statistics and reader monitoring
    agreement_report = _UseCase("agreement")
    # exports
    export_trial = _UseCase("exports")
    # backup (restore: `ioreview.service.backup.restore`, before any trial is open)
    backup = _UseCase("backups")
    postgres_grants = _UseCase("backups")

    @classmethod
    def open(cls, db: str | Path, *, idle_timeout_s: float = 900,
             clock: Callable[[], float] = time.time,
             label_random: random.Random | None = None,
             archive_root: str | Path | None = None) -> Trial:
        """Open (creating and migrating if needed) the trial database `db`: a SQLite file path
        or a `postgresql://` URL.  What a crashed process left behind is put right first;
        `recovery` says what was found."""
        trial = cls(open_store(db), idle_timeout_s=idle_timeout_s, clock=clock,
                    label_random=label_random, archive_root=archive_root)
        trial.recovery = trial._recover_after_crash()
        trial._bring_up_to_date()
        return trial

    def _bring_up_to_date(self) -> int:
        """Evaluate complete cases that have no standing evaluation (databases from before
        discordance was persisted) and give evaluated cases without a workflow stage theirs
        (databases from before adjudication); returns how many cases were brought up to date.
        The discordance and workflow rules are loaded only when there is such a case."""
        with self.ctx.store.unit_of_work("system", write=False) as uow:
            due = uow.discordance.cases_awaiting_evaluation()
            staged = uow.workflow.cases_without_stage()
        if not due and not staged:
            return 0
        from .discordance import evaluate_case
        from .workflow import update_case

        with self.ctx.store.unit_of_work("system") as uow:
            for case_id in due:
                evaluate_case(self.ctx, uow, case_id, "backfill")
            for case_id in staged:
                current = uow.discordance.current(case_id)
                if current and uow.workflow.get(case_id) is None:
                    update_case(self.ctx, uow, current[0], "backfill")
        return len(due) + len(staged)

    def _recover_after_crash(self) -> RecoveryReport:
        """At start, as the system (audited): close the import runs of processes that died,
        remove their partly copied files and temporary folders, and the archive files no
        committed record references (`ioreview.recovery`)."""
        try:
            archive: Path | None = self.ctx.archive_root
        except InvalidInput:
            archive = None  # a PostgreSQL trial without --archive: the database part only
        return recover(self.ctx.store, archive)

    def has_accounts(self) -> bool:
        """Whether the trial has any user account.  Until it has one it belongs to whoever
        created the database file (the command line acts as the workstation's operator);
        from then on everything needs a log-in."""
        with self.ctx.store.unit_of_work("system", write=False) as uow:
            return uow.users.count() > 0

    @property
    def store(self) -> TrialStore:
        return self.ctx.store

    @property
    def idle_timeout_s(self) -> float:
        return self.ctx.idle_timeout_s

    @property
    def archive_dir(self) -> Path:
        """The managed, content-addressed archive of case files."""
        return self.ctx.archive_root

    def close(self) -> None:
        """Close the database connection."""
        self.ctx.close()
