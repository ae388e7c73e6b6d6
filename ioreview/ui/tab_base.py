"""What the coordinator's and administrator's tabs share: the tab base with its error boundary,
the table view they all use, and how times and DICOM dates are shown to coordinators."""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Concatenate, ParamSpec, TypeVar

from PySide6.QtCore import QAbstractItemModel, QDateTime, Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QWidget

from ioreview.errors import IoreviewError

if TYPE_CHECKING:
    from adjudication.protocol import Protocol
    from ioreview.service import Session, Trial
    from ioreview.ui.lock_screen import SessionController

__all__ = ["ControllerTab", "iso_date", "readable_time", "table_view"]

_P = ParamSpec("_P")
_T = TypeVar("_T")


def readable_time(iso: str | None) -> str:
    """An ISO timestamp as "2026-11-29 21:04" in local time ("" for None)."""
    if not iso:
        return ""
    when = QDateTime.fromString(iso, Qt.DateFormat.ISODateWithMs)
    if not when.isValid():
        when = QDateTime.fromString(iso, Qt.DateFormat.ISODate)
    return when.toLocalTime().toString("yyyy-MM-dd HH:mm") if when.isValid() else iso


def iso_date(dicom_date: str | None) -> str:
    """A DICOM date (DA, "20260623") as ISO 8601 ("2026-06-23"); other text unchanged."""
    text = (dicom_date or "").strip()
    if len(text) == 8 and text.isdigit():
        return f"{text[:4]}-{text[4:6]}-{text[6:]}"
    return text


def table_view(model: QAbstractItemModel, name: str) -> QTableView:
    """A read-only, row-selecting table over `model`, columns sized to their contents."""
    view = QTableView()
    view.setObjectName(name)
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setAlternatingRowColors(True)
    view.verticalHeader().hide()
    header = view.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setStretchLastSection(True)
    return view


class ControllerTab(QWidget):
    """Base of the tabs: access to the controller and the error boundary."""

    def __init__(self, controller: SessionController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self._protocol: Protocol | None = None

    def _active_protocol(self) -> Protocol | None:
        if self._protocol is None:
            try:
                self._protocol = self.trial.active_protocol(self.controller.session)[1]
            except IoreviewError:
                return None
        return self._protocol

    def timepoint_name(self, value: str | None) -> str:
        """A stored timepoint ("post-insertion") as the active protocol names it in the UI
        language; the value itself in English or when there is no active protocol."""
        from ioreview.ui.translation import ui_locale

        locale = ui_locale()
        if not value or not locale:
            return value or ""
        protocol = self._active_protocol()
        return value if protocol is None else protocol.timepoint_label(value, locale)

    def field_name(self, key: str, label: str) -> str:
        """A value key as the active protocol names it in the UI language; `label` (the
        service's English label) in English or for a key the protocol does not know."""
        from ioreview.ui.translation import ui_locale

        locale = ui_locale()
        protocol = self._active_protocol() if locale else None
        if protocol is None:
            return label
        try:
            return protocol.label_for(key, locale)
        except KeyError:
            return label

    @property
    def trial(self) -> Trial:
        """The service this tab forwards the coordinator's intent to."""
        return self.controller.trial

    def call(self, use_case: Callable[Concatenate[Session, _P], _T], /,
             *args: _P.args, **kwargs: _P.kwargs) -> _T | None:
        """Run ``use_case(session, *args, **kwargs)`` (a method of the service, such as
        ``self.trial.list_users``) as the logged-in user; a service error is shown and None
        is returned."""
        try:
            return use_case(self.controller.session, *args, **kwargs)
        except IoreviewError as exc:
            self.controller.report(exc, self)
            return None

    def refresh(self) -> None:
        """Reload what the tab shows."""
