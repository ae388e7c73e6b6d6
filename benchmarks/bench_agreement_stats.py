"""Agreement statistics timings: every figure of a trial's agreement report, bootstrap CIs included.

Run: .venv/bin/python benchmarks/bench_agreement_stats.py
The trial-level load: 52 subjects x 4 timepoints = 208 rated subjects, 3 readers, 80 fields.
Per field: Cohen's kappa (readers 1 vs 2), Fleiss' kappa + bootstrap, Krippendorff's alpha +
bootstrap (nominal, ordinal or interval by field type), Gwet's AC1 and, for numeric fields,
ICC(A,1).
Bootstraps use the default 1000 resamples. Two passes: the default seed, so every field with
the same number of subjects shares one cached set of resample draws (what a report does), and a
seed per field, so every bootstrap draws afresh (the worst case). Prints totals and medians.
"""
from __future__ import annotations

import time
from collections import defaultdict

import numpy as np

from adjudication.agreement import (
    cohen_kappa,
    fleiss_kappa,
    gwet_ac1,
    icc,
    krippendorff_alpha,
)

SUBJECTS, READERS, FIELDS = 208, 3, 80


def _fields(rng: np.random.Generator) -> list[tuple[str, np.ndarray]]:
    """Realistic fields: presence (3 labels, rare positives), 1-5 confidence, sizes in cm."""
    out = []
    for f in range(FIELDS):
        kind = ("presence", "confidence", "size")[f % 3]
        if kind == "presence":
            truth = rng.choice(["absent", "present", "indeterminate"], SUBJECTS,
                               p=[0.9, 0.07, 0.03])
            flip = rng.random((SUBJECTS, READERS)) < 0.08
            other = rng.choice(["absent", "present", "indeterminate"], (SUBJECTS, READERS))
            ratings = np.where(flip, other, truth[:, None]).astype(object)
        elif kind == "confidence":
            truth = rng.integers(1, 6, SUBJECTS)
            ratings = np.clip(truth[:, None] + rng.integers(-1, 2, (SUBJECTS, READERS)), 1, 5)
        else:
            truth = rng.gamma(2.0, 1.5, SUBJECTS)
            ratings = np.round(truth[:, None] + rng.normal(0, 0.3, (SUBJECTS, READERS)), 1)
        out.append((kind, ratings))
    return out


def run(fields: list[tuple[str, np.ndarray]], seed_per_field: bool) -> None:
    times: dict[str, list[float]] = defaultdict(list)

    def timed(name: str, fn, *args, **kwargs):
        t = time.perf_counter()
        fn(*args, **kwargs)
        times[name].append(time.perf_counter() - t)

    start = time.perf_counter()
    for index, (kind, ratings) in enumerate(fields):
        seed = 1000 + index if seed_per_field else 0
        weights = "quadratic" if kind == "confidence" else None
        if kind != "size":
            timed("cohen_kappa", cohen_kappa, ratings[:, 0], ratings[:, 1], weights=weights)
            timed("fleiss_kappa + 1000 boot", fleiss_kappa, ratings, seed=seed)
            timed("gwet_ac1", gwet_ac1, ratings[:, 0], ratings[:, 1])
        level = {"presence": "nominal", "confidence": "ordinal", "size": "interval"}[kind]
        timed(f"krippendorff_alpha {level} + 1000 boot", krippendorff_alpha, ratings.T, level,
              seed=seed)
        if kind != "presence":
            timed("icc A,1", icc, ratings.astype(float), "A,1")
    total = time.perf_counter() - start

    draws = "a fresh seed per field" if seed_per_field else "shared draws (default seed)"
    print(f"{FIELDS} fields x {SUBJECTS} subjects x {READERS} readers, {draws}: "
          f"total {total * 1e3:.0f} ms")
    for name, ts in times.items():
        print(f"  {name:<40s} {len(ts):3d} calls, median {np.median(ts) * 1e3:6.2f} ms, "
              f"sum {sum(ts) * 1e3:6.1f} ms")


def main() -> None:
    fields = _fields(np.random.default_rng(20240607))
    run(fields, seed_per_field=False)
    run(fields, seed_per_field=True)


if __name__ == "__main__":
    main()
