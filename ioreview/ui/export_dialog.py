"""The coordinator's export dialog: the same export as `ioreview export`, with a progress bar.

The export is a signed record: the dialog asks for the coordinator's password and hands it to
the service, which checks it, writes the files into a new folder and signs the export.  The
work runs on a worker thread; the dialog stays responsive and keeps what was typed when the
service refuses (wrong password, a folder that is not empty).
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFileDialog,
                               QFormLayout, QHBoxLayout, QLabel, QLineEdit, QProgressBar,
                               QPushButton, QVBoxLayout, QWidget)

from ioreview.errors import IoreviewError
from ioreview.ui.read_form import signature_manifest
from ioreview.ui.workers import TaskHandle, run_in_thread

if TYPE_CHECKING:
    from ioreview.service import ExportSummary, Session, Trial

__all__ = ["ExportDialog"]


class ExportDialog(QDialog):
    """Choose a new folder, the formats and parts, sign with the password, watch progress."""

    def __init__(self, trial: Trial, session: Session, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ExportDialog")
        self.setWindowTitle(self.tr("Export the trial"))
        self.setMinimumWidth(560)
        self.trial, self.session = trial, session
        self.task: TaskHandle | None = None
        self.summary: ExportSummary | None = None

        self.folder = QLineEdit()
        self.folder.setObjectName("export_folder")
        self.folder.setPlaceholderText(self.tr("a new or empty folder"))
        browse = QPushButton(self.tr("Choose…"))
        browse.clicked.connect(self._browse)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder, 1)
        folder_row.addWidget(browse)
        self.formats = {name: QCheckBox(label) for name, label in (
            ("csv", self.tr("CSV")), ("parquet", self.tr("Parquet")),
            ("json", self.tr("JSON Lines")))}
        self.formats["csv"].setChecked(True)
        formats_row = QHBoxLayout()
        for box in self.formats.values():
            formats_row.addWidget(box)
        formats_row.addStretch(1)
        self.include_sr = QCheckBox(self.tr("DICOM SR of every signed read and final outcome"))
        self.include_images = QCheckBox(self.tr("with de-identified copies of the referenced "
                                                "images"))
        self.include_images.setEnabled(False)
        self.include_sr.toggled.connect(self.include_images.setEnabled)
        self.report = QCheckBox(self.tr("Report (HTML and PDF)"))
        self.language = QComboBox()
        self.language.addItem(self.tr("English"), "en")
        self.language.addItem(self.tr("Simplified Chinese"), "zh_CN")
        self.identified = QCheckBox(self.tr("Keep original identifiers (identified export; "
                                            "recorded in the audit trail)"))
        self.password = QLineEdit()
        self.password.setObjectName("export_password")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        explain = QLabel(self.tr("The export is signed: meaning of this signature: "
                                 "<b>I confirm this export</b>. Enter your password."))
        explain.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setObjectName("export_progress")
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat(self.tr("%v of %m cases"))
        self.progress.setTextVisible(False)
        self.message = QLabel()
        self.message.setObjectName("ExportMessage")
        self.message.setWordWrap(True)
        self.message.hide()

        form = QFormLayout()
        form.addRow(self.tr("Folder"), folder_row)
        form.addRow(self.tr("Tables"), formats_row)
        form.addRow("", self.include_sr)
        form.addRow("", self.include_images)
        form.addRow("", self.report)
        form.addRow(self.tr("Report language"), self.language)
        form.addRow("", self.identified)
        form.addRow(self.tr("Password"), self.password)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Close)
        self.export_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.export_button.setText(self.tr("Export"))
        self.export_button.setObjectName("ExportButton")
        self.buttons.accepted.connect(self.start)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(explain)
        layout.addWidget(self.progress)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, self.tr("Export into"))
        if folder:
            self.folder.setText(folder)

    def show_message(self, text: str, error: bool = True) -> None:
        self.message.setStyleSheet("color: #ff8a80;" if error else "")
        self.message.setText(text)
        self.message.setVisible(bool(text))

    def start(self) -> None:
        """Check what is needed and run the export on a worker thread."""
        folder = self.folder.text().strip()
        formats = [name for name, box in self.formats.items() if box.isChecked()]
        if not folder:
            self.show_message(self.tr("Choose the folder to export into."))
            return
        if not formats:
            self.show_message(self.tr("Choose at least one table format."))
            return
        if not self.password.text():
            self.show_message(self.tr("Enter your password to sign the export."))
            return
        self.export_button.setEnabled(False)
        self.progress.setRange(0, 0)
        self.progress.setTextVisible(True)
        self.show_message(self.tr("Exporting…"), error=False)
        self.task = run_in_thread(
            self.trial.export_trial, self.session, Path(folder), self.password.text(),
            formats=formats, include_sr=self.include_sr.isChecked(),
            include_images=self.include_sr.isChecked() and self.include_images.isChecked(),
            report=self.report.isChecked(), identified=self.identified.isChecked(),
            language=self.language.currentData(),
            on_progress=self._on_progress, on_done=self._on_done, on_error=self._on_error)

    def _on_progress(self, done: int, total: int) -> None:
        if total > 0:
            self.progress.setRange(0, total)
            self.progress.setValue(done)

    def _on_done(self, summary: Any) -> None:
        self.task = None
        self.summary = summary
        self.password.clear()
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
        self.show_message(self.tr("Exported {n} files to {folder}; export {id} signed.").format(
            n=len(summary.files) + 1, folder=summary.out_dir, id=summary.export_id)
            + "\n" + signature_manifest(summary.signature), error=False)
        self.export_button.setEnabled(True)

    def _on_error(self, exc: BaseException) -> None:
        self.task = None
        self.password.clear()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setTextVisible(False)
        self.export_button.setEnabled(True)
        if isinstance(exc, IoreviewError):
            self.show_message(str(exc))
        else:
            self.show_message(self.tr("The export failed: {error}").format(error=exc))
