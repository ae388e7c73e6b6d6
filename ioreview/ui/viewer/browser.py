"""Study / series browser: one thumbnail per series, dragged into a viewport to show it.

Thumbnails are rendered off the GUI thread (the middle image through the same display
pipeline as the viewport) and arrive one by one.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PySide6.QtCore import QMimeData, QObject, QRunnable, QSize, Qt, QThreadPool, QTimer, Signal
from PySide6.QtGui import QColor, QDrag, QIcon, QImage, QPainter, QPixmap
from PySide6.QtWidgets import QAbstractItemView, QListWidget, QListWidgetItem, QWidget

from ioreview.imaging.header import SeriesView
from ioreview.imaging.render import display_values
from ioreview.ui.viewer.series_loader import decode_image, image_refs
from ioreview.ui.viewer.viewport import SERIES_MIME

THUMB = 96


def series_key(series: SeriesView) -> str:
    """The text that identifies a series in drag and drop."""
    return str(series.series_pk)


def thumbnail_image(series: SeriesView, size: int = THUMB) -> QImage:
    """The middle image of `series` as a `size`-pixel QImage (safe to call off the GUI thread)."""
    refs, _ = image_refs(series.headers)
    if not refs:
        raise ValueError("series: no image-bearing instances")
    ref = refs[len(refs) // 2]
    disp = np.ascontiguousarray(display_values(decode_image(ref), ref.header, series.modality))
    fmt = QImage.Format.Format_RGB888 if disp.ndim == 3 else QImage.Format.Format_Grayscale8
    img = QImage(disp.data, disp.shape[1], disp.shape[0], disp.strides[0], fmt)
    return img.scaled(size, size, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)


class _ThumbSignals(QObject):
    done = Signal(str, QImage)


class _ThumbJob(QRunnable):
    def __init__(self, series: SeriesView, signals: _ThumbSignals) -> None:
        super().__init__()
        self._series = series
        self._signals = signals

    def run(self) -> None:
        try:
            img = thumbnail_image(self._series)
        except Exception:  # the item keeps its placeholder; the viewport will show the error
            return
        self._signals.done.emit(series_key(self._series), img)


class SeriesBrowser(QListWidget):
    """Thumbnails of the series of the open study; drag one onto a viewport, or double-click."""

    seriesActivated = Signal(str)

    _pool: QThreadPool | None = None
    #: Thumbnails start this long after the series are set: decoders hold the GIL, so a
    #: thumbnail decoded at once would delay the first image of the viewports by its decode.
    THUMBNAIL_DELAY_MS = 250

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setViewMode(QListWidget.ViewMode.IconMode)
        self.setFlow(QListWidget.Flow.TopToBottom)
        self.setWrapping(False)
        self.setMovement(QListWidget.Movement.Static)
        self.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.setIconSize(QSize(THUMB, THUMB))
        self.setGridSize(QSize(THUMB + 28, THUMB + 54))
        self.setWordWrap(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.setFixedWidth(THUMB + 48)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._signals = _ThumbSignals(self)
        self._signals.done.connect(self._set_thumbnail)
        self._items: dict[str, QListWidgetItem] = {}
        self._thumbnailed: set[str] = set()
        self._generation = 0
        self.itemDoubleClicked.connect(lambda item: self.seriesActivated.emit(item.data(Qt.ItemDataRole.UserRole)))
        if SeriesBrowser._pool is None:
            SeriesBrowser._pool = QThreadPool()
            SeriesBrowser._pool.setMaxThreadCount(1)

    def set_series(self, series: Sequence[SeriesView]) -> None:
        """Show `series` in order; thumbnails follow as they are rendered."""
        self.clear()
        self._items.clear()
        self._thumbnailed.clear()
        self._generation += 1
        generation = self._generation
        blank = QPixmap(THUMB, THUMB)
        blank.fill(QColor(24, 24, 27))
        for s in series:
            key = series_key(s)
            n = s.n_frames if s.n_frames > s.n_instances else s.n_instances
            text = f"{s.modality} {s.description}\n" + self.tr("%n image(s)", "", n)
            item = QListWidgetItem(QIcon(blank), text)
            item.setData(Qt.ItemDataRole.UserRole, key)
            item.setToolTip(f"{s.modality} · {s.description}")
            item.setTextAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
            self.addItem(item)
            self._items[key] = item
        self._fit_grid([item.text() for item in self._items.values()])
        if series:
            QTimer.singleShot(self.THUMBNAIL_DELAY_MS, self, lambda: self._start_thumbnails(list(series), generation))

    def _fit_grid(self, texts: Sequence[str]) -> None:
        """Cells tall enough for the longest title under a thumbnail (a prior's "Prior
        baseline (day -3): KNEE/TIB-FIB AP" takes four lines), up to six lines."""
        fm = self.fontMetrics()
        width = THUMB + 20
        flags = int(Qt.AlignmentFlag.AlignHCenter) | int(Qt.TextFlag.TextWordWrap)
        tallest = max((fm.boundingRect(0, 0, width, 10 * THUMB, flags, text).height()
                       for text in texts), default=0)
        self.setGridSize(QSize(THUMB + 28, THUMB + 14 + min(max(tallest, 40), 6 * fm.height())))

    def _start_thumbnails(self, series: list[SeriesView], generation: int) -> None:
        if generation != self._generation:  # other series were set meanwhile
            return
        assert SeriesBrowser._pool is not None
        for s in series:
            SeriesBrowser._pool.start(_ThumbJob(s, self._signals))

    @property
    def thumbnails_pending(self) -> int:
        """Series still showing the placeholder (their thumbnail is being rendered or failed)."""
        return len(self._items) - len(self._thumbnailed)

    def _set_thumbnail(self, key: str, img: QImage) -> None:
        item = self._items.get(key)
        if item is not None:
            self._thumbnailed.add(key)
            canvas = QPixmap(THUMB, THUMB)
            canvas.fill(QColor(0, 0, 0))
            p = QPainter(canvas)
            p.drawImage((THUMB - img.width()) // 2, (THUMB - img.height()) // 2, img)
            p.end()
            icon = QIcon()
            icon.addPixmap(canvas, QIcon.Mode.Normal)
            icon.addPixmap(canvas, QIcon.Mode.Selected)  # no selection tint over the image
            item.setIcon(icon)

    def select_key(self, key: str) -> None:
        item = self._items.get(key)
        if item is not None:
            self.setCurrentItem(item)

    def mimeData(self, items: list[QListWidgetItem]) -> QMimeData:  # noqa: N802 (Qt override)
        data = QMimeData()
        if items:
            data.setData(SERIES_MIME, str(items[0].data(Qt.ItemDataRole.UserRole)).encode("utf-8"))
        return data

    def mimeTypes(self) -> list[str]:  # noqa: N802 (Qt override)
        return [SERIES_MIME]

    def startDrag(self, actions: Qt.DropAction) -> None:  # noqa: N802 (Qt override)
        item = self.currentItem()
        if item is None:
            return
        drag = QDrag(self)
        drag.setMimeData(self.mimeData([item]))
        drag.setPixmap(item.icon().pixmap(THUMB // 2, THUMB // 2))
        drag.exec(Qt.DropAction.CopyAction)
