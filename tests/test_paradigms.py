"""The paradigms as state machines, decisions, 2-of-3 majorities, final outcomes, subject
endpoints and committee tallies: pure domain code, no Qt, no database."""
from __future__ import annotations

import itertools

import pytest

from adjudication.panel import (NoDecision, QuorumNotMet, SessionClosed, SessionStatus,
                                TallyStatus, VoteNotAllowed, check_can_finalise,
                                check_casting_vote, check_vote, tally, visible_votes)
from adjudication.paradigms import (CaseAtTimepoint, Decision, Event, FinalValue,
                                    IllegalTransition, InvalidDecision, Source, Stage, advance,
                                    combine_values, decision_items, final_outcome, majority,
                                    reader_letters, subject_endpoints, validate_decisions)
from adjudication.protocol import Paradigm, PanelRule, PanelRules, load_default_protocol

P = load_default_protocol()
TWO_PLUS_ONE, TWO_OF_THREE, PANEL = Paradigm.two_plus_one, Paradigm.two_of_three, Paradigm.consensus_panel


def read(**changes):
    values = {"image_quality": "adequate", "side": "left", "timepoint": "post-insertion",
              "needle_position.tip_position": "intramedullary"}
    for finding in ("extravasation", "haematoma", "fracture", "osteomyelitis", "fat_embolism"):
        values[f"{finding}.presence"] = "absent"
        values[f"{finding}.confidence"] = 1
    values.update({k.replace("__", "."): v for k, v in changes.items()})
    return values


# -- the state machine ---------------------------------------------------------------------------
@pytest.mark.parametrize("paradigm,expected", [(TWO_PLUS_ONE, Stage.ADJUDICATION),
                                               (TWO_OF_THREE, Stage.THIRD_READ),
                                               (PANEL, Stage.PANEL)])
def test_locked_reads_go_where_the_paradigm_says(paradigm, expected):
    assert advance(paradigm, Stage.READING, Event.READS_LOCKED, discordant=False) is Stage.CONCORDANT
    assert advance(paradigm, Stage.READING, Event.READS_LOCKED, discordant=True) is expected


def test_two_plus_one_path_and_illegal_steps():
    stage = advance(TWO_PLUS_ONE, Stage.READING, Event.READS_LOCKED, discordant=True)
    assert advance(TWO_PLUS_ONE, stage, Event.ADJUDICATED) is Stage.DECIDED
    for bad_stage, event in [(Stage.READING, Event.ADJUDICATED), (Stage.DECIDED, Event.ADJUDICATED),
                             (Stage.CONCORDANT, Event.PANEL_DECIDED),
                             (Stage.ADJUDICATION, Event.THIRD_READ_LOCKED),
                             (Stage.ADJUDICATION, Event.READS_LOCKED),
                             (Stage.READING, Event.SENT_TO_PANEL),
                             (Stage.PANEL, Event.SENT_TO_PANEL)]:
        with pytest.raises(IllegalTransition, match=bad_stage.value):
            advance(TWO_PLUS_ONE, bad_stage, event)


def test_two_of_three_third_read_majority_or_adjudicator():
    assert advance(TWO_OF_THREE, Stage.THIRD_READ, Event.THIRD_READ_LOCKED,
                   unresolved=False) is Stage.DECIDED
    # the third read is discordant with both: the fields without a majority go to an adjudicator
    assert advance(TWO_OF_THREE, Stage.THIRD_READ, Event.THIRD_READ_LOCKED,
                   unresolved=True) is Stage.ADJUDICATION
    with pytest.raises(IllegalTransition):
        advance(TWO_PLUS_ONE, Stage.THIRD_READ, Event.THIRD_READ_LOCKED)


