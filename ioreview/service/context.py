"""What every use case shares: the store, the clock, the protocol cache, and the guarded entry.

`ServiceContext.use_case(session, roles, action, write=...)` is the one way into the store for
a use case: it re-reads the session and the caller's role from the database (never trusting the
`Session` object), refuses a wrong role, and yields one unit of work whose audit records commit
with it.  Read-only use cases take no write lock; the session's activity time is written at most
once every `TOUCH_INTERVAL_S`, in its own short transaction when the use case only reads.
Password hashing (scrypt, ~40 ms) never runs inside a write transaction: use cases verify a
password between a read-only and a write unit of work (`record_password_attempt`).

Log-in attempts are throttled rather than used to lock accounts at will: after
`LOGIN_FREE_FAILURES` failures in a row, for an account (or an unknown name) and, separately,
from a workstation, each further attempt must wait 2^(n-3) seconds, up to 15 minutes; the
service refuses earlier attempts without checking the password.  Non-admin accounts also lock
after the trial's `lock_after_failures` (default 10) failed log-ins in a row, until the lock
time passes or an administrator unlocks them; administrators never lock (they only wait), so
nobody can lock everyone out.  In a session, `MAX_FAILED_ATTEMPTS` wrong passwords in a row
(signing, unlocking, changing the password) lock a non-admin account and end an
administrator's sessions.
"""
from __future__ import annotations

import dataclasses
import random
import secrets
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from ioreview.auth import token_digest
from ioreview.errors import (AccountLocked, InvalidInput, IoreviewError, NotFound,
                             PasswordChangeRequired, PermissionDenied, SessionExpired)
from ioreview.store import DatabaseBusy, TrialStore, UnitOfWork
from ioreview.store.records import UserRecord

from .values import AccountPolicy, Role, Session

if TYPE_CHECKING:
    from adjudication.protocol import Protocol

__all__ = ["ADMINS", "Actor", "DEFAULT_POLICY", "LOCKOUT_S", "LOGIN_FREE_FAILURES",
           "MAX_FAILED_ATTEMPTS", "MAX_LOGIN_DELAY_S", "READERS", "ServiceContext",
           "TOUCH_INTERVAL_S", "iso", "local_time", "login_delay_s"]

_T = TypeVar("_T")

#: wrong passwords in a row within a session (signing, unlocking) before the account locks
MAX_FAILED_ATTEMPTS = 5
LOCKOUT_S = 15 * 60
#: failed log-ins in a row (per account, per workstation) that cost no waiting
LOGIN_FREE_FAILURES = 3
MAX_LOGIN_DELAY_S = 15 * 60
DEFAULT_POLICY = AccountPolicy(password_expiry_days=0, lock_after_failures=10,
                               lock_minutes=LOCKOUT_S // 60, history=5)
#: the session's last-activity time is written at most this often (seconds)
TOUCH_INTERVAL_S = 5.0

ADMINS = frozenset({Role.COORDINATOR, Role.ADMIN})
READERS = frozenset({Role.READER})


def login_delay_s(failures: int) -> float:
    """How long the next log-in must wait after `failures` failures in a row: nothing for
    the first `LOGIN_FREE_FAILURES`, then 1, 2, 4 ... seconds, at most 15 minutes."""
    if failures < LOGIN_FREE_FAILURES:
        return 0.0
    return float(min(2 ** min(failures - LOGIN_FREE_FAILURES, 20), MAX_LOGIN_DELAY_S))


def iso(ts: float) -> str:
    """Epoch seconds as ISO 8601 UTC with microseconds (how the store keeps times)."""
    return datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec="microseconds")


def local_time(ts: float) -> str:
    return datetime.fromtimestamp(ts).astimezone().strftime("%Y-%m-%d %H:%M")


@dataclass(frozen=True)
class Actor:
    """The caller as the database knows it (never trust the role held by a Session object)."""

    session_id: int
    user_id: int | None
    username: str
    display_name: str
    role: Role

    @property
    def audit_name(self) -> str:
        return self.username


