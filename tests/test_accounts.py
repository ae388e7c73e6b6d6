"""Accounts against denial of service and guessing: log-in delays per account and per
workstation, lock-out only of non-admin accounts, an administrator's unlock, unknown names kept
out of the audit trail, the password policy, forced and expiring passwords, password history,
the account policy, and the first administrator of an empty trial."""
from __future__ import annotations

import threading

import pytest

import test_trial_helpers
from ioreview import auth
from ioreview.service import (AccountLocked, AuthenticationFailed, InvalidInput, LoginThrottled,
                              PasswordChangeRequired, PermissionDenied, Role, Trial)
from ioreview.service.context import login_delay_s
from test_trial_helpers import PASSWORDS, Clock, World, fast_kdf  # noqa: F401

pytestmark = pytest.mark.usefixtures("trial_backend", "fast_kdf")

BOSS_PASSWORD = "granite kettle horizon"
HERE = "ws1/alice"


def make_world(tmp_path, **_ignored) -> World:
    """A trial with accounts only (these tests need no studies or cases)."""
    clock = Clock()
    trial = Trial.open(test_trial_helpers.BACKEND_DB or tmp_path / "trial.sqlite", clock=clock,
                       archive_root=tmp_path / "archive")
    w = World(trial, clock, trial.system_session("test"))
    for name, role in (("reader1", Role.READER), ("reader2", Role.READER),
                       ("reader3", Role.READER), ("coord", Role.COORDINATOR)):
        w.user_ids[name] = trial.create_user(w.admin, name, f"Dr {name.title()}", role,
                                             PASSWORDS[name]).id
    return w


def _boss(w):
    w.trial.create_user(w.admin, "boss", "Boss Person", Role.ADMIN, BOSS_PASSWORD)


def _fail(w, name: str, source: str = HERE, password: str = "wrong password") -> Exception:
    with pytest.raises((AuthenticationFailed, AccountLocked)) as failed:
        w.trial.login(name, password, source)
    return failed.value


# -- delays -------------------------------------------------------------------------------------
def test_delay_schedule():
    assert [login_delay_s(n) for n in range(6)] == [0, 0, 0, 1, 2, 4]
    assert login_delay_s(13) == 900 and login_delay_s(10 ** 6) == 900


def test_after_three_failures_each_attempt_waits_and_early_ones_are_refused(tmp_path):
    w = make_world(tmp_path, assign=False)
    for _ in range(3):
        _fail(w, "reader1")
    early = _fail(w, "reader1", password=PASSWORDS["reader1"])
    assert isinstance(early, LoginThrottled) and early.retry_after == pytest.approx(1)
    assert "wait 1 second" in str(early)
    w.clock.advance(1)
    assert isinstance(_fail(w, "reader1"), AuthenticationFailed)  # the 4th failure
    w.clock.advance(1.5)
    refused = _fail(w, "reader1", password=PASSWORDS["reader1"])
    assert isinstance(refused, LoginThrottled)  # 2 s after the 4th: not yet
    assert refused.retry_after == pytest.approx(0.5)
    w.clock.advance(0.5)
    assert w.trial.login("reader1", PASSWORDS["reader1"], HERE).username == "reader1"
    # A refused early attempt is not a failure and checks no password: nothing audited.
    actions = [r.action for r in w.store.audit_records("user", w.user_ids["reader1"])]
    assert actions.count("login_failed") == 4


def test_the_account_delay_holds_on_every_workstation(tmp_path):
    w = make_world(tmp_path, assign=False)
    for i in range(4):
        _fail(w, "reader1", source=f"ws{i}/x")
    assert isinstance(_fail(w, "reader1", source="elsewhere/bob"), LoginThrottled)
    # ... while other accounts on a fresh workstation are not held up.
    assert w.trial.login("reader2", PASSWORDS["reader2"], "elsewhere/bob")


