"""Accounts and sessions: log in and out, the idle lock, users and passwords, the first account.

Passwords are verified and hashed outside any write transaction (scrypt takes ~40 ms and would
hold every other workstation's writes); the attempt is then recorded in one short unit of work.
Failed log-ins are throttled per account and per workstation (`context.py`); a name that is no
account is throttled, timed and audited like one, under a keyed digest of the name (never the
typed text: it may be a password typed into the wrong field).
"""
from __future__ import annotations

import re

from ioreview.auth import check_password_policy, hash_password, new_token, token_digest, \
    verify_password
from ioreview.errors import (AccountLocked, AuthenticationFailed, InvalidInput, IoreviewError,
                             LoginThrottled, NotFound, PermissionDenied, SessionExpired)
from ioreview.store import StoreConflict, UnitOfWork
from ioreview.store.records import UserRecord

from .context import ADMINS, Actor, ServiceContext, iso, locked_message
from .values import AccountPolicy, Role, Session, UserInfo

__all__ = ["Accounts"]

_GENERIC_LOGIN_FAILURE = "Unknown user name or wrong password. Check both and try again."
_USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,31}$")
_ADMIN_ONLY = frozenset({Role.ADMIN})


def _user_info(row: UserRecord) -> UserInfo:
    return UserInfo(row.id, row.username, row.display_name, Role(row.role), row.active,
                    row.locked_until, row.failed_logins, row.must_change_password)


def parse_role(role: Role | str) -> Role:
    try:
        return Role(role)
    except ValueError:
        names = ", ".join(r.value for r in Role)
        raise InvalidInput(f"Unknown role {role!r}; choose one of {names}.") from None


def _guard_admin_accounts(actor: Actor, target_role: Role) -> None:
    if target_role is Role.ADMIN and actor.role is not Role.ADMIN:
        raise PermissionDenied(
            "Only an administrator can create or change administrator accounts.")


def _check_password(password: str, username: str = "", display_name: str = "") -> None:
    problem = check_password_policy(password, username=username, display_name=display_name)
    if problem:
        raise InvalidInput(problem)


