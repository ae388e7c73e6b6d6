"""Series of slices into volumes, checked for geometry problems instead of stacked blindly.

Native slices are read straight into one preallocated array at the Pixel Data offsets the
index stored (no per-slice temporaries); compressed slices are decoded in a reused process
pool started with "spawn" (fork is unsafe once Qt runs, and decoders hold the GIL).
"""
from __future__ import annotations

import atexit
import functools
import itertools
import mmap
import multiprocessing
import os
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from ioreview.imaging.decode import (
    NATIVE_TRANSFER_SYNTAXES,
    UnsupportedImage,
    correct_unused_bits,
    native_dtype,
    read_frames,
    read_grey_slice,
)
from ioreview.imaging.header import InstanceHeader

__all__ = [
    "Plane",
    "SliceOrderReport",
    "Volume",
    "VolumeError",
    "sort_slices",
    "load_volume",
    "read_slices_into",
    "stack_dtype",
    "StackBuffers",
    "STACK_BUFFERS",
    "reformat",
    "start_decode_pool",
    "shutdown_decode_pool",
]

Plane = Literal["axial", "coronal", "sagittal"]

#: A step larger than this multiple of the median spacing is reported as a gap.
GAP_FACTOR = 1.5
#: Steps deviating from the median by more than this fraction are "irregular".
IRREGULAR_TOLERANCE = 0.1
#: Positions closer than this (mm) along the normal are duplicates.
DUPLICATE_MM = 1e-3
#: Direction cosines differing by more than this are a different orientation.
ORIENTATION_TOLERANCE = 1e-3

_BIG_ENDIAN = "1.2.840.10008.1.2.2"


class VolumeError(ValueError):
    """The slices cannot be stacked into one volume; `report` says why."""

    def __init__(self, message: str, report: SliceOrderReport | None = None) -> None:
        super().__init__(message)
        self.report = report


@dataclass(frozen=True)
class SliceOrderReport:
    """What sorting found about the geometry of a series (PS3.3 C.7.6.2.1.1).

    `ok` is True only when the slices are parallel, equally spaced, without gaps or
    duplicates and of one size; otherwise `problems` says what is wrong, in words.
    """

    ok: bool
    problems: tuple[str, ...]
    spacing: float | None
    n_slices: int = 0
    normal: tuple[float, float, float] | None = None
    positions: tuple[float, ...] = ()
    stackable: bool = True


def _orientation(h: InstanceHeader) -> np.ndarray | None:
    if h.image_orientation is None or len(h.image_orientation) != 6:
        return None
    o = np.asarray(h.image_orientation, dtype=np.float64)
    if not np.all(np.isfinite(o)):
        return None
    return o


def _normal(o: np.ndarray) -> np.ndarray:
    n = np.cross(o[:3], o[3:])
    norm = np.linalg.norm(n)
    return n / norm if norm > 0 else n


