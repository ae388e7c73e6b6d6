"""Backup and restore of a trial: the database, the case archive and a manifest that says what
they were (issue 12).

`Backups.backup(session, dest)` (coordinator/admin) writes a new folder:

    DEST/ioreview.sqlite    SQLite's online backup API, one consistent snapshot
      or ioreview.pgdump    pg_dump (custom format) from one exported snapshot
    DEST/archive/...        the case archive's files (hard links where DEST is on the same file
                            system: archive files never change; else copies)
    DEST/manifest.json      SHA-256 and size of every file, the audit trail's length and head in
                            the snapshot, the key's fingerprint, software version, time; keyed
                            (HMAC under the trial key) so an edited manifest is refused

The trial key is NOT in the backup: without it nobody can extend the audit trail or verify
it.  The manifest says where the key was kept (beside the SQLite file as `<db>.key`, or the
file named by IOREVIEW_KEY_FILE for PostgreSQL); keep a copy of the key file apart from the
backups (a safe, a second medium).

`restore(src, target_db, archive_dir)` refuses a target that holds anything, then verifies
before it accepts anything: the manifest's MAC, every file's hash (none missing, none added),
and, on a staged copy of the database opened with the key, the whole audit trail, every
signature and the cross-checks of `verify_audit_trail`, with the manifest as the trail's
anchor.  SQLite is verified as a staging file beside the target and moved into place only when
everything holds; PostgreSQL is loaded into the (empty) target and wiped again if it fails.
The restored trial's anchor journal starts at the backup's head, and the restore is audited.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ioreview
from ioreview.errors import BackupRejected, InvalidInput
from ioreview.store import open_store
from ioreview.store.audit import Anchor, append_anchor, canonical_json, utc_now
from ioreview.store.trial_key import (TrialKeyError, key_id, keyed_digest, load_key,
                                      sidecar_paths)

from .context import ADMINS, ServiceContext
from .monitoring import verify_trial
from .values import BackupSummary, RestoreSummary, Session

__all__ = ["BACKUP_FORMAT", "Backups", "restore"]

BACKUP_FORMAT = "ioreview-backup-1"
MANIFEST = "manifest.json"
ARCHIVE = "archive"
DB_FILES = {"sqlite": "ioreview.sqlite", "postgresql": "ioreview.pgdump"}
_MAC_PURPOSE = "backup-manifest"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _archive_files(root: Path) -> Iterator[Path]:
    """The archive's files, without what a writer leaves while it works (`recovery`)."""
    if not root.is_dir():
        return
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if (path.is_file() and not path.name.endswith(".part")
                and not any(part == ".writers" or part.startswith(".extract-")
                            for part in rel.parts)):
            yield path


def _place(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:  # another file system (or links not allowed): copy
        shutil.copy2(source, target)


def _folder_is_new(path: Path, what: str) -> None:
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise InvalidInput(f"{path}: the {what} must be a new or empty folder; nothing was "
                           "written.")


class Backups:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def backup(self, session: Session, dest: str | Path) -> BackupSummary:
        """Coordinator/admin: back the trial up into the new folder `dest` (database snapshot,
        case archive, keyed manifest); audited.  The trial key is not copied (see the
        module docstring).  InvalidInput when `dest` holds anything."""
        dest = Path(dest)
        store = self.ctx.store
        with self.ctx.use_case(session, ADMINS, "back up the trial", write=False) as (_u, actor):
            pass
        _folder_is_new(dest, "backup folder")
        archive_root = self.ctx.archive_root
        staging = dest.with_name(dest.name + ".part")
        if staging.exists():
            shutil.rmtree(staging)
        staging.mkdir(parents=True, mode=0o700)
        try:
            db_name = DB_FILES[store.dialect]
            length, head = store.backup_to(staging / db_name)
            n_archive = 0
            for path in _archive_files(archive_root):
                _place(path, staging / ARCHIVE / path.relative_to(archive_root))
                n_archive += 1
            files = [{"name": p.relative_to(staging).as_posix(), "sha256": _sha256(p),
                      "bytes": p.stat().st_size}
                     for p in sorted(staging.rglob("*")) if p.is_file()]
            key = store.trial_key
            key_path = store.key_path
            manifest: dict[str, Any] = {
                "format": BACKUP_FORMAT,
                "software": {"name": "ioreview", "version": ioreview.__version__},
                "created_at": utc_now(), "created_by": actor.username,
                "database": {"dialect": store.dialect, "file": db_name,
                             "source": store.location,
                             "schema_version": store.schema_version()},
                "archive": {"folder": ARCHIVE, "source": str(archive_root),
                            "files": n_archive},
                "audit": {"audit_length": length, "audit_head": head},
                "key": {"key_id": key_id(key), "kept_at": str(key_path) if key_path else "",
                        "note": "The trial key is not in this backup; restoring needs it."},
                "files": files,
            }
            manifest["mac"] = keyed_digest(key, _MAC_PURPOSE, canonical_json(manifest))
            manifest_path = staging / MANIFEST
            manifest_path.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n",
                                     encoding="utf-8")
            os.chmod(manifest_path, 0o600)
            with self.ctx.use_case(session, ADMINS, "back up the trial") as (uow, _actor):
                uow.audit("backup", "trial", str(dest),
                          after={"audit_length": length, "audit_head": head,
                                 "files": len(files) + 1, "archive_files": n_archive,
                                 "manifest_sha256": _sha256(manifest_path)})
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        if dest.exists():
            dest.rmdir()
        staging.rename(dest)
        return BackupSummary(dest, dest / MANIFEST, len(files) + 1, n_archive, length, head,
                             key_id(key), str(key_path or ""))

    def postgres_grants(self, session: Session, role: str) -> str:
        """Admin/coordinator: the GRANT/REVOKE script that lets the PostgreSQL role `role`
        (the workstations' login) use this trial without being able to change or delete audit
        records, the seal or signatures; run it once as the database owner.  InvalidInput on
        a SQLite trial or an unusable role name."""
        from ioreview.store.postgres import grants_script

        store = self.ctx.store
        with self.ctx.use_case(session, ADMINS, "see the database grants", write=False):
            pass
        from ioreview.store import PostgresStore

        if not isinstance(store, PostgresStore):
            raise InvalidInput("Grants are for a PostgreSQL trial; a SQLite trial is protected "
                               "by its file's permissions and the database's triggers.")
        try:
            return grants_script(role, store.database_name)
        except ValueError as exc:
            raise InvalidInput(f"{role!r}: {exc}.") from None


