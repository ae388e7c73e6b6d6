"""Recovery after a crash: what a process killed mid-import or mid-copy leaves behind is put
right the next time a trial is opened.

A process that dies without cleaning up (SIGKILL, power loss) can leave an import run that
never finished, `.part` files half-copied into the content-addressed archive, a temporary
folder of extracted zip members, and archive files copied for a batch whose transaction never
committed (no row references them).  Each writer therefore says who it is: an import run
records its owner (host, process id and the process's start time, so a reused process id is
not mistaken for the owner), `.part` files and extraction folders carry the owner's token in
their names, and a process writing into the archive leaves a marker in `<archive>/.writers/`
that it removes when it exits.  At the next start `recover` closes the runs of owners that are
gone as interrupted, and, when there is evidence of a crash (such a run, or a marker of a
process that is gone), removes their `.part` files and extraction folders and lists the archive
files no committed row references (originals in `<archive>/xx/`, de-identified reader copies in
`<archive>/readers/xx/`, written before the transaction that records them commits); those are
deleted when no other writer is alive, else only once they are older than `ORPHAN_GRACE_S` (a
live writer's files belong to a transaction that has not committed yet).  Owners on other hosts (a shared archive) are never judged dead, only
their leftovers older than `STALE_S`.
"""
from __future__ import annotations

import atexit
import os
import re
import shutil
import socket
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from ioreview.store import TrialStore
from ioreview.store import dicom_index

__all__ = ["ORPHAN_GRACE_S", "STALE_S", "RecoveryReport", "mark_archive_writer",
           "owner_alive", "owner_token", "process_owner", "recover"]

#: archive files no row references are deleted only after this long while a writer is alive
ORPHAN_GRACE_S = 15 * 60.0
#: leftovers of owners that cannot be checked (another host) are removed after this long
STALE_S = 24 * 3600.0
WRITERS_DIR = ".writers"
EXTRACT_PREFIX = ".extract-"
#: where reader copies live under the archive (`ioreview.importing.READER_COPIES_DIR`)
READER_COPIES_DIR = "readers"
_ARCHIVE_NAME = re.compile(r"^[0-9a-f]{64}\.dcm$")


@lru_cache(maxsize=1)
def _host() -> str:
    # no '-' or '.': they separate the parts of tokens in file names
    return re.sub(r"[^A-Za-z0-9_]", "_", socket.gethostname() or "host")[:60]


