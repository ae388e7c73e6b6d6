"""Agreement statistics (adjudication/agreement.py): equal to statsmodels and the krippendorff
package on seeded tables, published worked examples reproduced, edge cases named, and a property
test that no small table yields NaN or a foreign exception. Pure: no Qt, no database."""
from __future__ import annotations

import math
from dataclasses import FrozenInstanceError

import krippendorff
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats
from statsmodels.stats.inter_rater import aggregate_raters, cohens_kappa
from statsmodels.stats.inter_rater import fleiss_kappa as sm_fleiss_kappa

from adjudication.agreement import (
    Agreement,
    AgreementError,
    InvalidOption,
    InvalidRatings,
    MismatchedRatings,
    TooFewRaters,
    TooFewSubjects,
    UndefinedStatistic,
    UnknownCategory,
    bland_altman,
    cohen_kappa,
    fleiss_kappa,
    gwet_ac1,
    icc,
    kappa_paradox,
    krippendorff_alpha,
    pabak,
    percent_agreement,
    prevalence_bias_indices,
)

TOL = 1e-9


def pairs_from_table(table) -> tuple[list[int], list[int]]:
    """Rater 1 (rows) and rater 2 (columns) ratings reproducing a contingency table."""
    r1: list[int] = []
    r2: list[int] = []
    for i, row in enumerate(table):
        for j, count in enumerate(row):
            r1 += [i] * count
            r2 += [j] * count
    return r1, r2


def correlated_pairs(rng, n: int, q: int, noise: float = 0.4):
    truth = rng.integers(0, q, n)
    r1 = np.where(rng.random(n) < noise, rng.integers(0, q, n), truth)
    r2 = np.where(rng.random(n) < noise, rng.integers(0, q, n), truth)
    return r1, r2


# --- statsmodels: Cohen's kappa and Fleiss' kappa -------------------------------------------

@pytest.mark.parametrize("n, q", [(12, 2), (37, 3), (200, 5), (60, 4)])
@pytest.mark.parametrize("weights", [None, "linear", "quadratic"])
def test_cohen_kappa_and_ci_equal_statsmodels(n, q, weights):
    rng = np.random.default_rng(n * 10 + q)
    for _ in range(5):
        r1, r2 = correlated_pairs(rng, n, q)
        table = np.zeros((q, q))
        np.add.at(table, (r1, r2), 1)
        ref = cohens_kappa(table, wt=weights) if weights else cohens_kappa(table)
        ours = cohen_kappa(r1, r2, weights=weights, categories=range(q))
        assert ours.value == pytest.approx(ref.kappa, abs=TOL)
        assert ours.ci[0] == pytest.approx(max(ref.kappa_low, -1.0), abs=TOL)
        assert ours.ci[1] == pytest.approx(min(ref.kappa_upp, 1.0), abs=TOL)
        assert ours.extra["se"] == pytest.approx(ref.std_kappa, abs=TOL)
        assert ours.n == n


def test_cohen_kappa_other_confidence_levels_equal_statsmodels_alpha():
    rng = np.random.default_rng(3)
    r1, r2 = correlated_pairs(rng, 80, 3)
    table = np.zeros((3, 3))
    np.add.at(table, (r1, r2), 1)
    for confidence in (0.8, 0.9, 0.99):
        ref = cohens_kappa(table, wt="linear")
        z = stats.norm.isf((1 - confidence) / 2)
        ours = cohen_kappa(r1, r2, weights="linear", confidence=confidence)
        assert ours.ci[0] == pytest.approx(ref.kappa - z * ref.std_kappa, abs=TOL)
        assert ours.ci[1] == pytest.approx(ref.kappa + z * ref.std_kappa, abs=TOL)
        assert ours.confidence == confidence


def test_weighted_kappa_counts_an_unused_category_through_categories():
    """An unused category between used ones changes the distances (mild-severe becomes two
    steps, severe-extreme stays one): equal to statsmodels with an empty row and column, and
    different from the kappa on the observed categories only."""
    r1 = ["mild", "mild", "severe", "extreme", "mild", "severe", "extreme", "severe", "mild",
          "extreme"]
    r2 = ["mild", "severe", "severe", "severe", "mild", "mild", "extreme", "extreme", "mild",
          "severe"]
    order = ["mild", "moderate", "severe", "extreme"]
    codes = {label: i for i, label in enumerate(order)}
    table = np.zeros((4, 4))
    np.add.at(table, ([codes[x] for x in r1], [codes[x] for x in r2]), 1)
    ours = cohen_kappa(r1, r2, weights="linear", categories=order)
    ref = cohens_kappa(table, wt="linear")
    assert ours.value == pytest.approx(ref.kappa, abs=TOL)
    assert ours.ci == pytest.approx((ref.kappa_low, min(ref.kappa_upp, 1.0)), abs=TOL)
    assert ours.extra["categories"] == tuple(order)
    observed = cohen_kappa(r1, r2, weights="linear", categories=["mild", "severe", "extreme"])
    assert observed.value != pytest.approx(ours.value, abs=1e-6)