def sort_slices(headers: Sequence[InstanceHeader]) -> tuple[list[InstanceHeader], SliceOrderReport]:
    """Sort slices along the slice normal (row x column cosines of Image Orientation).

    Positions are Image Position (Patient) projected on the normal (PS3.3 C.7.6.2.1.1), in
    ascending order.  Gaps (a step > 1.5x the median), irregular spacing, duplicate positions,
    mixed orientations and mixed sizes are listed in the report's `problems`.  Without
    positions or orientation the slices are ordered by Instance Number and the report says so.
    """
    hs = list(headers)
    problems: list[str] = []
    if not hs:
        return [], SliceOrderReport(False, ("no slices",), None, 0, stackable=False)
    stackable = True
    sizes = {(h.rows, h.columns) for h in hs}
    if len(sizes) > 1:
        problems.append(f"mixed image sizes (rows x columns): {', '.join(f'{r}x{c}' for r, c in sorted(sizes, key=str))}")
        stackable = False
    samples = {h.samples_per_pixel or 1 for h in hs}
    if len(samples) > 1:
        problems.append("mixed samples per pixel (grey and colour slices)")
        stackable = False
    spacings = {h.pixel_spacing for h in hs}
    if len(spacings) > 1:
        problems.append(f"mixed Pixel Spacing: {sorted(spacings, key=str)}")
    rescale = {(h.rescale_slope, h.rescale_intercept) for h in hs}
    if len(rescale) > 1:
        problems.append("Rescale Slope/Intercept vary between slices (values are rescaled per slice)")

    orients = [_orientation(h) for h in hs]
    positions = [h.image_position for h in hs]
    if any(o is None for o in orients) or any(p is None or len(p) != 3 for p in positions):
        problems.append("Image Position/Orientation (Patient) missing: ordered by Instance Number, spacing unknown")
        ordered = sorted(hs, key=lambda h: (h.instance_number is None, h.instance_number or 0))
        return ordered, SliceOrderReport(False, tuple(problems), None, len(hs), stackable=stackable)

    ref = orients[0]
    assert ref is not None
    if any(np.max(np.abs(o - ref)) > ORIENTATION_TOLERANCE for o in orients if o is not None):
        n_distinct = len({tuple(np.round(o, 3)) for o in orients if o is not None})
        problems.append(f"mixed orientations: {n_distinct} different Image Orientation (Patient) values")
        stackable = False
    normal = _normal(ref)
    pos = np.asarray(positions, dtype=np.float64)
    d = pos @ normal
    order = np.argsort(d, kind="stable")
    ordered = [hs[i] for i in order]
    d_sorted = d[order]
    spacing: float | None = None
    if len(hs) > 1:
        steps = np.diff(d_sorted)
        dup = steps < DUPLICATE_MM
        if dup.any():
            where = ", ".join(f"{d_sorted[i]:.2f}" for i in np.flatnonzero(dup)[:5])
            problems.append(f"{int(dup.sum())} duplicate slice position(s) at {where} mm along the normal")
        real = steps[~dup]
        if real.size:
            spacing = float(np.median(real))
            gaps = np.flatnonzero((steps > GAP_FACTOR * spacing) & ~dup)
            for i in gaps[:5]:
                problems.append(
                    f"gap of {steps[i]:.2f} mm between slices {i} and {i + 1} "
                    f"(expected {spacing:.2f} mm): {steps[i] / spacing - 1:.0f} slice(s) missing?"
                )
            if len(gaps) > 5:
                problems.append(f"{len(gaps) - 5} more gaps")
            not_gap = real[real <= GAP_FACTOR * spacing]
            if not_gap.size and np.max(np.abs(not_gap - spacing)) > IRREGULAR_TOLERANCE * spacing:
                problems.append(
                    f"irregular slice spacing: {not_gap.min():.3f} to {not_gap.max():.3f} mm (median {spacing:.3f} mm)"
                )
        # in-plane drift of the slice origins (gantry tilt or a sheared stack)
        inplane = pos[order] - np.outer(d_sorted, normal)
        drift = float(np.max(np.linalg.norm(inplane - inplane[0], axis=1)))
        if spacing and drift > 0.5 * max(spacing, 1.0) and not dup.all():
            problems.append(f"slice origins shift in-plane by up to {drift:.1f} mm (gantry tilt or sheared stack)")
    ok = not problems
    report = SliceOrderReport(
        ok, tuple(problems), spacing, len(hs), tuple(float(v) for v in normal), tuple(float(v) for v in d_sorted), stackable
    )
    return ordered, report


