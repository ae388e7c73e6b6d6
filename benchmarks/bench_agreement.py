"""Trial-level agreement figures: every figure of the agreement report for 52 subjects x 4
timepoints x 3 readers x 20 fields, bootstrap CIs included (target <= 1 s).

    .venv/bin/python benchmarks/bench_agreement.py [--runs 5] [--db PATH_OR_URL --user U --password P]

The synthetic trial: each case is read by two of three readers (seeded), with a 10% hidden
re-read subset, discordances from the protocol's rules and adjudications siding with one
reader; 20 fields of the default protocol (5 presence findings with confidence and details,
image quality, side, needle position).  Prints the median and max wall time of
`adjudication.reliability.trial_agreement` (the same call the service makes after gathering
the reads).  With --db it also times `Trial.agreement_report` on a real trial database (the
demo's, say), gathering included.
"""
from __future__ import annotations

import argparse
import random
import statistics
import time

from adjudication.discordance import find_discordant_fields
from adjudication.protocol import load_default_protocol
from adjudication.reliability import (AdjudicationRow, DiscordanceRow, ReadRow, field_kind,
                                      trial_agreement)
from ioreview.demo_reads import simulate_values

FINDINGS = ("extravasation", "haematoma", "fracture", "osteomyelitis", "fat_embolism")


def synthetic_trial(seed: int = 2026, subjects: int = 52, reread_fraction: float = 0.10):
    protocol = load_default_protocol()
    rng = random.Random(seed)
    reads, discordances, adjudications = [], [], []
    rid = case = 0
    position = {r: 0 for r in ("R1", "R2", "R3")}
    for s in range(subjects):
        for tp in protocol.timepoints:
            case += 1
            truth = {"side": rng.choice("LR"), "findings": {
                "needle_position": {"value": rng.choice(["intramedullary", "cortex"])},
                **{f: {"present": rng.random() < 0.15, "volume_ml": rng.uniform(2, 80),
                       "us_extent_cm": rng.uniform(1, 6), "mean_hu": rng.uniform(20, 60),
                       "compartment": "anterior", "value": "displaced"} for f in FINDINGS}}}
            values = []
            for reader in rng.sample(sorted(position), 2):
                rid += 1
                position[reader] += 1
                v = simulate_values(rng, truth, tp, {"CT", "MR", "US"})
                values.append((rid, v))
                reads.append(ReadRow(rid, case, reader, v, False, 1.79e9 + case * 3600,
                                     rng.uniform(60, 600), position[reader], tp,
                                     frozenset({"CT"}), 1, True, f"S{s}"))
                if rng.random() < reread_fraction:
                    rid += 1
                    reads.append(ReadRow(rid, case, reader,
                                         simulate_values(rng, truth, tp, {"CT", "MR", "US"}),
                                         True, 1.79e9 + case * 3600 + 30 * 86400, 200.0, 0, tp,
                                         frozenset({"CT"}), 1, True, f"S{s}"))
            keys = tuple(d.key for d in find_discordant_fields(protocol, values[0][1],
                                                               values[1][1]))
            discordances.append(DiscordanceRow(case, keys, 1.79e9 + case * 3600))
            if keys:
                adjudications.append(AdjudicationRow(
                    case, {"A": values[0][0], "B": values[1][0]},
                    {k: rng.choice("AB") for k in keys}))
    return protocol, reads, discordances, adjudications


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--db")
    parser.add_argument("--user", default="coordinator")
    parser.add_argument("--password", default="coordinator-demo")
    args = parser.parse_args()
    protocol, reads, discordances, adjudications = synthetic_trial()
    fields = [k for k, _f, f in protocol.iter_fields() if field_kind(f)]
    times = []
    for run in range(args.runs):
        t0 = time.perf_counter()
        report = trial_agreement(protocol, reads, discordances, adjudications, seed=run)
        times.append(time.perf_counter() - t0)
    print(f"{report.n_subjects} subjects x {len(protocol.timepoints)} timepoints, "
          f"{report.n_readers} readers, {len(reads)} locked reads "
          f"({report.n_rereads} re-reads), {len(fields)} fields with figures "
          f"(bootstrap {1000} resamples each)")
    print(f"  trial_agreement: median {statistics.median(times) * 1e3:7.1f} ms, "
          f"max {max(times) * 1e3:7.1f} ms (target <= 1000 ms)")
    if args.db:
        from ioreview.service import Trial

        trial = Trial.open(args.db)
        session = trial.login(args.user, args.password)
        times = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            real = trial.agreement_report(session)
            times.append(time.perf_counter() - t0)
        print(f"  Trial.agreement_report on {args.db} ({real.n_cases} cases): median "
              f"{statistics.median(times) * 1e3:7.1f} ms, max {max(times) * 1e3:7.1f} ms")
        trial.close()


if __name__ == "__main__":
    main()
