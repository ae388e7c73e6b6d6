"""The shipped Simplified Chinese translation: it loads, key screens are Chinese, and it is
complete for the strings that are in the code today.

When a test here fails after a UI change, run ``scripts/update_translations.sh``, translate the
entries marked ``type="unfinished"`` in ioreview/ui/translations/ioreview_zh_CN.ts (Qt
Linguist: ``pyside6-linguist``), run the script again and commit the .ts and the .qm.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, Qt, QTranslator
from PySide6.QtWidgets import QAbstractButton, QApplication, QLabel, QLineEdit, QWidget

from ioreview.ui.app import TRANSLATIONS_DIR, install_translators
from ioreview.ui.login import LoginDialog
from ioreview.ui.reading import ReadingWindow
from ioreview.ui.sign_dialog import SignDialog
from ui_support import PASSWORDS, FakeClock, build_database, open_trial

ROOT = Path(__file__).resolve().parents[1]
UI_DIR = ROOT / "ioreview" / "ui"
TS = TRANSLATIONS_DIR / "ioreview_zh_CN.ts"
QM = TRANSLATIONS_DIR / "ioreview_zh_CN.qm"
HOW_TO_FIX = (
    "Run scripts/update_translations.sh, translate the entries marked type=\"unfinished\" in "
    "ioreview/ui/translations/ioreview_zh_CN.ts (pyside6-linguist or a text editor), run the "
    "script again and commit the .ts and the .qm."
)
CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
# {name}, {n:+d}, %1..%9, %n (plural), %v/%m (QProgressBar) and keyboard accelerators (&X)
PLACEHOLDER = re.compile(r"\{[^{}]*\}|%[0-9nmv]|&(?!&)")


def _run_tool(tool: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run pyside6-lupdate / pyside6-lrelease of the interpreter running the tests."""
    code = f"import sys; from PySide6.scripts.pyside_tool import {tool}; sys.exit({tool}())"
    return subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, check=False)


def _ui_sources() -> list[str]:
    """Every Python file of ioreview/ui, as scripts/update_translations.sh lists them."""
    return sorted(str(p.relative_to(ROOT)) for p in UI_DIR.rglob("*.py")
                  if "__pycache__" not in p.parts)


def _messages(ts: Path) -> Iterator[tuple[str, ET.Element]]:
    for context in ET.parse(ts).getroot().iter("context"):
        name = context.findtext("name") or ""
        for message in context.findall("message"):
            yield name, message


def _text(message: ET.Element) -> str:
    translation = message.find("translation")
    if translation is None:
        return ""
    forms = translation.findall("numerusform")
    return "".join(f.text or "" for f in forms) if forms else (translation.text or "")


def _has_cjk(text: str) -> bool:
    return bool(CJK.search(text))


@pytest.fixture
def chinese(qapp: QApplication) -> Iterator[list[QTranslator]]:
    """The application's Chinese translators, installed the way `ioreview app --lang zh_CN`
    installs them, and removed again after the test."""
    installed = install_translators(qapp, "zh_CN")
    try:
        yield installed
    finally:
        for translator in installed:
            qapp.removeTranslator(translator)


@pytest.fixture
def trial(tmp_path: Path):
    db = tmp_path / "translations.sqlite"
    build_database(db, None)
    t = open_trial(db, FakeClock())
    yield t
    t.close()


def _visible_texts(widget: QWidget) -> dict[str, str]:
    """Window title and the texts of the visible labels, buttons and placeholders."""
    texts = {"window title": widget.windowTitle()}
    for child in widget.findChildren(QWidget):
        if not child.isVisibleTo(widget):
            continue
        name = f"{type(child).__name__} {child.objectName() or ''}".strip()
        if isinstance(child, (QLabel, QAbstractButton)) and child.text():
            texts[f"{name}: {child.text()}"] = child.text()
        if isinstance(child, QLineEdit) and child.placeholderText():
            texts[f"{name} placeholder"] = child.placeholderText()
    return texts


