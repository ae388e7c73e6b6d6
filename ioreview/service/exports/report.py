"""The trial's report for a sponsor or a committee: one HTML page and its PDF.

What the issue asks a charter report to show: the trial summary, inter-reader agreement per field
(table and forest plot of each field's headline statistic with its 95% CI, GRRAS: Kottner et al.
2011), the adjudication summary, per-subject complication outcomes, and key images with the
readers' annotations burned in.  Jinja2 lays the page out (autoescaped), matplotlib draws the
forest plot, Pillow burns the shapes into the key images, WeasyPrint prints the page to PDF.

Cost: the report is written by the export's worker process, which loads these libraries before
the export needs it (`load_libraries`, the forkserver's preload).  Charts are PNG, RGB without alpha
(WeasyPrint draws SVG text letter by letter, and splits an alpha channel into a second image).

The HTML is self-contained (images as data URIs) and byte-identical for the same data: no dates,
no image metadata.  The PDF carries WeasyPrint's creation date.
Chinese text needs a CJK font: the page and the charts ask for WenQuanYi Micro Hei, then Noto
Sans CJK SC (Debian's fonts-wqy-microhei, fonts-noto-cjk).
"""
from __future__ import annotations

import base64
import gc
import io
import math
import re
import statistics
import textwrap
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from jinja2 import Environment, PackageLoader, StrictUndefined, Template, select_autoescape
from markupsafe import Markup
from PIL import Image, ImageDraw, ImageFont

from ioreview.errors import NotFound
from ioreview.imaging.decode import UnsupportedImage
from ioreview.imaging.render import render_frame

from .report_data import KeyImage, ReportData

if TYPE_CHECKING:
    from adjudication.reliability import AgreementReport, FieldAgreement
    from adjudication.reliability import Figure as StatFigure

__all__ = ["KeyImage", "ReportData", "write_report", "load_libraries", "LANGUAGES", "SHAPE_KINDS"]

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
#: resolution of the forest plot (7.2 inches wide)
FOREST_DPI = 160
#: zlib level of the report's PNGs: WeasyPrint decodes and re-compresses them into the PDF
FAST_PNG = 1
#: font files of the charts (Pillow finds them in the system's font folders), with the face
#: index in a collection
_CJK_FILES = (("wqy-microhei.ttc", 0), ("NotoSansCJK-Regular.ttc", 2))
_LATIN_FILES = (("DejaVuSans.ttf", 0),)
_BOLD_FILES = (("DejaVuSans-Bold.ttf", 0), *_LATIN_FILES)
#: colours of the readers' shapes (a colour per letter or reader id, in sorted order)
SHAPE_COLOURS = ("#ffd400", "#00e5ff", "#ff4fd8", "#7cff4f", "#ff8c1a", "#b08cff")


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
        "unanswered": "Fields no two readers answered for the same case (n = 0) are not in "
                      "this table: they are listed under \u201cNot estimable on these data\u201d.",
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
        "unanswered": "没有任何病例由两名阅片者同时填写的字段（例数为 0）不列入本表，见下文"
                      "“本数据无法估计”。",
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
    with _collector_paused():
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


