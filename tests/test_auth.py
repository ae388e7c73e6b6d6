"""Passwords (scrypt), lock-out, idle expiry, user management and sessions."""
from __future__ import annotations

import dataclasses
import hmac

import pytest

from ioreview import auth
from ioreview.service import (AccountLocked, AuthenticationFailed, InvalidInput, PermissionDenied,
                            Role, SessionExpired)
from test_trial_helpers import PASSWORDS, REAL_KDF_PARAMS, fast_kdf, make_world  # noqa: F401

#: the service suite runs on both backends (tests/conftest.py)
pytestmark = pytest.mark.usefixtures("trial_backend")

workflow = pytest.mark.usefixtures("fast_kdf")


# -- the KDF -------------------------------------------------------------------------------------
def test_default_kdf_is_memory_hard_scrypt():
    assert REAL_KDF_PARAMS.n >= 2 ** 14 and REAL_KDF_PARAMS.r >= 8 and REAL_KDF_PARAMS.p >= 1
    encoded = auth.hash_password("correct horse", REAL_KDF_PARAMS)
    scheme, n, r, p, salt, digest = encoded.split("$")
    assert (scheme, int(n), int(r), int(p)) == ("scrypt", REAL_KDF_PARAMS.n, REAL_KDF_PARAMS.r,
                                                 REAL_KDF_PARAMS.p)
    assert auth.verify_password("correct horse", encoded)
    assert not auth.verify_password("correct horsf", encoded)


def test_salt_is_per_hash_and_hash_is_not_the_password():
    a = auth.hash_password("same password", auth.ScryptParams(n=2 ** 4, r=1, p=1))
    b = auth.hash_password("same password", auth.ScryptParams(n=2 ** 4, r=1, p=1))
    assert a != b
    assert "same password" not in a
    assert auth.verify_password("same password", a) and auth.verify_password("same password", b)


def test_comparison_is_constant_time(monkeypatch):
    calls = []
    real = hmac.compare_digest

    def spy(x, y):
        calls.append((x, y))
        return real(x, y)

    monkeypatch.setattr(auth.hmac, "compare_digest", spy)
    encoded = auth.hash_password("abcdefgh", auth.ScryptParams(n=2 ** 4, r=1, p=1))
    assert auth.verify_password("abcdefgh", encoded)
    assert len(calls) == 1


def test_malformed_or_missing_hash_never_verifies():
    assert not auth.verify_password("x", None)
    assert not auth.verify_password("x", "")
    assert not auth.verify_password("x", "md5$abc")
    assert not auth.verify_password("x", "scrypt$16$1$1$!!!$???")


def test_password_policy():
    assert "at least 10" in auth.check_password_policy("short")
    assert auth.check_password_policy(" padded password ") is not None
    assert auth.check_password_policy("long enough") is None


def test_tokens_are_random_and_stored_hashed():
    a, b = auth.new_token(), auth.new_token()
    assert a != b and len(a) >= 40
    assert auth.token_digest(a) != a and len(auth.token_digest(a)) == 64


# -- login, lock-out, expiry -----------------------------------------------------------------------
@workflow
def test_login_returns_a_session_from_the_database(tmp_path):
    w = make_world(tmp_path, assign=False)
    s = w.login("reader1")
    assert (s.username, s.role, s.display_name) == ("reader1", Role.READER, "Dr Reader1")
    assert w.trial.login("  READER1 ", PASSWORDS["reader1"]).user_id == s.user_id
    w.trial.check_session(s)


@workflow
def test_wrong_password_and_unknown_user_get_the_same_generic_message(tmp_path):
    w = make_world(tmp_path, assign=False)
    with pytest.raises(AuthenticationFailed) as wrong:
        w.trial.login("reader1", "not the password")
    with pytest.raises(AuthenticationFailed) as unknown:
        w.trial.login("nobody", "not the password")
    assert str(wrong.value) == str(unknown.value)
    assert "password" in str(wrong.value)