def test_weighted_kappa_follows_the_order_of_categories():
    """Weights follow categories= order, not the alphabet: labels mapped to 0..2 in that order
    give statsmodels' value."""
    order = ["absent", "indeterminate", "present"]
    rng = np.random.default_rng(8)
    c1, c2 = correlated_pairs(rng, 50, 3)
    labels = np.array(["present", "absent", "indeterminate"], dtype=object)   # not in order
    r1, r2 = labels[c1], labels[c2]
    codes1 = [order.index(x) for x in r1]
    codes2 = [order.index(x) for x in r2]
    table = np.zeros((3, 3))
    np.add.at(table, (codes1, codes2), 1)
    ours = cohen_kappa(list(r1), list(r2), weights="quadratic", categories=order)
    assert ours.value == pytest.approx(cohens_kappa(table, wt="quadratic").kappa, abs=TOL)


@pytest.mark.parametrize("n, raters, q", [(10, 2, 2), (50, 3, 3), (208, 3, 4), (31, 5, 5)])
def test_fleiss_kappa_equals_statsmodels(n, raters, q):
    rng = np.random.default_rng(n + raters + q)
    for _ in range(5):
        truth = rng.integers(0, q, n)
        data = np.where(rng.random((n, raters)) < 0.35, rng.integers(0, q, (n, raters)),
                        truth[:, None])
        ours = fleiss_kappa(data, n_boot=200)
        assert ours.value == pytest.approx(sm_fleiss_kappa(aggregate_raters(data)[0]), abs=TOL)
        assert ours.n == n and ours.extra["raters"] == raters


def test_fleiss_kappa_with_string_labels_equals_the_coded_table():
    rng = np.random.default_rng(11)
    codes = rng.integers(0, 3, (40, 3))
    labels = np.array(["absent", "indeterminate", "present"], dtype=object)[codes]
    ours = fleiss_kappa(labels.tolist(), n_boot=100)
    assert ours.value == pytest.approx(sm_fleiss_kappa(aggregate_raters(codes)[0]), abs=TOL)
    assert ours.extra["categories"] == ("absent", "indeterminate", "present")


# --- the krippendorff package ---------------------------------------------------------------

def reliability_data(rng, raters: int, units: int, q: int, missing: float) -> np.ndarray:
    truth = rng.integers(1, q + 1, units)
    data = np.where(rng.random((raters, units)) < 0.3, rng.integers(1, q + 1, (raters, units)),
                    truth[None, :]).astype(float)
    data[rng.random(data.shape) < missing] = np.nan
    return data


@pytest.mark.parametrize("raters, units, q, missing", [
    (2, 15, 2, 0.0), (3, 40, 3, 0.15), (4, 100, 5, 0.3), (6, 25, 4, 0.5), (3, 208, 30, 0.1)])
@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval"])
def test_krippendorff_alpha_equals_the_krippendorff_package(raters, units, q, missing, level):
    rng = np.random.default_rng(raters * 1000 + units + q)
    for _ in range(4):
        data = reliability_data(rng, raters, units, q, missing)
        ref = krippendorff.alpha(reliability_data=data, level_of_measurement=level)
        ours = krippendorff_alpha(data, level, n_boot=100)
        assert ours.value == pytest.approx(ref, abs=TOL)
        assert ours.n == int(((~np.isnan(data)).sum(axis=0) >= 2).sum())


def test_krippendorff_interval_on_continuous_measurements_equals_the_package():
    """HU-like values: about a hundred distinct values (ordinal then sums per unit instead of
    per category pair), an offset far from zero. Whole numbers keep the reference package's
    units x values x values array small."""
    rng = np.random.default_rng(21)
    truth = rng.normal(1000.0, 15.0, 208)
    data = np.round(truth[None, :] + rng.normal(0, 4.0, (3, 208)))
    data[rng.random(data.shape) < 0.1] = np.nan
    for level in ("interval", "ordinal"):
        ref = krippendorff.alpha(reliability_data=data, level_of_measurement=level)
        assert krippendorff_alpha(data, level, n_boot=50).value == pytest.approx(ref, abs=TOL)


def test_krippendorff_ordinal_labels_in_the_order_of_categories():
    """The krippendorff package's own documented example (Krippendorff's 'very low'..'very
    high' data): ordinal alpha 0.815 with the ordered value domain, nominal 0.743."""
    nan = np.nan
    data = [["very low", "low", "mid", "mid", "low", "very low", "high", "very low", "low", nan,
             nan, nan],
            ["very low", "low", "mid", "mid", "low", "low", "high", "very low", "low", "very high",
             nan, "mid"],
            [nan, "mid", "mid", "mid", "low", "mid", "high", "low", "low", "very high", "very low",
             nan],
            ["very low", "low", "mid", "mid", "low", "high", "high", "very low", "low",
             "very high", "very low", nan]]
    order = ["very low", "low", "mid", "high", "very high"]
    ordinal = krippendorff_alpha(data, "ordinal", categories=order, n_boot=100)
    assert round(ordinal.value, 3) == 0.815
    numeric = np.array([[order.index(x) if isinstance(x, str) else nan for x in row]
                        for row in data])
    assert ordinal.value == pytest.approx(
        krippendorff.alpha(reliability_data=numeric, level_of_measurement="ordinal"), abs=TOL)
    assert round(krippendorff_alpha(data, "nominal", n_boot=100).value, 3) == 0.743


