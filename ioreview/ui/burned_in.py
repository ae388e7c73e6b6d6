"""The coordinator's "Burned-in text" tab: series whose pixels may carry text, the first frame of
the selected one with a rubber band to draw rectangles, a preview of the masked result, and
Save (mask) or Confirm clean.  The service records and applies the decision
(`ioreview.service.reader_copies`); readers get a flagged series only after it.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QPoint, QRect, QSize, Qt
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import (
    QCheckBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QRubberBand,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from ioreview.ui.tab_base import ControllerTab as _Tab
from ioreview.ui.tab_base import table_view as _table
from ioreview.ui.table_model import Column, RecordTableModel

if TYPE_CHECKING:
    from ioreview.service import BurnedInSeries
    from ioreview.ui.lock_screen import SessionController

__all__ = ["BurnedInTextTab", "MaskCanvas"]


class MaskCanvas(QWidget):
    """One frame, scaled to fit, on which rectangles are drawn with the left mouse button; they
    are kept in pixel coordinates of the frame (row0, col0, row1, col1, ends exclusive)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("MaskCanvas")
        self.setMinimumSize(QSize(480, 360))
        self._image: QImage | None = None
        self._pixels: np.ndarray | None = None
        self.rectangles: list[tuple[int, int, int, int]] = []
        self.preview_masked = True
        self._band = QRubberBand(QRubberBand.Shape.Rectangle, self)
        self._origin: QPoint | None = None

    def set_frame(self, pixels: np.ndarray | None,
                  rectangles: tuple[tuple[int, int, int, int], ...] = ()) -> None:
        self._pixels = None if pixels is None else np.ascontiguousarray(pixels)
        self._image = None
        if self._pixels is not None:
            rows, cols = self._pixels.shape[:2]
            if self._pixels.ndim == 3:
                self._image = QImage(self._pixels.data, cols, rows, 3 * cols,
                                     QImage.Format.Format_RGB888)
            else:
                self._image = QImage(self._pixels.data, cols, rows, cols,
                                     QImage.Format.Format_Grayscale8)
        self.rectangles = list(rectangles)
        self.update()

    def _target(self) -> QRect:
        """Where the frame is drawn: fitted and centred, aspect kept."""
        if self._image is None:
            return QRect()
        scale = min(self.width() / self._image.width(), self.height() / self._image.height())
        w, h = int(self._image.width() * scale), int(self._image.height() * scale)
        return QRect((self.width() - w) // 2, (self.height() - h) // 2, w, h)

    def _to_pixels(self, rect: QRect) -> tuple[int, int, int, int] | None:
        target = self._target()
        if self._image is None or target.isEmpty():
            return None
        sx = self._image.width() / target.width()
        sy = self._image.height() / target.height()
        c0 = max(0, int((rect.left() - target.left()) * sx))
        r0 = max(0, int((rect.top() - target.top()) * sy))
        c1 = min(self._image.width(), int(np.ceil((rect.right() + 1 - target.left()) * sx)))
        r1 = min(self._image.height(), int(np.ceil((rect.bottom() + 1 - target.top()) * sy)))
        return (r0, c0, r1, c1) if r1 > r0 and c1 > c0 else None

    def _to_widget(self, rect: tuple[int, int, int, int]) -> QRect:
        target = self._target()
        assert self._image is not None
        sx = target.width() / self._image.width()
        sy = target.height() / self._image.height()
        r0, c0, r1, c1 = rect
        return QRect(target.left() + int(c0 * sx), target.top() + int(r0 * sy),
                     max(1, int((c1 - c0) * sx)), max(1, int((r1 - r0) * sy)))

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt's name
        if event.button() == Qt.MouseButton.LeftButton and self._image is not None:
            self._origin = event.position().toPoint()
            self._band.setGeometry(QRect(self._origin, QSize()))
            self._band.show()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._origin is not None:
            self._band.setGeometry(QRect(self._origin, event.position().toPoint()).normalized())

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self._origin is None:
            return
        rect = QRect(self._origin, event.position().toPoint()).normalized()
        self._origin = None
        self._band.hide()
        drawn = self._to_pixels(rect)
        if drawn is not None:
            self.rectangles.append(drawn)
            self.update()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("#202124"))
        if self._image is None:
            painter.setPen(QColor("#9aa0a6"))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter,
                             self.tr("Select a series to see its first frame."))
            return
        painter.drawImage(self._target(), self._image)
        pen = QPen(QColor("#ff5252"))
        pen.setWidth(2)
        painter.setPen(pen)
        for rect in self.rectangles:
            shown = self._to_widget(rect)
            if self.preview_masked:
                painter.fillRect(shown, QColor("black"))
            painter.drawRect(shown)


