"""Cases from studies, pseudonymous labels, seeded assignments and hidden re-reads."""
from __future__ import annotations

import re
from collections import Counter

import pytest

from adjudication.protocol import default_protocol_path
from ioreview.service import (BlindingViolation, InvalidInput, PermissionDenied, ReadStatus,
                            timepoint_for_days)
from test_trial_helpers import SUBJECTS, add_studies, fast_kdf, make_world  # noqa: F401

#: the service suite runs on both backends (tests/conftest.py)
pytestmark = pytest.mark.usefixtures("trial_backend", "fast_kdf")
DAY = 86400.0


def test_timepoint_for_days_boundaries():
    labels = ("baseline", "post-insertion", "post-removal", "follow-up")
    assert [timepoint_for_days(d, labels) for d in (-3, -1, 0, 1, 2, 7, 8, 40)] == [
        "baseline", "baseline", "post-insertion", "post-insertion", "post-removal",
        "post-removal", "follow-up", "follow-up"]
    assert timepoint_for_days(None, labels) == "unscheduled"
    assert timepoint_for_days(30, ("early", "late")) == "late"


def test_build_cases_one_per_study_with_days_and_timepoints(tmp_path):
    w = make_world(tmp_path, assign=False)
    cases = w.trial.list_cases(w.admin)
    assert len(cases) == 9
    by_subject = {}
    for c in cases:
        by_subject.setdefault(c.subject, []).append((c.days_from_insertion, c.timepoint))
        assert re.fullmatch(r"CASE-[A-Z2-9]{4}", c.label)
        assert c.n_series == 1
    assert len({c.label for c in cases}) == 9
    assert by_subject[SUBJECTS[0]] == [(-1, "baseline"), (0, "post-insertion"),
                                               (14, "follow-up")]
    assert w.trial.build_cases_from_studies(w.admin) == []  # idempotent
    studies = w.trial.list_studies(w.admin)
    assert all(s.case_label for s in studies)
    assert {s.patient_id for s in studies} == set(SUBJECTS)


def test_insertion_date_defaults_to_the_earliest_study(tmp_path):
    from ioreview.service import Trial
    from test_trial_helpers import Clock

    trial = Trial.open(tmp_path / "t.sqlite", clock=Clock())
    admin = trial.system_session("t")
    trial.install_protocol(admin, default_protocol_path())
    add_studies(trial.store, subjects=1)
    cases = trial.build_cases_from_studies(admin)
    assert [(c.days_from_insertion, c.timepoint) for c in cases] == [
        (0, "post-insertion"), (1, "post-insertion"), (15, "follow-up")]
    with pytest.raises(InvalidInput, match="not a date"):
        trial.build_cases_from_studies(admin, {"SUBJ-002": "yesterday"})


def test_create_case_checks_its_series(tmp_path):
    w = make_world(tmp_path, assign=False)
    taken = w.trial.list_series(w.admin, w.trial.list_studies(w.admin)[0].id)[0].id
    with pytest.raises(InvalidInput, match="already belongs"):
        w.trial.create_case(w.admin, "S", "baseline", 0, [taken])
    with pytest.raises(InvalidInput, match="do not exist"):
        w.trial.create_case(w.admin, "S", "baseline", 0, [9999])
    with pytest.raises(InvalidInput, match="at least one series"):
        w.trial.create_case(w.admin, "S", "baseline", 0, [])
    reader = w.login("reader1")
    with pytest.raises(PermissionDenied):
        w.trial.create_case(reader, "S", "baseline", 0, [taken])


def test_each_case_goes_to_two_readers_balanced(tmp_path):
    w = make_world(tmp_path)
    with w.store.unit_of_work("test", write=False) as uow:
        rows = uow.assignments.primary_reads()
    per_case = Counter(r.case_id for r in rows)
    assert set(per_case.values()) == {2} and len(per_case) == 9
    per_reader = Counter(r.reader_id for r in rows)
    assert max(per_reader.values()) - min(per_reader.values()) <= 1
    assert all(len({r.reader_id for r in rows if r.case_id == c}) == 2 for c in per_case)


def _orders(w):
    return {name: [i.case_label for i in w.trial.worklist(w.login(name))]
            for name in ("reader1", "reader2", "reader3")}


