"""The adjudicator's window: own queue of discordant cases, then the adjudication view.

The view shows the case's blinded images with each reader's annotations in the reader's own
colour (readers appear only as letters A, B (C)), the forms side by side with the discordant
fields highlighted and, per item, the rule that flagged it and why; the adjudicator decides
each item (accept a reader's value, or an own value with a rationale), may measure in the
viewer, and signs ("I confirm this adjudication").  The service validates and records
everything; the widgets only show state and forward intent.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QT_TRANSLATE_NOOP,
    QCoreApplication,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPointF,
    QRectF,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import (
    QBrush,
    QCloseEvent,
    QColor,
    QPainter,
    QPainterPath,
    QPen,
    QResizeEvent,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QSplitter,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from adjudication.paradigms import Decision
from adjudication.protocol import FieldType
from ioreview.errors import IoreviewError, SessionExpired
from ioreview.ui.pane_fold import PaneFold, SplitterFit, pane_action
from ioreview.ui.translation import ui_locale
from ioreview.ui.tab_base import readable_time
from ioreview.ui.help import add_help_menu
from ioreview.ui.lock_screen import SessionController
from ioreview.ui.read_form import signature_manifest
from ioreview.ui.reading import ViewerAdapter, make_viewer
from ioreview.ui.session_menu import add_session_menu
from ioreview.ui.sign_dialog import SignDialog
from ioreview.ui.table_model import Column, RecordTableModel

if TYPE_CHECKING:
    from adjudication.protocol import Field, Protocol
    from ioreview.service import (
        AdjudicationQueueItem,
        AdjudicationView,
        Annotation,
        DecisionItem,
        LetteredRead,
        Session,
        SignatureInfo,
        Trial,
    )
    from ioreview.ui.viewer.viewport import ImageViewport

__all__ = ["AdjudicationPanel", "AdjudicatorWindow", "DecisionEditor", "ReaderLayers",
           "READER_COLOURS", "adjudicator_window", "fit_rows_on_resize", "readable_time",
           "reason_text", "rule_text", "value_text", "widest_word"]

#: The colour of each reader's annotations (the adjudicator's own use the viewer's colour).
READER_COLOURS: dict[str, QColor] = {
    "A": QColor("#ff5c8a"),  # magenta-red
    "B": QColor("#3ddc97"),  # green
    "C": QColor("#b388ff"),  # violet
}
_DISCORDANT = QColor(120, 60, 20)
#: radio buttons drawn visibly on the dark theme
_RADIO_STYLE = ("QRadioButton::indicator { width: 11px; height: 11px; border-radius: 7px;"
                " border: 2px solid #8a9099; background: #1e2126; }"
                " QRadioButton::indicator:checked { background: #3d9be9;"
                " border-color: #d0d4da; }")



def field_for(protocol: Protocol, key: str) -> Field | None:
    """The field of a value key, committee-only keys included (None when unknown)."""
    try:
        return protocol.any_field(key)
    except KeyError:
        return None


def value_text(protocol: Protocol, key: str, value: Any, locale: str | None = None) -> str:
    """A stored value as the form shows it (choice labels, not codes; "—" when empty)."""
    if value is None or value == "" or value == []:
        return "—"
    field = field_for(protocol, key)
    if field is None:
        return str(value)

    def one(v: Any) -> str:
        choice = field.choice(v) if field.choices else None
        return choice.label_in(locale) if choice is not None else str(v)

    if isinstance(value, (list, tuple)):
        return ", ".join(one(v) for v in value)
    if isinstance(value, bool):
        return (QCoreApplication.translate("AdjudicationPanel", "yes") if value
                else QCoreApplication.translate("AdjudicationPanel", "no"))
    text = one(value)
    return f"{text} {unit_text(field.unit)}" if field.unit and not field.choices else text


#: UCUM units as readers write them ("[hnsf'U]" is the Hounsfield unit)
_UNIT_TEXT = {"[hnsf'U]": "HU"}


def unit_text(unit: str) -> str:
    """A protocol's (UCUM) unit as it is shown: "HU", not "[hnsf'U]"."""
    return _UNIT_TEXT.get(unit, unit)



