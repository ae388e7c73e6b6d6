"""The condition language of `required_if` / `shown_if`: parsed by hand, never eval'd."""
from __future__ import annotations

import pytest

from adjudication.conditions import And, Compare, Condition, ConditionSyntaxError, Not, Or, Truthy, parse_condition


@pytest.mark.parametrize(
    "text,node",
    [
        ("presence == 'present'", Compare("presence", "==", "present")),
        ('fracture_type != "none"', Compare("fracture_type", "!=", "none")),
        ("presence in ['present', 'indeterminate']", Compare("presence", "in", ("present", "indeterminate"))),
        ("presence not in ['absent',]", Compare("presence", "not in", ("absent",))),
        ("compartment contains 'anterior'", Compare("compartment", "contains", "anterior")),
        ("volume_ml >= 2.5", Compare("volume_ml", ">=", 2.5)),
        ("mean_hu < -20", Compare("mean_hu", "<", -20)),
        ("abscess == true", Compare("abscess", "==", True)),
        ("abscess", Truthy("abscess")),
        ("osteomyelitis.abscess == false", Compare("osteomyelitis.abscess", "==", False)),
        ("a == 1 and b == 2 or c == 3",
         Or((And((Compare("a", "==", 1), Compare("b", "==", 2))), Compare("c", "==", 3)))),
        ("a == 1 and (b == 2 or c == 3)",
         And((Compare("a", "==", 1), Or((Compare("b", "==", 2), Compare("c", "==", 3)))))),
        ("not abscess", Not(Truthy("abscess"))),
        ("x == 'it\\'s'", Compare("x", "==", "it's")),
    ],
)
def test_parse(text: str, node: object) -> None:
    assert parse_condition(text).node == node


@pytest.mark.parametrize(
    "text,column,fragment",
    [
        ("", 1, "empty condition"),
        ("presence = 'present'", 10, "use == to compare"),
        ("presence == present", 13, "put text values in quotes"),
        ("presence == 'present", 13, "unterminated string"),
        ("presence in 'present'", 13, "expected '['"),
        ("presence in []", 13, "the list is empty"),
        ("presence in ['a' 'b']", 18, "expected ',' or ']'"),
        ("(presence == 'a'", 17, "expected ')'"),
        ("presence == 'a' and", 20, "expected a field name"),
        ("presence == 'a' presence", 17, "expected 'and', 'or'"),
        ("__import__('os').system('x')", 17, "unexpected character '.'"),
        ("presence not 'a'", 14, "expected 'in' after 'not'"),
    ],
)
def test_syntax_errors_carry_the_column(text: str, column: int, fragment: str) -> None:
    with pytest.raises(ConditionSyntaxError) as info:
        parse_condition(text)
    assert info.value.column == column
    assert fragment in info.value.message


def test_evaluate() -> None:
    values = {"presence": "present", "compartment": ["anterior", "lateral"], "volume_ml": 12.0,
              "abscess": True, "gas": False}
    assert Condition.parse("presence == 'present'").evaluate(values)
    assert not Condition.parse("presence != 'present'").evaluate(values)
    assert Condition.parse("presence in ['present', 'indeterminate']").evaluate(values)
    assert Condition.parse("compartment contains 'lateral'").evaluate(values)
    assert not Condition.parse("compartment contains 'deep_posterior'").evaluate(values)
    assert Condition.parse("volume_ml > 10 and volume_ml <= 12").evaluate(values)
    assert Condition.parse("abscess and not gas").evaluate(values)
    assert Condition.parse("gas or abscess == true").evaluate(values)
    assert Condition.parse("volume_ml == 12").evaluate(values)


def test_missing_values_never_equal_anything() -> None:
    assert not Condition.parse("presence == 'present'").evaluate({})
    assert Condition.parse("presence != 'absent'").evaluate({})
    assert Condition.parse("presence != 'absent'").evaluate({"presence": ""})
    assert not Condition.parse("presence in ['present']").evaluate({"presence": None})
    assert Condition.parse("presence not in ['absent']").evaluate({})
    assert not Condition.parse("volume_ml > 0").evaluate({})
    assert not Condition.parse("abscess").evaluate({})
    assert not Condition.parse("compartment contains 'anterior'").evaluate({"compartment": []})


def test_booleans_and_numbers_do_not_mix() -> None:
    assert not Condition.parse("flag == 1").evaluate({"flag": True})
    assert not Condition.parse("count == true").evaluate({"count": 1})
    assert not Condition.parse("x > 0").evaluate({"x": True})


def test_bind_resolves_names_to_keys_but_keeps_text() -> None:
    cond = Condition.parse("presence == 'present' and abscess").bind(lambda name: f"osteomyelitis.{name}")
    assert cond.text == "presence == 'present' and abscess"
    assert cond.names() == ("presence", "abscess")
    assert cond.keys() == ("osteomyelitis.presence", "osteomyelitis.abscess")
    assert cond.evaluate({"osteomyelitis.presence": "present", "osteomyelitis.abscess": True})
    assert not cond.evaluate({"presence": "present", "abscess": True})
    assert cond.evaluate(lambda key: {"osteomyelitis.presence": "present", "osteomyelitis.abscess": True}[key])


def test_describe_in_words() -> None:
    assert Condition.parse("presence == 'present'").describe() == "presence is 'present'"
    assert Condition.parse("presence in ['present', 'indeterminate']").describe() == (
        "presence is 'present' or 'indeterminate'")
    assert Condition.parse("a != 'x' and (b > 3 or c)").describe() == "a is not 'x' and (b is above 3 or c is yes)"
    labels = {"presence": "Presence"}
    described = Condition.parse("presence != 'absent'").describe(
        name_label=labels.__getitem__, value_label=lambda name, v: f"'{str(v).capitalize()}'")
    assert described == "Presence is not 'Absent'"
    assert str(Condition.parse("x == 1")) == "x == 1"
