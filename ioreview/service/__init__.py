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

from typing import Any

from adjudication.problems import InvalidProtocol
from ioreview.errors import (AccountLocked, AuthenticationFailed, BackupRejected, BlindingViolation,
                             InvalidInput, IoreviewError, LoginThrottled, NotFound,
                             PasswordChangeRequired, PermissionDenied, ReadIncomplete,
                             ReadLocked, SessionExpired, SignatureRejected)

#: names imported on first use (PEP 562), so that `import ioreview.service` stays light: a
#: command loads the DICOM, statistics and report code only when it uses it, and the values
#: (`values`: roles, statuses, result types) on first use too: the export's worker, whose
#: modules live in this package, never needs them, and forks before they load
_LAZY = {
    "Trial": (".trial", "Trial"), "LOCKOUT_S": (".context", "LOCKOUT_S"),
    "MAX_FAILED_ATTEMPTS": (".context", "MAX_FAILED_ATTEMPTS"),
    "TOUCH_INTERVAL_S": (".context", "TOUCH_INTERVAL_S"),
    "Accounts": (".accounts", "Accounts"), "Protocols": (".protocols", "Protocols"),
    "Imports": (".imports", "Imports"), "Cases": (".cases", "Cases"),
    "timepoint_for_days": (".cases", "timepoint_for_days"),
    "ReaderCopies": (".reader_copies", "ReaderCopies"),
    "ImagesWithheld": (".reader_copies", "ImagesWithheld"),
    "Assignments": (".assignments", "Assignments"), "Reading": (".reading", "Reading"),
    "Tags": (".tags", "Tags"), "Monitoring": (".monitoring", "Monitoring"),
    "Adjudication": (".adjudication", "Adjudication"), "Panels": (".panels", "Panels"),
    "AgreementFigures": (".agreement", "AgreementFigures"),
    "Exports": (".exports.trial_export", "Exports"),
    "ExportSummary": (".exports.trial_export", "ExportSummary"),
    "EXPORT_MEANING": (".exports.trial_export", "EXPORT_MEANING"),
    "AuditLog": (".audit_log", "AuditLog"),
    "ProtocolHistory": (".protocol_history", "ProtocolHistory"),
    "Backups": (".backup", "Backups"), "restore": (".backup", "restore"),
    "TagRow": ("ioreview.imaging.deid", "TagRow"),
    "ImportSummary": ("ioreview.importing", "ImportSummary"),
}
#: the groups of use cases (names in `_LAZY`), each a class whose public methods are use cases
#: exposed on `Trial`; `USE_CASE_GROUPS` gives the classes
_GROUP_NAMES = ("Accounts", "Protocols", "Imports", "Cases", "ReaderCopies", "Assignments",
                "Reading", "Tags", "Monitoring", "Adjudication", "Panels", "AgreementFigures",
                "Exports", "AuditLog", "ProtocolHistory", "Backups")


def __getattr__(name: str) -> Any:
    import importlib

    if name == "USE_CASE_GROUPS":
        value: Any = tuple(__getattr__(n) for n in _GROUP_NAMES)
    elif name in _LAZY:
        module, attr = _LAZY[name]
        value = getattr(importlib.import_module(module, __name__), attr)
    elif name == "__all__":
        value = [*importlib.import_module(".values", __name__).__all__, *_OWN_NAMES]
    else:
        values = importlib.import_module(".values", __name__)
        if name not in values.__all__:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        value = getattr(values, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__getattr__("__all__")))


#: the names this package exports besides the values (`__all__` adds those on first use)
_OWN_NAMES = [
    "AccountLocked", "AuthenticationFailed", "BlindingViolation", "InvalidInput",
    "ImportSummary", "InvalidProtocol", "IoreviewError", "LOCKOUT_S", "MAX_FAILED_ATTEMPTS", "NotFound",
    "PermissionDenied", "ReadIncomplete", "ReadLocked", "SessionExpired", "SignatureRejected",
    "TOUCH_INTERVAL_S", "TagRow", "Trial", "USE_CASE_GROUPS", "timepoint_for_days",
    "EXPORT_MEANING", "ExportSummary", "LoginThrottled", "PasswordChangeRequired",
    "ImagesWithheld", "BackupRejected", "restore",
]
