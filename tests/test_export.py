"""Exports of the demo trial: tidy tables in CSV / Parquet / JSON Lines with the codebook's
types, byte-identical on a second export, de-identified by default (no PHI of the demo in any
file), endpoints equal to the final outcomes, a signed and audited record whose manifest
hashes every file; the command line reads the password from stdin, never from argv."""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pydicom
import pytest

from ioreview.cli import main as cli_main
from ioreview.demo_reads import populate_demo
from ioreview.imaging.synthetic import DemoConfig, generate_demo_trial
from ioreview.service import InvalidInput, NotFound, PermissionDenied, SignatureRejected, Trial
from ioreview.service.exports.tables import TABLES
from test_trial_helpers import fast_kdf  # noqa: F401

pytestmark = pytest.mark.usefixtures("fast_kdf")
PANDAS_TYPES = {"string": "object", "integer": "Int64", "number": "float64",
                "boolean": "boolean"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("export-demo")
    files = generate_demo_trial(root / "files", DemoConfig.small(seed=1))
    db = root / "demo.sqlite"
    import ioreview.auth as auth

    saved = auth.DEFAULT_PARAMS
    auth.DEFAULT_PARAMS = auth.ScryptParams(n=2 ** 4, r=1, p=1)
    try:
        trial = Trial.open(db, archive_root=root / "archive")
        admin = trial.system_session("demo")
        trial.import_studies(admin, [files.dicom_dir])
        populate_demo(trial, admin, files.ground_truth_path, seed=2026)
        phi = set()
        for s in trial.list_studies(admin):
            for v in (s.patient_id, s.patient_name, s.accession_number, s.study_date):
                if v:
                    phi.add(str(v))
                    phi.update(p for p in re.split(r"[\^=]", str(v)) if len(p) >= 3)
        truth = json.loads(Path(files.ground_truth_path).read_text(encoding="utf-8"))
        for subject in truth["subjects"]:
            phi.add(subject["subject_id"])
            phi.add(subject["insertion_date"])
            phi.add(subject["insertion_date"].replace("-", ""))
        trial.close()
    finally:
        auth.DEFAULT_PARAMS = saved
    return db, root / "archive", phi


def _trial(demo) -> Trial:
    db, archive, _phi = demo
    return Trial.open(db, archive_root=archive)


def _copy_of(demo, tmp_path: Path) -> Path:
    """A copy of the demo's database, with its trial key and anchor journal, to change.  The
    database is copied through SQLite (what its write-ahead log holds too: an earlier test's
    trial may still be open), the journal after it, so it never anchors a record the copy
    lacks."""
    db = demo[0]
    copy = tmp_path / "copy.sqlite"
    with sqlite3.connect(db) as source, sqlite3.connect(copy) as target:
        source.backup(target)
    source.close()
    target.close()
    for suffix in (".key", ".anchor"):
        Path(f"{copy}{suffix}").write_bytes(Path(f"{db}{suffix}").read_bytes())
    return copy


def _export(trial: Trial, out: Path, **kw):
    session = trial.login("coordinator", "coordinator-demo")
    return trial.export_trial(session, out, "coordinator-demo", **kw)


def test_tables_load_with_the_codebooks_types_and_are_reproducible(demo, tmp_path):
    trial = _trial(demo)
    first = _export(trial, tmp_path / "a", formats=("csv", "parquet", "json"))
    second = _export(trial, tmp_path / "b", formats=("csv", "parquet", "json"))
    names = sorted(f.name for f in first.files)
    assert names == sorted(f.name for f in second.files)
    for name in names:  # byte-identical tables (only the manifest's time may differ)
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    manifest = json.loads((tmp_path / "a" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["audit_head"] == first.audit_head and manifest["parameters"]["identified"] is False
    for f in manifest["files"]:
        data = (tmp_path / "a" / f["name"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == f["sha256"]
    codebook = pd.read_csv(tmp_path / "a" / "codebook.csv", keep_default_na=False)
    for name, table in TABLES.items():
        columns = [c for c in table.columns if not c.identified_only]
        types = {c.name: PANDAS_TYPES[c.type] for c in columns}
        csv_frame = pd.read_csv(tmp_path / "a" / f"{name}.csv", na_values=["NA"],
                                keep_default_na=False, dtype=types)
        assert list(csv_frame.columns) == [c.name for c in columns]
        parquet = pd.read_parquet(tmp_path / "a" / f"{name}.parquet")
        assert list(parquet.columns) == list(csv_frame.columns)
        assert len(parquet) == len(csv_frame) == next(
            f["rows"] for f in manifest["files"] if f["name"] == f"{name}.csv")
        schema = pq.read_schema(tmp_path / "a" / f"{name}.parquet")
        for c in columns:  # the codebook's types are carried into Parquet
            assert str(schema.field(c.name).type) == {"string": "string", "integer": "int64",
                                                      "number": "double", "boolean": "bool"
                                                      }[c.type], (name, c.name)
            row = codebook[(codebook.table == name) & (codebook.column == c.name)]
            assert len(row) == 1 and row.iloc[0].type == c.type
    reads = pd.read_parquet(tmp_path / "a" / "reads.parquet")
    assert set(reads.reader) <= {"READER1", "READER2", "READER3"}
    assert reads.subject.str.match(r"SUBJ-\d{3}").all()
    assert (tmp_path / "a" / "codebook.html").read_text(encoding="utf-8").count("<h2") >= len(TABLES)
    trial.close()


def test_no_phi_in_a_de_identified_export_with_sr_and_images(demo, tmp_path):
    """Every file of a de-identified export (tables, SR, image copies) is free of the demo's
    names, IDs and dates; the SRs pass dciodvfy and reference the tables' image UIDs."""
    trial = _trial(demo)
    _export(trial, tmp_path / "x", formats=("csv", "parquet", "json"), include_sr=True,
            include_images=True)
    _db, _archive, phi = demo
    assert phi
    for path in (tmp_path / "x").rglob("*"):
        if path.is_file():
            text = path.read_bytes().decode("utf-8", "replace")
            found = [v for v in phi if v in text]
            assert not found, (path.name, found)
    srs = sorted((tmp_path / "x" / "sr").rglob("*.dcm"))
    assert srs and any(p.name == "final-outcome.dcm" for p in srs)
    image_refs = set(pd.read_csv(tmp_path / "x" / "annotations.csv", na_values=["NA"],
                                 keep_default_na=False).image_ref.dropna())
    images = {p.stem for p in (tmp_path / "x" / "images").rglob("*.dcm")}
    assert image_refs <= images
    import highdicom

    referenced: set[str] = set()
    for p in srs:
        sr = highdicom.sr.srread(p)
        for item in sr.CurrentRequestedProcedureEvidenceSequence:
            for series in item.ReferencedSeriesSequence:
                referenced.update(str(s.ReferencedSOPInstanceUID)
                                  for s in series.ReferencedSOPSequence)
    assert image_refs <= referenced <= images
    dciodvfy = shutil.which("dciodvfy")
    if dciodvfy is None:
        if os.environ.get("IOREVIEW_REQUIRE_DCIODVFY") == "1":
            pytest.fail("dciodvfy (dicom3tools) is required but missing")
    else:
        for p in srs[:40]:
            out = subprocess.run([dciodvfy, str(p)], capture_output=True, text=True)
            errors = [line for line in (out.stdout + out.stderr).splitlines()
                      if line.startswith("Error")]
            assert not errors, (p.name, errors)
    trial.close()


def test_endpoints_equal_the_final_outcomes_and_identified_export_is_audited(demo, tmp_path):
    trial = _trial(demo)
    summary = _export(trial, tmp_path / "id", identified=True)
    coord = trial.login("coordinator", "coordinator-demo")
    _cases, subjects = trial.final_outcomes(coord)
    table = pd.read_csv(tmp_path / "id" / "subject_endpoints.csv", na_values=["NA"],
                        keep_default_na=False)
    assert "subject_id" in table.columns
    for s in subjects:
        for e in s.endpoints:
            row = table[(table.subject_id == s.subject) & (table.finding == e.finding)]
            assert len(row) == 1
            got = row.iloc[0]
            want = "NA" if e.present_any is None else e.present_any
            assert (pd.isna(got.present_any) and want == "NA") or bool(got.present_any) == want
            assert (pd.isna(got.first_timepoint) and e.first_timepoint is None) or \
                got.first_timepoint == e.first_timepoint
            assert got.cases_final == e.cases_final and got.cases_total == e.cases_total
    audit = trial.store.audit_records("export", summary.export_id)
    assert audit and audit[-1].after["identified"] is True
    assert trial.verify_audit_trail(coord).problems == ()
    trial.close()


def test_export_is_refused_without_the_right_password_role_or_folder(demo, tmp_path):
    trial = _trial(demo)
    coord = trial.login("coordinator", "coordinator-demo")
    with pytest.raises(SignatureRejected):
        trial.export_trial(coord, tmp_path / "no", "wrong")
    assert not (tmp_path / "no").exists() and not (tmp_path / "no.part").exists()
    with pytest.raises(PermissionDenied):
        trial.export_trial(trial.login("reader1", "reader1-demo"), tmp_path / "r", "reader1-demo")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    with pytest.raises(InvalidInput, match="empty folder"):
        trial.export_trial(coord, tmp_path / "full", "coordinator-demo")
    with pytest.raises(InvalidInput, match="format"):
        trial.export_trial(coord, tmp_path / "f", "coordinator-demo", formats=("xlsx",))
    # images without the SR that references them: refused, not silently left out
    with pytest.raises(InvalidInput, match="--include-sr"):
        trial.export_trial(coord, tmp_path / "i", "coordinator-demo", include_images=True)
    assert not (tmp_path / "i").exists() and not (tmp_path / "i.part").exists()
    # refused before anything is gathered or written, not by the report's worker at the end
    with pytest.raises(InvalidInput, match="report language 'zh'.*en, zh_CN"):
        trial.export_trial(coord, tmp_path / "l", "coordinator-demo", report=True,
                           language="zh")
    assert not (tmp_path / "l").exists() and not (tmp_path / "l.part").exists()
    trial.close()


def test_the_service_knows_the_report_languages_the_report_writes():
    from ioreview.service.exports.report import LANGUAGES
    from ioreview.service.exports.trial_export import REPORT_LANGUAGES

    assert REPORT_LANGUAGES == LANGUAGES


def test_a_changed_export_record_breaks_its_signature(demo, tmp_path):
    db, archive, _phi = demo
    copy = _copy_of(demo, tmp_path)
    trial = Trial.open(copy, archive_root=archive)
    summary = _export(trial, tmp_path / "e")
    # the manifest anchors the trail: its length and head match
    manifest = json.loads(summary.manifest.read_text("utf-8"))
    assert manifest["audit_length"] > 0
    assert trial.verify_audit_trail(trial.login("admin", "admin-demo"), [summary.manifest]).intact
    trial.close()
    change = ("UPDATE export_record SET manifest_sha256 = ? WHERE id = ?",
              ("0" * 64, summary.export_id))
    with sqlite3.connect(copy) as conn:
        with pytest.raises(sqlite3.IntegrityError, match="export records cannot be changed"):
            conn.execute(*change)
    # someone who can write the file drops the trigger first: the signature still tells
    with sqlite3.connect(copy) as conn:
        conn.execute("DROP TRIGGER export_record_no_update")
        conn.execute(*change)
    trial = Trial.open(copy, archive_root=archive)
    problems = trial.verify_audit_trail(trial.login("admin", "admin-demo")).problems
    assert any("export" in p for p in problems)
    assert any("export_record_no_update" in p for p in problems)
    trial.close()


def test_export_command_reads_the_password_from_stdin(demo, tmp_path, monkeypatch, capsys):
    import io

    db, archive, _phi = demo
    monkeypatch.setattr("sys.stdin", io.StringIO("coordinator-demo\n"))
    code = cli_main(["--db", str(db), "--archive", str(archive), "export", "--out",
                     str(tmp_path / "cli"), "--format", "csv,json", "--user", "coordinator",
                     "--password-stdin"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "Exported" in out and (tmp_path / "cli" / "reads.jsonl").exists()
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    code = cli_main(["--db", str(db), "export", "--out", str(tmp_path / "cli2"), "--user",
                     "coordinator"])
    assert code == 2 and "--password-file" in capsys.readouterr().err


def test_export_command_with_the_report_as_a_user_runs_it(demo, tmp_path):
    """`ioreview export --report` in its own process: the command starts the report worker's
    server before it opens the trial, the worker is forked from it, and the report is written
    (in Chinese here) beside the tables."""
    import sys

    db, archive, _phi = demo
    secret = tmp_path / "password"
    secret.write_text("coordinator-demo\n")
    secret.chmod(0o600)
    out = tmp_path / "with-report"
    done = subprocess.run(
        [sys.executable, "-m", "ioreview", "--db", str(db), "--archive", str(archive),
         "--user", "coordinator", "--password-file", str(secret), "export", "--out", str(out),
         "--format", "csv", "--include-sr", "--report", "--lang", "zh_CN"],
        capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "Exported" in done.stdout
    assert (out / "report" / "report.pdf").read_bytes().startswith(b"%PDF-")
    assert 'lang="zh-CN"' in (out / "report" / "report.html").read_text(encoding="utf-8")
    assert (out / "reads.csv").exists()
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    listed = {f["name"] for f in manifest["files"]}
    assert "report/report.pdf" in listed
    sr = {p.relative_to(out).as_posix() for p in (out / "sr").rglob("*.dcm")}
    assert sr and sr <= listed


def test_images_with_unreviewed_burned_in_text_are_withheld_and_sr_still_written(demo, tmp_path):
    """A series whose burned-in text was neither masked nor cleared leaves no image in a
    de-identified export (the manifest counts it); its header still serves as SR evidence (no
    pixel reaches an SR); masked series leave with the coordinator's mask applied."""
    db, archive, phi = demo
    copy = _copy_of(demo, tmp_path)
    with sqlite3.connect(copy) as conn:
        masked = [pk for (pk,) in conn.execute(
            "SELECT series_pk FROM burned_in_review WHERE status = 'masked'")]
        # an unreviewed flag on every reviewed series: as if nobody had looked yet
        conn.execute("UPDATE burned_in_review SET status = 'flagged', mask_id = NULL"
                     " WHERE status <> 'not_flagged'")
        n_flagged = conn.execute(
            "SELECT COUNT(*) FROM burned_in_review WHERE status = 'flagged'").fetchone()[0]
    assert masked and n_flagged
    trial = Trial.open(copy, archive_root=archive)
    summary = _export(trial, tmp_path / "x", formats=("csv",), include_sr=True,
                      include_images=True)
    trial.close()
    manifest = json.loads(summary.manifest.read_text("utf-8"))
    assert manifest["images_withheld"] > 0
    images = sorted((tmp_path / "x" / "images").rglob("*.dcm"))
    named = {f["name"] for f in manifest["files"]}
    assert all(p.relative_to(tmp_path / "x").as_posix() in named for p in images)
    assert all(pydicom.dcmread(p, stop_before_pixels=True).get("BurnedInAnnotation", "NO")
               != "YES" for p in images)
    assert sorted((tmp_path / "x" / "sr").rglob("*.dcm"))
    # the untouched demo: masked series leave masked, none withheld
    trial = _trial(demo)
    summary = _export(trial, tmp_path / "y", formats=("csv",), include_sr=True,
                      include_images=True)
    trial.close()
    assert json.loads(summary.manifest.read_text("utf-8"))["images_withheld"] == 0


def test_full_export_with_the_report_written_by_the_worker_process(demo, tmp_path):
    """Tables, SR and the report in one export: the report comes from the worker process (on
    a machine with more than one core), is listed in the manifest with its hash, and the
    agreement table is written alongside."""
    trial = _trial(demo)
    summary = _export(trial, tmp_path / "out", formats=("csv",), include_sr=True, report=True)
    out = tmp_path / "out"
    html, pdf = out / "report" / "report.html", out / "report" / "report.pdf"
    assert html.is_file() and pdf.read_bytes()[:5] == b"%PDF-"
    assert "<html" in html.read_text(encoding="utf-8")
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    listed = json.dumps(manifest)
    assert "report/report.pdf" in listed and "report/report.html" in listed
    assert len((out / "agreement.csv").read_text(encoding="utf-8").splitlines()) > 1
    assert any((out / "sr").rglob("*.dcm"))
    if (os.cpu_count() or 1) > 1 and len(os.sched_getaffinity(0)) > 1:
        assert summary.timings["report_worker_s"] > 0 and summary.timings["gather_s"] > 0
    trial.close()


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2,
                    reason="the report's worker process exists from two cores")
def test_the_worker_starts_taking_sr_cases_when_its_first_pays_and_then_takes_them_to_the_end():
    """The rule that hands SR cases to the worker once the report is written: its first case
    (which loads the SR modules and templates) only with enough cases left, and alone; once
    it has written one, cases to the last, two waiting at most."""
    from collections import deque
    from concurrent.futures import Future
    from types import SimpleNamespace

    from ioreview.service.exports.trial_export import SR_HAND_MIN_CASES, _Export

    def future(done: bool) -> Future:
        f: Future = Future()
        if done:
            f.set_result(None)
        return f

    export = SimpleNamespace(_report_task=future(False), _handed=deque(), _worker_warm=False,
                             _cases_left=SR_HAND_MIN_CASES + 10)
    takes = lambda: _Export._worker_takes_sr(export)  # noqa: E731
    assert not takes()  # the report is not written yet
    export._report_task = future(True)
    assert takes()
    export._handed.append(future(False))
    assert not takes()  # its first case is being written: no second before it is done
    export._cases_left = SR_HAND_MIN_CASES - 1
    export._handed = deque()
    assert not takes()  # a first case would not pay for its start this close to the end
    export._handed.append(future(True))  # ... but it has written one already
    assert takes() and export._worker_warm
    export._cases_left = 0
    assert takes()  # to the last case
    export._handed.extend([future(False), future(False)])
    assert not takes()  # two waiting there already


def test_sr_cases_the_worker_writes_after_the_report_are_the_same_files(demo, tmp_path,
                                                                         monkeypatch):
    """Once the worker has written the report it takes SR cases too (two waiting at most),
    and what it writes is what this process writes: every element equal but the times of
    writing (instance creation, and the de-identification's contribution time).  Here the
    report's task is done before the first case, so the worker is offered every case."""
    from concurrent.futures import Future

    import pydicom

    from ioreview.service.exports import trial_export

    def content(path: Path) -> pydicom.Dataset:
        ds = pydicom.dcmread(path)
        for item in ds.get("ContributingEquipmentSequence", []):
            item.pop("ContributionDateTime", None)
        for keyword in ("InstanceCreationDate", "InstanceCreationTime"):
            ds.pop(keyword, None)
        return ds

    trial = _trial(demo)
    here = tmp_path / "here"
    _export(trial, here, formats=("csv",), include_sr=True)  # no report: every SR here

    def report_already_written(self, language):
        done: Future = Future()
        done.set_result(([], 0.0, 0.0))
        return done

    monkeypatch.setattr(trial_export._Export, "_report", report_already_written)
    monkeypatch.setattr(trial_export, "SR_HAND_MIN_CASES", 0)  # the demo has few cases
    shared = tmp_path / "shared"
    summary = _export(trial, shared, formats=("csv",), include_sr=True, report=True)
    trial.close()
    assert summary.timings["sr_cases_in_worker"] > 0
    written = sorted(p.relative_to(here) for p in (here / "sr").rglob("*.dcm"))
    assert written and written == sorted(p.relative_to(shared)
                                         for p in (shared / "sr").rglob("*.dcm"))
    for name in written:
        a, b = content(here / name), content(shared / name)
        assert a == b and a.file_meta == b.file_meta, name
    listed = {f["name"] for f in json.loads((shared / "manifest.json").read_text())["files"]}
    assert {p.as_posix() for p in written} <= listed


def _descendants(pid: int) -> set[int]:
    """The processes below `pid` (Linux /proc)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def _alive(pids: set[int]) -> set[int]:
    alive = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            alive.add(pid)
    return alive


_IN_PROCESS_EXPORT = """
import sys
from ioreview.service import Trial
db, archive, out = sys.argv[1:4]
trial = Trial.open(db, archive_root=archive)
session = trial.login("coordinator", "coordinator-demo")
trial.export_trial(session, out, "coordinator-demo", formats=("csv",), include_sr=True,
                   report=True)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux") or len(os.sched_getaffinity(0)) < 2,
                    reason="reads /proc; the report has its own process from two cores")
@pytest.mark.parametrize("how", ["command", "in process"])
def test_a_killed_export_leaves_no_worker_behind(demo, tmp_path, how):
    """Killing an export with a report (SIGKILL: no clean-up runs) ends its worker process:
    the one the command forks (`ioreview export --report`) and the one a forkserver forks for
    an export in a running application; before, both waited for work forever."""
    import signal
    import time

    db, archive, _phi = demo
    copy = _copy_of(demo, tmp_path)
    if how == "command":
        secret = tmp_path / "password"
        secret.write_text("coordinator-demo\n")
        secret.chmod(0o600)
        argv = [sys.executable, "-m", "ioreview", "--db", str(copy), "--archive", str(archive),
                "--user", "coordinator", "--password-file", str(secret), "export", "--out",
                str(tmp_path / "out"), "--format", "csv", "--include-sr", "--report"]
    else:
        argv = [sys.executable, "-c", _IN_PROCESS_EXPORT, str(copy), str(archive),
                str(tmp_path / "out")]
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        staging = tmp_path / "out.part"  # the export has begun: it has its worker
        deadline = time.monotonic() + 60
        while not staging.exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.3)
        below = _descendants(process.pid)
        assert below and process.poll() is None, "the export ended before it was killed"
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        deadline = time.monotonic() + 30
        while _alive(below) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(below), f"left behind: {sorted(_alive(below))}"
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_a_failed_export_command_does_not_wait_for_its_worker(demo, tmp_path):
    """`ioreview export --report` forks its worker before it logs in; when the log-in fails,
    the command ends that worker at once instead of waiting for it to load the report's
    libraries, and leaves no process behind."""
    db, archive, _phi = demo
    copy = _copy_of(demo, tmp_path)
    secret = tmp_path / "password"
    secret.write_text("not-the-password\n")
    secret.chmod(0o600)
    script = (
        "import multiprocessing, sys\n"
        "from ioreview.cli import main\n"
        "code = main(sys.argv[1:])\n"
        "print('children', len(multiprocessing.active_children()))\n"
        "sys.exit(code)\n")
    done = subprocess.run(
        [sys.executable, "-c", script, "--db", str(copy), "--archive", str(archive), "--user",
         "coordinator", "--password-file", str(secret), "export", "--out",
         str(tmp_path / "out"), "--format", "csv", "--report"],
        capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert "wrong password" in done.stderr
    assert "children 0" in done.stdout
    assert not (tmp_path / "out").exists()


def test_a_new_process_verifies_every_kind_of_signature(demo, tmp_path):
    """`ioreview audit verify` in a process that has neither adjudicated nor exported knows
    every signable kind; before, it found each adjudication, committee and export signature
    "unknown" (their content builders registered only when their modules loaded) and called
    an untouched trial NOT intact, and so did restore's check of a backup."""
    db, archive, _phi = demo
    copy = _copy_of(demo, tmp_path)
    trial = Trial.open(copy, archive_root=archive)
    _export(trial, tmp_path / "e")
    trial.close()
    with sqlite3.connect(copy) as conn:
        kinds = {k for (k,) in conn.execute("SELECT DISTINCT entity_kind FROM signature_record")}
    assert kinds == {"read", "adjudication", "panel_ballot", "panel_session", "export"}
    secret = tmp_path / "password"
    secret.write_text("admin-demo\n")
    secret.chmod(0o600)
    done = subprocess.run(
        [sys.executable, "-m", "ioreview", "--db", str(copy), "--archive", str(archive),
         "--user", "admin", "--password-file", str(secret), "audit", "verify"],
        capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Audit trail intact" in done.stdout
    # restore checks a backup the same way, in its own new process
    base = [sys.executable, "-m", "ioreview"]
    done = subprocess.run([*base, "--db", str(copy), "--archive", str(archive), "--user",
                           "admin", "--password-file", str(secret), "backup",
                           str(tmp_path / "backup")],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    done = subprocess.run([*base, "--db", str(tmp_path / "restored.sqlite"), "--archive",
                           str(tmp_path / "restored-archive"), "restore",
                           str(tmp_path / "backup"), "--key", f"{copy}.key"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Restored and verified" in done.stdout


def test_every_signable_kind_names_the_module_that_rebuilds_its_content():
    import importlib
    import pkgutil

    import ioreview.service
    from ioreview.service import signatures

    for info in pkgutil.walk_packages(ioreview.service.__path__, "ioreview.service."):
        if not info.name.endswith("report_preload"):
            importlib.import_module(info.name)
    assert set(signatures.CONTENT_BUILDERS) == {"read", *signatures.BUILDER_MODULES}
    for kind, module in signatures.BUILDER_MODULES.items():
        assert signatures.CONTENT_BUILDERS[kind].__module__ == module, kind


def _archived_paths(db: Path) -> dict[str, list[Path]]:
    """The archived image files of each case of a trial database, by case label."""
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT c.label, i.path FROM instance i JOIN case_series cs ON "
                            "cs.series_pk = i.series_pk JOIN review_case c ON c.id = cs.case_id "
                            "ORDER BY c.label, i.path").fetchall()
    conn.close()
    out: dict[str, list[Path]] = {}
    for label, path in rows:
        out.setdefault(label, []).append(Path(path))
    return out


def test_an_archived_image_damaged_or_removed_after_import_stops_the_export_with_its_name(
        demo, tmp_path):
    """An SR's source image or a key image that can no longer be read (the archive damaged
    behind the application's back) stops the export with one message naming the case and
    the file, and nothing is written; before, a traceback (pydicom's InvalidDicomError, the
    renderer's UnsupportedImage from the worker)."""
    db, archive, _phi = demo
    copy = _copy_of(demo, tmp_path)
    trial = Trial.open(copy, archive_root=archive)
    first = _export(trial, tmp_path / "first", formats=("csv",), include_sr=True)
    with_sr = sorted(p.name for p in (first.out_dir / "sr").iterdir())
    files = _archived_paths(copy)
    label = with_sr[0]
    kept = {p: p.read_bytes() for paths in files.values() for p in paths}
    try:
        for victim in files[label]:  # the case's images: its SR's evidence among them
            victim.write_bytes(b"garbage")
        with pytest.raises(NotFound, match=rf"Case {label}: the archived image (\S+) cannot be "
                                           r"read \(not a DICOM file\).*nothing was exported"
                           ) as damaged:
            _export(trial, tmp_path / "damaged", formats=("csv",), include_sr=True)
        named = Path(str(damaged.value).split(" the archived image ", 1)[1].split(" cannot")[0])
        assert named in files[label]
        for victim in files[label]:
            victim.unlink()
        with pytest.raises(NotFound, match=rf"Case {label}: .* cannot be read \(No such file or "
                                           r"directory\)"):
            _export(trial, tmp_path / "removed", formats=("csv",), include_sr=True,
                    include_images=True)
        for p in kept:  # every image damaged: the report's first key image says so
            p.write_bytes(b"garbage")
        with pytest.raises(NotFound, match=r"Key image 1 \(CASE-.*cannot be shown.*nothing "
                                           "was exported"):
            _export(trial, tmp_path / "report", formats=("csv",), report=True)
    finally:
        for p, data in kept.items():
            p.write_bytes(data)
        trial.close()
    for name in ("damaged", "removed", "report"):
        assert not (tmp_path / name).exists() and not (tmp_path / f"{name}.part").exists()
