"""Adjudication through the service: 2+1, 2-of-3 and the committee on a real trial database
(both backends), with signatures, audit records, blinding and reopening after amendments."""
from __future__ import annotations

import json
from typing import Any

import pytest

from adjudication.paradigms import Decision
from adjudication.protocol import default_protocol_path
from ioreview.service import (BlindingViolation, InvalidInput, PermissionDenied, Role,
                              SignatureRejected)
from ioreview.store.engine import ProtectedRecord

from test_trial_helpers import PASSWORDS, World, complete_values, fast_kdf, make_world  # noqa: F401

pytestmark = pytest.mark.usefixtures("trial_backend", "fast_kdf")

PASSWORDS.update({"adjudicator2": "adjudicator2-password", "chair": "chair-password",
                  "member2": "member2-password", "member3": "member3-password",
                  "member4": "member4-password"})


def _protocol(paradigm: str = "two_plus_one", **panel: Any) -> str:
    text = default_protocol_path().read_text(encoding="utf-8")
    text = text.replace('paradigm = "two_plus_one"', f'paradigm = "{paradigm}"')
    for key, value in panel.items():
        old = next(line for line in text.splitlines() if line.startswith(f"{key} = "))
        text = text.replace(old, f"{key} = {json.dumps(value) if not isinstance(value, bool) else str(value).lower()}")
    return text


def _world(tmp_path, paradigm="two_plus_one", **panel: Any) -> World:
    w = make_world(tmp_path, protocol_text=_protocol(paradigm, **panel))
    for name, role in (("adjudicator2", Role.ADJUDICATOR), ("chair", Role.COMMITTEE),
                       ("member2", Role.COMMITTEE), ("member3", Role.COMMITTEE),
                       ("member4", Role.COMMITTEE)):
        w.user_ids[name] = w.trial.create_user(w.admin, name, name.title(), role,
                                               PASSWORDS[name]).id
    return w


def _readers_of(w: World, case_id: int) -> list[str]:
    names = {v: k for k, v in w.user_ids.items()}
    with w.store.unit_of_work("test", write=False) as uow:
        return [names[r.reader_id] for r in uow.assignments.primary_reads(case_id)]


def _read(w: World, reader: str, case_id: int, values: dict[str, Any]) -> int:
    session = w.login(reader)
    with w.store.unit_of_work("test", write=False) as uow:
        assignment = next(a for a in uow.assignments.of_case(case_id)
                          if a.reader_id == w.user_ids[reader] and not a.is_reread)
    view = w.trial.open_case(session, assignment.id)
    w.trial.save_draft(session, view.read_id, values)
    w.trial.submit_read(session, view.read_id, PASSWORDS[reader])
    return view.read_id


def _case_with_timepoint(w: World, timepoint: str = "post-insertion") -> tuple[int, dict[str, Any]]:
    case = next(c for c in w.trial.list_cases(w.admin) if c.timepoint == timepoint)
    return case.id, complete_values(timepoint)


def _refused(w: World, statements: dict[str, str]) -> None:
    """Each statement, run straight on the database, is refused by its triggers (schema 10)
    with the message given; nothing changes."""
    for statement, message in statements.items():
        with pytest.raises(ProtectedRecord, match=message):
            with w.store.unit_of_work("intruder") as uow:
                uow.execute(statement)


def _discordant_case(w: World) -> tuple[int, list[str]]:
    case_id, base = _case_with_timepoint(w)
    a, b = _readers_of(w, case_id)
    _read(w, a, case_id, {**base, "extravasation.presence": "present",
                          "extravasation.confidence": 5, "extravasation.compartment": ["anterior"],
                          "extravasation.severity": "moderate"})
    _read(w, b, case_id, {**base, "image_quality": "non_diagnostic"})
    return case_id, [a, b]


