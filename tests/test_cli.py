"""The command line as a coordinator uses it: import, info, render, audit, demo."""
from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file

from ioreview.cli import main

PYDICOM_TEST_FILES = Path(pydicom.__file__).parent / "data" / "test_files"


def pydicom_data_dir() -> Path:
    import data_store  # the pydicom-data package

    return Path(data_store.__file__).parent / "data"


def secret_file(folder: Path, password: str) -> Path:
    """A password file as a script keeps it: private to its owner."""
    path = folder / f"pw-{abs(hash(password))}"
    path.write_text(password + "\n", encoding="utf-8")
    path.chmod(0o600)
    return path


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_import_real_files_accounts_for_every_file(tmp_path, capsys):
    junk = tmp_path / "incoming"
    junk.mkdir()
    (junk / "notes.txt").write_text("not dicom")
    (junk / "empty.dcm").write_bytes(b"")
    db = str(tmp_path / "t.sqlite")
    code, out, err = run(capsys, "--db", db, "import", str(PYDICOM_TEST_FILES),
                         str(pydicom_data_dir()), str(junk), "--json")
    assert code == 0, err
    summary = json.loads(out)
    assert "Traceback" not in out + err
    accounted = (summary["imported"] + summary["duplicates"] + summary["rejected_count"]
                 + summary["skipped_count"])
    assert accounted == summary["files_seen"]
    assert summary["imported"] > 120
    reasons = {Path(r["path"]).name: r["reason"] for r in summary["rejected"]}
    assert reasons["notes.txt"] == "not a DICOM file"
    assert "empty" in reasons["empty.dcm"] or "not a DICOM" in reasons["empty.dcm"]
    assert all(r["reason"] for r in summary["rejected"])
    totals = summary["totals"]

    # Re-running the same import changes no counts.
    code, out, _ = run(capsys, "--db", db, "import", str(PYDICOM_TEST_FILES),
                       str(pydicom_data_dir()), str(junk), "--json")
    again = json.loads(out)
    assert again["imported"] == 0
    assert {k: again["totals"][k] for k in ("patient", "study", "series", "instance")} == \
        {k: totals[k] for k in ("patient", "study", "series", "instance")}

    code, out, _ = run(capsys, "--db", db, "info", "--json")
    info = json.loads(out)
    assert info["instances"] == totals["instance"]

    code, out, _ = run(capsys, "--db", db, "audit")
    assert code == 0 and "intact" in out


def test_render_writes_the_viewer_frame(tmp_path, capsys):
    import imageio.v3 as iio

    from ioreview.imaging.render import render_frame

    out = tmp_path / "ct.png"
    src = get_testdata_file("CT_small.dcm")
    code, text, err = run(capsys, "render", src, "--window", "40", "400", "--out", str(out))
    assert code == 0, err
    png = iio.imread(out)
    from ioreview.imaging.display import Window

    assert np.array_equal(png, render_frame(src, window=Window(40, 400)))


def test_render_of_a_non_image_is_a_clear_message(tmp_path, capsys):
    bogus = tmp_path / "x.dcm"
    bogus.write_text("hello")
    code, _, err = run(capsys, "render", str(bogus), "--out", str(tmp_path / "x.png"))
    assert code == 2
    assert "x.dcm" in err and "Traceback" not in err


def test_unusable_database_is_a_clear_message(tmp_path, capsys):
    bogus = tmp_path / "bad.sqlite"
    bogus.write_bytes(b"garbage" * 1000)
    code, _, err = run(capsys, "--db", str(bogus), "info")
    assert code == 2 and "not a usable ioreview database" in err


