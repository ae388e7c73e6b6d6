"""The export's report worker: what it loads before its first task (`load`, run by the
forkserver's preload module `_report_preload`) and its task (`write_report`).

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
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .report import ReportData


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


_loaded = False


def load() -> None:
    """Import WeasyPrint and the report module (once), then leave what exists to the
    permanent generation of the garbage collector (`gc.freeze`, as its documentation advises
    before forking): the forked worker's collections, and the server's at its exit, then
    skip these long-lived module objects (~1 s less), and their pages stay shared."""
    global _loaded
    if _loaded:
        return
    with cached_library_lookup():
        import weasyprint  # noqa: F401

        from . import report  # noqa: F401
    gc.freeze()
    _loaded = True


def write_report(data: ReportData, out_dir: Path) -> list[Path]:
    """The report's task: `report.write_report` (in the worker, or in this process on a
    machine with one core)."""
    load()
    from .report import write_report as write

    return write(data, out_dir)