def test_a_workstation_guessing_many_accounts_is_slowed_down(tmp_path):
    w = make_world(tmp_path, assign=False)
    for name in ("reader1", "reader2", "reader3"):
        _fail(w, name, source="kiosk/guest")
    refused = _fail(w, "coord", source="kiosk/guest", password=PASSWORDS["coord"])
    assert isinstance(refused, LoginThrottled)
    assert w.trial.login("coord", PASSWORDS["coord"], "desk/coord")  # another workstation


# -- lock-out ---------------------------------------------------------------------------------
def test_non_admin_accounts_lock_after_ten_failures_until_an_admin_unlocks(tmp_path):
    w = make_world(tmp_path, assign=False)
    _boss(w)
    for i in range(9):
        assert isinstance(_fail(w, "reader1", source=f"ws{i}/x"), AuthenticationFailed)
        w.clock.advance(login_delay_s(i + 1))
    locked = _fail(w, "reader1", source="ws9/x")
    assert isinstance(locked, AccountLocked) and "locked until" in str(locked)
    w.clock.advance(login_delay_s(10))
    assert isinstance(_fail(w, "reader1", password=PASSWORDS["reader1"]), AccountLocked)
    info = {u.username: u for u in w.trial.list_users(w.admin)}["reader1"]
    assert info.locked_until is not None and info.failed_logins == 10
    boss = w.trial.login("boss", BOSS_PASSWORD, "admin-desk/boss")
    unlocked = w.trial.unlock_account(boss, w.user_ids["reader1"])
    assert unlocked.locked_until is None and unlocked.failed_logins == 0
    assert w.trial.login("reader1", PASSWORDS["reader1"], HERE).username == "reader1"
    record = w.store.audit_records("user", w.user_ids["reader1"])[-2]
    assert (record.action, record.actor) == ("unlock_account", "boss")


def test_a_lock_passes_by_itself(tmp_path):
    w = make_world(tmp_path, assign=False)
    w.trial.set_account_policy(w.admin, lock_after_failures=3, lock_minutes=5)
    for _ in range(2):
        _fail(w, "reader1")
    assert isinstance(_fail(w, "reader1"), AccountLocked)
    w.clock.advance(5 * 60 + 1)
    assert w.trial.login("reader1", PASSWORDS["reader1"], HERE).username == "reader1"


def test_an_admin_is_never_locked_only_delayed(tmp_path):
    w = make_world(tmp_path, assign=False)
    _boss(w)
    for i in range(30):
        failure = _fail(w, "boss", source=f"attacker{i}/x")
        assert not isinstance(failure, AccountLocked)
        w.clock.advance(login_delay_s(i + 1))
    assert {u.username: u for u in w.trial.list_users(w.admin)}["boss"].locked_until is None
    assert w.trial.login("boss", BOSS_PASSWORD, "admin-desk/boss").role is Role.ADMIN


def test_a_coordinator_cannot_unlock_an_admin_and_a_reader_cannot_unlock(tmp_path):
    w = make_world(tmp_path, assign=False)
    _boss(w)
    boss_id = next(u.id for u in w.trial.list_users(w.admin) if u.username == "boss")
    with pytest.raises(PermissionDenied):
        w.trial.unlock_account(w.login("coord"), boss_id)
    with pytest.raises(PermissionDenied):
        w.trial.unlock_account(w.login("reader2"), w.user_ids["reader1"])


# -- unknown names ------------------------------------------------------------------------------
def test_an_unknown_name_is_audited_as_a_keyed_digest_never_as_typed(tmp_path):
    w = make_world(tmp_path, assign=False)
    typed = "reader1-password-typed-in-the-name-field"
    unknown = _fail(w, typed)
    wrong = _fail(w, "reader2")
    assert str(unknown) == str(wrong)
    records = w.store.audit_records()
    text = "".join(f"{r.actor}{r.entity_id}{r.before}{r.after}" for r in records)
    assert typed not in text and typed.upper() not in text
    failed = [r for r in records if r.action == "login_failed"]
    assert [r.entity for r in failed] == ["user", "user"]
    assert failed[0].entity_id == w.store.keyed_digest("username", typed)
    assert failed[0].actor == "anonymous"
    assert failed[1].entity_id == str(w.user_ids["reader2"])
    assert set(failed[0].after) == set(failed[1].after)  # the same kind of record
    assert w.store.verify_audit_chain() == []


