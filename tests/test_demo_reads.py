"""The demo population: accounts, cases, assignments and simulated reads from ground truth."""
from __future__ import annotations

import random
from collections import Counter

import pytest

from adjudication.protocol import load_default_protocol
from adjudication.readform import validate_read
from ioreview.demo_reads import DEMO_ACCOUNTS, populate_demo, simulate_values
from ioreview.imaging.synthetic import DemoConfig, generate_demo_trial
from ioreview.service import ReadStatus, Role, Trial
from test_trial_helpers import fast_kdf  # noqa: F401

pytestmark = pytest.mark.usefixtures("fast_kdf")


@pytest.fixture(scope="module")
def demo_files(tmp_path_factory):
    return generate_demo_trial(tmp_path_factory.mktemp("demo"), DemoConfig.small(seed=1))


def test_populate_demo_fills_every_screen(tmp_path, demo_files):
    trial = Trial.open(tmp_path / "demo.sqlite")
    admin = trial.system_session("demo")
    trial.import_studies(admin, [demo_files.dicom_dir])
    users = populate_demo(trial, admin, demo_files.ground_truth_path, seed=2026)
    assert [u.username for u in users] == [a[0] for a in DEMO_ACCOUNTS]
    assert {u.role for u in users} == set(Role)
    assert users.password("reader2") == "reader2-demo"
    for user in users:
        assert trial.login(user.username, user.password).role is user.role
    assert users.reads[ReadStatus.SUBMITTED.value] > 0
    assert users.reads[ReadStatus.IN_PROGRESS.value] > 0
    assert users.reads[ReadStatus.NEW.value] > 0
    info = trial.info(admin)
    assert info.cases == len(demo_files.timepoints)
    assert info.reads["submitted"] == users.reads["submitted"]
    report = trial.progress(admin)
    assert report.cases_complete > 0
    assert report.open_discordances == users.discordant_cases >= 1
    assert trial.store.verify_audit_chain() == []
    # adjudications pending and decided, and one closed committee session, on first start
    adjudication = trial.info(admin).adjudication
    assert users.adjudications_decided >= 1 and adjudication["decided"] == users.adjudications_decided
    assert adjudication["panel_sessions_closed"] == 1, adjudication
    # with two or more adjudications, a third stays pending (the full demo has several)
    assert adjudication["pending"] == (max(1, (users.adjudications_decided + adjudication["pending"]) // 3)
                                       if users.adjudications_decided + adjudication["pending"] >= 2 else 0)
    assert trial.verify_audit_trail(admin).problems == ()
    # The readers' own worklists show their progress.
    statuses = Counter(i.status for i in trial.worklist(trial.login("reader1", "reader1-demo")))
    assert statuses[ReadStatus.SUBMITTED] > 0


def test_populate_demo_twice_is_harmless(tmp_path, demo_files):
    trial = Trial.open(tmp_path / "demo.sqlite")
    admin = trial.system_session("demo")
    trial.import_studies(admin, [demo_files.dicom_dir])
    populate_demo(trial, admin, demo_files.ground_truth_path, seed=7)
    n = trial.info(admin).assignments
    populate_demo(trial, admin, demo_files.ground_truth_path, seed=7)
    assert trial.info(admin).assignments == n


def test_simulated_reads_are_valid_for_every_truth_record(demo_files):
    protocol = load_default_protocol()
    for n, record in enumerate(demo_files.timepoints):
        for seed in range(40):
            modalities = set(record["modalities"])
            values = simulate_values(random.Random(seed * 1000 + n), record, record["timepoint"],
                                     modalities)
            assert validate_read(protocol, values, modalities) == [], (record["timepoint"], values)


def test_reader_error_is_seeded_and_realistic():
    record = {"side": "R", "findings": {
        "needle_position": {"value": "intramedullary"},
        "extravasation": {"present": True, "compartment": "anterior", "volume_ml": 8.0},
        "haematoma": {"present": False}}}
    a = simulate_values(random.Random(1), record, "post-insertion", {"CT"})
    assert a == simulate_values(random.Random(1), record, "post-insertion", {"CT"})
    reads = [simulate_values(random.Random(s), record, "post-insertion", {"CT"})
             for s in range(2000)]
    calls = Counter(r["extravasation.presence"] for r in reads)
    missed = calls["absent"] / len(reads)
    assert 0.08 < missed < 0.22  # subtle finding: ~15 % missed
    volumes = [r["extravasation.volume_ml"] for r in reads if "extravasation.volume_ml" in r]
    assert min(volumes) >= 8.0 * 0.8 - 0.05 and max(volumes) <= 8.0 * 1.2 + 0.05
    assert len(set(volumes)) > 10
    false_pos = sum(r["haematoma.presence"] == "present" for r in reads) / len(reads)
    assert 0.005 < false_pos < 0.06