def test_krippendorff_ignores_units_without_a_pair_and_all_missing_units():
    data = np.array([[1, 2, np.nan, np.nan, 3, 1],
                     [1, 2, 2, np.nan, 3, 2],
                     [np.nan, 2, np.nan, np.nan, 3, 1]])
    ours = krippendorff_alpha(data, "nominal", n_boot=100)
    assert ours.n == 4                      # units 2 (one rating) and 3 (none) are not pairable
    assert ours.extra["units"] == 6
    ref = krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")
    assert ours.value == pytest.approx(ref, abs=TOL)


# --- the bootstrap --------------------------------------------------------------------------

def naive_percentile_ci(statistic, table, n_boot, seed, confidence=0.95):
    """The documented resampling done one resample at a time: subject indices
    default_rng(seed).integers(0, n, size=(n_boot, n)), the statistic on each resampled
    table, the percentile interval of the defined ones."""
    n = len(table)
    draws = np.random.default_rng(seed).integers(0, n, size=(n_boot, n))
    reps = []
    for rows in draws:
        try:
            value = statistic(table[rows])
        except (ValueError, ZeroDivisionError):
            continue
        if np.isfinite(value):
            reps.append(value)
    alpha = 1 - confidence
    return tuple(np.quantile(reps, [alpha / 2, 1 - alpha / 2])), n_boot - len(reps)


def test_fleiss_bootstrap_is_the_percentile_interval_of_resampled_tables():
    rng = np.random.default_rng(5)
    truth = rng.integers(0, 3, 30)
    data = np.where(rng.random((30, 3)) < 0.3, rng.integers(0, 3, (30, 3)), truth[:, None])
    ours = fleiss_kappa(data, n_boot=300, seed=7)
    expected, undefined = naive_percentile_ci(
        lambda t: sm_fleiss_kappa(aggregate_raters(t, n_cat=3)[0]), data, 300, 7)
    assert ours.ci == pytest.approx(expected, abs=TOL)
    assert ours.extra["boot_undefined"] == undefined
    assert ours.method == ("Fleiss' kappa, percentile bootstrap CI (300 resamples of subjects, "
                           "seed 7)")


@pytest.mark.parametrize("level, q", [("nominal", 4), ("ordinal", 4), ("interval", 4),
                                      ("ordinal", 20)])
def test_krippendorff_bootstrap_is_the_percentile_interval_of_resampled_units(level, q):
    """q = 20: many ordinal categories, where alpha is summed per unit, not per category pair."""
    rng = np.random.default_rng(9)
    data = reliability_data(rng, 3, 25, q, 0.0)     # every unit pairable: units = subjects
    ours = krippendorff_alpha(data, level, n_boot=200, seed=3)
    expected, undefined = naive_percentile_ci(
        lambda units: krippendorff.alpha(reliability_data=units.T, level_of_measurement=level),
        data.T, 200, 3)
    assert ours.ci == pytest.approx(expected, abs=TOL)
    assert ours.extra["boot_undefined"] == undefined


def test_bootstrap_is_reproducible_and_seeded():
    rng = np.random.default_rng(2)
    data = rng.integers(0, 3, (40, 3))
    a = fleiss_kappa(data, seed=1)
    b = fleiss_kappa(data, seed=1)
    c = fleiss_kappa(data, seed=2)
    assert a == b
    assert a.ci != c.ci and a.value == c.value
    assert a.extra["n_boot"] == 1000 and a.extra["seed"] == 1


def test_bootstrap_drops_undefined_resamples_and_says_so():
    """A rare category: some resamples draw only subjects rated 'absent' by everyone, where
    Fleiss' kappa is 0/0; they are left out and counted."""
    data = [["absent"] * 3] * 9 + [["present", "present", "absent"]]
    result = fleiss_kappa(data, n_boot=500, seed=0)
    assert 0 < result.extra["boot_undefined"] < 500
    assert result.ci[0] <= result.value <= result.ci[1]


# --- published worked examples --------------------------------------------------------------

SHROUT_FLEISS = np.array([[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9],
                          [6, 2, 4, 7]], float)


@pytest.mark.parametrize("kind, published", [
    ("1", 0.17), ("A,1", 0.29), ("C,1", 0.71), ("A,k", 0.62), ("C,k", 0.91), ("k", 0.44)])
def test_icc_reproduces_shrout_fleiss_1979_table_2(kind, published):
    """Shrout & Fleiss (1979) Table 2 (6 targets x 4 judges) and their Table 4 values:
    ICC(1,1)=.17, ICC(2,1)=.29, ICC(3,1)=.71, ICC(2,4)=.62, ICC(3,4)=.91; ICC(1,4)=.44."""
    assert round(icc(SHROUT_FLEISS, kind).value, 2) == published


@pytest.mark.parametrize("kind, lower, upper", [
    ("1", -0.133, 0.723), ("A,1", 0.019, 0.761), ("C,1", 0.342, 0.946),
    ("k", -0.884, 0.912), ("A,k", 0.071, 0.927), ("C,k", 0.676, 0.986)])