@pytest.mark.slow
def test_demo_no_gui_builds_a_populated_trial(tmp_path, capsys):
    code, out, err = run(capsys, "demo", "--small", "--no-gui", "--dir", str(tmp_path / "d"))
    assert code == 0, err
    assert (tmp_path / "d" / "ioreview.sqlite").exists()
    assert (tmp_path / "d" / "ground_truth.json").exists()
    assert "reader1" in out and "coordinator" in out
    coordinator = ("--user", "coordinator", "--password-file",
                   str(secret_file(tmp_path, "coordinator-demo")))
    code, out, _ = run(capsys, "--db", str(tmp_path / "d" / "ioreview.sqlite"), *coordinator,
                       "info", "--json")
    info = json.loads(out)
    assert info["instances"] > 0 and info["cases"] > 0 and info["assignments"] > 0
    assert info["users"] >= 5
    adjudication = info["adjudication"]
    assert set(adjudication) == {"pending", "decided", "panel_sessions_open",
                                 "panel_sessions_closed"}
    # (the small demo may have no discordant case; tests/test_demo_reads.py checks the content)
    assert all(isinstance(n, int) and n >= 0 for n in adjudication.values())


def test_demo_on_postgresql_matches_the_sqlite_demo(tmp_path, capsys, postgres_url):
    """`--db postgresql://... demo --no-gui` builds the same trial as on SQLite: `info --json`
    reports the same counts, and `audit` passes on both."""
    infos = []
    coordinator = ("--user", "coordinator", "--password-file",
                   str(secret_file(tmp_path, "coordinator-demo")))
    for db, folder in ((None, "sq"), (postgres_url, "pg")):
        argv = ("--db", db) if db else ()
        code, out, err = run(capsys, *argv, "demo", "--small", "--no-gui", "--seed", "7",
                             "--dir", str(tmp_path / folder))
        assert code == 0, err
        db = db or str(tmp_path / folder / "ioreview.sqlite")
        code, out, err = run(capsys, "--db", db, "--archive", str(tmp_path / folder / "archive"),
                             *coordinator, "info", "--json")
        assert code == 0, err
        info = json.loads(out)
        assert info.pop("database").endswith(db.rsplit("/", 1)[-1])
        infos.append(info)
        code, out, err = run(capsys, "--db", db, *coordinator, "audit")
        assert code == 0 and "intact" in out, out + err
    assert infos[0] == infos[1] and infos[0]["reads"]["submitted"] > 0
    # A second demo into the same PostgreSQL database is refused, not mixed in.
    code, _out, err = run(capsys, "--db", postgres_url, "demo", "--small", "--no-gui",
                          "--dir", str(tmp_path / "pg2"))
    assert code == 2 and "already holds a trial" in err


def test_protocol_users_cases_assign_commands(tmp_path, capsys, monkeypatch):
    from adjudication.protocol import default_protocol_path
    from ioreview.imaging.synthetic import DemoConfig, generate_demo_trial

    demo = generate_demo_trial(tmp_path / "demo", DemoConfig.small())
    db = str(tmp_path / "t.sqlite")
    bad = tmp_path / "bad.toml"
    bad.write_text(default_protocol_path().read_text().replace('paradigm = "two_plus_one"',
                                                               'paradigm = "two_plus_two"'))
    code, _, err = run(capsys, "protocol", "check", str(bad))
    assert code == 1 and "bad.toml:" in err and "paradigm" in err
    code, out, _ = run(capsys, "protocol", "check", str(default_protocol_path()))
    assert code == 0 and "valid protocol" in out
    assert run(capsys, "--db", db, "protocol", "install", str(default_protocol_path()))[0] == 0
    code, out, _ = run(capsys, "--db", db, "protocol", "list")
    assert "io-site-complications" in out and out.startswith("*")
    boss = ("--user", "boss", "--password-file", str(secret_file(tmp_path, "boss-password-1")))
    monkeypatch.setattr("sys.stdin", io.StringIO("boss-password-1\n"))
    assert run(capsys, "--db", db, "admin", "init", "boss", "--password-stdin")[0] == 0
    for name in ("r1", "r2"):
        monkeypatch.setattr("sys.stdin", io.StringIO(f"{name}-password-tibia\n"))
        code, _, err = run(capsys, "--db", db, *boss, "users", "add", name, "--role", "reader",
                           "--password-stdin")
        assert code == 0, err
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    code, _, err = run(capsys, "--db", db, *boss, "users", "add", "r3", "--password-stdin")
    assert code == 2 and "ioreview:" in err
    assert run(capsys, "--db", db, *boss, "import", str(demo.dicom_dir))[0] == 0
    code, out, _ = run(capsys, "--db", db, *boss, "cases", "build")
    assert code == 0 and "CASE-" in out
    code, out, _ = run(capsys, "--db", db, *boss, "assign", "--seed", "5")
    assert code == 0 and "Seed 5" in out


