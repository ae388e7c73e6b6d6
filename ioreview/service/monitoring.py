"""The coordinator's oversight: reading progress, standing discordances, audit verification.

`verify_audit_trail` is what an inspector runs (`ioreview audit verify`): it walks the keyed
chain and its seal, compares it with its anchors outside the database (the sidecar journal,
and any export or backup manifests given), re-verifies every electronic signature against the
content it signed, and cross-checks the domain tables against the trail: every signature has
its signing record and every signing record its signature, with the same hash, meaning and
signer; every locked read has its signature and every read the trail says was locked still is;
every account's role is its last audited role; the protective triggers are in place.
"""
from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ioreview.errors import InvalidInput
from ioreview.store import UnitOfWork
from ioreview.store.audit import Anchor, AuditRecord

from .context import ADMINS, ServiceContext
from .signatures import verify_signatures
from .values import AuditProblem, AuditReport, DiscordantCase, ProblemKind, ProgressReport, \
    ReaderProgress, ReadStatus, Session

__all__ = ["Monitoring", "manifest_anchor", "verify_trial"]


class Monitoring:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def progress(self, session: Session) -> ProgressReport:
        """Coordinator/admin: reads per reader, completed cases (every primary read signed) and
        open discordances, as evaluated when each case's last read locked (or was amended)."""
        with self.ctx.use_case(session, ADMINS, "see reading progress",
                               write=False) as (uow, _actor):
            per_reader = [ReaderProgress(r.display_name, r.assigned, r.submitted, r.in_progress)
                          for r in uow.assignments.reader_progress()]
            by_case: dict[int, list[str | None]] = defaultdict(list)
            for row in uow.assignments.primary_reads():
                by_case[row.case_id].append(row.status)
            complete = sum(1 for statuses in by_case.values()
                           if all(s == ReadStatus.SUBMITTED.value for s in statuses))
            discordant = [DiscordantCase(e.case_label, tuple(f.field for f in e.fields),
                                         e.evaluated_at)
                          for e in uow.discordance.current() if e.discordant]
            return ProgressReport(per_reader, uow.cases.count(), complete, len(discordant),
                                  discordant)

    def verify_audit_trail(self, session: Session,
                           anchors: Sequence[str | Path] = ()) -> AuditReport:
        """Coordinator/admin: verify the audit trail (21 CFR Part 11 style tamper evidence):
        the keyed chain and its seal, the anchors outside the database (the journal, and the
        export or backup manifests named in `anchors`), every signature against what it signed,
        and the domain tables against the trail.  Every problem has a kind and names the
        record it was found at; `first_broken` is the earliest.  TrialKeyError when the trial
        key is missing or wrong; InvalidInput for an unreadable manifest."""
        extra = [manifest_anchor(Path(p)) for p in anchors]
        store = self.ctx.store
        with self.ctx.use_case(session, ADMINS, "verify the audit trail",
                               write=False) as (uow, _actor):
            return verify_trial(store, uow, extra)


def verify_trial(store: Any, uow: UnitOfWork, anchors: Sequence[Anchor] = ()) -> AuditReport:
    """The checks of `verify_audit_trail` on an open store, inside the unit of work `uow`
    (restore runs them on a backup before accepting it)."""
    issues = [AuditProblem(ProblemKind(p.kind), p.seq, p.message)
              for p in store.verify_chain(anchors)]
    missing = store.missing_protections()
    if missing:
        issues.append(AuditProblem(ProblemKind.CROSS_CHECK, 0, (
            "the database no longer refuses changes to the audit trail, signatures and signed "
            f"reads: its protective triggers {', '.join(missing)} were removed or disabled")))
    signing = _signing_records(store.audit_records(entity="signature"))
    sign_seq = {int(r.entity_id): r.seq for r in signing}
    for s, message in verify_signatures(uow):
        issues.append(AuditProblem(ProblemKind.SIGNATURE, sign_seq.get(s.id, 0), message))
    issues += _cross_check_signatures(uow, signing)
    issues += _cross_check_reads(uow, store.audit_records(entity="read"))
    issues += _cross_check_roles(uow, store.audit_records(entity="user"))
    _length, head = store.audit_anchor()
    n_signatures = len(uow.signatures.all())
    key_id = store.recorded_key_id() or ""
    issues.sort(key=lambda p: (p.seq == 0, p.seq, list(ProblemKind).index(p.kind)))
    return AuditReport(store.audit_count(), tuple(str(p) for p in issues), tuple(issues),
                       head, key_id, n_signatures, len(anchors))


