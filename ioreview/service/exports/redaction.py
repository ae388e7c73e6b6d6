"""Free text in a de-identified export: the trial's known identifiers replaced by a marker.

Readers, adjudicators and the committee type free text (read comments, annotation labels,
adjudication rationales, committee minutes) that may name the patient, quote a patient ID or an
accession number, give a calendar date or name the hospital.  A de-identified export replaces
every identifier the index knows of (patient names in every form: DICOM caret form, "Given
Family", "Family, Given", each name component of 2+ characters, the ideographic and phonetic
groups, e.g. Chinese names with and without spaces; patient IDs; accession numbers; institution
and referring physician names) and every calendar date in a common format (ISO, yyyymmdd,
d/m/y and m/d/y, d.m.y, "17 May 2024", "May 17, 2024", "2024年5月17日") by `MARKER`, and
counts what it replaced (PS3.15 E.1: the Basic Profile cleans "descriptors"; free text is the
part of an export that no tag rule reaches).
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from typing import Any

__all__ = ["MARKER", "FREE_TEXT_COLUMNS", "Redactor", "RedactingWriter", "name_forms"]

MARKER = "[REDACTED]"

#: table -> columns whose values people type (or that carry typed values, such as text fields)
FREE_TEXT_COLUMNS: dict[str, tuple[str, ...]] = {
    "reads": ("value",),
    "final_values": ("value", "detail"),
    "discordances": ("value_1", "value_2", "reason"),
    "adjudication_decisions": ("value", "rationale"),
    "committee_sessions": ("title", "minutes"),
    "committee_votes": ("value",),
    "annotations": ("label",),
    "sdtm_rs": ("RSORRES", "RSSTRESC"),
}

_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")
_MONTH = "(?:" + "|".join(f"{m[:3]}(?:{m[3:]})?\\.?" if len(m) > 3 else m for m in _MONTHS) + ")"
_D, _M, _Y = r"(?:0?[1-9]|[12]\d|3[01])", r"(?:0?[1-9]|1[0-2])", r"(?:1[89]\d\d|2\d\d\d)"
#: calendar dates in the formats people type (whatever their value: a date is an identifier)
_DATE = re.compile(
    "|".join((
        rf"(?<!\d){_Y}\s*[-/.]\s*{_M}\s*[-/.]\s*{_D}(?!\d)",               # 2024-05-17
        rf"(?<!\d){_D}\s*[-/.]\s*{_M}\s*[-/.]\s*{_Y}(?!\d)",               # 17/05/2024, 17.5.2024
        rf"(?<!\d){_M}\s*/\s*{_D}\s*/\s*{_Y}(?!\d)",                       # 05/17/2024
        rf"(?<![\d.]){_Y}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])(?![\d.])",  # 20240517
        rf"(?<!\w){_D}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH},?\s+{_Y}(?!\d)",  # 17 May 2024
        rf"(?<!\w){_MONTH}\s+{_D}(?:st|nd|rd|th)?,?\s+{_Y}(?!\d)",          # May 17, 2024
        rf"{_Y}\s*年\s*{_M}\s*月\s*{_D}\s*[日号]",                           # 2024年5月17日
    )),
    re.IGNORECASE)


def _is_cjk(text: str) -> bool:
    return any(ord(ch) >= 0x2E80 for ch in text)


def name_forms(name: str) -> set[str]:
    """The ways a DICOM person name ("Family^Given^Middle^Prefix^Suffix", with "=" between its
    alphabetic, ideographic and phonetic groups) may be typed."""
    forms: set[str] = set()
    for group in str(name).split("="):
        parts = [p.strip() for p in group.split("^") if p.strip()]
        if not parts:
            continue
        forms.add(group.strip())
        family, given = parts[0], " ".join(parts[1:2])
        forms.add(" ".join(parts))
        if given:
            forms.update({f"{given} {family}", f"{family}, {given}", f"{family},{given}",
                          f"{given[0]}. {family}", f"{family} {given[0]}."})
            if _is_cjk(group):
                forms.update({family + given, given + family})
        for p in parts:
            for word in p.split():
                if len(word) >= 2:
                    forms.add(word)
    return {f for f in forms if f}


class Redactor:
    """Replaces the given identifiers (and every calendar date) in text by `MARKER`."""

    def __init__(self, names: Iterable[str] = (), identifiers: Iterable[str] = (),
                 marker: str = MARKER) -> None:
        literals: set[str] = set()
        for n in names:
            if n:
                literals |= name_forms(n)
        for i in identifiers:
            if i and str(i).strip() and len(str(i).strip()) >= 2:
                literals.add(str(i).strip())
        self.marker = marker
        self.count = 0
        self.by_column: Counter[str] = Counter()
        self._seen: dict[str, tuple[str, int]] = {}
        patterns = []
        # longest first, so "Zhang^Wei" goes before "Zhang"; Latin words on word boundaries
        for lit in sorted(literals, key=lambda s: (-len(s), s)):
            body = r"\s*".join(re.escape(w) for w in lit.split())
            if _is_cjk(lit):
                patterns.append(body)
            else:
                patterns.append(rf"(?<![^\W_]){body}(?![^\W_])")
        self._literal = re.compile("|".join(patterns), re.IGNORECASE) if patterns else None

    def __call__(self, text: str, where: str = "") -> str:
        """`text` with every identifier and date replaced; counted under `where`.  Results
        are remembered by text: an export writes the same few answers ("present", "2") tens
        of thousands of times, and the patterns cost ~60 µs a value."""
        known = self._seen.get(text)
        if known is None:
            redacted, n = text, 0
            if self._literal is not None:
                redacted, n1 = self._literal.subn(self.marker, redacted)
                n += n1
            redacted, n2 = _DATE.subn(self.marker, redacted)
            n += n2
            known = (redacted, n)
            if len(self._seen) < 200_000:
                self._seen[text] = known
        text, n = known
        if n:
            self.count += n
            self.by_column[where] += n
        return text


class RedactingWriter:
    """A table writer whose free-text columns go through a `Redactor` first."""

    def __init__(self, writer: Any, columns: Iterable[str], redactor: Redactor) -> None:
        self.writer = writer
        self.columns = tuple(columns)
        self.redactor = redactor
        self.table = writer.table.name

    @property
    def rows(self) -> int:
        return int(self.writer.rows)

    def write(self, row: dict[str, Any]) -> None:
        changed = None
        for c in self.columns:
            v = row.get(c)
            if isinstance(v, str) and v:
                new = self.redactor(v, f"{self.table}.{c}")
                if new != v:
                    changed = changed or dict(row)
                    changed[c] = new
        self.writer.write(changed or row)

    def close(self) -> list[Any]:
        return list(self.writer.close())
