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
    stored values shown in the outcomes table: timepoints and severity choices."""

    title: str
    generated: str
    summary: Sequence[tuple[str, str]]
    agreement: AgreementReport
    adjudication: Sequence[tuple[str, str]]
    subjects: Sequence[SubjectOutcomeView]
    finding_labels: Mapping[str, str]
    key_images: Sequence[KeyImage]
    language: str = "en"
    value_labels: Mapping[str, str] = field(default_factory=dict)
