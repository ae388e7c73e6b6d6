"""The tidy tables of an export: their columns (the codebook's source of truth) and a writer
that streams rows into CSV, Parquet and JSON Lines with the same types.

Long format, stable column order, UTF-8, ``NA`` for a missing value in CSV (null in Parquet
and JSON).  Parquet columns carry the codebook's types (string, int64, float64, bool).  Rows
are written in batches, so an export's memory does not grow with the number of cases.
"""
from __future__ import annotations

import csv
import json
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["Column", "FORMATS", "TABLES", "Table", "TableWriter", "value_text"]

FORMATS = ("csv", "parquet", "json")
NA = "NA"


@dataclass(frozen=True)
class Column:
    name: str
    type: str                      # string | integer | number | boolean
    description: str
    unit: str = ""
    identified_only: bool = False  # present only in an --identified export


@dataclass(frozen=True)
class Table:
    name: str
    description: str
    columns: tuple[Column, ...]

    def columns_for(self, identified: bool) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if identified or not c.identified_only)


def _c(name: str, type_: str, description: str, unit: str = "", identified: bool = False
       ) -> Column:
    return Column(name, type_, description, unit, identified)


SUBJECT = _c("subject", "string", "pseudonymous subject id (SUBJ-001 ...)")
SUBJECT_ID = _c("subject_id", "string", "original subject identifier", identified=True)
CASE = _c("case", "string", "pseudonymous case label (subject x timepoint)")
TIMEPOINT = _c("timepoint", "string", "timepoint label from the protocol")
STUDY_DAY = _c("study_day", "integer", "days from IO insertion (0 = day of insertion)", "d")
FIELD = _c("field", "string", "value key of the read form (see the fields table)")
FINDING = _c("finding", "string", "finding id the field belongs to (NA for read-level fields)")
VALUE = _c("value", "string", "the answer: choice code, multi-choice codes joined by '|', "
           "true/false, or the number as text")
VALUE_NUMBER = _c("value_number", "number", "the answer as a number (numeric, integer and "
                  "confidence fields), else NA")
UNIT = _c("unit", "string", "UCUM unit of the field, if any")
#: the manifestation of the electronic signature a row's record carries (21 CFR 11.50)
SIGNER_NAME = _c("signer_name", "string", "who signed the record: the signer's printed name in "
                 "an identified export, the pseudonymous id (READER1, ADJUDICATOR1, COMMITTEE1 "
                 "...) in a de-identified one")
SIGNED_AT_UTC = _c("signed_at_utc", "string", "UTC time of the signature (ISO 8601)",
                   identified=True)
SIGNATURE_MEANING = _c("signature_meaning", "string", "the meaning of the signature as the "
                       "signer confirmed it (e.g. 'I confirm this read')")
SIGNATURE = (SIGNER_NAME, SIGNED_AT_UTC, SIGNATURE_MEANING)

