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
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
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

        from . import report
    report.warm_up()  # the template, fonts and WeasyPrint's first layout, before the fork
    gc.freeze()
    _loaded = True


def write_report(job: ReportJob, out_dir: Path) -> list[Path]:
    """The report of `job` (in the worker, or in this process on a machine with one core):
    its files."""
    load()
    from .report import write_report as write
    from .report_data import ReportData

    return write(ReportData(agreement=job.agreement, **job.fields), out_dir)
