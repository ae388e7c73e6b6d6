"""How a case's reads become a final outcome: the three paradigms as one explicit state machine,
the items an adjudicator or a panel decides, 2-of-3 majorities, and final values.

The stages of a case::

    reading --reads_locked--> concordant                       (no discordant field)
            --reads_locked--> adjudication    (2+1)            one adjudicator decides
                              third_read      (2-of-3)         a third, blinded reader reads
                              panel           (consensus)      a committee session votes
    third_read --third_read_locked--> decided | adjudication   (a field with no majority)
    adjudication --adjudicated--> decided
    panel --panel_decided--> decided
    adjudication | concordant | decided --sent_to_panel--> panel    (the coordinator, by hand)
    any stage after reading --read_amended--> re-evaluated as if the reads had just locked

`advance` validates every transition and raises `IllegalTransition` for any other.  Final values
keep where they came from (`Source`).  Pure: no Qt, no database.
"""
from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from adjudication.conditions import is_empty
from adjudication.discordance import NoDiscordance, find_discordant_fields
from adjudication.protocol import Field, FieldType, Paradigm, Protocol

__all__ = [
    "AdjudicationError", "CaseAtTimepoint", "CaseOutcome", "Decision", "Endpoint", "Event", "FinalValue", "IllegalTransition",
    "InvalidDecision", "Majority", "Source", "Stage", "advance", "canonical_value",
    "combine_values", "decision_items", "final_outcome", "first_stage", "majority",
    "reader_letters", "subject_endpoints", "validate_decisions",
]


class AdjudicationError(ValueError):
    """Base of the adjudication domain's named errors; the message says what to do."""


class IllegalTransition(AdjudicationError):
    """The event cannot happen to a case in its current stage under its paradigm."""


class InvalidDecision(AdjudicationError):
    """A decision is missing, names an unknown item or reader, or lacks a required rationale."""


class Stage(str, Enum):
    """Where a case stands on its way to a final outcome."""

    READING = "reading"
    CONCORDANT = "concordant"
    ADJUDICATION = "adjudication"
    THIRD_READ = "third_read"
    PANEL = "panel"
    DECIDED = "decided"

    @property
    def is_final(self) -> bool:
        return self in (Stage.CONCORDANT, Stage.DECIDED)


class Event(str, Enum):
    READS_LOCKED = "reads_locked"
    THIRD_READ_LOCKED = "third_read_locked"
    ADJUDICATED = "adjudicated"
    PANEL_DECIDED = "panel_decided"
    SENT_TO_PANEL = "sent_to_panel"
    READ_AMENDED = "read_amended"


class Source(str, Enum):
    """Where a final value came from."""

    CONCORDANT = "concordant"          # the primary readers agreed (within the field's rule)
    MAJORITY = "majority"              # 2-of-3: two readers agreed
    ADJUDICATOR = "adjudicator"
    PANEL = "panel"
    NOT_ADJUDICATED = "not_adjudicated"  # free text and other fields no rule compares


def first_stage(paradigm: Paradigm, discordant: bool) -> Stage:
    """The stage a case enters when its primary reads are all locked."""
    if not discordant:
        return Stage.CONCORDANT
    return {Paradigm.two_plus_one: Stage.ADJUDICATION, Paradigm.two_of_three: Stage.THIRD_READ,
            Paradigm.consensus_panel: Stage.PANEL}[paradigm]


