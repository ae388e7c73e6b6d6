"""Per-field discordance rules between two independent reads."""
from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given, strategies as st

from adjudication.discordance import (
    Discordance,
    Mismatch,
    NoDiscordance,
    NumericDifference,
    OrdinalDifference,
    PresenceOrConfidence,
    RuleKind,
    find_discordant_fields,
    parse_rule,
)
from adjudication.protocol import Protocol, load_default_protocol
from protocol_support import negative_read


@pytest.fixture(scope="module")
def protocol() -> Protocol:
    return load_default_protocol()


base_read = negative_read


def with_extravasation(**changes: Any) -> dict[str, Any]:
    values = base_read()
    values.update({
        "extravasation.presence": "present",
        "extravasation.confidence": 5,
        "extravasation.compartment": ["anterior"],
        "extravasation.volume_ml": 40.0,
        "extravasation.severity": "moderate",
        "extravasation.location": "anterolateral",
    })
    values.update({f"extravasation.{k}": v for k, v in changes.items()})
    return values


def keys(discordances: list[Discordance]) -> list[str]:
    return [d.key for d in discordances]


# --- rules on their own ------------------------------------------------------------------------


def test_parse_rule_forms() -> None:
    assert parse_rule("mismatch") == Mismatch()
    assert parse_rule("none") == NoDiscordance()
    assert parse_rule("presence_or_confidence_across_indeterminate") == PresenceOrConfidence()
    assert parse_rule({"ordinal_difference": 2}) == OrdinalDifference(2)
    assert parse_rule({"relative": 0.3, "absolute": 5}) == NumericDifference(0.3, 5.0)
    assert parse_rule({"absolute": 15}) == NumericDifference(0.0, 15.0)
    assert parse_rule({"relative": 0.3}).kind is RuleKind.numeric


