"""`ViewerWidget` (browser + viewport grid + toolbar, embeddable) and `ViewerWindow`.

The reading screen embeds `ViewerWidget`: it gives it the case's series
(`set_series(list[SeriesView])`), the finding new annotations document
(`set_current_finding`), and listens to `annotationAdded / annotationChanged /
annotationRemoved` to link shapes and measurements to the read form.  Assistive tools:
the host gives the protocol's HU bands (`set_tool_thresholds`); a region the reader grows and
accepts arrives as `regionAccepted(RegionProposal)` together with a "region" annotation.
`ViewerWindow` wraps the widget in a main window for `ioreview view PATH`.
"""
from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from typing import Any

from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QIcon, QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMenu,
    QProgressBar,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from ioreview import __version__
from ioreview.imaging.decode import NATIVE_TRANSFER_SYNTAXES
from ioreview.imaging.header import SeriesView
from ioreview.imaging.volume import warm_decode_pool
from ioreview.ui.help import AboutInfo, HelpMenu
from ioreview.ui.viewer.annotations import AnnotationModel, ViewerAnnotation, kind_title
from ioreview.ui.viewer.assist import (
    CT_MODALITIES,
    RADIOGRAPH_MODALITIES,
    BackgroundCall,
    GrownRegion,
    RegionPanel,
    RegionProposal,
    RegionRequest,
    ToolThresholds,
    grow_on_stack,
)
from ioreview.ui.viewer.browser import SeriesBrowser, series_key
from ioreview.ui.viewer.hanging import matching_prior
from ioreview.ui.viewer.icons import icon
from ioreview.ui.viewer.keymap import Keymap, ViewerAction
from ioreview.ui.viewer.keys_dialog import KeyBindingsDialog
from ioreview.ui.viewer.layout import LAYOUTS, ViewportGrid
from ioreview.ui.viewer.mpr import MprView
from ioreview.ui.viewer.series_loader import ImageRef, SeriesLoader
from ioreview.ui.viewer.sync import SyncController
from ioreview.ui.viewer.tag_browser import TagBrowserDialog, TagRowLike
from ioreview.ui.viewer.toolbar import GroupedToolBar
from ioreview.ui.viewer.tools import GROW_REGION, NAVIGATE, TOOLS
from ioreview.ui.viewer.viewport import ImageViewport

TagRowsProvider = Callable[[ImageRef], Iterable[TagRowLike]]



def _is_native_series(series: SeriesView) -> bool:
    """True when every image of the series is uncompressed (read straight from disk)."""
    return all(h.transfer_syntax_uid in NATIVE_TRANSFER_SYNTAXES or not h.transfer_syntax_uid
               for h in series.headers)