def test_icc_f_intervals_for_the_shrout_fleiss_data(kind, lower, upper):
    """95% intervals by McGraw & Wong (1996) Table 7, as psych::ICC prints them for these data
    (its documented example: ICC1 -0.133..0.72, ICC2 0.019..0.76, ICC3 0.342..0.95,
    ICC1k -0.884..0.91, ICC2k 0.071..0.93, ICC3k 0.676..0.99)."""
    result = icc(SHROUT_FLEISS, kind)
    assert result.ci == pytest.approx((lower, upper), abs=6e-4)


def test_icc_consistency_interval_is_the_exact_f_interval():
    """ICC(C,1)'s interval by hand from the two-way ANOVA of the Shrout & Fleiss data."""
    x = SHROUT_FLEISS
    n, k = x.shape
    grand = x.mean()
    msr = k * ((x.mean(axis=1) - grand) ** 2).sum() / (n - 1)
    msc = n * ((x.mean(axis=0) - grand) ** 2).sum() / (k - 1)
    sse = ((x - x.mean(axis=1, keepdims=True) - x.mean(axis=0, keepdims=True) + grand) ** 2).sum()
    mse = sse / ((n - 1) * (k - 1))
    f_obs = msr / mse
    fl = f_obs / stats.f.ppf(0.975, n - 1, (n - 1) * (k - 1))
    fu = f_obs * stats.f.ppf(0.975, (n - 1) * (k - 1), n - 1)
    result = icc(x, "C,1")
    assert result.value == pytest.approx((msr - mse) / (msr + (k - 1) * mse), abs=TOL)
    assert result.ci == pytest.approx(((fl - 1) / (fl + k - 1), (fu - 1) / (fu + k - 1)), abs=TOL)
    assert result.extra["msc"] == pytest.approx(msc, abs=TOL)


def gwet_2008_expected(table):
    """AC1 and its irrCAC (raw ratings, two raters) 95% CI by hand from Gwet (2008): pe =
    sum_k pi_k (1 - pi_k) / (q - 1); the variance of his eq. (for f = 0)
    v = [sum_kl p_kl (w_kl - 2 (1 - AC1) (1 - (pi_k + pi_l)/2) / (q - 1))^2
         - (pa - 2 (1 - AC1) pe)^2] / (n (1 - pe)^2),
    which irrCAC's per-subject form computes with n - 1 in place of n (v * n / (n - 1))."""
    table = np.asarray(table, float)
    n, q = table.sum(), len(table)
    p = table / n
    pa = np.trace(p)
    pi = (p.sum(axis=1) + p.sum(axis=0)) / 2
    pe = (pi * (1 - pi)).sum() / (q - 1)
    ac1 = (pa - pe) / (1 - pe)
    total = 0.0
    for k in range(q):
        for l in range(q):
            w = 1.0 if k == l else 0.0
            total += p[k, l] * (w - 2 * (1 - ac1) * (1 - (pi[k] + pi[l]) / 2) / (q - 1)) ** 2
    var = (total - (pa - 2 * (1 - ac1) * pe) ** 2) / (n * (1 - pe) ** 2) * n / (n - 1)
    t = stats.t.ppf(0.975, n - 1)
    return ac1, pe, math.sqrt(var), (ac1 - t * math.sqrt(var), min(1.0, ac1 + t * math.sqrt(var)))


@pytest.mark.parametrize("table", [
    [[118, 5], [2, 0]],                   # high agreement, rare category: the kappa paradox
    [[40, 9], [6, 45]],
    [[13, 0, 0], [0, 20, 7], [0, 4, 56]],
])
def test_gwet_ac1_by_hand_from_gwet_2008(table):
    ac1, pe, se, ci = gwet_2008_expected(table)
    result = gwet_ac1(*pairs_from_table(table))
    assert result.value == pytest.approx(ac1, abs=TOL)
    assert result.extra["pe"] == pytest.approx(pe, abs=TOL)
    assert result.extra["se"] == pytest.approx(se, abs=TOL)
    assert result.ci == pytest.approx(ci, abs=TOL)


def test_gwet_ac1_high_agreement_2x2_by_plain_arithmetic():
    """a=118, b=5, c=2, d=0: pa = 118/125; pi_1 = (123 + 120)/250 = 0.972; pe = 2 * 0.972 *
    0.028 = 0.054432; AC1 = (0.944 - 0.054432) / 0.945568 = 0.94078 — while kappa is -0.023."""
    r1, r2 = pairs_from_table([[118, 5], [2, 0]])
    assert gwet_ac1(r1, r2).value == pytest.approx((0.944 - 0.054432) / (1 - 0.054432), abs=1e-12)
    assert cohen_kappa(r1, r2).value == pytest.approx(
        (0.944 - (123 * 120 + 2 * 5) / 125**2) / (1 - (123 * 120 + 2 * 5) / 125**2), abs=1e-12)


