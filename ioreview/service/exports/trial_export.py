"""Export to the analysis pipeline: tidy tables (CSV / Parquet / JSON Lines), the codebook,
an SDTM-style results table, DICOM SR, the report, and a manifest; the export itself is a
signed, audited record that keeps the manifest's hash and the audit chain's head.

De-identified by default: subjects, readers, adjudicators and committee members appear under
pseudonyms (SUBJ-001, READER1, ADJUDICATOR1, COMMITTEE1), days are counted from insertion,
image UIDs are replaced consistently (a keyed hash, so SR and tables match and a second export
gives the same UIDs); no names, identifiers, calendar dates or institution appear in any file.
`identified=True` adds the original identifiers (coordinator or admin only; audited).

Reproducible: an unchanged database exported twice gives byte-identical table files (the
manifest's export time differs); rows are sorted deterministically and written case by case,
so memory does not grow with the number of cases.
"""
from __future__ import annotations

import dataclasses
import gc
import hashlib
import hmac
import html
import json
import math
import shutil
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import ioreview
from adjudication.paradigms import CaseAtTimepoint, subject_endpoints
from adjudication.protocol import COMMITTEE_PREFIX, Protocol
from adjudication.reliability import AgreementReport, trial_agreement
from ioreview.auth import verify_password
from ioreview.errors import InvalidInput, SignatureRejected
from ioreview.imaging.measure import calibration_for, value_unit
from ioreview.store import UnitOfWork, dicom_index
from ioreview.store.records import CaseRecord, SignatureRecord

from .. import signatures
from ..agreement import collect
from ..context import ADMINS, ServiceContext
from ..values import Role, Session, SignatureInfo
from ..workflow import case_outcome
from .redaction import FREE_TEXT_COLUMNS, MARKER, RedactingWriter, Redactor
from .signed_content import signed_export_content
from .sr_cases import CaseSr, SrDocument, UidMap, write_case_sr, write_handed_sr
from .tables import FORMATS, TABLES, TableWriter, value_text

__all__ = ["EXPORT_MEANING", "ExportSummary", "Exports"]

EXPORT_MEANING = "I confirm this export"
_REPORT_WORDS = {
    "en": {"protocol": "Protocol", "paradigm": "Paradigm", "subjects": "Subjects",
           "cases": "Cases", "readers": "Readers", "reads": "Signed reads",
           "rereads": "Hidden re-reads", "stage": "Cases", "pending": "Adjudications pending",
           "decided": "Adjudications decided", "sessions": "Committee sessions open / closed"},
    "zh_CN": {"protocol": "方案", "paradigm": "裁决模式", "subjects": "受试者", "cases": "病例",
              "readers": "阅片者", "reads": "已签名阅片", "rereads": "隐藏重复阅片",
              "stage": "病例阶段", "pending": "待仲裁", "decided": "已仲裁",
              "sessions": "委员会会议 进行中 / 已结束"},
}
#: the languages a report is written in (`report.LANGUAGES`, without loading the report's code)
REPORT_LANGUAGES = tuple(_REPORT_WORDS)
#: cases gathered per batch (memory bound)
CHUNK = 100
#: the worker starts taking SR cases only while at least this many cases are still to be
#: written: its first case costs ~0.3-0.4 s (highdicom's import, the SR templates), which only
#: pays when this process has more than that left to do; once it has written one, it takes
#: cases to the last
SR_HAND_MIN_CASES = 32
_UNITS = {"mm": "mm", "px": "{px}", "mm²": "mm2", "mm2": "mm2", "px²": "{px2}",
          "px2": "{px2}", "deg": "deg", "ml": "mL", "hu": "[hnsf'U]", "s": "s"}


@dataclass(frozen=True)
class ExportedFile:
    name: str
    rows: int | None
    sha256: str
    size: int


@dataclass(frozen=True)
class ExportSummary:
    export_id: int
    out_dir: Path
    files: tuple[ExportedFile, ...]
    manifest: Path
    audit_head: str
    identified: bool
    signature: SignatureInfo
    #: where the time went, for benchmarks: wall-clock and CPU seconds of this process's parts
    #: ("gather" the report's inputs, "tables", "sr") and of the report's worker
    #: ("report_worker"), and how long this process waited for the worker ("report_wait_s")
    timings: Mapping[str, float] = field(default_factory=dict)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _epoch(text: str | None) -> float | None:
    return None if not text else datetime.fromisoformat(text).timestamp()


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value) if math.isfinite(float(value)) else None


def _measurement(name: str, modality_unit: str) -> tuple[str, str]:
    """(measurement, UCUM unit) of a stored measurement key ("length_mm", "area_mm²",
    "mean" ...)."""
    base, _, suffix = name.rpartition("_")
    if base and suffix.lower() in _UNITS:
        return base, _UNITS[suffix.lower()]
    if name in ("mean", "sd", "min", "max"):
        return name, "[hnsf'U]" if modality_unit == "HU" else (modality_unit or "1")
    if name == "n_pixels":
        return name, "{pixels}"
    return name, ""


class _Clock:
    """Wall-clock and CPU seconds of the parts of an export, added up by name."""

    def __init__(self) -> None:
        self.timings: dict[str, float] = defaultdict(float)

    def add(self, name: str, wall: float, cpu: float) -> None:
        self.timings[f"{name}_s"] += wall
        self.timings[f"{name}_cpu_s"] += cpu

    @contextmanager
    def part(self, name: str) -> Iterator[None]:
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            self.add(name, time.perf_counter() - wall, time.process_time() - cpu)


