"""Inter-reader agreement statistics with confidence intervals, for analysts and trial figures.

Every function takes plain ratings (any hashable labels, or numbers for ICC and Bland-Altman) and
returns a small frozen result: `Agreement` (`.value`, `.ci`, `.n`, `.method`, `.confidence`,
`.extra`) or, for 2x2 summaries and limits of agreement, a dataclass of its own. Reporting follows
the GRRAS guideline (Kottner et al. 2011): percent agreement next to a chance-corrected
coefficient, each with its interval.

=========================  ===================================================================
`percent_agreement`        proportion of pairs that agree; Wilson score CI
`cohen_kappa`              Cohen 1960 / weighted kappa (Cohen 1968); asymptotic CI with the
                           variance of Fleiss, Cohen & Everitt 1969 (as statsmodels)
`fleiss_kappa`             Fleiss 1971, subjects x raters; percentile bootstrap CI
`krippendorff_alpha`       nominal / ordinal / interval, raters x units, missing allowed;
                           percentile bootstrap CI
`pabak`                    Brennan & Prediger 1981 (= PABAK of Byrt, Bishop & Carlin 1993 with
                           two categories); Gwet's variance, t CI (as irrCAC's bp.coeff.raw)
`gwet_ac1`                 Gwet 2008 AC1; Gwet's variance, t CI (as irrCAC's gwet.ac1.raw)
`icc`                      McGraw & Wong 1996 ICC(1), ICC(k), ICC(C,1), ICC(C,k), ICC(A,1),
                           ICC(A,k); F-based CI (their Table 7)
`prevalence_bias_indices`  2x2 prevalence and bias indices, PABAK and kappa (Byrt et al. 1993)
`kappa_paradox`            flags high agreement with low kappa, to point a reader to PABAK/AC1
`bland_altman`             limits of agreement and their CIs (Bland & Altman 1986, 1999)
=========================  ===================================================================

Conventions shared by all functions:

* Missing ratings are ``None`` or a float NaN. The paired two-rater functions drop every pair
  with a missing side; ``.n`` is the number of pairs used and ``extra["dropped"]`` how many were
  dropped. `krippendorff_alpha` keeps missing ratings (that is what alpha is for) and counts
  the units with two or more ratings; `fleiss_kappa` and `icc` need complete rows and raise
  `MismatchedRatings` unless ``drop_incomplete=True``.
* ``categories=`` fixes the category set (an unused category still counts where the statistic
  depends on it: weighted kappa's scale, AC1's and Brennan-Prediger's chance agreement) and its
  order (for weights and the ordinal level). Without it, the categories are those observed (in
  the pairs used, for the paired functions) in sorted order. A label outside ``categories=``
  raises `UnknownCategory`.
* With a single category, or perfect agreement in one category: percent agreement is 1.0 and
  AC1 is 1.0 (its chance agreement is 0 whatever the category count); kappa, Fleiss' kappa,
  Krippendorff's alpha and (with one category) Brennan-Prediger are 0/0 and raise
  `UndefinedStatistic`.
* Bootstrap CIs resample subjects with replacement: ``n_boot`` resamples (default 1000) drawn as
  ``numpy.random.default_rng(seed).integers(0, n, size=(n_boot, n))`` (default seed 0; seed=None
  draws fresh entropy, not reproducible; above 2 million draws they come in blocks of rows).
  They are vectorised: each resample is a row of subject weights, and the statistic is computed
  from weighted per-subject sums. The interval is the percentile interval; resamples whose
  statistic is 0/0 (e.g. every drawn subject in one category) are left out and counted in
  ``extra["boot_undefined"]``. If the percentile interval misses the estimate (possible with
  very few subjects) it is widened to include it and ``extra["ci_widened"]`` is True.
* Nothing returns NaN: an undefined statistic raises a subclass of `AgreementError` (itself a
  `ValueError`) whose message says why and what to do.
"""
from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

import numpy as np


@functools.cache
def _special() -> Any:
    """scipy.special, imported on first use (the inverse t and F distributions; scipy.stats
    would cost every command ~1 s of start-up and every export ~1 s more)."""
    from scipy import special

    return special


def _norm_ppf(p: float) -> float:
    """The standard normal quantile (scipy.stats.norm.ppf; equal to 1e-15)."""
    from statistics import NormalDist

    return NormalDist().inv_cdf(p)


def _t_ppf(p: float, df: float) -> float:
    """Student's t quantile (scipy.stats.t.ppf(p, df): the same cephes routine)."""
    return float(_special().stdtrit(df, p))


def _f_ppf(p: float, dfn: float, dfd: float) -> float:
    """The F quantile (scipy.stats.f.ppf(p, dfn, dfd): the same cephes routine)."""
    return float(_special().fdtri(dfn, dfd, p))

__all__ = [
    "Agreement",
    "AgreementError",
    "AgreementReason",
    "REASON_MESSAGES",
    "InvalidOption",
    "InvalidRatings",
    "KappaParadox",
    "LimitsOfAgreement",
    "MismatchedRatings",
    "PrevalenceBias",
    "TooFewRaters",
    "TooFewSubjects",
    "UndefinedStatistic",
    "UnknownCategory",
    "bland_altman",
    "cohen_kappa",
    "explain",
    "fleiss_kappa",
    "gwet_ac1",
    "icc",
    "kappa_paradox",
    "krippendorff_alpha",
    "pabak",
    "percent_agreement",
    "prevalence_bias_indices",
]

Weights = Literal["linear", "quadratic"] | None
Level = Literal["nominal", "ordinal", "interval"]
IccKind = Literal["1", "k", "C,1", "C,k", "A,1", "A,k"]

DEFAULT_N_BOOT = 1000
DEFAULT_SEED = 0


# --- errors ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class AgreementReason:
    """Why a statistic is undefined, as a stable code and its parameters (texts), so a user
    interface can say it in its own language; the English message stays the exception's."""

    code: str
    params: dict[str, str]


#: The English message of each reason code (``{name}`` are the parameters).  `explain` reads a
#: message back into its code and parameters, so a message that travelled as text (a report's
#: "why undefined" column) can still be shown translated.
REASON_MESSAGES: dict[str, str] = {
    "too_few_subjects": "{what} needs at least {minimum} subject(s) with complete ratings; "
                        "got {n}",
    "too_few_subjects_dropped": "{what} needs at least {minimum} subject(s) with complete "
                                "ratings; got {n} ({dropped} more left out for a missing rating)",
    "single_label": "{what} is undefined: both raters used only {used} on all {n} subjects "
                    "(chance agreement 1, kappa 0/0); report percent agreement and AC1, or pass "
                    "categories= with the full set",
    "chance_agreement_one": "{what} is undefined: chance agreement is 1 (both raters used only "
                            "{used}); report percent agreement and AC1 instead",
    "one_category": "{what} is undefined with one category ({used}): chance agreement 1/q is 1. "
                    "Pass categories= with every label a reader could choose (e.g. ['present', "
                    "'absent'])",
    "too_few_units": "{what} needs at least 2 units rated by two or more raters; got {n}",
    "no_variance": "{what} is undefined: every rating is the same value (no variance between "
                   "or within subjects)",
    "too_few_pairs": "{what} need at least 2 pairs of measurements; got {n} ({dropped} dropped "
                     "for a missing value)",
}


def _message(code: str, **params: Any) -> tuple[str, AgreementReason]:
    texts = {k: str(v) for k, v in params.items()}
    return REASON_MESSAGES[code].format(**texts), AgreementReason(code, texts)


_PATTERNS: dict[str, re.Pattern[str]] = {}


def explain(message: str) -> AgreementReason | None:
    """The code and parameters of a message made from `REASON_MESSAGES` (None for any other
    message)."""
    # the longer of two messages with the same beginning first ("... got {n}" and "... got
    # {n} ({dropped} more left out ...)")
    for code, template in sorted(REASON_MESSAGES.items(), key=lambda item: -len(item[1])):
        pattern = _PATTERNS.get(code)
        if pattern is None:
            parts = re.split(r"\{(\w+)\}", template)
            regex = "".join(re.escape(part) if i % 2 == 0 else f"(?P<{part}>.+?)"
                            for i, part in enumerate(parts))
            pattern = _PATTERNS[code] = re.compile(regex + r"\Z", re.S)
        match = pattern.match(message)
        if match:
            return AgreementReason(code, match.groupdict())
    return None