def test_gwet_ac1_reproduces_irrcac_published_3x3_example():
    """irrCAC's documented example (cont3x3abstractors, Gwet's handbook): AC1 0.84933,
    pe 0.26992, SE 0.04322 from the contingency-table form, whose variance divides by n where
    the raw-ratings form used here divides by n - 1."""
    result = gwet_ac1(*pairs_from_table([[13, 0, 0], [0, 20, 7], [0, 4, 56]]))
    assert round(result.value, 5) == 0.84933
    assert round(result.extra["pe"], 5) == 0.26992
    assert round(result.extra["se"] * math.sqrt(99 / 100), 5) == 0.04322


@pytest.mark.parametrize("table", [[[118, 5], [2, 0]], [[40, 9], [6, 45]], [[0, 7], [3, 0]]])
def test_pabak_is_2po_minus_1_with_its_variance(table):
    """Byrt, Bishop & Carlin (1993): PABAK = 2 po - 1. Per-subject terms are -/+1, so Gwet's
    variance is 4 po (1 - po) / (n - 1)."""
    r1, r2 = pairs_from_table(table)
    n = len(r1)
    po = (table[0][0] + table[1][1]) / n
    result = pabak(r1, r2)
    assert result.value == pytest.approx(2 * po - 1, abs=TOL)
    se = math.sqrt(4 * po * (1 - po) / (n - 1))
    t = stats.t.ppf(0.975, n - 1)
    value = 2 * po - 1
    assert result.ci == pytest.approx((max(-1.0, value - t * se), min(1.0, value + t * se)),
                                      abs=TOL)


def test_brennan_prediger_uses_the_number_of_categories_a_reader_could_choose():
    r1 = ["absent", "absent", "present", "absent", "absent"]
    r2 = ["absent", "present", "present", "absent", "absent"]
    po = 4 / 5
    assert pabak(r1, r2).value == pytest.approx(2 * po - 1)
    three = pabak(r1, r2, categories=["absent", "present", "indeterminate"])
    assert three.value == pytest.approx((po - 1 / 3) / (1 - 1 / 3))
    assert three.method.startswith("Brennan-Prediger coefficient (3 categories)")


@pytest.mark.parametrize("table", [[[118, 5], [2, 0]], [[40, 9], [6, 45]], [[3, 10], [1, 2]],
                                   [[20, 0], [0, 5]]])
def test_byrt_prevalence_and_bias_indices(table):
    """PI = (a - d)/n, BI = (b - c)/n, PABAK = 2 po - 1 and kappa = (PABAK - PI^2 + BI^2) /
    (1 - PI^2 + BI^2) (Byrt et al. 1993), which must equal Cohen's kappa and statsmodels."""
    r1, r2 = pairs_from_table(table)
    labels = np.array(["present", "absent"], dtype=object)
    r1, r2 = list(labels[r1]), list(labels[r2])
    (a, b), (c, d) = table
    n = a + b + c + d
    result = prevalence_bias_indices(r1, r2, "present")
    assert (result.a, result.b, result.c, result.d, result.n) == (a, b, c, d, n)
    assert result.prevalence_index == pytest.approx((a - d) / n)
    assert result.bias_index == pytest.approx((b - c) / n)
    assert result.pabak == pytest.approx(2 * (a + d) / n - 1)
    assert result.negative == "absent"
    ref = cohens_kappa(np.array(table, float)).kappa
    assert result.kappa == pytest.approx(ref, abs=TOL)
    assert cohen_kappa(r1, r2).value == pytest.approx(result.kappa, abs=TOL)


def test_prevalence_indices_need_a_2x2_table():
    with pytest.raises(InvalidOption, match="2x2"):
        prevalence_bias_indices(["a", "b", "c"], ["a", "b", "c"], "a")
    with pytest.raises(InvalidOption, match="exactly two"):
        prevalence_bias_indices(["a"], ["a"], "a", categories=["a", "b", "c"])
    all_positive = prevalence_bias_indices(["yes"] * 4, ["yes"] * 4, "yes",
                                           categories=["yes", "no"])
    assert (all_positive.a, all_positive.kappa, all_positive.negative) == (4, None, "no")


def test_kappa_paradox_flags_high_agreement_with_low_kappa():
    r1, r2 = pairs_from_table([[118, 5], [2, 0]])
    flag = kappa_paradox(r1, r2)
    assert flag.flagged and flag.kappa < 0.4 and flag.percent_agreement == pytest.approx(0.944)
    assert flag.gwet_ac1 > 0.9 and flag.brennan_prediger == pytest.approx(0.888)
    assert "PABAK/AC1" in flag.reason
    balanced = kappa_paradox(*pairs_from_table([[45, 5], [5, 45]]))
    assert not balanced.flagged and balanced.kappa == pytest.approx(0.8)
    low = kappa_paradox(*pairs_from_table([[10, 10], [10, 10]]))
    assert not low.flagged and "percent agreement" in low.reason
    strict = kappa_paradox(*pairs_from_table([[45, 5], [5, 45]]), min_agreement=0.9,
                           max_kappa=0.85)
    assert strict.flagged is True
    one_category = kappa_paradox(["absent"] * 6, ["absent"] * 6)
    assert one_category.flagged and one_category.kappa is None
    with pytest.raises(InvalidOption):
        kappa_paradox(r1, r2, min_agreement=1.5)


