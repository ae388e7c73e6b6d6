"""Reader-facing service calls on a generated trial of 10,000 cases and 20,000 reads.

Run: .venv/bin/python benchmarks/bench_service.py [--cases 10000] [--work DIR] [--db URL]

Generates (once, then cached) a trial through the public service facade: N tiny one-image CT
studies (subjects with up to four timepoints each, so later cases carry priors), the default
protocol, readers, cases, two readers per case (the protocol's `readers_per_case`, plus its
hidden re-reads in their washout), every primary assignment opened with a complete draft saved
(values and annotations), and a subset signed.  Prints how long each generation stage took.

Then measures, warm (20 warm-up calls, then 200 timed calls, a different read or assignment
each time, alternating readers), the median and p90 of: log in, the reader's worklist, opening
an already-started case, an autosave of a complete draft with annotations, and signing a
complete draft (the password check included, the autosave not), next to the targets.

The trial is cached in `--work DIR` (default /tmp/ioreview-bench-service/cases-N-readers-R)
and reused while it holds a database built with the same parameters.  `--db` selects the
database: a SQLite path (default DIR/trial.sqlite) or a `postgresql://...` URL, passed as it is
to `Trial.open` (the archive of case files is DIR/archive).  A SQLite database is restored from a pristine copy before each run, so every
run signs reads on the same state; a PostgreSQL database keeps the reads earlier runs signed
(the count is printed).  Building the 10,000-case trial takes about 4 minutes on a 2-core
machine (a third of it signing 1,000 reads: scrypt); `--cases 500` tries things quickly.
"""
from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import math
import os
import random
import shutil
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from adjudication.protocol import default_protocol_path
from ioreview.demo_reads import simulate_values
from ioreview.service import Annotation, ReadStatus, Role, Trial

#: operation -> target median in ms (None: no target)
TARGETS_MS: dict[str, float | None] = {
    "login": None, "worklist": 20.0, "worklist after signing": 20.0, "open case": 30.0,
    "autosave": 10.0, "submit": 60.0}
#: reads signed after the timed ones, each followed by a timed worklist
EXTRA_SIGNS = 20
#: days from insertion of a subject's studies: baseline, post-insertion, post-removal, follow-up
TIMEPOINT_DAYS = (-1, 0, 4, 30)
META_NAME = "bench_service.json"
META_FORMAT = 1
INSERTION = dt.date(2026, 1, 5)
CT_STORAGE = "1.2.840.10008.5.1.4.1.1.2"


# == helpers ======================================================================================
def _is_url(db: str) -> bool:
    return "://" in db


def _open_trial(db: str, work: Path) -> Trial:
    """`Trial.open(db)` with DIR/archive as the archive of case files."""
    return Trial.open(db, archive_root=work / "archive")


#: the bench trial's administrator account
ADMIN = "bench-admin"


def _password(username: str) -> str:
    return f"{username}-bench-pass"


def _reader_names(n: int) -> list[str]:
    return [f"reader{i + 1}" for i in range(n)]


@contextmanager
def _stage(label: str, times: dict[str, float]) -> Iterator[None]:
    print(f"  {label} ...", end="", flush=True)
    t = time.perf_counter()
    yield
    times[label] = time.perf_counter() - t
    print(f" {times[label]:8.1f} s", flush=True)


def read_values(seed: str, timepoint: str, modalities: set[str]) -> dict[str, Any]:
    """A complete read of the default protocol for a case without complications (the
    simulated reader's occasional over-calls included), deterministic for `seed`."""
    rng = random.Random(seed)
    return simulate_values(rng, {"side": rng.choice("RL"), "findings": {}}, timepoint,
                           modalities)


def annotations_for(view: Any, rng: random.Random) -> list[Annotation]:
    """A ruler and an ellipse on the first image of the case, as a reader leaves them."""
    header = view.series[0].headers[0]
    rows, cols = header.rows or 8, header.columns or 8
    r0, c0 = rng.uniform(0, rows / 2), rng.uniform(0, cols / 2)
    r1, c1 = r0 + rows / 4, c0 + cols / 4
    length = round(math.hypot(r1 - r0, c1 - c0) * 0.7, 2)
    return [
        Annotation(None, None, "length", header.sop_instance_uid, 0, ((r0, c0), (r1, c1)),
                   {"length_mm": length}, f"{length} mm"),
        Annotation(None, "haematoma", "ellipse", header.sop_instance_uid, 0,
                   ((r0, c0), (r1, c1)), {"area_mm2": round(length * length, 1),
                                          "mean_hu": 42.0}, "haematoma?"),
    ]


