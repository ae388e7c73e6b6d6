"""Accounts and sessions: log in and out, the idle lock, users and passwords.

Passwords are verified and hashed outside any write transaction (scrypt takes ~40 ms and would
hold every other workstation's writes); the attempt is then recorded in one short unit of work.
"""
from __future__ import annotations

import re

from ioreview.auth import check_password_policy, hash_password, new_token, token_digest, \
    verify_password
from ioreview.errors import (AuthenticationFailed, InvalidInput, IoreviewError, NotFound,
                             PermissionDenied, SessionExpired)
from ioreview.store import UnitOfWork
from ioreview.store.records import UserRecord

from .context import ADMINS, Actor, ServiceContext
from .values import Role, Session, UserInfo

__all__ = ["Accounts"]

_GENERIC_LOGIN_FAILURE = "Unknown user name or wrong password. Check both and try again."
_USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{1,31}$")


def _user_info(row: UserRecord) -> UserInfo:
    return UserInfo(row.id, row.username, row.display_name, Role(row.role), row.active,
                    row.locked_until, row.failed_logins)


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


def _check_password(password: str) -> None:
    problem = check_password_policy(password)
    if problem:
        raise InvalidInput(problem)


class Accounts:
    """Sessions and users."""

    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    # -- sessions ----------------------------------------------------------------------------
    def _start_session(self, uow: UnitOfWork, user: UserRecord) -> Session:
        now = self.ctx.clock()
        token = new_token()
        session_id = uow.sessions.add(token_digest(token), user.id, None, now)
        uow.audit("login", "user", user.id, after={"session": session_id})
        return Session(user.id, user.username, user.display_name, Role(user.role), token, now)

    def login(self, username: str, password: str) -> Session:
        """Start a session.  AuthenticationFailed (generic message) on a wrong name/password;
        AccountLocked after 5 consecutive failures (locked 15 minutes; the message says until
        when)."""
        name = (username or "").strip().lower()
        with self.ctx.store.unit_of_work("system", write=False) as uow:
            found = uow.users.find(name)
        ok = verify_password(password or "", found.password_hash if found else None)
        error: IoreviewError | None = None
        session: Session | None = None
        with self.ctx.store.unit_of_work(name or "anonymous") as uow:
            user = uow.users.find(name)
            if user is None or not user.active or found is None or found.id != user.id:
                uow.audit("login_failed", "user", name or "?",
                          after={"reason": "unknown or inactive account"})
                error = AuthenticationFailed(_GENERIC_LOGIN_FAILURE)
            else:
                error = self.ctx.record_password_attempt(
                    uow, user.id, ok, found.password_hash,
                    lambda _left: AuthenticationFailed(_GENERIC_LOGIN_FAILURE), "login")
                if error is None:
                    session = self._start_session(uow, user)
        if error is not None:
            raise error
        assert session is not None
        return session

    def system_session(self, name: str = "cli") -> Session:
        """An admin-role session for the workstation command line, audited as "cli:<name>"."""
        name = (name or "").strip()
        if not name:
            raise InvalidInput("A workstation session needs a name (e.g. the operator's login).")
        now = self.ctx.clock()
        token = new_token()
        with self.ctx.store.unit_of_work(f"cli:{name}") as uow:
            session_id = uow.sessions.add(token_digest(token), None, name, now)
            uow.audit("login", "session", session_id, after={"system": name})
        return Session(0, f"cli:{name}", f"Workstation ({name})", Role.ADMIN, token, now)

    def check_session(self, session: Session) -> None:
        """SessionExpired when idle longer than the idle timeout or logged out; otherwise
        refresh the session's activity time."""
        with self.ctx.use_case(session, None, "continue", write=False):
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
                    role: Role | str, password: str) -> UserInfo:
        """Admin/coordinator: add a user (only an admin may create an admin).  Password
        policy: at least 8 characters (InvalidInput otherwise)."""
        with self.ctx.use_case(session, ADMINS, "create users", write=False) as (_uow, actor):
            role = parse_role(role)
            _guard_admin_accounts(actor, role)
        name = (username or "").strip().lower()
        if not _USERNAME_RE.match(name):
            raise InvalidInput(
                f"User name {username!r}: use 2-32 lower-case letters, digits, '.', '_' or "
                "'-', starting with a letter or digit.")
        display = (display_name or "").strip()
        if not display:
            raise InvalidInput("Give the user a display name (shown on signatures).")
        _check_password(password)
        password_hash = hash_password(password)
        with self.ctx.use_case(session, ADMINS, "create users") as (uow, actor):
            _guard_admin_accounts(actor, role)
            if uow.users.find(name) is not None:
                raise InvalidInput(f"The user name {name!r} is taken; choose another.")
            user_id = uow.users.add(name, display, role.value, password_hash,
                                    self.ctx.now_iso())
            uow.audit("create", "user", user_id,
                      after={"username": name, "display_name": display, "role": role.value})
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

    def reset_password(self, session: Session, user_id: int, new_password: str) -> UserInfo:
        """Admin/coordinator: set a new password (also clears a lock-out)."""
        with self.ctx.use_case(session, ADMINS, "reset passwords", write=False) as (uow, actor):
            self._target_user(uow, actor, user_id)
        _check_password(new_password)
        password_hash = hash_password(new_password)
        with self.ctx.use_case(session, ADMINS, "reset passwords") as (uow, actor):
            self._target_user(uow, actor, user_id)
            uow.users.update(user_id, password_hash=password_hash,
                             password_changed_at=self.ctx.now_iso(), failed_logins=0,
                             locked_until=None)
            uow.audit("reset_password", "user", user_id)
            return _user_info(self._target_user(uow, actor, user_id))

    def change_password(self, session: Session, old_password: str, new_password: str) -> None:
        """Any user: change the own password (the current one is required)."""
        with self.ctx.use_case(session, None, "change a password", write=False) as (uow, actor):
            if actor.user_id is None:
                raise PermissionDenied("A workstation session has no password to change.")
            before = uow.users.get(actor.user_id)
        assert before is not None
        _check_password(new_password)
        if new_password == old_password:
            raise InvalidInput("The new password must differ from the current one.")
        ok = verify_password(old_password or "", before.password_hash)
        new_hash = hash_password(new_password) if ok else None
        error: IoreviewError | None = None
        with self.ctx.use_case(session, None, "change a password") as (uow, actor):
            error = self.ctx.record_password_attempt(
                uow, before.id, ok, before.password_hash,
                lambda left: AuthenticationFailed(
                    f"The current password is wrong; nothing was changed ({left} attempt(s) "
                    "left before the account locks)."),
                "change_password")
            if error is None:
                assert new_hash is not None
                uow.users.update(before.id, password_hash=new_hash,
                                 password_changed_at=self.ctx.now_iso())
                uow.audit("change_password", "user", before.id)
        if error is not None:
            raise error
