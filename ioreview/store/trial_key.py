"""The per-trial secret key, kept outside the database, and where a trial's sidecar files live.

The key makes the audit chain keyed (HMAC-SHA256, so someone who can write the database file
and read this source, but does not hold the key, cannot recompute a valid chain) and keys the
digests of things that must not be stored as typed (an unknown user name at a failed log-in).

A SQLite trial keeps its key beside the database file (`trial.sqlite.key`) and its anchor
journal beside it too (`trial.sqlite.anchor`); a PostgreSQL trial, shared by several
workstations, names a key file with `IOREVIEW_KEY_FILE` (every workstation gives the same file)
or keeps one in the user data directory under a name derived from the server and database.
Key files are created readable by their owner only (0600), atomically, never overwritten.
"""
from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from ioreview.errors import IoreviewError

__all__ = ["KEY_BYTES", "TrialKeyError", "key_id", "keyed_digest", "load_key",
           "load_or_create_key", "sidecar_paths"]

KEY_BYTES = 32
_HEADER = "ioreview-trial-key-v1\n"


class TrialKeyError(IoreviewError):
    """The trial key is missing, unreadable or not the one this database was sealed with."""


def sidecar_paths(db_target: str, location: str | None = None) -> tuple[Path, Path]:
    """(key file, anchor journal) for the trial at `db_target` (a SQLite path or a URL)."""
    from ioreview.paths import user_data_dir

    if db_target.startswith(("postgresql://", "postgres://")):
        named = os.environ.get("IOREVIEW_KEY_FILE")
        if named:
            key = Path(named)
        else:
            tag = hashlib.sha256((location or db_target).encode("utf-8")).hexdigest()[:16]
            key = user_data_dir() / "keys" / f"postgres-{tag}.key"
        return key, key.with_suffix(".anchor")
    path = Path(db_target).resolve()
    return Path(f"{path}.key"), Path(f"{path}.anchor")


def _parse(text: str, path: Path) -> bytes:
    if not text.startswith(_HEADER):
        raise TrialKeyError(f"{path}: not an ioreview trial key file")
    try:
        key = bytes.fromhex(text[len(_HEADER):].strip())
    except ValueError:
        raise TrialKeyError(f"{path}: the trial key file is damaged") from None
    if len(key) != KEY_BYTES:
        raise TrialKeyError(f"{path}: the trial key file is damaged (wrong length)")
    return key


def load_key(path: Path) -> bytes | None:
    """The key in `path`, or None when there is no such file."""
    try:
        text = path.read_text("ascii")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise TrialKeyError(f"{path}: cannot read the trial key ({exc})") from exc
    return _parse(text, path)


def load_or_create_key(path: Path) -> bytes:
    """The key in `path`, creating the file (mode 0600, exclusively) when it does not exist."""
    key = load_key(path)
    if key is not None:
        return key
    path.parent.mkdir(parents=True, exist_ok=True)
    new = secrets.token_bytes(KEY_BYTES)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created it meanwhile: use theirs
        key = load_key(path)
        assert key is not None
        return key
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(_HEADER + new.hex() + "\n")
        f.flush()
        os.fsync(f.fileno())
    return new


def keyed_digest(key: bytes, purpose: str, text: str) -> str:
    """HMAC-SHA256 of `text` under a sub-key for `purpose` (hex): one key, separate uses."""
    sub = hmac.new(key, b"ioreview/" + purpose.encode("utf-8"), hashlib.sha256).digest()
    return hmac.new(sub, text.encode("utf-8"), hashlib.sha256).hexdigest()


def key_id(key: bytes) -> str:
    """A public fingerprint of the key (stored in the database to recognise the right key)."""
    return keyed_digest(key, "key-id", "")[:32]
