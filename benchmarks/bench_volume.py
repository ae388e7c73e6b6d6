"""Volume loading timings: 500 x 512x512 CT, native at indexed offsets and JPEG 2000 lossless.

Run: .venv/bin/python benchmarks/bench_volume.py [--slices 500]
Data is generated once into benchmarks/_data/ (gitignored).  Prints load_volume (warm page
cache) against a pydicom per-file loop, peak traced memory against the raw volume size, the
time to the first slice, and the J2K series decoded in-process and on 2 spawn processes.
"""
from __future__ import annotations

import argparse
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, JPEG2000Lossless, generate_uid

from ioreview.imaging.decode import read_frame_at_offset, read_frames
from ioreview.imaging.header import InstanceHeader
from ioreview.imaging.volume import load_volume, shutdown_decode_pool, sort_slices, start_decode_pool

DATA = Path(__file__).resolve().parent / "_data"
CT = "1.2.840.10008.5.1.4.1.1.2"


def _phantom_slice(k: int, shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    y, x = np.mgrid[: shape[0], : shape[1]]
    cy, cx = shape[0] / 2, shape[1] / 2
    body = ((y - cy) / (0.42 * shape[0])) ** 2 + ((x - cx) / (0.45 * shape[1])) ** 2 <= 1
    bone = ((y - cy) / 30) ** 2 + ((x - cx - 60 - 10 * np.sin(k / 40)) / 22) ** 2 <= 1
    hu = np.full(shape, -1000.0)
    hu[body] = 40.0
    hu[bone] = 900.0
    hu += rng.normal(0, 12, shape)
    return (hu + 1024).round().astype(np.int16)


def _write(out: Path, n: int, shape: tuple[int, int], ts: str) -> None:
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    study, series = generate_uid(), generate_uid()
    for k in range(n):
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = CT
        meta.MediaStorageSOPInstanceUID = generate_uid()
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = Dataset()
        ds.file_meta = meta
        ds.SOPClassUID, ds.SOPInstanceUID = CT, meta.MediaStorageSOPInstanceUID
        ds.StudyInstanceUID, ds.SeriesInstanceUID = study, series
        ds.Modality, ds.InstanceNumber = "CT", k + 1
        ds.ImagePositionPatient = [-180.0, -180.0, -250.0 + k * 1.0]
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.PixelSpacing, ds.SliceThickness = [0.7, 0.7], 1.0
        ds.Rows, ds.Columns = shape
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
        ds.RescaleSlope, ds.RescaleIntercept = 1, -1024
        ds.PixelData = _phantom_slice(k, shape, rng).tobytes()
        if ts != ExplicitVRLittleEndian:
            ds.compress(ts)
        ds.save_as(out / f"{k:04d}.dcm", enforce_file_format=True)


def _headers(folder: Path) -> list[InstanceHeader]:
    """Index the series the way the importer does: header values plus the Pixel Data offset."""
    out = []
    for p in sorted(folder.glob("*.dcm")):
        ds = pydicom.dcmread(p, stop_before_pixels=True)
        ts = str(ds.file_meta.TransferSyntaxUID)
        offset = length = None
        if ts == ExplicitVRLittleEndian:
            raw = p.read_bytes()
            pos = raw.rfind(b"\xe0\x7f\x10\x00")
            offset, length = pos + 12, int.from_bytes(raw[pos + 8 : pos + 12], "little")
        out.append(InstanceHeader(
            path=str(p), sop_instance_uid=ds.SOPInstanceUID, sop_class_uid=CT,
            study_instance_uid=ds.StudyInstanceUID, series_instance_uid=ds.SeriesInstanceUID,
            transfer_syntax_uid=ts, modality="CT", instance_number=int(ds.InstanceNumber),
            rows=ds.Rows, columns=ds.Columns, samples_per_pixel=1, photometric_interpretation="MONOCHROME2",
            bits_allocated=16, bits_stored=16, pixel_representation=1, pixel_spacing=(0.7, 0.7),
            slice_thickness=1.0, image_position=tuple(float(v) for v in ds.ImagePositionPatient),
            image_orientation=tuple(float(v) for v in ds.ImageOrientationPatient),
            rescale_slope=1.0, rescale_intercept=-1024.0, pixel_data_offset=offset, pixel_data_length=length,
        ))
    return out


def _ensure(folder: Path, n: int, ts: str) -> list[InstanceHeader]:
    if len(list(folder.glob("*.dcm"))) != n:
        t = time.perf_counter()
        _write(folder, n, (512, 512), ts)
        print(f"  generated {folder.name} in {time.perf_counter() - t:.1f} s")
    return _headers(folder)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--slices", type=int, default=500)
    ap.add_argument("--j2k-single", type=int, default=50, help="slices for the in-process J2K figure")
    args = ap.parse_args()
    n = args.slices

    native = _ensure(DATA / f"ct{n}_native", n, ExplicitVRLittleEndian)
    raw_bytes = n * 512 * 512 * 2
    print(f"native series: {n} x 512x512 int16 ({raw_bytes / 2**20:.0f} MiB)")
    load_volume(native)  # warm the page cache
    runs = []
    for _ in range(5):
        t = time.perf_counter()
        vol = load_volume(native)
        runs.append(time.perf_counter() - t)
    print(f"  load_volume (offsets, preadv into one array), warm: median {np.median(runs):.3f} s "
          f"({raw_bytes / np.median(runs) / 1e9:.1f} GB/s), best {min(runs):.3f} s")
    t = time.perf_counter()
    ordered, _ = sort_slices(native)
    t_sort = time.perf_counter() - t
    t = time.perf_counter()
    first = read_frame_at_offset(ordered[0])
    t_first = time.perf_counter() - t
    print(f"  sort_slices {t_sort * 1e3:.1f} ms; first slice via read_frame_at_offset {t_first * 1e3:.2f} ms")
    assert np.array_equal(first, vol.array[0])
    tracemalloc.start()
    vol = load_volume(native)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"  peak traced memory during load_volume: {peak / 2**20:.0f} MiB = {peak / raw_bytes:.3f} x raw")
    del vol
    t = time.perf_counter()
    arrays = [pydicom.dcmread(h.path).pixel_array for h in ordered]
    stacked = np.stack(arrays)
    t_pyd = time.perf_counter() - t
    print(f"  pydicom per-file dcmread().pixel_array loop + np.stack: {t_pyd:.3f} s")
    del arrays, stacked

    j2k = _ensure(DATA / f"ct{n}_j2k", n, JPEG2000Lossless)
    print(f"JPEG 2000 lossless series: {n} x 512x512")
    subset = j2k[: args.j2k_single]
    t = time.perf_counter()
    for h in subset:
        read_frames(h.path, [0])
    per = (time.perf_counter() - t) / len(subset)
    print(f"  in-process decode: {per * 1e3:.1f} ms/slice (=> {per * n:.1f} s for {n})")
    t = time.perf_counter()
    start_decode_pool(2)
    t_pool = time.perf_counter() - t
    t = time.perf_counter()
    vol = load_volume(j2k, workers=2)
    t_cold = time.perf_counter() - t
    t = time.perf_counter()
    vol = load_volume(j2k, workers=2)
    t_warm = time.perf_counter() - t
    print(f"  load_volume workers=2 (spawn pool): first {t_cold:.2f} s (pool creation {t_pool * 1e3:.0f} ms, "
          f"workers import lazily), reused pool {t_warm:.2f} s ({t_warm / n * 1e3:.1f} ms/slice)")
    native_vol = load_volume(native)
    print(f"  J2K volume equals native volume: {bool(np.array_equal(vol.array, native_vol.array))}")
    shutdown_decode_pool()


if __name__ == "__main__":
    main()
