"""Display pipeline timings: LUT build and stored -> uint8 for a CT slice and a radiograph.

Run: .venv/bin/python benchmarks/bench_display.py
Prints medians over 200 frames for the folded multiply-add (used for linear windows) and the
64k-entry table gather (used for SIGMOID and LUT sequences; the table is built on first use).
"""
from __future__ import annotations

import time

import numpy as np

from ioreview.imaging.display import Window, build_display_lut, to_display_uint8


def _median_ms(fn, n: int = 200) -> float:
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return float(np.median(times)) * 1e3


def _frames(shape: tuple[int, int], dtype: type, lo: int, hi: int, n: int = 8) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [rng.integers(lo, hi, size=shape).astype(dtype) for _ in range(n)]


def main() -> None:
    cases = [
        ("CT 512x512 int16, W 40/400", (512, 512), np.int16, -2048, 3000, 1.0, -1024.0, Window(40, 400), False),
        ("radiograph 2000x2000 uint16 (12 bit), MONOCHROME1", (2000, 2000), np.uint16, 0, 4096, 1.0, 0.0,
         Window(2048, 4096), True),
    ]
    for label, shape, dtype, lo, hi, slope, intercept, window, invert in cases:
        frames = _frames(shape, dtype, lo, hi)
        build = _median_ms(lambda: build_display_lut(dtype, slope, intercept, window, invert), 50)
        build_table = _median_ms(lambda: build_display_lut(dtype, slope, intercept, window, invert).table, 50)
        lut = build_display_lut(dtype, slope, intercept, window, invert)
        i = iter(range(10**9))
        folded = _median_ms(lambda: to_display_uint8(frames[next(i) % len(frames)], lut))
        out = np.empty(shape, np.uint8)
        folded_out = _median_ms(lambda: to_display_uint8(frames[next(i) % len(frames)], lut, out=out))
        table = lut.table
        assert table is not None
        unsigned = [f.view(np.dtype(f"u{f.dtype.itemsize}")) for f in frames]
        gather = _median_ms(lambda: np.take(table, unsigned[next(i) % len(unsigned)]))
        sig = build_display_lut(dtype, slope, intercept, Window(window.center, window.width, "SIGMOID"), invert)
        sigmoid = _median_ms(lambda: to_display_uint8(frames[next(i) % len(frames)], sig))
        print(label)
        print(f"  LUT build (linear; table is lazy)   {build:8.3f} ms  (with its 64k table on first use: {build_table:.3f} ms)")
        print(f"  stored->uint8 folded multiply-add   {folded:8.3f} ms  (into preallocated out: {folded_out:.3f} ms)")
        print(f"  stored->uint8 64k table np.take     {gather:8.3f} ms")
        print(f"  stored->uint8 SIGMOID (table path)  {sigmoid:8.3f} ms")


if __name__ == "__main__":
    main()