def test_amendment_reopens_every_later_stage():
    for paradigm, stage in itertools.product(Paradigm, [Stage.CONCORDANT, Stage.DECIDED,
                                                        Stage.ADJUDICATION, Stage.PANEL]):
        assert advance(paradigm, stage, Event.READ_AMENDED, discordant=False) is Stage.CONCORDANT
    assert advance(TWO_PLUS_ONE, Stage.DECIDED, Event.READ_AMENDED,
                   discordant=True) is Stage.ADJUDICATION
    assert advance(TWO_OF_THREE, Stage.DECIDED, Event.READ_AMENDED, discordant=True,
                   third_read_locked=True, unresolved=False) is Stage.DECIDED
    assert advance(TWO_OF_THREE, Stage.DECIDED, Event.READ_AMENDED, discordant=True,
                   third_read_locked=False) is Stage.THIRD_READ
    assert advance(PANEL, Stage.READING, Event.READ_AMENDED) is Stage.READING


def test_coordinator_sends_to_the_committee_by_hand():
    for stage in (Stage.ADJUDICATION, Stage.CONCORDANT, Stage.DECIDED):
        assert advance(TWO_PLUS_ONE, stage, Event.SENT_TO_PANEL) is Stage.PANEL
    assert advance(TWO_PLUS_ONE, Stage.PANEL, Event.PANEL_DECIDED) is Stage.DECIDED
    with pytest.raises(IllegalTransition, match="third read"):
        advance(TWO_OF_THREE, Stage.THIRD_READ, Event.SENT_TO_PANEL)


# -- items, decisions, majorities ----------------------------------------------------------------
def test_decision_items_include_the_details_of_a_discordant_presence():
    a = read(extravasation__presence="present", extravasation__confidence=5,
             extravasation__compartment=["anterior"], extravasation__severity="mild",
             extravasation__comment="small")
    b = read(image_quality="non_diagnostic")
    items = decision_items(P, a, b)
    assert items[:2] == ("image_quality", "extravasation.presence")
    assert {"extravasation.confidence", "extravasation.compartment",
            "extravasation.severity"} <= set(items)
    assert "extravasation.comment" not in items  # free text is not adjudicated
    assert decision_items(P, a, a) == ()


def test_decisions_are_validated():
    a, b = read(image_quality="non_diagnostic"), read()
    items = ("image_quality",)
    reads = {"A": a, "B": b}
    got = validate_decisions(P, items, reads, [Decision("image_quality", "B")])
    assert got["image_quality"].value == "adequate"
    with pytest.raises(InvalidDecision, match="rationale"):
        validate_decisions(P, items, reads, [Decision("image_quality", "own", "limited")])
    with pytest.raises(InvalidDecision, match="not one of"):
        validate_decisions(P, items, reads, [Decision("image_quality", "own", "great", "x")])
    with pytest.raises(InvalidDecision, match="Reader A, Reader B"):
        validate_decisions(P, items, reads, [Decision("image_quality", "C")])
    with pytest.raises(InvalidDecision, match="twice"):
        validate_decisions(P, items, reads, [Decision("image_quality", "A")] * 2)
    with pytest.raises(InvalidDecision, match="still open"):
        validate_decisions(P, items, reads, [])
    with pytest.raises(InvalidDecision, match="not an item"):
        validate_decisions(P, items, reads, [Decision("side", "A")])
    num = ("extravasation.volume_ml",)
    with pytest.raises(InvalidDecision, match="outside|not a number"):
        validate_decisions(P, num, reads, [Decision(num[0], "own", float("nan"), "x")])


def test_majority_per_field_and_unresolved_fields():
    a = read(side="left", needle_position__tip_position="cortex")
    b = read(side="right", needle_position__tip_position="soft_tissue")
    c = read(side="right", needle_position__tip_position="intramedullary")
    items = decision_items(P, a, b)
    found = majority(P, {"A": a, "B": b, "C": c}, items)
    assert found.values["side"] == ("right", ("B", "C"))
    assert found.unresolved == ("needle_position.tip_position",)
    # a third read discordant with both readers on every field leaves everything unresolved
    d = read(side="left", needle_position__tip_position="epiphysis_joint")
    e = read(side="right", needle_position__tip_position="not_assessable")
    assert majority(P, {"A": a, "B": e, "C": d}, ("needle_position.tip_position",)).unresolved