def advance(paradigm: Paradigm, stage: Stage, event: Event, *, discordant: bool = False,
            unresolved: bool = False, third_read_locked: bool = False) -> Stage:
    """The stage after `event`.  `discordant`: the primary reads disagree (reads_locked,
    read_amended); `unresolved`: some field has no 2-of-3 majority (third_read_locked,
    read_amended with a locked third read); `third_read_locked`: the case's third read is locked
    (read_amended).  IllegalTransition for an event the stage does not allow."""
    paradigm, stage, event = Paradigm(paradigm), Stage(stage), Event(event)

    def illegal(why: str) -> IllegalTransition:
        return IllegalTransition(f"A case in stage {stage.value!r} ({paradigm.value}) cannot "
                                 f"take {event.value!r}: {why}")

    if event is Event.READS_LOCKED:
        if stage is not Stage.READING:
            raise illegal("its primary reads were already locked; an amendment re-evaluates it")
        return first_stage(paradigm, discordant)
    if event is Event.THIRD_READ_LOCKED:
        if paradigm is not Paradigm.two_of_three or stage is not Stage.THIRD_READ:
            raise illegal("only a 2-of-3 case waiting for its third read takes one")
        return Stage.ADJUDICATION if unresolved else Stage.DECIDED
    if event is Event.ADJUDICATED:
        if stage is not Stage.ADJUDICATION:
            raise illegal("only a case waiting for an adjudicator can be adjudicated")
        return Stage.DECIDED
    if event is Event.PANEL_DECIDED:
        if stage is not Stage.PANEL:
            raise illegal("only a case sent to the committee can be decided by it")
        return Stage.DECIDED
    if event is Event.SENT_TO_PANEL:
        if stage in (Stage.READING, Stage.THIRD_READ, Stage.PANEL):
            raise illegal({Stage.READING: "its reads are not all locked yet",
                           Stage.THIRD_READ: "its third read is still open",
                           Stage.PANEL: "it is already with the committee"}[stage])
        return Stage.PANEL
    if event is Event.READ_AMENDED:
        if stage is Stage.READING:
            return Stage.READING
        if paradigm is Paradigm.two_of_three and discordant and third_read_locked:
            return Stage.ADJUDICATION if unresolved else Stage.DECIDED
        return first_stage(paradigm, discordant)
    raise illegal("unknown event")  # pragma: no cover - Event is closed


# -- values ------------------------------------------------------------------------------------
def canonical_value(value: Any) -> str:
    """A comparable text form of a form value (multi-choice answers as sorted sets)."""
    if isinstance(value, (list, tuple, set, frozenset)):
        value = sorted(value, key=str)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def combine_values(field: Field, values: Sequence[Any]) -> Any:
    """One value standing for readers who agree under the field's rule: the common value when
    equal; the mean of numbers (rounded half up for integer and confidence fields); the more
    severe (later) choice of an ordinal pair within its tolerance; the union of multi-choice
    answers.  None when there is nothing to combine."""
    present = [v for v in values if not is_empty(v)]
    if not present:
        return None
    if len({canonical_value(v) for v in present}) == 1:
        return present[0]
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in present):
        mean = math.fsum(float(v) for v in present) / len(present)
        if field.type in (FieldType.integer, FieldType.confidence):
            return int(math.floor(mean + 0.5))
        return round(mean, 9)  # 13.35, not 13.350000000000001
    if field.type is FieldType.multi_choice:
        out: set[Any] = set()
        for v in present:
            out.update(v if isinstance(v, (list, tuple, set, frozenset)) else [v])
        return sorted(out, key=str)
    if field.choices:
        order = {c.value: i for i, c in enumerate(field.choices)}
        ranked = [v for v in present if v in order]
        if ranked:
            return max(ranked, key=lambda v: order[v])
    return present[0]


def _agree(discordant: set[str], a: Mapping[str, Any], b: Mapping[str, Any], key: str) -> bool:
    return key not in discordant and is_empty(a.get(key)) == is_empty(b.get(key))


def decision_items(protocol: Protocol, read_a: Mapping[str, Any], read_b: Mapping[str, Any]
                   ) -> tuple[str, ...]:
    """The keys an adjudicator decides for two reads, in form order: every discordant field
    and, where a finding's presence is discordant, its confidence and the detail fields that
    either reader answered (they follow the presence decision; free text is not adjudicated)."""
    found = find_discordant_fields(protocol, read_a, read_b)
    keys = {d.key for d in found}
    for finding in protocol.findings:
        if not finding.presence or f"{finding.id}.presence" not in keys:
            continue
        for f in finding.fields:
            key = f"{finding.id}.{f.id}"
            decided = f.id == "confidence" or not isinstance(f.discordance, NoDiscordance)
            if f.id != "presence" and decided and (
                    not is_empty(read_a.get(key)) or not is_empty(read_b.get(key))):
                keys.add(key)
    return tuple(k for k in protocol.keys() if k in keys)


@dataclass(frozen=True)
class Majority:
    """2-of-3 per field: the values two readers agree on, and the fields with no majority."""

    values: Mapping[str, tuple[Any, tuple[str, ...]]]  # key -> (value, letters agreeing)
    unresolved: tuple[str, ...]


