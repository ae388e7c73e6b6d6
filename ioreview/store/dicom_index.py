"""Writing and reading the DICOM hierarchy: patient > study > series > instance, and the import log."""
from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Union

from ioreview.imaging.header import InstanceHeader

from .audit import utc_now
from .engine import SqlBackend, UnitOfWork
from .records import ImportFileRow, InstancePath, SeriesRow, StudyRow, UnarchivedInstance

Transaction = UnitOfWork
Source = Union[SqlBackend, UnitOfWork]


@contextmanager
def _reading(source: Source) -> Iterator[UnitOfWork]:
    """The given unit of work, or a read-only one on the given store."""
    if isinstance(source, UnitOfWork):
        yield source
    else:
        with source.unit_of_work("system", write=False) as uow:
            yield uow

PATIENT_COLS = ("patient_id", "issuer_of_patient_id", "patient_name", "patient_birth_date",
                "patient_sex")
STUDY_COLS = ("study_date", "study_time", "study_id", "study_description", "accession_number",
              "institution_name", "referring_physician_name", "specific_character_set")
SERIES_COLS = ("modality", "series_number", "series_description", "series_date",
               "body_part_examined", "laterality", "frame_of_reference_uid")
INSTANCE_COLS = (
    "sop_instance_uid", "sop_class_uid", "instance_number", "content_date", "image_type", "path",
    "file_size", "sha256", "transfer_syntax_uid", "specific_character_set", "rows", "columns",
    "number_of_frames", "samples_per_pixel", "photometric_interpretation", "bits_allocated",
    "bits_stored", "pixel_representation", "planar_configuration", "pixel_spacing",
    "imager_pixel_spacing", "estimated_magnification", "slice_thickness", "image_position",
    "image_orientation", "rescale_slope", "rescale_intercept", "window_center", "window_width",
    "voi_lut_function",
    "frame_time_ms", "pixel_data_offset", "pixel_data_length",
)
_TUPLE_COLS = frozenset({"pixel_spacing", "imager_pixel_spacing", "image_position",
                         "image_orientation", "window_center", "window_width"})
_INSERT_INSTANCE = (
    f"INSERT INTO instance (series_pk, import_run, archived, {', '.join(INSTANCE_COLS)}) "
    f"VALUES (?, ?, ?, {', '.join('?' * len(INSTANCE_COLS))})"
)
#: the view of a radiograph (schema 11: a row beside the instance, only when it names one)
VIEW_COLS = ("view_position", "view_code_meaning")
_INSERT_VIEW = ("INSERT INTO instance_view (instance_pk, view_position, view_code_meaning)"
                " SELECT id, ?, ? FROM instance WHERE sop_instance_uid = ?")


def encode_multi(values: Sequence[float] | None) -> str | None:
    """Multi-valued numbers as DICOM-style backslash text (portable, human-readable)."""
    if values is None:
        return None
    return "\\".join(repr(float(v)) for v in values)


def decode_multi(text: str | None) -> tuple[float, ...] | None:
    if text is None or text == "":
        return None
    return tuple(float(v) for v in text.split("\\"))


def patient_key(h: InstanceHeader) -> str:
    """Identity of a patient across studies: PatientID within its issuer, else name+birth date,
    else the study (an anonymous study is its own patient)."""
    if h.patient_id:
        return f"id:{h.issuer_of_patient_id}:{h.patient_id}"
    if h.patient_name or h.patient_birth_date:
        return f"name:{h.patient_name}:{h.patient_birth_date}"
    return f"study:{h.study_instance_uid}"


@dataclass(frozen=True)
class Duplicate:
    path: str
    sop_instance_uid: str
    existing_path: str


@dataclass
class InsertResult:
    inserted: list[InstanceHeader]
    duplicates: list[Duplicate]
    new_patients: int = 0
    new_studies: int = 0
    new_series: int = 0


