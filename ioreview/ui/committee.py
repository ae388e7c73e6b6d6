"""The committee's window: the member's sessions, then one session side by side with its images.

A committee (consensus panel) member sees the sessions they sit on, opens one and, for each
case, the blinded images with every reader's annotations (readers are letters), a table of
the items to decide (Reader A | Reader B (| C) | your vote | tally, committee-only fields
included) and signs one ballot per case. The chair records attendance, breaks ties with a
signed casting vote and finalises the session with signed minutes. The service decides who
may do what, hides votes until everyone present has voted and computes every tally; this
window shows what it returns and forwards the member's intent.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QCloseEvent, QColor, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QStackedWidget,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from adjudication.panel import SessionStatus, TallyStatus
from adjudication.paradigms import Decision
from adjudication.protocol import FieldType
from ioreview.errors import IoreviewError, SessionExpired
from ioreview.service import Role
from ioreview.ui.pane_fold import PaneFold, SplitterFit, pane_action
from ioreview.ui.roles import role_name
from ioreview.ui.adjudication import (READER_COLOURS, ReaderLayers, field_for,
                                     fit_rows_on_resize, reason_text, rule_text, unit_text,
                                     widest_word)
from ioreview.ui.adjudication import value_text as _value_text
from ioreview.ui.agreement_dashboard import AgreementWindow, agreement_window
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
        CaseAdjudicationStatus,
        PanelCaseView,
        PanelItemView,
        PanelMember,
        PanelSessionSummary,
        PanelSessionView,
        Session,
        Trial,
        UserInfo,
    )

__all__ = ["CommitteeWindow", "FinaliseDialog", "NewPanelSessionDialog", "PanelSessionsModel",
           "VoteEditor", "committee_window", "member_name"]

#: accounts that may sit on a committee (the service checks it again)
MEMBER_ROLES = (Role.COMMITTEE, Role.ADJUDICATOR)
_ERROR_STYLE = "color: #ff8a80;"


def value_text(protocol: Protocol, key: str, value: Any) -> str:
    """A form value as the protocol names it, in the UI's language."""
    return _value_text(protocol, key, value, ui_locale())


# -- the session list -------------------------------------------------------------------------
def member_name(member: PanelMember) -> str:
    """A committee member as the screens name them: the printed name (the user name where none
    is recorded)."""
    return member.display_name or member.username


