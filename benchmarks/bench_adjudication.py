"""Adjudication view benchmark: from choosing a case in the adjudicator's queue to its first
image on screen, for a case with two CT reads (target <= 300 ms).

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/bench_adjudication.py [--runs 15]

Builds the demo trial once under benchmarks/_data/adjudication_demo (gitignored, ~70 s), makes a
CT case discordant by a signed amendment (so an adjudication with two CT reads exists), then
times `AdjudicatorWindow.open_adjudication` (the service call, the blinded series, both readers'
annotation layers, the forms) until the viewport holds the first decoded image and has painted
it.  Figures: the service call alone, and the whole open -> first image, median and max.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication  # noqa: E402

from ioreview.demo import build_demo  # noqa: E402
from ioreview.imaging.synthetic import DemoConfig  # noqa: E402
from ioreview.service import Annotation, Trial  # noqa: E402
from ioreview.ui.adjudication import AdjudicatorWindow  # noqa: E402

DATA = Path(__file__).resolve().parent / "_data" / "adjudication_demo"


def ct_adjudication(trial: Trial) -> tuple[str, int]:
    """(adjudicator, adjudication id) of a pending adjudication of a CT case, made by amending a
    concordant CT case's read when the demo has none."""
    for name in ("adjudicator", "adjudicator2"):
        s = trial.login(name, f"{name}-demo")
        for q in trial.adjudication_queue(s):
            if any(x.modality == "CT" for x in trial.open_adjudication(s, q.adjudication_id).series):
                return name, q.adjudication_id
    with trial.store.unit_of_work("bench", write=False) as uow:
        names = {u.id: u.username for u in uow.users.list()}
        for w in uow.workflow.list("concordant"):
            pks = uow.cases.series_pks(w.case_id)
            if not any(s.modality == "CT" for s in uow.dicom.series_summaries(pks)):
                continue
            reads = uow.assignments.primary_reads(w.case_id)
            if len(reads) == 2 and all(r.status == "submitted" for r in reads):
                reader = names[reads[0].reader_id]
                read_id = reads[0].read_id
                break
        else:
            sys.exit("the demo has no concordant CT case to make discordant")
    session = trial.login(reader, f"{reader}-demo")
    view = next(trial.open_case(session, i.assignment_id) for i in trial.worklist(session)
                if i.read_id == read_id)
    header = next(s for s in view.series if s.modality == "CT").headers[0]
    ring = Annotation(None, "extravasation", "ellipse", header.sop_instance_uid, 0,
                      ((200.0, 200.0), (260.0, 280.0)), {}, "collection")
    trial.amend_read(session, read_id, "collection seen on review",
                     {"extravasation.presence": "present", "extravasation.confidence": 5,
                      "extravasation.compartment": ["anterior"],
                      "extravasation.severity": "mild"}, f"{reader}-demo", annotations=[ring])
    return ct_adjudication(trial)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    if not (DATA / "ioreview.sqlite").exists():
        print(f"building the demo trial in {DATA} (once) ...")
        build_demo(DATA, DemoConfig())
    app = QApplication.instance() or QApplication(sys.argv)
    trial = Trial.open(DATA / "ioreview.sqlite", archive_root=DATA / "archive")
    name, adjudication_id = ct_adjudication(trial)
    session = trial.login(name, f"{name}-demo")
    window = AdjudicatorWindow(trial, session)
    window.resize(1600, 1000)
    window.show()
    app.processEvents()
    service, total = [], []
    for _ in range(args.runs):
        window.viewer.clear()
        app.processEvents()
        t0 = time.perf_counter()
        trial.open_adjudication(session, adjudication_id)
        service.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        window.open_adjudication(adjudication_id)
        vp = window.viewer.widget.active_viewport()
        deadline = t0 + 10
        while getattr(vp, "_qimage", None) is None and time.perf_counter() < deadline:
            app.processEvents()
            vp = window.viewer.widget.active_viewport()
        vp.repaint()
        total.append(time.perf_counter() - t0)
    n_ct = sum(s.n_instances for s in window.current.series if s.modality == "CT")
    print(f"adjudication of {window.current.case_label} ({n_ct} CT images, "
          f"{len(window.current.reads)} reads, "
          f"{sum(len(r.annotations) for r in window.current.reads)} reader annotations)")
    print(f"  service open_adjudication: median {statistics.median(service) * 1e3:6.1f} ms")
    print(f"  open -> first image painted: median {statistics.median(total) * 1e3:6.1f} ms, "
          f"max {max(total) * 1e3:6.1f} ms (target <= 300 ms)")
    window.close()
    trial.close()


if __name__ == "__main__":
    main()