TABLES: dict[str, Table] = {t.name: t for t in (
    Table("reads", "Every signed read version: case x reader x field x version.", (
        SUBJECT, SUBJECT_ID, CASE, TIMEPOINT, STUDY_DAY,
        _c("reader", "string", "pseudonymous reader id (READER1 ...)"),
        _c("reader_username", "string", "reader's user name", identified=True),
        _c("read_id", "integer", "read id within this database"),
        _c("version", "integer", "read version (1 = first signature, +1 per amendment)"),
        _c("current", "boolean", "true for the read's current (standing) version"),
        _c("is_reread", "boolean", "hidden intra-reader re-read"),
        _c("third_read", "boolean", "2-of-3 third read"),
        _c("protocol_version", "string", "protocol id and version the read was made under"),
        FIELD, FINDING, VALUE, VALUE_NUMBER, UNIT,
        _c("read_duration_s", "number", "active reading time of the read", "s"),
        _c("worklist_position", "integer", "1-based position of the case in the reader's "
           "randomised worklist"),
        _c("signed_offset_days", "number", "days from the export's first signature to this "
           "version's signature", "d"),
        _c("signed_at", "string", "UTC time of the signature", identified=True),
        *SIGNATURE,
    )),
    Table("final_values", "The value that stands for each case and field, and its source.", (
        SUBJECT, SUBJECT_ID, CASE, TIMEPOINT, STUDY_DAY,
        _c("stage", "string", "case stage: concordant or decided"),
        FIELD, FINDING, VALUE, VALUE_NUMBER, UNIT,
        _c("source", "string", "concordant | majority | adjudicator | panel | not_adjudicated"),
        _c("detail", "string", "which reader / rationale / vote"),
    )),
    Table("subject_endpoints", "Each complication across a subject's timepoints.", (
        SUBJECT, SUBJECT_ID,
        _c("finding", "string", "presence finding id"),
        _c("present_any", "boolean", "present at any timepoint with a final outcome "
           "(NA: no final outcome yet)"),
        _c("first_timepoint", "string", "earliest timepoint with the finding present"),
        _c("first_study_day", "integer", "study day of that timepoint", "d"),
        _c("worst_severity", "string", "most severe severity code when present"),
        _c("indeterminate_any", "boolean", "indeterminate at any timepoint"),
        _c("cases_final", "integer", "cases of the subject with a final outcome"),
        _c("cases_total", "integer", "cases of the subject"),
    )),
    Table("discordances", "Discordant fields of each case's standing evaluation.", (
        SUBJECT, SUBJECT_ID, CASE, TIMEPOINT, STUDY_DAY, FIELD,
        _c("rule", "string", "the discordance rule that flagged the field"),
        _c("reason", "string", "why the values are discordant"),
        _c("reader_1", "string", "first reader (reader id order)"),
        _c("value_1", "string", "first reader's value"),
        _c("reader_2", "string", "second reader"),
        _c("value_2", "string", "second reader's value"),
    )),
    Table("adjudication_decisions", "Every adjudicator decision (superseded ones kept).", (
        SUBJECT, SUBJECT_ID, CASE, TIMEPOINT,
        _c("adjudication_id", "integer", "adjudication id within this database"),
        _c("adjudicator", "string", "pseudonymous adjudicator id (ADJUDICATOR1 ...)"),
        _c("status", "string", "decided | superseded (a read was amended afterwards)"),
        FIELD,
        _c("choice", "string", "A / B / C (a reader's value accepted) or own"),
        _c("accepted_reader", "string", "reader id behind the accepted letter (NA for own)"),
        VALUE,
        _c("rationale", "string", "the adjudicator's rationale"),
        *SIGNATURE,
    )),
    Table("committee_votes", "Every committee vote (signed ballots and casting votes).", (
        _c("session_id", "integer", "committee session id"),
        SUBJECT, SUBJECT_ID, CASE, FIELD,
        _c("member", "string", "pseudonymous member id (COMMITTEE1 ...)"),
        _c("casting", "boolean", "the chair's casting vote on a tie"),
        VALUE,
        *SIGNATURE,
    )),
    Table("committee_sessions", "Committee sessions with their rule, attendance and minutes.", (
        _c("session_id", "integer", "committee session id"),
        _c("title", "string", "session title"),
        _c("chair", "string", "pseudonymous id of the chair"),
        _c("status", "string", "open | closed"),
        _c("rule", "string", "majority | unanimity"),
        _c("quorum", "integer", "members required present"),
        _c("members", "integer", "members"),
        _c("present", "integer", "members present"),
        _c("cases", "integer", "cases before the session"),
        _c("minutes", "string", "the minutes as signed by the chair"),
        *SIGNATURE,
    )),
    Table("annotations", "Measurements and annotations of every signed read version and "
          "adjudication, one row per measurement (or one row with measurement NA).", (
        SUBJECT, SUBJECT_ID, CASE, TIMEPOINT,
        _c("observer", "string", "READERn or ADJUDICATORn"),
        _c("read_id", "integer", "read id (NA for an adjudicator's own measurements)"),
        _c("version", "integer", "read version"),
        _c("annotation", "integer", "1-based number of the annotation within its read version"),
        FINDING,
        _c("kind", "string", "arrow | length | angle | ellipse | polygon | freehand | point | region"),
        _c("image_ref", "string", "SOP Instance UID of the image (replaced consistently in a "
           "de-identified export, matching the DICOM SR)"),
        _c("frame", "integer", "0-based frame"),
        _c("label", "string", "annotation label"),
        _c("measurement", "string", "measurement name (length, area, mean ...)"),
        _c("measurement_value", "number", "measured value"),
        _c("measurement_unit", "string", "UCUM unit of the measurement"),
        _c("calibration_source", "string", "where the length calibration comes from"),
    )),
    Table("agreement", "Inter- and intra-reader agreement figures (see the report).", (
        _c("scope", "string", "inter | intra"),
        _c("reader", "string", "reader id (intra-reader figures)"),
        FIELD, FINDING,
        _c("kind", "string", "nominal | ordinal | numeric"),
        _c("statistic", "string", "percent | kappa | weighted kappa | PABAK | AC1 | ICC(A,1) | alpha"),
        _c("value", "number", "the coefficient"),
        _c("ci_lower", "number", "lower 95% confidence limit"),
        _c("ci_upper", "number", "upper 95% confidence limit"),
        _c("n", "integer", "cases (pairs) used"),
        _c("method", "string", "coefficient and interval method"),
        _c("note", "string", "why the statistic is undefined, when it is"),
    )),
    Table("users", "Readers, adjudicators and committee members by pseudonymous id.", (
        _c("id", "string", "pseudonymous id used in every table"),
        _c("role", "string", "reader | adjudicator | committee"),
        _c("username", "string", "user name", identified=True),
        _c("display_name", "string", "display name", identified=True),
    )),
    Table("sdtm_rs", "SDTM-style results (modelled on CDISC RS): one row per assessment.", (
        _c("STUDYID", "string", "protocol id"),
        _c("DOMAIN", "string", "RS"),
        _c("USUBJID", "string", "pseudonymous subject id"),
        _c("RSSEQ", "integer", "sequence number within the subject"),
        _c("RSGRPID", "string", "case label (groups the assessments of one case)"),
        _c("RSTESTCD", "string", "short test code (the field key, up to 8 characters)"),
        _c("RSTEST", "string", "test name (the field's label)"),
        _c("RSCAT", "string", "finding"),
        _c("RSORRES", "string", "result as recorded"),
        _c("RSSTRESC", "string", "result in standard character form"),
        _c("RSSTRESN", "number", "numeric result"),
        _c("RSORRESU", "string", "unit"),
        _c("RSEVAL", "string", "INDEPENDENT ASSESSOR | ADJUDICATOR | ADJUDICATION COMMITTEE"),
        _c("RSEVALID", "string", "evaluator id (READER1 ...)"),
        _c("RSACPTFL", "string", "Y on the record whose value stands"),
        _c("VISITNUM", "integer", "timepoint number (protocol order)"),
        _c("VISIT", "string", "timepoint label"),
        _c("RSDY", "integer", "study day (days from insertion)", "d"),
    )),
    Table("fields", "The read-form fields of the protocol versions used: type, unit and "
          "allowed values with their codes.", (
        _c("protocol_version", "string", "protocol id and version"),
        FIELD, FINDING,
        _c("label", "string", "the question"),
        _c("type", "string", "choice | multi_choice | number | integer | boolean | text | "
           "presence | confidence"),
        UNIT,
        _c("value", "string", "an allowed value (NA for free fields)"),
        _c("value_label", "string", "its label"),
        _c("code", "string", "its code: scheme:value (meaning)"),
        _c("committee_only", "boolean", "decided by the committee, not on the read form"),
    )),
)}