def load_libraries() -> None:
    """Import what a report loads on first use (matplotlib's Agg canvas and figure; WeasyPrint,
    Jinja2 and Pillow come with this module) and compile the page's template, for a process
    that forks workers (the export's forkserver preload): they inherit all of it.  Nothing is
    laid out: a warm-up page (fonts, cffi's C types, WeasyPrint's first layout) made the
    export's report no sooner, measured in alternating runs, as the worker then started the
    report ~1 s later and the report took as long."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: F401
    from matplotlib.figure import Figure  # noqa: F401
    from matplotlib.lines import Line2D  # noqa: F401

    _template()


@contextmanager
def _collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off while one report is written: WeasyPrint allocates
    hundreds of thousands of objects, which set off full collections (~0.2 s of a 2 s report)
    that find little (the report's peak memory is the same either way); back on afterwards."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def render_html(data: ReportData) -> str:
    """The report page as HTML text (deterministic for the same data)."""
    h = _HEADINGS[data.language]
    labels = dict(data.finding_labels)
    fields = _ordered_fields(data.agreement.fields)
    # a field no two readers answered (n = 0) has no figure at all: it is only listed with
    # its reason under "not estimable" (a row of dashes per field made the table pages long)
    rows = [_field_row(f, labels, h) for f in fields if f.n > 0]
    unanswered = any(f.n == 0 for f in fields)
    plotted = [f for f in fields if f.headline is not None and f.headline.result is not None]
    undefined = [(_field_label(f, labels), _reason(f.headline, data.language))
                 for f in fields if f.headline is None or f.headline.result is None]
    plots = [_png_uri(_forest_plot(chunk, labels, h, data.language))
             for chunk in _chunks(plotted, ROWS_PER_PLOT)]
    images = [_key_image(k, i, h) for i, k in enumerate(data.key_images, start=1)]
    findings, subject_rows = _subject_table(data, h)
    return _template().render(
        h=h, lang=data.language.replace("_", "-"), title=data.title, generated=data.generated,
        summary=list(data.summary), method=_method(data, labels), rows=rows,
        unanswered=unanswered,
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


#: why a statistic is not estimable, by `adjudication.agreement` reason code, in the report's
#: languages other than English (English: the statistic's own message)
_REASONS: dict[str, dict[str, str]] = {
    "zh_CN": {
        "not_computed": "未计算",
        "too_few_subjects": "{what} 需要至少 {minimum} 个评分完整的受试者；实有 {n} 个",
        "too_few_subjects_dropped": "{what} 需要至少 {minimum} 个评分完整的受试者；实有 {n} 个"
                                    "（另有 {dropped} 个因缺少评分未计入）",
        "single_label": "{what} 无法定义：两位阅片者在全部 {n} 个受试者上只用了 {used}（机遇一致性"
                        "为 1）；请参看一致百分比和 AC1",
        "chance_agreement_one": "{what} 无法定义：机遇一致性为 1（两位阅片者只用了 {used}）；请参看"
                                "一致百分比和 AC1",
        "one_category": "{what} 无法定义：只出现一个类别（{used}）",
        "too_few_units": "{what} 需要至少 2 个由两位或以上阅片者评定的单位；实有 {n} 个",
        "no_variance": "{what} 无法定义：所有评分都相同（无变异）",
        "too_few_pairs": "{what} 需要至少 2 对测量值；实有 {n} 对（{dropped} 对因缺值未计入）",
    },
}


def _reason(fig: StatFigure | None, language: str = "en") -> str:
    """Why a field's headline statistic is not estimable, in the report's language (the
    statistic's English message where the reason has no code or translation)."""
    words = _REASONS.get(language)
    if fig is None:
        return words["not_computed"] if words else "not computed"
    message = fig.error or ""
    if words is None:
        return message
    from adjudication.agreement import explain

    reason = explain(message)
    if reason is None or reason.code not in words:
        return message
    try:
        return words[reason.code].format(**reason.params)
    except (KeyError, IndexError):
        return message


# -- the method paragraph -----------------------------------------------------------------------
#: the agreement section's method paragraph (GRRAS, Kottner et al. 2011) in the report's
#: languages other than English (English: `AgreementReport.summary`, as
#: `adjudication.reliability` writes it), sentence by sentence
_METHOD: dict[str, dict[str, str]] = {
    "zh_CN": {
        "inter": "阅片者间一致性基于 {cases} 个病例（{subjects} 名受试者）评估，共 {readers} 名"
                 "阅片者按方案 {protocol} {version} 独立阅片；每个病例由 {per_case} 名阅片者阅读，"
                 "阅片者对患者身份、日历日期、临床资料及其他阅片者的结果均设盲，各阅片者的阅片"
                 "顺序分别随机化。",
        "intra": "阅片者内一致性基于 {rereads} 次隐藏重复阅片评估{interval}（洗脱期 {washout} 天）。",
        "interval": "，重复阅片距首次阅片的中位间隔为 {days:.0f} 天",
        "statistics": "名义型指标报告一致百分比及 Cohen's kappa（渐近 95% 置信区间）、PABAK 和 "
                      "Gwet's AC1（Gwet 方差估计，自由度为 n-1 的 t 分布）；有序量表采用二次加权 "
                      "kappa；测量值采用 ICC(A,1)（双向随机效应、绝对一致性，基于 F 分布的置信"
                      "区间）及 Bland-Altman 一致性界限；所有字段均计算 Krippendorff's alpha（以"
                      "病例为单位进行 {resamples} 次 bootstrap 重抽样）。",
        "finding": "{label}（n={n}）：一致百分比 {percent}，kappa {kappa}，AC1 {ac1}{paradox}。",
        "paradox": "；存在 kappa 悖论，宜参考经患病率校正的指标",
        "estimate": "{value:.2f}（95% 置信区间 {low:.2f}～{high:.2f}）",
        "undefined": "无法估计（{reason}）",
    },
}


def _method(data: ReportData, labels: Mapping[str, str]) -> str:
    """The method paragraph in the report's language, one sentence per line: for English the
    agreement figures' own summary, else from the figures and the protocol's facts in `data`,
    findings named as the agreement table names them."""
    report = data.agreement
    words = _METHOD.get(data.language)
    if words is None:
        return report.summary
    from adjudication.reliability import N_BOOT

    lines = [words["inter"].format(
        cases=report.n_cases, subjects=report.n_subjects, readers=report.n_readers,
        protocol=data.protocol_id, version=data.protocol_version,
        per_case=data.readers_per_case)]
    if report.n_rereads:
        intervals = [i.interval_days for i in report.intra if i.interval_days is not None]
        interval = words["interval"].format(days=statistics.median(intervals)) \
            if intervals else ""
        lines.append(words["intra"].format(rereads=report.n_rereads, interval=interval,
                                           washout=data.washout_days))
    lines.append(words["statistics"].format(resamples=N_BOOT))
    for f in report.fields:
        if not f.key.endswith(".presence"):
            continue
        lines.append(words["finding"].format(
            label=_field_label(f, labels), n=f.n,
            percent=_method_figure(f.figure("percent"), data.language),
            kappa=_method_figure(f.figure("kappa"), data.language),
            ac1=_method_figure(f.figure("AC1"), data.language),
            paradox=words["paradox"] if f.paradox else ""))
    return "\n".join(lines)


def _method_figure(fig: StatFigure | None, language: str) -> str:
    """A statistic with its 95% CI in the method paragraph, or why it is not estimable (in the
    report's language, as the list of not-estimable fields says it)."""
    words = _METHOD[language]
    if fig is None:
        return _reason(None, language)
    if fig.result is None:
        return words["undefined"].format(reason=_reason(fig, language))
    r = fig.result
    return words["estimate"].format(value=r.value, low=r.ci[0], high=r.ci[1])


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
                 h: Mapping[str, str], language: str) -> Image.Image:
    """One row per field: the headline statistic and its 95% CI, top to bottom in table order
    (matplotlib's object-oriented API on its Agg canvas, no pyplot), as an RGB image."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.collections import LineCollection
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    names = [_field_label(f, labels) for f in fields]
    wide = any(_is_wide(n) for n in names) or language.startswith("zh")
    names = [_wrap(n, 22 if wide else 44) for n in names]
    heights = [0.3 + 0.16 * n.count("\n") for n in names]
    with _chart_fonts():
        # constrained layout keeps the page width and fits the labels inside it
        fig = Figure(figsize=(7.2, 0.9 + sum(heights)), dpi=FOREST_DPI, layout="constrained")
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        ys: list[float] = []
        y = 0.0
        for hgt in heights:
            ys.append(-(y + hgt / 2))
            y += hgt
        values = [f.headline.result for f in fields]  # type: ignore[union-attr]
        left = max(LEFT_LIMIT, min([-1.0, *(r.ci[0] for r in values)]))
        # one artist per kind of mark, not four artists per field
        bars, caps = [], []
        dots: dict[tuple[str, str], tuple[list[float], list[float]]] = {}
        for f, r, yy in zip(fields, values, ys):
            lo, hi = r.ci
            bars.append([(lo, yy), (hi, yy)])
            caps += [[(lo, yy - 0.06), (lo, yy + 0.06)], [(hi, yy - 0.06), (hi, yy + 0.06)]]
            # an estimate beyond the axis (an ICC far below -1) shows as a triangle at its edge
            marker = _MARKERS.get(f.kind, "o") if r.value >= left else "<"
            colour = "#c0392b" if f.key.endswith(".presence") else "#1f4e79"
            dot_x, dot_y = dots.setdefault((marker, colour), ([], []))
            dot_x.append(max(r.value, left))
            dot_y.append(yy)
        ax.add_collection(LineCollection(bars, colors="#445", linewidths=1.2, capstyle="butt"))
        ax.add_collection(LineCollection(caps, colors="#445", linewidths=1.0,
                                         capstyle="projecting"))
        for (marker, colour), (dot_x, dot_y) in dots.items():
            ax.plot(dot_x, dot_y, marker=marker, markersize=5, linestyle="", color=colour)
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
        fig.set_facecolor("white")
        # the canvas's pixels as they are (the PNG that `savefig` writes, pixel for pixel,
        # without encoding and decoding it); RGB: WeasyPrint embeds an alpha channel as a
        # second image
        fig.canvas.draw()
        return Image.fromarray(np.asarray(fig.canvas.buffer_rgba())[..., :3])


@contextmanager
def _chart_fonts() -> Iterator[None]:
    """Fonts with CJK glyphs while a chart is built and saved (matplotlib reads fonts when
    text is created); matplotlib's settings are restored afterwards."""
    import logging

    import matplotlib

    # the CJK font has no bold face: matplotlib says so on every chart; nothing to act on
    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)
    with matplotlib.rc_context({"font.family": list(FONT_FAMILIES),
                                "axes.unicode_minus": False}):
        yield


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
    try:
        pixels = render_frame(k.path, k.frame)
    except (UnsupportedImage, OSError) as exc:
        # readers drew on it in the viewer: an image that no longer renders was damaged or
        # removed after import
        raise NotFound(f"Key image {number} ({k.caption}): the archived image cannot be shown "
                       f"({exc}).  Put it back from a backup of the archive (`ioreview "
                       "backup` keeps one), then export again; nothing was exported.") from exc
    image = _burn_in(pixels, k.shapes)
    legend = [{"tag": i, "reader": r, "kind": h.get(kind, kind), "label": label, "colour": c}
              for i, ((r, kind, _pts, label), c) in enumerate(zip(k.shapes, _colours(k.shapes)),
                                                              start=1)]
    return {"number": number, "caption": k.caption, "uri": _png_uri(image), "legend": legend}


