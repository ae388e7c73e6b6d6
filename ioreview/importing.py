"""Importing DICOM files, folders, zip archives and DICOMDIRs into the store.

`import_paths` is the use case behind "ioreview import" and the import dialog (the service
layer checks roles; this module does not).  Every input file ends up in the import log as
imported, duplicate (its SOP Instance UID is already indexed), skipped (a DICOMDIR index) or
rejected with a reason; one bad file never stops an import.  Files are written in batches of
`BATCH_SIZE`, each batch one transaction holding its instances, their import-log rows and
their audit records, so an import killed midway leaves a consistent database and running it
again completes it.
"""
from __future__ import annotations

import atexit
import concurrent.futures as cf
import hashlib
import itertools
import multiprocessing
import os
import shutil
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from ioreview.imaging.header import InstanceHeader
from ioreview.imaging.scan import (DICOMDIR_REASON, ScanError, clean_text,
                                   dicomdir_referenced_files, is_dicomdir, scan)
from ioreview.recovery import EXTRACT_PREFIX, mark_archive_writer, owner_token, process_owner
from ioreview.store import dicom_index
from ioreview.store import TrialStore as Store
from ioreview.store import UnitOfWork as Transaction
from ioreview.store.dicom_index import (Duplicate, IndexWriter, begin_import_run,
                                        close_interrupted_import_run, counts, finish_import_run,
                                        record_import_files)

if TYPE_CHECKING:  # the masking code (numpy, pydicom) loads only when a copy is masked
    from ioreview.imaging.burned_in import MaskRectangle

__all__ = ["BATCH_SIZE", "POOL_THRESHOLD", "READER_COPIES_DIR", "ArchiveLimits", "Duplicate",
           "ImportSummary", "ReaderCopyFile", "Rejected", "archive_reader_copy", "import_paths"]

#: files per transaction
BATCH_SIZE = 500
#: kept for callers of older versions: the file count no longer decides (see `_pool_pays`)
POOL_THRESHOLD = 1500
#: with SHA-256 on, imports of more bytes than this scan in a process pool
POOL_HASH_BYTES = 512 * 1024 * 1024
#: files per task sent to a pool worker
_POOL_CHUNK = 250
#: minimum seconds between progress reports
_PROGRESS_INTERVAL = 0.05
_SKIPPED_DICOMDIR = "DICOMDIR index"

ProgressFn = Callable[[int, int], None]


@dataclass(frozen=True)
class Rejected:
    """An input file that was not imported, and why."""

    path: str
    reason: str


@dataclass
class ImportSummary:
    """What one import did; `totals` are the counts of the whole database afterwards."""

    run_id: int
    files_seen: int = 0
    imported: int = 0
    duplicates: list[Duplicate] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    skipped: list[Rejected] = field(default_factory=list)
    #: imported files the DICOM library warned about (invalid values, undecodable text)
    warned: list[Rejected] = field(default_factory=list)
    new_patients: int = 0
    new_studies: int = 0
    new_series: int = 0
    totals: dict[str, int] = field(default_factory=dict)
    elapsed_s: float = 0.0

    def to_json_dict(self) -> dict[str, Any]:
        """Plain data for `ioreview import --json` and the import run's stored summary."""
        return {
            "run_id": self.run_id,
            "files_seen": self.files_seen,
            "imported": self.imported,
            "duplicates": len(self.duplicates),
            "rejected_count": len(self.rejected),
            "skipped_count": len(self.skipped),
            "warned_count": len(self.warned),
            "new": {"patients": self.new_patients, "studies": self.new_studies,
                    "series": self.new_series},
            "totals": dict(self.totals),
            "elapsed_s": round(self.elapsed_s, 3),
            "rejected": [{"path": r.path, "reason": r.reason} for r in self.rejected],
            "skipped": [{"path": r.path, "reason": r.reason} for r in self.skipped],
            "warned": [{"path": r.path, "reason": r.reason} for r in self.warned],
        }


