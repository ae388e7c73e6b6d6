"""Password hashing and session tokens (no storage: the store keeps the hashes).

Passwords are hashed with scrypt (RFC 7914), a memory-hard KDF from the standard library, with a
per-user random salt; the encoded hash records its parameters so they can be raised later
without invalidating stored hashes.  Comparison is constant-time (`hmac.compare_digest`).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

__all__ = [
    "MIN_PASSWORD_LENGTH", "ScryptParams", "DEFAULT_PARAMS", "check_password_policy",
    "hash_password", "new_token", "token_digest", "verify_password",
]

MIN_PASSWORD_LENGTH = 8
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


def check_password_policy(password: str) -> str | None:
    """The reason `password` is unacceptable, or None when it may be used."""
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        return f"A password needs at least {MIN_PASSWORD_LENGTH} characters."
    if password.strip() != password or not password.strip():
        return "A password may not begin or end with spaces."
    return None


def new_token() -> str:
    """A random session token (256 bits, URL-safe text)."""
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """What the database stores for a session token (never the token itself)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
