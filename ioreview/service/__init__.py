"""The service layer: every use case with the acting user (role and blinding checks, one
transaction, an audit record, a typed result).  The CLI and the UI both call it through
`Trial`; the use cases live in one module per group:

accounts (sessions, users, passwords) · protocols · imports (and the DICOM index) · cases ·
assignments · reading (worklist, drafts, signing, amendments) · tags (the tag browser) ·
monitoring (progress, discordance, audit verification) · adjudication (queue, decisions,
final outcomes) · panels (committee sessions) · agreement (statistics and reader monitoring); `workflow` moves cases through their paradigm's
stages; `context` holds what they share,
`signatures` and `discordance` the signable records and persisted discordance.
"""
from __future__ import annotations

from adjudication.protocol import InvalidProtocol
from ioreview.errors import (AccountLocked, AuthenticationFailed, BackupRejected, BlindingViolation,
                             InvalidInput, IoreviewError, LoginThrottled, NotFound,
                             PasswordChangeRequired, PermissionDenied, ReadIncomplete,
                             ReadLocked, SessionExpired, SignatureRejected)
from ioreview.imaging.deid import TagRow
from ioreview.importing import ImportSummary

from .accounts import Accounts
from .adjudication import Adjudication
from .agreement import AgreementFigures
from .exports.trial_export import EXPORT_MEANING, ExportSummary, Exports
from .assignments import Assignments
from .backup import Backups, restore
from .audit_log import AuditLog
from .protocol_history import ProtocolHistory
from .cases import Cases, timepoint_for_days
from .context import LOCKOUT_S, MAX_FAILED_ATTEMPTS, TOUCH_INTERVAL_S
from .imports import Imports
from .monitoring import Monitoring
from .panels import Panels
from .protocols import Protocols
from .reader_copies import ImagesWithheld, ReaderCopies
from .reading import Reading
from .tags import Tags
from .trial import Trial
from .values import *  # noqa: F403
from .values import __all__ as _values_all

#: the groups of use cases, each a class whose public methods are use cases exposed on `Trial`
USE_CASE_GROUPS = (Accounts, Protocols, Imports, Cases, ReaderCopies, Assignments, Reading, Tags,
                   Monitoring,
                   Adjudication, Panels, AgreementFigures, Exports, AuditLog,
                   ProtocolHistory, Backups)

__all__ = [
    *_values_all, "AccountLocked", "AuthenticationFailed", "BlindingViolation", "InvalidInput",
    "ImportSummary", "InvalidProtocol", "IoreviewError", "LOCKOUT_S", "MAX_FAILED_ATTEMPTS", "NotFound",
    "PermissionDenied", "ReadIncomplete", "ReadLocked", "SessionExpired", "SignatureRejected",
    "TOUCH_INTERVAL_S", "TagRow", "Trial", "USE_CASE_GROUPS", "timepoint_for_days",
    "EXPORT_MEANING", "ExportSummary", "LoginThrottled", "PasswordChangeRequired",
    "ImagesWithheld", "BackupRejected", "restore",
]
