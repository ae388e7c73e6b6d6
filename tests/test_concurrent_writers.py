"""Four workstations writing to one SQLite file at once: drafts, signatures, logins and
imports, 200 of them each.  No error may reach a caller while the database is merely busy,
nothing may be lost, and no one waits long: SQLite's own busy handler let back-to-back
writers starve a waiting one until "database is locked" (issue 13).

The distribution of the calls' durations is printed (pytest -s, or the report in `make test`
output when it fails).
"""
from __future__ import annotations

import io
import multiprocessing
import statistics
import time
import traceback
from collections import Counter
from pathlib import Path

import pytest

from test_trial_helpers import PASSWORDS, complete_values, fast_kdf, make_world  # noqa: F401

pytestmark = pytest.mark.usefixtures("fast_kdf")

WRITES = 200
PROCESSES = 4
#: the mix, repeated: d(raft), l(ogin and logout), i(mport), s(ign, when a read is left)
PATTERN = "dldidsdlid"
LONGEST_WAIT_S = 2.0


def _new_file(folder: Path, n: int) -> Path:
    import pydicom
    from pydicom.data import get_testdata_file
    from pydicom.uid import generate_uid

    ds = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.SeriesInstanceUID = generate_uid()
    path = folder / f"{n}.dcm"
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    path.write_bytes(buf.getvalue())
    return path


def _workstation(db: str, archive: str, reader: str, password: str, folder: str,
                 out: multiprocessing.Queue) -> None:
    from ioreview.service import Trial

    done: Counter[str] = Counter()
    saves: Counter[int] = Counter()
    signed: list[int] = []
    imported: list[str] = []
    durations: list[float] = []
    try:
        trial = Trial.open(db, archive_root=archive)
        admin = trial.login("admin", PASSWORDS["admin"])
        session = trial.login(reader, password)
        done["login"] += 1
        views = [trial.open_case(session, item.assignment_id)
                 for item in trial.worklist(session)[:3]]
        drafting, to_sign = views[0], views[1:]
        values = complete_values(drafting.timepoint)
        for i in range(WRITES):
            kind = PATTERN[i % len(PATTERN)]
            if kind == "s" and not to_sign:
                kind = "d"
            t0 = time.perf_counter()
            if kind == "d":
                values["image_quality"] = ("adequate", "limited")[i % 2]
                trial.save_draft(session, drafting.read_id, values, active_seconds=1.0)
                saves[drafting.read_id] += 1
            elif kind == "l":
                trial.logout(trial.login(reader, password))
            elif kind == "i":
                path = _new_file(Path(folder), i)
                summary = trial.import_studies(admin, [path])
                assert summary.imported == 1, summary.rejected
                imported.append(str(path))
            else:
                view = to_sign.pop(0)
                trial.save_draft(session, view.read_id, complete_values(view.timepoint))
                saves[view.read_id] += 1
                trial.submit_read(session, view.read_id, password)
                signed.append(view.read_id)
            durations.append(time.perf_counter() - t0)
            done[kind] += 1
        out.put((reader, "ok", {"done": dict(done), "saves": dict(saves), "signed": signed,
                                "imported": imported, "durations": durations}))
    except BaseException:  # noqa: BLE001 - reported to the test
        out.put((reader, "error", traceback.format_exc()))


