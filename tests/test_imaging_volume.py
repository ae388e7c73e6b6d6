"""Series to volumes: sorting, geometry problems, offset reads, the spawn decode pool, MPR."""
from __future__ import annotations

import random
import tracemalloc
from dataclasses import replace
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import (
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    JPEG2000Lossless,
    RLELossless,
    generate_uid,
)

from ioreview.imaging.header import InstanceHeader
from ioreview.imaging.volume import (
    SliceOrderReport,
    VolumeError,
    load_volume,
    read_slices_into,
    reformat,
    shutdown_decode_pool,
    sort_slices,
    stack_dtype,
)

CT = "1.2.840.10008.5.1.4.1.1.2"


def _offset(path: Path, ts: str) -> tuple[int | None, int | None]:
    if ts not in (ExplicitVRLittleEndian, ExplicitVRBigEndian):
        return None, None
    raw = path.read_bytes()
    big = ts == ExplicitVRBigEndian
    pos = raw.rfind(b"\x7f\xe0\x00\x10" if big else b"\xe0\x7f\x10\x00")
    length = int.from_bytes(raw[pos + 8 : pos + 12], "big" if big else "little")
    return pos + 12, length


def write_series(
    out: Path,
    n: int = 8,
    shape: tuple[int, int] = (24, 20),
    spacing: float = 2.5,
    ts: str = ExplicitVRLittleEndian,
    z_positions: list[float] | None = None,
    seed: int = 0,
) -> tuple[list[InstanceHeader], np.ndarray]:
    """A small axial CT series (signed 16-bit, HU = stored - 1024 ... stored as HU+0) in `out`.

    Returns shuffled headers (with Pixel Data offsets for native files) and the expected
    (z, y, x) stored values in ascending z order.
    """
    rng = np.random.default_rng(seed)
    zs = z_positions if z_positions is not None else [i * spacing - 40.0 for i in range(n)]
    study, series, frame = generate_uid(), generate_uid(), generate_uid()
    headers, arrays = [], []
    for k, z in enumerate(zs):
        arr = rng.integers(-1024, 2000, size=shape).astype(np.int16)
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = CT
        meta.MediaStorageSOPInstanceUID = generate_uid()
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = Dataset()
        ds.file_meta = meta
        ds.SOPClassUID, ds.SOPInstanceUID = CT, meta.MediaStorageSOPInstanceUID
        ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.FrameOfReferenceUID = study, series, frame
        ds.Modality = "CT"
        ds.InstanceNumber = k + 1
        ds.ImagePositionPatient = [-30.0, -20.0, float(z)]
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.PixelSpacing = [0.7, 0.8]
        ds.SliceThickness = spacing
        ds.Rows, ds.Columns = shape
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
        ds.RescaleSlope, ds.RescaleIntercept = 1, -1024
        ds.PixelData = arr.tobytes()
        if ts in (RLELossless, JPEG2000Lossless):
            ds.compress(ts)
        p = out / f"s{k:03d}.dcm"
        big = ts == ExplicitVRBigEndian
        if big:
            ds.file_meta.TransferSyntaxUID = ts
            ds.PixelData = arr.astype(">i2").tobytes()
            ds.save_as(p, enforce_file_format=True, little_endian=False, implicit_vr=False)
        else:
            ds.save_as(p, enforce_file_format=True)
        offset, length = _offset(p, ts)
        headers.append(InstanceHeader(
            path=str(p), sop_instance_uid=ds.SOPInstanceUID, sop_class_uid=CT, study_instance_uid=study,
            series_instance_uid=series, transfer_syntax_uid=ts, modality="CT", instance_number=k + 1,
            rows=shape[0], columns=shape[1], samples_per_pixel=1, photometric_interpretation="MONOCHROME2",
            bits_allocated=16, bits_stored=16, pixel_representation=1, pixel_spacing=(0.7, 0.8),
            slice_thickness=spacing, image_position=(-30.0, -20.0, float(z)),
            image_orientation=(1.0, 0.0, 0.0, 0.0, 1.0, 0.0), rescale_slope=1.0, rescale_intercept=-1024.0,
            pixel_data_offset=offset, pixel_data_length=length,
        ))
        arrays.append(arr)
    order = np.argsort(zs, kind="stable")
    expected = np.stack([arrays[i] for i in order])
    random.Random(seed).shuffle(headers)
    return headers, expected


