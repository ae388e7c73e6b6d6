"""Toolbar icons of the viewer, drawn with QPainter (no image files to ship or to go stale).

Each icon is a few strokes on a 24-unit grid in the palette's button-text colour (so it reads
on the dark reading-room theme and on a light one), rendered at 1x and 2x so it stays sharp on
high-density screens; Qt derives the disabled look from the normal one.
"""
from __future__ import annotations

import math
from collections.abc import Callable

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QGuiApplication, QIcon, QPainter, QPainterPath, QPalette, QPen, QPixmap, QPolygonF

from ioreview.ui.viewer import theme

Painter = Callable[[QPainter], None]
_ICONS: dict[tuple[str, str], QIcon] = {}
#: The stroke colour of the icon being drawn (the palette's button text).
_INK = [theme.TEXT_BRIGHT]
_DRAW: dict[str, Painter] = {}


def _icon(name: str) -> Callable[[Painter], Painter]:
    def register(fn: Painter) -> Painter:
        _DRAW[name] = fn
        return fn
    return register


def icon_names() -> tuple[str, ...]:
    """Every icon this module can draw."""
    return tuple(_DRAW)


def icon(name: str) -> QIcon:
    """The icon `name` (see `icon_names`); an empty icon for an unknown name."""
    app = QGuiApplication.instance()
    ink = QGuiApplication.palette().color(QPalette.ColorRole.ButtonText).name() if app is not None else theme.TEXT_BRIGHT
    got = _ICONS.get((name, ink))
    if got is not None:
        return got
    _INK[0] = ink
    draw = _DRAW.get(name)
    result = QIcon()
    if draw is not None:
        for scale in (1, 2):
            pm = QPixmap(24 * scale, 24 * scale)
            pm.setDevicePixelRatio(scale)
            pm.fill(Qt.GlobalColor.transparent)
            p = QPainter(pm)
            p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            p.setPen(_pen())
            p.setBrush(Qt.BrushStyle.NoBrush)
            draw(p)
            p.end()
            result.addPixmap(pm)
    _ICONS[(name, ink)] = result
    return result


def _pen(width: float = 1.7, colour: str | None = None) -> QPen:
    pen = QPen(QColor(colour or _INK[0]), width)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
    return pen


def _arrow_head(p: QPainter, tip: QPointF, angle_deg: float, size: float = 5.0) -> None:
    a = math.radians(angle_deg)
    left = QPointF(tip.x() - size * math.cos(a - 0.45), tip.y() - size * math.sin(a - 0.45))
    right = QPointF(tip.x() - size * math.cos(a + 0.45), tip.y() - size * math.sin(a + 0.45))
    p.save()
    p.setBrush(QBrush(QColor(_INK[0])))
    p.drawPolygon(QPolygonF([tip, left, right]))
    p.restore()


# -- navigate ----------------------------------------------------------------------------------
@_icon("navigate")
def _navigate(p: QPainter) -> None:
    """Window/level: a circle half light, half dark."""
    r = QRectF(4, 4, 16, 16)
    p.drawEllipse(r)
    path = QPainterPath()
    path.moveTo(12, 4)
    path.arcTo(r, 90, 180)
    path.closeSubpath()
    p.fillPath(path, QColor(_INK[0]))


@_icon("cine")
def _cine(p: QPainter) -> None:
    p.drawRoundedRect(QRectF(3, 5, 18, 14), 2, 2)
    p.save()
    p.setBrush(QBrush(QColor(_INK[0])))
    p.drawPolygon(QPolygonF([QPointF(10, 9), QPointF(16, 12), QPointF(10, 15)]))
    p.restore()


@_icon("sync")
def _sync(p: QPainter) -> None:
    """Two panes linked by a chain."""
    p.drawRect(QRectF(2.5, 6, 7, 12))
    p.drawRect(QRectF(14.5, 6, 7, 12))
    p.drawLine(QPointF(9.5, 12), QPointF(14.5, 12))
    p.drawEllipse(QPointF(12, 12), 1.6, 1.6)


# -- measure -----------------------------------------------------------------------------------
@_icon("length")
def _length(p: QPainter) -> None:
    p.drawLine(QPointF(4, 18), QPointF(20, 6))
    for x, y in ((4, 18), (20, 6)):
        p.drawLine(QPointF(x - 2.2, y - 2.9), QPointF(x + 2.2, y + 2.9))
    for t in (0.33, 0.66):
        x, y = 4 + 16 * t, 18 - 12 * t
        p.drawLine(QPointF(x - 1.2, y - 1.6), QPointF(x + 1.2, y + 1.6))


@_icon("angle")
def _angle(p: QPainter) -> None:
    p.drawPolyline(QPolygonF([QPointF(20, 5), QPointF(4, 19), QPointF(21, 19)]))
    p.drawArc(QRectF(-4, 11, 16, 16), 0, 40 * 16)


@_icon("ellipse")
def _ellipse(p: QPainter) -> None:
    p.drawEllipse(QRectF(3, 6, 18, 12))
    p.drawPoint(QPointF(12, 12))