PEFR_WRIGHT = [494, 395, 516, 434, 476, 557, 413, 442, 650, 433, 417, 656, 267, 478, 178, 423, 427]
PEFR_MINI = [512, 430, 520, 428, 500, 600, 364, 380, 658, 445, 432, 626, 260, 477, 259, 350, 451]


def test_bland_altman_reproduces_the_1986_pefr_example():
    """Bland & Altman (1986), 17 subjects' first PEFR readings, Wright vs mini Wright meter:
    mean difference -2.1, SD 38.8, limits -2.1 -/+ 2 x 38.8 = -79.7 to 75.5; SE of the limits
    sqrt(3 s^2 / n) = 16.3 and t(16) = 2.12 give -79.7 -/+ 34.6 and 75.5 -/+ 34.6. The paper
    worked from rounded figures, hence the tolerances."""
    result = bland_altman(PEFR_WRIGHT, PEFR_MINI, sd_multiplier=2, limit_se="1986")
    assert result.bias == pytest.approx(-2.1, abs=0.05)
    assert result.sd == pytest.approx(38.8, abs=0.05)
    assert (result.lower, result.upper) == pytest.approx((-79.7, 75.5), abs=0.1)
    assert result.extra["se_limit"] == pytest.approx(16.3, abs=0.05)
    assert result.lower_ci == pytest.approx((-79.7 - 34.6, -79.7 + 34.6), abs=0.25)
    assert result.upper_ci == pytest.approx((75.5 - 34.6, 75.5 + 34.6), abs=0.25)
    assert result.bias_ci == pytest.approx((-2.1 - 2.12 * 9.4, -2.1 + 2.12 * 9.4), abs=0.1)


def test_bland_altman_1999_limit_se_and_default_multiplier():
    diff = np.array(PEFR_WRIGHT, float) - np.array(PEFR_MINI, float)
    n, s = len(diff), diff.std(ddof=1)
    z = stats.norm.ppf(0.975)
    result = bland_altman(PEFR_WRIGHT, PEFR_MINI)
    assert result.sd_multiplier == pytest.approx(1.959964, abs=1e-6)
    assert result.lower == pytest.approx(diff.mean() - z * s)
    se = s * math.sqrt(1 / n + z * z / (2 * (n - 1)))
    t = stats.t.ppf(0.975, n - 1)
    assert result.upper_ci == pytest.approx((diff.mean() + z * s - t * se,
                                             diff.mean() + z * s + t * se))
    with_missing = bland_altman(PEFR_WRIGHT + [None], PEFR_MINI + [300])
    assert with_missing.n == n and with_missing.extra["dropped"] == 1


# --- edge cases -----------------------------------------------------------------------------

def test_perfect_agreement_in_one_category():
    """Defined: percent agreement 1.0, AC1 1.0, Brennan-Prediger 1.0 once q >= 2 is known.
    Undefined (0/0, named error): kappa, Fleiss' kappa, Krippendorff's alpha, BP with q = 1."""
    r = ["absent"] * 8
    assert percent_agreement(r, r).value == 1.0
    assert gwet_ac1(r, r).value == 1.0 and gwet_ac1(r, r).ci == (1.0, 1.0)
    assert gwet_ac1(r, r, categories=["absent", "present"]).value == 1.0
    assert pabak(r, r, categories=["absent", "present"]).value == 1.0
    with pytest.raises(UndefinedStatistic, match="categories="):
        pabak(r, r)
    with pytest.raises(UndefinedStatistic, match="chance agreement"):
        cohen_kappa(r, r)
    with pytest.raises(UndefinedStatistic, match="chance agreement"):
        cohen_kappa(r, r, categories=["absent", "present"])
    with pytest.raises(UndefinedStatistic):
        fleiss_kappa([r, r, r])
    with pytest.raises(UndefinedStatistic, match="expected disagreement"):
        krippendorff_alpha([r, r])


def test_perfect_agreement_over_several_categories():
    r = ["a", "b", "c", "a", "b"]
    kappa = cohen_kappa(r, r)
    assert kappa.value == 1.0 and kappa.ci == (1.0, 1.0)
    assert krippendorff_alpha([r, r, r], n_boot=100).value == 1.0
    assert fleiss_kappa([[x, x] for x in r], n_boot=100).value == 1.0
    assert icc([[1, 1], [2, 2], [4, 4]], "A,1").value == 1.0
    assert icc([[1, 1], [2, 2], [4, 4]], "A,1").ci == (1.0, 1.0)


@pytest.mark.parametrize("call", [
    lambda: cohen_kappa(["a"], ["b"]),
    lambda: gwet_ac1(["a"], ["a"]),
    lambda: pabak([], []),
    lambda: percent_agreement([None], ["a"]),
    lambda: fleiss_kappa([["a", "b", "a"]]),
    lambda: krippendorff_alpha([["a", "b"], ["a", None]]),
    lambda: icc([[1.0, 2.0]]),
    lambda: bland_altman([1.0], [2.0]),
])
def test_too_few_subjects(call):
    with pytest.raises(TooFewSubjects, match="at least"):
        call()


def test_one_pair_gives_percent_agreement():
    result = percent_agreement(["a"], ["a"])
    assert result.value == 1.0 and result.n == 1 and 0 < result.ci[0] < 1