class IndexWriter:
    """Inserts scanned headers batch by batch inside one import, caching hierarchy keys."""

    def __init__(self, run_id: int) -> None:
        self.run_id = run_id
        self._patients: dict[str, int] = {}
        self._studies: dict[str, int] = {}
        self._series: dict[str, int] = {}

    def _pk(self, tx: Transaction, cache: dict[str, int], table: str, key_col: str, key: str,
            insert: dict[str, Any], label: str) -> tuple[int, bool]:
        pk = cache.get(key)
        if pk is not None:
            return pk, False
        found = tx.scalar(f"SELECT id FROM {table} WHERE {key_col} = ?", (key,))
        created = found is None
        if created:
            cols = [key_col, *insert]
            pk = tx.insert(
                f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})",
                (key, *insert.values()))
            tx.audit("create", label, pk, after={key_col: key, **insert})
        else:
            pk = int(found)
        cache[key] = pk
        return pk, created

    def insert(self, tx: Transaction, headers: Iterable[InstanceHeader], archived: bool
               ) -> InsertResult:
        """Insert headers; SOP Instance UIDs already indexed (or repeated in the batch) are
        returned as duplicates, never inserted twice."""
        headers = list(headers)
        result = InsertResult([], [])
        existing = self.existing_paths(tx, [h.sop_instance_uid for h in headers])
        rows = []
        for h in headers:
            uid = h.sop_instance_uid
            if uid in existing:
                result.duplicates.append(Duplicate(h.path, uid, existing[uid]))
                continue
            existing[uid] = h.path
            p_pk, new = self._pk(tx, self._patients, "patient", "patient_key", patient_key(h),
                                 {c: getattr(h, c) for c in PATIENT_COLS}, "patient")
            result.new_patients += new
            st_pk, new = self._pk(tx, self._studies, "study", "study_instance_uid",
                                  h.study_instance_uid,
                                  {"patient_pk": p_pk, **{c: getattr(h, c) for c in STUDY_COLS}},
                                  "study")
            result.new_studies += new
            se_pk, new = self._pk(tx, self._series, "series", "series_instance_uid",
                                  h.series_instance_uid,
                                  {"study_pk": st_pk, **{c: getattr(h, c) for c in SERIES_COLS}},
                                  "series")
            result.new_series += new
            values = [getattr(h, c) for c in INSTANCE_COLS]
            for i, c in enumerate(INSTANCE_COLS):
                if c in _TUPLE_COLS:
                    values[i] = encode_multi(values[i])
            rows.append((se_pk, self.run_id, int(archived), *values))
            result.inserted.append(h)
        if rows:
            tx.executemany(_INSERT_INSTANCE, rows)
            views = [(h.view_position or None, h.view_code_meaning or None, h.sop_instance_uid)
                     for h in result.inserted if h.view_position or h.view_code_meaning]
            if views:
                tx.executemany(_INSERT_VIEW, views)
            for h in result.inserted:
                tx.audit("import", "instance", h.sop_instance_uid,
                         after={"path": h.path, "sha256": h.sha256,
                                "series": h.series_instance_uid, "run": self.run_id})
        return result

    @staticmethod
    def existing_paths(tx: Transaction, uids: Sequence[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        for i in range(0, len(uids), 500):
            chunk = uids[i:i + 500]
            q = ("SELECT sop_instance_uid, path FROM instance WHERE sop_instance_uid IN "
                 f"({', '.join('?' * len(chunk))})")
            found.update(tx.tuples(q, chunk))
        return found


def begin_import_run(tx: Transaction, sources: Sequence[str], mode: str,
                     owner: dict[str, Any] | None = None) -> int:
    """Start an import run; `owner` (host, process id, start time) lets the next start tell
    a run whose process died (`unfinished_import_runs`) from one still running."""
    state = None if owner is None else json.dumps({"status": "running", "owner": owner})
    run_id = tx.insert("INSERT INTO import_run (started_at, actor, sources_json, mode,"
                       " summary_json) VALUES (?,?,?,?,?)",
                       (utc_now(), tx.actor, json.dumps(list(sources)), mode, state))
    tx.audit("start", "import_run", run_id, after={"sources": list(sources), "mode": mode})
    return run_id


@dataclass(frozen=True)
class UnfinishedRun:
    id: int
    started_at: str
    owner: dict[str, Any] | None


def unfinished_import_runs(source: Source) -> list[UnfinishedRun]:
    """Import runs never finished: running now, or interrupted by a crash."""
    with _reading(source) as uow:
        rows = uow.tuples("SELECT id, started_at, summary_json FROM import_run"
                          " WHERE finished_at IS NULL ORDER BY id")
    out = []
    for run_id, started, state in rows:
        try:
            owner = json.loads(state).get("owner") if state else None
        except (ValueError, AttributeError):
            owner = None
        out.append(UnfinishedRun(int(run_id), started, owner if isinstance(owner, dict)
                                 else None))
    return out


def close_interrupted_import_run(tx: Transaction, run_id: int) -> bool:
    """Close an unfinished run as interrupted, with the counts of what it committed; False
    when it was finished meanwhile."""
    outcomes = dict(tx.tuples("SELECT outcome, COUNT(*) FROM import_file WHERE import_run = ?"
                              " GROUP BY outcome", (run_id,)))
    summary = {"status": "interrupted", "run_id": run_id,
               **{k: int(outcomes.get(k, 0)) for k in ("imported", "duplicate", "rejected",
                                                       "skipped")}}
    cur = tx.execute("UPDATE import_run SET finished_at = ?, summary_json = ?"
                     " WHERE id = ? AND finished_at IS NULL",
                     (utc_now(), json.dumps(summary), run_id))
    if cur.rowcount != 1:
        return False
    tx.audit("interrupted", "import_run", run_id, after=summary)
    return True


def archived_digests(source: Source, digests: Sequence[str] | None = None) -> set[str]:
    """SHA-256 digests of the archived instances (the names of their archive files), all of
    them or those among `digests`."""
    with _reading(source) as uow:
        if digests is None:
            return {d for (d,) in uow.tuples("SELECT sha256 FROM instance WHERE archived = 1")}
        found: set[str] = set()
        digests = list(digests)
        for i in range(0, len(digests), 500):
            chunk = digests[i:i + 500]
            found.update(d for (d,) in uow.tuples(
                "SELECT sha256 FROM instance WHERE archived = 1 AND sha256 IN"
                f" ({', '.join('?' * len(chunk))})", chunk))
        return found


def record_import_files(tx: Transaction, run_id: int,
                        rows: Iterable[tuple[str, str, str | None, str | None]]) -> None:
    """Account for input files: (path, outcome imported|duplicate|rejected, reason, sop uid)."""
    tx.executemany("INSERT INTO import_file (import_run, path, outcome, reason, sop_instance_uid)"
                   " VALUES (?,?,?,?,?)", [(run_id, *r) for r in rows])


def finish_import_run(tx: Transaction, run_id: int, summary: dict[str, Any]) -> None:
    tx.execute("UPDATE import_run SET finished_at = ?, summary_json = ? WHERE id = ?",
               (utc_now(), json.dumps(summary, ensure_ascii=False), run_id))
    tx.audit("finish", "import_run", run_id, after={k: v for k, v in summary.items()
                                                    if not isinstance(v, list)})


# -- reading ------------------------------------------------------------------------------------
def counts(source: Source) -> dict[str, int]:
    with _reading(source) as uow:
        return {t: int(uow.scalar(f"SELECT COUNT(*) FROM {t}"))
                for t in ("patient", "study", "series", "instance", "import_run")}


def list_studies(source: Source) -> list[StudyRow]:
    with _reading(source) as uow:
        studies = uow.rows(
            "SELECT st.id, st.study_instance_uid, st.study_date, st.study_description,"
            " st.accession_number, p.patient_id, p.patient_name, p.id AS patient_pk,"
            " (SELECT COUNT(*) FROM series se WHERE se.study_pk = st.id) AS n_series"
            " FROM study st JOIN patient p ON p.id = st.patient_pk"
            " ORDER BY p.patient_id, st.study_date, st.id")
        modalities: dict[int, list[str]] = {}
        for study_pk, modality in uow.tuples(
                "SELECT DISTINCT study_pk, modality FROM series WHERE modality IS NOT NULL"
                " ORDER BY study_pk, modality"):
            modalities.setdefault(int(study_pk), []).append(modality)
    # aggregated here: GROUP_CONCAT / string_agg are not portable
    return [StudyRow(int(r["id"]), r["study_instance_uid"], r["study_date"],
                     r["study_description"], r["accession_number"], r["patient_id"],
                     r["patient_name"], int(r["patient_pk"]), int(r["n_series"]),
                     ",".join(modalities.get(int(r["id"]), []))) for r in studies]


def list_series(source: Source, study_pk: int | None = None) -> list[SeriesRow]:
    sql = ("SELECT se.*, st.study_instance_uid,"
           " (SELECT COUNT(*) FROM instance i WHERE i.series_pk = se.id) AS n_instances,"
           " (SELECT SUM(i.number_of_frames) FROM instance i WHERE i.series_pk = se.id) AS n_frames"
           " FROM series se JOIN study st ON st.id = se.study_pk")
    params: tuple[Any, ...] = ()
    if study_pk is not None:
        sql += " WHERE se.study_pk = ?"
        params = (study_pk,)
    with _reading(source) as uow:
        rows = uow.rows(sql + " ORDER BY se.study_pk, se.series_number, se.id", params)
    return [SeriesRow(int(r["id"]), int(r["study_pk"]), r["series_instance_uid"],
                      r["study_instance_uid"], r["modality"],
                      None if r["series_number"] is None else int(r["series_number"]),
                      r["series_description"], r["series_date"], r["body_part_examined"],
                      r["laterality"], int(r["n_instances"]), int(r["n_frames"] or 0))
            for r in rows]


def _header_from_row(row: dict[str, Any]) -> InstanceHeader:
    kw = {c: row[c] for c in INSTANCE_COLS}
    for c in _TUPLE_COLS:
        kw[c] = decode_multi(kw[c])
    for c in ("image_type", "content_date", "sha256", "transfer_syntax_uid",
              "specific_character_set", "photometric_interpretation", "voi_lut_function"):
        kw[c] = kw[c] or ""
    kw["number_of_frames"] = kw["number_of_frames"] or 1
    for c in SERIES_COLS:
        kw[c] = row.get(c) if c == "series_number" else (row.get(c) or "")
    for c in PATIENT_COLS + STUDY_COLS:
        if c in row and c != "specific_character_set":
            kw[c] = row[c] or ""
    for c in VIEW_COLS:
        kw[c] = row.get(c) or ""
    return InstanceHeader(study_instance_uid=row["study_instance_uid"],
                          series_instance_uid=row["series_instance_uid"], **kw)


_HEADER_SELECT = (
    "SELECT i.*, se.series_instance_uid, se.modality, se.series_number,"
    " se.series_description, se.series_date, se.body_part_examined, se.laterality,"
    " se.frame_of_reference_uid, st.study_instance_uid, st.study_date, st.study_time,"
    " st.study_id, st.study_description, st.accession_number, st.institution_name,"
    " st.referring_physician_name, p.patient_id, p.issuer_of_patient_id, p.patient_name,"
    " p.patient_birth_date, p.patient_sex, v.view_position, v.view_code_meaning"
    " FROM instance i JOIN series se ON se.id = i.series_pk"
    " JOIN study st ON st.id = se.study_pk JOIN patient p ON p.id = st.patient_pk"
    " LEFT JOIN instance_view v ON v.instance_pk = i.id")


def series_headers(source: Source, series_pk: int) -> list[InstanceHeader]:
    """All instances of a series as headers (with stored pixel offsets), by instance number."""
    return series_headers_of(source, [series_pk])[series_pk]


def series_headers_of(source: Source, series_pks: Sequence[int]
                      ) -> dict[int, list[InstanceHeader]]:
    """The headers of several series in one query: series pk -> headers by instance number."""
    out: dict[int, list[InstanceHeader]] = {int(pk): [] for pk in series_pks}
    if not out:
        return out
    with _reading(source) as uow:
        rows = uow.rows(_HEADER_SELECT + f" WHERE i.series_pk IN ({', '.join('?' * len(out))})"
                        " ORDER BY i.series_pk, i.instance_number, i.id", list(out))
    for r in rows:
        out[int(r["series_pk"])].append(_header_from_row(r))
    return out


def series_pk_of(source: Source, series_instance_uid: str) -> int | None:
    with _reading(source) as uow:
        pk = uow.scalar("SELECT id FROM series WHERE series_instance_uid = ?",
                        (series_instance_uid,))
    return None if pk is None else int(pk)


def import_files(source: Source, run_id: int, outcome: str | None = None
                 ) -> list[ImportFileRow]:
    sql = "SELECT path, outcome, reason, sop_instance_uid FROM import_file WHERE import_run = ?"
    params: list[Any] = [run_id]
    if outcome:
        sql += " AND outcome = ?"
        params.append(outcome)
    with _reading(source) as uow:
        return [ImportFileRow(*r) for r in uow.tuples(sql + " ORDER BY id", params)]


def instance_paths(source: Source) -> list[InstancePath]:
    with _reading(source) as uow:
        return [InstancePath(u, p, h, bool(a)) for u, p, h, a in uow.tuples(
            "SELECT sop_instance_uid, path, sha256, archived FROM instance ORDER BY id")]


def unarchived_instances(tx: Transaction, series_pks: Sequence[int]) -> list[UnarchivedInstance]:
    """Instances of these series still referenced where they were imported (not archived)."""
    if not series_pks:
        return []
    return [UnarchivedInstance(int(i), u, p, h, None if n is None else int(n))
            for i, u, p, h, n in tx.tuples(
        "SELECT id, sop_instance_uid, path, sha256, file_size FROM instance WHERE archived = 0"
        f" AND series_pk IN ({', '.join('?' * len(series_pks))}) ORDER BY id",
        list(series_pks))]


def set_instance_archived(tx: Transaction, instance_pk: int, path: str, sha256: str) -> None:
    tx.execute("UPDATE instance SET path = ?, sha256 = ?, archived = 1 WHERE id = ?",
               (path, sha256, instance_pk))