@_icon("polygon")
def _polygon(p: QPainter) -> None:
    pts = [QPointF(5, 7), QPointF(15, 4), QPointF(20, 12), QPointF(14, 20), QPointF(4, 16)]
    p.drawPolygon(QPolygonF(pts))
    p.save()
    p.setBrush(QBrush(QColor(_INK[0])))
    for pt in pts:
        p.drawEllipse(pt, 1.3, 1.3)
    p.restore()


@_icon("freehand")
def _freehand(p: QPainter) -> None:
    path = QPainterPath(QPointF(6, 8))
    path.cubicTo(QPointF(10, 2), QPointF(21, 6), QPointF(19, 12))
    path.cubicTo(QPointF(17, 19), QPointF(9, 21), QPointF(5, 16))
    path.cubicTo(QPointF(3, 13), QPointF(5, 11), QPointF(6, 8))
    p.drawPath(path)


# -- annotate ----------------------------------------------------------------------------------
@_icon("arrow")
def _arrow(p: QPainter) -> None:
    p.drawLine(QPointF(5, 19), QPointF(18, 6))
    _arrow_head(p, QPointF(19, 5), -45.0, 6.0)


@_icon("point")
def _point(p: QPainter) -> None:
    p.drawLine(QPointF(12, 3), QPointF(12, 9))
    p.drawLine(QPointF(12, 15), QPointF(12, 21))
    p.drawLine(QPointF(3, 12), QPointF(9, 12))
    p.drawLine(QPointF(15, 12), QPointF(21, 12))
    p.drawEllipse(QPointF(12, 12), 1.5, 1.5)


@_icon("key_image")
def _key_image(p: QPainter) -> None:
    """A star on a frame: the image is kept as key."""
    pts = []
    for i in range(10):
        r = 9.0 if i % 2 == 0 else 4.0
        a = math.radians(-90 + 36 * i)
        pts.append(QPointF(12 + r * math.cos(a), 12.5 + r * math.sin(a)))
    p.drawPolygon(QPolygonF(pts))


# -- assist ------------------------------------------------------------------------------------
@_icon("grow_region")
def _grow_region(p: QPainter) -> None:
    path = QPainterPath(QPointF(7, 6))
    path.cubicTo(QPointF(14, 1), QPointF(22, 8), QPointF(19, 14))
    path.cubicTo(QPointF(16, 21), QPointF(6, 22), QPointF(4, 15))
    path.cubicTo(QPointF(3, 11), QPointF(4, 8), QPointF(7, 6))
    pen = _pen()
    pen.setStyle(Qt.PenStyle.DashLine)
    p.save()
    p.setPen(pen)
    p.drawPath(path)
    p.restore()
    p.save()
    p.setBrush(QBrush(QColor(_INK[0])))
    p.drawEllipse(QPointF(12, 13), 2.2, 2.2)
    p.restore()


@_icon("fat_map")
def _fat_map(p: QPainter) -> None:
    """A drop (fat) over a grid of pixels."""
    for x in (4, 9, 14):
        for y in (14, 18):
            p.drawRect(QRectF(x, y, 4, 3))
    path = QPainterPath(QPointF(17, 3))
    path.cubicTo(QPointF(22, 9), QPointF(21, 13), QPointF(17, 13))
    path.cubicTo(QPointF(13, 13), QPointF(12, 9), QPointF(17, 3))
    p.fillPath(path, QColor(theme.ANNOTATION))


@_icon("clahe")
def _clahe(p: QPainter) -> None:
    """A flattened histogram."""
    p.drawLine(QPointF(3, 20), QPointF(21, 20))
    for i, h in enumerate((9, 11, 10, 12, 10, 11)):
        x = 4.5 + i * 2.9
        p.drawLine(QPointF(x, 19), QPointF(x, 19 - h))


# -- edit --------------------------------------------------------------------------------------
def _curved_arrow(p: QPainter, mirror: bool) -> None:
    p.save()
    if mirror:
        p.translate(24, 0)
        p.scale(-1, 1)
    path = QPainterPath(QPointF(6, 9))
    path.lineTo(QPointF(15, 9))
    path.cubicTo(QPointF(22, 9), QPointF(22, 19), QPointF(15, 19))
    path.lineTo(QPointF(9, 19))
    p.drawPath(path)
    _arrow_head(p, QPointF(4, 9), 180.0, 5.5)
    p.restore()


@_icon("undo")
def _undo(p: QPainter) -> None:
    _curved_arrow(p, False)


@_icon("redo")
def _redo(p: QPainter) -> None:
    _curved_arrow(p, True)


# -- view --------------------------------------------------------------------------------------
@_icon("presets")
def _presets(p: QPainter) -> None:
    """A grey ramp: window presets."""
    for i in range(5):
        grey = 40 + i * 50
        p.fillRect(QRectF(3 + i * 3.6, 6, 3.6, 12), QColor(grey, grey, grey))
    p.drawRect(QRectF(3, 6, 18, 12))


