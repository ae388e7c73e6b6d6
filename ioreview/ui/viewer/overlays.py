"""Corner text and orientation markers drawn over a viewport.

Only technical values are shown: series description, image number, slice position and
thickness, window, zoom, calibration source and orientation letters (from Image Orientation
(Patient), PS3.3 C.7.6.2.1.1).  Identifying attributes (name, ID, birth date, accession,
institution, calendar dates; `IDENTIFYING_FIELDS`) are never read here, whoever the user is.
"""
from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any
from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QImage, QPainter, QPixmap, QTransform

from ioreview.imaging.header import InstanceHeader
from ioreview.imaging.measure import Calibration, CalibrationSource


def calibration_text(cal: Calibration) -> str:
    """The overlay's calibration line, translated (the source is always named)."""
    names = {
        CalibrationSource.PATIENT: QCoreApplication.translate(
            "ViewerOverlay", "mm (Pixel Spacing, in patient)"),
        CalibrationSource.DETECTOR: QCoreApplication.translate(
            "ViewerOverlay", "mm (Imager Pixel Spacing, at detector)"),
        CalibrationSource.DETECTOR_CORRECTED: QCoreApplication.translate(
            "ViewerOverlay", "mm (Imager Pixel Spacing corrected by Estimated Radiographic "
            "Magnification Factor)"),
        CalibrationSource.ULTRASOUND: QCoreApplication.translate(
            "ViewerOverlay", "mm (Ultrasound region calibration)"),
    }
    if not cal.calibrated:
        return QCoreApplication.translate("ViewerOverlay", "px (uncalibrated)")
    return names.get(cal.source, cal.label)


@dataclass(frozen=True)
class OverlayText:
    """Lines for the four corners of a viewport."""

    top_left: list[str] = field(default_factory=list)
    top_right: list[str] = field(default_factory=list)
    bottom_left: list[str] = field(default_factory=list)
    bottom_right: list[str] = field(default_factory=list)

    def all_text(self) -> str:
        return "\n".join(self.top_left + self.top_right + self.bottom_left + self.bottom_right)


def _num(v: float | None, digits: int = 1) -> str:
    return "" if v is None else f"{v:.{digits}f}"


def slice_position(header: InstanceHeader) -> float | None:
    """Position of a slice along its normal (mm), as workstations show "Z" or "S/I"."""
    if header.image_position is None or header.image_orientation is None:
        return None
    (a, b, c, d, e, f), (x, y, z) = header.image_orientation, header.image_position
    # normal = row direction x column direction; plain floats: this runs on every paint
    return (b * f - c * e) * x + (c * d - a * f) * y + (a * e - b * d) * z


#: the planes' names, translated where drawn (`plane_title`)
_PLANES = {"axial": QT_TRANSLATE_NOOP("MprView", "axial"),
           "coronal": QT_TRANSLATE_NOOP("MprView", "coronal"),
           "sagittal": QT_TRANSLATE_NOOP("MprView", "sagittal")}


def plane_title(plane: str) -> str:
    """A plane's name in the UI language, for the pane's overlay ("CT 轴位"); the value of
    `PLANES` itself stays the code the viewer compares.  One lookup per paint: this runs in
    the render loop."""
    name = _PLANES.get(plane)
    return QCoreApplication.translate("MprView", name) if name else plane


def window_line(window: tuple[float, float], window_name: str = "") -> str:
    """The overlay's window line for (centre, width): the first bottom-left line of
    `overlay_text`, and the only one a window/level drag changes."""
    wl = QCoreApplication.translate("ViewerOverlay", "W %1  L %2").replace("%1", f"{window[1]:.0f}").replace("%2", f"{window[0]:.0f}")
    return f"{wl}  ({window_name})" if window_name else wl


