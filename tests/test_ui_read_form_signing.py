"""The read form as a reader meets it (issue 14): required markers that follow the answers,
choices never cut off, one line per missing answer, and a sign dialog that summarises the read
and warns about an annotation linked to no finding — before the password."""
from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from ioreview.service import Annotation, ReadStatus
from ioreview.ui.login import LoginDialog
from ioreview.ui.read_form import ChoiceComboBox, ReadFormPanel
from ioreview.ui.reading import ReadingWindow
from ioreview.ui.sign_dialog import SignDialog
from ui_support import (PASSWORDS, FakeClock, build_database, choose, click, copy_database,
                        open_trial, save_screenshot, shared_demo_files,
                        when_modal)



@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("read-form-db") / "template.sqlite"
    build_database(db, shared_demo_files(tmp_path_factory))
    return db


@pytest.fixture
def trial(template: Path, tmp_path: Path):
    t = open_trial(copy_database(template, tmp_path / "trial.sqlite"), FakeClock())
    yield t
    t.close()


def open_form(qtbot, trial) -> tuple[ReadingWindow, ReadFormPanel]:
    dialog = LoginDialog(trial)
    qtbot.addWidget(dialog)
    qtbot.keyClicks(dialog.username_edit, "reader1")
    qtbot.keyClicks(dialog.password_edit, PASSWORDS["reader1"])
    qtbot.mouseClick(dialog.login_button, Qt.MouseButton.LeftButton)
    assert dialog.session is not None, dialog.message_label.text()
    window = ReadingWindow(trial, dialog.session)
    qtbot.addWidget(window)
    window.resize(1280, 800)
    window.show()
    qtbot.waitExposed(window)
    view = window.worklist_view
    rect = view.visualRect(window.worklist_model.index(0, 1))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert window.read_form.case is not None
    return window, window.read_form


def starred(form: ReadFormPanel, key: str) -> bool:
    return form.editors[key].label.text().endswith(" *")


def test_required_markers_follow_presence_and_long_choices_are_whole(qtbot, trial,
                                                                     messages) -> None:
    window, form = open_form(qtbot, trial)
    e = form.editors
    assert starred(form, "extravasation.presence")  # always required
    for key in ("extravasation.compartment", "extravasation.severity"):
        assert not starred(form, key), key
    choose(e["extravasation.presence"].editor, "present")
    assert starred(form, "extravasation.compartment")
    assert starred(form, "extravasation.severity")
    choose(e["extravasation.presence"].editor, "absent")
    assert not starred(form, "extravasation.compartment")
    choose(e["extravasation.presence"].editor, "present")

    # the longest choice: elided in the box, whole in its tooltip and in the popup
    tip = e["needle_position.tip_position"].editor
    assert isinstance(tip, ChoiceComboBox)
    choose(tip, "not_assessable")
    full = "Not assessable (needle removed or not in view)"
    assert tip.currentText() == full and tip.toolTip().startswith(full)
    tip.showPopup()
    assert tip.view().width() >= tip.view().fontMetrics().horizontalAdvance(full)
    tip.hidePopup()

    # the missing answers: one line per field in the summary's tooltip
    form.request_submit()  # incomplete: shows the problems instead of the dialog
    lines = form.summary.toolTip().split("\n")
    assert len(lines) >= 3 and all(line.startswith("• ") for line in lines)
    assert any("Compartment" in line for line in lines)
    assert any("Severity" in line for line in lines)
    form.scroll.ensureWidgetVisible(e["extravasation.compartment"])
    save_screenshot(window, "read_form_required_markers")
    assert messages == []


def fill(form: ReadFormPanel) -> None:
    e = form.editors
    choose(e["image_quality"].editor, "adequate")
    choose(e["side"].editor, "right")
    if e["timepoint"].raw_value() is None:
        choose(e["timepoint"].editor, form.case.timepoint)
    choose(e["needle_position.tip_position"].editor, "intramedullary")
    for finding in form.protocol.findings:
        if finding.presence:
            present = finding.id == "extravasation"
            choose(e[f"{finding.id}.presence"].editor, "present" if present else "absent")
            choose(e[f"{finding.id}.confidence"].editor, 5 if present else 1)
    choose(e["extravasation.severity"].editor, "mild")
    for value, check in e["extravasation.compartment"]._checks:
        check.setChecked(value == "anterior")


def test_sign_dialog_summarises_the_read_and_warns_about_an_unlinked_annotation(
        qtbot, trial, messages) -> None:
    window, form = open_form(qtbot, trial)
    series = form.case.series[0]
    uid = series.headers[len(series.headers) // 2].sop_instance_uid
    # one measured length linked to extravasation, one arrow left unlinked
    window.viewer.add_annotation(Annotation(
        None, None, "length", uid, 0, ((20.0, 20.0), (40.0, 44.0)), {"length_mm": 31.2}))
    click(qtbot, form.groups["extravasation"].link_button)
    window.viewer.add_annotation(Annotation(None, None, "arrow", uid, 0,
                                            ((10.0, 10.0), (15.0, 15.0))))
    assert [a.finding_id for a in form.annotations] == ["extravasation", None]
    fill(form)
    assert form.refresh_form_state() == []

    seen: dict[str, str] = {}

    def look_then_cancel(dialog: SignDialog) -> None:
        seen["summary"] = dialog.summary_label.text()
        seen["warning"] = dialog.warning_label.text() if dialog.warning_label.isVisible() else ""
        layout = dialog.layout()
        order = [layout.itemAt(i).widget() for i in range(layout.count())]
        seen["before_password"] = str(order.index(dialog.warning_label)
                                      < order.index(dialog.message_label))
        dialog.resize(640, dialog.sizeHint().height())
        save_screenshot(dialog, "sign_dialog_summary_warning")
        dialog.reject()

    when_modal(SignDialog, look_then_cancel)
    click(qtbot, form.submit_button)
    assert seen, "the sign dialog opened"
    summary = seen["summary"]
    assert "Extravasation" in summary and "Present" in summary
    assert "Anterior compartment" in summary and "Mild" in summary
    assert "1 annotation(s), 1 with measurements" in summary
    assert "Fracture" in summary and "Absent" in summary
    assert "1 annotation(s) linked to no finding" in summary
    assert "linked to no finding" in seen["warning"] and seen["before_password"] == "True"
    assert form.status is not ReadStatus.SUBMITTED  # cancelled: nothing signed

    # link the arrow too: the warning goes, signing works
    form.selected_annotation = lambda: form.annotations[1]  # as if selected in the viewer
    click(qtbot, form.groups["fracture"].link_button)
    assert form.unlinked_warning() == ""

    def sign(dialog: SignDialog) -> None:
        assert not dialog.warning_label.isVisible()
        qtbot.keyClicks(dialog.password_edit, PASSWORDS["reader1"])
        click(qtbot, dialog.sign_button)

    when_modal(SignDialog, sign)
    click(qtbot, form.submit_button)
    assert form.status is ReadStatus.SUBMITTED
    assert messages == []
