"""The administrator's area: tabs the coordination window adds for the admin role — protocol
versions (with a diff between two), backup — beside the audit viewer every coordinator has.

Users stay on the coordination window's Users tab.
"""
from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import (QAbstractItemView, QFileDialog, QGroupBox, QHBoxLayout, QLabel,
                               QPushButton, QSplitter, QTabWidget, QTextBrowser, QVBoxLayout,
                               QWidget)

from ioreview.service import BackupSummary, ProtocolDiff, ProtocolVersionInfo, Role
from ioreview.ui.tab_base import ControllerTab as _Tab
from ioreview.ui.tab_base import readable_time
from ioreview.ui.tab_base import table_view as _table
from ioreview.ui.table_model import Column, RecordTableModel
from ioreview.ui.workers import TaskHandle, run_in_thread

if TYPE_CHECKING:
    from ioreview.ui.lock_screen import SessionController

__all__ = ["BackupTab", "ProtocolVersionsTab", "add_admin_tabs", "diff_html", "fields_html"]


def diff_html(lines: tuple[str, ...]) -> str:
    """A unified diff as HTML: removed lines red, added lines green, hunk heads blue."""
    out = []
    for line in lines:
        text = html.escape(line)
        if line.startswith(("+++", "---")):
            out.append(f"<b>{text}</b>")
        elif line.startswith("@@"):
            out.append(f"<span style='color:#82b1ff'>{text}</span>")
        elif line.startswith("+"):
            out.append(f"<span style='background:#1b5e20;color:#e8f5e9'>{text}</span>")
        elif line.startswith("-"):
            out.append(f"<span style='background:#7f1d1d;color:#ffebee'>{text}</span>")
        else:
            out.append(text)
    return "<pre style='margin:0'>" + "\n".join(out) + "</pre>"


class ProtocolVersionsTab(_Tab):
    """Installed protocol versions; select two to see what changed between them."""

    def __init__(self, controller: SessionController, parent: QWidget | None = None) -> None:
        super().__init__(controller, parent)
        self.setObjectName("ProtocolVersionsTab")
        self.last_diff: ProtocolDiff | None = None
        self.model = RecordTableModel([
            Column(self.tr("Protocol"), lambda v: v.protocol_id),
            Column(self.tr("Version"), lambda v: v.version),
            Column(self.tr("Active"), lambda v: v.active),
            Column(self.tr("Installed"), lambda v: readable_time(v.installed_at)),
            # the whole digest in the column that takes the rest of the width (it is what an
            # administrator compares with a protocol file's checksum)
            Column(self.tr("SHA-256"), lambda v: v.sha256),
        ], self)
        self.table = _table(self.model, "ProtocolVersionsView")
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.MultiSelection)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        self.compare_button = QPushButton(self.tr("Compare the two selected versions"))
        self.compare_button.setObjectName("CompareProtocols")
        self.compare_button.setEnabled(False)
        self.compare_button.clicked.connect(self.compare_selected)
        self.hint = QLabel(self.tr("Select two versions to see what changed between them."))
        self.fields_view = QTextBrowser()
        self.fields_view.setObjectName("ProtocolFieldChanges")
        self.text_view = QTextBrowser()
        self.text_view.setObjectName("ProtocolTextDiff")
        self.text_view.setLineWrapMode(QTextBrowser.LineWrapMode.NoWrap)
        fields_box = QGroupBox(self.tr("Changed settings and fields"))
        QVBoxLayout(fields_box).addWidget(self.fields_view)
        text_box = QGroupBox(self.tr("Protocol file (TOML) line by line"))
        QVBoxLayout(text_box).addWidget(self.text_view)
        lower = QSplitter(Qt.Orientation.Horizontal)
        lower.addWidget(fields_box)
        lower.addWidget(text_box)
        lower.setSizes([520, 720])
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.table)
        splitter.addWidget(lower)
        splitter.setSizes([200, 520])
        row = QHBoxLayout()
        row.addWidget(self.hint, 1)
        row.addWidget(self.compare_button)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(splitter, 1)

    def refresh(self) -> None:
        versions = self.call(self.trial.protocol_versions)
        if versions is not None:
            self.model.set_records(versions)

    def selected_versions(self) -> list[ProtocolVersionInfo]:
        rows = sorted(i.row() for i in self.table.selectionModel().selectedRows())
        return [self.model.record(r) for r in rows]

    def _selection_changed(self, *_args: Any) -> None:
        self.compare_button.setEnabled(len(self.selected_versions()) == 2)

    def compare_selected(self) -> None:
        """Show the diff from the older to the newer of the two selected versions."""
        chosen = self.selected_versions()
        if len(chosen) != 2:
            return
        old, new = sorted(chosen, key=lambda v: v.id)
        self.compare(old.id, new.id)

    def compare(self, old_id: int, new_id: int) -> None:
        diff = self.call(self.trial.protocol_diff, old_id, new_id)
        if diff is None:
            return
        self.last_diff = diff
        self.hint.setText(self.tr("From {old} (installed {t_old}) to {new} (installed {t_new})")
                          .format(old=f"{diff.old.protocol_id} {diff.old.version}",
                                  t_old=readable_time(diff.old.installed_at),
                                  new=f"{diff.new.protocol_id} {diff.new.version}",
                                  t_new=readable_time(diff.new.installed_at)))
        self.fields_view.setHtml(fields_html(diff))
        self.text_view.setHtml(diff_html(diff.text_diff) if diff.text_diff else
                               html.escape(self.tr("The two files are identical.")))


