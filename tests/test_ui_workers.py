"""Background tasks for the UI: progress, results and errors arrive in the GUI thread, and a
task handle whose owner drops it in its own callback (as the export dialog does) is released
after Qt has delivered its last signal, on the next turn of the event loop.  Releasing it inside
its own slot made the export dialog's test die with a segmentation fault about one run in six
(it passed 28 runs in a row after the change); this test checks the behaviour, it did not
reproduce the crash by itself."""
from __future__ import annotations

import gc

from ioreview.ui import workers
from ioreview.ui.workers import run_in_thread


def test_a_handle_dropped_in_its_callback_is_released_after_delivery(qtbot):
    seen: list[object] = []
    holder: dict[str, object] = {}

    def done(result: object) -> None:
        seen.append(result)
        holder.pop("task", None)  # the owner lets go, as the export dialog does
        gc.collect()

    for n in range(20):
        holder["task"] = run_in_thread(lambda k=n: k * 2, on_done=done)
        qtbot.waitUntil(lambda: len(seen) == n + 1, timeout=5000)
        handle = next(iter(workers._LIVE), None)
        qtbot.waitUntil(lambda: not workers._LIVE, timeout=5000)
        del handle
    assert seen == [n * 2 for n in range(20)]


def test_progress_and_errors_arrive_in_the_gui_thread(qtbot):
    import threading

    events: list[tuple[str, object, bool]] = []
    main = threading.get_ident()

    def work(progress) -> None:
        for i in range(3):
            progress(i + 1, 3)
        raise ValueError("refused")

    task = run_in_thread(work, on_progress=lambda d, t: events.append(
                             ("progress", (d, t), threading.get_ident() == main)),
                         on_error=lambda e: events.append(
                             ("error", str(e), threading.get_ident() == main)))
    qtbot.waitUntil(lambda: not task.running, timeout=5000)
    assert events == [("progress", (1, 3), True), ("progress", (2, 3), True),
                      ("progress", (3, 3), True), ("error", "refused", True)]
