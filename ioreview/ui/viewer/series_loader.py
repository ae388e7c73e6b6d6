"""Off-GUI-thread decoding of a series, with prefetch around the current image.

`SeriesLoader` turns a series (`ioreview.imaging.header.SeriesView`) into a stack
of images (one per frame, slices sorted along their normal) and decodes them on a worker
thread in order of distance from the image on screen, so the first image appears at once and
scrolling finds its neighbours ready.

A stack of single-frame grey slices of one size (CT, MR, a radiograph) is loaded whole into
one preallocated array by `ioreview.imaging.volume.read_slices_into`: native slices at their
indexed Pixel Data offsets (500 x 512² in well under 150 ms), compressed ones on the reused
spawn process pool (both cores) after the image on screen has been decoded in the worker
thread.  Slices are served as views of that array, so an open series costs its raw pixel
bytes once.  Anything else (multi-frame cine, colour, mixed sizes) is decoded frame by frame
into one memory-bounded LRU cache shared by every loader (`FrameCache`).  Volumes for MPR
load through `ioreview.imaging.volume.load_volume` on a `VolumeLoader` thread with progress.
"""
from __future__ import annotations

import itertools
import os
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal

from ioreview.imaging.decode import NATIVE_TRANSFER_SYNTAXES, failure_reason, read_indexed_frame
from ioreview.imaging.header import InstanceHeader, SeriesView
from ioreview.imaging.measure import Calibration, calibration_for, read_calibration_header
from ioreview.imaging.volume import (
    STACK_BUFFERS,
    SliceOrderReport,
    Volume,
    VolumeError,
    load_volume,
    read_slices_into,
    sort_slices,
    stack_dtype,
    start_decode_pool,
)


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
    """Stored values of one image (`ioreview.imaging.decode.read_indexed_frame`)."""
    return read_indexed_frame(ref.header, ref.frame, datasets)


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
                self.failed.emit(index, failure_reason(exc, self._refs[index].header.path))
                continue
            self.decoded.emit(index, arr)


def is_native_slice(h: InstanceHeader) -> bool:
    """The slice can be read straight from its indexed Pixel Data offset."""
    return h.transfer_syntax_uid in NATIVE_TRANSFER_SYNTAXES and h.pixel_data_offset is not None


def stackable(refs: Sequence[ImageRef]) -> bool:
    """True when the images are single-frame grey slices of one size and one stored dtype,
    so they can share one preallocated (n, rows, cols) array."""
    if not refs:
        return False
    hs = [r.header for r in refs]
    if any((h.number_of_frames or 1) != 1 or (h.samples_per_pixel or 1) != 1 for h in hs):
        return False
    if any(h.photometric_interpretation.upper() not in ("MONOCHROME1", "MONOCHROME2") for h in hs):
        return False
    if len({(h.rows, h.columns) for h in hs}) != 1 or not hs[0].rows or not hs[0].columns:
        return False
    try:
        stack_dtype(hs)
    except VolumeError:
        return False
    return True


class _StackThread(QThread):
    """Fills the loader's stack array: the image on screen first, then outwards from it.

    Native slices are read at their offsets; compressed ones after the first are decoded on
    the imaging core's process pool (`workers` processes), so this thread mostly waits and the
    GUI thread keeps the interpreter.  A slice that fails is reported alone; the rest load.
    """

    filled = Signal(object)  # list[int]
    failed = Signal(int, str)

    def __init__(self, headers: list[InstanceHeader], array: np.ndarray, focus: int, workers: int) -> None:
        super().__init__()
        self._headers = headers
        self._array = array
        self.focus = focus
        self.workers = workers
        self.stop = False
        self._scheduled = np.zeros(len(headers), dtype=bool)

    def _outward(self) -> Iterator[int]:
        """Indices not yet scheduled, each time the one nearest the current focus."""
        n = len(self._headers)
        while not self.stop:
            free = np.flatnonzero(~self._scheduled)
            if free.size == 0:
                return
            focus = min(max(self.focus, 0), n - 1)
            i = int(free[np.argmin(np.abs(free - focus))])
            self._scheduled[i] = True
            yield i

    def _report(self, done: list[int]) -> bool:
        self.filled.emit(list(done))
        return not self.stop

    def run(self) -> None:
        try:
            first = next(self._outward(), None)
            if first is None:
                return
            read_slices_into(self._headers, self._array, [first], self._report, workers=1)
            if self.workers > 1 and len(self._headers) > 1 and not all(is_native_slice(h) for h in self._headers):
                # spawn the pool's processes only now: spawning them while this thread decoded
                # the first image competed for the two cores and delayed it past 150 ms
                pool = start_decode_pool(self.workers)
                for _ in range(self.workers):
                    pool.submit(os.getpid)
            if not self.stop:
                read_slices_into(
                    self._headers, self._array, self._outward(), self._report, workers=self.workers, chunk_size=4
                )
        except Exception:  # noqa: BLE001 - find the bad slices one by one below
            self._one_by_one()

    def _one_by_one(self) -> None:
        """After a failure: every slice not yet filled, alone, so one bad file costs one image."""
        self._scheduled[:] = False
        for i in self._outward():
            try:
                read_slices_into(self._headers, self._array, [i], self._report, workers=1)
            except Exception as exc:  # every failure becomes a message on the viewport
                self.failed.emit(i, failure_reason(exc, self._headers[i].path))


