"""Demo users, cases, assignments and simulated reads, so every screen has data on first start.

`populate_demo` drives the service layer exactly as people would: it installs the default
protocol, creates one account per role (three readers), builds cases from the imported demo
studies, generates assignments, then logs each reader in and reads their worklist from the
synthetic ground truth (`ioreview.imaging.synthetic` writes ``ground_truth.json``) with seeded,
realistic reader error — missed or over-called subtle findings, confidence noise, measurement
noise — signing most reads and leaving some in progress and some new.
"""
from __future__ import annotations

import json
import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from adjudication.protocol import default_protocol_path
from adjudication.paradigms import Decision
from ioreview.imaging.synthetic_render import US_TEXT_BOX
from ioreview.service import (Annotation, CaseView, ReadStatus, Role, Session, Trial,
                            WorklistItem)

__all__ = ["DEMO_ACCOUNTS", "DemoUser", "DemoUsers", "populate_demo", "simulate_values"]

#: (username, display name, role) of the demo accounts
DEMO_ACCOUNTS: tuple[tuple[str, str, Role], ...] = (
    ("reader1", "Dr. Wei Zhang", Role.READER),
    ("reader2", "Dr. Anna Novak", Role.READER),
    ("reader3", "Dr. Samuel Okafor", Role.READER),
    ("adjudicator", "Dr. Lucia Ferrari", Role.ADJUDICATOR),
    ("adjudicator2", "Dr. Kenji Sato", Role.ADJUDICATOR),
    ("committee", "Dr. Hannah Berg", Role.COMMITTEE),
    ("committee2", "Dr. Rafael Ortiz", Role.COMMITTEE),
    ("committee3", "Dr. Li Na", Role.COMMITTEE),
    ("coordinator", "Mei Chen", Role.COORDINATOR),
    ("admin", "Site administrator", Role.ADMIN),
)
PRESENCE_FINDINGS = ("extravasation", "haematoma", "fracture", "osteomyelitis", "fat_embolism")
_NEEDLE = {"intramedullary": "intramedullary", "cortex": "cortex",
           "through-and-through": "through_and_through", "soft tissue": "soft_tissue"}
_COMPARTMENT = {"subcutis": "subcutaneous", "anterior": "anterior", "lateral": "lateral",
                "posterior": "deep_posterior"}


@dataclass(frozen=True)
class DemoUser:
    username: str
    display_name: str
    role: Role
    password: str


@dataclass(frozen=True)
class DemoUsers:
    """The demo accounts (with their passwords, for the CLI to print) and what was read."""

    users: tuple[DemoUser, ...]
    reads: Mapping[str, int] = field(default_factory=dict)
    discordant_cases: int = 0
    adjudications_decided: int = 0
    adjudications_pending: int = 0
    panel_sessions_closed: int = 0

    def __iter__(self) -> Iterator[DemoUser]:
        return iter(self.users)

    def password(self, username: str) -> str:
        return next(u.password for u in self.users if u.username == username)


@dataclass(frozen=True)
class _Error:
    """How often a simulated reader errs."""

    miss_subtle: float = 0.15      # a present, subtle finding read as absent
    miss_obvious: float = 0.03
    false_positive: float = 0.02   # an absent finding read as present
    indeterminate: float = 0.02
    needle_error: float = 0.06
    side_error: float = 0.01
    measurement_noise: float = 0.20


def _is_subtle(name: str, truth: Mapping[str, Any]) -> bool:
    if name in ("osteomyelitis", "fat_embolism"):
        return True
    if name == "fracture":
        return truth.get("value") == "non-displaced"
    volume = truth.get("volume_ml")
    return volume is None or float(volume) < 15.0


def _noisy(rng: random.Random, value: float, noise: float, digits: int = 1) -> float:
    return round(max(0.0, value * (1.0 + rng.uniform(-noise, noise))), digits)


def _presence(rng: random.Random, name: str, truth: Mapping[str, Any], err: _Error) -> str:
    present = bool(truth.get("present"))
    if rng.random() < err.indeterminate:
        return "indeterminate"
    if present:
        miss = err.miss_subtle if _is_subtle(name, truth) else err.miss_obvious
        return "absent" if rng.random() < miss else "present"
    return "present" if rng.random() < err.false_positive else "absent"


def _confidence(rng: random.Random, presence: str) -> int:
    if presence == "indeterminate":
        return 3
    if presence == "present":
        return 5 if rng.random() < 0.6 else 4
    return 1 if rng.random() < 0.7 else 2