def _not_chinese(texts: dict[str, str]) -> list[str]:
    return [f"{where}: {text!r}" for where, text in texts.items() if not _has_cjk(text)]


# --- (a) the compiled translation ------------------------------------------------------

def test_qm_exists_and_loads(qapp: QApplication) -> None:
    assert QM.is_file(), f"{QM} is missing. {HOW_TO_FIX}"
    translator = QTranslator()
    assert translator.load(str(QM)), f"QTranslator cannot load {QM}"
    assert not translator.isEmpty()
    assert _has_cjk(translator.translate("LoginDialog", "Log in"))
    assert _has_cjk(translator.translate("SignDialog", "Sign"))


def test_app_installs_the_chinese_translation(chinese: list[QTranslator]) -> None:
    assert chinese, "install_translators(app, 'zh_CN') installed nothing"
    assert _has_cjk(QCoreApplication.translate("WorklistModel", "Status"))


# --- (b) key screens are Chinese with the translator installed ---------------------------

def test_login_dialog_is_chinese(qtbot, trial, chinese) -> None:
    dialog = LoginDialog(trial)
    qtbot.addWidget(dialog)
    dialog.show()
    texts = _visible_texts(dialog)
    assert not _not_chinese(texts), _not_chinese(texts)
    assert _has_cjk(dialog.login_button.text())
    assert _has_cjk(dialog.password_edit.placeholderText())
    # an inline message is translated too
    qtbot.mouseClick(dialog.login_button, Qt.MouseButton.LeftButton)
    assert _has_cjk(dialog.message_label.text())


def test_reader_worklist_header_is_chinese(qtbot, trial, chinese) -> None:
    session = trial.login("reader1", PASSWORDS["reader1"])
    window = ReadingWindow(trial, session)
    qtbot.addWidget(window)
    model = window.worklist_model
    headers = [model.headerData(c, Qt.Orientation.Horizontal, Qt.ItemDataRole.DisplayRole)
               for c in range(model.columnCount())]
    assert headers and all(_has_cjk(str(h)) for h in headers), headers
    assert _has_cjk(window.windowTitle())
    assert _has_cjk(window.open_button.text()) and _has_cjk(window.next_button.text())
    assert all(_has_cjk(model.status_text(s)) for s in ("new", "in_progress", "submitted"))


@pytest.mark.parametrize("ask_reason", [False, True], ids=["sign", "amend"])
def test_sign_dialog_is_chinese(qtbot, chinese, ask_reason: bool) -> None:
    dialog = SignDialog(lambda password, reason: None, signer="Reader One",
                        ask_reason=ask_reason)
    qtbot.addWidget(dialog)
    dialog.show()
    texts = _visible_texts(dialog)
    assert not _not_chinese(texts), _not_chinese(texts)
    assert _has_cjk(dialog.meaning_label.text()) and _has_cjk(dialog.sign_button.text())
    if ask_reason:
        assert dialog.reason_edit is not None
        assert _has_cjk(dialog.reason_edit.placeholderText())


# --- (c) the translation is complete for the code as it is -------------------------------

