"""The trial's report for a sponsor or a committee: one HTML page and its PDF.

What the issue asks a charter report to show: the trial summary, inter-reader agreement per field
(table and forest plot of each field's headline statistic with its 95% CI, GRRAS: Kottner et al.
2011), the adjudication summary, per-subject complication outcomes, and key images with the
readers' annotations burned in.  Jinja2 lays the page out (autoescaped), matplotlib draws the
charts and images (Figure objects on Agg, no pyplot state), WeasyPrint prints the page to PDF.

The HTML is self-contained (images as data URIs) and byte-identical for the same data: no dates,
matplotlib metadata off; charts are PNG (WeasyPrint draws SVG text as paths ~50x slower).  The
PDF carries WeasyPrint's creation date.
Chinese text needs a CJK font: the page and the charts ask for Noto Sans CJK SC, then WenQuanYi
Micro Hei (Debian's fonts-noto-cjk, fonts-wqy-microhei).
"""
from __future__ import annotations

import base64
import io
import logging
import math
import re
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib
import numpy as np
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup
from matplotlib.figure import Figure as MplFigure
from matplotlib.lines import Line2D
from matplotlib.patches import Ellipse, Polygon

from ioreview.imaging.render import render_frame

# WenQuanYi has no bold face: matplotlib says so on every bold label; the regular face is used.
logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)

if TYPE_CHECKING:
    from adjudication.reliability import AgreementReport, FieldAgreement
    from adjudication.reliability import Figure as StatFigure
    from ioreview.service.values import SubjectOutcomeView

__all__ = ["KeyImage", "ReportData", "write_report", "LANGUAGES", "SHAPE_KINDS"]

#: fonts with Chinese glyphs, so that Chinese never falls back to boxes.  WenQuanYi Micro Hei
#: first: WeasyPrint subsets it into the PDF several times faster than Noto Sans CJK.
CJK_FONTS = ("WenQuanYi Micro Hei", "Noto Sans CJK SC")
FONT_FAMILIES = (*CJK_FONTS, "DejaVu Sans")
SHAPE_KINDS = frozenset(
    {"ellipse", "polygon", "length", "arrow", "point", "freehand", "angle", "region"})
#: rows of one forest plot: more go on a further plot so each fits a printed page
ROWS_PER_PLOT = 28
#: the forest plot's axis starts at -1, or further left down to this for wider intervals
LEFT_LIMIT = -2.0
#: long side of a key image in the report, in pixels
KEY_IMAGE_PX = 512
#: colours of the readers' shapes (a colour per letter or reader id, in sorted order)
SHAPE_COLOURS = ("#ffd400", "#00e5ff", "#ff4fd8", "#7cff4f", "#ff8c1a", "#b08cff")


@dataclass(frozen=True)
class KeyImage:
    """One image with the readers' shapes to burn in.

    `shapes`: (letter or reader id, kind, points as (row, col) pixels, label); kinds as in
    `SHAPE_KINDS` (an ellipse is given by two opposite corners of its bounding box, as the
    viewer stores it)."""

    path: str
    frame: int
    caption: str
    shapes: tuple[tuple[str, str, tuple[tuple[float, float], ...], str], ...] = ()


@dataclass(frozen=True)
class ReportData:
    """Everything the report shows, already blinded and in the report's language.

    `finding_labels` maps finding ids to labels; it may also map whole field keys
    ("extravasation.volume_ml") to their labels, which the agreement table and forest plot then
    use instead of the protocol's English field label.  `value_labels` (optional) translates
    stored values shown in the outcomes table: timepoints and severity choices."""

    title: str
    generated: str
    summary: Sequence[tuple[str, str]]
    agreement: AgreementReport
    adjudication: Sequence[tuple[str, str]]
    subjects: Sequence[SubjectOutcomeView]
    finding_labels: Mapping[str, str]
    key_images: Sequence[KeyImage]
    language: str = "en"
    value_labels: Mapping[str, str] = field(default_factory=dict)