class AgreementError(ValueError):
    """An agreement statistic cannot be computed for these ratings; the message says why
    (and `reason`, where it is one of `REASON_MESSAGES`, as a code with parameters)."""

    def __init__(self, message: str, reason: AgreementReason | None = None) -> None:
        super().__init__(message)
        self.reason = reason if reason is not None else explain(message)


class TooFewSubjects(AgreementError):
    """Fewer subjects (pairs, units) than the statistic needs."""


class TooFewRaters(AgreementError):
    """Fewer raters than the statistic needs (two at least)."""


class MismatchedRatings(AgreementError):
    """Rating sequences of different lengths, ragged rows, or incomplete rows where the
    statistic needs complete ones."""


class UnknownCategory(AgreementError):
    """A rating outside the ``categories=`` given by the caller."""


class InvalidRatings(AgreementError):
    """Ratings of the wrong kind: unhashable labels, non-numeric or infinite values where
    numbers are needed, labels that cannot be ordered where an order is needed."""


class UndefinedStatistic(AgreementError):
    """The statistic is 0/0 for these ratings (e.g. kappa when both raters used one category)."""


class InvalidOption(AgreementError):
    """An argument outside its allowed values (weights, level, kind, confidence, n_boot...)."""


# --- results --------------------------------------------------------------------------------

def _frozen_mapping(items: Mapping[str, Any] | None = None) -> Mapping[str, Any]:
    return MappingProxyType(dict(items or {}))


@dataclass(frozen=True)
class Agreement:
    """One agreement coefficient with its confidence interval.

    ``ci`` is (lower, upper) at ``confidence``; ``n`` the number of subjects (pairs, units)
    used; ``method`` says which coefficient and which interval; ``extra`` holds the parts
    (observed and chance agreement, standard error, categories, bootstrap settings...).
    """

    value: float
    ci: tuple[float, float]
    n: int
    method: str
    confidence: float = 0.95
    extra: Mapping[str, Any] = field(default_factory=_frozen_mapping, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "extra", _frozen_mapping(self.extra))

    def __str__(self) -> str:
        return (f"{self.value:.3f} ({self.confidence:.0%} CI {self.ci[0]:.3f} to "
                f"{self.ci[1]:.3f}; n={self.n}) {self.method}")


@dataclass(frozen=True)
class PrevalenceBias:
    """A 2x2 table of two raters and its indices (Byrt, Bishop & Carlin 1993).

    Cells: ``a`` both positive, ``b`` rater 1 positive and rater 2 negative, ``c`` rater 1
    negative and rater 2 positive, ``d`` both negative. ``prevalence_index`` = (a - d)/n (signed:
    > 0 when positives dominate), ``bias_index`` = (b - c)/n. ``kappa`` follows from them,
    kappa = (PABAK - PI^2 + BI^2) / (1 - PI^2 + BI^2), and is None when undefined (every pair
    in one cell of the diagonal).
    """

    a: int
    b: int
    c: int
    d: int
    n: int
    positive: Hashable
    negative: Hashable | None
    percent_agreement: float
    prevalence_index: float
    bias_index: float
    pabak: float
    kappa: float | None


@dataclass(frozen=True)
class KappaParadox:
    """Whether kappa is low although agreement is high (Feinstein & Cicchetti 1990).

    ``flagged`` is True when percent agreement >= ``min_agreement`` and kappa < ``max_kappa``
    or undefined; a dashboard then shows PABAK (Brennan-Prediger) and AC1 next to kappa.
    ``kappa`` and ``brennan_prediger`` are None where undefined.
    """

    flagged: bool
    percent_agreement: float
    kappa: float | None
    gwet_ac1: float
    brennan_prediger: float | None
    n: int
    min_agreement: float
    max_kappa: float
    reason: str


@dataclass(frozen=True)
class LimitsOfAgreement:
    """Bland-Altman limits of agreement of two numeric ratings (x1 - x2).

    ``bias`` is the mean difference, ``sd`` the SD of the differences, ``lower``/``upper`` =
    bias -/+ ``sd_multiplier`` * sd, each with a CI at ``confidence`` (t on n-1 df).
    """

    bias: float
    bias_ci: tuple[float, float]
    sd: float
    lower: float
    lower_ci: tuple[float, float]
    upper: float
    upper_ci: tuple[float, float]
    n: int
    confidence: float
    sd_multiplier: float
    method: str
    extra: Mapping[str, Any] = field(default_factory=_frozen_mapping, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "extra", _frozen_mapping(self.extra))


# --- ratings in -----------------------------------------------------------------------------

def _is_missing(x: object) -> bool:
    if x is None:
        return True
    if isinstance(x, (float, np.floating)):
        return bool(np.isnan(x))
    return False


def _is_number(x: object) -> bool:
    return isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(
        x, (bool, np.bool_))


def _as_array(data: Any, ndim: int, what: str) -> np.ndarray:
    """Ratings as an array of ``ndim`` dimensions: numeric arrays stay numeric, anything else
    becomes an object array of the caller's own labels (never numpy's string coercion, which
    would turn NaN into the label "nan")."""
    if isinstance(data, np.ndarray) and data.dtype.kind in "iuf":
        arr = data
    else:
        try:
            arr = np.asarray(data, dtype=object)
        except ValueError as exc:
            raise MismatchedRatings(f"{what}: rows of different lengths ({exc}); give every "
                                    "row the same raters, with None for a missing rating"
                                    ) from exc
    if arr.ndim != ndim:
        shape = "one sequence of ratings" if ndim == 1 else "a table (rows of equal length)"
        ragged = arr.ndim < ndim and arr.dtype == object
        raise MismatchedRatings(f"{what}: expected {shape}, got an array of shape {arr.shape}"
                                + (" (rows of different lengths?)" if ragged else ""))
    return arr


def _numeric(arr: np.ndarray) -> np.ndarray | None:
    """The ratings as floats with NaN for missing, or None when some label is not a number."""
    if arr.dtype.kind in "iu":
        return arr.astype(float)
    if arr.dtype.kind == "f":
        return arr.astype(float, copy=False)
    flat = arr.ravel()
    out = np.empty(flat.shape, dtype=float)
    for i, x in enumerate(flat):
        if _is_missing(x):
            out[i] = np.nan
        elif _is_number(x):
            out[i] = float(x)
        else:
            return None
    return out.reshape(arr.shape)


def _all_int_labels(arr: np.ndarray) -> bool:
    if arr.dtype.kind in "iu":
        return True
    if arr.dtype.kind == "f":
        return False
    return all(_is_missing(x) or isinstance(x, (int, np.integer)) for x in arr.ravel())


def _sorted_labels(labels: Sequence[Hashable], ordered: bool, what: str) -> tuple:
    try:
        return tuple(sorted(labels))
    except TypeError as exc:
        if ordered:
            raise InvalidRatings(f"{what}: the labels {list(labels)!r} cannot be sorted, and this "
                                 "statistic needs their order: pass categories=[...] in order"
                                 ) from exc
        return tuple(labels)


@dataclass(frozen=True)
class _Coded:
    codes: np.ndarray          # int64, same shape as the ratings, -1 for missing
    labels: tuple               # the category of each code
    given: bool                 # categories came from the caller


def _encode(data: np.ndarray, categories: Sequence[Hashable] | None, *, ordered: bool,
            what: str) -> _Coded:
    """Integer codes 0..q-1 for the labels (-1 for missing), in ``categories`` order if given,
    else in sorted order of the labels observed."""
    cats: tuple | None = None
    if categories is not None:
        cats = tuple(categories)
        if not cats:
            raise InvalidOption(f"{what}: categories= is empty")
        if any(_is_missing(c) for c in cats):
            raise InvalidOption(f"{what}: categories= contains a missing value (None/NaN)")
        try:
            if len(set(cats)) != len(cats):
                raise InvalidOption(f"{what}: categories= lists a category twice: {list(cats)!r}")
        except TypeError as exc:
            raise InvalidOption(f"{what}: categories= must be hashable labels") from exc
    values = _numeric(data)
    if values is not None and (cats is None or all(_is_number(c) for c in cats)):
        return _encode_numeric(values, cats, int_labels=_all_int_labels(data), what=what)
    return _encode_labels(data, cats, ordered=ordered, what=what)


