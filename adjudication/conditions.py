"""A tiny, safe expression language for conditional read-form fields.

A protocol says when a field is shown (`shown_if`) or required (`required_if`) with
expressions such as::

    presence == 'present'
    fracture_type != 'none'
    presence in ['present', 'indeterminate']
    compartment contains 'deep_posterior'
    volume_ml > 100 and not fluid_level
    (abscess == true or sinus_tract) and presence != 'absent'

Grammar (no `eval`; parsed by a hand-written recursive-descent parser)::

    expr       := and_expr ("or" and_expr)*
    and_expr   := not_expr ("and" not_expr)*
    not_expr   := "not" not_expr | "(" expr ")" | comparison
    comparison := NAME [ ("==" | "!=" | "<" | "<=" | ">" | ">=") literal
                       | "in" list | "not" "in" list | "contains" literal ]
    literal    := 'string' | "string" | number | true | false
    list       := "[" literal ("," literal)* [","] "]"
    NAME       := identifier ["." identifier]

A bare NAME is true when the value is truthy (meant for boolean fields). Names are written as
the coordinator sees them (`presence`, `osteomyelitis.abscess`); the protocol binds each name to
a value key (`extravasation.presence`) with `Condition.bind`, and `Condition.evaluate` looks the
bound keys up in a reader's values. A missing value (None) never equals anything, so
`x == 'a'` is false and `x != 'a'` is true while `x` is empty.
"""
from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Union

__all__ = [
    "And",
    "Compare",
    "Condition",
    "ConditionSyntaxError",
    "Node",
    "Not",
    "Or",
    "Truthy",
    "parse_condition",
]

Literal = Union[str, int, float, bool]

COMPARISON_OPERATORS: tuple[str, ...] = ("==", "!=", "<=", ">=", "<", ">", "in", "not in", "contains")
ORDERING_OPERATORS: frozenset[str] = frozenset({"<", "<=", ">", ">="})


class ConditionSyntaxError(ValueError):
    """A condition expression could not be parsed; `column` is 1-based within the expression."""

    def __init__(self, message: str, text: str, column: int) -> None:
        self.message = message
        self.text = text
        self.column = column
        super().__init__(f"{message} at column {column} of {text!r}")


@dataclass(frozen=True)
class Compare:
    """`name <op> value`; `value` is a tuple of literals for `in` / `not in`."""

    name: str
    op: str
    value: Literal | tuple[Literal, ...]
    key: str = ""

    @property
    def lookup_key(self) -> str:
        """The value key evaluated (the bound key, or the name as written)."""
        return self.key or self.name


@dataclass(frozen=True)
class Truthy:
    """A bare name: true when the value is truthy (a boolean field answered yes)."""

    name: str
    key: str = ""

    @property
    def lookup_key(self) -> str:
        """The value key evaluated (the bound key, or the name as written)."""
        return self.key or self.name


@dataclass(frozen=True)
class Not:
    """Logical negation."""

    operand: Node


@dataclass(frozen=True)
class And:
    """All operands true."""

    operands: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    """Any operand true."""

    operands: tuple[Node, ...]


Node = Union[Compare, Truthy, Not, And, Or]


def is_empty(value: Any) -> bool:
    """True for an unanswered field: None, blank text or an empty selection."""
    if value is None:
        return True
    if isinstance(value, str) and not value.strip():
        return True
    if isinstance(value, (list, tuple, set, frozenset)) and len(value) == 0:
        return True
    return False


def _equal(a: Any, b: Literal) -> bool:
    if is_empty(a):
        return False
    if isinstance(b, bool) or isinstance(a, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a is b
    if isinstance(b, (int, float)) and isinstance(a, (int, float)):
        return math.isclose(float(a), float(b), rel_tol=0.0, abs_tol=1e-12)
    return a == b


def _evaluate(node: Node, values: Callable[[str], Any]) -> bool:
    if isinstance(node, Or):
        return any(_evaluate(n, values) for n in node.operands)
    if isinstance(node, And):
        return all(_evaluate(n, values) for n in node.operands)
    if isinstance(node, Not):
        return not _evaluate(node.operand, values)
    if isinstance(node, Truthy):
        value = values(node.lookup_key)
        return not is_empty(value) and bool(value)
    value = values(node.lookup_key)
    op = node.op
    if op == "==":
        return _equal(value, node.value)  # type: ignore[arg-type]
    if op == "!=":
        return not _equal(value, node.value)  # type: ignore[arg-type]
    if op == "in":
        return any(_equal(value, v) for v in node.value)  # type: ignore[union-attr]
    if op == "not in":
        return not any(_equal(value, v) for v in node.value)  # type: ignore[union-attr]
    if op == "contains":
        if is_empty(value) or not isinstance(value, (list, tuple, set, frozenset)):
            return False
        return any(_equal(v, node.value) for v in value)  # type: ignore[arg-type]
    # ordering operators: numbers only
    if is_empty(value) or isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    target = node.value
    if isinstance(target, bool) or not isinstance(target, (int, float)):
        return False
    if op == "<":
        return value < target
    if op == "<=":
        return value <= target
    if op == ">":
        return value > target
    return value >= target


def _literal_text(value: Literal) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, int):
        return str(value)
    return f"'{value}'"


