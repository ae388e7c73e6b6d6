"""Hanging: which prior series goes beside the current one (the same view, an earlier day).

A series' view is its first image's View Position (0018,5101), else the meaning of its View
Code Sequence (0054,0220), normalised (`normalised_view`: "LL" and "left lateral" are LAT,
"antero-posterior" and "前后位" are AP); else it is read from the description (AP, PA, LAT,
OBL; axial, coronal, sagittal; MR sequence names).  Laterality and body part count too.  A
prior of another modality, side or view is never hung beside the current series; among the
rest the best match wins, ties going to the prior listed first (the service lists the most
recent timepoint first).
"""
from __future__ import annotations

import re
from collections.abc import Sequence

from ioreview.imaging.header import SeriesView

#: Words naming a view or plane, mapped to one token.
_VIEWS: dict[str, str] = {
    "AP": "AP", "PA": "PA", "LAT": "LAT", "LATERAL": "LAT", "OBL": "OBL", "OBLIQUE": "OBL",
    "AX": "AXIAL", "AXIAL": "AXIAL", "TRA": "AXIAL", "TRANSVERSE": "AXIAL", "COR": "CORONAL",
    "CORONAL": "CORONAL", "SAG": "SAGITTAL", "SAGITTAL": "SAGITTAL", "LONG": "LONGITUDINAL",
    "LONGITUDINAL": "LONGITUDINAL",
}
#: MR sequence words: a T1 prior beside a T1, a STIR beside a STIR.
_SEQUENCES = ("T1", "T2", "STIR", "PD", "FLAIR", "DWI", "SWI", "GRE", "TIRM")
_WORD = re.compile(r"[A-Z0-9]+")

#: A frontal view that does not say which way the beam went ("正位"): hung beside AP or PA.
FRONTAL = "FRONTAL"
#: View Position values (PS3.3 C.8.11.5.1.1 Defined Terms, mammography's CID 4014 and what
#: modalities write in their place), compared without spaces, hyphens or underscores.
_VIEW_POSITIONS: dict[str, str] = {
    "AP": "AP", "PA": "PA", "LL": "LAT", "RL": "LAT", "LAT": "LAT", "LATERAL": "LAT",
    "LLAT": "LAT", "RLAT": "LAT", "LTLAT": "LAT", "RTLAT": "LAT", "ML": "LAT", "LM": "LAT",
    "XTABLELAT": "LAT", "CROSSTABLELAT": "LAT", "RLD": "DECUBITUS", "LLD": "DECUBITUS",
    "RLO": "OBL", "LLO": "OBL", "OBL": "OBL", "OBLIQUE": "OBL", "CC": "CC", "MLO": "MLO",
    "AXIAL": "AXIAL", "FRONTAL": FRONTAL,
}
#: Words of vendors' texts ("AP PORTABLE", "L LAT", "LATERAL ERECT"), the first that names
#: a view deciding.
_VIEW_WORDS: dict[str, str] = {
    "AP": "AP", "PA": "PA", "LAT": "LAT", "LATERAL": "LAT", "LLAT": "LAT", "RLAT": "LAT",
    "OBL": "OBL", "OBLIQUE": "OBL", "RLO": "OBL", "LLO": "OBL", "CC": "CC", "MLO": "MLO",
    "AXIAL": "AXIAL", "FRONTAL": FRONTAL,
}
#: Compound terms of coded views ("medio-lateral oblique", "antero-posterior"), looked for
#: in the text without spaces and hyphens, the more specific first.
_VIEW_TERMS: tuple[tuple[str, str], ...] = (
    ("DECUBITUS", "DECUBITUS"), ("MEDIOLATERALOBLIQUE", "MLO"), ("OBLIQUE", "OBL"),
    ("ANTEROPOSTERIOR", "AP"), ("ANTERIORPOSTERIOR", "AP"), ("POSTEROANTERIOR", "PA"),
    ("POSTERIORANTERIOR", "PA"), ("CRANIOCAUDAL", "CC"), ("MEDIOLATERAL", "LAT"),
    ("LATEROMEDIAL", "LAT"),
)
#: Chinese names of views (前后位 AP, 后前位 PA, 侧位 lateral, 斜位 oblique, 正位 frontal,
#: 轴位 axial), the more specific first.
_CHINESE_VIEWS: tuple[tuple[str, str], ...] = (
    ("前后", "AP"), ("后前", "PA"), ("斜", "OBL"), ("侧", "LAT"), ("轴", "AXIAL"),
    ("正", FRONTAL),
)
#: words that contain "LATERAL" without naming a lateral view
_NOT_A_VIEW = re.compile(r"(BI|UNI|CONTRA|IPSI)LATERAL")


