"""The reading window's viewer toolbar, panes and Help menu, driven as a reader drives them.

A real trial database (demo images, default protocol, assignments) is opened by reader1 in the
real `ReadingWindow` at 1280x800: every toolbar action must be on screen and do what it says,
the worklist and read form fold away and come back as remembered, and the Help menu's sheet
lists what the keymap binds.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication, QToolButton

from ioreview import __version__
from ioreview.ui.app import apply_theme
from ioreview.ui.help import AboutDialog, ShortcutSheetDialog
from ioreview.ui.reading import ReadingWindow
from ioreview.ui.viewer.keymap import ViewerAction
from ioreview.ui.viewer.toolbar import GroupedToolBar
from ui_support import (SCREENSHOTS, PASSWORDS, FakeClock, build_database, open_trial,
                        shared_demo_files)

SHOTS = SCREENSHOTS  # screenshots/ (gitignored), as tests/ui_support.py saves them


@pytest.fixture(scope="module")
def template(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("toolbar-db") / "template.sqlite"
    build_database(db, shared_demo_files(tmp_path_factory))
    return db


@pytest.fixture
def trial(template: Path, tmp_path: Path):
    target = tmp_path / "trial.sqlite"
    for source in template.parent.iterdir():  # the database and its side files (WAL, trial key)
        if source.name.startswith(template.name):
            shutil.copy(source, tmp_path / source.name.replace(template.name, target.name))
    t = open_trial(target, FakeClock())
    yield t
    t.close()


@pytest.fixture
def settings(tmp_path: Path) -> QSettings:
    return QSettings(str(tmp_path / "ui.ini"), QSettings.Format.IniFormat)


def open_window(qtbot, trial, settings: QSettings, size: tuple[int, int] = (1280, 800)) -> ReadingWindow:
    app = QApplication.instance()
    if app.property("ioreview_themed") is None:  # as the app and ui_support's screenshots do
        apply_theme(app)
        app.setProperty("ioreview_themed", True)
    session = trial.login("reader1", PASSWORDS["reader1"])
    window = ReadingWindow(trial, session, database="/data/trial.sqlite", settings=settings)
    qtbot.addWidget(window)
    window.resize(*size)
    window.show()
    qtbot.waitExposed(window)
    return window


def open_first_case(qtbot, window: ReadingWindow) -> None:
    window.open_assignment(window.worklist_model.record(0).assignment_id)
    vp = window.viewer.widget.grid.viewports[0]
    qtbot.waitUntil(lambda: vp._stored is not None, timeout=10_000)
    QApplication.processEvents()


def toolbar(window: ReadingWindow) -> GroupedToolBar:
    tb = window.viewer.toolbar()
    assert isinstance(tb, GroupedToolBar)
    return tb


def visible_button(tb: GroupedToolBar, action: QAction) -> QToolButton:
    group = tb.group_of(action)
    assert group is not None
    return group.menu_button if group.folded else group.buttons[action]


def grab(widget, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    QApplication.processEvents()
    widget.grab().save(str(SHOTS / f"{name}.png"))


def test_every_toolbar_action_is_on_screen_at_1280x800_with_icon_and_key_in_its_tip(qtbot, trial, settings):
    window = open_window(qtbot, trial, settings)
    open_first_case(qtbot, window)
    tb = toolbar(window)
    assert tb.parentWidget() is window  # across the whole window, not squeezed beside the form
    actions = tb.all_actions()
    assert len(actions) >= 25
    window_rect = window.rect()
    for action in actions:
        assert not action.icon().isNull(), action.text()
        button = tb.groups[tb.group_of(action).name].buttons[action]
        assert button.isVisible(), f"{action.text()} is not on screen"
        top_left = button.mapTo(window, button.rect().topLeft())
        bottom_right = button.mapTo(window, button.rect().bottomRight())
        assert window_rect.contains(top_left) and window_rect.contains(bottom_right), action.text()
    viewer = window.viewer.widget
    assert "(L)" in viewer.tool_actions["length"].toolTip()
    assert "(H)" in viewer.view_actions["flip_h"].toolTip()
    assert "(Esc, Space)" in viewer.view_actions["reset"].toolTip()
    key_image = next(a for a in actions if a.shortcut().toString() == "K")
    assert "(K)" in key_image.toolTip()
    grab(window, "reading_dx_1280x800")


def test_toolbar_actions_act_on_the_image(qtbot, trial, settings):
    window = open_window(qtbot, trial, settings)
    open_first_case(qtbot, window)
    viewer = window.viewer.widget
    tb = toolbar(window)
    vp = viewer.active_viewport()
    header_invert = vp.invert
    qtbot.mouseClick(visible_button(tb, viewer.view_actions["flip_h"]), Qt.MouseButton.LeftButton)
    assert vp.flip_h
    qtbot.mouseClick(visible_button(tb, viewer.view_actions["flip_v"]), Qt.MouseButton.LeftButton)
    assert vp.flip_v
    qtbot.mouseClick(visible_button(tb, viewer.view_actions["invert"]), Qt.MouseButton.LeftButton)
    assert vp.invert != header_invert
    qtbot.mouseClick(visible_button(tb, viewer.view_actions["rotate"]), Qt.MouseButton.LeftButton)
    assert vp.rotation == 90
    qtbot.mouseClick(visible_button(tb, viewer.view_actions["reset"]), Qt.MouseButton.LeftButton)
    assert (vp.flip_h, vp.flip_v, vp.rotation) == (False, False, 0)
    assert vp.invert == header_invert  # reset goes back to the header's look
    qtbot.mouseClick(visible_button(tb, viewer.tool_actions["length"]), Qt.MouseButton.LeftButton)
    assert viewer.tool == "length"
    # presets: the button opens the menu of the image's presets; choosing one sets the window
    viewer._fill_presets()
    names = [a.text().split("\t")[0] for a in viewer.preset_menu.actions()]
    assert len(names) >= 2
    viewer.preset_menu.actions()[1].trigger()
    assert vp.window_name == names[1]
    qtbot.mouseClick(visible_button(tb, viewer.layout_actions["1x2"]), Qt.MouseButton.LeftButton)
    assert viewer.grid.layout_name == "1x2"
    # keys pick tools too, and the toolbar follows
    vp.setFocus()
    qtbot.keyClick(vp, Qt.Key.Key_A)
    assert viewer.tool == "angle" and viewer.tool_actions["angle"].isChecked()
    qtbot.keyClick(vp, Qt.Key.Key_W)
    assert viewer.tool == "navigate"


def test_narrow_toolbar_folds_groups_into_drop_downs_that_still_reach_every_action(qtbot, trial, settings):
    window = open_window(qtbot, trial, settings, (1280, 800))
    tb = toolbar(window)
    window.worklist_action.trigger()
    window.form_action.trigger()
    QApplication.processEvents()
    window.resize(640, 700)
    qtbot.waitUntil(lambda: tb.width() <= 660)
    tb.fit()
    QApplication.processEvents()
    assert any(g.folded for g in tb.groups.values())
    for action in tb.all_actions():
        assert tb.reaches(action), action.text()
        group = tb.group_of(action)
        if group.folded:
            assert action in group.menu.actions()
    # the groups that stayed open plus the folded buttons fit in the toolbar
    last = max((g for g in tb.groups.values()), key=lambda g: g.geometry().right())
    assert last.geometry().right() <= tb.width()
    grab(window, "reading_narrow_640")
    window.resize(1280, 800)
    qtbot.waitUntil(lambda: not any(g.folded for g in tb.groups.values()))


def test_worklist_and_form_fold_away_and_are_remembered(qtbot, trial, settings):
    window = open_window(qtbot, trial, settings)
    viewer_width = window.viewer.widget.width()
    open_first_case(qtbot, window)
    # at 1280 pixels the worklist folds away by itself when a case opens: the images get room
    assert not window.worklist_panel.isVisible() and not window.worklist_action.isChecked()
    assert window.viewer.widget.width() > viewer_width + 200
    tb = toolbar(window)
    qtbot.mouseClick(visible_button(tb, window.worklist_action), Qt.MouseButton.LeftButton)
    assert window.worklist_panel.isVisible(), "the reader brings it back"
    open_first_case(qtbot, window)
    assert window.worklist_panel.isVisible(), "and then it stays"
    viewer_width = window.viewer.widget.width()
    qtbot.mouseClick(visible_button(tb, window.worklist_action), Qt.MouseButton.LeftButton)
    qtbot.mouseClick(visible_button(tb, window.form_action), Qt.MouseButton.LeftButton)
    QApplication.processEvents()
    assert not window.worklist_panel.isVisible() and not window.read_form.isVisible()
    assert window.viewer.widget.width() > viewer_width + 600
    assert window.viewer.widget.width() >= window.width() - 20
    grab(window, "reading_images_only_1280x800")
    window.close()
    again = open_window(qtbot, trial, settings)
    assert not again.worklist_panel.isVisible() and not again.read_form.isVisible()
    assert again.form_action.shortcut().toString() == "F7"
    again.form_action.trigger()
    assert again.read_form.isVisible() and again.form_action.isChecked()


def test_help_menu_sheet_is_generated_from_the_keymap(qtbot, trial, settings):
    window = open_window(qtbot, trial, settings)
    viewer = window.viewer.widget
    viewer.keymap.set_keys(ViewerAction.INVERT, ("Ctrl+I",))
    menus = [a.text() for a in window.menuBar().actions()]
    assert any("Help" in m for m in menus)
    sheet = window.help_menu.show_shortcuts()
    assert isinstance(sheet, ShortcutSheetDialog)
    rows = dict(sheet.shown_text())
    assert rows["Invert grey scale"] == "Ctrl+I"  # remapped key, not a hard-wired list
    assert rows["Length"] == "L"
    assert rows["Next image"] == "Down"
    assert rows["Reset view"] == "Esc, Space"
    assert rows["Lock screen"] == "Ctrl+L"  # the window's own shortcuts too
    assert rows["Key image"] == "K"
    assert rows["Window/level"] == "Left-drag"
    for action in ViewerAction:  # every keymap action is listed
        assert any(r.action for r in sheet.rows)
    assert len([r for r in sheet.rows if r.group != "Mouse" and r.group != "Window"]) == len(ViewerAction)
    sheet.resize(560, 760)
    grab(sheet, "help_shortcuts")
    sheet.close()
    guide = window.help_menu.show_guide()
    assert "window/level" in guide.text.toPlainText()
    grab(guide, "help_guide")
    guide.close()
    about = window.help_menu.show_about()
    assert isinstance(about, AboutDialog)
    shown = dict(about.rows)
    assert shown["Version"] == __version__
    assert shown["Database"] == "/data/trial.sqlite"
    protocol = trial.active_protocol(trial.login("reader2", PASSWORDS["reader2"]))[1]
    assert shown["Active protocol"] == f"{protocol.id} {protocol.version}"
    grab(about, "help_about")


def test_tooltips_follow_remapped_keys_and_the_stand_alone_viewer_has_help(qtbot, tmp_path):
    from ioreview.ui.viewer.keys_dialog import KeyBindingsDialog
    from ioreview.ui.viewer.viewer_window import ViewerWindow

    window = ViewerWindow(settings=QSettings(str(tmp_path / "v.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    window.show()
    viewer = window.viewer
    assert "(I)" in viewer.view_actions["invert"].toolTip()
    dialog = viewer.show_key_bindings()
    assert isinstance(dialog, KeyBindingsDialog)
    dialog.editor(ViewerAction.INVERT).setKeySequence("Ctrl+I")
    dialog.accept()
    assert "(Ctrl+I)" in viewer.view_actions["invert"].toolTip()
    assert any("Help" in a.text() for a in window.menuBar().actions())
    sheet = window.help_menu.show_shortcuts()
    assert dict(sheet.shown_text())["Invert grey scale"] == "Ctrl+I"
    about = window.help_menu.show_about()
    assert dict(about.rows)["Version"] == __version__
    assert tb_groups(viewer.toolbar) == ["navigate", "measure", "annotate", "assist", "view", "layout"]


def tb_groups(tb: GroupedToolBar) -> list[str]:
    return [name for name, group in tb.groups.items() if group.actions_]


def test_a_case_with_a_prior_opens_hung_by_the_protocol(qtbot, trial, settings):
    """The default protocol hangs radiographs 1x2: today's AP beside the prior's AP."""
    window = open_window(qtbot, trial, settings)
    items = window.worklist_model.records()
    session = window.controller.session
    with_prior = next(it for it in items if trial.open_case(session, it.assignment_id).priors)
    window.open_assignment(with_prior.assignment_id)
    viewer = window.viewer.widget
    left, right = viewer.grid.visible_viewports()
    assert viewer.grid.layout_name == "1x2"
    assert left.source.modality == right.source.modality == "DX"
    assert not left.source.description.startswith("Prior")
    assert right.source.description.startswith("Prior")
    view = "AP" if " AP" in left.source.description else "LAT"
    assert right.source.description.endswith(view)
    qtbot.waitUntil(lambda: left._stored is not None and right._stored is not None, timeout=10_000)
    grab(window, "reading_1x2_prior_1280x800")