class _Workers:
    """The export's worker process: it writes the report (~2-3 s) while this process writes the
    tables and the DICOM SR, then takes SR cases too (`_Export._write_sr`).  Created on first
    use, once per export, and shut down at its end;
    the one a command forked before it opened the trial (`report_worker.start_worker`), else
    forked by a forkserver (`report_worker.worker_context`), so safe once Qt runs, with the
    report's modules preloaded in the server (a second export in the same process starts its
    worker loaded).  Either way the worker ends with this process
    (`report_worker.start_in_worker`).  A task depends only on its arguments, so its files do
    not depend on scheduling; without a worker process tasks run in this process."""

    def __init__(self, processes: int) -> None:
        self.processes = processes
        self.pool: ProcessPoolExecutor | None = None
        self.pending: deque[Future[Any]] = deque()
        self._lock = threading.Lock()
        self._starting: threading.Thread | None = None
        self._handing: list[threading.Thread] = []

    def _pool(self) -> ProcessPoolExecutor:
        with self._lock:
            if self.pool is None:
                from .report_worker import start_in_worker, take_started_worker, worker_context

                self.pool = take_started_worker() or ProcessPoolExecutor(
                    max_workers=self.processes, mp_context=worker_context(),
                    initializer=start_in_worker)
            return self.pool

    def start(self) -> None:
        """Start the worker process now, on a thread: the first submit blocks until the
        forkserver has loaded the report's modules (~1-2 s), which then overlaps the work
        this process does before it has a task to give."""
        if self.processes < 1 or self._starting is not None:
            return
        self._starting = threading.Thread(target=self._warm, name="ioreview-export-worker-start",
                                          daemon=True)
        self._starting.start()

    def _warm(self) -> None:
        try:
            self._pool().submit(int).result()
        except Exception:  # noqa: BLE001 - the first real task raises the same error, reported
            pass

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        """`fn(*args)` in the worker; returns at once: a thread hands the task to the pool,
        whose first submit blocks until the worker process has started."""
        outer: Future[Any] = Future()
        if self.processes < 1:
            try:
                outer.set_result(fn(*args))
            except Exception as exc:  # noqa: BLE001 - raised where the result is asked
                outer.set_exception(exc)
            self.pending.append(outer)
            return outer

        def hand_over() -> None:
            try:
                inner = self._pool().submit(fn, *args)
            except BaseException as exc:  # noqa: BLE001 - raised where the result is asked
                outer.set_exception(exc)
                return
            inner.add_done_callback(lambda done: _settle_future(outer, done))

        thread = threading.Thread(target=hand_over, name="ioreview-export-submit", daemon=True)
        thread.start()
        self._handing.append(thread)
        self.pending.append(outer)
        return outer

    def submit_started(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        """`fn(*args)` in the worker, once an earlier task has started it (the submit does not
        block then)."""
        future = self._pool().submit(fn, *args)
        self.pending.append(future)
        return future

    def wait(self) -> None:
        while self.pending:
            self.pending.popleft().result()  # a worker's error is raised here

    def close(self) -> None:
        if self._starting is not None:
            self._starting.join()
            self._starting = None
        for thread in self._handing:
            thread.join()
        self._handing.clear()
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None


def _settle_future(outer: Future[Any], done: Future[Any]) -> None:
    """Give `outer` the outcome of the pool's future `done`."""
    if done.cancelled():
        outer.cancel()
    elif done.exception() is not None:
        outer.set_exception(done.exception())
    else:
        outer.set_result(done.result())


@contextmanager
def _collector_skips_older_objects() -> Iterator[Callable[[], None]]:
    """The cyclic garbage collector leaves the objects that existed before the export alone
    while it runs (`gc.freeze`): a full collection otherwise walks every module, class and
    cache loaded so far (~400,000 objects, 0.1-0.25 s each, several per export).  Until the
    function given to the block is called (once the export's modules have loaded, after its
    first cases), the collector is off: loading them set off full collections of everything
    they made (~0.1-0.2 s of a first export); the function then freezes what exists and
    switches the collector back on.  Garbage the export makes afterwards is collected as
    usual; the frozen objects rejoin the collector at the end (and whatever of them is
    garbage with them)."""
    was_enabled = gc.isenabled()
    gc.freeze()
    gc.disable()

    def settle() -> None:
        gc.freeze()
        if was_enabled:
            gc.enable()

    try:
        yield settle
    finally:
        gc.unfreeze()
        if was_enabled:
            gc.enable()


class _Pseudonyms:
    """Stable pseudonyms for subjects and people (identified exports keep the originals in
    their own columns)."""

    def __init__(self, uow: UnitOfWork, cases: Sequence[CaseRecord]) -> None:
        first: dict[str, str] = {}
        for c in cases:
            first[c.subject] = min(first.get(c.subject, c.label), c.label)
        self.subjects = {s: f"SUBJ-{i:03d}" for i, s in
                         enumerate(sorted(first, key=lambda s: (first[s], s)), 1)}
        self.people: dict[int, str] = {}
        self.roles: dict[str, tuple[str, str, str]] = {}
        prefixes = {Role.READER.value: "READER", Role.ADJUDICATOR.value: "ADJUDICATOR",
                    Role.COMMITTEE.value: "COMMITTEE"}
        counters: dict[str, int] = defaultdict(int)
        for u in sorted(uow.users.list(), key=lambda u: u.id):
            prefix = prefixes.get(u.role)
            if prefix is None:
                continue
            counters[prefix] += 1
            pid = f"{prefix}{counters[prefix]}"
            self.people[u.id] = pid
            self.roles[pid] = (u.role, u.username, u.display_name)

    def person(self, user_id: int | None) -> str | None:
        return None if user_id is None else self.people.get(user_id, f"USER{user_id}")


class Exports:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def export_trial(self, session: Session, out_dir: str | Path, password: str, *,
                     formats: Sequence[str] = ("csv",), include_sr: bool = False,
                     report: bool = False, identified: bool = False,
                     include_images: bool = False, language: str = "en",
                     progress: Callable[[int, int], None] | None = None) -> ExportSummary:
        """Coordinator/admin: export the trial into the empty folder `out_dir` and sign the
        export ("I confirm this export") with the password.  `formats` any of csv, parquet,
        json; `include_sr` writes a DICOM SR per locked read version and per final outcome
        (`include_images` adds de-identified copies of the referenced images); `report` the
        HTML and PDF report; `identified` keeps original identifiers (audited)."""
        formats = tuple(dict.fromkeys(f.strip().lower() for f in formats if f.strip()))
        unknown = [f for f in formats if f not in FORMATS]
        if unknown or not formats:
            raise InvalidInput(f"Unknown export format(s) {', '.join(unknown) or '(none)'}; "
                               f"use any of {', '.join(FORMATS)}.")
        if include_images and not include_sr:
            raise InvalidInput("The images an export includes are those its DICOM SR "
                               "references: ask for the SR too (--include-sr), or leave the "
                               "images out.")
        if language not in REPORT_LANGUAGES:
            raise InvalidInput(f"Unknown report language {language!r}; use one of "
                               f"{', '.join(REPORT_LANGUAGES)}.")
        out = Path(out_dir)
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            raise InvalidInput(f"{out} is not an empty folder; export into a new or empty "
                               "folder so files of different exports never mix.")
        with self.ctx.use_case(session, ADMINS, "export the trial", write=False) as (uow, actor):
            user = uow.users.get(actor.user_id)
            if user is None:
                raise InvalidInput("An export is signed: log in as a coordinator to export "
                                   "(a workstation session cannot sign).")
            check = self.ctx.in_background(verify_password, password or "", user.password_hash)
        if not check.result():
            with self.ctx.use_case(session, ADMINS, "export the trial") as (uow, actor):
                error = self.ctx.record_password_attempt(
                    uow, actor.user_id or 0, False, user.password_hash,
                    lambda left: SignatureRejected(
                        "The password does not match; nothing was exported. "
                        f"{left} attempt(s) left before the account locks for 15 minutes."),
                    "sign export")
            raise error or SignatureRejected("The password does not match.")
        # the trail's length and head, read together: the manifest anchors the audit trail
        # outside the database (`verify_audit_trail(anchors=[manifest])`)
        audit_length, audit_head = self.ctx.store.audit_anchor()  # type: ignore[attr-defined]
        staging = out.with_name(out.name + ".part")
        if staging.exists():
            shutil.rmtree(staging)
        staging.mkdir(parents=True)
        params = {"formats": list(formats), "include_sr": include_sr, "report": report,
                  "identified": identified, "include_images": include_images,
                  "language": language}
        try:
            with self.ctx.use_case(session, ADMINS, "export the trial",
                                   write=False) as (uow, actor):
                exporter = _Export(self.ctx, uow, staging, formats, identified, progress,
                                   audit_head)
                written = exporter.run(
                    include_sr=include_sr, include_images=include_images, report=report,
                    language=language)
            files = tuple(ExportedFile(p.relative_to(staging).as_posix(), rows, _sha256(p),
                                       p.stat().st_size) for p, rows in written)
            manifest = {
                "software": {"name": "ioreview", "version": ioreview.__version__},
                "exported_at": self.ctx.now_iso(), "exported_by": actor.username,
                "parameters": params, "audit_head": audit_head, "audit_length": audit_length,
                "redactions": exporter.redactions(),
                **({"images_withheld": exporter.images_withheld} if include_images else {}),
                "files": [{"name": f.name, "rows": f.rows, "sha256": f.sha256,
                           "bytes": f.size} for f in files],
            }
            manifest_path = staging / "manifest.json"
            manifest_path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n",
                                     encoding="utf-8")
            manifest_sha = _sha256(manifest_path)
            with self.ctx.use_case(session, ADMINS, "export the trial") as (uow, actor):
                assert actor.user_id is not None
                at = self.ctx.now_iso()
                export_id = uow.exports.add(at, actor.username, params, manifest_sha,
                                            audit_head, identified, len(files) + 1)
                uow.audit("export", "export", export_id,
                          after={**params, "manifest_sha256": manifest_sha,
                                 "audit_head": audit_head, "files": len(files) + 1,
                                 "folder": str(out)})
                record = uow.exports.get(export_id)
                assert record is not None
                content = signed_export_content(record, actor.username, EXPORT_MEANING, at)
                signed = signatures.sign(uow, "export", export_id, 1, actor.user_id,
                                         actor.username, at, EXPORT_MEANING, content)
                signature = SignatureInfo(signed.id, export_id, signed.signer, signed.signed_at,
                                          signed.meaning, signed.content_sha256, 1,
                                          actor.display_name)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        if out.exists():
            out.rmdir()
        staging.rename(out)
        return ExportSummary(export_id, out, files, out / "manifest.json", audit_head,
                             identified, signature, dict(exporter.timings))


