"""`ImageViewport`: one image pane painting display values over a dark background.

The pane holds a stack of stored frames (a `SeriesLoader` or an MPR `ReformatSource`) and
the view state (index, window, invert, zoom, pan, flip, rotation).  Every change asks for
a repaint with `update()`, which Qt coalesces, and the display values are recomputed lazily
in `paintEvent` only when the frame or window changed: at most one LUT pass and one paint per
screen frame.  The uint8 display buffer is wrapped in a QImage without a copy.  At rest the
smoothly scaled image is painted once into a widget-sized layer kept until the frame, window,
overlays or geometry change, so hover and overlay repaints are a blit.

Assistive overlays come from the imaging core: a grown region's mask (`set_region`), the fat
map of a CT slice (`set_fat_map`) and the CLAHE-enhanced radiograph (`set_clahe`, computed off
the GUI thread once per frame and cached).
"""
from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np
from PySide6.QtCore import QEvent, QMimeData, QPointF, QRect, QRectF, QSize, QSizeF, Qt, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QContextMenuEvent,
    QDragEnterEvent,
    QDropEvent,
    QImage,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QRegion,
    QTransform,
    QWheelEvent,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

from ioreview.imaging.display import (
    DisplayLut,
    GreyTable,
    Window,
    build_display_lut,
    frame_range,
    is_inverted,
    modality_lut,
    preset_names,
    rescale_for,
    resolve_preset,
    rgb_to_uint8,
    table_index,
    to_display_uint8,
    windows_from_header,
)
from ioreview.imaging.measure import Calibration, calibration_for, value_unit
from ioreview.imaging.pixel_check import rescale_problem
from ioreview.imaging.tools import FAT_HU, clahe, fat_map, fat_overlay_rgba
from ioreview.ui.viewer import theme
from ioreview.ui.viewer.assist import CT_MODALITIES, RADIOGRAPH_MODALITIES, BackgroundCall, GrownRegion
from ioreview.ui.viewer.annotations import AnnotationModel
from ioreview.ui.viewer.keymap import DragAction, Keymap, ViewerAction
from ioreview.ui.viewer.overlays import (
    OverlayLayout,
    OverlayText,
    overlay_fonts,
    overlay_layout,
    calibration_text,
    orientation_markers,
    overlay_text,
    paint_overlay,
    window_line,
)
from ioreview.ui.viewer.series_loader import ImageRef
from ioreview.ui.viewer.tools import NAVIGATE, AnnotationTools, ImageContext

#: MIME type of a series dragged from the browser: the series key as UTF-8 text.
SERIES_MIME = "application/x-ioreview-series"


#: Frames up to this many pixels repaint through the cached 32-bit grey table while the
#: window is unchanged (one lookup, no conversion); bigger ones fold in two threads.
_RGB32_TABLE_MAX_PIXELS = 1 << 20

_BLACK = QColor(0, 0, 0)
_ANTIALIASING = QPainter.RenderHint.Antialiasing
#: the overlay text colour, parsed once per `theme.OVERLAY_TEXT` value (not on every frame)
_OVERLAY_COLOUR: tuple[str, QColor] = ("", QColor())


def _overlay_colour() -> QColor:
    global _OVERLAY_COLOUR
    name = theme.OVERLAY_TEXT
    if _OVERLAY_COLOUR[0] != name:
        _OVERLAY_COLOUR = (name, QColor(name))
    return _OVERLAY_COLOUR[1]

#: The window of a colour image shown as stored: every channel's 0-255 display range.
RGB_FULL_WINDOW = Window(127.5, 256.0)


def rgb_window_table(window: Window) -> np.ndarray:
    """A 256-entry table applying `window` (on the 0-255 display scale) to each channel of a
    colour image alike, so W/L brightens or darkens without shifting hue much (PS3.3 C.11.2
    defines VOI for grey images only; this is the viewer's choice, shown as W/L like grey)."""
    lo = window.center - window.width / 2.0
    ramp = (np.arange(256, dtype=np.float32) - lo) / max(window.width, 1.0) * 255.0
    return np.clip(np.rint(ramp), 0, 255).astype(np.uint8)


class ImageSource(Protocol):
    """A stack of frames a viewport can show (`SeriesLoader`, `ReformatSource`)."""

    frameReady: Any
    progressChanged: Any

    @property
    def count(self) -> int: ...
    @property
    def modality(self) -> str: ...
    @property
    def description(self) -> str: ...
    @property
    def frame_of_reference_uid(self) -> str: ...

    def image(self, index: int) -> np.ndarray | None: ...
    def ref(self, index: int) -> ImageRef: ...
    def set_focus(self, index: int) -> None: ...


