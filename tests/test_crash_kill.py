"""SIGKILL at random moments while a workstation imports studies (copied into the archive, and
from zips) and signs reads (first signatures and signed amendments).  After every kill, the
next start must find a sound database: `PRAGMA integrity_check` ok, `ioreview audit` passing,
every signature the killed process saw committed still there, and no `.part` file, extraction
folder or unfinished import run left over.

Killed processes are forked from a helper that imported everything once (a fresh interpreter
per kill would spend the test's time importing).  IOREVIEW_CRASH_KILLS sets the number of
kills (100 here; `make crash` runs 500).
"""
from __future__ import annotations

import io
import multiprocessing
import os
import random
import signal
import time
from multiprocessing.connection import Connection
from pathlib import Path

import pytest

from test_trial_helpers import PASSWORDS, complete_values, fast_kdf, make_world  # noqa: F401

pytestmark = [pytest.mark.usefixtures("fast_kdf"),
              pytest.mark.skipif(os.name != "posix", reason="SIGKILL and fork")]

KILLS = int(os.environ.get("IOREVIEW_CRASH_KILLS", "100"))
READERS = ("reader1", "reader2", "reader3")


def _ct_files(folder: Path, n: int, rng: random.Random) -> list[Path]:
    import pydicom
    from pydicom.data import get_testdata_file
    from pydicom.uid import generate_uid

    folder.mkdir(parents=True, exist_ok=True)
    ds = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.PatientID = f"CRASH-{rng.randrange(10 ** 6)}"
    out = []
    for i in range(n):
        ds.SOPInstanceUID = generate_uid()
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        ds.InstanceNumber = i + 1
        buf = io.BytesIO()
        ds.save_as(buf, enforce_file_format=True)
        path = folder / f"{i}.dcm"
        path.write_bytes(buf.getvalue())
        out.append(path)
    return out


def _workstation(db: str, archive: str, work: str, journal: str, seed: int) -> None:
    """Import and sign until killed; append each signature the service confirmed."""
    import zipfile

    from ioreview.service import ReadStatus, Trial

    rng = random.Random(seed)
    trial = Trial.open(db, archive_root=archive)
    admin = trial.login("admin", PASSWORDS["admin"])
    reader = rng.choice(READERS)
    session = trial.login(reader, PASSWORDS[reader])
    n = 0
    while True:
        n += 1
        op = rng.choice(("copy", "zip", "sign", "sign"))
        if op == "copy":
            folder = Path(work) / f"{seed}-{n}"
            _ct_files(folder, 6, rng)
            trial.import_studies(admin, [folder], copy_to=trial.archive_dir)
        elif op == "zip":
            folder = Path(work) / f"{seed}-{n}"
            files = _ct_files(folder, 4, rng)
            z = folder.with_suffix(".zip")
            with zipfile.ZipFile(z, "w") as zf:
                for f in files:
                    zf.write(f, f"series/{f.name}")
            trial.import_studies(admin, [z])
        else:
            items = trial.worklist(session)
            item = rng.choice(items)
            if item.status == ReadStatus.SUBMITTED and item.read_id is not None:
                quality = rng.choice(("adequate", "limited"))
                sig = trial.amend_read(session, item.read_id, f"crash test {seed}-{n}",
                                       {"image_quality": quality}, PASSWORDS[reader])
                read_id = item.read_id
            else:
                view = trial.open_case(session, item.assignment_id)
                trial.save_draft(session, view.read_id, complete_values(view.timepoint))
                sig = trial.submit_read(session, view.read_id, PASSWORDS[reader])
                read_id = view.read_id
            with open(journal, "a") as f:
                f.write(f"{reader} {read_id} {sig.version}\n")
                f.flush()
                os.fsync(f.fileno())


def _factory(conn: Connection, db: str, archive: str, work: str, journal: str) -> None:
    """Fork a workstation per request (this process has imported everything and holds no
    database connection or thread, so a fork starts work at once)."""
    import ioreview.importing  # noqa: F401 - preloaded for the forks
    import ioreview.service  # noqa: F401
    import pydicom.pixels  # noqa: F401

    while True:
        seed = conn.recv()
        if seed is None:
            return
        pid = os.fork()
        if pid == 0:
            try:
                _workstation(db, archive, work, journal, seed)
            finally:
                os._exit(3)  # only reached when the workstation failed before its kill
        conn.send(pid)
        _, status = os.waitpid(pid, 0)
        conn.send(status)


def test_sigkill_during_import_and_signing_leaves_a_sound_trial(tmp_path: Path, capsys
                                                               ) -> None:
    from ioreview.cli import main
    from ioreview.service import Trial
    from ioreview.store import dicom_index as di

    w = make_world(tmp_path)
    db = w.store.target
    archive = tmp_path / "archive"
    w.trial.close()
    journal = tmp_path / "signatures.txt"
    journal.touch()
    secret = tmp_path / "admin.pw"
    secret.write_text(PASSWORDS["admin"] + "\n")
    secret.chmod(0o600)
    ctx = multiprocessing.get_context("spawn")
    ours, theirs = ctx.Pipe()
    factory = ctx.Process(target=_factory, args=(theirs, db, str(archive),
                                                 str(tmp_path / "incoming"), str(journal)))
    factory.start()
    rng = random.Random(13)
    checked = 0
    seen: dict[str, set[int]] = {}
    recovered = {"runs": 0, "partials": 0, "extractions": 0, "orphans": 0}
    t0 = time.perf_counter()
    try:
        for kill in range(KILLS):
            ours.send(kill)
            pid = ours.recv()
            time.sleep(rng.uniform(0.03, 0.4))
            os.kill(pid, signal.SIGKILL)
            status = ours.recv()
            assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL, \
                f"kill {kill}: the workstation stopped by itself (status {status})"
            # the next start
            trial = Trial.open(db, archive_root=archive)
            r = trial.recovery
            recovered["runs"] += len(r.interrupted_runs)
            recovered["partials"] += len(r.removed_partials)
            recovered["extractions"] += len(r.removed_extractions)
            recovered["orphans"] += len(r.removed_orphans)
            assert trial.store.scalar("PRAGMA integrity_check") == "ok", kill
            assert di.unfinished_import_runs(trial.store) == [], kill
            assert not list(archive.glob("??/*.part")), kill
            assert not list(archive.glob(".extract-*")), kill
            # every signature the killed process was told about is there
            lines = journal.read_text().splitlines()
            for line in lines[checked:]:
                reader, read_id, version = line.split()
                seen.setdefault(reader, set()).add(int(read_id))
                session = trial.login(reader, PASSWORDS[reader])
                history = trial.read_history(session, int(read_id))
                assert any(v.version == int(version) and v.signature is not None
                           for v in history), (kill, line)
            checked = len(lines)
            trial.close()
            assert main(["--db", db, "--archive", str(archive), "--user", "admin",
                         "--password-file", str(secret), "audit"]) == 0, \
                capsys.readouterr()
            capsys.readouterr()
    finally:
        ours.send(None)
        factory.join(timeout=30)
    elapsed = time.perf_counter() - t0
    with capsys.disabled():
        print(f"\ncrash test: {KILLS} SIGKILLs in {elapsed:.1f} s, {checked} confirmed "
              f"signatures all present ({sum(map(len, seen.values()))} reads); the next starts "
              f"closed {recovered['runs']} import runs, removed {recovered['partials']} .part "
              f"files, {recovered['extractions']} extraction folders and "
              f"{recovered['orphans']} unreferenced archive files")
    assert checked > KILLS // 4  # signing happened between the kills
