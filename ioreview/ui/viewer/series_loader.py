"""Off-GUI-thread decoding of a series, with prefetch around the current image and a cache.

`SeriesLoader` turns a series (anything shaped like `ioreview.trial.SeriesView`) into a stack
of images (one per frame, slices sorted along their normal) and decodes them on a worker
thread in order of distance from the image on screen, so the first image appears at once and
scrolling finds its neighbours ready.  Decoded frames live in one memory-bounded LRU cache
shared by every loader (`FrameCache`).  Volumes for MPR load through
`ioreview.imaging.volume.load_volume` on a `VolumeLoader` thread with progress.
"""
from __future__ import annotations

import itertools
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pydicom
from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal

from ioreview.imaging.decode import (
    NATIVE_TRANSFER_SYNTAXES,
    UnsupportedImage,
    read_dataset,
    read_frame_at_offset,
    read_frames,
)
from ioreview.imaging.header import InstanceHeader
from ioreview.imaging.measure import Calibration, calibration_for
from ioreview.imaging.volume import SliceOrderReport, Volume, load_volume, sort_slices


class SeriesLike(Protocol):
    """What the viewer needs of a series (`ioreview.trial.SeriesView` has it)."""

    series_pk: int
    modality: str
    description: str
    n_instances: int
    n_frames: int
    headers: tuple[InstanceHeader, ...]