def overlay_text(
    *,
    header: InstanceHeader | None,
    description: str,
    modality: str,
    index: int,
    count: int,
    frame: int,
    window: tuple[float, float] | None,
    window_name: str,
    zoom: float,
    calibration_label: str,
    inverted: bool,
    extra_bottom_right: list[str] | None = None,
    plane: str = "",
    loaded: tuple[int, int] | None = None,
    shape: tuple[int, int] | None = None,
) -> OverlayText:
    """The corner lines for the image on screen (no identifying values, by construction)."""
    tl = [line for line in (description, " ".join(x for x in (modality, plane_title(plane)) if x))
          if line]
    if header is not None and header.series_number is not None:
        tl.append(QCoreApplication.translate("ViewerOverlay", "Series %1").replace("%1", str(header.series_number)))
    tr_lines = [QCoreApplication.translate("ViewerOverlay", "Im %1 / %2").replace("%1", str(index + 1)).replace("%2", str(count))]
    if header is not None:
        nframes = header.number_of_frames or 1
        if nframes > 1:
            tr_lines.append(QCoreApplication.translate("ViewerOverlay", "Frame %1 / %2").replace("%1", str(frame + 1)).replace("%2", str(nframes)))
        acquired = not plane or plane == "axial"
        pos = slice_position(header) if acquired else None
        if pos is not None:
            tr_lines.append(QCoreApplication.translate("ViewerOverlay", "Pos %1 mm").replace("%1", _num(pos)))
        if header.slice_thickness and acquired:
            tr_lines.append(QCoreApplication.translate("ViewerOverlay", "Thk %1 mm").replace("%1", _num(header.slice_thickness)))
        rows, cols = shape if shape is not None else (header.rows, header.columns)
        if rows and cols:
            tr_lines.append(f"{cols} × {rows}")
    if loaded is not None and loaded[0] < loaded[1]:
        tr_lines.append(QCoreApplication.translate("ViewerOverlay", "Loading %1 / %2").replace("%1", str(loaded[0])).replace("%2", str(loaded[1])))
    bl: list[str] = []
    if window is not None:
        bl.append(window_line(window, window_name))
    if inverted:
        bl.append(QCoreApplication.translate("ViewerOverlay", "Inverted"))
    bl.append(QCoreApplication.translate("ViewerOverlay", "Zoom %1%").replace("%1", f"{zoom * 100:.0f}"))
    if calibration_label:
        bl.append(calibration_label)
    return OverlayText(tl, tr_lines, bl, list(extra_bottom_right or []))


def _letters(vec: np.ndarray) -> str:
    """Orientation letters for a patient-space direction (LPS): up to two, strongest first."""
    names = (("L", "R"), ("P", "A"), ("H", "F"))
    parts = []
    for axis in np.argsort(-np.abs(vec)):
        v = vec[axis]
        if abs(v) < 0.25:
            continue
        parts.append(names[axis][0] if v > 0 else names[axis][1])
    return "".join(parts[:2])


def orientation_markers(
    orientation: tuple[float, ...] | None, view: QTransform
) -> dict[str, str] | None:
    """Letters for the left, right, top and bottom edges of the screen, or None.

    `view` maps image (x = column, y = row) to screen; its linear part carries flips and
    rotation, so markers follow H/V flip and R rotate.
    """
    if orientation is None or len(orientation) != 6:
        return None
    o = np.asarray(orientation, dtype=np.float64)
    row_dir, col_dir = o[:3], o[3:]  # direction of increasing column, of increasing row
    m = np.array([[view.m11(), view.m21()], [view.m12(), view.m22()]])
    try:
        inv = np.linalg.inv(m)
    except np.linalg.LinAlgError:
        return None
    right_img = inv @ np.array([1.0, 0.0])
    down_img = inv @ np.array([0.0, 1.0])
    right = right_img[0] * row_dir + right_img[1] * col_dir
    down = down_img[0] * row_dir + down_img[1] * col_dir
    for v in (right, down):
        n = np.linalg.norm(v)
        if n > 0:
            v /= n
    return {"right": _letters(right), "left": _letters(-right), "bottom": _letters(down), "top": _letters(-down)}


