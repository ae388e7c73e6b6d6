"""Trial-level agreement figures and reader monitoring: from signed reads on a real trial
database (both backends) to the report, cross-checked against statsmodels; and the pure
module on synthetic reads (fields, intra-reader, p-charts, order bins, GRRAS summary)."""
from __future__ import annotations

import random

import numpy as np
import pytest
from statsmodels.stats.inter_rater import cohens_kappa

from adjudication.discordance import find_discordant_fields
from adjudication.paradigms import Decision
from adjudication.protocol import load_default_protocol
from adjudication.reliability import (AdjudicationRow, DiscordanceRow, ReadRow, field_kind,
                                      trial_agreement)
from ioreview.demo_reads import simulate_values
from ioreview.service import PermissionDenied, Role
from test_trial_helpers import PASSWORDS, World, fast_kdf, make_world  # noqa: F401

P = load_default_protocol()
PRESENCE = ("extravasation", "haematoma", "fracture", "osteomyelitis", "fat_embolism")


def _values(rng: random.Random, timepoint: str, modalities=frozenset({"CT", "MR", "US"})) -> dict:
    """A valid simulated read (the demo's reader model) of a random truth."""
    truth = {"side": "L", "findings": {
        "needle_position": {"value": "intramedullary"},
        **{f: {"present": rng.random() < 0.3, "volume_ml": 20.0, "us_extent_cm": 3.0,
               "mean_hu": 40.0, "compartment": "anterior", "value": "displaced"}
           for f in PRESENCE}}}
    return simulate_values(rng, truth, timepoint, set(modalities))


def _sign_everything(w: World, rng: random.Random) -> None:
    for name in ("reader1", "reader2", "reader3"):
        session = w.login(name)
        for item in w.trial.worklist(session):
            if item.status.value == "submitted":
                continue
            view = w.trial.open_case(session, item.assignment_id)
            modalities = {x.modality for x in view.series}
            w.trial.save_draft(session, view.read_id, _values(rng, view.timepoint, modalities),
                               active_seconds=rng.uniform(60, 400))
            w.trial.submit_read(session, view.read_id, PASSWORDS[name])


@pytest.mark.usefixtures("trial_backend", "fast_kdf")
def test_report_from_signed_reads(tmp_path):
    w = make_world(tmp_path)
    rng = random.Random(3)
    _sign_everything(w, rng)
    w.clock.advance(29 * 86400)  # the hidden re-reads leave their washout
    _sign_everything(w, rng)
    # decide every pending adjudication by siding with Reader A
    adj = w.login("adjudicator")
    for item in w.trial.adjudication_queue(adj):
        view = w.trial.open_adjudication(adj, item.adjudication_id)
        w.trial.submit_adjudication(adj, item.adjudication_id,
                                    [Decision(i.key, "A") for i in view.items],
                                    PASSWORDS["adjudicator"])
    coord = w.login("coord")
    report = w.trial.agreement_report(coord)
    cases = w.trial.list_cases(w.admin)
    assert report.n_cases == len(cases) and report.n_subjects == 3 and report.n_readers == 3
    assert report.n_rereads >= 1

    # kappa of a presence field equals statsmodels on the same pairs
    with w.store.unit_of_work("test", write=False) as uow:
        pairs = []
        for case in cases:
            reads = sorted(uow.assignments.primary_reads(case.id), key=lambda r: r.reader_id)
            vals = [uow.reads.values(r.read_id, r.version) for r in reads]
            pairs.append((vals[0]["extravasation.presence"], vals[1]["extravasation.presence"]))
    cats = ["present", "absent", "indeterminate"]
    table = np.zeros((3, 3))
    for a, b in pairs:
        table[cats.index(a), cats.index(b)] += 1
    presence = next(f for f in report.fields if f.key == "extravasation.presence")
    assert presence.n == len(cases) and presence.kind == "nominal"
    kappa = presence.figure("kappa")
    if kappa.result is not None:
        assert kappa.result.value == pytest.approx(cohens_kappa(table).kappa, abs=1e-9)
    else:
        assert kappa.error
    assert {f.kind for f in report.fields} >= {"nominal", "ordinal"}
    assert any(f.key == "haematoma.size_cm" and f.kind == "numeric" for f in report.fields)
    assert all(f.limits is not None or f.limits_error for f in report.fields
               if f.kind == "numeric")

    # intra-reader: every re-reader, with the washout as the interval
    assert report.intra and all(28 <= (i.interval_days or 0) <= 31 for i in report.intra)
    # reader monitoring: rates consistent with the stored discordances and decisions
    for m in report.readers:
        assert 0 <= (m.adjudication_rate or 0) <= 1
        if m.items:
            assert m.agreement_rate == pytest.approx(m.sided / m.items)
        assert m.rdi == pytest.approx(m.disagreed_cases / m.cases_read)
        assert sum(p.n for p in m.pchart) == m.cases_read
    assert sum(b.reads for b in report.order) == sum(1 for _ in pairs) * 2
    assert "Inter-reader agreement was assessed on" in report.summary
    assert "reader1" in {m.reader for m in report.readers}

    # filters
    mr = w.trial.agreement_report(coord, timepoint="follow-up")
    assert mr.n_cases == 3 and mr.filters == {"timepoint": "follow-up"}
    assert w.trial.agreement_report(coord, modality="CT").n_cases == 3

    # the committee sees pseudonyms; readers and adjudicators nothing
    committee = w.trial.create_user(w.admin, "cm", "Committee", Role.COMMITTEE, "cm-password1")
    assert committee.id
    seen = w.trial.agreement_report(w.trial.login("cm", "cm-password1"))
    assert {m.reader for m in seen.readers} == {"READER1", "READER2", "READER3"}
    for name in ("reader1", "adjudicator"):
        with pytest.raises(PermissionDenied):
            w.trial.agreement_report(w.login(name))