def _describe(
    node: Node,
    name_label: Callable[[str], str],
    value_label: Callable[[str, Literal], str],
    top: bool = True,
) -> str:
    if isinstance(node, (Or, And)):
        word = " or " if isinstance(node, Or) else " and "
        text = word.join(_describe(n, name_label, value_label, top=False) for n in node.operands)
        return text if top else f"({text})"
    if isinstance(node, Not):
        return f"not ({_describe(node.operand, name_label, value_label, top=True)})"
    if isinstance(node, Truthy):
        return f"{name_label(node.name)} is yes"
    name = name_label(node.name)

    def lit(v: Literal) -> str:
        return value_label(node.name, v)

    if node.op == "==":
        return f"{name} is {lit(node.value)}"  # type: ignore[arg-type]
    if node.op == "!=":
        return f"{name} is not {lit(node.value)}"  # type: ignore[arg-type]
    if node.op in ("in", "not in"):
        items = [lit(v) for v in node.value]  # type: ignore[union-attr]
        joined = items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]
        return f"{name} is {joined}" if node.op == "in" else f"{name} is not {joined}"
    if node.op == "contains":
        return f"{name} includes {lit(node.value)}"  # type: ignore[arg-type]
    words = {"<": "below", "<=": "at most", ">": "above", ">=": "at least"}
    return f"{name} is {words[node.op]} {lit(node.value)}"  # type: ignore[arg-type]


def _default_value_label(name: str, value: Literal) -> str:
    return _literal_text(value)


@dataclass(frozen=True)
class Condition:
    """A parsed condition: the text as written and its syntax tree."""

    text: str
    node: Node

    @classmethod
    def parse(cls, text: str) -> Condition:
        """Parse `text`; raises `ConditionSyntaxError` with the column of the problem."""
        return parse_condition(text)

    def comparisons(self) -> tuple[Compare | Truthy, ...]:
        """Every leaf (comparison or bare name) in source order."""
        out: list[Compare | Truthy] = []

        def walk(n: Node) -> None:
            if isinstance(n, (Compare, Truthy)):
                out.append(n)
            elif isinstance(n, Not):
                walk(n.operand)
            else:
                for child in n.operands:
                    walk(child)

        walk(self.node)
        return tuple(out)

    def names(self) -> tuple[str, ...]:
        """The field names the condition refers to, as written, without repeats."""
        seen: dict[str, None] = {}
        for leaf in self.comparisons():
            seen.setdefault(leaf.name, None)
        return tuple(seen)

    def keys(self) -> tuple[str, ...]:
        """The value keys the condition reads (bound keys, or names when unbound)."""
        seen: dict[str, None] = {}
        for leaf in self.comparisons():
            seen.setdefault(leaf.lookup_key, None)
        return tuple(seen)

    def bind(self, resolve: Callable[[str], str]) -> Condition:
        """A copy whose names are bound to value keys by `resolve(name) -> key`."""

        def walk(n: Node) -> Node:
            if isinstance(n, (Compare, Truthy)):
                return replace(n, key=resolve(n.name))
            if isinstance(n, Not):
                return Not(walk(n.operand))
            if isinstance(n, And):
                return And(tuple(walk(c) for c in n.operands))
            return Or(tuple(walk(c) for c in n.operands))

        return Condition(self.text, walk(self.node))

    def evaluate(self, values: Mapping[str, Any] | Callable[[str], Any]) -> bool:
        """True when the condition holds for `values` (a mapping or a key -> value function)."""
        getter = values.get if isinstance(values, Mapping) else values
        return _evaluate(self.node, getter)

    def describe(
        self,
        name_label: Callable[[str], str] | None = None,
        value_label: Callable[[str, Literal], str] | None = None,
    ) -> str:
        """The condition in words for a reader, e.g. "presence is 'present' or 'indeterminate'"."""
        return _describe(
            self.node,
            name_label or (lambda name: name),
            value_label or _default_value_label,
        )

    def __str__(self) -> str:
        return self.text