#: outlined lines rendered once: (pixmap, its logical width) by (text, font key, colour, dpr)
_TEXT_CACHE: OrderedDict[tuple[str, str, str, float], tuple[QPixmap, float]] = OrderedDict()
_TEXT_CACHE_SIZE = 600


def text_pixmap(text: str, font: QFont, colour: QColor, dpr: float = 1.0) -> QPixmap:
    """`text` with a dark outline, rendered once and cached: overlay lines repeat frame after
    frame, and blitting a small pixmap is several times cheaper than shaping text again."""
    key = (text, font.key(), colour.name(QColor.NameFormat.HexArgb), dpr)
    got = _TEXT_CACHE.get(key)
    if got is not None:
        _TEXT_CACHE.move_to_end(key)
        return got[0]
    return _render_text(key, font, colour, QFontMetricsF(font))[0]


def _render_text(key: tuple[str, str, str, float], font: QFont, colour: QColor, fm: QFontMetricsF
                 ) -> tuple[QPixmap, float]:
    """Render and cache the outlined line `key` = (text, font key, colour name, dpr)."""
    pm, _ = _outlined((key[0],), font, colour, fm, key[3], fm.height(), False)
    got = _TEXT_CACHE[key] = (pm, pm.width() / pm.devicePixelRatioF())
    if len(_TEXT_CACHE) > _TEXT_CACHE_SIZE:
        _TEXT_CACHE.popitem(last=False)
    return got


def _outlined(
    lines: Sequence[str], font: QFont, colour: QColor, fm: QFontMetricsF, dpr: float, line_height: float,
    align_right: bool,
) -> tuple[QPixmap, float]:
    """Lines of text with a dark outline on a transparent pixmap, and its logical width."""
    width = max(fm.horizontalAdvance(line) for line in lines) + 2.0
    height = (len(lines) - 1) * line_height + fm.height() + 2.0
    img = QImage(max(1, int(width * dpr + 1)), max(1, int(height * dpr + 1)), QImage.Format.Format_ARGB32_Premultiplied)
    img.setDevicePixelRatio(dpr)
    img.fill(0)
    p = QPainter(img)
    p.setFont(font)
    for i, line in enumerate(lines):
        baseline = fm.ascent() + i * line_height
        x = width - 2.0 - fm.horizontalAdvance(line) if align_right else 0.0
        p.setPen(_OUTLINE)
        p.drawText(QPointF(x + 1.0, baseline + 1.0), line)
        p.setPen(colour)
        p.drawText(QPointF(x, baseline), line)
    p.end()
    return QPixmap.fromImage(img), width


_SEEN: OrderedDict[tuple[str, str, str, float], None] = OrderedDict()
_OUTLINE = QColor(0, 0, 0, 210)
_NO_PEN = Qt.PenStyle.NoPen


class _TextStyle:
    """What every line drawn with one font and colour shares, looked up once per paint."""

    __slots__ = ("font", "fm", "ascent", "colour", "font_key", "colour_name", "dpr")

    def __init__(self, p: QPainter, colour: QColor) -> None:
        self.font = p.font()
        self.fm = QFontMetricsF(self.font)
        self.ascent = self.fm.ascent()
        self.colour = colour
        self.font_key = self.font.key()
        self.colour_name = colour.name(QColor.NameFormat.HexArgb)
        self.dpr = p.device().devicePixelRatioF()


def draw_text_line(p: QPainter, x: float, baseline: float, text: str, colour: QColor, align_right: bool = False) -> float:
    """Draw one outlined line with its baseline at `baseline`; returns its width.

    A line seen for the first time (a slice number while scrolling) is drawn directly; one
    seen again is cached as a pixmap, so steady lines cost a blit per frame.
    """
    return _draw_line(p, _TextStyle(p, colour), x, baseline, text, align_right)