def _words(series: SeriesView) -> list[str]:
    h = series.headers[0] if series.headers else None
    text = (h.series_description if h is not None and h.series_description else series.description)
    if ": " in text and not (h is not None and h.series_description):
        text = text.split(": ", 1)[1]  # "Prior follow-up (day 14): KNEE AP" as the reading screen labels it
    return _WORD.findall(text.upper())


def normalised_view(text: str) -> str:
    """A View Position or view code meaning as one token ("AP", "PA", "LAT", "OBL", "CC",
    "MLO", "AXIAL", "DECUBITUS", or `FRONTAL`); "" when the text names no view."""
    upper = _NOT_A_VIEW.sub(" ", text.upper())
    compact = re.sub(r"[\s_\-./\\]+", "", upper)
    if not compact:
        return ""
    if compact in _VIEW_POSITIONS:
        return _VIEW_POSITIONS[compact]
    for term, view in _VIEW_TERMS:
        if term in compact:
            return view
    for word in _WORD.findall(upper):
        if word in _VIEW_WORDS:
            return _VIEW_WORDS[word]
    for term, view in _CHINESE_VIEWS:
        if term in compact:
            return view
    return ""


def view_of(series: SeriesView) -> str:
    """The view or plane a series shows ("AP", "LAT", "AXIAL", ...), "" when it does not say:
    its first image's View Position, else its View Code Sequence, else its description."""
    h = series.headers[0] if series.headers else None
    if h is not None:
        view = normalised_view(h.view_position) or normalised_view(h.view_code_meaning)
        if view:
            return view
    for word in _words(series):
        if word in _VIEWS:
            return _VIEWS[word]
    return ""


def _view_score(a: str, b: str) -> float | None:
    """4 for the same view, 3 for a frontal view beside an AP or a PA, None for another."""
    if a == b:
        return 4.0
    if FRONTAL in (a, b) and {a, b} <= {FRONTAL, "AP", "PA"}:
        return 3.0
    return None


def _laterality(series: SeriesView) -> str:
    h = series.headers[0] if series.headers else None
    return (h.laterality or "").upper() if h is not None else ""


def _body_part(series: SeriesView) -> str:
    h = series.headers[0] if series.headers else None
    return (h.body_part_examined or "").upper() if h is not None else ""


def match_score(current: SeriesView, prior: SeriesView) -> float | None:
    """How well `prior` matches `current` (higher is better); None when it must not be hung
    beside it (another modality, another side, another view)."""
    if current.modality.upper() != prior.modality.upper():
        return None
    score = 0.0
    lat_a, lat_b = _laterality(current), _laterality(prior)
    if lat_a and lat_b:
        if lat_a != lat_b:
            return None
        score += 2.0
    view_a, view_b = view_of(current), view_of(prior)
    if view_a and view_b:
        same = _view_score(view_a, view_b)
        if same is None:
            return None
        score += same
    words_a, words_b = set(_words(current)), set(_words(prior))
    seq_a = words_a.intersection(_SEQUENCES)
    seq_b = words_b.intersection(_SEQUENCES)
    if seq_a and seq_b:
        if not seq_a & seq_b:
            return None
        score += 3.0
    if words_a or words_b:
        score += 2.0 * len(words_a & words_b) / len(words_a | words_b)
    if _body_part(current) and _body_part(current) == _body_part(prior):
        score += 1.0
    return score


def matching_prior(current: SeriesView, priors: Sequence[SeriesView]) -> SeriesView | None:
    """The prior series to hang beside `current`: the best `match_score`, the first listed on a
    tie; None when no prior of the same modality, side and view exists."""
    best: tuple[float, int] | None = None
    chosen: SeriesView | None = None
    for i, prior in enumerate(priors):
        score = match_score(current, prior)
        if score is None:
            continue
        if best is None or (score, -i) > best:
            best, chosen = (score, -i), prior
    return chosen