_HEADINGS: dict[str, dict[str, str]] = {
    "en": {
        "summary": "Trial summary",
        "agreement": "Inter-reader agreement",
        "method": "Method",
        "table": "Agreement per field",
        "forest": "Forest plot",
        "undefined": "Not estimable on these data",
        "readers": "Reader monitoring",
        "adjudication": "Adjudication",
        "subjects": "Per-subject outcomes",
        "key_images": "Key images",
        "field": "Field",
        "kind": "Scale",
        "n": "n",
        "statistic": "Statistic",
        "estimate": "Estimate (95% CI)",
        "percent": "Agreement",
        "alpha": "α (Krippendorff)",
        "prevalence": "Prevalence",
        "paradox": "kappa paradox",
        "reader": "Reader",
        "cases_read": "Cases",
        "adjudication_rate": "Adjudication rate",
        "agreement_rate": "Adjudicator agreement",
        "rdi": "RDI",
        "subject": "Subject",
        "complete": "Cases final",
        "present": "present",
        "absent": "absent",
        "pending": "pending",
        "indeterminate": "indeterminate at a timepoint",
        "first": "first",
        "day": "day {n}",
        "not_estimable": "not estimable (see below)",
        "weighted kappa": "weighted kappa",
        "worst": "worst",
        "nominal": "nominal",
        "ordinal": "ordinal",
        "numeric": "numeric",
        "none": "None.",
        "shape": "Shape",
        "label": "Label",
        "x_axis": "Agreement (kappa, weighted kappa or ICC) with 95% CI",
        "page": "Page",
    },
    "zh_CN": {
        "summary": "试验概况",
        "agreement": "阅片者间一致性",
        "method": "方法",
        "table": "各字段一致性",
        "forest": "森林图",
        "undefined": "本数据无法估计",
        "readers": "阅片者监测",
        "adjudication": "仲裁",
        "subjects": "受试者结局",
        "key_images": "关键图像",
        "field": "字段",
        "kind": "量表",
        "n": "例数",
        "statistic": "统计量",
        "estimate": "估计值（95% CI）",
        "percent": "一致率",
        "alpha": "Krippendorff α",
        "prevalence": "患病率",
        "paradox": "kappa 悖论",
        "reader": "阅片者",
        "cases_read": "病例数",
        "adjudication_rate": "仲裁率",
        "agreement_rate": "仲裁者同意率",
        "rdi": "RDI",
        "subject": "受试者",
        "complete": "已定结局病例",
        "present": "有",
        "absent": "无",
        "pending": "待定",
        "indeterminate": "某时间点不确定",
        "first": "首次",
        "day": "第 {n} 天",
        "not_estimable": "无法估计（见下文）",
        "weighted kappa": "加权 kappa",
        "ellipse": "椭圆", "polygon": "多边形", "length": "长度", "arrow": "箭头", "point": "点",
        "freehand": "手绘", "angle": "角度", "region": "区域",
        "worst": "最重",
        "nominal": "名义",
        "ordinal": "有序",
        "numeric": "数值",
        "none": "无。",
        "shape": "标注",
        "label": "标签",
        "x_axis": "一致性（kappa、加权 kappa 或 ICC）及 95% CI",
        "page": "页",
    },
}
LANGUAGES = tuple(_HEADINGS)
_MARKERS = {"nominal": "o", "ordinal": "s", "numeric": "D"}


