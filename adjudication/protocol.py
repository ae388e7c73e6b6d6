"""The versioned read protocol: what readers record, how reads are run, when reads disagree.

A coordinator writes the protocol as a TOML file (see `adjudication/protocols/io_complications.toml`,
the default); `load_protocol` / `parse_protocol` validate it into frozen dataclasses. An invalid
file is rejected with `InvalidProtocol`, which lists every problem found, each naming the line
and the field path, e.g.::

    io.toml:57: findings[2].fields[1].range: expected [min, max] with min < max, got [5, 1]

Every reader-facing label may carry translations keyed by locale (``zh_CN``, ``en_US``)::

    label = "Extravasation / compartment involvement"
    labels = { zh_CN = "外渗/筋膜室受累" }          # findings, fields, choices
    titles = { zh_CN = "骨髓腔穿刺部位：并发症阅片" }  # [protocol] title

    [timepoints.translations.zh_CN]                 # one label per timepoint, same order
    labels = ["基线", "置入后", "拔除后", "随访"]
    [confidence.translations.zh_CN]                 # the field name and one label per value
    label = "置信度"
    labels = ["肯定不存在", "可能不存在", "不确定", "可能存在", "肯定存在"]
    [presence.translations.zh_CN]                   # present, absent, indeterminate
    label = "存在与否"
    labels = ["存在", "不存在", "不确定"]

`label_in(locale)` gives the label in a locale, falling back to the English `label`; a bare
language (``zh``) matches a regional translation (``zh_CN``). Stored values never change.

Value keys used by read forms, discordance and exports are `"<read_field_id>"` and
`"<finding_id>.<field_id>"`; a presence finding has the implicit fields `presence`
(present / absent / indeterminate, coded with DICOM CID 240) and `confidence` (the protocol's
confidence scale, DCM 111012 "Certainty of Finding").
"""
from __future__ import annotations

import difflib
import hashlib
import json
import math
import re
import tomllib
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field as dc_field, replace
from enum import Enum
from functools import cached_property
from pathlib import Path
from typing import Any, ClassVar, Generic, TypeVar

from adjudication.problems import InvalidProtocol, ProtocolProblem
from adjudication.conditions import Compare, Condition, ConditionSyntaxError, Truthy, parse_condition
from adjudication.discordance import (
    DiscordanceRule,
    Mismatch,
    NoDiscordance,
    NumericDifference,
    OrdinalDifference,
    PresenceOrConfidence,
    parse_rule,
)

__all__ = [
    "COMMITTEE_PREFIX",
    "FILL_SOURCES",
    "MODALITIES",
    "Choice",
    "Code",
    "ConfidenceScale",
    "Field",
    "FieldType",
    "Finding",
    "HangingProtocol",
    "InvalidProtocol",
    "PanelRule",
    "PanelRules",
    "Paradigm",
    "PresenceCodes",
    "PriorsMode",
    "Protocol",
    "ProtocolProblem",
    "RereadPolicy",
    "ToolThresholds",
    "Translations",
    "default_protocol_path",
    "locale_candidates",
    "load_default_protocol",
    "load_protocol",
    "parse_protocol",
    "sctid_is_valid",
]


# --- enumerations -----------------------------------------------------------------------------


#: value keys of committee-only fields start with this ("committee.gurd_major")
COMMITTEE_PREFIX = "committee."


class Paradigm(str, Enum):
    """How discordant reads are resolved."""

    two_plus_one = "two_plus_one"
    two_of_three = "two_of_three"
    consensus_panel = "consensus_panel"


class PriorsMode(str, Enum):
    """Whether readers see a subject's earlier timepoints (then cases are read in time order)."""

    none = "none"
    earlier_timepoints = "earlier_timepoints"


class FieldType(str, Enum):
    """The kinds of value a read-form field holds."""

    choice = "choice"
    multi_choice = "multi_choice"
    number = "number"
    integer = "integer"
    boolean = "boolean"
    text = "text"
    presence = "presence"
    confidence = "confidence"


#: Sources an assistive tool may propose a value from (`fill_from`); the reader confirms it.
FILL_SOURCES: Mapping[str, str] = {
    "case": "the case's own metadata (e.g. its timepoint label)",
    "dicom_header": "the DICOM header (e.g. Laterality / Image Laterality)",
    "ruler": "a length measured with the ruler tool",
    "region_grow": "the volume of a region grown between HU thresholds",
    "roi_mean_hu": "the mean CT number inside a region of interest",
}

#: DICOM modality codes (PS3.3 C.7.3.1.1.1) accepted in `modalities`.
MODALITIES: frozenset[str] = frozenset(
    {"CR", "CT", "DX", "MR", "US", "XA", "RF", "PT", "NM", "MG", "RG", "OT"}
)

#: Common non-UCUM unit spellings and their UCUM form.
_UCUM_FIXES: Mapping[str, str] = {
    "ml": "mL",
    "ML": "mL",
    "cc": "mL",
    "HU": "[hnsf'U]",
    "hu": "[hnsf'U]",
    "CM": "cm",
    "MM": "mm",
    "sec": "s",
    "secs": "s",
    "mins": "min",
    "hr": "h",
    "hrs": "h",
    "days": "d",
    "day": "d",
}


# --- translations -----------------------------------------------------------------------------

_V = TypeVar("_V")

#: A locale key of a translation: language, optionally region or script (zh, zh_CN, zh_Hans).
_LOCALE_RE = re.compile(r"^[a-z]{2,3}(?:_(?:[A-Z]{2}|[A-Z][a-z]{3}|[0-9]{3}))?$")


class Translations(Mapping[str, _V], Generic[_V]):
    """A read-only locale -> translation mapping (``{"zh_CN": "外渗"}``).

    Hashable and immutable, so the frozen protocol dataclasses holding it stay hashable."""

    __slots__ = ("_data",)

    def __init__(self, items: Mapping[str, _V] | Iterable[tuple[str, _V]] = ()) -> None:
        self._data: dict[str, _V] = dict(items)

    def __getitem__(self, key: str) -> _V:
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __hash__(self) -> int:
        return hash(frozenset(self._data.items()))

    def __repr__(self) -> str:
        return f"Translations({self._data!r})"

    def pick(self, locale: str | None) -> _V | None:
        """The translation for `locale` (exact, then its bare language, then any region of
        that language), or None."""
        candidates = locale_candidates(locale)
        for candidate in candidates:
            if candidate in self._data:
                return self._data[candidate]
        if candidates:
            language = candidates[-1]
            for key in sorted(self._data):
                if key.split("_", 1)[0] == language:
                    return self._data[key]
        return None


_NO_TRANSLATIONS: Translations[Any] = Translations()


def locale_candidates(locale: str | None) -> tuple[str, ...]:
    """Normalised forms of a locale name to look translations up with, most specific first:
    ``"zh-cn.UTF-8"`` -> ``("zh_CN", "zh")``; None, "" and "C" give ``()``."""
    if not locale:
        return ()
    name = locale.split(".", 1)[0].split("@", 1)[0].replace("-", "_").strip()
    if not name or name in ("C", "POSIX"):
        return ()
    language, _, rest = name.partition("_")
    language = language.lower()
    if not rest:
        return (language,)
    region = rest.upper() if len(rest) != 4 else rest.capitalize()
    return (f"{language}_{region}", language)


# --- value objects ----------------------------------------------------------------------------

_SCHEME_RE = re.compile(r"^[A-Z0-9][A-Z0-9_.\-]*$")
_CODE_STRING_RE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9_.\-]*):(\S+)$")

_VERHOEFF_D = (
    (0, 1, 2, 3, 4, 5, 6, 7, 8, 9),
    (1, 2, 3, 4, 0, 6, 7, 8, 9, 5),
    (2, 3, 4, 0, 1, 7, 8, 9, 5, 6),
    (3, 4, 0, 1, 2, 8, 9, 5, 6, 7),
    (4, 0, 1, 2, 3, 9, 5, 6, 7, 8),
    (5, 9, 8, 7, 6, 0, 4, 3, 2, 1),
    (6, 5, 9, 8, 7, 1, 0, 4, 3, 2),
    (7, 6, 5, 9, 8, 2, 1, 0, 4, 3),
    (8, 7, 6, 5, 9, 3, 2, 1, 0, 4),
    (9, 8, 7, 6, 5, 4, 3, 2, 1, 0),
)


def _verhoeff_permutations() -> tuple[tuple[int, ...], ...]:
    rows = [tuple(range(10)), (1, 5, 7, 6, 2, 8, 3, 0, 9, 4)]
    for i in range(2, 8):
        rows.append(tuple(rows[i - 1][rows[1][j]] for j in range(10)))
    return tuple(rows)


_VERHOEFF_P = _verhoeff_permutations()


def sctid_is_valid(value: str) -> bool:
    """True when `value` is a well-formed SNOMED CT concept id: 6-18 digits, a concept
    partition identifier (00 or 10) and a correct Verhoeff check digit (SNOMED CT TRG, SCTID)."""
    if not re.fullmatch(r"[1-9][0-9]{5,17}", value):
        return False
    if value[-3:-1] not in ("00", "10"):
        return False
    check = 0
    for i, ch in enumerate(reversed(value)):
        check = _VERHOEFF_D[check][_VERHOEFF_P[i % 8][int(ch)]]
    return check == 0