# --- tokenizer and parser -------------------------------------------------------------------

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
  | (?P<number>[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?)
  | (?P<op>==|!=|<=|>=|<|>|\(|\)|\[|\]|,)
    """,
    re.VERBOSE,
)

_KEYWORDS = frozenset({"and", "or", "not", "in", "contains", "true", "false", "True", "False"})


@dataclass(frozen=True)
class _Token:
    kind: str  # "string", "number", "name", "keyword", "op", "end"
    text: str
    column: int


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            ch = text[pos]
            hint = " (use == to compare)" if ch == "=" else ""
            if ch in "'\"":
                raise ConditionSyntaxError("unterminated string", text, pos + 1)
            raise ConditionSyntaxError(f"unexpected character {ch!r}{hint}", text, pos + 1)
        kind = m.lastgroup or ""
        if kind != "ws":
            value = m.group()
            if kind == "name" and value in _KEYWORDS:
                kind = "keyword"
            tokens.append(_Token(kind, value, pos + 1))
        pos = m.end()
    tokens.append(_Token("end", "", len(text) + 1))
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokenize(text)
        self.i = 0

    @property
    def tok(self) -> _Token:
        return self.tokens[self.i]

    def error(self, message: str, token: _Token | None = None) -> ConditionSyntaxError:
        token = token or self.tok
        return ConditionSyntaxError(message, self.text, token.column)

    def take(self, kind: str, text: str | None = None) -> _Token | None:
        t = self.tok
        if t.kind == kind and (text is None or t.text == text):
            self.i += 1
            return t
        return None

    def describe(self, t: _Token) -> str:
        return "end of expression" if t.kind == "end" else repr(t.text)

    def parse(self) -> Node:
        if self.tok.kind == "end":
            raise self.error("empty condition")
        node = self.parse_or()
        if self.tok.kind != "end":
            raise self.error(f"expected 'and', 'or' or end of expression, got {self.describe(self.tok)}")
        return node

    def parse_or(self) -> Node:
        operands = [self.parse_and()]
        while self.take("keyword", "or"):
            operands.append(self.parse_and())
        return operands[0] if len(operands) == 1 else Or(tuple(operands))

    def parse_and(self) -> Node:
        operands = [self.parse_not()]
        while self.take("keyword", "and"):
            operands.append(self.parse_not())
        return operands[0] if len(operands) == 1 else And(tuple(operands))

    def parse_not(self) -> Node:
        if self.take("keyword", "not"):
            return Not(self.parse_not())
        if self.take("op", "("):
            node = self.parse_or()
            if not self.take("op", ")"):
                raise self.error(f"expected ')', got {self.describe(self.tok)}")
            return node
        return self.parse_comparison()

    def parse_comparison(self) -> Node:
        name_tok = self.take("name")
        if name_tok is None:
            raise self.error(f"expected a field name, got {self.describe(self.tok)}")
        name = name_tok.text
        t = self.tok
        if t.kind == "op" and t.text in ("==", "!=", "<", "<=", ">", ">="):
            self.i += 1
            return Compare(name, t.text, self.parse_literal())
        if t.kind == "keyword" and t.text == "in":
            self.i += 1
            return Compare(name, "in", self.parse_list())
        if t.kind == "keyword" and t.text == "not":
            nxt = self.tokens[self.i + 1]
            if nxt.kind == "keyword" and nxt.text == "in":
                self.i += 2
                return Compare(name, "not in", self.parse_list())
            raise self.error("expected 'in' after 'not'", nxt)
        if t.kind == "keyword" and t.text == "contains":
            self.i += 1
            return Compare(name, "contains", self.parse_literal())
        return Truthy(name)

    def parse_literal(self) -> Literal:
        t = self.tok
        if t.kind == "string":
            self.i += 1
            body = t.text[1:-1]
            return re.sub(r"\\(.)", r"\1", body)
        if t.kind == "number":
            self.i += 1
            if re.fullmatch(r"[-+]?\d+", t.text):
                return int(t.text)
            return float(t.text)
        if t.kind == "keyword" and t.text in ("true", "True"):
            self.i += 1
            return True
        if t.kind == "keyword" and t.text in ("false", "False"):
            self.i += 1
            return False
        if t.kind == "name":
            raise self.error(f"expected a value, got the name {t.text!r} (put text values in quotes: '{t.text}')")
        raise self.error(f"expected a value, got {self.describe(t)}")

    def parse_list(self) -> tuple[Literal, ...]:
        start = self.take("op", "[")
        if start is None:
            raise self.error(f"expected '[' to start a list, got {self.describe(self.tok)}")
        items: list[Literal] = []
        while True:
            if self.take("op", "]"):
                break
            items.append(self.parse_literal())
            if self.take("op", ","):
                continue
            if self.take("op", "]"):
                break
            raise self.error(f"expected ',' or ']' in the list, got {self.describe(self.tok)}")
        if not items:
            raise self.error("the list is empty", start)
        return tuple(items)


def parse_condition(text: str) -> Condition:
    """Parse a condition expression; raises `ConditionSyntaxError` on bad syntax."""
    if not isinstance(text, str):
        raise ConditionSyntaxError(f"expected an expression string, got {type(text).__name__}", str(text), 1)
    return Condition(text, _Parser(text).parse())
