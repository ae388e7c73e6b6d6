"""Axial / coronal / sagittal reformats of a CT or MR volume.

The series is loaded into a `Volume` on a worker thread (`VolumeLoader`, progress shown);
each plane is then cut by `ioreview.imaging.volume.reformat` on demand — a strided copy of
one plane, well under a millisecond — and shown with its true pixel aspect.

The three panes share a crosshair, a point (z, y, x) of the volume: each pane shows the slice
through it and draws the other two planes as reference lines (axial blue, coronal green,
sagittal orange).  A left click, or a Shift+left drag, in one pane moves the point there and
the other panes follow; scrolling a pane moves the point along its normal.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtCore import QCoreApplication, QEvent, QLineF, QObject, QPointF, Qt, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPen
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QVBoxLayout, QWidget

from ioreview.imaging.header import SeriesView
from ioreview.imaging.measure import Calibration, CalibrationSource
from ioreview.imaging.volume import Volume, reformat, volume_from_stack
from ioreview.ui.viewer.annotations import AnnotationModel
from ioreview.ui.viewer.keymap import Keymap
from ioreview.ui.viewer.series_loader import ImageRef, VolumeLoader
from ioreview.ui.viewer.viewport import ImageViewport

PLANES: tuple[str, ...] = ("axial", "coronal", "sagittal")
#: The colour of each plane's reference line (and of its pane's crosshair lines).
PLANE_COLOURS: dict[str, str] = {"axial": "#3d9be9", "coronal": "#5cc05c", "sagittal": "#f0a030"}
#: A press and release closer than this (pixels) is a click that moves the crosshair.
CLICK_SLOP = 3.0


class ReformatSource(QObject):
    """One plane of a loaded volume, shaped like a `SeriesLoader` for the viewport."""

    frameReady = Signal(int)
    progressChanged = Signal(int, int)

    def __init__(self, volume: Volume, plane: str, description: str, modality: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        if plane not in PLANES:
            raise ValueError(f"plane: must be one of {', '.join(PLANES)}, not {plane!r}")
        self.volume = volume
        self.plane = plane
        self._description = description
        self._modality = modality
        self._cache: tuple[int, np.ndarray, tuple[float, float]] | None = None
        axis = PLANES.index(plane)
        self._count = int(volume.array.shape[axis])

    @property
    def count(self) -> int:
        return self._count

    @property
    def modality(self) -> str:
        return self._modality

    @property
    def description(self) -> str:
        return self._description

    @property
    def frame_of_reference_uid(self) -> str:
        return self.volume.headers[0].frame_of_reference_uid

    def _cut(self, index: int) -> tuple[np.ndarray, tuple[float, float]]:
        if self._cache is None or self._cache[0] != index:
            arr, spacing = reformat(self.volume, self.plane, index)  # type: ignore[arg-type]
            self._cache = (index, arr, spacing)
        return self._cache[1], self._cache[2]

    def image(self, index: int) -> np.ndarray | None:
        return self._cut(index)[0]

    def ref(self, index: int) -> ImageRef:
        hs = self.volume.headers
        if self.plane == "axial":
            return ImageRef(hs[min(index, len(hs) - 1)], 0 if len(hs) > 1 else index)
        return ImageRef(hs[len(hs) // 2], 0)

    def set_focus(self, index: int) -> None:
        """Planes are cut on demand; nothing to prefetch."""

    def spacing(self, index: int) -> tuple[float, float]:
        return self._cut(index)[1]

    def calibration(self, index: int, point: Any = None) -> Calibration:
        h = self.volume.headers[0]
        if h.pixel_spacing is None:
            return Calibration.uncalibrated()
        row_mm, col_mm = self.spacing(index)
        return Calibration(CalibrationSource.PATIENT, row_mm, col_mm)

    def orientation(self, index: int) -> tuple[float, ...] | None:
        """Row and column direction cosines of the plane (for the orientation markers)."""
        o = self.volume.orientation
        normal = self.volume.report.normal
        if o is None:
            return None
        if self.plane == "axial":
            return tuple(o)
        if normal is None:
            return None
        flip = normal[2] > 0
        down = tuple(-v for v in normal) if flip else tuple(normal)
        across = o[:3] if self.plane == "coronal" else o[3:]
        return (*across, *down)


def volume_of_loader(loader: Any) -> Volume | None:
    """The loader's complete, sorted stack as a Volume view (None when it cannot serve)."""
    if loader is None or getattr(loader, "report", None) is None or not loader.complete:
        return None
    headers = [ref.header for ref in loader.refs]
    stack = loader.stack
    if loader.report.positions and len(headers) > 1:
        normal = np.asarray(loader.report.normal, dtype=float)
        first = float(np.dot(headers[0].image_position, normal))
        last = float(np.dot(headers[-1].image_position, normal))
        if first > last:  # shown head first: reverse back to sort_slices order (a view)
            headers, stack = headers[::-1], stack[::-1]
    try:
        return volume_from_stack(stack, headers, loader.report)
    except ValueError:
        return None


