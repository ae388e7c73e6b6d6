"""What the export's report shows (`ReportData`, `KeyImage`): plain values the export builds in
its own process and hands to the report's worker, without loading the report's libraries
(Jinja2, Pillow, matplotlib, WeasyPrint live in `report`)."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from adjudication.reliability import AgreementReport
    from ioreview.service.values import SubjectOutcomeView

__all__ = ["KeyImage", "ReportData"]


@dataclass(frozen=True)
class KeyImage:
    """One image with the readers' shapes to burn in.

    `shapes`: (letter or reader id, kind, points as (row, col) pixels, label); kinds as in
    `SHAPE_KINDS` (an ellipse is given by two opposite corners of its bounding box, as the
    viewer stores it)."""

    path: str
    frame: int
    caption: str
    shapes: tuple[tuple[str, str, tuple[tuple[float, float], ...], str], ...] = ()


@dataclass(frozen=True)
class ReportData:
    """Everything the report shows, already blinded and in the report's language.

    `finding_labels` maps finding ids to labels; it may also map whole field keys
    ("extravasation.volume_ml") to their labels, which the agreement table and forest plot then
    use instead of the protocol's English field label.  `value_labels` (optional) translates
    stored values shown in the outcomes table: timepoints and severity choices.

    `protocol_id`, `protocol_version`, `readers_per_case` and `washout_days` (the hidden
    re-reads' washout) are the protocol's facts that the agreement section's method paragraph
    states next to the figures of `agreement`; the report writes that paragraph in its own
    language from them."""

    title: str
    generated: str
    summary: Sequence[tuple[str, str]]
    agreement: AgreementReport
    adjudication: Sequence[tuple[str, str]]
    subjects: Sequence[SubjectOutcomeView]
    finding_labels: Mapping[str, str]
    key_images: Sequence[KeyImage]
    protocol_id: str
    protocol_version: str
    readers_per_case: int
    washout_days: int
    language: str = "en"
    value_labels: Mapping[str, str] = field(default_factory=dict)
