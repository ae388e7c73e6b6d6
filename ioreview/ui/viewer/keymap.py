"""Keyboard and mouse bindings of the viewer, remappable and kept in QSettings.

Defaults follow Weasis / OHIF / Horos: left-drag window/level, right-drag zoom, middle-drag
pan, wheel scrolls images (Ctrl+wheel zooms), number keys pick presets, Up/Down and Home/End
move through images, PgUp/PgDn through series, C toggles cine, H/V flip, I inverts, R rotates
and Esc/Space reset the view; single letters pick the left button's tool (W window/level,
L length, A angle, E ellipse, P polygon, F freehand, G grow region).  The Help menu's shortcut
sheet is generated from these tables (`shortcut_groups`).
"""
from __future__ import annotations

from enum import Enum

from PySide6.QtCore import QCoreApplication, QSettings, Qt
from PySide6.QtGui import QKeyEvent, QKeySequence


class ViewerAction(str, Enum):
    """Something a key can do in a viewport."""

    NEXT_IMAGE = "next_image"
    PREVIOUS_IMAGE = "previous_image"
    FIRST_IMAGE = "first_image"
    LAST_IMAGE = "last_image"
    NEXT_SERIES = "next_series"
    PREVIOUS_SERIES = "previous_series"
    TOGGLE_CINE = "toggle_cine"
    FLIP_HORIZONTAL = "flip_horizontal"
    FLIP_VERTICAL = "flip_vertical"
    INVERT = "invert"
    ROTATE = "rotate"
    RESET = "reset"
    DELETE_ANNOTATION = "delete_annotation"
    HEADER_WINDOW = "header_window"
    PRESET_1 = "preset_1"
    PRESET_2 = "preset_2"
    PRESET_3 = "preset_3"
    PRESET_4 = "preset_4"
    PRESET_5 = "preset_5"
    PRESET_6 = "preset_6"
    PRESET_7 = "preset_7"
    PRESET_8 = "preset_8"
    PRESET_9 = "preset_9"
    TOOL_NAVIGATE = "tool_navigate"
    TOOL_LENGTH = "tool_length"
    TOOL_ANGLE = "tool_angle"
    TOOL_ELLIPSE = "tool_ellipse"
    TOOL_POLYGON = "tool_polygon"
    TOOL_FREEHAND = "tool_freehand"
    TOOL_ARROW = "tool_arrow"
    TOOL_POINT = "tool_point"
    TOOL_GROW_REGION = "tool_grow_region"

    @property
    def tool_name(self) -> str | None:
        """The viewer tool this action picks ("navigate", "length", "grow_region", ...), else None."""
        if self.value.startswith("tool_"):
            return self.value[len("tool_"):]
        return None

    @property
    def preset_number(self) -> int | None:
        """1..9 for the preset actions, else None."""
        if self.value.startswith("preset_"):
            return int(self.value.rsplit("_", 1)[1])
        return None


class DragAction(str, Enum):
    """What dragging with a mouse button does (when no drawing tool owns the left button)."""

    WINDOW = "window"
    ZOOM = "zoom"
    PAN = "pan"
    SCROLL = "scroll"
    NONE = "none"


#: Default keys; an action may have several, separated by ";" in settings.
DEFAULT_KEYS: dict[ViewerAction, tuple[str, ...]] = {
    ViewerAction.NEXT_IMAGE: ("Down",),
    ViewerAction.PREVIOUS_IMAGE: ("Up",),
    ViewerAction.FIRST_IMAGE: ("Home",),
    ViewerAction.LAST_IMAGE: ("End",),
    ViewerAction.NEXT_SERIES: ("PgDown",),
    ViewerAction.PREVIOUS_SERIES: ("PgUp",),
    ViewerAction.TOGGLE_CINE: ("C",),
    ViewerAction.FLIP_HORIZONTAL: ("H",),
    ViewerAction.FLIP_VERTICAL: ("V",),
    ViewerAction.INVERT: ("I",),
    ViewerAction.ROTATE: ("R",),
    ViewerAction.RESET: ("Esc", "Space"),
    ViewerAction.DELETE_ANNOTATION: ("Del", "Backspace"),
    ViewerAction.HEADER_WINDOW: ("0",),
    **{ViewerAction(f"preset_{n}"): (str(n),) for n in range(1, 10)},
    ViewerAction.TOOL_NAVIGATE: ("W",),
    ViewerAction.TOOL_LENGTH: ("L",),
    ViewerAction.TOOL_ANGLE: ("A",),
    ViewerAction.TOOL_ELLIPSE: ("E",),
    ViewerAction.TOOL_POLYGON: ("P",),
    ViewerAction.TOOL_FREEHAND: ("F",),
    ViewerAction.TOOL_ARROW: ("Shift+A",),
    ViewerAction.TOOL_POINT: ("Shift+P",),
    ViewerAction.TOOL_GROW_REGION: ("G",),
}