def test_ts_covers_every_string_of_the_ui(tmp_path: Path) -> None:
    """lupdate over today's sources into a copy of the .ts must find nothing new, changed or
    removed: every string has a finished translation and no translation is left over."""
    assert TS.is_file(), f"{TS} is missing. {HOW_TO_FIX}"
    copy = tmp_path / TS.name
    shutil.copy(TS, copy)
    # same options as scripts/update_translations.sh, but keep removed strings (vanished) so
    # they can be reported
    run = _run_tool("lupdate", "-silent", "-locations", "relative", "-source-language", "en",
                    "-target-language", "zh_CN", *_ui_sources(), "-ts", str(copy))
    assert run.returncode == 0, run.stdout + run.stderr

    untranslated, leftover = [], []
    for context, message in _messages(copy):
        translation = message.find("translation")
        kind = translation.get("type") if translation is not None else "unfinished"
        source = message.findtext("source")
        if kind in ("vanished", "obsolete"):
            leftover.append(f"  [{context}] {source!r}")
        elif kind == "unfinished" or not _text(message).strip():
            untranslated.append(f"  [{context}] {source!r}")
    problems = []
    if untranslated:
        problems.append(f"{len(untranslated)} string(s) of the UI have no Chinese translation:\n"
                        + "\n".join(untranslated))
    if leftover:
        problems.append(f"{len(leftover)} translation(s) are for strings no longer in the UI:\n"
                        + "\n".join(leftover))
    assert not problems, "\n".join(problems) + "\n" + HOW_TO_FIX


def test_translations_keep_placeholders_and_accelerators() -> None:
    wrong = []
    for context, message in _messages(TS):
        source = message.findtext("source") or ""
        text = _text(message)
        if text and sorted(PLACEHOLDER.findall(text)) != sorted(PLACEHOLDER.findall(source)):
            wrong.append(f"  [{context}] {source!r} -> {text!r}")
    assert not wrong, "placeholders ({name}, %1, %n) or & accelerators differ:\n" + "\n".join(wrong)


def test_qm_is_compiled_from_the_ts(tmp_path: Path) -> None:
    fresh = tmp_path / QM.name
    run = _run_tool("lrelease", "-silent", str(TS), "-qm", str(fresh))
    assert run.returncode == 0, run.stdout + run.stderr
    up_to_date = fresh.read_bytes() == QM.read_bytes()
    assert up_to_date, f"{QM.name} is not compiled from the current {TS.name}. {HOW_TO_FIX}"


def test_every_message_has_the_context_it_is_looked_up_with() -> None:
    orphans = [message.findtext("source") for context, message in _messages(TS) if not context]
    assert not orphans, orphans


def test_every_translated_text_is_a_literal_lupdate_can_extract() -> None:
    """`tr(text)` / `translate("Context", text)` with an f-string, or with a variable in a module
    that declares no QT_TRANSLATE_NOOP texts for that lookup, never reaches the .ts: the text
    stays English in a Chinese window.  (A variable is fine where the values it takes are
    declared with QT_TRANSLATE_NOOP, as signature meanings and annotation kinds are.)"""
    import ast

    bad = []
    for path in sorted(UI_DIR.rglob("*.py")):
        source = path.read_text("utf-8")
        for node in ast.walk(ast.parse(source)):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "attr", getattr(node.func, "id", ""))
            if name == "tr" and node.args:
                text = node.args[0]
            elif (name == "translate" and len(node.args) >= 2
                  and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                text = node.args[1]
            else:
                continue
            if isinstance(text, ast.Constant) and isinstance(text.value, str):
                continue
            if isinstance(text, ast.JoinedStr) or "QT_TRANSLATE_NOOP(" not in source:
                bad.append(f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node)[:80]}")
    assert not bad, "\n".join(bad)


def test_annotation_kinds_and_signature_meanings_are_translated() -> None:
    from ioreview.service.values import (ADJUDICATION_MEANING, AMENDMENT_MEANING,
                                         ANNOTATION_KINDS, BALLOT_MEANING, CASTING_MEANING,
                                         PANEL_MEANING, SIGNATURE_MEANING)

    translated = {(c, m.findtext("source")) for c, m in _messages(TS)
                  if (m.findtext("translation") or "").strip()}
    assert {("ReadFormPanel", k) for k in ANNOTATION_KINDS} <= translated
    meanings = {SIGNATURE_MEANING, AMENDMENT_MEANING, ADJUDICATION_MEANING, BALLOT_MEANING,
                CASTING_MEANING, PANEL_MEANING}
    assert {("Signature", m) for m in meanings} <= translated
