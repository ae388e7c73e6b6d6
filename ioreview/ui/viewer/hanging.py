"""Hanging: which prior series goes beside the current one (the same view, an earlier day).

The blinded headers carry no View Position, so a series' view is read from its description
(AP, PA, LAT, OBL; axial, coronal, sagittal; MR sequence names) together with its laterality
and body part.  A prior of another modality is never hung beside the current series; among the
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


def _words(series: SeriesView) -> list[str]:
    h = series.headers[0] if series.headers else None
    text = (h.series_description if h is not None and h.series_description else series.description)
    if ": " in text and not (h is not None and h.series_description):
        text = text.split(": ", 1)[1]  # "Prior follow-up (day 14): KNEE AP" as the reading screen labels it
    return _WORD.findall(text.upper())


def view_of(series: SeriesView) -> str:
    """The view or plane a series shows ("AP", "LAT", "AXIAL", ...), "" when it does not say."""
    for word in _words(series):
        if word in _VIEWS:
            return _VIEWS[word]
    return ""


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
        if view_a != view_b:
            return None
        score += 4.0
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