def test_two_plus_one_from_discordance_to_a_signed_decision(tmp_path):
    w = _world(tmp_path)
    case_id, readers = _discordant_case(w)
    coord = w.login("coord")
    status = w.trial.adjudication_status(coord, case_id)
    assert status.stage == "adjudication" and status.paradigm == "two_plus_one"
    assert {i.key for i in status.items} == {"image_quality", "extravasation.presence"}
    assert sorted(status.tasks[0].readers.values()) == sorted(readers)

    adj_name = status.tasks[0].adjudicator
    adj = w.login(adj_name)
    queue = w.trial.adjudication_queue(adj)
    # the queue names the fields to decide by key (the screen labels them in its language)
    assert len(queue) == 1 and queue[0].items[:2] == ("image_quality", "extravasation.presence")
    view = w.trial.open_adjudication(adj, queue[0].adjudication_id)
    assert [r.letter for r in view.reads] == ["A", "B"]
    keys = [i.key for i in view.items]
    # the details of the discordant finding follow its presence decision
    assert keys[:2] == ["image_quality", "extravasation.presence"]
    assert "extravasation.compartment" in keys
    assert all(i.reason and i.rule for i in view.items)
    quality = view.items[0]
    a_value = next(r.values["image_quality"] for r in view.reads if r.letter == "A")
    assert quality.reason.startswith(f"'{a_value}'")  # reasons read in letter order
    # ... and as codes with the values as recorded, for a screen in another language
    b_value = next(r.values["image_quality"] for r in view.reads if r.letter == "B")
    assert (quality.rule_code, quality.rule_params) == ("ordinal_difference", {"steps": 2})
    (why,) = quality.reasons
    assert (why.letters, why.code) == (("A", "B"), "steps_apart")
    assert (why.params["a"], why.params["b"]) == (a_value, b_value)
    compartment = next(i for i in view.items if i.key == "extravasation.compartment")
    assert [r.code for r in compartment.reasons] == ["follows_presence"]
    assert compartment.reason == "follows the finding's presence decision"
    present = next(r.letter for r in view.reads if r.values.get("extravasation.presence") == "present")
    decisions = [Decision("image_quality", "own", "adequate", "both views diagnostic")]
    decisions += [Decision(k, present) for k in keys if k != "image_quality"]
    with pytest.raises(InvalidInput, match="rationale"):
        w.trial.submit_adjudication(adj, view.adjudication_id,
                                    [Decision("image_quality", "own", "adequate")] + decisions[1:],
                                    PASSWORDS[adj_name])
    with pytest.raises(InvalidInput, match="still open"):
        w.trial.submit_adjudication(adj, view.adjudication_id, decisions[:1], PASSWORDS[adj_name])
    with pytest.raises(SignatureRejected):
        w.trial.submit_adjudication(adj, view.adjudication_id, decisions, "wrong password")
    signature = w.trial.submit_adjudication(adj, view.adjudication_id, decisions,
                                            PASSWORDS[adj_name])
    assert signature.meaning == "I confirm this adjudication"
    assert w.trial.adjudication_queue(adj) == []
    outcome = w.trial.case_outcome(coord, case_id)
    assert outcome.stage == "decided"
    by_key = {v.key: v for v in outcome.values}
    assert by_key["image_quality"].value == "adequate" and by_key["image_quality"].source == "adjudicator"
    assert by_key["extravasation.presence"].value == "present"
    assert by_key["side"].source == "concordant"
    assert w.trial.verify_audit_trail(w.admin).problems == ()
    info = w.trial.info(w.admin)
    assert info.adjudication["decided"] == 1 and info.adjudication["pending"] == 0
    views, subjects = w.trial.final_outcomes(coord)
    assert any(e.finding == "extravasation" and e.present_any for s in subjects
               for e in s.endpoints)


def _read_rows(w: World, case_id: int) -> list[Any]:
    """Every stored version of the case's reads: values, annotations, key images, signatures."""
    out = []
    with w.store.unit_of_work("test", write=False) as uow:
        for a in uow.assignments.of_case(case_id):
            read = uow.reads.for_assignment(a.id)
            if read is None:
                continue
            for v in range(1, read.version + 1):
                out.append((read.id, v, uow.reads.values(read.id, v),
                            uow.reads.annotations(read.id, v), uow.reads.key_images(read.id, v)))
            out.append(uow.signatures.of("read", read.id))
    return out


def test_original_reads_stay_untouched(tmp_path):
    w = _world(tmp_path)
    case_id, _readers = _discordant_case(w)
    before = _read_rows(w, case_id)
    task = w.trial.adjudication_status(w.login("coord"), case_id).tasks[0]
    adj = w.login(task.adjudicator)
    view = w.trial.open_adjudication(adj, task.adjudication_id)
    w.trial.submit_adjudication(adj, view.adjudication_id,
                                [Decision(i.key, "own", None, "not assessable") if i.key != "image_quality"
                                 else Decision(i.key, "own", "limited", "motion") for i in view.items],
                                PASSWORDS[task.adjudicator])
    assert _read_rows(w, case_id) == before


def test_adjudicator_sees_only_own_tasks_and_readers_none(tmp_path):
    w = _world(tmp_path)
    case_id, readers = _discordant_case(w)
    task = w.trial.adjudication_status(w.login("coord"), case_id).tasks[0]
    other = "adjudicator2" if task.adjudicator == "adjudicator" else "adjudicator"
    with pytest.raises(BlindingViolation):
        w.trial.open_adjudication(w.login(other), task.adjudication_id)
    reader = w.login(readers[0])
    for call, args in ((w.trial.adjudication_queue, ()),
                       (w.trial.open_adjudication, (task.adjudication_id,)),
                       (w.trial.case_outcome, (case_id,)),
                       (w.trial.panel_sessions, ())):
        with pytest.raises(PermissionDenied):
            call(reader, *args)


