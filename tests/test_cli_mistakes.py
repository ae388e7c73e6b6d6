"""Command-line mistakes a new user makes: each one is a single line naming what is wrong and
exit status 2 (an import that imported nothing: 1), never a traceback."""
from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file

from ioreview.cli import EXIT_BROKEN_PIPE, main

CT = get_testdata_file("CT_small.dcm")
CINE = get_testdata_file("emri_small.dcm")  # 10 frames


def run(capsys, *argv: str) -> tuple[int, str, str]:
    """Exit status, stdout and stderr of `ioreview ARGV` (argparse's mistakes exit)."""
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def one_line(err: str) -> str:
    assert err.count("\n") == 1 and err.endswith("\n"), err
    assert "Traceback" not in err
    return err


@pytest.mark.parametrize("argv, says", [
    (["--frame", "99999"], "--frame 99999: "),
    (["--frame", "-1"], "frames are numbered from 1, not -1"),
    (["--frame", "0"], "frames are numbered from 1, not 0"),
    (["--frame", "two"], "'two' is not a whole number"),
    (["--preset", "nosuch"], "unknown preset 'nosuch'; choose one of soft_tissue, bone"),
    (["--window", "40", "0"], "--window 40 0: the width must be at least 1"),
    (["--window", "nan", "nan"], "'nan' is not a finite number"),
    (["--window", "40", "inf"], "'inf' is not a finite number"),
])
def test_render_mistakes(capsys, tmp_path, argv, says) -> None:
    code, _, err = run(capsys, "render", CT, *argv, "--out", str(tmp_path / "x.png"))
    assert code == 2
    assert says in one_line(err)
    assert not (tmp_path / "x.png").exists()


def test_frame_out_of_range_names_the_frames_there_are(capsys, tmp_path) -> None:
    code, _, err = run(capsys, "render", CINE, "--frame", "11", "--out", str(tmp_path / "x.png"))
    assert code == 2
    assert f"--frame 11: {CINE} has 10 frame(s), numbered 1 to 10" in one_line(err)


def test_frames_are_numbered_as_the_viewer_numbers_them(capsys, tmp_path) -> None:
    import imageio.v3 as iio

    from ioreview.imaging.render import render_frame

    for n in (1, 2, 10):
        out = tmp_path / f"f{n}.png"
        assert run(capsys, "render", CINE, "--frame", str(n), "--out", str(out))[0] == 0
        assert np.array_equal(iio.imread(out), render_frame(CINE, n - 1))
    assert not np.array_equal(iio.imread(tmp_path / "f1.png"), iio.imread(tmp_path / "f2.png"))


@pytest.mark.parametrize("name", ["soft_tissue", "soft tissue", "fat_fluid", "bone_narrow",
                                  "full_range", "auto"])
def test_presets_accept_the_names_help_lists(capsys, tmp_path, name) -> None:
    code, out, err = run(capsys, "render", CT, "--preset", name, "--out", str(tmp_path / "p.png"))
    assert code == 0, err
    assert "Wrote" in out


def test_a_preset_of_another_modality_names_the_ones_there_are(capsys, tmp_path) -> None:
    mr = get_testdata_file("MR_small.dcm")
    code, _, err = run(capsys, "render", mr, "--preset", "lung", "--out", str(tmp_path / "x.png"))
    assert code == 2
    assert "unknown preset 'lung' for MR: choose one of auto, full_range" in one_line(err)


def test_an_undisplayable_file_is_one_line_naming_its_path_once(capsys, tmp_path) -> None:
    bogus = tmp_path / "x.txt"
    bogus.write_text("hello")
    code, _, err = run(capsys, "render", str(bogus), "--out", str(tmp_path / "x.png"))
    assert code == 2 and one_line(err).count(str(bogus)) == 1
    ds = pydicom.dcmread(CT)
    ds.RescaleSlope = 0
    zero = tmp_path / "zero_slope.dcm"
    ds.save_as(zero)
    code, _, err = run(capsys, "render", str(zero), "--out", str(tmp_path / "x.png"))
    assert code == 2 and "Rescale Slope 0" in one_line(err) and err.count(str(zero)) == 1
    code, _, err = run(capsys, "render", CT, "--out", str(tmp_path / "no" / "x.png"))
    assert code == 2 and "does not exist" in one_line(err)


