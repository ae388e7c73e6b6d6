"""The reader's window: own worklist, then the viewer with the read form beside it.

The worklist shows only what the service returns for the logged-in reader: the pseudonymous
case label, the timepoint, the day relative to IO insertion (never a date) and the status.
Opening a case hands its blinded series to the viewer and its read to `ReadFormPanel`.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QAbstractItemModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSettings,
    Qt,
    Signal,
)
from PySide6.QtGui import QAction, QBrush, QCloseEvent, QColor, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMainWindow,
    QPushButton,
    QSplitter,
    QTableView,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from ioreview import __version__
from ioreview.errors import IoreviewError
from ioreview.service import KeyImage, ReadStatus
from ioreview.ui.translation import ui_locale
from ioreview.ui.help import AboutInfo, HelpMenu
from ioreview.ui.lock_screen import SessionController
from ioreview.ui.read_form import FindingGroup, ReadFormPanel
from ioreview.ui.pane_fold import PaneFold, SplitterFit, pane_action
from ioreview.ui.session_menu import add_session_menu
from ioreview.ui.table_model import RecordTableModel
from ioreview.ui.viewer.keymap import Keymap

if TYPE_CHECKING:
    from adjudication.protocol import HangingProtocol, Protocol, ToolThresholds
    from ioreview.service import (
        Annotation,
        PriorView,
        ReadState,
        SeriesView,
        Session,
        TagRow,
        Trial,
        WorklistItem,
    )
    from ioreview.ui.viewer.annotations import ViewerAnnotation
    from ioreview.ui.viewer.series_loader import ImageRef
    from ioreview.ui.viewer.viewer_window import ViewerWidget

__all__ = ["ReadingWindow", "ViewerAdapter", "WorklistModel", "WorklistView", "make_viewer"]

_Index = QModelIndex | QPersistentModelIndex

_STATUS_COLOURS = {
    ReadStatus.NEW: QColor(144, 202, 249),
    ReadStatus.IN_PROGRESS: QColor(255, 213, 79),
    ReadStatus.SUBMITTED: QColor(129, 199, 132),
}


def timepoint_namer(protocol: Protocol | None, locale: str | None) -> Callable[[str], str]:
    """Timepoints as ``protocol`` names them in ``locale`` (None: as stored)."""
    if locale and protocol is not None:
        return lambda value: protocol.timepoint_label(value, locale)
    return str


class WorklistModel(RecordTableModel):
    """The reader's own worklist: order, case label, timepoint, day, status."""

    COLUMNS = ("order", "case", "timepoint", "day", "status")

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__((), parent)
        self._records: list[WorklistItem] = []
        self._timepoint_text: Callable[[str], str] = str

    def set_timepoint_names(self, protocol: Protocol | None, locale: str | None) -> None:
        """Show timepoints as ``protocol`` names them in ``locale`` (None: as stored)."""
        self._timepoint_text = timepoint_namer(protocol, locale)
        if self._records:
            self.dataChanged.emit(self.index(0, 2), self.index(len(self._records) - 1, 2))

    def record(self, row: int) -> WorklistItem:
        """The worklist item of ``row``."""
        return self._records[row]

    def records(self) -> list[WorklistItem]:
        """All worklist items, in the reader's order."""
        return list(self._records)

    def set_status(self, read_id: int, status: ReadStatus) -> None:
        """Show a new status for the item of ``read_id`` (after a save or a signature)."""
        for row, item in enumerate(self._records):
            if item.read_id == read_id and item.status is not status:
                self._records[row] = dataclasses.replace(item, status=status)
                cell = self.index(row, self.COLUMNS.index("status"))
                self.dataChanged.emit(cell, cell)

    def row_of(self, assignment_id: int) -> int:
        """The row of an assignment, or -1."""
        for row, item in enumerate(self._records):
            if item.assignment_id == assignment_id:
                return row
        return -1

    def status_text(self, status: ReadStatus | str) -> str:
        """The reader-facing word for a read status (or its stored value)."""
        return {ReadStatus.NEW: self.tr("new"), ReadStatus.IN_PROGRESS: self.tr("in progress"),
                ReadStatus.SUBMITTED: self.tr("submitted")}[ReadStatus(status)]

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802, B008 - Qt API
        """Number of columns."""
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802 - Qt API
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Column titles."""
        if orientation != Qt.Orientation.Horizontal or role != Qt.ItemDataRole.DisplayRole:
            return None
        return (self.tr("#"), self.tr("Case"), self.tr("Timepoint"), self.tr("Day"),
                self.tr("Status"))[section]

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        """Cell text, alignment and the status colour."""
        if not index.isValid():
            return None
        item = self._records[index.row()]
        column = self.COLUMNS[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            if column == "order":
                return str(index.row() + 1)
            if column == "case":
                return item.case_label
            if column == "timepoint":
                return self._timepoint_text(item.timepoint)
            if column == "day":
                days = item.days_from_insertion
                return "—" if days is None else f"{days:+d}"
            return self.status_text(item.status)
        if role == Qt.ItemDataRole.ForegroundRole and column == "status":
            return QBrush(_STATUS_COLOURS[item.status])
        if role == Qt.ItemDataRole.TextAlignmentRole and column in ("order", "day"):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole and column == "day":
            return self.tr("Days relative to IO insertion")
        if role == Qt.ItemDataRole.UserRole:
            return item.assignment_id
        return None


class WorklistView(QTableView):
    """The worklist table; double-click or Enter asks to open the case."""

    open_requested = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("WorklistView")
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setAlternatingRowColors(True)
        self.setShowGrid(False)
        self.verticalHeader().hide()
        self.doubleClicked.connect(self._open_index)
        self.activated.connect(self._open_index)

    def setModel(self, model: QAbstractItemModel | None) -> None:  # noqa: N802 - Qt API
        """Set the model and size the columns to their content."""
        super().setModel(model)
        header = self.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)

    def _open_index(self, index: QModelIndex) -> None:
        if index.isValid():
            self.open_requested.emit(int(index.siblingAtColumn(0).data(Qt.ItemDataRole.UserRole)))

    def current_assignment(self) -> int | None:
        """The assignment of the selected row (None when nothing is selected)."""
        index = self.currentIndex()
        if not index.isValid():
            return None
        return int(index.siblingAtColumn(0).data(Qt.ItemDataRole.UserRole))


# -- the viewer -------------------------------------------------------------------------------
class _PlaceholderViewer(QLabel):
    """Stands in for the image viewer when it cannot be built; lists the series."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ViewerPlaceholder")
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setWordWrap(True)
        self.setStyleSheet("background: #000; color: #9aa0a6;")
        self.setMinimumSize(480, 400)
        self.setText(self.tr("No case open"))

    def show_series(self, series: Iterable[SeriesView]) -> None:
        lines = [self.tr("Image viewer not available in this build.")]
        for s in series:
            lines.append(f"{s.modality} · {s.description} · {s.n_instances} images")
        self.setText("\n".join(lines))