def _draw_line(p: QPainter, style: _TextStyle, x: float, baseline: float, text: str, align_right: bool,
               want_width: bool = True) -> float:
    """`draw_text_line` with the font and colour lookups of `style` already done.  Without
    `want_width` a left-aligned line seen for the first time is not measured (returns -1.0):
    the window line of a drag is such a line on every frame."""
    key = (text, style.font_key, style.colour_name, style.dpr)
    got = _TEXT_CACHE.get(key)
    if got is None:
        if key not in _SEEN:
            _SEEN[key] = None
            if len(_SEEN) > _TEXT_CACHE_SIZE:
                _SEEN.popitem(last=False)
            w = style.fm.horizontalAdvance(text) if want_width or align_right else -1.0
            left = x - w if align_right else x
            p.setPen(_OUTLINE)
            p.drawText(QPointF(left + 1.0, baseline + 1.0), text)
            p.setPen(style.colour)
            p.drawText(QPointF(left, baseline), text)
            return w
        got = _render_text(key, style.font, style.colour, style.fm)
    else:
        _TEXT_CACHE.move_to_end(key)
    pm, w = got
    p.drawPixmap(QPointF(x - w if align_right else x, baseline - style.ascent), pm)
    return w


_BLOCK_CACHE: OrderedDict[tuple[Any, ...], tuple[QPixmap, float]] = OrderedDict()
_LAST_BLOCK: OrderedDict[tuple[int, str], tuple[Any, ...]] = OrderedDict()
_BLOCK_CACHE_SIZE = 64


def _draw_block(
    p: QPainter, style: _TextStyle, slot: tuple[int, str], x: float, first_baseline: float, line_height: float,
    lines: Sequence[str], align_right: bool,
) -> None:
    """A corner's lines, top line's baseline at `first_baseline`.  A corner that is the same
    as in the previous paint of its `slot` (the corners that do not change while the user
    drags or scrolls) becomes one cached pixmap and one blit; one that changes from paint
    to paint (the W/L corner during a drag) is drawn line by line."""
    if not lines:
        return
    key = (tuple(lines), style.font_key, style.colour_name, style.dpr, align_right)
    cached = _BLOCK_CACHE.get(key)
    if cached is None:
        steady = _LAST_BLOCK.get(slot) == key
        _LAST_BLOCK[slot] = key
        _LAST_BLOCK.move_to_end(slot)
        if len(_LAST_BLOCK) > _BLOCK_CACHE_SIZE:
            _LAST_BLOCK.popitem(last=False)
        if not steady:
            for i, line in enumerate(lines):
                _draw_line(p, style, x, first_baseline + i * line_height, line, align_right, False)
            return
        cached = _render_block(key, style, line_height)
    else:
        _BLOCK_CACHE.move_to_end(key)
    pm, w = cached
    p.drawPixmap(QPointF(x - w if align_right else x, first_baseline - style.ascent), pm)


def _render_block(key: tuple[Any, ...], style: _TextStyle, line_height: float) -> tuple[QPixmap, float]:
    cached = _outlined(key[0], style.font, style.colour, style.fm, key[3], line_height, key[4])
    _BLOCK_CACHE[key] = cached
    if len(_BLOCK_CACHE) > _BLOCK_CACHE_SIZE:
        _BLOCK_CACHE.popitem(last=False)
    return cached


_STYLES: dict[tuple[Any, ...], tuple[QFont, _TextStyle, QFont, _TextStyle]] = {}
_ADVANCES: OrderedDict[tuple[str, str], float] = OrderedDict()


def overlay_fonts(base: QFont) -> tuple[QFont, QFont]:
    """The corner-text font and the orientation-letter font derived from a widget's font."""
    font = QFont(base)
    font.setPointSizeF(9.0)
    big = QFont(font)
    big.setPointSizeF(11.0)
    big.setBold(True)
    return font, big


