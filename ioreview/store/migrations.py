"""Schema migrations for both backends.

Each migration is a numbered list of SQL statements written so that re-applying them is harmless
(`CREATE ... IF NOT EXISTS`, guarded copies).  They are written in SQLite's dialect with the
common types (INTEGER, REAL, TEXT); `render(statement, "postgresql")` turns them into
PostgreSQL: `INTEGER PRIMARY KEY` becomes a BIGINT identity column, INTEGER becomes BIGINT and
REAL becomes DOUBLE PRECISION (PostgreSQL's REAL is 4 bytes: epoch seconds would lose
precision).  Timestamps are ISO 8601 UTC text.  Later issues append migrations; never edit one
that has shipped.
"""
from __future__ import annotations

import re
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
            voi_lut_function TEXT,
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

READING = Migration(
    2,
    "users, sessions, protocol versions, cases, assignments, reads, annotations, signatures",
    (
        """CREATE TABLE IF NOT EXISTS app_user (
            id INTEGER PRIMARY KEY,
            username TEXT NOT NULL UNIQUE,
            display_name TEXT NOT NULL,
            role TEXT NOT NULL,
            password_hash TEXT NOT NULL,
            active INTEGER NOT NULL DEFAULT 1,
            failed_logins INTEGER NOT NULL DEFAULT 0,
            locked_until REAL,
            created_at TEXT NOT NULL,
            password_changed_at TEXT NOT NULL)""",
        """CREATE TABLE IF NOT EXISTS user_session (
            id INTEGER PRIMARY KEY,
            token_sha256 TEXT NOT NULL UNIQUE,
            user_id INTEGER REFERENCES app_user (id),
            system_name TEXT,
            started_at REAL NOT NULL,
            last_activity REAL NOT NULL,
            ended_at REAL)""",
        """CREATE TABLE IF NOT EXISTS protocol_version (
            id INTEGER PRIMARY KEY,
            protocol_id TEXT NOT NULL,
            version TEXT NOT NULL,
            title TEXT,
            source TEXT NOT NULL,
            text TEXT NOT NULL,
            sha256 TEXT NOT NULL UNIQUE,
            installed_at TEXT NOT NULL,
            installed_by TEXT NOT NULL,
            active INTEGER NOT NULL DEFAULT 0,
            UNIQUE (protocol_id, version))""",
        """CREATE TABLE IF NOT EXISTS review_case (
            id INTEGER PRIMARY KEY,
            label TEXT NOT NULL UNIQUE,
            subject TEXT NOT NULL,
            timepoint TEXT NOT NULL,
            days_from_insertion INTEGER,
            study_pk INTEGER REFERENCES study (id),
            created_at TEXT NOT NULL)""",
        "CREATE INDEX IF NOT EXISTS review_case_subject ON review_case (subject,"
        " days_from_insertion)",
        """CREATE TABLE IF NOT EXISTS case_series (
            case_id INTEGER NOT NULL REFERENCES review_case (id),
            series_pk INTEGER NOT NULL UNIQUE REFERENCES series (id),
            PRIMARY KEY (case_id, series_pk))""",
        """CREATE TABLE IF NOT EXISTS assignment_run (
            id INTEGER PRIMARY KEY,
            seed INTEGER NOT NULL,
            protocol_version_id INTEGER REFERENCES protocol_version (id),
            readers_json TEXT NOT NULL,
            created_at TEXT NOT NULL,
            created_by TEXT NOT NULL)""",
        """CREATE TABLE IF NOT EXISTS assignment (
            id INTEGER PRIMARY KEY,
            case_id INTEGER NOT NULL REFERENCES review_case (id),
            reader_id INTEGER NOT NULL REFERENCES app_user (id),
            run_id INTEGER NOT NULL REFERENCES assignment_run (id),
            label TEXT UNIQUE,
            order_index INTEGER NOT NULL,
            is_reread INTEGER NOT NULL DEFAULT 0,
            available_from REAL NOT NULL,
            UNIQUE (case_id, reader_id, is_reread))""",
        "CREATE INDEX IF NOT EXISTS assignment_worklist ON assignment (reader_id,"
        " available_from, order_index)",
        "CREATE INDEX IF NOT EXISTS assignment_case ON assignment (case_id)",
        """CREATE TABLE IF NOT EXISTS review_read (
            id INTEGER PRIMARY KEY,
            assignment_id INTEGER NOT NULL UNIQUE REFERENCES assignment (id),
            protocol_version_id INTEGER NOT NULL REFERENCES protocol_version (id),
            status TEXT NOT NULL,
            version INTEGER NOT NULL DEFAULT 1,
            started_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            submitted_at TEXT,
            active_seconds REAL NOT NULL DEFAULT 0)""",
        "CREATE INDEX IF NOT EXISTS review_read_status ON review_read (status)",
        """CREATE TABLE IF NOT EXISTS read_value (
            read_id INTEGER NOT NULL REFERENCES review_read (id),
            version INTEGER NOT NULL,
            field TEXT NOT NULL,
            value_json TEXT NOT NULL,
            unit TEXT,
            PRIMARY KEY (read_id, version, field))""",
        """CREATE TABLE IF NOT EXISTS annotation (
            id INTEGER PRIMARY KEY,
            read_id INTEGER NOT NULL REFERENCES review_read (id),
            version INTEGER NOT NULL,
            finding_id TEXT,
            kind TEXT NOT NULL,
            sop_instance_uid TEXT NOT NULL,
            frame INTEGER NOT NULL,
            points_json TEXT NOT NULL,
            measurements_json TEXT NOT NULL,
            label TEXT NOT NULL DEFAULT '')""",
        "CREATE INDEX IF NOT EXISTS annotation_read ON annotation (read_id, version)",
        """CREATE TABLE IF NOT EXISTS key_image (
            id INTEGER PRIMARY KEY,
            read_id INTEGER NOT NULL REFERENCES review_read (id),
            version INTEGER NOT NULL,
            sop_instance_uid TEXT NOT NULL,
            frame INTEGER NOT NULL,
            note TEXT NOT NULL DEFAULT '')""",
        "CREATE INDEX IF NOT EXISTS key_image_read ON key_image (read_id, version)",
        """CREATE TABLE IF NOT EXISTS signature (
            id INTEGER PRIMARY KEY,
            read_id INTEGER NOT NULL REFERENCES review_read (id),
            version INTEGER NOT NULL,
            signer_id INTEGER NOT NULL REFERENCES app_user (id),
            signed_at TEXT NOT NULL,
            meaning TEXT NOT NULL,
            content_sha256 TEXT NOT NULL,
            UNIQUE (read_id, version))""",
        """CREATE TABLE IF NOT EXISTS amendment (
            id INTEGER PRIMARY KEY,
            read_id INTEGER NOT NULL REFERENCES review_read (id),
            from_version INTEGER NOT NULL,
            to_version INTEGER NOT NULL,
            reason TEXT NOT NULL,
            amended_by INTEGER NOT NULL REFERENCES app_user (id),
            amended_at TEXT NOT NULL)""",
        "CREATE INDEX IF NOT EXISTS amendment_read ON amendment (read_id)",
    ),
)