def test_mismatched_lengths_and_ragged_rows():
    with pytest.raises(MismatchedRatings, match="rater 1 has 3 ratings and rater 2 has 2"):
        cohen_kappa(["a", "b", "a"], ["a", "b"])
    with pytest.raises(MismatchedRatings):
        bland_altman([1, 2, 3], [1, 2])
    with pytest.raises(MismatchedRatings, match="rows of different lengths"):
        fleiss_kappa([["a", "b", "a"], ["a", "b"]])
    with pytest.raises(MismatchedRatings):
        krippendorff_alpha([["a", "b", "a"], ["a", "b"]])


def test_unequal_numbers_of_raters_per_subject():
    """Fleiss' kappa and ICC need complete rows: a named error that points to the way out."""
    data = [["a", "a", "b"], ["b", "b", None], ["a", "a", "a"], ["b", "a", "b"]]
    with pytest.raises(MismatchedRatings, match="krippendorff_alpha"):
        fleiss_kappa(data)
    dropped = fleiss_kappa(data, drop_incomplete=True, n_boot=100)
    assert dropped.n == 3 and dropped.extra["dropped"] == 1
    complete = [row for row in data if None not in row]
    assert dropped.value == pytest.approx(
        sm_fleiss_kappa(aggregate_raters(np.array(complete))[0]), abs=TOL)
    numbers = [[1.0, 2.0, 2.5], [3.0, None, 3.5], [5.0, 5.5, 4.0], [2.0, 1.0, 2.0]]
    with pytest.raises(MismatchedRatings, match="drop_incomplete"):
        icc(numbers)
    assert icc(numbers, drop_incomplete=True).n == 3
    assert krippendorff_alpha(np.array(data, dtype=object).T, n_boot=100).n == 4


def test_all_ratings_missing_for_a_subject():
    r1 = ["a", None, "b", "a", "b"]
    r2 = ["a", None, "b", "b", None]
    result = cohen_kappa(r1, r2)
    assert result.n == 3 and result.extra["dropped"] == 2
    assert result.value == pytest.approx(cohen_kappa(["a", "b", "a"], ["a", "b", "b"]).value)
    nan_floats = gwet_ac1([1.0, np.nan, 2.0, 1.0], [1.0, 2.0, 2.0, np.nan])
    assert nan_floats.n == 2 and nan_floats.extra["categories"] == (1.0, 2.0)


def test_labels_outside_categories():
    with pytest.raises(UnknownCategory, match="'maybe'"):
        cohen_kappa(["yes", "maybe"], ["yes", "no"], categories=["yes", "no"])
    with pytest.raises(UnknownCategory, match="7.0"):
        gwet_ac1([1, 2, 7], [1, 2, 2], categories=[1, 2, 3])
    with pytest.raises(UnknownCategory):
        krippendorff_alpha([[1, 2], [2, 9]], "ordinal", categories=[1, 2, 3])
    with pytest.raises(UnknownCategory):
        fleiss_kappa([["a", "b"], ["c", "a"]], categories=["a", "b"])


def test_ratings_of_the_wrong_kind():
    with pytest.raises(InvalidRatings, match="numeric"):
        icc([["a", "b"], ["c", "d"]])
    with pytest.raises(InvalidRatings, match="numeric"):
        krippendorff_alpha([["a", "b"], ["a", "b"]], "interval")
    with pytest.raises(InvalidRatings, match="hashable"):
        cohen_kappa([{"a"}, {"b"}], [{"a"}, {"b"}])
    with pytest.raises(MismatchedRatings, match="one sequence"):
        cohen_kappa([["a"], ["b"]], [["a"], ["b"]])
    with pytest.raises(InvalidRatings, match="categories="):
        cohen_kappa(["a", 1, "a"], [1, "a", "a"], weights="linear")
    assert cohen_kappa(["a", 1, "a"], [1, "a", "a"]).n == 3       # nominal: order not needed
    with pytest.raises(InvalidRatings, match="infinite"):
        bland_altman([1.0, math.inf], [1.0, 2.0])
    with pytest.raises(TooFewRaters):
        fleiss_kappa([["a"], ["b"]])
    with pytest.raises(TooFewRaters):
        krippendorff_alpha([["a", "b", "a"]])


@pytest.mark.parametrize("call", [
    lambda: cohen_kappa(["a", "b"], ["a", "b"], weights="cubic"),
    lambda: krippendorff_alpha([[1, 2], [1, 2]], level="ratio"),
    lambda: icc([[1, 2], [3, 4]], kind="ICC(2,1)"),
    lambda: percent_agreement(["a"], ["a"], confidence=95),
    lambda: fleiss_kappa([["a", "b"], ["a", "a"]], n_boot=0),
    lambda: gwet_ac1(["a", "b"], ["a", "b"], categories=["a", "a", "b"]),
    lambda: bland_altman([1, 2], [1, 3], limit_se="2000"),
])
def test_invalid_options_are_named(call):
    with pytest.raises(InvalidOption):
        call()


def test_errors_are_value_errors_of_one_family():
    for error in (TooFewSubjects, TooFewRaters, MismatchedRatings, UnknownCategory,
                  InvalidRatings, UndefinedStatistic, InvalidOption):
        assert issubclass(error, AgreementError) and issubclass(error, ValueError)