def _start_time(pid: int) -> str:
    """The process's start time in clock ticks since boot (Linux), or "" when unknown."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read().decode("ascii", "replace")
    except OSError:
        return ""
    # the command name (field 2) is in parentheses and may hold spaces
    return stat.rsplit(")", 1)[-1].split()[19]


def process_owner() -> dict[str, Any]:
    """Who this process is: host, process id and start time."""
    pid = os.getpid()
    return {"host": _host(), "pid": pid, "start": _start_time(pid)}


def owner_token(owner: dict[str, Any] | None = None) -> str:
    """The owner as a file-name fragment: host-pid-start."""
    o = owner or process_owner()
    return f"{o['host']}-{o['pid']}-{o['start'] or 'x'}"


def _parse_token(token: str) -> dict[str, Any] | None:
    m = re.match(r"^(?P<host>[A-Za-z0-9_]+)-(?P<pid>\d+)-(?P<start>\d+|x)$", token)
    if m is None:
        return None
    start = m["start"]
    return {"host": m["host"], "pid": int(m["pid"]), "start": "" if start == "x" else start}


def owner_alive(owner: dict[str, Any] | None) -> bool | None:
    """True when the owner process is running, False when it is gone, None when it cannot be
    told (another host, or no owner recorded)."""
    if not owner or owner.get("host") != _host():
        return None
    try:
        pid = int(owner["pid"])
    except (KeyError, TypeError, ValueError):
        return None
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by another user
    start = str(owner.get("start") or "")
    if start and _start_time(pid) not in ("", start):
        return False  # the process id was reused
    return True


# -- writer markers --------------------------------------------------------------------------------
_MARKED: set[Path] = set()


def mark_archive_writer(archive_root: Path) -> None:
    """Leave this process's marker in the archive before writing into it (once per process
    and archive); it is removed when the process exits normally."""
    root = Path(archive_root)
    if root in _MARKED:
        return
    folder = root / WRITERS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    marker = folder / owner_token()
    marker.touch()
    _MARKED.add(root)
    atexit.register(_unmark, marker)


def _unmark(marker: Path) -> None:
    try:
        marker.unlink()
    except OSError:
        pass


@dataclass
class RecoveryReport:
    """What `recover` found and did."""

    interrupted_runs: list[int] = field(default_factory=list)
    removed_partials: list[str] = field(default_factory=list)
    removed_extractions: list[str] = field(default_factory=list)
    orphans: list[str] = field(default_factory=list)
    removed_orphans: list[str] = field(default_factory=list)

    @property
    def anything(self) -> bool:
        return bool(self.interrupted_runs or self.removed_partials or self.removed_extractions
                    or self.orphans)

    def summary(self) -> str:
        """One line for a terminal (empty when nothing was found)."""
        parts = []
        if self.interrupted_runs:
            parts.append(f"closed {len(self.interrupted_runs)} interrupted import run(s) "
                         f"({', '.join(map(str, self.interrupted_runs))})")
        if self.removed_partials:
            parts.append(f"removed {len(self.removed_partials)} partly copied file(s)")
        if self.removed_extractions:
            parts.append(f"removed {len(self.removed_extractions)} temporary extraction "
                         "folder(s)")
        if self.orphans:
            kept = len(self.orphans) - len(self.removed_orphans)
            parts.append(f"found {len(self.orphans)} archive file(s) no record references, "
                         f"removed {len(self.removed_orphans)}"
                         + (f" (kept {kept} another process may still commit)" if kept else ""))
        return ("recovered after an interrupted session: " + "; ".join(parts)) if parts else ""


def _age(path: Path, now: float) -> float:
    try:
        return now - path.stat().st_mtime
    except OSError:
        return 0.0


def _dead(token_owner: dict[str, Any] | None, path: Path, now: float) -> bool:
    """A leftover whose owner is gone, or (owner unknown) older than STALE_S."""
    alive = owner_alive(token_owner)
    if alive is None:
        return _age(path, now) > STALE_S
    return not alive


def _writers(root: Path, now: float) -> tuple[list[Path], int]:
    """The markers of writers that are gone, and how many other writers are alive."""
    dead: list[Path] = []
    live = 0
    folder = root / WRITERS_DIR
    if folder.is_dir():
        for marker in folder.iterdir():
            if marker.name == owner_token():
                continue
            if _dead(_parse_token(marker.name), marker, now):
                dead.append(marker)
            else:
                live += 1
    return dead, live


def _part_owner(name: str) -> dict[str, Any] | None:
    # .<sha>.dcm.<token>.part
    stem = name[:-len(".part")]
    return _parse_token(stem.rsplit(".", 1)[-1]) if "." in stem else None


def _archive_files(folder: Path, now: float, report: RecoveryReport) -> list[Path]:
    """The archive files in the two-character folders of `folder`; `.part` files of owners
    that are gone are removed on the way."""
    candidates: list[Path] = []
    if not folder.is_dir():
        return candidates
    for sub in folder.iterdir():
        if not sub.is_dir() or len(sub.name) != 2 or sub.name.startswith("."):
            continue
        for entry in sub.iterdir():
            if entry.name.endswith(".part"):
                if _dead(_part_owner(entry.name), entry, now):
                    try:
                        entry.unlink()
                        report.removed_partials.append(str(entry))
                    except OSError:
                        pass
            elif _ARCHIVE_NAME.match(entry.name):
                candidates.append(entry)
    return candidates


def _reader_copy_digests(store: TrialStore) -> set[str]:
    """SHA-256 digests (file names) of every committed reader copy."""
    with store.unit_of_work("recovery", write=False) as uow:
        return uow.reader_copies.digests()


def recover(store: TrialStore, archive_root: Path | None, *, actor: str = "recovery",
            scan_archive: bool = False, now: float | None = None) -> RecoveryReport:
    """Close import runs whose owner is gone, and clean the archive after a crash (see the
    module docstring).  `scan_archive` scans the archive even without evidence of a crash."""
    now = time.time() if now is None else now
    report = RecoveryReport()
    for run in dicom_index.unfinished_import_runs(store):
        if run.owner is not None and owner_alive(run.owner) is not False:
            continue  # running (here or on another host)
        with store.unit_of_work(actor) as tx:
            if dicom_index.close_interrupted_import_run(tx, run.id):
                report.interrupted_runs.append(run.id)
    if archive_root is None or not Path(archive_root).is_dir():
        return report
    root = Path(archive_root)
    dead_markers, _live = _writers(root, now)
    if not (scan_archive or report.interrupted_runs or dead_markers):
        return report
    for entry in root.iterdir():
        if entry.is_dir() and entry.name.startswith(EXTRACT_PREFIX):
            if _dead(_parse_token(entry.name[len(EXTRACT_PREFIX):].rsplit("-", 1)[0]), entry,
                     now):
                shutil.rmtree(entry, ignore_errors=True)
                report.removed_extractions.append(str(entry))
    candidates = _archive_files(root, now, report)
    copies = _archive_files(root / READER_COPIES_DIR, now, report)
    # Writers are looked at after the files were listed: a writer marks itself before it
    # writes, so the writer of any listed file that is still at work is seen here.
    _, live = _writers(root, now)
    referenced = dicom_index.archived_digests(store)
    orphans = [p for p in candidates if p.name[:-4] not in referenced]
    copy_orphans: list[Path] = []
    referenced_copies: set[str] = set()
    if copies:
        referenced_copies = _reader_copy_digests(store)
        copy_orphans = [p for p in copies if p.name[:-4] not in referenced_copies]
    report.orphans = [str(p) for p in orphans + copy_orphans]
    is_copy = set(copy_orphans)
    due = [p for p in orphans + copy_orphans if not (live and _age(p, now) <= ORPHAN_GRACE_S)]
    if is_copy.intersection(due):
        # looked up again: a copy's transaction may have committed meanwhile
        referenced_copies = _reader_copy_digests(store)
    removed_copies: list[str] = []
    for p in due:
        # checked again, one by one: a writer may have begun, or committed, meanwhile
        if _age(p, now) <= ORPHAN_GRACE_S and _writers(root, now)[1]:
            continue
        if p in is_copy:
            if p.name[:-4] in referenced_copies:
                continue
        elif dicom_index.archived_digests(store, [p.name[:-4]]):
            continue
        try:
            p.unlink()
            report.removed_orphans.append(str(p))
            if p in is_copy:
                removed_copies.append(p.name)
        except OSError:
            pass
    if report.removed_orphans or report.removed_partials or report.removed_extractions:
        originals = [Path(p).name for p in report.removed_orphans
                     if Path(p) not in is_copy]
        with store.unit_of_work(actor) as tx:
            tx.audit("recover", "archive", str(root),
                     after={"removed_partials": len(report.removed_partials),
                            "removed_extractions": len(report.removed_extractions),
                            "removed_unreferenced": originals,
                            "removed_reader_copies": removed_copies})
    for marker in dead_markers:
        _unmark(marker)
    return report

