"""Where ioreview keeps its files by default (XDG base directories)."""
from __future__ import annotations

import os
from pathlib import Path


def user_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "ioreview"


def default_db_path() -> Path:
    return user_data_dir() / "ioreview.sqlite"