class PanelSessionsModel(RecordTableModel):
    """The member's committee sessions: title, chair, status, cases, members, created, closed."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__((), parent)
        status = {SessionStatus.OPEN.value: self.tr("open"),
                  SessionStatus.CLOSED.value: self.tr("closed")}
        self.columns = [
            Column(self.tr("Title"), lambda s: s.title),
            Column(self.tr("Chair"), lambda s: next(
                (member_name(m) for m in s.members if m.is_chair), s.chair)),
            Column(self.tr("Status"), lambda s: status.get(s.status, s.status)),
            Column(self.tr("Cases"), lambda s: s.n_cases, align_right=True),
            Column(self.tr("Members"), lambda s: ", ".join(member_name(m) for m in s.members)),
            Column(self.tr("Created"), lambda s: readable_time(s.created_at)),
            Column(self.tr("Closed"), lambda s: readable_time(s.closed_at)),
        ]


# -- creating a session -----------------------------------------------------------------------
class NewPanelSessionDialog(QDialog):
    """A new committee session: title, chair, members (committee and adjudicator accounts)
    and the cases waiting for the committee. ``create(title, chair_id, member_ids, case_ids)``
    calls the service; its refusal is shown inline and the dialog stays open.

    ``chair_id`` fixes the chair (a committee member creates the sessions they chair)."""

    def __init__(self, users: Sequence[UserInfo], cases: Sequence[CaseAdjudicationStatus],
                 create: Callable[[str, int, list[int], list[int]], Any], *,
                 chair_id: int | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("NewPanelSessionDialog")
        self.setWindowTitle(self.tr("New committee session"))
        self.setMinimumWidth(480)
        self._create = create
        self.result_value: Any = None
        self.title_edit = QLineEdit()
        self.title_edit.setObjectName("panel_title")
        self.title_edit.setPlaceholderText(self.tr("e.g. Committee meeting of 12 March"))
        members = [u for u in users if u.active and u.role in MEMBER_ROLES]
        self.chair_combo = QComboBox()
        self.chair_combo.setObjectName("panel_chair")
        self.member_list = QListWidget()
        self.member_list.setObjectName("panel_members")
        for user in members:
            name = f"{user.display_name or user.username} ({user.username})"
            if chair_id is None or user.id == chair_id:
                self.chair_combo.addItem(name, user.id)
            item = QListWidgetItem(name)
            item.setData(Qt.ItemDataRole.UserRole, user.id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if user.id == chair_id
                               else Qt.CheckState.Unchecked)
            self.member_list.addItem(item)
        self.chair_combo.setEnabled(chair_id is None)
        self.case_list = QListWidget()
        self.case_list.setObjectName("panel_cases")
        for case in cases:
            parts = [case.case_label, case.subject, case.timepoint]
            item = QListWidgetItem(" · ".join(p for p in parts if p))
            item.setData(Qt.ItemDataRole.UserRole, case.case_id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked)
            self.case_list.addItem(item)
        if not cases:
            self.case_list.addItem(self.tr("No case is waiting for the committee."))
        self.message = QLabel()
        self.message.setObjectName("PanelSessionMessage")
        self.message.setStyleSheet(_ERROR_STYLE)
        self.message.setWordWrap(True)
        self.message.hide()
        form = QFormLayout()
        form.addRow(self.tr("Title"), self.title_edit)
        form.addRow(self.tr("Chair"), self.chair_combo)
        form.addRow(self.tr("Members"), self.member_list)
        form.addRow(self.tr("Cases waiting for the committee"), self.case_list)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.create_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.create_button.setText(self.tr("Create session"))
        buttons.accepted.connect(self.attempt_create)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(buttons)

    @staticmethod
    def _checked(widget: QListWidget) -> list[int]:
        out = []
        for row in range(widget.count()):
            item = widget.item(row)
            data = item.data(Qt.ItemDataRole.UserRole)
            if data is not None and item.checkState() == Qt.CheckState.Checked:
                out.append(int(data))
        return out

    def member_ids(self) -> list[int]:
        """The members ticked (the chair is always one)."""
        return self._checked(self.member_list)

    def case_ids(self) -> list[int]:
        """The cases ticked."""
        return self._checked(self.case_list)

    def attempt_create(self) -> None:
        """Create the session through the service; explain and stay open when it refuses."""
        chair = self.chair_combo.currentData()
        if chair is None:
            self.message.setText(self.tr("Choose a chair."))
            self.message.show()
            return
        try:
            self.result_value = self._create(self.title_edit.text(), int(chair),
                                             self.member_ids(), self.case_ids())
        except IoreviewError as exc:
            self.message.setText(str(exc))
            self.message.show()
            return
        self.accept()


# -- voting -----------------------------------------------------------------------------------
class _OwnValueEditor(QWidget):
    """An editor suited to a field's type; `value()` is the form value (None when empty)."""

    def __init__(self, field: Field | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.field = field
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        locale = ui_locale()
        kind = field.type if field is not None else FieldType.text
        self._get: Callable[[], Any]
        if field is not None and field.choices and kind is not FieldType.multi_choice:
            combo = QComboBox()
            combo.addItem(self.tr("— choose —"), None)
            for c in field.choices:
                combo.addItem(c.label_in(locale), c.value)
            self._get = combo.currentData
            self._set: Callable[[Any], None] = lambda v: combo.setCurrentIndex(
                max(0, combo.findData(v)))
            layout.addWidget(combo)
        elif field is not None and kind is FieldType.multi_choice:
            boxes = []
            for c in field.choices:
                box = QCheckBox(c.label_in(locale))
                box.setProperty("value", c.value)
                boxes.append(box)
            grid = QVBoxLayout()
            grid.setSpacing(0)
            for box in boxes:
                grid.addWidget(box)
            layout.addLayout(grid)
            self._get = lambda: [b.property("value") for b in boxes if b.isChecked()]

            def set_multi(v: Any) -> None:
                for b in boxes:
                    b.setChecked(b.property("value") in (v or ()))

            self._set = set_multi
        elif kind is FieldType.boolean:
            combo = QComboBox()
            combo.addItem(self.tr("— choose —"), None)
            combo.addItem(self.tr("yes"), True)
            combo.addItem(self.tr("no"), False)
            self._get = combo.currentData
            self._set = lambda v: combo.setCurrentIndex(max(0, combo.findData(v)))
            layout.addWidget(combo)
        elif kind in (FieldType.integer, FieldType.confidence, FieldType.number):
            spin: QSpinBox | QDoubleSpinBox
            spin = QDoubleSpinBox() if kind is FieldType.number else QSpinBox()
            low, high = field.range if field is not None and field.range else (0, 10_000)
            spin.setRange(low, high)  # type: ignore[arg-type]
            if field is not None and field.unit:
                spin.setSuffix(f" {unit_text(field.unit)}")
            self._get = spin.value
            self._set = lambda v: spin.setValue(v or 0)
            layout.addWidget(spin)
        else:
            edit = QLineEdit()
            self._get = lambda: edit.text().strip() or None
            self._set = lambda v: edit.setText("" if v is None else str(v))
            layout.addWidget(edit)

    def value(self) -> Any:
        return self._get()

    def set_value(self, value: Any) -> None:
        self._set(value)


class VoteEditor(QWidget):
    """One vote on one item: a reader's value by letter, or an own value (committee-only
    items take own values only)."""

    OWN = "own"

    def __init__(self, item: PanelItemView, field: Field | None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.key = item.key
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(2)
        self.choice = QComboBox()
        self.choice.setObjectName(f"vote_{item.key}")
        if not item.committee_only:
            self.choice.addItem(self.tr("— choose —"), None)
            for letter in sorted(item.reader_values):
                self.choice.addItem(self.tr("Reader {letter}").format(letter=letter), letter)
        self.choice.addItem(self.tr("Own value"), self.OWN)
        self.own = _OwnValueEditor(field)
        self.own.setObjectName(f"own_{item.key}")
        layout.addWidget(self.choice)
        layout.addWidget(self.own)
        self.choice.currentIndexChanged.connect(self._show_own)
        self._show_own()

    def _show_own(self) -> None:
        self.own.setVisible(self.choice.currentData() == self.OWN)

    def choose(self, letter_or_own: str, value: Any = None) -> None:
        """Pick ``"A"``/``"B"``/``"C"``, or ``"own"`` with ``value`` (as the member would)."""
        self.choice.setCurrentIndex(self.choice.findData(letter_or_own))
        if letter_or_own == self.OWN:
            self.own.set_value(value)

    def decision(self) -> Decision | None:
        """The vote as a `Decision`, or None while nothing is chosen."""
        choice = self.choice.currentData()
        if choice is None:
            return None
        if choice == self.OWN:
            return Decision(self.key, self.OWN, self.own.value())
        return Decision(self.key, str(choice))


class FinaliseDialog(SignDialog):
    """The chair's minutes and signature that close a committee session."""

    def __init__(self, sign: Callable[[str, str], object], *, signer: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(sign, signer=signer,
                         meaning=self.tr("I confirm this committee decision and its minutes"),
                         title=self.tr("Finalise committee session"), parent=parent)
        self.setObjectName("FinaliseDialog")
        self.minutes_edit = QPlainTextEdit()
        self.minutes_edit.setObjectName("minutes")
        self.minutes_edit.setPlaceholderText(self.tr(
            "Minutes: who attended, what was discussed, how each case was decided."))
        self.minutes_edit.setMinimumHeight(140)
        self.explain_label.setText(self.tr("Enter the minutes and your password. After signing, the "
                               "session is closed and its cases are decided."))
        layout = self.layout()
        assert isinstance(layout, QVBoxLayout)
        layout.insertWidget(3, QLabel(self.tr("Minutes")))
        layout.insertWidget(4, self.minutes_edit)
        self.minutes_edit.setFocus()

    def minutes(self) -> str:
        """The minutes typed so far."""
        return self.minutes_edit.toPlainText().strip()

    def attempt_sign(self) -> None:
        """Ask for the minutes before signing."""
        if not self.minutes():
            self.show_message(self.tr("Enter the minutes of the session."))
            return
        super().attempt_sign()


class CastingVoteDialog(SignDialog):
    """The chair picks one of the tied values and signs the casting vote."""

    def __init__(self, label: str, options: Sequence[tuple[str, Any]],
                 sign: Callable[[str, str], object], *, signer: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(sign, signer=signer,
                         meaning=self.tr("I confirm my casting vote as chair"),
                         title=self.tr("Casting vote"), parent=parent)
        self.setObjectName("CastingVoteDialog")
        self.explain_label.setText(self.tr("The votes on “{item}” are tied. Choose one of the tied values "
                               "and sign; the casting vote decides the item.").format(item=label))
        self.value_combo = QComboBox()
        self.value_combo.setObjectName("casting_value")
        for text, value in options:
            self.value_combo.addItem(text, value)
        layout = self.layout()
        assert isinstance(layout, QVBoxLayout)
        layout.insertWidget(3, self.value_combo)

    def value(self) -> Any:
        """The tied value chosen."""
        return self.value_combo.currentData()


# -- the window -------------------------------------------------------------------------------
class CommitteeWindow(QMainWindow):
    """The committee member's sessions; one session with its cases, images, items and votes."""

    ITEM_COLUMNS_AFTER_READERS = 2  # your vote, tally

    def __init__(self, trial: Trial, session: Session, parent: QWidget | None = None, *,
                 idle_seconds: float | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("CommitteeWindow")
        self.controller = SessionController(trial, session, idle_seconds=idle_seconds,
                                            parent=self)
        self.logout_requested = False
        self.view: PanelSessionView | None = None
        self.agreement: AgreementWindow | None = None
        self.case_index = 0
        self.vote_editors: dict[str, VoteEditor] = {}
        self.casting_buttons: dict[str, QPushButton] = {}
        self.attendance_boxes: dict[int, QCheckBox] = {}
        self.reader_toggles: dict[str, QCheckBox] = {}
        self.setWindowTitle(self.tr("ioreview — committee ({user})").format(
            user=self.controller.user_label))

        self.message = QLabel()
        self.message.setObjectName("CommitteeMessage")
        self.message.setStyleSheet(_ERROR_STYLE)
        self.message.setWordWrap(True)
        self.message.hide()

        self.pages = QStackedWidget()
        self.pages.addWidget(self._build_list_page())
        self.pages.addWidget(self._build_session_page())
        central = QWidget()
        outer = QVBoxLayout(central)
        outer.addWidget(self.message)
        outer.addWidget(self.pages, 1)
        self.setCentralWidget(central)

        self.session_menu = add_session_menu(self, self.controller, refresh=self.refresh,
                                             log_out=self.log_out)
        view_menu = self.menuBar().addMenu(self.tr("&View"))
        view_menu.addAction(self.side_action)
        self.help_menu = add_help_menu(self, "committee", keymap=self.viewer.keymap(),
                                       key_bindings=self.viewer.key_bindings_action(),
                                       database=trial.store.location,
                                       protocol=self._protocol_name, extra=[self.viewer.widget])
        self.statusBar().showMessage(self.tr("Signed in as {user} ({role})").format(
            user=self.controller.user_label, role=role_name(session.role)))
        self.controller.attach(self)
        self.controller.logout_requested.connect(self.log_out)
        self.controller.unlocked.connect(self.refresh)
        self.pages.currentChanged.connect(self._page_changed)
        self._page_changed(self.pages.currentIndex())
        self.resize(1600, 1000)
        self._can_create = self._creation_possible()
        self.new_button.setVisible(self._can_create)
        self.refresh_sessions()

    # -- building -------------------------------------------------------------------------
    def _build_list_page(self) -> QWidget:
        page = QWidget()
        title = QLabel(self.tr("My committee sessions"))
        font = title.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.15)
        title.setFont(font)
        self.sessions_model = PanelSessionsModel(self)
        self.sessions_view = QTableView()
        self.sessions_view.setObjectName("PanelSessionsView")
        self.sessions_view.setModel(self.sessions_model)
        self.sessions_view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.sessions_view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.sessions_view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.sessions_view.setAlternatingRowColors(True)
        self.sessions_view.verticalHeader().hide()
        header = self.sessions_view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        self.sessions_view.doubleClicked.connect(lambda index: self.open_row(index.row()))
        self.sessions_empty = QLabel()
        self.sessions_empty.setObjectName("SessionsEmpty")
        self.open_button = QPushButton(self.tr("Open session"))
        self.open_button.clicked.connect(self._open_selected)
        self.new_button = QPushButton(self.tr("New session…"))
        self.new_button.setObjectName("NewPanelSession")
        self.new_button.clicked.connect(self.new_session)
        self.agreement_button = QPushButton(self.tr("Agreement…"))
        self.agreement_button.setObjectName("OpenAgreement")
        self.agreement_button.setToolTip(self.tr("Inter- and intra-reader agreement and reader "
                                                 "monitoring (readers by pseudonym)"))
        self.agreement_button.clicked.connect(self.open_agreement)
        buttons = QHBoxLayout()
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.new_button)
        buttons.addStretch(1)
        buttons.addWidget(self.agreement_button)
        layout = QVBoxLayout(page)
        layout.addWidget(title)
        layout.addWidget(self.sessions_view, 1)
        layout.addWidget(self.sessions_empty)
        layout.addLayout(buttons)
        return page

    def _build_session_page(self) -> QWidget:
        page = QWidget()
        self.back_button = QPushButton(self.tr("← Sessions"))
        self.back_button.clicked.connect(self.show_sessions)
        self.session_title = QLabel()
        self.session_title.setObjectName("SessionTitle")
        font = self.session_title.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self.session_title.setFont(font)
        top = QHBoxLayout()
        top.addWidget(self.back_button)
        top.addWidget(self.session_title, 1)

        # left: attendance, cases, annotation toggles
        self.attendance_group = QGroupBox(self.tr("Attendance"))
        self.attendance_layout = QVBoxLayout(self.attendance_group)
        self.quorum_label = QLabel()
        self.quorum_label.setObjectName("QuorumLabel")
        self.quorum_label.setWordWrap(True)
        self.attendance_button = QPushButton(self.tr("Record attendance"))
        self.attendance_button.setObjectName("RecordAttendance")
        self.attendance_button.clicked.connect(self.record_attendance)
        self.case_list = QListWidget()
        self.case_list.setObjectName("PanelCases")
        self.case_list.currentRowChanged.connect(self._on_case_changed)
        # the readers' annotation toggles sit over the items (they stay at hand when the
        # attendance and cases fold away for the images)
        self.annotation_group = QWidget()
        self.annotation_group.setObjectName("ReadersAnnotations")
        self.annotation_layout = QHBoxLayout(self.annotation_group)
        self.annotation_layout.setContentsMargins(0, 0, 0, 0)
        left = QWidget()
        left.setObjectName("AttendanceAndCases")
        ll = QVBoxLayout(left)
        ll.setContentsMargins(0, 0, 0, 0)
        ll.addWidget(self.attendance_group)
        ll.addWidget(QLabel(self.tr("Cases")))
        ll.addWidget(self.case_list, 1)
        left.setMinimumWidth(180)

        # centre: the viewer
        self.viewer: ViewerAdapter = make_viewer(self)
        self.viewer.set_read_only(True)
        self.layers = ReaderLayers(self.viewer, self)
        # the viewer's toolbar across the window (shown with a session), so none of its tools
        # fold into drop-downs at 1280 pixels
        self.viewer_toolbar = self.viewer.toolbar()
        if self.viewer_toolbar is not None:
            self.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.viewer_toolbar)

        # right: items, ballot, finalise, minutes
        self.case_heading = QLabel()
        self.case_heading.setObjectName("CaseHeading")
        self.case_heading.setWordWrap(True)
        self.items_table = QTableWidget()
        self.items_table.setObjectName("PanelItems")
        self.items_table.verticalHeader().hide()
        self.items_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.items_table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.items_table.setWordWrap(True)
        fit_rows_on_resize(self.items_table)
        self.ballot_label = QLabel()
        self.ballot_label.setObjectName("BallotStatus")
        self.ballot_label.setWordWrap(True)
        self.sign_button = QPushButton(self.tr("Sign ballot"))
        self.sign_button.setObjectName("SignBallot")
        self.sign_button.clicked.connect(self.sign_ballot)
        self.finalise_button = QPushButton(self.tr("Finalise…"))
        self.finalise_button.setObjectName("FinaliseSession")
        self.finalise_button.clicked.connect(self.finalise)
        self.finalise_label = QLabel()
        self.finalise_label.setObjectName("FinaliseBlocker")
        self.finalise_label.setWordWrap(True)
        ballot_row = QHBoxLayout()
        ballot_row.addWidget(self.ballot_label, 1)
        ballot_row.addWidget(self.sign_button)
        finalise_row = QHBoxLayout()
        finalise_row.addWidget(self.finalise_label, 1)
        finalise_row.addWidget(self.finalise_button)
        self.minutes_group = QGroupBox(self.tr("Minutes"))
        self.minutes_view = QPlainTextEdit()
        self.minutes_view.setObjectName("MinutesView")
        self.minutes_view.setReadOnly(True)
        self.minutes_view.setMaximumHeight(140)
        self.signature_label = QLabel()
        self.signature_label.setWordWrap(True)
        mg = QVBoxLayout(self.minutes_group)
        mg.addWidget(self.minutes_view)
        mg.addWidget(self.signature_label)
        right = QWidget()
        rl = QVBoxLayout(right)
        rl.setContentsMargins(0, 0, 0, 0)
        rl.addWidget(self.case_heading)
        rl.addWidget(self.annotation_group)
        rl.addWidget(self.items_table, 1)
        rl.addLayout(ballot_row)
        rl.addLayout(finalise_row)
        rl.addWidget(self.minutes_group)
        right.setMinimumWidth(520)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(left)
        self.splitter.addWidget(self.viewer.widget)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setCollapsible(1, False)
        #: the panes follow the window's width until the member drags the splitter
        self.pane_sizes = SplitterFit(self, self.splitter, self.default_pane_sizes)
        self._left_pane = left
        #: attendance and cases fold away for the images on a narrow window (F6)
        self.side_action = pane_action(self, self.tr("Attendance and cases"), "F6", self.tr(
            "Show or hide the attendance and the cases"), "AttendanceAction")
        self.side_action.toggled.connect(self._show_side)
        self.viewer.add_toolbar_action("layout", self.side_action, "worklist")
        #: attendance and cases fold away for the images on opening a session when narrow
        self.side_fold = PaneFold(self, self.side_action, lambda: self.tr(
            "Attendance and cases are folded away to give the images room: F6 or its "
            "toolbar button shows them again."))
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.splitter, 1)
        return page

    # -- panes ------------------------------------------------------------------------------
    def _page_changed(self, index: int) -> None:
        if self.viewer_toolbar is not None:
            self.viewer_toolbar.setVisible(index == 1)

    def default_pane_sizes(self, width: int) -> list[int]:
        """Attendance and cases, images, and the items and ballot for a ``width`` wide
        window: the items get the larger share (their table has a column per reader, the vote
        and the tally), the images the rest."""
        left = max(190, min(280, round(width * 0.15))) if self.side_action.isChecked() else 0
        right = max(620, min(900, round(width * 0.5)))  # a column per reader, vote, tally
        return [left, max(width - left - right, 300), right]

    def _show_side(self, shown: bool) -> None:
        self._left_pane.setVisible(shown)
        self.pane_sizes.fit()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt API
        """Until the member drags the splitter, the panes follow the window's width."""
        super().resizeEvent(event)
        self.side_fold.window_resized(self.view is not None and self.pages.currentIndex() == 1)
        self.pane_sizes.fit()

    def _protocol_name(self) -> tuple[str, str]:
        if self.view is not None:
            return self.view.protocol.id, self.view.protocol.version
        try:
            protocol = self.trial.active_protocol(self.session)[1]
        except IoreviewError:
            return "", ""
        return protocol.id, protocol.version

    # -- errors -----------------------------------------------------------------------------
    def report(self, exc: IoreviewError) -> None:
        """Show a service refusal above the page (an expired session locks the window)."""
        if isinstance(exc, SessionExpired):
            self.controller.report(exc, self)
            return
        self.message.setText(str(exc))
        self.message.show()

    def clear_message(self) -> None:
        self.message.clear()
        self.message.hide()

    @property
    def trial(self) -> Trial:
        return self.controller.trial

    @property
    def session(self) -> Session:
        return self.controller.session

    # -- the session list -------------------------------------------------------------------
    def _creation_possible(self) -> bool:
        """A session can be created here when the service lets this user choose members and
        cases waiting for the committee (the coordinator, or a committee member as chair)."""
        try:
            self.trial.committee_candidates(self.session)
        except IoreviewError:
            return False
        return True

    def refresh(self) -> None:
        """Reload what the current page shows."""
        if self.controller.locked:
            return
        if self.view is not None and self.pages.currentIndex() == 1:
            self.open_session(self.view.session_id, keep_case=True)
        else:
            self.refresh_sessions()

    def refresh_sessions(self) -> None:
        """Reload the member's sessions."""
        try:
            sessions = self.trial.panel_sessions(self.session)
        except IoreviewError as exc:
            self.sessions_model.set_records([])
            self.sessions_empty.setText("")
            self.open_button.setEnabled(False)
            self.report(exc)
            return
        self.sessions_model.set_records(sessions)
        self.open_button.setEnabled(bool(sessions))
        self.sessions_empty.setText("" if sessions else self.tr(
            "You sit on no committee session yet."))

    def _open_selected(self) -> None:
        index = self.sessions_view.currentIndex()
        self.open_row(index.row() if index.isValid() else 0)

    def open_row(self, row: int) -> None:
        """Open the session of ``row`` of the list."""
        if 0 <= row < self.sessions_model.rowCount():
            summary: PanelSessionSummary = self.sessions_model.record(row)
            self.open_session(summary.session_id)

    def show_sessions(self) -> None:
        """Back to the list of sessions."""
        self.viewer.clear()
        self.view = None
        self.pages.setCurrentIndex(0)
        self.refresh_sessions()

    def open_agreement(self) -> None:
        """The agreement dashboard in its own window (the service shows readers by pseudonym
        to the committee)."""
        if self.agreement is not None and self.agreement.isVisible():
            self.agreement.raise_()
            self.agreement.activateWindow()
            return
        self.agreement = agreement_window(self.controller, self)
        self.agreement.destroyed.connect(self._agreement_closed)

    def _agreement_closed(self) -> None:
        self.agreement = None

    def new_session(self) -> None:
        """Create a committee session through `NewPanelSessionDialog`."""
        try:
            candidates = self.trial.committee_candidates(self.session)
        except IoreviewError as exc:
            self.report(exc)
            return
        chair = self.session.user_id if self.session.role is Role.COMMITTEE else None
        dialog = NewPanelSessionDialog(
            candidates.members, candidates.cases,
            lambda title, chair_id, members, case_ids: self.trial.create_panel_session(
                self.session, title, chair_id, members, case_ids),
            chair_id=chair, parent=self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.refresh_sessions()
            self.statusBar().showMessage(self.tr("Committee session created."), 5000)

    # -- one session ------------------------------------------------------------------------
    def open_session(self, session_id: int, *, keep_case: bool = False) -> None:
        """Show committee session ``session_id`` (as the service lets this member see it)."""
        try:
            view = self.trial.open_panel_session(self.session, session_id)
        except IoreviewError as exc:
            self.report(exc)
            return
        self.clear_message()
        reload_images = not keep_case or self.view is None or self.view.session_id != session_id
        self.view = view
        if not keep_case:
            self.case_index = 0
        self.pages.setCurrentIndex(1)
        self.side_fold.fold_for_images()
        self._show_header()
        self._show_attendance()
        self._show_cases(reload_images)
        self._show_finalise()

    @property
    def is_chair(self) -> bool:
        return self.view is not None and self.view.chair_id == self.session.user_id

    @property
    def is_open(self) -> bool:
        return self.view is not None and self.view.status == SessionStatus.OPEN.value

    def _show_header(self) -> None:
        view = self.view
        assert view is not None
        status = self.tr("open") if self.is_open else self.tr("closed {when}").format(
            when=readable_time(view.closed_at))
        rule = {"majority": self.tr("majority"), "unanimity": self.tr("unanimity")}.get(
            view.rule, view.rule)
        self.session_title.setText(self.tr(
            "{title} · chair {chair} · {status} · {rule} vote").format(
            title=view.title, chair=next((member_name(m) for m in view.members if m.is_chair),
                                         view.chair), status=status, rule=rule))

    def _show_attendance(self) -> None:
        view = self.view
        assert view is not None
        while self.attendance_layout.count():
            item = self.attendance_layout.takeAt(0)
            widget = item.widget()
            if widget is not None and widget not in (self.quorum_label, self.attendance_button):
                widget.hide()
                widget.setParent(None)
                widget.deleteLater()
        self.attendance_boxes.clear()
        editable = self.is_chair and self.is_open
        for member in view.members:
            text = member_name(member) + (self.tr(" (chair)") if member.is_chair else "")
            box = QCheckBox(text)
            box.setToolTip(member.username)
            box.setChecked(member.present)
            box.setEnabled(editable)
            self.attendance_boxes[member.user_id] = box
            self.attendance_layout.addWidget(box)
        present = sum(m.present for m in view.members)
        self.quorum_label.setText(self.tr("Quorum: {present} of {members} present "
                                          "({quorum} needed)").format(
            present=present, members=len(view.members), quorum=view.quorum))
        self.quorum_label.setStyleSheet("" if view.quorum_met else "color: #ffb74d;")
        self.attendance_layout.addWidget(self.quorum_label)
        self.attendance_layout.addWidget(self.attendance_button)
        self.attendance_button.setVisible(editable)

    def record_attendance(self) -> None:
        """The chair records who is present."""
        if self.view is None:
            return
        present = {uid: box.isChecked() for uid, box in self.attendance_boxes.items()}
        try:
            self.trial.record_attendance(self.session, self.view.session_id, present)
        except IoreviewError as exc:
            self.report(exc)
            return
        self.open_session(self.view.session_id, keep_case=True)
        self.statusBar().showMessage(self.tr("Attendance recorded."), 5000)

    def _case_status_text(self, case: PanelCaseView) -> str:
        return {"open": self.tr("open"), "decided": self.tr("decided"),
                "superseded": self.tr("left the session")}.get(case.status, case.status)

    def _show_cases(self, reload_images: bool) -> None:
        view = self.view
        assert view is not None
        self.case_list.blockSignals(True)
        self.case_list.clear()
        for case in view.cases:
            day = "—" if case.days_from_insertion is None else f"{case.days_from_insertion:+d}"
            self.case_list.addItem(self.tr("{case} · {timepoint} · day {day} · {status}").format(
                case=case.case_label, timepoint=view.protocol.timepoint_label(
                    case.timepoint, ui_locale()) if ui_locale() else case.timepoint,
                day=day, status=self._case_status_text(case)))
        self.case_index = min(self.case_index, max(0, len(view.cases) - 1))
        self.case_list.setCurrentRow(self.case_index)
        self.case_list.blockSignals(False)
        self._show_case(reload_images)

    def _on_case_changed(self, row: int) -> None:
        if row >= 0 and self.view is not None and row != self.case_index:
            self.case_index = row
            self._show_case(True)

    @property
    def case(self) -> PanelCaseView | None:
        if self.view is None or not self.view.cases:
            return None
        return self.view.cases[self.case_index]

    def _show_case(self, reload_images: bool) -> None:
        case = self.case
        view = self.view
        assert view is not None
        if case is None:
            self.case_heading.setText(self.tr("This session has no case."))
            self.items_table.setRowCount(0)
            return
        day = "—" if case.days_from_insertion is None else f"{case.days_from_insertion:+d}"
        locale = ui_locale()
        self.case_heading.setText(self.tr("Case {case} · {timepoint} · day {day}").format(
            case=case.case_label, timepoint=view.protocol.timepoint_label(case.timepoint, locale)
            if locale else case.timepoint, day=day))
        letters = sorted(r.letter for r in case.reads)
        if reload_images:
            self._show_toggles(letters)
            self.viewer.set_case(case.series, (), (), ())
            self.viewer.set_read_only(True)
            self.layers.set_reads(case.reads)
        self._show_items(case, letters)
        self._show_ballot(case)

    # -- images -----------------------------------------------------------------------------
    def _show_toggles(self, letters: Sequence[str]) -> None:
        while self.annotation_layout.count():
            widget = self.annotation_layout.takeAt(0).widget()
            if widget is not None:
                widget.hide()
                widget.setParent(None)
                widget.deleteLater()
        self.reader_toggles.clear()
        case = self.case
        for letter in letters:
            read = next(r for r in case.reads if r.letter == letter) if case else None
            n = len(read.annotations) if read is not None else 0
            box = QCheckBox(self.tr("Reader {letter}'s annotations ({n})").format(
                letter=letter, n=n))
            box.setToolTip(self.tr("Show or hide Reader {letter}'s {n} annotation(s)").format(
                letter=letter, n=n))
            box.setObjectName(f"annotations_{letter}")
            colour = READER_COLOURS.get(letter, QColor("#e0e0e0")).name()
            box.setStyleSheet(f"color: {colour};")
            box.setChecked(True)
            box.toggled.connect(lambda on, x=letter: self.layers.set_visible(x, on))
            self.reader_toggles[letter] = box
            self.annotation_layout.addWidget(box)

    def shown_annotations(self) -> dict[str, int]:
        """How many annotations of each reader are drawn now (hidden readers: 0)."""
        return {letter: len(shapes) for letter, shapes in self.layers.shown().items()}

    # -- items and votes --------------------------------------------------------------------
    def _show_items(self, case: PanelCaseView, letters: Sequence[str]) -> None:
        view = self.view
        assert view is not None
        protocol = view.protocol
        chair_casts = self.is_chair and self.is_open
        headers = [self.tr("Field")]
        headers += [self.tr("Reader {letter}").format(letter=x) for x in letters]
        headers += [self.tr("Your vote"), self.tr("Tally")]
        if chair_casts:
            headers.append("")
        table = self.items_table
        table.clear()
        table.setColumnCount(len(headers))
        table.setHorizontalHeaderLabels(headers)
        for i, letter in enumerate(letters, start=1):
            header = table.horizontalHeaderItem(i)
            if header is not None:
                header.setForeground(READER_COLOURS.get(letter, QColor("#e0e0e0")))
        table.setRowCount(len(case.items))
        self.vote_editors.clear()
        self.casting_buttons.clear()
        can_vote = self._can_vote(case)
        locale = ui_locale()
        widest_vote = 170
        for row, item in enumerate(case.items):
            try:
                label = protocol.label_for(item.key, locale)
            except KeyError:
                label = item.label
            field_cell = QTableWidgetItem(label)
            if item.why is not None and not item.committee_only:
                field_cell.setToolTip(self.tr("Rule: {rule} — {reason}").format(
                    rule=rule_text(protocol, item.why),
                    reason=reason_text(protocol, item.why, locale)))
            if item.committee_only:
                field_cell.setText(self.tr("{label}\n(committee only)").format(label=label))
                field_cell.setForeground(QColor("#ce93d8"))
                field_cell.setToolTip(self.tr("Only the committee answers this question; "
                                              "readers never see it."))
            table.setItem(row, 0, field_cell)
            for col, letter in enumerate(letters, start=1):
                text = ("—" if item.committee_only
                        else value_text(protocol, item.key, item.reader_values.get(letter)))
                cell = QTableWidgetItem(text)
                cell.setToolTip(text)
                table.setItem(row, col, cell)
            vote_col = len(letters) + 1
            if item.has_my_vote or not can_vote:
                text = (self._vote_text(protocol, item) if item.has_my_vote
                        else self.tr("not voted"))
                table.setItem(row, vote_col, QTableWidgetItem(text))
            else:
                editor = VoteEditor(item, field_for(protocol, item.key))
                self.vote_editors[item.key] = editor
                table.setCellWidget(row, vote_col, editor)
                # as wide as a criterion's checkbox; long choice lists elide in their combo
                for combo in editor.findChildren(QComboBox):
                    combo.setSizeAdjustPolicy(
                        QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
                    combo.setMinimumContentsLength(12)
                widest_vote = min(max(widest_vote, editor.own.sizeHint().width() + 8), 205)
            tally_cell = QTableWidgetItem(self.tally_text(item))
            tally_cell.setForeground(QColor(self._tally_colour(item)))
            if item.votes is None:
                tally_cell.setToolTip(self.tr(
                    "The votes stay hidden until everyone present has voted."))
            table.setItem(row, vote_col + 1, tally_cell)
            if chair_casts and item.status == TallyStatus.TIE.value and not item.casting:
                button = QPushButton(self.tr("Casting vote…"))
                button.setObjectName(f"casting_{item.key}")
                button.clicked.connect(lambda _=False, key=item.key: self.casting_vote(key))
                self.casting_buttons[item.key] = button
                table.setCellWidget(row, vote_col + 2, button)
        header = table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        table.setColumnWidth(0, 136)
        header.setMinimumSectionSize(64)
        for col in range(1, len(letters) + 1):  # "Intramedullary" whole, not "Intramedull…"
            table.setColumnWidth(col, max(90, min(widest_word(table, col), 150)))
        table.setColumnWidth(vote_col, widest_vote)
        if chair_casts:
            table.setColumnWidth(vote_col + 2, 120)
        header.setSectionResizeMode(vote_col + 1, QHeaderView.ResizeMode.Stretch)
        table.setWordWrap(True)
        table.resizeRowsToContents()

    def _vote_text(self, protocol: Protocol, item: PanelItemView) -> str:
        for letter, value in item.reader_values.items():
            if not item.committee_only and value == item.my_vote:
                return self.tr("{value} (Reader {letter})").format(
                    value=value_text(protocol, item.key, item.my_vote), letter=letter)
        return value_text(protocol, item.key, item.my_vote)

    def _counts_text(self, item: PanelItemView) -> str:
        assert self.view is not None
        parts = []
        for canonical, n in item.counts:
            try:
                value = json.loads(canonical)
            except ValueError:
                value = canonical
            parts.append(f"{value_text(self.view.protocol, item.key, value)} ×{n}")
        return "\n".join(parts)

    def tally_text(self, item: PanelItemView) -> str:
        """What the tally column says about ``item``."""
        assert self.view is not None
        status = TallyStatus(item.status)
        if item.votes is None:  # why it is hidden: the cell's tooltip
            return self.tr("{voted} of {present} voted\n(hidden)").format(
                voted=item.voted, present=item.present)
        counts = self._counts_text(item)
        if status is TallyStatus.DECIDED:
            text = self.tr("Decided: {value}").format(
                value=value_text(self.view.protocol, item.key, item.value))
            if item.casting:
                text += self.tr(" (chair's casting vote)")
            return f"{text}\n{counts}"
        if status is TallyStatus.TIE:
            return self.tr("Tie:\n{counts}").format(counts=counts)
        if status is TallyStatus.NO_CONSENSUS:
            return self.tr("No consensus:\n{counts}").format(counts=counts)
        return self.tr("{voted} of {present} voted:\n{counts}").format(
            voted=item.voted, present=item.present, counts=counts or "—")

    @staticmethod
    def _tally_colour(item: PanelItemView) -> str:
        return {TallyStatus.DECIDED.value: "#81c784", TallyStatus.TIE.value: "#ffb74d",
                TallyStatus.NO_CONSENSUS.value: "#ff8a80"}.get(item.status, "#b0bec5")

    def _can_vote(self, case: PanelCaseView) -> bool:
        view = self.view
        assert view is not None
        me = next((m for m in view.members if m.user_id == self.session.user_id), None)
        return (self.is_open and me is not None and me.present and case.status == "open"
                and not all(i.has_my_vote for i in case.items))

    def _show_ballot(self, case: PanelCaseView) -> None:
        view = self.view
        assert view is not None
        me = next((m for m in view.members if m.user_id == self.session.user_id), None)
        if not self.is_open:
            text = self.tr("The session is closed; these are its results.")
        elif me is None:
            text = self.tr("You are not a member of this session.")
        elif all(i.has_my_vote for i in case.items):
            text = self.tr("Your ballot for this case is signed.")
        elif not me.present:
            text = self.tr("The chair has not recorded you as present; you cannot vote yet.")
        else:
            text = self.tr("Vote on every item, then sign your ballot.")
        self.ballot_label.setText(text)
        self.sign_button.setVisible(self._can_vote(case))

    def sign_ballot(self) -> None:
        """Sign one ballot for the case on screen (every item voted)."""
        case = self.case
        if case is None or self.view is None:
            return
        decisions = [e.decision() for e in self.vote_editors.values()]
        if any(d is None for d in decisions):
            missing = [i.label for i in case.items
                       if self.vote_editors.get(i.key) and self.vote_editors[i.key].decision() is None]
            self.report(IoreviewError(self.tr("Vote on every item first: {items}.").format(
                items=", ".join(missing))))
            return
        session_id, case_id = self.view.session_id, case.case_id
        dialog = SignDialog(
            lambda password, _reason: self.trial.cast_votes(
                self.session, session_id, case_id, [d for d in decisions if d], password),
            signer=self.controller.user_label, meaning=self.tr("I confirm my committee votes"),
            title=self.tr("Sign ballot"), on_error=self._claim_error, parent=self)
        dialog.explain_label.setText(self.tr("Enter your password to sign your ballot for case {case}. "
                                 "A signed ballot cannot be changed.").format(
            case=case.case_label))
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.open_session(session_id, keep_case=True)
            self.statusBar().showMessage(self.tr("Ballot signed."), 5000)

    def _claim_error(self, exc: IoreviewError) -> bool:
        if isinstance(exc, SessionExpired):
            self.controller.report(exc, self)
            return True
        return False

    def casting_vote(self, key: str) -> None:
        """The chair breaks a tie on ``key`` with a signed casting vote."""
        case = self.case
        view = self.view
        if case is None or view is None:
            return
        item = next(i for i in case.items if i.key == key)
        top = item.counts[0][1] if item.counts else 0
        options = []
        for canonical, n in item.counts:
            if n == top:
                value = json.loads(canonical)
                options.append((value_text(view.protocol, key, value), value))
        holder: list[CastingVoteDialog] = []
        dialog = CastingVoteDialog(
            item.label, options,
            lambda password, _reason: self.trial.cast_deciding_vote(
                self.session, view.session_id, case.case_id, key, holder[0].value(), password),
            signer=self.controller.user_label, parent=self)
        holder.append(dialog)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.open_session(view.session_id, keep_case=True)
            self.statusBar().showMessage(self.tr("Casting vote signed."), 5000)

    # -- finalising -------------------------------------------------------------------------
    def _show_finalise(self) -> None:
        view = self.view
        assert view is not None
        closed = not self.is_open
        self.finalise_button.setVisible(self.is_chair and not closed)
        blocker = view.finalise_blocker
        self.finalise_button.setEnabled(blocker is None)
        self.finalise_button.setToolTip(blocker or self.tr(
            "Close the session with minutes and your signature."))
        if closed:
            self.finalise_label.setText(self.tr("Closed {when}.").format(
                when=readable_time(view.closed_at)))
        elif blocker:
            waiting = sum(1 for c in view.cases for i in c.items
                          if i.status != TallyStatus.DECIDED.value)
            self.finalise_label.setText(self.tr(
                "Not ready to finalise: {n} item(s) are not decided yet.").format(n=waiting)
                if waiting else self.tr("Not ready to finalise: {why}").format(why=blocker))
            self.finalise_label.setToolTip(blocker)
        else:
            self.finalise_label.setText(self.tr("Every item is decided; the chair can "
                                                "finalise the session."))
        self.finalise_label.setVisible(self.is_chair or closed)
        self.minutes_group.setVisible(closed)
        self.minutes_view.setPlainText(view.minutes or "")
        sig = view.signature
        self.signature_label.setText(signature_manifest(sig) if sig is not None else "")

    def finalise(self) -> None:
        """The chair closes the session with minutes and a signature."""
        view = self.view
        if view is None:
            return
        holder: list[FinaliseDialog] = []
        dialog = FinaliseDialog(
            lambda password, _reason: self.trial.finalise_panel_session(
                self.session, view.session_id, holder[0].minutes(), password),
            signer=self.controller.user_label, parent=self)
        holder.append(dialog)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.open_session(view.session_id, keep_case=True)
            self.statusBar().showMessage(self.tr("Committee session finalised."), 5000)

    # -- leaving ----------------------------------------------------------------------------
    def log_out(self) -> None:
        """End the session and close (the app shows the login again)."""
        self.logout_requested = True
        self.close()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt API
        """Stop idle detection and decoding; end the session when logging out."""
        self.controller.detach()
        self.viewer.shutdown()
        if self.logout_requested:
            try:
                self.trial.logout(self.session)
            except IoreviewError:
                pass
        super().closeEvent(event)


def committee_window(trial: Trial, session: Session) -> CommitteeWindow:
    """The committee member's window for ``session`` (the app shows it after login)."""
    return CommitteeWindow(trial, session)