def test_combine_values_of_agreeing_readers():
    f = P.field("extravasation.volume_ml")
    assert combine_values(f, [10.0, 12.0]) == 11.0
    assert combine_values(f, [13.3, 13.4]) == 13.35
    assert combine_values(P.field("extravasation.confidence"), [4, 5]) == 5
    assert combine_values(P.field("fat_embolism.lung_signs"),
                          [["ground_glass"], ["septal_thickening"]]) == ["ground_glass",
                                                                         "septal_thickening"]
    assert combine_values(P.field("image_quality"), ["adequate", "limited"]) == "limited"
    assert combine_values(f, [None, None]) is None


def test_final_outcome_keeps_the_source_of_every_value():
    a = read(image_quality="non_diagnostic", fracture__comment="old")
    b = read(fracture__comment="none seen")
    resolved = {"image_quality": FinalValue("image_quality", "limited", Source.ADJUDICATOR,
                                            "own value: motion")}
    outcome = final_outcome(P, [a, b], resolved)
    assert outcome.get("image_quality").source is Source.ADJUDICATOR
    assert outcome.get("side").source is Source.CONCORDANT and outcome.get("side").value == "left"
    assert outcome.get("fracture.comment").source is Source.NOT_ADJUDICATED
    # confidence on the same side of indeterminate is combined, not left unadjudicated
    both = final_outcome(P, [read(fracture__confidence=1), read(fracture__confidence=2)], {})
    assert both.get("fracture.confidence").value == 2
    assert both.get("fracture.confidence").source is Source.CONCORDANT
    assert outcome.get("extravasation.volume_ml") is None  # nobody was asked


def test_reader_letters_are_drawn_per_case():
    firsts = {reader_letters([11, 12], seed)["A"] for seed in range(40)}
    assert firsts == {11, 12}  # the letter says nothing about who read
    assert reader_letters([11, 12], 7) == reader_letters([12, 11], 7)


def test_subject_endpoints_across_timepoints():
    def outcome(**kw):
        return final_outcome(P, [read(**kw), read(**kw)], {})
    cases = [
        CaseAtTimepoint("C1", "baseline", -1, outcome()),
        CaseAtTimepoint("C2", "post-insertion", 0,
                        outcome(extravasation__presence="present", extravasation__confidence=5,
                                extravasation__compartment=["anterior"],
                                extravasation__severity="mild")),
        CaseAtTimepoint("C3", "post-removal", 2,
                        outcome(extravasation__presence="present", extravasation__confidence=5,
                                extravasation__compartment=["anterior"],
                                extravasation__severity="severe")),
        CaseAtTimepoint("C4", "follow-up", 14, None),
    ]
    ends = {e.finding: e for e in subject_endpoints(P, cases)}
    ext = ends["extravasation"]
    assert ext.present_any and ext.first_timepoint == "post-insertion" and ext.first_day == 0
    assert ext.worst_severity == "severe" and not ext.complete and ext.cases_final == 3
    assert ends["fracture"].present_any is False
    assert subject_endpoints(P, [CaseAtTimepoint("C9", "baseline", 0, None)])[0].present_any is None


# -- committee tallies ---------------------------------------------------------------------------
MAJ, UNA = PanelRules(PanelRule.majority, 3, True), PanelRules(PanelRule.unanimity, 3, True)


