"""Annotations drawn in the viewer, their model and the undoable commands that change them.

An annotation lives on one frame of one instance, with points as (row, col) image pixels
like the service's `Annotation`, and carries the finding it documents.  All changes go
through a `QUndoStack`, so Ctrl+Z / Ctrl+Shift+Z undo and redo drawing, editing, relabelling
and deleting.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QCoreApplication, QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

if TYPE_CHECKING:
    from ioreview.service import Annotation

Point = tuple[float, float]

#: Kinds of annotation, with the number of points that define them (None: any number >= 3).
KINDS: dict[str, int | None] = {
    "arrow": 2,
    "length": 2,
    "angle": 3,
    "ellipse": 2,
    "polygon": None,
    "freehand": None,
    "point": 1,
}


def kind_title(kind: str) -> str:
    """The translated name of an annotation kind."""
    titles = {
        "arrow": QCoreApplication.translate("Annotations", "Arrow"),
        "length": QCoreApplication.translate("Annotations", "Length"),
        "angle": QCoreApplication.translate("Annotations", "Angle"),
        "ellipse": QCoreApplication.translate("Annotations", "Ellipse ROI"),
        "polygon": QCoreApplication.translate("Annotations", "Polygon ROI"),
        "freehand": QCoreApplication.translate("Annotations", "Freehand ROI"),
        "point": QCoreApplication.translate("Annotations", "Point"),
        "region": QCoreApplication.translate("Annotations", "Grown region"),
    }
    return titles.get(kind, kind)


@dataclass(frozen=True)
class ViewerAnnotation:
    """One shape on one frame; `measurements` are numbers for the read form (e.g. length_mm).

    `text` is what is drawn next to the shape; `calibration` the calibration source label.
    `uid` is local to the viewer; `record_id` is the stored annotation's id once saved.
    """

    uid: str
    kind: str
    sop_instance_uid: str
    frame: int
    points: tuple[Point, ...]
    finding_id: str | None = None
    label: str = ""
    measurements: dict[str, float] = field(default_factory=dict, compare=False)
    text: str = field(default="", compare=False)
    calibration: str = field(default="", compare=False)
    record_id: int | None = None

    @staticmethod
    def new_uid() -> str:
        return uuid.uuid4().hex

    def to_trial(self) -> Annotation:
        """This annotation as the service layer's `Annotation`."""
        from ioreview.service import Annotation

        return Annotation(
            id=self.record_id,
            finding_id=self.finding_id,
            kind=self.kind,
            sop_instance_uid=self.sop_instance_uid,
            frame=self.frame,
            points=tuple((float(r), float(c)) for r, c in self.points),
            measurements=dict(self.measurements),
            label=self.label,
        )

    @classmethod
    def from_trial(cls, a: Annotation) -> ViewerAnnotation:
        """A stored (service) `Annotation` as a viewer annotation."""
        return cls(
            uid=cls.new_uid(),
            kind=a.kind,
            sop_instance_uid=a.sop_instance_uid,
            frame=int(a.frame),
            points=tuple((float(r), float(c)) for r, c in a.points),
            finding_id=a.finding_id,
            label=a.label or "",
            measurements=dict(a.measurements or {}),
            record_id=a.id,
        )

    def with_(self, **changes: Any) -> ViewerAnnotation:
        return replace(self, **changes)


class AnnotationModel(QObject):
    """The annotations of the open case; views listen to its signals."""

    added = Signal(object)  # ViewerAnnotation
    changed = Signal(object)  # ViewerAnnotation (the new value)
    removed = Signal(object)  # ViewerAnnotation (the removed value)
    selectionChanged = Signal(object)  # uid or None

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._items: dict[str, ViewerAnnotation] = {}
        self.undo_stack = QUndoStack(self)
        self.selected: str | None = None
        self.editable = True

    def __len__(self) -> int:
        return len(self._items)

    def get(self, uid: str) -> ViewerAnnotation | None:
        return self._items.get(uid)

    def all(self) -> list[ViewerAnnotation]:
        return list(self._items.values())

    def on_image(self, sop_instance_uid: str, frame: int) -> list[ViewerAnnotation]:
        return [a for a in self._items.values() if a.sop_instance_uid == sop_instance_uid and a.frame == frame]

    def select(self, uid: str | None) -> None:
        if uid != self.selected:
            self.selected = uid
            self.selectionChanged.emit(uid)

    # -------------------------------------------------- raw changes (used by commands only)
    def _insert(self, a: ViewerAnnotation) -> None:
        self._items[a.uid] = a
        self.added.emit(a)

    def _replace(self, a: ViewerAnnotation) -> None:
        self._items[a.uid] = a
        self.changed.emit(a)

    def _delete(self, uid: str) -> None:
        a = self._items.pop(uid, None)
        if a is not None:
            if self.selected == uid:
                self.select(None)
            self.removed.emit(a)

    # -------------------------------------------------- undoable changes
    def add(self, a: ViewerAnnotation) -> None:
        self.undo_stack.push(_AddCommand(self, a))

    def update(self, new: ViewerAnnotation, old: ViewerAnnotation | None = None, text: str = "") -> None:
        """Replace an annotation; `old` is the value before (when already shown live during a drag)."""
        before = old if old is not None else self._items.get(new.uid)
        if before is None or before == new and before.text == new.text:
            return
        self.undo_stack.push(_EditCommand(self, before, new, text))

    def remove(self, uid: str) -> None:
        a = self._items.get(uid)
        if a is not None:
            self.undo_stack.push(_RemoveCommand(self, a))

    def set_finding(self, uid: str, finding_id: str | None, label: str) -> None:
        a = self._items.get(uid)
        if a is not None:
            self.update(
                a.with_(finding_id=finding_id, label=label),
                text=QCoreApplication.translate("Annotations", "Label annotation"),
            )

    def replace_all(self, items: list[ViewerAnnotation]) -> None:
        """Load annotations (e.g. from a saved read); not undoable, clears the undo history."""
        for uid in list(self._items):
            self._delete(uid)
        for a in items:
            self._insert(a)
        self.undo_stack.clear()

    def preview(self, a: ViewerAnnotation) -> None:
        """Show an in-progress edit (a handle drag) without an undo entry."""
        if a.uid in self._items:
            self._replace(a)


class _AddCommand(QUndoCommand):
    def __init__(self, model: AnnotationModel, a: ViewerAnnotation) -> None:
        super().__init__(QCoreApplication.translate("Annotations", "Add %1").replace("%1", kind_title(a.kind)))
        self._model, self._a = model, a

    def redo(self) -> None:
        self._model._insert(self._a)

    def undo(self) -> None:
        self._model._delete(self._a.uid)


class _RemoveCommand(QUndoCommand):
    def __init__(self, model: AnnotationModel, a: ViewerAnnotation) -> None:
        super().__init__(QCoreApplication.translate("Annotations", "Delete %1").replace("%1", kind_title(a.kind)))
        self._model, self._a = model, a

    def redo(self) -> None:
        self._model._delete(self._a.uid)

    def undo(self) -> None:
        self._model._insert(self._a)


class _EditCommand(QUndoCommand):
    def __init__(self, model: AnnotationModel, old: ViewerAnnotation, new: ViewerAnnotation, text: str) -> None:
        super().__init__(text or QCoreApplication.translate("Annotations", "Edit %1").replace("%1", kind_title(new.kind)))
        self._model, self._old, self._new = model, old, new

    def redo(self) -> None:
        self._model._replace(self._new)

    def undo(self) -> None:
        self._model._replace(self._old)
