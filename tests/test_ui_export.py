"""The coordinator's export dialog, driven as a user: a wrong password keeps everything typed,
the right one exports on a worker thread with the progress bar moving to the end."""
from __future__ import annotations

from PySide6.QtCore import Qt

from ioreview.service import Trial
from ioreview.ui.export_dialog import ExportDialog
from test_export import demo  # noqa: F401 - the module-scoped demo trial fixture
from test_trial_helpers import fast_kdf  # noqa: F401


def test_export_dialog_signs_and_exports(qtbot, demo, tmp_path, fast_kdf):  # noqa: F811
    db, archive, _phi = demo
    trial = Trial.open(db, archive_root=archive)
    session = trial.login("coordinator", "coordinator-demo")
    dialog = ExportDialog(trial, session)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClicks(dialog.folder, str(tmp_path / "out"))
    dialog.formats["parquet"].setChecked(True)
    qtbot.keyClicks(dialog.password, "wrong password")
    qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.task is None and dialog.export_button.isEnabled(),
                    timeout=20000)
    assert "does not match" in dialog.message.text()
    assert dialog.folder.text() == str(tmp_path / "out") and dialog.summary is None
    assert not (tmp_path / "out").exists()
    qtbot.keyClicks(dialog.password, "coordinator-demo")
    qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.summary is not None, timeout=30000)
    assert (tmp_path / "out" / "reads.parquet").exists()
    assert (tmp_path / "out" / "manifest.json").exists()
    assert dialog.progress.value() == dialog.progress.maximum()
    assert "signed" in dialog.message.text()
    trial.close()