SIGNABLE_RECORDS = Migration(
    3,
    "signatures for any signable entity, persisted discordance evaluations",
    (
        """CREATE TABLE IF NOT EXISTS signature_record (
            id INTEGER PRIMARY KEY,
            entity_kind TEXT NOT NULL,
            entity_id INTEGER NOT NULL,
            version INTEGER NOT NULL,
            signer_id INTEGER NOT NULL REFERENCES app_user (id),
            signed_at TEXT NOT NULL,
            meaning TEXT NOT NULL,
            content_sha256 TEXT NOT NULL,
            UNIQUE (entity_kind, entity_id, version, signer_id))""",
        "CREATE INDEX IF NOT EXISTS signature_record_entity ON signature_record (entity_kind,"
        " entity_id, version)",
        # Read signatures of schema 2 move over with their ids (audit records name them).
        "INSERT INTO signature_record (id, entity_kind, entity_id, version, signer_id, signed_at,"
        " meaning, content_sha256) SELECT s.id, 'read', s.read_id, s.version, s.signer_id,"
        " s.signed_at, s.meaning, s.content_sha256 FROM signature s WHERE NOT EXISTS"
        " (SELECT 1 FROM signature_record r WHERE r.entity_kind = 'read'"
        " AND r.entity_id = s.read_id AND r.version = s.version)",
        "DELETE FROM signature",
        """CREATE TABLE IF NOT EXISTS discordance_evaluation (
            id INTEGER PRIMARY KEY,
            case_id INTEGER NOT NULL REFERENCES review_case (id),
            protocol_version_id INTEGER NOT NULL REFERENCES protocol_version (id),
            reads_json TEXT NOT NULL,
            n_discordant INTEGER NOT NULL,
            cause TEXT NOT NULL,
            evaluated_at TEXT NOT NULL,
            superseded_at TEXT)""",
        "CREATE INDEX IF NOT EXISTS discordance_evaluation_case ON discordance_evaluation"
        " (case_id, superseded_at)",
        """CREATE TABLE IF NOT EXISTS discordance (
            id INTEGER PRIMARY KEY,
            evaluation_id INTEGER NOT NULL REFERENCES discordance_evaluation (id),
            case_id INTEGER NOT NULL REFERENCES review_case (id),
            field TEXT NOT NULL,
            rule TEXT NOT NULL,
            reason TEXT NOT NULL,
            values_json TEXT NOT NULL)""",
        "CREATE INDEX IF NOT EXISTS discordance_evaluation_fields ON discordance (evaluation_id)",
        "CREATE INDEX IF NOT EXISTS review_read_assignment_status ON review_read"
        " (assignment_id, status)",
    ),
)

