"""Per-field discordance rules: when two independent reads disagree enough to need adjudication.

Each field of a protocol carries one rule (`Field.discordance`); a presence finding's rule sits on
its presence field and judges presence and confidence together. The rules, as written in a
protocol file::

    discordance = "mismatch"                                      # any difference
    discordance = "none"                                          # never adjudicated
    discordance = { ordinal_difference = 2 }                      # >= 2 steps apart
    discordance = { relative = 0.30, absolute = 5 }               # both exceeded
    discordance = "presence_or_confidence_across_indeterminate"   # presence findings

`find_discordant_fields` applies them to two reads of one case. Paradigm state machines
(2+1, 2-of-3, panel) and agreement statistics build on this and live elsewhere.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any, ClassVar

from adjudication.conditions import is_empty

if TYPE_CHECKING:
    from adjudication.protocol import Field, Finding, Protocol

__all__ = [
    "Discordance",
    "DiscordanceReason",
    "DiscordanceRule",
    "Mismatch",
    "NoDiscordance",
    "NumericDifference",
    "OrdinalDifference",
    "PresenceOrConfidence",
    "RuleKind",
    "discordant_keys",
    "find_discordant_fields",
    "parse_rule",
]


class RuleKind(str, Enum):
    """The kinds of discordance rule a protocol can name."""

    mismatch = "mismatch"
    ordinal_difference = "ordinal_difference"
    numeric = "numeric"
    presence_or_confidence_across_indeterminate = "presence_or_confidence_across_indeterminate"
    none = "none"


def _show(value: Any) -> str:
    if is_empty(value):
        return "(empty)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, tuple, set, frozenset)):
        return "[" + ", ".join(_show(v) for v in sorted(value, key=str)) + "]"
    if isinstance(value, str):
        return f"'{value}'"
    return str(value)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (list, tuple, set, frozenset)) and isinstance(b, (list, tuple, set, frozenset)):
        return set(a) == set(b)
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return float(a) == float(b)
    return a == b


@dataclass(frozen=True)
class DiscordanceReason:
    """Why two values are discordant, as a stable code with its parameters (the values as
    recorded, the thresholds as numbers), so a user interface can say it in its own language
    with the protocol's labels; `text` is the English reason (codebooks, exports, the audit
    trail), the same as `DiscordanceRule.compare` returns.

    Codes and parameters: ``one_empty`` (`empty`: the letter "A" or "B" of the read that left
    it empty, `value`: the other's), ``values_differ`` (`a`, `b`), ``steps_apart`` (`a`, `b`,
    `gap`, `steps`), ``numeric_difference`` (`a`, `b`, `difference`, `relative_difference`,
    `absolute`, `relative`, `unit`), ``presence_differs`` (`a`, `b`, and `confidence_a`,
    `confidence_b` where the rule judges confidence too), ``confidence_across`` (`a`, `b`,
    `midpoint`).
    """

    code: str
    params: dict[str, Any]
    text: str


@dataclass(frozen=True)
class DiscordanceRule:
    """Base of the rule variants; `explain` says why two values are discordant (a code with
    parameters and the English text), `compare` gives the text alone."""

    kind: ClassVar[RuleKind]

    def explain(self, a: Any, b: Any, field: Field | None = None) -> DiscordanceReason | None:
        """Why `a` and `b` are discordant, or None when they agree well enough."""
        raise NotImplementedError

    def compare(self, a: Any, b: Any, field: Field | None = None) -> str | None:
        """The reason `a` and `b` are discordant in English, or None when they agree well
        enough."""
        reason = self.explain(a, b, field)
        return None if reason is None else reason.text

    def describe(self) -> str:
        """The rule in words, for codebooks and adjudicator screens."""
        raise NotImplementedError

    def parameters(self) -> dict[str, Any]:
        """The rule's thresholds by name (with `kind`, what a user interface needs to say the
        rule in its own language)."""
        return {}

    @staticmethod
    def _one_empty(a: Any, b: Any) -> DiscordanceReason | None:
        """None when both hold a value; a reason when one is empty; `_BOTH_EMPTY` when both."""
        ea, eb = is_empty(a), is_empty(b)
        if ea and eb:
            return _BOTH_EMPTY
        if ea != eb:
            value = b if ea else a
            letter = "A" if ea else "B"
            return DiscordanceReason(
                "one_empty", {"empty": letter, "value": value},
                f"Reader {letter} left it empty, the other recorded {_show(value)}")
        return None


#: both values empty: not discordant (a marker `_one_empty` returns)
_BOTH_EMPTY = DiscordanceReason("both_empty", {}, "")


def _differ(a: Any, b: Any) -> DiscordanceReason:
    return DiscordanceReason("values_differ", {"a": a, "b": b}, f"{_show(a)} vs {_show(b)}")


def _empty_or(reason: DiscordanceReason | None) -> tuple[bool, DiscordanceReason | None]:
    """(decided, reason) from `_one_empty`: decided when at least one value is empty."""
    if reason is None:
        return False, None
    return True, None if reason is _BOTH_EMPTY else reason


@dataclass(frozen=True)
class Mismatch(DiscordanceRule):
    """Discordant whenever the values differ (multi-choice answers compared as sets)."""

    kind: ClassVar[RuleKind] = RuleKind.mismatch

    def explain(self, a: Any, b: Any, field: Field | None = None) -> DiscordanceReason | None:
        decided, empty = _empty_or(self._one_empty(a, b))
        if decided:
            return empty
        if _same(a, b):
            return None
        return _differ(a, b)

    def describe(self) -> str:
        return "any difference"


@dataclass(frozen=True)
class NoDiscordance(DiscordanceRule):
    """Never discordant: the field is recorded but not adjudicated (free text, comments)."""

    kind: ClassVar[RuleKind] = RuleKind.none

    def explain(self, a: Any, b: Any, field: Field | None = None) -> DiscordanceReason | None:
        return None

    def describe(self) -> str:
        return "not adjudicated"


@dataclass(frozen=True)
class OrdinalDifference(DiscordanceRule):
    """Discordant when the values are `steps` or more apart on an ordered scale.

    For choice fields the order is the order of the protocol's choice list; integer and
    confidence values are used as they are. `steps = 1` makes any difference discordant.
    """

    steps: int = 1
    kind: ClassVar[RuleKind] = RuleKind.ordinal_difference

    def position(self, value: Any, field: Field | None) -> float | None:
        """The ordinal position of `value` (its index among the field's choices, or the number)."""
        if field is not None and field.choices and field.type.value in ("choice", "presence"):
            for i, choice in enumerate(field.choices):
                if choice.value == value:
                    return float(i)
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return None
        return float(value)

    def explain(self, a: Any, b: Any, field: Field | None = None) -> DiscordanceReason | None:
        decided, empty = _empty_or(self._one_empty(a, b))
        if decided:
            return empty
        pa, pb = self.position(a, field), self.position(b, field)
        if pa is None or pb is None:
            return None if _same(a, b) else _differ(a, b)
        gap = abs(pa - pb)
        if gap >= self.steps:
            word = "step" if gap == 1 else "steps"
            return DiscordanceReason(
                "steps_apart", {"a": a, "b": b, "gap": gap, "steps": self.steps},
                f"{_show(a)} vs {_show(b)}: {gap:g} {word} apart (threshold {self.steps})")
        return None

    def describe(self) -> str:
        return f"{self.steps} or more steps apart"

    def parameters(self) -> dict[str, Any]:
        return {"steps": self.steps}


@dataclass(frozen=True)
class NumericDifference(DiscordanceRule):
    """Discordant only when the difference exceeds BOTH the absolute and the relative threshold.

    The relative difference is |a - b| divided by the larger magnitude, max(|a|, |b|), so the
    rule is symmetric in the two reads. A threshold of 0 is always exceeded by any difference.
    """

    relative: float = 0.0
    absolute: float = 0.0
    kind: ClassVar[RuleKind] = RuleKind.numeric

    @staticmethod
    def differences(a: float, b: float) -> tuple[float, float]:
        """(absolute, relative) difference of two numbers; relative is 0 when both are 0."""
        diff = abs(float(a) - float(b))
        scale = max(abs(float(a)), abs(float(b)))
        return diff, (diff / scale if scale > 0 else 0.0)

    def is_discordant(self, a: float, b: float) -> bool:
        """True when both thresholds are exceeded (no difference is never discordant)."""
        diff, rel = self.differences(a, b)
        if diff == 0:
            return False
        return diff > self.absolute and rel > self.relative

    def explain(self, a: Any, b: Any, field: Field | None = None) -> DiscordanceReason | None:
        decided, empty = _empty_or(self._one_empty(a, b))
        if decided:
            return empty
        if isinstance(a, bool) or isinstance(b, bool) or not all(isinstance(v, (int, float)) for v in (a, b)):
            return None if _same(a, b) else _differ(a, b)
        if not self.is_discordant(a, b):
            return None
        diff, rel = self.differences(a, b)
        raw_unit = field.unit if field is not None and field.unit else ""
        unit = f" {raw_unit}" if raw_unit else ""
        return DiscordanceReason(
            "numeric_difference",
            {"a": a, "b": b, "difference": diff, "relative_difference": rel,
             "absolute": self.absolute, "relative": self.relative, "unit": raw_unit},
            f"{_show(a)} vs {_show(b)}: differ by {diff:g}{unit} ({rel:.0%}), "
            f"more than {self.absolute:g}{unit} and {self.relative:.0%}")

    def describe(self) -> str:
        return f"differ by more than {self.absolute:g} and by more than {self.relative:.0%}"

    def parameters(self) -> dict[str, Any]:
        return {"absolute": self.absolute, "relative": self.relative}


@dataclass(frozen=True)
class PresenceOrConfidence(DiscordanceRule):
    """Presence findings: discordant if presence differs, or if the confidence scores fall on
    opposite sides of the scale's indeterminate midpoint (e.g. 2 vs 4 on a 1-5 scale).

    `compare` judges presence alone; `compare_confidence` judges the confidence pair.
    """

    kind: ClassVar[RuleKind] = RuleKind.presence_or_confidence_across_indeterminate

    def explain(self, a: Any, b: Any, field: Field | None = None) -> DiscordanceReason | None:
        decided, empty = _empty_or(self._one_empty(a, b))
        if decided:
            return empty
        if a == b:
            return None
        return DiscordanceReason("presence_differs", {"a": a, "b": b},
                                 f"presence {_show(a)} vs {_show(b)}")

    @staticmethod
    def explain_confidence(a: Any, b: Any, midpoint: float) -> DiscordanceReason | None:
        """Why confidences `a` and `b` are discordant: they lie strictly on opposite sides of
        `midpoint` (None otherwise)."""
        if isinstance(a, bool) or isinstance(b, bool):
            return None
        if not isinstance(a, (int, float)) or not isinstance(b, (int, float)):
            return None
        if (a - midpoint) * (b - midpoint) < 0:
            return DiscordanceReason(
                "confidence_across", {"a": a, "b": b, "midpoint": midpoint},
                f"confidence {a:g} vs {b:g} lies on opposite sides of indeterminate ({midpoint:g})")
        return None

    @classmethod
    def compare_confidence(cls, a: Any, b: Any, midpoint: float) -> str | None:
        """A reason when confidences `a` and `b` lie strictly on opposite sides of `midpoint`."""
        reason = cls.explain_confidence(a, b, midpoint)
        return None if reason is None else reason.text

    def describe(self) -> str:
        return "presence differs, or confidence on opposite sides of indeterminate"


_NAMED_RULES: dict[str, DiscordanceRule] = {
    "mismatch": Mismatch(),
    "none": NoDiscordance(),
    "presence_or_confidence_across_indeterminate": PresenceOrConfidence(),
}


def parse_rule(raw: Any) -> DiscordanceRule:
    """Build a rule from its protocol-file form; raises ValueError with a coordinator's message.

    Accepts a rule name ("mismatch", "none", "presence_or_confidence_across_indeterminate"), a
    table `{ ordinal_difference = N }`, or a table `{ relative = R, absolute = A }` (either key
    may be left out and then counts as 0), or an existing `DiscordanceRule`.
    """
    if isinstance(raw, DiscordanceRule):
        return raw
    if isinstance(raw, str):
        if raw in _NAMED_RULES:
            return _NAMED_RULES[raw]
        import difflib

        names = sorted(_NAMED_RULES)
        close = difflib.get_close_matches(raw, names, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValueError(
            f"unknown rule {raw!r}{hint}; use one of {', '.join(repr(n) for n in names)}, "
            "{ ordinal_difference = N } or { relative = R, absolute = A }"
        )
    if isinstance(raw, Mapping):
        keys = set(raw)
        if keys == {"ordinal_difference"}:
            steps = raw["ordinal_difference"]
            if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
                raise ValueError(f"ordinal_difference must be a whole number >= 1, got {steps!r}")
            return OrdinalDifference(steps)
        if keys and keys <= {"relative", "absolute"}:
            values: dict[str, float] = {}
            for key in ("relative", "absolute"):
                v = raw.get(key, 0)
                if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
                    raise ValueError(f"{key} must be a number >= 0, got {v!r}")
                values[key] = float(v)
            return NumericDifference(relative=values["relative"], absolute=values["absolute"])
        raise ValueError(
            f"a rule table has either ordinal_difference or relative/absolute, got keys {sorted(keys)}"
        )
    raise ValueError(f"expected a rule name or table, got {type(raw).__name__} {raw!r}")


@dataclass(frozen=True)
class Discordance:
    """One field on which two reads disagree enough to need adjudication."""

    key: str
    value_a: Any
    value_b: Any
    rule: DiscordanceRule
    reason: str
    #: the reason as a code with parameters (`reason` is its English text)
    detail: DiscordanceReason | None = None


def _presence_active(values: Mapping[str, Any], finding: Finding) -> bool:
    return values.get(f"{finding.id}.presence") in ("present", "indeterminate")


def find_discordant_fields(
    protocol: Protocol, read_a: Mapping[str, Any], read_b: Mapping[str, Any]
) -> list[Discordance]:
    """The fields on which `read_a` and `read_b` are discordant, in form order.

    Keys are those of `adjudication.readform` ("image_quality", "extravasation.presence",
    "extravasation.volume_ml"). A field is compared only where both readers were asked it: its
    `shown_if` holds in both reads and, inside a presence finding, both readers recorded the
    finding as present or indeterminate (a presence disagreement is reported on
    "<finding>.presence" and its details are adjudicated after it). For a presence finding the
    presence rule also looks at confidence: a confidence-only disagreement is reported on
    "<finding>.confidence".
    """
    out: list[Discordance] = []
    midpoint = protocol.confidence.midpoint
    for key, finding, field in protocol.iter_fields():
        if field.shown_if is not None and not (
            field.shown_if.evaluate(read_a) and field.shown_if.evaluate(read_b)
        ):
            continue
        a, b = read_a.get(key), read_b.get(key)
        rule = field.discordance
        if finding is not None and finding.presence:
            if field.type.value == "presence":
                detail = rule.explain(a, b, field)
                if detail is not None and detail.text:
                    if isinstance(rule, PresenceOrConfidence):
                        ckey = f"{finding.id}.confidence"
                        ca, cb = read_a.get(ckey), read_b.get(ckey)
                        detail = DiscordanceReason(
                            detail.code, {**detail.params, "confidence_a": ca, "confidence_b": cb},
                            detail.text + f" (confidence {_show(ca)} vs {_show(cb)})")
                    out.append(Discordance(key, a, b, rule, detail.text, detail))
                elif isinstance(rule, PresenceOrConfidence):
                    ckey = f"{finding.id}.confidence"
                    ca, cb = read_a.get(ckey), read_b.get(ckey)
                    cdetail = rule.explain_confidence(ca, cb, midpoint)
                    if cdetail is not None:
                        out.append(Discordance(ckey, ca, cb, rule, cdetail.text, cdetail))
                continue
            if field.id == "confidence" and isinstance(finding.presence_field.discordance, PresenceOrConfidence):
                continue  # judged together with presence above
            if not (_presence_active(read_a, finding) and _presence_active(read_b, finding)):
                continue
        detail = rule.explain(a, b, field)
        if detail is not None and detail.text:
            out.append(Discordance(key, a, b, rule, detail.text, detail))
    return out


def discordant_keys(discordances: Sequence[Discordance]) -> tuple[str, ...]:
    """The keys of `discordances`, in order (a convenience for worklists and tests)."""
    return tuple(d.key for d in discordances)