@dataclass(frozen=True)
class Code:
    """A coded concept (DICOM "code sequence" triplet): scheme designator, value, meaning."""

    scheme: str
    value: str
    meaning: str = ""

    @classmethod
    def parse(cls, text: str, meaning: str = "") -> Code:
        """Parse "SCHEME:VALUE" (e.g. "SCT:255604002"); raises ValueError when malformed."""
        m = _CODE_STRING_RE.match(text.strip()) if isinstance(text, str) else None
        if m is None:
            raise ValueError(f'expected "SCHEME:VALUE" such as "SCT:60168000", got {text!r}')
        return cls(m.group(1), m.group(2), meaning)

    def problems(self) -> list[str]:
        """What is wrong with the code, in words (empty when it looks right)."""
        out: list[str] = []
        if not _SCHEME_RE.match(self.scheme):
            out.append(
                f"coding scheme {self.scheme!r} must be upper-case letters and digits "
                '(e.g. "SCT", "DCM", "99IOREVIEW")'
            )
        if not self.value.strip():
            out.append("code value is empty")
        elif self.scheme == "SCT" and not sctid_is_valid(self.value):
            out.append(
                f"SCT:{self.value} is not a valid SNOMED CT concept id (digits, partition or "
                "check digit wrong); check it against a standard table, or use the local scheme "
                '"99IOREVIEW"'
            )
        elif self.scheme == "DCM" and not self.value.isdigit():
            out.append(f"DCM code values are digits, got {self.value!r}")
        return out

    def __str__(self) -> str:
        return f"{self.scheme}:{self.value}"


@dataclass(frozen=True)
class Choice:
    """One allowed value of a choice field, with the label a reader sees and an optional code."""

    value: str | int
    label: str
    code: Code | None = None
    labels: Mapping[str, str] = _NO_TRANSLATIONS

    def label_in(self, locale: str | None) -> str:
        """The label in `locale` (e.g. "zh_CN"), falling back to `label`."""
        return _pick_label(self.labels, locale, self.label)


@dataclass(frozen=True)
class RereadPolicy:
    """The hidden intra-reader re-read subset: fraction of cases and washout in days."""

    fraction: float = 0.0
    washout_days: int = 0
    seeded: bool = True