def fields_html(diff: ProtocolDiff) -> str:
    """The changed settings and fields as an HTML list, coloured by kind of change."""
    if not diff.fields:
        return html.escape(QCoreApplication.translate("ProtocolVersionsTab",
                                                      "No setting or field differs."))
    names = {"added": QCoreApplication.translate("ProtocolVersionsTab", "added"),
             "removed": QCoreApplication.translate("ProtocolVersionsTab", "removed"),
             "changed": QCoreApplication.translate("ProtocolVersionsTab", "changed")}
    colours = {"added": "#69f0ae", "removed": "#ff8a80", "changed": "#ffd54f"}
    items = []
    for c in diff.fields:
        details = "".join(f"<li>{html.escape(d)}</li>" for d in c.details)
        items.append(f"<li><span style='color:{colours.get(c.change, '#fff')}'>"
                     f"[{html.escape(names.get(c.change, c.change))}]</span> "
                     f"<b>{html.escape(c.label)}</b> <code>{html.escape(c.key)}</code>"
                     + (f"<ul>{details}</ul>" if details else "") + "</li>")
    return "<ul>" + "".join(items) + "</ul>"


class BackupTab(_Tab):
    """Back the trial up into a new folder (the service's `backup` use case)."""

    def __init__(self, controller: SessionController, parent: QWidget | None = None) -> None:
        super().__init__(controller, parent)
        self.setObjectName("BackupTab")
        self.task: TaskHandle | None = None
        self.last_summary: BackupSummary | None = None
        self.backup_button = QPushButton(self.tr("Back up the trial now…"))
        self.backup_button.setObjectName("BackupButton")
        self.backup_button.clicked.connect(self.choose_destination)
        self.status = QLabel()
        self.status.setObjectName("BackupStatus")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        explanation = QLabel(self.tr(
            "A backup copies the database (consistently, while others keep working), the case "
            "archive and a manifest with the SHA-256 of every file into a new folder. The trial "
            "key is not part of the backup: keep it safe separately."))
        explanation.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(explanation)
        layout.addWidget(self.backup_button, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.status)
        layout.addStretch(1)

    def choose_destination(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, self.tr("Folder to create the backup in"))
        if folder:
            self.start_backup(folder)

    def start_backup(self, dest: str) -> None:
        """Run the backup into `dest` in a worker thread."""
        if self.task is not None and self.task.running:
            return
        self.backup_button.setEnabled(False)
        self.status.setText(self.tr("Backing up into {dest} …").format(dest=dest))
        self.task = run_in_thread(self.trial.backup, self.controller.session, dest,
                                  on_done=self._done, on_error=self._failed)

    def _done(self, summary: BackupSummary) -> None:
        self.backup_button.setEnabled(True)
        self.last_summary = summary
        self.status.setText(self.tr(
            "Backup finished in {folder}: {n} files ({archive} case files), audit trail of "
            "{length} records, manifest {manifest}. The trial key ({key_id}) is not in the "
            "backup; it is kept at {key_path}.").format(
            folder=summary.folder, n=summary.n_files, archive=summary.n_archive_files,
            length=summary.audit_length, manifest=summary.manifest.name,
            key_id=summary.key_id, key_path=summary.key_path or self.tr("(in memory)")))

    def _failed(self, exc: BaseException) -> None:
        self.backup_button.setEnabled(True)
        self.status.setText(self.tr("Backup failed: {error}").format(error=str(exc)))
        self.controller.report(exc, self, self.tr("Backup"))


def add_admin_tabs(tabs: QTabWidget, controller: SessionController) -> dict[str, QWidget]:
    """Add the audit viewer (coordinator and admin) and, for the admin, the protocol versions
    and backup tabs; returns them by name."""
    from ioreview.ui.audit_viewer import AuditViewer

    added: dict[str, QWidget] = {"audit": AuditViewer(controller)}
    tabs.addTab(added["audit"], QCoreApplication.translate("AdminArea", "Audit trail"))
    if controller.session.role is Role.ADMIN:
        added["protocols"] = ProtocolVersionsTab(controller)
        added["backup"] = BackupTab(controller)
        tabs.addTab(added["protocols"], QCoreApplication.translate("AdminArea", "Protocol versions"))
        tabs.addTab(added["backup"], QCoreApplication.translate("AdminArea", "Backup"))
    return added
