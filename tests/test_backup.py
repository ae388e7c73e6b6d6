"""Backup and restore (issue 12): a backup round-trips on SQLite and on PostgreSQL, a tampered
backup (its database, an archive file, its manifest) is refused naming what is wrong, and a
target that holds anything is refused.  Also the PostgreSQL grants of the application role."""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
from pathlib import Path

import pytest

from ioreview.errors import BackupRejected, InvalidInput, PermissionDenied
from ioreview.service import Trial, restore
from ioreview.service.signatures import content_sha256  # noqa: F401 (the attacker's tools)
from ioreview.store import dicom_index as di
from ioreview.store import open_store
from ioreview.store.audit import canonical_json
from ioreview.store.engine import ProtectedRecord
from ioreview.store.trial_key import TrialKeyError, keyed_digest, load_key

from test_trial_helpers import PASSWORDS, complete_values, fast_kdf, make_world  # noqa: F401

pytestmark = pytest.mark.usefixtures("fast_kdf")


@pytest.fixture(scope="module")
def demo_template(tmp_path_factory) -> Path:
    from ioreview.demo import build_demo
    from ioreview.imaging.synthetic import DemoConfig

    root = tmp_path_factory.mktemp("backup-demo") / "demo"
    build_demo(root, DemoConfig.small())
    return root


@pytest.fixture
def demo(demo_template: Path, tmp_path: Path) -> Path:
    target = tmp_path / "demo"
    shutil.copytree(demo_template, target, ignore=shutil.ignore_patterns("dicom"))
    store = open_store(target / "ioreview.sqlite")  # the copy's files are in its own archive
    store.relocate_paths(str(demo_template / "archive"), str(target / "archive"))
    store.close()
    return target


@pytest.fixture
def backup(demo: Path, tmp_path: Path):
    trial = Trial.open(demo / "ioreview.sqlite")
    try:
        coordinator = trial.login("coordinator", "coordinator-demo")
        return trial.backup(coordinator, tmp_path / "backup")
    finally:
        trial.close()


def _verify(db: Path | str, user: str = "coordinator"):
    trial = Trial.open(db)
    try:
        return trial.verify_audit_trail(trial.login(user, f"{user}-demo"))
    finally:
        trial.close()


def test_backup_and_restore_round_trip_on_sqlite(demo: Path, backup, tmp_path: Path):
    manifest = json.loads(backup.manifest.read_text("utf-8"))
    names = {f["name"] for f in manifest["files"]}
    assert "ioreview.sqlite" in names and backup.n_archive_files > 0
    assert sum(n.startswith("archive/") for n in names) == backup.n_archive_files
    # the key is not in the backup; the manifest says where it is
    assert not any(p.name.endswith(".key") for p in backup.folder.rglob("*"))
    assert manifest["key"]["kept_at"] == str(demo / "ioreview.sqlite.key")
    assert backup.key_id == manifest["key"]["key_id"] and backup.audit_length > 0
    assert (os.stat(backup.manifest).st_mode & 0o777) == 0o600
    # the backup was audited
    trial = Trial.open(demo / "ioreview.sqlite")
    assert [r.action for r in trial.store.audit_records("trial")][-1:] == ["backup"]
    trial.close()

    target = tmp_path / "restored" / "trial.sqlite"
    summary = restore(backup.folder, target)
    assert summary.audit_length == backup.audit_length and summary.n_signatures > 0
    assert summary.archive_dir == target.parent / "archive"
    assert Path(f"{target}.key").read_bytes() == Path(f"{demo}/ioreview.sqlite.key").read_bytes()
    report = _verify(target)
    assert report.intact, report.problems
    # every archived file is at its new place, with its content
    store = open_store(target)
    archived = [p for p in di.instance_paths(store) if p.archived]
    store.close()
    assert archived and all(Path(p.path).is_file() for p in archived)
    assert all(str(summary.archive_dir.resolve()) in p.path for p in archived)
    store = open_store(target)
    after = [r.action for r in store.audit_records() if r.seq > backup.audit_length]
    store.close()
    assert after[:2] == ["relocate", "restore"]  # the restore is audited in the trail
    # a second restore into the same place is refused: the target exists
    with pytest.raises(InvalidInput, match="already exists"):
        restore(backup.folder, target)