def write_report(data: ReportData, out_dir: Path, *, pdf: bool = True) -> list[Path]:
    """Write `report.html` (self-contained) and, when `pdf`, `report.pdf` into `out_dir`;
    return the paths written.  Raises ValueError for a language without headings."""
    if data.language not in _HEADINGS:
        raise ValueError(f"language: {data.language!r} is not one of {', '.join(LANGUAGES)}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    text = render_html(data)
    html_path = out / "report.html"
    html_path.write_text(text, encoding="utf-8")
    written = [html_path]
    if pdf:
        from weasyprint import HTML

        pdf_path = out / "report.pdf"
        HTML(string=text, base_url=str(out)).write_pdf(pdf_path)
        written.append(pdf_path)
    return written


def render_html(data: ReportData) -> str:
    """The report page as HTML text (deterministic for the same data)."""
    h = _HEADINGS[data.language]
    labels = dict(data.finding_labels)
    fields = _ordered_fields(data.agreement.fields)
    rows = [_field_row(f, labels, h) for f in fields]
    plotted = [f for f in fields if f.headline is not None and f.headline.result is not None]
    undefined = [(_field_label(f, labels), _reason(f.headline))
                 for f in fields if f.headline is None or f.headline.result is None]
    with _rc():
        # PNG, not SVG: WeasyPrint draws an SVG with text as paths ~50x slower
        plots = [_png_uri(_forest_plot(chunk, labels, h), dpi=160, tight=True)
                 for chunk in _chunks(plotted, ROWS_PER_PLOT)]
        images = [_key_image(k, i, h) for i, k in enumerate(data.key_images, start=1)]
    findings, subject_rows = _subject_table(data, h)
    env = _environment()
    template = env.get_template("report.html.j2")
    return template.render(
        h=h, lang=data.language.replace("_", "-"), title=data.title, generated=data.generated,
        summary=list(data.summary), method=data.agreement.summary, rows=rows,
        plots=plots, undefined=undefined, readers=_reader_rows(data.agreement),
        adjudication=list(data.adjudication), findings=findings, subjects=subject_rows,
        images=images, fonts=Markup(", ".join(f'"{f}"' for f in _fonts(data.language))),
    )


# -- the agreement table and forest plot --------------------------------------------------------
def _ordered_fields(fields: Sequence[FieldAgreement]) -> list[FieldAgreement]:
    """Presence findings first, then every other field, each group in protocol order."""
    presence = [f for f in fields if f.key.endswith(".presence")]
    return presence + [f for f in fields if not f.key.endswith(".presence")]


def _field_label(f: FieldAgreement, labels: Mapping[str, str]) -> str:
    if f.key in labels:
        return labels[f.key]
    if f.finding and f.finding in labels:
        part = f.label.split(": ", 1)[1] if ": " in f.label else f.label
        return f"{labels[f.finding]}: {part}"
    return f.label


def _reason(fig: StatFigure | None) -> str:
    if fig is None:
        return "not computed"
    return fig.error or ""


def _estimate(fig: StatFigure | None) -> str:
    if fig is None or fig.result is None:
        return "—"
    r = fig.result
    return f"{r.value:.2f} ({r.ci[0]:.2f} to {r.ci[1]:.2f})"


def _field_row(f: FieldAgreement, labels: Mapping[str, str], h: Mapping[str, str]
               ) -> dict[str, Any]:
    head = f.headline
    percent = f.figure("percent")
    return {
        "label": _field_label(f, labels),
        "presence": f.key.endswith(".presence"),
        "kind": h.get(f.kind, f.kind),
        "n": f.n,
        "statistic": h.get(head.name, head.name) if head else "",
        "estimate": _estimate(head),
        "estimable": head is not None and head.result is not None,
        "percent": "—" if percent is None or percent.result is None
        else f"{percent.result.value:.0%}",
        "alpha": _estimate(f.figure("alpha")),
        "prevalence": "—" if f.prevalence is None else f"{f.prevalence:.0%}",
        "paradox": f.paradox,
    }


def _chunks(items: Sequence[Any], size: int) -> list[list[Any]]:
    return [list(items[i:i + size]) for i in range(0, len(items), size)]


def _wrap(text: str, width: int) -> str:
    """Wrap a label; CJK text (no spaces) is cut by characters."""
    if " " not in text and len(text) > width:
        return "\n".join(text[i:i + width] for i in range(0, len(text), width))
    return "\n".join(textwrap.wrap(text, width)) or text


def _is_wide(text: str) -> bool:
    return any(ord(ch) > 0x2E80 for ch in text)


def _forest_plot(fields: Sequence[FieldAgreement], labels: Mapping[str, str],
                 h: Mapping[str, str]) -> MplFigure:
    """One row per field: the headline statistic and its 95% CI, top to bottom in table order."""
    names = [_field_label(f, labels) for f in fields]
    wide = any(_is_wide(n) for n in names)
    names = [_wrap(n, 22 if wide else 44) for n in names]
    heights = [0.3 + 0.16 * n.count("\n") for n in names]
    fig = MplFigure(figsize=(7.2, 0.9 + sum(heights)), dpi=100)
    ax = fig.add_subplot()
    ys: list[float] = []
    y = 0.0
    for hgt in heights:
        ys.append(-(y + hgt / 2))
        y += hgt
    lo_all: list[float] = []
    values: list[tuple[float, float, FieldAgreement]] = []
    for f, yy in zip(fields, ys):
        r = f.headline.result  # type: ignore[union-attr]
        lo, hi = r.ci
        lo_all.append(lo)
        ax.plot([lo, hi], [yy, yy], color="#445", linewidth=1.2, solid_capstyle="butt")
        ax.plot([lo, lo], [yy - 0.06, yy + 0.06], color="#445", linewidth=1.0)
        ax.plot([hi, hi], [yy - 0.06, yy + 0.06], color="#445", linewidth=1.0)
        values.append((r.value, yy, f))
    left = max(LEFT_LIMIT, min([-1.0, *lo_all]))
    for value, yy, f in values:
        # an estimate beyond the axis (an ICC far below -1) shows as a triangle at its edge
        marker = _MARKERS.get(f.kind, "o") if value >= left else "<"
        ax.plot([max(value, left)], [yy], marker=marker, markersize=5, linestyle="",
                color="#c0392b" if f.key.endswith(".presence") else "#1f4e79")
    ax.set_xlim(left - 0.05, 1.05)
    ax.set_ylim(-y - 0.05, 0.05)
    ax.axvline(0.0, color="#888", linewidth=0.8)
    for x in (0.2, 0.4, 0.6, 0.8):
        ax.axvline(x, color="#ddd", linewidth=0.6, zorder=0)
    ax.set_yticks(ys)
    ax.set_yticklabels(names, fontsize=7.5)
    ax.tick_params(axis="x", labelsize=7.5)
    ax.set_xlabel(h["x_axis"], fontsize=8)
    handles = [Line2D([], [], marker=m, color="#1f4e79", linestyle="", markersize=5,
                      label=h[k]) for k, m in _MARKERS.items()]
    ax.legend(handles=handles, fontsize=7, loc="lower left", bbox_to_anchor=(0.0, 1.0),
              ncol=3, frameon=False, borderaxespad=0.2)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    return fig


# -- reader monitoring, subjects ---------------------------------------------------------------
def _rate(x: float | None) -> str:
    return "—" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.0%}"