def value_text(value: Any) -> str | None:
    """A form value as the tables write it (None for missing)."""
    if value is None or value == "" or value == []:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple, set, frozenset)):
        return "|".join(sorted(str(v) for v in value))
    if isinstance(value, float):
        return repr(round(value, 9))
    return str(value)


def _arrow_type(t: str) -> Any:
    import pyarrow as pa

    return {"string": pa.string(), "integer": pa.int64(), "number": pa.float64(),
            "boolean": pa.bool_()}[t]


def _finite(value: Any) -> float | None:
    f = float(value)
    return f if math.isfinite(f) else None


#: a present value of a column of each type, as written (None stays None)
_CLEANERS: dict[str, Callable[[Any], Any]] = {"number": _finite, "integer": int, "boolean": bool,
                                              "string": str}


_MAX_STRING_BYTES = 2**31 - 1  # an Arrow `string` column's 32-bit offsets


def arrow_column(values: Sequence[Any], type_: str) -> Any:
    """A column's cleaned values (`_CLEANERS`: str, int, float, bool or None) as the Arrow
    array `pyarrow.array(values, type)` gives, built from its buffers (validity bitmap,
    offsets, data).  `pyarrow.array` imports pandas (~0.5 s) on first use to ask whether its
    input is a pandas object; an export never hands it one."""
    import numpy as np
    import pyarrow as pa

    n = len(values)
    valid = np.fromiter((v is not None for v in values), dtype=bool, count=n)
    nulls = n - int(np.count_nonzero(valid))
    validity = pa.py_buffer(np.packbits(valid, bitorder="little")) if nulls else None
    if type_ == "string":
        data = [b"" if v is None else v.encode("utf-8") for v in values]
        ends = np.cumsum(np.fromiter((len(d) for d in data), dtype=np.int64, count=n))
        if n and ends[-1] > _MAX_STRING_BYTES:
            return pa.array(list(values), type=pa.string())  # more than one chunk's worth
        offsets = np.zeros(n + 1, dtype=np.int32)
        offsets[1:] = ends
        buffers = [validity, pa.py_buffer(offsets), pa.py_buffer(b"".join(data))]
    elif type_ == "integer":
        buffers = [validity, pa.py_buffer(np.fromiter((0 if v is None else v for v in values),
                                                      dtype=np.int64, count=n))]
    elif type_ == "number":
        buffers = [validity, pa.py_buffer(np.fromiter((0.0 if v is None else v for v in values),
                                                      dtype=np.float64, count=n))]
    elif type_ == "boolean":
        bits = np.fromiter((v is True for v in values), dtype=bool, count=n)
        buffers = [validity, pa.py_buffer(np.packbits(bits, bitorder="little"))]
    else:
        raise ValueError(f"unknown column type {type_!r}")
    return pa.Array.from_buffers(_arrow_type(type_), n, buffers, null_count=nulls)


