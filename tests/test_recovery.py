"""Zip archives within limits and extracted out of sight; what a crash leaves behind is put
right at the next start (interrupted runs closed, partial files and temporary folders removed,
archive files no record references cleaned)."""
from __future__ import annotations

import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.uid import generate_uid

from ioreview import recovery
from ioreview.importing import ArchiveLimits, import_paths
from ioreview.recovery import owner_token, recover
from ioreview.service import Trial
from ioreview.store import SQLiteStore
from ioreview.store import dicom_index as di


def _ct(blank: bool = False) -> bytes:
    """CT_small with a new SOP Instance UID; `blank`: 1024 x 1024 zero pixels, 2 MiB that
    compress about 1000 times."""
    ds = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    if blank:
        ds.Rows = ds.Columns = 1024
        ds.PixelData = bytes(1024 * 1024 * 2)
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def _leftovers(archive: Path) -> list[Path]:
    return list(archive.glob(".extract-*")) + list(archive.glob("??/*.part"))


# -- archives ---------------------------------------------------------------------------------------
def test_a_zip_member_over_the_limits_is_refused_before_it_fills_the_disk(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    bomb = _zip(tmp_path / "bomb.zip", {"ok.dcm": _ct(), "big.bin": bytes(40 << 20)})
    store = SQLiteStore(tmp_path / "t.sqlite")
    s = import_paths(store, "tester", [bomb], archive_root=archive,
                     archive_limits=ArchiveLimits(max_member_bytes=16 << 20, max_ratio=200))
    assert s.imported == 1
    [refused] = s.rejected
    assert refused.path == f"{bomb}!big.bin"
    assert "more than the 16.0 MiB a member may take" in refused.reason
    assert "--no-archive-limits" in refused.reason
    # the member that was imported lives in the archive; the extraction folder is gone
    [row] = di.instance_paths(store)
    assert row.archived and Path(row.path).parent.parent == archive
    assert _leftovers(archive) == []


def test_the_ratio_limit_and_its_override(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    blank = _zip(tmp_path / "blank.zip", {"blank.dcm": _ct(blank=True)})
    store = SQLiteStore(tmp_path / "t.sqlite")
    s = import_paths(store, "tester", [blank], archive_root=archive)
    assert s.imported == 0
    assert "times (more than 200: a zip bomb?)" in s.rejected[0].reason
    s = import_paths(store, "tester", [blank], archive_root=archive,
                     archive_limits=ArchiveLimits.off())
    assert s.imported == 1 and _leftovers(archive) == []


def test_a_member_whose_header_understates_its_size_is_stopped_while_streaming(
        tmp_path: Path) -> None:
    from ioreview.importing import _OverLimit, _copy_member

    info = zipfile.ZipInfo("liar.dcm")
    info.file_size, info.compress_size = 1000, 1000  # what the header claims
    out = io.BytesIO()
    with pytest.raises(_OverLimit, match="more than the 2.0 MiB"):
        _copy_member(io.BytesIO(bytes(5 << 20)), out, info,
                     ArchiveLimits(max_member_bytes=2 << 20, max_ratio=None))
    assert out.tell() <= 2 << 20


@pytest.mark.parametrize("how", ["failure", "interruption"])
def test_the_extraction_folder_goes_on_failure_and_interruption(tmp_path: Path, how: str
                                                               ) -> None:
    archive = tmp_path / "archive"
    z = _zip(tmp_path / "two.zip", {"a.dcm": _ct(), "b.dcm": _ct()})
    store = SQLiteStore(tmp_path / "t.sqlite")

    def progress(done: int, total: int) -> None:
        if done:
            raise KeyboardInterrupt() if how == "interruption" else RuntimeError("disk gone")

    with pytest.raises(KeyboardInterrupt if how == "interruption" else RuntimeError):
        import_paths(store, "tester", [z], archive_root=archive, progress=progress)
    assert _leftovers(archive) == []
    # the run says it was interrupted; nothing is left running
    assert di.unfinished_import_runs(store) == []
    [closed] = [r for r in store.audit_records("import_run") if r.action == "interrupted"]
    assert closed.after["status"] == "interrupted"


# -- recovery at the next start ----------------------------------------------------------------------
def _dead_owner() -> dict[str, object]:
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    return {"host": recovery.process_owner()["host"], "pid": int(proc.stdout), "start": "1"}


def test_recovery_closes_dead_runs_only_and_cleans_their_leftovers(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    store = SQLiteStore(tmp_path / "t.sqlite")
    # a committed, archived file: never touched
    kept = import_paths(store, "tester", [_zip(tmp_path / "k.zip", {"k.dcm": _ct()})],
                        archive_root=archive)
    assert kept.imported == 1
    [row] = di.instance_paths(store)
    dead = _dead_owner()
    with store.unit_of_work("tester") as tx:
        dead_run = di.begin_import_run(tx, ["x"], "copy", owner=dead)
        live_run = di.begin_import_run(tx, ["y"], "copy", owner=recovery.process_owner())
    token = owner_token(dead)
    part = archive / "ab" / f".{'ab' * 32}.dcm.{token}.part"
    part.parent.mkdir(parents=True, exist_ok=True)
    part.write_bytes(b"half")
    own_part = archive / "ab" / f".{'cd' * 32}.dcm.{owner_token()}.part"
    own_part.write_bytes(b"mine, being written")
    extraction = archive / f".extract-{token}-q1w2e3"
    (extraction / "0-0").mkdir(parents=True)
    orphan = archive / "ef" / f"{'ef' * 32}.dcm"
    orphan.parent.mkdir()
    orphan.write_bytes(b"copied, never committed")
    (archive / recovery.WRITERS_DIR / token).touch()  # the dead process's marker

    report = recover(store, archive)
    assert report.interrupted_runs == [dead_run]
    assert [r.id for r in di.unfinished_import_runs(store)] == [live_run]
    assert report.removed_partials == [str(part)] and own_part.exists()
    assert report.removed_extractions == [str(extraction)] and not extraction.exists()
    assert report.orphans == [str(orphan)] == report.removed_orphans and not orphan.exists()
    assert Path(row.path).exists()
    assert not (archive / recovery.WRITERS_DIR / token).exists()
    assert "closed 1 interrupted import run" in report.summary()
    assert [r.action for r in store.audit_records("archive")] == ["recover"]
    assert store.verify_audit_chain() == []
    # nothing more to do the next time
    assert not recover(store, archive).anything


def test_young_unreferenced_files_stay_while_another_writer_is_alive(tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    store = SQLiteStore(tmp_path / "t.sqlite")
    dead = _dead_owner()
    writers = archive / recovery.WRITERS_DIR
    writers.mkdir(parents=True)
    (writers / owner_token(dead)).touch()  # evidence of a crash
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        live = {"host": dead["host"], "pid": alive.pid,
                "start": recovery._start_time(alive.pid)}
        (writers / owner_token(live)).touch()  # another process writing right now
        young = archive / "aa" / f"{'aa' * 32}.dcm"
        young.parent.mkdir()
        young.write_bytes(b"its transaction has not committed yet")
        report = recover(store, archive)
        assert report.orphans == [str(young)] and report.removed_orphans == []
        assert young.exists() and "kept 1" in report.summary()
        # once older than the grace period it goes
        (writers / owner_token(dead)).touch()
        later = recover(store, archive, now=os.path.getmtime(young) + recovery.ORPHAN_GRACE_S
                        + 1)
        assert later.removed_orphans == [str(young)]
    finally:
        alive.kill()
        alive.wait()


def test_trial_open_recovers_and_the_cli_says_so(tmp_path: Path, capsys) -> None:
    from ioreview.cli import main

    db = tmp_path / "t.sqlite"
    Trial.open(db).close()
    store = SQLiteStore(db)
    with store.unit_of_work("tester") as tx:
        di.begin_import_run(tx, ["x"], "reference", owner=_dead_owner())
    store.close()
    assert main(["--db", str(db), "audit"]) == 0
    err = capsys.readouterr().err
    assert "recovered after an interrupted session: closed 1 interrupted import run" in err
    assert main(["--db", str(db), "audit"]) == 0
    assert capsys.readouterr().err == ""


def test_a_kill_while_extracting_a_zip_is_cleaned_at_the_next_start(tmp_path: Path) -> None:
    """Killed before its import run even began: the process's marker is the evidence."""
    import signal
    import textwrap

    archive = tmp_path / "archive"
    db = tmp_path / "t.sqlite"
    z = _zip(tmp_path / "a.zip", {"a.dcm": _ct()})
    script = textwrap.dedent(f"""
        import os, signal
        from ioreview import importing
        from ioreview.store import SQLiteStore

        def killed(src, dst, info, limits):
            dst.write(src.read(100))
            dst.flush()
            os.kill(os.getpid(), signal.SIGKILL)

        importing._copy_member = killed
        importing.import_paths(SQLiteStore({str(db)!r}), "tester", [{str(z)!r}],
                               archive_root={str(archive)!r})
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    [left] = list(archive.glob(".extract-*"))
    trial = Trial.open(db, archive_root=archive)
    assert trial.recovery.removed_extractions == [str(left)]
    assert not left.exists()


# -- reader copies ------------------------------------------------------------------------------------
def _trial_with_a_case(tmp_path: Path) -> tuple[Trial, Path]:
    """A trial whose one case (CT_small) has its de-identified reader copy committed."""
    from adjudication.protocol import default_protocol_path
    from ioreview.service import Role

    src = tmp_path / "in"
    src.mkdir()
    (src / "ct.dcm").write_bytes(_ct())
    archive = tmp_path / "archive"
    trial = Trial.open(tmp_path / "t.sqlite", archive_root=archive)
    system = trial.system_session("test")
    trial.create_user(system, "coord", "Coordinator", Role.COORDINATOR, "Tibia-Cortex-93!")
    admin = trial.login("coord", "Tibia-Cortex-93!")
    trial.install_protocol(admin, default_protocol_path())
    trial.import_studies(admin, [src])
    study = trial.list_studies(admin)[0]
    trial.create_case(admin, "SUBJ", "post-insertion", 0,
                      [s.id for s in trial.list_series(admin, study.id)])
    return trial, archive


def _other_uids(tag: int):
    """A UID map unlike the trial's (as a copy set whose transaction rolled back has)."""
    import hashlib

    return lambda uid: f"2.25.{int(hashlib.sha256(uid.encode()).hexdigest()[:20], 16)}{tag}"


def test_reader_copies_no_record_references_are_swept(tmp_path: Path) -> None:
    """A copy written for a transaction that rolled back, and a half-written copy of a dead
    process, go; the committed copy stays; while another writer is alive a young orphan
    stays until the grace period is over."""
    from ioreview.importing import READER_COPIES_DIR, archive_reader_copy

    trial, archive = _trial_with_a_case(tmp_path)
    try:
        assert recovery.READER_COPIES_DIR == READER_COPIES_DIR
        [committed] = list((archive / READER_COPIES_DIR).glob("??/*.dcm"))
        original = next(p for p in archive.glob("??/*.dcm"))
        # what a rolled-back transaction leaves: a copy under other UIDs, never recorded
        with pytest.raises(RuntimeError):
            with trial.store.unit_of_work("tester"):
                made = archive_reader_copy(original, archive, uid_map=_other_uids(9),
                                           date_offset_days=None, patient_label="CASE-X")
                raise RuntimeError("the transaction fails after the copy was written")
        orphan = Path(made.path)
        assert orphan.is_file() and orphan.parent.parent == archive / READER_COPIES_DIR
        dead = _dead_owner()
        part = orphan.parent / f".{'ab' * 32}.dcm.{owner_token(dead)}.part"
        part.write_bytes(b"half a copy")
        writers = archive / recovery.WRITERS_DIR
        (writers / owner_token(dead)).touch()  # evidence of a crash

        alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
        try:
            live = {"host": dead["host"], "pid": alive.pid,
                    "start": recovery._start_time(alive.pid)}
            (writers / owner_token(live)).touch()  # another process writing right now
            report = recover(trial.store, archive)
            assert report.orphans == [str(orphan)] and report.removed_orphans == []
            assert report.removed_partials == [str(part)] and not part.exists()
            assert orphan.exists() and committed.exists()
            (writers / owner_token(dead)).touch()
            later = recover(trial.store, archive,
                            now=os.path.getmtime(orphan) + recovery.ORPHAN_GRACE_S + 1)
            assert later.removed_orphans == [str(orphan)] and not orphan.exists()
        finally:
            alive.kill()
            alive.wait()
        assert committed.exists() and original.exists()
        [audit] = [r for r in trial.store.audit_records("archive") if r.action == "recover"
                   and r.after["removed_reader_copies"]]
        assert audit.after["removed_reader_copies"] == [orphan.name]
        assert audit.after["removed_unreferenced"] == []
        # with no other writer alive, an orphan copy goes at once
        again = archive_reader_copy(original, archive, uid_map=_other_uids(8),
                                    date_offset_days=None, patient_label="CASE-Y")
        (writers / owner_token(dead)).touch()
        assert recover(trial.store, archive).removed_orphans == [again.path]
        assert committed.exists() and not recover(trial.store, archive).anything
    finally:
        trial.close()