def _encode_numeric(values: np.ndarray, cats: tuple | None, *, int_labels: bool,
                    what: str) -> _Coded:
    present = ~np.isnan(values)
    if np.isinf(values[present]).any():
        raise InvalidRatings(f"{what}: infinite rating; use None or NaN for a missing one")
    codes = np.full(values.shape, -1, dtype=np.int64)
    if cats is None:
        uniq, inv = np.unique(values[present], return_inverse=True)
        codes[present] = inv
        labels = tuple(int(u) for u in uniq) if int_labels else tuple(float(u) for u in uniq)
        return _Coded(codes, labels, False)
    cat_values = np.asarray([float(c) for c in cats])
    order = np.argsort(cat_values, kind="stable")
    sorted_cats = cat_values[order]
    observed = values[present]
    pos = np.clip(np.searchsorted(sorted_cats, observed), 0, len(sorted_cats) - 1)
    unknown = sorted_cats[pos] != observed
    if unknown.any():
        bad = sorted({float(v) for v in observed[unknown]})
        raise UnknownCategory(f"{what}: rating(s) {bad[:10]!r} not in categories={list(cats)!r}; "
                              "add them to categories= or correct the ratings")
    codes[present] = order[pos]
    return _Coded(codes, cats, True)


def _encode_labels(data: np.ndarray, cats: tuple | None, *, ordered: bool, what: str) -> _Coded:
    flat = data.ravel()
    codes = np.full(flat.shape, -1, dtype=np.int64)
    index: dict[Hashable, int] = {} if cats is None else {c: i for i, c in enumerate(cats)}
    unknown: list = []
    try:
        for i, x in enumerate(flat):
            if _is_missing(x):
                continue
            code = index.get(x)
            if code is None:
                if cats is not None:
                    unknown.append(x)
                    continue
                code = index[x] = len(index)
            codes[i] = code
    except TypeError as exc:
        raise InvalidRatings(f"{what}: ratings must be hashable labels (str, int, ...): {exc}"
                             ) from exc
    if unknown:
        shown = list(dict.fromkeys(unknown))[:10]
        raise UnknownCategory(f"{what}: rating(s) {shown!r} not in categories={list(cats)!r}; "
                              "add them to categories= or correct the ratings")
    codes = codes.reshape(data.shape)
    if cats is not None:
        return _Coded(codes, cats, True)
    first_seen = tuple(index)
    labels = _sorted_labels(first_seen, ordered, what)
    if labels != first_seen:
        remap = np.array([labels.index(lab) for lab in first_seen], dtype=np.int64)
        codes = np.where(codes >= 0, remap[np.maximum(codes, 0)], -1)
    return _Coded(codes, labels, False)


def _compact(codes: np.ndarray, labels: tuple) -> tuple[np.ndarray, tuple]:
    """Drop categories not used in ``codes`` (for categories inferred from the data)."""
    used = np.unique(codes[codes >= 0])
    if len(used) == len(labels):
        return codes, labels
    remap = np.full(len(labels), -1, dtype=np.int64)
    remap[used] = np.arange(len(used))
    return np.where(codes >= 0, remap[np.maximum(codes, 0)], -1), tuple(labels[i] for i in used)


@dataclass(frozen=True)
class _Pairs:
    c1: np.ndarray
    c2: np.ndarray
    labels: tuple
    dropped: int

    @property
    def n(self) -> int:
        return len(self.c1)

    @property
    def q(self) -> int:
        return len(self.labels)


def _pairs(r1: Any, r2: Any, categories: Sequence[Hashable] | None, *, ordered: bool = False,
           what: str) -> _Pairs:
    a1 = _as_array(r1, 1, what)
    a2 = _as_array(r2, 1, what)
    if len(a1) != len(a2):
        raise MismatchedRatings(f"{what}: rater 1 has {len(a1)} ratings and rater 2 has {len(a2)}; "
                                "give one rating per subject for each rater, None where missing")
    if a1.dtype.kind in "iuf" and a2.dtype.kind in "iuf":
        both = np.stack([a1, a2])                       # int stays int, else float
    else:
        both = np.empty((2, len(a1)), dtype=object)
        both[0], both[1] = a1, a2
    coded = _encode(both, categories, ordered=ordered, what=what)
    keep = (coded.codes >= 0).all(axis=0)
    codes, labels = coded.codes[:, keep], coded.labels
    if not coded.given:
        codes, labels = _compact(codes, labels)
    return _Pairs(codes[0], codes[1], labels, int((~keep).sum()))


def _check_confidence(confidence: float) -> float:
    if isinstance(confidence, bool) or not (
            isinstance(confidence, (int, float, np.floating)) and 0.0 < confidence < 1.0):
        raise InvalidOption(f"confidence must be between 0 and 1 (e.g. 0.95), got {confidence!r}")
    return float(confidence)


def _need_subjects(n: int, minimum: int, what: str, dropped: int = 0) -> None:
    if n < minimum:
        if dropped:
            raise TooFewSubjects(*_message("too_few_subjects_dropped", what=what,
                                           minimum=minimum, n=n, dropped=dropped))
        raise TooFewSubjects(*_message("too_few_subjects", what=what, minimum=minimum, n=n))


def _clip(lo: float, hi: float, low: float = -1.0, high: float = 1.0) -> tuple[float, float]:
    return (float(min(max(lo, low), high)), float(min(max(hi, low), high)))


def _z(confidence: float) -> float:
    return float(_norm_ppf(0.5 + confidence / 2))


# --- two raters -----------------------------------------------------------------------------

def percent_agreement(r1: Sequence[Hashable], r2: Sequence[Hashable], *,
                      categories: Sequence[Hashable] | None = None,
                      confidence: float = 0.95) -> Agreement:
    """Proportion of subjects on which the two raters gave the same label.

    CI: Wilson score interval (Wilson 1927; Newcombe 1998 method 3), which stays inside [0, 1]
    and is not degenerate at 0 or 1. Pairs with a missing rating are dropped. One pair suffices.
    """
    confidence = _check_confidence(confidence)
    what = "percent agreement"
    p = _pairs(r1, r2, categories, what=what)
    _need_subjects(p.n, 1, what, p.dropped)
    agree = int((p.c1 == p.c2).sum())
    n = p.n
    phat = agree / n
    z = _z(confidence)
    denom = 1 + z * z / n
    centre = (phat + z * z / (2 * n)) / denom
    half = z / denom * math.sqrt(phat * (1 - phat) / n + z * z / (4 * n * n))
    lo, hi = _clip(centre - half, centre + half, 0.0, 1.0)
    return Agreement(phat, (min(lo, phat), max(hi, phat)), n, "Percent agreement, Wilson score CI",
                     confidence, {"agreements": agree, "dropped": p.dropped,
                                  "categories": p.labels})


_WEIGHT_NAMES = {None: "unweighted", "linear": "linear weights", "quadratic": "quadratic weights"}


def _agreement_weights(q: int, weights: Weights) -> np.ndarray:
    """Agreement weights w_ij in [0, 1] (1 on the diagonal): identity, 1-|i-j|/(q-1) or
    1-(i-j)^2/(q-1)^2 (Cicchetti-Allison and Fleiss-Cohen weights, as statsmodels' wt=)."""
    if weights is None:
        return np.eye(q)
    i = np.arange(q)
    dist = np.abs(i[:, None] - i[None, :]) / (q - 1)
    return 1.0 - (dist if weights == "linear" else dist ** 2)