def test_only_coordinators_and_admins_back_up(demo: Path, tmp_path: Path):
    trial = Trial.open(demo / "ioreview.sqlite")
    try:
        with pytest.raises(PermissionDenied):
            trial.backup(trial.login("reader1", "reader1-demo"), tmp_path / "b")
        assert not (tmp_path / "b").exists()
        admin = trial.login("admin", "admin-demo")
        (tmp_path / "full").mkdir()
        (tmp_path / "full" / "x").write_text("x")
        with pytest.raises(InvalidInput, match="new or empty folder"):
            trial.backup(admin, tmp_path / "full")
    finally:
        trial.close()


def test_an_edited_database_in_the_backup_is_refused(backup, tmp_path: Path):
    db = backup.folder / "ioreview.sqlite"
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("DROP TRIGGER read_value_signed_update")
    conn.execute("UPDATE read_value SET value_json = '\"tampered\"' WHERE (read_id, version)"
                 " IN (SELECT entity_id, version FROM signature_record"
                 " WHERE entity_kind = 'read')")
    conn.close()
    with pytest.raises(BackupRejected, match="ioreview.sqlite: its SHA-256 does not match"):
        restore(backup.folder, tmp_path / "r" / "trial.sqlite")
    assert not (tmp_path / "r" / "trial.sqlite").exists()
    # even someone holding the key, who re-signs the manifest, cannot pass the signatures
    manifest = json.loads(backup.manifest.read_text("utf-8"))
    key = load_key(Path(manifest["key"]["kept_at"]))
    for f in manifest["files"]:
        if f["name"] == "ioreview.sqlite":
            import hashlib

            f["sha256"] = hashlib.sha256(db.read_bytes()).hexdigest()
            f["bytes"] = db.stat().st_size
    manifest.pop("mac")
    manifest["mac"] = keyed_digest(key, "backup-manifest", canonical_json(manifest))
    backup.manifest.write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(BackupRejected) as refused:
        restore(backup.folder, tmp_path / "r" / "trial.sqlite")
    assert any("no longer matches what was signed" in p for p in refused.value.problems)
    assert any("triggers read_value_signed_update were removed" in p
               for p in refused.value.problems)
    assert not (tmp_path / "r" / "trial.sqlite").exists()
    assert not (tmp_path / "r" / "archive").exists()


def test_an_edited_archive_file_is_refused(backup, tmp_path: Path):
    victim = next(p for p in sorted((backup.folder / "archive").rglob("*.dcm")))
    os.unlink(victim)  # (a hard link: replace it rather than edit the trial's own file)
    victim.write_bytes(b"\0" * 200)
    rel = victim.relative_to(backup.folder).as_posix()
    with pytest.raises(BackupRejected, match=f"{rel}: its SHA-256 does not match"):
        restore(backup.folder, tmp_path / "r" / "trial.sqlite")
    assert not (tmp_path / "r").exists() or not any((tmp_path / "r").iterdir())


def test_an_edited_manifest_is_refused(backup, tmp_path: Path):
    manifest = json.loads(backup.manifest.read_text("utf-8"))
    manifest["created_by"] = "someone else"
    backup.manifest.write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(BackupRejected, match="the manifest was changed after the backup"):
        restore(backup.folder, tmp_path / "r" / "trial.sqlite")


def test_a_restore_needs_the_trial_key(backup, demo: Path, tmp_path: Path):
    key = Path(f"{demo}/ioreview.sqlite.key")
    moved = tmp_path / "safe.key"
    key.rename(moved)
    with pytest.raises(TrialKeyError, match="needs the trial key"):
        restore(backup.folder, tmp_path / "r" / "trial.sqlite")
    summary = restore(backup.folder, tmp_path / "r" / "trial.sqlite", key_file=moved)
    assert summary.n_signatures > 0


