"""The export's report worker: the process context it runs in (`worker_context`, a forkserver
whose preload module `_report_preload` runs `load`), what it does before its first task
(`start_in_worker`: it ends with its parent and loads the report's libraries), its task
(`write_report`), and `start_worker`, which a command that is about to export with a report
calls first, so that the worker loads while the command opens the trial.

WeasyPrint finds its native libraries (GObject, Pango, HarfBuzz, fontconfig) through cffi,
trying several names per library for the different platforms.  For every name that is not a
file, cffi asks `ctypes.util.find_library`, which on Linux runs `ldconfig -p` and then
compiles and links a probe with gcc and ld: about 16 failed names, ~1.5 s of an export that
has to wait for its worker.  While WeasyPrint loads, the lookup answers from the dynamic
linker's cache alone (`ldconfig -p`, what `find_library` consults first and what `dlopen`
searches); a library the cache does not know is then not found by that name, and WeasyPrint
goes on to its next name, as it does anyway.
"""
from __future__ import annotations

import ctypes.util
import functools
import gc
import multiprocessing
import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.context import BaseContext
from multiprocessing.process import BaseProcess
from multiprocessing.reduction import ForkingPickler
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from adjudication.reliability import AgreementReport


def _mapping_proxy(items: dict[Any, Any]) -> MappingProxyType[Any, Any]:
    return MappingProxyType(items)


def _reduce_mapping_proxy(m: MappingProxyType[Any, Any]) -> tuple[Any, tuple[dict[Any, Any]]]:
    return _mapping_proxy, (dict(m),)


# the agreement figures keep their extras read-only (MappingProxyType): a copy goes to the worker
ForkingPickler.register(MappingProxyType, _reduce_mapping_proxy)


@dataclass(frozen=True)
class ReportJob:
    """The report's task: `report.ReportData`'s fields but the agreement figures, and those
    figures."""

    fields: Mapping[str, Any]
    agreement: AgreementReport


@contextmanager
def cached_library_lookup() -> Iterator[None]:
    """`ctypes.util.find_library` answered from the linker cache only, for the duration."""
    lookup = getattr(ctypes.util, "_findSoname_ldconfig", None)
    if not sys.platform.startswith("linux") or lookup is None:
        yield
        return
    original = ctypes.util.find_library
    ctypes.util.find_library = functools.lru_cache(maxsize=None)(lookup)
    try:
        yield
    finally:
        ctypes.util.find_library = original


#: imported by the forkserver before it forks a worker
PRELOAD = ["ioreview.service.exports._report_preload"]


def cores() -> int:
    """The CPU cores this process may run on: the report gets its own process from 2."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") \
        else (os.cpu_count() or 1)


def worker_context() -> BaseContext:
    """The context of the export's worker process: forkserver (safe once Qt runs), its server
    preloading the report's modules when this call is the first to start it."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    return context


def start_server() -> None:
    """Start the worker's forkserver now, without waiting for it (on a machine with more than
    one core): it loads WeasyPrint and the report module (~2 s) while the caller opens the
    trial and logs in; the export's worker is then forked from it.  An export works the same
    without it."""
    if cores() < 2:
        return
    from multiprocessing import forkserver

    worker_context()
    forkserver.ensure_running()


#: the worker `start_worker` forked (its pool and process), until an export takes it
_started: tuple[ProcessPoolExecutor, list[BaseProcess]] | None = None


