"""The grid of viewports: 1x1, 1x2 or 2x2, one of them active; double-click maximises."""
from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QGridLayout, QWidget

from ioreview.ui.viewer.viewport import ImageViewport

#: Layout names and their (rows, columns).
LAYOUTS: dict[str, tuple[int, int]] = {"1x1": (1, 1), "1x2": (1, 2), "2x2": (2, 2)}


class ViewportGrid(QWidget):
    """Arranges up to four `ImageViewport`s; keeps which one is active."""

    activeChanged = Signal(object)  # ImageViewport
    layoutChanged = Signal(str)

    def __init__(self, make_viewport: Callable[[], ImageViewport], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._make = make_viewport
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setSpacing(2)
        self.viewports: list[ImageViewport] = []
        self.layout_name = "1x1"
        self._maximised: ImageViewport | None = None
        self.active: ImageViewport | None = None
        self.set_layout("1x1")

    def _ensure(self, n: int) -> None:
        while len(self.viewports) < n:
            vp = self._make()
            vp.setParent(self)
            vp.activated.connect(lambda v=vp: self.set_active(v))
            vp.maximiseRequested.connect(lambda v=vp: self.toggle_maximise(v))
            self.viewports.append(vp)

    def visible_viewports(self) -> list[ImageViewport]:
        if self._maximised is not None:
            return [self._maximised]
        rows, cols = LAYOUTS[self.layout_name]
        return self.viewports[: rows * cols]

    def set_layout(self, name: str) -> None:
        """Switch to layout `name` ("1x1", "1x2", "2x2"); viewports keep their series."""
        if name not in LAYOUTS:
            raise ValueError(f"name: must be one of {', '.join(LAYOUTS)}, not {name!r}")
        rows, cols = LAYOUTS[name]
        self._ensure(rows * cols)
        self.layout_name = name
        self._maximised = None
        self._arrange()
        if self.active is None or self.active not in self.visible_viewports():
            self.set_active(self.viewports[0])
        self.layoutChanged.emit(name)

    def _arrange(self) -> None:
        for vp in self.viewports:
            self._grid.removeWidget(vp)
            vp.hide()
        rows, cols = LAYOUTS[self.layout_name]
        if self._maximised is not None:
            self._grid.addWidget(self._maximised, 0, 0)
            self._maximised.show()
        else:
            for i, vp in enumerate(self.viewports[: rows * cols]):
                self._grid.addWidget(vp, i // cols, i % cols)
                vp.show()
        for r in range(2):
            self._grid.setRowStretch(r, 1 if r < rows else 0)
        for c in range(2):
            self._grid.setColumnStretch(c, 1 if c < cols else 0)

    def toggle_maximise(self, vp: ImageViewport) -> None:
        """Show `vp` alone, or restore the layout when it already is."""
        self._maximised = None if self._maximised is vp else vp
        self._arrange()
        self.set_active(vp)

    @property
    def maximised(self) -> ImageViewport | None:
        return self._maximised

    def set_active(self, vp: ImageViewport) -> None:
        if vp is self.active:
            return
        for v in self.viewports:
            v.active = v is vp and len(self.visible_viewports()) > 1
            v.update()
        self.active = vp
        self.activeChanged.emit(vp)

    def first_empty(self) -> ImageViewport | None:
        for vp in self.visible_viewports():
            if vp.source is None:
                return vp
        return None
