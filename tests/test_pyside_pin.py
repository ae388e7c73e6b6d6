"""PySide6 6.12.0 on Python 3.11 drops a reference to None on every void call (update(),
setPixmap(), ...) and the interpreter aborts with "none_dealloc" after a few thousand calls.
pyproject pins PySide6 < 6.12 on Python < 3.12; these tests keep the pin honest."""
from __future__ import annotations

import sys
from importlib.metadata import version

import pytest


def test_installed_pyside6_respects_the_pin():
    major, minor = (int(x) for x in version("PySide6").split(".")[:2])
    if sys.version_info < (3, 12):
        assert (major, minor) < (6, 12), "PySide6 >= 6.12 aborts on Python 3.11 (none_dealloc)"


def test_void_qt_calls_do_not_leak_none_references(qtbot):
    from PySide6.QtGui import QPixmap
    from PySide6.QtWidgets import QGraphicsPixmapItem, QWidget

    widget = QWidget()
    qtbot.addWidget(widget)
    item = QGraphicsPixmapItem()
    pixmap = QPixmap(4, 4)
    before = sys.getrefcount(None)
    for _ in range(200_000):
        widget.update()
    for _ in range(20_000):
        item.setPixmap(pixmap)
    after = sys.getrefcount(None)
    if sys.version_info >= (3, 12):
        pytest.skip("None is immortal on Python 3.12+")
    assert after >= before - 100, f"refcount of None fell from {before} to {after}"