def test_unknown_names_are_delayed_and_locked_like_accounts(tmp_path):
    w = make_world(tmp_path, assign=False)
    outcomes = {}
    for name in ("reader1", "nobody"):
        seen = []
        for i in range(11):
            seen.append(type(_fail(w, name, source=f"{name}{i}/x")).__name__)
            w.clock.advance(login_delay_s(i + 1) if i < 9 else 0)
        outcomes[name] = seen
    assert outcomes["reader1"] == outcomes["nobody"]
    assert outcomes["nobody"][-2:] == ["AccountLocked", "LoginThrottled"]


def test_unknown_names_take_the_same_time(tmp_path, monkeypatch):
    import ioreview.service.accounts as accounts_module

    w = make_world(tmp_path, assign=False)
    checked = []
    real = accounts_module.verify_password
    monkeypatch.setattr(accounts_module, "verify_password",
                        lambda p, h: checked.append(h) or real(p, h))
    _fail(w, "nobody")
    _fail(w, "reader1")
    assert checked[0] is None and checked[1]  # a dummy derivation for the unknown name


# -- the password policy -----------------------------------------------------------------------
@pytest.mark.parametrize("password", [
    "password", "12345678", "reader7", "password12", "Password2024!", "1234567890",
    "qwertyuiop", "monkeymonkey", "aaaaaaaaaaaa", "reader7reader7", "reader72026",
    "7redaer2026", "Harriet2026!", "LaneHarriet",
])
def test_weak_passwords_are_refused_with_the_rule(password):
    problem = auth.check_password_policy(password, username="reader7",
                                         display_name="Harriet Lane")
    assert problem is not None
    assert any(word in problem for word in ("at least 10", "common", "user name", "repeats"))


def test_the_common_list_ships_with_the_package():
    common = auth.common_passwords()
    assert len(common) >= 9900 and {"password", "123456", "qwerty", "letmein"} <= common


@pytest.mark.parametrize("password", ["granite kettle horizon", "reader7-on-tuesday-walks",
                                      "Tibia cortex 2026 ok"])
def test_good_passwords_pass(password):
    assert auth.check_password_policy(password, username="reader7",
                                      display_name="Harriet Lane") is None


# -- forced change, expiry, history ---------------------------------------------------------------
def test_an_account_created_with_a_forced_change_may_only_change_its_password(tmp_path):
    w = make_world(tmp_path, assign=False)
    coord = w.login("coord")
    info = w.trial.create_user(coord, "reader9", "Dr Nine", Role.READER,
                               "temporary tulip field", must_change_password=True)
    assert info.must_change_password
    session = w.trial.login("reader9", "temporary tulip field", HERE)
    assert session.must_change_password
    w.trial.check_session(session)  # the session is valid...
    with pytest.raises(PasswordChangeRequired):
        w.trial.worklist(session)  # ... but reaches nothing else
    with pytest.raises(PasswordChangeRequired):
        w.trial.active_protocol(session)
    changed = w.trial.change_password(session, "temporary tulip field", "my own quiet harbour")
    assert not changed.must_change_password and changed.token == session.token
    assert w.trial.worklist(changed) == []
    again = w.trial.login("reader9", "my own quiet harbour", HERE)
    assert not again.must_change_password