def _overlay_styles(p: QPainter, colour: QColor) -> tuple[QFont, _TextStyle, QFont, _TextStyle]:
    """The corner font and the marker font with their metrics, built once per base font,
    colour and pixel ratio (building fonts and metrics on every frame costs ~0.1 ms)."""
    base = p.font()
    # QFont.key() names family, size, weight, style and hints in one call (a call per
    # attribute, the weight an enum, costs several times more on every frame)
    key = (base.key(), colour.rgba(), p.device().devicePixelRatioF())
    styles = _STYLES.get(key)
    if styles is None:
        font, big = overlay_fonts(base)
        p.setFont(font)
        style = _TextStyle(p, colour)
        p.setFont(big)
        big_style = _TextStyle(p, colour)
        styles = _STYLES[key] = (font, style, big, big_style)
        if len(_STYLES) > 32:
            _STYLES.pop(next(iter(_STYLES)))
    return styles


def _advance(style: _TextStyle, text: str) -> float:
    key = (style.font_key, text)
    w = _ADVANCES.get(key)
    if w is None:
        w = _ADVANCES[key] = style.fm.horizontalAdvance(text)
        if len(_ADVANCES) > 256:
            _ADVANCES.popitem(last=False)
    return w


_LAYOUTS: OrderedDict[tuple[Any, ...], OverlayLayout] = OrderedDict()
_WIDTHS: OrderedDict[tuple[str, str], float] = OrderedDict()
_METRICS: dict[str, QFontMetricsF] = {}
_ASCENTS: dict[str, float] = {}
_MARKS: OrderedDict[tuple[Any, ...], tuple[tuple[PlacedLine, ...], float, tuple[float, float], bool]] = OrderedDict()
_BANDS: OrderedDict[tuple[Any, ...], tuple[PlacedLine, ...]] = OrderedDict()
#: bottom bands by everything but their first left line: (that line, left width, widest other
#: left line, lines), so a window/level drag re-places one line (`_with_first_line`)
_FIRST_LINE: OrderedDict[tuple[Any, ...], tuple[str, float, float, tuple[PlacedLine, ...]]] = OrderedDict()


def _metrics(font: QFont, key: str) -> QFontMetricsF:
    fm = _METRICS.get(key)
    if fm is None:
        if len(_METRICS) > 16:
            _METRICS.clear()
        fm = _METRICS[key] = QFontMetricsF(font)
    return fm


#: Space kept between the corner blocks and the viewport edge, and between blocks.
MARGIN = 6.0
GAP = 14.0


@dataclass(frozen=True)
class PlacedLine:
    """One line of overlay text and the rectangle it takes on screen."""

    corner: str  # "tl", "tr", "bl", "br" or a marker edge ("left", "right", "top", "bottom")
    text: str
    rect: QRectF
    align_right: bool


@dataclass(frozen=True)
class OverlayLayout:
    """Where every corner line and orientation letter goes in a viewport."""

    lines: tuple[PlacedLine, ...]
    line_height: float
    ascent: float


def _wrap(text: str, width: float, measure: Any, elide: Any) -> list[str]:
    """`text` broken at spaces into lines no wider than `width`; a word that alone is wider is
    elided ("…")."""
    if width <= 0:
        return []
    if measure(text) <= width:
        return [text]
    out: list[str] = []
    current = ""
    for word in text.split(" "):
        trial = f"{current} {word}" if current else word
        if measure(trial) <= width:
            current = trial
            continue
        if current:
            out.append(current)
        current = word if measure(word) <= width else elide(word, width)
    if current:
        out.append(current)
    return out


def _share(left: float, right: float, width: float) -> tuple[float, float]:
    """Widths for a left and a right block in one band of `width`: each keeps its natural width
    when both fit; otherwise the narrower keeps it if it takes at most half, else both get half."""
    if left + right + GAP <= width:
        return left, right
    half = (width - GAP) / 2.0
    if right <= half:
        return width - GAP - right, right
    if left <= half:
        return left, width - GAP - left
    return half, half


