"""The read form in Chinese: the protocol's zh_CN labels are shown, the stored values stay the
protocol's values (e.g. "present").

The Chinese translators are installed through `install_translators(app, "zh_CN")`, as
`ioreview app --lang zh_CN` does, and removed after the test so other tests stay English.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTranslator
from PySide6.QtWidgets import QApplication

from ioreview.ui.app import install_translators, ui_locale
from ioreview.ui.login import LoginDialog
from ioreview.ui.read_form import ReadFormPanel
from ioreview.ui.reading import ReadingWindow
from ui_support import (
    PASSWORDS,
    FakeClock,
    build_database,
    choose,
    copy_database,
    open_trial,
    save_screenshot,
    shared_demo_files,
)

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("zh-reading-db")
    db = root / "template.sqlite"
    build_database(db, shared_demo_files(tmp_path_factory))
    return db


@pytest.fixture
def trial(template: Path, tmp_path: Path):
    t = open_trial(copy_database(template, tmp_path / "trial.sqlite"), FakeClock())
    yield t
    t.close()


@pytest.fixture
def chinese(qapp: QApplication) -> Iterator[list[QTranslator]]:
    installed = install_translators(qapp, "zh_CN")
    try:
        yield installed
    finally:
        for translator in installed:
            qapp.removeTranslator(translator)
        assert ui_locale() is None, "removing the translators brings the UI back to English"


def open_window(qtbot, trial, username: str) -> ReadingWindow:
    dialog = LoginDialog(trial)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClicks(dialog.username_edit, username)
    qtbot.keyClicks(dialog.password_edit, PASSWORDS[username])
    qtbot.mouseClick(dialog.login_button, Qt.MouseButton.LeftButton)
    assert dialog.result() == LoginDialog.DialogCode.Accepted, dialog.message_label.text()
    window = ReadingWindow(trial, dialog.session)
    qtbot.addWidget(window)
    window.resize(1600, 1000)
    window.show()
    qtbot.waitExposed(window)
    return window


def open_first_case(qtbot, window: ReadingWindow) -> ReadFormPanel:
    view = window.worklist_view
    index = window.worklist_model.index(0, 1)
    rect = view.visualRect(index)
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert window.read_form.case is not None
    return window.read_form


def combo_texts(form: ReadFormPanel, key: str) -> list[str]:
    combo = form.editors[key].editor
    return [combo.itemText(i) for i in range(combo.count())]


def test_read_form_shows_the_protocol_in_chinese(qtbot, trial, chinese) -> None:
    assert chinese and ui_locale() == "zh_CN"
    window = open_window(qtbot, trial, "reader1")
    timepoints = {window.worklist_model.record(r).timepoint for r in range(window.worklist_model.rowCount())}
    shown = {window.worklist_model.index(r, 2).data() for r in range(window.worklist_model.rowCount())}
    assert shown and all(CJK.search(text) for text in shown), shown
    assert not timepoints & shown, "the worklist names timepoints in Chinese, not by their value"

    form = open_first_case(qtbot, window)
    assert form.groups["extravasation"].title() == "外渗/筋膜室受累"
    assert form.groups["fat_embolism"].title() == "脂肪栓塞"
    assert form.editors["extravasation.compartment"].label.text().startswith("筋膜室")
    assert form.editors["image_quality"].label.text().startswith("图像质量")
    presence = combo_texts(form, "extravasation.presence")
    assert {"存在", "不存在", "不确定"} <= set(presence)
    assert "肯定存在" in combo_texts(form, "extravasation.confidence")
    assert ["满意", "受限", "无法诊断"] == combo_texts(form, "image_quality")[1:]
    assert ["左侧", "右侧"] == combo_texts(form, "side")[1:]
    timepoint_label = form.protocol.timepoint_label(form.case.timepoint, "zh_CN")
    assert timepoint_label in combo_texts(form, "timepoint")
    assert timepoint_label in form.header.text()
    assert form.case.timepoint not in form.header.text()
    compartments = [check.text() for _value, check in form.editors["extravasation.compartment"]._checks]
    assert "前筋膜室" in compartments

    choose(form.editors["extravasation.presence"].editor, "present")
    choose(form.editors["image_quality"].editor, "limited")
    assert form.editors["extravasation.presence"].editor.currentText() == "存在"
    for value, check in form.editors["extravasation.compartment"]._checks:
        check.setChecked(value == "anterior")
    assert form.values()["extravasation.presence"] == "present"
    assert list(form.values()["extravasation.compartment"]) == ["anterior"]
    assert form.save_now()
    form.groups["extravasation"].setFocus()
    save_screenshot(window, "zh_read_form")

    stored = trial.open_case(window.controller.session, window.current_assignment).values
    assert stored["extravasation.presence"] == "present"
    assert stored["image_quality"] == "limited"
    assert stored["timepoint"] == form.case.timepoint