@pytest.fixture(scope="module", autouse=True)
def _pool_cleanup():
    yield
    shutdown_decode_pool()


def test_native_series_loads_in_order(tmp_path: Path) -> None:
    headers, expected = write_series(tmp_path, n=9)
    seen: list[tuple[int, int]] = []
    vol = load_volume(headers, progress=lambda d, t: seen.append((d, t)))
    np.testing.assert_array_equal(vol.array, expected)
    assert vol.report.ok and vol.report.problems == ()
    assert vol.report.spacing == pytest.approx(2.5)
    assert vol.spacing_zyx == pytest.approx((2.5, 0.7, 0.8))
    assert [h.image_position[2] for h in vol.headers] == sorted(h.image_position[2] for h in headers)
    assert seen[-1] == (9, 9)
    np.testing.assert_allclose(vol.hu(), expected.astype(np.float32) - 1024)
    assert vol.origin == (-30.0, -20.0, -40.0)


def test_big_endian_native_series(tmp_path: Path) -> None:
    headers, expected = write_series(tmp_path, n=4, ts=ExplicitVRBigEndian)
    vol = load_volume(headers)
    np.testing.assert_array_equal(vol.array, expected)
    assert vol.array.dtype == np.int16 and vol.array.dtype.isnative


@pytest.mark.parametrize("ts", [RLELossless, JPEG2000Lossless])
def test_compressed_series_in_spawn_pool(tmp_path: Path, ts: str) -> None:
    headers, expected = write_series(tmp_path, n=10, shape=(40, 36), ts=ts)
    assert all(h.pixel_data_offset is None for h in headers)
    seen: list[tuple[int, int]] = []
    vol = load_volume(headers, progress=lambda d, t: seen.append((d, t)), workers=2)
    np.testing.assert_array_equal(vol.array, expected)
    assert seen[-1] == (10, 10)
    in_process = load_volume(headers[:3], workers=1)
    assert in_process.array.shape == (3, 40, 36)


def test_gap_is_reported_not_hidden(tmp_path: Path) -> None:
    zs = [0.0, 2.5, 5.0, 7.5, 15.0, 17.5]
    headers, expected = write_series(tmp_path, z_positions=zs)
    vol = load_volume(headers)
    np.testing.assert_array_equal(vol.array, expected)
    assert not vol.report.ok
    assert any("gap of 7.50 mm" in p for p in vol.report.problems)
    assert vol.report.spacing == pytest.approx(2.5)


def test_duplicates_and_irregular_spacing(tmp_path: Path) -> None:
    headers, _ = write_series(tmp_path, z_positions=[0.0, 2.5, 2.5, 5.0, 7.5])
    _, report = sort_slices(headers)
    assert any("duplicate" in p for p in report.problems)
    headers, _ = write_series(tmp_path, z_positions=[0.0, 2.0, 5.0, 7.0, 10.0], seed=1)
    _, report = sort_slices(headers)
    assert any("irregular" in p for p in report.problems)
    assert not any("gap" in p for p in report.problems)


def test_mixed_orientation_and_size_refuse_to_stack(tmp_path: Path) -> None:
    headers, _ = write_series(tmp_path, n=4)
    tilted = [replace(headers[0], image_orientation=(1.0, 0.0, 0.0, 0.0, 0.0, -1.0))] + headers[1:]
    with pytest.raises(VolumeError, match="mixed orientations") as info:
        load_volume(tilted)
    assert isinstance(info.value.report, SliceOrderReport)
    resized = [replace(headers[0], rows=12)] + headers[1:]
    with pytest.raises(VolumeError, match="mixed image sizes"):
        load_volume(resized)