def test_amending_after_adjudication_reopens_and_keeps_the_decision(tmp_path):
    w = _world(tmp_path)
    case_id, readers = _discordant_case(w)
    coord = w.login("coord")
    task = w.trial.adjudication_status(coord, case_id).tasks[0]
    adj = w.login(task.adjudicator)
    view = w.trial.open_adjudication(adj, task.adjudication_id)
    w.trial.submit_adjudication(adj, view.adjudication_id,
                                [Decision(i.key, "A") for i in view.items],
                                PASSWORDS[task.adjudicator])
    # reader B agrees after all: the case is concordant; the decision is kept, superseded
    session = w.login(readers[1])
    read_id = next(r.read_id for r in w.trial.worklist(session) if r.status.value == "submitted")
    w.trial.amend_read(session, read_id, "missed the collection",
                       {"extravasation.presence": "present", "extravasation.confidence": 5,
                        "extravasation.compartment": ["anterior"],
                        "extravasation.severity": "moderate", "image_quality": "adequate"},
                       PASSWORDS[readers[1]])
    status = w.trial.adjudication_status(coord, case_id)
    assert status.stage == "concordant" and status.reopened
    assert [t.status for t in status.tasks] == ["superseded"]
    assert len(status.tasks[0].decisions) == len(view.items)
    # the decision and the superseded adjudication cannot be changed behind the service's back
    aid = view.adjudication_id
    _refused(w, {f"UPDATE adjudication_decision SET choice = 'B' WHERE adjudication_id = {aid}":
                 "signed adjudication",
                 f"DELETE FROM adjudication_decision WHERE adjudication_id = {aid}":
                 "signed adjudication",
                 "INSERT INTO adjudication_decision (adjudication_id, field, choice, value_json)"
                 f" VALUES ({aid}, 'x', 'A', '1')": "signed adjudication",
                 f"UPDATE adjudication SET status = 'decided' WHERE id = {aid}":
                 "signed adjudication",
                 f"DELETE FROM adjudication WHERE id = {aid}": "signed adjudication"})
    assert [t.status for t in w.trial.adjudication_status(coord, case_id).tasks] == ["superseded"]
    assert w.trial.verify_audit_trail(w.admin).problems == ()
    actions = [r.action for r in w.store.audit_records("case", case_id)]
    assert "reopen" in actions


def test_two_of_three_third_read_majority_and_adjudicator(tmp_path):
    w = _world(tmp_path, "two_of_three")
    case_id, base = _case_with_timepoint(w)
    a, b = _readers_of(w, case_id)
    _read(w, a, case_id, {**base, "needle_position.tip_position": "cortex", "side": "left"})
    _read(w, b, case_id, {**base, "needle_position.tip_position": "soft_tissue", "side": "right"})
    coord = w.login("coord")
    status = w.trial.adjudication_status(coord, case_id)
    assert status.stage == "third_read"
    third = status.third_reader
    assert third is not None and third not in (a, b)
    # the third reader reads blind: their worklist holds the case, nothing of the first reads
    session = w.login(third)
    with w.store.unit_of_work("test", write=False) as uow:
        assignment = uow.assignments.third_read(case_id)
    view = w.trial.open_case(session, assignment.id)
    assert view.values == {}
    # committee-only fields are not on any reader's form
    assert not any(k.startswith("committee.") for k in view.protocol.keys())
    # agrees with B on the side; a third needle position
    w.trial.save_draft(session, view.read_id, {**base, "side": "right"})
    w.trial.submit_read(session, view.read_id, PASSWORDS[third])
    status = w.trial.adjudication_status(coord, case_id)
    # side: two readers agree (majority); needle position: three values -> adjudicator
    assert status.stage == "adjudication"
    task = status.tasks[0]
    adj = w.login(task.adjudicator)
    aview = w.trial.open_adjudication(adj, task.adjudication_id)
    assert [i.key for i in aview.items] == ["needle_position.tip_position"]
    assert [r.letter for r in aview.reads] == ["A", "B", "C"]
    w.trial.submit_adjudication(adj, task.adjudication_id,
                                [Decision("needle_position.tip_position", "own",
                                          "through_and_through", "tip beyond the cortex")],
                                PASSWORDS[task.adjudicator])
    outcome = {v.key: v for v in w.trial.case_outcome(coord, case_id).values}
    assert outcome["side"].value == "right" and outcome["side"].source == "majority"
    assert outcome["needle_position.tip_position"].source == "adjudicator"