# -- PostgreSQL ------------------------------------------------------------------------------------
def _second_database(postgres_server: str, postgres_url: str) -> str:
    import psycopg

    name = postgres_url.rsplit("/", 1)[1] + "_restored"
    with psycopg.connect(postgres_server, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    return postgres_url.rsplit("/", 1)[0] + "/" + name


def _signed_world(tmp_path: Path, db: str):
    w = make_world(tmp_path, readers=2, db=db)
    s1 = w.login("reader1")
    view = w.trial.open_case(s1, w.trial.worklist(s1)[0].assignment_id)
    w.trial.save_draft(s1, view.read_id, complete_values(view.timepoint))
    w.trial.submit_read(s1, view.read_id, PASSWORDS["reader1"])
    return w


@pytest.mark.postgres
def test_backup_and_restore_round_trip_on_postgres(postgres_server: str, postgres_url: str,
                                                   tmp_path: Path, monkeypatch):
    monkeypatch.setenv("IOREVIEW_KEY_FILE", str(tmp_path / "keys" / "trial.key"))
    w = _signed_world(tmp_path, postgres_url)
    coord = w.login("coord")
    summary = w.trial.backup(coord, tmp_path / "backup")
    assert (tmp_path / "backup" / "ioreview.pgdump").is_file()
    w.trial.close()
    target = _second_database(postgres_server, postgres_url)
    # the restored trial's workstations name their own key file (same key)
    monkeypatch.setenv("IOREVIEW_KEY_FILE", str(tmp_path / "keys2" / "trial.key"))
    restored = restore(summary.folder, target, tmp_path / "archive2",
                       key_file=tmp_path / "keys" / "trial.key")
    assert restored.audit_length == summary.audit_length and restored.n_signatures == 1
    trial = Trial.open(target, archive_root=tmp_path / "archive2")
    try:
        report = trial.verify_audit_trail(trial.login("admin", PASSWORDS["admin"]))
        assert report.intact, report.problems
        assert trial.store.missing_protections() == []
    finally:
        trial.close()
    # a second restore into the now full database is refused
    monkeypatch.setenv("IOREVIEW_KEY_FILE", str(tmp_path / "keys3" / "trial.key"))
    with pytest.raises(InvalidInput, match="not empty"):
        restore(summary.folder, target, tmp_path / "archive3",
                key_file=tmp_path / "keys" / "trial.key")


@pytest.mark.postgres
def test_postgres_grants_keep_the_application_role_from_changing_the_trail(
        postgres_server: str, postgres_url: str, tmp_path: Path, monkeypatch):
    """The owner applies the grants script; the application then connects as its role: it
    works, and UPDATE/DELETE/TRUNCATE of the audit trail, the seal and signatures, and
    disabling their triggers, are refused by the server."""
    import secrets

    import psycopg

    monkeypatch.setenv("IOREVIEW_KEY_FILE", str(tmp_path / "trial.key"))
    w = _signed_world(tmp_path, postgres_url)
    script = w.trial.postgres_grants(w.login("coord"), "ioreview_app_" + secrets.token_hex(3))
    role = script.split("role ", 1)[1].split()[0]
    with pytest.raises(InvalidInput, match="letters, digits"):
        w.trial.postgres_grants(w.admin, "app; DROP TABLE audit")
    w.trial.close()
    with psycopg.connect(postgres_server, autocommit=True) as admin:
        admin.execute(f"CREATE ROLE {role} LOGIN")
    with psycopg.connect(postgres_url, autocommit=True) as owner:
        owner.execute(script)
    app_url = postgres_url.replace("postgres@", f"{role}@", 1)
    trial = Trial.open(app_url, archive_root=tmp_path / "archive")
    try:
        s2 = trial.login("reader2", PASSWORDS["reader2"])  # the application works
        view = trial.open_case(s2, trial.worklist(s2)[0].assignment_id)
        trial.save_draft(s2, view.read_id, complete_values(view.timepoint))
        trial.submit_read(s2, view.read_id, PASSWORDS["reader2"])
        assert trial.verify_audit_trail(trial.login("admin", PASSWORDS["admin"])).intact
        for statement in ("UPDATE audit SET actor = 'x'", "DELETE FROM audit",
                          "TRUNCATE audit", "DELETE FROM audit_seal",
                          "UPDATE signature_record SET meaning = 'x'",
                          "ALTER TABLE audit DISABLE TRIGGER ALL",
                          "DROP TRIGGER audit_append_only ON audit"):
            with pytest.raises(ProtectedRecord):
                with trial.store.unit_of_work("intruder") as uow:
                    uow.execute(statement)
    finally:
        trial.close()
    with psycopg.connect(postgres_url, autocommit=True) as owner:
        owner.execute(f"REASSIGN OWNED BY {role} TO postgres")
        owner.execute(f"DROP OWNED BY {role}")
    with psycopg.connect(postgres_server, autocommit=True) as admin:
        admin.execute(f"DROP ROLE {role}")