@workflow
def test_a_wrong_signature_password_five_times_locks_the_account(tmp_path):
    """In a session (signing, unlocking, changing the password), five wrong passwords in a
    row lock a non-admin account for 15 minutes (someone at an unattended session guesses)."""
    w = make_world(tmp_path, assign=False)
    s = w.login("reader1")
    for _ in range(4):
        with pytest.raises(AuthenticationFailed):
            w.trial.change_password(s, "wrong password", "a new passphrase here")
    with pytest.raises(AccountLocked) as locked:
        w.trial.change_password(s, "wrong password", "a new passphrase here")
    assert "locked until" in str(locked.value)
    assert locked.value.until == pytest.approx(w.clock() + 15 * 60)
    with pytest.raises(AccountLocked):
        w.login("reader1")
    w.clock.advance(15 * 60 + 1)
    assert w.login("reader1").username == "reader1"
    info = {u.username: u for u in w.trial.list_users(w.admin)}["reader1"]
    assert info.locked_until is None and info.failed_logins == 0


@workflow
def test_success_resets_the_failure_count(tmp_path):
    w = make_world(tmp_path, assign=False)
    for _ in range(3):
        with pytest.raises(AuthenticationFailed):
            w.trial.login("reader1", "wrong password")
    w.clock.advance(1)
    w.login("reader1")
    info = {u.username: u for u in w.trial.list_users(w.admin)}["reader1"]
    assert info.failed_logins == 0
    for _ in range(3):  # no delay: the count started again
        with pytest.raises(AuthenticationFailed) as failed:
            w.trial.login("reader1", "wrong password")
    assert "Wait 1 second" in str(failed.value)
    w.clock.advance(1)
    w.login("reader1")


@workflow
def test_reset_password_clears_a_lock_and_forces_a_change(tmp_path):
    w = make_world(tmp_path, assign=False)
    s = w.login("reader1")
    for _ in range(5):
        with pytest.raises((AuthenticationFailed, AccountLocked)):
            w.trial.change_password(s, "wrong password", "a new passphrase here")
    coord = w.login("coord")
    w.trial.reset_password(coord, w.user_ids["reader1"], "a brand new one")
    session = w.trial.login("reader1", "a brand new one")
    assert session.username == "reader1" and session.must_change_password


@workflow
def test_idle_session_expires_and_unlocks_with_the_password(tmp_path):
    w = make_world(tmp_path, assign=False)
    s = w.login("reader1")
    w.clock.advance(899)
    w.trial.check_session(s)  # activity refreshes the idle timer
    w.clock.advance(899)
    w.trial.worklist(s)
    w.clock.advance(901)
    with pytest.raises(SessionExpired) as expired:
        w.trial.worklist(s)
    assert "password" in str(expired.value)
    with pytest.raises(AuthenticationFailed):
        w.trial.unlock(s, "wrong password")
    with pytest.raises(SessionExpired):
        w.trial.check_session(s)
    assert w.trial.unlock(s, PASSWORDS["reader1"]) == s
    w.trial.check_session(s)


@workflow
def test_another_user_cannot_unlock_a_session(tmp_path):
    w = make_world(tmp_path, assign=False)
    s1 = w.login("reader1")
    w.clock.advance(1000)
    with pytest.raises(AuthenticationFailed):
        w.trial.unlock(s1, PASSWORDS["reader2"])
    forged = dataclasses.replace(s1, user_id=w.user_ids["reader2"])
    with pytest.raises(SessionExpired):
        w.trial.unlock(forged, PASSWORDS["reader2"])


@workflow
def test_logout_ends_the_session(tmp_path):
    w = make_world(tmp_path, assign=False)
    s = w.login("reader1")
    other = w.login("reader2")
    w.trial.logout(s)
    w.trial.logout(s)  # harmless twice
    with pytest.raises(SessionExpired):
        w.trial.check_session(s)
    with pytest.raises(SessionExpired):
        w.trial.unlock(s, PASSWORDS["reader1"])
    w.trial.check_session(other)


@workflow
def test_role_comes_from_the_database_not_the_session_object(tmp_path):
    w = make_world(tmp_path, assign=False)
    s = w.login("reader1")
    with pytest.raises(PermissionDenied):
        w.trial.list_users(dataclasses.replace(s, role=Role.ADMIN))
    with pytest.raises(SessionExpired):
        w.trial.list_users(dataclasses.replace(s, token="forged"))