def test_missing_positions_fall_back_to_instance_number(tmp_path: Path) -> None:
    headers, _ = write_series(tmp_path, n=5)
    bare = [replace(h, image_position=None) for h in headers]
    ordered, report = sort_slices(bare)
    assert [h.instance_number for h in ordered] == [1, 2, 3, 4, 5]
    assert not report.ok and report.spacing is None
    assert "Instance Number" in report.problems[0]


def test_oblique_stack_sorted_along_normal() -> None:
    normal = np.array([0.0, np.sin(0.3), np.cos(0.3)])
    row = np.array([1.0, 0.0, 0.0])
    col = np.cross(normal, row)
    iop = tuple(float(v) for v in (*row, *col))
    hs = [
        InstanceHeader(path=f"{i}", sop_instance_uid=str(i), sop_class_uid=CT, study_instance_uid="1",
                       series_instance_uid="1", rows=4, columns=4, image_orientation=iop,
                       image_position=tuple(float(v) for v in (normal * 3.0 * i + np.array([5.0, 1.0, 2.0]))))
        for i in (3, 0, 2, 1)
    ]
    ordered, report = sort_slices(hs)
    assert [h.path for h in ordered] == ["0", "1", "2", "3"]
    assert report.ok and report.spacing == pytest.approx(3.0)


def test_reformat_planes(tmp_path: Path) -> None:
    headers, expected = write_series(tmp_path, n=6)
    vol = load_volume(headers)
    axial, sp = reformat(vol, "axial", 2)
    np.testing.assert_array_equal(axial, expected[2])
    assert sp == (0.7, 0.8)
    coronal, sp = reformat(vol, "coronal", 5)
    np.testing.assert_array_equal(coronal, expected[::-1, 5, :])
    assert sp == (2.5, 0.8)
    sagittal, sp = reformat(vol, "sagittal", 3)
    np.testing.assert_array_equal(sagittal, expected[::-1, :, 3])
    assert sp == (2.5, 0.7)
    with pytest.raises(ValueError, match="index"):
        reformat(vol, "sagittal", 20)
    with pytest.raises(ValueError, match="plane"):
        reformat(vol, "oblique", 0)  # type: ignore[arg-type]


def test_native_load_has_no_per_slice_copies(tmp_path: Path) -> None:
    headers, expected = write_series(tmp_path, n=20, shape=(128, 128))
    raw = expected.nbytes
    tracemalloc.start()
    try:
        vol = load_volume(headers)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    np.testing.assert_array_equal(vol.array, expected)
    assert peak <= 1.3 * raw


def test_varying_rescale_is_applied_per_slice(tmp_path: Path) -> None:
    headers, expected = write_series(tmp_path, n=3)
    headers = sorted(headers, key=lambda h: h.image_position[2])
    headers[1] = replace(headers[1], rescale_slope=2.0)
    vol = load_volume(headers)
    assert any("Rescale" in p for p in vol.report.problems)
    hu = vol.hu()
    np.testing.assert_allclose(hu[1], expected[1] * 2.0 - 1024)
    np.testing.assert_allclose(hu[0], expected[0] - 1024.0)


def test_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="headers"):
        load_volume([])
    headers, _ = write_series(tmp_path, n=2)
    with pytest.raises(ValueError, match="workers"):
        load_volume(headers, workers=0)


def test_reads_match_pydicom(tmp_path: Path) -> None:
    headers, _ = write_series(tmp_path, n=3)
    vol = load_volume(headers)
    for h, slab in zip(vol.headers, vol.array):
        np.testing.assert_array_equal(slab, pydicom.dcmread(h.path).pixel_array)


# ---------------------------------------------------------------- read_slices_into
def _by_z(headers: list[InstanceHeader]) -> list[InstanceHeader]:
    return sorted(headers, key=lambda h: h.image_position[2])


