"""The structured read form, generated from the protocol and shown beside the viewer.

`ReadFormPanel` builds one group per finding and one editor per field (by field type), shows
units, ranges and help, hides and shows conditional fields live, explains inline what is
missing or wrong, lists the annotations linked to each finding, lets a measured ROI or length
fill a numeric field, autosaves the draft (debounced) and on close, counts active time on the
case, and signs (submit / amend) through `SignDialog`. It never decides anything itself:
coercion and validation come from `adjudication.readform`, everything stored goes through the
service.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QElapsedTimer, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QStyle,
    QStyleOptionComboBox,
    QStylePainter,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from adjudication import readform
from ioreview.errors import IoreviewError, ReadIncomplete, SessionExpired
from ioreview.service import SIGNATURE_MEANING, ReadStatus, ReadVersion
from ioreview.ui.translation import ui_locale
from ioreview.ui.lock_screen import SessionController
from ioreview.ui.sign_dialog import SignDialog

if TYPE_CHECKING:
    from PySide6.QtGui import QCloseEvent

    from adjudication.protocol import Choice, Field, Finding, Protocol
    from adjudication.readform import FieldProblem, FormItem
    from ioreview.service import Annotation, CaseView, KeyImage, SignatureInfo

__all__ = ["FieldEditor", "ReadFormPanel", "AUTOSAVE_DELAY_MS", "ACTIVE_INPUT_WINDOW_S",
           "signature_manifest"]

AUTOSAVE_DELAY_MS = 1000
"""Debounce of the draft autosave after the last change."""

ACTIVE_INPUT_WINDOW_S = 60.0
"""Time on case counts only while the last keyboard/mouse input is at most this old."""

_ERROR_COLOUR = "#ff8a80"

# The service's signature meaning (`SIGNATURE_MEANING`) as a literal, so that lupdate extracts
# it for `ReadFormPanel._signature_meaning`, which translates the service's constant.
_TRANSLATED_MEANINGS = (QT_TRANSLATE_NOOP("ReadFormPanel", "I confirm this read"),)
# The annotation kinds (ioreview.service.values.ANNOTATION_KINDS), for `describe_annotation`.
_ANNOTATION_KINDS = (
    QT_TRANSLATE_NOOP("ReadFormPanel", "arrow"), QT_TRANSLATE_NOOP("ReadFormPanel", "length"),
    QT_TRANSLATE_NOOP("ReadFormPanel", "angle"), QT_TRANSLATE_NOOP("ReadFormPanel", "ellipse"),
    QT_TRANSLATE_NOOP("ReadFormPanel", "polygon"),
    QT_TRANSLATE_NOOP("ReadFormPanel", "freehand"),
    QT_TRANSLATE_NOOP("ReadFormPanel", "point"), QT_TRANSLATE_NOOP("ReadFormPanel", "region"),
)
# Every meaning a signature is recorded with (ioreview.service.values), for the manifestation.
_SIGNATURE_MEANINGS = (
    QT_TRANSLATE_NOOP("Signature", "I confirm this read"),
    QT_TRANSLATE_NOOP("Signature", "I confirm this amended read"),
    QT_TRANSLATE_NOOP("Signature", "I confirm this adjudication"),
    QT_TRANSLATE_NOOP("Signature", "I confirm my committee votes"),
    QT_TRANSLATE_NOOP("Signature", "I confirm my casting vote as chair"),
    QT_TRANSLATE_NOOP("Signature", "I confirm this committee decision and its minutes"),
    QT_TRANSLATE_NOOP("Signature", "I confirm this export"),
)


def signature_manifest(signature: SignatureInfo) -> str:
    """The signature's manifestation (21 CFR 11.50): the signer's printed name, the time in
    UTC and locally, and the meaning of the signature."""
    utc, local = signature.signed_utc, signature.signed_local
    if local[:10] == utc[:10]:
        local = local[11:]
    return QCoreApplication.translate(
        "Signature", "Signed by {name} ({user}) on {utc} UTC ({local} local) — meaning: "
        "{meaning}").format(name=signature.signer_name or signature.signer,
                            user=signature.signer, utc=utc, local=local,
                            meaning=QCoreApplication.translate("Signature", signature.meaning))

# Additions to the application theme: finding titles readable at a glance, check boxes
# with a visible frame when unchecked and a filled square when checked.
_FORM_STYLE = """
QGroupBox::title { color: #dedee2; font-weight: bold; }
QCheckBox::indicator { width: 12px; height: 12px; border: 1px solid #6a6a72;
                       background: #151517; border-radius: 2px; }
QCheckBox::indicator:checked { background: #3d9be9; border-color: #3d9be9; }
QCheckBox::indicator:disabled { border-color: #3a3a40; }
QCheckBox::indicator:checked:disabled { background: #2f6fa6; border-color: #2f6fa6; }
"""

# What a viewer measurement is, the names the viewer may report it under, and its unit.
_MEASUREMENT_KINDS: dict[str, tuple[tuple[str, ...], str]] = {
    "length": (("length_mm", "length", "diameter_mm", "major_axis_mm"), "mm"),
    "volume": (("volume_ml", "volume_mL", "volume_cm3", "volume"), "mL"),
    "mean_hu": (("mean_hu", "mean_HU", "hu_mean", "mean"), "[hnsf'U]"),
    "area": (("area_mm2", "area"), "mm2"),
}
# The measurement kind an assistive source (`Field.fill_from`) proposes.
_KIND_OF_FILL_SOURCE = {"ruler": "length", "region_grow": "volume", "roi_mean_hu": "mean_hu"}
# Field units a measurement kind can fill, with the factor from the measurement's unit.
_UNIT_FACTORS: dict[str, dict[str, float]] = {
    "length": {"mm": 1.0, "cm": 0.1, "m": 0.001},
    "volume": {"mL": 1.0, "cm3": 1.0, "L": 0.001},
    "mean_hu": {"[hnsf'U]": 1.0, "HU": 1.0},
    "area": {"mm2": 1.0, "cm2": 0.01},
}


def _type_name(field: Field) -> str:
    return field.type.value


def _label_in(item: Finding | Field | Choice, locale: str | None, default: str = "") -> str:
    """The label of a protocol item (finding, field, choice) in ``locale``, as the protocol
    translates it; its English ``label`` otherwise."""
    return item.label_in(locale) or default


def _choices_of(field: Field, locale: str | None = None) -> list[tuple[Any, str]]:
    """(value, label) pairs of a choice-like field, labels in ``locale`` when translated."""
    return [(choice.value, _label_in(choice, locale, str(choice.value)) or str(choice.value))
            for choice in field.choices]


def _is_translated(field: Field, value: Any, locale: str | None) -> bool:
    """True when the protocol gives the choice ``value`` of ``field`` a label in ``locale``."""
    for choice in field.choices:
        if choice.value == value:
            return choice.label_in(locale) != choice.label
    return False


_UNIT_DISPLAY = {"[hnsf'U]": "HU", "mm2": "mm²", "cm2": "cm²", "cm3": "cm³"}


def display_unit(unit: str | None) -> str:
    """A UCUM unit as readers write it ("[hnsf'U]" → "HU")."""
    return _UNIT_DISPLAY.get(unit or "", unit or "")


def _range_text(field: Field) -> str:
    """The allowed range of a numeric field, as a placeholder ("0–50 cm")."""
    if field.range is None:
        return ""
    lo, hi = field.range
    return f"{lo:g}–{hi:g} {display_unit(field.unit)}".strip()


def _measurement_kind(field: Field) -> str | None:
    """Which kind of viewer measurement can fill ``field`` (None: none can)."""
    if _type_name(field) not in ("number", "integer"):
        return None
    unit = field.unit or ""
    kind = _KIND_OF_FILL_SOURCE.get(field.fill_from or "")
    if kind is not None:
        return kind if unit in _UNIT_FACTORS[kind] or not unit else None
    for kind, factors in _UNIT_FACTORS.items():
        if unit in factors:
            return kind
    return None


def _case_facts(case: CaseView) -> dict[str, object]:
    """What the case itself tells a field with `fill_from = "case"`, by field id."""
    return {"timepoint": case.timepoint, "days_from_insertion": case.days_from_insertion}


def measurement_for_field(field: Field, measurements: Mapping[str, float]) -> float | None:
    """The value of a viewer measurement that fits a numeric field, in the field's unit.

    The field's `fill_from` (ruler → length, region_grow → volume, roi_mean_hu → mean CT
    number) or else its unit decides which measurement fits; lengths convert mm → cm.
    """
    kind = _measurement_kind(field)
    if kind is None or not measurements:
        return None
    names, _unit = _MEASUREMENT_KINDS[kind]
    lowered = {str(k).lower(): v for k, v in measurements.items()}
    for name in names:
        value = lowered.get(name.lower())
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            factor = _UNIT_FACTORS[kind].get(field.unit or "", 1.0)
            return float(value) * factor
    return None


class ChoiceComboBox(QComboBox):
    """A combo box for protocol choices that never cuts a choice off: the shown choice is
    elided with "…" when the form is narrow (its full text in the tooltip) and the popup is
    as wide as the longest choice."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.help_text = ""
        self.currentIndexChanged.connect(self._update_tooltip)

    def _update_tooltip(self, *_: Any) -> None:
        parts = [self.currentText()] if self.currentData() is not None else []
        if self.help_text:
            parts.append(self.help_text)
        self.setToolTip("\n\n".join(parts))

    def set_help(self, text: str) -> None:
        """The field's help, shown in the tooltip under the chosen text."""
        self.help_text = text
        self._update_tooltip()

    def paintEvent(self, _event: object) -> None:  # noqa: N802 - Qt API
        """Draw the frame and the current choice elided to the width available."""
        painter = QStylePainter(self)
        option = QStyleOptionComboBox()
        self.initStyleOption(option)
        painter.drawComplexControl(QStyle.ComplexControl.CC_ComboBox, option)
        field = self.style().subControlRect(QStyle.ComplexControl.CC_ComboBox, option,
                                            QStyle.SubControl.SC_ComboBoxEditField, self)
        option.currentText = self.fontMetrics().elidedText(
            option.currentText, Qt.TextElideMode.ElideRight, max(field.width() - 4, 8))
        painter.drawControl(QStyle.ControlElement.CE_ComboBoxLabel, option)

    def showPopup(self) -> None:  # noqa: N802 - Qt API
        """Open the list wide enough for the longest choice."""
        metrics = self.view().fontMetrics()
        widest = max((metrics.horizontalAdvance(self.itemText(i)) for i in range(self.count())),
                     default=0)
        self.view().setMinimumWidth(widest + 48)
        super().showPopup()


class FieldEditor(QWidget):
    """One field of the read form: label, editor for its type, unit, range and message.

    The label carries " *" while the field must be answered given the other answers
    (`set_required`, kept up to date by the form as the answers change)."""

    changed = Signal(str)
    fill_requested = Signal(str)

    def __init__(self, key: str, field: Field, label: str, parent: QWidget | None = None, *,
                 locale: str | None = None) -> None:
        super().__init__(parent)
        self.key = key
        self.field = field
        self.locale = locale
        self.kind = _type_name(field)
        self.setObjectName(f"field:{key}")
        self._loading = False
        self._raw_error = ""
        #: the field's label without the required marker
        self.label_text = label
        self.required_now = bool(field.required)
        self.label = QLabel(label + (" *" if self.required_now else ""))
        self.label.setWordWrap(True)
        self.label.setMinimumWidth(120)
        help_text = field.help
        if help_text:
            self.label.setToolTip(help_text)

        self.editor: QWidget = self._build_editor()
        self.editor.setObjectName(f"editor:{key}")
        if isinstance(self.editor, ChoiceComboBox):
            self.editor.set_help(help_text or "")
        elif help_text:
            self.editor.setToolTip(help_text)
        unit = display_unit(field.unit)
        self.unit_label = QLabel(unit)
        self.unit_label.setObjectName("FieldUnit")
        self.unit_label.setVisible(bool(unit))
        self.fill_button: QToolButton | None = None
        if _measurement_kind(field) is not None:
            self.fill_button = QToolButton()
            kind = _measurement_kind(field)
            self.fill_button.setText({"length": self.tr("From ruler"),
                                      "volume": self.tr("From region")}.get(
                                          kind or "", self.tr("From ROI")))
            self.fill_button.setToolTip(self.tr(
                "Fill this field from the selected (or linked) annotation's measurement"))
            self.fill_button.clicked.connect(lambda: self.fill_requested.emit(self.key))

        self.message = QLabel()
        self.message.setObjectName(f"message:{key}")
        self.message.setWordWrap(True)
        self.message.setStyleSheet(f"color: {_ERROR_COLOUR};")
        self.message.hide()

        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.editor, 1)
        row.addWidget(self.unit_label)
        if self.fill_button is not None:
            row.addWidget(self.fill_button)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 2, 0, 2)
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(1)
        grid.addWidget(self.label, 0, 0, Qt.AlignmentFlag.AlignTop)
        grid.addLayout(row, 0, 1)
        grid.addWidget(self.message, 1, 1)
        grid.setColumnStretch(0, 2)
        grid.setColumnStretch(1, 3)

    # -- construction ------------------------------------------------------------------------
    def _build_editor(self) -> QWidget:
        kind = self.kind
        field = self.field
        if kind in ("choice", "presence", "confidence", "boolean"):
            combo = ChoiceComboBox()
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(10)
            combo.addItem(self.tr("— not answered —"), None)
            if kind == "boolean":
                combo.addItem(self.tr("Yes"), True)
                combo.addItem(self.tr("No"), False)
            else:
                choices = _choices_of(field, self.locale)
                if kind == "presence":
                    # The application's own words where the protocol does not translate them.
                    fallback = {"present": self.tr("Present"), "absent": self.tr("Absent"),
                                "indeterminate": self.tr("Indeterminate")}
                    choices = [(v, t if _is_translated(field, v, self.locale) else fallback.get(str(v), t))
                               for v, t in choices] or list(fallback.items())
                for value, text in choices:
                    combo.addItem(text, value)
            combo.currentIndexChanged.connect(self._emit_changed)
            return combo
        if kind == "multi_choice":
            box = QWidget()
            grid = QGridLayout(box)
            grid.setContentsMargins(0, 0, 0, 0)
            grid.setVerticalSpacing(0)
            self._checks: list[tuple[Any, QCheckBox]] = []
            for i, (value, text) in enumerate(_choices_of(field, self.locale)):
                check = QCheckBox(text)
                check.toggled.connect(self._emit_changed)
                check.setToolTip(text)
                grid.addWidget(check, i, 0)
                self._checks.append((value, check))
            return box
        if kind == "text":
            edit = QPlainTextEdit()
            edit.setFixedHeight(56)
            edit.textChanged.connect(self._emit_changed)
            return edit
        edit = QLineEdit()
        placeholder = _range_text(field)
        if placeholder:
            edit.setPlaceholderText(placeholder)
        edit.setAlignment(Qt.AlignmentFlag.AlignRight)
        edit.textChanged.connect(self._emit_changed)
        return edit

    def _emit_changed(self, *_: Any) -> None:
        if not self._loading:
            self.changed.emit(self.key)

    # -- value in / out ---------------------------------------------------------------------
    def raw_value(self) -> Any:
        """What the editor holds, uncoerced (None when unanswered)."""
        editor = self.editor
        if isinstance(editor, QComboBox):
            return editor.currentData()
        if self.kind == "multi_choice":
            picked = [value for value, check in self._checks if check.isChecked()]
            return picked or None
        if isinstance(editor, QPlainTextEdit):
            text = editor.toPlainText().strip()
            return text or None
        if isinstance(editor, QLineEdit):
            text = editor.text().strip()
            return text or None
        return None

    def value(self) -> Any:
        """The coerced value (None when unanswered or not a valid value); sets `raw_error`."""
        raw = self.raw_value()
        self._raw_error = ""
        if raw is None:
            return None
        try:
            return readform.coerce_value(self.field, raw)
        except (ValueError, TypeError) as exc:
            self._raw_error = str(exc) or self.tr("not a valid value")
            return None

    @property
    def raw_error(self) -> str:
        """Why the typed text is not a valid value ('' when it is or nothing is typed)."""
        return self._raw_error

    def set_value(self, value: Any) -> None:
        """Show ``value`` without emitting `changed`."""
        self._loading = True
        try:
            editor = self.editor
            if isinstance(editor, QComboBox):
                index = 0
                for i in range(editor.count()):
                    data = editor.itemData(i)
                    if data is not None and value is not None and (
                            data == value or str(data) == str(value)):
                        index = i
                        break
                editor.setCurrentIndex(index)
            elif self.kind == "multi_choice":
                chosen = {str(v) for v in (value or ())}
                for v, check in self._checks:
                    check.setChecked(str(v) in chosen)
            elif isinstance(editor, QPlainTextEdit):
                editor.setPlainText("" if value is None else str(value))
            elif isinstance(editor, QLineEdit):
                if value is None:
                    editor.setText("")
                elif isinstance(value, float):
                    editor.setText(f"{value:g}")
                else:
                    editor.setText(str(value))
        finally:
            self._loading = False

    def set_required(self, required: bool) -> None:
        """Mark the label with " *" while the field must be answered."""
        if required != self.required_now:
            self.required_now = required
            self.label.setText(self.label_text + (" *" if required else ""))

    def set_message(self, text: str) -> None:
        """Show (or clear) the inline problem message of this field."""
        self.message.setText(text)
        self.message.setVisible(bool(text))

    def set_read_only(self, read_only: bool) -> None:
        """Lock the editor (a signed read) or unlock it (draft, amendment)."""
        editor = self.editor
        if isinstance(editor, (QLineEdit, QPlainTextEdit)):
            editor.setReadOnly(read_only)
        elif self.kind == "multi_choice":
            for _, check in self._checks:
                check.setEnabled(not read_only)
        else:
            editor.setEnabled(not read_only)
        if self.fill_button is not None:
            self.fill_button.setVisible(not read_only)


class FindingGroup(QGroupBox):
    """The fields of one finding plus the annotations linked to it."""

    link_requested = Signal(str)
    unlink_requested = Signal(str, int)

    def __init__(self, finding_id: str | None, title: str, parent: QWidget | None = None) -> None:
        super().__init__(title, parent)
        self.finding_id = finding_id
        self._editable = True
        self.setObjectName(f"finding:{finding_id or '_read'}")
        self.fields_layout = QVBoxLayout()
        self.fields_layout.setSpacing(2)
        outer = QVBoxLayout(self)
        outer.addLayout(self.fields_layout)
        self.annotation_list: QListWidget | None = None
        self.link_button: QPushButton | None = None
        self.unlink_button: QPushButton | None = None
        if finding_id is not None:
            self.annotation_caption = QLabel()
            self.annotation_caption.setObjectName("AnnotationsCaption")
            self.annotation_list = QListWidget()
            self.annotation_list.setObjectName(f"annotations:{finding_id}")
            self.annotation_list.setMaximumHeight(64)
            self.annotation_list.hide()
            self.link_button = QPushButton(self.tr("Link selected annotation"))
            self.link_button.setToolTip(self.tr(
                "Link the annotation selected in the viewer to this finding"))
            self.link_button.clicked.connect(lambda: self.link_requested.emit(finding_id))
            self.unlink_button = QPushButton(self.tr("Unlink"))
            self.unlink_button.clicked.connect(self._unlink_current)
            self.unlink_button.hide()
            row = QHBoxLayout()
            row.addWidget(self.annotation_caption, 1)
            row.addWidget(self.unlink_button)
            row.addWidget(self.link_button)
            outer.addLayout(row)
            outer.addWidget(self.annotation_list)
            self.show_annotations(())

    def _unlink_current(self) -> None:
        if self.annotation_list is None or self.finding_id is None:
            return
        row = self.annotation_list.currentRow()
        if row >= 0:
            self.unlink_requested.emit(self.finding_id, row)

    def show_annotations(self, lines: Sequence[str]) -> None:
        """List the linked annotations (one line each)."""
        if self.annotation_list is None:
            return
        self.annotation_list.clear()
        for line in lines:
            self.annotation_list.addItem(line)
        self.annotation_list.setVisible(bool(lines))
        self.annotation_caption.setText(
            self.tr("Linked annotations: {n}").format(n=len(lines)) if lines
            else self.tr("No linked annotations"))
        if self.unlink_button is not None:
            self.unlink_button.setVisible(bool(lines) and self._editable)

    def set_read_only(self, read_only: bool) -> None:
        """Hide the link buttons of a signed read."""
        self._editable = not read_only
        if self.link_button is not None:
            self.link_button.setVisible(not read_only)
        if self.unlink_button is not None and self.annotation_list is not None:
            self.unlink_button.setVisible(not read_only and self.annotation_list.isVisibleTo(self))


def value_text(field: Field, value: Any, locale: str | None = None) -> str:
    """An answer as the reader chose it: choice labels (in ``locale`` when translated), yes/no,
    numbers with their unit."""
    translate = QCoreApplication.translate
    if value is None:
        return ""
    if isinstance(value, bool):
        return translate("ReadFormPanel", "Yes") if value else translate("ReadFormPanel", "No")
    if isinstance(value, (list, tuple)):
        return ", ".join(value_text(field, v, locale) for v in value)
    choice = field.choice(value) if field.choices else None
    if choice is not None:
        return _label_in(choice, locale, str(value)) or str(value)
    presence = {"present": translate("FieldEditor", "Present"),
                "absent": translate("FieldEditor", "Absent"),
                "indeterminate": translate("FieldEditor", "Indeterminate")}
    if _type_name(field) == "presence" and str(value) in presence:
        return presence[str(value)]
    text = f"{value:g}" if isinstance(value, float) else str(value)
    return f"{text} {display_unit(field.unit)}".strip()


def describe_annotation(annotation: Annotation) -> str:
    """A short line for an annotation: kind, image and its measurements."""
    translate = QCoreApplication.translate
    parts = [translate("ReadFormPanel", annotation.kind)]
    if annotation.label:
        parts.append(f"“{annotation.label}”")
    uid = annotation.sop_instance_uid
    if uid:
        image = translate("ReadFormPanel", "image …{uid}").format(uid=uid[-6:])
        if annotation.frame:
            image += translate("ReadFormPanel", " frame {frame}").format(frame=annotation.frame)
        parts.append(image)
    measurements = annotation.measurements
    if measurements:
        parts.append(", ".join(f"{k} {v:.4g}" for k, v in sorted(measurements.items())))
    return " · ".join(parts)


class ReadFormPanel(QWidget):
    """The structured read of one case (see the module docstring)."""

    saved = Signal(object)  # ReadState
    submitted = Signal(int)  # read id
    status_changed = Signal(str)
    annotations_changed = Signal(object)

    def __init__(self, controller: SessionController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.setObjectName("ReadFormPanel")
        self.case: CaseView | None = None
        self._history: list[ReadVersion] = []
        self.protocol: Protocol | None = None
        self.locale: str | None = None
        self.read_id: int | None = None
        self.status: ReadStatus | None = None
        self.editors: dict[str, FieldEditor] = {}
        self.modalities: frozenset[str] = frozenset()
        self.groups: dict[str | None, FindingGroup] = {}
        self._items: list[FormItem] = []
        self.annotations: list[Annotation] = []
        self.key_images: list[KeyImage] = []
        self.selected_annotation: Callable[[], Annotation | None] = lambda: None
        self._dirty = False
        self._amending = False
        self._show_all_problems = False
        self._unsaved_active_s = 0.0
        self._elapsed_base_s = 0.0

        self.autosave_timer = QTimer(self)
        self.autosave_timer.setSingleShot(True)
        self.autosave_timer.setInterval(AUTOSAVE_DELAY_MS)
        self.autosave_timer.timeout.connect(self.save_now)
        self._active_clock = QElapsedTimer()
        self._tick = QTimer(self)
        self._tick.setInterval(1000)
        self._tick.timeout.connect(self._count_active_time)

        controller.about_to_lock.connect(self._on_about_to_lock)
        controller.unlocked.connect(self._on_unlocked)

        self.header = QLabel(self._no_case_text())
        self.header.setWordWrap(True)
        self.header.setObjectName("ReadHeader")
        font = self.header.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self.header.setFont(font)
        self.banner = QLabel()
        self.banner.setObjectName("ReadBanner")
        self.banner.setWordWrap(True)
        self.banner.hide()
        self.notice = QLabel()
        self.notice.setObjectName("ProtocolNotice")
        self.notice.setWordWrap(True)
        self.notice.setStyleSheet(
            "background: #4a3b12; color: #ffe08a; padding: 6px; border-radius: 3px;")
        self.notice.hide()

        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.body = QWidget()
        self.body_layout = QVBoxLayout(self.body)
        self.body_layout.setContentsMargins(0, 0, 6, 0)
        self.body_layout.addStretch(1)
        self.scroll.setWidget(self.body)

        self.summary = QLabel()
        self.summary.setObjectName("ReadSummary")
        self.summary.setWordWrap(True)
        self.save_state = QLabel()
        self.save_state.setObjectName("SaveState")
        self.time_label = QLabel()
        self.time_label.setObjectName("TimeOnCase")
        self.key_image_label = QLabel()

        self.submit_button = QPushButton(self.tr("Submit and sign…"))
        self.submit_button.setObjectName("SubmitButton")
        self.submit_button.clicked.connect(self.request_submit)
        self.amend_button = QPushButton(self.tr("Amend…"))
        self.amend_button.setObjectName("AmendButton")
        self.amend_button.clicked.connect(self.start_amendment)
        self.sign_amend_button = QPushButton(self.tr("Sign amendment…"))
        self.sign_amend_button.setObjectName("SignAmendmentButton")
        self.sign_amend_button.clicked.connect(self.request_amendment_signature)
        self.cancel_amend_button = QPushButton(self.tr("Cancel amendment"))
        self.cancel_amend_button.clicked.connect(self.cancel_amendment)

        status_row = QHBoxLayout()
        status_row.addWidget(self.save_state)
        status_row.addStretch(1)
        status_row.addWidget(self.key_image_label)
        status_row.addWidget(self.time_label)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for b in (self.cancel_amend_button, self.sign_amend_button, self.amend_button,
                  self.submit_button):
            buttons.addWidget(b)

        layout = QVBoxLayout(self)
        layout.addWidget(self.header)
        layout.addWidget(self.banner)
        layout.addWidget(self.notice)
        layout.addWidget(self.scroll, 1)
        layout.addWidget(self.summary)
        layout.addLayout(status_row)
        layout.addLayout(buttons)
        self.setMinimumWidth(380)
        self.setStyleSheet(_FORM_STYLE)
        self._update_buttons()

    def _no_case_text(self) -> str:
        return self.tr("No case open — double-click a case in your worklist to read it.")

    # -- loading a case -----------------------------------------------------------------------
    def load_case(self, case: CaseView) -> None:
        """Build the form for ``case`` (a service `CaseView`) and show its stored values."""
        self.autosave_timer.stop()
        self.case = case
        self.protocol = case.protocol
        self.read_id = case.read_id
        self.modalities = frozenset(s.modality or "" for s in case.series)
        self.status = case.status
        self.annotations = list(case.annotations)
        self.key_images = list(case.key_images)
        self._dirty = False
        self._amending = False
        self._show_all_problems = False
        self._unsaved_active_s = 0.0
        self._elapsed_base_s = float(case.elapsed_s or 0.0)
        self._history = self._signed_history()
        self._build_form()
        for key, editor in self.editors.items():
            editor.set_value(case.values.get(key))
        prefilled = self._prefill_from_case(case)
        days = case.days_from_insertion
        day_text = (self.tr("day {days:+d}").format(days=days) if days is not None
                    else self.tr("day unknown"))
        self.header.setText(self.tr("Case {label} · {timepoint} · {day}").format(
            label=case.case_label, timepoint=self._timepoint_text(case.timepoint), day=day_text))
        self.notice.setText(case.protocol_notice)
        self.notice.setVisible(bool(case.protocol_notice))
        self._refresh_annotations()
        self._apply_read_only()
        self.refresh_form_state()
        self.save_state.setText(self.tr("Draft loaded")
                                if self.status is not ReadStatus.SUBMITTED else "")
        self._update_time_label()
        self._active_clock.start()
        self._tick.start()
        self.annotations_changed.emit(list(self.annotations))
        if prefilled:
            self._mark_dirty()

    def _prefill_from_case(self, case: CaseView) -> bool:
        """Propose answers the case itself knows (`fill_from = "case"`, e.g. the timepoint)
        for empty fields of a draft; the reader sees and may change them."""
        if case.status is ReadStatus.SUBMITTED:
            return False
        facts = _case_facts(case)
        changed = False
        for editor in self.editors.values():
            field = editor.field
            if field.fill_from != "case" or editor.raw_value() is not None:
                continue
            proposal = facts.get(field.id)
            if proposal is None:
                continue
            try:
                value = readform.coerce_value(field, proposal)
            except ValueError:
                continue
            editor.set_value(value)
            changed = True
        return changed

    def clear(self) -> None:
        """Close the current case (after saving it) and show an empty panel."""
        self.flush()
        self._tick.stop()
        self.case = None
        self.read_id = None
        self.status = None
        self._clear_form()
        self.header.setText(self._no_case_text())
        self.banner.hide()
        self.notice.hide()
        self.summary.setText("")
        self.save_state.setText("")
        self.time_label.setText("")
        self._update_buttons()

    def _clear_form(self) -> None:
        for group in self.groups.values():
            group.setParent(None)
            group.deleteLater()
        self.groups.clear()
        self.editors.clear()
        self._items = []

    def _timepoint_text(self, timepoint: str) -> str:
        """A timepoint value as the reader sees it, in the UI language (`ui_locale`)."""
        if self.protocol is None:
            return timepoint
        return self.protocol.timepoint_label(timepoint, self.locale)

    def _finding_title(self, finding_id: str | None, locale: str | None = None) -> str:
        """The finding's title in ``locale`` (None: the protocol's English label, which is
        what is stored with a linked annotation)."""
        if finding_id is None:
            return self.tr("Read")
        for finding in self.protocol.findings if self.protocol is not None else ():
            if finding.id == finding_id:
                return _label_in(finding, locale, finding_id) or finding_id
        return finding_id

    def _build_form(self) -> None:
        assert self.protocol is not None
        self._clear_form()
        self.locale = ui_locale()
        self._items = list(readform.form_layout(self.protocol, self.modalities or None))
        insert_at = 0
        for item in self._items:
            finding_id = item.finding_id
            group = self.groups.get(finding_id)
            if group is None:
                group = FindingGroup(finding_id, self._finding_title(finding_id, self.locale))
                group.link_requested.connect(self.link_selected_annotation)
                group.unlink_requested.connect(self.unlink_annotation)
                self.groups[finding_id] = group
                self.body_layout.insertWidget(insert_at, group)
                group.show()
                insert_at += 1
            label = ((_label_in(item.field, self.locale) if self.locale else None)
                     or item.label or item.field.label or item.key)
            editor = FieldEditor(item.key, item.field, label, locale=self.locale)
            editor.changed.connect(self._on_field_changed)
            editor.fill_requested.connect(self.fill_from_measurement)
            group.fields_layout.addWidget(editor)
            self.editors[item.key] = editor

    # -- values, visibility and problems ----------------------------------------------------------
    def values(self) -> dict[str, Any]:
        """The answered, valid values of the fields currently shown."""
        out: dict[str, Any] = {}
        for key, editor in self.editors.items():
            value = editor.value()
            if value is not None:
                out[key] = value
        return {k: v for k, v in out.items() if self._is_shown(k, out)}

    def _is_shown(self, key: str, values: Mapping[str, Any]) -> bool:
        return readform.is_shown(self.editors[key].field, values)

    def refresh_form_state(self) -> list[FieldProblem]:
        """Show/hide conditional fields and the inline messages; returns the problems."""
        if self.protocol is None:
            return []
        all_values: dict[str, Any] = {}
        for key, editor in self.editors.items():
            value = editor.value()
            if value is not None:
                all_values[key] = value
        for key, editor in self.editors.items():
            editor.setVisible(self._is_shown(key, all_values))
        values = {k: v for k, v in all_values.items() if self._is_shown(k, all_values)}
        for editor in self.editors.values():
            editor.set_required(readform.is_required(editor.field, values))
        problems = list(readform.validate_read(self.protocol, values, self.modalities or None))
        problems += [readform.FieldProblem(k, e.raw_error, readform.ProblemKind.invalid,
                                           e.label_text)
                     for k, e in self.editors.items() if e.raw_error]
        problems = [p for p in problems if not (p.kind is readform.ProblemKind.missing
                                                and p.field_key in self.editors
                                                and self.editors[p.field_key].raw_error)]
        by_key: dict[str, list[FieldProblem]] = {}
        for problem in problems:
            by_key.setdefault(problem.field_key, []).append(problem)
        for key, editor in self.editors.items():
            if not self._is_shown(key, all_values):
                editor.set_message("")
                continue
            shown = [p.message for p in by_key.get(key, ())
                     if p.kind is not readform.ProblemKind.missing or self._show_all_problems]
            editor.set_message("; ".join(shown))
        if self.status is ReadStatus.SUBMITTED and not self._amending:
            self.summary.setText("")
        elif problems:
            self.summary.setText(self._short_summary(problems))
            self.summary.setToolTip(self.problem_list(problems))
            self.summary.setStyleSheet(f"color: {_ERROR_COLOUR};")
        else:
            self.summary.setText(self.tr("The read is complete and can be signed."))
            self.summary.setStyleSheet("color: #a5d6a7;")
        return problems

    @staticmethod
    def problem_list(problems: Sequence[FieldProblem]) -> str:
        """Every problem on its own line (the summary's tooltip)."""
        return "\n".join(f"• {p.message}" for p in problems)

    def _short_summary(self, problems: Sequence[FieldProblem]) -> str:
        """One line: how many answers are missing / invalid / to clear / contradictory."""
        kinds = readform.ProblemKind
        counts = {kind: sum(1 for p in problems if p.kind is kind) for kind in kinds}
        parts = []
        if counts[kinds.missing]:
            parts.append(self.tr("{n} required answer(s) missing").format(n=counts[kinds.missing]))
        if counts[kinds.invalid]:
            parts.append(self.tr("{n} invalid").format(n=counts[kinds.invalid]))
        if counts[kinds.hidden]:
            parts.append(self.tr("{n} to clear").format(n=counts[kinds.hidden]))
        if counts[kinds.inconsistent]:
            parts.append(self.tr("{n} contradictory").format(n=counts[kinds.inconsistent]))
        if counts[kinds.unknown]:
            parts.append(self.tr("{n} unknown").format(n=counts[kinds.unknown]))
        return " · ".join(parts) + self.tr(" — hover for the list; the read can be signed "
                                           "when none are left.")

    def _on_field_changed(self, key: str) -> None:
        self.controller.note_activity()
        self.refresh_form_state()
        self._mark_dirty()

    def _mark_dirty(self) -> None:
        if self._read_only:
            return
        self._dirty = True
        self.save_state.setText(self.tr("Unsaved changes…"))
        if not self._amending:
            self.autosave_timer.start()

    # -- saving -------------------------------------------------------------------------------
    @property
    def dirty(self) -> bool:
        """True while changes are not yet saved to the service."""
        return self._dirty

    def save_now(self) -> bool:
        """Save the draft now; False when the service refused (the values stay in the form)."""
        self.autosave_timer.stop()
        if self.case is None or self.read_id is None or self._read_only or self._amending:
            return True
        self._count_active_time()
        active = self._unsaved_active_s
        try:
            state = self.controller.trial.save_draft(
                self.controller.session, self.read_id, self.values(),
                annotations=list(self.annotations), key_images=list(self.key_images),
                active_seconds=active)
        except IoreviewError as exc:
            self.save_state.setText(self.tr("Not saved: {error}").format(error=str(exc)))
            self.controller.report(exc, self)
            return False
        self._unsaved_active_s -= active
        self._dirty = False
        self.status = state.status
        self._elapsed_base_s = state.elapsed_s
        self.save_state.setText(self.tr("Draft saved"))
        self.saved.emit(state)
        self.status_changed.emit(state.status.value)
        self._update_time_label()
        return True

    def flush(self) -> bool:
        """Save pending changes (answers, annotations, key images, a second or more of active
        time) before closing the case or the window, or signing; no service call when there
        are none."""
        if self._dirty or self._unsaved_active_s >= 1.0:
            return self.save_now()
        return True

    def _on_about_to_lock(self) -> None:
        if self.case is not None:
            self.flush()

    def _on_unlocked(self) -> None:
        if self.case is not None and self._dirty:
            self.save_now()

    # -- time on case --------------------------------------------------------------------------
    def _count_active_time(self) -> None:
        if not self._active_clock.isValid():
            return
        delta = self._active_clock.restart() / 1000.0
        if self.case is None or self._read_only or self.controller.locked:
            return
        if self.controller.seconds_idle() <= ACTIVE_INPUT_WINDOW_S:
            self._unsaved_active_s += min(delta, ACTIVE_INPUT_WINDOW_S)
            self._update_time_label()

    def active_seconds(self) -> float:
        """Active time on this case so far, saved and not yet saved."""
        return self._elapsed_base_s + self._unsaved_active_s

    def _update_time_label(self) -> None:
        total = int(self.active_seconds())
        self.time_label.setText(self.tr("Time on case {m}:{s:02d}").format(
            m=total // 60, s=total % 60))

    # -- annotations and key images ---------------------------------------------------------
    def set_annotations(self, annotations: Sequence[Annotation]) -> None:
        """Replace the read's annotations (the viewer created or changed one)."""
        self.annotations = list(annotations)
        self._refresh_annotations()
        self._mark_dirty()

    def add_annotation(self, annotation: Annotation) -> None:
        """Add one annotation made in the viewer."""
        self.set_annotations([*self.annotations, annotation])

    def set_key_images(self, key_images: Sequence[KeyImage]) -> None:
        """Replace the read's key images (marked in the viewer)."""
        self.key_images = list(key_images)
        self._refresh_annotations()
        self._mark_dirty()

    def _refresh_annotations(self) -> None:
        for finding_id, group in self.groups.items():
            if finding_id is None:
                continue
            group.show_annotations([describe_annotation(a) for a in self.annotations
                                    if a.finding_id == finding_id])
        n_unlinked = sum(1 for a in self.annotations if not a.finding_id)
        text = self.tr("{k} key image(s)").format(k=len(self.key_images))
        if n_unlinked:
            text += self.tr(" · {n} unlinked annotation(s)").format(n=n_unlinked)
        self.key_image_label.setText(text)

    def _selected_index(self) -> int | None:
        selected = self.selected_annotation()
        if selected is None:
            return None
        for i, a in enumerate(self.annotations):
            if a is selected or a == selected:
                return i
        return None

    def link_selected_annotation(self, finding_id: str) -> None:
        """Link the annotation selected in the viewer to ``finding_id``."""
        if self._read_only:
            return
        index = self._selected_index()
        if index is None:
            selected = self.selected_annotation()
            if selected is None:
                self.save_state.setText(self.tr(
                    "Select an annotation in the viewer first, then link it."))
                return
            self.annotations.append(selected)
            index = len(self.annotations) - 1
        self.annotations[index] = dataclasses.replace(
            self.annotations[index], finding_id=finding_id, label=self._finding_title(finding_id))
        self._refresh_annotations()
        self.annotations_changed.emit(list(self.annotations))
        self._mark_dirty()

    def unlink_annotation(self, finding_id: str, row: int) -> None:
        """Remove the link of the ``row``-th annotation listed under ``finding_id``."""
        if self._read_only:
            return
        linked = [i for i, a in enumerate(self.annotations) if a.finding_id == finding_id]
        if 0 <= row < len(linked):
            i = linked[row]
            self.annotations[i] = dataclasses.replace(self.annotations[i], finding_id=None,
                                                      label="")
            self._refresh_annotations()
            self.annotations_changed.emit(list(self.annotations))
            self._mark_dirty()

    def fill_from_measurement(self, key: str) -> None:
        """Fill a numeric field from the selected annotation's measurement (else the latest
        annotation linked to the field's finding that has a fitting measurement)."""
        editor = self.editors.get(key)
        if editor is None or self._read_only:
            return
        candidates: list[Annotation] = []
        selected = self.selected_annotation()
        if selected is not None:
            candidates.append(selected)
        finding_id = next((i.finding_id for i in self._items if i.key == key), None)
        candidates += [a for a in reversed(self.annotations)
                       if finding_id and a.finding_id == finding_id]
        for annotation in candidates:
            value = measurement_for_field(editor.field, annotation.measurements)
            if value is not None:
                if _type_name(editor.field) == "integer":
                    value = round(value)
                editor.set_value(round(value, 2) if isinstance(value, float) else value)
                self._on_field_changed(key)
                return
        editor.set_message(self.tr(
            "No fitting measurement: select a measured ROI or length in the viewer."))

    # -- read-only, submit, amend -------------------------------------------------------------
    @property
    def _read_only(self) -> bool:
        return self.case is None or (self.status is ReadStatus.SUBMITTED and not self._amending)

    def is_read_only(self) -> bool:
        """True for a signed (locked) read that is not being amended."""
        return self._read_only

    def _apply_read_only(self) -> None:
        read_only = self._read_only
        for editor in self.editors.values():
            editor.set_read_only(read_only)
        for group in self.groups.values():
            group.set_read_only(read_only)
        if self.case is not None and self.status is ReadStatus.SUBMITTED and not self._amending:
            lines = [self.tr(
                "Signed and locked (version {v}). Changes need a signed amendment with a "
                "reason.").format(v=self.case.version)]
            for version in reversed(self._history):
                if version.signature is None:
                    continue
                line = self.tr("Version {v}: {manifest}").format(
                    v=version.version, manifest=signature_manifest(version.signature))
                if version.amendment_reason:
                    line += " " + self.tr("— reason: {reason}").format(
                        reason=version.amendment_reason)
                lines.append(line)
            self.banner.setText("\n".join(lines))
            self.banner.setStyleSheet(
                "background: #1f4d2b; color: #d7f5dc; padding: 6px; border-radius: 3px;")
            self.banner.show()
        elif self._amending:
            self.banner.setText(self.tr(
                "Amending a signed read: change the values, then sign the amendment. "
                "The signed version is kept."))
            self.banner.setStyleSheet(
                "background: #4a3b12; color: #ffe08a; padding: 6px; border-radius: 3px;")
            self.banner.show()
        else:
            self.banner.hide()
        self._update_buttons()

    def _update_buttons(self) -> None:
        has_case = self.case is not None
        submitted = self.status is ReadStatus.SUBMITTED
        self.submit_button.setVisible(has_case and not submitted)
        self.amend_button.setVisible(has_case and submitted and not self._amending)
        self.sign_amend_button.setVisible(has_case and self._amending)
        self.cancel_amend_button.setVisible(has_case and self._amending)

    def request_submit(self) -> None:
        """Check completeness, save what is unsaved, then ask for the signature; locks the
        read when signed.

        One submit asks the service at most twice: `save_draft` when something is unsaved,
        and `submit_read` when the reader signs (it checks completeness again and raises
        `ReadIncomplete` with the problems, which are then shown inline)."""
        if self.case is None or self._read_only:
            return
        self._show_all_problems = True
        problems = self.refresh_form_state()
        if problems:
            self._scroll_to_first_problem(problems)
            self.flush()
            return
        if not self.flush():
            return
        read_id = self.case.read_id
        trial, controller = self.controller.trial, self.controller
        signature: SignatureInfo | None = None

        def sign(password: str, _reason: str) -> None:
            nonlocal signature
            signature = trial.submit_read(controller.session, read_id, password)

        dialog = SignDialog(sign, signer=controller.user_label,
                            meaning=self._signature_meaning(), on_error=self._dialog_error,
                            summary=self.read_summary(), warning=self.unlinked_warning(),
                            parent=self)
        if dialog.exec() != SignDialog.DialogCode.Accepted or signature is None:
            return
        self._show_signed(signature)

    def read_summary(self) -> list[tuple[str, str]]:
        """What the reader is about to sign, one (title, text) row per group of the form: the
        answers given, and per finding its linked annotations and how many are measured."""
        values = self.values()
        rows: list[tuple[str, str]] = []
        for finding_id in self.groups:
            parts = [f"{self.editors[i.key].label_text}: "
                     f"{value_text(i.field, values[i.key], self.locale)}"
                     for i in self._items if i.finding_id == finding_id and i.key in values]
            if finding_id is not None:
                linked = [a for a in self.annotations if a.finding_id == finding_id]
                if linked:
                    parts.append(self.tr("{n} annotation(s), {m} with measurements").format(
                        n=len(linked), m=sum(1 for a in linked if a.measurements)))
            rows.append((self._finding_title(finding_id, self.locale),
                         "; ".join(parts) or self.tr("nothing answered")))
        n_unlinked = sum(1 for a in self.annotations if not a.finding_id)
        if self.key_images or n_unlinked:
            rows.append((self.tr("Images"), self.tr(
                "{k} key image(s), {n} annotation(s) linked to no finding").format(
                k=len(self.key_images), n=n_unlinked)))
        return rows

    def unlinked_warning(self) -> str:
        """The warning the sign dialog shows when annotations are linked to no finding."""
        n = sum(1 for a in self.annotations if not a.finding_id)
        if not n:
            return ""
        return self.tr(
            "{n} annotation(s) are linked to no finding: they are signed with the read but "
            "support no finding. To link one, cancel, select it in the viewer and press "
            "\"Link selected annotation\" under its finding; or sign as it is.").format(n=n)

    def _signature_meaning(self) -> str:
        """The meaning the service signs with (`SIGNATURE_MEANING`), in the UI language."""
        return self.tr(SIGNATURE_MEANING)

    def _dialog_error(self, exc: IoreviewError) -> bool:
        """Errors the sign dialog hands back: incomplete reads show inline, expired sessions
        lock the window; both close the dialog."""
        if isinstance(exc, ReadIncomplete):
            self._show_service_problems(exc.problems)
            return True
        if isinstance(exc, SessionExpired):
            self.controller.report(exc, self)
            return True
        return False

    def _show_service_problems(self, problems: Sequence[FieldProblem]) -> None:
        self._show_all_problems = True
        self.refresh_form_state()
        for problem in problems:
            editor = self.editors.get(problem.field_key)
            if editor is not None:
                editor.set_message(problem.message)
        self._scroll_to_first_problem(problems)

    def _scroll_to_first_problem(self, problems: Sequence[FieldProblem]) -> None:
        for problem in problems:
            editor = self.editors.get(problem.field_key)
            if editor is not None and editor.isVisibleTo(self.body):
                self.scroll.ensureWidgetVisible(editor)
                editor.editor.setFocus()
                return

    def _reload(self) -> None:
        if self.case is None:
            return
        try:
            case = self.controller.trial.open_case(self.controller.session,
                                                   self.case.assignment_id)
        except IoreviewError as exc:
            self.controller.report(exc, self)
            return
        self.load_case(case)

    def _signed_history(self) -> list[ReadVersion]:
        """The signed versions of the read (for the signature block); none for a draft."""
        if self.case is None or self.case.status is not ReadStatus.SUBMITTED:
            return []
        try:
            return self.controller.trial.read_history(self.controller.session,
                                                      self.case.read_id)
        except IoreviewError as exc:
            self.controller.report(exc, self)
            return []

    def _show_signed(self, signature: SignatureInfo) -> None:
        """Show the read as the service now holds it: the saved answers, signed and locked
        at the signature's version, with the signature's manifestation (no need to ask the
        service again)."""
        assert self.case is not None
        self.case = dataclasses.replace(
            self.case, status=ReadStatus.SUBMITTED, version=signature.version,
            values=self.values(), annotations=tuple(self.annotations),
            key_images=tuple(self.key_images))
        self.status = ReadStatus.SUBMITTED
        self._history = [v for v in self._history if v.version != signature.version] + [
            ReadVersion(signature.version, ReadStatus.SUBMITTED, self.case.values,
                        self.case.annotations, self.case.key_images, signature, None, None)]
        self._dirty = False
        self._show_all_problems = False
        self._unsaved_active_s = 0.0
        self._apply_read_only()
        self.refresh_form_state()
        self._update_time_label()
        self.save_state.setText(self.tr("Signed"))
        self.submitted.emit(signature.read_id)
        self.status_changed.emit(ReadStatus.SUBMITTED.value)

    def start_amendment(self) -> None:
        """Unlock the editors of a signed read for an amendment (signed again with a reason)."""
        if self.case is None or self.status is not ReadStatus.SUBMITTED:
            return
        self._amending = True
        self._show_all_problems = True
        self._apply_read_only()
        self.refresh_form_state()

    def cancel_amendment(self) -> None:
        """Drop the unsigned changes of an amendment and show the signed read again."""
        self._amending = False
        self._dirty = False
        self._reload()

    def request_amendment_signature(self) -> None:
        """Ask for the reason and the password, then store the amendment as a new version."""
        if self.case is None or not self._amending:
            return
        problems = self.refresh_form_state()
        if problems:
            self._scroll_to_first_problem(problems)
            return
        read_id = self.case.read_id
        values = self.values()
        annotations = list(self.annotations)
        trial, controller = self.controller.trial, self.controller
        signature: SignatureInfo | None = None

        def sign(password: str, reason: str) -> None:
            nonlocal signature
            signature = trial.amend_read(controller.session, read_id, reason, values, password,
                                         annotations=annotations)

        dialog = SignDialog(sign, signer=controller.user_label,
                            meaning=self.tr("I confirm this amended read"),
                            ask_reason=True, title=self.tr("Sign amendment"),
                            on_error=self._dialog_error, summary=self.read_summary(),
                            warning=self.unlinked_warning(), parent=self)
        if dialog.exec() != SignDialog.DialogCode.Accepted or signature is None:
            return
        # the service merges the amended answers over the signed ones: show what it stored
        self._dirty = False
        self._amending = False
        self._reload()
        self.save_state.setText(self.tr("Signed"))
        self.submitted.emit(signature.read_id)
        self.status_changed.emit(ReadStatus.SUBMITTED.value)

    # -- closing -----------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt API
        """Save the draft when the panel closes."""
        self.flush()
        super().closeEvent(event)