def _colours(shapes: Sequence[tuple[str, str, Any, str]]) -> list[str]:
    readers = sorted({s[0] for s in shapes})
    index = {r: SHAPE_COLOURS[i % len(SHAPE_COLOURS)] for i, r in enumerate(readers)}
    return [index[s[0]] for s in shapes]


def _burn_in(pixels: np.ndarray, shapes: Sequence[tuple[str, str, Any, str]]) -> Image.Image:
    """The image scaled to KEY_IMAGE_PX on its long side (nearest neighbour, so pixels stay
    sharp), each shape drawn over it in its reader's colour with its number (the legend under
    the image gives reader, kind and label).  Drawn at twice the size and halved, so that the
    shapes' edges are anti-aliased."""
    for _reader, kind, _points, _label in shapes:
        if kind not in SHAPE_KINDS:
            raise ValueError(f"key image shape: unknown kind {kind!r} (one of "
                             f"{', '.join(sorted(SHAPE_KINDS))})")
    rows, cols = pixels.shape[:2]
    scale = KEY_IMAGE_PX / max(rows, cols)
    size = (max(1, round(cols * scale)), max(1, round(rows * scale)))
    source = Image.fromarray(np.ascontiguousarray(pixels))
    if not shapes:
        return source.resize(size, Image.Resampling.NEAREST).convert("RGB")
    image = source.resize((size[0] * 2, size[1] * 2), Image.Resampling.NEAREST).convert("RGB")
    draw = ImageDraw.Draw(image, "RGBA")
    s = 2 * size[0] / cols  # drawing pixels per image pixel
    font = _font(False, 40, bold=True)
    for i, ((_reader, kind, points, _label), colour) in enumerate(
            zip(shapes, _colours(shapes)), start=1):
        _draw_shape(draw, kind, [((float(c) + 0.5) * s, (float(r) + 0.5) * s)
                                 for r, c in points], colour)
        if points:
            r0, c0 = min(points, key=lambda p: (p[0], p[1]))
            right, below = c0 > cols * 0.8, r0 < rows * 0.06
            anchor = ("r" if right else "l") + ("a" if below else "d")
            x, y = (float(c0) + 0.5) * s, (float(r0) + 0.5) * s + (4 if below else -4)
            box = draw.textbbox((x, y), str(i), font=font, anchor=anchor)
            draw.rectangle([box[0] - 3, box[1] - 3, box[2] + 3, box[3] + 3],
                           fill=(0, 0, 0, 153))
            draw.text((x, y), str(i), fill=colour, font=font, anchor=anchor)
    return image.reduce(2)