def test_seeded_order_is_reproducible_and_recorded(tmp_path):
    a = make_world(tmp_path, seed=42, db_name="a.sqlite")
    b = make_world(tmp_path, seed=42, db_name="b.sqlite")
    c = make_world(tmp_path, seed=43, db_name="c.sqlite")
    assert _orders(a) == _orders(b)
    assert _orders(a) != _orders(c)
    [run] = [r for r in a.store.audit_records("assignment_run") if r.action == "generate"]
    assert run.after["seed"] == 42  # recorded with the run


def test_orders_differ_between_readers(tmp_path):
    text = default_protocol_path().read_text(encoding="utf-8").replace(
        'priors = "earlier_timepoints"', 'priors = "none"')
    w = make_world(tmp_path, readers=2, seed=3, protocol_text=text)
    orders = _orders_two(w)
    assert sorted(orders["reader1"]) == sorted(orders["reader2"])  # same cases ...
    assert orders["reader1"] != orders["reader2"]                  # ... own order


def _orders_two(w):
    return {name: [i.case_label for i in w.trial.worklist(w.login(name))]
            for name in ("reader1", "reader2")}


def test_priors_mode_reads_each_subject_in_time_order(tmp_path):
    w = make_world(tmp_path)
    cases = {c.label: c for c in w.trial.list_cases(w.admin)}
    for name in ("reader1", "reader2", "reader3"):
        items = w.trial.worklist(w.login(name))
        seen: dict[str, int] = {}
        for item in items:
            subject = cases[item.case_label].subject
            assert item.days_from_insertion >= seen.get(subject, -10 ** 6)
            seen[subject] = item.days_from_insertion
        assert [i.order_index for i in items] == list(range(len(items)))


def test_generate_is_idempotent_and_needs_enough_readers(tmp_path):
    w = make_world(tmp_path)
    again = w.trial.generate_assignments(w.admin, seed=1)
    assert again.n_assignments == 0
    w2 = make_world(tmp_path, readers=1, assign=False, db_name="one.sqlite")
    with pytest.raises(InvalidInput, match="2 readers per case"):
        w2.trial.generate_assignments(w2.admin)
    with pytest.raises(InvalidInput, match="not an active reader"):
        w2.trial.generate_assignments(w2.admin, readers=[w2.user_ids["coord"]])


def test_new_cases_are_appended_after_existing_assignments(tmp_path):
    w = make_world(tmp_path)
    before = {n: len(w.trial.worklist(w.login(n))) for n in ("reader1", "reader2", "reader3")}
    headers = [h for h in add_studies_extra(w)]
    assert headers
    w.trial.build_cases_from_studies(w.admin)
    summary = w.trial.generate_assignments(w.admin, seed=5)
    assert summary.n_assignments - summary.n_rereads == 2
    after = {n: len(w.trial.worklist(w.login(n))) for n in ("reader1", "reader2", "reader3")}
    assert sum(after.values()) - sum(before.values()) == 2


def add_studies_extra(w):
    from ioreview.store import dicom_index as di
    from test_trial_helpers import instance_header

    headers = [instance_header(0, 7, 1, "20260410", "MR")]
    with w.store.atomic("tester") as tx:
        run = di.begin_import_run(tx, ["/extra"], "reference")
        di.IndexWriter(run).insert(tx, headers, archived=True)
    return headers


def test_rereads_are_hidden_until_the_washout_and_look_like_new_cases(tmp_path):
    w = make_world(tmp_path)
    with w.store.unit_of_work("test", write=False) as uow:
        rereads = [(a, uow.cases.get(a.case_id).label) for a in uow.assignments.rereads()]
    assert rereads, "the default protocol re-reads 10 % of each reader's cases"
    case_labels = {c.label for c in w.trial.list_cases(w.admin)}
    names = {v: k for k, v in w.user_ids.items()}
    for rr, case_label in rereads:
        assert rr.label not in case_labels and rr.label.startswith("CASE-")
        session = w.login(names[rr.reader_id])
        assert rr.id not in {i.assignment_id for i in w.trial.worklist(session)}
        with pytest.raises(BlindingViolation):
            w.trial.open_case(session, rr.id)
    w.clock.advance(28 * DAY + 1)
    for rr, case_label in rereads:
        session = w.login(names[rr.reader_id])
        items = w.trial.worklist(session)
        item = next(i for i in items if i.assignment_id == rr.id)
        assert item.case_label == rr.label != case_label
        assert item.status is ReadStatus.NEW
        # It comes after the reader's original read of the same case.
        original = next(i for i in items if i.case_label == case_label)
        assert item.order_index > original.order_index
        view = w.trial.open_case(session, rr.id)
        assert view.case_label == rr.label and view.values == {}
