"""`Trial`: one trial database and all its use cases, the entry point the CLI and the UI hold.

A thin facade: each use case lives in the module of its group (accounts, protocols, imports,
cases, assignments, reading, tags, monitoring, adjudication, panels, agreement) over one shared `ServiceContext`; `Trial`
exposes them under one typed object so callers need not know the grouping.
"""
from __future__ import annotations

import random
import time
from collections.abc import Callable
from pathlib import Path

from ioreview.errors import InvalidInput
from ioreview.recovery import RecoveryReport, recover
from ioreview.store import TrialStore, open_store

from .accounts import Accounts
from .adjudication import Adjudication
from .agreement import AgreementFigures
from .exports.trial_export import Exports
from .assignments import Assignments
from .backup import Backups
from .audit_log import AuditLog
from .protocol_history import ProtocolHistory
from .cases import Cases
from .context import ServiceContext
from .discordance import backfill
from .imports import Imports
from .monitoring import Monitoring
from .panels import Panels
from .protocols import Protocols
from .reader_copies import ReaderCopies
from .reading import Reading
from .tags import Tags

__all__ = ["Trial"]


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
        self.accounts = Accounts(self.ctx)
        self.protocols = Protocols(self.ctx)
        self.imports = Imports(self.ctx)
        self.cases = Cases(self.ctx)
        self.assignments = Assignments(self.ctx)
        self.reading = Reading(self.ctx)
        self.tags = Tags(self.ctx)
        self.reader_copies = ReaderCopies(self.ctx)
        self.monitoring = Monitoring(self.ctx)
        self.adjudication = Adjudication(self.ctx)
        self.panels = Panels(self.ctx)
        self.agreement = AgreementFigures(self.ctx)
        self.exports = Exports(self.ctx)
        self.backups = Backups(self.ctx)
        self.audit_trail = AuditLog(self.ctx)
        self.protocol_history = ProtocolHistory(self.ctx)
        # accounts and sessions
        self.login = self.accounts.login
        self.system_session = self.accounts.system_session
        self.check_session = self.accounts.check_session
        self.unlock = self.accounts.unlock
        self.logout = self.accounts.logout
        self.create_user = self.accounts.create_user
        self.list_users = self.accounts.list_users
        self.set_user_active = self.accounts.set_user_active
        self.reset_password = self.accounts.reset_password
        self.change_password = self.accounts.change_password
        self.unlock_account = self.accounts.unlock_account
        self.create_first_admin = self.accounts.create_first_admin
        self.account_policy = self.accounts.account_policy
        self.set_account_policy = self.accounts.set_account_policy
        # protocols
        self.install_protocol = self.protocols.install_protocol
        self.active_protocol = self.protocols.active_protocol
        self.protocol_versions = self.protocols.protocol_versions
        self.protocol_diff = self.protocol_history.protocol_diff
        # import and the index
        self.import_studies = self.imports.import_studies
        self.info = self.imports.info
        self.list_studies = self.imports.list_studies
        self.list_series = self.imports.list_series
        # cases and assignments
        self.create_case = self.cases.create_case
        self.build_cases_from_studies = self.cases.build_cases_from_studies
        self.list_cases = self.cases.list_cases
        self.list_burned_in_series = self.reader_copies.list_burned_in_series
        self.burned_in_preview = self.reader_copies.burned_in_preview
        self.mask_burned_in_text = self.reader_copies.mask_burned_in_text
        self.confirm_no_burned_in_text = self.reader_copies.confirm_no_burned_in_text
        self.generate_assignments = self.assignments.generate_assignments
        self.assignment_table = self.assignments.assignment_table
        self.reassign = self.assignments.reassign
        # reading and signing
        self.worklist = self.reading.worklist
        self.open_case = self.reading.open_case
        self.save_draft = self.reading.save_draft
        self.validate_read = self.reading.validate_read
        self.submit_read = self.reading.submit_read
        self.amend_read = self.reading.amend_read
        self.read_history = self.reading.read_history
        # tags and oversight
        self.tags_for_display = self.tags.tags_for_display
        self.progress = self.monitoring.progress
        self.verify_audit_trail = self.monitoring.verify_audit_trail
        # the audit viewer
        self.audit_log = self.audit_trail.audit_log
        self.audit_actions = self.audit_trail.audit_actions
        self.audit_actors = self.audit_trail.audit_actors
        self.export_audit_csv = self.audit_trail.export_audit_csv
        # adjudication and final outcomes
        self.adjudication_queue = self.adjudication.adjudication_queue
        self.open_adjudication = self.adjudication.open_adjudication
        self.submit_adjudication = self.adjudication.submit_adjudication
        self.adjudication_status = self.adjudication.adjudication_status
        self.adjudication_overview = self.adjudication.adjudication_overview
        self.reassign_adjudication = self.adjudication.reassign_adjudication
        self.send_to_panel = self.adjudication.send_to_panel
        self.case_outcome = self.adjudication.case_outcome
        self.final_outcomes = self.adjudication.final_outcomes
        # committee sessions
        self.create_panel_session = self.panels.create_panel_session
        self.committee_candidates = self.panels.committee_candidates
        self.panel_sessions = self.panels.panel_sessions
        self.open_panel_session = self.panels.open_panel_session
        self.record_attendance = self.panels.record_attendance
        self.cast_votes = self.panels.cast_votes
        self.cast_deciding_vote = self.panels.cast_deciding_vote
        self.finalise_panel_session = self.panels.finalise_panel_session
        # agreement statistics and reader monitoring
        self.agreement_report = self.agreement.agreement_report
        # exports
        self.export_trial = self.exports.export_trial
        # backup (restore: `ioreview.service.backup.restore`, before any trial is open)
        self.backup = self.backups.backup
        self.postgres_grants = self.backups.postgres_grants

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
        backfill(trial.ctx)
        return trial

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