class _Export:
    """One export's gathering and writing, inside one read-only unit of work."""

    def __init__(self, ctx: ServiceContext, uow: UnitOfWork, out: Path,
                 formats: Sequence[str], identified: bool,
                 progress: Callable[[int, int], None] | None, audit_head: str = "") -> None:
        self.ctx, self.uow, self.out = ctx, uow, out
        self.audit_head = audit_head
        self.formats, self.identified = formats, identified
        self._printed_names: dict[int, str] = {}
        self._ballots: dict[int, dict[str, Any]] = {}
        self.progress = progress or (lambda done, total: None)
        cases = uow.cases.list()
        self.names = _Pseudonyms(uow, cases)
        #: subject by subject, each in time order (the order of every per-case table)
        self.cases = sorted(cases, key=lambda c: (self.names.subjects[c.subject],
                                                  c.days_from_insertion is None,
                                                  c.days_from_insertion or 0, c.label))
        self.versions: dict[int, Protocol] = {}
        self.version_names: dict[int, str] = {}
        for pv in uow.protocols.list():
            self.version_names[pv.id] = f"{pv.protocol_id} {pv.version}"
        active = ctx.active_version(uow)
        self.protocol = active[1] if active else None
        # one pass over the signed reads: the export's first signature (offsets count from
        # it) and the protocol versions the reads were made under (the fields table)
        t0: float | None = None
        self.versions_used: set[int] = {active[0]} if active else set()
        for r in uow.reads.locked():
            self.versions_used.add(r.protocol_version_id)
            t = _epoch(r.signed_at)
            if t is not None and (t0 is None or t < t0):
                t0 = t
        self.t0 = t0 or 0.0
        key = uow.exports.key_seed() or "ioreview"
        self._uid_key = hashlib.sha256(("uid:" + key).encode()).digest()
        #: the RS columns of each field, by protocol (id, version) and value key
        self._sdtm_tests: dict[tuple[str, Any], dict[str, dict[str, Any]]] = {}
        self.timepoints = {tp: i for i, tp in
                           enumerate(self.protocol.timepoints if self.protocol else (), 1)}

    # -- helpers -----------------------------------------------------------------------------
    def proto(self, version_id: int) -> Protocol:
        if version_id not in self.versions:
            self.versions[version_id] = self.ctx.protocol(self.uow, version_id)
        return self.versions[version_id]

    def uid(self, uid: str) -> str:
        """A UID as exported: itself when identified, else a keyed-hash replacement."""
        if self.identified:
            return uid
        digest = hmac.new(self._uid_key, uid.encode(), hashlib.sha256).digest()
        return "2.25." + str(int.from_bytes(digest[:16], "big"))

    def _redactor(self) -> Redactor:
        """A redactor of every patient name and ID, accession number, institution and
        referring physician the index holds (dates are redacted whatever their value)."""
        names: set[str] = set()
        ids: set[str] = set()
        for st in dicom_index.list_studies(self.uow):
            names.add(st.patient_name or "")
            ids.update((st.patient_id or "", st.accession_number or ""))
        pks = [pk for c in self.cases for pk in self.uow.cases.series_pks(c.id)]
        for start in range(0, len(pks), 500):
            for headers in dicom_index.series_headers_of(self.uow, pks[start:start + 500]).values():
                for h in headers[:1]:
                    names.update((h.patient_name or "", h.referring_physician_name or ""))
                    ids.update((h.patient_id or "", h.accession_number or "",
                                h.institution_name or ""))
        ids.update(self.names.subjects)  # the original subject labels
        return Redactor(names - {""}, ids - {""})

    def _label_redacted(self, annotation: Any) -> Any:
        """The annotation with its (free-text) label redacted in a de-identified export."""
        if self.redactor is None or not annotation.label:
            return annotation
        return dataclasses.replace(annotation, label=self.redactor(annotation.label, "sr.label"))

    def redactions(self) -> dict[str, Any] | None:
        """What the de-identified export replaced in free text (None when identified)."""
        r = self.redactor
        if r is None:
            return None
        return {"marker": MARKER, "count": r.count, "by_column": dict(sorted(r.by_column.items()))}

    def base(self, case: CaseRecord) -> dict[str, Any]:
        return {"subject": self.names.subjects[case.subject], "subject_id": case.subject,
                "case": case.label, "timepoint": case.timepoint,
                "study_day": case.days_from_insertion}

    # -- the run -----------------------------------------------------------------------------
    def run(self, *, include_sr: bool, include_images: bool, report: bool, language: str
            ) -> list[tuple[Path, int | None]]:
        self.include_sr, self.include_images = include_sr, include_images
        self.sr_files: list[Path] = []
        #: the series each SR source image belongs to; exported images withheld for burned-in
        #: text that was neither masked nor cleared
        self._series_of: dict[str, int] = {}
        self.images_withheld = 0
        #: the values and annotations of each (read, version) of the case being written, read
        #: once for the tables and the SR
        self._case_reads: dict[tuple[int, int], tuple[dict[str, Any], list[Any]]] = {}
        #: the image headers of the case being written, by series key (`_series_headers`)
        self._headers_of: tuple[int | None, Mapping[int, Sequence[Any]]] = (None, {})
        self.agreement: AgreementReport | None = None
        #: the report's task in the worker, and the SR cases handed to the worker once that
        #: is done (`_write_sr`), with the protocols already handed over
        self._report_task: Future[Any] | None = None
        self._handed: deque[Future[Any]] = deque()
        #: the worker has written an SR case (its SR modules and templates are loaded)
        self._worker_warm = False
        self._handed_protocols: set[tuple[str, str]] = set()
        self._sr_protocols: dict[tuple[str, str], Protocol] = {}
        self.clock = _Clock()
        self.timings = self.clock.timings
        from .report_worker import cores

        self.workers = _Workers(1 if report and cores() > 1 else 0)
        self.workers.start()
        try:
            with _collector_skips_older_objects() as self._settle:
                return self._run(report, language)
        finally:
            self.workers.close()

    def _run(self, report: bool, language: str) -> list[tuple[Path, int | None]]:
        writers: dict[str, Any] = {name: TableWriter(t, self.out, self.formats, self.identified)
                                   for name, t in TABLES.items()}
        self.redactor = None if self.identified else self._redactor()
        if self.redactor is not None:  # free text: the trial's known identifiers are replaced
            for name, columns in FREE_TEXT_COLUMNS.items():
                if name in writers:
                    writers[name] = RedactingWriter(writers[name], columns, self.redactor)
        total = self._cases_left = len(self.cases)
        by_subject: dict[str, list[CaseAtTimepoint]] = defaultdict(list)
        seq: dict[str, int] = defaultdict(int)
        # with a report and a worker process, the report's inputs (every case's outcome, the
        # agreement figures, the key images) are gathered first and the worker writes the
        # report while this process writes the tables and the DICOM SR
        early = report and self.workers.processes > 0
        outcomes: dict[int, tuple[Any, Any, Protocol | None]] | None = None
        report_files: Future[tuple[list[Path], float, float]] | None = None
        report_paths: list[Path] = []
        start_wall, start_cpu = time.perf_counter(), time.process_time()
        if early:
            outcomes = {}
            for case in self.cases:
                outcomes[case.id] = case_outcome(self.ctx, self.uow, case.id)
                by_subject[case.subject].append(CaseAtTimepoint(
                    case.label, case.timepoint, case.days_from_insertion, outcomes[case.id][1]))
            self.by_subject = by_subject
            # the agreement figures here, while the worker is still loading its modules
            self.agreement = self.report_for()
            report_files = self._report_task = self._report(language)
            self.clock.add("gather", time.perf_counter() - start_wall,
                           time.process_time() - start_cpu)
        for start in range(0, total, CHUNK):
            chunk = self.cases[start:start + CHUNK]
            self._chunk(chunk, writers, None if early else by_subject, seq,
                        sr=self.include_sr, outcomes=outcomes)
            if start == 0:
                self._settle()  # the SR, table and report modules have loaded by now
            self.progress(min(start + CHUNK, total), total)
        self.by_subject = by_subject
        self._endpoints(by_subject, writers["subject_endpoints"])
        self._committee(writers)
        self._agreement(writers["agreement"])
        self._users(writers["users"])
        self._fields(writers["fields"])
        written: list[tuple[Path, int | None]] = []
        for w in writers.values():
            paths = w.close()
            written.extend((p, w.rows) for p in paths)
        for p in self._codebook():
            written.append((p, None))
        self.clock.add("tables", time.perf_counter() - start_wall - self.timings["gather_s"]
                       - self.timings["sr_s"], time.process_time() - start_cpu
                       - self.timings["gather_cpu_s"] - self.timings["sr_cpu_s"])
        if report and not early:
            report_files = self._report(language)
        waited = time.perf_counter()
        self.workers.wait()
        if report_files is not None:
            report_paths, wall, cpu = report_files.result()
            self.clock.add("report_worker", wall, cpu)
        self.timings["report_wait_s"] = time.perf_counter() - waited
        written.extend((p, None) for p in self.sr_files)
        written.extend((p, None) for p in report_paths)
        return sorted(written, key=lambda x: x[0].relative_to(self.out).as_posix())

    def _reads_by_case(self, cases: Sequence[CaseRecord]) -> dict[int, list[Any]]:
        """The locked reads of each case, by reader pseudonym, re-read last."""
        reads_by_case: dict[int, list[Any]] = defaultdict(list)
        for r in self.uow.reads.locked([c.id for c in cases]):
            reads_by_case[r.case_id].append(r)
        return {case_id: sorted(rows, key=lambda r: (self.names.person(r.reader_id) or "",
                                                     r.is_reread, r.read_id))
                for case_id, rows in reads_by_case.items()}

    def _chunk(self, cases: Sequence[CaseRecord], w: Mapping[str, TableWriter],
               by_subject: dict[str, list[CaseAtTimepoint]] | None, seq: dict[str, int], *,
               sr: bool, outcomes: dict[int, tuple[Any, Any, Protocol | None]] | None) -> None:
        """The table rows (and SR documents) of `cases`; `outcomes` the cases' outcomes when
        gathered before (each is used once and dropped), `by_subject` collects them when not."""
        uow = self.uow
        reads_by_case = self._reads_by_case(cases)
        for case in cases:
            self._cases_left -= 1
            b = self.base(case)
            rows = reads_by_case.get(case.id, [])
            values_now: dict[int, dict[str, Any]] = {}
            self._case_reads = {}
            for r in rows:
                self._read_rows(case, b, r, w, values_now)
            stage, outcome, protocol = outcomes.pop(case.id) if outcomes is not None \
                else case_outcome(self.ctx, uow, case.id)
            if by_subject is not None:
                by_subject[case.subject].append(CaseAtTimepoint(
                    case.label, case.timepoint, case.days_from_insertion, outcome))
            if outcome is not None and protocol is not None:
                for v in outcome.values:
                    finding = v.key.split(".")[0] if "." in v.key else None
                    field = protocol.any_field(v.key)
                    w["final_values"].write({**b, "stage": stage.value, "field": v.key,
                                             "finding": None if v.key.startswith(COMMITTEE_PREFIX) else finding,
                                             "value": value_text(v.value),
                                             "value_number": _number(v.value),
                                             "unit": field.unit, "source": v.source.value,
                                             "detail": v.detail})
            self._discordances(case, b, w["discordances"])
            self._adjudications(case, b, w)
            self._sdtm(case, b, rows, outcome, protocol, w["sdtm_rs"], seq, values_now)
            if sr:
                self._sr(case, b, rows, outcome, protocol)

    def _read_rows(self, case: CaseRecord, b: dict[str, Any], r: Any,
                   w: Mapping[str, TableWriter], values_now: dict[int, dict[str, Any]]) -> None:
        uow = self.uow
        protocol = self.proto(r.protocol_version_id)
        reader = self.names.person(r.reader_id)
        user = self.names.roles.get(reader or "", ("", "", ""))
        signed = {s.version: s for s in uow.signatures.of("read", r.read_id)}
        for version in range(1, r.version + 1):
            values = uow.reads.values(r.read_id, version)
            annotations = list(uow.reads.annotations(r.read_id, version))
            self._case_reads[(r.read_id, version)] = (values, annotations)  # for the SR
            if version == r.version:
                values_now[r.read_id] = values
            s = signed.get(version)
            offset = None
            if s is not None:
                t = _epoch(s.signed_at)
                offset = None if t is None else round((t - self.t0) / 86400.0, 4)
            common = {**b, "reader": reader, "reader_username": user[1],
                      "read_id": r.read_id, "version": version,
                      "current": version == r.version, "is_reread": r.is_reread,
                      "third_read": not r.is_primary,
                      "protocol_version": self.version_names.get(r.protocol_version_id),
                      "read_duration_s": r.active_seconds if version == r.version else None,
                      "worklist_position": r.position, "signed_offset_days": offset,
                      "signed_at": s.signed_at if s else None, **self.signed_by(s)}
            for key, finding, field in protocol.iter_fields():
                if key not in values:
                    continue
                v = values[key]
                w["reads"].write({**common, "field": key,
                                  "finding": finding.id if finding else None,
                                  "value": value_text(v), "value_number": _number(v),
                                  "unit": field.unit})
            self._annotations(case, b, reader, r.read_id, version, annotations,
                              w["annotations"])

    def _annotations(self, case: CaseRecord, b: dict[str, Any], observer: str | None,
                     read_id: int | None, version: int | None, annotations: Sequence[Any],
                     w: TableWriter) -> None:
        if not annotations:
            return
        headers = {h.sop_instance_uid: h for hs in self._series_headers(case).values()
                   for h in hs}
        for n, a in enumerate(annotations, 1):
            h = headers.get(a.sop_instance_uid)
            source = unit = ""
            if h is not None:
                try:
                    mid = a.points[len(a.points) // 2] if a.points else None
                    source = calibration_for(h, mid).source.value
                except (ValueError, TypeError):
                    source = ""
                unit = value_unit(h)
            row = {**b, "observer": observer, "read_id": read_id, "version": version,
                   "annotation": n, "finding": a.finding_id, "kind": a.kind,
                   "image_ref": self.uid(a.sop_instance_uid), "frame": a.frame,
                   "label": a.label or None, "calibration_source": source or None}
            if not a.measurements:
                w.write(row)
            for name in sorted(a.measurements):
                measurement, ucum = _measurement(name, unit)
                w.write({**row, "measurement": measurement,
                         "measurement_value": a.measurements[name],
                         "measurement_unit": ucum or None})

    def _series_headers(self, case: CaseRecord) -> Mapping[int, Sequence[Any]]:
        """The image headers of each series of `case` (by series key), read once for the
        case's annotation rows and its SR."""
        if self._headers_of[0] != case.id:
            self._headers_of = (case.id, dicom_index.series_headers_of(
                self.uow, self.uow.cases.series_pks(case.id)))
        return self._headers_of[1]

    # -- DICOM SR -------------------------------------------------------------------------
    def _sources(self, case: CaseRecord, annotated: set[str]) -> dict[str, str]:
        """The images an SR of the case refers to: every annotated image and the first image
        of each series (the evidence), by SOP Instance UID -> archived file."""
        out: dict[str, str] = {}
        for pk, headers in sorted(self._series_headers(case).items()):
            for i, h in enumerate(headers):
                if i == 0 or h.sop_instance_uid in annotated:
                    where = self.uow.dicom.instance_location(h.sop_instance_uid)
                    if where is not None:
                        out[h.sop_instance_uid] = where.path
                        self._series_of[h.sop_instance_uid] = pk
        return out

    def _sr(self, case: CaseRecord, b: dict[str, Any], reads: Sequence[Any], outcome: Any,
            protocol: Protocol | None) -> None:
        with self.clock.part("sr"):
            self._case_sr(case, b, reads, outcome, protocol)

    def _case_sr(self, case: CaseRecord, b: dict[str, Any], reads: Sequence[Any], outcome: Any,
                 protocol: Protocol | None) -> None:
        folder = self.out / "sr" / case.label
        jobs: list[tuple[str, str, Protocol, dict[str, Any], list[Any], str]] = []
        for r in reads:
            proto = self.proto(r.protocol_version_id)
            reader = self.names.person(r.reader_id) or "READER"
            for version in range(1, r.version + 1):
                name = f"{reader}{'-reread' if r.is_reread else ''}-v{version}.dcm"
                values, annotations = self._case_reads[(r.read_id, version)]  # `_read_rows`
                jobs.append((name, reader, proto, values, list(annotations), "person"))
        if outcome is not None and protocol is not None:
            own: list[Any] = []
            adjudication = self.uow.adjudications.current(case.id)
            if adjudication is not None and adjudication.status == "decided":
                own = list(self.uow.adjudications.annotations(adjudication.id))
            jobs.append(("final-outcome.dcm", "ADJUDICATION COMMITTEE", protocol,
                         outcome.as_dict(), own, "device"))
        if not jobs:
            return
        annotated = {a.sop_instance_uid for *_x, anns, _k in jobs for a in anns}
        sources = self._sources(case, annotated)
        if not sources:
            return
        patient = b["subject_id"] if self.identified else b["subject"]
        series_uid = self.uid("ioreview-sr-series:" + case.label) if not self.identified \
            else "2.25." + str(int.from_bytes(hashlib.sha256(
                ("ioreview-sr-series:" + case.label).encode()).digest()[:16], "big"))
        documents = []
        protocols: dict[tuple[str, str], Protocol] = {}
        for n, (name, observer, proto, values, annotations, kind) in enumerate(jobs, 1):
            key = (proto.id, str(proto.version))
            protocols[key] = self._sr_protocols.setdefault(key, proto)
            sop = self.uid(f"ioreview-sr:{case.label}:{name}") if not self.identified else \
                "2.25." + str(int.from_bytes(hashlib.sha256(
                    f"ioreview-sr:{case.label}:{name}".encode()).digest()[:16], "big"))
            documents.append(SrDocument(
                folder / name, key, values,
                tuple(self._label_redacted(a) for a in annotations
                      if a.sop_instance_uid in sources),
                observer, kind, sop, n, f"ioreview {case.label} {name[:-4]}"))
            self.sr_files.append(folder / name)
        images = self.out / "images" / case.label if self.include_images else None
        release = None
        if images is not None and not self.identified:
            from ..reader_copies import pixel_release

            by_series = pixel_release(self.uow, set(self._series_of[u] for u in sources))
            release = {u: r for u in sources if (r := by_series[self._series_of[u]]) is not None}
            self.images_withheld += len(sources) - len(release)
        if images is not None:
            self.sr_files.extend(images / f"{self.uid(uid)}.dcm" for uid in sorted(sources)
                                 if release is None or uid in release)
        self._write_sr(CaseSr(
            folder, sources, None if self.identified else UidMap(self._uid_key), patient,
            series_uid, tuple(documents), images, release, protocols))

    def _write_sr(self, task: CaseSr) -> None:
        """Write a case's SR here, or hand it to the worker when it can take it
        (`_worker_takes_sr`): the two processes share the SR instead of the worker idling
        while this one writes it alone.  The files do not depend on which process writes
        them."""
        if not self._worker_takes_sr():
            write_case_sr(task)
            return
        new = {k: p for k, p in task.protocols.items() if k not in self._handed_protocols}
        self._handed_protocols.update(new)
        self._handed.append(self.workers.submit_started(
            write_handed_sr, dataclasses.replace(task, protocols=new)))
        self.timings["sr_cases_in_worker"] += 1

    def _worker_takes_sr(self) -> bool:
        """Whether the worker takes the next case's SR: it has written the report, fewer than
        two cases wait there, and it has written an SR case before or enough cases are left
        to pay for its first (`SR_HAND_MIN_CASES`)."""
        if self._report_task is None or not self._report_task.done():
            return False
        while self._handed and self._handed[0].done():
            self._handed.popleft()  # a worker's error is raised by `self.workers.wait()`
            self._worker_warm = True
        if not self._worker_warm and (self._handed or self._cases_left < SR_HAND_MIN_CASES):
            return False  # its first case is still being written, or would not pay
        return len(self._handed) < 2

    # -- the report --------------------------------------------------------------------------
    def _report(self, language: str) -> Future[tuple[list[Path], float, float]]:
        """report/report.html and report.pdf: summary, agreement, adjudication, outcomes and
        key images with the readers' shapes burned in (pseudonyms unless identified); written
        by a worker process."""
        from .report_data import KeyImage
        from .report_worker import ReportJob, timed, write_report

        if self.protocol is None or self.agreement is None:
            nothing: Future[tuple[list[Path], float, float]] = Future()
            nothing.set_result(([], 0.0, 0.0))
            return nothing
        p, lang = self.protocol, (None if language == "en" else language)
        words = _REPORT_WORDS.get(language, _REPORT_WORDS["en"])
        counts = self.uow.dicom.counts()
        stages = self.uow.workflow.stage_counts()
        workload = self.uow.adjudications.workload()
        panels = self.uow.panels.counts()
        summary = [(words["protocol"], f"{p.title_in(lang)} ({p.id} {p.version})"),
                   (words["paradigm"], p.paradigm.value),
                   (words["subjects"], str(len(self.names.subjects))),
                   (words["cases"], str(counts.cases)),
                   (words["readers"], str(self.agreement.n_readers)),
                   (words["reads"], str(counts.reads_by_status.get("submitted", 0))),
                   (words["rereads"], str(self.agreement.n_rereads))]
        adjudication = [(words["stage"] + " " + k, str(v)) for k, v in sorted(stages.items())]
        adjudication += [(words["pending"], str(sum(w.get("pending", 0) for w in workload.values()))),
                         (words["decided"], str(sum(w.get("decided", 0) for w in workload.values()))),
                         (words["sessions"], f"{panels.get('open', 0)} / {panels.get('closed', 0)}")]
        from ..values import SubjectOutcomeView

        subjects = [SubjectOutcomeView(self.names.subjects[s] if not self.identified else s,
                                       subject_endpoints(p, cases))
                    for s, cases in sorted(self.by_subject.items(),
                                           key=lambda kv: self.names.subjects[kv[0]])]
        labels = {f.id: f.label_in(lang) for f in p.findings}
        labels.update({k: p.label_for(k, lang) for k in p.keys()})
        values = {tp: p.timepoint_label(tp, lang) for tp in p.timepoints}
        for finding in p.findings:
            for f in finding.fields:
                if f.id == "severity":
                    values.update({str(c.value): c.label_in(lang) for c in f.choices})
        job = ReportJob(
            dict(title=p.title_in(lang), generated=f"ioreview {ioreview.__version__} · audit "
                 f"head {self.audit_head[:16]}…", summary=summary, adjudication=adjudication,
                 subjects=subjects, finding_labels=labels,
                 key_images=self._key_images(KeyImage), language=language,
                 value_labels=values, protocol_id=p.id, protocol_version=p.version,
                 readers_per_case=p.readers_per_case, washout_days=p.rereads.washout_days),
            self.agreement)
        return self.workers.submit(timed, write_report, job, self.out / "report")

    def _key_images(self, key_image: Any, limit: int = 6) -> list[Any]:
        """Up to `limit` images with readers' annotations, from decided or discordant cases
        first, each with every reader's shapes on it."""
        chosen = []
        discordant = {e.case_id for e in self.uow.discordance.current() if e.fields}
        ordered = sorted(self.cases, key=lambda c: (c.id not in discordant,
                                                    self.names.subjects[c.subject],
                                                    c.days_from_insertion or 0))
        for case in ordered:
            shapes: dict[tuple[str, int], list[Any]] = defaultdict(list)
            for r in self.uow.reads.locked([case.id]):
                if r.is_reread:
                    continue
                who = self.names.person(r.reader_id) or ""
                for a in self.uow.reads.annotations(r.read_id, r.version):
                    label = self._label_redacted(a).label
                    shapes[(a.sop_instance_uid, a.frame)].append(
                        (who, a.kind, tuple(a.points), label or a.finding_id or ""))
            for (uid, frame), items in sorted(shapes.items()):
                where = self.uow.dicom.instance_location(uid)
                if where is None:
                    continue
                caption = f"{case.label} · {case.timepoint} · {case.days_from_insertion:+d}" \
                    if case.days_from_insertion is not None else f"{case.label} · {case.timepoint}"
                chosen.append(key_image(where.path, frame, caption, tuple(items)))
                break
            if len(chosen) >= limit:
                break
        return chosen

    def _discordances(self, case: CaseRecord, b: dict[str, Any], w: TableWriter) -> None:
        current = self.uow.discordance.current(case.id)
        if not current:
            return
        ev = current[0]
        readers = [self.names.person(r.reader_id) for r in
                   self.uow.assignments.primary_reads(case.id)]
        for f in ev.fields:
            vals = list(f.values) + [None, None]
            w.write({**b, "field": f.field, "rule": f.rule, "reason": f.reason,
                     "reader_1": readers[0] if readers else None, "value_1": value_text(vals[0]),
                     "reader_2": readers[1] if len(readers) > 1 else None,
                     "value_2": value_text(vals[1])})

    def _adjudications(self, case: CaseRecord, b: dict[str, Any],
                       w: Mapping[str, TableWriter]) -> None:
        for a in self.uow.adjudications.of_case(case.id):
            if a.status == "pending":
                continue
            who = self.names.person(a.adjudicator_id)
            read_owner = {}
            for letter, (rid, _v) in a.letters.items():
                read = self.uow.reads.get(rid)
                read_owner[letter] = self.names.person(read.reader_id) if read else None
            signed = self.uow.signatures.of("adjudication", a.id)
            signature = self.signed_by(signed[-1] if signed else None)
            for d in a.decisions:
                w["adjudication_decisions"].write({
                    **b, "adjudication_id": a.id, "adjudicator": who, "status": a.status,
                    "field": d.field, "choice": d.choice,
                    "accepted_reader": read_owner.get(d.choice), "value": value_text(d.value),
                    "rationale": d.rationale or None, **signature})
            self._annotations(case, b, who, None, None, self.uow.adjudications.annotations(a.id),
                              w["annotations"])

    def _sdtm(self, case: CaseRecord, b: dict[str, Any], reads: Sequence[Any], outcome: Any,
              protocol: Protocol | None, w: TableWriter, seq: dict[str, int],
              values_now: Mapping[int, dict[str, Any]]) -> None:
        """The case's SDTM-style RS rows; `values_now` the values of each read's current
        version (read for the reads table already)."""
        if protocol is None:
            active = self.protocol
            if active is None:
                return
            protocol = active
        final = outcome.as_dict() if outcome is not None else {}
        sources = {v.key: v for v in outcome.values} if outcome is not None else {}
        subject = b["subject"]
        adjudication = self.uow.adjudications.current(case.id)
        letters = {}
        if adjudication is not None and adjudication.status == "decided":
            letters = {letter: rid for letter, (rid, _v) in adjudication.letters.items()}
        decided = {d.field: d for d in adjudication.decisions} if letters else {}

        tests = self._sdtm_tests.setdefault((protocol.id, protocol.version), {})
        visit = {"VISITNUM": self.timepoints.get(case.timepoint), "VISIT": case.timepoint,
                 "RSDY": case.days_from_insertion}

        def row(key: str, value: Any, evaluator: str, evaluator_id: str | None,
                accepted: bool) -> None:
            seq[subject] += 1
            test = tests.get(key)
            if test is None:  # the columns that depend on the field alone, once per field
                test = tests[key] = {
                    "STUDYID": protocol.id, "DOMAIN": "RS",
                    "RSTESTCD": key.replace(".", "")[:8].upper(),
                    "RSTEST": protocol.label_for(key)[:200],
                    "RSCAT": key.split(".")[0].upper() if "." in key else "READ",
                    "RSORRESU": protocol.any_field(key).unit}
            text = value_text(value)
            w.write({**test, **visit, "USUBJID": subject, "RSSEQ": seq[subject],
                     "RSGRPID": case.label, "RSORRES": text, "RSSTRESC": text,
                     "RSSTRESN": _number(value), "RSEVAL": evaluator, "RSEVALID": evaluator_id,
                     "RSACPTFL": "Y" if accepted else None})

        primary = [r for r in reads if not r.is_reread]
        values_of = {r.read_id: values_now[r.read_id] for r in primary}
        for key in protocol.keys():
            src = sources.get(key)
            for r in primary:
                if key not in values_of[r.read_id]:
                    continue
                v = values_of[r.read_id][key]
                accepted = False
                if src is not None:
                    if src.source.value in ("concordant", "majority"):
                        accepted = value_text(v) == value_text(src.value)
                    elif src.source.value == "adjudicator" and key in decided:
                        accepted = letters.get(decided[key].choice) == r.read_id
                row(key, v, "INDEPENDENT ASSESSOR", self.names.person(r.reader_id), accepted)
            if src is not None and src.source.value == "adjudicator" and key in decided \
                    and decided[key].choice == "own":
                row(key, src.value, "ADJUDICATOR", self.names.person(adjudication.adjudicator_id),
                    True)
            if src is not None and src.source.value == "panel":
                row(key, src.value, "ADJUDICATION COMMITTEE", "COMMITTEE", True)
        for key in protocol.committee_keys():
            if key in final:
                row(key, final[key], "ADJUDICATION COMMITTEE", "COMMITTEE", True)

    def _endpoints(self, by_subject: Mapping[str, list[CaseAtTimepoint]], w: TableWriter) -> None:
        if self.protocol is None:
            return
        for subject in sorted(by_subject, key=lambda s: self.names.subjects[s]):
            for e in subject_endpoints(self.protocol, by_subject[subject]):
                w.write({"subject": self.names.subjects[subject], "subject_id": subject,
                         "finding": e.finding, "present_any": e.present_any,
                         "first_timepoint": e.first_timepoint, "first_study_day": e.first_day,
                         "worst_severity": value_text(e.worst_severity),
                         "indeterminate_any": e.indeterminate_any,
                         "cases_final": e.cases_final, "cases_total": e.cases_total})

    def _committee(self, w: Mapping[str, TableWriter]) -> None:
        labels = {c.id: c for c in self.cases}
        for s in self.uow.panels.sessions():
            cases = self.uow.panels.cases(s.id)
            signed = self.uow.signatures.of("panel_session", s.id)
            w["committee_sessions"].write({
                "session_id": s.id, "title": s.title, "chair": self.names.person(s.chair_id),
                "status": s.status, "rule": s.rule, "quorum": s.quorum,
                "members": len(s.members), "present": sum(1 for m in s.members if m[2]),
                "cases": len(cases), "minutes": s.minutes or None,
                **self.signed_by(signed[-1] if signed else None)})
            for v in sorted(self.uow.panels.votes(s.id),
                            key=lambda v: (labels[v.case_id].label, v.field,
                                           self.names.person(v.member_id) or "", v.casting)):
                case = labels[v.case_id]
                w["committee_votes"].write({
                    "session_id": s.id, "subject": self.names.subjects[case.subject],
                    "subject_id": case.subject, "case": case.label, "field": v.field,
                    "member": self.names.person(v.member_id), "casting": v.casting,
                    "value": value_text(v.value), **self.ballot_signature(v.ballot_id)})

    def signed_by(self, s: SignatureRecord | None) -> dict[str, Any]:
        """The signature columns of a signed record (21 CFR 11.50): the signer's printed name
        (identified) or pseudonym, the UTC time (identified only) and the meaning."""
        if s is None:
            return {}
        if self.identified:
            if s.signer_id not in self._printed_names:
                user = self.uow.users.get(s.signer_id)
                self._printed_names[s.signer_id] = user.display_name if user else s.signer
            name = self._printed_names[s.signer_id]
        else:
            name = self.names.person(s.signer_id)
        return {"signer_name": name, "signed_at_utc": s.signed_at,
                "signature_meaning": s.meaning}

    def ballot_signature(self, ballot_id: int) -> dict[str, Any]:
        if ballot_id not in self._ballots:
            signed = self.uow.signatures.of("panel_ballot", ballot_id)
            self._ballots[ballot_id] = self.signed_by(signed[-1] if signed else None)
        return self._ballots[ballot_id]

    def report_for(self) -> AgreementReport | None:
        if self.protocol is None:
            return None
        reads, discordances, adjudications = collect(self.uow, self.names.people)
        return trial_agreement(self.protocol, reads, discordances, adjudications)

    def _agreement(self, w: TableWriter) -> None:
        report = self.agreement or self.report_for()
        if report is None:
            return
        self.agreement = report
        for f in report.fields:
            for fig in f.figures:
                r = fig.result
                w.write({"scope": "inter", "field": f.key, "finding": f.finding,
                         "kind": f.kind, "statistic": fig.name,
                         "value": None if r is None else r.value,
                         "ci_lower": None if r is None else r.ci[0],
                         "ci_upper": None if r is None else r.ci[1],
                         "n": f.n if r is None else r.n,
                         "method": None if r is None else r.method, "note": fig.error})
        for i in report.intra:
            for fig in i.figures:
                r = fig.result
                w.write({"scope": "intra", "reader": i.reader, "field": i.key,
                         "finding": i.key.split(".")[0], "kind": "nominal",
                         "statistic": fig.name, "value": None if r is None else r.value,
                         "ci_lower": None if r is None else r.ci[0],
                         "ci_upper": None if r is None else r.ci[1],
                         "n": i.n if r is None else r.n,
                         "method": None if r is None else r.method, "note": fig.error})

    def _users(self, w: TableWriter) -> None:
        for pid, (role, username, display) in sorted(
                self.names.roles.items(), key=lambda kv: (kv[1][0], int("".join(
                    ch for ch in kv[0] if ch.isdigit()) or 0))):
            w.write({"id": pid, "role": role, "username": username, "display_name": display})

    def _fields(self, w: TableWriter) -> None:
        for version_id in sorted(self.versions_used):
            protocol = self.proto(version_id)
            name = self.version_names.get(version_id)
            items = [(k, fnd.id if fnd else None, f, False) for k, fnd, f in protocol.iter_fields()]
            items += [(COMMITTEE_PREFIX + f.id, None, f, True) for f in protocol.committee_fields]
            for key, finding, f, committee in items:
                base = {"protocol_version": name, "field": key, "finding": finding,
                        "label": f.label, "type": f.type.value, "unit": f.unit,
                        "committee_only": committee}
                if not f.choices:
                    w.write(base)
                for c in f.choices:
                    code = f"{c.code.scheme}:{c.code.value} ({c.code.meaning})" if c.code else None
                    w.write({**base, "value": str(c.value), "value_label": c.label,
                             "code": code})

    def _codebook(self) -> list[Path]:
        """codebook.csv (table, column, type, unit, description) and codebook.html."""
        import csv

        rows = [(t.name, c.name, c.type, c.unit, c.description)
                for t in TABLES.values() for c in t.columns_for(self.identified)]
        csv_path = self.out / "codebook.csv"
        with csv_path.open("w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f, lineterminator="\n")
            writer.writerow(["table", "column", "type", "unit", "description"])
            writer.writerows(rows)
        parts = ["<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">",
                 "<title>ioreview export codebook</title><style>body{font-family:sans-serif;"
                 "margin:2em}table{border-collapse:collapse;margin-bottom:2em}td,th{border:1px "
                 "solid #bbb;padding:3px 8px;text-align:left;vertical-align:top}"
                 "th{background:#eee}</style></head><body>",
                 "<h1>Codebook</h1><p>Every table of this export with its columns, types and "
                 "units. Missing values are <code>NA</code> in CSV and null in Parquet and JSON. "
                 "The allowed values of each read-form field, with their codes, are in the "
                 "<code>fields</code> table.</p>"]
        if not self.identified:
            columns = ", ".join(f"<code>{t}.{c}</code>" for t, cs in FREE_TEXT_COLUMNS.items()
                                for c in cs)
            parts.append(f"<p>De-identified export: in free text ({columns}) every patient name "
                         "(all its forms), patient ID, accession number, institution and "
                         "referring physician the index holds, and every calendar date, is "
                         f"replaced by <code>{MARKER}</code>; annotation labels in the DICOM SR "
                         "and the report likewise. <code>manifest.json</code> counts the "
                         "replacements (<code>redactions</code>).</p>")
        for t in TABLES.values():
            parts.append(f"<h2 id=\"{t.name}\">{html.escape(t.name)}</h2>"
                         f"<p>{html.escape(t.description)}</p><table><tr><th>column</th>"
                         "<th>type</th><th>unit</th><th>description</th></tr>")
            for c in t.columns_for(self.identified):
                parts.append(f"<tr><td><code>{html.escape(c.name)}</code></td><td>{c.type}</td>"
                             f"<td>{html.escape(c.unit)}</td><td>{html.escape(c.description)}"
                             "</td></tr>")
            parts.append("</table>")
        if self.protocol is not None:
            parts.append("<h2>Read-form fields</h2><table><tr><th>field</th><th>type</th>"
                         "<th>unit</th><th>allowed values (code)</th></tr>")
            for key, _fnd, f in self.protocol.iter_fields():
                allowed = "; ".join(
                    f"{c.value} = {c.label}" + (f" ({c.code.scheme}:{c.code.value})"
                                                if c.code else "") for c in f.choices)
                parts.append(f"<tr><td><code>{html.escape(key)}</code><br>"
                             f"{html.escape(self.protocol.label_for(key))}</td>"
                             f"<td>{f.type.value}</td><td>{html.escape(f.unit or '')}</td>"
                             f"<td>{html.escape(allowed)}</td></tr>")
            parts.append("</table>")
        parts.append("</body></html>\n")
        html_path = self.out / "codebook.html"
        html_path.write_text("".join(parts), encoding="utf-8")
        return [csv_path, html_path]
