"""A reader's values checked against the protocol's read form.

Values are a flat mapping keyed like the protocol (`Protocol.keys()`): `"<read_field_id>"`
and `"<finding_id>.<field_id>"`, with `"<finding_id>.presence"` and `"<finding_id>.confidence"`
for presence findings. Canonical value types: choice and presence -> the choice value (str);
confidence -> int; multi_choice -> a list or tuple of choice values; number -> int or float;
integer -> int; boolean -> bool; text -> str. Empty answers are None, "" or an empty list.

`validate_read` returns problems worded for the reader; `coerce_value` turns form strings into
canonical values; `form_layout` is the ordered list of questions a UI renders.
"""
from __future__ import annotations

import difflib
import math
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from adjudication.conditions import Condition, is_empty
from adjudication.protocol import Field, FieldType, Finding, Protocol

__all__ = [
    "FieldProblem",
    "FormItem",
    "InvalidValue",
    "ProblemKind",
    "coerce_value",
    "form_layout",
    "is_empty",
    "is_required",
    "is_shown",
    "missing_summary",
    "validate_read",
]


class ProblemKind(str, Enum):
    """What is wrong with an answer."""

    missing = "missing"            # required and empty
    invalid = "invalid"            # wrong type, not a choice, out of range
    hidden = "hidden"              # answered although its condition hides the question
    inconsistent = "inconsistent"  # contradicts another answer (presence vs confidence)
    unknown = "unknown"            # a key the protocol does not have


@dataclass(frozen=True)
class FieldProblem:
    """One problem with one answer; `message` is meant for the reader as it is."""

    field_key: str
    message: str
    kind: ProblemKind = ProblemKind.invalid
    label: str = ""


@dataclass(frozen=True)
class FormItem:
    """One question of the read form, in display order; `finding_id` is None for per-read fields."""

    key: str
    finding_id: str | None
    field: Field
    label: str


class InvalidValue(ValueError):
    """A value typed into the form cannot be read as the field's type; the message says why."""


def is_shown(field: Field, values: Mapping[str, Any]) -> bool:
    """True when the field's `shown_if` holds for `values` (always, without a condition)."""
    return field.shown_if is None or field.shown_if.evaluate(values)


def is_required(field: Field, values: Mapping[str, Any]) -> bool:
    """True when the field must be answered given the other answers in `values`."""
    if not is_shown(field, values):
        return False
    if field.required:
        return True
    return field.required_if is not None and field.required_if.evaluate(values)


def _describe(protocol: Protocol, condition: Condition, finding: Finding | None) -> str:
    """A condition in the reader's words: field labels and choice labels."""
    prefix = f"{finding.id}." if finding is not None else ""
    keys = {leaf.name: leaf.lookup_key for leaf in condition.comparisons()}

    def field_of(name: str) -> Field | None:
        try:
            return protocol.field(keys.get(name, prefix + name))
        except KeyError:
            return None

    def name_label(name: str) -> str:
        f = field_of(name)
        if f is None:
            return name
        key = keys.get(name, name)
        owner = key.split(".", 1)[0] if "." in key else None
        if owner is not None and (finding is None or owner != finding.id):
            return protocol.label_for(key)
        return f.label

    def value_label(name: str, value: Any) -> str:
        f = field_of(name)
        if isinstance(value, bool):
            return "yes" if value else "no"
        if f is not None:
            choice = f.choice(value)
            if choice is not None:
                return f"'{choice.label}'"
        if isinstance(value, float):
            return f"{value:g}"
        return f"'{value}'" if isinstance(value, str) else str(value)

    return condition.describe(name_label, value_label)


def _show(field: Field, value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple, set, frozenset)):
        return ", ".join(_show(field, v) for v in value)
    return repr(value) if isinstance(value, str) else str(value)


