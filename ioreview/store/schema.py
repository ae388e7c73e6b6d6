"""Schema migrations.

Each migration is a numbered list of portable SQL statements written so that re-applying them
is harmless (`CREATE ... IF NOT EXISTS`).  Types are the common subset of SQLite and
PostgreSQL (INTEGER, REAL, TEXT); timestamps are ISO 8601 UTC text.  Later issues append
migrations; never edit one that has shipped.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    statements: tuple[str, ...]


DICOM_INDEX = Migration(
    1,
    "audit trail, DICOM hierarchy and import log",
    (
        """CREATE TABLE IF NOT EXISTS audit (
            seq INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            entity TEXT NOT NULL,
            entity_id TEXT NOT NULL,
            before_json TEXT,
            after_json TEXT,
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL UNIQUE)""",
        "CREATE INDEX IF NOT EXISTS audit_entity ON audit (entity, entity_id)",
        """CREATE TABLE IF NOT EXISTS patient (
            id INTEGER PRIMARY KEY,
            patient_key TEXT NOT NULL UNIQUE,
            patient_id TEXT,
            issuer_of_patient_id TEXT,
            patient_name TEXT,
            patient_birth_date TEXT,
            patient_sex TEXT)""",
        """CREATE TABLE IF NOT EXISTS study (
            id INTEGER PRIMARY KEY,
            study_instance_uid TEXT NOT NULL UNIQUE,
            patient_pk INTEGER NOT NULL REFERENCES patient (id),
            study_date TEXT,
            study_time TEXT,
            study_id TEXT,
            study_description TEXT,
            accession_number TEXT,
            institution_name TEXT,
            referring_physician_name TEXT,
            specific_character_set TEXT)""",
        "CREATE INDEX IF NOT EXISTS study_patient ON study (patient_pk)",
        """CREATE TABLE IF NOT EXISTS series (
            id INTEGER PRIMARY KEY,
            series_instance_uid TEXT NOT NULL UNIQUE,
            study_pk INTEGER NOT NULL REFERENCES study (id),
            modality TEXT,
            series_number INTEGER,
            series_description TEXT,
            series_date TEXT,
            body_part_examined TEXT,
            laterality TEXT,
            frame_of_reference_uid TEXT)""",
        "CREATE INDEX IF NOT EXISTS series_study ON series (study_pk)",
        """CREATE TABLE IF NOT EXISTS import_run (
            id INTEGER PRIMARY KEY,
            started_at TEXT NOT NULL,
            finished_at TEXT,
            actor TEXT NOT NULL,
            sources_json TEXT NOT NULL,
            mode TEXT NOT NULL,
            summary_json TEXT)""",
        """CREATE TABLE IF NOT EXISTS instance (
            id INTEGER PRIMARY KEY,
            sop_instance_uid TEXT NOT NULL UNIQUE,
            series_pk INTEGER NOT NULL REFERENCES series (id),
            import_run INTEGER REFERENCES import_run (id),
            sop_class_uid TEXT,
            instance_number INTEGER,
            content_date TEXT,
            image_type TEXT,
            path TEXT NOT NULL,
            archived INTEGER NOT NULL DEFAULT 0,
            file_size INTEGER,
            sha256 TEXT,
            transfer_syntax_uid TEXT,
            specific_character_set TEXT,
            rows INTEGER,
            columns INTEGER,
            number_of_frames INTEGER NOT NULL DEFAULT 1,
            samples_per_pixel INTEGER,
            photometric_interpretation TEXT,
            bits_allocated INTEGER,
            bits_stored INTEGER,
            pixel_representation INTEGER,
            planar_configuration INTEGER,
            pixel_spacing TEXT,
            imager_pixel_spacing TEXT,
            estimated_magnification REAL,
            slice_thickness REAL,
            image_position TEXT,
            image_orientation TEXT,
            rescale_slope REAL,
            rescale_intercept REAL,
            window_center TEXT,
            window_width TEXT,
            frame_time_ms REAL,
            pixel_data_offset INTEGER,
            pixel_data_length INTEGER)""",
        "CREATE INDEX IF NOT EXISTS instance_series ON instance (series_pk, instance_number)",
        """CREATE TABLE IF NOT EXISTS import_file (
            id INTEGER PRIMARY KEY,
            import_run INTEGER NOT NULL REFERENCES import_run (id),
            path TEXT NOT NULL,
            outcome TEXT NOT NULL,
            reason TEXT,
            sop_instance_uid TEXT)""",
        "CREATE INDEX IF NOT EXISTS import_file_run ON import_file (import_run, outcome)",
    ),
)

MIGRATIONS: tuple[Migration, ...] = (DICOM_INDEX,)