class BurnedInTextTab(_Tab):
    """Series flagged for burned-in text, with the coordinator's masking and confirmation."""

    def __init__(self, controller: SessionController, parent: QWidget | None = None) -> None:
        super().__init__(controller, parent)
        self.setObjectName("BurnedInTextTab")
        self.model = RecordTableModel([
            Column(self.tr("Series"), lambda s: s.series_pk, True),
            Column(self.tr("Case"), lambda s: s.case_label or "—"),
            Column(self.tr("Modality"), lambda s: s.modality),
            Column(self.tr("Description"), lambda s: s.description),
            Column(self.tr("Frames"), lambda s: s.n_frames, True),
            Column(self.tr("Why flagged"), lambda s: s.reason),
            Column(self.tr("Status"), lambda s: self._status_text(s.status)),
            Column(self.tr("Decided by"), lambda s: s.decided_by),
        ], self)
        self.view = _table(self.model, "BurnedInSeriesView")
        self.view.selectionModel().currentRowChanged.connect(lambda *_: self._show_selected())
        self.canvas = MaskCanvas()
        self.preview_box = QCheckBox(self.tr("Preview masked"))
        self.preview_box.setChecked(True)
        self.preview_box.toggled.connect(self._toggle_preview)
        self.clear_button = QPushButton(self.tr("Clear rectangles"))
        self.clear_button.clicked.connect(self._clear)
        self.save_button = QPushButton(self.tr("Save mask"))
        self.save_button.setObjectName("SaveMaskButton")
        self.save_button.clicked.connect(self.save_mask)
        self.clean_button = QPushButton(self.tr("Confirm no burned-in text"))
        self.clean_button.setObjectName("ConfirmCleanButton")
        self.clean_button.clicked.connect(self.confirm_clean)
        self.message = QLabel(self.tr(
            "Readers get a flagged series only after its text is masked or it is confirmed "
            "clean. Drag on the image to draw rectangles to black out on every frame."))
        self.message.setWordWrap(True)
        list_box = QGroupBox(self.tr("Series whose images may carry text"))
        QVBoxLayout(list_box).addWidget(self.view)
        image_box = QGroupBox(self.tr("First frame"))
        image_layout = QVBoxLayout(image_box)
        image_layout.addWidget(self.canvas, 1)
        buttons = QHBoxLayout()
        for widget in (self.preview_box, self.clear_button):
            buttons.addWidget(widget)
        buttons.addStretch(1)
        buttons.addWidget(self.clean_button)
        buttons.addWidget(self.save_button)
        image_layout.addLayout(buttons)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(list_box)
        splitter.addWidget(image_box)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([620, 640])
        layout = QVBoxLayout(self)
        layout.addWidget(self.message)
        layout.addWidget(splitter, 1)
        self._update_buttons()

    def _status_text(self, status: str) -> str:
        return {"flagged": self.tr("waiting: readers do not get it"),
                "masked": self.tr("masked"), "clean": self.tr("confirmed clean"),
                "not_flagged": self.tr("not flagged")}.get(status, status)

    def refresh(self) -> None:
        selected = self.selected()
        series = self.call(self.trial.list_burned_in_series)
        if series is None:
            return
        self.model.set_records(series)
        rows = [n for n, s in enumerate(series)
                if selected is not None and s.series_pk == selected.series_pk]
        if rows or series:
            self.view.selectRow(rows[0] if rows else 0)
        self._update_buttons()

    def selected(self) -> BurnedInSeries | None:
        index = self.view.currentIndex()
        return self.model.record(index.row()) if index.isValid() else None

    def _show_selected(self) -> None:
        series = self.selected()
        if series is None:
            self.canvas.set_frame(None)
        else:
            preview = self.call(self.trial.burned_in_preview, series.series_pk)
            self.canvas.set_frame(None if preview is None else preview.pixels,
                                  series.rectangles)
        self._update_buttons()

    def _toggle_preview(self, on: bool) -> None:
        self.canvas.preview_masked = on
        self.canvas.update()

    def _clear(self) -> None:
        self.canvas.rectangles.clear()
        self.canvas.update()

    def _update_buttons(self) -> None:
        has = self.selected() is not None
        self.save_button.setEnabled(has)
        self.clean_button.setEnabled(has)

    def save_mask(self) -> None:
        series = self.selected()
        if series is None:
            return
        done = self.call(self.trial.mask_burned_in_text, series.series_pk,
                         list(self.canvas.rectangles))
        if done is not None:
            self.message.setText(self.tr(
                "Series {n}: {k} rectangle(s) masked in the readers' copies.").format(
                    n=done.series_pk, k=len(done.rectangles)))
            self.refresh()

    def confirm_clean(self) -> None:
        series = self.selected()
        if series is None:
            return
        done = self.call(self.trial.confirm_no_burned_in_text, series.series_pk)
        if done is not None:
            self.message.setText(self.tr(
                "Series {n} confirmed clean: readers get it unmasked.").format(n=done.series_pk))
            self.refresh()
