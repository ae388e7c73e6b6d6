"""Shared builders for the service-layer tests: a clock, DICOM index rows, a populated trial.

Imported by test_trial_*.py, test_auth.py and test_blinding.py (pytest puts tests/ on sys.path).
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from adjudication.protocol import default_protocol_path
from ioreview import auth
from ioreview.imaging.header import InstanceHeader
from ioreview.store import TrialStore as Store
from ioreview.store import dicom_index as di
from ioreview.service import Role, Session, Trial

START = 1_790_000_000.0  # 2026-09-21, epoch seconds
INSERTION = "20260310"
#: (timepoint, study date, modality) of each subject's studies
STUDY_PLAN = (("baseline", "20260309", "CR"), ("post-insertion", "20260310", "CT"),
              ("follow-up", "20260324", "MR"))
SUBJECTS = ("SUBJ-001", "SUBJ-002", "SUBJ-003")
PASSWORDS = {"reader1": "reader1-password", "reader2": "reader2-password",
             "reader3": "reader3-password", "coord": "coord-password",
             "adjudicator": "adjudicator-password", "admin": "trial-admin-password"}


REAL_KDF_PARAMS = auth.DEFAULT_PARAMS

#: the database `make_world` uses by default: None for a SQLite file in tmp_path, or the URL of
#: a fresh PostgreSQL database (set by the `trial_backend` fixture of tests/conftest.py)
BACKEND_DB: str | None = None


@pytest.fixture
def fast_kdf(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cheap scrypt parameters for workflow tests (the KDF itself is tested with the real ones)."""
    monkeypatch.setattr(auth, "DEFAULT_PARAMS", auth.ScryptParams(n=2 ** 4, r=1, p=1))


class Clock:
    """An injectable clock (epoch seconds) that tests advance by hand."""

    def __init__(self, t: float = START) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


def uid(*parts: object) -> str:
    return "1.2.826.0.1.3680043.10.999." + ".".join(str(p) for p in parts)


def instance_header(subject: int, study: int, n: int, study_date: str, modality: str,
                    path: str = "") -> InstanceHeader:
    """A header full of identifying values, so tests can prove they never reach a reader."""
    return InstanceHeader(
        path=path or f"/archive/{subject}/{study}/{n}.dcm",
        sop_instance_uid=uid(subject, study, 1, n), sop_class_uid="1.2.840.10008.5.1.4.1.1.2",
        study_instance_uid=uid(subject, study), series_instance_uid=uid(subject, study, 1),
        patient_id=SUBJECTS[subject], patient_name=f"DOE^JANE{subject}",
        patient_birth_date="19800101", patient_sex="F", study_date=study_date,
        study_time="101500", study_id=f"ST{study}", study_description="TIBIA IO SITE",
        accession_number=f"ACC{subject}{study}", institution_name="Shanxi Bethune Hospital",
        referring_physician_name="Li^Ming", modality=modality, series_number=1,
        series_description=f"{modality} tibia", series_date=study_date, instance_number=n,
        content_date=study_date, rows=8, columns=8, pixel_spacing=(0.5, 0.5))


def add_studies(store: Store, subjects: int = len(SUBJECTS), per_series: int = 2,
                paths: dict[str, str] | None = None) -> list[InstanceHeader]:
    """Index every subject's studies of STUDY_PLAN (no files unless `paths` maps UIDs)."""
    headers = [instance_header(s, t, n, date, modality,
                               (paths or {}).get(uid(s, t, 1, n), ""))
               for s in range(subjects) for t, (_tp, date, modality) in enumerate(STUDY_PLAN)
               for n in range(1, per_series + 1)]
    with store.atomic("tester") as tx:
        run = di.begin_import_run(tx, ["/archive"], "reference")
        di.IndexWriter(run).insert(tx, headers, archived=True)
    return headers


@dataclass
class World:
    """A trial with the default protocol, users, cases from three subjects and assignments."""

    trial: Trial
    clock: Clock
    admin: Session
    user_ids: dict[str, int] = field(default_factory=dict)
    headers: list[InstanceHeader] = field(default_factory=list)

    def login(self, username: str) -> Session:
        return self.trial.login(username, PASSWORDS[username])

    @property
    def store(self) -> Store:
        return self.trial.store


def make_world(tmp_path: Path, *, readers: int = 3, assign: bool = True, seed: int = 11,
               protocol_text: str | None = None, paths: dict[str, str] | None = None,
               db_name: str = "trial.sqlite", db: str | None = None) -> World:
    """`db`: a database URL (PostgreSQL) instead of a SQLite file `db_name` in `tmp_path`;
    by default the backend chosen by the `trial_backend` fixture (a second world in the same
    test names its own SQLite file)."""
    if db is None and db_name == "trial.sqlite":
        db = BACKEND_DB
    clock = Clock()
    trial = Trial.open(db or tmp_path / db_name, clock=clock, label_random=random.Random(5),
                       archive_root=tmp_path / "archive")
    admin = trial.system_session("test")
    world = World(trial, clock, admin)
    if protocol_text is None:
        trial.install_protocol(admin, default_protocol_path())
    else:
        trial.install_protocol(admin, "test-protocol.toml", protocol_text)
    for name in [f"reader{i}" for i in range(1, readers + 1)]:
        world.user_ids[name] = trial.create_user(admin, name, f"Dr {name.title()}", Role.READER,
                                                 PASSWORDS[name]).id
    world.user_ids["coord"] = trial.create_user(admin, "coord", "Coordinator", Role.COORDINATOR,
                                                PASSWORDS["coord"]).id
    world.user_ids["adjudicator"] = trial.create_user(
        admin, "adjudicator", "Adjudicator", Role.ADJUDICATOR, PASSWORDS["adjudicator"]).id
    # the trial's administrator: once a trial has accounts, a process that opens it again
    # logs in (no new workstation session; see Accounts.system_session)
    world.user_ids["admin"] = trial.create_user(admin, "admin", "Trial Administrator",
                                                Role.ADMIN, PASSWORDS["admin"]).id
    world.headers = add_studies(trial.store, paths=paths)
    trial.build_cases_from_studies(admin, {s: INSERTION for s in SUBJECTS})
    if assign:
        trial.generate_assignments(admin, seed=seed)
    return world


def complete_values(timepoint: str = "post-insertion", side: str = "left") -> dict[str, Any]:
    """A valid read of the default protocol: nothing found."""
    values: dict[str, Any] = {"image_quality": "adequate", "side": side, "timepoint": timepoint,
                              "needle_position.tip_position": "intramedullary"}
    for finding in ("extravasation", "haematoma", "fracture", "osteomyelitis", "fat_embolism"):
        values[f"{finding}.presence"] = "absent"
        values[f"{finding}.confidence"] = 1
    return values


def first_item(world: World, session: Session):
    return world.trial.worklist(session)[0]