def cohen_kappa(r1: Sequence[Hashable], r2: Sequence[Hashable], weights: Weights = None,
                categories: Sequence[Hashable] | None = None, *,
                confidence: float = 0.95) -> Agreement:
    """Cohen's kappa (Cohen 1960), or weighted kappa (Cohen 1968) with ``weights="linear"`` or
    ``"quadratic"`` over the category order (``categories=`` order, else sorted).

    CI: kappa -/+ z * ASE, with the large-sample variance of Fleiss, Cohen & Everitt (1969) — the
    one statsmodels' ``cohens_kappa`` reports (``kappa_low``/``kappa_upp``), for weighted kappa
    too — then clipped to [-1, 1] (statsmodels does not clip). Undefined (UndefinedStatistic)
    when chance agreement is 1: both raters used one and the same category.
    """
    confidence = _check_confidence(confidence)
    if weights not in _WEIGHT_NAMES:
        raise InvalidOption(f"weights must be None, 'linear' or 'quadratic', got {weights!r}")
    what = "Cohen's kappa"
    p = _pairs(r1, r2, categories, ordered=weights is not None, what=what)
    _need_subjects(p.n, 2, what, p.dropped)
    q, n = p.q, p.n
    if q < 2:
        raise UndefinedStatistic(*_message("single_label", what=what, used=repr(p.labels), n=n))
    table = np.bincount(p.c1 * q + p.c2, minlength=q * q).reshape(q, q).astype(float)
    prob = table / n
    row, col = prob.sum(axis=1), prob.sum(axis=0)
    w = _agreement_weights(q, weights)
    po = float((w * prob).sum())
    pe = float((w * np.outer(row, col)).sum())
    if 1.0 - pe <= 1e-12:
        used = sorted({p.labels[i] for i in np.flatnonzero(row + col)}, key=p.labels.index)
        raise UndefinedStatistic(*_message("chance_agreement_one", what=what, used=repr(used)))
    kappa = min(max((po - pe) / (1.0 - pe), -1.0), 1.0)      # clip rounding only
    w_row = w @ col            # sum_j p.j w_ij
    w_col = row @ w            # sum_i p_i. w_ij
    term = prob * (w - (w_row[:, None] + w_col[None, :]) * (1.0 - kappa)) ** 2
    var = (term.sum() - (kappa - pe * (1.0 - kappa)) ** 2) / ((1.0 - pe) ** 2 * n)
    se = math.sqrt(max(float(var), 0.0))
    z = _z(confidence)
    ci = _clip(kappa - z * se, kappa + z * se)
    label = ("Cohen's kappa" if weights is None
             else f"Cohen's weighted kappa ({_WEIGHT_NAMES[weights]})")
    return Agreement(float(kappa), ci, n, f"{label}, asymptotic CI (Fleiss, Cohen & Everitt 1969)",
                     confidence, {"po": po, "pe": pe, "se": se, "weights": weights,
                                  "categories": p.labels, "dropped": p.dropped,
                                  "table": tuple(tuple(int(x) for x in r) for r in table)})


def _gwet_ci(value: float, terms: np.ndarray, n: int,
             confidence: float) -> tuple[tuple[float, float], float]:
    """irrCAC's interval: var = sum((t_i - value)^2) / (n (n-1)) with f = 0, CI value -/+
    qt(1 - alpha/2, n-1) * se, clipped to [-1, 1] (irrCAC clips only the upper end)."""
    var = float(((terms - value) ** 2).sum()) / (n * (n - 1))
    se = math.sqrt(var)
    t = float(_t_ppf(0.5 + confidence / 2, n - 1))
    return _clip(value - t * se, value + t * se), se


def pabak(r1: Sequence[Hashable], r2: Sequence[Hashable],
          categories: Sequence[Hashable] | None = None, *, confidence: float = 0.95) -> Agreement:
    """Brennan & Prediger's (1981) coefficient (po - 1/q) / (1 - 1/q) for q categories; with two
    categories it is PABAK = 2 po - 1 (Byrt, Bishop & Carlin 1993).

    q is the number of categories a reader could choose from, so pass ``categories=``: without
    it q is the number observed. CI: Gwet's variance and a t distribution on n-1 df, as irrCAC's
    ``bp.coeff.raw`` (two raters, pairs with a missing rating dropped). One category:
    UndefinedStatistic (chance agreement 1/q = 1).
    """
    confidence = _check_confidence(confidence)
    what = "Brennan-Prediger coefficient (PABAK)"
    p = _pairs(r1, r2, categories, what=what)
    _need_subjects(p.n, 2, what, p.dropped)
    if p.q < 2:
        raise UndefinedStatistic(*_message("one_category", what=what, used=repr(p.labels)))
    pe = 1.0 / p.q
    agree = (p.c1 == p.c2).astype(float)
    po = float(agree.mean())
    value = (po - pe) / (1.0 - pe)
    ci, se = _gwet_ci(value, (agree - pe) / (1.0 - pe), p.n, confidence)
    name = "PABAK (Brennan-Prediger, 2 categories)" if p.q == 2 else \
        f"Brennan-Prediger coefficient ({p.q} categories)"
    return Agreement(value, ci, p.n, f"{name}, Gwet variance, t CI (n-1 df)", confidence,
                     {"po": po, "pe": pe, "se": se, "categories": p.labels, "dropped": p.dropped})


def gwet_ac1(r1: Sequence[Hashable], r2: Sequence[Hashable],
             categories: Sequence[Hashable] | None = None, *,
             confidence: float = 0.95) -> Agreement:
    """Gwet's AC1 (Gwet 2008): (pa - pe) / (1 - pe) with pe = sum_k pi_k (1 - pi_k) / (q - 1),
    pi_k the mean of the two raters' proportions in category k.

    CI: Gwet's (2008) linearised variance from per-subject terms and a t distribution on n-1 df,
    as irrCAC's ``gwet.ac1.raw`` for two raters (f = 0). Pairs with a missing rating are dropped
    first. Defined for any data: with one category (or perfect agreement in one) AC1 is 1.0.
    """
    confidence = _check_confidence(confidence)
    what = "Gwet's AC1"
    p = _pairs(r1, r2, categories, what=what)
    _need_subjects(p.n, 2, what, p.dropped)
    n, q = p.n, p.q
    agree = (p.c1 == p.c2).astype(float)
    pa = float(agree.mean())
    if q < 2:
        return Agreement(1.0, (1.0, 1.0), n, "Gwet's AC1 (one category: perfect agreement)",
                         confidence, {"pa": pa, "pe": 0.0, "se": 0.0, "categories": p.labels,
                                      "dropped": p.dropped})
    pi = (np.bincount(p.c1, minlength=q) + np.bincount(p.c2, minlength=q)) / (2.0 * n)
    pe = float((pi * (1.0 - pi)).sum()) / (q - 1)
    ac1 = min(max((pa - pe) / (1.0 - pe), -1.0), 1.0)
    pe_i = ((1.0 - pi[p.c1]) + (1.0 - pi[p.c2])) / (2.0 * (q - 1))
    terms = (agree - pe) / (1.0 - pe) - 2.0 * (1.0 - ac1) * (pe_i - pe) / (1.0 - pe)
    ci, se = _gwet_ci(ac1, terms, n, confidence)
    return Agreement(ac1, ci, n, "Gwet's AC1, Gwet (2008) variance, t CI (n-1 df)", confidence,
                     {"pa": pa, "pe": pe, "se": se, "categories": p.labels, "dropped": p.dropped})


def prevalence_bias_indices(r1: Sequence[Hashable], r2: Sequence[Hashable], positive: Hashable,
                            *, categories: Sequence[Hashable] | None = None) -> PrevalenceBias:
    """The 2x2 table of two raters with Byrt, Bishop & Carlin's (1993) prevalence index
    (a - d)/n, bias index (b - c)/n, PABAK = 2 po - 1 and kappa written through them.

    ``positive`` is the label counted as positive; every other label is negative, and there may
    be only one (pass ``categories=`` with exactly two labels to name it when unobserved).
    """
    what = "prevalence and bias indices"
    if categories is not None and (len(categories) != 2 or positive not in categories):
        raise InvalidOption(f"{what}: categories= must list exactly two labels including "
                            f"positive={positive!r}; got {list(categories)!r}")
    p = _pairs(r1, r2, categories, what=what)
    _need_subjects(p.n, 1, what, p.dropped)
    negatives = [lab for lab in p.labels if lab != positive]
    if len(negatives) > 1:
        raise InvalidOption(f"{what} are defined for 2x2 tables: found {len(p.labels)} categories "
                            f"{list(p.labels)!r}; collapse them into {positive!r} and one other")
    pos_code = p.labels.index(positive) if positive in p.labels else -2
    pos1, pos2 = p.c1 == pos_code, p.c2 == pos_code
    a, b = int((pos1 & pos2).sum()), int((pos1 & ~pos2).sum())
    c, d = int((~pos1 & pos2).sum()), int((~pos1 & ~pos2).sum())
    n = p.n
    pi, bi, po = (a - d) / n, (b - c) / n, (a + d) / n
    pabak_value = 2 * po - 1
    denom = 1 - pi * pi + bi * bi
    kappa = None if denom <= 1e-12 else (pabak_value - pi * pi + bi * bi) / denom
    return PrevalenceBias(a, b, c, d, n, positive, negatives[0] if negatives else None, po, pi, bi,
                          pabak_value, kappa)


