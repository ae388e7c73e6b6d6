"""Reading: the reader's worklist, a blinded case, drafts, signing and amendments.

Every call acts on the caller's own, available reads only (BlindingViolation otherwise).  An
autosave is one write transaction; signing is one read-only transaction (the checks, while the
password is checked on a worker thread, outside any write transaction), then one write
transaction that re-checks, signs, locks and, when the case's last primary read locks,
evaluates discordance.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from adjudication.protocol import Protocol
from adjudication.readform import FieldProblem
from adjudication.readform import validate_read as validate_values
from ioreview.auth import verify_password
from ioreview.errors import (InvalidInput, IoreviewError, ReadIncomplete, ReadLocked,
                             SignatureRejected)
from ioreview.store import UnitOfWork
from ioreview.store.records import (AnnotationRecord, AssignmentRecord, KeyImageRecord,
                                    ReadRecord, SignatureRecord, WorklistRow)

from . import signatures
from .blinding import own_assignment, own_read, prior_cases, visible_uids
from .context import READERS, Actor, ServiceContext
from .discordance import evaluate_case
from .reader_copies import reader_case_views, reader_copy_sets, to_copy_uids, to_original_uids
from .workflow import third_read_changed
from .values import (AMENDMENT_MEANING, ANNOTATION_KINDS, SIGNATURE_MEANING, Annotation,
                     CaseView, KeyImage, ReadState, ReadStatus, ReadVersion, Session,
                     SignatureInfo, WorklistItem)

__all__ = ["Reading"]


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


def _signature_info(s: SignatureRecord, signer_name: str = "") -> SignatureInfo:
    """A signature as shown with its record: the signer's printed name, the time (UTC) and
    the meaning (21 CFR 11.50)."""
    return SignatureInfo(s.id, s.entity_id, s.signer, s.signed_at, s.meaning, s.content_sha256,
                         s.version, signer_name or s.signer)


def _display_name(uow: UnitOfWork, user_id: int) -> str:
    user = uow.users.get(user_id)
    return "" if user is None else user.display_name


def clean_values(protocol: Protocol, values: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(values, Mapping):
        raise InvalidInput("Read values must be a mapping of field key to value.")
    keys = protocol.keys()
    unknown = sorted(set(values) - set(keys))
    if unknown:
        raise InvalidInput(
            f"Unknown field(s) {', '.join(map(repr, unknown))} for protocol {protocol.id} "
            f"{protocol.version}; nothing was saved. Reopen the case to get the current form.")
    return {k: _jsonable(k, values[k]) for k in keys if k in values and values[k] is not None}


def _measurements(raw: Mapping[str, Any], what: str) -> dict[str, float]:
    """Numeric measurements; undefined ones (None, NaN, e.g. the mean of an empty region)
    are left out rather than failing the autosave."""
    out = {}
    for key, value in raw.items():
        if value is None or (isinstance(value, float) and not math.isfinite(value)):
            continue
        out[str(key)] = _finite(value, f"{what} measurement {key}")
    return out


def clean_annotations(protocol: Protocol, annotations: Sequence[Annotation], uids: set[str]
                      ) -> list[AnnotationRecord]:
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
        frame = _frame(a.frame, what)
        points = []
        for p in a.points:
            if len(p) != 2:
                raise InvalidInput(f"{what}: points are (row, column) pairs.")
            points.append((_finite(p[0], f"{what} point"), _finite(p[1], f"{what} point")))
        rows.append(AnnotationRecord(None, a.finding_id, a.kind, a.sop_instance_uid, frame,
                                     tuple(points), _measurements(a.measurements or {}, what),
                                     str(a.label or "")))
    return rows


def clean_key_images(key_images: Sequence[KeyImage], uids: set[str]) -> list[KeyImageRecord]:
    rows = []
    for n, k in enumerate(key_images, 1):
        if not isinstance(k, KeyImage):
            raise InvalidInput(f"Key image {n} is not a KeyImage.")
        if k.sop_instance_uid not in uids:
            raise InvalidInput(f"Key image {n} is not an image of this case.")
        frame = _frame(k.frame, f"Key image {n}")
        rows.append(KeyImageRecord(k.sop_instance_uid, frame, str(k.note or "")))
    return rows


def _frame(value: Any, what: str) -> int:
    frame = int(_finite(value, f"{what} frame"))
    if frame < 0:
        raise InvalidInput(f"{what}: the frame number cannot be negative.")
    return frame


def _units(protocol: Protocol, values: Mapping[str, Any]) -> dict[str, str | None]:
    return {k: protocol.field(k).unit for k in values}


#: a read's stored status (None: no read started) as the worklist shows it
_STATUS_OF = {None: ReadStatus.NEW, **{s.value: s for s in ReadStatus}}


class _CachedWorklist:
    """One reader's worklist rows (all, available or not) and the items built from them.

    Rows change only with the store's worklist revision; availability grows with time (the
    rows carry it), so the same number of available rows means the same list.  A change to
    a few rows patches their items in place instead of rebuilding ten thousand of them.
    """

    def __init__(self, revision: int, rows: list[WorklistRow]) -> None:
        self.revision = revision
        self.rows = rows
        self.index = {r.assignment_id: n for n, r in enumerate(rows)}
        self.items: list[WorklistItem] = []
        self.positions: dict[int, int] = {}
        self.n_available = -1

    def items_at(self, now: float, revision: int, fresh: list[WorklistRow] | None
                 ) -> list[WorklistItem]:
        self.revision = revision
        if fresh:
            known = [r for r in fresh if r.assignment_id in self.index]
            for r in known:
                self.rows[self.index[r.assignment_id]] = r
            if len(known) != len(fresh):  # new assignments: place them in order
                self.rows.extend(r for r in fresh if r.assignment_id not in self.index)
                self.rows.sort(key=lambda r: (r.order_index, r.assignment_id))
                self.index = {r.assignment_id: n for n, r in enumerate(self.rows)}
                self.n_available = -1
            elif self.n_available >= 0:
                for r in known:
                    position = self.positions.get(r.assignment_id)
                    if position is not None:
                        self.items[position] = WorklistItem(
                            r.assignment_id, r.read_id, r.label, r.timepoint,
                            r.days_from_insertion, _STATUS_OF[r.status], position)
        available = [r for r in self.rows if r.available_from <= now]
        if len(available) != self.n_available:
            status = _STATUS_OF
            self.items = [WorklistItem(r.assignment_id, r.read_id, r.label, r.timepoint,
                                       r.days_from_insertion, status[r.status], position)
                          for position, r in enumerate(available)]
            self.positions = {r.assignment_id: n for n, r in enumerate(available)}
            self.n_available = len(available)
        return list(self.items)


class Reading:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx
        #: reader id -> that reader's cached worklist (see `_CachedWorklist`)
        self._worklists: dict[int, _CachedWorklist] = {}

    # -- helpers -----------------------------------------------------------------------------
    def _case_modalities(self, uow: UnitOfWork, case_id: int) -> set[str]:
        return {r.modality for r in uow.dicom.series_summaries(uow.cases.series_pks(case_id))
                if r.modality}

    def _problems(self, uow: UnitOfWork, read: ReadRecord, protocol: Protocol,
                  values: Mapping[str, Any]) -> list[FieldProblem]:
        return validate_values(protocol, values, self._case_modalities(uow, read.case_id))

    def _case_view(self, uow: UnitOfWork, assignment: AssignmentRecord,
                   read: ReadRecord) -> CaseView:
        case = uow.cases.get(assignment.case_id)
        assert case is not None
        protocol = self.ctx.protocol(uow, read.protocol_version_id)
        notice = ""
        active = uow.protocols.find(active=True)
        status = ReadStatus(read.status)
        if (active is not None and active.id != read.protocol_version_id
                and status is not ReadStatus.SUBMITTED):
            notice = (f"This read was started under protocol {protocol.id} {protocol.version}; "
                      f"version {active.version} is now active. Your read stays under "
                      f"{protocol.version} and can be signed as it is.")
        # the reader's de-identified copies; stored annotations are on original UIDs
        series, priors, copy_sets = reader_case_views(
            self.ctx, uow, case, assignment, prior_cases(uow, case, protocol))
        annotations, key_images = to_copy_uids(
            uow, copy_sets, uow.reads.annotations(read.id, read.version),
            uow.reads.key_images(read.id, read.version))
        return CaseView(
            assignment_id=assignment.id, read_id=read.id,
            case_label=assignment.display_label, timepoint=case.timepoint,
            days_from_insertion=case.days_from_insertion,
            series=series, priors=priors, protocol=protocol,
            protocol_version_id=read.protocol_version_id,
            values=uow.reads.values(read.id, read.version),
            annotations=annotations, key_images=key_images,
            status=status, elapsed_s=read.active_seconds, version=read.version,
            protocol_notice=notice)

    # -- use cases ---------------------------------------------------------------------------
    def worklist(self, session: Session) -> list[WorklistItem]:
        """Reader: the caller's own assignments available now, in their randomized order.
        `order_index` is the position in this list (re-reads still in their washout leave no
        gap that would betray them)."""
        with self.ctx.use_case(session, READERS, "see a worklist", write=False) as (uow, actor):
            assert actor.user_id is not None
            revision = uow.assignments.worklist_revision(actor.user_id)
            cached = self._worklists.get(actor.user_id)
            fresh: list[WorklistRow] | None = None
            if cached is None or revision < cached.revision:
                cached = _CachedWorklist(revision, uow.assignments.worklist(actor.user_id))
            elif revision != cached.revision:
                changed = uow.assignments.worklist_changes(actor.user_id, cached.revision)
                if len(changed) > max(100, len(cached.rows) // 4):
                    cached = _CachedWorklist(revision, uow.assignments.worklist(actor.user_id))
                else:
                    fresh = uow.assignments.worklist(actor.user_id,
                                                     assignment_ids=sorted(changed))
                    if len(fresh) < len(changed):  # a row left the list (reassigned)
                        cached = _CachedWorklist(revision,
                                                 uow.assignments.worklist(actor.user_id))
                        fresh = None
            self._worklists[actor.user_id] = cached
        return cached.items_at(self.ctx.clock(), revision, fresh)

    def open_case(self, session: Session, assignment_id: int) -> CaseView:
        """Reader: open an own assignment as a blinded view, starting a draft read under the
        active protocol version if none exists (BlindingViolation for any other assignment)."""
        with self.ctx.use_case(session, READERS, "read cases") as (uow, actor):
            assignment = own_assignment(self.ctx, uow, actor, assignment_id)
            read = uow.reads.for_assignment(assignment.id)
            if read is None:
                version_id, _protocol = self.ctx.require_active(uow)
                read_id = uow.reads.add(assignment.id, version_id,
                                        ReadStatus.IN_PROGRESS.value, self.ctx.now_iso())
                uow.audit("start", "read", read_id,
                          after={"assignment": assignment.id, "protocol_version": version_id})
                read = uow.reads.for_assignment(assignment.id)
                assert read is not None
            uow.audit("open", "read", read.id)
            return self._case_view(uow, assignment, read)

    def save_draft(self, session: Session, read_id: int, values: Mapping[str, Any],
                   annotations: Sequence[Annotation] | None = None,
                   key_images: Sequence[KeyImage] | None = None,
                   active_seconds: float = 0) -> ReadState:
        """Reader: autosave an own unsigned read.  `values` replace the draft's values (None
        clears a field); annotations / key images replace the stored ones when given;
        `active_seconds` is the time on the case since the last save.  Unknown fields are
        rejected (nothing saved); completeness is not required.  ReadLocked once signed."""
        with self.ctx.use_case(session, READERS, "save reads") as (uow, actor):
            read = own_read(self.ctx, uow, actor, read_id)
            if read.status == ReadStatus.SUBMITTED.value:
                raise ReadLocked(f"Read of {read.display_label} is signed and locked; use "
                                 "Amend to change it (a reason and your signature are needed).")
            protocol = self.ctx.protocol(uow, read.protocol_version_id)
            clean = clean_values(protocol, values)
            seconds = _finite(active_seconds, "Active seconds")
            if seconds < 0:
                raise InvalidInput("Active seconds cannot be negative.")
            uids: set[str] = set()
            annotations, key_images = to_original_uids(uow, annotations, key_images)
            if annotations is not None or key_images is not None:
                case = uow.cases.get(read.case_id)
                assert case is not None
                uids = visible_uids(uow, case, protocol)
            version = read.version
            uow.reads.replace_values(read.id, version, clean, _units(protocol, clean))
            if annotations is not None:
                uow.reads.replace_annotations(read.id, version,
                                              clean_annotations(protocol, annotations, uids))
            if key_images is not None:
                uow.reads.replace_key_images(read.id, version,
                                             clean_key_images(key_images, uids))
            saved_at = self.ctx.now_iso()
            total = read.active_seconds + seconds
            uow.reads.update(read.id, updated_at=saved_at, active_seconds=total)
            n_annotations = uow.reads.count_annotations(read.id, version)
            n_key_images = uow.reads.count_key_images(read.id, version)
            uow.audit("save_draft", "read", read.id,
                      after={"values": clean, "annotations": n_annotations,
                             "key_images": n_key_images, "active_seconds": total})
            return ReadState(read.id, ReadStatus(read.status), version, saved_at, total,
                             len(clean), n_annotations, n_key_images)

    def validate_read(self, session: Session, read_id: int) -> list[FieldProblem]:
        """Reader: what is missing or wrong in an own read, per field (empty when complete)."""
        with self.ctx.use_case(session, READERS, "check reads", write=False) as (uow, actor):
            read = own_read(self.ctx, uow, actor, read_id)
            protocol = self.ctx.protocol(uow, read.protocol_version_id)
            return self._problems(uow, read, protocol, uow.reads.values(read.id, read.version))

    def _record_attempt(self, uow: UnitOfWork, actor: Actor, ok: bool, hash_seen: str,
                        context: str, what: str) -> IoreviewError | None:
        assert actor.user_id is not None
        return self.ctx.record_password_attempt(
            uow, actor.user_id, ok, hash_seen,
            lambda left: SignatureRejected(
                f"The password does not match; the read was NOT {what}. {left} attempt(s) "
                "left before the account locks for 15 minutes."),
            context)

    def _sign(self, uow: UnitOfWork, actor: Actor, read: ReadRecord, version: int,
              meaning: str) -> SignatureInfo:
        assert actor.user_id is not None
        signed_at = self.ctx.now_iso()
        content = signatures.read_content(uow, read, version, actor.username, meaning,
                                          signed_at)
        record = signatures.sign(uow, "read", read.id, version, actor.user_id, actor.username,
                                 signed_at, meaning, content)
        return _signature_info(record, actor.display_name)

    def submit_read(self, session: Session, read_id: int, password: str) -> SignatureInfo:
        """Reader: sign ("I confirm this read") and lock an own complete read.  ReadIncomplete
        lists the problems; SignatureRejected on a wrong password (counts towards the
        lock-out); ReadLocked when already signed."""
        with self.ctx.use_case(session, READERS, "sign reads", write=False) as (uow, actor):
            read = own_read(self.ctx, uow, actor, read_id)
            user = uow.users.get(actor.user_id)
            assert user is not None
            check = self.ctx.in_background(verify_password, password or "", user.password_hash)
            self._signable(uow, read)
        ok = check.result()
        error: IoreviewError | None = None
        signature: SignatureInfo | None = None
        with self.ctx.use_case(session, READERS, "sign reads") as (uow, actor):
            current = own_read(self.ctx, uow, actor, read_id)
            if current.status == ReadStatus.SUBMITTED.value:
                raise ReadLocked(f"Read of {read.display_label} is already signed and locked; "
                                 "use Amend to change it.")
            # Unchanged since it was validated above (every save moves updated_at).
            if current.version != read.version or current.updated_at != read.updated_at:
                raise InvalidInput(f"Read of {read.display_label} changed while it was being "
                                   "signed (another window?); check it and sign again.")
            error = self._record_attempt(uow, actor, ok, user.password_hash, "sign read",
                                         "signed")
            if error is None:
                signature = self._sign(uow, actor, current, current.version, SIGNATURE_MEANING)
                uow.reads.lock(current, signature.signed_at)
                uow.audit("submit", "read", current.id,
                          before={"status": current.status},
                          after={"status": ReadStatus.SUBMITTED.value,
                                 "version": current.version, "signature": signature.id})
                if current.purpose == "third":
                    third_read_changed(self.ctx, uow, current.case_id, "third read locked")
                elif not current.is_reread:
                    evaluate_case(self.ctx, uow, current.case_id, "locked")
        if error is not None:
            raise error
        assert signature is not None
        return signature

    def _signable(self, uow: UnitOfWork, read: ReadRecord) -> ReadRecord:
        """The read, when it is unsigned and complete (ReadLocked, ReadIncomplete)."""
        if read.status == ReadStatus.SUBMITTED.value:
            raise ReadLocked(f"Read of {read.display_label} is already signed and locked; "
                             "use Amend to change it.")
        protocol = self.ctx.protocol(uow, read.protocol_version_id)
        problems = self._problems(uow, read, protocol, uow.reads.values(read.id, read.version))
        if problems:
            raise ReadIncomplete(problems)
        return read

    def _amendment(self, uow: UnitOfWork, read: ReadRecord, reason: str,
                   values: Mapping[str, Any], annotations: Sequence[Annotation] | None
                   ) -> tuple[dict[str, Any], dict[str, Any], list[AnnotationRecord]]:
        """The signed values, the merged new ones and the new annotations of an amendment of
        `read` (InvalidInput, ReadIncomplete)."""
        if read.status != ReadStatus.SUBMITTED.value:
            raise InvalidInput(f"Read of {read.display_label} is not signed yet; edit the "
                               "draft and sign it instead of amending.")
        if not reason:
            raise InvalidInput("An amendment needs a reason; say why the signed read changes.")
        protocol = self.ctx.protocol(uow, read.protocol_version_id)
        before = uow.reads.values(read.id, read.version)
        if not isinstance(values, Mapping):
            raise InvalidInput("Read values must be a mapping of field key to value.")
        merged = clean_values(protocol, {**before, **values})
        problems = self._problems(uow, read, protocol, merged)
        if problems:
            raise ReadIncomplete(problems)
        if annotations is not None:
            case = uow.cases.get(read.case_id)
            assert case is not None
            annotations, _ = to_original_uids(uow, annotations, None)
            assert annotations is not None
            new_annotations = clean_annotations(protocol, annotations,
                                                visible_uids(uow, case, protocol))
        else:
            new_annotations = uow.reads.annotations(read.id, read.version)
        return before, merged, new_annotations

    def amend_read(self, session: Session, read_id: int, reason: str,
                   values: Mapping[str, Any], password: str,
                   annotations: Sequence[Annotation] | None = None) -> SignatureInfo:
        """Reader: change an own signed read as a new, signed version with a reason.  `values`
        are merged over the signed ones (None clears a field); annotations replace the signed
        ones when given, else are carried over; earlier versions and signatures stay.  When
        the case's discordance was evaluated, it is evaluated again (audited)."""
        reason = (reason or "").strip()
        with self.ctx.use_case(session, READERS, "amend reads", write=False) as (uow, actor):
            read = own_read(self.ctx, uow, actor, read_id)
            user = uow.users.get(actor.user_id)
            assert user is not None
            check = self.ctx.in_background(verify_password, password or "", user.password_hash)
            self._amendment(uow, read, reason, values, annotations)
        ok = check.result()
        error: IoreviewError | None = None
        signature: SignatureInfo | None = None
        with self.ctx.use_case(session, READERS, "amend reads") as (uow, actor):
            current = own_read(self.ctx, uow, actor, read_id)
            before, merged, new_annotations = self._amendment(uow, current, reason, values,
                                                              annotations)
            if current.version != read.version:
                raise InvalidInput(f"Read of {read.display_label} was amended meanwhile; "
                                   "reopen it and amend the newest version.")
            error = self._record_attempt(uow, actor, ok, user.password_hash, "amend read",
                                         "amended")
            if error is None:
                protocol = self.ctx.protocol(uow, current.protocol_version_id)
                old, new = current.version, current.version + 1
                uow.reads.replace_values(current.id, new, merged, _units(protocol, merged))
                uow.reads.replace_annotations(current.id, new, new_annotations)
                uow.reads.replace_key_images(current.id, new,
                                             uow.reads.key_images(current.id, old))
                at = self.ctx.now_iso()
                assert actor.user_id is not None
                amendment_id = uow.reads.add_amendment(current.id, old, new, reason,
                                                       actor.user_id, at)
                uow.reads.update(current.id, version=new, updated_at=at)
                uow.audit("amend", "read", current.id,
                          before={"version": old, "values": before},
                          after={"version": new, "values": merged, "reason": reason,
                                 "amendment": amendment_id})
                signature = self._sign(uow, actor, current, new, AMENDMENT_MEANING)
                if current.purpose == "third":
                    third_read_changed(self.ctx, uow, current.case_id, "third read amended")
                elif not current.is_reread and uow.discordance.current(current.case_id):
                    evaluate_case(self.ctx, uow, current.case_id, "amended")
        if error is not None:
            raise error
        assert signature is not None
        return signature

    def read_history(self, session: Session, read_id: int) -> list[ReadVersion]:
        """Reader: the versions of an own read, oldest first, with signatures and the reasons
        for amendments."""
        with self.ctx.use_case(session, READERS, "see read history",
                               write=False) as (uow, actor):
            read = own_read(self.ctx, uow, actor, read_id)
            signed = {s.version: s for s in uow.signatures.of("read", read.id)}
            amendments = {a.to_version: a for a in uow.reads.amendments(read.id)}
            assignment = uow.assignments.get(read.assignment_id)
            case = uow.cases.get(read.case_id)
            assert assignment is not None and case is not None
            copy_sets = reader_copy_sets(
                self.ctx, uow, case, assignment,
                prior_cases(uow, case, self.ctx.protocol(uow, read.protocol_version_id)))
            history = []
            for version in range(1, read.version + 1):
                s = signed.get(version)
                a = amendments.get(version)
                annotations, key_images = to_copy_uids(
                    uow, copy_sets, uow.reads.annotations(read.id, version),
                    uow.reads.key_images(read.id, version))
                history.append(ReadVersion(
                    version=version,
                    status=ReadStatus.SUBMITTED if s else ReadStatus(read.status),
                    values=uow.reads.values(read.id, version),
                    annotations=annotations,
                    key_images=key_images,
                    signature=_signature_info(s, _display_name(uow, s.signer_id))
                    if s else None,
                    amendment_reason=a.reason if a else None,
                    amended_at=a.amended_at if a else None))
            return history