# -- collecting the input files ---------------------------------------------------------------------
@dataclass(frozen=True)
class ArchiveLimits:
    """Limits on what one zip member may expand to: a member larger than `max_member_bytes`
    uncompressed, or more than `max_ratio` times its compressed size, is refused (a zip bomb
    would otherwise fill the disk before anything is checked).  `ArchiveLimits.off()` lifts
    them (`ioreview import --no-archive-limits`)."""

    max_member_bytes: int | None = 2 << 30
    max_ratio: float | None = 200.0

    @classmethod
    def off(cls) -> ArchiveLimits:
        return cls(None, None)


class _OverLimit(Exception):
    """A zip member would expand beyond the archive limits; the message says which."""


@dataclass(frozen=True)
class _Inputs:
    files: list[str]
    rejected: list[Rejected]
    skipped: list[Rejected]
    cleanup: list[Path]
    #: extracted zip member -> "archive.zip!member", how the import log names it
    members: dict[str, str] = field(default_factory=dict)


def _walk_folder(folder: Path) -> Iterator[Path]:
    """Files under `folder`, recursively and in a stable order, skipping hidden folders."""
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            yield Path(root) / name


def _safe_member(name: str) -> PurePosixPath | None:
    """A zip member's relative path, or None when it could escape the extraction folder."""
    p = PurePosixPath(name.replace("\\", "/"))
    if p.is_absolute() or not p.parts or ".." in p.parts or ":" in p.parts[0]:
        return None
    return p