class MprView(QWidget):
    """Three linked panes (axial, coronal, sagittal) of one series, loaded in the background."""

    loaded = Signal()
    failed = Signal(str)

    def __init__(self, keymap: Keymap | None = None, annotations: AnnotationModel | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        self.status = QLabel(self)
        self.progress = QProgressBar(self)
        self.progress.setTextVisible(False)
        self.progress.setMaximumHeight(6)
        top = QHBoxLayout()
        top.addWidget(self.status, 1)
        top.addWidget(self.progress, 2)
        lay.addLayout(top)
        row = QHBoxLayout()
        row.setSpacing(2)
        self.views: dict[str, ImageViewport] = {}
        for plane in PLANES:
            vp = ImageViewport(annotations=annotations, keymap=keymap, parent=self)
            vp.plane = plane
            self.views[plane] = vp
            row.addWidget(vp)
            vp.windowChanged.connect(lambda v=vp: self._share_window(v))
            vp.imageChanged.connect(lambda i, pl=plane: self._slice_changed(pl, i))
            vp.extra_layers.append(lambda v, p, pl=plane: self._paint_crosshair(pl, v, p))
            vp.installEventFilter(self)
        lay.addLayout(row, 1)
        self._loader: VolumeLoader | None = None
        self._sharing = False
        self._moving = False
        self._press: QPointF | None = None
        self.volume: Volume | None = None
        #: the crosshair: (z, y, x) indices into the volume array
        self.crosshair: tuple[int, int, int] | None = None

    # -- crosshair -----------------------------------------------------------------------------
    def _flipped(self) -> bool:
        v = self.volume
        return v is not None and v.report.normal is not None and v.report.normal[2] > 0

    def _row_of_z(self, z: int) -> int:
        """The row of slice `z` in a coronal or sagittal pane (superior at the top)."""
        assert self.volume is not None
        return self.volume.array.shape[0] - 1 - z if self._flipped() else z

    def image_point(self, plane: str) -> tuple[float, float] | None:
        """The crosshair in `plane`'s image as (row, col), or None before a volume is shown."""
        if self.crosshair is None:
            return None
        z, y, x = self.crosshair
        if plane == "axial":
            return float(y), float(x)
        return float(self._row_of_z(z)), float(x if plane == "coronal" else y)

    def set_crosshair(self, z: int, y: int, x: int) -> None:
        """Move the crosshair to volume indices (z, y, x) (clamped); every pane shows its slice."""
        if self.volume is None:
            return
        nz, ny, nx = self.volume.array.shape[:3]
        point = (max(0, min(int(z), nz - 1)), max(0, min(int(y), ny - 1)), max(0, min(int(x), nx - 1)))
        self.crosshair = point
        self._moving = True
        try:
            for plane, index in zip(PLANES, point):
                self.views[plane].set_index(index)
        finally:
            self._moving = False
        for vp in self.views.values():
            vp.update()

    def point_at(self, plane: str, pos: QPointF) -> tuple[int, int, int] | None:
        """The volume point (z, y, x) under widget position `pos` of `plane`'s pane."""
        if self.volume is None or self.crosshair is None:
            return None
        vp = self.views[plane]
        row, col = vp.widget_to_image(pos)
        r, c = int(round(row)), int(round(col))
        z, y, x = self.crosshair
        if plane == "axial":
            return z, r, c
        z_of_row = self._row_of_z(r)  # the flip is its own inverse
        return (z_of_row, vp.index, c) if plane == "coronal" else (z_of_row, c, vp.index)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt API
        plane = next((p for p, v in self.views.items() if v is watched), None)
        if plane is None or self.volume is None:
            return False
        kind = event.type()
        if kind not in (QEvent.Type.MouseButtonPress, QEvent.Type.MouseMove, QEvent.Type.MouseButtonRelease):
            return False
        assert isinstance(event, QMouseEvent)
        shift = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        pos = event.position()
        if kind == QEvent.Type.MouseButtonPress and event.button() == Qt.MouseButton.LeftButton:
            self._press = QPointF(pos)
            if shift:
                self._move_to(plane, pos)
                return True
        elif kind == QEvent.Type.MouseMove and shift and event.buttons() & Qt.MouseButton.LeftButton:
            self._move_to(plane, pos)
            return True
        elif kind == QEvent.Type.MouseButtonRelease and event.button() == Qt.MouseButton.LeftButton:
            press, self._press = self._press, None
            if press is not None and QLineF(press, pos).length() <= CLICK_SLOP and self.views[plane].tools.tool == "navigate":
                self._move_to(plane, pos)
        return False

    def _move_to(self, plane: str, pos: QPointF) -> None:
        point = self.point_at(plane, pos)
        if point is not None:
            self.set_crosshair(*point)

    def _slice_changed(self, plane: str, index: int) -> None:
        """A pane scrolled: the crosshair moves along its normal; the other panes redraw."""
        if self._moving or self.crosshair is None:
            return
        point = list(self.crosshair)
        point[PLANES.index(plane)] = index
        self.crosshair = (point[0], point[1], point[2])
        for vp in self.views.values():
            vp.update()

    def _paint_crosshair(self, plane: str, vp: ImageViewport, p: QPainter) -> None:
        """The other two planes' reference lines across this pane's image."""
        here = self.image_point(plane)
        shape = vp.image_shape()
        if here is None or shape is None:
            return
        rows, cols = shape
        row, col = here
        others = [pl for pl in PLANES if pl != plane]
        # the horizontal line is the plane whose index runs down the rows here, the vertical one
        # the plane whose index runs across the columns
        horizontal, vertical = (("coronal", "sagittal") if plane == "axial"
                                else ("axial", "sagittal") if plane == "coronal" else ("axial", "coronal"))
        assert set(others) == {horizontal, vertical}
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        for other, a, b in ((horizontal, (row, -0.5), (row, cols - 0.5)), (vertical, (-0.5, col), (rows - 0.5, col))):
            pen = QPen(QColor(PLANE_COLOURS[other]), 1)
            pen.setCosmetic(True)
            p.setPen(pen)
            p.drawLine(vp.image_to_widget(a), vp.image_to_widget(b))

    def load(self, series: SeriesView, shown: Any = None) -> None:
        """Show `series` as a volume; the panes fill when it is in memory.

        `shown` is the viewer's loader of the same series: when it already holds every slice
        in one array, the reformats use that array (no second copy, nothing to load).
        """
        self._series = series
        volume = volume_of_loader(shown)
        if volume is not None:
            self._on_loaded(volume)
            return
        self.status.setText(self.tr("Loading volume…"))
        self.progress.setRange(0, max(series.n_instances, 1))
        self.progress.setValue(0)
        self.progress.show()
        self._loader = VolumeLoader(series.headers, self)
        self._loader.progressChanged.connect(lambda done, total: (self.progress.setRange(0, total), self.progress.setValue(done)))
        self._loader.loaded.connect(self._on_loaded)
        self._loader.failed.connect(self._on_failed)
        self._loader.start()

    def _on_loaded(self, volume: Volume) -> None:
        self.volume = volume
        self.progress.hide()
        problems = "; ".join(volume.report.problems)
        self.status.setText(problems if problems else self.tr("Volume %1").replace("%1", " × ".join(str(n) for n in volume.shape)))
        self.crosshair = None
        for plane, vp in self.views.items():
            src = ReformatSource(volume, plane, self._series.description, self._series.modality, self)
            vp.set_source(src, src.count // 2)
        self.crosshair = (self.views["axial"].index, self.views["coronal"].index, self.views["sagittal"].index)
        self.loaded.emit()

    def _on_failed(self, message: str) -> None:
        self.progress.hide()
        self.status.setText(self.tr("Cannot reformat: %1").replace("%1", message))
        self.failed.emit(message)

    def _share_window(self, source: ImageViewport) -> None:
        if self._sharing or source.window is None:
            return
        self._sharing = True
        try:
            for vp in self.views.values():
                if vp is not source and vp.source is not None and (vp.window != source.window or vp.invert != source.invert):
                    vp.window = source.window
                    vp.window_name = source.window_name
                    vp.invert = source.invert
                    vp._display_dirty = True
                    vp.update()
        finally:
            self._sharing = False

    def close_volume(self) -> None:
        if self._loader is not None and self._loader.isRunning():
            self._loader.wait()
        self.crosshair = None
        for vp in self.views.values():
            vp.set_source(None)
        self.volume = None
