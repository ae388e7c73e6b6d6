"""Trial-level agreement and reader monitoring from locked reads (pure: no Qt, no database).

What a trial's imaging charter reports (GRRAS, Kottner et al. 2011) and what a central-reading
team watches while the trial runs:

- inter-reader agreement per field, with the statistic for the field's type: nominal fields
  (presence, choices without an order, yes/no, multi-choice as sets) get percent agreement,
  Cohen's kappa, PABAK (Brennan-Prediger) and Gwet's AC1, the prevalence of the positive answer
  and the kappa-paradox flag; ordinal fields (confidence, choices with an ordinal rule, whole
  numbers) get quadratic-weighted kappa; numeric fields get ICC(A,1) and Bland-Altman limits.
  Krippendorff's alpha (bootstrap CI) covers every field and any number of readers;
- intra-reader agreement from the hidden re-reads, per reader and finding, with the interval
  between the two reads;
- reader monitoring: adjudication rate per reader (and per finding), the adjudicator agreement
  rate (how often the adjudicator sided with the reader), the Reader Disagreement Index
  (cases where the adjudicator did not side with the reader / cases read), and a p-chart of each
  reader's discordance rate over time with 3-sigma limits;
- read duration and agreement by position in the reader's worklist (order effects, fatigue);
- a GRRAS-style summary paragraph.

A statistic that is undefined on the data (one category only, too few cases) is reported with
its reason (`Figure.error`), never as NaN.
"""
from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from adjudication import agreement as stats
from adjudication.conditions import is_empty
from adjudication.discordance import NoDiscordance, OrdinalDifference
from adjudication.paradigms import canonical_value
from adjudication.protocol import Field, FieldType, Protocol

__all__ = ["AdjudicationRow", "AgreementReport", "DiscordanceRow", "FieldAgreement", "Figure",
           "IntraReader", "OrderBin", "PPoint", "ReadRow", "ReaderMonitor", "field_kind",
           "trial_agreement"]

#: resamples of the bootstrap CIs (Krippendorff's alpha)
N_BOOT = 1000


# -- input ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ReadRow:
    """One locked read as the figures need it (reader by pseudonymous name or id)."""

    read_id: int
    case_id: int
    reader: str
    values: Mapping[str, Any]
    is_reread: bool = False
    signed_at: float = 0.0          # epoch seconds
    active_seconds: float = 0.0
    position: int = 0               # 1-based position in the reader's worklist
    timepoint: str = ""
    modalities: frozenset[str] = frozenset()
    protocol_version: int = 0
    primary: bool = True            # False for a 2-of-3 third read
    subject: str = ""


@dataclass(frozen=True)
class DiscordanceRow:
    """A case's standing discordance evaluation."""

    case_id: int
    fields: tuple[str, ...]
    evaluated_at: float


@dataclass(frozen=True)
class AdjudicationRow:
    """A decided adjudication: the read behind each letter and each item's choice."""

    case_id: int
    letters: Mapping[str, int]       # letter -> read id
    choices: Mapping[str, str]       # field -> "A" / "B" / "C" / "own"


# -- output -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Figure:
    """One statistic, or why it is undefined on these data."""

    name: str
    result: stats.Agreement | None = None
    error: str | None = None

    @property
    def value(self) -> float | None:
        return None if self.result is None else self.result.value


@dataclass(frozen=True)
class FieldAgreement:
    key: str
    label: str
    finding: str | None
    kind: str                        # nominal | ordinal | numeric
    n: int                           # cases with two primary reads answering the field
    figures: tuple[Figure, ...]      # percent, kappa / weighted kappa, PABAK, AC1, ICC, alpha
    prevalence: float | None = None  # share of "present" (presence) or of the commonest answer
    paradox: bool = False
    limits: stats.LimitsOfAgreement | None = None
    limits_error: str | None = None

    def figure(self, name: str) -> Figure | None:
        return next((f for f in self.figures if f.name == name), None)

    @property
    def headline(self) -> Figure | None:
        """The statistic a forest plot shows for the field."""
        name = {"nominal": "kappa", "ordinal": "weighted kappa", "numeric": "ICC(A,1)"}[self.kind]
        return self.figure(name)