# -- the pure module -------------------------------------------------------------------------
def _synthetic(seed: int = 1, subjects: int = 52):
    rng = random.Random(seed)
    reads, discordances, adjudications = [], [], []
    rid = 0
    case = 0
    for s in range(subjects):
        for tp in P.timepoints:
            case += 1
            pair = rng.sample(["R1", "R2", "R3"], 2)
            vals = []
            for reader in pair:
                rid += 1
                v = _values(rng, tp)
                vals.append(v)
                reads.append(ReadRow(rid, case, reader, v, signed_at=1.79e9 + case * 7200,
                                     active_seconds=100 + case, position=case, timepoint=tp,
                                     subject=f"S{s}"))
            keys = tuple(d.key for d in find_discordant_fields(P, vals[0], vals[1]))
            discordances.append(DiscordanceRow(case, keys, 1.79e9 + case * 7200))
            if keys:
                adjudications.append(AdjudicationRow(case, {"A": rid - 1, "B": rid},
                                                     {k: "A" for k in keys}))
    return reads, discordances, adjudications


def test_pure_report_reader_monitoring_and_order():
    reads, discordances, adjudications = _synthetic()
    report = trial_agreement(P, reads, discordances, adjudications, order_bins=4)
    assert report.n_cases == 208 and report.n_subjects == 52
    by_reader = {m.reader: m for m in report.readers}
    # every adjudication sided with Reader A (the first read of the case)
    firsts = {r.case_id: r.reader for r in reads[::2]}
    for reader, m in by_reader.items():
        sided_cases = sum(1 for a in adjudications if firsts[a.case_id] == reader)
        assert m.decided >= sided_cases
        assert m.disagreed_cases == m.decided - sided_cases
        for point in m.pchart:
            assert point.lcl <= (m.centre or 0) <= point.ucl
            assert point.out == (point.p < point.lcl or point.p > point.ucl)
    assert len(report.order) == 4 and report.order[0].first == 1
    assert report.order[0].mean_seconds < report.order[-1].mean_seconds
    headline = {f.key: f.headline for f in report.fields}
    assert headline["haematoma.size_cm"].name == "ICC(A,1)"
    assert headline["extravasation.confidence"].name == "weighted kappa"


def test_undefined_statistics_carry_their_reason():
    reads = [ReadRow(1, 1, "R1", {"side": "left"}), ReadRow(2, 1, "R2", {"side": "left"})]
    report = trial_agreement(P, reads)
    side = next(f for f in report.fields if f.key == "side")
    kappa = side.figure("kappa")
    assert kappa.result is None and "needs at least 2" in kappa.error
    assert all(f.result is None or np.isfinite(f.result.value) for x in report.fields
               for f in x.figures)


def test_field_kinds():
    assert field_kind(P.field("extravasation.presence")) == "nominal"
    assert field_kind(P.field("extravasation.confidence")) == "ordinal"
    assert field_kind(P.field("image_quality")) == "ordinal"
    assert field_kind(P.field("extravasation.volume_ml")) == "numeric"
    assert field_kind(P.field("fracture.comment")) is None


@pytest.mark.usefixtures("fast_kdf")
def test_exports_of_the_same_trial_on_both_backends_are_identical(tmp_path, postgres_url):
    """The same reads and decisions on SQLite and on PostgreSQL export byte-identical tables
    (ids, labels, order and values do not depend on the backend)."""
    folders = []
    for name, db in (("sqlite", str(tmp_path / "s.sqlite")), ("postgresql", postgres_url)):
        w = make_world(tmp_path / name, db=db)
        w.trial.create_user(w.admin, "exporter", "Exporter", Role.COORDINATOR, "exporter-pw1")
        rng = random.Random(3)
        _sign_everything(w, rng)
        adj = w.login("adjudicator")
        for item in w.trial.adjudication_queue(adj):
            view = w.trial.open_adjudication(adj, item.adjudication_id)
            w.trial.submit_adjudication(adj, item.adjudication_id,
                                        [Decision(i.key, "B") for i in view.items],
                                        PASSWORDS["adjudicator"])
        out = tmp_path / f"export-{name}"
        w.trial.export_trial(w.trial.login("exporter", "exporter-pw1"), out, "exporter-pw1",
                             formats=("csv",))
        w.trial.close()
        folders.append(out)
    tables = sorted(p.name for p in folders[0].glob("*.csv"))
    assert "reads.csv" in tables and "sdtm_rs.csv" in tables
    for name in tables:
        assert (folders[0] / name).read_bytes() == (folders[1] / name).read_bytes(), name