@dataclass(eq=False)
class Volume:
    """Stored values (z, y, x) of a sorted series with the geometry needed to show and measure it."""

    array: np.ndarray
    headers: list[InstanceHeader]
    spacing_zyx: tuple[float, float, float]
    slope: float
    intercept: float
    report: SliceOrderReport
    origin: tuple[float, float, float] | None = None
    orientation: tuple[float, float, float, float, float, float] | None = None
    slice_slopes: np.ndarray | None = field(default=None, repr=False)
    slice_intercepts: np.ndarray | None = field(default=None, repr=False)

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self.array.shape)

    @property
    def voxel_volume_mm3(self) -> float:
        z, y, x = self.spacing_zyx
        return z * y * x

    def values(self, dtype: np.dtype | type = np.float32) -> np.ndarray:
        """Modality values (PS3.3 C.11.1): stored * slope + intercept, per slice when they vary."""
        out = self.array.astype(dtype)
        if self.slice_slopes is not None and self.slice_intercepts is not None:
            out *= self.slice_slopes.astype(dtype)[:, None, None]
            out += self.slice_intercepts.astype(dtype)[:, None, None]
        else:
            if self.slope != 1.0:
                out *= self.slope
            if self.intercept != 0.0:
                out += self.intercept
        return out

    def hu(self) -> np.ndarray:
        """Hounsfield units for CT (float32): the modality values of the volume."""
        return self.values(np.float32)


# ---------------------------------------------------------------- decode pool (compressed)

_pool: ProcessPoolExecutor | None = None
_pool_workers = 0
_pool_lock = threading.Lock()


def start_decode_pool(workers: int = 2) -> ProcessPoolExecutor:
    """The module's decode pool, created on first use with the "spawn" context and reused.

    A pool broken by a worker that died (a decoder crashing on a damaged file, the OOM
    killer) is replaced, so one bad file never disables decoding for the session.
    """
    global _pool, _pool_workers
    if workers < 1:
        raise ValueError(f"workers: must be >= 1, not {workers}")
    with _pool_lock:
        if _pool is not None and (_pool_workers != workers or getattr(_pool, "_broken", False)):
            _pool.shutdown(wait=False, cancel_futures=True)
            _pool = None
        if _pool is None:
            _remove_stale_rings()
            _pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))
            _pool_workers = workers
            _shutdown_at_exit()
        return _pool


@functools.cache
def _shutdown_at_exit() -> None:
    """Stop the pool when the interpreter exits (once registered), while the modules it uses
    still exist: an executor left to the interpreter's last clean-up has its worker-exit
    callback run after `multiprocessing` is gone ("Exception ignored in ... weakref_cb")."""
    atexit.register(shutdown_decode_pool)


def _warm_worker() -> int:
    """Worker: import the decoders now, so the first real chunk decodes at full speed."""
    import pydicom.pixels  # noqa: F401 - the import is the point

    return os.getpid()


def warm_decode_pool(workers: int = 2) -> list[Future[int]]:
    """Start the decode pool's processes in the background (returns at once).  Spawning and
    importing the decoders costs ~0.5 s per process; doing it when a case with compressed
    series opens keeps that wait off the first image."""
    pool = start_decode_pool(workers)
    return [pool.submit(_warm_worker) for _ in range(workers)]


def shutdown_decode_pool() -> None:
    """Stop the decode pool's worker processes (at application exit or in tests)."""
    global _pool, _pool_workers
    with _pool_lock:
        if _pool is not None:
            _pool.shutdown(wait=True, cancel_futures=True)
        _pool = None
        _pool_workers = 0


def _decode_chunk(headers: list[InstanceHeader]) -> np.ndarray:
    """Worker: decode each grey slice; returns (n, rows, cols) stored values.  (The fallback
    where no shared-memory ring can be made: results travel pickled.)"""
    return np.stack([read_grey_slice(h) for h in headers])


#: Where slot rings live: a RAM file system on Linux.  Elsewhere results travel pickled.
_RING_DIR = "/dev/shm"
_RING_PREFIX = "ioreview-ring-"
_ring_ids = itertools.count()