@_icon("invert")
def _invert(p: QPainter) -> None:
    p.drawRect(QRectF(4, 4, 16, 16))
    p.fillRect(QRectF(4, 4, 8, 16), QColor(_INK[0]))
    p.save()
    p.setPen(_pen(1.7, theme.BACKGROUND))
    p.drawEllipse(QPointF(8, 12), 2.5, 2.5)
    p.restore()
    p.drawEllipse(QPointF(16, 12), 2.5, 2.5)


def _flip(p: QPainter) -> None:
    pen = _pen()
    pen.setStyle(Qt.PenStyle.DashLine)
    p.save()
    p.setPen(pen)
    p.drawLine(QPointF(12, 3), QPointF(12, 21))
    p.restore()
    p.drawPolygon(QPolygonF([QPointF(9, 6), QPointF(9, 18), QPointF(3, 18)]))
    p.save()
    p.setBrush(QBrush(QColor(_INK[0])))
    p.drawPolygon(QPolygonF([QPointF(15, 6), QPointF(15, 18), QPointF(21, 18)]))
    p.restore()


@_icon("flip_h")
def _flip_h(p: QPainter) -> None:
    _flip(p)


@_icon("flip_v")
def _flip_v(p: QPainter) -> None:
    p.save()
    p.translate(24, 0)
    p.rotate(90)
    _flip(p)
    p.restore()


@_icon("rotate")
def _rotate(p: QPainter) -> None:
    p.drawArc(QRectF(5, 5, 14, 14), 90 * 16, -270 * 16)
    _arrow_head(p, QPointF(12, 5), 180.0, 5.0)


@_icon("reset")
def _reset(p: QPainter) -> None:
    """Fit to window: four corners pointing out."""
    for sx, sy in ((1, 1), (-1, 1), (1, -1), (-1, -1)):
        cx, cy = 12 - sx * 8, 12 - sy * 8
        p.drawPolyline(QPolygonF([QPointF(cx, cy + sy * 5), QPointF(cx, cy), QPointF(cx + sx * 5, cy)]))
    p.drawRect(QRectF(9, 9, 6, 6))


@_icon("tags")
def _tags(p: QPainter) -> None:
    p.drawPolygon(QPolygonF([QPointF(3, 8), QPointF(14, 8), QPointF(20, 12), QPointF(14, 16), QPointF(3, 16)]))
    p.drawEllipse(QPointF(14, 12), 1.4, 1.4)


# -- layout ------------------------------------------------------------------------------------
def _grid(p: QPainter, rows: int, cols: int) -> None:
    w, h = 18.0 / cols, 16.0 / rows
    for r in range(rows):
        for c in range(cols):
            p.drawRect(QRectF(3 + c * w, 4 + r * h, w, h))


@_icon("layout_1x1")
def _layout_1x1(p: QPainter) -> None:
    _grid(p, 1, 1)


@_icon("layout_1x2")
def _layout_1x2(p: QPainter) -> None:
    _grid(p, 1, 2)


@_icon("layout_2x2")
def _layout_2x2(p: QPainter) -> None:
    _grid(p, 2, 2)


@_icon("mpr")
def _mpr(p: QPainter) -> None:
    """Three orthogonal planes: a cube with its mid planes."""
    p.drawPolygon(QPolygonF([QPointF(4, 8), QPointF(12, 4), QPointF(20, 8), QPointF(20, 17), QPointF(12, 21), QPointF(4, 17)]))
    p.drawLine(QPointF(4, 8), QPointF(12, 12))
    p.drawLine(QPointF(20, 8), QPointF(12, 12))
    p.drawLine(QPointF(12, 12), QPointF(12, 21))


@_icon("worklist")
def _worklist(p: QPainter) -> None:
    """A panel at the left with list lines."""
    p.drawRect(QRectF(3, 4, 18, 16))
    p.fillRect(QRectF(3, 4, 7, 16), QColor(theme.TEXT_DIM))
    for y in (8, 12, 16):
        p.drawLine(QPointF(4.5, y), QPointF(8.5, y))


@_icon("read_form")
def _read_form(p: QPainter) -> None:
    """A panel at the right with form fields."""
    p.drawRect(QRectF(3, 4, 18, 16))
    p.fillRect(QRectF(14, 4, 7, 16), QColor(theme.TEXT_DIM))
    for y in (8, 12, 16):
        p.drawRect(QRectF(15.5, y - 1, 4, 2))


@_icon("help")
def _help(p: QPainter) -> None:
    p.drawEllipse(QRectF(3, 3, 18, 18))
    path = QPainterPath(QPointF(9, 9.5))
    path.cubicTo(QPointF(9, 5.5), QPointF(15.5, 5.5), QPointF(15, 9.5))
    path.cubicTo(QPointF(14.7, 12), QPointF(12, 12), QPointF(12, 14.5))
    p.drawPath(path)
    p.drawPoint(QPointF(12, 17.5))