@dataclass(frozen=True)
class IntraReader:
    reader: str
    key: str
    label: str
    n: int
    figures: tuple[Figure, ...]
    interval_days: float | None      # median days between the original read and its re-read


@dataclass(frozen=True)
class PPoint:
    """One period of a reader's p-chart."""

    period: str
    n: int
    discordant: int
    p: float
    lcl: float
    ucl: float
    out: bool


@dataclass(frozen=True)
class ReaderMonitor:
    reader: str
    cases_read: int                  # cases with a standing discordance evaluation
    adjudicated: int                 # of those, discordant ones
    adjudication_rate: float | None
    by_finding: Mapping[str, float]  # finding -> share of the reader's cases discordant on it
    decided: int                     # decided adjudications of the reader's cases
    sided: int                       # items where the adjudicator chose the reader's value
    items: int                       # items decided in those adjudications
    agreement_rate: float | None     # sided / items
    disagreed_cases: int             # cases where the adjudicator did not fully side with them
    rdi: float | None                # disagreed_cases / cases_read
    pchart: tuple[PPoint, ...]
    centre: float | None


@dataclass(frozen=True)
class OrderBin:
    first: int
    last: int
    reads: int
    mean_seconds: float | None
    cases: int                       # evaluated cases among those reads
    concordant_rate: float | None


@dataclass(frozen=True)
class AgreementReport:
    fields: tuple[FieldAgreement, ...]
    intra: tuple[IntraReader, ...]
    readers: tuple[ReaderMonitor, ...]
    order: tuple[OrderBin, ...]
    n_cases: int
    n_subjects: int
    n_readers: int
    n_rereads: int
    summary: str
    filters: Mapping[str, Any] = field(default_factory=dict)


# -- helpers ----------------------------------------------------------------------------------
def field_kind(f: Field) -> str | None:
    """nominal / ordinal / numeric, or None for a field agreement is not computed on."""
    if f.type is FieldType.text:
        return None
    if f.type is FieldType.number:
        return "numeric"
    if f.type in (FieldType.confidence, FieldType.integer):
        return "ordinal"
    if f.type is FieldType.choice and isinstance(f.discordance, OrdinalDifference):
        return "ordinal"
    if isinstance(f.discordance, NoDiscordance) and f.type is not FieldType.confidence:
        return None
    return "nominal"


def _safe(name: str, fn: Any, *args: Any, **kwargs: Any) -> Figure:
    try:
        return Figure(name, fn(*args, **kwargs))
    except stats.AgreementError as exc:
        return Figure(name, None, str(exc))


def _label(v: Any) -> Any:
    """A hashable category for a value (multi-choice answers as their sorted set)."""
    if isinstance(v, (list, tuple, set, frozenset)):
        return canonical_value(v)
    return v


def _ordered(f: Field) -> list[Any] | None:
    if f.choices:
        return [c.value for c in f.choices]
    return None


def _pair_figures(f: Field, kind: str, a: list[Any], b: list[Any]) -> tuple[tuple[Figure, ...],
                                                                          float | None, bool]:
    """Two-rater figures for one field; returns (figures, prevalence, paradox)."""
    figures: list[Figure] = []
    prevalence = None
    paradox = False
    if kind == "numeric":
        import numpy as np

        ratings = np.array([a, b], dtype=float).T
        figures.append(_safe("ICC(A,1)", stats.icc, ratings, "A,1"))
        return tuple(figures), None, False
    # The protocol's choices fix the category set (an unused answer still counts, as the
    # readers could have chosen it); multi-choice answers are compared as whole sets.
    cats = _ordered(f) if f.type is not FieldType.multi_choice else None
    if f.type is FieldType.boolean:
        cats = [True, False]
    ra, rb = [_label(v) for v in a], [_label(v) for v in b]
    if cats is not None:
        seen = set(ra) | set(rb)
        cats = list(cats) + sorted((seen - set(cats)), key=str)
    figures.append(_safe("percent", stats.percent_agreement, ra, rb))
    if kind == "ordinal":
        figures.append(_safe("weighted kappa", stats.cohen_kappa, ra, rb, "quadratic",
                             categories=cats))
    else:
        figures.append(_safe("kappa", stats.cohen_kappa, ra, rb, categories=cats))
        figures.append(_safe("PABAK", stats.pabak, ra, rb, categories=cats))
        figures.append(_safe("AC1", stats.gwet_ac1, ra, rb, categories=cats))
        both = ra + rb
        if f.type is FieldType.presence:
            prevalence = both.count("present") / len(both) if both else None
        elif both:
            prevalence = max(both.count(x) for x in set(both)) / len(both)
        try:
            paradox = stats.kappa_paradox(ra, rb, categories=cats).flagged
        except stats.AgreementError:
            paradox = False
    return tuple(figures), prevalence, paradox