def start_worker() -> None:
    """Fork the export's worker now, from this process, and let it load the report's libraries
    (~2 s) while the caller opens the trial and logs in; the export then takes it
    (`take_started_worker`).  For a command about to export with a report, called before it
    starts a thread (a fork copies only the calling thread) in a process that never loads Qt.
    Unlike a forkserver, the fork starts no new interpreter that imports the package again:
    the worker begins loading ~0.25 s sooner (at ~0.3 s of the command, not 0.5-0.6 s).
    Elsewhere than Linux it starts the forkserver instead (`start_server`); with one core it
    does nothing."""
    global _started
    if cores() < 2 or _started is not None:
        return
    if not sys.platform.startswith("linux"):
        start_server()
        return
    sys.stdout.flush()  # the worker flushes what it inherits when it ends: nothing, then
    sys.stderr.flush()
    before = set(multiprocessing.active_children())
    pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("fork"),
                               initializer=start_in_worker)
    pool.submit(int)  # with the fork method, the pool forks its worker on the first submit
    _started = (pool, [p for p in multiprocessing.active_children() if p not in before])


def _take_started() -> tuple[ProcessPoolExecutor, list[BaseProcess]] | None:
    global _started
    started, _started = _started, None
    return started


def take_started_worker() -> ProcessPoolExecutor | None:
    """The worker `start_worker` forked, once (the export uses it and shuts it down)."""
    started = _take_started()
    return started[0] if started else None


def discard_started_worker() -> None:
    """End the worker `start_worker` forked when no export took it (the command failed before
    it exported: a wrong password, say) without waiting for it to finish loading (~2 s the
    command's exit would otherwise wait)."""
    started = _take_started()
    if started is None:
        return
    pool, processes = started
    for process in processes:
        process.terminate()
    pool.shutdown(wait=True, cancel_futures=True)


_loaded = False


def load() -> None:
    """Import WeasyPrint, the report module and matplotlib (once), then leave what exists to the
    permanent generation of the garbage collector (`gc.freeze`, as its documentation advises
    before forking): the forked worker's collections, and the server's at its exit, then
    skip these long-lived module objects (~1 s less), and their pages stay shared."""
    global _loaded
    if _loaded:
        return
    with cached_library_lookup():
        import weasyprint  # noqa: F401

        from . import report
    report.load_libraries()  # matplotlib and the page's template, before the fork
    import adjudication.reliability  # noqa: F401 - the job's agreement figures unpickle into it
    gc.freeze()
    _loaded = True


def _end_with_parent() -> None:
    """In the worker: end it as soon as the process that exports ends, however it ends.  A
    killed export (SIGKILL, a crash) otherwise left its worker, and the forkserver with it,
    waiting for work forever, each holding the report's libraries.  multiprocessing gives a
    worker the read end of a pipe whose write end only its parent holds
    (`parent_process().sentinel`, forked or started by a forkserver): it becomes readable when
    the parent is gone."""
    import threading
    from multiprocessing.connection import wait

    parent = multiprocessing.parent_process()
    if parent is None or parent.sentinel is None:
        return

    def watch() -> None:
        wait([parent.sentinel])
        os._exit(1)

    threading.Thread(target=watch, name="ioreview-export-parent-watch", daemon=True).start()


def start_in_worker() -> None:
    """The export worker's initializer: it ends with its parent and loads the report's
    libraries (already loaded when forked from a preloaded forkserver)."""
    _end_with_parent()
    load()


def timed(fn: Callable[..., Any], *args: Any) -> tuple[Any, float, float]:
    """fn(*args), with the wall-clock and CPU seconds it took (in the process that ran it)."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn(*args)
    return result, time.perf_counter() - wall, time.process_time() - cpu


def write_report(job: ReportJob, out_dir: Path) -> list[Path]:
    """The report of `job` (in the worker, or in this process on a machine with one core):
    its files.

    In the worker, the cyclic garbage collector stays off: `report.write_report` pauses it
    while it writes and, switched on again, its first collection walks everything the report
    left (~0.2 s, before the export gets its answer).  The worker ends with the export, by
    `os._exit` (as multiprocessing ends its children), so that garbage would never matter."""
    if multiprocessing.parent_process() is not None:
        gc.disable()
    load()
    from .report import write_report as write
    from .report_data import ReportData

    return write(ReportData(agreement=job.agreement, **job.fields), out_dir)