def test_read_slices_into_fills_a_given_array_in_the_asked_order(tmp_path: Path) -> None:
    headers, expected = write_series(tmp_path, n=40, shape=(16, 12))
    hs = _by_z(headers)
    out = np.zeros((40, 16, 12), dtype=stack_dtype(hs))
    order = [20] + [j for d in range(1, 21) for j in (20 + d, 20 - d) if 0 <= j < 40]
    reported: list[list[int]] = []
    read_slices_into(hs, out, iter(order), progress=lambda done: reported.append(list(done)))
    np.testing.assert_array_equal(out, expected)
    assert [i for chunk in reported for i in chunk] == order
    assert reported[0][0] == 20 and all(len(c) <= 32 for c in reported)


def test_read_slices_into_has_no_per_slice_copies(tmp_path: Path) -> None:
    headers, expected = write_series(tmp_path, n=20, shape=(128, 128))
    hs = _by_z(headers)
    out = np.empty(expected.shape, dtype=expected.dtype)
    tracemalloc.start()
    try:
        read_slices_into(hs, out)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    np.testing.assert_array_equal(out, expected)
    assert peak < 0.1 * expected.nbytes


@pytest.mark.parametrize("workers", [1, 2])
def test_read_slices_into_decodes_compressed_slices_and_can_stop(tmp_path: Path, workers: int) -> None:
    headers, expected = write_series(tmp_path, n=12, shape=(40, 36), ts=JPEG2000Lossless)
    hs = _by_z(headers)
    out = np.zeros(expected.shape, dtype=np.int16)
    filled: list[int] = []
    read_slices_into(hs, out, progress=filled.extend, workers=workers, chunk_size=3)
    np.testing.assert_array_equal(out, expected)
    assert sorted(filled) == list(range(12))
    out[:] = 0
    calls: list[list[int]] = []

    def stop_after_first(done: list[int]) -> bool:
        calls.append(list(done))
        return False

    read_slices_into(hs, out, [5, 6, 7, 8, 9, 10], progress=stop_after_first, workers=workers, chunk_size=3)
    assert len(calls) == 1 and calls[0] in ([5, 6, 7], [8, 9, 10])
    if workers == 1:
        assert not out[8:11].any()
    np.testing.assert_array_equal(out[calls[0]], expected[calls[0]])
    assert not out[:5].any()


def test_read_slices_into_rejects_bad_arguments(tmp_path: Path) -> None:
    headers, _ = write_series(tmp_path, n=3)
    with pytest.raises(ValueError, match="out"):
        read_slices_into(headers, np.zeros((2, 24, 20), np.int16))
    with pytest.raises(ValueError, match="workers"):
        read_slices_into(headers, np.zeros((3, 24, 20), np.int16), workers=0)
    with pytest.raises(VolumeError, match="mix"):
        stack_dtype([headers[0], replace(headers[1], pixel_representation=0)])


def test_warm_decode_pool_starts_workers_in_the_background():
    from ioreview.imaging.volume import shutdown_decode_pool, warm_decode_pool

    try:
        futures = warm_decode_pool(2)
        assert len(futures) == 2
        assert all(isinstance(f.result(timeout=60), int) for f in futures)
    finally:
        shutdown_decode_pool()


def _rings_of_this_process() -> list[str]:
    import os

    from ioreview.imaging import volume

    if not os.path.isdir(volume._RING_DIR):
        return []
    return [n for n in os.listdir(volume._RING_DIR) if n.startswith(f"{volume._RING_PREFIX}{os.getpid()}-")]