def majority(protocol: Protocol, reads: Mapping[str, Mapping[str, Any]],
             items: Sequence[str]) -> Majority:
    """Per item, the value that two of the three reads (letters "A", "B", "C") agree on under
    the field's rule; an item no pair agrees on is unresolved (it goes to an adjudicator)."""
    letters = sorted(reads)
    if len(letters) != 3:
        raise InvalidDecision(f"a 2-of-3 majority needs three reads, got {len(letters)}")
    pairs = [(x, y) for i, x in enumerate(letters) for y in letters[i + 1:]]
    discordant = {(x, y): {d.key for d in find_discordant_fields(protocol, reads[x], reads[y])}
                  for x, y in pairs}
    values: dict[str, tuple[Any, tuple[str, ...]]] = {}
    unresolved: list[str] = []
    for key in items:
        field = protocol.any_field(key)
        agreeing = [(x, y) for x, y in pairs if _agree(discordant[(x, y)], reads[x], reads[y], key)]
        if not agreeing:
            unresolved.append(key)
            continue
        x, y = agreeing[0]
        values[key] = (combine_values(field, [reads[x].get(key), reads[y].get(key)]), (x, y))
    return Majority(values, tuple(unresolved))


# -- decisions ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Decision:
    """One adjudicator decision: accept a reader's value ("A", "B", "C") or an own value with a
    rationale (`choice = "own"`)."""

    key: str
    choice: str
    value: Any = None
    rationale: str = ""


def validate_decisions(protocol: Protocol, items: Sequence[str],
                       reads: Mapping[str, Mapping[str, Any]],
                       decisions: Sequence[Decision], *,
                       require_rationale: bool = True) -> dict[str, Decision]:
    """Check that `decisions` decide exactly `items`, each once, choosing a letter of `reads` or
    an own value (checked against the field: a choice among its values, a number in its range)
    with a rationale (unless `require_rationale` is false, as for committee votes); returns
    them by key with accepted values filled in."""
    by_key: dict[str, Decision] = {}
    for d in decisions:
        if d.key not in items:
            raise InvalidDecision(f"{d.key!r} is not an item to decide for this case "
                                  f"(items: {', '.join(items) or 'none'}).")
        if d.key in by_key:
            raise InvalidDecision(f"{d.key!r} is decided twice; give one decision per item.")
        label = protocol.label_for(d.key)
        if d.choice == "own":
            if require_rationale and not (d.rationale or "").strip():
                raise InvalidDecision(f"{label}: an own value needs a rationale; say why neither "
                                      "reader's value stands.")
            problem = _value_problem(protocol.any_field(d.key), d.value)
            if problem:
                raise InvalidDecision(f"{label}: {problem}")
            by_key[d.key] = Decision(d.key, "own", d.value, (d.rationale or "").strip())
        elif d.choice in reads and not d.key.startswith("committee."):
            by_key[d.key] = Decision(d.key, d.choice, reads[d.choice].get(d.key),
                                     (d.rationale or "").strip())
        else:
            raise InvalidDecision(f"{label}: choose {', '.join('Reader ' + x for x in sorted(reads))}"
                                  f" or an own value, not {d.choice!r}.")
    missing = [k for k in items if k not in by_key]
    if missing:
        raise InvalidDecision("Every discordant item needs a decision; still open: "
                              + ", ".join(protocol.label_for(k) for k in missing) + ".")
    return by_key


def _value_problem(field: Field, value: Any) -> str | None:
    if is_empty(value):
        return None  # "not present / left empty" is a legitimate own value
    if field.type in (FieldType.choice, FieldType.presence):
        return None if field.choice(value) is not None else \
            f"{value!r} is not one of {', '.join(map(str, field.choice_values))}"
    if field.type is FieldType.multi_choice:
        if not isinstance(value, (list, tuple, set, frozenset)):
            return "expected a list of choices"
        bad = [v for v in value if field.choice(v) is None]
        return f"unknown choice(s) {bad}" if bad else None
    if field.type in (FieldType.number, FieldType.integer, FieldType.confidence):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            return f"{value!r} is not a number"
        if field.type is FieldType.confidence and value not in field.choice_values:
            return f"{value!r} is not on the confidence scale"
        if field.type is FieldType.integer and not float(value).is_integer():
            return f"{value!r} is not a whole number"
        if field.range is not None and not field.range[0] <= value <= field.range[1]:
            return f"{value:g} is outside {field.range[0]:g}..{field.range[1]:g}"
        return None
    if field.type is FieldType.boolean:
        return None if isinstance(value, bool) else f"{value!r} is not yes/no"
    if field.type is FieldType.text:
        return None if isinstance(value, str) else f"{value!r} is not text"
    return None