def _details(rng: random.Random, name: str, truth: Mapping[str, Any], modalities: set[str],
             err: _Error) -> dict[str, Any]:
    """Detail answers for a finding read as present (plausible even when the truth is absent)."""
    out: dict[str, Any] = {}
    volume = truth.get("volume_ml")
    extent = truth.get("us_extent_cm")
    if name == "extravasation":
        out["compartment"] = [_COMPARTMENT.get(truth.get("compartment") or "", "subcutaneous")]
        ml = float(volume) if volume else rng.uniform(2.0, 12.0)
        out["severity"] = "mild" if ml < 50 else "moderate" if ml < 200 else "severe"
        if modalities & {"CT", "MR", "US"}:
            out["volume_ml"] = _noisy(rng, ml, err.measurement_noise)
        if extent:
            out["max_size_cm"] = min(50.0, _noisy(rng, float(extent), err.measurement_noise))
        if "CT" in modalities and truth.get("mean_hu") is not None:
            out["mean_hu"] = round(float(truth["mean_hu"]) + rng.gauss(0, 4), 1)
    elif name == "haematoma":
        size = float(extent) if extent else (float(volume) ** (1 / 3) * 1.2 if volume else 2.0)
        out["size_cm"] = min(50.0, max(0.5, _noisy(rng, size, err.measurement_noise)))
        if "CT" in modalities and truth.get("mean_hu") is not None:
            out["mean_hu"] = round(float(truth["mean_hu"]) + rng.gauss(0, 4), 1)
        if modalities & {"CT", "MR", "US"}:
            out["fluid_level"] = bool(truth.get("fluid_level"))
    elif name == "fracture":
        out["displacement"] = ("displaced" if truth.get("value") == "displaced"
                               else "non_displaced")
    elif name == "osteomyelitis":
        abscess = bool(truth.get("abscess"))
        out["impression"] = ("osteomyelitis_complicated" if abscess else
                             "osteomyelitis" if truth.get("present") else "soft_tissue_infection")
        out["abscess"] = abscess
        if abscess:
            out["abscess_site"] = ["intraosseous"]
        if "MR" in modalities:
            out["t1_marrow"] = "confluent" if truth.get("present") else "reticulated"
            out["stir_marrow"] = "high"
    return {f"{name}.{k}": v for k, v in out.items()}


def simulate_values(rng: random.Random, record: Mapping[str, Any], timepoint: str,
                    modalities: set[str], err: _Error = _Error()) -> dict[str, Any]:
    """One reader's answers to the default protocol for a ground-truth timepoint record."""
    findings = record.get("findings", {})
    side = "right" if record.get("side") == "R" else "left"
    if rng.random() < err.side_error:
        side = "left" if side == "right" else "right"
    quality = rng.choices(["adequate", "limited", "non_diagnostic"], [0.86, 0.12, 0.02])[0]
    needle = findings.get("needle_position", {}).get("value")
    tip = _NEEDLE.get(needle, "not_assessable")
    if rng.random() < err.needle_error:
        tip = rng.choice([v for v in ("intramedullary", "cortex", "soft_tissue",
                                      "not_assessable") if v != tip])
    values: dict[str, Any] = {"image_quality": quality, "side": side, "timepoint": timepoint,
                              "needle_position.tip_position": tip}
    for name in PRESENCE_FINDINGS:
        truth = findings.get(name, {"present": False})
        presence = _presence(rng, name, truth, err)
        values[f"{name}.presence"] = presence
        values[f"{name}.confidence"] = _confidence(rng, presence)
        if presence == "present":
            values.update(_details(rng, name, truth, modalities, err))
    return values