#: The groups of the shortcut sheet, in the order it lists them.
ACTION_GROUPS: tuple[tuple[str, tuple[ViewerAction, ...]], ...] = (
    ("navigate", (ViewerAction.NEXT_IMAGE, ViewerAction.PREVIOUS_IMAGE, ViewerAction.FIRST_IMAGE,
                  ViewerAction.LAST_IMAGE, ViewerAction.NEXT_SERIES, ViewerAction.PREVIOUS_SERIES,
                  ViewerAction.TOGGLE_CINE)),
    ("tools", (ViewerAction.TOOL_NAVIGATE, ViewerAction.TOOL_LENGTH, ViewerAction.TOOL_ANGLE,
               ViewerAction.TOOL_ELLIPSE, ViewerAction.TOOL_POLYGON, ViewerAction.TOOL_FREEHAND,
               ViewerAction.TOOL_ARROW, ViewerAction.TOOL_POINT, ViewerAction.TOOL_GROW_REGION,
               ViewerAction.DELETE_ANNOTATION)),
    ("window", (ViewerAction.HEADER_WINDOW, *(ViewerAction(f"preset_{n}") for n in range(1, 10)))),
    ("view", (ViewerAction.FLIP_HORIZONTAL, ViewerAction.FLIP_VERTICAL, ViewerAction.INVERT,
              ViewerAction.ROTATE, ViewerAction.RESET)),
)


def group_title(group: str) -> str:
    """The translated title of a shortcut-sheet group."""
    titles = {
        "navigate": QCoreApplication.translate("Keymap", "Move through images"),
        "tools": QCoreApplication.translate("Keymap", "Tools of the left button"),
        "window": QCoreApplication.translate("Keymap", "Window presets"),
        "view": QCoreApplication.translate("Keymap", "View"),
        "mouse": QCoreApplication.translate("Keymap", "Mouse"),
        "window_actions": QCoreApplication.translate("Keymap", "Window"),
    }
    return titles.get(group, group)


def drag_title(action: DragAction) -> str:
    """The translated name of what a drag does."""
    titles = {
        DragAction.WINDOW: QCoreApplication.translate("Keymap", "Window/level"),
        DragAction.ZOOM: QCoreApplication.translate("Keymap", "Zoom"),
        DragAction.PAN: QCoreApplication.translate("Keymap", "Pan"),
        DragAction.SCROLL: QCoreApplication.translate("Keymap", "Scroll images"),
        DragAction.NONE: QCoreApplication.translate("Keymap", "Nothing"),
    }
    return titles[DragAction(action)]


def button_title(button: str) -> str:
    """The translated name of a mouse button's drag ("left", "right", "middle")."""
    titles = {
        "left": QCoreApplication.translate("Keymap", "Left-drag"),
        "right": QCoreApplication.translate("Keymap", "Right-drag"),
        "middle": QCoreApplication.translate("Keymap", "Middle-drag"),
    }
    return titles[button]

DEFAULT_DRAGS: dict[str, DragAction] = {
    "left": DragAction.WINDOW,
    "right": DragAction.ZOOM,
    "middle": DragAction.PAN,
}

_BUTTONS = {
    Qt.MouseButton.LeftButton: "left",
    Qt.MouseButton.RightButton: "right",
    Qt.MouseButton.MiddleButton: "middle",
}