class TableWriter:
    """Writes one table in every requested format, batch by batch."""

    def __init__(self, table: Table, out_dir: Path, formats: Sequence[str], identified: bool,
                 batch: int = 5000) -> None:
        self.table = table
        self.columns = table.columns_for(identified)
        self._cleaners = [(c.name, _CLEANERS.get(c.type, str)) for c in self.columns]
        self.out_dir = out_dir
        self.formats = tuple(formats)
        self.rows = 0
        self._pending: list[tuple[Any, ...]] = []
        self._batch = batch
        self.paths: list[Path] = []
        self._csv = self._csv_file = self._json = self._parquet = None
        if "csv" in self.formats:
            path = out_dir / f"{table.name}.csv"
            self._csv_file = path.open("w", encoding="utf-8", newline="")
            self._csv = csv.writer(self._csv_file, lineterminator="\n")
            self._csv.writerow([c.name for c in self.columns])
            self.paths.append(path)
        if "json" in self.formats:
            path = out_dir / f"{table.name}.jsonl"
            self._json = path.open("w", encoding="utf-8", newline="\n")
            self.paths.append(path)
        if "parquet" in self.formats:
            import pyarrow as pa
            import pyarrow.parquet as pq

            self._schema = pa.schema([(c.name, _arrow_type(c.type)) for c in self.columns])
            path = out_dir / f"{table.name}.parquet"
            self._parquet = pq.ParquetWriter(str(path), self._schema, compression="zstd",
                                             write_statistics=False)
            self.paths.append(path)

    def write(self, row: dict[str, Any]) -> None:
        """Add a row given as column -> value (identified-only columns are dropped)."""
        get = row.get
        self._pending.append(tuple(None if (v := get(name)) is None else clean(v)
                                   for name, clean in self._cleaners))
        if len(self._pending) >= self._batch:
            self.flush()

    def write_all(self, rows: Iterable[dict[str, Any]]) -> None:
        for row in rows:
            self.write(row)

    def flush(self) -> None:
        rows, self._pending = self._pending, []
        if not rows:
            return
        self.rows += len(rows)
        if self._csv is not None:
            for r in rows:
                self._csv.writerow([NA if v is None else
                                    ("true" if v is True else "false" if v is False else
                                     repr(v) if isinstance(v, float) else v) for v in r])
        if self._json is not None:
            names = [c.name for c in self.columns]
            for r in rows:
                self._json.write(json.dumps(dict(zip(names, r)), ensure_ascii=False,
                                            sort_keys=False) + "\n")
        if self._parquet is not None:
            import pyarrow as pa

            cols = list(zip(*rows))
            arrays = [arrow_column(col, c.type) for col, c in zip(cols, self.columns)]
            self._parquet.write_table(pa.Table.from_arrays(arrays, schema=self._schema))

    def close(self) -> list[Path]:
        self.flush()
        if self._csv_file is not None:
            self._csv_file.close()
        if self._json is not None:
            self._json.close()
        if self._parquet is not None:
            self._parquet.close()
        return self.paths
