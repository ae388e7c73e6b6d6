"""The results of the reader's use cases: worklist items, the blinded case view, autosave
state, signatures and read versions (re-exported by `ioreview.service.values`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ioreview.imaging.header import SeriesView

from .values import Annotation, KeyImage, ReadStatus

if TYPE_CHECKING:
    from adjudication.protocol import Protocol

__all__ = ['WorklistItem', 'PriorView', 'CaseView', 'ReadState', 'SignatureInfo', 'ReadVersion']


@dataclass(frozen=True)
class WorklistItem:
    assignment_id: int
    read_id: int | None
    case_label: str
    timepoint: str
    days_from_insertion: int | None
    status: ReadStatus
    order_index: int


@dataclass(frozen=True)
class PriorView:
    """An earlier timepoint of the same subject, shown for comparison (blinded)."""

    case_label: str
    timepoint: str
    days_from_insertion: int | None
    series: tuple[SeriesView, ...]


@dataclass(frozen=True)
class CaseView:
    """Everything a reader needs to read one assigned case, already blinded."""

    assignment_id: int
    read_id: int
    case_label: str
    timepoint: str
    days_from_insertion: int | None
    series: tuple[SeriesView, ...]
    priors: tuple[PriorView, ...]
    protocol: Protocol
    protocol_version_id: int
    values: dict[str, Any]
    annotations: tuple[Annotation, ...]
    key_images: tuple[KeyImage, ...]
    status: ReadStatus
    elapsed_s: float
    version: int = 1
    #: non-empty when a newer protocol version is active than the one this read uses
    protocol_notice: str = ""


@dataclass(frozen=True)
class ReadState:
    """What an autosave returns: enough to update a status bar."""

    read_id: int
    status: ReadStatus
    version: int
    saved_at: str
    elapsed_s: float
    n_values: int
    n_annotations: int
    n_key_images: int


@dataclass(frozen=True)
class SignatureInfo:
    id: int
    read_id: int
    signer: str
    signed_at: str
    meaning: str
    content_sha256: str
    version: int = 1
    #: the signer's printed name (21 CFR 11.50); empty where the service did not look it up
    signer_name: str = ""

    @property
    def signed_utc(self) -> str:
        """The signing time in UTC as "2026-11-29 14:03"."""
        return _minutes(self.signed_at, local=False)

    @property
    def signed_local(self) -> str:
        """The signing time in this workstation's time zone as "2026-11-29 22:03"."""
        return _minutes(self.signed_at, local=True)


def _minutes(iso_time: str, *, local: bool) -> str:
    from datetime import datetime, timezone

    try:
        when = datetime.fromisoformat(iso_time)
    except (TypeError, ValueError):
        return iso_time or ""
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    when = when.astimezone() if local else when.astimezone(timezone.utc)
    return when.strftime("%Y-%m-%d %H:%M")


@dataclass(frozen=True)
class ReadVersion:
    """One version of a read: the first signed one, then one per amendment."""

    version: int
    status: ReadStatus
    values: dict[str, Any]
    annotations: tuple[Annotation, ...]
    key_images: tuple[KeyImage, ...]
    signature: SignatureInfo | None
    amendment_reason: str | None
    amended_at: str | None