@dataclass(frozen=True)
class ImageRef:
    """One image of a stack: a frame of an instance."""

    header: InstanceHeader
    frame: int = 0

    @property
    def key(self) -> tuple[str, int]:
        return (self.header.sop_instance_uid, self.frame)

    @property
    def nbytes(self) -> int:
        h = self.header
        return int((h.rows or 0) * (h.columns or 0) * (h.samples_per_pixel or 1) * max((h.bits_allocated or 16) // 8, 1))


def image_refs(headers: Sequence[InstanceHeader]) -> tuple[list[ImageRef], SliceOrderReport | None]:
    """The images of a series in reading order, and the slice-order report when sorted.

    Single-frame slices with position and orientation are sorted along the slice normal
    (`sort_slices`), shown head first for axial stacks as workstations do; anything else in
    Instance Number order.  Multi-frame instances contribute all their frames.
    """
    hs = [h for h in headers if h.has_pixels]
    report: SliceOrderReport | None = None
    if len(hs) > 1 and all((h.number_of_frames or 1) == 1 and h.image_position and h.image_orientation for h in hs):
        ordered, report = sort_slices(hs)
        if report.normal is not None and report.normal[2] > 0.5:
            ordered = ordered[::-1]
    else:
        ordered = sorted(hs, key=lambda h: (h.instance_number if h.instance_number is not None else 0, h.path))
    refs = [ImageRef(h, f) for h in ordered for f in range(max(h.number_of_frames or 1, 1))]
    return refs, report


def decode_image(ref: ImageRef, datasets: dict[str, Any] | None = None) -> np.ndarray:
    """Stored values of one image: read at the indexed offset when native, else decoded.

    `datasets` caches parsed multi-frame files between calls (frames of a cine share one).
    """
    h = ref.header
    if h.transfer_syntax_uid in NATIVE_TRANSFER_SYNTAXES and h.pixel_data_offset is not None:
        try:
            return read_frame_at_offset(h, ref.frame)
        except UnsupportedImage:
            pass
    if (h.number_of_frames or 1) > 1:
        ds = datasets.get(h.path) if datasets is not None else None
        if ds is None:
            ds = read_dataset(h.path)
            if datasets is not None:
                if len(datasets) >= 2:
                    datasets.pop(next(iter(datasets)))
                datasets[h.path] = ds
        return read_frames(ds, [ref.frame])[0]
    return read_frames(h.path, [ref.frame])[0]


class FrameCache:
    """LRU cache of decoded frames bounded in bytes, shared by all loaders of the process."""

    def __init__(self, budget_bytes: int = 2 << 30) -> None:
        self.budget_bytes = int(budget_bytes)
        self._items: OrderedDict[tuple[int, int], np.ndarray] = OrderedDict()
        self._bytes = 0
        self._owners: weakref.WeakValueDictionary[int, SeriesLoader] = weakref.WeakValueDictionary()

    @property
    def nbytes(self) -> int:
        return self._bytes

    def register(self, loader: SeriesLoader) -> None:
        self._owners[loader.loader_id] = loader

    def get(self, key: tuple[int, int]) -> np.ndarray | None:
        arr = self._items.get(key)
        if arr is not None:
            self._items.move_to_end(key)
        return arr

    def put(self, key: tuple[int, int], arr: np.ndarray, protect: Callable[[tuple[int, int]], bool]) -> None:
        old = self._items.pop(key, None)
        if old is not None:
            self._bytes -= old.nbytes
        self._items[key] = arr
        self._bytes += arr.nbytes
        if self._bytes > self.budget_bytes:
            for k in list(self._items):
                if self._bytes <= self.budget_bytes:
                    break
                if k == key or protect(k):
                    continue
                self._evict(k)

    def drop_loader(self, loader_id: int) -> None:
        for k in [k for k in self._items if k[0] == loader_id]:
            self._bytes -= self._items.pop(k).nbytes

    def _evict(self, key: tuple[int, int]) -> None:
        arr = self._items.pop(key)
        self._bytes -= arr.nbytes
        owner = self._owners.get(key[0])
        if owner is not None:
            owner._forget(key[1])


#: The process-wide frame cache.
FRAME_CACHE = FrameCache()
_ids = itertools.count(1)


class _DecodeThread(QThread):
    """Decodes the loader's wanted images, nearest to the focus first."""

    decoded = Signal(int, object)
    failed = Signal(int, str)

    def __init__(self, refs: list[ImageRef]) -> None:
        super().__init__()
        self._refs = refs
        self.cond = threading.Condition()
        self.plan: list[int] = []
        self.have: set[int] = set()
        self.bad: set[int] = set()
        self.stop = False

    def run(self) -> None:
        datasets: dict[str, Any] = {}
        while True:
            with self.cond:
                index = None
                while not self.stop:
                    index = next((i for i in self.plan if i not in self.have and i not in self.bad), None)
                    if index is not None:
                        break
                    self.cond.wait()
                if self.stop:
                    return
                self.have.add(index)
            try:
                arr = decode_image(self._refs[index], datasets)
            except Exception as exc:  # every failure becomes a message on the viewport
                with self.cond:
                    self.have.discard(index)
                    self.bad.add(index)
                self.failed.emit(index, str(exc))
                continue
            self.decoded.emit(index, arr)


class SeriesLoader(QObject):
    """The images of one series, decoded off the GUI thread with prefetch and caching.

    `image(i)` returns the stored values when decoded, else None and asks for them;
    `frameReady(i)` follows when they arrive.  `set_focus(i)` reorders the prefetch around
    the image on screen.  `progressChanged(decoded, total)` tracks the whole stack.
    """

    frameReady = Signal(int)
    frameFailed = Signal(int, str)
    progressChanged = Signal(int, int)

    def __init__(
        self,
        series: SeriesLike,
        parent: QObject | None = None,
        cache: FrameCache | None = None,
    ) -> None:
        super().__init__(parent)
        self.series = series
        self.loader_id = next(_ids)
        self.refs, self.report = image_refs(series.headers)
        self._cache = cache if cache is not None else FRAME_CACHE
        self._cache.register(self)
        self._decoded: set[int] = set()
        self._focus = 0
        self.errors: dict[int, str] = {}
        self._headers_read: dict[str, Any] = {}
        self._thread = _DecodeThread(self.refs)
        self._thread.decoded.connect(self._on_decoded)
        self._thread.failed.connect(self._on_failed)
        self._thread.start()
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.close)

    # ---------------------------------------------------------------- queries
    @property
    def count(self) -> int:
        return len(self.refs)

    @property
    def modality(self) -> str:
        return (self.series.modality or (self.refs[0].header.modality if self.refs else "")).upper()

    @property
    def description(self) -> str:
        return self.series.description or (self.refs[0].header.series_description if self.refs else "")

    @property
    def frame_of_reference_uid(self) -> str:
        return self.refs[0].header.frame_of_reference_uid if self.refs else ""

    @property
    def decoded_count(self) -> int:
        return len(self._decoded)

    def ref(self, index: int) -> ImageRef:
        return self.refs[index]

    def image(self, index: int) -> np.ndarray | None:
        """Stored values of image `index` if decoded (and refreshes its cache entry)."""
        arr = self._cache.get((self.loader_id, index))
        if arr is None and index not in self.errors:
            self.set_focus(index)
        return arr

    def spacing(self, index: int) -> tuple[float, float] | None:
        """Pixel spacing (row mm, column mm) of image `index` for the display aspect."""
        h = self.refs[index].header
        return h.pixel_spacing or h.imager_pixel_spacing

    def calibration(self, index: int, point: tuple[float, float] | None = None) -> Calibration:
        """The measurement calibration of image `index` at `point` (row, col).

        Ultrasound regions (PS3.3 C.8.5.5) are not in the index, so for ultrasound the
        file's header is read once (without pixels) and kept.
        """
        h = self.refs[index].header
        cal = calibration_for(h, point)
        if cal.calibrated or h.modality.upper() != "US":
            return cal
        ds = self._headers_read.get(h.path)
        if ds is None:
            try:
                ds = pydicom.dcmread(h.path, stop_before_pixels=True)
            except Exception:  # an unreadable header leaves the image uncalibrated
                ds = pydicom.Dataset()
            self._headers_read[h.path] = ds
        return calibration_for(ds, point)

    def is_multiframe_cine(self) -> bool:
        return len({r.header.sop_instance_uid for r in self.refs}) == 1 and self.count > 1

    # ---------------------------------------------------------------- prefetch
    def set_focus(self, index: int) -> None:
        """Decode `index` first, then its neighbours outwards, as far as the cache allows."""
        if not self.refs:
            return
        index = max(0, min(index, self.count - 1))
        self._focus = index
        per = max(self.refs[index].nbytes, 1)
        reach = max(4, int(self._cache.budget_bytes * 0.5) // per)
        plan = [index]
        for d in range(1, min(self.count, reach)):
            for j in (index + d, index - d):
                if 0 <= j < self.count:
                    plan.append(j)
        with self._thread.cond:
            self._thread.plan = plan
            self._thread.cond.notify()

    def _protected(self, key: tuple[int, int]) -> bool:
        return key[0] == self.loader_id and abs(key[1] - self._focus) <= 2

    def _on_decoded(self, index: int, arr: np.ndarray) -> None:
        if self._thread is None:
            return
        self._cache.put((self.loader_id, index), arr, self._protected)
        self._decoded.add(index)
        self.frameReady.emit(index)
        n = len(self._decoded)
        if n == self.count or n % max(1, self.count // 50) == 0:
            self.progressChanged.emit(n, self.count)

    def _on_failed(self, index: int, message: str) -> None:
        self.errors[index] = message
        self.frameFailed.emit(index, message)

    def _forget(self, index: int) -> None:
        """Called by the cache when it evicts one of our frames."""
        self._decoded.discard(index)
        if self._thread is not None:
            with self._thread.cond:
                self._thread.have.discard(index)

    def close(self) -> None:
        """Stop the worker and free the cached frames."""
        if self._thread is None:
            return
        with self._thread.cond:
            self._thread.stop = True
            self._thread.cond.notify()
        self._thread.wait()
        self._thread = None  # type: ignore[assignment]
        self._cache.drop_loader(self.loader_id)
        self._decoded.clear()


class VolumeLoader(QThread):
    """Loads a series into a `Volume` (for MPR) off the GUI thread, reporting progress."""

    progressChanged = Signal(int, int)
    loaded = Signal(object)
    failed = Signal(str)

    def __init__(self, headers: Sequence[InstanceHeader], parent: QObject | None = None, workers: int = 2) -> None:
        super().__init__(parent)
        self._headers = list(headers)
        self._workers = workers

    def run(self) -> None:
        try:
            vol: Volume = load_volume(self._headers, progress=self.progressChanged.emit, workers=self._workers)
        except Exception as exc:  # shown to the user as a message
            self.failed.emit(str(exc))
            return
        self.loaded.emit(vol)
