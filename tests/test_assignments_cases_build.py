"""`ioreview cases build` on real files that were never meant to be one trial's timepoints
(pydicom's test files): a clear refusal, never an invented "follow-up +1947"."""
from __future__ import annotations

import shutil
from pathlib import Path

import pydicom
import pytest

from adjudication.protocol import default_protocol_path
from ioreview.cli import main
from ioreview.errors import InvalidInput, NotFound
from ioreview.service import Trial

# One patient (77654033) whose CT is of 1995-09-03 and whose radiographs are of 2001-01-01.
SUBJECT_DIR = Path(pydicom.__file__).parent / "data" / "test_files" / "dicomdirtests" / "77654033"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_cases_build_without_protocol_then_with_absurd_offsets(tmp_path, capsys):
    incoming = tmp_path / "incoming"
    shutil.copytree(SUBJECT_DIR, incoming)
    db = str(tmp_path / "t.sqlite")
    code, _out, err = run(capsys, "--db", db, "import", str(incoming))
    assert code == 0, err

    code, out, err = run(capsys, "--db", db, "cases", "build")
    assert code == 2
    assert "No read protocol is installed" in err and "protocol install" in err
    assert "Traceback" not in out + err and "follow-up" not in out + err

    code, _out, err = run(capsys, "--db", db, "protocol", "install",
                          str(default_protocol_path()))
    assert code == 0, err
    code, out, err = run(capsys, "--db", db, "cases", "build")
    assert code == 2
    assert "+1947" in err  # named as the problem, with its subject and dates
    assert "subject 77654033" in err and "2001-01-01" in err and "1995-09-03" in err
    assert "earliest study, taken as the insertion date" in err
    assert "Cases tab" in err
    assert "follow-up" not in out and "Traceback" not in err
    code, out, err = run(capsys, "--db", db, "cases", "list")
    assert code == 0 and out.strip() == ""  # nothing was built


def test_plausible_offsets_still_build(tmp_path):
    """The same subject with a given insertion date near its CT: the CT gets a timepoint, the
    radiographs five years later are refused by name (service level, both branches)."""
    trial = Trial.open(tmp_path / "t.sqlite")
    try:
        admin = trial.system_session("t")
        ct_only = tmp_path / "ct"
        shutil.copytree(SUBJECT_DIR / "CT2", ct_only)
        trial.import_studies(admin, [ct_only])
        with pytest.raises(NotFound, match="No read protocol"):
            trial.build_cases_from_studies(admin)
        trial.install_protocol(admin, default_protocol_path())
        cases = trial.build_cases_from_studies(admin, {"77654033": "1995-09-02"})
        assert [(c.timepoint, c.days_from_insertion) for c in cases] == [("post-insertion", 1)]
        cr = tmp_path / "cr"
        shutil.copytree(SUBJECT_DIR / "CR1", cr)
        trial.import_studies(admin, [cr])
        with pytest.raises(InvalidInput, match=r"\+1948 days from 1995-09-02 \(given"):
            trial.build_cases_from_studies(admin, {"77654033": "1995-09-02"})
        assert len(trial.list_cases(admin)) == 1
    finally:
        trial.close()