class ServiceContext:
    """The store, the clock and the caches every group of use cases works with."""

    def __init__(self, store: TrialStore, *, idle_timeout_s: float = 900,
                 clock: Callable[[], float] = time.time,
                 label_random: random.Random | None = None,
                 archive_root: str | Path | None = None) -> None:
        self.store = store
        self.idle_timeout_s = float(idle_timeout_s)
        self.clock = clock
        self.label_random = label_random or secrets.SystemRandom()
        self._archive_root = None if archive_root is None else Path(archive_root)
        self._protocols: dict[int, Protocol] = {}
        self._background: ThreadPoolExecutor | None = None

    def in_background(self, fn: Callable[..., _T], *args: Any) -> Future[_T]:
        """Run `fn(*args)` on a worker thread: a password check (scrypt releases the GIL)
        overlaps the checks a use case runs meanwhile."""
        if self._background is None:
            self._background = ThreadPoolExecutor(max_workers=2,
                                                  thread_name_prefix="ioreview-kdf")
        return self._background.submit(fn, *args)

    def close(self) -> None:
        """Stop the worker thread (if any) and close the store."""
        if self._background is not None:
            self._background.shutdown(wait=True)
            self._background = None
        self.store.close()

    @property
    def archive_root(self) -> Path:
        """The managed, content-addressed archive of case files (configured; beside a SQLite
        file by default; a PostgreSQL trial needs it set)."""
        root = self._archive_root or self.store.default_archive_root
        if root is None:
            raise InvalidInput(
                "No archive folder is configured for this database: give one with --archive "
                "DIR (or IOREVIEW_ARCHIVE); every workstation must see the same folder.")
        return root

    def now_iso(self) -> str:
        return iso(self.clock())

    # -- the guarded entry -------------------------------------------------------------------
    @contextmanager
    def use_case(self, session: Session, roles: frozenset[Role] | None, action: str, *,
                 write: bool = True, password_change: bool = False
                 ) -> Iterator[tuple[UnitOfWork, Actor]]:
        """One unit of work as the session's user, after the session and role checks.  A
        session whose password must be changed reaches only use cases that pass
        `password_change=True` (PasswordChangeRequired otherwise)."""
        stale: int | None = None
        with self.store.unit_of_work("system", write=write) as uow:
            actor, stale = self._authorize(uow, session, password_change)
            if stale is not None and write:
                uow.sessions.touch(stale, self.clock())
                stale = None
            uow.actor = actor.audit_name
            if roles is not None and actor.role not in roles:
                allowed = " or ".join(sorted(r.value for r in roles))
                raise PermissionDenied(
                    f"You cannot {action}: it needs the {allowed} role and you are signed in "
                    f"as {actor.role.value}.")
            yield uow, actor
        if stale is not None:
            try:
                with self.store.unit_of_work(actor.audit_name) as uow:
                    uow.sessions.touch(stale, self.clock())
            except DatabaseBusy:
                pass  # best effort: the next call writes the activity time

    def _authorize(self, uow: UnitOfWork, session: Session, password_change: bool = False
                   ) -> tuple[Actor, int | None]:
        """The actor behind `session`, and the session id when its activity time is due to
        be written."""
        if not isinstance(session, Session) or not session.token:
            raise SessionExpired("You are not signed in; log in first.")
        row = uow.sessions.by_token(token_digest(session.token))
        if row is None or row.ended_at is not None:
            raise SessionExpired("Your session has ended; log in again.")
        now = self.clock()
        if row.user_id is None:
            if session.user_id != 0:
                raise SessionExpired("This session is not valid; log in again.")
            actor = Actor(row.id, None, f"cli:{row.system_name}",
                          f"Workstation ({row.system_name})", Role.ADMIN)
        else:
            if row.user_id != session.user_id:
                raise SessionExpired("This session belongs to another user; log in again.")
            user = uow.users.get(row.user_id)
            if user is None or not user.active:
                raise SessionExpired("Your account has been deactivated; ask the coordinator.")
            if user.locked_until is not None and now < user.locked_until:
                raise AccountLocked(locked_message(user.username, user.locked_until),
                                    user.locked_until)
            if now - row.last_activity > self.idle_timeout_s:
                minutes = max(1, round(self.idle_timeout_s / 60))
                raise SessionExpired(
                    f"The screen locked after {minutes} minute(s) without activity; enter your "
                    "password to continue. Your saved work is kept.")
            if not password_change and (user.must_change_password
                                        or self.password_expired(uow, user)):
                raise PasswordChangeRequired(
                    "Your password must be changed before you continue (it was set by an "
                    "administrator or has expired): choose a new one.")
            actor = Actor(row.id, user.id, user.username, user.display_name, Role(user.role))
        due = now - row.last_activity >= TOUCH_INTERVAL_S or now < row.last_activity
        return actor, (row.id if due else None)

    # -- passwords ---------------------------------------------------------------------------
    def record_password_attempt(self, uow: UnitOfWork, user_id: int, ok: bool,
                                checked_hash: str, failure: Callable[[int], IoreviewError],
                                context: str) -> IoreviewError | None:
        """Record one password check of `user_id` (lock-out after MAX_FAILED_ATTEMPTS
        consecutive failures) in a write unit of work; return the exception to raise after
        the commit, or None.  `ok` is the result of checking against `checked_hash` outside
        the transaction; a password changed meanwhile makes the check count as failed."""
        user = uow.users.get(user_id)
        if user is None:
            raise SessionExpired("The account no longer exists; ask the coordinator.")
        if user.password_hash != checked_hash:
            ok = False
        now = self.clock()
        failed = user.failed_logins
        locked_until = user.locked_until
        if locked_until is not None and now < locked_until:
            uow.audit("attempt_while_locked", "user", user.id, after={"context": context})
            return AccountLocked(locked_message(user.username, locked_until), locked_until)
        if locked_until is not None:
            failed = 0
        if ok:
            if failed or locked_until is not None:
                uow.users.update(user.id, failed_logins=0, locked_until=None)
            return None
        failed += 1
        if failed >= MAX_FAILED_ATTEMPTS and Role(user.role) is Role.ADMIN:
            # administrators never lock (that would let anyone lock them out); their sessions
            # end instead, and the next log-in is throttled
            uow.users.update(user.id, failed_logins=failed, locked_until=None)
            ended = uow.sessions.end_all_of_user(user.id, now)
            uow.audit("password_failed", "user", user.id,
                      after={"failed_attempts": failed, "context": context,
                             "sessions_ended": ended})
            return SessionExpired(
                f"{failed} wrong passwords in a row: your sessions have been ended. Log in "
                "again.")
        if failed >= MAX_FAILED_ATTEMPTS:
            until = now + LOCKOUT_S
            uow.users.update(user.id, failed_logins=failed, locked_until=until)
            uow.audit("lock", "user", user.id,
                      after={"failed_attempts": failed, "locked_until": iso(until),
                             "context": context})
            return AccountLocked(locked_message(user.username, until), until)
        uow.users.update(user.id, failed_logins=failed, locked_until=None)
        uow.audit("password_failed", "user", user.id,
                  after={"failed_attempts": failed, "context": context})
        return failure(MAX_FAILED_ATTEMPTS - failed)

    # -- account policy and log-in throttling -------------------------------------------------
    def account_policy(self, uow: UnitOfWork) -> AccountPolicy:
        """The trial's account settings (defaults where never set)."""
        stored = uow.users.setting("account_policy") or {}
        fields = {k: int(v) for k, v in stored.items() if k in DEFAULT_POLICY.__dataclass_fields__}
        return dataclasses.replace(DEFAULT_POLICY, **fields)

    def password_expired(self, uow: UnitOfWork, user: UserRecord) -> bool:
        """True when the trial's password expiry is on and `user`'s password is older."""
        days = self.account_policy(uow).password_expiry_days
        if days <= 0:
            return False
        try:
            changed = datetime.fromisoformat(user.password_changed_at).timestamp()
        except (TypeError, ValueError):
            return True
        return self.clock() - changed > days * 86400

    def login_wait(self, uow: UnitOfWork, *subjects: str) -> float:
        """Seconds until a log-in may be tried for all of `subjects` (0: now)."""
        now = self.clock()
        wait = 0.0
        for subject in subjects:
            state = uow.users.throttle(subject)
            if state is not None:
                failures, last = state
                wait = max(wait, last + login_delay_s(failures) - now)
        return max(0.0, wait)

    def record_login_failure(self, uow: UnitOfWork, *subjects: str) -> list[int]:
        """Count a failed log-in against each subject; the new counts."""
        now = self.clock()
        return [uow.users.record_throttle_failure(s, now) for s in subjects]

    # -- protocols ---------------------------------------------------------------------------
    def protocol(self, uow: UnitOfWork, version_id: int) -> Protocol:
        """A parsed protocol version (cached: installed versions never change)."""
        cached = self._protocols.get(version_id)
        if cached is None:
            row = uow.protocols.get(version_id)
            if row is None or row.text is None:
                raise NotFound(f"Protocol version {version_id} is not installed.")
            from adjudication.protocol import parse_protocol

            cached = parse_protocol(row.text, f"{row.source} (version id {version_id})")
            self._protocols[version_id] = cached
        return cached

    def active_version(self, uow: UnitOfWork) -> tuple[int, Protocol] | None:
        row = uow.protocols.find(active=True)
        return None if row is None else (row.id, self.protocol(uow, row.id))

    def require_active(self, uow: UnitOfWork) -> tuple[int, Protocol]:
        active = self.active_version(uow)
        if active is None:
            from adjudication.protocol import default_protocol_path

            raise NotFound("No read protocol is installed; a coordinator installs one first "
                           "with `ioreview protocol install FILE` (the default protocol is "
                           f"{default_protocol_path()}).")
        return active


def locked_message(username: str, locked_until: float) -> str:
    return (f"Too many failed password attempts: the account {username} is locked "
            f"until {local_time(locked_until)}. Try again then, or ask an "
            "administrator to reset the password.")
