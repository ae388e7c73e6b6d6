"""Run long service calls off the GUI thread and report back through Qt signals.

The service layer takes a plain ``progress(done, total)`` callable (see shared/design.md);
`run_in_thread` hands the function such a callable that emits a Qt signal, so the progress
bar, the result and any exception all arrive in the GUI thread as queued signals.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, QTimer, Signal, Slot

__all__ = ["TaskSignals", "TaskHandle", "run_in_thread"]


class TaskSignals(QObject):
    """Signals of one background task; the object lives in the thread that started it."""

    progress = Signal(int, int)
    done = Signal(object)
    error = Signal(object)
    finished = Signal()


class _Task(QRunnable):
    """The runnable executed by the thread pool: calls ``fn`` and emits the outcome."""

    def __init__(self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any],
                 signals: TaskSignals, with_progress: bool) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._fn = fn
        self._args = args
        self._kwargs = kwargs
        self._signals = signals
        self._with_progress = with_progress

    def run(self) -> None:  # noqa: D401 - Qt override
        """Call the function; exceptions are delivered as the ``error`` signal, never raised."""
        signals = self._signals
        kwargs = dict(self._kwargs)
        if self._with_progress:
            kwargs["progress"] = lambda done, total: signals.progress.emit(int(done), int(total))
        try:
            result = self._fn(*self._args, **kwargs)
        except BaseException as exc:  # delivered to the GUI thread, which shows it
            signals.error.emit(exc)
        else:
            signals.done.emit(result)
        finally:
            signals.finished.emit()


class TaskHandle(QObject):
    """What `run_in_thread` returns: relays the task's signals to the callbacks in the thread
    that started it (a QObject receiver there makes the connections queued), and tells
    whether the task is still running."""

    def __init__(self, signals: TaskSignals,
                 on_done: Callable[[Any], None] | None,
                 on_error: Callable[[BaseException], None] | None,
                 on_progress: Callable[[int, int], None] | None) -> None:
        super().__init__()
        self.signals = signals
        self.running = True
        self._on_done = on_done
        self._on_error = on_error
        self._on_progress = on_progress
        signals.progress.connect(self._relay_progress)
        signals.done.connect(self._relay_done)
        signals.error.connect(self._relay_error)
        signals.finished.connect(self._relay_finished)

    @Slot(int, int)
    def _relay_progress(self, done: int, total: int) -> None:
        if self._on_progress is not None:
            self._on_progress(done, total)

    @Slot(object)
    def _relay_done(self, result: Any) -> None:
        if self._on_done is not None:
            self._on_done(result)

    @Slot(object)
    def _relay_error(self, exc: Any) -> None:
        if self._on_error is not None:
            self._on_error(exc)

    @Slot()
    def _relay_finished(self) -> None:
        self.running = False
        # Release the handle on the next turn of the event loop, not inside its own slot: if
        # the caller dropped its reference too (a dialog setting its task to None when done),
        # discarding it here would destroy the QObject whose signal Qt is still delivering.
        QTimer.singleShot(0, lambda: _LIVE.discard(self))


_LIVE: set[TaskHandle] = set()


def run_in_thread(
    fn: Callable[..., Any],
    *args: Any,
    on_done: Callable[[Any], None] | None = None,
    on_error: Callable[[BaseException], None] | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    pool: QThreadPool | None = None,
    **kwargs: Any,
) -> TaskHandle:
    """Run ``fn(*args, **kwargs)`` in a worker thread.

    When ``on_progress`` is given, ``fn`` receives a ``progress=`` keyword argument: a plain
    callable whose calls arrive as ``on_progress(done, total)`` in the calling (GUI) thread.
    ``on_done(result)`` or ``on_error(exception)`` follows, also in the calling thread.
    """
    signals = TaskSignals()
    handle = TaskHandle(signals, on_done, on_error, on_progress)
    _LIVE.add(handle)
    task = _Task(fn, args, kwargs, signals, with_progress=on_progress is not None)
    (pool or QThreadPool.globalInstance()).start(task)
    return handle