def _alpha(kind: str, f: Field, table: list[list[Any]], seed: int) -> Figure:
    """Krippendorff's alpha over every primary read of the cases (raters x cases, NaN gaps)."""
    import numpy as np

    level = {"nominal": "nominal", "ordinal": "ordinal", "numeric": "interval"}[kind]
    if kind == "numeric":
        data = np.array([[np.nan if v is None else float(v) for v in row] for row in table])
        return _safe("alpha", stats.krippendorff_alpha, data, level, n_boot=N_BOOT, seed=seed)
    order = _ordered(f) or []
    codes: dict[Any, int] = {c: i for i, c in enumerate(order)}
    for row in table:
        for v in row:
            if v is not None and _label(v) not in codes:
                codes[_label(v)] = len(codes)
    data = np.array([[np.nan if v is None else float(codes[_label(v)]) for v in row]
                     for row in table])
    return _safe("alpha", stats.krippendorff_alpha, data, level, n_boot=N_BOOT, seed=seed)


def _answered(read: ReadRow, key: str) -> bool:
    return not is_empty(read.values.get(key))


def _findings_of(protocol: Protocol) -> dict[str, str]:
    """presence key -> finding id."""
    return {f"{f.id}.presence": f.id for f in protocol.findings if f.presence}


# -- the report -------------------------------------------------------------------------------
def trial_agreement(protocol: Protocol, reads: Sequence[ReadRow],
                    discordances: Sequence[DiscordanceRow] = (),
                    adjudications: Sequence[AdjudicationRow] = (), *,
                    period_days: float = 7.0, order_bins: int = 5, seed: int = 0,
                    filters: Mapping[str, Any] | None = None) -> AgreementReport:
    """Every trial-level figure from locked reads (see the module docstring)."""
    primary = [r for r in reads if not r.is_reread and r.primary]
    by_case: dict[int, list[ReadRow]] = defaultdict(list)
    # rater 1 / rater 2 of a case: its readers in name order (a fixed convention: kappa
    # depends on which read of each pair counts as whose)
    for r in sorted(primary, key=lambda r: (r.case_id, r.reader, r.read_id)):
        by_case[r.case_id].append(r)
    readers = sorted({r.reader for r in reads})
    max_raters = max((len(v) for v in by_case.values()), default=0)

    fields_out: list[FieldAgreement] = []
    for key, finding, f in protocol.iter_fields():
        kind = field_kind(f)
        if kind is None:
            continue
        pairs = [(rs[0].values.get(key), rs[1].values.get(key)) for rs in by_case.values()
                 if len(rs) >= 2 and _answered(rs[0], key) and _answered(rs[1], key)]
        a, b = [p[0] for p in pairs], [p[1] for p in pairs]
        if kind == "numeric":
            ok = [(x, y) for x, y in pairs if isinstance(x, (int, float)) and
                  isinstance(y, (int, float)) and not isinstance(x, bool)]
            a, b = [x for x, _ in ok], [y for _, y in ok]
        figures, prevalence, paradox = _pair_figures(f, kind, a, b)
        limits = limits_error = None
        if kind == "numeric":
            try:
                limits = stats.bland_altman(a, b)
            except stats.AgreementError as exc:
                limits_error = str(exc)
        table = [[rs[i].values.get(key) if i < len(rs) and _answered(rs[i], key) else None
                  for rs in by_case.values()] for i in range(max_raters)]
        figures = figures + (_alpha(kind, f, table, seed),)
        fields_out.append(FieldAgreement(key, protocol.label_for(key),
                                         finding.id if finding else None, kind, len(a),
                                         figures, prevalence, paradox, limits, limits_error))

    intra = _intra(protocol, reads)
    monitors = _monitors(protocol, reads, discordances, adjudications, period_days)
    order = _order(reads, discordances, order_bins)
    subjects = {r.subject for r in primary}
    report = AgreementReport(tuple(fields_out), intra, monitors, order, len(by_case),
                             len(subjects), len(readers),
                             sum(1 for r in reads if r.is_reread), "", dict(filters or {}))
    return _with_summary(report, protocol, reads)


