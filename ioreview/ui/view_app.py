"""`ioreview view PATH...`: open DICOM files or folders in the viewer, no trial needed.

Files are indexed with `ioreview.imaging.scan.scan_file`, grouped into series and shown in a
`ViewerWindow`.  Files that are not images are
listed in the status bar; they never stop the viewer from opening.  No blinding applies here,
so the tag browser shows every value (`ioreview.imaging.deid.tag_rows` unmasked).
"""
from __future__ import annotations

import os
import sys
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QApplication

from ioreview.imaging.deid import TagRow, UnreadableHeader, tag_rows
from ioreview.imaging.header import InstanceHeader, SeriesView


def _files(paths: Iterable[str]) -> list[Path]:
    out: list[Path] = []
    for p in paths:
        path = Path(p)
        if path.is_dir():
            for root, _dirs, names in os.walk(path):
                out.extend(Path(root) / n for n in sorted(names))
        else:
            out.append(path)
    return out


def _scan(path: Path) -> tuple[InstanceHeader, str]:
    """The file's header, and why its pixels cannot be decoded ("" when they can)."""
    from ioreview.imaging.scan import scan

    result = scan(path, with_sha256=False)
    return result.header, result.pixel_reason


def scan_paths(paths: Sequence[str]) -> tuple[list[SeriesView], list[tuple[str, str]]]:
    """Series found under `paths`, and (file, reason) for every file that is not an image."""
    by_series: dict[str, list[InstanceHeader]] = defaultdict(list)
    bad: list[tuple[str, str]] = []
    for f in _files(paths):
        try:
            h, problem = _scan(f)
        except Exception as exc:  # ScanError and anything a damaged file raises
            bad.append((str(f), str(getattr(exc, "reason", exc))))
            continue
        if problem:
            bad.append((str(f), problem))
            continue
        if not h.has_pixels:
            bad.append((str(f), QCoreApplication.translate("ViewApp", "no image (e.g. a report or a DICOMDIR)")))
            continue
        by_series[h.series_instance_uid or h.path].append(h)
    series: list[SeriesView] = []
    for n, headers in enumerate(sorted(by_series.values(), key=lambda hs: (hs[0].study_instance_uid, hs[0].series_number or 0)), 1):
        first = headers[0]
        series.append(
            SeriesView(
                series_pk=n,
                modality=first.modality,
                description=first.series_description,
                n_instances=len(headers),
                n_frames=sum(max(h.number_of_frames or 1, 1) for h in headers),
                headers=tuple(headers),
            )
        )
    return series, bad


def run_view(paths: list[str]) -> int:
    """Open the viewer on `paths` (files and folders); returns the application's exit code."""
    from ioreview.ui.viewer.series_loader import ImageRef
    from ioreview.ui.viewer.theme import apply_dark_theme
    from ioreview.ui.viewer.viewer_window import ViewerWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setOrganizationName("ioreview")
    app.setApplicationName("ioreview")
    apply_dark_theme(app)  # type: ignore[arg-type]
    series, bad = scan_paths(paths)
    win = ViewerWindow(series)

    def local_tag_rows(ref: ImageRef) -> list[TagRow]:
        try:
            return tag_rows(ref.header.path, masked=False)
        except UnreadableHeader as exc:
            win.statusBar().showMessage(str(exc))
            return []

    win.viewer.set_tag_rows_provider(local_tag_rows)
    if bad:
        names = ", ".join(f"{Path(f).name} ({reason})" for f, reason in bad[:5])
        more = len(bad) - 5
        text = QCoreApplication.translate("ViewApp", "%1 file(s) not shown: %2").replace("%1", str(len(bad))).replace("%2", names)
        if more > 0:
            text += QCoreApplication.translate("ViewApp", " and %1 more").replace("%1", str(more))
        win.statusBar().showMessage(text)
    elif not series:
        win.statusBar().showMessage(QCoreApplication.translate("ViewApp", "No DICOM images found"))
    win.show()
    return int(app.exec())