def _place_markers(inner: QRectF, markers: dict[str, str] | None, bm: QFontMetricsF
                   ) -> tuple[tuple[PlacedLine, ...], float, tuple[float, float], bool]:
    """The orientation letters at the middle of each edge, the width the top and bottom letters
    keep free, the rows the side letters keep free, and whether there are side letters."""
    marks = {k: v for k, v in (markers or {}).items() if v}
    if inner.width() < 4 * bm.height() or inner.height() < 4 * bm.height():
        marks = {}  # too small a pane for letters on all four edges
    placed: list[PlacedLine] = []
    reserve_w = 0.0
    side_band = (0.0, 0.0)
    for edge, letters in marks.items():
        w = bm.horizontalAdvance(letters) + 2.0
        h = bm.height()
        if edge == "top":
            r = QRectF(inner.center().x() - w / 2, inner.top(), w, h)
        elif edge == "bottom":
            r = QRectF(inner.center().x() - w / 2, inner.bottom() - h, w, h)
        elif edge == "left":
            r = QRectF(inner.left(), inner.center().y() - h / 2, w, h)
        else:
            r = QRectF(inner.right() - w, inner.center().y() - h / 2, w, h)
        if edge in ("top", "bottom"):
            reserve_w = max(reserve_w, w + 2 * GAP)
        else:
            side_band = (inner.center().y() - h / 2 - 2.0, inner.center().y() + h / 2 + 2.0)
        placed.append(PlacedLine(edge, letters, r, edge == "right"))
    return tuple(placed), reserve_w, side_band, ("left" in marks or "right" in marks)