@pytest.mark.parametrize("command", [["import", CT], ["users"], ["app"], ["audit"]])
def test_db_in_a_missing_folder_is_refused_and_nothing_is_created(capsys, tmp_path, command
                                                                  ) -> None:
    db = tmp_path / "no" / "such" / "dir" / "x.sqlite"
    code, _, err = run(capsys, "--db", str(db), *command)
    assert code == 2
    assert f"the folder {db.parent} does not exist" in one_line(err) or \
        f"no database at {db}" in err
    assert not (tmp_path / "no").exists()


def test_db_that_is_a_folder_is_refused(capsys, tmp_path) -> None:
    code, _, err = run(capsys, "--db", str(tmp_path), "users")
    assert code == 2 and "is a folder" in one_line(err)


def test_info_and_audit_never_create_a_database(capsys, tmp_path, monkeypatch) -> None:
    db = tmp_path / "none.sqlite"
    for command in ("info", "audit"):
        code, _, err = run(capsys, "--db", str(db), command)
        assert code == 2 and f"no database at {db}" in one_line(err)
    monkeypatch.setenv("IOREVIEW_DB", str(db))
    code, _, err = run(capsys, "info", "--json")
    assert code == 2 and "no database" in one_line(err)
    assert list(tmp_path.iterdir()) == []


def test_the_default_database_folder_is_created(capsys, tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("IOREVIEW_DB", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    code, _, err = run(capsys, "users")
    assert code == 0, err
    assert (tmp_path / "data" / "ioreview" / "ioreview.sqlite").is_file()


def test_an_import_that_imported_nothing_exits_1(capsys, tmp_path) -> None:
    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / "a.txt").write_text("not dicom")
    (junk / "b.dcm").write_bytes(b"")
    db = str(tmp_path / "t.sqlite")
    code, out, err = run(capsys, "--db", db, "import", str(junk))
    assert code == 1
    assert "Imported 0 of 2 files" in out and "Nothing was imported." in err
    assert run(capsys, "--db", db, "import", CT)[0] == 0
    # everything already there is not a failure
    assert run(capsys, "--db", db, "import", CT)[0] == 0


def test_users_add_without_a_terminal_says_how_to_give_the_password(capsys, tmp_path,
                                                                    monkeypatch) -> None:
    db = str(tmp_path / "t.sqlite")
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    code, _, err = run(capsys, "--db", db, "users", "add", "r1")
    assert code == 2 and "no terminal to ask the password on; use --password-stdin" in \
        one_line(err)
    monkeypatch.setattr(sys, "stdin", io.StringIO("a-long-password\n"))
    code, out, err = run(capsys, "--db", db, "users", "add", "r1", "--password-stdin")
    assert code == 0 and "Created r1" in out, err


def test_argument_mistakes_are_one_line(capsys) -> None:
    for argv in (["users", "add"], ["protocol", "check"], ["nosuchcommand"],
                 ["users", "add", "x", "--role", "king"]):
        code, _, err = run(capsys, *argv)
        assert code == 2
        err = one_line(err)
        assert err.startswith("ioreview") and "--help" in err


def test_a_closed_pipe_ends_the_output_quietly(tmp_path, capsys, monkeypatch) -> None:
    db = tmp_path / "t.sqlite"
    monkeypatch.setattr(sys, "stdin", io.StringIO("Knee-needle-2026\n"))
    assert run(capsys, "--db", str(db), "admin", "init", "boss", "--password-stdin")[0] == 0
    secret = tmp_path / "pw"
    secret.write_text("Knee-needle-2026\n")
    secret.chmod(0o600)
    env = {**os.environ, "IOREVIEW_DB": str(db), "IOREVIEW_USER": "boss"}
    proc = subprocess.Popen([sys.executable, "-m", "ioreview.cli", "--password-file",
                             str(secret), "users"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None
    proc.stdout.close()  # like `| head -0`
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == EXIT_BROKEN_PIPE
    assert err == b""