class _SlotRing:
    """A small shared-memory file of fixed-size slots that decode workers write slices into.

    Sending a decoded 512x512 slice back through the pool's pipe costs a pickle, a pipe
    transfer, an unpickle and a copy (~1.3 s of the parent's CPU for 500 slices, taken from
    the two cores the decoders need).  A worker instead writes the slice into a slot, and the
    parent copies it from there into the stack once.  The ring holds only the slices in
    flight (a few MB) and is allocated in full up front (`posix_fallocate`), so a full
    /dev/shm fails here, never later as a bus error; it is unlinked when the load ends.
    """

    def __init__(self, slots: int, slot_shape: tuple[int, int], dtype: np.dtype) -> None:
        self.slot_shape = slot_shape
        self.dtype = np.dtype(dtype)
        self.slot_bytes = int(np.prod(slot_shape)) * self.dtype.itemsize
        self.path = os.path.join(_RING_DIR, f"{_RING_PREFIX}{os.getpid()}-{next(_ring_ids)}")
        size = max(1, self.slot_bytes * slots)
        fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600)
        try:
            os.posix_fallocate(fd, 0, size)
            self._mm = mmap.mmap(fd, size)
        except BaseException:
            os.close(fd)
            self.unlink()
            raise
        os.close(fd)
        self.array = np.frombuffer(self._mm, dtype=self.dtype, count=slots * int(np.prod(slot_shape))).reshape(
            (slots, *slot_shape)
        )
        self.free = list(range(slots))

    @classmethod
    def create(cls, slots: int, slot_shape: tuple[int, int], dtype: np.dtype) -> _SlotRing | None:
        """A ring, or None where shared memory is unavailable or full (then pickle)."""
        if not os.path.isdir(_RING_DIR) or not hasattr(os, "posix_fallocate"):
            return None
        try:
            return cls(slots, slot_shape, dtype)
        except OSError:
            return None

    def unlink(self) -> None:
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass

    def close(self) -> None:
        """Unlink the file and drop the parent's mapping (workers still writing keep theirs)."""
        self.unlink()
        self.array = None  # type: ignore[assignment]
        try:
            self._mm.close()
        except BufferError:  # a view is still alive somewhere; the mapping goes with it
            pass