def _annotations(view: CaseView, values: Mapping[str, Any]) -> list[Annotation]:
    """A marker on the middle image of the first series for each finding read as present."""
    if not view.series or not view.series[0].headers:
        return []
    headers = view.series[0].headers
    h = headers[len(headers) // 2]
    rows, cols = h.rows or 64, h.columns or 64
    out = []
    for name in PRESENCE_FINDINGS:
        if values.get(f"{name}.presence") == "present":
            centre = (rows / 2.0, cols / 2.0)
            points = ((centre[0] - rows / 10, centre[1] - cols / 10),
                      (centre[0] + rows / 10, centre[1] + cols / 10))
            out.append(Annotation(None, name, "ellipse", h.sop_instance_uid, 0, points, {},
                                  name.replace("_", " ")))
    return out


def _create_users(trial: Trial, session: Session, passwords: Mapping[str, str]
                  ) -> tuple[DemoUser, ...]:
    existing = {u.username for u in trial.list_users(session)}
    users = []
    for username, display, role in DEMO_ACCOUNTS:
        password = passwords.get(username, f"{username}-demo")
        if username not in existing:
            trial.create_user(session, username, display, role, password)
        users.append(DemoUser(username, display, role, password))
    return tuple(users)


def _truth_by_case(trial: Trial, session: Session, truth: Mapping[str, Any]
                   ) -> dict[str, dict[str, Any]]:
    by_study = {r["study_instance_uid"]: r for r in truth.get("timepoints", [])}
    return {s.case_label: by_study[s.study_instance_uid]
            for s in trial.list_studies(session)
            if s.case_label and s.study_instance_uid in by_study}


def _plan(n: int, rng: random.Random) -> list[str]:
    """What a reader does with each worklist item, in order: most signed, a few in progress
    (draft saved), the last few not started."""
    n_new = max(1, round(n * 0.08)) if n >= 3 else 0
    n_draft = max(1, round(n * 0.08)) if n >= 4 else 0
    n_new += rng.randint(0, 1) if n >= 10 else 0
    return ["sign"] * (n - n_new - n_draft) + ["draft"] * n_draft + ["new"] * n_new


def _read_worklist(trial: Trial, reader: DemoUser, cases: Mapping[str, dict[str, Any]],
                   rng: random.Random, counts: dict[str, int]) -> None:
    session = trial.login(reader.username, reader.password)
    items: list[WorklistItem] = [i for i in trial.worklist(session)
                                 if i.status is ReadStatus.NEW]
    for item, action in zip(items, _plan(len(items), rng)):
        record = cases.get(item.case_label)
        if action == "new" or record is None:
            counts[ReadStatus.NEW.value] += 1
            continue
        view = trial.open_case(session, item.assignment_id)
        modalities = {s.modality for s in view.series}
        values = simulate_values(rng, record, view.timepoint, modalities)
        if action == "draft":
            keep = list(values)[: rng.randint(3, 8)]
            values = {k: values[k] for k in keep}
        trial.save_draft(session, view.read_id, values, annotations=_annotations(view, values),
                         active_seconds=round(rng.uniform(90, 900), 1))
        if action == "sign" and not trial.validate_read(session, view.read_id):
            trial.submit_read(session, view.read_id, reader.password)
            counts[ReadStatus.SUBMITTED.value] += 1
        else:
            counts[ReadStatus.IN_PROGRESS.value] += 1
    trial.logout(session)


def populate_demo(trial: Trial, session: Session, ground_truth_path: str | Path, *,
                  seed: int = 2026, passwords: Mapping[str, str] | None = None) -> DemoUsers:
    """Set up the demo trial on imported demo studies (see the module docstring).

    `session` is a coordinator/admin session (the CLI's workstation session); demo passwords
    are "<username>-demo" unless `passwords` gives others.  Deterministic for a given seed
    (apart from the random case labels).
    """
    truth = json.loads(Path(ground_truth_path).read_text(encoding="utf-8"))
    trial.install_protocol(session, default_protocol_path())
    users = _create_users(trial, session, passwords or {})
    insertion = {s["subject_id"]: s["insertion_date"] for s in truth.get("subjects", [])
                 if s.get("insertion_date")}
    review_burned_in_text(trial, session)  # before readers see images, as a coordinator would
    trial.build_cases_from_studies(session, insertion)
    ids = {u.username: u.id for u in trial.list_users(session)}
    readers = [u for u in users if u.role is Role.READER]
    trial.generate_assignments(session, [ids[u.username] for u in readers], seed=seed)
    cases = _truth_by_case(trial, session, truth)
    counts = {s.value: 0 for s in ReadStatus}
    for reader in readers:
        _read_worklist(trial, reader, cases, random.Random(f"{seed}:{reader.username}"), counts)
    report = trial.progress(session)
    decided = _adjudicate(trial, users, cases)
    closed = _committee(trial, session, users, ids, cases)
    info = trial.info(session).adjudication or {}
    return DemoUsers(users, counts, report.open_discordances, decided,
                     info.get("pending", 0), closed)


_TRUTH = _Error(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)


def _truth_values(record: Mapping[str, Any], timepoint: str) -> dict[str, Any]:
    """The answers an error-free reader would give (what simulated adjudicators side with)."""
    return simulate_values(random.Random(0), record, timepoint, {"CT", "MR", "US", "CR"}, _TRUTH)


def _decide(items: Any, reads: Any, truth: Mapping[str, Any], committee_field: Any,
            committee: bool = False) -> list[Decision]:
    """Per item: the reader who matches the ground truth, else the truth as an own value;
    committee-only items: no fat embolism syndrome criteria met."""
    out = []
    for item in items:
        key = item.key
        want = truth.get(key)
        if committee and key.startswith("committee."):
            f = committee_field(key)
            value = [] if f.type.value == "multi_choice" else (
                "no" if f.choice("no") is not None else None)
            out.append(Decision(key, "own", value, "clinical records reviewed"))
            continue
        match = next((r.letter for r in reads
                      if (r.values.get(key) == want or (r.values.get(key) in (None, [], "")
                                                        and want in (None, [], "")))), None)
        if match is not None:
            out.append(Decision(key, match))
        else:
            out.append(Decision(key, "own", want, "neither reader matches the reference images"))
    return out


def _adjudicate(trial: Trial, users: tuple[DemoUser, ...], cases: Mapping[str, dict[str, Any]]
                ) -> int:
    """The adjudicators decide about two thirds of the pending adjudications from the ground
    truth (oldest first) and leave the rest pending, so both screens have data."""
    sessions = {u.username: (u, trial.login(u.username, u.password))
                for u in users if u.role is Role.ADJUDICATOR}
    queue = sorted(((item.waiting_since, item.adjudication_id, name)
                    for name, (_u, s) in sessions.items()
                    for item in trial.adjudication_queue(s)))
    keep = max(1, len(queue) // 3) if len(queue) >= 2 else 0
    decided = 0
    for _since, adjudication_id, name in queue[: len(queue) - keep]:
        user, session = sessions[name]
        view = trial.open_adjudication(session, adjudication_id)
        record = cases.get(view.case_label)
        if record is None:
            continue
        truth = _truth_values(record, view.timepoint)
        trial.submit_adjudication(session, adjudication_id,
                                  _decide(view.items, view.reads, truth,
                                          view.protocol.committee_field),
                                  user.password)
        decided += 1
    for _user, session in sessions.values():
        trial.logout(session)
    return decided


def _committee(trial: Trial, session: Session, users: tuple[DemoUser, ...],
               ids: Mapping[str, int], cases: Mapping[str, dict[str, Any]]) -> int:
    """One closed committee session: the coordinator sends a decided case to the committee
    (e.g. to rule on fat embolism syndrome), the members vote from the ground truth, the chair
    finalises with minutes."""
    members = [u for u in users if u.role is Role.COMMITTEE]
    overview = trial.adjudication_overview(session)
    candidates = [c for c in overview.cases if c.stage == "decided"]
    if len(members) < 3 or not candidates:
        return 0
    case = candidates[0]
    trial.send_to_panel(session, case.case_id,
                        "Committee to confirm the outcome and rule on fat embolism syndrome")
    chair = members[0]
    summary = trial.create_panel_session(session, "Committee meeting 1", ids[chair.username],
                                         [ids[m.username] for m in members], [case.case_id])
    chair_session = trial.login(chair.username, chair.password)
    trial.record_attendance(chair_session, summary.session_id,
                            {ids[m.username]: True for m in members})
    record = cases.get(case.case_label, {})
    for member in members:
        member_session = chair_session if member is chair else trial.login(member.username,
                                                                            member.password)
        view = trial.open_panel_session(member_session, summary.session_id)
        pcase = view.cases[0]
        truth = _truth_values(record, pcase.timepoint) if record else {}
        trial.cast_votes(member_session, summary.session_id, case.case_id,
                         _decide(pcase.items, pcase.reads, truth,
                                 view.protocol.committee_field, committee=True),
                         member.password)
        if member is not chair:
            trial.logout(member_session)
    trial.finalise_panel_session(
        chair_session, summary.session_id,
        "All three members present. The imaging outcome was confirmed; the clinical criteria "
        "of fat embolism syndrome were not met.", chair.password)
    trial.logout(chair_session)
    return 1


def review_burned_in_text(trial: Any, session: Any) -> tuple[int, int]:
    """As a coordinator would before readers see the images: mask the ultrasound banner of
    series that say their pixels carry text (the synthetic machine burns it into
    `US_TEXT_BOX`), and confirm the other flagged series clean (both audited).  Returns the
    numbers masked and confirmed."""
    masked = confirmed = 0
    for series in trial.list_burned_in_series(session, include_decided=False):
        if "YES" in series.reason:
            trial.mask_burned_in_text(session, series.series_pk, [US_TEXT_BOX])
            masked += 1
        else:
            trial.confirm_no_burned_in_text(session, series.series_pk)
            confirmed += 1
    return masked, confirmed