def _choice_list(field: Field) -> str:
    return ", ".join(c.label for c in field.choices)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _value_problem(field: Field, value: Any) -> str | None:
    """Why `value` is not a valid answer for `field`, or None when it is."""
    t = field.type
    if t in (FieldType.choice, FieldType.presence):
        if isinstance(value, str) and field.choice(value) is not None:
            return None
        return f"{_show(field, value)} is not one of the choices ({_choice_list(field)})"
    if t is FieldType.confidence:
        if isinstance(value, int) and not isinstance(value, bool) and field.choice(value) is not None:
            return None
        values = ", ".join(str(v) for v in field.choice_values)
        return f"{_show(field, value)} is not on the confidence scale ({values})"
    if t is FieldType.multi_choice:
        if isinstance(value, str) or not isinstance(value, (list, tuple, set, frozenset)):
            return f"expected a selection from the choices, got {_show(field, value)}"
        bad = [v for v in value if not isinstance(v, str) or field.choice(v) is None]
        if bad:
            return f"{_show(field, bad)} {'is' if len(bad) == 1 else 'are'} not among the choices ({_choice_list(field)})"
        if len(set(value)) != len(list(value)):
            return "the same choice is selected twice"
        return None
    if t in (FieldType.number, FieldType.integer):
        if not _is_number(value) or not math.isfinite(value):
            return f"{_show(field, value)} is not a number"
        if t is FieldType.integer and not isinstance(value, int):
            return f"{_show(field, value)} is not a whole number"
        if field.range is not None:
            lo, hi = field.range
            if not lo <= value <= hi:
                unit = f" {field.unit}" if field.unit else ""
                return f"{value:g}{unit} is outside the allowed range {lo:g} to {hi:g}{unit}"
        return None
    if t is FieldType.boolean:
        return None if isinstance(value, bool) else f"expected yes or no, got {_show(field, value)}"
    return None if isinstance(value, str) else f"expected text, got {_show(field, value)}"


