"""A reader's values against the default protocol: complete, incomplete and invalid reads."""
from __future__ import annotations

from typing import Any

import pytest

from adjudication.protocol import FieldType, Protocol, load_default_protocol, parse_protocol
from adjudication.readform import (
    FieldProblem,
    FormItem,
    InvalidValue,
    ProblemKind,
    coerce_value,
    form_layout,
    is_required,
    is_shown,
    missing_summary,
    validate_read,
)
from protocol_support import negative_read


@pytest.fixture(scope="module")
def protocol() -> Protocol:
    return load_default_protocol()




def extravasation_read() -> dict[str, Any]:
    """A complete read with a moderate anterior extravasation."""
    values = negative_read()
    values.update({
        "extravasation.presence": "present",
        "extravasation.confidence": 5,
        "extravasation.compartment": ["subcutaneous", "anterior"],
        "extravasation.max_size_cm": 6.5,
        "extravasation.volume_ml": 40,
        "extravasation.mean_hu": 12.0,
        "extravasation.contrast_extravasation": False,
        "extravasation.severity": "moderate",
        "extravasation.location": "anterolateral, 2 cm below the insertion",
        "extravasation.comment": "",
    })
    return values


def by_key(problems: list[FieldProblem]) -> dict[str, FieldProblem]:
    return {p.field_key: p for p in problems}


# --- validate_read ----------------------------------------------------------------------------


def test_complete_reads_have_no_problems(protocol: Protocol) -> None:
    assert validate_read(protocol, negative_read()) == []
    assert validate_read(protocol, extravasation_read()) == []


def test_empty_read_lists_every_required_answer(protocol: Protocol) -> None:
    problems = validate_read(protocol, {})
    assert all(p.kind is ProblemKind.missing for p in problems)
    keys = [p.field_key for p in problems]
    assert keys[:4] == ["image_quality", "side", "timepoint", "needle_position.tip_position"]
    assert "extravasation.presence" in keys and "fat_embolism.confidence" in keys
    assert "extravasation.compartment" not in keys  # only required once presence is 'present'
    assert by_key(problems)["side"].message == "Side of the IO site is required"


def test_conditional_requirement_message(protocol: Protocol) -> None:
    values = extravasation_read()
    del values["extravasation.compartment"]
    del values["extravasation.severity"]
    problems = by_key(validate_read(protocol, values))
    assert set(problems) == {"extravasation.compartment", "extravasation.severity"}
    message = problems["extravasation.compartment"].message
    assert message == ("Extravasation / compartment involvement: Compartment is required when "
                       "Presence is 'Present'")
    assert problems["extravasation.compartment"].kind is ProblemKind.missing


def test_indeterminate_does_not_require_details(protocol: Protocol) -> None:
    values = negative_read()
    values["fracture.presence"] = "indeterminate"
    values["fracture.confidence"] = 3
    assert validate_read(protocol, values) == []


def test_nested_condition(protocol: Protocol) -> None:
    values = negative_read()
    values.update({"osteomyelitis.presence": "present", "osteomyelitis.confidence": 4,
                   "osteomyelitis.impression": "osteomyelitis", "osteomyelitis.abscess": True})
    problems = by_key(validate_read(protocol, values))
    assert list(problems) == ["osteomyelitis.abscess_site"]
    assert problems["osteomyelitis.abscess_site"].message.endswith(
        "Abscess site is required when Abscess (rim enhancement) is yes")
    values["osteomyelitis.abscess_site"] = ("subperiosteal",)
    assert validate_read(protocol, values) == []


def test_answers_to_hidden_questions_are_flagged(protocol: Protocol) -> None:
    values = negative_read()
    values["haematoma.size_cm"] = 3.0
    values["haematoma.comment"] = "no collection"  # comments are always asked
    problems = validate_read(protocol, values)
    assert [(p.field_key, p.kind) for p in problems] == [("haematoma.size_cm", ProblemKind.hidden)]
    assert "asked only when Presence is not 'Absent'" in problems[0].message