def test_committee_session_votes_tie_casting_vote_and_minutes(tmp_path):
    w = _world(tmp_path, "consensus_panel", quorum=4)
    case_id, _readers = _discordant_case(w)
    coord = w.login("coord")
    assert w.trial.adjudication_status(coord, case_id).stage == "panel"
    members = [w.user_ids[n] for n in ("chair", "member2", "member3", "member4")]
    candidates = w.trial.committee_candidates(w.login("chair"))
    assert [c.case_id for c in candidates.cases] == [case_id] and candidates.cases[0].subject == ""
    assert set(members) <= {m.id for m in candidates.members}
    assert w.trial.committee_candidates(coord).cases[0].subject != ""
    summary = w.trial.create_panel_session(coord, "Committee 1", w.user_ids["chair"], members,
                                           [case_id])
    sid = summary.session_id
    chair = w.login("chair")
    view = w.trial.open_panel_session(chair, sid)
    assert not view.quorum_met and "Quorum" in (view.finalise_blocker or "")
    keys = [i.key for i in view.cases[0].items]
    assert "committee.fat_embolism_syndrome" in keys
    # members by their printed names (user names stay beside them)
    assert {m.username: m.display_name for m in view.members}["member2"] == "Member2"
    assert {m.display_name for m in summary.members} == {"Chair", "Member2", "Member3",
                                                           "Member4"}
    m2 = w.login("member2")
    with pytest.raises(InvalidInput, match="present"):
        w.trial.cast_votes(m2, sid, case_id, [Decision(k, "A") for k in keys],
                           PASSWORDS["member2"])
    w.trial.record_attendance(chair, sid, {m: True for m in members})

    def ballot(name: str, letter: str) -> None:
        votes = [Decision(k, "own", "no") if k == "committee.fat_embolism_syndrome"
                 else Decision(k, "own", ["fever"]) if k == "committee.gurd_minor"
                 else Decision(k, "own", []) if k == "committee.gurd_major"
                 else Decision(k, letter) for k in keys]
        w.trial.cast_votes(w.login(name), sid, case_id, votes, PASSWORDS[name])

    ballot("chair", "A")
    # hidden until everyone present voted: member2 sees only their own vote
    ballot("member2", "B")
    item = next(i for i in w.trial.open_panel_session(m2, sid).cases[0].items
                if i.key == "image_quality")
    assert item.votes is None and item.has_my_vote and item.status == "waiting"
    with pytest.raises(InvalidInput, match="already voted"):
        ballot("member2", "A")
    ballot("member3", "A")
    ballot("member4", "B")
    view = w.trial.open_panel_session(chair, sid)
    item = next(i for i in view.cases[0].items if i.key == "image_quality")
    assert item.status == "tie" and item.votes is not None and len(item.votes) == 4
    with pytest.raises(InvalidInput, match="Not every item"):
        w.trial.finalise_panel_session(chair, sid, "Minutes", PASSWORDS["chair"])
    with pytest.raises(PermissionDenied):
        w.trial.finalise_panel_session(m2, sid, "Minutes", PASSWORDS["member2"])
    for i in view.cases[0].items:
        if i.status == "tie":
            w.trial.cast_deciding_vote(chair, sid, case_id, i.key, i.reader_values["A"],
                                       PASSWORDS["chair"])
    signature = w.trial.finalise_panel_session(chair, sid, "Met on day 30; all present.",
                                               PASSWORDS["chair"])
    assert signature.meaning.startswith("I confirm this committee decision")
    outcome = {v.key: v for v in w.trial.case_outcome(coord, case_id).values}
    assert outcome["image_quality"].source == "panel" and "casting" in outcome["image_quality"].detail
    assert outcome["committee.fat_embolism_syndrome"].value == "no"
    assert w.trial.info(w.admin).adjudication["panel_sessions_closed"] == 1
    assert w.trial.verify_audit_trail(w.admin).problems == ()
    # signed ballots and the closed session's results and minutes stay as they were signed
    _refused(w, {f"UPDATE panel_vote SET value_json = '\"B\"' WHERE session_id = {sid}":
                 "committee votes",
                 f"DELETE FROM panel_vote WHERE session_id = {sid}": "committee votes",
                 f"DELETE FROM panel_ballot WHERE session_id = {sid}": "committee votes",
                 f"UPDATE panel_session SET minutes = 'rewritten' WHERE id = {sid}":
                 "closed session",
                 f"UPDATE panel_result SET value_json = '1' WHERE session_id = {sid}":
                 "closed session",
                 "INSERT INTO panel_result (session_id, case_id, field, value_json, detail)"
                 f" VALUES ({sid}, {case_id}, 'x', '1', '')": "closed session",
                 f"UPDATE panel_case SET items_json = '[]' WHERE session_id = {sid}":
                 "closed session"})
    assert w.trial.verify_audit_trail(w.admin).problems == ()
