"""Measurement and annotation tools: drawing, editing (drag handles) and painting.

Shapes are kept in image pixel coordinates (row, col; pixel centres at whole numbers), so
they stay on the anatomy through zoom, pan, flip and rotation.  Measurements call the imaging
core (`ioreview.imaging.measure`): lengths and areas in mm / mm² with the calibration source
named next to the number, ROI statistics in modality units (HU on CT), and plain pixels
marked "uncalibrated" when the image carries no spacing.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QCoreApplication, QLineF, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPen, QPolygonF

from ioreview.imaging.display import modality_lut, rescale_for
from ioreview.imaging.measure import (
    Calibration,
    CalibrationSource,
    angle_deg,
    ellipse_mask,
    length_mm,
    polygon_mask,
    roi_stats,
    value_unit,
)
from ioreview.ui.viewer import theme
from ioreview.ui.viewer.annotations import KINDS, AnnotationModel, Point, ViewerAnnotation
from ioreview.ui.viewer.overlays import draw_text_line
from ioreview.ui.viewer.series_loader import ImageRef

if TYPE_CHECKING:
    from ioreview.ui.viewer.viewport import ImageViewport

#: The tool that leaves the left button to window/level and only edits existing shapes.
NAVIGATE = "navigate"
TOOLS: tuple[str, ...] = (NAVIGATE, *KINDS)
#: The tool whose left click picks the seed of a grown region (the viewer grows it).
GROW_REGION = "grow_region"
HANDLE_PX = 7.0
ROI_KINDS = ("ellipse", "polygon", "freehand")


@dataclass(frozen=True)
class ImageContext:
    """What measuring on the image on screen needs: its identity, stored values, calibration."""

    ref: ImageRef
    stored: np.ndarray | None
    calibration: Callable[[Point | None], Calibration]


def calibration_note(cal: Calibration) -> str:
    """A short qualifier for a measurement, empty for Pixel Spacing in patient."""
    notes = {
        CalibrationSource.PATIENT: "",
        CalibrationSource.DETECTOR: QCoreApplication.translate("MeasurementTools", "at detector"),
        CalibrationSource.DETECTOR_CORRECTED: QCoreApplication.translate("MeasurementTools", "magnification corrected"),
        CalibrationSource.ULTRASOUND: QCoreApplication.translate("MeasurementTools", "US region"),
        CalibrationSource.UNCALIBRATED: QCoreApplication.translate("MeasurementTools", "uncalibrated"),
    }
    return notes[cal.source]


def _fmt(value: float, digits: int = 1) -> str:
    return "–" if not math.isfinite(value) else f"{value:.{digits}f}"


def _roi_mask(kind: str, pts: np.ndarray, shape: tuple[int, int]) -> tuple[np.ndarray, tuple[slice, slice]] | None:
    """Mask of the ROI within its bounding box (clipped to the image), and the box."""
    r0 = max(int(math.floor(pts[:, 0].min())) - 1, 0)
    c0 = max(int(math.floor(pts[:, 1].min())) - 1, 0)
    r1 = min(int(math.ceil(pts[:, 0].max())) + 2, shape[0])
    c1 = min(int(math.ceil(pts[:, 1].max())) + 2, shape[1])
    if r1 <= r0 or c1 <= c0:
        return None
    local = pts - np.array([r0, c0], dtype=np.float64)
    box = (slice(r0, r1), slice(c0, c1))
    sub = (r1 - r0, c1 - c0)
    if kind == "ellipse":
        centre = local.mean(axis=0)
        radii = np.abs(local[1] - local[0]) / 2.0
        if radii.min() < 0.5:
            return None
        return ellipse_mask(sub, (float(centre[0]), float(centre[1])), (float(radii[0]), float(radii[1]))), box
    if len(local) < 3:
        return None
    return polygon_mask(sub, [(float(r), float(c)) for r, c in local]), box


def measure(a: ViewerAnnotation, ctx: ImageContext | None) -> ViewerAnnotation:
    """`a` with its measurements, drawn text and calibration label filled in."""
    pts = a.points
    if ctx is None or a.kind == "region":
        return a  # a region's numbers come from the accepted grown region
    mid = tuple(np.mean(np.asarray(pts, dtype=np.float64), axis=0)) if pts else None
    cal = ctx.calibration((float(mid[0]), float(mid[1])) if mid is not None else None)
    note = calibration_note(cal)
    suffix = f" ({note})" if note else ""
    values: dict[str, float] = {}
    lines: list[str] = []
    try:
        if a.kind == "length" and len(pts) == 2:
            d = length_mm(pts[0], pts[1], cal)
            values[f"length_{cal.unit}"] = d
            lines.append(f"{_fmt(d)} {cal.unit}{suffix}")
        elif a.kind == "angle" and len(pts) == 3:
            ang = angle_deg(pts[0], pts[1], pts[2], cal if cal.calibrated else None)
            values["angle_deg"] = ang
            lines.append(f"{_fmt(ang)}°")
        elif a.kind in ROI_KINDS and ctx.stored is not None:
            arr = np.asarray(pts, dtype=np.float64)
            got = _roi_mask(a.kind, arr, ctx.stored.shape[:2])
            if got is not None:
                mask, box = got
                h = ctx.ref.header
                if ctx.stored.ndim == 2:
                    slope, intercept = rescale_for(h)
                    vals = modality_lut(ctx.stored[box], slope, intercept)
                    unit = value_unit(h)
                    stats = roi_stats(vals, mask, cal, unit)
                    values.update(
                        {
                            f"area_{cal.area_unit}": stats.area,
                            "mean": stats.mean,
                            "sd": stats.sd,
                            "min": stats.min,
                            "max": stats.max,
                            "n_pixels": float(stats.n_pixels),
                        }
                    )
                    u = f" {unit}" if unit else ""
                    lines.append(QCoreApplication.translate("MeasurementTools", "Area %1 %2").replace("%1", _fmt(stats.area)).replace("%2", cal.area_unit) + suffix)
                    lines.append(
                        QCoreApplication.translate("MeasurementTools", "Mean %1 ± %2%3").replace("%1", _fmt(stats.mean)).replace("%2", _fmt(stats.sd)).replace("%3", u)
                    )
                    lines.append(
                        QCoreApplication.translate("MeasurementTools", "Min %1  Max %2%3").replace("%1", _fmt(stats.min, 0)).replace("%2", _fmt(stats.max, 0)).replace("%3", u)
                    )
                else:
                    stats = roi_stats(np.zeros(mask.shape, dtype=np.float32), mask, cal)
                    values[f"area_{cal.area_unit}"] = stats.area
                    lines.append(QCoreApplication.translate("MeasurementTools", "Area %1 %2").replace("%1", _fmt(stats.area)).replace("%2", cal.area_unit) + suffix)
    except ValueError:
        lines = []
    return a.with_(measurements=values, text="\n".join(lines), calibration=cal.label)


def _dist_to_segment(p: QPointF, a: QPointF, b: QPointF) -> float:
    ab = b - a
    denom = ab.x() ** 2 + ab.y() ** 2
    t = 0.0 if denom == 0 else max(0.0, min(1.0, QPointF.dotProduct(p - a, ab) / denom))
    q = a + ab * t
    return math.hypot(p.x() - q.x(), p.y() - q.y())


class AnnotationTools:
    """Drawing and editing of annotations on one viewport, driven by its mouse events."""

    def __init__(self, viewport: ImageViewport, model: AnnotationModel) -> None:
        self.view = viewport
        self.model = model
        self.tool = NAVIGATE
        self._draft: list[Point] = []
        self._cursor: Point | None = None
        self._drag: tuple[ViewerAnnotation, int | None, Point] | None = None  # (original, handle, start)
        self._dragging_new = False
        self._press_screen: QPointF | None = None

    # ------------------------------------------------------------ state
    @property
    def drawing(self) -> bool:
        return bool(self._draft)

    def set_tool(self, tool: str) -> None:
        if tool not in TOOLS and tool != GROW_REGION:
            raise ValueError(f"tool: must be one of {', '.join(TOOLS)}, {GROW_REGION}, not {tool!r}")
        self.cancel()
        self.tool = tool

    def cancel(self) -> bool:
        """Abandon a shape being drawn; True when there was one."""
        had = bool(self._draft)
        self._draft = []
        self._cursor = None
        self._dragging_new = False
        if had:
            self.view.update()
        return had

    def _visible(self) -> list[ViewerAnnotation]:
        ref = self.view.current_ref()
        if ref is None:
            return []
        return self.model.on_image(ref.header.sop_instance_uid, ref.frame)

    # ------------------------------------------------------------ hit testing
    def _hit(self, pos: QPointF) -> tuple[ViewerAnnotation, int | None] | None:
        """The annotation (and handle index, or None for its body) under widget position `pos`."""
        best: tuple[float, ViewerAnnotation, int | None] | None = None
        for a in self._visible():
            screen = [self.view.image_to_widget(p) for p in a.points]
            for i, s in enumerate(screen):
                d = math.hypot(s.x() - pos.x(), s.y() - pos.y())
                if d <= HANDLE_PX and (best is None or d < best[0]):
                    best = (d, a, i if a.kind not in ("freehand",) else None)
            for seg in self._segments(a, screen):
                d = _dist_to_segment(pos, *seg)
                if d <= HANDLE_PX * 0.8 and (best is None or d + 1.0 < best[0]):
                    best = (d + 1.0, a, None)
        return (best[1], best[2]) if best else None

    def _segments(self, a: ViewerAnnotation, screen: list[QPointF]) -> list[tuple[QPointF, QPointF]]:
        if a.kind == "ellipse" and len(screen) == 2:
            poly = self._ellipse_polygon(a.points)
            return [(poly[i], poly[(i + 1) % len(poly)]) for i in range(len(poly))]
        segs = [(screen[i], screen[i + 1]) for i in range(len(screen) - 1)]
        if a.kind in ("polygon", "freehand") and len(screen) > 2:
            segs.append((screen[-1], screen[0]))
        return segs

    def hover_cursor(self, pos: QPointF) -> Qt.CursorShape | None:
        if self.model.editable and self._hit(pos) is not None:
            return Qt.CursorShape.SizeAllCursor
        if self.tool != NAVIGATE:
            return Qt.CursorShape.CrossCursor
        return None

    # ------------------------------------------------------------ mouse
    def press(self, pos: QPointF) -> bool:
        """Left button pressed at widget `pos`; True when a tool took the event."""
        if self.view.current_ref() is None:
            return False
        img = self.view.widget_to_image(pos)
        if self._draft:
            return self._add_draft_point(img, pos)
        if self.model.editable:
            hit = self._hit(pos)
            if hit is not None:
                a, handle = hit
                self.model.select(a.uid)
                if a.kind != "region":  # a grown region's seed is not moved by hand
                    self._drag = (a, handle, img)
                self.view.update()
                return True
        if self.tool == GROW_REGION and self.model.editable:
            self.model.select(None)
            self.view.regionSeedPicked.emit(float(img[0]), float(img[1]))
            return True
        if self.tool == NAVIGATE or not self.model.editable:
            if self.model.selected is not None:
                self.model.select(None)
                self.view.update()
            return False
        self.model.select(None)
        self._press_screen = pos
        if self.tool == "point":
            self._finish([img])
            return True
        self._draft = [img]
        self._cursor = img
        self._dragging_new = True
        self.view.update()
        return True

    def move(self, pos: QPointF, left_down: bool) -> bool:
        img = self.view.widget_to_image(pos)
        if self._drag is not None and left_down:
            original, handle, start = self._drag
            dr, dc = img[0] - start[0], img[1] - start[1]
            if handle is None:
                pts = tuple((r + dr, c + dc) for r, c in original.points)
            else:
                pts = tuple(img if i == handle else p for i, p in enumerate(original.points))
            self.model.preview(measure(original.with_(points=pts), self.view.image_context()))
            return True
        if not self._draft:
            return False
        self._cursor = img
        if self.tool == "freehand" and left_down:
            last = self.view.image_to_widget(self._draft[-1])
            if math.hypot(last.x() - pos.x(), last.y() - pos.y()) >= 2.0:
                self._draft.append(img)
        self.view.update()
        return True

    def release(self, pos: QPointF) -> bool:
        img = self.view.widget_to_image(pos)
        if self._drag is not None:
            original = self._drag[0]
            self._drag = None
            current = self.model.get(original.uid)
            if current is not None and current.points != original.points:
                self.model.update(current, old=original)
            return True
        if not self._draft or not self._dragging_new:
            return bool(self._draft)
        self._dragging_new = False
        moved = self._press_screen is not None and math.hypot(
            pos.x() - self._press_screen.x(), pos.y() - self._press_screen.y()
        ) > 3.0
        if self.tool == "freehand":
            pts = self._draft + [img]
            self._draft = []
            if len(pts) >= 3:
                self._finish(pts)
            self.view.update()
            return True
        if not moved:
            return True  # click-click drawing: the next clicks add the points
        if self.tool in ("arrow", "length", "ellipse"):
            self._finish([self._draft[0], img])
        elif self.tool == "angle":
            self._draft.append(img)
        elif self.tool == "polygon":
            self._draft.append(img)
        self.view.update()
        return True

    def double_click(self, pos: QPointF) -> bool:
        if self.tool == "polygon" and self._draft:
            pts = self._draft
            if len(pts) >= 2 and pts[-1] == pts[-2]:
                pts = pts[:-1]
            if len(pts) >= 3:
                self._finish(pts)
            else:
                self.cancel()
            return True
        return bool(self._draft) or self._drag is not None

    def finish_polygon(self) -> bool:
        """Close the polygon being drawn (Enter); True when there was one."""
        if self.tool == "polygon" and len(self._draft) >= 3:
            self._finish(self._draft)
            return True
        return False

    def _add_draft_point(self, img: Point, pos: QPointF) -> bool:
        n = KINDS.get(self.tool)
        if self.tool == "polygon" and len(self._draft) >= 3:
            first = self.view.image_to_widget(self._draft[0])
            if math.hypot(first.x() - pos.x(), first.y() - pos.y()) <= HANDLE_PX:
                self._finish(self._draft)
                return True
        self._draft.append(img)
        if n is not None and len(self._draft) >= n:
            self._finish(self._draft[:n])
        self.view.update()
        return True

    def _finish(self, pts: list[Point]) -> None:
        ref = self.view.current_ref()
        self._draft = []
        self._cursor = None
        self._dragging_new = False
        if ref is None:
            return
        finding_id, label = self.view.finding_for_new_annotations()
        a = ViewerAnnotation(
            uid=ViewerAnnotation.new_uid(),
            kind=self.tool,
            sop_instance_uid=ref.header.sop_instance_uid,
            frame=ref.frame,
            points=tuple((float(r), float(c)) for r, c in pts),
            finding_id=finding_id,
            label=label,
        )
        a = measure(a, self.view.image_context())
        self.model.add(a)
        self.model.select(a.uid)
        self.view.update()

    # ------------------------------------------------------------ painting
    def _ellipse_polygon(self, pts: tuple[Point, ...]) -> list[QPointF]:
        (r0, c0), (r1, c1) = pts
        rc, cc, rr, cr = (r0 + r1) / 2, (c0 + c1) / 2, abs(r1 - r0) / 2, abs(c1 - c0) / 2
        return [
            self.view.image_to_widget((rc + rr * math.sin(t), cc + cr * math.cos(t)))
            for t in np.linspace(0, 2 * math.pi, 64, endpoint=False)
        ]

    def paint(self, p: QPainter) -> None:
        """Draw the annotations of the image on screen and the shape being drawn."""
        visible = self._visible()
        if not visible and not self._draft:
            return  # nothing to draw (most frames): no font to make
        selected = self.model.selected
        font = QFont(p.font())
        font.setPointSizeF(max(font.pointSizeF(), 9.0))
        p.setFont(font)
        for a in visible:
            self._paint_one(p, a, a.uid == selected)
        if self._draft:
            pts = list(self._draft) + ([self._cursor] if self._cursor is not None else [])
            draft = ViewerAnnotation("draft", self.tool, "", 0, tuple(pts))
            if self.tool == "polygon":
                draft = draft.with_(kind="polyline")
            self._paint_one(p, draft, True)

    def _paint_one(self, p: QPainter, a: ViewerAnnotation, selected: bool) -> None:
        colour = QColor(theme.ACCENT if selected else theme.ANNOTATION)
        pen = QPen(colour, 1.6)
        pen.setCosmetic(True)
        shadow = QPen(QColor(0, 0, 0, 160), 3.2)
        shadow.setCosmetic(True)
        screen = [self.view.image_to_widget(pt) for pt in a.points]
        if not screen:
            return
        path = QPainterPath()
        kind = a.kind
        if kind == "region":
            s = screen[0]
            path.addEllipse(s, 7.0, 7.0)
            path.moveTo(s + QPointF(-3, 0))
            path.lineTo(s + QPointF(3, 0))
            path.moveTo(s + QPointF(0, -3))
            path.lineTo(s + QPointF(0, 3))
        elif kind == "point":
            s = screen[0]
            path.moveTo(s + QPointF(-6, 0))
            path.lineTo(s + QPointF(6, 0))
            path.moveTo(s + QPointF(0, -6))
            path.lineTo(s + QPointF(0, 6))
        elif kind == "ellipse" and len(screen) == 2:
            path.addPolygon(QPolygonF(self._ellipse_polygon(a.points)))
            path.closeSubpath()
        else:
            path.moveTo(screen[0])
            for s in screen[1:]:
                path.lineTo(s)
            if kind in ("polygon", "freehand") and len(screen) > 2:
                path.closeSubpath()
            if kind == "arrow" and len(screen) == 2:
                self._arrow_head(path, screen[0], screen[1])
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.setPen(shadow)
        p.drawPath(path)
        p.setPen(pen)
        p.drawPath(path)
        if selected and kind not in ("freehand", "point", "region"):
            p.setBrush(colour)
            for s in screen:
                p.drawRect(QRectF(s.x() - 3, s.y() - 3, 6, 6))
            p.setBrush(Qt.BrushStyle.NoBrush)
        lines = []
        if a.label:
            lines.append(a.label)
        if a.text:
            lines.extend(a.text.splitlines())
        if lines:
            anchor = max(screen, key=lambda q: (q.x(), -q.y())) if kind != "angle" else screen[1]
            self._paint_text(p, anchor + QPointF(8, -4), lines, colour)

    @staticmethod
    def _arrow_head(path: QPainterPath, tail: QPointF, head: QPointF) -> None:
        line = QLineF(head, tail)
        if line.length() < 1:
            return
        ang = math.radians(line.angle())
        for d in (math.radians(25), -math.radians(25)):
            tip = head + QPointF(math.cos(ang + d) * 12, -math.sin(ang + d) * 12)
            path.moveTo(head)
            path.lineTo(tip)

    @staticmethod
    def _paint_text(p: QPainter, at: QPointF, lines: list[str], colour: QColor) -> None:
        fm = QFontMetricsF(p.font())
        y = at.y()
        for line in lines:
            draw_text_line(p, at.x(), y, line, colour)
            y += fm.height()