def test_unused_category_counts_in_ac1_through_categories():
    r1 = ["absent", "absent", "present", "absent"]
    r2 = ["absent", "present", "present", "absent"]
    two = gwet_ac1(r1, r2)
    three = gwet_ac1(r1, r2, categories=["absent", "present", "indeterminate"])
    pi = np.array([5 / 8, 3 / 8, 0.0])
    pe = (pi * (1 - pi)).sum() / 2
    assert three.value == pytest.approx((0.75 - pe) / (1 - pe))
    assert two.value != pytest.approx(three.value)


def test_result_is_frozen_and_readable():
    result = cohen_kappa(["a", "b", "a", "b"], ["a", "b", "b", "b"])
    assert isinstance(result, Agreement)
    with pytest.raises(FrozenInstanceError):
        result.value = 1.0  # type: ignore[misc]
    with pytest.raises(TypeError):
        result.extra["po"] = 1.0  # type: ignore[index]
    assert "Cohen's kappa" in str(result) and "95% CI" in str(result)
    assert hash(result) == hash(cohen_kappa(["a", "b", "a", "b"], ["a", "b", "b", "b"]))


# --- property: every small table gives a value in range or a named error --------------------

LABELS = st.sampled_from(["a", "b", "c", None])
SMALL = settings(max_examples=150, deadline=None,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


def assert_valid(result: Agreement, low: float = -1.0, high: float = 1.0) -> None:
    lo, hi = result.ci
    for x in (result.value, lo, hi):
        assert isinstance(x, float) and math.isfinite(x), result
    assert low - 1e-12 <= lo <= result.value <= hi <= high + 1e-12, result
    assert result.n >= 1


def named_or_valid(call, low: float = -1.0, high: float = 1.0) -> None:
    try:
        result = call()
    except AgreementError as exc:
        assert str(exc), "an AgreementError says why"
        return
    assert_valid(result, low, high)


@SMALL
@given(st.integers(0, 8).flatmap(lambda n: st.tuples(st.lists(LABELS, min_size=n, max_size=n),
                                                      st.lists(LABELS, min_size=n, max_size=n))),
       st.sampled_from([None, ["a", "b", "c"], ["a", "b", "c", "d"]]))
def test_two_rater_functions_never_fail_unnamed(pair, categories):
    r1, r2 = pair
    named_or_valid(lambda: percent_agreement(r1, r2, categories=categories), 0.0, 1.0)
    for weights in (None, "linear", "quadratic"):
        named_or_valid(lambda: cohen_kappa(r1, r2, weights=weights, categories=categories))
    named_or_valid(lambda: pabak(r1, r2, categories=categories))
    named_or_valid(lambda: gwet_ac1(r1, r2, categories=categories))
    try:
        flag = kappa_paradox(r1, r2, categories=categories)
        assert isinstance(flag.flagged, bool) and math.isfinite(flag.gwet_ac1)
    except AgreementError:
        pass
    try:
        table = prevalence_bias_indices(r1, r2, "a")
        assert table.a + table.b + table.c + table.d == table.n
        assert table.kappa is None or -1 - 1e-12 <= table.kappa <= 1 + 1e-12
    except AgreementError:
        pass


@SMALL
@given(st.integers(1, 4).flatmap(lambda raters: st.lists(
    st.lists(LABELS, min_size=raters, max_size=raters), min_size=0, max_size=7)))
def test_many_rater_functions_never_fail_unnamed(rows):
    named_or_valid(lambda: fleiss_kappa(rows, n_boot=50))
    named_or_valid(lambda: fleiss_kappa(rows, n_boot=50, drop_incomplete=True))
    columns = [list(col) for col in zip(*rows)] if rows else []
    named_or_valid(lambda: krippendorff_alpha(columns, "nominal", n_boot=50))
    named_or_valid(lambda: krippendorff_alpha(columns, "ordinal", n_boot=50))


NUMBERS = st.one_of(st.none(), st.integers(-3, 3).map(float),
                    st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False))


@SMALL
@given(st.integers(1, 4).flatmap(lambda raters: st.lists(
    st.lists(NUMBERS, min_size=raters, max_size=raters), min_size=0, max_size=7)))
def test_numeric_functions_never_fail_unnamed(rows):
    for kind in ("1", "k", "C,1", "C,k", "A,1", "A,k"):
        named_or_valid(lambda: icc(rows, kind, drop_incomplete=True), -math.inf, 1.0)
    columns = [list(col) for col in zip(*rows)] if rows else []
    named_or_valid(lambda: krippendorff_alpha(columns, "interval", n_boot=50))
    if rows and len(rows[0]) >= 2:
        try:
            limits = bland_altman([r[0] for r in rows], [r[1] for r in rows])
        except AgreementError:
            return
        values = (limits.bias, limits.sd, limits.lower, limits.upper, *limits.bias_ci,
                  *limits.lower_ci, *limits.upper_ci)
        assert all(math.isfinite(v) for v in values)
        assert limits.lower_ci[0] <= limits.lower <= limits.bias <= limits.upper
        assert limits.upper <= limits.upper_ci[1]