class ImageViewport(QWidget):
    """One image pane: shows a stack, takes the mouse and keys, draws overlays and annotations."""

    imageChanged = Signal(int)
    viewChanged = Signal()
    windowChanged = Signal()
    activated = Signal()
    maximiseRequested = Signal()
    seriesStepRequested = Signal(int)
    seriesDropped = Signal(str)
    cineToggled = Signal(bool)
    regionSeedPicked = Signal(float, float)  # (row, col) on the image on screen, grow-region tool
    claheReady = Signal(int)
    toolRequested = Signal(str)  # a tool key was pressed: "navigate", "length", ...

    #: Colour of a grown region's overlay (RGB) and its opacity.
    REGION_COLOR = (0, 210, 255)
    REGION_ALPHA = 0.40
    #: CLAHE images kept per viewport.
    CLAHE_CACHE = 8

    def __init__(
        self,
        annotations: AnnotationModel | None = None,
        keymap: Keymap | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(True)
        self.setAcceptDrops(True)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.PreventContextMenu)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(120, 120)
        self.keymap = keymap if keymap is not None else Keymap()
        self.annotations = annotations if annotations is not None else AnnotationModel(self)
        self.tools = AnnotationTools(self, self.annotations)
        self.annotations.added.connect(self._annotation_event)
        self.annotations.changed.connect(self._annotation_event)
        self.annotations.removed.connect(self._annotation_event)
        self.annotations.selectionChanged.connect(lambda _uid: self.update())
        self.source: ImageSource | None = None
        self.index = 0
        self.window: Window | None = None
        self.window_name = ""
        self.invert = False
        self.zoom = 1.0
        self.pan = QPointF(0.0, 0.0)
        self.flip_h = False
        self.flip_v = False
        self.rotation = 0
        self.smooth = True
        self.active = False
        self.show_overlays = True
        self.plane = ""
        self.message = ""
        self._finding: tuple[str | None, str] = (None, "")
        self._finding_provider: Any = None
        self._stored: np.ndarray | None = None
        self._shown_index = -1
        self._display: np.ndarray | None = None
        self._rgb32: np.ndarray | None = None
        self._grey: GreyTable | None = None
        self._range_of: np.ndarray | None = None
        self._range: tuple[int, int] = (0, 0)
        self._index: np.ndarray | None = None
        self._index_of: tuple[np.ndarray, int] | None = None
        self._geometry_key: tuple[Any, ...] | None = None
        self._geometry: tuple[QTransform, float, float] = (QTransform(), 1.0, 1.0)
        self._background_key: tuple[Any, ...] | None = None
        self._background_rects: list[QRect] = []
        self._overlay_calibration: tuple[Any, str] | None = None
        #: the last corner text with what it was made from (inputs but the window, window)
        self._overlay_text: tuple[tuple[Any, ...], tuple[float, float] | None, OverlayText] | None = None
        self._qimage: QImage | None = None
        #: extra layers drawn over the image and the annotations: callables (viewport, painter),
        #: e.g. other readers' shapes on the adjudication screen
        self.extra_layers: list[Callable[[ImageViewport, QPainter], None]] = []
        self._display_dirty = True
        self._lut: DisplayLut | None = None
        self._lut_key: tuple[Any, ...] | None = None
        self._drag: tuple[DragAction, QPointF, Any] | None = None
        self._wheel_accum = 0
        self._hover: QPointF | None = None
        self._loaded: tuple[int, int] | None = None
        self._calibrations: dict[str, Any] = {}
        self._fast = False
        self._step = 1
        self._marker_cache: tuple[Any, Any, Any] | None = None
        self._display_version = 0
        self._layer: QImage | None = None
        self._layer_key: tuple[Any, ...] | None = None
        self._layer_at: QPointF | None = None
        self.fat_map_on = False
        self.fat_hu: tuple[float, float] = FAT_HU
        self.clahe_on = False
        self._clahe: OrderedDict[tuple[int, int], np.ndarray] = OrderedDict()
        self._clahe_pending: set[tuple[int, int]] = set()
        self._clahe_shown = False
        self._region: GrownRegion | None = None
        self._overlays: dict[tuple[Any, ...], tuple[np.ndarray, QImage]] = {}
        self._overlay_version = 0
        self._background = BackgroundCall(self)
        self._background.done.connect(self._clahe_done)
        self._background.failed.connect(self._clahe_failed)
        self._settle = QTimer(self)
        self._settle.setSingleShot(True)
        self._settle.setInterval(150)
        self._settle.timeout.connect(self._settled)
        from ioreview.ui.viewer.cine import CineController

        self.cine = CineController(self)

    # ================================================================ source and state
    def set_source(self, source: ImageSource | None, index: int | None = None) -> None:
        """Show `source` (or nothing), starting at `index` (the middle image for CT/MR stacks)."""
        if self.source is not None:
            try:
                self.source.frameReady.disconnect(self._on_frame_ready)
                self.source.progressChanged.disconnect(self._on_progress)
                failed = getattr(self.source, "frameFailed", None)
                if failed is not None:
                    failed.disconnect(self._on_frame_failed)
            except (RuntimeError, TypeError):
                pass
        self.cine.stop()
        self.tools.cancel()
        self.source = source
        self._stored = None
        self._range_of = None
        self._index_of = None
        self._geometry_key = None
        self._overlay_calibration = None
        self._shown_index = -1
        self._display = None
        self._qimage = None
        self.window = None
        self.window_name = ""
        self.message = ""
        self._loaded = None
        self._calibrations.clear()
        self._clahe.clear()
        self._clahe_pending.clear()
        self._region = None
        self._overlays.clear()
        self._overlay_version += 1
        self.reset_view(keep_window=False)
        if source is None:
            self.update()
            return
        source.frameReady.connect(self._on_frame_ready)
        source.progressChanged.connect(self._on_progress)
        failed = getattr(source, "frameFailed", None)
        if failed is not None:
            failed.connect(self._on_frame_failed)
        if index is None:
            index = 0
        self.index = max(0, min(index, source.count - 1))
        source.set_focus(self.index)
        self._pull()
        self.imageChanged.emit(self.index)
        self.update()

    def current_ref(self) -> ImageRef | None:
        """The instance and frame on screen, when annotations can be attached to it."""
        if self.source is None or self.source.count == 0 or self.plane not in ("", "axial"):
            return None
        ref = self.source.ref(self.index)
        return ref if ref.header.sop_instance_uid else None

    def current_header(self) -> Any:
        if self.source is None or self.source.count == 0:
            return None
        return self.source.ref(self.index).header

    def image_shape(self) -> tuple[int, int] | None:
        if self._stored is not None:
            return int(self._stored.shape[0]), int(self._stored.shape[1])
        h = self.current_header()
        if h is not None and h.rows and h.columns:
            return int(h.rows), int(h.columns)
        return None

    def set_index(self, index: int) -> None:
        """Show image `index` (clamped); the previous image stays up until the new one is decoded."""
        if self.source is None or self.source.count == 0:
            return
        index = max(0, min(int(index), self.source.count - 1))
        if index == self.index and self._shown_index == index:
            return
        self.index = index
        self.tools.cancel()
        self.source.set_focus(index)
        self._pull()
        self.imageChanged.emit(index)
        self.update()

    def step(self, delta: int) -> None:
        self.set_index(self.index + delta)

    def _pull(self) -> None:
        """Take the current frame from the source if it is decoded."""
        if self.source is None:
            return
        arr = self.source.image(self.index)
        if arr is None:
            err = getattr(self.source, "errors", {}).get(self.index)
            if err:
                self._show_failure(err)
            return
        if arr.ndim == 2:
            why = rescale_problem(*rescale_for(self.source.ref(self.index).header))
            if why is not None:
                self._show_failure(why)
                return
        self.message = ""
        if arr is not self._stored:
            self._stored = arr
            self._shown_index = self.index
            self._display_dirty = True
            if self.window is None:
                self._default_window(arr)

    def _show_failure(self, reason: str) -> None:
        """The frame on screen cannot be shown: say why instead of keeping another frame up."""
        self.message = self.tr("cannot display: %1").replace("%1", reason)
        self._stored = None
        self._range_of = None
        self._index_of = None
        self._qimage = None
        self._display = None
        self._shown_index = self.index

    def _on_frame_failed(self, index: int, reason: str) -> None:
        if index == self.index:
            self._show_failure(reason)
            self.update()

    def _on_frame_ready(self, index: int) -> None:
        if index == self.index and self._shown_index != index:
            self._pull()
            self.update()

    def _on_progress(self, done: int, total: int) -> None:
        self._loaded = (done, total)
        if done >= total or done % max(1, total // 10) == 0:
            self.update()

    def _default_window(self, stored: np.ndarray) -> None:
        h = self.current_header()
        if h is None:
            return
        if stored.ndim == 3:  # colour: W/L on the 0-255 display scale of every channel
            self.invert = False
            self.window = RGB_FULL_WINDOW
            self.window_name = self.tr("full range")
            self.windowChanged.emit()
            return
        self.invert = is_inverted(h)
        windows = windows_from_header(h)
        if windows:
            self.window = windows[0]
            self.window_name = windows[0].explanation or self.tr("header")
        else:
            self.window = self._computed_preset("auto", stored)
            self.window_name = self.tr("auto")
        self.windowChanged.emit()

    def _computed_preset(self, name: str, stored: np.ndarray) -> Window:
        h = self.current_header()
        slope, intercept = rescale_for(h)
        step = max(1, int(math.sqrt(stored.size / 262144)))
        values = modality_lut(stored[::step, ::step], slope, intercept)
        return resolve_preset(name, self.source.modality if self.source else "", values)

    # ================================================================ view changes
    def set_window(self, window: Window, name: str = "") -> None:
        self.window = window
        self.window_name = name
        self._display_dirty = True
        self.windowChanged.emit()
        self.update()

    def presets(self) -> list[str]:
        if self._stored is not None and self._stored.ndim == 3:
            return []  # the modality's presets are in its units; a colour image has none
        return preset_names(self.source.modality) if self.source is not None else []

    def apply_preset(self, number: int) -> bool:
        """Window preset `number` (1-based, in `presets()` order); False when there is none."""
        names = self.presets()
        if self._stored is None or self._stored.ndim != 2 or not 1 <= number <= len(names):
            return False
        name = names[number - 1]
        self.set_window(self._computed_preset(name, self._stored), name)
        return True

    def apply_header_window(self) -> None:
        if self._stored is not None:
            self.window = None
            self._default_window(self._stored)
            self._display_dirty = True
            self.update()

    def set_invert(self, invert: bool) -> None:
        self.invert = bool(invert)
        self._display_dirty = True
        self.windowChanged.emit()
        self.update()

    def set_zoom(self, zoom: float, anchor: QPointF | None = None) -> None:
        """Zoom relative to fit-to-window, keeping the image point under `anchor` in place."""
        zoom = max(0.05, min(float(zoom), 64.0))
        if anchor is not None and self.image_shape() is not None:
            before = self.widget_to_image(anchor)
            self.zoom = zoom
            after = self.image_to_widget(before)
            self.pan += anchor - after
        else:
            self.zoom = zoom
        self.viewChanged.emit()
        self.update()

    def set_pan(self, pan: QPointF) -> None:
        self.pan = QPointF(pan)
        self.viewChanged.emit()
        self.update()

    def flip_horizontal(self) -> None:
        self.flip_h = not self.flip_h
        self.viewChanged.emit()
        self.update()

    def flip_vertical(self) -> None:
        self.flip_v = not self.flip_v
        self.viewChanged.emit()
        self.update()

    def rotate(self, degrees: int = 90) -> None:
        self.rotation = (self.rotation + degrees) % 360
        self.viewChanged.emit()
        self.update()

    def reset_view(self, keep_window: bool = True) -> None:
        """Fit to window, no flip or rotation; the header window again unless `keep_window`."""
        self.zoom = 1.0
        self.pan = QPointF(0.0, 0.0)
        self.flip_h = self.flip_v = False
        self.rotation = 0
        if not keep_window and self._stored is not None:
            self.window = None
            self._default_window(self._stored)
        self._display_dirty = True
        self.viewChanged.emit()
        self.update()

    # ================================================================ geometry
    def pixel_aspect(self) -> float:
        """Row spacing over column spacing: >1 stretches the image vertically (MPR planes)."""
        return self._view()[2]

    def _pixel_aspect(self) -> float:
        spacing = getattr(self.source, "spacing", None)
        if callable(spacing):
            sp = spacing(self.index)
            if sp and sp[0] > 0 and sp[1] > 0:
                return float(sp[0]) / float(sp[1])
        return 1.0

    def fit_scale(self) -> float:
        return self._view()[1]

    def image_transform(self) -> QTransform:
        """Image coordinates (x = column, y = row; pixel i spans [i, i+1)) to widget coordinates."""
        return QTransform(self._view()[0])

    def _view(self) -> tuple[QTransform, float, float]:
        """(image-to-widget transform, fit-to-window scale, pixel aspect), worked out once per
        view state: one paint asks for them several times (image, markers, overlay zoom)."""
        shape = self.image_shape()
        pan = self.pan
        key = (self.source, self.index, shape, self.width(), self.height(), self.zoom, pan.x(), pan.y(),
               self.flip_h, self.flip_v, self.rotation)
        if key == self._geometry_key:
            return self._geometry
        aspect = self._pixel_aspect()
        rows, cols = shape if shape is not None else (1, 1)
        fit = 1.0
        if shape is not None:
            w, h = float(cols), float(rows) * aspect
            if self.rotation in (90, 270):
                w, h = h, w
            fit = min(self.width() / max(w, 1.0), self.height() / max(h, 1.0))
        s = fit * self.zoom
        t = QTransform()
        t.translate(self.width() / 2.0 + pan.x(), self.height() / 2.0 + pan.y())
        t.scale(-1.0 if self.flip_h else 1.0, -1.0 if self.flip_v else 1.0)
        t.rotate(self.rotation)
        t.scale(s, s * aspect)
        t.translate(-cols / 2.0, -rows / 2.0)
        self._geometry = (t, fit, aspect)
        self._geometry_key = key
        return self._geometry

    def image_to_widget(self, point: tuple[float, float]) -> QPointF:
        """(row, col) with pixel centres at whole numbers to a widget position."""
        return self.image_transform().map(QPointF(point[1] + 0.5, point[0] + 0.5))

    def widget_to_image(self, pos: QPointF) -> tuple[float, float]:
        inv, ok = self.image_transform().inverted()
        q = inv.map(QPointF(pos))
        return (q.y() - 0.5, q.x() - 0.5)

    def effective_zoom(self) -> float:
        """Screen pixels per image pixel (what the overlay shows as zoom)."""
        return self._view()[1] * self.zoom

    # ================================================================ measuring context
    def calibration(self, point: tuple[float, float] | None = None) -> Calibration:
        """The calibration for a measurement at `point` of the image on screen."""
        src_cal = getattr(self.source, "calibration", None)
        if callable(src_cal):
            return src_cal(self.index, point)
        h = self.current_header()
        return calibration_for(h, point) if h is not None else Calibration.uncalibrated()

    def image_context(self) -> ImageContext | None:
        ref = self.current_ref()
        if ref is None:
            return None
        return ImageContext(ref, self._stored if self._shown_index == self.index else None, self.calibration)

    def set_finding_provider(self, provider: Any) -> None:
        """`provider()` returns (finding_id, label) given to new annotations."""
        self._finding_provider = provider

    def finding_for_new_annotations(self) -> tuple[str | None, str]:
        if self._finding_provider is not None:
            return self._finding_provider()
        return self._finding

    def set_tool(self, tool: str) -> None:
        self.tools.set_tool(tool)
        self.setCursor(Qt.CursorShape.CrossCursor if tool != NAVIGATE else Qt.CursorShape.ArrowCursor)

    def _annotation_event(self, _a: Any) -> None:
        self.update()

    # ================================================================ assistive overlays
    def modality(self) -> str:
        return self.source.modality.upper() if self.source is not None else ""

    def set_region(self, region: GrownRegion | None) -> None:
        """Show a grown region's mask over every image it covers (None removes it)."""
        self._region = region
        self._drop_overlays("region")
        self.update()

    @property
    def region(self) -> GrownRegion | None:
        return self._region

    def set_fat_map(self, on: bool, hu_range: tuple[float, float] | None = None) -> None:
        """Overlay the fat-attenuation map of CT slices (`fat_map` over `hu_range`)."""
        self.fat_map_on = bool(on)
        if hu_range is not None:
            self.fat_hu = (float(min(hu_range)), float(max(hu_range)))
        self._drop_overlays("fat")
        self.update()

    def set_clahe(self, on: bool) -> None:
        """Show radiographs enhanced by CLAHE (for looking only; W/L does not apply)."""
        self.clahe_on = bool(on)
        self._display_dirty = True
        self.update()

    def clahe_applies(self) -> bool:
        return self.clahe_on and self.modality() in RADIOGRAPH_MODALITIES and self._stored is not None and self._stored.ndim == 2

    def _drop_overlays(self, kind: str) -> None:
        for key in [k for k in self._overlays if k[0] == kind]:
            del self._overlays[key]
        self._overlay_version += 1

    def _overlay_images(self) -> list[QImage]:
        """Image-space RGBA overlays of the image on screen (region, fat map), cached."""
        if self._stored is None or self._stored.ndim != 2 or self._shown_index != self.index:
            return []
        out: list[QImage] = []
        idx = self._shown_index
        if self._region is not None and self.plane in ("", "axial"):
            mask = self._region.mask_for(idx)
            if mask is not None and mask.shape == self._stored.shape:
                out.append(self._overlay(("region", idx, id(self._region)), lambda: fat_overlay_rgba(mask, self.REGION_COLOR, self.REGION_ALPHA)))
        if self.fat_map_on and self.modality() in CT_MODALITIES:
            stored = self._stored
            h = self.current_header()

            def build() -> np.ndarray:
                slope, intercept = rescale_for(h) if h is not None else (1.0, 0.0)
                return fat_overlay_rgba(fat_map(modality_lut(stored, slope, intercept), self.fat_hu))

            out.append(self._overlay(("fat", idx, id(stored), self.fat_hu), build))
        return out

    def _overlay(self, key: tuple[Any, ...], build: Any) -> QImage:
        got = self._overlays.get(key)
        if got is None:
            if len(self._overlays) > 16:
                self._overlays.pop(next(iter(self._overlays)))
            rgba = np.ascontiguousarray(build())
            img = QImage(rgba.data, rgba.shape[1], rgba.shape[0], rgba.strides[0], QImage.Format.Format_RGBA8888)
            img = img.convertToFormat(QImage.Format.Format_ARGB32_Premultiplied)
            got = self._overlays[key] = (rgba, img)
        return got[1]

    def _clahe_key(self) -> tuple[int, int]:
        return (id(self.source), self._shown_index)

    def _clahe_image(self) -> np.ndarray | None:
        """The CLAHE image of the frame on screen when computed; else asks for it off-thread."""
        key = self._clahe_key()
        got = self._clahe.get(key)
        if got is not None:
            self._clahe.move_to_end(key)
            return got
        if key not in self._clahe_pending and self._stored is not None:
            self._clahe_pending.add(key)
            self._background.start(key, clahe, self._stored)
        return None

    def _clahe_done(self, key: Any, result: Any) -> None:
        self._clahe_pending.discard(key)
        if key[0] != id(self.source):
            return
        self._clahe[key] = result
        while len(self._clahe) > self.CLAHE_CACHE:
            self._clahe.popitem(last=False)
        if key == self._clahe_key() and self.clahe_on:
            self._display_dirty = True
            self.update()
        self.claheReady.emit(int(key[1]))

    def _clahe_failed(self, key: Any, message: str) -> None:
        self._clahe_pending.discard(key)
        self.message = self.tr("CLAHE failed: %1").replace("%1", message)
        self.update()

    # ================================================================ painting
    def _ensure_display(self) -> None:
        """Display values of the frame on screen, as a RGB32 QImage ready to blit.

        The LUT pass writes into a reused uint8 buffer wrapped by a QImage (no copy); one
        conversion to RGB32 (~0.15 ms at 512², ~0.7 ms at 2000²) then makes every paint take
        the raster engine's fast path, which is 3x faster than drawing 8-bit grey directly.
        """
        if self._stored is None:
            return
        step = self._decimation()
        if not self._display_dirty and step == self._step:
            return
        self._display_dirty = False
        self._step = step
        self._display_version += 1
        self._clahe_shown = False
        if self.clahe_applies():
            enhanced = self._clahe_image()
            if enhanced is not None:
                disp = enhanced if step == 1 else enhanced[::step, ::step]
                self._qimage = self._rgb32_copy(disp, QImage.Format.Format_Grayscale8)
                self._clahe_shown = True
                return
        stored = self._stored if step == 1 else self._stored[::step, ::step]
        h = self.source.ref(self._shown_index).header if self.source is not None else None
        if stored.ndim == 3:
            disp = rgb_to_uint8(stored, h.bits_stored if h is not None else None)
            if self.window is not None and self.window != RGB_FULL_WINDOW:
                disp = rgb_window_table(self.window)[disp]
            self._display = None
            self._qimage = self._rgb32_copy(disp, QImage.Format.Format_RGB888)
            return
        slope, intercept = rescale_for(h) if h is not None else (1.0, 0.0)
        bits = h.bits_stored if h is not None else None
        key = (stored.dtype.str, slope, intercept, self.window, self.invert, bits)
        if key != self._lut_key or self._lut is None:
            try:
                self._lut = build_display_lut(stored.dtype, slope, intercept, self.window, self.invert, bits_stored=bits)
            except ValueError as exc:  # values the display cannot map: say so, keep working
                self._show_failure(str(exc))
                return
            self._lut_key = key
        if stored.size <= _RGB32_TABLE_MAX_PIXELS and GreyTable.supports(stored.dtype):
            # One gather from a table filled over this frame's values gives paintable pixels
            # directly, for a new window (drag) and a new slice (scroll) alike.
            if self._grey is None or self._grey.dtype != stored.dtype:
                self._grey = GreyTable(stored.dtype)
            rgb = self._grey.apply(stored, self._lut, self._stored_range(), out=self._rgb32,
                                   index=self._frame_index(stored, step))
            self._rgb32 = rgb
            rows, cols = rgb.shape
            self._qimage = QImage(rgb.data, cols, rows, rgb.strides[0], QImage.Format.Format_RGB32)
            return
        out = self._display if self._display is not None and self._display.shape == stored.shape else None
        disp = to_display_uint8(stored, self._lut, out=out)
        self._display = disp
        rows, cols = disp.shape
        wrapped = QImage(disp.data, cols, rows, disp.strides[0], QImage.Format.Format_Grayscale8)
        self._qimage = wrapped.convertToFormat(QImage.Format.Format_RGB32)

    def _rgb32_copy(self, disp: np.ndarray, fmt: QImage.Format) -> QImage:
        """8-bit grey or RGB display values as an RGB32 image of its own (inverted if asked)."""
        disp = np.ascontiguousarray(disp)
        rows, cols = disp.shape[:2]
        frame = QImage(disp.data, cols, rows, disp.strides[0], fmt).convertToFormat(QImage.Format.Format_RGB32)
        if self.invert:
            frame.invertPixels()
        return frame

    def _frame_index(self, stored: np.ndarray, step: int) -> np.ndarray:
        """`table_index` of the frame on screen (every `step`-th pixel), kept while the frame
        stays: each step of a window drag is then one gather (~0.1 ms less at 512²)."""
        key = self._index_of
        if key is None or key[0] is not self._stored or key[1] != step or self._index is None:
            self._index = table_index(stored, out=self._index)
            self._index_of = (self._stored, step) if self._stored is not None else None
        return self._index

    def _stored_range(self) -> tuple[int, int]:
        """(min, max) of the stored frame on screen, computed once per frame (~20 µs at 512²)."""
        arr = self._stored
        if self._range_of is not arr:
            self._range = frame_range(arr)
            self._range_of = arr
        return self._range

    def _decimation(self) -> int:
        """While the user drags or scrolls a minified image, every `step`-th pixel is enough
        for the screen (a 2000² radiograph in a 1000² pane: 4x less work); at rest, all."""
        if not self._fast:
            return 1
        zoom = self.effective_zoom()
        return max(1, int(1.0 / zoom)) if zoom > 0 else 1

    def mark_interactive(self) -> None:
        """The user is scrolling, dragging or wheeling: paint with nearest-neighbour scaling
        (~1 ms) until they pause, then repaint once with bilinear smoothing (~5 ms)."""
        self._fast = True
        self._settle.start()

    def _settled(self) -> None:
        self._fast = False
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        self._ensure_display()
        if self._qimage is not None:
            t = base = self._view()[0]
            if self._step != 1:
                t = QTransform().scale(self._step, self._step) * t
            overlays = self._overlay_images()
            smooth = self.smooth and not self._fast and self.effective_zoom() < 6.0
            if smooth:
                layer, at = self._smooth_layer(t, overlays)
                if at is not None:
                    self._fill_around(p, QRectF(at, QSizeF(layer.deviceIndependentSize())))
                p.drawImage(at if at is not None else QPointF(0.0, 0.0), layer)
            else:
                covered = t.mapRect(QRectF(0.0, 0.0, float(self._qimage.width()), float(self._qimage.height())))
                self._fill_around(p, covered.adjusted(1.5, 1.5, -1.5, -1.5))
                p.save()
                p.setTransform(t)
                p.drawImage(QPointF(0.0, 0.0), self._qimage)
                p.setTransform(base)
                for ov in overlays:
                    p.drawImage(QPointF(0.0, 0.0), ov)
                p.restore()
            p.setRenderHint(_ANTIALIASING, True)
            self.tools.paint(p)
            for layer in self.extra_layers:
                p.save()
                layer(self, p)
                p.restore()
        else:
            p.fillRect(self.rect(), QColor(0, 0, 0))
        if self.show_overlays and self.source is not None:
            paint_overlay(p, QRectF(self.rect()), self.overlay(), self._markers(), _overlay_colour())
        if self.message:
            p.setPen(QColor(theme.TEXT))
            p.drawText(QRectF(self.rect()).adjusted(20, 20, -20, -20), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.message)
        elif self.source is None:
            p.setPen(QColor(theme.TEXT_DIM))
            p.drawText(QRectF(self.rect()), Qt.AlignmentFlag.AlignCenter, self.tr("Drop a series here"))
        if self.active:
            pen = QPen(QColor(theme.ACCENT), 2)
            p.setPen(pen)
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRect(QRectF(self.rect()).adjusted(1, 1, -1, -1))
        p.end()

    def _fill_around(self, p: QPainter, inner: QRectF) -> None:
        """Paint the background black everywhere but the image's rectangle `inner` (the
        rectangles are worked out once per image rectangle and widget size)."""
        key = (inner.x(), inner.y(), inner.width(), inner.height(), self.width(), self.height())
        if key != self._background_key:
            keep = inner.toRect() if inner.isValid() else None
            if keep is not None and keep.contains(self.rect()):
                rects: list[QRect] = []
            elif keep is not None and keep.isValid():
                rects = list(QRegion(self.rect()).subtracted(QRegion(keep)))
            else:
                rects = list(QRegion(self.rect()))
            self._background_key, self._background_rects = key, rects
        for r in self._background_rects:
            p.fillRect(r, _BLACK)

    def _smooth_layer(self, t: QTransform, overlays: list[QImage]) -> tuple[QImage, QPointF | None]:
        """The image smoothly scaled for the screen, and where its top-left goes (None: it is a
        widget-sized layer, background included).  Recomputed only when the frame, window,
        overlays, transform or size changed; else reused, so hover repaints are a blit.

        Without rotation or overlays, and when the scaled image is not much bigger than the
        widget, `QImage.scaled(SmoothTransformation)` scales it once to its on-screen size in
        device pixels: bilinear when magnifying (within one grey level of the painter's
        bilinear transform), area-averaging when minifying (within two), and multithreaded by
        Qt, ~2-5x faster than drawing through a smooth painter transform.  It needs the image's
        edges on whole device pixels (`PRESCALE_SNAP`), as they are when fitted to the window.
        Otherwise the image is drawn with a bilinear painter transform into a widget-sized layer.
        """
        dpr = self.devicePixelRatioF()
        key = (
            self._display_version, self._overlay_version, tuple(id(o) for o in overlays), self.width(), self.height(), dpr,
            t.m11(), t.m12(), t.m21(), t.m22(), t.dx(), t.dy(),
        )
        if self._layer is None or key != self._layer_key:
            self._layer, self._layer_at = self._prescaled(t, dpr) if not overlays else (None, None)
            if self._layer is None:
                self._layer = self._painted_layer(t, overlays, dpr)
            self._layer_key = key
        return self._layer, self._layer_at

    #: Largest pre-scaled image, in widget areas; above it (zoomed in) only the visible part
    #: is drawn through the painter transform.
    PRESCALE_MAX_AREA = 2.0
    #: Pre-scaling only when the image's edges fall this close to whole device pixels (fit
    #: to window, whole-pixel pans): a fractional offset is drawn through the painter
    #: transform so that it stays exact rather than moved up to half a pixel.
    PRESCALE_SNAP = 1.0 / 64.0

    def _prescaled(self, t: QTransform, dpr: float) -> tuple[QImage | None, QPointF | None]:
        """`_qimage` scaled smoothly to its device-pixel size on screen, with its logical
        top-left; (None, None) when rotated by 90/270 degrees or too big to pre-scale."""
        assert self._qimage is not None
        if t.m12() != 0.0 or t.m21() != 0.0:
            return None, None
        r = t.mapRect(QRectF(0.0, 0.0, float(self._qimage.width()), float(self._qimage.height())))
        edges = [v * dpr for v in (r.left(), r.top(), r.right(), r.bottom())]
        if any(abs(v - round(v)) > self.PRESCALE_SNAP for v in edges):
            return None, None
        x0, y0, x1, y1 = (round(v) for v in edges)
        w, h = x1 - x0, y1 - y0
        if w < 1 or h < 1 or w * h > self.PRESCALE_MAX_AREA * max(1.0, self.width() * self.height() * dpr * dpr):
            return None, None
        scaled = self._qimage.scaled(w, h, Qt.AspectRatioMode.IgnoreAspectRatio, Qt.TransformationMode.SmoothTransformation)
        flips = Qt.Orientation(0)
        if t.m11() < 0:
            flips |= Qt.Orientation.Horizontal
        if t.m22() < 0:
            flips |= Qt.Orientation.Vertical
        if flips != Qt.Orientation(0):
            scaled = scaled.flipped(flips)
        scaled.setDevicePixelRatio(dpr)
        return scaled, QPointF(x0 / dpr, y0 / dpr)

    def _painted_layer(self, t: QTransform, overlays: list[QImage], dpr: float) -> QImage:
        """The image and its overlays drawn with a bilinear transform into a widget-sized layer."""
        layer = QImage(max(1, round(self.width() * dpr)), max(1, round(self.height() * dpr)), QImage.Format.Format_RGB32)
        layer.setDevicePixelRatio(dpr)
        layer.fill(QColor(0, 0, 0))
        lp = QPainter(layer)
        lp.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        lp.setTransform(t)
        lp.drawImage(QPointF(0.0, 0.0), self._qimage)
        for ov in overlays:
            lp.drawImage(QPointF(0.0, 0.0), ov)
        lp.end()
        return layer

    def overlay(self) -> OverlayText:
        """The corner text of the image on screen."""
        h = self.current_header()
        ref = self.source.ref(self.index) if self.source is not None and self.source.count else None
        extra = self._hover_text()
        if self.cine.running:
            extra.append(self.tr("Cine %1 fps").replace("%1", f"{self.cine.fps:.0f}"))
        if self.clahe_applies():
            extra.append(self.tr("CLAHE") if self._clahe_shown else self.tr("CLAHE: computing…"))
        if self.fat_map_on and self.modality() in CT_MODALITIES:
            extra.append(self.tr("Fat map %1..%2 HU").replace("%1", f"{self.fat_hu[0]:g}").replace("%2", f"{self.fat_hu[1]:g}"))
        cal_key = (self.source, self.index)
        if self._overlay_calibration is None or self._overlay_calibration[0] != cal_key:
            self._overlay_calibration = (cal_key, calibration_text(self.calibration()))
        source = self.source
        window = (self.window.center, self.window.width) if self.window is not None and self._stored is not None else None
        inputs = (
            h, source.description if source is not None else "", source.modality if source is not None else "",
            self.index, source.count if source is not None else 0, ref.frame if ref is not None else 0,
            self.window_name, self.effective_zoom(), self._overlay_calibration[1], self.invert, extra, self.plane,
            self._loaded, self.image_shape(), window is None,
        )
        last = self._overlay_text
        if last is not None and last[0] == inputs:
            # Only the window moved (a window/level drag): the other lines are the ones
            # `overlay_text` gave for these inputs; the window line is its first bottom-left line.
            if last[1] == window:
                return last[2]
            before = last[2]
            text = OverlayText(list(before.top_left), list(before.top_right),
                               [window_line(window, self.window_name)] + before.bottom_left[1:],
                               list(before.bottom_right))
        else:
            text = overlay_text(
                header=h, description=inputs[1], modality=inputs[2], index=self.index, count=inputs[4],
                frame=inputs[5], window=window, window_name=self.window_name, zoom=inputs[7],
                calibration_label=inputs[8], inverted=self.invert, extra_bottom_right=extra, plane=self.plane,
                loaded=self._loaded, shape=inputs[13],
            )
        self._overlay_text = (inputs, window, text)
        return text

    def overlay_layout(self) -> OverlayLayout:
        """Where the corner text and orientation letters go in this pane (as painted)."""
        font, big = overlay_fonts(self.font())
        return overlay_layout(QRectF(self.rect()), self.overlay(), self._markers(), font, big)

    def _markers(self) -> dict[str, str] | None:
        self._view()
        view_key = self._geometry_key  # source, image and view state: the letters follow them
        if self._marker_cache is not None and self._marker_cache[2] is view_key:
            return self._marker_cache[1]
        orientation = getattr(self.source, "orientation", None)
        o = orientation(self.index) if callable(orientation) else None
        if o is None:
            h = self.current_header()
            o = h.image_orientation if h is not None else None
        t = self._view()[0]
        key = (o, round(t.m11(), 6), round(t.m12(), 6), round(t.m21(), 6), round(t.m22(), 6))
        if self._marker_cache is None or self._marker_cache[0] != key:
            self._marker_cache = (key, orientation_markers(o, t), view_key)
        else:
            self._marker_cache = (key, self._marker_cache[1], view_key)
        return self._marker_cache[1]

    def _hover_text(self) -> list[str]:
        if self._hover is None or self._stored is None or self._shown_index != self.index:
            return []
        r, c = self.widget_to_image(self._hover)
        ri, ci = int(round(r)), int(round(c))
        rows, cols = self._stored.shape[:2]
        if not (0 <= ri < rows and 0 <= ci < cols):
            return []
        v = self._stored[ri, ci]
        if self._stored.ndim == 3:
            return [f"({ci}, {ri})  RGB {int(v[0])} {int(v[1])} {int(v[2])}"]
        h = self.current_header()
        slope, intercept = rescale_for(h)
        value = float(modality_lut(np.asarray([v]), slope, intercept)[0])
        unit = value_unit(h)
        return [f"({ci}, {ri})  {value:.0f} {unit}".rstrip()]

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:  # the kept corner text is in the old language
            self._overlay_text = None
            self._overlay_calibration = None
            self.update()
        super().changeEvent(event)

    def sizeHint(self) -> QSize:
        return QSize(512, 512)

    # ================================================================ mouse
    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        self.activated.emit()
        pos = event.position()
        if event.button() == Qt.MouseButton.LeftButton and self.tools.press(pos):
            return
        action = self.keymap.drag_for(event.button())
        if action is DragAction.NONE:
            return
        start: Any = {
            DragAction.WINDOW: self.window,
            DragAction.ZOOM: self.zoom,
            DragAction.PAN: QPointF(self.pan),
            DragAction.SCROLL: self.index,
        }[action]
        self._drag = (action, pos, start)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        pos = event.position()
        left = bool(event.buttons() & Qt.MouseButton.LeftButton)
        if self.tools.move(pos, left):
            return
        if self._drag is None:
            self._hover = pos
            cursor = self.tools.hover_cursor(pos)
            self.setCursor(cursor if cursor is not None else Qt.CursorShape.ArrowCursor)
            if self.show_overlays and self._stored is not None:
                self.update()
            return
        action, origin, start = self._drag
        dx, dy = pos.x() - origin.x(), pos.y() - origin.y()
        self.mark_interactive()
        if action is DragAction.WINDOW and isinstance(start, Window):
            unit = max(start.width, 16.0) / 256.0
            width = max(1.0, start.width + dx * unit)
            centre = start.center - dy * unit
            self.window = Window(centre, width, start.function)
            self.window_name = ""
            self._display_dirty = True
            self.windowChanged.emit()
            self.update()
        elif action is DragAction.ZOOM:
            self.set_zoom(start * math.exp(-dy / 150.0))
        elif action is DragAction.PAN:
            self.set_pan(start + QPointF(dx, dy))
        elif action is DragAction.SCROLL:
            self.set_index(start + int(dy / 8))

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self.tools.release(event.position()):
            return
        self._drag = None

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            if self.tools.double_click(event.position()):
                return
            self.maximiseRequested.emit()

    def leaveEvent(self, event: Any) -> None:
        self._hover = None
        self.update()

    def wheelEvent(self, event: QWheelEvent) -> None:
        dy = event.angleDelta().y()
        self.mark_interactive()
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self.set_zoom(self.zoom * math.pow(1.0015, dy), event.position())
            return
        self._wheel_accum += dy
        steps = int(self._wheel_accum / 120)
        if steps:
            self._wheel_accum -= steps * 120
            self.step(-steps)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        event.accept()

    # ================================================================ keys
    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.tools.finish_polygon():
            return
        action = self.keymap.action_for(event)
        if action is None:
            super().keyPressEvent(event)
            return
        if action is ViewerAction.RESET and event.key() == Qt.Key.Key_Escape and self.tools.cancel():
            return
        if event.isAutoRepeat():
            self.mark_interactive()
        self.perform(action)

    def perform(self, action: ViewerAction) -> None:
        """Do what a bound key asks."""
        n = action.preset_number
        if n is not None:
            self.apply_preset(n)
            return
        tool = action.tool_name
        if tool is not None:
            self.toolRequested.emit(tool)
            return
        count = self.source.count if self.source is not None else 0
        if action is ViewerAction.NEXT_IMAGE:
            self.step(1)
        elif action is ViewerAction.PREVIOUS_IMAGE:
            self.step(-1)
        elif action is ViewerAction.FIRST_IMAGE:
            self.set_index(0)
        elif action is ViewerAction.LAST_IMAGE:
            self.set_index(count - 1)
        elif action is ViewerAction.NEXT_SERIES:
            self.seriesStepRequested.emit(1)
        elif action is ViewerAction.PREVIOUS_SERIES:
            self.seriesStepRequested.emit(-1)
        elif action is ViewerAction.TOGGLE_CINE:
            self.cine.toggle()
        elif action is ViewerAction.FLIP_HORIZONTAL:
            self.flip_horizontal()
        elif action is ViewerAction.FLIP_VERTICAL:
            self.flip_vertical()
        elif action is ViewerAction.INVERT:
            self.set_invert(not self.invert)
        elif action is ViewerAction.ROTATE:
            self.rotate(90)
        elif action is ViewerAction.RESET:
            self.cine.stop()
            self.reset_view(keep_window=False)
        elif action is ViewerAction.DELETE_ANNOTATION:
            if self.annotations.selected is not None and self.annotations.editable:
                self.annotations.remove(self.annotations.selected)
        elif action is ViewerAction.HEADER_WINDOW:
            self.apply_header_window()

    # ================================================================ drag and drop
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasFormat(SERIES_MIME):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        data: QMimeData = event.mimeData()
        if data.hasFormat(SERIES_MIME):
            self.seriesDropped.emit(bytes(data.data(SERIES_MIME).data()).decode("utf-8"))
            self.activated.emit()
            event.acceptProposedAction()