# == the DICOM studies ============================================================================
def write_studies(out: Path, n_cases: int) -> dict[str, str]:
    """`n_cases` one-image 8x8 CT studies, up to four per subject (one per timepoint); returns
    the insertion date of each subject (by patient ID)."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(0)
    n_subjects = math.ceil(n_cases / len(TIMEPOINT_DAYS))
    insertion: dict[str, str] = {}
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CT_STORAGE
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.SOPClassUID = CT_STORAGE
    ds.Modality, ds.BodyPartExamined = "CT", "LEG"
    ds.InstitutionName, ds.ReferringPhysicianName = "Bench Hospital", "Ref^Doctor"
    ds.StudyDescription, ds.SeriesDescription = "CT LOWER LEG", "AXIAL 1mm"
    ds.PatientBirthDate = "19700101"
    ds.StudyTime = "101500"
    ds.StudyID, ds.SeriesNumber, ds.InstanceNumber = "1", 1, 1
    ds.ImagePositionPatient = [-3.5, -3.5, 0.0]
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.PixelSpacing, ds.SliceThickness = [0.7, 0.7], "1.0"
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.Rows, ds.Columns = 8, 8
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
    ds.RescaleIntercept, ds.RescaleSlope = 0, 1
    ds.WindowCenter, ds.WindowWidth = 40, 400
    written = 0
    for s in range(n_subjects):
        patient_id = f"BENCH{s + 1:05d}"
        first = INSERTION + dt.timedelta(days=s % 365)
        insertion[patient_id] = first.isoformat()
        ds.PatientID, ds.PatientName = patient_id, f"Bench^Subject{s + 1:05d}"
        ds.PatientSex = "FM"[s % 2]
        ds.Laterality = "RL"[rng.randrange(2)]
        for k, days in enumerate(TIMEPOINT_DAYS):
            if written == n_cases:
                break
            day = (first + dt.timedelta(days=days)).strftime("%Y%m%d")
            ds.StudyDate = ds.SeriesDate = ds.ContentDate = day
            ds.AccessionNumber = f"A{s + 1:05d}{k}"
            ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
            ds.FrameOfReferenceUID = generate_uid()
            meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID = generate_uid()
            ds.PixelData = rng.randbytes(128)
            folder = out / f"{s // 1000:03d}"
            folder.mkdir(exist_ok=True)
            ds.save_as(folder / f"{patient_id}_{k}.dcm", enforce_file_format=True)
            written += 1
    return insertion


# == generation ===================================================================================
def generate(db: str, work: Path, args: argparse.Namespace) -> dict[str, float]:
    """Build the trial through the service facade; return the seconds per stage."""
    times: dict[str, float] = {}
    readers = _reader_names(args.readers)
    print(f"generating a trial of {args.cases:,} cases in {work} (database {db})")
    t_all = time.perf_counter()
    with _stage(f"write {args.cases:,} DICOM studies", times):
        insertion = write_studies(work / "dicom", args.cases)
    trial = _open_trial(db, work)
    try:
        with _stage("protocol and accounts", times):
            admin = trial.system_session("bench")
            trial.install_protocol(admin, default_protocol_path())
            trial.create_user(admin, ADMIN, "Bench administrator", Role.ADMIN, _password(ADMIN))
            for name in readers:
                trial.create_user(admin, name, f"Bench {name}", Role.READER, _password(name))
        with _stage("import studies", times):
            summary = trial.import_studies(admin, [work / "dicom"])
        if summary.imported != args.cases:
            raise SystemExit(f"imported {summary.imported} of {args.cases} files: "
                             f"{summary.to_json_dict()}")
        with _stage("build cases (archives the files)", times):
            cases = trial.build_cases_from_studies(admin, insertion)
        if len(cases) != args.cases:
            raise SystemExit(f"built {len(cases)} cases from {args.cases} studies")
        ids = {u.username: u.id for u in trial.list_users(admin)}
        with _stage("generate assignments", times):
            run = trial.generate_assignments(admin, [ids[n] for n in readers], seed=args.seed)
        print(f"    {run.n_assignments:,} assignments, {run.n_rereads:,} of them hidden "
              "re-reads (in their washout, not yet readable)")
        t_start = t_sign = 0.0
        n_started = n_signed = 0
        per_reader_sign = args.signed // len(readers)
        t0 = time.perf_counter()
        print("  start reads (open case + save draft) and sign the first ones of each worklist")
        for name in readers:
            session = trial.login(name, _password(name))
            items = [i for i in trial.worklist(session) if i.status is ReadStatus.NEW]
            for k, item in enumerate(items):
                t = time.perf_counter()
                view = trial.open_case(session, item.assignment_id)
                seed = f"{args.seed}:{view.read_id}"
                values = read_values(seed, view.timepoint, {s.modality for s in view.series})
                trial.save_draft(session, view.read_id, values,
                                 annotations=annotations_for(view, random.Random(seed)),
                                 active_seconds=round(random.Random(seed).uniform(60, 600), 1))
                t_start += time.perf_counter() - t
                n_started += 1
                if k < per_reader_sign:
                    t = time.perf_counter()
                    trial.submit_read(session, view.read_id, _password(name))
                    t_sign += time.perf_counter() - t
                    n_signed += 1
                if n_started % 2000 == 0:
                    print(f"    {n_started:,} reads started, {n_signed:,} signed, "
                          f"{time.perf_counter() - t0:.0f} s", flush=True)
            trial.logout(session)
        times["start reads (open case + save draft)"] = t_start
        times["sign reads"] = t_sign
        print(f"    {n_started:,} reads started in {t_start:.1f} s "
              f"({t_start / max(1, n_started) * 1000:.1f} ms each), {n_signed:,} signed in "
              f"{t_sign:.1f} s ({t_sign / max(1, n_signed) * 1000:.1f} ms each)")
    finally:
        trial.close()
    times["total"] = time.perf_counter() - t_all
    print(f"  generation took {times['total']:.1f} s")
    return times


def _sqlite_files(db: str) -> list[Path]:
    p = Path(db)
    return [p, p.with_name(p.name + "-wal"), p.with_name(p.name + "-shm")]


def _clear_sqlite(db: str, work: Path) -> None:
    for f in _sqlite_files(db):
        f.unlink(missing_ok=True)
    for sub in ("dicom", "archive", "pristine"):
        shutil.rmtree(work / sub, ignore_errors=True)
    (work / META_NAME).unlink(missing_ok=True)


def admin_session(trial: Trial) -> Any:
    """The bench trial's administrator (a trial with accounts gives no workstation session)."""
    if not trial.has_accounts():
        return trial.system_session("bench")
    return trial.login(ADMIN, _password(ADMIN))


