"""A hard kill (SIGKILL, no clean-up) in the middle of an import leaves a consistent database,
and re-running the import completes it exactly as a clean import would."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ioreview.imaging.synthetic import write_ct_series
from ioreview.importing import BATCH_SIZE, import_paths
from ioreview.store import SQLiteStore as Store
from ioreview.store import dicom_index as di


@pytest.mark.skipif(os.name != "posix", reason="SIGKILL")
def test_sigkill_midway_then_rerun(tmp_path: Path) -> None:
    files = write_ct_series(tmp_path / "ct", n_slices=BATCH_SIZE + 150, shape=(16, 16), seed=3)
    db = tmp_path / "killed.sqlite"
    script = textwrap.dedent(f"""
        import os, signal
        from ioreview.importing import import_paths
        from ioreview.store import SQLiteStore as Store

        def progress(done, total):
            if done > {BATCH_SIZE}:
                os.kill(os.getpid(), signal.SIGKILL)

        import_paths(Store({str(db)!r}), "tester", [{str(tmp_path / 'ct')!r}],
                     progress=progress, workers=1)
        raise SystemExit("the import finished before it could be killed")
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr

    store = Store(db)
    assert store.scalar("PRAGMA integrity_check") == "ok"
    partial = di.counts(store)["instance"]
    assert 0 < partial < len(files)
    assert store.verify_audit_chain() == []

    import_paths(store, "tester", [tmp_path / "ct"])
    clean = Store(tmp_path / "clean.sqlite")
    import_paths(clean, "tester", [tmp_path / "ct"])
    assert di.counts(store)["instance"] == di.counts(clean)["instance"] == len(files)
    assert {k: v for k, v in di.counts(store).items() if k != "import_run"} == \
        {k: v for k, v in di.counts(clean).items() if k != "import_run"}
    assert store.verify_audit_chain() == []