def _seconds_text(seconds: float) -> str:
    seconds = max(1, int(-(-seconds // 1)))
    if seconds < 120:
        return f"{seconds} second(s)"
    return f"{-(-seconds // 60)} minute(s)"


def _throttled(wait: float) -> LoginThrottled:
    return LoginThrottled(
        "Too many failed log-ins for this user name or from this workstation: wait "
        f"{_seconds_text(wait)}, then try again.", wait)


def _new_username(username: str) -> str:
    name = (username or "").strip().lower()
    if not _USERNAME_RE.match(name):
        raise InvalidInput(
            f"User name {username!r}: use 2-32 lower-case letters, digits, '.', '_' or "
            "'-', starting with a letter or digit.")
    return name


class Accounts:
    """Sessions, users, passwords and the account policy."""

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    # -- sessions ----------------------------------------------------------------------------
    def _start_session(self, uow: UnitOfWork, user: UserRecord, source: str) -> Session:
        now = self.ctx.clock()
        token = new_token()
        session_id = uow.sessions.add(token_digest(token), user.id, None, now)
        must_change = user.must_change_password or self.ctx.password_expired(uow, user)
        uow.audit("login", "user", user.id,
                  after={"session": session_id, "source": source,
                         **({"must_change_password": True} if must_change else {})})
        return Session(user.id, user.username, user.display_name, Role(user.role), token, now,
                       must_change)

    def _subjects(self, uow: UnitOfWork, name: str, source: str
                  ) -> tuple[UserRecord | None, str, str]:
        """The account (None: no active account of that name), its throttling subject and
        the workstation's."""
        user = uow.users.find(name)
        if user is not None and not user.active:
            user = None
        subject = (f"user:{user.id}" if user is not None
                   else "name:" + uow.backend.keyed_digest("username", name))
        return user, subject, "source:" + uow.backend.keyed_digest("login-source", source)

    def _locked(self, uow: UnitOfWork, user: UserRecord | None, name: str, subject: str,
                policy: AccountPolicy) -> AccountLocked | None:
        """The lock that refuses this log-in, if any.  A name that is no account locks as a
        non-admin account would, so a lock tells nothing about which names exist."""
        now = self.ctx.clock()
        if user is not None:
            if Role(user.role) is Role.ADMIN or user.locked_until is None:
                return None
            until = user.locked_until
        else:
            state = uow.users.throttle(subject)
            if state is None or state[0] < policy.lock_after_failures:
                return None
            until = state[1] + policy.lock_minutes * 60
        if now >= until:
            return None
        return AccountLocked(locked_message(user.username if user else name, until), until)

    def login(self, username: str, password: str, source: str = "") -> Session:
        """Start a session.  `source` names the workstation ("host/OS user",
        `ioreview.auth.workstation_source()`).

        Refused with AuthenticationFailed (one generic message whether the name or the
        password is wrong); LoginThrottled (saying how long to wait) while the account or the
        workstation must wait after repeated failures; AccountLocked for a non-admin account
        locked after the trial's `lock_after_failures`.  The session of an account whose
        password an administrator set, or which has expired, has `must_change_password` and
        reaches only `change_password`."""
        name = (username or "").strip().lower()
        source = (source or "").strip()[:200] or "unknown"
        with self.ctx.store.unit_of_work("system", write=False) as uow:
            found, subject, source_key = self._subjects(uow, name, source)
            wait = self.ctx.login_wait(uow, subject, source_key)
        if wait > 0:
            raise _throttled(wait)
        # scrypt runs for unknown names too, so the time taken does not tell them apart
        ok = verify_password(password or "", found.password_hash if found else None)
        error: IoreviewError | None = None
        session: Session | None = None
        with self.ctx.store.unit_of_work("anonymous") as uow:
            user, subject, source_key = self._subjects(uow, name, source)
            if found is None or user is None or user.id != found.id:
                ok = False
            elif user.password_hash != found.password_hash:
                ok = False
            if user is not None:
                uow.actor = user.username
            entity_id = str(user.id) if user is not None else subject.split(":", 1)[1]
            policy = self.ctx.account_policy(uow)
            locked = self._locked(uow, user, name, subject, policy)
            if locked is not None:
                self.ctx.record_login_failure(uow, subject, source_key)
                uow.audit("attempt_while_locked", "user", entity_id,
                          after={"context": "login", "source": source})
                error = locked
            elif ok:
                assert user is not None
                uow.users.clear_throttle(subject, source_key)
                if user.failed_logins or user.locked_until is not None:
                    uow.users.update(user.id, failed_logins=0, locked_until=None)
                session = self._start_session(uow, user, source)
            else:
                failures = self.ctx.record_login_failure(uow, subject, source_key)[0]
                if user is not None:
                    failures = user.failed_logins + 1
                    if user.locked_until is not None:  # an expired lock starts afresh
                        failures = 1
                    uow.users.update(user.id, failed_logins=failures, locked_until=None)
                uow.audit("login_failed", "user", entity_id,
                          after={"failed_attempts": failures, "context": "login",
                                 "source": source})
                lock_now = failures >= policy.lock_after_failures and (
                    user is None or Role(user.role) is not Role.ADMIN)
                if lock_now:
                    until = self.ctx.clock() + policy.lock_minutes * 60
                    if user is not None:
                        uow.users.update(user.id, locked_until=until)
                    uow.audit("lock", "user", entity_id,
                              after={"failed_attempts": failures, "locked_until": iso(until),
                                     "context": "login"})
                    error = AccountLocked(locked_message(user.username if user else name,
                                                         until), until)
                else:
                    wait = self.ctx.login_wait(uow, subject, source_key)
                    error = AuthenticationFailed(
                        _GENERIC_LOGIN_FAILURE if wait <= 0 else
                        f"{_GENERIC_LOGIN_FAILURE} Wait {_seconds_text(wait)} before the "
                        "next attempt.")
        if error is not None:
            raise error
        assert session is not None
        return session

    def create_first_admin(self, username: str, display_name: str, password: str) -> UserInfo:
        """The trial's first account, an administrator (the first-run dialog and `ioreview
        admin init`).  Refused once any account exists; two workstations racing for it
        cannot both succeed (the claim is a unique row written in the same transaction)."""
        name = _new_username(username)
        display = (display_name or "").strip()
        if not display:
            raise InvalidInput("Give the administrator a display name (shown on signatures).")
        _check_password(password, name, display)
        with self.ctx.store.unit_of_work("system", write=False) as uow:
            if uow.users.count() > 0:
                raise PermissionDenied(
                    "This trial already has accounts: the first administrator is created only "
                    "once. Log in, or ask an administrator for an account.")
        password_hash = hash_password(password)
        try:
            with self.ctx.store.unit_of_work(name) as uow:
                if uow.users.count() > 0 or uow.users.setting("first_admin") is not None:
                    raise PermissionDenied(
                        "This trial already has accounts: the first administrator is created "
                        "only once. Log in, or ask an administrator for an account.")
                at = self.ctx.now_iso()
                uow.users.claim_first_admin(name, at)
                user_id = uow.users.add(name, display, Role.ADMIN.value, password_hash, at)
                uow.audit("create", "user", user_id,
                          after={"username": name, "display_name": display,
                                 "role": Role.ADMIN.value, "first_admin": True})
                created = uow.users.get(user_id)
                assert created is not None
                return _user_info(created)
        except StoreConflict:
            raise PermissionDenied(
                "Another workstation created the first administrator at the same moment; "
                "log in with that account.") from None

    def system_session(self, name: str = "cli") -> Session:
        """An admin-role session for the workstation that created a trial, audited as
        "cli:<name>": only while the trial has no user account (until then it belongs to
        whoever created the file; `ioreview admin init` or the first-run dialog creates the
        first administrator).  From then on everyone logs in; a workstation session started
        before keeps its process's work going (the token exists nowhere else)."""
        name = (name or "").strip()
        if not name:
            raise InvalidInput("A workstation session needs a name (e.g. the operator's login).")
        now = self.ctx.clock()
        token = new_token()
        with self.ctx.store.unit_of_work(f"cli:{name}") as uow:
            if uow.users.count() > 0:
                raise PermissionDenied(
                    "This trial has user accounts: log in as one (on the command line: "
                    "ioreview --user NAME ...).")
            session_id = uow.sessions.add(token_digest(token), None, name, now)
            uow.audit("login", "session", session_id, after={"system": name})
        return Session(0, f"cli:{name}", f"Workstation ({name})", Role.ADMIN, token, now)

    def check_session(self, session: Session) -> None:
        """SessionExpired when idle longer than the idle timeout or logged out; otherwise
        refresh the session's activity time (a session that must change its password passes:
        the UI asks for the change)."""
        with self.ctx.use_case(session, None, "continue", write=False, password_change=True):
            pass

    def unlock(self, session: Session, password: str) -> Session:
        """Idle lock screen: the same user re-enters the password to resume the session."""
        digest = token_digest(getattr(session, "token", "") or "")
        with self.ctx.store.unit_of_work("system", write=False) as uow:
            row = uow.sessions.by_token(digest)
            user = uow.users.get(row.user_id) if row is not None else None
        if row is None or row.ended_at is not None:
            raise SessionExpired("Your session has ended; log in again.")
        if row.user_id is not None:
            if row.user_id != session.user_id:
                raise SessionExpired("This session belongs to another user; log in again.")
            if user is None or not user.active:
                raise SessionExpired("Your account has been deactivated; ask the coordinator.")
        ok = user is not None and verify_password(password or "", user.password_hash)
        error: IoreviewError | None = None
        with self.ctx.store.unit_of_work(user.username if user else "system") as uow:
            if user is None:
                uow.sessions.touch(row.id, self.ctx.clock())
                return session
            error = self.ctx.record_password_attempt(
                uow, user.id, ok, user.password_hash,
                lambda left: AuthenticationFailed(
                    f"Wrong password; the screen stays locked ({left} attempt(s) left before "
                    "the account locks)."),
                "unlock")
            if error is None:
                uow.sessions.touch(row.id, self.ctx.clock())
                uow.audit("unlock", "session", row.id)
        if error is not None:
            raise error
        return session

    def logout(self, session: Session) -> None:
        """End the session (allowed while the screen is idle-locked; ending twice is harmless)."""
        with self.ctx.store.unit_of_work("system") as uow:
            row = uow.sessions.by_token(token_digest(getattr(session, "token", "") or ""))
            if row is None or row.ended_at is not None:
                return
            uow.actor = (f"cli:{row.system_name}" if row.user_id is None
                         else session.username)
            uow.sessions.end(row.id, self.ctx.clock())
            uow.audit("logout", "session", row.id)

    # -- users -------------------------------------------------------------------------------
    def _target_user(self, uow: UnitOfWork, actor: Actor, user_id: int) -> UserRecord:
        row = uow.users.get(user_id)
        if row is None:
            raise NotFound(f"There is no user with id {user_id}.")
        _guard_admin_accounts(actor, Role(row.role))
        return row

    def create_user(self, session: Session, username: str, display_name: str,
                    role: Role | str, password: str, *,
                    must_change_password: bool = False) -> UserInfo:
        """Admin/coordinator: add a user (only an admin may create an admin).  The password
        must pass the policy (`ioreview.auth.check_password_policy`; InvalidInput saying which
        rule otherwise).  With `must_change_password` (what the Users screen does: the
        administrator knows the password) the user must choose a new one at the first
        log-in."""
        with self.ctx.use_case(session, ADMINS, "create users", write=False) as (_uow, actor):
            role = parse_role(role)
            _guard_admin_accounts(actor, role)
        name = _new_username(username)
        display = (display_name or "").strip()
        if not display:
            raise InvalidInput("Give the user a display name (shown on signatures).")
        _check_password(password, name, display)
        password_hash = hash_password(password)
        with self.ctx.use_case(session, ADMINS, "create users") as (uow, actor):
            _guard_admin_accounts(actor, role)
            if uow.users.find(name) is not None:
                raise InvalidInput(f"The user name {name!r} is taken; choose another.")
            now = self.ctx.now_iso()
            user_id = uow.users.add(name, display, role.value, password_hash, now)
            if must_change_password:
                uow.users.set_must_change_password(user_id, True, now)
            uow.audit("create", "user", user_id,
                      after={"username": name, "display_name": display, "role": role.value,
                             "must_change_password": bool(must_change_password)})
            created = uow.users.get(user_id)
            assert created is not None
            return _user_info(created)

    def list_users(self, session: Session) -> list[UserInfo]:
        """Admin/coordinator: all users."""
        with self.ctx.use_case(session, ADMINS, "list users", write=False) as (uow, _actor):
            return [_user_info(r) for r in uow.users.list()]

    def set_user_active(self, session: Session, user_id: int, active: bool) -> UserInfo:
        """Admin/coordinator: enable or disable an account (not one's own)."""
        with self.ctx.use_case(session, ADMINS, "enable or disable users") as (uow, actor):
            row = self._target_user(uow, actor, user_id)
            if row.id == actor.user_id and not active:
                raise InvalidInput("You cannot deactivate your own account.")
            uow.users.update(user_id, active=bool(active))
            uow.audit("set_active", "user", user_id, before={"active": row.active},
                      after={"active": bool(active)})
            return _user_info(self._target_user(uow, actor, user_id))

    def unlock_account(self, session: Session, user_id: int) -> UserInfo:
        """Admin/coordinator: lift a lock-out and the log-in delays of an account (a
        coordinator cannot touch an administrator's account; those never lock anyway)."""
        with self.ctx.use_case(session, ADMINS, "unlock accounts") as (uow, actor):
            row = self._target_user(uow, actor, user_id)
            uow.users.update(user_id, failed_logins=0, locked_until=None)
            uow.users.clear_throttle(f"user:{user_id}")
            uow.audit("unlock_account", "user", user_id,
                      before={"failed_logins": row.failed_logins,
                              "locked_until": None if row.locked_until is None
                              else iso(row.locked_until)},
                      after={"failed_logins": 0, "locked_until": None})
            return _user_info(self._target_user(uow, actor, user_id))

    def reset_password(self, session: Session, user_id: int, new_password: str) -> UserInfo:
        """Admin/coordinator: set a new password, which the user must change at the next
        log-in (also clears a lock-out and the log-in delays)."""
        with self.ctx.use_case(session, ADMINS, "reset passwords", write=False) as (uow, actor):
            target = self._target_user(uow, actor, user_id)
        _check_password(new_password, target.username, target.display_name)
        password_hash = hash_password(new_password)
        with self.ctx.use_case(session, ADMINS, "reset passwords") as (uow, actor):
            row = self._target_user(uow, actor, user_id)
            now = self.ctx.now_iso()
            uow.users.retire_password(user_id, row.password_hash, now)
            uow.users.update(user_id, password_hash=password_hash, password_changed_at=now,
                             failed_logins=0, locked_until=None)
            uow.users.set_must_change_password(user_id, True, now)
            uow.users.clear_throttle(f"user:{user_id}")
            uow.audit("reset_password", "user", user_id, after={"must_change_password": True})
            return _user_info(self._target_user(uow, actor, user_id))

    def change_password(self, session: Session, old_password: str,
                        new_password: str) -> Session:
        """Any user: change the own password (the current one is required).  The new one must
        pass the policy and differ from the last `AccountPolicy.history` passwords.  Allowed
        (and the only thing allowed) while a change is required; returns the session with
        `must_change_password` cleared."""
        with self.ctx.use_case(session, None, "change a password", write=False,
                               password_change=True) as (uow, actor):
            if actor.user_id is None:
                raise PermissionDenied("A workstation session has no password to change.")
            before = uow.users.get(actor.user_id)
            history = self.ctx.account_policy(uow).history
            earlier = uow.users.recent_passwords(actor.user_id, max(0, history - 1))
        assert before is not None
        _check_password(new_password, before.username, before.display_name)
        if new_password == old_password:
            raise InvalidInput("The new password must differ from the current one.")
        ok = verify_password(old_password or "", before.password_hash)
        if ok and any(verify_password(new_password, h) for h in earlier):
            raise InvalidInput(
                f"This password was used recently; the last {history} passwords cannot be "
                "used again. Choose a new one.")
        new_hash = hash_password(new_password) if ok else None
        error: IoreviewError | None = None
        with self.ctx.use_case(session, None, "change a password",
                               password_change=True) as (uow, actor):
            error = self.ctx.record_password_attempt(
                uow, before.id, ok, before.password_hash,
                lambda left: AuthenticationFailed(
                    f"The current password is wrong; nothing was changed ({left} attempt(s) "
                    "left before the account locks)."),
                "change_password")
            if error is None:
                assert new_hash is not None
                now = self.ctx.now_iso()
                uow.users.retire_password(before.id, before.password_hash, now)
                uow.users.update(before.id, password_hash=new_hash, password_changed_at=now)
                uow.users.set_must_change_password(before.id, False, now)
                uow.audit("change_password", "user", before.id)
        if error is not None:
            raise error
        return Session(session.user_id, session.username, session.display_name, session.role,
                       session.token, session.started_at, False)

    # -- the account policy ------------------------------------------------------------------
    def account_policy(self, session: Session) -> AccountPolicy:
        """Admin/coordinator: password expiry, lock-out threshold and time, history."""
        with self.ctx.use_case(session, ADMINS, "see the account policy",
                               write=False) as (uow, _actor):
            return self.ctx.account_policy(uow)

    def set_account_policy(self, session: Session, *, password_expiry_days: int | None = None,
                           lock_after_failures: int | None = None,
                           lock_minutes: int | None = None) -> AccountPolicy:
        """Admin: change the account policy (expiry 0 turns expiry off; a lock needs at
        least 3 failures and lasts 1 minute to a day)."""
        changes = {k: v for k, v in (("password_expiry_days", password_expiry_days),
                                     ("lock_after_failures", lock_after_failures),
                                     ("lock_minutes", lock_minutes)) if v is not None}
        limits = {"password_expiry_days": (0, 3650), "lock_after_failures": (3, 1000),
                  "lock_minutes": (1, 24 * 60)}
        for key, value in changes.items():
            low, high = limits[key]
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                raise InvalidInput(f"{key.replace('_', ' ')}: give a whole number from {low} "
                                   f"to {high} (got {value!r}).")
        with self.ctx.use_case(session, _ADMIN_ONLY, "change the account policy") as (uow,
                                                                                       actor):
            before = self.ctx.account_policy(uow)
            stored = dict(uow.users.setting("account_policy") or {})
            stored.update(changes)
            uow.users.set_setting("account_policy", stored, self.ctx.now_iso(),
                                  actor.audit_name)
            after = self.ctx.account_policy(uow)
            uow.audit("set_account_policy", "trial_setting", "account_policy",
                      before=before.__dict__, after=after.__dict__)
            return after