def test_majority_tie_and_the_chairs_casting_vote():
    present = {1, 2, 3, 4}
    votes = {1: "A", 2: "A", 3: "B", 4: "B"}
    t = tally(votes, present, MAJ)
    assert t.status is TallyStatus.TIE and t.counts == (('"A"', 2), ('"B"', 2))
    t = tally(votes, present, MAJ, "B", has_casting_vote=True)
    assert t.status is TallyStatus.DECIDED and t.value == "B" and t.casting
    assert tally({1: "A", 2: "A", 3: "B"}, {1, 2, 3}, MAJ).value == "A"
    assert tally({1: "A"}, {1, 2, 3}, MAJ).status is TallyStatus.WAITING
    # absent members' votes never count
    assert tally({1: "A", 9: "B"}, {1}, MAJ).value == "A"
    # multi-choice answers compare as sets
    assert tally({1: ["x", "y"], 2: ["y", "x"]}, {1, 2}, UNA).status is TallyStatus.DECIDED


def test_unanimity_needs_everyone():
    assert tally({1: "A", 2: "A", 3: "B"}, {1, 2, 3}, UNA).status is TallyStatus.NO_CONSENSUS
    assert tally({1: "A", 2: "A", 3: "A"}, {1, 2, 3}, UNA).value == "A"


def test_votes_and_casting_votes_are_checked():
    items = {(1, "k")}
    check_vote(SessionStatus.OPEN, {1, 2}, {1, 2}, 1, (1, "k"), items, set())
    with pytest.raises(VoteNotAllowed, match="present"):
        check_vote(SessionStatus.OPEN, {1, 2}, {2}, 1, (1, "k"), items, set())
    with pytest.raises(VoteNotAllowed, match="members"):
        check_vote(SessionStatus.OPEN, {1, 2}, {1, 2}, 3, (1, "k"), items, set())
    with pytest.raises(VoteNotAllowed, match="already voted"):
        check_vote(SessionStatus.OPEN, {1, 2}, {1, 2}, 1, (1, "k"), items, {1})
    with pytest.raises(VoteNotAllowed, match="not an item"):
        check_vote(SessionStatus.OPEN, {1, 2}, {1, 2}, 1, (1, "other"), items, set())
    with pytest.raises(SessionClosed):
        check_vote(SessionStatus.CLOSED, {1, 2}, {1, 2}, 1, (1, "k"), items, set())
    tie = tally({1: "A", 2: "B"}, {1, 2}, MAJ)
    check_casting_vote(SessionStatus.OPEN, 1, 1, tie)
    with pytest.raises(VoteNotAllowed, match="chair"):
        check_casting_vote(SessionStatus.OPEN, 1, 2, tie)
    with pytest.raises(VoteNotAllowed, match="waiting"):
        check_casting_vote(SessionStatus.OPEN, 1, 1, tally({1: "A"}, {1, 2}, MAJ))


def test_finalising_needs_quorum_decisions_and_minutes():
    decided = {(1, "k"): tally({1: "A", 2: "A", 3: "A"}, {1, 2, 3}, MAJ)}
    check_can_finalise(SessionStatus.OPEN, 3, {1, 2, 3}, decided, "minutes")
    with pytest.raises(QuorumNotMet, match="2 member"):
        check_can_finalise(SessionStatus.OPEN, 3, {1, 2}, decided, "minutes")
    with pytest.raises(NoDecision, match="minutes"):
        check_can_finalise(SessionStatus.OPEN, 3, {1, 2, 3}, decided, "  ")
    tied = {(1, "k"): tally({1: "A", 2: "B"}, {1, 2}, MAJ)}
    with pytest.raises(NoDecision, match="tie"):
        check_can_finalise(SessionStatus.OPEN, 2, {1, 2}, tied, "minutes")
    with pytest.raises(SessionClosed):
        check_can_finalise(SessionStatus.CLOSED, 3, {1, 2, 3}, decided, "minutes")


def test_hidden_votes_until_everyone_present_voted():
    votes = {1: "A", 2: "B"}
    assert visible_votes(votes, {1, 2, 3}, 1, hidden=True, closed=False) == {1: "A"}
    assert visible_votes(votes, {1, 2, 3}, 1, hidden=False, closed=False) == votes
    assert visible_votes(votes, {1, 2}, 3, hidden=True, closed=False) == votes
    assert visible_votes(votes, {1, 2, 3}, 3, hidden=True, closed=True) == votes