def test_gui_commands_without_a_display_say_so(monkeypatch, tmp_path, capsys):
    monkeypatch.setattr("sys.platform", "linux")
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    code, _, err = run(capsys, "--db", str(tmp_path / "t.sqlite"), "app")
    assert code == 2 and "xvfb-run" in err
    code, _, err = run(capsys, "view", str(tmp_path))
    assert code == 2 and "DISPLAY" in err


@pytest.mark.slow
def test_demo_without_a_display_says_so_at_once_and_still_builds(monkeypatch, tmp_path, capsys):
    """`make demo` on a machine without a display: the first line says so, the demo is built,
    and the last lines say how to open it (exit 0, not a failure after minutes of work)."""
    monkeypatch.setattr("sys.platform", "linux")
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
        monkeypatch.delenv(name, raising=False)
    code, out, err = run(capsys, "demo", "--small", "--dir", str(tmp_path / "d"))
    assert code == 0, err
    assert err.startswith("ioreview: no display")
    assert "xvfb-run -a ioreview --db" in out and "--user coordinator" in out
    assert (tmp_path / "d" / "ioreview.sqlite").exists()


def test_import_command_loads_only_what_importing_needs(tmp_path):
    """`ioreview import` starts without the protocol parser, the reading / coordination /
    adjudication result types, pydicom, numpy or pandas (issue 14: start-up is most of a small
    import's time), and still imports every file."""
    import subprocess
    import sys

    src = tmp_path / "in"
    src.mkdir()
    for name in ("CT_small.dcm", "MR_small.dcm"):
        (src / name).write_bytes(Path(get_testdata_file(name)).read_bytes())
    probe = (
        "import runpy, sys\n"
        f"sys.argv = ['ioreview', '--db', {str(tmp_path / 't.sqlite')!r}, 'import', {str(src)!r},"
        " '--json']\n"
        "try:\n    runpy.run_module('ioreview', run_name='__main__')\n"
        "except SystemExit as e:\n    code = e.code\n"
        "heavy = ('numpy', 'pydicom', 'pandas', 'sqlite_utils', 'scipy', 'PySide6', 'highdicom',\n"
        "         'adjudication.protocol', 'adjudication.discordance', 'adjudication.paradigms',\n"
        "         'ioreview.service.values_reading', 'ioreview.service.values_coordination',\n"
        "         'ioreview.service.values_adjudication', 'ioreview.service.workflow')\n"
        "print('LOADED', sorted(m for m in heavy if m in sys.modules), code)\n")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True).stdout
    summary = json.loads(out[:out.index("LOADED")])
    assert summary["imported"] == 2
    assert out.splitlines()[-1] == "LOADED [] 0"


def test_the_service_package_loads_its_values_on_first_use():
    """`import ioreview.service` loads neither the values nor the store: the export's worker
    (whose modules live in the package) loads its report libraries without them, and the
    export command forks it before they load; every name of the package's `__all__` is still
    there on first use."""
    import subprocess
    import sys

    probe = (
        "import sys\n"
        "import ioreview.service.exports.report_worker\n"
        "print(sorted(m for m in ('ioreview.service.values', 'ioreview.store.records')\n"
        "             if m in sys.modules))\n"
        "import ioreview.service as s\n"
        "names = s.__all__\n"
        "missing = [n for n in names if not hasattr(s, n)]\n"
        "from ioreview.service import Role, SeriesInfo, SubjectOutcomeView, Trial\n"
        "print(len(names), missing, Role.READER.value, 'Role' in dir(s))\n")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True).stdout.splitlines()
    assert out[0] == "[]"
    n, rest = out[1].split(" ", 1)
    assert int(n) > 60 and rest == "[] reader True"