def test_compressed_slices_come_back_through_a_shared_ring_that_is_removed(tmp_path: Path, monkeypatch) -> None:
    """With workers, decoded slices are written by the pool into a shared-memory ring (no
    pickled arrays); the ring is gone when the load ends, also when it is stopped.  Without
    a RAM file system the same load works through the pool's pipe."""
    from ioreview.imaging import volume

    headers, expected = write_series(tmp_path, n=10, shape=(40, 36), ts=JPEG2000Lossless)
    hs = _by_z(headers)
    made: list[object] = []
    real_create = volume._SlotRing.create

    def spy(*args, **kwargs):
        ring = real_create(*args, **kwargs)
        made.append(ring)
        return ring

    monkeypatch.setattr(volume._SlotRing, "create", staticmethod(spy))
    out = np.zeros(expected.shape, np.int16)
    read_slices_into(hs, out, workers=2, chunk_size=2)
    np.testing.assert_array_equal(out, expected)
    if Path(volume._RING_DIR).is_dir():
        assert made and made[0] is not None
    assert _rings_of_this_process() == []
    read_slices_into(hs, np.zeros_like(out), workers=2, chunk_size=2, progress=lambda done: False)
    assert _rings_of_this_process() == []
    monkeypatch.setattr(volume, "_RING_DIR", str(tmp_path / "no-shm-here"))
    out[:] = 0
    read_slices_into(hs, out, workers=2, chunk_size=2)
    np.testing.assert_array_equal(out, expected)


def test_stale_rings_of_dead_processes_are_removed(tmp_path: Path, monkeypatch) -> None:
    import os
    import subprocess

    from ioreview.imaging import volume

    monkeypatch.setattr(volume, "_RING_DIR", str(tmp_path))
    proc = subprocess.Popen(["true"])  # a pid that has exited
    proc.wait()
    stale = tmp_path / f"{volume._RING_PREFIX}{proc.pid}-0"
    mine = tmp_path / f"{volume._RING_PREFIX}{os.getpid()}-0"
    other = tmp_path / "unrelated-file"
    for f in (stale, mine, other):
        f.write_bytes(b"x")
    volume._remove_stale_rings()
    assert not stale.exists() and mine.exists() and other.exists()


def _die() -> None:
    import os

    os._exit(3)


def test_a_pool_broken_by_a_dying_worker_is_replaced(tmp_path: Path) -> None:
    """A decoder crashing a worker process must not disable decoding for the session."""
    from concurrent.futures.process import BrokenProcessPool

    from ioreview.imaging.volume import shutdown_decode_pool, start_decode_pool

    try:
        pool = start_decode_pool(2)
        with pytest.raises(BrokenProcessPool):
            pool.submit(_die).result(timeout=60)
        headers, expected = write_series(tmp_path, n=6, shape=(40, 36), ts=JPEG2000Lossless)
        hs = _by_z(headers)
        out = np.zeros(expected.shape, np.int16)
        read_slices_into(hs, out, workers=2, chunk_size=2)
        np.testing.assert_array_equal(out, expected)
        assert start_decode_pool(2) is not pool
    finally:
        shutdown_decode_pool()


def test_stack_buffers_reuse_an_array_only_when_nothing_views_it():
    from ioreview.imaging.volume import StackBuffers

    pool = StackBuffers(keep=2, keep_bytes=1 << 20)
    a = pool.empty((4, 16, 16), np.int16)
    assert a.shape == (4, 16, 16) and a.dtype == np.int16 and a.flags.c_contiguous
    a[:] = 7
    buffer_id = id(a.base)
    on_screen = a[2]  # a slice still shown somewhere
    pool.recycle(a)
    del a
    # (plain comparisons first: pytest's assertion rewriting would keep `x.base` alive)
    b = pool.empty((4, 16, 16), np.int16)
    reused = id(b.base) == buffer_id
    assert not reused  # the view keeps its buffer out of reach
    assert int(on_screen[0, 0]) == 7
    del on_screen
    c = pool.empty((2, 32, 16), np.uint16)  # same byte size, other shape and type
    reused = id(c.base) == buffer_id
    assert reused
    pool.recycle(b)
    pool.recycle(c)
    del b, c
    assert pool.kept_bytes == 2 * 4 * 16 * 16 * 2
    pool.empty((3, 3, 3), np.int16)  # a miss frees what is kept and unused
    assert pool.kept_bytes == 0
    # arrays it did not make, and ones over the budget, are not kept
    pool.recycle(np.zeros((4, 16, 16), np.int16))
    big = pool.empty((1024, 1024), np.uint8)
    big2 = pool.empty((1024, 1025), np.uint8)
    pool.recycle(big)
    pool.recycle(big2)
    assert pool.kept_bytes <= 1 << 20
