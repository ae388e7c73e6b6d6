"""Build a complete demo trial: synthetic images, a fresh database, users, protocol, cases,
assignments and simulated reads — so every screen has data on first start.

Runs without a GUI (the CLI's `ioreview demo --no-gui` and the tests call it directly).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ioreview.errors import InvalidInput
from ioreview.imaging.synthetic import DemoConfig, DemoManifest, generate_demo_trial

DB_NAME = "ioreview.sqlite"


@dataclass(frozen=True)
class DemoUser:
    username: str
    password: str
    role: str


@dataclass(frozen=True)
class DemoResult:
    root: Path
    #: the SQLite file, or the PostgreSQL URL the demo was built in
    db: str | Path
    n_files: int
    manifest: DemoManifest
    users: tuple[DemoUser, ...]
    import_summary: Any
    #: the database as shown to people (a URL without its password)
    db_location: str = ""
    archive_root: Path | None = None

    @property
    def db_path(self) -> Path:
        return Path(self.db)


def _remove_database(db_path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        p = Path(str(db_path) + suffix)
        if p.exists():
            p.unlink()


def build_demo(out_dir: str | Path, config: DemoConfig = DemoConfig(), *,
               progress: Callable[[int, int], None] | None = None,
               log: Callable[[str], None] | None = None, db: str | None = None) -> DemoResult:
    """Generate the images under `out_dir`, import them into a fresh `out_dir/ioreview.sqlite`
    (or into `db`, an empty PostgreSQL database, with the archive in `out_dir/archive`) and
    populate users, the default protocol, cases, assignments and simulated reads."""
    from ioreview.demo_reads import populate_demo
    from ioreview.service import Trial

    say = log or (lambda _msg: None)
    root = Path(out_dir)
    root.mkdir(parents=True, exist_ok=True)
    archive = root / "archive"
    if db is None:
        db_path: str | Path = root / DB_NAME
        _remove_database(Path(db_path))
    else:
        db_path = db
    say(f"Generating {config.n_subjects} synthetic subjects in {root} ...")
    manifest = generate_demo_trial(root, config, progress=progress)
    trial = Trial.open(db_path, archive_root=archive)
    location = trial.store.location
    try:
        if trial.has_accounts():
            raise InvalidInput(f"{location} already holds a trial (it has user accounts); give "
                               "the demo an empty database.")
        session = trial.system_session("demo")
        held = trial.info(session)
        if held.instances or held.users or held.cases:
            raise InvalidInput(f"{location} already holds a trial ({held.instances} images, "
                               f"{held.users} users); give the demo an empty database.")
        say("Importing the demo studies ...")
        summary = trial.import_studies(session, [manifest.dicom_dir], progress=progress)
        say("Creating users, protocol, cases, assignments and simulated reads ...")
        demo_users = populate_demo(trial, session, manifest.ground_truth_path, seed=config.seed)
    finally:
        trial.close()
    users = tuple(DemoUser(u.username, u.password, str(getattr(u.role, "value", u.role)))
                  for u in _users_of(demo_users))
    return DemoResult(root, db_path, manifest.n_files, manifest, users, summary, location,
                      archive)


def _users_of(demo_users: Any) -> list[Any]:
    """populate_demo returns a collection of users (or an object holding one)."""
    if hasattr(demo_users, "users"):
        return list(demo_users.users)
    return list(demo_users)
