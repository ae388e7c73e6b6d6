"""Shared set-up of the UI tests: a real trial database built through the service.

The demo images are generated once per test session; the database (users, default protocol,
imported studies, cases, assignments) is built once and copied for every test, so each test
works on its own database. The trial runs on a `FakeClock` so a test can let the session
expire without waiting.
"""
from __future__ import annotations

import functools
import inspect
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QComboBox, QScrollArea, QWidget

from adjudication.protocol import default_protocol_path
from ioreview.imaging.synthetic import DemoConfig, generate_demo_trial
from ioreview.service import Trial
from ioreview.ui.app import apply_theme

SCREENSHOTS = Path(__file__).resolve().parents[1] / "screenshots"
PASSWORDS = {
    "coord": "coord-pass-1",
    "reader1": "reader1-pass",
    "reader2": "reader2-pass",
    "adjud": "adjud-pass-1",
    "admin": "ui-admin-pass-1",
}
ASSIGNMENT_SEED = 3  # the two readers start with different subjects


class FakeClock:
    """A wall clock the test can move forward (session idle timeouts)."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class DemoFiles:
    """The generated demo images."""

    root: Path
    dicom_dir: Path


def make_demo_files(root: Path) -> DemoFiles:
    """Generate the small synthetic demo trial under ``root``."""
    manifest = generate_demo_trial(root, DemoConfig.small())
    return DemoFiles(root, Path(manifest.dicom_dir))


_DEMO_CACHE: dict[str, DemoFiles] = {}


def shared_demo_files(tmp_path_factory: Any) -> DemoFiles:
    """The demo images, generated once per test process."""
    if "demo" not in _DEMO_CACHE:
        _DEMO_CACHE["demo"] = make_demo_files(tmp_path_factory.mktemp("ui-demo"))
    return _DEMO_CACHE["demo"]


def complete_values(protocol: Any, timepoint: str, *, extravasation: bool) -> dict[str, Any]:
    """A complete read: needle in bone, every finding absent except (optionally) extravasation."""
    values: dict[str, Any] = {"image_quality": "adequate", "side": "right",
                              "timepoint": timepoint,
                              "needle_position.tip_position": "intramedullary"}
    for finding in protocol.findings:
        if finding.presence:
            values[f"{finding.id}.presence"] = "absent"
            values[f"{finding.id}.confidence"] = 1
    if extravasation:
        values.update({"extravasation.presence": "present", "extravasation.confidence": 5,
                       "extravasation.compartment": ["anterior"],
                       "extravasation.severity": "mild"})
    return values


def build_database(db_path: Path, demo: DemoFiles | None, *, cases: bool = True) -> None:
    """Users, default protocol and (with ``demo``) imported studies, cases and assignments."""
    trial = Trial.open(db_path)
    try:
        system = trial.system_session("ui-tests")
        trial.create_user(system, "coord", "Casey Coordinator", "coordinator", PASSWORDS["coord"])
        trial.create_user(system, "reader1", "Reader One", "reader", PASSWORDS["reader1"])
        trial.create_user(system, "reader2", "Reader Two", "reader", PASSWORDS["reader2"])
        trial.create_user(system, "adjud", "Ada Adjudicator", "adjudicator", PASSWORDS["adjud"])
        trial.create_user(system, "admin", "Ada Administrator", "admin", PASSWORDS["admin"])
        trial.install_protocol(system, default_protocol_path())
        if demo is not None:
            trial.import_studies(system, [demo.dicom_dir])
            if cases:
                trial.build_cases_from_studies(system)
                trial.generate_assignments(system, seed=ASSIGNMENT_SEED)
    finally:
        trial.close()


def copy_database(template: Path, target: Path) -> Path:
    """Copy a closed SQLite database (with its WAL side files, its trial key and its audit
    anchor journal: a trial is the database and the key kept beside it) to ``target``."""
    for suffix in ("", "-wal", "-shm", ".key", ".anchor"):
        source = Path(str(template) + suffix)
        if source.exists():
            shutil.copy(source, Path(str(target) + suffix))
    return target


def open_trial(db_path: Path, clock: FakeClock) -> Trial:
    """Open the service over ``db_path`` on the fake clock."""
    return Trial.open(db_path, clock=clock)


class ServiceCalls:
    """The use cases a test's widgets call on a real service object, in order.

    Every public method of ``service`` is replaced (through ``monkeypatch``, so only for the
    test) by a wrapper that notes the method's name and calls the real method.
    """

    def __init__(self, service: object, monkeypatch: Any) -> None:
        self.names: list[str] = []
        for name, method in inspect.getmembers(service, inspect.ismethod):
            if not name.startswith("_"):
                monkeypatch.setattr(service, name, self._counting(name, method))

    def _counting(self, name: str, method: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(method)
        def call(*args: Any, **kwargs: Any) -> Any:
            self.names.append(name)
            return method(*args, **kwargs)

        return call

    def clear(self) -> None:
        """Forget the calls so far."""
        self.names.clear()


def when_modal(widget_type: type, action: Callable[[Any], None], *,
               timeout_ms: int = 10_000) -> list[Any]:
    """Run ``action(dialog)`` as soon as a modal ``widget_type`` is shown (for `exec()`ed
    dialogs, which block the test). Returns a list that receives the dialog."""
    seen: list[Any] = []
    deadline = time.monotonic() + timeout_ms / 1000

    def poll() -> None:
        widget = QApplication.activeModalWidget()
        if isinstance(widget, widget_type) and widget.isVisible():
            seen.append(widget)
            try:
                action(widget)
            finally:
                if widget.isVisible():  # never leave a test hanging on an open dialog
                    widget.reject()
        elif time.monotonic() < deadline:
            QTimer.singleShot(20, poll)

    QTimer.singleShot(0, poll)
    return seen


def click(qtbot: Any, widget: QWidget) -> None:
    """Scroll ``widget`` into view (inside any scroll area) and click it."""
    parent = widget.parentWidget()
    while parent is not None:
        if isinstance(parent, QScrollArea):
            parent.ensureWidgetVisible(widget)
        parent = parent.parentWidget()
    QApplication.processEvents()
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton)


def choose(combo: QComboBox, value: Any) -> None:
    """Pick the entry whose data is ``value`` (as a user choosing from the list)."""
    for i in range(combo.count()):
        if combo.itemData(i) == value:
            combo.setCurrentIndex(i)
            return
    raise AssertionError(f"{value!r} is not offered in {combo.objectName()}")


def save_screenshot(widget: QWidget, name: str) -> Path:
    """Grab ``widget`` into screenshots/<name>.png (in the application's dark theme)."""
    SCREENSHOTS.mkdir(exist_ok=True)
    app = QApplication.instance()
    if app is not None and app.property("ioreview_themed") is None:
        apply_theme(app)  # type: ignore[arg-type]
        app.setProperty("ioreview_themed", True)
    path = SCREENSHOTS / f"{name}.png"
    QApplication.processEvents()
    widget.grab().save(str(path))
    return path
