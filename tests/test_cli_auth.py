"""The command line acts as a logged-in user (issue 12): credentials from a prompt or a private
file, never argv; the same role checks as the application; a database without accounts belongs
to whoever created it until `admin init`; files created owner-only."""
from __future__ import annotations

import io
import os
import stat
import sys
from pathlib import Path

import pytest
from pydicom.data import get_testdata_file

from adjudication.protocol import default_protocol_path
from ioreview.cli import build_parser
from test_cli_mistakes import run as run_cli

CT = get_testdata_file("CT_small.dcm")
ADMIN_PASSWORD = "Proximal-tibia-77"
READER_PASSWORD = "Marrow-needle-31"


def run(capsys, *argv: str, stdin: str | None = None, monkeypatch=None) -> tuple[int, str, str]:
    """`test_cli_mistakes.run`, with `stdin` as standard input."""
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    return run_cli(capsys, *argv)


def secret(folder: Path, name: str, text: str, mode: int = 0o600) -> str:
    path = folder / name
    path.write_text(text + "\n", encoding="utf-8")
    path.chmod(mode)
    return str(path)


@pytest.fixture
def trial_with_admin(tmp_path, capsys, monkeypatch):
    """A database imported by its creator, then given its first administrator."""
    db = str(tmp_path / "t.sqlite")
    assert run(capsys, "--db", db, "import", CT)[0] == 0  # no accounts: the file's owner
    code, out, err = run(capsys, "--db", db, "admin", "init", "boss", "--name", "Dr Boss",
                         "--password-stdin", stdin=ADMIN_PASSWORD + "\n", monkeypatch=monkeypatch)
    assert code == 0 and "first administrator boss" in out, err
    admin = ("--user", "boss", "--password-file", secret(tmp_path, "boss.pw", ADMIN_PASSWORD))
    return db, admin


def test_after_admin_init_every_command_needs_credentials(trial_with_admin, capsys, tmp_path,
                                                          monkeypatch):
    db, admin = trial_with_admin
    for argv in (["users", "add", "mallory", "--role", "admin", "--password-stdin"],
                 ["info"], ["audit"], ["import", CT], ["cases", "build"], ["assign"],
                 ["protocol", "install", str(default_protocol_path())], ["users"]):
        code, out, err = run(capsys, "--db", db, *argv, stdin="x" * 12 + "\n",
                             monkeypatch=monkeypatch)
        assert code == 2, (argv, out, err)
        assert "--user NAME" in err and err.count("\n") == 1, (argv, err)
    # nothing was created by the refused `users add`
    code, out, err = run(capsys, "--db", db, *admin, "users")
    assert code == 0 and "boss" in out and "mallory" not in out, err


def test_a_second_admin_init_is_refused(trial_with_admin, capsys, monkeypatch):
    db, _admin = trial_with_admin
    code, _, err = run(capsys, "--db", db, "admin", "init", "eve", "--password-stdin",
                       stdin="Another-long-pass-9\n", monkeypatch=monkeypatch)
    assert code == 2 and "already has user accounts" in err


def test_the_same_role_checks_as_the_application(trial_with_admin, capsys, tmp_path,
                                                 monkeypatch):
    db, admin = trial_with_admin
    code, _, err = run(capsys, "--db", db, *admin, "users", "add", "rita", "--role", "reader",
                       "--name", "Rita Reader", "--password-stdin",
                       stdin=READER_PASSWORD + "\n", monkeypatch=monkeypatch)
    assert code == 0, err
    reader = ("--user", "rita", "--password-file", secret(tmp_path, "rita.pw", READER_PASSWORD))
    # an account an administrator created chooses its own password first
    code, _, err = run(capsys, "--db", db, *reader, "info")
    assert code == 2 and "must choose a new password" in err and "password" in err
    own = "Rita-chooses-this-9"
    code, out, err = run(capsys, "--db", db, *reader, "password", "--password-stdin",
                         stdin=own + "\n", monkeypatch=monkeypatch)
    assert code == 0 and "changed" in out, err
    code, _, err = run(capsys, "--db", db, *reader, "info")
    assert code == 2 and "password" in err  # the old one no longer works
    reader = ("--user", "rita", "--password-file", secret(tmp_path, "rita2.pw", own))
    for argv in (["users", "add", "x2", "--role", "admin", "--password-stdin"], ["info"],
                 ["import", CT], ["audit"]):
        code, _, err = run(capsys, "--db", db, *reader, *argv, stdin="Whatever-pass-123\n",
                           monkeypatch=monkeypatch)
        assert code == 2 and "ioreview:" in err and err.count("\n") == 1, (argv, err)
    # the user option also works after the command, and from the environment
    code, out, err = run(capsys, "--db", db, "users", *admin)
    assert code == 0 and "rita" in out, err
    monkeypatch.setenv("IOREVIEW_USER", "boss")
    code, out, err = run(capsys, "--db", db, "--password-file", admin[3], "info")
    assert code == 0 and "instance" in out, err