def kappa_paradox(r1: Sequence[Hashable], r2: Sequence[Hashable], *,
                  categories: Sequence[Hashable] | None = None, min_agreement: float = 0.8,
                  max_kappa: float = 0.4) -> KappaParadox:
    """Flag the kappa paradox: percent agreement >= ``min_agreement`` (default 0.8) while
    Cohen's kappa < ``max_kappa`` (default 0.4, "fair" or worse on Landis & Koch's scale) or
    undefined. It happens with skewed prevalence (rare findings) or rater bias (Feinstein &
    Cicchetti 1990; Byrt et al. 1993); PABAK and AC1 are then the figures to show next to kappa.
    """
    if not 0.0 <= min_agreement <= 1.0:
        raise InvalidOption(f"min_agreement must be in [0, 1], got {min_agreement!r}")
    if not -1.0 <= max_kappa <= 1.0:
        raise InvalidOption(f"max_kappa must be in [-1, 1], got {max_kappa!r}")
    po = percent_agreement(r1, r2, categories=categories)
    ac1 = gwet_ac1(r1, r2, categories)
    try:
        kappa: float | None = cohen_kappa(r1, r2, categories=categories).value
    except UndefinedStatistic:
        kappa = None
    try:
        bp: float | None = pabak(r1, r2, categories).value
    except UndefinedStatistic:
        bp = None
    high = po.value >= min_agreement
    if high and kappa is None:
        flagged, reason = True, (f"percent agreement {po.value:.2f} but kappa is undefined (one "
                                 "category only); report PABAK/AC1")
    elif high and kappa is not None and kappa < max_kappa:
        flagged, reason = True, (f"percent agreement {po.value:.2f} >= {min_agreement} but kappa "
                                 f"{kappa:.2f} < {max_kappa}; report PABAK/AC1 with kappa")
    else:
        flagged = False
        reason = (f"percent agreement {po.value:.2f} < {min_agreement}" if not high else
                  f"kappa {kappa:.2f} >= {max_kappa}")
    return KappaParadox(flagged, po.value, kappa, ac1.value, bp, po.n, min_agreement, max_kappa,
                        reason)


# --- many raters: bootstrap over subjects ---------------------------------------------------

_BOOT_BLOCK = 2_000_000     # subject weights held at once (resamples x subjects)
_BOOT_CACHE = 1_000_000     # weights up to this size are kept for the next call (8 MB each)


def _check_boot(n_boot: int, seed: int | None) -> None:
    if not isinstance(n_boot, (int, np.integer)) or isinstance(n_boot, bool) or n_boot < 1:
        raise InvalidOption(f"n_boot must be a positive integer (e.g. 1000), got {n_boot!r}")
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
        raise InvalidOption(f"seed must be an integer or None, got {seed!r}")


def _draw_weights(rng: np.random.Generator, n: int, b: int) -> np.ndarray:
    """b resamples of n subjects as a (b, n) matrix of how often each subject was drawn."""
    draws = rng.integers(0, n, size=(b, n))
    draws += (np.arange(b) * n)[:, None]
    weights = np.bincount(draws.ravel(), minlength=b * n).reshape(b, n).astype(float)
    weights.flags.writeable = False
    return weights


@functools.lru_cache(maxsize=4)
def _cached_weights(n: int, n_boot: int, seed: int) -> np.ndarray:
    return _draw_weights(np.random.default_rng(seed), n, n_boot)