def _place_band(band: str, inner: tuple[float, float, float, float], left_lines: Sequence[str], right_lines: Sequence[str], reserve_w: float,
                usable: float, limit: float, lh: float, measure: Any, elide: Any,
                letter_h: float = 0.0) -> tuple[tuple[PlacedLine, ...], float]:
    """The lines of the top ("t") or bottom ("b") band, and the width the left corner got: the
    two corners share the band's width.  `inner` is (left, top, width, height) inside the margins."""
    left, top, inner_w, inner_h = inner
    right, bottom = left + inner_w, top + inner_h
    natural_l = max((measure(t) for t in left_lines), default=0.0)
    natural_r = max((measure(t) for t in right_lines), default=0.0)
    if not left_lines:
        width_l, width_r = 0.0, min(natural_r, inner_w if not reserve_w else usable / 2)
    elif not right_lines:
        width_l, width_r = min(natural_l, inner_w if not reserve_w else usable / 2), 0.0
    else:
        width_l, width_r = _share(natural_l, natural_r, usable if reserve_w else inner_w)
    if reserve_w:  # each side stops before the letters in the middle
        width_l, width_r = min(width_l, usable / 2), min(width_r, usable / 2)
    max_lines = max(0, int((limit + 0.01) // lh))
    placed: list[PlacedLine] = []
    for corner, lines, width in ((band + "l", left_lines, width_l), (band + "r", right_lines, width_r)):
        wrapped = [piece for t in lines for piece in _wrap(t, width, measure, elide)][:max_lines]
        other = right_lines if corner[1] == "l" else left_lines
        if reserve_w and not other and len(wrapped) > 1:
            # The other corner is empty: only the row beside the orientation letter (the band's
            # outer row) must stop before it; the rows above (below) it may use the band's
            # width, and the outer row is elided rather than wrapped (a narrow MPR pane keeps
            # its window line whole).
            wide = [piece for t in lines for piece in _wrap(t, inner_w, measure, elide)][:max_lines]
            beside = math.ceil(letter_h / lh - 0.01)  # rows the (taller) letter reaches into
            if len(wide) > beside:
                rows = range(len(wide) - beside, len(wide)) if band == "b" else range(beside)
                for i in rows:
                    if measure(wide[i]) > width:
                        wide[i] = elide(wide[i], width)
                wrapped = wide
        n = len(wrapped)
        for i, t in enumerate(wrapped):
            w = min(measure(t), inner_w)
            y = top + i * lh if band == "t" else bottom - (n - i) * lh
            x = left if corner[1] == "l" else right - w
            placed.append(PlacedLine(corner, t, QRectF(x, y, w, lh), corner[1] == "r"))
    return tuple(placed), width_l


def _with_first_line(before: tuple[str, float, float, tuple[PlacedLine, ...]], first: str, measure: Any
                     ) -> tuple[PlacedLine, ...] | None:
    """The bottom band laid out before with another first bottom-left line (the window line,
    which is all a window/level drag changes), or None when the change could move anything.

    `before` is (first line then, the width the left corner got, the widest of the other
    left lines, the band's lines).  When both first lines fit that width unbroken and neither
    is the corner's widest line, `_place_band` shares the band alike and puts every other line
    where it was: only the first line's text and width differ."""
    old, width_l, widest_rest, placed = before
    new_w, old_w = measure(first), measure(old)
    if not (0.0 < width_l and max(new_w, old_w) <= min(width_l, widest_rest)):
        return None
    for i, line in enumerate(placed):
        if line.corner == "bl":
            if line.text != old:
                return None
            r = line.rect
            return placed[:i] + (PlacedLine("bl", first, QRectF(r.x(), r.y(), new_w, r.height()), False),) + placed[i + 1:]
    return placed


def overlay_layout(rect: QRectF, text: OverlayText, markers: dict[str, str] | None, font: QFont,
                   big: QFont | None = None, keys: tuple[str, str] | None = None) -> OverlayLayout:
    """Place the four corner blocks and the orientation letters so that no two overlap and none
    leaves the viewport: blocks of one band (top, bottom) share its width, long lines wrap at
    spaces (a word too long is elided with "…"), and a block that runs out of height keeps its
    first lines (the side letters keep the middle row free).

    Runs on every paint: layouts are cached by their inputs and line widths by font and text,
    so a W/L drag (one new line per frame) measures one line."""
    big = big if big is not None else font
    font_key, big_key = keys if keys is not None else (font.key(), big.key())
    key = (rect.x(), rect.y(), rect.width(), rect.height(), tuple(text.top_left), tuple(text.top_right),
           tuple(text.bottom_left), tuple(text.bottom_right),
           tuple(sorted((markers or {}).items())), font_key, big_key)
    cached = _LAYOUTS.get(key)
    if cached is not None:
        _LAYOUTS.move_to_end(key)
        return cached
    fm = _metrics(font, font_key)
    bm = _metrics(big, big_key)
    lh = fm.height()

    def measure(t: str) -> float:
        k = (font_key, t)
        w = _WIDTHS.get(k)
        if w is None:
            w = _WIDTHS[k] = fm.horizontalAdvance(t)
            if len(_WIDTHS) > 2048:
                _WIDTHS.popitem(last=False)
        return w

    def elide(t: str, width: float) -> str:
        return fm.elidedText(t, Qt.TextElideMode.ElideRight, width)

    box = (key[0] + MARGIN, key[1] + MARGIN, key[2] - 2 * MARGIN, key[3] - 2 * MARGIN)
    mark_key = (key[0], key[1], key[2], key[3], key[8], big_key)
    got = _MARKS.get(mark_key)
    if got is None:
        got = _MARKS[mark_key] = _place_markers(rect.adjusted(MARGIN, MARGIN, -MARGIN, -MARGIN), markers, bm)
        if len(_MARKS) > 64:
            _MARKS.popitem(last=False)
    marked, reserve_w, side_band, has_side = got
    placed: list[PlacedLine] = list(marked)
    usable = box[2] - reserve_w
    top_limit = (side_band[0] if has_side else box[1] + box[3]) - box[1]
    bottom_limit = box[1] + box[3] - (side_band[1] if has_side else box[1])
    for band, (left_lines, right_lines) in (("t", (text.top_left, text.top_right)),
                                            ("b", (text.bottom_left, text.bottom_right))):
        limit = top_limit if band == "t" else bottom_limit
        if not has_side:  # the two bands share the height: the top band first, then the bottom
            other = text.bottom_left if band == "t" else text.top_left
            other_r = text.bottom_right if band == "t" else text.top_right
            limit = box[3] / 2 if (other or other_r) else box[3]
        band_key = (band, box, tuple(left_lines), big_key,
                    tuple(right_lines), reserve_w, limit, font_key)
        lines_of_band = _BANDS.get(band_key)
        if lines_of_band is None:
            rest_key = (band_key[:2] + (band_key[2][1:],) + band_key[3:]) if band == "b" and left_lines else None
            before = _FIRST_LINE.get(rest_key) if rest_key is not None else None
            if before is not None:
                lines_of_band = _with_first_line(before, left_lines[0], measure)
            if lines_of_band is None:
                lines_of_band, width_l = _place_band(band, box, left_lines, right_lines, reserve_w, usable, limit,
                                                     lh, measure, elide, bm.height())
                if rest_key is not None:
                    widest_rest = max((measure(t) for t in left_lines[1:]), default=0.0)
                    _FIRST_LINE[rest_key] = (left_lines[0], width_l, widest_rest, lines_of_band)
                    if len(_FIRST_LINE) > 64:
                        _FIRST_LINE.popitem(last=False)
            _BANDS[band_key] = lines_of_band
            if len(_BANDS) > 128:
                _BANDS.popitem(last=False)
        placed.extend(lines_of_band)
    ascent = _ASCENTS.get(font_key)
    if ascent is None:
        ascent = _ASCENTS[font_key] = fm.ascent()
    layout = OverlayLayout(tuple(placed), lh, ascent)
    _LAYOUTS[key] = layout
    if len(_LAYOUTS) > 64:
        _LAYOUTS.popitem(last=False)
    return layout


def clear_overlay_caches() -> None:
    """Forget every cached layout, line width and text pixmap (they are keyed by font, text
    and size, so this is only needed to measure or check the uncached path)."""
    for cache in (_TEXT_CACHE, _SEEN, _BLOCK_CACHE, _LAST_BLOCK, _STYLES, _ADVANCES, _LAYOUTS, _WIDTHS, _METRICS,
                  _ASCENTS, _MARKS, _BANDS, _FIRST_LINE):
        cache.clear()


def paint_overlay(p: QPainter, rect: QRectF, text: OverlayText, markers: dict[str, str] | None, colour: QColor) -> None:
    """Draw corner text and edge markers with a dark outline so they read on any image, where
    `overlay_layout` puts them (nothing overlaps, nothing is cut off but by an ellipsis)."""
    font, style, big, big_style = _overlay_styles(p, colour)
    layout = overlay_layout(rect, text, markers, font, big, (style.font_key, big_style.font_key))
    device = id(p.device())
    blocks: dict[str, list[PlacedLine]] = {}
    for line in layout.lines:
        blocks.setdefault(line.corner, []).append(line)
    p.setFont(font)
    for corner in ("tl", "tr", "bl", "br"):
        lines = blocks.get(corner)
        if not lines:
            continue
        right = corner[1] == "r"
        x = lines[0].rect.right() if right else lines[0].rect.left()
        _draw_block(p, style, (device, corner), x, lines[0].rect.top() + style.ascent, layout.line_height,
                    [ln.text for ln in lines], right)
    marks = [ln for ln in layout.lines if ln.corner in ("left", "right", "top", "bottom")]
    if marks:
        p.setFont(big)
        for ln in marks:
            x = ln.rect.right() if ln.align_right else ln.rect.left()
            _draw_line(p, big_style, x, ln.rect.top() + big_style.ascent, ln.text, ln.align_right, False)
        p.setFont(font)
    p.setPen(_NO_PEN)