def reader_letters(read_ids: Sequence[int], seed: int) -> dict[str, int]:
    """Which read is "Reader A" and which "Reader B" for one case, drawn from `seed` (recorded
    with the adjudication) so that a letter says nothing about who read."""
    import random

    ids = sorted(int(r) for r in read_ids)
    random.Random(seed).shuffle(ids)
    return {chr(ord("A") + i): rid for i, rid in enumerate(ids)}


# -- final outcome -----------------------------------------------------------------------------
@dataclass(frozen=True)
class FinalValue:
    key: str
    value: Any
    source: Source
    detail: str = ""  # "Reader A", "own value: <rationale>", "A and C", "panel vote 3-1" ...


@dataclass(frozen=True)
class CaseOutcome:
    values: tuple[FinalValue, ...]

    def get(self, key: str) -> FinalValue | None:
        for v in self.values:
            if v.key == key:
                return v
        return None

    def as_dict(self) -> dict[str, Any]:
        return {v.key: v.value for v in self.values}


def final_outcome(protocol: Protocol, primary: Sequence[Mapping[str, Any]],
                  resolved: Mapping[str, FinalValue]) -> CaseOutcome:
    """Every field's accepted value: `resolved` (adjudicator, majority, panel) where given, else
    the primary readers' combined value (they agree under the field's rule; a presence
    finding's confidence, judged with its presence, is combined too).  Fields nobody was asked
    are left out; free text that differs is kept as not adjudicated (None)."""
    out: list[FinalValue] = []
    for key, _finding, field in protocol.iter_fields():
        if key in resolved:
            out.append(resolved[key])
            continue
        values = [r.get(key) for r in primary]
        if all(is_empty(v) for v in values):
            continue
        if isinstance(field.discordance, NoDiscordance) and field.type is not \
                FieldType.confidence and len({canonical_value(v) for v in values}) > 1:
            out.append(FinalValue(key, None, Source.NOT_ADJUDICATED, "readers differ"))
            continue
        out.append(FinalValue(key, combine_values(field, values), Source.CONCORDANT))
    for key in protocol.committee_keys():
        if key in resolved:
            out.append(resolved[key])
    return CaseOutcome(tuple(out))


@dataclass(frozen=True)
class CaseAtTimepoint:
    """One case of a subject for `subject_endpoints`: its timepoint, day, and final outcome
    (None while the case has none)."""

    label: str
    timepoint: str
    days_from_insertion: int | None
    outcome: CaseOutcome | None


@dataclass(frozen=True)
class Endpoint:
    """One complication across a subject's timepoints."""

    finding: str
    present_any: bool | None        # None: no case of the subject has a final outcome yet
    first_timepoint: str | None     # the earliest timepoint with the finding present
    first_day: int | None
    worst_severity: Any             # the most severe `severity` value when present (or None)
    indeterminate_any: bool
    cases_final: int
    cases_total: int

    @property
    def complete(self) -> bool:
        return self.cases_final == self.cases_total


def subject_endpoints(protocol: Protocol, cases: Sequence[CaseAtTimepoint]) -> tuple[Endpoint, ...]:
    """Per presence finding: present at any timepoint, first timepoint present, worst severity
    (the finding's `severity` choice field, ordered as in the protocol), over the cases that
    have a final outcome, oldest first."""
    ordered = sorted(cases, key=lambda c: (c.days_from_insertion is None,
                                           c.days_from_insertion or 0, c.label))
    final = [c for c in ordered if c.outcome is not None]
    out = []
    for finding in protocol.findings:
        if not finding.presence:
            continue
        key = f"{finding.id}.presence"
        present = [c for c in final if c.outcome.as_dict().get(key) == "present"]  # type: ignore[union-attr]
        indeterminate = any(c.outcome.as_dict().get(key) == "indeterminate"  # type: ignore[union-attr]
                            for c in final)
        worst = None
        try:
            severity = finding.field("severity")
        except KeyError:
            severity = None
        if severity is not None and severity.choices:
            order = {ch.value: i for i, ch in enumerate(severity.choices)}
            seen = [c.outcome.as_dict().get(f"{finding.id}.severity") for c in present]  # type: ignore[union-attr]
            seen = [v for v in seen if v in order]
            worst = max(seen, key=lambda v: order[v]) if seen else None
        first = present[0] if present else None
        out.append(Endpoint(finding.id, bool(present) if final else None,
                            first.timepoint if first else None,
                            first.days_from_insertion if first else None, worst, indeterminate,
                            len(final), len(cases)))
    return tuple(out)