def _decode_into_ring(
    ring_path: str, slot_shape: tuple[int, int], dtype_str: str, items: list[tuple[int, InstanceHeader]]
) -> list[int]:
    """Worker: decode each (slot, header) slice into its slot of the ring; returns the slots."""
    dtype = np.dtype(dtype_str)
    slot_count = int(np.prod(slot_shape))
    fd = os.open(ring_path, os.O_RDWR)
    try:
        mm = mmap.mmap(fd, 0)
    finally:
        os.close(fd)
    try:
        ring = np.frombuffer(mm, dtype=dtype, count=(len(mm) // dtype.itemsize // slot_count) * slot_count)
        ring = ring.reshape((-1, *slot_shape))
        for slot, h in items:
            ring[slot] = _coerce(read_grey_slice(h), dtype, h)
        del ring
    finally:
        mm.close()
    return [slot for slot, _ in items]


def _remove_stale_rings() -> None:
    """Delete rings left by ioreview processes that died (a kill -9 skips clean-up)."""
    if not os.path.isdir(_RING_DIR):
        return
    for name in os.listdir(_RING_DIR):
        if not name.startswith(_RING_PREFIX):
            continue
        try:
            pid = int(name[len(_RING_PREFIX):].split("-", 1)[0])
            os.kill(pid, 0)
        except ProcessLookupError:
            try:
                os.unlink(os.path.join(_RING_DIR, name))
            except OSError:
                pass
        except (ValueError, PermissionError, OSError):
            continue


_reader: ThreadPoolExecutor | None = None


def _native_reader() -> ThreadPoolExecutor:
    """One helper thread reading native slices alongside the caller (preadv releases the GIL,
    and the kernel's page-fault and copy work then runs on both cores)."""
    global _reader
    with _pool_lock:
        if _reader is None:
            _reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ioreview-read")
        return _reader


# ---------------------------------------------------------------- stack memory


class StackBuffers:
    """Recycles the big arrays of closed series for the next series of the same byte size.

    A fresh 250 MB array costs ~65,000 page faults, each a kernel zero-fill: ~35 ms on bare
    metal and far more in a VM whose host backs memory lazily — more than reading the
    slices themselves.  A reader moving from case to case opens series of the same few
    sizes, so the array of a closed series is kept (at most `keep` of them, within
    `keep_bytes`) and handed out again.  An array is reused only when nothing references it
    any more: every view of it (a slice on screen, an MPR volume) holds its buffer, and the
    buffer's reference count says so.  A miss frees what is kept before allocating, so kept
    arrays never add to the memory of a newly opened series.
    """

    def __init__(self, keep: int = 2, keep_bytes: int = 1 << 30) -> None:
        self.keep = keep
        self.keep_bytes = keep_bytes
        self._free: list[np.ndarray] = []
        self._lock = threading.Lock()
        self._free.append(np.empty(1, np.uint8))
        self._baseline = self._refs(0)
        self._free.clear()

    def _refs(self, k: int) -> int:
        return sys.getrefcount(self._free[k])

    @property
    def kept_bytes(self) -> int:
        return sum(raw.nbytes for raw in self._free)

    def empty(self, shape: tuple[int, ...], dtype: np.dtype | type | str) -> np.ndarray:
        """An uninitialised C-contiguous array, recycled when one of its byte size is free."""
        dt = np.dtype(dtype)
        need = int(np.prod(shape)) * dt.itemsize
        with self._lock:
            for k in range(len(self._free)):
                if self._free[k].nbytes == need and self._refs(k) == self._baseline:
                    raw = self._free.pop(k)
                    return raw.view(dt).reshape(shape)
            in_use = [k for k in range(len(self._free)) if self._refs(k) != self._baseline]
            self._free = [self._free[k] for k in in_use]
        return np.empty(need, np.uint8).view(dt).reshape(shape)

    def recycle(self, arr: np.ndarray) -> None:
        """Offer the array of a closed series for reuse (the caller drops its references)."""
        raw = arr.base if isinstance(arr.base, np.ndarray) else None
        if raw is None or raw.dtype != np.uint8 or raw.ndim != 1 or not raw.flags.owndata or raw.nbytes > self.keep_bytes:
            return
        with self._lock:
            if any(r is raw for r in self._free):
                return
            self._free.append(raw)
            while len(self._free) > self.keep or self.kept_bytes > self.keep_bytes:
                self._free.pop(0)

    def clear(self) -> None:
        with self._lock:
            self._free.clear()


#: The process-wide recycler of series arrays.
STACK_BUFFERS = StackBuffers()


# ---------------------------------------------------------------- loading


def _is_native(h: InstanceHeader) -> bool:
    return (
        h.transfer_syntax_uid in NATIVE_TRANSFER_SYNTAXES
        and h.pixel_data_offset is not None
        and h.bits_allocated in (8, 16, 32)
        and (h.samples_per_pixel or 1) == 1
    )


def _dtype_for(headers: Sequence[InstanceHeader]) -> np.dtype:
    kinds = {(h.bits_allocated, h.pixel_representation or 0) for h in headers}
    if len(kinds) > 1:
        raise VolumeError(f"slices mix Bits Allocated / Pixel Representation: {sorted(kinds, key=str)}")
    bits, rep = kinds.pop()
    if bits == 1:
        return np.dtype(np.uint8)
    if bits not in (8, 16, 32):
        raise VolumeError(f"Bits Allocated {bits} is not supported for volumes")
    return native_dtype(bits, rep).newbyteorder("=")


def _read_native(arr: np.ndarray, i: int, h: InstanceHeader) -> None:
    """preadv the slice straight into arr[i] (no temporary), then fix byte order and bits."""
    target = arr[i]
    nbytes = target.nbytes
    if h.pixel_data_length is not None and h.pixel_data_length < nbytes:
        raise UnsupportedImage(f"{h.path}: Pixel Data holds {h.pixel_data_length} bytes, a slice needs {nbytes}")
    assert h.pixel_data_offset is not None
    fd = os.open(h.path, os.O_RDONLY)
    try:
        got = os.preadv(fd, [memoryview(target).cast("B")], h.pixel_data_offset)
    finally:
        os.close(fd)
    if got != nbytes:
        raise UnsupportedImage(f"{h.path}: file truncated: read {got} of {nbytes} pixel bytes")
    if h.transfer_syntax_uid == _BIG_ENDIAN:
        target.byteswap(inplace=True)
    bits_stored = h.bits_stored or h.bits_allocated or 16
    if bits_stored < arr.dtype.itemsize * 8:
        correct_unused_bits(target, bits_stored, h.pixel_representation == 1)


def stack_dtype(headers: Sequence[InstanceHeader]) -> np.dtype:
    """The numpy dtype (native byte order) that holds the stored values of all `headers`.

    Raises `VolumeError` when the slices mix Bits Allocated / Pixel Representation.
    """
    if not headers:
        raise ValueError("headers: no slices given")
    return _dtype_for(headers)


#: Native slices are reported to `read_slices_into`'s progress callable in groups this size.
NATIVE_REPORT_EVERY = 32


def read_slices_into(
    headers: Sequence[InstanceHeader],
    out: np.ndarray,
    indices: Iterable[int] | None = None,
    progress: Callable[[list[int]], object] | None = None,
    workers: int = 2,
    chunk_size: int = 8,
) -> None:
    """Fill `out[i]` with the stored values of the single-frame grey slice `headers[i]`.

    `indices` (default: all, in order) is consumed lazily, so a caller can reorder what is
    still to come (e.g. outwards from the image on screen) while slices load.  Native slices
    are read with `os.preadv` straight into their slot (no temporaries), on two threads when
    `workers` > 1.  Compressed ones are decoded in chunks of `chunk_size` in the reused spawn
    pool (`workers` processes, at most two chunks per worker in flight), which write them
    into a shared-memory slot ring (`_SlotRing`); with `workers` 1 they are decoded in this
    thread.  `progress(filled)` receives the indices just filled, from the calling thread;
    returning False stops the load (pending chunks are cancelled).  Errors of a slice
    propagate.
    """
    if workers < 1:
        raise ValueError(f"workers: must be >= 1, not {workers}")
    if chunk_size < 1:
        raise ValueError(f"chunk_size: must be >= 1, not {chunk_size}")
    if out.ndim != 3 or out.shape[0] != len(headers):
        raise ValueError(f"out: expected a ({len(headers)}, rows, cols) array, got shape {out.shape}")
    it: Iterator[int] = iter(range(len(headers)) if indices is None else indices)
    pool: ProcessPoolExecutor | None = None
    ring: _SlotRing | None = None
    ring_tried = False
    pending: dict[Future[Any], tuple[list[int], list[int] | None]] = {}
    helper: Future[list[int]] | None = None
    native_batch: list[int] = []
    coded: list[int] = []
    exhausted = False
    stopped = False

    def report(done: list[int]) -> bool:
        return progress is None or progress(done) is not False

    def read_batch(batch: list[int]) -> list[int]:
        for i in batch:
            _read_native(out, i, headers[i])
        return batch

    def flush_native(wait_helper: bool) -> None:
        """Hand a full native batch to the helper thread when it is idle; else read it here
        while the helper reads the previous one, and report both in reading order."""
        nonlocal helper, native_batch, stopped
        if native_batch:
            batch, native_batch = native_batch, []
            if workers > 1 and helper is None:
                helper = _native_reader().submit(read_batch, batch)
            else:
                read_batch(batch)
                if helper is not None:
                    earlier, helper = helper.result(), None
                    stopped = stopped or not report(earlier)
                stopped = stopped or not report(batch)
        if helper is not None and wait_helper:
            earlier, helper = helper.result(), None
            stopped = stopped or not report(earlier)

    def submit(chunk: list[int]) -> None:
        nonlocal stopped, pool, ring, ring_tried
        if workers > 1:
            if pool is None:
                pool = start_decode_pool(workers)
            if not ring_tried:
                ring_tried = True
                ring = _SlotRing.create(2 * workers * chunk_size, (out.shape[1], out.shape[2]), out.dtype)
            if ring is not None:
                slots = [ring.free.pop() for _ in chunk]
                fut = pool.submit(_decode_into_ring, ring.path, ring.slot_shape, ring.dtype.str,
                                  [(slot, headers[i]) for slot, i in zip(slots, chunk)])
                pending[fut] = (chunk, slots)
            else:
                pending[pool.submit(_decode_chunk, [headers[i] for i in chunk])] = (chunk, None)
            return
        for i in chunk:
            out[i] = _coerce(read_grey_slice(headers[i]), out.dtype, headers[i])
        stopped = stopped or not report(chunk)

    try:
        while not stopped:
            while not exhausted and not stopped and len(pending) < 2 * workers:
                i = next(it, None)
                if i is None:
                    exhausted = True
                    break
                h = headers[i]
                if _is_native(h):
                    native_batch.append(i)
                    if len(native_batch) >= NATIVE_REPORT_EVERY:
                        flush_native(wait_helper=False)
                else:
                    coded.append(i)
                    if len(coded) >= chunk_size:
                        submit(coded)
                        coded = []
            if exhausted and coded and not stopped:
                submit(coded)
                coded = []
            if not stopped:
                flush_native(wait_helper=exhausted or bool(pending))
            if not pending:
                if exhausted:
                    break
                continue
            finished, _ = wait(set(pending), return_when=FIRST_COMPLETED)
            for fut in finished:
                chunk, slots = pending.pop(fut)
                if slots is not None:
                    assert ring is not None
                    fut.result()
                    for i, slot in zip(chunk, slots):
                        out[i] = ring.array[slot]
                    ring.free.extend(slots)
                else:
                    frames = fut.result()
                    for j, i in enumerate(chunk):
                        out[i] = _coerce(frames[j], out.dtype, headers[i])
                    del frames
                if not stopped:
                    stopped = not report(chunk)
    finally:
        for fut in pending:
            fut.cancel()
        if helper is not None:
            try:
                helper.result()
            except Exception:  # noqa: BLE001 - the load is already failing or stopped
                pass
        if ring is not None:
            ring.close()


def load_volume(
    headers: Sequence[InstanceHeader],
    progress: Callable[[int, int], None] | None = None,
    workers: int = 2,
) -> Volume:
    """Sort, check and load a series into one (z, y, x) array of stored values.

    Native slices are read with `os.preadv` into their slot of the preallocated array; other
    slices are decoded in the reused spawn pool (`workers` processes; in-process when 1 or
    when there are only a few).  Gaps, duplicates and irregular spacing are loaded but listed
    in `Volume.report`; slices that cannot share one array (mixed sizes or orientations)
    raise `VolumeError`.  `progress(done, total)` is called as slices arrive.
    """
    if workers < 1:
        raise ValueError(f"workers: must be >= 1, not {workers}")
    if not headers:
        raise ValueError("headers: no slices given")
    if any(not h.has_pixels for h in headers):
        raise VolumeError("some instances have no pixel data (Rows/Columns missing)")
    multi = [h for h in headers if (h.number_of_frames or 1) > 1]
    if multi:
        if len(headers) == 1:
            return _load_multiframe(headers[0], progress)
        raise VolumeError("a multi-frame instance cannot be stacked with other instances")
    ordered, report = sort_slices(headers)
    if not report.stackable:
        raise VolumeError("cannot stack the series: " + "; ".join(report.problems), report)
    if (ordered[0].samples_per_pixel or 1) != 1:
        raise VolumeError("colour slices cannot form a volume of values", report)
    n = len(ordered)
    rows, cols = ordered[0].rows or 0, ordered[0].columns or 0
    dtype = _dtype_for(ordered)
    arr = np.empty((n, rows, cols), dtype=dtype)
    done = 0
    reported = 0
    step = max(1, n // 100)

    def tick(k: int) -> None:
        nonlocal done, reported
        done += k
        if progress is not None and (done - reported >= step or done == n):
            reported = done
            progress(done, n)

    n_coded = sum(not _is_native(h) for h in ordered)
    read_slices_into(ordered, arr, progress=lambda filled: tick(len(filled)),
                     workers=workers if n_coded >= 4 else 1)
    return volume_from_stack(arr, ordered, report)


def _coerce(frame: np.ndarray, dtype: np.dtype, h: InstanceHeader) -> np.ndarray:
    if frame.ndim != 2:
        raise VolumeError(f"{h.path}: decoded frame has shape {frame.shape}, expected 2-D grey values")
    if frame.dtype != dtype and not np.can_cast(frame.dtype, dtype, casting="same_kind"):
        raise VolumeError(f"{h.path}: decoded dtype {frame.dtype} does not fit the volume's {dtype}")
    return frame


def volume_from_stack(arr: np.ndarray, ordered: Sequence[InstanceHeader],
                      report: SliceOrderReport) -> Volume:
    """Wrap slices already in memory (in `sort_slices` order) as a Volume, without copying."""
    ordered = list(ordered)
    if arr.ndim != 3 or arr.shape[0] != len(ordered):
        raise ValueError(f"arr: expected ({len(ordered)}, rows, cols), got shape {arr.shape}")
    first = ordered[0]
    row_sp, col_sp = first.pixel_spacing or (1.0, 1.0)
    z = report.spacing or first.slice_thickness or 1.0
    slopes = np.array([h.rescale_slope if h.rescale_slope is not None else 1.0 for h in ordered])
    intercepts = np.array([h.rescale_intercept if h.rescale_intercept is not None else 0.0 for h in ordered])
    varying = bool(np.ptp(slopes) > 0 or np.ptp(intercepts) > 0)
    return Volume(
        array=arr,
        headers=ordered,
        spacing_zyx=(float(z), float(row_sp), float(col_sp)),
        slope=float(slopes[0]),
        intercept=float(intercepts[0]),
        report=report,
        origin=first.image_position,
        orientation=first.image_orientation,
        slice_slopes=slopes if varying else None,
        slice_intercepts=intercepts if varying else None,
    )


def _load_multiframe(h: InstanceHeader, progress: Callable[[int, int], None] | None) -> Volume:
    """One multi-frame instance: frames become slices; per-frame positions are not indexed."""
    arr = read_frames(h.path)
    if arr.ndim != 3:
        raise VolumeError(f"{h.path}: colour frames cannot form a volume of values")
    if progress is not None:
        progress(arr.shape[0], arr.shape[0])
    report = SliceOrderReport(
        False,
        ("single multi-frame instance: frames stacked in stored order; per-frame positions not checked",),
        h.slice_thickness,
        arr.shape[0],
        stackable=True,
    )
    return volume_from_stack(np.ascontiguousarray(arr), [h], report)


def reformat(
    volume: Volume, plane: Plane, index: int
) -> tuple[np.ndarray, tuple[float, float]]:
    """One plane of the volume and its pixel spacing (row mm, column mm) for MPR display.

    "axial" is the acquired plane (slice `index`); "coronal" fixes a row and "sagittal" a
    column of the acquired plane.  In reformatted planes the slice axis runs down the rows,
    flipped so that the slice furthest along +z of the patient (superior) is at the top.
    Show the result with a pixel aspect of row mm / column mm.
    """
    arr = volume.array
    dz, dy, dx = volume.spacing_zyx
    limits = {"axial": arr.shape[0], "coronal": arr.shape[1], "sagittal": arr.shape[2]}
    if plane not in limits:
        raise ValueError(f"plane: must be 'axial', 'coronal' or 'sagittal', not {plane!r}")
    if not 0 <= index < limits[plane]:
        raise ValueError(f"index: {index} is outside 0..{limits[plane] - 1} for the {plane} plane")
    if plane == "axial":
        return arr[index], (dy, dx)
    flip = volume.report.normal is not None and volume.report.normal[2] > 0
    image = arr[:, index, :] if plane == "coronal" else arr[:, :, index]
    if flip:
        image = image[::-1]
    return np.ascontiguousarray(image), (dz, dx if plane == "coronal" else dy)