# -- restore ------------------------------------------------------------------------------------
def _load_manifest(src: Path) -> dict[str, Any]:
    path = src / MANIFEST
    try:
        manifest = json.loads(path.read_text("utf-8"))
    except FileNotFoundError:
        raise InvalidInput(f"{src}: not an ioreview backup (no {MANIFEST}).") from None
    except (OSError, ValueError) as exc:
        raise BackupRejected([f"{path}: the manifest cannot be read ({exc})"]) from None
    if not isinstance(manifest, dict) or manifest.get("format") != BACKUP_FORMAT:
        raise BackupRejected([f"{path}: not an {BACKUP_FORMAT} manifest"])
    return manifest


def _key_for(manifest: dict[str, Any], key_file: str | Path | None) -> bytes:
    wanted = str(manifest.get("key", {}).get("key_id", ""))
    path = Path(key_file) if key_file else Path(manifest.get("key", {}).get("kept_at") or "")
    key = load_key(path) if str(path) not in ("", ".") else None
    if key is None:
        raise TrialKeyError(f"Restoring needs the trial key {wanted}, kept outside the backup; "
                            f"{path or 'no key file'} does not hold it: name the key file "
                            "(a copy of the one kept with the original database).")
    if key_id(key) != wanted:
        raise TrialKeyError(f"{path} holds key {key_id(key)}, but this backup was made under "
                            f"key {wanted}: give the trial's own key file.")
    return key


def _check_files(src: Path, manifest: dict[str, Any], key: bytes) -> list[str]:
    """The manifest's MAC, then every file against its hash; no file missing or added."""
    problems = []
    unsigned = {k: v for k, v in manifest.items() if k != "mac"}
    if keyed_digest(key, _MAC_PURPOSE, canonical_json(unsigned)) != manifest.get("mac"):
        problems.append(f"{src / MANIFEST}: the manifest was changed after the backup was made "
                        "(its MAC under the trial key does not match)")
    listed = {}
    for f in manifest.get("files", []):
        listed[f["name"]] = f
    present = {p.relative_to(src).as_posix() for p in src.rglob("*") if p.is_file()} - {MANIFEST}
    for name in sorted(set(listed) - present):
        problems.append(f"{name}: listed in the manifest but missing from the backup")
    for name in sorted(present - set(listed)):
        problems.append(f"{name}: in the backup folder but not in the manifest (added)")
    for name in sorted(set(listed) & present):
        if _sha256(src / name) != listed[name]["sha256"]:
            problems.append(f"{name}: its SHA-256 does not match the manifest (the file was "
                            "changed)")
    return problems


def _empty_target(target: str, archive_dir: Path) -> None:
    from ioreview.store import is_postgres_url

    if not is_postgres_url(target):
        path = Path(target)
        if path.exists() and path.stat().st_size > 0:
            raise InvalidInput(f"{path}: the restore target already exists; restore into a new "
                               "file (nothing was changed).")
        for sidecar in sidecar_paths(str(path), str(path)):
            if sidecar.suffix == ".anchor" and sidecar.exists():
                raise InvalidInput(f"{sidecar}: an anchor journal of another trial is there; "
                                   "restore into a new place (nothing was changed).")
    _folder_is_new(archive_dir, "archive folder of the restored trial")


def _place_key(path: Path, key: bytes) -> bool:
    """Write the key (0600) where the restored trial looks for it; False when it was there."""
    existing = load_key(path)
    if existing is not None:
        if existing != key:
            raise TrialKeyError(f"{path} already holds another trial's key ({key_id(existing)}); "
                                "restore elsewhere or move that file away first.")
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write("ioreview-trial-key-v1\n" + key.hex() + "\n")
        f.flush()
        os.fsync(f.fileno())
    return True