@workflow
def test_system_session_only_until_the_first_account(tmp_path):
    """A trial without accounts belongs to whoever created the file: its workstation session
    is an administrator audited as cli:<name>, which does not idle out and keeps working in its
    process after accounts are added; once any account exists no new one is given."""
    from ioreview.service import Trial

    trial = Trial.open(tmp_path / "fresh.sqlite")
    s = trial.system_session("alice")
    assert s.role is Role.ADMIN and s.username == "cli:alice"
    trial.create_user(s, "reader9", "Dr Nine", "reader", "nine lives of a cat")
    record = trial.store.audit_records("user")[-1]
    assert record.actor == "cli:alice" and record.action == "create"
    trial.check_session(s)
    with pytest.raises(PermissionDenied, match="log in"):
        trial.system_session("mallory")
    w = make_world(tmp_path, assign=False)  # a world's own session, taken before its accounts
    w.clock.advance(10 * 3600)
    w.trial.check_session(w.admin)  # the workstation session does not idle out
    with pytest.raises(PermissionDenied):
        w.trial.system_session("alice")


# -- user management -------------------------------------------------------------------------------
@workflow
def test_user_management_rules(tmp_path):
    w = make_world(tmp_path, assign=False)
    coord = w.login("coord")
    reader = w.login("reader1")
    good = "plum orchard lantern"
    with pytest.raises(PermissionDenied):
        w.trial.create_user(reader, "x1", "X", Role.READER, good)
    with pytest.raises(PermissionDenied):
        w.trial.create_user(coord, "boss", "Boss", Role.ADMIN, good)
    with pytest.raises(InvalidInput, match="at least 10"):
        w.trial.create_user(coord, "x1", "X", Role.READER, "short pw1")
    with pytest.raises(InvalidInput, match="most common"):
        w.trial.create_user(coord, "x1", "X", Role.READER, "password123")
    with pytest.raises(InvalidInput, match="user name"):
        w.trial.create_user(coord, "harriet", "Harriet Lane", Role.READER, "Harriet2026!")
    with pytest.raises(InvalidInput, match="taken"):
        w.trial.create_user(coord, "reader1", "X", Role.READER, good)
    with pytest.raises(InvalidInput, match="role"):
        w.trial.create_user(coord, "x1", "X", "radiologist", good)
    with pytest.raises(InvalidInput, match="User name"):
        w.trial.create_user(coord, "bad name!", "X", "reader", good)
    created = w.trial.create_user(coord, "Reader4", "Dr Four", "reader", good)
    assert created.username == "reader4" and created.role is Role.READER and created.active
    assert not created.must_change_password
    with pytest.raises(InvalidInput, match="own account"):
        w.trial.set_user_active(coord, w.user_ids["coord"], False)


@workflow
def test_deactivated_user_can_neither_log_in_nor_continue(tmp_path):
    w = make_world(tmp_path, assign=False)
    s = w.login("reader1")
    info = w.trial.set_user_active(w.admin, w.user_ids["reader1"], False)
    assert not info.active
    with pytest.raises(SessionExpired, match="deactivated"):
        w.trial.worklist(s)
    with pytest.raises(AuthenticationFailed):
        w.login("reader1")
    w.trial.set_user_active(w.admin, w.user_ids["reader1"], True)
    w.login("reader1")


@workflow
def test_change_password(tmp_path):
    w = make_world(tmp_path, assign=False)
    s = w.login("reader1")
    with pytest.raises(AuthenticationFailed):
        w.trial.change_password(s, "wrong password", "another passphrase")
    with pytest.raises(InvalidInput):
        w.trial.change_password(s, PASSWORDS["reader1"], "short")
    w.trial.change_password(s, PASSWORDS["reader1"], "another passphrase")
    assert w.trial.login("reader1", "another passphrase").username == "reader1"
    with pytest.raises(AuthenticationFailed):
        w.login("reader1")


@workflow
def test_no_password_or_hash_reaches_the_audit_trail(tmp_path):
    w = make_world(tmp_path, assign=False)
    with pytest.raises(AuthenticationFailed):
        w.trial.login("reader1", "typo-password")
    text = "".join(f"{r.before}{r.after}" for r in w.store.audit_records())
    assert "scrypt$" not in text
    for password in [*PASSWORDS.values(), "typo-password"]:
        assert password not in text
    assert w.store.verify_audit_chain() == []
