"""Password hashing and session tokens (no storage: the store keeps the hashes).

Passwords are hashed with scrypt (RFC 7914), a memory-hard KDF from the standard library, with a
per-user random salt; the encoded hash records its parameters so they can be raised later
without invalidating stored hashes.  Comparison is constant-time (`hmac.compare_digest`).

The password policy follows NIST SP 800-63B 5.1.1.2: a minimum length, and refusal of passwords
found in lists of commonly used or compromised values and of context-specific words (the user
name, the display name), rather than composition rules.  The list of common passwords ships
with the package (`ioreview/data/common_passwords.txt`).
"""
from __future__ import annotations

import base64
import functools
import getpass
import hashlib
import hmac
import re
import secrets
import socket
from dataclasses import dataclass
from importlib import resources

__all__ = [
    "MIN_PASSWORD_LENGTH", "ScryptParams", "DEFAULT_PARAMS", "check_password_policy",
    "common_passwords", "hash_password", "new_token", "token_digest", "verify_password",
    "workstation_source",
]

MIN_PASSWORD_LENGTH = 10
_SCHEME = "scrypt"


@dataclass(frozen=True)
class ScryptParams:
    """scrypt cost parameters: n (CPU/memory cost, a power of two), r (block size), p
    (parallelism).  Memory use is about 128 * n * r bytes (16 MiB for the defaults)."""

    n: int = 2 ** 14
    r: int = 8
    p: int = 1
    dklen: int = 32
    salt_bytes: int = 16

    @property
    def maxmem(self) -> int:
        return 2 * 128 * self.n * self.r * self.p + 1024 * 1024


DEFAULT_PARAMS = ScryptParams()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _derive(password: str, salt: bytes, n: int, r: int, p: int, dklen: int) -> bytes:
    params = ScryptParams(n=n, r=r, p=p, dklen=dklen)
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p,
                          maxmem=params.maxmem, dklen=dklen)


def hash_password(password: str, params: ScryptParams | None = None) -> str:
    """Encode `password` as "scrypt$n$r$p$salt$hash" (salt and hash base64), with
    `DEFAULT_PARAMS` unless other parameters are given."""
    params = params or DEFAULT_PARAMS
    salt = secrets.token_bytes(params.salt_bytes)
    digest = _derive(password, salt, params.n, params.r, params.p, params.dklen)
    return f"{_SCHEME}${params.n}${params.r}${params.p}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, encoded: str | None) -> bool:
    """True when `password` matches `encoded`.  With no stored hash (unknown user) a dummy
    derivation still runs so the time taken does not reveal whether the user exists."""
    if not encoded:
        params = DEFAULT_PARAMS
        _derive(password, b"\0" * params.salt_bytes, params.n, params.r, params.p, params.dklen)
        return False
    try:
        scheme, n, r, p, salt_b64, hash_b64 = encoded.split("$")
        if scheme != _SCHEME:
            return False
        salt = base64.b64decode(salt_b64)
        expected = base64.b64decode(hash_b64)
        actual = _derive(password, salt, int(n), int(r), int(p), len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


@functools.cache
def common_passwords() -> frozenset[str]:
    """The shipped list of the most common passwords, lower-cased."""
    text = resources.files("ioreview").joinpath("data/common_passwords.txt").read_text(
        encoding="utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines()
                     if line.strip() and not line.startswith("#"))


_AFFIXES = re.compile(r"^[\d\W_]+|[\d\W_]+$")  # digits, years, punctuation around a word
_REPEATED = re.compile(r"^(.+?)\1+$")


def _cores(password: str) -> set[str]:
    """What a guesser would start from: the password lower-cased, without the digits, years
    and punctuation around it, and the unit of a repetition ("monkeymonkey" -> "monkey")."""
    lower = password.lower()
    cores = {lower, _AFFIXES.sub("", lower)}
    for core in list(cores):
        repeated = _REPEATED.match(core)
        if repeated:
            cores.add(repeated.group(1))
            cores.add(_AFFIXES.sub("", repeated.group(1)))
    return {c for c in cores if c}


def _account_words(username: str, display_name: str) -> set[str]:
    name = (username or "").strip().lower()
    bare = _AFFIXES.sub("", name)
    words = {name, name[::-1], bare, bare[::-1]}
    display = (display_name or "").strip().lower()
    parts = [p for p in re.split(r"[\W_]+", display) if p]
    words.update(p for p in parts if len(p) >= 3)
    words.add("".join(parts))
    words.add("".join(reversed(parts)))
    return {w for w in words if len(w) >= 2}


def check_password_policy(password: str, *, username: str = "",
                          display_name: str = "") -> str | None:
    """The reason `password` is unacceptable (which rule, and what to do instead), or None
    when it may be used.  Rules: at least `MIN_PASSWORD_LENGTH` characters, no spaces at
    either end, not one of the common passwords shipped with ioreview (also with digits,
    years or punctuation added, or repeated), not the user name (or its reverse, with digits
    added) and not the display name or a part of it."""
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        return (f"A password needs at least {MIN_PASSWORD_LENGTH} characters; a few unrelated "
                "words make a long one that is easy to remember.")
    if password.strip() != password or not password.strip():
        return "A password may not begin or end with spaces."
    if len(set(password.lower())) < 4:
        return ("This password repeats too few characters (e.g. 'aaaaaaaaaa'); choose a few "
                "unrelated words instead.")
    cores = _cores(password)
    if any(len(c) >= 3 for c in cores) and cores & _account_words(username, display_name):
        return ("This password is made from the user name or the display name; choose one "
                "that has nothing to do with the account.")
    if cores & common_passwords():
        return ("This password is one of the most common passwords (or one of them with digits "
                "or symbols added), which attackers try first; choose another, e.g. a few "
                "unrelated words.")
    return None


def workstation_source() -> str:
    """Who is typing, as far as this computer tells: "host name/OS user".  Log-in attempts
    are throttled per account and per source (`Accounts.login`)."""
    try:
        user = getpass.getuser()
    except (OSError, KeyError):
        user = "?"
    return f"{socket.gethostname() or '?'}/{user}"


def new_token() -> str:
    """A random session token (256 bits, URL-safe text)."""
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """What the database stores for a session token (never the token itself)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