def _reader_rows(report: AgreementReport) -> list[dict[str, Any]]:
    return [{"reader": m.reader, "cases": m.cases_read,
             "adjudication_rate": _rate(m.adjudication_rate),
             "agreement_rate": _rate(m.agreement_rate), "rdi": _rate(m.rdi)}
            for m in sorted(report.readers, key=lambda m: _natural(m.reader))]


def _natural(text: str) -> tuple[Any, ...]:
    """Sort key that puts S2 before S10."""
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", text))


def _subject_table(data: ReportData, h: Mapping[str, str]
                   ) -> tuple[list[str], list[dict[str, Any]]]:
    order: list[str] = []
    for s in data.subjects:
        for e in s.endpoints:
            if e.finding not in order:
                order.append(e.finding)
    values = data.value_labels
    rows = []
    for s in sorted(data.subjects, key=lambda s: _natural(s.subject)):
        by = {e.finding: e for e in s.endpoints}
        cells = []
        final = total = 0
        for finding in order:
            e = by.get(finding)
            if e is None:
                cells.append({"text": "", "state": "none", "detail": ""})
                continue
            final, total = max(final, e.cases_final), max(total, e.cases_total)
            if e.present_any is None:
                state = "pending"
            else:
                state = "present" if e.present_any else "absent"
            detail = []
            if e.present_any:
                tp = values.get(e.first_timepoint or "", e.first_timepoint or "")
                day = "" if e.first_day is None else ", " + h["day"].format(n=e.first_day)
                detail.append(f"{h['first']}: {tp}{day}")
                if e.worst_severity is not None:
                    sev = str(e.worst_severity)
                    detail.append(f"{h['worst']}: {values.get(sev, sev)}")
            if e.indeterminate_any:
                detail.append(h["indeterminate"])
            cells.append({"text": h[state], "state": state, "detail": "; ".join(detail)})
        rows.append({"subject": s.subject, "cells": cells, "complete": f"{final}/{total}",
                     "incomplete": final != total})
    return [data.finding_labels.get(f, f) for f in order], rows


# -- key images ----------------------------------------------------------------------------------
def _key_image(k: KeyImage, number: int, h: Mapping[str, str]) -> dict[str, Any]:
    pixels = render_frame(k.path, k.frame)
    fig = _burn_in(pixels, k.shapes)
    legend = [{"tag": i, "reader": r, "kind": h.get(kind, kind), "label": label, "colour": c}
              for i, ((r, kind, _pts, label), c) in enumerate(zip(k.shapes, _colours(k.shapes)),
                                                              start=1)]
    return {"number": number, "caption": k.caption, "uri": _png_uri(fig), "legend": legend}


def _colours(shapes: Sequence[tuple[str, str, Any, str]]) -> list[str]:
    readers = sorted({s[0] for s in shapes})
    index = {r: SHAPE_COLOURS[i % len(SHAPE_COLOURS)] for i, r in enumerate(readers)}
    return [index[s[0]] for s in shapes]