def test_four_writers_lose_nothing_and_wait_little(tmp_path: Path) -> None:
    PASSWORDS.setdefault("reader4", "reader4-password")
    try:
        w = make_world(tmp_path, readers=PROCESSES)
    finally:
        PASSWORDS.pop("reader4", None)
    db = w.store.target
    archive = str(tmp_path / "archive")
    before = w.trial.info(w.admin)
    w.trial.close()
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    procs = []
    for n in range(1, PROCESSES + 1):
        reader = f"reader{n}"
        folder = tmp_path / f"incoming-{n}"
        folder.mkdir()
        procs.append(ctx.Process(target=_workstation, args=(
            db, archive, reader, PASSWORDS.get(reader, f"{reader}-password"), str(folder), out)))
    for p in procs:
        p.start()
    results = [out.get(timeout=600) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    errors = [r for r in results if r[1] != "ok"]
    assert errors == [], "\n".join(str(e[2]) for e in errors)

    from ioreview.service import ReadStatus, Trial

    trial = Trial.open(db, archive_root=archive)
    admin = trial.login("admin", PASSWORDS["admin"])
    assert trial.verify_audit_trail(admin).intact
    durations = sorted(d for _, _, r in results for d in r["durations"])
    assert len(durations) == PROCESSES * WRITES
    # nothing lost: every draft saved, every signature locked, every login and import there
    drafts_audited = Counter(r.entity_id for r in trial.store.audit_records("read")
                             if r.action == "save_draft")
    for reader, _, r in results:
        for read_id, n in r["saves"].items():
            assert drafts_audited[str(read_id)] == n, (reader, read_id)
        session = trial.login(reader, PASSWORDS.get(reader, f"{reader}-password"))
        for read_id in r["signed"]:
            assert trial.read_history(session, read_id)[-1].status == ReadStatus.SUBMITTED
        logins = [a for a in trial.store.audit_records("user", w.user_ids[reader])
                  if a.action == "login"]
        assert len(logins) == r["done"]["l"] + 2  # the loop's, its first, this check's
    n_imported = sum(len(r["imported"]) for _, _, r in results)
    assert trial.info(admin).instances == before.instances + n_imported
    kinds = Counter()
    for _, _, r in results:
        kinds.update(r["done"])
    p = statistics.quantiles(durations, n=100)
    print(f"\n{PROCESSES} writers x {WRITES} writes on one SQLite file: {dict(kinds)}; "
          f"call durations p50 {p[49] * 1000:.1f} ms, p90 {p[89] * 1000:.1f} ms, "
          f"p99 {p[98] * 1000:.1f} ms, max {durations[-1] * 1000:.1f} ms")
    assert kinds["s"] >= PROCESSES and kinds["i"] >= PROCESSES and kinds["l"] >= PROCESSES
    assert durations[-1] < LONGEST_WAIT_S


def _hammer(db: str, archive: str, reader: str, password: str, seconds: float,
            out: multiprocessing.Queue) -> None:
    """Autosave back to back: a new write transaction the moment the last one commits."""
    from ioreview.service import Trial

    try:
        trial = Trial.open(db, archive_root=archive)
        session = trial.login(reader, password)
        view = trial.open_case(session, trial.worklist(session)[0].assignment_id)
        values = complete_values(view.timepoint)
        n = 0
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            trial.save_draft(session, view.read_id, values, active_seconds=1.0)
            n += 1
        out.put((reader, "ok", n))
    except BaseException:  # noqa: BLE001 - reported to the test
        out.put((reader, "error", traceback.format_exc()))


def _probe(db: str, archive: str, reader: str, password: str, n: int,
           out: multiprocessing.Queue) -> None:
    """One autosave every 20 ms among the hammering writers: how long does each wait?"""
    from ioreview.service import Trial

    try:
        trial = Trial.open(db, archive_root=archive)
        session = trial.login(reader, password)
        view = trial.open_case(session, trial.worklist(session)[0].assignment_id)
        values = complete_values(view.timepoint)
        time.sleep(1.0)  # the hammers are at it
        waits = []
        for _ in range(n):
            t0 = time.perf_counter()
            trial.save_draft(session, view.read_id, values, active_seconds=1.0)
            waits.append(time.perf_counter() - t0)
            time.sleep(0.02)
        out.put((reader, "ok", waits))
    except BaseException:  # noqa: BLE001 - reported to the test
        out.put((reader, "error", traceback.format_exc()))


def test_a_waiting_writer_is_served_between_back_to_back_writers(tmp_path: Path) -> None:
    """With SQLite's busy handler a writer waiting among three back-to-back writers waited
    seconds (6 s measured) and one of them was starved; now each is served in turn."""
    PASSWORDS.setdefault("reader4", "reader4-password")
    try:
        w = make_world(tmp_path, readers=4)
    finally:
        PASSWORDS.pop("reader4", None)
    db, archive = w.store.target, str(tmp_path / "archive")
    w.trial.close()
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=_hammer, args=(db, archive, f"reader{n}",
                                               PASSWORDS[f"reader{n}"], 5.0, out))
             for n in (1, 2, 3)]
    procs.append(ctx.Process(target=_probe, args=(db, archive, "reader4", "reader4-password",
                                                  100, out)))
    for p in procs:
        p.start()
    results = {r[0]: r for r in (out.get(timeout=300) for _ in procs)}
    for p in procs:
        p.join(timeout=60)
    errors = [r for r in results.values() if r[1] != "ok"]
    assert errors == [], "\n".join(str(e[2]) for e in errors)
    hammered = [results[f"reader{n}"][2] for n in (1, 2, 3)]
    waits = sorted(results["reader4"][2])
    print(f"\nback-to-back writers' transactions {hammered}; a waiting writer's waits: "
          f"p50 {waits[49] * 1000:.1f} ms, p90 {waits[89] * 1000:.1f} ms, "
          f"max {waits[-1] * 1000:.1f} ms")
    # measured here: 0.08 s at most, the hammers within 1.5x of each other; with SQLite's
    # busy handler 1.4 s and 2.8x (6 s with lighter transactions)
    assert waits[-1] < 0.5
    assert min(hammered) > max(hammered) / 2  # none of them starved