def _intra(protocol: Protocol, reads: Sequence[ReadRow]) -> tuple[IntraReader, ...]:
    originals = {(r.case_id, r.reader): r for r in reads if not r.is_reread}
    rereads = [r for r in reads if r.is_reread and (r.case_id, r.reader) in originals]
    out = []
    presence = [(f"{f.id}.presence", f) for f in protocol.findings if f.presence]
    for reader in sorted({r.reader for r in rereads}):
        mine = [(originals[(r.case_id, reader)], r) for r in rereads if r.reader == reader]
        gaps = [abs(b.signed_at - a.signed_at) / 86400.0 for a, b in mine if a.signed_at and b.signed_at]
        for key, finding in presence:
            pairs = [(a.values.get(key), b.values.get(key)) for a, b in mine
                     if _answered(a, key) and _answered(b, key)]
            x, y = [p[0] for p in pairs], [p[1] for p in pairs]
            cats = [c.value for c in finding.presence_field.choices]
            figures = (_safe("percent", stats.percent_agreement, x, y),
                       _safe("kappa", stats.cohen_kappa, x, y, categories=cats or None))
            out.append(IntraReader(reader, key, protocol.label_for(key), len(pairs), figures,
                                   statistics.median(gaps) if gaps else None))
    return tuple(out)


def _monitors(protocol: Protocol, reads: Sequence[ReadRow], discordances: Sequence[DiscordanceRow],
              adjudications: Sequence[AdjudicationRow], period_days: float
              ) -> tuple[ReaderMonitor, ...]:
    findings = {f.id for f in protocol.findings}
    disc = {d.case_id: d for d in discordances}
    adjudicated_by_case = {a.case_id: a for a in adjudications}
    primary = [r for r in reads if not r.is_reread and r.primary]
    out = []
    for reader in sorted({r.reader for r in primary}):
        mine = [r for r in primary if r.reader == reader and r.case_id in disc]
        n = len(mine)
        discordant = [r for r in mine if disc[r.case_id].fields]
        per_finding: dict[str, float] = {}
        if n:
            for fid in sorted(findings):
                hits = sum(1 for r in mine if any(k.split(".")[0] == fid
                                                  for k in disc[r.case_id].fields))
                per_finding[fid] = hits / n
        sided = items = decided = disagreed = 0
        for r in mine:
            adj = adjudicated_by_case.get(r.case_id)
            if adj is None:
                continue
            letter = next((x for x, rid in adj.letters.items() if rid == r.read_id), None)
            if letter is None:
                continue
            decided += 1
            mine_sided = sum(1 for c in adj.choices.values() if c == letter)
            sided += mine_sided
            items += len(adj.choices)
            if mine_sided < len(adj.choices):
                disagreed += 1
        centre = len(discordant) / n if n else None
        out.append(ReaderMonitor(
            reader, n, len(discordant), centre, per_finding, decided, sided, items,
            sided / items if items else None, disagreed, disagreed / n if n else None,
            _pchart(mine, disc, centre, period_days), centre))
    return tuple(out)