@dataclass(frozen=True)
class ConfidenceScale:
    """The confidence scale of presence findings (1 definitely absent ... 5 definitely present)."""

    values: tuple[int, ...]
    labels: tuple[str, ...]
    code: Code | None = None
    indeterminate: float | None = None
    translations: Mapping[str, tuple[str, ...]] = _NO_TRANSLATIONS
    field_labels: Mapping[str, str] = _NO_TRANSLATIONS

    @property
    def midpoint(self) -> float:
        """The indeterminate point: the `indeterminate` value, else the middle of the scale."""
        if self.indeterminate is not None:
            return float(self.indeterminate)
        n = len(self.values)
        if n == 0:
            return 0.0
        if n % 2:
            return float(self.values[n // 2])
        return (self.values[n // 2 - 1] + self.values[n // 2]) / 2.0

    @property
    def choices(self) -> tuple[Choice, ...]:
        """The scale as choices (integer values, labels as written)."""
        return tuple(
            Choice(v, lab, labels=Translations((loc, labs[i]) for loc, labs in self.translations.items()))
            for i, (v, lab) in enumerate(zip(self.values, self.labels))
        )

    def label_for(self, value: int) -> str:
        """The label of a confidence value, or the value as text when it is not on the scale."""
        for v, lab in zip(self.values, self.labels):
            if v == value:
                return lab
        return str(value)

    def label_in(self, value: int, locale: str | None) -> str:
        """The label of a confidence value in `locale`, falling back to `label_for`."""
        labels = _pick(self.translations, locale)
        if labels is not None:
            for v, lab in zip(self.values, labels):
                if v == value:
                    return lab
        return self.label_for(value)


@dataclass(frozen=True)
class PresenceCodes:
    """Codes of the three presence answers (DICOM CID 240)."""

    present: Code
    absent: Code
    indeterminate: Code
    translations: Mapping[str, tuple[str, ...]] = _NO_TRANSLATIONS
    field_labels: Mapping[str, str] = _NO_TRANSLATIONS

    VALUES: ClassVar[tuple[str, ...]] = ("present", "absent", "indeterminate")
    LABELS: ClassVar[tuple[str, ...]] = ("Present", "Absent", "Indeterminate")

    @property
    def choices(self) -> tuple[Choice, ...]:
        """present / absent / indeterminate as choices carrying their codes and translations."""
        codes = (self.present, self.absent, self.indeterminate)
        return tuple(
            Choice(value, label, code,
                   Translations((loc, labs[i]) for loc, labs in self.translations.items()))
            for i, (value, label, code) in enumerate(zip(self.VALUES, self.LABELS, codes))
        )


class PanelRule(str, Enum):
    """How a consensus panel decides an item."""

    majority = "majority"
    unanimity = "unanimity"


@dataclass(frozen=True)
class PanelRules:
    """How a committee (consensus panel) session decides: the voting rule, the quorum (members
    present, chair included) and whether votes stay hidden until every member present voted."""

    rule: PanelRule = PanelRule.majority
    quorum: int = 3
    hidden_votes: bool = True


@dataclass(frozen=True)
class ToolThresholds:
    """CT-number ranges (HU) used by the assistive tools, and the warning shown with them."""

    fat_hu: tuple[float, float] = (-120.0, -30.0)
    fluid_hu: tuple[float, float] = (0.0, 20.0)
    blood_hu: tuple[float, float] = (30.0, 100.0)
    warn: str = ""


#: Viewport layouts a hanging protocol may name.
HANGING_LAYOUTS: tuple[str, ...] = ("1x1", "1x2", "2x2")


@dataclass(frozen=True)
class HangingProtocol:
    """How the viewer hangs a case: a default layout per modality, and whether a two-pane
    layout puts the current image beside the prior timepoint's same view."""

    layouts: Mapping[str, str] = dc_field(default_factory=dict)
    default_layout: str = "1x1"
    compare_with_prior: bool = True

    def layout_for(self, modality: str) -> str:
        """The layout for a series of `modality` ("DX", "CT", ...)."""
        return self.layouts.get(modality.upper(), self.default_layout)

    def __hash__(self) -> int:
        return hash((tuple(sorted(self.layouts.items())), self.default_layout, self.compare_with_prior))


@dataclass(frozen=True)
class Field:
    """One question on the read form."""

    id: str
    label: str
    type: FieldType
    choices: tuple[Choice, ...] = ()
    required: bool = False
    required_if: Condition | None = None
    shown_if: Condition | None = None
    unit: str | None = None
    range: tuple[float, float] | None = None
    fill_from: str | None = None
    modalities: tuple[str, ...] = ()
    discordance: DiscordanceRule = dc_field(default_factory=Mismatch)
    help: str = ""
    code: Code | None = None
    labels: Mapping[str, str] = _NO_TRANSLATIONS

    def label_in(self, locale: str | None) -> str:
        """The question in `locale` (e.g. "zh_CN"), falling back to `label`."""
        return _pick_label(self.labels, locale, self.label)

    @property
    def choice_values(self) -> tuple[str | int, ...]:
        """The allowed values of a choice-like field, in order."""
        return tuple(c.value for c in self.choices)

    def choice(self, value: str | int) -> Choice | None:
        """The choice with `value`, or None."""
        for c in self.choices:
            if c.value == value:
                return c
        return None

    def applies_to(self, modalities: Collection[str] | None) -> bool:
        """True when the field is asked for a case with these modalities (None: always)."""
        if not self.modalities or modalities is None:
            return True
        return bool(set(self.modalities) & set(modalities))


@dataclass(frozen=True)
class Finding:
    """A complication readers assess; presence findings carry implicit presence + confidence."""

    id: str
    label: str
    code: Code | None
    presence: bool
    fields: tuple[Field, ...]
    discordance: DiscordanceRule | None = None
    help: str = ""
    labels: Mapping[str, str] = _NO_TRANSLATIONS

    def label_in(self, locale: str | None) -> str:
        """The finding's title in `locale` (e.g. "zh_CN"), falling back to `label`."""
        return _pick_label(self.labels, locale, self.label)

    def field(self, field_id: str) -> Field:
        """The field with `field_id`; KeyError when there is none."""
        for f in self.fields:
            if f.id == field_id:
                return f
        raise KeyError(f"{self.id}.{field_id}")

    @property
    def presence_field(self) -> Field:
        """The implicit presence field (KeyError for findings without presence)."""
        return self.field("presence")


@dataclass(frozen=True)
class Protocol:
    """A validated read protocol; `source_text` and `sha256` pin the exact file version."""

    id: str
    version: str
    title: str
    paradigm: Paradigm
    readers_per_case: int
    priors: PriorsMode
    rereads: RereadPolicy
    timepoints: tuple[str, ...]
    confidence: ConfidenceScale
    presence: PresenceCodes
    read_fields: tuple[Field, ...]
    findings: tuple[Finding, ...]
    tools: ToolThresholds
    source_text: str = ""
    sha256: str = ""
    titles: Mapping[str, str] = _NO_TRANSLATIONS
    timepoint_translations: Mapping[str, tuple[str, ...]] = _NO_TRANSLATIONS
    #: fields only the committee sees and answers (e.g. Gurd's clinical criteria); never on a
    #: reader's or an adjudicator's form; their value keys are "committee.<id>"
    committee_fields: tuple[Field, ...] = ()
    panel: PanelRules = PanelRules()
    #: the viewer's default layouts ([hanging]; defaults when the file has none)
    hanging: HangingProtocol = HangingProtocol()

    def title_in(self, locale: str | None) -> str:
        """The protocol title in `locale`, falling back to `title`."""
        return _pick_label(self.titles, locale, self.title)

    def timepoint_label(self, value: str, locale: str | None) -> str:
        """The reader-facing name of timepoint `value` in `locale` ("post-insertion" -> "置入后");
        the value itself when it has no translation or is not a protocol timepoint."""
        labels = _pick(self.timepoint_translations, locale)
        if labels is not None:
            for tp, lab in zip(self.timepoints, labels):
                if tp == value:
                    return lab
        return value

    def iter_fields(self) -> Iterator[tuple[str, Finding | None, Field]]:
        """(key, finding or None, field) for every field, in form order."""
        for f in self.read_fields:
            yield f.id, None, f
        for finding in self.findings:
            for f in finding.fields:
                yield f"{finding.id}.{f.id}", finding, f

    def keys(self) -> tuple[str, ...]:
        """Every value key, in form order."""
        return tuple(key for key, _, _ in self.iter_fields())

    def finding(self, finding_id: str) -> Finding:
        """The finding with `finding_id`; KeyError when there is none."""
        for finding in self.findings:
            if finding.id == finding_id:
                return finding
        raise KeyError(finding_id)

    def field(self, key: str) -> Field:
        """The field for a value key ("image_quality", "extravasation.volume_ml")."""
        return self.locate(key)[1]

    def locate(self, key: str) -> tuple[Finding | None, Field]:
        """(finding or None, field) for a value key; KeyError when unknown."""
        return self._fields_by_key[key]

    @cached_property
    def _fields_by_key(self) -> dict[str, tuple[Finding | None, Field]]:
        """`locate`'s index (an export looks up every value's field: ~15,000 times)."""
        index: dict[str, tuple[Finding | None, Field]] = {}
        for k, finding, f in self.iter_fields():
            index.setdefault(k, (finding, f))
        return index

    def label_for(self, key: str, locale: str | None = None) -> str:
        """A reader-facing name of a value key, e.g. "Extravasation: Volume" (in `locale` when
        the protocol translates it); committee-only keys ("committee.gurd_major") too."""
        if key.startswith(COMMITTEE_PREFIX):
            return self.committee_field(key).label_in(locale)
        finding, f = self.locate(key)
        if finding is None:
            return f.label_in(locale)
        return f"{finding.label_in(locale)}: {f.label_in(locale)}"

    def committee_keys(self) -> tuple[str, ...]:
        """The value keys of the committee-only fields, in form order."""
        return tuple(COMMITTEE_PREFIX + f.id for f in self.committee_fields)

    def any_field(self, key: str) -> Field:
        """The field of any value key: a read-form key or a committee-only one."""
        return self.committee_field(key) if key.startswith(COMMITTEE_PREFIX) else self.field(key)

    def committee_field(self, key: str) -> Field:
        """The committee-only field of a key ("committee.gurd_major"); KeyError when unknown."""
        for f in self.committee_fields:
            if COMMITTEE_PREFIX + f.id == key:
                return f
        raise KeyError(key)


def _pick(translations: Mapping[str, _V], locale: str | None) -> _V | None:
    """`Translations.pick` for any mapping of locale -> translation."""
    if not translations or not locale:
        return None
    if isinstance(translations, Translations):
        return translations.pick(locale)
    return Translations(translations).pick(locale)


def _pick_label(translations: Mapping[str, str], locale: str | None, default: str) -> str:
    return _pick(translations, locale) or default


# --- problems ---------------------------------------------------------------------------------


# --- locating keys in the source text ---------------------------------------------------------

_HEADER_RE = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$")
_KEY_RE = re.compile(r"^\s*([A-Za-z0-9_\-\".' ]+?)\s*=")
_INDEX_RE = re.compile(r"(\.[^.\[\]]+|\[\d+\])$")


class _SourceIndex:
    """Line numbers of tables and keys, addressed by the field paths used in problem messages
    (`findings[2].fields[1].range`). Array elements written one per line inside a multi-line
    array get their own entries (`...choices[3]`)."""

    def __init__(self, text: str) -> None:
        self.lines: dict[str, int] = {}
        table = ""
        last_index: dict[str, int] = {}
        counts: dict[str, int] = {}
        in_multiline: str | None = None
        array_key: str | None = None
        array_depth = 0
        array_item = 0
        for lineno, line in enumerate(text.splitlines(), start=1):
            if in_multiline is not None:
                if line.count(in_multiline) % 2 == 1:
                    in_multiline = None
                continue
            if array_key is not None:
                stripped = line.strip()
                if array_depth == 1 and stripped and stripped[0] in "{\"'-0123456789[tf":
                    self.lines.setdefault(f"{array_key}[{array_item}]", lineno)
                    array_item += _count_top_level_items(stripped)
                array_depth += _bracket_balance(line)
                if array_depth <= 0:
                    array_key = None
                continue
            header = _HEADER_RE.match(line)
            if header and not line.lstrip().startswith("#"):
                is_array = header.group(1) == "[["
                parts = [p.strip().strip('"') for p in header.group(2).split(".")]
                path = ""
                for k, part in enumerate(parts):
                    path = part if not path else f"{path}.{part}"
                    if k < len(parts) - 1 and path in last_index:
                        path = f"{path}[{last_index[path]}]"
                if is_array:
                    idx = counts.get(path, -1) + 1
                    counts[path] = idx
                    last_index[path] = idx
                    path = f"{path}[{idx}]"
                table = path
                self.lines.setdefault(table, lineno)
                continue
            key = _KEY_RE.match(line)
            if key and not line.lstrip().startswith("#"):
                name = key.group(1).strip().strip('"').strip("'")
                full = f"{table}.{name}" if table else name
                self.lines.setdefault(full, lineno)
                rest = line[key.end():]
                for quote in ('"""', "'''"):
                    if rest.count(quote) % 2 == 1:
                        in_multiline = quote
                balance = _bracket_balance(rest)
                if balance > 0:
                    array_key, array_depth, array_item = full, balance, 0
                    after = rest.strip()[1:].strip()
                    if after and not after.startswith("#"):
                        array_item = _count_top_level_items(after)

    def line_for(self, path: str) -> int | None:
        """The line of `path` or of its nearest enclosing key/table, or None."""
        while path:
            if path in self.lines:
                return self.lines[path]
            m = _INDEX_RE.search(path)
            if m is None:
                break
            path = path[: m.start()]
        return None


def _strip_strings(line: str) -> str:
    out: list[str] = []
    quote: str | None = None
    i = 0
    while i < len(line):
        ch = line[i]
        if quote:
            if ch == "\\" and quote == '"':
                i += 2
                continue
            if ch == quote:
                quote = None
            i += 1
            continue
        if ch in "\"'":
            quote = ch
            out.append("s")
        elif ch == "#":
            break
        else:
            out.append(ch)
        i += 1
    return "".join(out)


def _bracket_balance(line: str) -> int:
    bare = _strip_strings(line)
    return bare.count("[") + bare.count("{") - bare.count("]") - bare.count("}")


def _count_top_level_items(text: str) -> int:
    """How many array elements start on this line (top-level commas + 1, ignoring a trailing ',')."""
    bare = _strip_strings(text).rstrip()
    depth = 0
    count = 1 if bare and bare[0] not in "]" else 0
    for i, ch in enumerate(bare):
        if ch in "[{":
            depth += 1
        elif ch in "]}":
            depth -= 1
        elif ch == "," and depth == 0 and bare[i + 1 :].strip() not in ("", "]"):
            count += 1
    return count


# --- the validator ----------------------------------------------------------------------------

_ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_PROTOCOL_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_.\-]*$")

_TOP_KEYS = ("protocol", "rereads", "timepoints", "confidence", "presence", "read_fields", "findings", "tools",
             "panel", "committee_fields", "hanging")
_HANGING_KEYS = ("default", "layouts", "compare_with_prior")
_MODALITY_RE = re.compile(r"^[A-Z]{2,4}$")
_PANEL_KEYS = ("rule", "quorum", "hidden_votes")
_PROTOCOL_KEYS = ("id", "version", "title", "titles", "paradigm", "readers_per_case", "priors")
_REREAD_KEYS = ("fraction", "washout_days", "seeded")
_TIMEPOINT_KEYS = ("labels", "translations")
_CONFIDENCE_KEYS = ("values", "labels", "code", "indeterminate", "translations")
_PRESENCE_KEYS = PresenceCodes.VALUES + ("translations",)
_TOOL_KEYS = ("fat_hu", "fluid_hu", "blood_hu", "warn")
_FINDING_KEYS = ("id", "label", "labels", "code", "presence", "discordance", "help", "fields")
_CODE_KEYS = ("scheme", "value", "meaning")
_CHOICE_KEYS = ("value", "label", "labels", "code")
_COMMON_FIELD_KEYS = (
    "id", "label", "labels", "translations", "type", "required", "required_if", "shown_if", "help",
    "modalities", "discordance", "fill_from", "code",
)
_FIELD_TRANSLATION_KEYS = ("label", "choices")
_TYPE_FIELD_KEYS: Mapping[FieldType, tuple[str, ...]] = {
    FieldType.choice: ("choices", "codes", "choices_from"),
    FieldType.multi_choice: ("choices", "codes", "choices_from"),
    FieldType.number: ("unit", "range"),
    FieldType.integer: ("unit", "range"),
    FieldType.boolean: (),
    FieldType.text: (),
    FieldType.presence: (),
    FieldType.confidence: (),
}
_ALL_FIELD_KEYS = tuple(dict.fromkeys(_COMMON_FIELD_KEYS + ("choices", "codes", "choices_from", "unit", "range")))
_RESERVED_PRESENCE_IDS = ("presence", "confidence")
_DECLARABLE_TYPES = tuple(t for t in FieldType if t not in (FieldType.presence, FieldType.confidence))

#: primary readers per case: 2+1 and 2-of-3 read every case twice (2-of-3 adds a third reader
#: only to a discordant case); a consensus panel may start from two or more reads
_READERS_FOR: Mapping[Paradigm, tuple[int, str]] = {
    Paradigm.two_plus_one: (2, "exactly 2"),
    Paradigm.two_of_three: (2, "exactly 2 (a third reader reads only discordant cases)"),
    Paradigm.consensus_panel: (2, "at least 2"),
}


def _show(value: Any) -> str:
    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        return repr(value)


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    return type(value).__name__


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _suggest(word: str, candidates: tuple[str, ...] | list[str]) -> str:
    close = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _default_label(identifier: str) -> str:
    return identifier.replace("_", " ").strip().capitalize() or identifier


class _Validator:
    """Collects problems while building the protocol; every check adds to `problems`."""

    def __init__(self, text: str, source: str) -> None:
        self.text = text
        self.source = source
        self.index = _SourceIndex(text)
        self.problems: list[ProtocolProblem] = []
        self.paths: dict[str, str] = {}
        self.timepoint_translations: Translations[tuple[str, ...]] = _NO_TRANSLATIONS

    # helpers -----------------------------------------------------------------------------

    def problem(self, path: str, message: str) -> None:
        self.problems.append(ProtocolProblem(self.index.line_for(path), path, message))

    def check_keys(self, table: Mapping[str, Any], allowed: tuple[str, ...], path: str,
                   elsewhere: Mapping[str, str] | None = None) -> None:
        for key in table:
            if key in allowed:
                continue
            where = f"{path}.{key}" if path else key
            if elsewhere and key in elsewhere:
                self.problem(where, elsewhere[key])
                continue
            self.problem(where, f"unknown key {key!r}{_suggest(key, allowed)}; allowed here: {', '.join(allowed)}")

    def table(self, parent: Mapping[str, Any], key: str, path: str, required: bool = False) -> dict[str, Any] | None:
        where = f"{path}.{key}" if path else key
        if key not in parent:
            if required:
                self.problem(path, f"missing table [{where}]")
            return None
        value = parent[key]
        if not isinstance(value, dict):
            self.problem(where, f"expected a table [{where}], got {_type_name(value)}")
            return None
        return value

    def string(self, table: Mapping[str, Any], key: str, path: str, required: bool = False,
               default: str = "", pattern: re.Pattern[str] | None = None, what: str = "") -> str:
        where = f"{path}.{key}"
        if key not in table:
            if required:
                self.problem(path, f"missing key {key!r}")
            return default
        value = table[key]
        if not isinstance(value, str):
            hint = f' (write it in quotes: {key} = "{value}")' if _is_number(value) else ""
            self.problem(where, f"expected a string, got {_type_name(value)} {_show(value)}{hint}")
            return default
        if required and not value.strip():
            self.problem(where, "must not be empty")
            return default
        if pattern is not None and not pattern.match(value):
            self.problem(where, f"{_show(value)} is not a valid {what}")
            return default
        return value

    def boolean(self, table: Mapping[str, Any], key: str, path: str, default: bool) -> bool:
        if key not in table:
            return default
        value = table[key]
        if not isinstance(value, bool):
            self.problem(f"{path}.{key}", f"expected true or false, got {_type_name(value)} {_show(value)}")
            return default
        return value

    def enum(self, table: Mapping[str, Any], key: str, path: str, enum: type[Enum], default: Any) -> Any:
        if key not in table:
            return default
        value = table[key]
        names = [m.value for m in enum]  # type: ignore[attr-defined]
        if not isinstance(value, str) or value not in names:
            hint = _suggest(value, names) if isinstance(value, str) else ""
            self.problem(f"{path}.{key}", f"{_show(value)} is not one of {', '.join(names)}{hint}")
            return default
        return enum(value)

    def hu_range(self, table: Mapping[str, Any], key: str, path: str, default: tuple[float, float]) -> tuple[float, float] | None:
        if key not in table:
            return default
        return self.range_value(table[key], f"{path}.{key}")

    def range_value(self, value: Any, where: str, integer: bool = False) -> tuple[float, float] | None:
        ok = (
            isinstance(value, list) and len(value) == 2 and all(_is_number(v) for v in value)
            and value[0] < value[1]
        )
        if not ok:
            self.problem(where, f"expected [min, max] with min < max, got {_show(value)}")
            return None
        if integer and not all(isinstance(v, int) for v in value):
            self.problem(where, f"an integer field needs whole-number bounds, got {_show(value)}")
            return None
        return (value[0], value[1])

    def code(self, value: Any, where: str, meaning: str = "") -> Code | None:
        if isinstance(value, str):
            try:
                code = Code.parse(value, meaning)
            except ValueError as exc:
                self.problem(where, str(exc))
                return None
        elif isinstance(value, dict):
            self.check_keys(value, _CODE_KEYS, where)
            missing = [k for k in ("scheme", "value") if not isinstance(value.get(k), str) or not value.get(k)]
            if missing:
                self.problem(where, f"a code table needs string {' and '.join(missing)}, e.g. "
                             '{ scheme = "SCT", value = "60168000", meaning = "Osteomyelitis" }')
                return None
            m = value.get("meaning", meaning)
            if not isinstance(m, str):
                self.problem(f"{where}.meaning", f"expected a string, got {_type_name(m)}")
                m = meaning
            code = Code(value["scheme"], value["value"], m or meaning)
        else:
            self.problem(where, f'expected a code "SCHEME:VALUE" or a table {{ scheme, value, meaning }}, '
                                f"got {_type_name(value)} {_show(value)}")
            return None
        for message in code.problems():
            self.problem(where, message)
        return code

    def locale_key(self, key: str, where: str) -> bool:
        """True when `key` names a locale such as zh_CN; otherwise reports it at `where`."""
        if _LOCALE_RE.match(key):
            return True
        fixed = locale_candidates(key)
        hint = f" (did you mean {fixed[0]!r}?)" if fixed and _LOCALE_RE.match(fixed[0]) else ""
        self.problem(where, f"{_show(key)} is not a locale such as zh_CN or en_US{hint}")
        return False

    def labels(self, table: Mapping[str, Any], key: str, path: str) -> Translations[str]:
        """Translations of a label: an inline table `labels = { zh_CN = "..." }`."""
        if key not in table:
            return _NO_TRANSLATIONS
        raw = table[key]
        where = f"{path}.{key}"
        if not isinstance(raw, dict):
            self.problem(where, f'expected a table of translations such as {{ zh_CN = "外渗" }}, '
                                f"got {_type_name(raw)} {_show(raw)}")
            return _NO_TRANSLATIONS
        out: dict[str, str] = {}
        for locale, text in raw.items():
            if not self.locale_key(locale, f"{where}.{locale}"):
                continue
            if not isinstance(text, str) or not text.strip():
                self.problem(f"{where}.{locale}", f"expected a non-empty string, got {_show(text)}")
                continue
            out[locale] = text
        return Translations(out)

    def translation_tables(self, table: Mapping[str, Any], path: str, count: int,
                           with_label: bool) -> tuple[Translations[tuple[str, ...]], Translations[str]]:
        """`[<path>.translations.<locale>]` tables: `labels` (one per item, `count` items) and,
        when `with_label`, the `label` of the implicit field. Returns (labels, label)."""
        if "translations" not in table:
            return _NO_TRANSLATIONS, _NO_TRANSLATIONS
        raw = table["translations"]
        where = f"{path}.translations"
        if not isinstance(raw, dict):
            self.problem(where, f"expected tables [{where}.zh_CN], got {_type_name(raw)} {_show(raw)}")
            return _NO_TRANSLATIONS, _NO_TRANSLATIONS
        allowed = ("labels", "label") if with_label else ("labels",)
        lists: dict[str, tuple[str, ...]] = {}
        names: dict[str, str] = {}
        for locale, entry in raw.items():
            at = f"{where}.{locale}"
            if not self.locale_key(locale, at):
                continue
            if not isinstance(entry, dict):
                self.problem(at, f"expected a table [{at}] with {' and '.join(allowed)}, "
                                 f"got {_type_name(entry)} {_show(entry)}")
                continue
            self.check_keys(entry, allowed, at)
            if "labels" in entry:
                labels = entry["labels"]
                ok = (isinstance(labels, list)
                      and all(isinstance(x, str) and x.strip() for x in labels))
                if not ok:
                    self.problem(f"{at}.labels", f"expected an array of non-empty strings, got {_show(labels)}")
                elif count and len(labels) != count:
                    self.problem(f"{at}.labels", f"expected {count} labels (one per item, same order), "
                                                 f"got {len(labels)}")
                else:
                    lists[locale] = tuple(labels)
            if with_label and "label" in entry:
                name = entry["label"]
                if not isinstance(name, str) or not name.strip():
                    self.problem(f"{at}.label", f"expected a non-empty string, got {_show(name)}")
                else:
                    names[locale] = name
        return Translations(lists), Translations(names)

    # sections ----------------------------------------------------------------------------

    def build(self, data: dict[str, Any]) -> Protocol | None:
        self.paths = self.file_paths(data)
        self.check_keys(data, _TOP_KEYS, "")
        found = self.table(data, "protocol", "", required=True)
        head = found if found is not None else {}
        if found is not None:
            self.check_keys(head, _PROTOCOL_KEYS, "protocol")
        pid = self.string(head, "id", "protocol", required=found is not None, pattern=_PROTOCOL_ID_RE,
                          what="protocol id (lower-case letters, digits, '-', '_', '.')")
        version = self.string(head, "version", "protocol", required=found is not None)
        title = self.string(head, "title", "protocol", default=pid)
        titles = self.labels(head, "titles", "protocol")
        paradigm = self.enum(head, "paradigm", "protocol", Paradigm, None)
        if "paradigm" not in head and found is not None:
            self.problem("protocol", f"missing key 'paradigm' ({', '.join(p.value for p in Paradigm)})")
        priors = self.enum(head, "priors", "protocol", PriorsMode, PriorsMode.none)
        readers = self.readers(head, paradigm)

        rereads = self.rereads(data)
        timepoints = self.timepoints(data)
        confidence = self.confidence(data)
        presence = self.presence(data)
        tools = self.tools(data)
        hanging = self.hanging(data)

        read_fields = self.read_fields(data, timepoints)
        findings = self.findings(data, timepoints, confidence, presence)
        read_fields, findings = self.bind_conditions(read_fields, findings)
        committee_fields = self.committee_fields(data, timepoints)
        panel = self.panel(data)

        if not read_fields and not findings and not self.problems:
            self.problem("findings", "the protocol asks nothing: add [[read_fields]] or [[findings]]")
        uses_presence = any(f.presence for f in findings)
        if uses_presence and "confidence" not in data:
            self.problem("confidence", "presence findings need a [confidence] table (values, labels, code)")
        if uses_presence and "presence" not in data:
            self.problem("presence", "presence findings need a [presence] table with the codes of "
                                     "present, absent and indeterminate (DICOM CID 240)")
        if self.problems or paradigm is None or confidence is None or presence is None:
            return None
        return Protocol(
            id=pid, version=version, title=title, paradigm=paradigm, readers_per_case=readers,
            priors=priors, rereads=rereads, timepoints=timepoints, confidence=confidence,
            presence=presence, read_fields=read_fields, findings=findings, tools=tools,
            source_text=self.text, sha256=hashlib.sha256(self.text.encode("utf-8")).hexdigest(),
            titles=titles, timepoint_translations=self.timepoint_translations,
            committee_fields=committee_fields, panel=panel, hanging=hanging,
        )

    def readers(self, head: Mapping[str, Any], paradigm: Paradigm | None) -> int:
        default = _READERS_FOR[paradigm][0] if paradigm is not None else 2
        if "readers_per_case" not in head:
            return default
        value = head["readers_per_case"]
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            self.problem("protocol.readers_per_case", f"expected a whole number >= 1, got {_show(value)}")
            return default
        if paradigm is not None:
            need, words = _READERS_FOR[paradigm]
            wrong = value < need if paradigm is Paradigm.consensus_panel else value != need
            if wrong:
                self.problem("protocol.readers_per_case",
                             f"paradigm {paradigm.value} needs {words} readers per case, got {value}")
        return value

    def panel(self, data: Mapping[str, Any]) -> PanelRules:
        table = self.table(data, "panel", "")
        if table is None:
            return PanelRules()
        self.check_keys(table, _PANEL_KEYS, "panel")
        rule = self.enum(table, "rule", "panel", PanelRule, PanelRule.majority)
        quorum = table.get("quorum", PanelRules.quorum)
        if isinstance(quorum, bool) or not isinstance(quorum, int) or quorum < 1:
            self.problem("panel.quorum", f"expected the number of members present (>= 1), got {_show(quorum)}")
            quorum = PanelRules.quorum
        hidden = self.boolean(table, "hidden_votes", "panel", True)
        return PanelRules(rule or PanelRule.majority, quorum, hidden)

    def committee_fields(self, data: Mapping[str, Any], timepoints: tuple[str, ...]) -> tuple[Field, ...]:
        """[[committee_fields]]: questions only the committee answers (Gurd's criteria and the like)."""
        out: list[Field] = []
        seen: dict[str, str] = {}
        for path, table in self.array_of_tables(data, "committee_fields", ""):
            for key in ("required_if", "shown_if", "fill_from"):
                if key in table:
                    self.problem(f"{path}.{key}", f"{key!r} does not apply to a committee-only field")
            f = self.field({k: v for k, v in table.items()
                            if k not in ("required_if", "shown_if", "fill_from")}, path, timepoints)
            if f is None:
                continue
            if f.id in seen:
                self.problem(f"{path}.id", f"duplicate committee field id {f.id!r} (also {seen[f.id]})")
                continue
            seen[f.id] = path
            out.append(f)
        return tuple(out)

    def rereads(self, data: Mapping[str, Any]) -> RereadPolicy:
        table = self.table(data, "rereads", "")
        if table is None:
            return RereadPolicy()
        self.check_keys(table, _REREAD_KEYS, "rereads")
        fraction = table.get("fraction", 0.0)
        if not _is_number(fraction) or not 0.0 <= fraction <= 0.5:
            self.problem("rereads.fraction", f"expected a number from 0 to 0.5 (e.g. 0.10 for 10%), got {_show(fraction)}")
            fraction = 0.0
        washout = table.get("washout_days", 0)
        if isinstance(washout, bool) or not isinstance(washout, int) or washout < 0:
            self.problem("rereads.washout_days", f"expected a whole number of days >= 0, got {_show(washout)}")
            washout = 0
        seeded = self.boolean(table, "seeded", "rereads", True)
        return RereadPolicy(float(fraction), washout, seeded)

    def string_list(self, value: Any, where: str, what: str) -> tuple[str, ...]:
        if not isinstance(value, list) or not value:
            self.problem(where, f"expected a non-empty array of {what}, got {_show(value)}")
            return ()
        out: list[str] = []
        for i, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                self.problem(f"{where}[{i}]", f"expected a non-empty string, got {_show(item)}")
                continue
            if item in out:
                self.problem(f"{where}[{i}]", f"duplicate {_show(item)}")
                continue
            out.append(item)
        return tuple(out)

    def timepoints(self, data: Mapping[str, Any]) -> tuple[str, ...]:
        table = self.table(data, "timepoints", "")
        if table is None:
            return ()
        self.check_keys(table, _TIMEPOINT_KEYS, "timepoints")
        if "labels" not in table:
            self.problem("timepoints", "missing key 'labels'")
            return ()
        labels = self.string_list(table["labels"], "timepoints.labels", "timepoint labels")
        self.timepoint_translations, _ = self.translation_tables(table, "timepoints", len(labels), False)
        return labels

    def confidence(self, data: Mapping[str, Any]) -> ConfidenceScale | None:
        table = self.table(data, "confidence", "")
        if table is None:
            return None if "confidence" in data else ConfidenceScale((), ())
        self.check_keys(table, _CONFIDENCE_KEYS, "confidence")
        values = table.get("values")
        ok = (
            isinstance(values, list) and len(values) >= 2
            and all(isinstance(v, int) and not isinstance(v, bool) for v in values)
            and all(a < b for a, b in zip(values, values[1:]))
        )
        if not ok:
            self.problem("confidence.values", f"expected at least 2 increasing whole numbers, e.g. [1, 2, 3, 4, 5], got {_show(values)}")
            values = []
        labels: tuple[str, ...] = ()
        if "labels" in table:
            labels = self.string_list(table["labels"], "confidence.labels", "labels")
            if values and labels and len(labels) != len(values):
                self.problem("confidence.labels", f"expected one label per value ({len(values)}), got {len(labels)}")
        elif values:
            labels = tuple(str(v) for v in values)
        code = self.code(table["code"], "confidence.code", "Certainty of Finding") if "code" in table else None
        indeterminate = table.get("indeterminate")
        if indeterminate is not None and (not _is_number(indeterminate) or not values
                                          or not values[0] < indeterminate < values[-1]):
            self.problem("confidence.indeterminate", f"expected a number strictly inside the scale, got {_show(indeterminate)}")
            indeterminate = None
        translations, field_labels = self.translation_tables(table, "confidence", len(values), True)
        return ConfidenceScale(tuple(values), labels, code, indeterminate, translations, field_labels)

    def presence(self, data: Mapping[str, Any]) -> PresenceCodes | None:
        table = self.table(data, "presence", "")
        if table is None:
            if "presence" in data:
                return None
            return PresenceCodes(Code("SCT", "52101004", "Present"), Code("SCT", "272519000", "Absent"),
                                 Code("SCT", "373068000", "Undetermined"))
        self.check_keys(table, _PRESENCE_KEYS, "presence")
        translations, field_labels = self.translation_tables(table, "presence", len(PresenceCodes.VALUES), True)
        codes: dict[str, Code] = {}
        for key in PresenceCodes.VALUES:
            if key not in table:
                self.problem("presence", f"missing the code of {key!r}")
                continue
            code = self.code(table[key], f"presence.{key}", key.capitalize())
            if code is not None:
                codes[key] = code
        if len(codes) != 3:
            return None
        return PresenceCodes(codes["present"], codes["absent"], codes["indeterminate"],
                             translations, field_labels)

    def tools(self, data: Mapping[str, Any]) -> ToolThresholds:
        table = self.table(data, "tools", "")
        default = ToolThresholds(warn="In anaemia, blood can measure like water.")
        if table is None:
            return default
        self.check_keys(table, _TOOL_KEYS, "tools")
        fat = self.hu_range(table, "fat_hu", "tools", default.fat_hu)
        fluid = self.hu_range(table, "fluid_hu", "tools", default.fluid_hu)
        blood = self.hu_range(table, "blood_hu", "tools", default.blood_hu)
        warn = self.string(table, "warn", "tools", default="")
        if fat and fluid and fat[1] > fluid[0]:
            self.problem("tools.fluid_hu", f"HU ranges must be ordered fat < fluid < blood without overlap: "
                                           f"fat_hu ends at {fat[1]:g} but fluid_hu starts at {fluid[0]:g}")
        if fluid and blood and fluid[1] > blood[0]:
            self.problem("tools.blood_hu", f"HU ranges must be ordered fat < fluid < blood without overlap: "
                                           f"fluid_hu ends at {fluid[1]:g} but blood_hu starts at {blood[0]:g}")
        return ToolThresholds(fat or default.fat_hu, fluid or default.fluid_hu, blood or default.blood_hu, warn)

    # fields ------------------------------------------------------------------------------

    def hanging(self, data: Mapping[str, Any]) -> HangingProtocol:
        """[hanging]: `default` layout, `layouts` per modality (e.g. { DX = "1x2" }) and
        `compare_with_prior`; every layout one of 1x1, 1x2, 2x2."""
        table = self.table(data, "hanging", "")
        if table is None:
            return HangingProtocol()
        self.check_keys(table, _HANGING_KEYS, "hanging")
        choices = ", ".join(HANGING_LAYOUTS)
        default = self.string(table, "default", "hanging", default="1x1")
        if default not in HANGING_LAYOUTS:
            self.problem("hanging.default", f"layout {_show(default)} is not one of {choices}")
            default = "1x1"
        layouts: dict[str, str] = {}
        raw = table.get("layouts", {})
        if not isinstance(raw, dict):
            self.problem("hanging.layouts", f"must be a table of modality = layout, not {_type_name(raw)}")
            raw = {}
        for modality, layout in raw.items():
            where = f"hanging.layouts.{modality}"
            if not isinstance(modality, str) or not _MODALITY_RE.match(modality):
                self.problem(where, f"{_show(modality)} is not a DICOM modality code in capitals (DX, CT, MR ...)")
            elif not isinstance(layout, str) or layout not in HANGING_LAYOUTS:
                self.problem(where, f"layout {_show(layout)} is not one of {choices}")
            else:
                layouts[modality] = layout
        compare = self.boolean(table, "compare_with_prior", "hanging", True)
        return HangingProtocol(layouts, default, compare)

    def array_of_tables(self, data: Mapping[str, Any], key: str, path: str) -> list[tuple[str, dict[str, Any]]]:
        where = f"{path}.{key}" if path else key
        if key not in data:
            return []
        value = data[key]
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            self.problem(where, f"expected an array of tables [[{where}]], got {_type_name(value)}")
            return []
        return [(f"{where}[{i}]", v) for i, v in enumerate(value)]

    def read_fields(self, data: Mapping[str, Any], timepoints: tuple[str, ...]) -> tuple[Field, ...]:
        out: list[Field] = []
        seen: dict[str, str] = {}
        for path, table in self.array_of_tables(data, "read_fields", ""):
            f = self.field(table, path, timepoints)
            if f is None:
                continue
            if f.id in seen:
                self.problem(f"{path}.id", f"duplicate read field id {f.id!r} (also {seen[f.id]})")
                continue
            seen[f.id] = path
            out.append(f)
        return tuple(out)

    def findings(self, data: Mapping[str, Any], timepoints: tuple[str, ...],
                 confidence: ConfidenceScale | None, presence: PresenceCodes | None) -> tuple[Finding, ...]:
        out: list[Finding] = []
        seen: dict[str, str] = {}
        for path, table in self.array_of_tables(data, "findings", ""):
            self.check_keys(table, _FINDING_KEYS, path)
            fid = self.string(table, "id", path, required=True, pattern=_ID_RE,
                              what="id (lower-case letters, digits and '_', starting with a letter)")
            if fid and fid in seen:
                self.problem(f"{path}.id", f"duplicate finding id {fid!r} (also {seen[fid]})")
                fid = ""
            if fid:
                seen[fid] = path
            label = self.string(table, "label", path, default=_default_label(fid))
            labels = self.labels(table, "labels", path)
            help_text = self.string(table, "help", path)
            code = self.code(table["code"], f"{path}.code", label) if "code" in table else None
            has_presence = self.boolean(table, "presence", path, False)
            rule: DiscordanceRule | None = None
            if "discordance" in table:
                if not has_presence:
                    self.problem(f"{path}.discordance", "a finding-level discordance rule judges presence; "
                                 "this finding has no presence (set presence = true, or put rules on its fields)")
                else:
                    rule = self.rule(table["discordance"], f"{path}.discordance",
                                     allowed=(PresenceOrConfidence, Mismatch, NoDiscordance))
            if has_presence and rule is None:
                rule = PresenceOrConfidence()
            fields: list[Field] = []
            if has_presence:
                fields.append(Field(
                    "presence", "Presence", FieldType.presence,
                    choices=presence.choices if presence else (), required=True,
                    discordance=rule or PresenceOrConfidence(),
                    help="Is the finding present, absent, or indeterminate?",
                    labels=presence.field_labels if presence else _NO_TRANSLATIONS,
                ))
                fields.append(Field(
                    "confidence", "Confidence", FieldType.confidence,
                    choices=confidence.choices if confidence else (), required=True,
                    discordance=NoDiscordance(), code=confidence.code if confidence else None,
                    help="How sure are you that the finding is present?",
                    labels=confidence.field_labels if confidence else _NO_TRANSLATIONS,
                ))
            ids: dict[str, str] = {}
            for fpath, ftable in self.array_of_tables(table, "fields", path):
                f = self.field(ftable, fpath, timepoints)
                if f is None:
                    continue
                if has_presence and f.id in _RESERVED_PRESENCE_IDS:
                    self.problem(f"{fpath}.id", f"{f.id!r} is added automatically to presence findings; "
                                                "choose another id")
                    continue
                if f.id in ids:
                    self.problem(f"{fpath}.id", f"duplicate field id {f.id!r} in finding {fid!r} (also {ids[f.id]})")
                    continue
                ids[f.id] = fpath
                fields.append(f)
            if not fields:
                self.problem(path, f"finding {fid!r} asks nothing: set presence = true or add [[findings.fields]]")
            if fid:
                out.append(Finding(fid, label, code, has_presence, tuple(fields), rule, help_text, labels))
        return tuple(out)

    def rule(self, raw: Any, where: str, allowed: tuple[type, ...]) -> DiscordanceRule | None:
        try:
            rule = parse_rule(raw)
        except ValueError as exc:
            self.problem(where, str(exc))
            return None
        if not isinstance(rule, allowed):
            names = {Mismatch: "mismatch", NoDiscordance: "none", OrdinalDifference: "{ ordinal_difference = N }",
                     NumericDifference: "{ relative = R, absolute = A }",
                     PresenceOrConfidence: "presence_or_confidence_across_indeterminate"}
            self.problem(where, f"rule {_show(raw)} does not fit here; use {', '.join(names[a] for a in allowed)}")
            return None
        return rule

    def field(self, table: Mapping[str, Any], path: str, timepoints: tuple[str, ...]) -> Field | None:
        fid = self.string(table, "id", path, required=True, pattern=_ID_RE,
                          what="id (lower-case letters, digits and '_', starting with a letter)")
        ftype = self.enum(table, "type", path, FieldType, None)
        if "type" not in table:
            self.problem(path, f"missing key 'type' ({', '.join(t.value for t in _DECLARABLE_TYPES)})")
        if ftype is None:
            self.check_keys(table, _ALL_FIELD_KEYS, path)
            return None
        allowed = _COMMON_FIELD_KEYS + _TYPE_FIELD_KEYS[ftype]
        not_here = {k: f"{k!r} does not apply to a {ftype.value} field" for k in _ALL_FIELD_KEYS if k not in allowed}
        self.check_keys(table, allowed, path, elsewhere=not_here)
        if ftype in (FieldType.presence, FieldType.confidence):
            self.problem(f"{path}.type", f"{ftype.value} fields are added automatically: set presence = true on the finding")
            return None
        label = self.string(table, "label", path, default=_default_label(fid))
        labels = self.labels(table, "labels", path)
        help_text = self.string(table, "help", path)
        required = self.boolean(table, "required", path, False)
        if required and "required_if" in table:
            self.problem(f"{path}.required_if", "use either required = true or required_if, not both")
        required_if = self.condition(table, "required_if", path)
        shown_if = self.condition(table, "shown_if", path)
        code = self.code(table["code"], f"{path}.code", label) if "code" in table else None

        choices: tuple[Choice, ...] = ()
        if ftype in (FieldType.choice, FieldType.multi_choice):
            choices = self.choices(table, path, timepoints)
        labels, choices = self.field_translations(table, path, labels, choices)
        unit = None
        if "unit" in table:
            unit = self.string(table, "unit", path) or None
            if unit is not None:
                if unit in _UCUM_FIXES:
                    self.problem(f"{path}.unit", f"{_show(unit)} is not a UCUM unit; write {_show(_UCUM_FIXES[unit])}")
                elif re.search(r"\s", unit):
                    self.problem(f"{path}.unit", f"a UCUM unit has no spaces, got {_show(unit)}")
        rng = None
        if "range" in table:
            rng = self.range_value(table["range"], f"{path}.range", integer=ftype is FieldType.integer)
        fill_from = None
        if "fill_from" in table:
            fill_from = self.string(table, "fill_from", path) or None
            if fill_from is not None and fill_from not in FILL_SOURCES:
                self.problem(f"{path}.fill_from", f"unknown source {_show(fill_from)}{_suggest(fill_from, list(FILL_SOURCES))}; "
                                                  f"use one of {', '.join(FILL_SOURCES)}")
                fill_from = None
        modalities: tuple[str, ...] = ()
        if "modalities" in table:
            raw = table["modalities"]
            if not isinstance(raw, list) or not raw:
                self.problem(f"{path}.modalities", f'expected a non-empty array of DICOM modalities such as ["CT", "MR"], got {_show(raw)}')
            else:
                mods: list[str] = []
                for i, m in enumerate(raw):
                    if not isinstance(m, str) or m not in MODALITIES:
                        hint = ""
                        if isinstance(m, str):
                            hint = f" (did you mean {m.upper()!r}?)" if m.upper() in MODALITIES else _suggest(m, sorted(MODALITIES))
                        self.problem(f"{path}.modalities[{i}]", f"{_show(m)} is not a DICOM modality{hint}; "
                                                                f"use {', '.join(sorted(MODALITIES))}")
                    else:
                        mods.append(m)
                modalities = tuple(mods)

        rule: DiscordanceRule | None = NoDiscordance() if ftype is FieldType.text else Mismatch()
        if "discordance" in table:
            allowed_rules: tuple[type, ...] = (Mismatch, NoDiscordance)
            if ftype in (FieldType.choice, FieldType.integer):
                allowed_rules += (OrdinalDifference,)
            if ftype in (FieldType.number, FieldType.integer):
                allowed_rules += (NumericDifference,)
            rule = self.rule(table["discordance"], f"{path}.discordance", allowed_rules)
        if not fid:
            return None
        return Field(
            id=fid, label=label, type=ftype, choices=choices, required=required,
            required_if=required_if, shown_if=shown_if, unit=unit, range=rng, fill_from=fill_from,
            modalities=modalities, discordance=rule or Mismatch(), help=help_text, code=code,
            labels=labels,
        )

    def field_translations(self, table: Mapping[str, Any], path: str, labels: Translations[str],
                           choices: tuple[Choice, ...]) -> tuple[Translations[str], tuple[Choice, ...]]:
        """`[<field>.translations.<locale>]`: the question (`label`) and the choice labels by
        value (`choices = { left = "左侧" }`), merged into the inline `labels`."""
        if "translations" not in table:
            return labels, choices
        raw = table["translations"]
        where = f"{path}.translations"
        if not isinstance(raw, dict):
            self.problem(where, f"expected tables [{where}.zh_CN], got {_type_name(raw)} {_show(raw)}")
            return labels, choices
        field_labels = dict(labels)
        by_value: dict[str | int, dict[str, str]] = {c.value: dict(c.labels) for c in choices}
        for locale, entry in raw.items():
            at = f"{where}.{locale}"
            if not self.locale_key(locale, at):
                continue
            if not isinstance(entry, dict):
                self.problem(at, f"expected a table [{at}] with label and choices, "
                                 f"got {_type_name(entry)} {_show(entry)}")
                continue
            self.check_keys(entry, _FIELD_TRANSLATION_KEYS, at)
            if "label" in entry:
                name = entry["label"]
                if not isinstance(name, str) or not name.strip():
                    self.problem(f"{at}.label", f"expected a non-empty string, got {_show(name)}")
                else:
                    field_labels[locale] = name
            if "choices" not in entry:
                continue
            texts = entry["choices"]
            if not isinstance(texts, dict):
                self.problem(f"{at}.choices", f'expected a table of choice value = label such as '
                                              f'{{ left = "左侧" }}, got {_type_name(texts)} {_show(texts)}')
                continue
            known = [str(v) for v in by_value]
            for value, text in texts.items():
                if value not in by_value:
                    self.problem(f"{at}.choices.{value}", f"{_show(value)} is not a choice of this field"
                                                          f"{_suggest(value, known)} (choices: {', '.join(known)})")
                elif not isinstance(text, str) or not text.strip():
                    self.problem(f"{at}.choices.{value}", f"expected a non-empty string, got {_show(text)}")
                else:
                    by_value[value][locale] = text
        new_choices = tuple(replace(c, labels=Translations(by_value[c.value])) for c in choices)
        return Translations(field_labels), new_choices

    def condition(self, table: Mapping[str, Any], key: str, path: str) -> Condition | None:
        if key not in table:
            return None
        raw = table[key]
        where = f"{path}.{key}"
        if not isinstance(raw, str):
            self.problem(where, f"expected a condition string such as \"presence == 'present'\", got {_type_name(raw)}")
            return None
        try:
            return parse_condition(raw)
        except ConditionSyntaxError as exc:
            self.problem(where, f"{exc.message} at column {exc.column} of {_show(raw)}")
            return None

    def choices(self, table: Mapping[str, Any], path: str, timepoints: tuple[str, ...]) -> tuple[Choice, ...]:
        if "choices_from" in table:
            if "choices" in table:
                self.problem(f"{path}.choices_from", "use either choices or choices_from, not both")
            source = table["choices_from"]
            if source != "timepoints":
                self.problem(f"{path}.choices_from", f'the only list choices can come from is "timepoints", got {_show(source)}')
                return ()
            if not timepoints:
                self.problem(f"{path}.choices_from", "choices_from = \"timepoints\" needs [timepoints] labels")
            if "codes" in table:
                self.problem(f"{path}.codes", "timepoint choices carry no codes")
            return tuple(
                Choice(t, t, labels=Translations((loc, labs[i]) for loc, labs in self.timepoint_translations.items()))
                for i, t in enumerate(timepoints)
            )
        raw = table.get("choices")
        if not isinstance(raw, list) or not raw:
            self.problem(f"{path}.choices" if "choices" in table else path,
                         f"a choice field needs a non-empty choices array, got {_show(raw) if raw is not None else 'none'}")
            return ()
        out: list[Choice] = []
        for i, item in enumerate(raw):
            where = f"{path}.choices[{i}]"
            labels: Translations[str] = _NO_TRANSLATIONS
            if isinstance(item, str):
                value, label, code = item, item, None
            elif isinstance(item, dict):
                self.check_keys(item, _CHOICE_KEYS, where)
                value = item.get("value")
                label = item.get("label", value)
                if not isinstance(label, str):
                    self.problem(f"{where}.label", f"expected a string, got {_show(label)}")
                    label = str(value)
                labels = self.labels(item, "labels", where)
                code = self.code(item["code"], f"{where}.code", str(label)) if "code" in item else None
            else:
                self.problem(where, f"expected a string or a table {{ value, label, code }}, got {_show(item)}")
                continue
            if not isinstance(value, str) or not value.strip():
                self.problem(where, f"a choice value must be a non-empty string, got {_show(value)}")
                continue
            if any(c.value == value for c in out):
                self.problem(where, f"duplicate choice {_show(value)}")
                continue
            out.append(Choice(value, str(label), code, labels))
        if "codes" in table:
            codes = table["codes"]
            if not isinstance(codes, list) or len(codes) != len(raw):
                self.problem(f"{path}.codes", f"expected one code per choice ({len(raw)}), got {_show(codes)}")
            else:
                coded: list[Choice] = []
                for i, (choice, raw_code) in enumerate(zip(out, codes)):
                    if choice.code is not None:
                        self.problem(f"{path}.codes[{i}]", f"choice {_show(choice.value)} already has a code")
                    code = self.code(raw_code, f"{path}.codes[{i}]", choice.label)
                    coded.append(replace(choice, code=code))
                out = coded
        return tuple(out)

    # conditions --------------------------------------------------------------------------

    def bind_conditions(self, read_fields: tuple[Field, ...], findings: tuple[Finding, ...]
                        ) -> tuple[tuple[Field, ...], tuple[Finding, ...]]:
        """Resolve condition names to value keys and check them against the fields they name."""
        by_key: dict[str, Field] = {f.id: f for f in read_fields}
        for finding in findings:
            for f in finding.fields:
                by_key[f"{finding.id}.{f.id}"] = f
        path_of = self.paths

        def bind_field(f: Field, finding: Finding | None) -> Field:
            prefix = f"{finding.id}." if finding else ""
            own_key = prefix + f.id
            siblings = {x.id for x in (finding.fields if finding else read_fields)}
            changes: dict[str, Condition | None] = {}
            for attr in ("required_if", "shown_if"):
                cond: Condition | None = getattr(f, attr)
                if cond is None:
                    continue
                where = f"{path_of.get(own_key, '')}.{attr}"
                ok = True
                mapping: dict[str, str] = {}
                for name in cond.names():
                    if "." in name:
                        key = name
                    elif name in siblings:
                        key = prefix + name
                    elif finding is not None and name in {x.id for x in read_fields}:
                        key = name
                    else:
                        choices = sorted(siblings | {x.id for x in read_fields} | set(by_key))
                        self.problem(where, f"unknown field {name!r} in {_show(cond.text)}{_suggest(name, choices)}")
                        ok = False
                        continue
                    if key not in by_key:
                        self.problem(where, f"unknown field {name!r} in {_show(cond.text)}{_suggest(name, sorted(by_key))}")
                        ok = False
                        continue
                    if key == own_key:
                        self.problem(where, f"{_show(cond.text)} refers to the field itself")
                        ok = False
                        continue
                    mapping[name] = key
                if not ok:
                    changes[attr] = None
                    continue
                for leaf in cond.comparisons():
                    message = _check_leaf(leaf, by_key[mapping[leaf.name]])
                    if message:
                        self.problem(where, f"{message} in {_show(cond.text)}")
                        ok = False
                changes[attr] = cond.bind(mapping.__getitem__) if ok else None
            return replace(f, **changes) if changes else f

        new_read = tuple(bind_field(f, None) for f in read_fields)
        new_findings = tuple(
            replace(finding, fields=tuple(bind_field(f, finding) for f in finding.fields)) for finding in findings
        )
        return new_read, new_findings

    @staticmethod
    def file_paths(data: Mapping[str, Any]) -> dict[str, str]:
        """Value key -> TOML path of every field declared in the file (first declaration wins)."""
        out: dict[str, str] = {}
        for i, table in enumerate(data.get("read_fields", []) if isinstance(data.get("read_fields"), list) else []):
            if isinstance(table, dict) and isinstance(table.get("id"), str):
                out.setdefault(table["id"], f"read_fields[{i}]")
        findings = data.get("findings", [])
        for i, finding in enumerate(findings if isinstance(findings, list) else []):
            if not isinstance(finding, dict) or not isinstance(finding.get("id"), str):
                continue
            fields = finding.get("fields", [])
            for j, table in enumerate(fields if isinstance(fields, list) else []):
                if isinstance(table, dict) and isinstance(table.get("id"), str):
                    out.setdefault(f"{finding['id']}.{table['id']}", f"findings[{i}].fields[{j}]")
        return out


def _value_matches_type(value: Any, f: Field) -> str | None:
    """A message when a condition literal cannot be a value of field `f`."""
    t = f.type
    if t in (FieldType.choice, FieldType.multi_choice, FieldType.presence):
        if value not in f.choice_values:
            hint = _suggest(value, [str(v) for v in f.choice_values]) if isinstance(value, str) else ""
            listed = ", ".join(_show(v) for v in f.choice_values)
            return f"{_show(value)} is not a choice of {f.id!r}{hint} (choices: {listed})"
        return None
    if t is FieldType.confidence:
        if value not in f.choice_values or isinstance(value, bool):
            return f"{_show(value)} is not on the confidence scale {list(f.choice_values)}"
        return None
    if t is FieldType.boolean:
        return None if isinstance(value, bool) else f"{f.id!r} is yes/no: compare it with true or false, not {_show(value)}"
    if t in (FieldType.number, FieldType.integer):
        return None if _is_number(value) else f"{f.id!r} is a number: compare it with a number, not {_show(value)}"
    return None if isinstance(value, str) else f"{f.id!r} is text: compare it with a quoted string, not {_show(value)}"


def _check_leaf(leaf: Compare | Truthy, f: Field) -> str | None:
    """A message when a comparison does not fit the type of the field it names."""
    t = f.type
    if isinstance(leaf, Truthy):
        if t in (FieldType.boolean, FieldType.multi_choice):
            return None
        return f"{leaf.name!r} is a {t.value} field: write a comparison such as {leaf.name} == '...'"
    op = leaf.op
    if t is FieldType.multi_choice and op not in ("contains",):
        return f"{leaf.name!r} allows several answers: use {leaf.name} contains '...' instead of {op}"
    if op == "contains" and t is not FieldType.multi_choice:
        return f"'contains' works on multi_choice fields; {leaf.name!r} is a {t.value} field"
    if op in ("<", "<=", ">", ">=") and t not in (FieldType.number, FieldType.integer, FieldType.confidence):
        return f"{op} needs a number field; {leaf.name!r} is a {t.value} field"
    if t is FieldType.boolean and op not in ("==", "!="):
        return f"{leaf.name!r} is yes/no: use == true / == false"
    values = leaf.value if isinstance(leaf.value, tuple) else (leaf.value,)
    for v in values:
        message = _value_matches_type(v, f)
        if message:
            return message
    return None


# --- entry points -----------------------------------------------------------------------------

_TOML_LINE_RE = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$")
_TOML_EOF_RE = re.compile(r"\s*\(at end of document\)\s*$")


def parse_protocol(text: str, source: str = "<string>") -> Protocol:
    """Validate protocol TOML `text`; raises `InvalidProtocol` listing every problem.

    `source` names the file in problem messages ("io.toml:57: ...").
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        line: int | None = None
        m = _TOML_LINE_RE.search(message)
        if m:
            line = int(m.group(1))
            message = f"{message[: m.start()]} (column {m.group(2)})"
        elif _TOML_EOF_RE.search(message):
            line = text.count("\n") + 1
            message = _TOML_EOF_RE.sub(" (at end of file)", message)
        raise InvalidProtocol(source, [ProtocolProblem(line, "", f"TOML syntax error: {message}")]) from None
    validator = _Validator(text, source)
    protocol = validator.build(data)
    if validator.problems or protocol is None:
        problems = sorted(validator.problems, key=lambda p: (p.line is None, p.line or 0))
        raise InvalidProtocol(source, problems or [ProtocolProblem(None, "", "the protocol is incomplete")])
    return protocol


def load_protocol(path: str | Path) -> Protocol:
    """Read and validate the protocol file at `path`; raises `InvalidProtocol` (or OSError)."""
    p = Path(path)
    raw = p.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InvalidProtocol(str(path), [ProtocolProblem(line, "", "the file is not UTF-8 text; save it as UTF-8")]) from None
    return parse_protocol(text, source=str(path))


def default_protocol_path() -> Path:
    """Where the default IO-complication protocol ships inside the package."""
    return Path(__file__).with_name("protocols") / "io_complications.toml"


def load_default_protocol() -> Protocol:
    """The default IO-complication protocol (`protocols/io_complications.toml`)."""
    return load_protocol(default_protocol_path())