class SeriesLoader(QObject):
    """The images of one series, decoded off the GUI thread with prefetch.

    `image(i)` returns the stored values when decoded, else None and asks for them;
    `frameReady(i)` follows when they arrive (for a stack, only for images asked for).
    `set_focus(i)` reorders the prefetch around
    the image on screen.  `progressChanged(decoded, total)` tracks the whole stack.
    Stackable series (`stackable`) load whole into `stack` (one array); `complete` says when
    every slice is in.
    """

    frameReady = Signal(int)
    frameFailed = Signal(int, str)
    progressChanged = Signal(int, int)

    def __init__(
        self,
        series: SeriesView,
        parent: QObject | None = None,
        cache: FrameCache | None = None,
        focus: int = 0,
        workers: int = 2,
    ) -> None:
        super().__init__(parent)
        self.series = series
        self.loader_id = next(_ids)
        self.refs, self.report = image_refs(series.headers)
        self._cache = cache if cache is not None else FRAME_CACHE
        self._decoded: set[int] = set()
        self._focus = max(0, min(int(focus), len(self.refs) - 1))
        self.errors: dict[int, str] = {}
        self._headers_read: dict[str, Any] = {}
        self.stack: np.ndarray | None = None
        self._views: list[np.ndarray | None] = []
        self._ready: np.ndarray | None = None
        self._wanted: set[int] = set()
        self._thread: _DecodeThread | None = None
        self._stack_thread: _StackThread | None = None
        if stackable(self.refs):
            hs = [r.header for r in self.refs]
            self.stack = STACK_BUFFERS.empty((len(hs), hs[0].rows or 0, hs[0].columns or 0), stack_dtype(hs))
            self._views = [None] * len(hs)
            self._ready = np.zeros(len(hs), dtype=bool)
            self._stack_thread = _StackThread(hs, self.stack, self._focus, workers)
            self._stack_thread.filled.connect(self._on_filled)
            self._stack_thread.failed.connect(self._on_failed)
            self._stack_thread.start()
        else:
            self._cache.register(self)
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

    @property
    def complete(self) -> bool:
        """Every image of a stackable series is in `stack`."""
        return self._ready is not None and bool(self._ready.all())

    def ref(self, index: int) -> ImageRef:
        return self.refs[index]

    def spacing_zyx(self) -> tuple[float, float, float]:
        """Slice, row and column spacing (mm) of the stack, for volumes of grown regions."""
        h = self.refs[0].header
        row, col = h.pixel_spacing or (1.0, 1.0)
        z = (self.report.spacing if self.report is not None else None) or h.slice_thickness or 1.0
        return float(z), float(row), float(col)

    def image(self, index: int) -> np.ndarray | None:
        """Stored values of image `index` if decoded (and refreshes its cache entry)."""
        if self._ready is not None:
            if 0 <= index < len(self._ready) and self._ready[index]:
                view = self._views[index]
                if view is None:
                    assert self.stack is not None
                    view = self._views[index] = self.stack[index]
                return view
            if index not in self.errors:
                self._wanted.add(index)
                self.set_focus(index)
            return None
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
            ds = self._headers_read[h.path] = read_calibration_header(h.path)
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
        if self._stack_thread is not None:
            self._stack_thread.focus = index
            return
        if self._thread is None:
            return
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

    def _on_filled(self, indices: list[int]) -> None:
        if self._stack_thread is None or self._ready is None:
            return
        self._ready[indices] = True
        before = len(self._decoded)
        self._decoded.update(indices)
        if self._wanted:
            for i in self._wanted.intersection(indices):
                self._wanted.discard(i)
                self.frameReady.emit(i)
        n = len(self._decoded)
        step = max(1, self.count // 50)
        if n == self.count or n // step != before // step:
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
        """Stop the worker and free the decoded frames."""
        if self._stack_thread is not None:
            self._stack_thread.stop = True
            self._stack_thread.wait()
            self._stack_thread._array = None  # type: ignore[assignment]
            self._stack_thread = None
            stack, self.stack = self.stack, None
            self._views = []
            if stack is not None:
                STACK_BUFFERS.recycle(stack)  # reused once no view of it is left anywhere
                del stack
            self._ready = None
            self._decoded.clear()
            return
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