class ViewerAdapter(QObject):
    """The one place that knows the viewer's API; the reading window talks only to this.

    Annotations cross as the service's `Annotation` values, in a stable order.
    Signals: ``annotations_changed(list[Annotation])`` whenever the viewer's annotations
    change, ``key_images_changed(list[KeyImage])`` when key images are marked or unmarked.
    This base class backs the placeholder (no images); `_EmbeddedViewerAdapter` drives the
    real `ViewerWidget`.
    """

    annotations_changed = Signal(object)
    key_images_changed = Signal(object)

    def __init__(self, widget: QWidget, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.widget = widget
        self._annotations: list[Annotation] = []
        self._key_images: list[KeyImage] = []
        self._selected: Annotation | None = None
        self._timepoint_text: Callable[[str], str] = str

    def set_timepoint_names(self, protocol: Protocol | None, locale: str | None) -> None:
        """Name the priors' timepoints as ``protocol`` does in ``locale`` (None: as stored)."""
        self._timepoint_text = timepoint_namer(protocol, locale)

    def set_case(self, series: Sequence[SeriesView], priors: Sequence[PriorView],
                 annotations: Sequence[Annotation], key_images: Sequence[KeyImage]) -> None:
        """Show a case's series (and priors) with its stored annotations and key images."""
        self._annotations = list(annotations)
        self._key_images = list(key_images)
        self._selected = None
        if isinstance(self.widget, _PlaceholderViewer):
            self.widget.show_series([*series, *(s for p in priors for s in p.series)])

    def clear(self) -> None:
        """Show nothing."""
        self.set_case((), (), (), ())

    def set_annotations(self, annotations: Sequence[Annotation]) -> None:
        """Take over finding links / labels changed in the read form."""
        self._annotations = list(annotations)

    def annotations(self) -> list[Annotation]:
        """The annotations currently in the viewer."""
        return list(self._annotations)

    def add_annotation(self, annotation: Annotation) -> None:
        """Add an annotation (as drawing one in the viewer does) and select it."""
        self._annotations.append(annotation)
        self._selected = annotation
        self.annotations_changed.emit(list(self._annotations))

    def selected_annotation(self) -> Annotation | None:
        """The annotation selected in the viewer, or None."""
        return self._selected

    def set_current_finding(self, finding_id: str | None, label: str) -> None:
        """New annotations document this finding."""

    def current_image(self) -> tuple[str, int] | None:
        """(SOP Instance UID, frame) of the image on screen, or None."""
        return None

    def toggle_key_image(self) -> None:
        """Mark the image on screen as a key image, or unmark it."""
        image = self.current_image()
        if image is None:
            return
        kept = [k for k in self._key_images if (k.sop_instance_uid, k.frame) != image]
        if len(kept) == len(self._key_images):
            kept.append(KeyImage(image[0], image[1]))
        self._key_images = kept
        self.key_images_changed.emit(list(self._key_images))

    def set_read_only(self, read_only: bool) -> None:
        """Forbid drawing on a signed read."""

    def set_tool_thresholds(self, tools: ToolThresholds) -> None:
        """The HU bands of the protocol's assistive tools."""

    def set_hanging(self, hanging: HangingProtocol) -> None:
        """The protocol's default layouts per modality and prior comparison."""

    def set_tag_rows_provider(self, provider: Callable[[ImageRef], list[TagRow]]
                              ) -> None:
        """Where the tag browser gets the (masked) rows of an image."""

    def toolbar(self) -> QToolBar | None:
        """The viewer's toolbar, for the window to place (None: no viewer)."""
        return None

    def add_toolbar_action(self, group: str, action: QAction, icon_name: str = "") -> None:
        """Put a window action into a group of the viewer's toolbar (nothing without a viewer)."""

    def keymap(self) -> Keymap:
        """The viewer's key bindings (the Help menu's shortcut sheet lists them)."""
        return Keymap()

    def key_bindings_action(self) -> QAction | None:
        """The action opening the key bindings dialog, if there is a viewer."""
        return None

    def shutdown(self) -> None:
        """Stop background work (the window closes)."""


class _EmbeddedViewerAdapter(ViewerAdapter):
    """Drives `ioreview.ui.viewer.ViewerWidget`: its annotation model is the source of truth."""

    widget: ViewerWidget

    def __init__(self, widget: ViewerWidget, parent: QObject | None = None) -> None:
        super().__init__(widget, parent)
        self._uids: list[str] = []
        self._loading = False
        widget.annotationAdded.connect(self._on_added)
        widget.annotationChanged.connect(self._on_changed)
        widget.annotationRemoved.connect(self._on_removed)
        self.key_action = QAction(self.tr("Key image"), widget)
        self.key_action.setToolTip(self.tr("Mark or unmark the image on screen as a key image (K)"))
        self.key_action.setShortcut("K")
        self.key_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.key_action.triggered.connect(self.toggle_key_image)
        widget.add_toolbar_action("annotate", self.key_action, "key_image",
                                  self.tr("Mark or unmark the image on screen as a key image"))
        widget.addAction(self.key_action)

    def _publish(self) -> None:
        if self._loading:
            return
        model = self.widget.annotations
        shapes = [(uid, shape) for uid in self._uids if (shape := model.get(uid)) is not None]
        self._uids = [uid for uid, _shape in shapes]
        self._annotations = [shape.to_trial() for _uid, shape in shapes]
        self.annotations_changed.emit(list(self._annotations))

    def _on_added(self, annotation: ViewerAnnotation) -> None:
        if annotation.uid not in self._uids:
            self._uids.append(annotation.uid)
        self._publish()

    def _on_changed(self, _annotation: ViewerAnnotation) -> None:
        self._publish()

    def _on_removed(self, _annotation: ViewerAnnotation) -> None:
        self._publish()

    def set_case(self, series: Sequence[SeriesView], priors: Sequence[PriorView],
                 annotations: Sequence[Annotation], key_images: Sequence[KeyImage]) -> None:
        """Load the case's series (priors after them, marked "Prior") and its annotations."""
        shown = list(series)
        prior_keys = [str(s.series_pk) for prior in priors for s in prior.series]
        for prior in priors:
            for s in prior.series:
                described = self.tr("Prior {timepoint} (day {day}): {description}").format(
                    timepoint=self._timepoint_text(prior.timepoint), day=prior.days_from_insertion,
                    description=s.description)
                shown.append(dataclasses.replace(s, description=described))
        self._loading = True
        try:
            self.widget.set_series(shown, prior_keys)
            converted = self.widget.set_annotations(list(annotations))
        finally:
            self._loading = False
        self._uids = [a.uid for a in converted]
        self._annotations = list(annotations)
        self._key_images = list(key_images)

    def clear(self) -> None:
        """Close the series."""
        self._loading = True
        try:
            self.widget.set_annotations([])
            self.widget.clear()
        finally:
            self._loading = False
        self._uids, self._annotations, self._key_images = [], [], []

    def set_annotations(self, annotations: Sequence[Annotation]) -> None:
        """Apply finding links / labels changed in the read form to the viewer's shapes."""
        for uid, new in zip(self._uids, annotations):
            current = self.widget.annotations.get(uid)
            if current is not None and (current.finding_id != new.finding_id
                                        or current.label != new.label):
                self.widget.set_annotation_finding(uid, new.finding_id, new.label)

    def add_annotation(self, annotation: Annotation) -> None:
        """Add a (service) annotation as if drawn, and select it."""
        from ioreview.ui.viewer.annotations import ViewerAnnotation

        item = ViewerAnnotation.from_trial(annotation)
        self.widget.annotations.add(item)
        self.widget.annotations.select(item.uid)

    def selected_annotation(self) -> Annotation | None:
        """The selected shape as a service annotation, or None."""
        uid = self.widget.annotations.selected
        if uid is None or uid not in self._uids:
            return None
        return self._annotations[self._uids.index(uid)]

    def set_current_finding(self, finding_id: str | None, label: str) -> None:
        """New shapes document this finding."""
        self.widget.set_current_finding(finding_id, label)

    def current_image(self) -> tuple[str, int] | None:
        """(SOP Instance UID, frame) of the image in the active viewport."""
        ref = self.widget.active_viewport().current_ref()
        return None if ref is None else ref.key

    def set_read_only(self, read_only: bool) -> None:
        """A signed read: shapes are shown but cannot change."""
        self.widget.set_read_only(read_only)
        self.key_action.setEnabled(not read_only)

    def set_tool_thresholds(self, tools: ToolThresholds) -> None:
        """Region growing and the fat map use the protocol's HU bands."""
        self.widget.set_tool_thresholds(fat_hu=tools.fat_hu, fluid_hu=tools.fluid_hu,
                                        blood_hu=tools.blood_hu)

    def set_hanging(self, hanging: HangingProtocol) -> None:
        """Layouts per modality from the protocol; 1x2 hangs the prior's same view."""
        self.widget.set_hanging(hanging.layouts, hanging.default_layout, hanging.compare_with_prior)

    def set_tag_rows_provider(self, provider: Callable[[ImageRef], list[TagRow]]
                              ) -> None:
        """The viewer's tag browser asks ``provider`` for an image's rows."""
        self.widget.set_tag_rows_provider(provider)

    def toolbar(self) -> QToolBar | None:
        """The viewer's icon toolbar."""
        return self.widget.toolbar

    def add_toolbar_action(self, group: str, action: QAction, icon_name: str = "") -> None:
        """Put a window action into a group of the viewer's toolbar."""
        self.widget.add_toolbar_action(group, action, icon_name)

    def keymap(self) -> Keymap:
        """The viewer's key bindings."""
        return self.widget.keymap

    def key_bindings_action(self) -> QAction | None:
        """The viewer's Key bindings… action."""
        return self.widget.key_bindings_action

    def shutdown(self) -> None:
        """Stop decoding."""
        self.widget.shutdown()


def make_viewer(parent: QWidget | None = None) -> ViewerAdapter:
    """Build the image viewer for the reading window, behind its adapter (a placeholder that
    lists the series when the viewer package cannot be loaded)."""
    try:
        from ioreview.ui.viewer import ViewerWidget
    except ImportError:
        return ViewerAdapter(_PlaceholderViewer(parent), parent)
    return _EmbeddedViewerAdapter(ViewerWidget(parent), parent)


# -- the window -------------------------------------------------------------------------------
class ReadingWindow(QMainWindow):
    """Worklist → open case → viewer + read form, for one logged-in reader."""

    def __init__(self, trial: Trial, session: Session, *, idle_seconds: float | None = None,
                 parent: QWidget | None = None, database: str = "",
                 settings: QSettings | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ReadingWindow")
        #: where the trial database is, for Help > About (the app passes it in)
        self.database = database
        self._settings = settings if settings is not None else QSettings()
        self.controller = SessionController(trial, session, idle_seconds=idle_seconds,
                                            parent=self)
        self.logout_requested = False
        self.current_assignment: int | None = None
        self.setWindowTitle(self.tr("ioreview — reading ({user})").format(
            user=self.controller.user_label))

        # worklist panel
        self.worklist_model = WorklistModel(self)
        self.worklist_view = WorklistView()
        self.worklist_view.setModel(self.worklist_model)
        self.worklist_view.open_requested.connect(self.open_assignment)
        title = QLabel(self.tr("My worklist"))
        title.setObjectName("WorklistTitle")
        font = title.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.15)
        title.setFont(font)
        self.worklist_summary = QLabel()
        self.worklist_summary.setObjectName("WorklistSummary")
        self.worklist_summary.setWordWrap(True)  # a narrow worklist at 1280 pixels
        self.open_button = QPushButton(self.tr("Open case"))
        self.open_button.clicked.connect(self._open_selected)
        self.next_button = QPushButton(self.tr("Next unread"))
        self.next_button.clicked.connect(self.open_next_unread)
        buttons = QHBoxLayout()
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.next_button)
        worklist_panel = QWidget()
        worklist_panel.setObjectName("WorklistPanel")
        wl = QVBoxLayout(worklist_panel)
        wl.addWidget(title)
        wl.addWidget(self.worklist_view, 1)
        wl.addWidget(self.worklist_summary)
        wl.addLayout(buttons)
        worklist_panel.setMinimumWidth(240)

        # viewer + form
        self.viewer = make_viewer(self)
        self.read_form = ReadFormPanel(self.controller)
        self.read_form.selected_annotation = self.viewer.selected_annotation
        self.viewer.annotations_changed.connect(self.read_form.set_annotations)
        self.viewer.key_images_changed.connect(self.read_form.set_key_images)
        self.read_form.annotations_changed.connect(self.viewer.set_annotations)
        self.viewer.set_tag_rows_provider(self._tag_rows)
        app = QApplication.instance()
        if app is not None:
            app.focusChanged.connect(self._on_focus_changed)
        self.read_form.saved.connect(self._after_save)
        self.read_form.submitted.connect(self._after_submit)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(worklist_panel)
        self.splitter.addWidget(self.viewer.widget)
        self.splitter.addWidget(self.read_form)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setStretchFactor(2, 0)
        self.splitter.setCollapsible(1, False)
        #: the panes follow the window's width until the reader drags the splitter (here or
        #: in an earlier session)
        self.pane_sizes = SplitterFit(self, self.splitter, self.default_pane_sizes,
                                      moved=self._remember_panes)
        self.setCentralWidget(self.splitter)
        self.worklist_panel = worklist_panel
        self._build_panes()

        # menu
        self.session_menu = add_session_menu(self, self.controller,
                                             refresh=self.refresh_worklist, log_out=self.log_out)
        view_menu = self.menuBar().addMenu(self.tr("&View"))
        view_menu.addAction(self.worklist_action)
        view_menu.addAction(self.form_action)
        self.help_menu = HelpMenu(self.viewer.keymap(), window_actions=self._window_actions,
                                  about=self._about_info,
                                  key_bindings=self.viewer.key_bindings_action(), parent=self)
        self.menuBar().addMenu(self.help_menu)
        self.statusBar().showMessage(self.tr("Signed in as {user} (reader)").format(
            user=self.controller.user_label))

        self.controller.attach(self)
        self.controller.logout_requested.connect(self.log_out)
        self.resize(1580, 920)
        self.refresh_worklist()

    # -- panes and help -------------------------------------------------------------------------
    def _build_panes(self) -> None:
        """The viewer's toolbar across the window, and the worklist and read form as panes the
        reader can hide (toolbar buttons, View menu, F6/F7) so the images take the screen; the
        splitter and what is shown are remembered."""
        toolbar = self.viewer.toolbar()
        if toolbar is not None:
            self.addToolBar(Qt.ToolBarArea.TopToolBarArea, toolbar)
        self.worklist_action = pane_action(self, self.tr("Worklist"), "F6",
                                           self.tr("Show or hide the worklist"))
        self.form_action = pane_action(self, self.tr("Read form"), "F7",
                                       self.tr("Show or hide the read form"))
        self.viewer.add_toolbar_action("layout", self.worklist_action, "worklist")
        self.viewer.add_toolbar_action("layout", self.form_action, "read_form")
        state = self._settings.value("reading/splitter")
        if state is not None:
            self.pane_sizes.set_by_user = self.splitter.restoreState(state)
        self.worklist_action.setChecked(self._settings.value("reading/worklist", True, type=bool))
        self.form_action.setChecked(self._settings.value("reading/form", True, type=bool))
        self.worklist_panel.setVisible(self.worklist_action.isChecked())
        self.read_form.setVisible(self.form_action.isChecked())
        self.worklist_action.toggled.connect(lambda on: self._show_pane(self.worklist_panel, on))
        #: the worklist folds away for the images on opening a case (not remembered)
        self.worklist_fold = PaneFold(self, self.worklist_action, lambda: self.tr(
            "The worklist is folded away to give the images room: F6 or its toolbar button "
            "shows it again."))
        self.worklist_action.triggered.connect(self._remember_panes)
        self.form_action.toggled.connect(lambda on: self._show_pane(self.read_form, on))

    def default_pane_sizes(self, width: int) -> list[int]:
        """Worklist, viewer and read form widths for a window ``width`` pixels wide: the
        worklist as wide as its columns (at most a fifth of the width), the form a share of the
        width within bounds, the images the rest (most of it at 1280 pixels as at 1920)."""
        view = self.worklist_view
        header = view.horizontalHeader()
        columns = sum(max(view.sizeHintForColumn(c), header.sectionSizeHint(c))
                      for c in range(self.worklist_model.columnCount()))
        columns += 2 * view.frameWidth() + 24  # the panel's margins
        worklist = max(240, min(columns, 380, round(width * 0.25)))
        form = max(430, min(520, round(width * 0.27)))
        return [worklist, max(width - worklist - form, 200), form]

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt API
        """Until the reader drags the splitter, the panes follow the window's width."""
        super().resizeEvent(event)
        self.worklist_fold.window_resized(self.read_form.case is not None)
        self.pane_sizes.fit()

    def _show_pane(self, pane: QWidget, shown: bool) -> None:
        pane.setVisible(shown)
        self._remember_panes()

    def _remember_panes(self) -> None:
        if self.pane_sizes.set_by_user:
            self._settings.setValue("reading/splitter", self.splitter.saveState())
        self._settings.setValue("reading/worklist",
                                self.worklist_action.isChecked() or self.worklist_fold.auto_folded)
        self._settings.setValue("reading/form", self.form_action.isChecked())

    def _window_actions(self) -> list[QAction]:
        """The window's actions with shortcuts, for the Help menu's shortcut sheet."""
        actions = [a for m in self.menuBar().actions() if m.menu() is not None
                   for a in m.menu().actions()]
        actions += self.viewer.widget.actions()
        return list(dict.fromkeys(a for a in actions if not a.isSeparator() and a.shortcuts()))

    def _about_info(self) -> AboutInfo:
        """Version, database and active protocol for Help > About."""
        protocol_id = protocol_version = ""
        try:
            protocol = self.controller.trial.active_protocol(self.controller.session)[1]
            protocol_id, protocol_version = protocol.id, protocol.version
        except IoreviewError:
            pass
        return AboutInfo(__version__, self.database, protocol_id, protocol_version)

    # -- worklist -------------------------------------------------------------------------------
    def refresh_worklist(self) -> None:
        """Reload the worklist from the service, keeping the selection."""
        keep = self.worklist_view.current_assignment() or self.current_assignment
        try:
            items = self.controller.trial.worklist(self.controller.session)
        except IoreviewError as exc:
            self.controller.report(exc, self)
            return
        self.worklist_model.set_records(items)
        self._localize_timepoints()
        self._show_worklist_summary()
        self.pane_sizes.fit()
        if keep is not None:
            row = self.worklist_model.row_of(keep)
            if row >= 0:
                self.worklist_view.selectRow(row)

    def _show_worklist_summary(self) -> None:
        items = self.worklist_model.records()
        counts = dict.fromkeys(ReadStatus, 0)
        for item in items:
            counts[item.status] += 1
        self.worklist_summary.setText(self.tr(
            "{total} cases · {new} new · {prog} in progress · {done} submitted").format(
            total=len(items), new=counts[ReadStatus.NEW], prog=counts[ReadStatus.IN_PROGRESS],
            done=counts[ReadStatus.SUBMITTED]))

    def _show_status(self, read_id: int, status: ReadStatus) -> None:
        """Show a read's new status in the worklist without asking the service again."""
        self.worklist_model.set_status(read_id, status)
        self._show_worklist_summary()

    def _localize_timepoints(self) -> None:
        """Name the worklist's timepoints in the UI language, as the active protocol does."""
        locale = ui_locale()
        protocol = None
        if locale is not None:
            try:
                protocol = self.controller.trial.active_protocol(self.controller.session)[1]
            except IoreviewError:
                protocol = None
        self.worklist_model.set_timepoint_names(protocol, locale)

    def _open_selected(self) -> None:
        assignment = self.worklist_view.current_assignment()
        if assignment is None and self.worklist_model.rowCount():
            assignment = self.worklist_model.record(0).assignment_id
        if assignment is not None:
            self.open_assignment(assignment)

    def open_next_unread(self) -> None:
        """Open the first case of the worklist that is not yet submitted."""
        for item in self.worklist_model.records():
            if item.status is not ReadStatus.SUBMITTED:
                self.open_assignment(item.assignment_id)
                return
        self.statusBar().showMessage(self.tr("All cases of your worklist are submitted."), 5000)

    def open_assignment(self, assignment_id: int) -> None:
        """Save the open read, then open ``assignment_id`` in the viewer and the form."""
        if self.controller.locked:
            return
        if self.read_form.case is not None and not self.read_form.flush():
            return
        try:
            case = self.controller.trial.open_case(self.controller.session, assignment_id)
        except IoreviewError as exc:
            self.controller.report(exc, self)
            return
        self.current_assignment = assignment_id
        self.viewer.set_tool_thresholds(case.protocol.tools)
        self.viewer.set_hanging(case.protocol.hanging)
        self.viewer.set_timepoint_names(case.protocol, ui_locale())
        self.viewer.set_case(case.series, case.priors, case.annotations, case.key_images)
        self.read_form.load_case(case)
        self.viewer.set_read_only(self.read_form.is_read_only())
        self.worklist_fold.fold_for_images()
        self.refresh_worklist()
        row = self.worklist_model.row_of(assignment_id)
        if row >= 0:
            self.worklist_view.selectRow(row)

    def _tag_rows(self, ref: ImageRef) -> list[TagRow]:
        """DICOM tags of an image for the viewer's tag browser, masked by the service."""
        try:
            return self.controller.trial.tags_for_display(self.controller.session,
                                                          ref.header.sop_instance_uid)
        except IoreviewError as exc:
            self.controller.report(exc, self)
            return []

    def _on_focus_changed(self, _old: QWidget | None, new: QWidget | None) -> None:
        """Typing into a finding's fields makes new annotations document that finding."""
        widget = new
        while widget is not None and widget is not self.read_form:
            if isinstance(widget, FindingGroup):
                if widget.finding_id is not None:
                    self.viewer.set_current_finding(widget.finding_id, widget.title())
                return
            widget = widget.parentWidget()

    def _after_save(self, state: ReadState) -> None:
        self._show_status(state.read_id, state.status)

    def _after_submit(self, read_id: int) -> None:
        self.viewer.set_read_only(self.read_form.is_read_only())
        self._show_status(read_id, ReadStatus.SUBMITTED)
        self.statusBar().showMessage(self.tr("Read signed and locked."), 5000)

    # -- leaving ------------------------------------------------------------------------------
    def log_out(self) -> None:
        """Save the draft, end the session and close (the app shows the login again)."""
        self.logout_requested = True
        self.close()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt API
        """Save the open draft, then end the session when logging out."""
        if not self.controller.locked:
            self.read_form.flush()
        self.controller.detach()
        app = QApplication.instance()
        if app is not None:
            app.focusChanged.disconnect(self._on_focus_changed)
        self._remember_panes()
        self.viewer.shutdown()
        if self.logout_requested:
            try:
                self.controller.trial.logout(self.controller.session)
            except IoreviewError:
                pass
        super().closeEvent(event)