WORKLIST_CHANGES = Migration(
    4,
    "a log of changes to each reader's worklist rows, for incrementally cached worklists",
    (
        """CREATE TABLE IF NOT EXISTS worklist_change (
            id INTEGER PRIMARY KEY,
            reader_id INTEGER NOT NULL REFERENCES app_user (id),
            assignment_id INTEGER NOT NULL REFERENCES assignment (id))""",
        "CREATE INDEX IF NOT EXISTS worklist_change_reader ON worklist_change (reader_id, id,"
        " assignment_id)",
    ),
)

ADJUDICATION = Migration(
    5,
    "case workflow stages, adjudications and their decisions, committee sessions and votes",
    (
        # a third reader's assignment (2-of-3) is not a primary read of the case
        """CREATE TABLE IF NOT EXISTS third_read (
            assignment_id INTEGER NOT NULL PRIMARY KEY REFERENCES assignment (id),
            case_id INTEGER NOT NULL REFERENCES review_case (id),
            seed INTEGER NOT NULL)""",
        "CREATE INDEX IF NOT EXISTS third_read_case ON third_read (case_id)",
        """CREATE TABLE IF NOT EXISTS case_workflow (
            case_id INTEGER NOT NULL PRIMARY KEY REFERENCES review_case (id),
            paradigm TEXT NOT NULL,
            stage TEXT NOT NULL,
            evaluation_id INTEGER REFERENCES discordance_evaluation (id),
            reopened INTEGER NOT NULL DEFAULT 0,
            updated_at TEXT NOT NULL)""",
        "CREATE INDEX IF NOT EXISTS case_workflow_stage ON case_workflow (stage)",
        """CREATE TABLE IF NOT EXISTS adjudication (
            id INTEGER PRIMARY KEY,
            case_id INTEGER NOT NULL REFERENCES review_case (id),
            evaluation_id INTEGER NOT NULL REFERENCES discordance_evaluation (id),
            adjudicator_id INTEGER NOT NULL REFERENCES app_user (id),
            status TEXT NOT NULL,
            seed INTEGER NOT NULL,
            letters_json TEXT NOT NULL,
            items_json TEXT NOT NULL,
            annotations_json TEXT NOT NULL DEFAULT '[]',
            created_at TEXT NOT NULL,
            decided_at TEXT,
            superseded_at TEXT)""",
        "CREATE INDEX IF NOT EXISTS adjudication_case ON adjudication (case_id, status)",
        "CREATE INDEX IF NOT EXISTS adjudication_adjudicator ON adjudication (adjudicator_id,"
        " status)",
        """CREATE TABLE IF NOT EXISTS adjudication_decision (
            adjudication_id INTEGER NOT NULL REFERENCES adjudication (id),
            field TEXT NOT NULL,
            choice TEXT NOT NULL,
            value_json TEXT NOT NULL,
            rationale TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (adjudication_id, field))""",
        """CREATE TABLE IF NOT EXISTS panel_session (
            id INTEGER PRIMARY KEY,
            title TEXT NOT NULL,
            chair_id INTEGER NOT NULL REFERENCES app_user (id),
            status TEXT NOT NULL,
            rule TEXT NOT NULL,
            quorum INTEGER NOT NULL,
            hidden_votes INTEGER NOT NULL,
            protocol_version_id INTEGER NOT NULL REFERENCES protocol_version (id),
            created_by TEXT NOT NULL,
            created_at TEXT NOT NULL,
            closed_at TEXT,
            minutes TEXT NOT NULL DEFAULT '')""",
        """CREATE TABLE IF NOT EXISTS panel_member (
            session_id INTEGER NOT NULL REFERENCES panel_session (id),
            user_id INTEGER NOT NULL REFERENCES app_user (id),
            present INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (session_id, user_id))""",
        """CREATE TABLE IF NOT EXISTS panel_case (
            session_id INTEGER NOT NULL REFERENCES panel_session (id),
            case_id INTEGER NOT NULL REFERENCES review_case (id),
            evaluation_id INTEGER REFERENCES discordance_evaluation (id),
            seed INTEGER NOT NULL,
            letters_json TEXT NOT NULL,
            items_json TEXT NOT NULL,
            status TEXT NOT NULL,
            superseded_at TEXT,
            PRIMARY KEY (session_id, case_id))""",
        "CREATE INDEX IF NOT EXISTS panel_case_case ON panel_case (case_id, status)",
        """CREATE TABLE IF NOT EXISTS panel_ballot (
            id INTEGER PRIMARY KEY,
            session_id INTEGER NOT NULL REFERENCES panel_session (id),
            case_id INTEGER NOT NULL REFERENCES review_case (id),
            member_id INTEGER NOT NULL REFERENCES app_user (id),
            casting INTEGER NOT NULL DEFAULT 0,
            cast_at TEXT NOT NULL)""",
        "CREATE INDEX IF NOT EXISTS panel_ballot_session ON panel_ballot (session_id, case_id)",
        """CREATE TABLE IF NOT EXISTS panel_vote (
            ballot_id INTEGER NOT NULL REFERENCES panel_ballot (id),
            session_id INTEGER NOT NULL REFERENCES panel_session (id),
            case_id INTEGER NOT NULL REFERENCES review_case (id),
            field TEXT NOT NULL,
            member_id INTEGER NOT NULL REFERENCES app_user (id),
            casting INTEGER NOT NULL DEFAULT 0,
            value_json TEXT NOT NULL,
            PRIMARY KEY (session_id, case_id, field, member_id, casting))""",
        """CREATE TABLE IF NOT EXISTS panel_result (
            session_id INTEGER NOT NULL REFERENCES panel_session (id),
            case_id INTEGER NOT NULL REFERENCES review_case (id),
            field TEXT NOT NULL,
            value_json TEXT NOT NULL,
            detail TEXT NOT NULL,
            PRIMARY KEY (session_id, case_id, field))""",
    ),
)

