"""Hostile files: seeded mutations of real DICOM files through import and the render pipeline.

Sources are pydicom's and pydicom-data's test files and a generated demo trial's files;
`tests/dicom_fuzz.py` damages them (byte flips, truncations, hostile tag values, pixel-data
edits).  Every mutant must be accounted for by the import (imported, duplicate, skipped or
rejected with a reason in words), and rendering it, from the file as `ioreview render` does
and from its index entry as the viewer does, must either work or raise `UnsupportedImage`:
no other exception, and no library chatter on stderr.

`make fuzz` runs 10,000 cases (IOREVIEW_FUZZ_CASES) and prints the outcome counts.
"""
from __future__ import annotations

import collections
import faulthandler
import os
import time
import traceback
from pathlib import Path

import pytest

from dicom_fuzz import Mutant, mutants, source_files
from ioreview.imaging.decode import UnsupportedImage
from ioreview.imaging.render import render_frame, render_indexed_frame
from ioreview.importing import import_paths
from ioreview.store import SQLiteStore
from ioreview.store import dicom_index

CASES = int(os.environ.get("IOREVIEW_FUZZ_CASES", "1000"))
SEED = int(os.environ.get("IOREVIEW_FUZZ_SEED", "13"))


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    from ioreview.imaging.synthetic import DemoConfig, generate_demo_trial

    demo = tmp_path_factory.mktemp("demo")
    generate_demo_trial(demo, DemoConfig.small())
    return source_files(demo_dir=demo)


def _render(fn, *args) -> str:
    try:
        fn(*args)
    except UnsupportedImage:
        return "cannot display"
    return "shown"


def test_mutated_files_are_accounted_for_and_never_crash(tmp_path: Path, sources: list[str],
                                                         capfd: pytest.CaptureFixture[str],
                                                         recwarn: pytest.WarningsRecorder
                                                         ) -> None:
    # a decoder that loops forever on some mutant must fail the run, not hang it
    faulthandler.dump_traceback_later(max(300.0, CASES * 0.1), exit=True)
    t0 = time.perf_counter()
    outcomes: collections.Counter[str] = collections.Counter()
    unhandled: list[str] = []
    chunk: list[Mutant] = []
    n_chunk = 0

    def run_chunk(batch: list[Mutant], n: int) -> None:
        folder = tmp_path / f"chunk{n}"
        folder.mkdir()
        by_path: dict[str, Mutant] = {}
        for i, m in enumerate(batch):
            path = folder / f"{i:04d}.dcm"
            path.write_bytes(m.data)
            by_path[str(path)] = m
        store = SQLiteStore(tmp_path / f"fuzz{n}.sqlite")
        try:
            summary = import_paths(store, "fuzz", [folder], workers=1)
        except Exception:  # noqa: BLE001 - reported below with the chunk's mutants
            unhandled.append(f"import of chunk {n}: {traceback.format_exc()}")
            store.close()
            return
        accounted = (summary.imported + len(summary.duplicates) + len(summary.rejected)
                     + len(summary.skipped))
        assert accounted == summary.files_seen == len(batch)
        for r in summary.rejected:
            assert r.reason and "\n" not in r.reason and "Traceback" not in r.reason, r
        outcomes["import: imported"] += summary.imported
        outcomes["import: duplicate"] += len(summary.duplicates)
        outcomes["import: rejected"] += len(summary.rejected)
        outcomes["import: skipped"] += len(summary.skipped)
        outcomes["import: imported with library warnings"] += len(summary.warned)
        for path, m in by_path.items():
            try:
                outcomes["render file: " + _render(render_frame, path, 0)] += 1
            except Exception:  # noqa: BLE001
                unhandled.append(f"render {m.kind} of {m.source}: {traceback.format_exc()}")
        pks = [s.id for s in dicom_index.list_series(store)]
        for headers in dicom_index.series_headers_of(store, pks).values():
            for h in headers:
                if not h.has_pixels:
                    continue
                m = by_path[h.path]
                for frame in sorted({0, h.number_of_frames - 1}):
                    try:
                        outcomes["viewer frame: " + _render(render_indexed_frame, h, frame)] += 1
                    except Exception:  # noqa: BLE001
                        unhandled.append(f"viewer frame {frame}, {m.kind} of {m.source}: "
                                         f"{traceback.format_exc()}")
        store.close()

    # one mutant per source per chunk: a chunk's files rarely share a SOP Instance UID, so
    # most mutants reach the viewer path instead of being duplicates
    for m in mutants(SEED, CASES, sources):
        outcomes["kind: " + m.kind.split(" ")[0]] += 1
        chunk.append(m)
        if len(chunk) == len(sources):
            run_chunk(chunk, n_chunk)
            chunk, n_chunk = [], n_chunk + 1
    if chunk:
        run_chunk(chunk, n_chunk)
    elapsed = time.perf_counter() - t0
    faulthandler.cancel_dump_traceback_later()
    err = capfd.readouterr().err
    with capfd.disabled():
        print(f"\nfuzz: {CASES} cases (seed {SEED}, {len(sources)} sources) in {elapsed:.1f} s, "
              f"{len(unhandled)} unhandled exceptions, {len(err)} bytes on stderr")
        for key, n in sorted(outcomes.items()):
            print(f"  {key:<45} {n:>6}")
    assert unhandled == [], "\n".join(unhandled[:5])
    assert len(err) < 2000, err[:2000]
    # a library or numpy warning escaping the pipeline would be printed on a user's terminal
    escaped = [f"{w.category.__name__}: {w.message}" for w in recwarn
               if issubclass(w.category, (UserWarning, RuntimeWarning))]
    assert escaped == [], escaped[:5]