def _draw_shape(draw: ImageDraw.ImageDraw, kind: str, xy: list[tuple[float, float]],
                colour: str) -> None:
    """One shape on the double-size image (`xy` in its pixels, as (x, y))."""
    if not xy:
        return
    width = 4
    if kind == "ellipse" and len(xy) >= 2:
        (xa, ya), (xb, yb) = xy[0], xy[1]
        draw.ellipse([min(xa, xb), min(ya, yb), max(xa, xb), max(ya, yb)], outline=colour,
                     width=width)
    elif kind in ("polygon", "freehand") or (kind == "region" and len(xy) >= 3):
        draw.line([*xy, xy[0]], fill=colour, width=width, joint="curve")
    elif kind == "arrow" and len(xy) >= 2:
        # drawn from the tail (second point) to the head (first point), as the viewer does
        (hx, hy), (tx, ty) = xy[0], xy[1]
        length = math.hypot(hx - tx, hy - ty) or 1.0
        ux, uy = (hx - tx) / length, (hy - ty) / length
        head = 22.0
        bx, by = hx - ux * head, hy - uy * head
        draw.line([(tx, ty), (bx, by)], fill=colour, width=width)
        draw.polygon([(hx, hy), (bx - uy * head * 0.4, by + ux * head * 0.4),
                      (bx + uy * head * 0.4, by - ux * head * 0.4)], fill=colour)
    elif kind in ("length", "angle") and len(xy) >= 2:
        draw.line(xy, fill=colour, width=width, joint="curve")
        for x, y in xy:
            _plus(draw, x, y, 8, colour, width)
    else:  # point, or a region given by its seed
        _plus(draw, xy[0][0], xy[0][1], 14, colour, 4)