def _info(trial: Trial) -> dict[str, Any]:
    """`trial.info` as a plain dict."""
    return trial.info(admin_session(trial)).to_json_dict()


def _counts(db: str, work: Path) -> dict[str, Any]:
    trial = _open_trial(db, work)
    try:
        return _info(trial)
    finally:
        trial.close()


def ensure_trial(db: str, work: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Reuse the cached trial when it was built with these parameters, else build it."""
    params = {"format": META_FORMAT, "cases": args.cases, "readers": args.readers,
              "signed": args.signed, "seed": args.seed, "db": db}
    meta_path = work / META_NAME
    meta = json.loads(meta_path.read_text()) if meta_path.exists() else None
    sqlite = not _is_url(db)
    if meta is not None and meta.get("params") == params:
        if sqlite and (work / "pristine").is_dir():
            t = time.perf_counter()
            for f in _sqlite_files(db):
                f.unlink(missing_ok=True)
            for f in (work / "pristine").iterdir():
                shutil.copyfile(f, Path(db).with_name(f.name))
            print(f"reusing the trial in {work} (database restored from its pristine copy in "
                  f"{time.perf_counter() - t:.1f} s)")
        else:
            print(f"reusing the trial in {work} ({meta.get('runs', 0)} earlier run(s) signed "
                  "reads in it)")
        print("generation took (s): " + ", ".join(
            f"{k} {v:.1f}" for k, v in meta.get("generation_s", {}).items()))
        return meta
    if sqlite:
        if Path(db).exists() and meta is None:
            raise SystemExit(f"{db} exists but was not generated by this benchmark; choose "
                             "another --work or --db")
        _clear_sqlite(db, work)
    else:
        info = _counts(db, work)
        if info.get("cases") or info.get("users"):
            raise SystemExit(f"{db} already holds a trial not built with these parameters; "
                             "give an empty database")
        shutil.rmtree(work / "dicom", ignore_errors=True)
        shutil.rmtree(work / "archive", ignore_errors=True)
    work.mkdir(parents=True, exist_ok=True)
    times = generate(db, work, args)
    if sqlite:
        pristine = work / "pristine"
        pristine.mkdir()
        for f in _sqlite_files(db):
            if f.exists():
                shutil.copyfile(f, pristine / f.name)
    meta = {"params": params, "generation_s": times, "runs": 0,
            "generated_at": dt.datetime.now().isoformat(timespec="seconds")}
    meta_path.write_text(json.dumps(meta, indent=2))
    return meta


# == measurement ==================================================================================
def measure(label: str, calls: Sequence[Callable[[], object]], warmup: int
            ) -> tuple[str, list[float]]:
    """Run `calls` in order, timing all after the first `warmup`; seconds per timed call."""
    gc.collect()
    times = []
    for k, call in enumerate(calls):
        t = time.perf_counter()
        call()
        if k >= warmup:
            times.append(time.perf_counter() - t)
    return label, times


def _interleave(per_reader: Sequence[Sequence[Any]], n: int) -> list[Any]:
    """`n` items taken in turn from each reader's list."""
    out: list[Any] = []
    k = 0
    while len(out) < n:
        row = [seq[k] for seq in per_reader if k < len(seq)]
        if not row:
            raise SystemExit(f"not enough reads to draw {n} distinct ones")
        out.extend(row)
        k += 1
    return out[:n]


def run_benchmarks(db: str, work: Path, args: argparse.Namespace) -> None:
    n = args.warmup + args.iterations
    readers = _reader_names(args.readers)
    trial = _open_trial(db, work)
    rng = random.Random(args.seed)
    results: list[tuple[str, list[float]]] = []
    try:
        info = _info(trial)
        if info["cases"] != args.cases:
            raise SystemExit(f"{db} holds {info['cases']:,} cases, not {args.cases:,}: delete "
                             f"{work} (and empty the database) to build the trial again")
        print(f"trial: {info['cases']:,} cases, {info['assignments']:,} assignments, reads "
              + ", ".join(f"{k} {v:,}" for k, v in info["reads"].items()))
        if not _is_url(db):
            print(f"database: {Path(db).stat().st_size / 1e6:,.0f} MB ({db})")

        # log in (one scrypt check), alternating readers; each session is ended again after
        # the timed call
        gc.collect()
        t_login = []
        for k in range(n):
            name = readers[k % len(readers)]
            t = time.perf_counter()
            session = trial.login(name, _password(name))
            if k >= args.warmup:
                t_login.append(time.perf_counter() - t)
            trial.logout(session)
        results.append(("login", t_login))

        sessions = {name: trial.login(name, _password(name)) for name in readers}
        worklists = {name: trial.worklist(sessions[name]) for name in readers}
        for name in readers:
            print(f"worklist of {name}: {len(worklists[name]):,} items")
        results.append(measure(
            "worklist", [lambda s=sessions[readers[k % len(readers)]]: trial.worklist(s)
                         for k in range(n)], args.warmup))

        # distinct started, unsigned reads of each reader in random order
        pools = []
        for name in readers:
            started = [i for i in worklists[name] if i.status is ReadStatus.IN_PROGRESS]
            rng.shuffle(started)
            pools.append([(name, i) for i in started])
        open_targets = _interleave([p[:n] for p in pools], n)
        rest = [p[n:] for p in pools]

        views: list[tuple[str, Any]] = []

        def open_case(name: str, item: Any) -> Callable[[], object]:
            def call() -> None:
                views.append((name, trial.open_case(sessions[name], item.assignment_id)))
            return call
        results.append(measure("open case", [open_case(*x) for x in open_targets],
                               args.warmup))
        assert all(v.assignment_id == item.assignment_id
                   for (_, v), (_, item) in zip(views, open_targets))

        # autosave of a complete draft with two annotations, on the cases just opened
        saves = []
        for name, view in views:
            seed = f"{args.seed}:{view.read_id}:autosave"
            values = read_values(seed, view.timepoint, {s.modality for s in view.series})
            notes = annotations_for(view, random.Random(seed))
            saves.append(lambda s=sessions[name], r=view.read_id, v=values, a=notes:
                         trial.save_draft(s, r, v, annotations=a, active_seconds=12.5))
        results.append(measure("autosave", saves, args.warmup))

        # sign complete drafts (checked complete beforehand, not timed)
        sign_targets = []
        for pool in rest:
            ok = []
            for name, item in pool:
                if len(ok) == math.ceil(n / len(readers)):
                    break
                if not trial.validate_read(sessions[name], item.read_id):
                    ok.append((name, item))
            sign_targets.append(ok)
        signs = [lambda s=sessions[name], r=item.read_id, p=_password(name):
                 trial.submit_read(s, r, p)
                 for name, item in _interleave(sign_targets, n)]
        results.append(measure("submit", signs, args.warmup))

        # the worklist right after the reader signed (its cached rows must be refreshed)
        chosen = {item.read_id for pool in sign_targets for _, item in pool}
        extra = [(name, item) for pool in rest for name, item in pool
                 if item.read_id not in chosen
                 and not trial.validate_read(sessions[name], item.read_id)][:EXTRA_SIGNS]
        after_sign = []
        for name, item in extra:
            trial.submit_read(sessions[name], item.read_id, _password(name))
            t0 = time.perf_counter()
            trial.worklist(sessions[name])
            after_sign.append(time.perf_counter() - t0)
        results.append(("worklist after signing", after_sign))
        for s in sessions.values():
            trial.logout(s)
    finally:
        trial.close()

    print()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{os.cpu_count()} CPU(s), load average {load:.2f} (other work skews the figures)")
    print(f"{'operation':<12s} {'median ms':>10s} {'p90 ms':>9s}   {'target':<10s}")
    for label, times in results:
        ms = [x * 1000 for x in times]
        median = statistics.median(ms)
        p90 = statistics.quantiles(ms, n=10)[8]
        target = TARGETS_MS.get(label)
        verdict = "" if target is None else "OK" if median <= target else "over"
        target_text = "-" if target is None else f"<= {target:g} ms"
        print(f"{label:<12s} {median:>10.2f} {p90:>9.2f}   {target_text:<10s} {verdict}")
    print(f"({args.iterations} timed calls each after {args.warmup} warm-up calls; login "
          "includes one scrypt password check)")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--readers", type=int, default=2)
    parser.add_argument("--signed", type=int, default=None,
                        help="reads signed while generating, the first ones of each worklist "
                             "(default 5%%: 1,000 of 20,000); the rest stay drafts")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--work", type=Path, default=None)
    parser.add_argument("--db", default=None,
                        help="SQLite path or postgresql:// URL (default WORK/trial.sqlite)")
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    args = parser.parse_args(argv)
    if args.signed is None:
        args.signed = round(0.05 * args.cases * 2)  # the default protocol: 2 reads per case
    work = args.work or Path("/tmp/ioreview-bench-service") / (
        f"cases-{args.cases}-readers-{args.readers}")
    work = work.resolve()
    db = args.db or str(work / "trial.sqlite")
    meta = ensure_trial(db, work, args)
    meta["runs"] = int(meta.get("runs", 0)) + 1
    (work / META_NAME).write_text(json.dumps(meta, indent=2))
    run_benchmarks(db, work, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