EXPORTS = Migration(
    6,
    "exports as signed records: parameters, the manifest's hash and the audit head",
    (
        """CREATE TABLE IF NOT EXISTS export_record (
            id INTEGER PRIMARY KEY,
            created_at TEXT NOT NULL,
            created_by TEXT NOT NULL,
            parameters_json TEXT NOT NULL,
            manifest_sha256 TEXT NOT NULL,
            audit_head TEXT NOT NULL,
            identified INTEGER NOT NULL,
            n_files INTEGER NOT NULL)""",
    ),
)

READER_COPIES = Migration(
    8,
    "de-identified reader copies (copy sets per case and hidden re-read), burned-in text review",
    (
        """CREATE TABLE IF NOT EXISTS reader_copy_set (
            id INTEGER PRIMARY KEY,
            case_id INTEGER NOT NULL REFERENCES review_case (id),
            assignment_id INTEGER REFERENCES assignment (id),
            patient_label TEXT NOT NULL,
            date_offset_days INTEGER,
            uid_salt TEXT NOT NULL,
            created_at TEXT NOT NULL)""",
        "CREATE UNIQUE INDEX IF NOT EXISTS reader_copy_set_case ON reader_copy_set (case_id)"
        " WHERE assignment_id IS NULL",
        "CREATE UNIQUE INDEX IF NOT EXISTS reader_copy_set_assignment ON reader_copy_set"
        " (assignment_id) WHERE assignment_id IS NOT NULL",
        """CREATE TABLE IF NOT EXISTS reader_copy (
            id INTEGER PRIMARY KEY,
            copy_set_id INTEGER NOT NULL REFERENCES reader_copy_set (id),
            series_pk INTEGER NOT NULL REFERENCES series (id),
            instance_pk INTEGER NOT NULL REFERENCES instance (id),
            sop_instance_uid TEXT NOT NULL UNIQUE,
            path TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            mask_id INTEGER,
            header_json TEXT NOT NULL,
            replaced_uids_json TEXT NOT NULL,
            created_at TEXT NOT NULL,
            UNIQUE (copy_set_id, instance_pk))""",
        "CREATE INDEX IF NOT EXISTS reader_copy_series ON reader_copy (series_pk, copy_set_id)",
        """CREATE TABLE IF NOT EXISTS burned_in_review (
            series_pk INTEGER PRIMARY KEY REFERENCES series (id),
            reason TEXT NOT NULL,
            status TEXT NOT NULL,
            flagged_at TEXT NOT NULL,
            decided_by TEXT,
            decided_at TEXT,
            mask_id INTEGER)""",
        """CREATE TABLE IF NOT EXISTS burned_in_mask (
            id INTEGER PRIMARY KEY,
            series_pk INTEGER NOT NULL REFERENCES series (id),
            rectangles_json TEXT NOT NULL,
            created_by TEXT NOT NULL,
            created_at TEXT NOT NULL)""",
    ),
)