@pytest.mark.parametrize(
    "key,value,fragment",
    [
        ("image_quality", "good", "'good' is not one of the choices (Adequate, Limited, Non-diagnostic)"),
        ("timepoint", "day 3", "is not one of the choices (baseline, post-insertion"),
        ("extravasation.confidence", 7, "7 is not on the confidence scale (1, 2, 3, 4, 5)"),
        ("extravasation.confidence", "5", "'5' is not on the confidence scale"),
        ("extravasation.compartment", ["anterior", "thigh"], "'thigh' is not among the choices"),
        ("extravasation.compartment", "anterior", "expected a selection"),
        ("extravasation.compartment", ["anterior", "anterior"], "selected twice"),
        ("extravasation.volume_ml", 4000, "4000 mL is outside the allowed range 0 to 3000 mL"),
        ("extravasation.volume_ml", -1.5, "-1.5 mL is outside the allowed range"),
        ("extravasation.volume_ml", "forty", "'forty' is not a number"),
        ("extravasation.volume_ml", True, "yes is not a number"),
        ("extravasation.volume_ml", float("nan"), "nan is not a number"),
        ("extravasation.contrast_extravasation", "no", "expected yes or no"),
        ("extravasation.location", 5, "expected text"),
        ("extravasation.presence", "maybe", "'maybe' is not one of the choices (Present, Absent, Indeterminate)"),
    ],
)
def test_invalid_values(protocol: Protocol, key: str, value: Any, fragment: str) -> None:
    values = extravasation_read()
    values[key] = value
    problems = [p for p in validate_read(protocol, values) if p.field_key == key]
    assert len(problems) == 1, problems
    assert problems[0].kind is ProblemKind.invalid
    assert fragment in problems[0].message
    assert problems[0].message.startswith(protocol.label_for(key) + ": ")


def test_integer_fields() -> None:
    p = parse_protocol('[protocol]\nid = "m"\nversion = "1"\nparadigm = "two_plus_one"\n'
                       '[[read_fields]]\nid = "n"\ntype = "integer"\nrange = [0, 10]\n')
    assert validate_read(p, {"n": 3}) == []
    assert "is not a whole number" in validate_read(p, {"n": 3.5})[0].message
    assert "outside the allowed range 0 to 10" in validate_read(p, {"n": 11})[0].message


def test_presence_contradicted_by_confidence(protocol: Protocol) -> None:
    values = extravasation_read()
    values["extravasation.confidence"] = 2
    problems = validate_read(protocol, values)
    assert [(p.field_key, p.kind) for p in problems] == [("extravasation.confidence", ProblemKind.inconsistent)]
    assert "confidence 2 (probably absent) contradicts presence 'present'" in problems[0].message
    values = negative_read()
    values["fracture.confidence"] = 4
    assert [p.kind for p in validate_read(protocol, values)] == [ProblemKind.inconsistent]
    values["fracture.confidence"] = 3  # indeterminate confidence with 'absent' is allowed
    assert validate_read(protocol, values) == []


def test_unknown_keys_with_suggestion(protocol: Protocol) -> None:
    values = negative_read()
    values["haematoma.sise_cm"] = 2
    (problem,) = validate_read(protocol, values)
    assert problem.kind is ProblemKind.unknown
    assert "did you mean 'haematoma.size_cm'?" in problem.message


def test_modalities_relax_requirements() -> None:
    p = parse_protocol('[protocol]\nid = "m"\nversion = "1"\nparadigm = "two_plus_one"\n'
                       '[[read_fields]]\nid = "t1"\ntype = "boolean"\nrequired = true\nmodalities = ["MR"]\n')
    assert [x.field_key for x in validate_read(p, {})] == ["t1"]
    assert validate_read(p, {}, modalities={"CT"}) == []
    assert [x.field_key for x in validate_read(p, {}, modalities=["MR", "CT"])] == ["t1"]


def test_is_shown_and_is_required(protocol: Protocol) -> None:
    compartment = protocol.field("extravasation.compartment")
    assert is_shown(compartment, {})  # shown until the reader says 'absent'
    assert not is_shown(compartment, {"extravasation.presence": "absent"})
    assert not is_required(compartment, {"extravasation.presence": "indeterminate"})
    assert is_required(compartment, {"extravasation.presence": "present"})
    assert is_required(protocol.field("side"), {})


# --- missing_summary ---------------------------------------------------------------------------


def test_missing_summary(protocol: Protocol) -> None:
    assert missing_summary([]) == "The read is complete."
    values = extravasation_read()
    del values["side"]
    del values["extravasation.severity"]
    values["extravasation.volume_ml"] = -4
    summary = missing_summary(validate_read(protocol, values))
    assert summary == ("2 required answers missing: Side of the IO site, Extravasation / compartment "
                       "involvement: Severity; 1 invalid answer: Extravasation / compartment involvement: Volume.")