def action_title(action: ViewerAction) -> str:
    """The translated name of an action, for the bindings dialog."""
    n = action.preset_number
    if n is not None:
        return QCoreApplication.translate("Keymap", "Window preset %1").replace("%1", str(n))
    titles = {
        ViewerAction.NEXT_IMAGE: QCoreApplication.translate("Keymap", "Next image"),
        ViewerAction.PREVIOUS_IMAGE: QCoreApplication.translate("Keymap", "Previous image"),
        ViewerAction.FIRST_IMAGE: QCoreApplication.translate("Keymap", "First image"),
        ViewerAction.LAST_IMAGE: QCoreApplication.translate("Keymap", "Last image"),
        ViewerAction.NEXT_SERIES: QCoreApplication.translate("Keymap", "Next series"),
        ViewerAction.PREVIOUS_SERIES: QCoreApplication.translate("Keymap", "Previous series"),
        ViewerAction.TOGGLE_CINE: QCoreApplication.translate("Keymap", "Start/stop cine"),
        ViewerAction.FLIP_HORIZONTAL: QCoreApplication.translate("Keymap", "Flip horizontally"),
        ViewerAction.FLIP_VERTICAL: QCoreApplication.translate("Keymap", "Flip vertically"),
        ViewerAction.INVERT: QCoreApplication.translate("Keymap", "Invert grey scale"),
        ViewerAction.ROTATE: QCoreApplication.translate("Keymap", "Rotate 90° clockwise"),
        ViewerAction.RESET: QCoreApplication.translate("Keymap", "Reset view"),
        ViewerAction.DELETE_ANNOTATION: QCoreApplication.translate("Keymap", "Delete selected annotation"),
        ViewerAction.HEADER_WINDOW: QCoreApplication.translate("Keymap", "Window from the image header"),
        ViewerAction.TOOL_NAVIGATE: QCoreApplication.translate("Keymap", "Window/level, zoom and pan (no drawing)"),
        ViewerAction.TOOL_LENGTH: QCoreApplication.translate("Keymap", "Length"),
        ViewerAction.TOOL_ANGLE: QCoreApplication.translate("Keymap", "Angle"),
        ViewerAction.TOOL_ELLIPSE: QCoreApplication.translate("Keymap", "Ellipse ROI"),
        ViewerAction.TOOL_POLYGON: QCoreApplication.translate("Keymap", "Polygon ROI"),
        ViewerAction.TOOL_FREEHAND: QCoreApplication.translate("Keymap", "Freehand ROI"),
        ViewerAction.TOOL_ARROW: QCoreApplication.translate("Keymap", "Arrow"),
        ViewerAction.TOOL_POINT: QCoreApplication.translate("Keymap", "Point"),
        ViewerAction.TOOL_GROW_REGION: QCoreApplication.translate("Keymap", "Grow region (CT)"),
    }
    return titles[action]


def _event_sequence(event: QKeyEvent) -> QKeySequence:
    mods = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
    return QKeySequence(event.keyCombination().key() | mods)


class Keymap:
    """Key and mouse bindings, read from and written to QSettings ("viewer/keys/...")."""

    GROUP = "viewer/keys"
    DRAG_GROUP = "viewer/drag"

    def __init__(self, settings: QSettings | None = None) -> None:
        self._settings = settings if settings is not None else QSettings()
        self._keys: dict[ViewerAction, tuple[QKeySequence, ...]] = {}
        self._drags: dict[str, DragAction] = dict(DEFAULT_DRAGS)
        self.reload()

    def reload(self) -> None:
        """Read the bindings again from settings (defaults where nothing is stored)."""
        s = self._settings
        for action, defaults in DEFAULT_KEYS.items():
            stored = s.value(f"{self.GROUP}/{action.value}")
            texts = tuple(t for t in str(stored).split(";") if t) if stored is not None else defaults
            self._keys[action] = tuple(QKeySequence(t) for t in texts)
        for button, default in DEFAULT_DRAGS.items():
            stored = s.value(f"{self.DRAG_GROUP}/{button}")
            try:
                self._drags[button] = DragAction(str(stored)) if stored is not None else default
            except ValueError:
                self._drags[button] = default
        self._lookup = {seq.toString(): a for a, seqs in self._keys.items() for seq in seqs}

    def keys_for(self, action: ViewerAction) -> tuple[QKeySequence, ...]:
        return self._keys.get(action, ())

    def key_text(self, action: ViewerAction) -> str:
        """The keys of `action` as the user reads them ("Esc, Space"), empty when unbound."""
        return ", ".join(k.toString(QKeySequence.SequenceFormat.NativeText) for k in self.keys_for(action))

    def drags(self) -> dict[str, DragAction]:
        """What dragging with each button does ({"left": WINDOW, ...})."""
        return dict(self._drags)

    def set_keys(self, action: ViewerAction, keys: tuple[str, ...]) -> None:
        """Bind `action` to `keys` (portable QKeySequence text, e.g. "Ctrl+I") and save."""
        self._settings.setValue(f"{self.GROUP}/{action.value}", ";".join(keys))
        self.reload()

    def drag_for(self, button: Qt.MouseButton) -> DragAction:
        name = _BUTTONS.get(button)
        return self._drags.get(name, DragAction.NONE) if name else DragAction.NONE

    def set_drag(self, button: str, action: DragAction) -> None:
        """Bind dragging with `button` ("left", "right", "middle") to `action` and save."""
        if button not in DEFAULT_DRAGS:
            raise ValueError(f"button: must be one of {', '.join(DEFAULT_DRAGS)}, not {button!r}")
        self._settings.setValue(f"{self.DRAG_GROUP}/{button}", DragAction(action).value)
        self.reload()

    def reset_to_defaults(self) -> None:
        self._settings.remove(self.GROUP)
        self._settings.remove(self.DRAG_GROUP)
        self.reload()

    def action_for(self, event: QKeyEvent) -> ViewerAction | None:
        """The action bound to the key of `event`, or None."""
        return self._lookup.get(_event_sequence(event).toString())