def _pchart(mine: Sequence[ReadRow], disc: Mapping[int, DiscordanceRow], centre: float | None,
            period_days: float) -> tuple[PPoint, ...]:
    """A p-chart of the reader's discordance rate per period of signing (3-sigma limits
    around the reader's overall rate, from each period's own n)."""
    if not mine or centre is None:
        return ()
    start = min(r.signed_at for r in mine)
    periods: dict[int, list[ReadRow]] = defaultdict(list)
    for r in mine:
        periods[int((r.signed_at - start) // (period_days * 86400.0))].append(r)
    out = []
    for k in sorted(periods):
        group = periods[k]
        n = len(group)
        d = sum(1 for r in group if disc[r.case_id].fields)
        p = d / n
        sigma = math.sqrt(centre * (1 - centre) / n)
        lcl, ucl = max(0.0, centre - 3 * sigma), min(1.0, centre + 3 * sigma)
        day0 = k * period_days
        out.append(PPoint(f"days {day0:g}-{day0 + period_days:g}", n, d, p, lcl, ucl,
                          p < lcl or p > ucl))
    return tuple(out)


def _order(reads: Sequence[ReadRow], discordances: Sequence[DiscordanceRow], bins: int
           ) -> tuple[OrderBin, ...]:
    disc = {d.case_id: d for d in discordances}
    primary = [r for r in reads if not r.is_reread and r.primary and r.position > 0]
    if not primary:
        return ()
    top = max(r.position for r in primary)
    width = max(1, math.ceil(top / max(1, bins)))
    out = []
    for first in range(1, top + 1, width):
        last = first + width - 1
        group = [r for r in primary if first <= r.position <= last]
        if not group:
            continue
        secs = [r.active_seconds for r in group if r.active_seconds > 0]
        evaluated = [r for r in group if r.case_id in disc]
        concordant = sum(1 for r in evaluated if not disc[r.case_id].fields)
        out.append(OrderBin(first, last, len(group), statistics.fmean(secs) if secs else None,
                            len(evaluated), concordant / len(evaluated) if evaluated else None))
    return tuple(out)


def _fmt(fig: Figure | None) -> str:
    if fig is None:
        return "not computed"
    if fig.result is None:
        return f"undefined ({fig.error})"
    r = fig.result
    return f"{r.value:.2f} (95% CI {r.ci[0]:.2f} to {r.ci[1]:.2f})"


def _with_summary(report: AgreementReport, protocol: Protocol, reads: Sequence[ReadRow]
                  ) -> AgreementReport:
    """A GRRAS-style paragraph (Kottner et al. 2011): raters, subjects, replicates, blinding,
    interval between reads, statistics and CIs."""
    intervals = [i.interval_days for i in report.intra if i.interval_days is not None]
    presence = [f for f in report.fields if f.key.endswith(".presence")]
    lines = [
        f"Inter-reader agreement was assessed on {report.n_cases} cases "
        f"({report.n_subjects} subjects) read independently by {report.n_readers} readers "
        f"under protocol {protocol.id} {protocol.version}; each case was read by "
        f"{protocol.readers_per_case} readers blinded to patient identity, calendar dates, "
        "clinical data and each other's reads, in a per-reader randomised order.",
    ]
    if report.n_rereads:
        gap = f", a median of {statistics.median(intervals):.0f} days after the first read" \
            if intervals else ""
        lines.append(f"Intra-reader agreement was assessed on {report.n_rereads} hidden "
                     f"re-reads{gap} (washout {protocol.rereads.washout_days} days).")
    lines.append("Nominal findings are reported as percent agreement with Cohen's kappa "
                 "(asymptotic 95% CI), PABAK and Gwet's AC1 (Gwet's variance, t on n-1 df); "
                 "ordinal scales with quadratic-weighted kappa; measurements with ICC(A,1) "
                 "(two-way random, absolute agreement, F-based CI) and Bland-Altman limits; "
                 f"Krippendorff's alpha with {N_BOOT} bootstrap resamples over cases for every "
                 "field.")
    for f in presence:
        lines.append(f"{f.label}: n={f.n}, percent agreement {_fmt(f.figure('percent'))}, "
                     f"kappa {_fmt(f.figure('kappa'))}, AC1 {_fmt(f.figure('AC1'))}"
                     + (" (kappa paradox: prevalence-adjusted figures preferred)"
                        if f.paradox else "") + ".")
    from dataclasses import replace

    return replace(report, summary="\n".join(lines))