def test_a_wrong_password_is_one_line_and_exit_2(trial_with_admin, capsys, tmp_path):
    db, _admin = trial_with_admin
    wrong = secret(tmp_path, "wrong.pw", "not-the-password")
    code, out, err = run(capsys, "--db", db, "--user", "boss", "--password-file", wrong, "info")
    assert code == 2 and out == "" and err.count("\n") == 1 and "password" in err


def test_passwords_never_come_from_argv(trial_with_admin, capsys, tmp_path):
    db, admin = trial_with_admin
    code, _, err = run(capsys, "--db", db, *admin, "users", "add", "x", "--password",
                       "Typed-on-argv-12")
    assert code == 2 and "never taken from the command line" in err
    code, _, err = run(capsys, "--db", db, "--user", "boss", f"--password={ADMIN_PASSWORD}",
                       "info")
    assert code == 2 and "--password-file" in err and ADMIN_PASSWORD not in err
    code, _, err = run(capsys, "--db", db, "--user", "boss", "--passw", ADMIN_PASSWORD, "info")
    assert code == 2 and "--password-file" in err and ADMIN_PASSWORD not in err


def test_password_file_must_be_private_and_exist(trial_with_admin, capsys, tmp_path):
    db, _admin = trial_with_admin
    shared = secret(tmp_path, "shared.pw", ADMIN_PASSWORD, mode=0o644)
    code, _, err = run(capsys, "--db", db, "--user", "boss", "--password-file", shared, "info")
    assert code == 2 and "chmod 600" in err and err.count("\n") == 1
    code, _, err = run(capsys, "--db", db, "--user", "boss", "--password-file",
                       str(tmp_path / "missing.pw"), "info")
    assert code == 2 and "no such file" in err
    code, _, err = run(capsys, "--db", db, "--user", "boss", "--password-file",
                       secret(tmp_path, "empty.pw", ""), "info")
    assert code == 2 and "empty" in err


def test_without_a_terminal_the_prompt_says_what_to_give(trial_with_admin, capsys,
                                                         monkeypatch):
    db, _admin = trial_with_admin
    code, _, err = run(capsys, "--db", db, "--user", "boss", "info", stdin="",
                       monkeypatch=monkeypatch)
    assert code == 2 and "--password-file" in err


def test_the_cli_acts_as_the_user_in_the_audit_trail(trial_with_admin, capsys):
    from ioreview.store import open_store

    db, admin = trial_with_admin
    assert run(capsys, "--db", db, *admin, "protocol", "install",
               str(default_protocol_path()))[0] == 0
    store = open_store(db)
    try:
        install = [r for r in store.audit_records() if r.action == "install"]
        assert install and install[-1].actor == "boss"
    finally:
        store.close()


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_database_key_and_archive_files_are_private(tmp_path, capsys):
    db = tmp_path / "t.sqlite"
    archive = tmp_path / "archive"
    assert run(capsys, "--db", str(db), "--archive", str(archive), "import", "--copy", "",
               CT)[0] == 0
    created = [db, Path(f"{db}.key")] + [p for p in archive.rglob("*")]
    created += [p for p in tmp_path.iterdir() if p.name.startswith("t.sqlite")]
    assert any(p.is_file() and p.parent != tmp_path for p in created), "nothing archived"
    for path in created:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode & 0o077 == 0, f"{path} is {oct(mode)}"


def test_every_argument_has_help_text():
    parser = build_parser()
    missing = []

    def walk(p, prefix):
        for action in p._actions:  # argparse keeps no public list of its arguments
            if action.help is None and action.dest not in ("help", "command"):
                missing.append(f"{prefix} {action.dest}")
            if getattr(action, "choices", None) and isinstance(action.choices, dict):
                for name, child in action.choices.items():
                    walk(child, f"{prefix} {name}")

    walk(parser, "ioreview")
    assert missing == []


def test_the_parser_knows_the_service_roles():
    from ioreview.cli import ROLES
    from ioreview.service import Role

    assert ROLES == tuple(r.value for r in Role)