#: the rules (`DecisionItem.rule_code`) and reasons (`ItemReason.code`) in words; {x} and {y}
#: are the letters of the two reads compared, {a} and {b} their values as the form shows them
_RULES = {
    "mismatch": QT_TRANSLATE_NOOP("DecisionReasons", "any difference"),
    "none": QT_TRANSLATE_NOOP("DecisionReasons", "not adjudicated"),
    "ordinal_difference": QT_TRANSLATE_NOOP("DecisionReasons", "{steps} or more steps apart"),
    "numeric": QT_TRANSLATE_NOOP(
        "DecisionReasons", "differ by more than {absolute} and by more than {relative}"),
    "presence_or_confidence_across_indeterminate": QT_TRANSLATE_NOOP(
        "DecisionReasons", "presence differs, or confidence on opposite sides of indeterminate"),
    "committee_only": QT_TRANSLATE_NOOP("DecisionReasons", "the committee's question"),
    "with_presence": QT_TRANSLATE_NOOP("DecisionReasons", "judged with the finding's presence"),
}
_REASONS = {
    "one_empty": QT_TRANSLATE_NOOP(
        "DecisionReasons", "Reader {empty} left it empty; Reader {other} recorded {value}"),
    "values_differ": QT_TRANSLATE_NOOP("DecisionReasons", "{x}: {a} · {y}: {b}"),
    "presence_differs": QT_TRANSLATE_NOOP("DecisionReasons", "{x}: {a} · {y}: {b}"),
    "with_confidence": QT_TRANSLATE_NOOP("DecisionReasons", "(confidence {a} vs {b})"),
    "steps_apart": QT_TRANSLATE_NOOP(
        "DecisionReasons", "{x}: {a} · {y}: {b}, {gap} step(s) apart (threshold {steps})"),
    "numeric_difference": QT_TRANSLATE_NOOP(
        "DecisionReasons", "{x}: {a} · {y}: {b}, a difference of {difference} ({relative}), "
        "more than {threshold} and {threshold_relative}"),
    "confidence_across": QT_TRANSLATE_NOOP(
        "DecisionReasons", "confidence {x}: {a} · {y}: {b}, on opposite sides of "
        "indeterminate ({midpoint})"),
    "committee_decides": QT_TRANSLATE_NOOP("DecisionReasons", "decided by the committee"),
    "follows_presence": QT_TRANSLATE_NOOP(
        "DecisionReasons", "follows the decision on the finding's presence"),
}


def _words(templates: dict[str, str], code: str) -> str:
    return QCoreApplication.translate("DecisionReasons", templates[code])


def fit_rows_on_resize(table: QTableWidget) -> None:
    """Re-fit the rows' heights whenever a column changes width: wrapped values then get the
    lines they need instead of ending in "…" (rows fitted before the table was laid out keep a
    single line)."""
    timer = QTimer(table)
    timer.setSingleShot(True)
    timer.setInterval(0)
    timer.timeout.connect(table.resizeRowsToContents)
    table.horizontalHeader().sectionResized.connect(lambda *_args: timer.start())


def widest_word(table: QTableWidget, column: int) -> int:
    """The width of the longest word in ``column`` (a column narrower than that elides it
    even where the text wraps), with the cell's padding."""
    fm = table.fontMetrics()
    words = [w for row in range(table.rowCount())
             if (cell := table.item(row, column)) is not None for w in cell.text().split()]
    return max((fm.horizontalAdvance(w) for w in words), default=0) + 16


def rule_text(protocol: Protocol, item: DecisionItem) -> str:
    """The rule that flagged an item in the UI language (`DecisionItem.rule_code` and its
    parameters; the service's English text where the item carries no known code)."""
    code, p = item.rule_code, item.rule_params
    if code not in _RULES:
        return item.rule
    field = field_for(protocol, item.key)
    unit = f" {unit_text(field.unit)}" if field is not None and field.unit else ""
    return _words(_RULES, code).format(
        steps=p.get("steps", 1), absolute=f"{p.get('absolute', 0):g}{unit}",
        relative=f"{p.get('relative', 0):.0%}")


def reason_text(protocol: Protocol, item: DecisionItem, locale: str | None) -> str:
    """Why an item is to be decided, in the UI language: the readers by letter, their values
    as the form shows them (choice labels, units) (`DecisionItem.reasons`; the service's
    English text where the item carries none or an unknown code)."""
    if not item.reasons or any(r.code not in _REASONS for r in item.reasons):
        return item.reason
    confidence_key = item.key.rsplit(".", 1)[0] + ".confidence"

    def shown(v: Any, key: str = item.key) -> str:
        return value_text(protocol, key, v, locale)

    parts = []
    for r in item.reasons:
        p = r.params
        x, y = r.letters if len(r.letters) == 2 else ("A", "B")
        unit = f" {unit_text(p['unit'])}" if p.get("unit") else ""
        key = confidence_key if r.code == "confidence_across" else item.key
        text = _words(_REASONS, r.code).format(
            x=x, y=y, a=shown(p.get("a"), key), b=shown(p.get("b"), key),
            empty=p.get("empty", ""), other=y if p.get("empty") == x else x,
            value=shown(p.get("value")), gap=f"{p.get('gap', 0):g}", steps=p.get("steps", ""),
            difference=f"{p.get('difference', 0):g}{unit}",
            relative=f"{p.get('relative_difference', 0):.0%}",
            threshold=f"{p.get('absolute', 0):g}{unit}",
            threshold_relative=f"{p.get('relative', 0):.0%}",
            midpoint=f"{p.get('midpoint', 0):g}")
        if "confidence_a" in p:
            text += " " + _words(_REASONS, "with_confidence").format(
                a=shown(p["confidence_a"], confidence_key),
                b=shown(p["confidence_b"], confidence_key))
        parts.append(text)
    return "; ".join(parts)


class _ProtocolNames:
    """Timepoints and discordant fields (value keys) as the active protocol names them in the
    UI language."""

    def __init__(self) -> None:
        self.protocol: Protocol | None = None
        self._locale: str | None = None

    def set_protocol(self, protocol: Protocol, locale: str | None) -> None:
        self.protocol, self._locale = protocol, locale

    def timepoint(self, value: str) -> str:
        if self.protocol is None or not self._locale:
            return value
        return self.protocol.timepoint_label(value, self._locale)

    def field(self, key: str) -> str:
        if self.protocol is None:
            return key
        try:
            return self.protocol.label_for(key, self._locale)
        except KeyError:
            return key