def manifest_anchor(path: Path) -> Anchor:
    """The audit anchor an export or backup manifest records (its audit length and head)."""
    try:
        data = json.loads(path.read_text("utf-8"))
        audit = data.get("audit", data)
        seq, head = int(audit["audit_length"]), str(audit["audit_head"])
    except FileNotFoundError:
        raise InvalidInput(f"{path}: no such manifest.") from None
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise InvalidInput(f"{path}: not an export or backup manifest with the audit trail's "
                           f"length and head ({exc}).") from None
    at = str(data.get("exported_at") or data.get("created_at") or "")
    return Anchor(seq, head, at, f"the manifest {path}")


def _signing_records(records: list[AuditRecord]) -> list[AuditRecord]:
    return [r for r in records if r.action == "sign" and isinstance(r.after, dict)]


def _cross_check_signatures(uow: UnitOfWork, signing: list[AuditRecord]
                            ) -> list[AuditProblem]:
    """Every signature has its signing record and vice versa, saying the same thing."""
    problems = []
    signatures = {s.id: s for s in uow.signatures.all()}
    seen = set()
    for r in signing:
        sid = int(r.entity_id)
        seen.add(sid)
        after: dict[str, Any] = r.after
        kind = next((k for k in after if k not in ("version", "meaning", "content_sha256")),
                    "?")
        what = (f"audit record {r.seq} records signature {sid} ({kind} {after.get(kind)} "
                f"version {after.get('version')}, '{after.get('meaning')}', by {r.actor} at "
                f"{r.at})")
        s = signatures.get(sid)
        if s is None:
            problems.append(AuditProblem(ProblemKind.CROSS_CHECK, r.seq,
                                         f"{what}, but that signature is gone (deleted)"))
            continue
        differences = [name for name, ok in (
            ("signed entity", s.entity_kind == kind and s.entity_id == after.get(kind)),
            ("version", s.version == after.get("version")),
            ("meaning", s.meaning == after.get("meaning")),
            ("content hash", s.content_sha256 == after.get("content_sha256")),
            ("signer", s.signer == r.actor)) if not ok]
        if differences:
            problems.append(AuditProblem(ProblemKind.CROSS_CHECK, r.seq, (
                f"{what}, but the stored signature differs in its {', '.join(differences)} "
                f"(now {s.entity_kind} {s.entity_id} version {s.version}, '{s.meaning}', "
                f"by {s.signer}): it was changed after signing")))
    for sid in sorted(set(signatures) - seen):
        s = signatures[sid]
        problems.append(AuditProblem(ProblemKind.CROSS_CHECK, 0, (
            f"signature {sid} ({s.entity_kind} {s.entity_id} version {s.version}, "
            f"'{s.meaning}', by {s.signer} at {s.signed_at}) has no signing record in the audit "
            "trail: it was added, or its record deleted, behind the application's back")))
    return problems


def _cross_check_reads(uow: UnitOfWork, records: list[AuditRecord]) -> list[AuditProblem]:
    """Every locked read has its signature; every read the trail locked is still locked."""
    problems = []
    signed = {(s.entity_id, s.version) for s in uow.signatures.all("read")}
    locked = {r.read_id: r for r in uow.reads.locked()}
    for r in locked.values():
        if (r.read_id, r.version) not in signed:
            problems.append(AuditProblem(ProblemKind.CROSS_CHECK, 0, (
                f"read {r.read_id} is locked at version {r.version} but that version has no "
                "signature (locked, or its signature deleted, behind the application's back)")))
    last_submit: dict[int, AuditRecord] = {}
    for rec in records:
        if rec.action == "submit":
            last_submit[int(rec.entity_id)] = rec
    for read_id, rec in sorted(last_submit.items()):
        if read_id not in locked:
            read = uow.reads.get(read_id)
            state = "gone" if read is None else f"'{read.status}'"
            problems.append(AuditProblem(ProblemKind.CROSS_CHECK, rec.seq, (
                f"audit record {rec.seq} shows read {read_id} signed and locked by {rec.actor} "
                f"at {rec.at}, but the read is now {state}: it was unlocked behind the "
                "application's back")))
    return problems


def _cross_check_roles(uow: UnitOfWork, records: list[AuditRecord]) -> list[AuditProblem]:
    """Every account's role is the role its last audited change gave it."""
    audited: dict[str, AuditRecord] = {}
    for rec in records:
        if isinstance(rec.after, dict) and "role" in rec.after:
            audited[rec.entity_id] = rec
    problems = []
    for user in uow.users.list():
        rec = audited.get(str(user.id))
        if rec is None:
            problems.append(AuditProblem(ProblemKind.CROSS_CHECK, 0, (
                f"account {user.username} has the role {user.role}, but the audit trail never "
                "gave it a role: it was created behind the application's back")))
        elif rec.after["role"] != user.role:
            problems.append(AuditProblem(ProblemKind.CROSS_CHECK, rec.seq, (
                f"account {user.username} has the role {user.role}, but its last audited role "
                f"is {rec.after['role']} (audit record {rec.seq}, {rec.action} by {rec.actor} "
                f"at {rec.at}): the role was changed behind the application's back")))
    return problems