ACCOUNT_SECURITY = Migration(
    9,
    "accounts: forced password change, password history, log-in throttling, trial settings",
    (
        # a row per account that must change its password at the next log-in (a table, not
        # a column of app_user, so that re-running the migration is harmless)
        """CREATE TABLE IF NOT EXISTS password_change_required (
            user_id INTEGER PRIMARY KEY REFERENCES app_user (id),
            since TEXT NOT NULL)""",
        """CREATE TABLE IF NOT EXISTS password_history (
            id INTEGER PRIMARY KEY,
            user_id INTEGER NOT NULL REFERENCES app_user (id),
            password_hash TEXT NOT NULL,
            retired_at TEXT NOT NULL)""",
        "CREATE INDEX IF NOT EXISTS password_history_user ON password_history (user_id, id)",
        """CREATE TABLE IF NOT EXISTS login_throttle (
            subject TEXT PRIMARY KEY,
            failures INTEGER NOT NULL,
            last_failure_at REAL NOT NULL)""",
        """CREATE TABLE IF NOT EXISTS trial_setting (
            name TEXT PRIMARY KEY,
            value_json TEXT NOT NULL,
            changed_at TEXT NOT NULL,
            changed_by TEXT NOT NULL)""",
    ),
)

KEYED_AUDIT = Migration(
    7,
    "tamper evidence: the keyed audit chain's seal (the trial key's fingerprint); audit records,"
    " signatures and signed read versions append-only",
    (
        # The seal itself (the record that starts the keyed chain) and the protective triggers
        # are written by the backend while this migration applies (SqlBackend._seal_chain,
        # _protect_records): trigger syntax differs between SQLite and PostgreSQL.
        """CREATE TABLE IF NOT EXISTS audit_seal (
            key_id TEXT NOT NULL,
            sealed_seq INTEGER NOT NULL,
            sealed_at TEXT NOT NULL)""",
    ),
)

SIGNED_DECISIONS = Migration(
    10,
    "signed adjudications, committee votes, closed committee sessions and export records"
    " append-only",
    # the triggers are the backend's (SqlBackend._protect_records), as for schema 7
    (),
)

INSTANCE_VIEWS = Migration(
    11,
    "the view of each radiograph: View Position (0018,5101) and View Code Sequence meaning",
    (
        # a table beside instance, not columns of it, so that re-running the migration is
        # harmless (SQLite has no ADD COLUMN IF NOT EXISTS); a row only for instances that
        # name a view; older databases have none and hang series by their descriptions
        """CREATE TABLE IF NOT EXISTS instance_view (
            instance_pk INTEGER PRIMARY KEY REFERENCES instance (id),
            view_position TEXT,
            view_code_meaning TEXT)""",
    ),
)

MIGRATIONS: tuple[Migration, ...] = (DICOM_INDEX, READING, SIGNABLE_RECORDS, WORKLIST_CHANGES,
                                     ADJUDICATION, EXPORTS, READER_COPIES, ACCOUNT_SECURITY,
                                     KEYED_AUDIT, SIGNED_DECISIONS, INSTANCE_VIEWS)

_PG_RULES = (
    (re.compile(r"\bINTEGER PRIMARY KEY\b"), "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"),
    (re.compile(r"\bINTEGER\b"), "BIGINT"),
    (re.compile(r"\bREAL\b"), "DOUBLE PRECISION"),
)


def render(statement: str, dialect: str) -> str:
    """A migration statement in `dialect` ("sqlite" or "postgresql")."""
    if dialect == "sqlite":
        return statement
    for pattern, replacement in _PG_RULES:
        statement = pattern.sub(replacement, statement)
    return statement