def _plus(draw: ImageDraw.ImageDraw, x: float, y: float, r: float, colour: str,
          width: int) -> None:
    draw.line([(x - r, y), (x + r, y)], fill=colour, width=width)
    draw.line([(x, y - r), (x, y + r)], fill=colour, width=width)


# -- output helpers ------------------------------------------------------------------------------
def _fonts(language: str) -> tuple[str, ...]:
    """The page's font stack: a Latin font first for English (CJK glyphs still come from the
    fallbacks), the CJK font first for Chinese so that punctuation takes its CJK form."""
    return FONT_FAMILIES if language.startswith("zh") else ("DejaVu Sans", *CJK_FONTS)


@lru_cache(maxsize=None)
def _font(wide: bool, size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    """A font for the charts: DejaVu Sans, or with `wide` the first CJK font found (its Latin
    glyphs serve the rest of the text); Pillow's own font when none is installed."""
    files = _CJK_FILES if wide else (_BOLD_FILES if bold else _LATIN_FILES)
    for name, index in files:
        try:
            return ImageFont.truetype(name, size, index=index)
        except OSError:
            continue
    return ImageFont.load_default(size)  # type: ignore[return-value]


def _png_uri(image: Image.Image) -> str:
    """A PNG data URI (RGB, no metadata: WeasyPrint embeds it without an alpha mask, and the
    same pixels give the same bytes)."""
    buf = io.BytesIO()
    image.save(buf, format="PNG", compress_level=FAST_PNG)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


@lru_cache(maxsize=1)
def _template() -> Template:
    """The page's template, compiled once per process."""
    env = Environment(loader=PackageLoader("ioreview.service.exports", "templates"),
                      autoescape=select_autoescape(["html", "j2"], default=True),
                      undefined=StrictUndefined, keep_trailing_newline=True,
                      trim_blocks=True, lstrip_blocks=True)
    return env.get_template("report.html.j2")
