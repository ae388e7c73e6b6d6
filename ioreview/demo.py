"""Build a complete demo trial: synthetic images, a fresh database, users, protocol, cases,
assignments and simulated reads — so every screen has data on first start.

Runs without a GUI (the CLI's `ioreview demo --no-gui` and the tests call it directly).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
    db_path: Path
    n_files: int
    manifest: DemoManifest
    users: tuple[DemoUser, ...]
    import_summary: Any


def _remove_database(db_path: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        p = Path(str(db_path) + suffix)
        if p.exists():
            p.unlink()


def build_demo(out_dir: str | Path, config: DemoConfig = DemoConfig(), *,
               progress: Callable[[int, int], None] | None = None,
               log: Callable[[str], None] | None = None) -> DemoResult:
    """Generate the images under `out_dir`, import them into a fresh `out_dir/ioreview.sqlite`
    and populate users, the default protocol, cases, assignments and simulated reads."""
    from ioreview.demo_reads import populate_demo
    from ioreview.trial import Trial

    say = log or (lambda _msg: None)
    root = Path(out_dir)
    root.mkdir(parents=True, exist_ok=True)
    db_path = root / DB_NAME
    _remove_database(db_path)
    say(f"Generating {config.n_subjects} synthetic subjects in {root} ...")
    manifest = generate_demo_trial(root, config, progress=progress)
    trial = Trial.open(db_path)
    try:
        session = trial.system_session("demo")
        say("Importing the demo studies ...")
        summary = trial.import_studies(session, [manifest.dicom_dir], progress=progress)
        say("Creating users, protocol, cases, assignments and simulated reads ...")
        demo_users = populate_demo(trial, session, manifest.ground_truth_path, seed=config.seed)
    finally:
        trial.close()
    users = tuple(DemoUser(u.username, u.password, str(getattr(u.role, "value", u.role)))
                  for u in _users_of(demo_users))
    return DemoResult(root, db_path, manifest.n_files, manifest, users, summary)


def _users_of(demo_users: Any) -> list[Any]:
    """populate_demo returns a collection of users (or an object holding one)."""
    if hasattr(demo_users, "users"):
        return list(demo_users.users)
    return list(demo_users)