def _profiles(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows of per-subject data (e.g. category counts) and each subject's row.
    With a few raters and categories there are far fewer profiles than subjects, and a
    resample is summarised by how often it drew each profile."""
    unique, group = np.unique(rows, axis=0, return_inverse=True)
    return unique, group.ravel()


class _Grouping:
    """Sums subject weights into group weights: columns sorted by group, then added up per
    run of equal groups (``np.add.reduceat``). Without groups, subjects are the groups."""

    def __init__(self, group: np.ndarray | None, n: int) -> None:
        self.n = n
        if group is None:
            self.order = self.starts = None
            self.once = np.ones((1, n))
        else:
            self.order = np.argsort(group, kind="stable")
            self.starts = np.flatnonzero(np.r_[True, np.diff(group[self.order]) != 0])
            self.once = np.bincount(group).astype(float)[None, :]

    def __call__(self, weights: np.ndarray) -> np.ndarray:
        if self.order is None:
            return weights
        return np.add.reduceat(weights[:, self.order], self.starts, axis=1)


def _bootstrap(statistic: Callable[[np.ndarray], np.ndarray], grouping: _Grouping,
               n_boot: int, seed: int | None) -> np.ndarray:
    """``statistic`` of ``n_boot`` resamples of the subjects, NaN where undefined.

    ``statistic`` takes a (resamples, groups) matrix of how often each resample drew each
    group and works on all resamples at once. Draws depend only on (n, n_boot, seed), so small
    ones are cached and the fields of one report share them (a paired bootstrap, drawn once);
    large ones are drawn in blocks of rows to bound memory.
    """
    n = grouping.n
    if n * n_boot <= _BOOT_CACHE and seed is not None:
        return statistic(grouping(_cached_weights(n, n_boot, int(seed))))
    rng = np.random.default_rng(seed)
    block = max(1, _BOOT_BLOCK // max(n, 1))
    return np.concatenate([statistic(grouping(_draw_weights(rng, n, min(block, n_boot - start))))
                           for start in range(0, n_boot, block)])


def _weighted_sums(weights: np.ndarray, values: np.ndarray) -> np.ndarray:
    """weights @ values, one matrix-vector product per column of ``values`` (a handful of
    categories): as a single matrix-matrix product BLAS runs these small products on several
    threads, which costs more than it saves and much more when the CPUs are busy."""
    if values.ndim == 1:
        return weights @ values
    out = np.empty((weights.shape[0], values.shape[1]))
    for j in range(values.shape[1]):
        out[:, j] = weights @ values[:, j]
    return out


def _percentile_ci(value: float, replicates: np.ndarray, confidence: float, what: str,
                   n_boot: int, seed: int | None) -> tuple[tuple[float, float], dict[str, Any]]:
    ok = np.isfinite(replicates)
    if not ok.any():
        raise UndefinedStatistic(f"{what}: the statistic is undefined in every bootstrap resample "
                                 "(too few subjects with more than one category); no CI")
    alpha = 1.0 - confidence
    lo, hi = (float(x) for x in np.quantile(replicates[ok], [alpha / 2, 1 - alpha / 2]))
    widened = lo > value or hi < value
    lo, hi = min(lo, value), max(hi, value)
    return (lo, hi), {"n_boot": n_boot, "seed": seed, "boot_undefined": int((~ok).sum()),
                      "ci_widened": widened}


def _boot_method(n_boot: int, seed: int | None) -> str:
    return f"percentile bootstrap CI ({n_boot} resamples of subjects, seed {seed})"


def _estimate_and_ci(statistic: Callable[[np.ndarray], np.ndarray], grouping: _Grouping, *,
                     what: str, undefined: str, n_boot: int, seed: int | None,
                     confidence: float) -> tuple[float, tuple[float, float], dict[str, Any]]:
    """The statistic on all subjects (each drawn once) and its bootstrap percentile CI."""
    value = float(np.clip(statistic(grouping.once)[0], -1.0, 1.0))
    if not math.isfinite(value):
        raise UndefinedStatistic(f"{what} is undefined: {undefined}")
    replicates = _bootstrap(statistic, grouping, n_boot, seed)
    ci, boot = _percentile_ci(value, replicates, confidence, what, n_boot, seed)
    return value, ci, boot


def fleiss_kappa(ratings: Any, *, categories: Sequence[Hashable] | None = None,
                 n_boot: int = DEFAULT_N_BOOT, seed: int | None = DEFAULT_SEED,
                 confidence: float = 0.95, drop_incomplete: bool = False) -> Agreement:
    """Fleiss' (1971) kappa for m >= 2 raters per subject; ``ratings`` is subjects x raters.

    Equal to statsmodels' ``fleiss_kappa(aggregate_raters(ratings)[0])``. Fleiss' kappa needs the
    same number of ratings for every subject: a missing rating raises MismatchedRatings, or with
    ``drop_incomplete=True`` drops that subject (counted in ``extra["dropped"]``); for
    incomplete data prefer `krippendorff_alpha`. CI: percentile bootstrap over subjects.
    """
    confidence = _check_confidence(confidence)
    _check_boot(n_boot, seed)
    what = "Fleiss' kappa"
    arr = _as_array(ratings, 2, what)
    coded = _encode(arr, categories, ordered=False, what=what)
    codes = coded.codes
    if codes.shape[1] < 2:
        raise TooFewRaters(f"{what} needs at least 2 raters (columns); got {codes.shape[1]}")
    complete = (codes >= 0).all(axis=1)
    if not complete.all() and not drop_incomplete:
        rows = np.flatnonzero(~complete)
        raise MismatchedRatings(f"{what} needs every subject rated by all {codes.shape[1]} raters; "
                                f"subject row(s) {rows[:10].tolist()} have missing ratings. Use "
                                "krippendorff_alpha, or drop_incomplete=True to leave them out")
    codes = codes[complete]
    n, m = codes.shape
    _need_subjects(n, 2, what, int((~complete).sum()))
    q = len(coded.labels)
    counts = np.zeros((n, q))
    np.add.at(counts, (np.repeat(np.arange(n), m), codes.ravel()), 1.0)
    profiles, group = _profiles(counts)
    agreement = ((profiles ** 2).sum(axis=1) - m) / (m * (m - 1))     # P_i of each profile

    def statistic(weights: np.ndarray) -> np.ndarray:
        total = weights.sum(axis=1)
        p_bar = weights @ agreement / total
        p_cat = _weighted_sums(weights, profiles) / (total * m)[:, None]
        pe = (p_cat ** 2).sum(axis=1)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(1.0 - pe > 1e-12, (p_bar - pe) / (1.0 - pe), np.nan)

    only = coded.labels[int(codes[0, 0])]
    value, ci, boot = _estimate_and_ci(
        statistic, _Grouping(group, n), what=what, n_boot=n_boot, seed=seed,
        confidence=confidence, undefined=f"every rating is {only!r} (chance agreement 1); "
                                         "report percent agreement instead")
    return Agreement(value, ci, n, f"Fleiss' kappa, {_boot_method(n_boot, seed)}", confidence,
                     {"raters": m, "categories": coded.labels,
                      "dropped": int((~complete).sum()), **boot})


_LEVELS = ("nominal", "ordinal", "interval")


def krippendorff_alpha(data: Any, level: Level = "nominal", *,
                       categories: Sequence[Hashable] | None = None,
                       n_boot: int = DEFAULT_N_BOOT, seed: int | None = DEFAULT_SEED,
                       confidence: float = 0.95) -> Agreement:
    """Krippendorff's alpha, 1 - D_o / D_e, for ``data`` given as raters x units (the layout of
    the ``krippendorff`` package), None/NaN for a missing rating.

    Levels: "nominal" (any labels), "ordinal" (order of ``categories=``, else sorted; distances
    from the rank of each value among the pairable values), "interval" (numbers, squared
    differences). Units with fewer than two ratings are not pairable and are ignored; ``.n`` is
    the number of pairable units. Equal to ``krippendorff.alpha(reliability_data=data,
    level_of_measurement=level)``. CI: percentile bootstrap over pairable units (a plain
    nonparametric bootstrap, not Hayes & Krippendorff's 2007 procedure).
    """
    confidence = _check_confidence(confidence)
    _check_boot(n_boot, seed)
    if level not in _LEVELS:
        raise InvalidOption(f"level must be one of {_LEVELS}, got {level!r}")
    what = f"Krippendorff's alpha ({level})"
    arr = _as_array(data, 2, what)
    if arr.shape[0] < 2:
        raise TooFewRaters(f"{what} needs at least 2 raters (rows of raters x units); got "
                           f"{arr.shape[0]}")
    units = arr.T                                    # units x raters
    labels = None
    if level == "interval":
        if categories is not None:
            _encode(units, categories, ordered=False, what=what)     # label check only
        values = _numeric(units)
        if values is None:
            raise InvalidRatings(f"{what} needs numeric ratings; use level='ordinal' with "
                                 "categories=[...] in order for labels")
        if np.isinf(values).any():
            raise InvalidRatings(f"{what}: infinite rating; use None or NaN for a missing one")
        present = ~np.isnan(values)
        pairable = present.sum(axis=1) >= 2
        _need_pairable(int(pairable.sum()), what)
        statistic = _alpha_interval(values[pairable])
        grouping = _Grouping(None, int(pairable.sum()))
    else:
        coded = _encode(units, categories, ordered=level == "ordinal", what=what)
        present = coded.codes >= 0
        pairable = present.sum(axis=1) >= 2
        _need_pairable(int(pairable.sum()), what)
        codes = coded.codes[pairable]
        labels = coded.labels
        q = len(labels)
        if level == "ordinal" and q * q > _ORDINAL_PAIRS_MAX:
            statistic = _alpha_ordinal_by_unit(codes, q)
            grouping = _Grouping(None, len(codes))
        else:
            counts = np.zeros((len(codes), q))
            rows, cols = np.nonzero(codes >= 0)
            np.add.at(counts, (rows, codes[rows, cols]), 1.0)
            profiles, group = _profiles(counts)
            grouping = _Grouping(group, len(codes))
            statistic = (_alpha_nominal(profiles) if level == "nominal"
                         else _alpha_ordinal(profiles))
    n = int(pairable.sum())
    value, ci, boot = _estimate_and_ci(
        statistic, grouping, what=what, n_boot=n_boot, seed=seed, confidence=confidence,
        undefined="all pairable values are equal, so expected disagreement is 0; report "
                  "percent agreement instead")
    extra: dict[str, Any] = {"level": level, "pairable_values": int(present[pairable].sum()),
                             "units": int(units.shape[0]), **boot}
    if labels is not None:
        extra["categories"] = labels
    return Agreement(value, ci, n, f"Krippendorff's alpha ({level}), {_boot_method(n_boot, seed)}",
                     confidence, extra)


def _need_pairable(n: int, what: str) -> None:
    if n < 2:
        raise TooFewSubjects(*_message("too_few_units", what=what, n=n))


def _alpha_from(within: np.ndarray, total: np.ndarray, spread: np.ndarray) -> np.ndarray:
    """alpha = 1 - (N - 1) * sum_u within_u / spread, NaN where spread (expected disagreement
    times N (N-1)) is 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(spread > 0, 1.0 - (total - 1.0) * within / spread, np.nan)


def _alpha_nominal(counts: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """Nominal alpha from value counts c_uk of each unit (profile): observed disagreement sums
    (m_u^2 - sum_k c_uk^2) / (m_u - 1) over units, expected N^2 - sum_k n_k^2."""
    m = counts.sum(axis=1)
    per_unit = (m * m - (counts ** 2).sum(axis=1)) / (m - 1)

    def statistic(weights: np.ndarray) -> np.ndarray:
        n_k = _weighted_sums(weights, counts)
        total = n_k.sum(axis=1)
        return _alpha_from(weights @ per_unit, total, total * total - (n_k ** 2).sum(axis=1))

    return statistic


def _alpha_interval(values: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """Interval alpha: with squared differences, observed disagreement sums
    2 m_u SS_u / (m_u - 1) over units and expected is 2 N SS_total / (N (N-1)) — sums of
    squares, linear in the unit weights. Values are centred first for precision."""
    present = ~np.isnan(values)
    x = np.where(present, values - np.nanmean(values), 0.0)
    m = present.sum(axis=1).astype(float)
    s1 = x.sum(axis=1)
    s2 = (x * x).sum(axis=1)
    ss_unit = np.where(present, (x - (s1 / m)[:, None]) ** 2, 0.0).sum(axis=1)
    per_unit = m * ss_unit / (m - 1)

    def statistic(weights: np.ndarray) -> np.ndarray:
        total = weights @ m
        sum1, sum2 = weights @ s1, weights @ s2
        ss_total = sum2 - sum1 * sum1 / total
        ss_total = np.where(ss_total > 1e-12 * sum2, ss_total, 0.0)
        return _alpha_from(weights @ per_unit, total, total * ss_total)

    return statistic


_ORDINAL_PAIRS_MAX = 144    # categories^2 up to which ordinal alpha sums per category pair


def _ordinal_ranks(n_k: np.ndarray) -> np.ndarray:
    """Krippendorff's ordinal metric is the squared difference of mid-ranks
    r_k = sum_{g<=k} n_g - n_k / 2 of the pairable values: ordinal alpha is interval alpha on
    these ranks, which depend on each resample's value counts n_k. Centred for precision."""
    ranks = np.cumsum(n_k, axis=1) - n_k / 2
    return ranks - ranks[:, -1:] / 2


def _ordinal_alpha_from(within: np.ndarray, n_k: np.ndarray, ranks: np.ndarray) -> np.ndarray:
    total = n_k.sum(axis=1)
    sum1, sum2 = (n_k * ranks).sum(axis=1), (n_k * ranks * ranks).sum(axis=1)
    ss_total = sum2 - sum1 * sum1 / total
    ss_total = np.where(ss_total > 1e-12 * sum2, ss_total, 0.0)
    return _alpha_from(within, total, total * ss_total)


def _alpha_ordinal(counts: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """Ordinal alpha from value counts of each unit (profile). The within-unit sums of squares
    sum_u w_u m_u/(m_u-1) (sum_k c_uk r_k^2 - (sum_k c_uk r_k)^2 / m_u) are regrouped by
    category, r^2 . (W A) - r' (W Q) r with A_uk = c_uk m_u/(m_u-1) and
    Q_u = c_u c_u' / (m_u-1), so every resample needs only small products."""
    m = counts.sum(axis=1)
    q = counts.shape[1]
    linear = counts * (m / (m - 1))[:, None]
    pairs = (counts[:, :, None] * counts[:, None, :] / (m - 1)[:, None, None]).reshape(-1, q * q)

    def statistic(weights: np.ndarray) -> np.ndarray:
        n_k = _weighted_sums(weights, counts)
        ranks = _ordinal_ranks(n_k)
        quad = np.einsum("bk,bkl,bl->b", ranks,
                         _weighted_sums(weights, pairs).reshape(-1, q, q), ranks)
        within = (ranks * ranks * _weighted_sums(weights, linear)).sum(axis=1) - quad
        return _ordinal_alpha_from(within, n_k, ranks)

    return statistic


def _alpha_ordinal_by_unit(codes: np.ndarray, q: int) -> Callable[[np.ndarray], np.ndarray]:
    """Ordinal alpha with many categories (numbers rated on an ordinal level), per unit: the
    value counts of a resample sum its unit weights over the values of each category, and each
    unit's ranks are gathered (a missing rating reads rank 0 and counts for nothing)."""
    present = codes >= 0
    m = present.sum(axis=1).astype(float)
    factor = m / (m - 1)
    index = np.where(present, codes, q)
    unit_of = np.nonzero(present)[0]
    value_of = codes[present]
    order = np.argsort(value_of, kind="stable")
    units_by_value, values_sorted = unit_of[order], value_of[order]
    starts = np.flatnonzero(np.r_[True, values_sorted[1:] != values_sorted[:-1]])
    used = values_sorted[starts]

    def statistic(weights: np.ndarray) -> np.ndarray:
        n_k = np.zeros((weights.shape[0], q))
        n_k[:, used] = np.add.reduceat(weights[:, units_by_value], starts, axis=1)
        ranks = _ordinal_ranks(n_k)
        padded = np.concatenate([ranks, np.zeros((len(ranks), 1))], axis=1)
        gathered = padded[:, index]                             # resamples x units x raters
        s1, s2 = gathered.sum(axis=2), (gathered * gathered).sum(axis=2)
        within = (weights * factor * (s2 - s1 * s1 / m)).sum(axis=1)
        return _ordinal_alpha_from(within, n_k, ranks)

    return statistic


# --- numeric ratings ------------------------------------------------------------------------

_ICC_KINDS = ("1", "k", "C,1", "C,k", "A,1", "A,k")
_ICC_NAMES = {
    "1": "ICC(1): one-way random, single rater (Shrout & Fleiss ICC(1,1))",
    "k": "ICC(k): one-way random, mean of k raters (Shrout & Fleiss ICC(1,k))",
    "C,1": "ICC(C,1): two-way, consistency, single rater (Shrout & Fleiss ICC(3,1))",
    "C,k": "ICC(C,k): two-way, consistency, mean of k raters (Shrout & Fleiss ICC(3,k))",
    "A,1": "ICC(A,1): two-way random, absolute agreement, single rater (Shrout & Fleiss ICC(2,1))",
    "A,k": "ICC(A,k): two-way random, absolute agreement, mean of k raters (Shrout & Fleiss "
           "ICC(2,k))",
}


def _numeric_table(ratings: Any, what: str, drop_incomplete: bool) -> tuple[np.ndarray, int]:
    arr = _as_array(ratings, 2, what)
    values = _numeric(arr)
    if values is None:
        raise InvalidRatings(f"{what} needs numeric ratings (measurements, scores); got labels")
    if np.isinf(values).any():
        raise InvalidRatings(f"{what}: infinite rating; use None or NaN for a missing one")
    complete = ~np.isnan(values).any(axis=1)
    if not complete.all() and not drop_incomplete:
        rows = np.flatnonzero(~complete)
        raise MismatchedRatings(f"{what} needs every subject rated by all {values.shape[1]} "
                                f"raters; subject row(s) {rows[:10].tolist()} have missing "
                                "ratings. Pass drop_incomplete=True to leave them out")
    return values[complete], int((~complete).sum())


def icc(ratings: Any, kind: IccKind = "A,1", *, confidence: float = 0.95,
        drop_incomplete: bool = False) -> Agreement:
    """Intraclass correlation of numeric ``ratings`` (subjects x raters), McGraw & Wong (1996)
    forms: "A,1" (= Shrout & Fleiss ICC(2,1)), "A,k", "C,1" (= ICC(3,1)), "C,k", and the one-way
    "1" (= ICC(1,1)) and "k".

    CI: McGraw & Wong (1996) Table 7 — exact F intervals for the one-way and consistency forms,
    Satterthwaite's approximate df v for absolute agreement, with v from ICC(A,1) for both A
    forms (so the ICC(A,k) interval is the Spearman-Brown step-up of ICC(A,1)'s). Values can be
    far below 0 (worse than chance) but never above 1. A missing rating raises
    MismatchedRatings unless ``drop_incomplete=True``.
    """
    confidence = _check_confidence(confidence)
    if kind not in _ICC_KINDS:
        raise InvalidOption(f"kind must be one of {_ICC_KINDS}, got {kind!r}")
    what = f"ICC({kind})"
    x, dropped = _numeric_table(ratings, what, drop_incomplete)
    n, k = x.shape
    if k < 2:
        raise TooFewRaters(f"{what} needs at least 2 raters (columns); got {k}")
    _need_subjects(n, 2, what, dropped)
    centred = x - x.mean()
    ss_total = float((centred ** 2).sum())
    if ss_total <= x.size * (1e-14 * float(np.abs(x).max())) ** 2:
        raise UndefinedStatistic(*_message("no_variance", what=what))
    # sums of squares below rounding noise of the total are zero (e.g. perfect agreement)
    ss_rows, ss_cols = (float(s) if s > 1e-12 * ss_total else 0.0 for s in (
        k * (centred.mean(axis=1) ** 2).sum(), n * (centred.mean(axis=0) ** 2).sum()))
    ss_error = ss_total - ss_rows - ss_cols
    ss_error = ss_error if ss_error > 1e-12 * ss_total else 0.0
    ss_within = ss_total - ss_rows
    ss_within = ss_within if ss_within > 1e-12 * ss_total else 0.0
    msr = ss_rows / (n - 1)
    msc = ss_cols / (k - 1)
    mse = ss_error / ((n - 1) * (k - 1))
    msw = ss_within / (n * (k - 1))
    alpha = 1.0 - confidence
    parts = {"msr": msr, "msc": msc, "mse": mse, "msw": msw, "raters": k, "dropped": dropped}

    if kind in ("1", "k", "C,1", "C,k"):
        error, df2 = (msw, n * (k - 1)) if kind in ("1", "k") else (mse, (n - 1) * (k - 1))
        single = kind in ("1", "C,1")
        num = msr - error
        den = msr + (k - 1) * error if single else msr
        if den <= 0:
            raise UndefinedStatistic(f"{what} is undefined: " + (
                "no variance between or within subjects" if single else
                "no variance between subjects (every subject has the same mean), so the "
                "mean of k raters has no reliability to estimate; report ICC(1) or ICC(C,1)"))
        value = num / den
        if error == 0:
            ci = (value, value)
        else:
            f_obs = msr / error
            f_lo = f_obs / _f_ppf(1 - alpha / 2, n - 1, df2)
            f_hi = f_obs * _f_ppf(1 - alpha / 2, df2, n - 1)
            if single:
                ci = ((f_lo - 1) / (f_lo + k - 1), (f_hi - 1) / (f_hi + k - 1))
            else:
                ci = (1 - 1 / f_lo, 1 - 1 / f_hi)
        parts["F"] = msr / error if error else math.inf
    else:
        den1 = msr + (k - 1) * mse + k * (msc - mse) / n
        if den1 <= 0:
            raise UndefinedStatistic(f"{what} is undefined: every rating is the same value")
        rho = (msr - mse) / den1                                 # ICC(A,1)
        if kind == "A,1":
            value = rho
        else:
            den_k = msr + (msc - mse) / n
            if den_k <= 1e-12 * (msr + msc + mse):                # 0 up to rounding
                raise UndefinedStatistic(f"{what} is undefined for these data: the residual "
                                         "variance exceeds the subject and rater variances "
                                         "(agreement far below chance); report ICC(A,1)")
            value = (msr - mse) / den_k
        if rho >= 1.0 - 1e-12 or (mse == 0 and msc == 0):
            ci = (value, value)
        else:
            a = k * rho / (n * (1 - rho))
            b = 1 + k * rho * (n - 1) / (n * (1 - rho))
            den_v = (a * msc) ** 2 / (k - 1) + (b * mse) ** 2 / ((n - 1) * (k - 1))
            v = (a * msc + b * mse) ** 2 / den_v if den_v > 0 else float((n - 1) * (k - 1))
            # A negative ICC(A,1) makes a < 0 and v can fall towards 0, where the F quantile
            # is infinite; v is kept at 1 df or more (only such negative estimates are affected).
            v = max(v, 1.0) if math.isfinite(v) else float((n - 1) * (k - 1))
            f_star = _f_ppf(1 - alpha / 2, n - 1, v)
            f_star2 = _f_ppf(1 - alpha / 2, v, n - 1)
            lo = n * (msr - f_star * mse) / (f_star * (k * msc + (k * n - k - n) * mse) + n * msr)
            hi = n * (f_star2 * msr - mse) / (k * msc + (k * n - k - n) * mse + n * f_star2 * msr)
            if kind == "A,k":
                if 1 + (k - 1) * lo <= 0:
                    raise UndefinedStatistic(
                        f"{what}: the lower confidence limit is unbounded for these data "
                        f"(ICC(A,1)'s lower limit {lo:.3g} <= -1/(k-1)); report ICC(A,1)")
                lo, hi = k * lo / (1 + (k - 1) * lo), k * hi / (1 + (k - 1) * hi)
            ci = (lo, hi)
            parts["v"] = v
    lo, hi = (float(c) for c in ci)
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise UndefinedStatistic(f"{what}: the F interval is undefined for these data "
                                 f"(MSR={msr:.3g}, MSC={msc:.3g}, MSE={mse:.3g})")
    lo, hi = min(lo, value, 1.0), min(max(hi, value), 1.0)
    return Agreement(float(value), (lo, hi), n, f"{_ICC_NAMES[kind]}, F-based CI (McGraw & Wong "
                     "1996)", confidence, parts)


_LIMIT_SE = ("1999", "1986")


def bland_altman(x1: Sequence[float], x2: Sequence[float], *, confidence: float = 0.95,
                 sd_multiplier: float | None = None,
                 limit_se: Literal["1999", "1986"] = "1999") -> LimitsOfAgreement:
    """Bland & Altman limits of agreement of paired measurements, differences x1 - x2.

    Limits: bias -/+ ``sd_multiplier`` * SD (default z_0.975 = 1.96; the 1986 paper used 2).
    CIs use t on n-1 df with SE(bias) = SD/sqrt(n) and SE(limit) = SD*sqrt(1/n + z^2/(2(n-1)))
    (Bland & Altman 1999, section 4.1), or the 1986 approximation SD*sqrt(3/n) with
    ``limit_se="1986"``. Pairs with a missing value are dropped; n >= 2 pairs needed.
    """
    confidence = _check_confidence(confidence)
    if limit_se not in _LIMIT_SE:
        raise InvalidOption(f"limit_se must be '1999' or '1986', got {limit_se!r}")
    if sd_multiplier is not None and not (isinstance(sd_multiplier, (int, float))
                                          and 0 < sd_multiplier < math.inf):
        raise InvalidOption(f"sd_multiplier must be a positive number, got {sd_multiplier!r}")
    what = "Bland-Altman limits of agreement"
    a1, a2 = _as_array(x1, 1, what), _as_array(x2, 1, what)
    if len(a1) != len(a2):
        raise MismatchedRatings(f"{what}: {len(a1)} values for rater 1 and {len(a2)} for rater 2;"
                                " give one value per subject each, None where missing")
    v1, v2 = _numeric(a1), _numeric(a2)
    if v1 is None or v2 is None:
        raise InvalidRatings(f"{what} needs numeric measurements; got labels")
    if np.isinf(v1).any() or np.isinf(v2).any():
        raise InvalidRatings(f"{what}: infinite value; use None or NaN for a missing one")
    keep = ~(np.isnan(v1) | np.isnan(v2))
    diff = v1[keep] - v2[keep]
    n = len(diff)
    if n < 2:
        raise TooFewSubjects(*_message("too_few_pairs", what=what, n=n,
                                       dropped=int((~keep).sum())))
    bias = float(diff.mean())
    sd = float(diff.std(ddof=1))
    z = float(sd_multiplier) if sd_multiplier is not None else _z(0.95)
    t = float(_t_ppf(0.5 + confidence / 2, n - 1))
    se_bias = sd / math.sqrt(n)
    se_limit = sd * (math.sqrt(3.0 / n) if limit_se == "1986"
                     else math.sqrt(1.0 / n + z * z / (2.0 * (n - 1))))
    lower, upper = bias - z * sd, bias + z * sd
    return LimitsOfAgreement(
        bias, (bias - t * se_bias, bias + t * se_bias), sd,
        lower, (lower - t * se_limit, lower + t * se_limit),
        upper, (upper - t * se_limit, upper + t * se_limit),
        n, confidence, z,
        f"Bland-Altman limits of agreement (bias -/+ {z:.2f} SD), t CIs (SE of limits: Bland & "
        f"Altman {limit_se})",
        {"se_bias": se_bias, "se_limit": se_limit, "dropped": int((~keep).sum())})
