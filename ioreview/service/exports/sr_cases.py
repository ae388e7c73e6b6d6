"""The DICOM SR of one case as a task (`CaseSr`) that this process or the export's worker
writes (`write_case_sr`; `write_handed_sr` in the worker), and the keyed UID replacement of a
de-identified export (`UidMap`).  Kept apart from the export's code: the worker loads only this
(and the SR modules) to take cases, not the tables, store and statistics code."""
from __future__ import annotations

import dataclasses
import gc
import hashlib
import hmac
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ioreview.errors import NotFound

if TYPE_CHECKING:
    from adjudication.protocol import Protocol

__all__ = ["CaseSr", "SrDocument", "UidMap", "write_case_sr", "write_handed_sr"]


@dataclass(frozen=True)
class UidMap:
    """The keyed-hash UID replacement of a de-identified export."""

    key: bytes

    def __call__(self, uid: str) -> str:
        digest = hmac.new(self.key, uid.encode(), hashlib.sha256).digest()
        return "2.25." + str(int.from_bytes(digest[:16], "big"))


@dataclass(frozen=True)
class SrDocument:
    path: Path
    #: the protocol's (id, version): the case's `protocols` hold it
    protocol: tuple[str, str]
    values: Mapping[str, Any]
    annotations: tuple[Any, ...]
    observer: str
    observer_kind: str
    sop_instance_uid: str
    instance_number: int
    title: str


@dataclass(frozen=True)
class CaseSr:
    """The DICOM SR documents of one case (and its de-identified images when `images`)."""

    folder: Path
    sources: Mapping[str, str]
    uid_map: UidMap | None
    patient: str
    series_uid: str
    documents: tuple[SrDocument, ...]
    images: Path | None
    #: per source written to `images` (de-identified exports): the burned-in text review's
    #: mask rectangles and whether the pixels were found clean; sources not here are withheld
    release: Mapping[str, tuple[tuple[Any, ...], bool]] | None = None
    #: the documents' protocols by (id, version); a task handed to the worker carries only
    #: those it has not been given yet (`write_handed_sr`)
    protocols: Mapping[tuple[str, str], Protocol] = field(default_factory=dict)


def write_case_sr(task: CaseSr) -> None:
    """Write one case's SR documents (and its images).  Raises NotFound, naming the case and
    the file, when an archived source image can no longer be read (damaged or removed after
    import): the export then stops and writes nothing."""
    from ioreview.imaging.deid import UnreadableHeader

    try:
        _write_case_sr(task)
    except (UnreadableHeader, OSError) as exc:
        if isinstance(exc, UnreadableHeader):
            where, reason = exc.path, exc.reason
        else:
            where, reason = exc.filename or "", exc.strerror or str(exc)
        if not where or os.fspath(where) not in {os.fspath(p) for p in task.sources.values()}:
            raise  # not a source image: the export's own folder (a full disk), say
        raise NotFound(
            f"Case {task.folder.name}: the archived image {where} cannot be read ({reason}); "
            "it was damaged or removed after import.  Put it back from a backup of the "
            "archive (`ioreview backup` keeps one), then export again; nothing was "
            "exported.") from exc


def _write_case_sr(task: CaseSr) -> None:
    from ioreview.imaging.deid import reader_copy_bytes
    from ioreview.imaging.sr import SrEvidence, write_measurement_report

    task.folder.mkdir(parents=True, exist_ok=True)
    evidence = SrEvidence(task.sources, uid_map=task.uid_map, date_offset_days=None,
                          patient_id=task.patient)  # read once for the case's documents
    for d in task.documents:
        write_measurement_report(
            d.path, protocol=task.protocols[d.protocol], values=d.values,
            annotations=d.annotations,
            observer=d.observer, observer_kind=d.observer_kind, sources=evidence,
            series_uid=task.series_uid, sop_instance_uid=d.sop_instance_uid, series_number=900,
            instance_number=d.instance_number, title=d.title)
    if task.images is not None:
        task.images.mkdir(parents=True, exist_ok=True)
        for uid, src in sorted(task.sources.items()):
            if task.uid_map is None:
                shutil.copyfile(src, task.images / f"{uid}.dcm")
                continue
            release = (task.release or {}).get(uid)
            if release is None:
                continue  # burned-in text not masked or cleared: withheld (the manifest counts it)
            # the reader copy's policy: Basic Profile, Clean Descriptors, the coordinator's masks
            (task.images / f"{task.uid_map(uid)}.dcm").write_bytes(reader_copy_bytes(
                src, uid_map=task.uid_map, date_offset_days=None, patient_label=task.patient,
                rectangles=release[0], pixels_checked=release[1]))


#: in the worker: the protocols the export has handed it, by (id, version)
_HANDED_PROTOCOLS: dict[tuple[str, str], Protocol] = {}


def write_handed_sr(task: CaseSr) -> None:
    """In the worker, once the report is written: write a case's SR as `write_case_sr` does,
    with the protocols of earlier tasks (a protocol crosses the pipe once, not per case)."""
    if not gc.isenabled():  # off since the report (`report_worker.write_report`): its objects
        gc.freeze()  # are left alone, and what the SR makes is collected again
        gc.enable()
    _HANDED_PROTOCOLS.update(task.protocols)
    write_case_sr(dataclasses.replace(task, protocols=_HANDED_PROTOCOLS))