def test_expired_passwords_must_be_changed(tmp_path):
    w = make_world(tmp_path, assign=False)
    assert w.trial.account_policy(w.admin).password_expiry_days == 0  # off by default
    policy = w.trial.set_account_policy(w.admin, password_expiry_days=90)
    assert policy.password_expiry_days == 90
    session = w.login("reader1")
    assert not session.must_change_password
    w.clock.advance(91 * 86400)
    session = w.login("reader1")
    assert session.must_change_password
    with pytest.raises(PasswordChangeRequired):
        w.trial.worklist(session)
    session = w.trial.change_password(session, PASSWORDS["reader1"], "fresh autumn lanterns")
    assert len(w.trial.worklist(session)) >= 0
    record = w.store.audit_records("trial_setting")[-1]
    assert record.action == "set_account_policy" and record.after["password_expiry_days"] == 90


def test_the_last_five_passwords_cannot_be_reused(tmp_path):
    w = make_world(tmp_path, assign=False)
    session = w.login("reader1")
    passwords = [PASSWORDS["reader1"]] + [f"history entry number {n}x" for n in range(5)]
    for old, new in zip(passwords, passwords[1:]):
        session = w.trial.change_password(session, old, new)
    current = passwords[-1]
    for reused in passwords[-5:-1]:
        with pytest.raises(InvalidInput, match="used recently"):
            w.trial.change_password(session, current, reused)
    # the sixth-newest is allowed again
    w.trial.change_password(session, current, passwords[0])


def test_the_account_policy_is_admin_only_and_checked(tmp_path):
    w = make_world(tmp_path, assign=False)
    with pytest.raises(PermissionDenied):
        w.trial.set_account_policy(w.login("coord"), password_expiry_days=30)
    with pytest.raises(InvalidInput, match="lock after failures"):
        w.trial.set_account_policy(w.admin, lock_after_failures=1)
    assert w.trial.account_policy(w.login("coord")).lock_after_failures == 10


# -- the first administrator -------------------------------------------------------------------
def test_the_first_admin_is_created_once(tmp_path):
    db = test_trial_helpers.BACKEND_DB
    clock = Clock()
    trial = Trial.open(db or tmp_path / "empty.sqlite", clock=clock,
                       archive_root=tmp_path / "archive")
    try:
        with pytest.raises(InvalidInput, match="most common"):
            trial.create_first_admin("admin", "Trial Admin", "password123")
        info = trial.create_first_admin("Admin", "Trial Admin", "first light on the ridge")
        assert (info.username, info.role, info.must_change_password) == ("admin", Role.ADMIN,
                                                                          False)
        with pytest.raises(PermissionDenied, match="already has accounts"):
            trial.create_first_admin("admin2", "Other", "second light on the ridge")
        session = trial.login("admin", "first light on the ridge", HERE)
        assert session.role is Role.ADMIN and not session.must_change_password
        record = trial.store.audit_records("user", info.id)[0]
        assert record.after["role"] == "admin" and record.action == "create"
    finally:
        trial.close()


def test_two_workstations_racing_for_the_first_admin_make_one(tmp_path):
    db = test_trial_helpers.BACKEND_DB
    target = db or tmp_path / "race.sqlite"
    Trial.open(target, archive_root=tmp_path / "archive").close()
    trials = [Trial.open(target, archive_root=tmp_path / "archive") for _ in range(2)]
    results: list[object] = []
    barrier = threading.Barrier(2)

    def create(i: int) -> None:
        barrier.wait()
        try:
            results.append(trials[i].create_first_admin(f"admin{i}", "Admin",
                                                        "first light on the ridge"))
        except PermissionDenied as exc:
            results.append(exc)

    threads = [threading.Thread(target=create, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert sum(isinstance(r, PermissionDenied) for r in results) == 1
        [winner] = [r for r in results if not isinstance(r, PermissionDenied)]
        admin = trials[0].login(winner.username, "first light on the ridge")
        assert [u.username for u in trials[0].list_users(admin)] == [winner.username]
    finally:
        for t in trials:
            t.close()
