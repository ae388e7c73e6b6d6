"""The export's worker process: tasks handed over without blocking, results and errors
returned where they are asked for, and the same results without a worker process."""
from __future__ import annotations

import math
import time

import pytest

from ioreview.service.exports.trial_export import _Workers


@pytest.mark.parametrize("processes", [0, 1])
def test_results_and_errors_come_back(processes: int) -> None:
    workers = _Workers(processes)
    workers.start()
    try:
        t0 = time.perf_counter()
        ok = workers.submit(math.sqrt, 16.0)
        bad = workers.submit(math.sqrt, -1.0)
        if processes:
            # handing over does not wait for the worker process to start
            assert time.perf_counter() - t0 < 0.5
        assert ok.result(timeout=120) == 4.0
        with pytest.raises(ValueError, match="math domain error"):
            bad.result(timeout=120)
        with pytest.raises(ValueError):
            workers.wait()
    finally:
        workers.close()


def test_close_without_tasks_after_start() -> None:
    workers = _Workers(1)
    workers.start()
    workers.close()
    assert workers.pool is None