def _verify_database(store: Any, anchor: Anchor) -> list[str]:
    with store.unit_of_work("restore", write=False) as uow:
        report = verify_trial(store, uow, [anchor])
    return list(report.problems)


def restore(src: str | Path, target_db: str | Path, archive_dir: str | Path | None = None, *,
            key_file: str | Path | None = None) -> RestoreSummary:
    """Restore the backup folder `src` into `target_db` (a new SQLite file, or an empty
    PostgreSQL database's URL) and `archive_dir` (a new folder; beside a SQLite target by
    default), after verifying everything (module docstring).  `key_file` is the trial key
    (default: where the manifest says it was kept).  BackupRejected names every problem found
    (nothing is restored); TrialKeyError when the key is missing or another trial's;
    InvalidInput when the target holds anything."""
    from ioreview.store import is_postgres_url
    from ioreview.store.postgres import PostgresStore
    from ioreview.store.sqlite import SQLiteStore

    src = Path(src)
    target = str(target_db)
    postgres = is_postgres_url(target)
    if archive_dir is None:
        if postgres:
            raise InvalidInput("Restoring into PostgreSQL needs the archive folder (--archive).")
        archive_dir = Path(target).resolve().parent / ARCHIVE
    archive = Path(archive_dir)
    manifest = _load_manifest(src)
    key = _key_for(manifest, key_file)
    problems = _check_files(src, manifest, key)
    if problems:
        raise BackupRejected(problems)
    audit = manifest["audit"]
    anchor = Anchor(int(audit["audit_length"]), str(audit["audit_head"]),
                    str(manifest.get("created_at", "")), f"the backup manifest {src / MANIFEST}")
    db_file = src / manifest["database"]["file"]
    if (manifest["database"]["dialect"] == "postgresql") != postgres:
        raise InvalidInput(f"{src} is a {manifest['database']['dialect']} backup: restore it "
                           f"into a {'PostgreSQL database' if not postgres else 'SQLite file'}.")
    _empty_target(target, archive)

    if postgres:
        store = PostgresStore(target, migrate=False)
        try:
            if not store.is_empty():
                raise InvalidInput(f"{store.location}: the database is not empty; restore into "
                                   "an empty database (nothing was changed).")
            key_path, anchor_path = store.key_path, store.anchor_path
            assert key_path is not None and anchor_path is not None
            created_key = _place_key(key_path, key)
            store.restore_from(db_file)
            _restart_journal(anchor_path, anchor)
            problems = _verify_database(store, anchor)
            if problems:
                store.wipe()
                anchor_path.unlink(missing_ok=True)
                if created_key:
                    key_path.unlink(missing_ok=True)
                raise BackupRejected(problems)
        finally:
            store.close()
    else:
        final = Path(target)
        staging = final.with_name(final.name + ".restoring")
        staging_key, staging_anchor = sidecar_paths(str(staging))
        final_key, final_anchor = sidecar_paths(str(final))
        for leftover in (staging, staging_key, staging_anchor):
            leftover.unlink(missing_ok=True)
        try:
            staging.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(db_file, staging)
            os.chmod(staging, 0o600)
            _place_key(staging_key, key)
            _restart_journal(staging_anchor, anchor)
            sqlite = SQLiteStore(staging, migrate=False)
            try:
                problems = _verify_database(sqlite, anchor)
            finally:
                sqlite.close()
            if problems:
                raise BackupRejected(problems)
            _place_key(final_key, key)
            os.replace(staging_anchor, final_anchor)
            os.replace(staging, final)
        finally:
            for leftover in (staging, staging_key, staging_anchor,
                             Path(f"{staging}-wal"), Path(f"{staging}-shm")):
                leftover.unlink(missing_ok=True)

    archive.mkdir(parents=True, exist_ok=True)
    n_archive = 0
    source_archive = src / manifest["archive"]["folder"]
    for path in _archive_files(source_archive):
        _place(path, archive / path.relative_to(source_archive))
        n_archive += 1
    store = open_store(target)
    try:
        old = str(manifest["archive"].get("source") or "")
        if old:
            store.relocate_paths(old, str(archive.resolve()))  # type: ignore[union-attr]
        with store.unit_of_work("system") as uow:
            uow.audit("restore", "trial", store.location,
                      after={"from": str(src), "backup_created_at": manifest.get("created_at"),
                             "audit_length": anchor.seq, "audit_head": anchor.head,
                             "archive": str(archive), "archive_files": n_archive})
        with store.unit_of_work("system", write=False) as uow:
            n_signatures = len(uow.signatures.all())
    finally:
        store.close()
    return RestoreSummary(target, archive, n_archive, anchor.seq, anchor.head, n_signatures)


def _restart_journal(path: Path, anchor: Anchor) -> None:
    """The restored trial's anchor journal starts at the backup's verified head."""
    path.unlink(missing_ok=True)
    append_anchor(path, anchor.seq, anchor.head, anchor.at)