# --- coerce_value --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key,raw,expected",
    [
        ("image_quality", "Non-diagnostic", "non_diagnostic"),
        ("image_quality", " adequate ", "adequate"),
        ("image_quality", "", None),
        ("image_quality", None, None),
        ("extravasation.presence", "PRESENT", "present"),
        ("extravasation.confidence", "4", 4),
        ("extravasation.confidence", "probably present", 4),
        ("extravasation.volume_ml", "12.5", 12.5),
        ("extravasation.volume_ml", "12,5", 12.5),
        ("extravasation.volume_ml", "12 mL", 12.0),
        ("extravasation.mean_hu", "\u221220", -20.0),
        ("extravasation.volume_ml", 7, 7),
        ("extravasation.contrast_extravasation", "Yes", True),
        ("extravasation.contrast_extravasation", "0", False),
        ("extravasation.contrast_extravasation", False, False),
        ("extravasation.compartment", "lateral; Anterior compartment", ("anterior", "lateral")),
        ("extravasation.compartment", ["knee_joint"], ("knee_joint",)),
        ("extravasation.compartment", "Superficial posterior compartment", ("superficial_posterior",)),
        ("extravasation.location", "  distal  ", "distal"),
    ],
)
def test_coerce_value(protocol: Protocol, key: str, raw: Any, expected: Any) -> None:
    assert coerce_value(protocol.field(key), raw) == expected


@pytest.mark.parametrize(
    "key,raw,fragment",
    [
        ("image_quality", "good", "Image quality: 'good' is not one of the choices"),
        ("extravasation.volume_ml", "12 cm", "Volume: '12 cm' is not a number"),
        ("extravasation.volume_ml", "inf", "is not a finite number"),
        ("extravasation.contrast_extravasation", "perhaps", "answer yes or no"),
        ("extravasation.compartment", "anterior; thigh", "'thigh' is not one of the choices"),
    ],
)
def test_coerce_value_rejects(protocol: Protocol, key: str, raw: Any, fragment: str) -> None:
    with pytest.raises(InvalidValue) as info:
        coerce_value(protocol.field(key), raw)
    assert fragment in str(info.value)


def test_coerce_integer() -> None:
    p = parse_protocol('[protocol]\nid = "m"\nversion = "1"\nparadigm = "two_plus_one"\n'
                       '[[read_fields]]\nid = "n"\ntype = "integer"\n')
    field = p.field("n")
    assert coerce_value(field, "12") == 12 and coerce_value(field, "12.0") == 12 and coerce_value(field, 3.0) == 3
    with pytest.raises(InvalidValue, match="whole number"):
        coerce_value(field, "12.5")


def test_coerced_form_strings_validate(protocol: Protocol) -> None:
    form = {"image_quality": "Adequate", "side": "Left", "timepoint": "follow-up",
            "needle_position.tip_position": "Not assessable (needle removed or not in view)"}
    for finding in ("extravasation", "haematoma", "fracture", "osteomyelitis", "fat_embolism"):
        form[f"{finding}.presence"] = "Absent"
        form[f"{finding}.confidence"] = "1"
    values = {key: coerce_value(protocol.field(key), raw) for key, raw in form.items()}
    assert validate_read(protocol, values) == []


# --- form_layout ---------------------------------------------------------------------------------


def test_form_layout_is_flat_and_ordered(protocol: Protocol) -> None:
    items = form_layout(protocol)
    assert all(isinstance(i, FormItem) for i in items)
    assert [i.key for i in items] == list(protocol.keys())
    assert items[0] == FormItem("image_quality", None, protocol.field("image_quality"), "Image quality")
    presence = next(i for i in items if i.key == "osteomyelitis.presence")
    assert presence.finding_id == "osteomyelitis" and presence.field.type is FieldType.presence
    # per-read fields come first, then each finding's fields together
    finding_ids = [i.finding_id for i in items]
    assert finding_ids.index("needle_position") > max(i for i, f in enumerate(finding_ids) if f is None)


def test_form_layout_for_a_modality(protocol: Protocol) -> None:
    keys = [i.key for i in form_layout(protocol, modalities={"CR"})]
    assert "extravasation.mean_hu" not in keys  # CT only
    assert "osteomyelitis.t1_marrow" not in keys  # MR only
    assert "fracture.displacement" in keys and "extravasation.presence" in keys