def validate_read(
    protocol: Protocol,
    values: Mapping[str, Any],
    modalities: Collection[str] | None = None,
) -> list[FieldProblem]:
    """Every problem with a reader's `values`: field problems in form order, then
    presence/confidence contradictions, then unknown keys.

    Checks types, choices and ranges; required fields and `required_if` conditions; answers to
    questions hidden by `shown_if`; and presence answers contradicted by the confidence score
    (e.g. "present" with confidence below indeterminate). With `modalities` (e.g. {"CT"}),
    fields limited to other modalities are not required.
    """
    problems: list[FieldProblem] = []
    for key, finding, field in protocol.iter_fields():
        label = protocol.label_for(key)
        value = values.get(key)
        empty = is_empty(value)
        if field.shown_if is not None and not field.shown_if.evaluate(values):
            if not empty:
                problems.append(FieldProblem(
                    key,
                    f"{label} should be left empty: it is asked only when "
                    f"{_describe(protocol, field.shown_if, finding)}. Clear it or change that answer.",
                    ProblemKind.hidden, label,
                ))
            continue
        if empty:
            if not field.applies_to(modalities):
                continue
            if field.required:
                problems.append(FieldProblem(key, f"{label} is required", ProblemKind.missing, label))
            elif field.required_if is not None and field.required_if.evaluate(values):
                problems.append(FieldProblem(
                    key, f"{label} is required when {_describe(protocol, field.required_if, finding)}",
                    ProblemKind.missing, label,
                ))
            continue
        message = _value_problem(field, value)
        if message:
            problems.append(FieldProblem(key, f"{label}: {message}", ProblemKind.invalid, label))
    problems.extend(_presence_conflicts(protocol, values))
    known = set(protocol.keys())
    for key in values:
        if key not in known:
            close = difflib.get_close_matches(key, sorted(known), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            problems.append(FieldProblem(
                key, f"{key!r} is not a question of protocol {protocol.id} {protocol.version}{hint}",
                ProblemKind.unknown, key,
            ))
    return problems


def _presence_conflicts(protocol: Protocol, values: Mapping[str, Any]) -> list[FieldProblem]:
    """Presence findings whose confidence lies on the other side of indeterminate."""
    out: list[FieldProblem] = []
    midpoint = protocol.confidence.midpoint
    for finding in protocol.findings:
        if not finding.presence:
            continue
        presence = values.get(f"{finding.id}.presence")
        confidence = values.get(f"{finding.id}.confidence")
        if not isinstance(confidence, int) or isinstance(confidence, bool):
            continue
        if (presence == "present" and confidence < midpoint) or (presence == "absent" and confidence > midpoint):
            key = f"{finding.id}.confidence"
            scale_label = protocol.confidence.label_for(confidence)
            out.append(FieldProblem(
                key,
                f"{finding.label}: confidence {confidence} ({scale_label}) contradicts presence "
                f"'{presence}'. Change one of them.",
                ProblemKind.inconsistent, protocol.label_for(key),
            ))
    return out


_TRUE = frozenset({"yes", "y", "true", "t", "1", "present"})
_FALSE = frozenset({"no", "n", "false", "f", "0", "absent"})


def _match_choice(field: Field, text: str) -> str | int:
    for choice in field.choices:
        if str(choice.value) == text:
            return choice.value
    folded = text.casefold()
    for choice in field.choices:
        if str(choice.value).casefold() == folded or choice.label.casefold() == folded:
            return choice.value
    raise InvalidValue(f"{field.label}: {text!r} is not one of the choices ({_choice_list(field)})")


def _parse_number(field: Field, text: str) -> float:
    cleaned = text.strip()
    if field.unit and cleaned.endswith(field.unit):
        cleaned = cleaned[: -len(field.unit)].strip()
    cleaned = cleaned.replace("\u2212", "-").replace(" ", "")
    if re.fullmatch(r"[-+]?\d+,\d+", cleaned):
        cleaned = cleaned.replace(",", ".")
    try:
        number = float(cleaned)
    except ValueError:
        raise InvalidValue(f"{field.label}: {text!r} is not a number") from None
    if not math.isfinite(number):
        raise InvalidValue(f"{field.label}: {text!r} is not a finite number")
    return number


def coerce_value(field: Field, raw: Any) -> Any:
    """The canonical value for `raw` as typed into a form; blank input gives None.

    Strings are read by field type: choices by value or label (case-insensitive), numbers with a
    decimal point or comma and an optional trailing unit ("12,5 mL"), booleans as yes/no/true/
    false/1/0, multi-choice as a list or a string separated by ";" or ",". Already-typed values
    pass through. Raises `InvalidValue` with a message for the reader. Range checks are left to
    `validate_read`.
    """
    if raw is None:
        return None
    if isinstance(raw, str) and not raw.strip():
        return None
    t = field.type
    if t in (FieldType.choice, FieldType.presence):
        return _match_choice(field, str(raw).strip())
    if t is FieldType.confidence:
        if isinstance(raw, int) and not isinstance(raw, bool):
            return raw
        text = str(raw).strip()
        if re.fullmatch(r"[-+]?\d+", text):
            return int(text)
        return _match_choice(field, text)
    if t is FieldType.multi_choice:
        if isinstance(raw, str):
            text = raw.strip()
            try:
                items: Iterable[Any] = [_match_choice(field, text)]
            except InvalidValue:
                items = [part for part in re.split(r"[;,]", text) if part.strip()]
        elif isinstance(raw, (list, tuple, set, frozenset)):
            items = raw
        else:
            raise InvalidValue(f"{field.label}: expected a selection, got {raw!r}")
        chosen = {_match_choice(field, str(item).strip()) for item in items}
        return tuple(c.value for c in field.choices if c.value in chosen)
    if t is FieldType.number:
        if _is_number(raw):
            return raw
        return _parse_number(field, str(raw))
    if t is FieldType.integer:
        if isinstance(raw, int) and not isinstance(raw, bool):
            return raw
        number = float(raw) if _is_number(raw) else _parse_number(field, str(raw))
        if not number.is_integer():
            raise InvalidValue(f"{field.label}: {raw!r} is not a whole number")
        return int(number)
    if t is FieldType.boolean:
        if isinstance(raw, bool):
            return raw
        text = str(raw).strip().casefold()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise InvalidValue(f"{field.label}: answer yes or no, not {raw!r}")
    return str(raw).strip()


def form_layout(protocol: Protocol, modalities: Collection[str] | None = None) -> list[FormItem]:
    """The read form as an ordered, flat list of questions (per-read fields first, then each
    finding's fields). Conditional questions are included; a UI shows or hides them with
    `is_shown`. With `modalities`, questions limited to other modalities are left out."""
    return [
        FormItem(key, finding.id if finding is not None else None, field, field.label)
        for key, finding, field in protocol.iter_fields()
        if field.applies_to(modalities)
    ]


def missing_summary(problems: Iterable[FieldProblem]) -> str:
    """One line for a status bar or a submit dialog, e.g.
    "2 required answers missing: Fracture at the IO site: Presence, ...; 1 invalid answer: ..."."""
    problems = list(problems)
    if not problems:
        return "The read is complete."
    words = {
        ProblemKind.missing: ("required answer missing", "required answers missing"),
        ProblemKind.invalid: ("invalid answer", "invalid answers"),
        ProblemKind.hidden: ("answer to clear", "answers to clear"),
        ProblemKind.inconsistent: ("contradiction", "contradictions"),
        ProblemKind.unknown: ("unknown field", "unknown fields"),
    }
    parts: list[str] = []
    for kind, (one, many) in words.items():
        group = [p for p in problems if p.kind is kind]
        if not group:
            continue
        names = ", ".join(dict.fromkeys(p.label or p.field_key for p in group))
        parts.append(f"{len(group)} {one if len(group) == 1 else many}: {names}")
    return "; ".join(parts) + "."