@pytest.mark.parametrize(
    "raw,fragment",
    [
        ("mismach", "did you mean 'mismatch'?"),
        ({"ordinal_difference": 0}, "whole number >= 1"),
        ({"ordinal_difference": 1.5}, "whole number >= 1"),
        ({"relative": -1}, "relative must be a number >= 0"),
        ({"absolute": "5"}, "absolute must be a number >= 0"),
        ({"relative": 0.3, "steps": 1}, "either ordinal_difference or relative/absolute"),
        ({}, "either ordinal_difference or relative/absolute"),
        (3, "expected a rule name or table"),
    ],
)
def test_parse_rule_errors(raw: Any, fragment: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_rule(raw)
    assert fragment in str(info.value)


def test_mismatch() -> None:
    rule = Mismatch()
    assert rule.compare("a", "a") is None
    assert rule.compare("a", "b") == "'a' vs 'b'"
    assert rule.compare(["x", "y"], ("y", "x")) is None  # selections compare as sets
    assert rule.compare(None, "") is None
    assert rule.compare(None, "b") == "Reader A left it empty, the other recorded 'b'"
    assert rule.compare(True, 1) is not None


def test_ordinal_difference(protocol: Protocol) -> None:
    quality = protocol.field("image_quality")  # adequate, limited, non_diagnostic
    two = OrdinalDifference(2)
    assert two.compare("adequate", "limited", quality) is None
    assert two.compare("adequate", "non_diagnostic", quality) == (
        "'adequate' vs 'non_diagnostic': 2 steps apart (threshold 2)")
    one = OrdinalDifference(1)
    assert one.compare("mild", "moderate", protocol.field("extravasation.severity")) is not None
    assert one.compare(3, 3) is None and OrdinalDifference(2).compare(2, 3) is None


def test_numeric_needs_both_thresholds_exceeded() -> None:
    rule = NumericDifference(relative=0.30, absolute=5)
    assert rule.compare(40, 44) is None            # 4 mL: under the absolute threshold
    assert rule.compare(100, 120) is None          # 20 mL but only 17 %
    assert rule.compare(2, 6) is None              # 67 % but only 4 mL
    assert rule.compare(40, 60) is not None        # 20 mL and 33 %
    assert rule.compare(0, 0) is None
    assert NumericDifference(absolute=15).compare(-20, 63) is not None
    assert NumericDifference().compare(1, 1.0) is None
    assert NumericDifference().compare(1, 1.5) is not None


def test_numeric_reason_names_unit(protocol: Protocol) -> None:
    reason = NumericDifference(0.3, 5).compare(40, 60, protocol.field("extravasation.volume_ml"))
    assert reason == "40 vs 60: differ by 20 mL (33%), more than 5 mL and 30%"


finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
thresholds = st.floats(min_value=0, max_value=1e3, allow_nan=False, allow_infinity=False)


@given(a=finite, b=finite, relative=st.floats(min_value=0, max_value=2), absolute=thresholds)
def test_numeric_discordance_is_symmetric(a: float, b: float, relative: float, absolute: float) -> None:
    rule = NumericDifference(relative=relative, absolute=absolute)
    assert rule.is_discordant(a, b) == rule.is_discordant(b, a)
    assert (rule.compare(a, b) is None) == (rule.compare(b, a) is None)


@given(a=finite, relative=st.floats(min_value=0, max_value=2), absolute=thresholds)
def test_a_value_never_disagrees_with_itself(a: float, relative: float, absolute: float) -> None:
    assert not NumericDifference(relative, absolute).is_discordant(a, a)


@given(a=finite, b=finite, relative=st.floats(min_value=0, max_value=2), absolute=thresholds)
def test_numeric_discordance_means_both_thresholds_exceeded(a: float, b: float, relative: float, absolute: float) -> None:
    diff = abs(a - b)
    scale = max(abs(a), abs(b))
    rel = diff / scale if scale else 0.0
    expected = diff > 0 and diff > absolute and rel > relative
    assert NumericDifference(relative, absolute).is_discordant(a, b) == expected


def test_presence_or_confidence() -> None:
    rule = PresenceOrConfidence()
    assert rule.compare("present", "present") is None
    assert rule.compare("present", "absent") == "presence 'present' vs 'absent'"
    assert rule.compare_confidence(2, 4, 3.0) is not None
    assert rule.compare_confidence(3, 5, 3.0) is None  # 3 is the midpoint itself
    assert rule.compare_confidence(4, 5, 3.0) is None
    assert rule.compare_confidence(None, 5, 3.0) is None


# --- two reads of one case --------------------------------------------------------------------


def test_identical_reads_agree(protocol: Protocol) -> None:
    assert find_discordant_fields(protocol, with_extravasation(), with_extravasation()) == []


def test_presence_disagreement_reports_presence_only(protocol: Protocol) -> None:
    found = find_discordant_fields(protocol, with_extravasation(), base_read())
    assert keys(found) == ["extravasation.presence"]
    d = found[0]
    assert (d.value_a, d.value_b) == ("present", "absent")
    assert isinstance(d.rule, PresenceOrConfidence)
    assert d.reason == "presence 'present' vs 'absent' (confidence 5 vs 1)"


def test_confidence_across_indeterminate(protocol: Protocol) -> None:
    a, b = base_read(), base_read()
    a["fracture.presence"] = b["fracture.presence"] = "indeterminate"
    a["fracture.confidence"], b["fracture.confidence"] = 2, 4
    found = find_discordant_fields(protocol, a, b)
    assert keys(found) == ["fracture.confidence"]
    assert (found[0].value_a, found[0].value_b) == (2, 4)
    b["fracture.confidence"] = 3
    assert find_discordant_fields(protocol, a, b) == []


def test_detail_fields_follow_their_rules(protocol: Protocol) -> None:
    a = with_extravasation()
    b = with_extravasation(volume_ml=44.0, severity="severe", compartment=["anterior", "lateral"],
                           location="posterior")
    found = {d.key: d for d in find_discordant_fields(protocol, a, b)}
    assert set(found) == {"extravasation.compartment", "extravasation.severity"}  # volume within 5 mL; text not adjudicated
    assert isinstance(found["extravasation.severity"].rule, OrdinalDifference)
    b["extravasation.volume_ml"] = 80.0
    assert "extravasation.volume_ml" in keys(find_discordant_fields(protocol, a, b))


def test_details_compared_when_both_present_or_indeterminate(protocol: Protocol) -> None:
    a = with_extravasation()
    b = with_extravasation(presence="indeterminate", confidence=3, severity="mild")
    assert keys(find_discordant_fields(protocol, a, b)) == ["extravasation.presence", "extravasation.severity"]


def test_read_level_fields(protocol: Protocol) -> None:
    a, b = base_read(), base_read()
    b["side"] = "right"
    b["image_quality"] = "limited"
    found = find_discordant_fields(protocol, a, b)
    assert keys(found) == ["side"]


def test_fields_hidden_in_either_read_are_not_compared(protocol: Protocol) -> None:
    a, b = base_read(), base_read()
    for read in (a, b):
        read["fat_embolism.presence"] = "present"
        read["fat_embolism.confidence"] = 4
    a["fat_embolism.filling_defect"] = True
    a["fat_embolism.filling_defect_hu"] = 30.0
    b["fat_embolism.filling_defect"] = False
    assert keys(find_discordant_fields(protocol, a, b)) == ["fat_embolism.filling_defect"]


def test_one_reader_left_a_detail_empty(protocol: Protocol) -> None:
    a = with_extravasation()
    b = with_extravasation()
    del b["extravasation.volume_ml"]
    (d,) = find_discordant_fields(protocol, a, b)
    assert d.key == "extravasation.volume_ml" and d.value_b is None
    assert d.reason.startswith("Reader B left it empty")
    assert math.isclose(d.value_a, 40.0)


# -- reasons as codes with parameters (a user interface says them in its own language) -----------
def test_every_discordance_carries_its_reason_as_a_code_with_the_recorded_values(
        protocol: Protocol) -> None:
    a = with_extravasation()
    b = with_extravasation(presence="indeterminate", confidence=3, severity="mild",
                           compartment=["lateral"], volume_ml=80.0)
    found = {d.key: d for d in find_discordant_fields(protocol, a, b)}
    for d in found.values():
        assert d.detail is not None and d.detail.text == d.reason
    sev = found["extravasation.severity"].detail
    assert (sev.code, sev.params) == ("steps_apart", {"a": "moderate", "b": "mild", "gap": 1.0,
                                                      "steps": 1})
    assert found["extravasation.presence"].detail.params == {
        "a": "present", "b": "indeterminate", "confidence_a": 5, "confidence_b": 3}
    comp = found["extravasation.compartment"].detail
    assert (comp.code, comp.params) == ("values_differ", {"a": ["anterior"], "b": ["lateral"]})
    assert comp.text == "['anterior'] vs ['lateral']"  # the English text as before
    vol = found["extravasation.volume_ml"].detail
    assert vol.code == "numeric_difference"
    assert vol.params["unit"] == "mL" and math.isclose(vol.params["difference"], 40.0)
    assert math.isclose(vol.params["relative_difference"], 0.5)


def test_reason_codes_of_empty_values_and_confidence(protocol: Protocol) -> None:
    a, b = with_extravasation(), with_extravasation()
    del b["extravasation.volume_ml"]
    (d,) = find_discordant_fields(protocol, a, b)
    assert (d.detail.code, d.detail.params) == ("one_empty", {"empty": "B", "value": 40.0})
    a, b = base_read(), base_read()
    a["fracture.presence"] = b["fracture.presence"] = "indeterminate"
    a["fracture.confidence"], b["fracture.confidence"] = 2, 4
    (d,) = find_discordant_fields(protocol, a, b)
    assert (d.detail.code, d.detail.params) == ("confidence_across",
                                                {"a": 2, "b": 4, "midpoint": 3.0})
    assert Mismatch().explain(None, "") is None and Mismatch().compare(None, []) is None


def test_rules_name_their_thresholds() -> None:
    assert OrdinalDifference(2).parameters() == {"steps": 2}
    assert NumericDifference(relative=0.3, absolute=5).parameters() == {"absolute": 5,
                                                                         "relative": 0.3}
    assert Mismatch().parameters() == {} == PresenceOrConfidence().parameters()
