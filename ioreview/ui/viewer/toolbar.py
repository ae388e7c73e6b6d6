"""The viewer's icon toolbar: tools in named groups that fold into drop-down buttons.

Each group (navigate, measure, annotate, assist, view, layout) is one widget holding a tool
button per action and one drop-down button listing the same actions.  When the toolbar is
narrower than all groups laid out, groups fold into their drop-down button one by one (in
`FOLD_ORDER`), so every action stays one or two clicks away and nothing goes into Qt's
overflow extension, which readers did not find.
"""
from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QAction, QIcon, QResizeEvent
from PySide6.QtWidgets import QHBoxLayout, QMenu, QSizePolicy, QToolBar, QToolButton, QWidget

#: Groups in the order they stand on the toolbar.
GROUP_ORDER: tuple[str, ...] = ("navigate", "measure", "annotate", "assist", "view", "layout")
#: Groups fold into their drop-down button in this order when space runs out (least used first).
FOLD_ORDER: tuple[str, ...] = ("layout", "assist", "annotate", "view", "measure", "navigate")
ICON_SIZE = QSize(22, 22)


class ToolGroup(QWidget):
    """The buttons of one group, or (folded) one drop-down button with the group's actions."""

    def __init__(self, name: str, title: str, icon: QIcon, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(f"ToolGroup_{name}")
        self.name = name
        self.title = title
        self.actions_: list[QAction] = []
        self.buttons: dict[QAction, QToolButton] = {}
        self.folded = False
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(1)
        self.menu = QMenu(self)
        self.menu.setToolTipsVisible(True)
        self.menu_button = QToolButton(self)
        self.menu_button.setObjectName(f"ToolGroupMenu_{name}")
        self.menu_button.setIcon(icon)
        self.menu_button.setIconSize(ICON_SIZE)
        self.menu_button.setToolTip(title)
        self.menu_button.setAccessibleName(title)
        self.menu_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.menu_button.setMenu(self.menu)
        self.menu_button.hide()
        self._layout.addWidget(self.menu_button)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)

    def add(self, action: QAction) -> QToolButton:
        """Add `action` as a button (and to the drop-down menu); an action with a menu opens it."""
        button = QToolButton(self)
        button.setDefaultAction(action)
        button.setIconSize(ICON_SIZE)
        button.setAutoRaise(True)
        if action.menu() is not None:
            button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self._layout.addWidget(button)
        self.actions_.append(action)
        self.buttons[action] = button
        self.menu.addAction(action)
        button.setVisible(not self.folded and action.isVisible())
        action.visibleChanged.connect(lambda b=button, a=action: b.setVisible(not self.folded and a.isVisible()))
        self.updateGeometry()
        return button

    def set_folded(self, folded: bool) -> None:
        """Show the drop-down button only (True) or every button (False)."""
        if folded == self.folded:
            return
        self.folded = folded
        self.menu_button.setVisible(folded)
        for action, button in self.buttons.items():
            button.setVisible(not folded and action.isVisible())
        self.adjustSize()
        self.updateGeometry()

    def width_when(self, folded: bool) -> int:
        """The group's width laid out open (False) or folded (True)."""
        if folded:
            return self.menu_button.sizeHint().width()
        shown = [b for a, b in self.buttons.items() if a.isVisible()]
        spacing = self._layout.spacing()
        return sum(b.sizeHint().width() for b in shown) + spacing * max(0, len(shown) - 1)

    def reaches(self, action: QAction) -> bool:
        """True when `action` can be triggered from what is on screen: its own button, or the
        visible drop-down button whose menu lists it."""
        if action not in self.buttons or not self.isVisible():
            return False
        if self.folded:
            return self.menu_button.isVisible() and action in self.menu.actions()
        return self.buttons[action].isVisible()


class GroupedToolBar(QToolBar):
    """A toolbar of `ToolGroup`s that folds groups instead of overflowing."""

    def __init__(self, titles: dict[str, str], icons: dict[str, QIcon], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ViewerToolBar")
        self.setMovable(False)
        self.setFloatable(False)
        self.setIconSize(ICON_SIZE)
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        self.groups: dict[str, ToolGroup] = {}
        for i, name in enumerate(GROUP_ORDER):
            if i:
                self.addSeparator()
            group = ToolGroup(name, titles.get(name, name), icons.get(name, QIcon()), self)
            self.addWidget(group)
            self.groups[name] = group

    def add(self, group: str, action: QAction) -> QToolButton:
        """Put `action` into `group` ("navigate", "measure", "annotate", "assist", "view", "layout")."""
        if group not in self.groups:
            raise ValueError(f"group: must be one of {', '.join(self.groups)}, not {group!r}")
        button = self.groups[group].add(action)
        self.fit()
        return button

    def group_of(self, action: QAction) -> ToolGroup | None:
        return next((g for g in self.groups.values() if action in g.buttons), None)

    def reaches(self, action: QAction) -> bool:
        """True when `action` is one click (its button) or two (its group's drop-down) away."""
        group = self.group_of(action)
        return group is not None and group.reaches(action)

    def all_actions(self) -> list[QAction]:
        return [a for g in self.groups.values() for a in g.actions_]

    def fit(self, width: int | None = None) -> None:
        """Fold groups (in `FOLD_ORDER`) until the toolbar's content fits `width` (its own)."""
        available = (width if width is not None else self.width()) - self._chrome()
        folded = dict.fromkeys(self.groups, False)

        def needed() -> int:
            return sum(g.width_when(folded[n]) for n, g in self.groups.items()) + self._gaps()

        for name in FOLD_ORDER:
            if needed() <= available:
                break
            folded[name] = True
        for name, group in self.groups.items():
            group.set_folded(folded[name])

    def _gaps(self) -> int:
        """Separators and spacing between the groups."""
        spacing = self.layout().spacing() if self.layout() is not None else 2
        separator = 8
        n = len(self.groups)
        return (n - 1) * (separator + 2 * spacing)

    def _chrome(self) -> int:
        m = self.contentsMargins()
        lay = self.layout()
        inner = lay.contentsMargins() if lay is not None else m
        return m.left() + m.right() + inner.left() + inner.right() + 16

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt API
        self.fit(event.size().width())
        super().resizeEvent(event)
