"""The viewer's per-frame display path: a `GreyTable` refilled for each window step and
applied through indices kept for the frame gives exactly the grey levels of
`to_display_uint8`, for every stored type it takes and for windows of every kind."""
from __future__ import annotations

import numpy as np
import pytest

from ioreview.imaging.display import GreyTable, Window, build_display_lut, frame_range, table_index, to_display_uint8


@pytest.mark.parametrize(
    "dtype,lo,hi,slope,intercept",
    [
        (np.int16, -2048, 2047, 1.0, -1024.0),  # a signed range crossing zero: two table pieces
        (np.int16, 0, 4095, 1.0, -1024.0),
        (np.uint16, 0, 65535, 1.0, 0.0),
        (np.uint8, 0, 255, 2.0, -10.0),
        (np.int8, -128, 127, 0.5, 3.0),
    ],
)
def test_a_window_drag_over_kept_indices_gives_the_uint8_grey_levels(dtype, lo, hi, slope, intercept):
    rng = np.random.default_rng(5)
    frame = rng.integers(lo, hi, (48, 37), endpoint=True).astype(dtype)
    index = table_index(frame)
    table = GreyTable(dtype)
    steps = [Window(40.0 + 7 * k, 400.0 + 13 * k) for k in range(12)]
    steps += [Window(100, 50, function="LINEAR_EXACT"), Window(0, 300, function="SIGMOID"), Window(-3000, 1)]
    for window in steps:
        for invert in (False, True):
            lut = build_display_lut(np.dtype(dtype), slope, intercept, window, invert)
            rgb = table.apply(frame, lut, frame_range(frame), index=index)
            assert np.array_equal(rgb, table.apply(frame, lut, frame_range(frame)))
            grey = (rgb & 0xFF).astype(np.uint8)
            assert np.all(rgb >> 24 == 0xFF)
            assert np.array_equal((rgb >> 8) & 0xFF, grey) and np.array_equal((rgb >> 16) & 0xFF, grey)
            assert np.array_equal(grey, to_display_uint8(frame, lut)), (window, invert)


def test_kept_indices_of_a_strided_view_and_a_reused_buffer():
    frame = np.arange(-600, 600, dtype=np.int16).reshape(30, 40)
    view = frame[::2, ::3]
    index = table_index(view)
    assert index.dtype == np.intp and index.flags.c_contiguous
    assert np.array_equal(index, view.view(np.uint16).astype(np.intp))
    again = table_index(frame[1::2, ::3], out=index)
    assert again is index  # same shape: the buffer is reused
    lut = build_display_lut(np.int16, 1.0, 0.0, Window(0, 800))
    table = GreyTable(np.int16)
    shown = table.apply(frame[1::2, ::3], lut, frame_range(frame), index=again)
    assert np.array_equal(shown & 0xFF, to_display_uint8(np.ascontiguousarray(frame[1::2, ::3]), lut))


def test_indices_that_do_not_fit_are_refused():
    with pytest.raises(ValueError, match="stored"):
        table_index(np.zeros((2, 2), np.int32))
    with pytest.raises(ValueError, match="stored"):
        table_index(np.zeros((2, 2), np.float32))
    frame = np.zeros((4, 4), np.int16)
    table = GreyTable(np.int16)
    lut = build_display_lut(np.int16)
    with pytest.raises(ValueError, match="index"):
        table.apply(frame, lut, (0, 0), index=table_index(np.zeros((4, 3), np.int16)))
    with pytest.raises(ValueError, match="index"):
        table.apply(frame, lut, (0, 0), index=np.zeros((4, 4), np.int32))
