"""Cine playback of multi-frame images (ultrasound clips) and slice stacks.

The rate comes from the header (Frame Time, PS3.3 C.7.6.5: ms per frame); stacks without
one play at `DEFAULT_FPS`.  Frames are chosen from the elapsed time, so playback keeps the
acquired speed even when a frame is late: a slow frame is skipped, never slowed down.
"""
from __future__ import annotations

import time
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, QTimer

if TYPE_CHECKING:
    from ioreview.ui.viewer.viewport import ImageViewport

DEFAULT_FPS = 15.0
MAX_FPS = 120.0


class CineController(QObject):
    """Plays a viewport's stack in a loop; `toggle()` is the C key."""

    def __init__(self, viewport: ImageViewport) -> None:
        super().__init__(viewport)
        self._view = viewport
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self._tick)
        self._t0 = 0.0
        self._start_index = 0
        self.fps = DEFAULT_FPS
        self.fps_override: float | None = None

    @property
    def running(self) -> bool:
        return self._timer.isActive()

    def header_fps(self) -> float:
        """Frames per second from the header's Frame Time, else the default rate."""
        h = self._view.current_header()
        ft = getattr(h, "frame_time_ms", None) if h is not None else None
        if ft and ft > 0:
            return min(1000.0 / ft, MAX_FPS)
        return DEFAULT_FPS

    def start(self) -> None:
        src = self._view.source
        if src is None or src.count < 2:
            return
        self.fps = self.fps_override or self.header_fps()
        self._t0 = time.perf_counter()
        self._start_index = self._view.index
        self._timer.start(max(1, int(1000.0 / self.fps / 2)))
        self._view.cineToggled.emit(True)
        self._view.update()

    def stop(self) -> None:
        if self._timer.isActive():
            self._timer.stop()
            self._view.cineToggled.emit(False)
            self._view.update()

    def toggle(self) -> None:
        if self.running:
            self.stop()
        else:
            self.start()

    def _tick(self) -> None:
        src = self._view.source
        if src is None or src.count < 2:
            self.stop()
            return
        elapsed = time.perf_counter() - self._t0
        index = (self._start_index + int(elapsed * self.fps)) % src.count
        if index != self._view.index:
            self._view.set_index(index)
