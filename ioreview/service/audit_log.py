"""The audit viewer's use cases (coordinator and admin): the trail filtered and paged, the
filter choices, and a CSV export of what a filter selects.

21 CFR 11.10(e): audit trails must be available for review and copying by inspectors; the
trail itself is verified by `Monitoring.verify_audit_trail`.  Readers and adjudicators are
refused: the trail names readers and their cases.
"""
from __future__ import annotations

import csv
import hashlib
import os
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any

from ioreview.errors import InvalidInput, NotFound
from ioreview.store.audit import AuditRecord, canonical_json
from ioreview.store.audit_log import AuditFilter, AuditLogQuery

from .context import ADMINS, ServiceContext, iso
from .values import (AuditExportSummary, AuditLogEntry, AuditLogFilter, AuditLogPage,
                     Session)

__all__ = ["AUDIT_CSV_COLUMNS", "AuditLog"]

#: the columns of an audit CSV export, in order
AUDIT_CSV_COLUMNS = ("seq", "at_utc", "at_local", "actor", "action", "entity", "entity_id",
                     "before_json", "after_json")
MAX_PAGE = 5000


def _utc_text(value: Any, *, end: bool) -> str | None:
    """A filter bound as the trail's ISO UTC text; a date covers the whole local day."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        when = value
    elif isinstance(value, date):
        when = datetime.combine(value + timedelta(days=1) if end else value, time())
    elif isinstance(value, str):
        try:
            when = datetime.fromisoformat(value.strip())
        except ValueError:
            raise InvalidInput(f"{value!r} is not a date or time; write it as 2026-06-23 or "
                               "2026-06-23T14:03.") from None
        if len(value.strip()) == 10 and end:  # a bare date: up to the end of that day
            when += timedelta(days=1)
    else:
        raise InvalidInput(f"{value!r} is not a date or time.")
    if when.tzinfo is None:
        when = when.astimezone()  # naive: this workstation's local time
    return iso(when.timestamp())


def local_text(at_utc: str) -> str:
    """A stored UTC time in this workstation's time zone, to the second."""
    try:
        when = datetime.fromisoformat(at_utc)
    except ValueError:
        return at_utc
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def _entry(r: AuditRecord) -> AuditLogEntry:
    return AuditLogEntry(r.seq, r.at, local_text(r.at), r.actor, r.action, r.entity,
                         r.entity_id, r.before, r.after)


class AuditLog:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def _store_filter(self, query: AuditLogQuery, f: AuditLogFilter) -> AuditFilter:
        case_ids: tuple[int, ...] | None = None
        label = (f.case or "").strip()
        if label:
            case_ids = tuple(query.case_ids_for_label(label))
            if not case_ids:
                raise NotFound(f"No case is labelled {label!r}; check the label on the Cases "
                               "tab.")
        since = _utc_text(f.since, end=False)
        until = _utc_text(f.until, end=True)
        if since is not None and until is not None and since >= until:
            raise InvalidInput("The 'from' date is after the 'to' date; swap them.")
        return AuditFilter(actor=(f.user or "").strip() or None,
                           action=(f.action or "").strip() or None,
                           case_ids=case_ids, since=since, until=until)

    def audit_log(self, session: Session, *, user: str | None = None, case: str | None = None,
                  action: str | None = None, since: Any = None, until: Any = None,
                  limit: int = 200, offset: int = 0) -> AuditLogPage:
        """Coordinator/admin: the audit records matching the filter, newest first, `limit`
        from `offset`, with how many match in all.  `case` is a case label: the records of
        the case and of its assignments, reads, signatures, adjudications and discordance
        evaluations."""
        if not 0 < int(limit) <= MAX_PAGE or int(offset) < 0:
            raise InvalidInput(f"Ask for 1 to {MAX_PAGE} audit records from an offset >= 0.")
        f = AuditLogFilter(user, case, action, since, until)
        with self.ctx.use_case(session, ADMINS, "see the audit trail",
                               write=False) as (uow, _actor):
            query = AuditLogQuery(uow)
            store_filter = self._store_filter(query, f)
            total = query.count(store_filter)
            records = query.page(store_filter, int(limit), int(offset)) if total else []
        return AuditLogPage(tuple(_entry(r) for r in records), total, int(offset))

    def audit_actions(self, session: Session) -> list[str]:
        """Coordinator/admin: every action the trail holds, for the viewer's filter box."""
        with self.ctx.use_case(session, ADMINS, "see the audit trail",
                               write=False) as (uow, _actor):
            return AuditLogQuery(uow).actions()

    def audit_actors(self, session: Session) -> list[str]:
        """Coordinator/admin: every user name (and workstation) that appears in the trail."""
        with self.ctx.use_case(session, ADMINS, "see the audit trail",
                               write=False) as (uow, _actor):
            return AuditLogQuery(uow).actors()

    def export_audit_csv(self, session: Session, path: str | Path,
                         filters: AuditLogFilter | None = None) -> AuditExportSummary:
        """Coordinator/admin: write the records `filters` selects (all by default), oldest
        first, to the CSV file `path` (UTF-8, one row per record, before/after as canonical
        JSON); the export itself is audited with the file's SHA-256."""
        f = filters or AuditLogFilter()
        target = Path(path)
        part = target.with_name(target.name + ".part")
        n = 0
        with self.ctx.use_case(session, ADMINS, "export the audit trail",
                               write=False) as (uow, _actor):
            if not target.parent.is_dir():
                raise InvalidInput(f"The folder {target.parent} does not exist; choose another "
                                   "place for the CSV file.")
            query = AuditLogQuery(uow)
            store_filter = self._store_filter(query, f)
            try:
                with open(part, "w", encoding="utf-8", newline="") as out:
                    n = _write_csv(out, query.each(store_filter))
                    out.flush()
                    os.fsync(out.fileno())
                os.replace(part, target)
            except OSError as exc:
                part.unlink(missing_ok=True)
                raise InvalidInput(f"Cannot write {target}: {exc.strerror or exc}.") from exc
        sha = hashlib.sha256(target.read_bytes()).hexdigest()
        with self.ctx.use_case(session, ADMINS, "export the audit trail") as (uow, _actor):
            uow.audit("export_csv", "audit", n,
                      after={"file": target.name, "records": n, "sha256": sha,
                             "filter": {"user": f.user, "case": f.case, "action": f.action,
                                        "since": str(f.since) if f.since else None,
                                        "until": str(f.until) if f.until else None}})
        return AuditExportSummary(str(target), n, sha)


def _write_csv(out: Any, records: Iterable[AuditRecord]) -> int:
    writer = csv.writer(out)
    writer.writerow(AUDIT_CSV_COLUMNS)
    n = 0
    for r in records:
        writer.writerow((r.seq, r.at, local_text(r.at), r.actor, r.action, r.entity,
                         r.entity_id, "" if r.before is None else canonical_json(r.before),
                         "" if r.after is None else canonical_json(r.after)))
        n += 1
    return n
