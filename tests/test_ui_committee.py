"""The committee's window over a real trial: a session created through the dialog, the chair
records attendance, four members vote (a 2-2 tie), the chair casts the deciding vote and
finalises with signed minutes; readers reach none of it."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication, QCheckBox, QLabel

from adjudication.protocol import default_protocol_path
from ioreview import auth
from ioreview.errors import PermissionDenied
from ioreview.service import Annotation, Role, Trial
from ioreview.ui.app import apply_theme
from ioreview.ui.committee import (CastingVoteDialog, CommitteeWindow, FinaliseDialog,
                                   NewPanelSessionDialog, committee_window)
from ioreview.ui.sign_dialog import SignDialog
from ui_support import (ASSIGNMENT_SEED, FakeClock, click, complete_values, copy_database,
                        open_trial, shared_demo_files, when_modal)

PASSWORDS = {"coord": "coord-pass-1", "reader1": "reader1-pass", "reader2": "reader2-pass",
             "chair": "chair-pass-1", "member2": "member2-pass", "member3": "member3-pass",
             "member4": "member4-pass"}
COMMITTEE = ("chair", "member2", "member3", "member4")
SHOTS = os.environ.get("IOREVIEW_SHOTS")  # a folder: save screenshots there


def _protocol_text() -> str:
    text = default_protocol_path().read_text(encoding="utf-8")
    return text.replace('paradigm = "two_plus_one"', 'paradigm = "consensus_panel"')


def _build(db: Path, dicom_dir: Path) -> None:
    """Users, the committee protocol, the demo studies, and one case two readers read
    discordantly, now waiting for the committee."""
    trial = Trial.open(db)
    try:
        system = trial.system_session("ui-tests")
        trial.create_user(system, "coord", "Casey Coordinator", Role.COORDINATOR, PASSWORDS["coord"])
        for name in ("reader1", "reader2"):
            trial.create_user(system, name, name.title(), Role.READER, PASSWORDS[name])
        for name in COMMITTEE:
            trial.create_user(system, name, name.title(), Role.COMMITTEE, PASSWORDS[name])
        trial.install_protocol(system, "committee.toml", _protocol_text())
        protocol = trial.active_protocol(system)[1]
        trial.import_studies(system, [dicom_dir])
        trial.build_cases_from_studies(system)
        trial.generate_assignments(system, seed=ASSIGNMENT_SEED)
        sessions = {n: trial.login(n, PASSWORDS[n]) for n in ("reader1", "reader2")}
        lists = {n: trial.worklist(s) for n, s in sessions.items()}
        label = next(i.case_label for i in lists["reader1"]
                     if any(j.case_label == i.case_label for j in lists["reader2"])
                     and i.timepoint == "post-insertion")
        for name, changes in (("reader1", {"extravasation": True}),
                              ("reader2", {"extravasation": False})):
            item = next(i for i in lists[name] if i.case_label == label)
            case = trial.open_case(sessions[name], item.assignment_id)
            values = complete_values(protocol, item.timepoint, **changes)
            if name == "reader2":
                values["image_quality"] = "non_diagnostic"
            image = case.series[0].headers[0].sop_instance_uid
            shift = 0 if name == "reader1" else 25
            marks = [Annotation(None, "extravasation", "ellipse", image, 0,
                                ((30.0 + shift, 30.0), (50.0 + shift, 55.0)), {}, "soft tissue"),
                     Annotation(None, None, "arrow", image, 0,
                                ((70.0, 20.0 + shift), (60.0, 40.0 + shift)), {}, "")]
            trial.save_draft(sessions[name], case.read_id, values, marks)
            trial.submit_read(sessions[name], case.read_id, PASSWORDS[name])
    finally:
        trial.close()


@pytest.fixture(autouse=True)
def fast_kdf(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auth, "DEFAULT_PARAMS", auth.ScryptParams(n=2 ** 4, r=1, p=1))


_TEMPLATE: dict[str, Path] = {}


@pytest.fixture
def trial(tmp_path: Path, tmp_path_factory: Any, fast_kdf: None):
    if "db" not in _TEMPLATE:
        demo = shared_demo_files(tmp_path_factory)
        db = tmp_path_factory.mktemp("committee-db") / "template.sqlite"
        _build(db, demo.dicom_dir)
        _TEMPLATE["db"] = db
    t = open_trial(copy_database(_TEMPLATE["db"], tmp_path / "committee.sqlite"), FakeClock())
    yield t
    t.close()


def _window(qtbot: Any, trial: Trial, name: str) -> CommitteeWindow:
    w = committee_window(trial, trial.login(name, PASSWORDS[name]))
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    return w


def _sign(qtbot: Any, password: str, dialog_type: type = SignDialog,
          before: Any = None) -> list[Any]:
    def act(dialog: Any) -> None:
        if before is not None:
            before(dialog)
        qtbot.keyClicks(dialog.password_edit, password)
        click(qtbot, dialog.sign_button)

    return when_modal(dialog_type, act)


def _vote(qtbot: Any, w: CommitteeWindow, letter: str) -> None:
    """Vote ``letter`` on every reader item and fixed own values on the committee-only ones."""
    own = {"committee.fat_embolism_syndrome": "no", "committee.gurd_minor": ["fever"],
           "committee.gurd_major": []}
    for key, editor in w.vote_editors.items():
        if key in own:
            editor.choose("own", own[key])
        else:
            editor.choose(letter)
    seen = _sign(qtbot, PASSWORDS[w.session.username])
    click(qtbot, w.sign_button)
    assert seen, "the signature dialog did not open"
    assert w.ballot_label.text() == "Your ballot for this case is signed."


def _column(w: CommitteeWindow, title: str) -> list[str]:
    table = w.items_table
    col = next(c for c in range(table.columnCount())
               if table.horizontalHeaderItem(c).text() == title)
    return [table.item(r, col).text() if table.item(r, col) else "" for r in
            range(table.rowCount())]


def test_committee_session_from_creation_to_signed_minutes(qtbot, trial):
    # the coordinator creates the session through the dialog
    coord = _window(qtbot, trial, "coord")
    assert coord.new_button.isVisible()

    def fill(dialog: NewPanelSessionDialog) -> None:
        qtbot.keyClicks(dialog.title_edit, "Committee 1")
        for row in range(dialog.member_list.count()):
            item = dialog.member_list.item(row)
            if any(f"({n})" in item.text() for n in COMMITTEE):
                item.setCheckState(Qt.CheckState.Checked)
        dialog.chair_combo.setCurrentIndex(
            next(i for i in range(dialog.chair_combo.count())
                 if "(chair)" in dialog.chair_combo.itemText(i)))
        assert dialog.case_list.count() == 1
        click(qtbot, dialog.create_button)

    created = when_modal(NewPanelSessionDialog, fill)
    click(qtbot, coord.new_button)
    assert created and created[0].result_value is not None, created[0].message.text()
    assert coord.sessions_model.rowCount() == 1
    assert coord.sessions_model.index(0, 0).data() == "Committee 1"
    assert coord.sessions_model.index(0, 2).data() == "open"
    coord.close()

    # a committee member may create the sessions they chair (members and waiting cases are
    # offered by label only); the one waiting case is now in the coordinator's session
    chair = _window(qtbot, trial, "chair")
    assert chair.new_button.isVisible()
    assert trial.committee_candidates(chair.session).cases == ()
    assert chair.sessions_model.index(0, 1).data() == "Chair"  # the printed name
    chair.open_row(0)
    assert "Quorum: 0 of 4 present" in chair.quorum_label.text()
    assert not chair.finalise_button.isEnabled()
    assert "Quorum" in chair.finalise_button.toolTip()
    assert chair.ballot_label.text().startswith("The chair has not recorded you")
    fields = _column(chair, "Field")
    assert any("committee only" in f and "Gurd" in f for f in fields)
    assert "Reader A" in [chair.items_table.horizontalHeaderItem(c).text()
                          for c in range(chair.items_table.columnCount())]
    # annotations of each reader can be hidden
    assert chair.shown_annotations() == {"A": 2, "B": 2}
    chair.reader_toggles["A"].setChecked(False)
    assert chair.shown_annotations() == {"A": 0, "B": 2}
    chair.reader_toggles["A"].setChecked(True)
    assert chair.shown_annotations() == {"A": 2, "B": 2}

    # why each item is before the committee: the rule and the readers' values, on the field
    tips = [chair.items_table.item(r, 0).toolTip() for r in range(chair.items_table.rowCount())]
    assert any(t.startswith("Rule: ") and "A: " in t for t in tips), tips
    # attendance by the members' printed names (user names in the tooltips)
    assert sorted(b.text() for b in chair.attendance_boxes.values()) == [
        "Chair (chair)", "Member2", "Member3", "Member4"]
    assert sorted(b.toolTip() for b in chair.attendance_boxes.values()) == sorted(COMMITTEE)
    # attendance: the chair ticks everyone
    for box in chair.attendance_boxes.values():
        assert box.isEnabled()
        if not box.isChecked():  # a click on the box itself
            qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=QPoint(8, box.height() // 2))
    assert all(b.isChecked() for b in chair.attendance_boxes.values())
    click(qtbot, chair.attendance_button)
    assert not chair.message.isVisible(), chair.message.text()
    assert "Quorum: 4 of 4 present" in chair.quorum_label.text()
    _vote(qtbot, chair, "A")

    member2 = _window(qtbot, trial, "member2")
    member2.open_row(0)
    assert all(not b.isEnabled() for b in member2.attendance_boxes.values())
    assert not member2.finalise_button.isVisible()
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        apply_theme(QApplication.instance())
        member2.vote_editors["committee.gurd_minor"].choose("own", ["fever"])
        QApplication.processEvents()
        member2.grab().save(str(Path(SHOTS) / "committee_ballot.png"))
    _vote(qtbot, member2, "B")
    tallies = _column(member2, "Tally")
    assert all(t.replace("\n", " ") == "2 of 4 voted (hidden)" for t in tallies)
    tally = next(c for c in range(member2.items_table.columnCount())
                 if member2.items_table.horizontalHeaderItem(c).text() == "Tally")
    assert "hidden until everyone present has voted" in member2.items_table.item(
        0, tally).toolTip()
    member2.close()
    for name, letter in (("member3", "A"), ("member4", "B")):
        w = _window(qtbot, trial, name)
        w.open_row(0)
        _vote(qtbot, w, letter)
        w.close()

    # the 2-2 ties: the chair casts the deciding votes
    chair.refresh()
    tallies = _column(chair, "Tally")
    assert any(t.startswith("Tie:") for t in tallies)
    assert chair.casting_buttons
    assert not chair.finalise_button.isEnabled()
    assert "Not every item" in chair.finalise_button.toolTip()
    if SHOTS:
        chair.resize(1600, 1000)
        QApplication.processEvents()
        chair.grab().save(str(Path(SHOTS) / "committee_session_tie.png"))
    for key in list(chair.casting_buttons):
        seen = _sign(qtbot, PASSWORDS["chair"], CastingVoteDialog)
        click(qtbot, chair.casting_buttons[key])
        assert seen
    tallies = _column(chair, "Tally")
    assert not any(t.startswith("Tie:") for t in tallies)
    assert any("chair's casting vote" in t for t in tallies)
    assert chair.finalise_button.isEnabled()

    # finalise: a wrong password first keeps the minutes and explains
    minutes = "Met on day 30; all four present."

    def finalise(dialog: FinaliseDialog) -> None:
        assert "I confirm this committee decision and its minutes" in dialog.meaning_label.text()
        qtbot.keyClicks(dialog.minutes_edit, minutes)
        qtbot.keyClicks(dialog.password_edit, "not my password")
        click(qtbot, dialog.sign_button)
        assert dialog.isVisible()
        assert "NOT signed" in dialog.message_label.text()
        assert dialog.minutes() == minutes
        qtbot.keyClicks(dialog.password_edit, PASSWORDS["chair"])
        click(qtbot, dialog.sign_button)

    seen = when_modal(FinaliseDialog, finalise)
    click(qtbot, chair.finalise_button)
    assert seen and seen[0].result_value is not None
    assert chair.minutes_view.toPlainText() == minutes
    assert chair.minutes_view.isReadOnly() and chair.minutes_group.isVisible()
    assert chair.finalise_label.text().startswith("Closed")
    assert not chair.finalise_button.isVisible() and not chair.sign_button.isVisible()
    assert all(t.startswith("Decided:") for t in _column(chair, "Tally"))
    assert all(not b.isEnabled() for b in chair.attendance_boxes.values())
    assert "closed" in chair.session_title.text()
    if SHOTS:
        QApplication.processEvents()
        chair.grab().save(str(Path(SHOTS) / "committee_session_closed.png"))
        chair.show_sessions()
        QApplication.processEvents()
        chair.grab().save(str(Path(SHOTS) / "committee_sessions.png"))
    else:
        chair.show_sessions()
    assert chair.sessions_model.index(0, 2).data() == "closed"
    assert chair.sessions_model.index(0, 6).data()  # the closing time, readable
    chair.close()


def test_a_reader_cannot_reach_committee_sessions(qtbot, trial):
    reader = trial.login("reader1", PASSWORDS["reader1"])
    w = committee_window(trial, reader)
    qtbot.addWidget(w)
    assert w.sessions_model.rowCount() == 0
    assert not w.new_button.isVisibleTo(w)
    message = w.findChild(QLabel, "CommitteeMessage")
    assert "committee" in message.text() and "reader" in message.text()
    with pytest.raises(PermissionDenied):
        trial.panel_sessions(reader)
    w.close()
    assert not w.findChildren(QCheckBox, "annotations_A")