def _file_sha256(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _gib(n: int) -> str:
    return f"{n / (1 << 30):.1f} GiB" if n >= 1 << 30 else f"{n / (1 << 20):.1f} MiB"


def _check_declared(info: zipfile.ZipInfo, limits: ArchiveLimits) -> None:
    """Refuse a member on the sizes its header declares (before extracting anything)."""
    if limits.max_member_bytes is not None and info.file_size > limits.max_member_bytes:
        raise _OverLimit(f"expands to {_gib(info.file_size)}, more than the "
                         f"{_gib(limits.max_member_bytes)} a member may take")
    if limits.max_ratio is not None and info.file_size > 1 << 20 \
            and info.file_size > limits.max_ratio * max(info.compress_size, 1):
        raise _OverLimit(f"expands {info.file_size / max(info.compress_size, 1):.0f} times "
                         f"(more than {limits.max_ratio:.0f}: a zip bomb?)")


def _copy_member(src: Any, dst: Any, info: zipfile.ZipInfo, limits: ArchiveLimits) -> None:
    """Stream a member out, counting what it really expands to (its header may lie)."""
    cap = limits.max_member_bytes
    ratio_cap = None if limits.max_ratio is None else \
        max(limits.max_ratio * max(info.compress_size, 1), 1 << 20)
    written = 0
    while True:
        chunk = src.read(1 << 20)
        if not chunk:
            return
        written += len(chunk)
        if cap is not None and written > cap:
            raise _OverLimit(f"expands to more than the {_gib(cap)} a member may take")
        if ratio_cap is not None and written > ratio_cap:
            raise _OverLimit(f"expands more than {limits.max_ratio:.0f} times its compressed "
                             "size (a zip bomb?)")
        dst.write(chunk)


def _extract_zip(archive: Path, dest: Path, out: list[str], rejected: list[Rejected],
                 members: dict[str, str], limits: ArchiveLimits) -> None:
    """Stream the members of `archive` into `dest` (a temporary folder), each within
    `limits`; unsafe member paths and members over the limits are rejected with a reason."""
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as exc:
        rejected.append(Rejected(str(archive), f"not a readable zip archive ({exc})"))
        return
    with zf:
        for info in zf.infolist():
            if info.is_dir():
                continue
            label = f"{archive}!{info.filename}"
            rel = _safe_member(info.filename)
            if rel is None:
                rejected.append(Rejected(label, "unsafe path in zip archive (absolute or '..')"))
                continue
            target = dest.joinpath(*rel.parts)
            try:
                _check_declared(info, limits)
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src, open(target, "wb") as dst:
                    _copy_member(src, dst, info, limits)
            except _OverLimit as exc:
                target.unlink(missing_ok=True)
                rejected.append(Rejected(label, f"zip member {exc}; refused (import it with "
                                                "--no-archive-limits if you trust the archive)"))
                continue
            except (zipfile.BadZipFile, OSError, RuntimeError, EOFError, ValueError) as exc:
                target.unlink(missing_ok=True)
                rejected.append(Rejected(label, f"unreadable zip member ({exc})"))
                continue
            out.append(str(target))
            members[str(target)] = label


def _collect(paths: Sequence[str | Path], zip_archive: Path | None, limits: ArchiveLimits
             ) -> _Inputs:
    """The input files, in order.  Zip members are extracted into a temporary folder in
    `zip_archive` (where they will be archived; listed in `cleanup` for removal)."""
    files: list[str] = []
    rejected: list[Rejected] = []
    skipped: list[Rejected] = []
    cleanup: list[Path] = []
    members: dict[str, str] = {}
    extract_root: Path | None = None

    def add_file(p: Path) -> None:
        nonlocal extract_root
        if p.suffix.lower() == ".zip" and zipfile.is_zipfile(p):
            if zip_archive is None:
                rejected.append(Rejected(str(p), "no archive folder to import the zip into: "
                                         "import it with --copy or configure --archive"))
                return
            if extract_root is None:
                zip_archive.mkdir(parents=True, exist_ok=True)
                mark_archive_writer(zip_archive)  # a crash from here on is seen at next start
                extract_root = Path(tempfile.mkdtemp(
                    prefix=f"{EXTRACT_PREFIX}{owner_token()}-", dir=zip_archive))
                cleanup.append(extract_root)
            dest = extract_root / f"{len(cleanup)}-{len(members)}"
            _extract_zip(p, dest, files, rejected, members, limits)
        else:
            files.append(str(p))

    try:
        for raw in paths:
            p = Path(raw)
            if p.is_dir():
                for f in _walk_folder(p):
                    add_file(f)
            elif not p.exists():
                rejected.append(Rejected(str(p), "not found"))
            elif p.name.upper() == "DICOMDIR" or p.suffix.lower() != ".zip" and is_dicomdir(p):
                try:
                    referenced = dicomdir_referenced_files(p)
                except ScanError as exc:
                    rejected.append(Rejected(str(p), exc.reason))
                    continue
                skipped.append(Rejected(str(p), _SKIPPED_DICOMDIR))
                files.extend(str(f) for f in referenced)
            else:
                add_file(p)
    except BaseException:
        for folder in cleanup:
            shutil.rmtree(folder, ignore_errors=True)
        raise

    seen = {os.path.abspath(s.path) for s in skipped}
    unique: list[str] = []
    for f in files:
        key = os.path.abspath(f)
        if key not in seen:
            seen.add(key)
            unique.append(f)
    return _Inputs(unique, rejected, skipped, cleanup, members)


# -- scanning ------------------------------------------------------------------------------------------
#: (path, header or None, why it was refused, the library's warnings while reading it)
_Scanned = tuple[str, InstanceHeader | None, str | None, tuple[str, ...]]


def _scan_one(path: str, with_sha256: bool) -> _Scanned:
    try:
        result = scan(path, with_sha256=with_sha256)
    except ScanError as exc:
        return path, None, exc.reason, ()
    if result.pixel_problems:
        return path, None, clean_text(result.pixel_reason, 1000), result.notes
    return path, result.header, None, result.notes


def _scan_chunk(paths: list[str], with_sha256: bool) -> list[_Scanned]:
    """Pool task: scan a chunk of files (module level so spawn/forkserver can pickle it)."""
    return [_scan_one(p, with_sha256) for p in paths]


_POOLS: dict[int, cf.ProcessPoolExecutor] = {}


def _pool(workers: int) -> cf.ProcessPoolExecutor:
    """A process pool created once and reused; forkserver (or spawn) because fork is unsafe
    once Qt threads run."""
    pool = _POOLS.get(workers)
    if pool is None:
        methods = multiprocessing.get_all_start_methods()
        ctx = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
        pool = cf.ProcessPoolExecutor(max_workers=workers, mp_context=ctx)
        if not _POOLS:
            atexit.register(_shutdown_pools)
        _POOLS[workers] = pool
    return pool


def _shutdown_pools() -> None:
    """Stop the scan pools when the interpreter exits, while the modules they use still exist
    (an executor left to the interpreter's last clean-up reports "Exception ignored in ...
    weakref_cb")."""
    while _POOLS:
        _POOLS.popitem()[1].shutdown(wait=True, cancel_futures=True)


def _pool_pays(files: list[str], with_sha256: bool, n_workers: int) -> bool:
    """Scan in worker processes only where that was measured faster: when many bytes are to
    be hashed (SHA-256 costs ~1 ms per MB on one core).  Header scans alone are faster
    in-process whatever the number of files (benchmarks/bench_import.py: ~8,200 files/s
    in-process against ~3,400 through a warm 2-process pool, which pays for pickling every
    result)."""
    if n_workers <= 1 or len(files) < 2 * _POOL_CHUNK:
        return False
    if not with_sha256:
        return False
    total = 0
    for p in files:
        try:
            total += os.stat(p).st_size
        except OSError:
            continue
        if total > POOL_HASH_BYTES:
            return True
    return False


def _scan_batches(files: list[str], with_sha256: bool, workers: int | None,
                  tick: Callable[[int], None]) -> Iterator[list[_Scanned]]:
    """Scan results in input order, `BATCH_SIZE` files at a time."""
    n_workers = workers if workers is not None else (os.cpu_count() or 1)
    if not _pool_pays(files, with_sha256, n_workers):
        for start in range(0, len(files), BATCH_SIZE):
            batch = []
            for p in files[start:start + BATCH_SIZE]:
                batch.append(_scan_one(p, with_sha256))
                if len(batch) % 32 == 0:
                    tick(32)
            tick(len(batch) % 32)
            yield batch
        return
    pool = _pool(n_workers)
    futures = [pool.submit(_scan_chunk, files[i:i + _POOL_CHUNK], with_sha256)
               for i in range(0, len(files), _POOL_CHUNK)]
    try:
        batch: list[_Scanned] = []
        for fut in futures:
            chunk = fut.result()
            tick(len(chunk))
            batch.extend(chunk)
            if len(batch) >= BATCH_SIZE:
                yield batch
                batch = []
        if batch:
            yield batch
    finally:
        for fut in futures:
            fut.cancel()


# -- archiving -------------------------------------------------------------------------------------------
def archive_path(archive: Path, sha256: str) -> Path:
    """Content-addressed location of a file in the archive."""
    return archive / sha256[:2] / f"{sha256}.dcm"


def _archive_file(source: Path, sha256: str, archive: Path, *, move: bool = False) -> Path:
    """Copy (or, for a temporary file of ours, `move`) a file to its content-addressed path:
    written under a `.part` name that names this process, then `os.replace`d, so the final
    name never holds half a file and a crash's leftovers are recognisable (`recovery`)."""
    target = archive_path(archive, sha256)
    mark_archive_writer(archive)  # before looking: recovery must see a writer at work
    if not (target.is_file() and target.stat().st_size == source.stat().st_size):
        target.parent.mkdir(parents=True, exist_ok=True)
        if move:
            try:
                os.replace(source, target)
                return target
            except OSError:
                pass  # another file system: copy
        tmp = target.with_name(f".{target.name}.{owner_token()}.part")
        try:
            shutil.copyfile(source, tmp)
            os.replace(tmp, target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    return target


def _archive(header: InstanceHeader, archive: Path, *, move: bool = False) -> InstanceHeader:
    sha = header.sha256 or _file_sha256(Path(header.path))
    target = _archive_file(Path(header.path), sha, archive, move=move)
    return replace(header, path=str(target), sha256=sha)


def archive_series(tx: Transaction, series_pks: Sequence[int], archive: Path) -> int:
    """Copy the referenced (not yet archived) instances of these series into the
    content-addressed archive and index them there, inside the caller's transaction.

    Readers receive file paths with the headers they view; archive paths are content hashes,
    so source folder names (which often carry patient IDs or names) never reach a reader.
    A file whose content no longer matches the checksum recorded at import is refused.
    Returns the number of files archived.
    """
    n = 0
    for row in dicom_index.unarchived_instances(tx, list(series_pks)):
        source = Path(row.path)
        try:
            sha = _file_sha256(source)
        except OSError as exc:
            raise ArchiveError(f"{source}: cannot read the imported file ({exc.strerror}); "
                               "restore it or re-import the study") from exc
        if row.sha256 and row.sha256 != sha:
            raise ArchiveError(f"{source}: the file changed since it was imported "
                               "(checksum mismatch); re-import it after checking why")
        header = _archive_file(source, sha, archive)
        dicom_index.set_instance_archived(tx, row.id, str(header), sha)
        tx.audit("archive", "instance", row.sop_instance_uid,
                 before={"path": row.path}, after={"path": str(header), "sha256": sha})
        n += 1
    return n


class ArchiveError(Exception):
    """An imported file cannot be copied into the archive (missing, unreadable, changed)."""


#: Folder of the archive holding de-identified reader copies (content-addressed below it).
READER_COPIES_DIR = "readers"


@dataclass(frozen=True)
class ReaderCopyFile:
    """A de-identified reader copy written into the archive: where, its bytes' SHA-256, its
    header as scanned from the copy (copy UIDs, copy pixel offsets) and the UIDs replaced."""

    path: str
    sha256: str
    header: InstanceHeader
    replaced_uids: dict[str, str]


def archive_reader_copy(source: str | Path, archive: Path, *, uid_map: Callable[[str], str],
                        date_offset_days: int | None, patient_label: str,
                        rectangles: Sequence[MaskRectangle] = (),
                        pixels_checked: bool = False) -> ReaderCopyFile:
    """Write the de-identified copy of an archived original (`deid.reader_copy_bytes`, the
    one policy) to `<archive>/readers/<sha[:2]>/<sha256>.dcm`: the name is the hash of the
    copy's own bytes, so copies with other UIDs (a hidden re-read's) have other paths, and no
    path says which original it came from.  Raises ArchiveError with what to do."""
    from ioreview.imaging.deid import DeidentificationRefused, UnreadableHeader, reader_copy_bytes

    replaced: dict[str, str] = {}

    def recording(uid: str) -> str:
        new = uid_map(uid)
        replaced[uid] = new
        return new

    try:
        data = reader_copy_bytes(source, uid_map=recording, date_offset_days=date_offset_days,
                                 patient_label=patient_label, rectangles=rectangles,
                                 pixels_checked=pixels_checked)
    except UnreadableHeader as exc:
        raise ArchiveError(f"{exc}; the reader copy cannot be made") from exc
    except (DeidentificationRefused, ValueError) as exc:
        raise ArchiveError(f"{source}: {exc}") from exc
    sha = hashlib.sha256(data).hexdigest()
    root = archive / READER_COPIES_DIR
    target = archive_path(root, sha)
    mark_archive_writer(archive)
    if not (target.is_file() and target.stat().st_size == len(data)):
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{owner_token()}.part")
        try:
            with open(tmp, "wb") as f:
                f.write(data)
            os.replace(tmp, target)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
    try:
        header = scan(target, with_sha256=False).header
    except ScanError as exc:
        raise ArchiveError(f"{source}: its reader copy cannot be read back ({exc})") from exc
    return ReaderCopyFile(str(target), sha, replace(header, sha256=sha), replaced)


# -- the use case ------------------------------------------------------------------------------------------
def import_paths(store: Store, actor: str, paths: Sequence[str | Path], *,
                 copy_to: Path | None = None, progress: ProgressFn | None = None,
                 workers: int | None = None, with_sha256: bool = True,
                 archive_root: str | Path | None = None,
                 archive_limits: ArchiveLimits = ArchiveLimits()) -> ImportSummary:
    """Import files, folders (recursive), zip archives and DICOMDIRs; return what happened.

    With `copy_to`, each imported file is copied to `<copy_to>/<sha[:2]>/<sha256>.dcm` and
    indexed there (archived); otherwise files are indexed where they are.  Zip members are
    streamed into a temporary folder of the archive (`copy_to`, else `archive_root`, else
    the store's default archive), each within `archive_limits`, archived from there, and the
    folder is removed on success, failure and interruption alike.  Re-importing adds nothing:
    instances already indexed are reported as duplicates.  `progress(done, total)` is called
    a few dozen times per second at most; an exception it raises stops the import after the
    last committed batch, and the run is closed as interrupted.
    """
    t0 = time.perf_counter()
    copy_to = None if copy_to is None else Path(copy_to)
    if copy_to is not None:
        with_sha256 = True
    archive_root = store.default_archive_root if archive_root is None else Path(archive_root)
    zip_archive = copy_to if copy_to is not None else archive_root
    inputs = _collect(paths, zip_archive, archive_limits)
    try:
        return _run(store, actor, paths, inputs, copy_to, zip_archive, progress, workers,
                    with_sha256, t0)
    finally:
        for folder in inputs.cleanup:
            shutil.rmtree(folder, ignore_errors=True)


def _run(store: Store, actor: str, paths: Sequence[str | Path], inputs: _Inputs,
         copy_to: Path | None, zip_archive: Path | None, progress: ProgressFn | None,
         workers: int | None, with_sha256: bool, t0: float) -> ImportSummary:
    with store.unit_of_work(actor) as tx:
        run_id = begin_import_run(tx, [str(p) for p in paths],
                                  "copy" if copy_to is not None else "reference",
                                  owner=process_owner())
        record_import_files(tx, run_id, [(r.path, "rejected", r.reason, None)
                                         for r in inputs.rejected])
        record_import_files(tx, run_id, [(s.path, "skipped", s.reason, None)
                                         for s in inputs.skipped])
    try:
        return _import_files(store, actor, run_id, inputs, copy_to, zip_archive, progress,
                             workers, with_sha256, t0)
    except BaseException:
        # Ctrl-C, a failing progress callback, a lost database: what was committed stays,
        # and the run says it was interrupted (a crash is closed by the next start)
        try:
            with store.unit_of_work(actor) as tx:
                close_interrupted_import_run(tx, run_id)
        except Exception:  # noqa: BLE001 - the original error is the one to report
            pass
        raise


def _import_files(store: Store, actor: str, run_id: int, inputs: _Inputs,
                  copy_to: Path | None, zip_archive: Path | None, progress: ProgressFn | None,
                  workers: int | None, with_sha256: bool, t0: float) -> ImportSummary:
    summary = ImportSummary(run_id, rejected=list(inputs.rejected), skipped=list(inputs.skipped))
    total = len(inputs.files)
    summary.files_seen = total + len(inputs.rejected) + len(inputs.skipped)
    done = 0
    last_report = 0.0

    def tick(n: int) -> None:
        nonlocal done, last_report
        done += n
        if progress is None:
            return
        now = time.perf_counter()
        if now - last_report >= _PROGRESS_INTERVAL or done >= total:
            last_report = now
            progress(done, total)

    if progress is not None:
        progress(0, total)
    writer = IndexWriter(run_id)
    for batch in _scan_batches(inputs.files, with_sha256, workers, tick):
        _write_batch(store, actor, writer, batch, copy_to, zip_archive, inputs.members, summary)
    summary.totals = counts(store)
    summary.elapsed_s = time.perf_counter() - t0
    with store.unit_of_work(actor) as tx:
        finish_import_run(tx, run_id, summary.to_json_dict())
    return summary


def _write_batch(store: Store, actor: str, writer: IndexWriter, batch: list[_Scanned],
                 copy_to: Path | None, zip_archive: Path | None, members: dict[str, str],
                 summary: ImportSummary) -> None:
    """One transaction: the batch's instances, its import-log rows and audit records.  Files
    are archived first (copied with `copy_to`; zip members always, moved out of their
    temporary folder)."""
    def name(path: str) -> str:
        return members.get(path, path)

    headers: list[InstanceHeader] = []
    log: list[tuple[str, str, str | None, str | None]] = []
    rejected: list[Rejected] = []
    skipped: list[Rejected] = []
    notes: dict[str, str] = {}
    for path, header, reason, warned in batch:
        if header is not None:
            headers.append(header)
            if warned:
                notes.setdefault(header.sop_instance_uid,
                                 "DICOM library warnings: " + " | ".join(warned))
        elif reason == DICOMDIR_REASON:
            skipped.append(Rejected(name(path), _SKIPPED_DICOMDIR))
            log.append((name(path), "skipped", _SKIPPED_DICOMDIR, None))
        else:
            rejected.append(Rejected(name(path), reason or "unreadable"))
            log.append((name(path), "rejected", reason, None))
    # Files are copied into the archive before the write transaction, which then only
    # inserts rows: writers wait for each other's transactions, not for each other's copies.
    # A crash in between leaves archive files no row references (`recovery` removes them).
    rows: list[tuple[InstanceHeader, bool]] = []  # (header, archived), in input order
    archiving = copy_to is not None or any(h.path in members for h in headers)
    existing: dict[str, str] = {}
    if archiving:
        with store.unit_of_work(actor, write=False) as tx:
            existing = IndexWriter.existing_paths(tx, [h.sop_instance_uid for h in headers])
    for h in headers:
        target = copy_to if copy_to is not None else (
            zip_archive if h.path in members else None)
        if target is None:
            rows.append((h, False))
            existing.setdefault(h.sop_instance_uid, h.path)  # the first file of a UID wins
            continue
        if h.sop_instance_uid in existing:
            rows.append((h, True))  # a duplicate: reported, not copied
            continue
        try:
            a = _archive(h, target, move=h.path in members)
        except OSError as exc:
            rejected.append(Rejected(name(h.path), f"could not copy to the archive ({exc})"))
            log.append((name(h.path), "rejected", rejected[-1].reason, None))
            continue
        existing[h.sop_instance_uid] = a.path
        rows.append((a, True))
    with store.unit_of_work(actor) as tx:
        inserted: list[InstanceHeader] = []
        duplicates: list[Duplicate] = []
        new = [0, 0, 0]
        for flag, group in itertools.groupby(rows, key=lambda r: r[1]):
            result = writer.insert(tx, [h for h, _ in group], archived=flag)
            inserted += result.inserted
            duplicates += result.duplicates
            new = [new[0] + result.new_patients, new[1] + result.new_studies,
                   new[2] + result.new_series]
        log.extend((h.path, "imported", notes.get(h.sop_instance_uid), h.sop_instance_uid)
                   for h in inserted)
        log.extend((name(d.path), "duplicate", f"already indexed as {d.existing_path}",
                    d.sop_instance_uid) for d in duplicates)
        record_import_files(tx, writer.run_id, log)
    summary.imported += len(inserted)
    summary.warned.extend(Rejected(h.path, notes[h.sop_instance_uid]) for h in inserted
                          if h.sop_instance_uid in notes)
    summary.duplicates.extend(replace(d, path=name(d.path)) for d in duplicates)
    summary.rejected.extend(rejected)
    summary.skipped.extend(skipped)
    summary.new_patients += new[0]
    summary.new_studies += new[1]
    summary.new_series += new[2]