def _burn_in(pixels: np.ndarray, shapes: Sequence[tuple[str, str, Any, str]]) -> MplFigure:
    """The image scaled to KEY_IMAGE_PX on its long side, each shape drawn over it in its
    reader's colour with its number (the legend under the image gives reader, kind and label)."""
    rows, cols = pixels.shape[:2]
    dpi = 100
    scale = KEY_IMAGE_PX / max(rows, cols)
    fig = MplFigure(figsize=(cols * scale / dpi, rows * scale / dpi), dpi=dpi)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_axis_off()
    if pixels.ndim == 2:
        ax.imshow(pixels, cmap="gray", vmin=0, vmax=255, interpolation="nearest")
    else:
        ax.imshow(pixels, interpolation="nearest")
    ax.set_xlim(-0.5, cols - 0.5)
    ax.set_ylim(rows - 0.5, -0.5)
    for i, ((_reader, kind, points, _label), colour) in enumerate(
            zip(shapes, _colours(shapes)), start=1):
        if kind not in SHAPE_KINDS:
            raise ValueError(f"key image shape: unknown kind {kind!r} (one of "
                             f"{', '.join(sorted(SHAPE_KINDS))})")
        _draw_shape(ax, kind, [(float(r), float(c)) for r, c in points], colour)
        if points:
            r0, c0 = min(points, key=lambda p: (p[0], p[1]))
            right = c0 > cols * 0.8
            below = r0 < rows * 0.06
            ax.text(c0, r0 + (2 if below else -2), str(i), color=colour, fontsize=15,
                    fontweight="bold", va="top" if below else "bottom",
                    ha="right" if right else "left",
                    bbox={"facecolor": "black", "alpha": 0.6, "pad": 1.2, "edgecolor": "none"})
    return fig


def _draw_shape(ax: Any, kind: str, pts: list[tuple[float, float]], colour: str) -> None:
    xy = [(c, r) for r, c in pts]
    style = {"color": colour, "linewidth": 1.5}
    if not xy:
        return
    if kind == "ellipse" and len(xy) >= 2:
        (x0, y0), (x1, y1) = xy[0], xy[1]
        ax.add_patch(Ellipse(((x0 + x1) / 2, (y0 + y1) / 2), abs(x1 - x0), abs(y1 - y0),
                             fill=False, edgecolor=colour, linewidth=1.5))
    elif kind in ("polygon", "freehand") or (kind == "region" and len(xy) >= 3):
        ax.add_patch(Polygon(xy, closed=True, fill=False, edgecolor=colour, linewidth=1.5))
    elif kind == "arrow" and len(xy) >= 2:
        # drawn from the tail (second point) to the head (first point), as the viewer does
        ax.annotate("", xy=xy[0], xytext=xy[1],
                    arrowprops={"arrowstyle": "-|>", "color": colour, "linewidth": 1.5})
    elif kind in ("length", "angle") and len(xy) >= 2:
        ax.plot([p[0] for p in xy], [p[1] for p in xy], marker="+", markersize=6, **style)
    else:  # point, or a region given by its seed
        ax.plot([xy[0][0]], [xy[0][1]], marker="+", markersize=10, markeredgewidth=1.8,
                color=colour, linestyle="")


# -- output helpers ------------------------------------------------------------------------------
def _fonts(language: str) -> tuple[str, ...]:
    """The page's font stack: a Latin font first for English (CJK glyphs still come from the
    fallbacks), the CJK font first for Chinese so that punctuation takes its CJK form."""
    return FONT_FAMILIES if language.startswith("zh") else ("DejaVu Sans", *CJK_FONTS)


def _rc() -> Any:
    """Fonts with CJK glyphs while the figures of one report are built and saved (matplotlib
    reads fonts when text is created); restored afterwards."""
    return matplotlib.rc_context({"font.family": list(FONT_FAMILIES),
                                  "axes.unicode_minus": False})


def _png_uri(fig: MplFigure, dpi: float | None = None, tight: bool = False) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None}, dpi=dpi or fig.dpi,
                bbox_inches="tight" if tight else None)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _environment() -> Environment:
    return Environment(loader=PackageLoader("ioreview.service.exports", "templates"),
                       autoescape=select_autoescape(["html", "j2"], default=True),
                       undefined=StrictUndefined, keep_trailing_newline=True,
                       trim_blocks=True, lstrip_blocks=True)