class _QueueModel(RecordTableModel):
    """The queue; the last column's tooltip lists every discordant field."""

    tooltip: Any = None

    def data(self, index: QModelIndex | QPersistentModelIndex,
             role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if (role == Qt.ItemDataRole.ToolTipRole and index.isValid() and self.tooltip is not None
                and index.column() == self.columnCount() - 1):
            return self.tooltip(self.record(index.row()))
        return super().data(index, role)


# -- the readers' annotations over the viewer ----------------------------------------------
class ReaderLayers(QObject):
    """Draws each lettered read's annotations over the viewer's panes (their `extra_layers`) in
    the reader's colour,
    with the measurement text and calibration source the viewer gives its own shapes; one
    layer per letter, each shown or hidden (the adjudicator's checkboxes)."""

    changed = Signal()

    def __init__(self, viewer: ViewerAdapter, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.viewer = viewer
        self._layers: dict[str, tuple[Any, ...]] = {}
        self._shown: dict[str, bool] = {}
        self._watched: list[QObject] = []
        #: the text blocks of the last paint of each pane (what `text_blocks` returns)
        self._blocks: dict[int, list[QRectF]] = {}

    def set_reads(self, reads: Sequence[LetteredRead]) -> None:
        """Show the annotations of these reads (all layers visible)."""
        from ioreview.ui.viewer.annotations import ViewerAnnotation

        self._layers = {r.letter: tuple(ViewerAnnotation.from_trial(a) for a in r.annotations)
                        for r in reads}
        self._shown = dict.fromkeys(self._layers, True)
        self._watch()
        self.repaint()

    def letters(self) -> list[str]:
        """The letters with a layer."""
        return sorted(self._layers)

    def set_visible(self, letter: str, visible: bool) -> None:
        """Show or hide one reader's annotations."""
        if letter in self._shown:
            self._shown[letter] = visible
            self.repaint()

    def is_visible(self, letter: str) -> bool:
        return self._shown.get(letter, False)

    def shown(self) -> dict[str, list[Annotation]]:
        """The annotations drawn now, by letter (hidden layers are empty)."""
        return {letter: [a.to_trial() for a in items] if self._shown[letter] else []
                for letter, items in sorted(self._layers.items())}

    def text_blocks(self, vp: ImageViewport) -> list[QRectF]:
        """Where the readers' label and measurement texts went on `vp` at its last paint."""
        return list(self._blocks.get(id(vp), ()))

    def _viewports(self) -> list[ImageViewport]:
        try:
            from ioreview.ui.viewer.viewport import ImageViewport
        except ImportError:
            return []
        return list(self.viewer.widget.findChildren(ImageViewport))

    def _watch(self) -> None:
        for vp in self._viewports():
            if vp not in self._watched:
                vp.extra_layers.append(self._paint)
                self._watched.append(vp)
                vp.destroyed.connect(lambda _o=None, v=vp: self._forget(v))

    def _forget(self, vp: QObject) -> None:
        if vp in self._watched:
            self._watched.remove(vp)
        self._blocks.pop(id(vp), None)

    def repaint(self) -> None:
        """Redraw every pane."""
        self._watch()
        for vp in self._viewports():
            vp.update()
        self.changed.emit()

    def _paint(self, vp: ImageViewport, p: QPainter) -> None:
        """The pane's extra layer: after its image and the adjudicator's own shapes, the
        readers' shapes in their colours."""
        placed: list[QRectF] = []  # the text blocks drawn so far on this pane
        self._blocks[id(vp)] = placed
        ref = vp.current_ref()
        if ref is None or not any(self._shown.values()):
            return
        from ioreview.ui.viewer.tools import measure

        context = vp.image_context()
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        for letter, items in sorted(self._layers.items()):
            if not self._shown.get(letter):
                continue
            colour = READER_COLOURS.get(letter, QColor("#ffffff"))
            for a in items:
                if a.sop_instance_uid == ref.header.sop_instance_uid and a.frame == ref.frame:
                    self._paint_one(p, vp, measure(a, context), letter, colour, placed)

    def _paint_one(self, p: QPainter, vp: ImageViewport, a: Any, letter: str,
                   colour: QColor, placed: list[QRectF]) -> None:
        screen = [vp.image_to_widget(pt) for pt in a.points]
        if not screen:
            return
        path = QPainterPath()
        if a.kind == "ellipse" and len(a.points) == 2:
            (r0, c0), (r1, c1) = a.points
            rc, cc, rr, cr = (r0 + r1) / 2, (c0 + c1) / 2, abs(r1 - r0) / 2, abs(c1 - c0) / 2
            ring = [vp.image_to_widget((rc + rr * math.sin(t), cc + cr * math.cos(t)))
                    for t in (2 * math.pi * i / 64 for i in range(64))]
            path.moveTo(ring[0])
            for q in ring[1:]:
                path.lineTo(q)
            path.closeSubpath()
        elif a.kind in ("point", "region"):
            s = screen[0]
            path.moveTo(s + QPointF(-6, 0))
            path.lineTo(s + QPointF(6, 0))
            path.moveTo(s + QPointF(0, -6))
            path.lineTo(s + QPointF(0, 6))
        else:
            path.moveTo(screen[0])
            for s in screen[1:]:
                path.lineTo(s)
            if a.kind in ("polygon", "freehand") and len(screen) > 2:
                path.closeSubpath()
        shadow = QPen(QColor(0, 0, 0, 160), 3.6)
        shadow.setCosmetic(True)
        pen = QPen(colour, 2.0)
        pen.setCosmetic(True)
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.setPen(shadow)
        p.drawPath(path)
        p.setPen(pen)
        p.drawPath(path)
        title = self.tr("Reader {letter}").format(letter=letter)
        lines = [f"{title}: {a.label}" if a.label else title, *a.text.splitlines()]
        fm = p.fontMetrics()
        width = max(fm.horizontalAdvance(line) for line in lines)
        anchor = max(screen, key=lambda q: (q.x(), -q.y())) + QPointF(8, -4)
        if anchor.x() + width > vp.width():  # keep the text on the pane
            anchor.setX(max(min(q.x() for q in screen) - width - 8, 2.0))
        # shapes at the same place (two findings marked on one spot, both readers on the same
        # collection) would print their texts over each other: a block that meets one drawn
        # before goes below it
        block = QRectF(anchor.x() - 2, anchor.y() - fm.ascent(), width + 6,
                       fm.height() * len(lines))
        moved = True
        while moved:
            moved = False
            for other in placed:
                if block.intersects(other):
                    block.moveTop(other.bottom() + 2)
                    moved = True
        placed.append(block)
        y = block.top() + fm.ascent()
        for line in lines:
            rect = QRectF(anchor.x(), y - fm.ascent(), fm.horizontalAdvance(line) + 2,
                          fm.height())
            p.fillRect(rect.adjusted(-2, 0, 2, 0), QColor(0, 0, 0, 150))
            p.setPen(colour)
            p.drawText(QPointF(anchor.x(), y), line)
            y += fm.height()


# -- one decision ----------------------------------------------------------------------------
class DecisionEditor(QGroupBox):
    """One item to decide: the rule and reason, accept a reader's value or an own value
    (an editor for the field's type) with a rationale."""

    OWN = "own"

    def __init__(self, protocol: Protocol, item: DecisionItem, letters: Sequence[str],
                 values: dict[str, Any], locale: str | None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(f"decision:{item.key}")
        self.key = item.key
        field = field_for(protocol, item.key)
        assert field is not None, item.key  # the service names only the protocol's fields
        self.field = field
        layout = QVBoxLayout(self)
        # the field's name as a wrapping heading (a group box title never wraps, and
        # "Extravasation / compartment involvement: Compartment" is wider than the panel)
        try:
            name = protocol.label_for(item.key, locale)
        except KeyError:
            name = item.label
        self.heading = QLabel(name)
        self.heading.setObjectName("DecisionField")
        self.heading.setWordWrap(True)
        font = self.heading.font()
        font.setBold(True)
        self.heading.setFont(font)
        layout.addWidget(self.heading)
        why = QLabel(self.tr("Rule: {rule} — {reason}").format(
            rule=rule_text(protocol, item), reason=reason_text(protocol, item, locale)))
        why.setObjectName("DecisionReason")
        why.setWordWrap(True)
        why.setStyleSheet("color: #f0b27a;")
        layout.addWidget(why)
        self.setStyleSheet(_RADIO_STYLE)
        self.group = QButtonGroup(self)
        self.choices: dict[str, QRadioButton] = {}
        row = QVBoxLayout()
        row.setSpacing(2)
        if not item.committee_only:
            for letter in letters:
                button = QRadioButton(self.tr("Accept {letter}: {value}").format(
                    letter=letter, value=value_text(protocol, item.key, values[letter].get(
                        item.key), locale)))
                button.setObjectName(f"accept:{letter}")
                button.setStyleSheet(
                    f"color: {READER_COLOURS.get(letter, QColor('#fff')).name()};")
                self.group.addButton(button)
                self.choices[letter] = button
                row.addWidget(button)
        own = QRadioButton(self.tr("Own value"))
        own.setObjectName("accept:own")
        self.group.addButton(own)
        self.choices[self.OWN] = own
        row.addWidget(own)
        layout.addLayout(row)
        # the own value under its button, shown once "Own value" is chosen (eight disabled
        # editors made the list of decisions hard to scan); the rationale under it
        self.editor = self._make_editor(locale)
        self.editor.setObjectName("own_value")
        self.rationale = QLineEdit()
        self.rationale.setObjectName("rationale")
        self.rationale.setPlaceholderText(self.tr("Rationale (required for an own value)"))
        self.own_box = QWidget()
        own_layout = QVBoxLayout(self.own_box)
        own_layout.setContentsMargins(18, 0, 0, 0)
        own_layout.addWidget(self.editor)
        layout.addWidget(self.own_box)
        layout.addWidget(self.rationale)
        self.group.buttonToggled.connect(self._sync)
        self._sync()

    def _make_editor(self, locale: str | None) -> QWidget:
        f = self.field
        if f.type is FieldType.multi_choice:
            box = QListWidget()
            for c in f.choices:
                entry = QListWidgetItem(c.label_in(locale))
                entry.setData(Qt.ItemDataRole.UserRole, c.value)
                entry.setFlags(entry.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                entry.setCheckState(Qt.CheckState.Unchecked)
                box.addItem(entry)
            box.setFixedHeight(min(22 * max(len(f.choices), 1) + 6, 96))
            return box
        if f.type in (FieldType.number, FieldType.integer):
            spin = QDoubleSpinBox()
            low, high = f.range or (-1e9, 1e9)
            spin.setRange(low, high)
            spin.setDecimals(0 if f.type is FieldType.integer else 2)
            if f.unit:
                spin.setSuffix(f" {unit_text(f.unit)}")
            return spin
        if f.type is FieldType.text:
            return QLineEdit()
        combo = QComboBox()
        combo.addItem("—", None)
        if f.type is FieldType.boolean:
            combo.addItem(self.tr("yes"), True)
            combo.addItem(self.tr("no"), False)
        for c in f.choices:
            combo.addItem(c.label_in(locale), c.value)
        return combo

    def _sync(self, *_args: Any) -> None:
        own = self.choices[self.OWN].isChecked()
        self.editor.setEnabled(own)
        self.own_box.setVisible(own)

    def choose(self, choice: str) -> None:
        """Pick a reader's letter or "own" (as clicking its button)."""
        self.choices[choice].setChecked(True)

    def choice(self) -> str | None:
        """The letter accepted, "own", or None while undecided."""
        return next((k for k, b in self.choices.items() if b.isChecked()), None)

    def own_value(self) -> Any:
        """The value in the own-value editor."""
        e = self.editor
        if isinstance(e, QListWidget):
            return [e.item(i).data(Qt.ItemDataRole.UserRole) for i in range(e.count())
                    if e.item(i).checkState() == Qt.CheckState.Checked]
        if isinstance(e, QDoubleSpinBox):
            return int(e.value()) if self.field.type is FieldType.integer else float(e.value())
        if isinstance(e, QLineEdit):
            return e.text().strip() or None
        assert isinstance(e, QComboBox)
        return e.currentData()

    def decision(self) -> Decision | None:
        """The decision as the service takes it (None while undecided)."""
        choice = self.choice()
        if choice is None:
            return None
        if choice == self.OWN:
            return Decision(self.key, "own", self.own_value(), self.rationale.text().strip())
        return Decision(self.key, choice, None, self.rationale.text().strip())


# -- the adjudication view -------------------------------------------------------------------
class AdjudicationPanel(QWidget):
    """The forms side by side (discordant fields highlighted) and one decision per item."""

    sign_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("AdjudicationPanel")
        self.view: AdjudicationView | None = None
        self.title = QLabel(self.tr("No case open"))
        self.title.setObjectName("AdjudicationTitle")
        font = self.title.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self.title.setFont(font)
        self.layer_row = QHBoxLayout()
        self.layer_boxes: dict[str, QCheckBox] = {}
        self.forms = QTableWidget()
        self.forms.setObjectName("ReadsSideBySide")
        self.forms.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.forms.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.forms.verticalHeader().hide()
        self.forms.setWordWrap(True)
        fit_rows_on_resize(self.forms)
        self.decisions_box = QWidget()
        self.decisions_layout = QVBoxLayout(self.decisions_box)
        self.decisions_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.decisions_box)
        self.editors: list[DecisionEditor] = []
        self.sign_button = QPushButton(self.tr("Sign adjudication…"))
        self.sign_button.setObjectName("SignAdjudication")
        self.sign_button.setEnabled(False)
        self.sign_button.clicked.connect(self.sign_requested)
        self.state_label = QLabel()
        self.state_label.setObjectName("AdjudicationState")
        self.state_label.setWordWrap(True)
        forms_box = QGroupBox(self.tr("Reads side by side"))
        QVBoxLayout(forms_box).addWidget(self.forms)
        decide_box = QGroupBox(self.tr("Decisions"))
        QVBoxLayout(decide_box).addWidget(scroll)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(forms_box)
        split.addWidget(decide_box)
        split.setSizes([380, 480])
        bottom = QHBoxLayout()
        bottom.addWidget(self.state_label, 1)
        bottom.addWidget(self.sign_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addLayout(self.layer_row)
        layout.addWidget(split, 1)
        layout.addLayout(bottom)

    def clear(self) -> None:
        """Show no case."""
        self.view = None
        self.title.setText(self.tr("No case open"))
        self.forms.clear()
        self.forms.clearSpans()
        self.forms.setRowCount(0)
        self.forms.setColumnCount(0)
        self._set_editors([])
        for box in self.layer_boxes.values():
            box.deleteLater()
        self.layer_boxes = {}
        self.sign_button.setEnabled(False)
        self.state_label.clear()

    def _set_editors(self, editors: list[DecisionEditor]) -> None:
        for e in self.editors:
            e.deleteLater()
        self.editors = editors
        for i, e in enumerate(editors):
            self.decisions_layout.insertWidget(i, e)

    def load(self, view: AdjudicationView, layers: ReaderLayers) -> None:
        """Show an adjudication: the forms by letter, its items, the layer checkboxes."""
        self.clear()
        self.view = view
        locale = ui_locale()
        protocol = view.protocol
        day = "—" if view.days_from_insertion is None else f"{view.days_from_insertion:+d}"
        self.title.setText(self.tr("Case {case} · {timepoint} · day {day}").format(
            case=view.case_label, timepoint=protocol.timepoint_label(view.timepoint, locale)
            if locale else view.timepoint, day=day))
        letters = [r.letter for r in view.reads]
        values = {r.letter: r.values for r in view.reads}
        for letter in letters:
            box = QCheckBox(self.tr("Reader {letter}'s annotations ({n})").format(
                letter=letter, n=len(next(r for r in view.reads
                                          if r.letter == letter).annotations)))
            box.setObjectName(f"layer:{letter}")
            box.setChecked(True)
            box.setStyleSheet(f"color: {READER_COLOURS.get(letter, QColor('#fff')).name()};")
            box.toggled.connect(lambda on, x=letter: layers.set_visible(x, on))
            self.layer_row.addWidget(box)
            self.layer_boxes[letter] = box
        items = {i.key for i in view.items}
        keys = [k for k in protocol.keys() if k in items or any(k in v for v in values.values())]
        keys += [i.key for i in view.items if i.key not in keys]
        self.forms.setColumnCount(1 + len(letters))
        self.forms.setHorizontalHeaderLabels(
            [self.tr("Field")] + [self.tr("Reader {letter}").format(letter=x) for x in letters])
        self.forms.setRowCount(0)
        reasons = {i.key: i for i in view.items}
        finding_shown: str | None = None
        for key in keys:
            # the fields under a heading row per finding: "Compartment" under "Extravasation /
            # compartment involvement" instead of both in one narrow cell
            try:
                finding, f = protocol.locate(key)
                label = f.label_in(locale)
            except KeyError:
                finding = None
                try:
                    label = protocol.label_for(key, locale)
                except KeyError:
                    label = key
            if finding is not None and finding.id != finding_shown:
                finding_shown = finding.id
                row = self.forms.rowCount()
                self.forms.insertRow(row)
                heading = QTableWidgetItem(finding.label_in(locale))
                heading_font = heading.font()
                heading_font.setBold(True)
                heading.setFont(heading_font)
                heading.setForeground(QBrush(QColor("#9fb8d8")))
                self.forms.setItem(row, 0, heading)
                self.forms.setSpan(row, 0, 1, 1 + len(letters))
            elif finding is None:
                finding_shown = None
            row = self.forms.rowCount()
            self.forms.insertRow(row)
            cells = [QTableWidgetItem(label)] + [
                QTableWidgetItem(value_text(protocol, key, values[x].get(key), locale))
                for x in letters]
            for column, cell in enumerate(cells):
                cell.setToolTip(cell.text())
                if key in reasons:
                    cell.setBackground(QBrush(_DISCORDANT))
                    cell.setToolTip(self.tr("Discordant — {rule}: {reason}").format(
                        rule=rule_text(protocol, reasons[key]),
                        reason=reason_text(protocol, reasons[key], locale)))
                    if column == 0:
                        f = cell.font()
                        f.setBold(True)
                        cell.setFont(f)
                self.forms.setItem(row, column, cell)
        header = self.forms.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.forms.setWordWrap(True)
        self.forms.resizeRowsToContents()
        self._set_editors([DecisionEditor(protocol, item, letters, values, locale)
                           for item in view.items])
        pending = view.status == "pending"
        for e in self.editors:
            e.setEnabled(pending)
        self.sign_button.setEnabled(pending)
        self.state_label.setText(self.tr("{n} item(s) to decide").format(n=len(view.items))
                                 if pending else self.tr("This adjudication is {status}.")
                                 .format(status=view.status))
        if not pending and view.signature is not None:
            self.state_label.setText(self.state_label.text() + " "
                                     + signature_manifest(view.signature))

    def decisions(self) -> list[Decision]:
        """The decisions made so far (undecided items are left out; the service names them)."""
        return [d for e in self.editors if (d := e.decision()) is not None]

    def editor(self, key: str) -> DecisionEditor:
        """The decision editor of an item."""
        return next(e for e in self.editors if e.key == key)


# -- the window ------------------------------------------------------------------------------
class AdjudicatorWindow(QMainWindow):
    """Queue → open case → viewer with the readers' annotations + forms and decisions → sign."""

    def __init__(self, trial: Trial, session: Session, parent: QWidget | None = None, *,
                 idle_seconds: float | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("AdjudicatorWindow")
        self.controller = SessionController(trial, session, idle_seconds=idle_seconds,
                                            parent=self)
        self.logout_requested = False
        self.current: AdjudicationView | None = None
        self.setWindowTitle(self.tr("ioreview — adjudication ({user})").format(
            user=self.controller.user_label))

        #: the active protocol's names for timepoints and fields in the UI language
        self._names = _ProtocolNames()
        self.queue_model = _QueueModel([
            Column(self.tr("Case"), lambda q: q.case_label),
            Column(self.tr("Timepoint"), lambda q: self._names.timepoint(q.timepoint)),
            Column(self.tr("Day"), lambda q: "—" if q.days_from_insertion is None
                   else f"{q.days_from_insertion:+d}", True),
            Column(self.tr("Waiting since"), lambda q: readable_time(q.waiting_since)),
            Column(self.tr("Discordant fields"),
                   lambda q: ", ".join(self._names.field(key) for key in q.items)),
        ], self)
        self.queue_model.tooltip = lambda q: "\n".join(self._names.field(x) for x in q.items)
        self.queue_view = QTableView()
        self.queue_view.setObjectName("AdjudicationQueue")
        self.queue_view.setModel(self.queue_model)
        self.queue_view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.queue_view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.queue_view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.queue_view.setAlternatingRowColors(True)
        self.queue_view.setWordWrap(False)
        self.queue_view.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.queue_view.verticalHeader().hide()
        header = self.queue_view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        # the discordant fields take the rest of the row, elided (all of them in the tooltip)
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        self.queue_view.doubleClicked.connect(lambda index: self.open_row(index.row()))
        self.queue_view.activated.connect(lambda index: self.open_row(index.row()))
        title = QLabel(self.tr("My adjudication queue"))
        title.setObjectName("QueueTitle")
        font = title.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.15)
        title.setFont(font)
        self.queue_summary = QLabel()
        self.queue_summary.setObjectName("QueueSummary")
        self.open_button = QPushButton(self.tr("Open case"))
        self.open_button.clicked.connect(self._open_selected)
        queue_panel = QWidget()
        queue_panel.setObjectName("QueuePanel")
        ql = QVBoxLayout(queue_panel)
        ql.addWidget(title)
        ql.addWidget(self.queue_view, 1)
        ql.addWidget(self.queue_summary)
        ql.addWidget(self.open_button)
        self.queue_panel = queue_panel

        self.viewer = make_viewer(self)
        self.layers = ReaderLayers(self.viewer, self)
        self.panel = AdjudicationPanel()
        self.panel.sign_requested.connect(self.sign)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(queue_panel)
        self.splitter.addWidget(self.viewer.widget)
        self.splitter.addWidget(self.panel)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setCollapsible(1, False)
        #: the panes follow the window's width until the adjudicator drags the splitter
        self.pane_sizes = SplitterFit(self, self.splitter, self.default_pane_sizes)
        self.setCentralWidget(self.splitter)

        # the viewer's toolbar across the window (nothing folds into drop-downs at 1280 pixels)
        toolbar = self.viewer.toolbar()
        if toolbar is not None:
            self.addToolBar(Qt.ToolBarArea.TopToolBarArea, toolbar)
        self.queue_action = pane_action(self, self.tr("Queue"), "F6", self.tr(
            "Show or hide the adjudication queue"), "QueueAction")
        self.queue_action.toggled.connect(self._show_queue)
        #: the queue folds away for the images on opening a case at a narrow width
        self.queue_fold = PaneFold(self, self.queue_action, lambda: self.tr(
            "The queue is folded away to give the images room: F6 or its toolbar button "
            "shows it again."))
        self.decisions_action = pane_action(self, self.tr("Reads and decisions"), "F7", self.tr(
            "Show or hide the reads and the decisions"), "DecisionsAction")
        self.decisions_action.toggled.connect(self.panel.setVisible)
        self.viewer.add_toolbar_action("layout", self.queue_action, "worklist")
        self.viewer.add_toolbar_action("layout", self.decisions_action, "read_form")

        self.session_menu = add_session_menu(self, self.controller, refresh=self.refresh_queue,
                                             log_out=self.log_out)
        view_menu = self.menuBar().addMenu(self.tr("&View"))
        view_menu.addAction(self.queue_action)
        view_menu.addAction(self.decisions_action)
        self.help_menu = add_help_menu(self, "adjudicator", keymap=self.viewer.keymap(),
                                       key_bindings=self.viewer.key_bindings_action(),
                                       database=trial.store.location,
                                       protocol=self._protocol_name, extra=[self.viewer.widget])
        self.statusBar().showMessage(self.tr("Signed in as {user} (adjudicator)").format(
            user=self.controller.user_label))
        self.controller.attach(self)
        self.controller.logout_requested.connect(self.log_out)
        self.resize(1600, 1000)
        self.refresh_queue()

    # -- panes ----------------------------------------------------------------------------------
    def default_pane_sizes(self, width: int) -> list[int]:
        """Queue, viewer and decisions widths for a window ``width`` pixels wide: the queue as
        wide as its columns (a quarter of the width at most), the reads and decisions a share
        within bounds, the images the rest."""
        header = self.queue_view.horizontalHeader()
        columns = sum(max(self.queue_view.sizeHintForColumn(c), header.sectionSizeHint(c))
                      for c in range(self.queue_model.columnCount()))
        columns += 2 * self.queue_view.frameWidth() + 24
        queue = max(280, min(columns, round(width * 0.3))) if self.queue_action.isChecked() else 0
        panel = max(460, min(620, round(width * 0.34))) if self.decisions_action.isChecked() else 0
        return [queue, max(width - queue - panel, 300), panel]

    def _show_queue(self, shown: bool) -> None:
        self.queue_panel.setVisible(shown)
        self.pane_sizes.fit()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt API
        """Until the adjudicator drags the splitter, the panes follow the window's width."""
        super().resizeEvent(event)
        self.queue_fold.window_resized(self.current is not None)
        self.pane_sizes.fit()

    def _protocol_name(self) -> tuple[str, str]:
        protocol = self._names.protocol
        return ("", "") if protocol is None else (protocol.id, protocol.version)

    # -- queue ----------------------------------------------------------------------------------
    def refresh_queue(self) -> None:
        """Reload the own pending adjudications from the service."""
        try:
            items = self.controller.trial.adjudication_queue(self.controller.session)
        except IoreviewError as exc:
            self.queue_model.set_records([])
            self.open_button.setEnabled(False)
            self.queue_summary.setText(str(exc))
            self.controller.report(exc, self)
            return
        if self._names.protocol is None:
            try:
                self._names.set_protocol(
                    self.controller.trial.active_protocol(self.controller.session)[1],
                    ui_locale())
            except IoreviewError:
                pass
        self.queue_model.set_records(items)
        self.pane_sizes.fit()
        self.queue_summary.setText(self.tr("{n} case(s) waiting for your decision").format(
            n=len(items)))

    def queue(self) -> list[AdjudicationQueueItem]:
        """The queue as shown, oldest first."""
        return self.queue_model.records()

    def _open_selected(self) -> None:
        index = self.queue_view.currentIndex()
        row = index.row() if index.isValid() else 0
        if row < self.queue_model.rowCount():
            self.open_row(row)

    def open_row(self, row: int) -> None:
        """Open the adjudication of queue row ``row``."""
        self.open_adjudication(self.queue_model.record(row).adjudication_id)

    def open_adjudication(self, adjudication_id: int) -> None:
        """Show an own adjudication: images with the readers' annotations, forms, decisions."""
        if self.controller.locked:
            return
        try:
            view = self.controller.trial.open_adjudication(self.controller.session,
                                                           adjudication_id)
        except IoreviewError as exc:
            self.controller.report(exc, self)
            return
        self.current = view
        self.viewer.set_tool_thresholds(view.protocol.tools)
        self.viewer.set_case(view.series, (), view.annotations, ())
        self.viewer.set_read_only(view.status != "pending")
        self.layers.set_reads(view.reads)
        self.panel.load(view, self.layers)
        self.queue_fold.fold_for_images()
        for row, item in enumerate(self.queue()):
            if item.adjudication_id == adjudication_id:
                self.queue_view.selectRow(row)

    # -- signing --------------------------------------------------------------------------------
    def own_annotations(self) -> list[Annotation]:
        """The adjudicator's own measurements drawn in the viewer."""
        return self.viewer.annotations()

    def _submit(self, password: str, _reason: str) -> SignatureInfo:
        assert self.current is not None
        return self.controller.trial.submit_adjudication(
            self.controller.session, self.current.adjudication_id, self.panel.decisions(),
            password, annotations=self.own_annotations() or None)

    def make_sign_dialog(self) -> SignDialog:
        """The signature dialog for the open adjudication (not yet shown)."""
        return SignDialog(self._submit, signer=self.controller.user_label,
                          meaning=self.tr("I confirm this adjudication"),
                          title=self.tr("Sign adjudication"), on_error=self._claim_error,
                          parent=self)

    def _claim_error(self, exc: IoreviewError) -> bool:
        if isinstance(exc, SessionExpired):
            self.controller.report(exc, self)
            return True
        return False

    def sign(self) -> None:
        """Ask for the password and sign the decisions; the case then leaves the queue."""
        if self.current is None or self.controller.locked:
            return
        dialog = self.make_sign_dialog()
        if dialog.exec() != SignDialog.DialogCode.Accepted:
            return
        self.after_signing()

    def after_signing(self) -> None:
        """The signed case leaves the queue; the view is cleared."""
        label = self.current.case_label if self.current else ""
        self.current = None
        self.layers.set_reads(())
        self.viewer.clear()
        self.panel.clear()
        self.refresh_queue()
        self.statusBar().showMessage(self.tr("Adjudication of {case} signed.").format(
            case=label), 8000)

    # -- leaving --------------------------------------------------------------------------------
    def log_out(self) -> None:
        """End the session and close (the app shows the login again)."""
        self.logout_requested = True
        self.close()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt API
        """Stop idle detection, the viewer, and end the session when logging out."""
        self.controller.detach()
        self.viewer.shutdown()
        if self.logout_requested:
            try:
                self.controller.trial.logout(self.controller.session)
            except IoreviewError:
                pass
        super().closeEvent(event)


def adjudicator_window(trial: Trial, session: Session, *, idle_seconds: float | None = None
                       ) -> AdjudicatorWindow:
    """The adjudicator's main window for a logged-in adjudicator's session."""
    return AdjudicatorWindow(trial, session, idle_seconds=idle_seconds)