class ViewerWidget(QWidget):
    """The image viewer of the reading screen.

    Signals carry `ViewerAnnotation` values (`.to_trial()` gives `ioreview.service.Annotation`).
    """

    annotationAdded = Signal(object)
    annotationChanged = Signal(object)
    annotationRemoved = Signal(object)
    annotationSelected = Signal(object)  # ViewerAnnotation or None
    activeImageChanged = Signal(object)  # ImageRef or None
    statusMessage = Signal(str)
    regionAccepted = Signal(object)  # RegionProposal

    def __init__(self, parent: QWidget | None = None, settings: QSettings | None = None) -> None:
        super().__init__(parent)
        self.keymap = Keymap(settings)
        self.annotations = AnnotationModel(self)
        self.annotations.added.connect(self.annotationAdded)
        self.annotations.changed.connect(self.annotationChanged)
        self.annotations.removed.connect(self.annotationRemoved)
        self.annotations.selectionChanged.connect(lambda uid: self.annotationSelected.emit(self.annotations.get(uid) if uid else None))
        self._finding: tuple[str | None, str] = (None, "")
        self._series: list[SeriesView] = []
        self._prior_keys: set[str] = set()
        self._hanging_layouts: dict[str, str] = {}
        self._hanging_default: str | None = None  # None: no hanging protocol, keep the layout
        self._compare_prior = True
        self._loaders: dict[str, SeriesLoader] = {}
        self._shown: dict[ImageViewport, str] = {}
        self._tag_rows: TagRowsProvider | None = None
        self._progress_source: SeriesLoader | None = None
        self.sync = SyncController(self)
        self.tool = NAVIGATE
        self.thresholds = ToolThresholds()
        self.fat_map_on = False
        self.clahe_on = False
        self._region_vp: ImageViewport | None = None
        self._region_loader: SeriesLoader | None = None
        self._region_request: RegionRequest | None = None
        self._region: GrownRegion | None = None
        self._region_seq = 0
        self._grower = BackgroundCall(self)
        self._grower.done.connect(self._region_done)
        self._grower.failed.connect(self._region_failed)

        self._tips: dict[QAction, tuple[str, ViewerAction | str | None]] = {}
        self.toolbar = GroupedToolBar(
            {"navigate": self.tr("Navigate"), "measure": self.tr("Measure"), "annotate": self.tr("Annotate"),
             "assist": self.tr("Assistive tools"), "view": self.tr("View"), "layout": self.tr("Layout")},
            {"navigate": icon("navigate"), "measure": icon("length"), "annotate": icon("arrow"),
             "assist": icon("grow_region"), "view": icon("presets"), "layout": icon("layout_2x2")},
            self,
        )
        self.browser = SeriesBrowser(self)
        self.grid = ViewportGrid(self._make_viewport, self)
        self.mpr = MprView(self.keymap, self.annotations, self)
        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.grid)
        self.stack.addWidget(self.mpr)
        self.progress = QProgressBar(self)
        self.progress.setTextVisible(False)
        self.progress.setMaximumHeight(6)
        self.progress.setMaximumWidth(220)
        self.progress.hide()
        self.status = QLabel(self)
        self.region_panel = RegionPanel(self)
        self.region_panel.accepted.connect(self.accept_region)
        self.region_panel.rejected.connect(self.reject_region)
        self.region_panel.paramsChanged.connect(self._region_params_changed)

        middle = QHBoxLayout()
        middle.setContentsMargins(0, 0, 0, 0)
        middle.setSpacing(2)
        middle.addWidget(self.browser)
        middle.addWidget(self.stack, 1)
        bottom = QHBoxLayout()
        bottom.setContentsMargins(6, 0, 6, 2)
        bottom.addWidget(self.status, 1)
        bottom.addWidget(self.progress)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(0)
        lay.addWidget(self.toolbar)
        lay.addLayout(middle, 1)
        lay.addWidget(self.region_panel)
        lay.addLayout(bottom)

        self.browser.seriesActivated.connect(lambda key: self.show_series(key))
        self.grid.activeChanged.connect(self._on_active_changed)
        self._build_toolbar()
        for vp in self.mpr.views.values():
            vp.toolRequested.connect(self._tool_key)

    # ================================================================ building
    def _make_viewport(self) -> ImageViewport:
        vp = ImageViewport(annotations=self.annotations, keymap=self.keymap)
        vp.set_finding_provider(lambda: self._finding)
        vp.set_tool(self.tool)
        vp.seriesDropped.connect(lambda key, v=vp: self.show_series(key, v))
        vp.seriesStepRequested.connect(lambda d, v=vp: self._step_series(v, d))
        vp.imageChanged.connect(lambda _i, v=vp: self._image_changed(v))
        vp.cineToggled.connect(lambda on, v=vp: self._cine_toggled(v, on))
        vp.regionSeedPicked.connect(lambda r, c, v=vp: self._seed_picked(v, r, c))
        vp.toolRequested.connect(self._tool_key)
        vp.set_fat_map(self.fat_map_on, self.thresholds.fat_hu)
        vp.set_clahe(self.clahe_on)
        self.sync.add(vp)
        return vp

    def _action(self, group: str, text: str, slot: Callable[[], Any], tip: str = "", checkable: bool = False,
                icon_name: str = "", key: ViewerAction | str | None = None) -> QAction:
        """A toolbar action in `group`; its tooltip names the key that does the same (`key`:
        a keymap action, looked up again when bindings change, or fixed key text)."""
        act = QAction(icon(icon_name) if icon_name else QIcon(), text, self)
        act.setCheckable(checkable)
        act.triggered.connect(lambda _checked=False: slot())
        self._tips[act] = (tip or text, key)
        self._set_tip(act)
        self.toolbar.add(group, act)
        return act

    def _set_tip(self, act: QAction) -> None:
        tip, key = self._tips[act]
        if isinstance(key, ViewerAction):
            keys = self.keymap.key_text(key)
        else:
            keys = key or act.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        act.setToolTip(f"{tip} ({keys})" if keys else tip)

    def refresh_tooltips(self) -> None:
        """Tooltips name the current key bindings (after the bindings dialog saved new ones)."""
        for act in self._tips:
            self._set_tip(act)

    def add_toolbar_action(self, group: str, action: QAction, icon_name: str = "", tip: str = "") -> None:
        """Put a host's action (e.g. the reading screen's Key image) into a toolbar group; its
        tooltip gets the action's shortcut."""
        if icon_name:
            action.setIcon(icon(icon_name))
        self._tips[action] = (tip or action.toolTip() or action.text(), None)
        self._set_tip(action)
        self.toolbar.add(group, action)

    def _build_toolbar(self) -> None:
        # navigate
        tools = QActionGroup(self)
        self.tool_actions: dict[str, QAction] = {}

        def tool(group: str, name: str, title: str, tip: str, key: ViewerAction) -> None:
            act = self._action(group, title, lambda n=name: self.set_tool(n), tip, True, name, key)
            tools.addAction(act)
            self.tool_actions[name] = act

        tool("navigate", NAVIGATE, self.tr("Window/level"),
             self.tr("Window/level, zoom, pan and scroll; edit annotations"), ViewerAction.TOOL_NAVIGATE)
        self.tool_actions[NAVIGATE].setChecked(True)
        self.cine_action = self._action("navigate", self.tr("Cine"), lambda: self._on_active(lambda v: v.cine.toggle()),
                                        self.tr("Play/stop cine"), True, "cine", ViewerAction.TOGGLE_CINE)
        self.sync_action = self._action(
            "navigate", self.tr("Sync"), self._toggle_sync,
            self.tr("Synchronise scrolling and zoom of viewports in the same frame of reference"), True, "sync")
        self.sync_action.setChecked(True)
        # measure and annotate
        measure_keys = {"length": ViewerAction.TOOL_LENGTH, "angle": ViewerAction.TOOL_ANGLE,
                        "ellipse": ViewerAction.TOOL_ELLIPSE, "polygon": ViewerAction.TOOL_POLYGON,
                        "freehand": ViewerAction.TOOL_FREEHAND}
        for name, key in measure_keys.items():
            tool("measure", name, kind_title(name), kind_title(name), key)
        for name, key in (("arrow", ViewerAction.TOOL_ARROW), ("point", ViewerAction.TOOL_POINT)):
            tool("annotate", name, kind_title(name), kind_title(name), key)
        for name in TOOLS:
            if name not in self.tool_actions:  # a kind added later still gets a button
                tool("annotate", name, kind_title(name), kind_title(name), ViewerAction.TOOL_NAVIGATE)
        stack = self.annotations.undo_stack
        self.undo_action = QAction(icon("undo"), self.tr("Undo"), self)
        self.undo_action.setShortcut(QKeySequence.StandardKey.Undo)
        self.undo_action.triggered.connect(stack.undo)
        self.redo_action = QAction(icon("redo"), self.tr("Redo"), self)
        self.redo_action.setShortcuts([QKeySequence.StandardKey.Redo, QKeySequence("Ctrl+Shift+Z")])
        self.redo_action.triggered.connect(stack.redo)
        self._tips[self.undo_action] = (self.tr("Undo"), None)
        self._tips[self.redo_action] = (self.tr("Redo"), None)
        stack.canUndoChanged.connect(self.undo_action.setEnabled)
        stack.canRedoChanged.connect(self.redo_action.setEnabled)
        stack.undoTextChanged.connect(lambda t: self._retip(self.undo_action, self.tr("Undo %1").replace("%1", t) if t else self.tr("Undo")))
        stack.redoTextChanged.connect(lambda t: self._retip(self.redo_action, self.tr("Redo %1").replace("%1", t) if t else self.tr("Redo")))
        self.undo_action.setEnabled(False)
        self.redo_action.setEnabled(False)
        for act in (self.undo_action, self.redo_action):
            act.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            self._set_tip(act)
            self.toolbar.add("annotate", act)
            self.addAction(act)
        # assist
        act = self._action(
            "assist", self.tr("Grow region"), lambda: self.set_tool(GROW_REGION),
            self.tr("Click inside a collection on CT: proposes its volume and mean HU for you to accept or reject"),
            True, "grow_region", ViewerAction.TOOL_GROW_REGION,
        )
        tools.addAction(act)
        self.tool_actions[GROW_REGION] = act
        self.fat_action = self._action(
            "assist", self.tr("Fat map"), lambda: self.set_fat_map(self.fat_action.isChecked()),
            self.tr("Colour fat-attenuation pixels of CT slices"), True, "fat_map",
        )
        self.clahe_action = self._action(
            "assist", self.tr("CLAHE"), lambda: self.set_clahe(self.clahe_action.isChecked()),
            self.tr("Contrast-limited adaptive histogram equalisation of radiographs (for looking only)"), True, "clahe",
        )
        # view
        self.preset_menu = QMenu(self)
        self.preset_menu.aboutToShow.connect(self._fill_presets)
        self.presets_action = QAction(icon("presets"), self.tr("Window presets"), self)
        self.presets_action.setMenu(self.preset_menu)
        self._tips[self.presets_action] = (self.tr("Window presets"), "0-9")
        self._set_tip(self.presets_action)
        self.toolbar.add("view", self.presets_action)
        self.view_actions: dict[str, QAction] = {}
        for name, text, key, fn in (
            ("invert", self.tr("Invert grey scale"), ViewerAction.INVERT, lambda v: v.set_invert(not v.invert)),
            ("flip_h", self.tr("Flip horizontally"), ViewerAction.FLIP_HORIZONTAL, lambda v: v.flip_horizontal()),
            ("flip_v", self.tr("Flip vertically"), ViewerAction.FLIP_VERTICAL, lambda v: v.flip_vertical()),
            ("rotate", self.tr("Rotate 90° clockwise"), ViewerAction.ROTATE, lambda v: v.rotate(90)),
            ("reset", self.tr("Reset view"), ViewerAction.RESET, lambda v: v.reset_view(keep_window=False)),
        ):
            self.view_actions[name] = self._action("view", text, lambda f=fn: self._on_active(f), text, False, name, key)
        self.tags_action = self._action("view", self.tr("Tags"), self.show_tags, self.tr("DICOM tags of the image on screen"),
                                        False, "tags")
        self.key_bindings_action = QAction(self.tr("Key bindings…"), self)
        self.key_bindings_action.triggered.connect(lambda _c=False: self.show_key_bindings())
        # layout
        self.layout_actions: dict[str, QAction] = {}
        group = QActionGroup(self)
        for name in LAYOUTS:
            act = self._action("layout", name, lambda n=name: self.set_layout(n),
                               self.tr("Layout %1").replace("%1", name), True, f"layout_{name}")
            group.addAction(act)
            self.layout_actions[name] = act
        self.layout_actions["1x1"].setChecked(True)
        self.mpr_action = self._action("layout", self.tr("MPR"), self._toggle_mpr,
                                       self.tr("Axial, coronal and sagittal reformats"), True, "mpr")

    def _retip(self, act: QAction, text: str) -> None:
        self._tips[act] = (text, None)
        self._set_tip(act)

    # ================================================================ public API
    def set_series(self, series: Sequence[SeriesView], prior_keys: Collection[str] = ()) -> None:
        """Open the series of a case: thumbnails in the browser, the first ones in the viewports.

        `prior_keys` names the series (by `series_key`) of earlier timepoints: the layout the
        hanging protocol gives the first series' modality is set, and a two-pane layout hangs
        the prior's same view beside the current series (`set_hanging`)."""
        self.clear()
        self._series = list(series)
        self._prior_keys = set(prior_keys)
        compressed = any(not _is_native_series(s) for s in self._series)
        self.browser.set_series(self._series)
        current = [s for s in self._series if series_key(s) not in self._prior_keys]
        first = current[0] if current else (self._series[0] if self._series else None)
        layout = (self._hanging_layouts.get(first.modality.upper(), self._hanging_default)
                  if first is not None and self._hanging_default is not None else None)
        if layout is not None and layout != self.grid.layout_name:
            self.grid.set_layout(layout)
            self.layout_actions[layout].setChecked(True)
        for vp, s in zip(self.grid.visible_viewports(), current or self._series):
            self.show_series(series_key(s), vp)
        if self.grid.viewports:
            self.grid.set_active(self.grid.visible_viewports()[0])
        self._hang_prior()
        if self.grid.viewports:
            self.grid.set_active(self.grid.visible_viewports()[0])
        if compressed:
            self._warm_pool_after_first_image()

    def _warm_pool_after_first_image(self) -> None:
        """Start the decode pool's processes once the first image is on screen: spawning them
        (~0.5 s of CPU each) while the first image decodes slowed it past 150 ms on two cores."""
        loader = self._loaders.get(self._shown.get(self.grid.visible_viewports()[0], ""))
        if loader is None or loader.decoded_count > 0:
            warm_decode_pool()
            return
        fired = [False]

        def warm(*_args: object) -> None:
            if not fired[0]:
                fired[0] = True
                loader.frameReady.disconnect(warm)
                loader.frameFailed.disconnect(warm)
                QTimer.singleShot(0, warm_decode_pool)

        loader.frameReady.connect(warm)
        loader.frameFailed.connect(warm)

    def set_hanging(self, layouts: Mapping[str, str], default: str = "1x1", compare_with_prior: bool = True) -> None:
        """The protocol's hanging: a layout per modality ({"DX": "1x2"}), the layout of the rest,
        and whether two panes show the current series beside the prior's same view."""
        self._hanging_layouts = {k.upper(): v for k, v in layouts.items() if v in LAYOUTS}
        self._hanging_default = default if default in LAYOUTS else "1x1"
        self._compare_prior = bool(compare_with_prior)

    def prior_series(self) -> list[SeriesView]:
        """The open series of earlier timepoints, in the order given."""
        return [s for s in self._series if series_key(s) in self._prior_keys]

    def _hang_prior(self) -> bool:
        """In 1x2, show the current series on the left and the prior's matching view on the right."""
        if not self._compare_prior or self.grid.layout_name != "1x2" or self.grid.maximised is not None:
            return False
        left, right = self.grid.visible_viewports()[:2]
        active = self.grid.active if self.grid.active in (left, right) else left
        key = self._shown.get(active) if active is not None else None
        if key is None or key in self._prior_keys:
            key = self._shown.get(left)
        current = next((s for s in self._series if series_key(s) == key and key not in self._prior_keys), None)
        if current is None:
            return False
        prior = matching_prior(current, self.prior_series())
        if prior is None:
            return False
        if self._shown.get(left) != key:
            self.show_series(key, left)
        self.show_series(series_key(prior), right)
        self.grid.set_active(left)
        return True

    def series(self) -> list[SeriesView]:
        return list(self._series)

    def show_series(self, key: str, viewport: ImageViewport | None = None) -> None:
        """Show series `key` (its `series_pk` as text) in `viewport` (default: the active one)."""
        s = next((x for x in self._series if series_key(x) == key), None)
        if s is None:
            return
        if self.stack.currentWidget() is self.mpr:
            self.mpr_action.setChecked(False)
            self._toggle_mpr()
        vp = viewport or self.grid.active or self.grid.viewports[0]
        if vp is self._region_vp:
            self._clear_region()
        loader = self._loaders.get(key)
        if loader is None:
            loader = SeriesLoader(s, self)
            self._loaders[key] = loader
        self._shown[vp] = key
        vp.set_source(loader, 0)
        self.browser.select_key(key)
        self.grid.set_active(vp)
        self._watch_progress(loader)
        self._release_unused()
        if loader.report is not None and loader.report.problems:
            self._say("; ".join(loader.report.problems))

    def clear(self) -> None:
        """Close every series (stops decoding and frees the cache)."""
        self._clear_region()
        if self.mpr_action.isChecked():
            self.mpr_action.setChecked(False)
            self._toggle_mpr()
        for vp in self.grid.viewports:
            vp.set_source(None)
        for loader in self._loaders.values():
            loader.close()
        self._loaders.clear()
        self._progress_source = None
        self._shown.clear()
        self._series = []
        self._prior_keys = set()
        self.browser.set_series([])

    def active_viewport(self) -> ImageViewport:
        if self.stack.currentWidget() is self.mpr:
            return next((v for v in self.mpr.views.values() if v.hasFocus()), self.mpr.views["axial"])
        return self.grid.active or self.grid.viewports[0]

    def set_layout(self, name: str) -> None:
        """"1x1", "1x2" or "2x2"; empty viewports get the next series not yet shown."""
        self.grid.set_layout(name)
        self.layout_actions[name].setChecked(True)
        if self._hang_prior():
            return
        shown = set(self._shown.values())
        rest = [s for s in self._series if series_key(s) not in shown]
        for vp in self.grid.visible_viewports():
            if vp.source is None and rest:
                self.show_series(series_key(rest.pop(0)), vp)

    def set_tool(self, tool: str) -> None:
        """The tool of the left button: "navigate" (W/L) or an annotation kind ("length", ...)."""
        self.tool = tool
        for vp in self._all_viewports():
            vp.set_tool(tool)
        if tool in self.tool_actions:
            self.tool_actions[tool].setChecked(True)

    def _tool_key(self, tool: str) -> None:
        """A tool key pressed in a viewport: pick the tool when its button is enabled."""
        act = self.tool_actions.get(tool)
        if act is not None and act.isEnabled():
            act.trigger()

    def set_current_finding(self, finding_id: str | None, label: str = "") -> None:
        """New annotations document this finding and are drawn with `label`."""
        self._finding = (finding_id, label)

    def set_annotation_finding(self, uid: str, finding_id: str | None, label: str) -> None:
        """Relabel an existing annotation (undoable)."""
        self.annotations.set_finding(uid, finding_id, label)

    def set_annotations(self, items: Iterable[Any]) -> list[ViewerAnnotation]:
        """Show saved annotations (`ioreview.service.Annotation` or `ViewerAnnotation`); clears undo."""
        converted = [a if isinstance(a, ViewerAnnotation) else ViewerAnnotation.from_trial(a) for a in items]
        self.annotations.replace_all(converted)
        return converted

    def annotation_list(self) -> list[ViewerAnnotation]:
        return self.annotations.all()

    def set_read_only(self, read_only: bool) -> None:
        """A locked read: annotations are shown but cannot be drawn, moved or deleted."""
        self.annotations.editable = not read_only
        if read_only:
            self.set_tool(NAVIGATE)
        for name, act in self.tool_actions.items():
            act.setEnabled(not read_only or name == NAVIGATE)
        self.undo_action.setVisible(not read_only)
        self.redo_action.setVisible(not read_only)

    def go_to_annotation(self, uid: str) -> bool:
        """Show the image an annotation is on and select it; False when not in an open series."""
        a = self.annotations.get(uid)
        if a is None:
            return False
        for s in self._series:
            for h in s.headers:
                if h.sop_instance_uid == a.sop_instance_uid:
                    key = series_key(s)
                    vp = self.grid.active or self.grid.viewports[0]
                    if self._shown.get(vp) != key:
                        self.show_series(key, vp)
                    loader = self._loaders[key]
                    for i, ref in enumerate(loader.refs):
                        if ref.key == (a.sop_instance_uid, a.frame):
                            vp.set_index(i)
                            self.annotations.select(uid)
                            return True
        return False

    def set_tag_rows_provider(self, provider: TagRowsProvider | None) -> None:
        """Where the tag browser gets rows for an image (the service masks them for readers)."""
        self._tag_rows = provider

    def show_tags(self) -> TagBrowserDialog | None:
        vp = self.active_viewport()
        ref = vp.source.ref(vp.index) if vp.source is not None and vp.source.count else None
        if ref is None or self._tag_rows is None:
            self._say(self.tr("No tags to show for this image"))
            return None
        provider = self._tag_rows
        dlg = TagBrowserDialog(lambda: provider(ref), parent=self)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.show()
        return dlg

    # ================================================================ assistive tools
    def set_tool_thresholds(
        self,
        fat_hu: tuple[float, float] | None = None,
        fluid_hu: tuple[float, float] | None = None,
        blood_hu: tuple[float, float] | None = None,
    ) -> None:
        """HU bands from the read protocol's tools section; None keeps the default
        (fat -120..-30, fluid 0..20, blood 30..100)."""
        default = ToolThresholds()

        def band(value: tuple[float, float] | None, fallback: tuple[float, float]) -> tuple[float, float]:
            if value is None:
                return fallback
            lo, hi = sorted(float(v) for v in value)
            return (lo, hi)

        self.thresholds = ToolThresholds(
            fat_hu=band(fat_hu, default.fat_hu),
            fluid_hu=band(fluid_hu, default.fluid_hu),
            blood_hu=band(blood_hu, default.blood_hu),
        )
        self.region_panel.set_thresholds(self.thresholds)
        for vp in self._all_viewports():
            vp.set_fat_map(vp.fat_map_on, self.thresholds.fat_hu)

    def set_fat_map(self, on: bool) -> None:
        """Overlay the fat map on CT slices (all viewports)."""
        self.fat_map_on = bool(on)
        self.fat_action.setChecked(self.fat_map_on)
        for vp in self._all_viewports():
            vp.set_fat_map(self.fat_map_on, self.thresholds.fat_hu)
        if on and self.active_viewport().modality() not in CT_MODALITIES:
            self._say(self.tr("The fat map shows on CT series"))

    def set_clahe(self, on: bool) -> None:
        """Show radiographs (DX, CR) enhanced by CLAHE (all viewports)."""
        self.clahe_on = bool(on)
        self.clahe_action.setChecked(self.clahe_on)
        for vp in self._all_viewports():
            vp.set_clahe(self.clahe_on)
        if on and self.active_viewport().modality() not in RADIOGRAPH_MODALITIES:
            self._say(self.tr("CLAHE applies to radiographs (DX, CR)"))

    def grow_region_at(self, viewport: ImageViewport, row: float, col: float) -> bool:
        """Grow a region from (row, col) of the image on `viewport`, as a click with the tool does."""
        return self._seed_picked(viewport, row, col)

    def region_proposal(self) -> GrownRegion | None:
        """The grown region waiting for Accept / Reject, if any."""
        return self._region

    def _seed_picked(self, vp: ImageViewport, row: float, col: float) -> bool:
        key = self._shown.get(vp)
        loader = self._loaders.get(key) if key is not None else None
        if loader is None or vp.source is not loader or vp.modality() not in CT_MODALITIES or loader.stack is None:
            self._say(self.tr("Region growing works on a CT series of equally sized slices"))
            return False
        self._clear_region()
        self._region_vp = vp
        self._region_loader = loader
        self._region_request = RegionRequest(
            vp.index, float(row), float(col), self.region_panel.tolerance.value(), self.region_panel.band_name()
        )
        self._run_region()
        return True

    def _run_region(self) -> None:
        loader, request = self._region_loader, self._region_request
        if loader is None or request is None or loader.stack is None:
            return
        self._region_seq += 1
        if not loader.complete:
            self.region_panel.show_message(self.tr("Waiting for the series to finish loading…"))
            seq = self._region_seq

            def when_loaded(done: int, total: int) -> None:
                if done >= total:
                    loader.progressChanged.disconnect(when_loaded)
                    if seq == self._region_seq:
                        self._run_region()

            loader.progressChanged.connect(when_loaded)
            return
        self.region_panel.show_busy()
        headers = [r.header for r in loader.refs]
        self._grower.start(self._region_seq, grow_on_stack, loader.stack, headers, loader.spacing_zyx(), request, self.thresholds)

    def _region_done(self, seq: Any, region: Any) -> None:
        if seq != self._region_seq or self._region_vp is None:
            return
        self._region = region
        self._region_vp.set_region(region)
        self.region_panel.show_region(region)

    def _region_failed(self, seq: Any, message: str) -> None:
        if seq != self._region_seq or self._region_vp is None:
            return
        self._region = None
        self._region_vp.set_region(None)
        self.region_panel.show_message(message)

    def _region_params_changed(self) -> None:
        if self._region_request is None:
            return
        r = self._region_request
        self._region_request = RegionRequest(r.index, r.row, r.col, self.region_panel.tolerance.value(), self.region_panel.band_name())
        self._run_region()

    def accept_region(self) -> RegionProposal | None:
        """The reader accepts the grown region: a "region" annotation on the seed image
        documenting the current finding, then `regionAccepted(RegionProposal)`."""
        region, loader, request = self._region, self._region_loader, self._region_request
        if region is None or loader is None or request is None or region.result.n_voxels == 0:
            return None
        ref = loader.ref(request.index)
        res = region.result
        finding_id, label = self._finding
        annotation = ViewerAnnotation(
            uid=ViewerAnnotation.new_uid(),
            kind="region",
            sop_instance_uid=ref.header.sop_instance_uid,
            frame=ref.frame,
            points=((request.row, request.col),),
            finding_id=finding_id,
            label=label,
            measurements={
                "volume_ml": float(res.volume_ml),
                "mean_hu": float(res.mean_hu),
                "sd_hu": float(res.sd_hu),
                "n_slices": float(len(res.slices)),
            },
            text=self.tr("%1 mL, mean %2 HU").replace("%1", f"{res.volume_ml:.1f}").replace("%2", f"{res.mean_hu:.0f}"),
            calibration=loader.calibration(request.index).label,
        )
        proposal = RegionProposal(
            volume_ml=float(res.volume_ml),
            mean_hu=float(res.mean_hu),
            sd_hu=float(res.sd_hu),
            slices=len(res.slices),
            seed=(request.row, request.col),
            sop_instance_uid=ref.header.sop_instance_uid,
            frame=ref.frame,
            hu_band=(float(res.band_hu[0]), float(res.band_hu[1])),
            tolerance_hu=request.tolerance_hu,
            slice_indices=region.slice_indices,
            annotation_uid=annotation.uid,
        )
        self._clear_region()
        self.annotations.add(annotation)
        self.regionAccepted.emit(proposal)
        return proposal

    def reject_region(self) -> None:
        """The reader rejects the grown region: its overlay and numbers go."""
        self._clear_region()

    def _clear_region(self) -> None:
        self._region_seq += 1
        if self._region_vp is not None:
            self._region_vp.set_region(None)
        self._region_vp = None
        self._region_loader = None
        self._region_request = None
        self._region = None
        self.region_panel.hide()

    def show_key_bindings(self) -> KeyBindingsDialog:
        """Open the key bindings dialog (window-modal); OK saves through the `Keymap`."""
        dlg = KeyBindingsDialog(self.keymap, self)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.accepted.connect(self.refresh_tooltips)
        dlg.open()
        return dlg

    # ================================================================ internals
    def _all_viewports(self) -> list[ImageViewport]:
        return list(self.grid.viewports) + list(self.mpr.views.values())

    def _on_active(self, fn: Callable[[ImageViewport], Any]) -> None:
        fn(self.active_viewport())

    def _say(self, text: str) -> None:
        self.status.setText(text)
        self.statusMessage.emit(text)

    def _fill_presets(self) -> None:
        self.preset_menu.clear()
        vp = self.active_viewport()
        act = self.preset_menu.addAction(self.tr("Header window") + "\t0")
        act.triggered.connect(lambda: vp.apply_header_window())
        for i, name in enumerate(vp.presets()[:9], start=1):
            a = self.preset_menu.addAction(f"{name}\t{i}")
            a.triggered.connect(lambda _c=False, n=i: vp.apply_preset(n))

    def _toggle_sync(self) -> None:
        self.sync.enabled = self.sync_action.isChecked()

    def _toggle_mpr(self) -> None:
        if self.mpr_action.isChecked():
            vp = self.grid.active
            key = self._shown.get(vp) if vp is not None else None
            s = next((x for x in self._series if series_key(x) == key), None)
            if s is None or s.modality.upper() not in ("CT", "MR", "PT", "NM") or s.n_instances < 3:
                self.mpr_action.setChecked(False)
                self._say(self.tr("Reformats need a CT or MR series of at least three slices"))
                return
            self.stack.setCurrentWidget(self.mpr)
            self.mpr.load(s, self._loaders.get(key))
        else:
            self.mpr.close_volume()
            self.stack.setCurrentWidget(self.grid)

    def _step_series(self, vp: ImageViewport, delta: int) -> None:
        key = self._shown.get(vp)
        keys = [series_key(s) for s in self._series]
        if not keys:
            return
        i = keys.index(key) if key in keys else -1
        j = max(0, min(len(keys) - 1, i + delta))
        if j != i:
            self.show_series(keys[j], vp)

    def _release_unused(self) -> None:
        used = set(self._shown.values())
        for key in [k for k in self._loaders if k not in used]:
            loader = self._loaders.pop(key)
            if loader is self._progress_source:
                loader.progressChanged.disconnect(self._on_progress)
                self._progress_source = None
            loader.close()

    def _watch_progress(self, loader: SeriesLoader) -> None:
        if self._progress_source is loader:
            return
        if self._progress_source is not None and self._progress_source in self._loaders.values():
            self._progress_source.progressChanged.disconnect(self._on_progress)
        self._progress_source = loader
        loader.progressChanged.connect(self._on_progress)
        self._on_progress(loader.decoded_count, loader.count)

    def _on_progress(self, done: int, total: int) -> None:
        if done >= total:
            self.progress.hide()
            return
        self.progress.setRange(0, total)
        self.progress.setValue(done)
        self.progress.show()

    def _on_active_changed(self, vp: ImageViewport) -> None:
        key = self._shown.get(vp)
        if key is not None:
            self.browser.select_key(key)
            loader = self._loaders.get(key)
            if loader is not None:
                self._watch_progress(loader)
        self.cine_action.setChecked(vp.cine.running)
        self._image_changed(vp)

    def _image_changed(self, vp: ImageViewport) -> None:
        if vp is self.grid.active:
            self.activeImageChanged.emit(vp.current_ref())

    def _cine_toggled(self, vp: ImageViewport, on: bool) -> None:
        if vp is self.grid.active:
            self.cine_action.setChecked(on)

    def shutdown(self) -> None:
        """Stop all background work (call before the widget goes away)."""
        self.clear()


class ViewerWindow(QMainWindow):
    """A stand-alone viewer window (`ioreview view PATH`)."""

    def __init__(self, series: Sequence[SeriesView] = (), parent: QWidget | None = None, settings: QSettings | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("ioreview viewer"))
        self.viewer = ViewerWidget(self, settings)
        self.setCentralWidget(self.viewer)
        self.viewer.statusMessage.connect(lambda text: self.statusBar().showMessage(text, 15000))
        self.help_menu = HelpMenu(self.viewer.keymap, window_actions=lambda: self.viewer.actions(),
                                  about=lambda: AboutInfo(__version__), key_bindings=self.viewer.key_bindings_action,
                                  parent=self)
        self.menuBar().addMenu(self.help_menu)
        self.resize(1280, 860)
        if series:
            self.viewer.set_series(series)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.viewer.shutdown()
        super().closeEvent(event)
