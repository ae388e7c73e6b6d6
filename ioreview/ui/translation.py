"""The UI language: installing the Simplified Chinese translation, and asking which language
the UI is shown in (the read form and the coordinator's tables name protocol labels in it).

Apart from the application start (`app.py`) so that every screen can ask without importing
the module that builds all the screens."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator

__all__ = ["TRANSLATIONS_DIR", "install_translators", "ui_locale"]

TRANSLATIONS_DIR = Path(__file__).with_name("translations")

# A message of the shipped translation: whether the application translates it tells whether
# the ioreview translator is still installed (Qt has no "installed translators" query).
_PROBE = ("ReadFormPanel", "Read")
_installed: tuple[str, QTranslator] | None = None


def _wants_chinese(lang: str | None) -> bool:
    name = lang or QLocale.system().name()
    return name.replace("-", "_").lower().startswith("zh")


def install_translators(app: QCoreApplication, lang: str | None = None) -> list[QTranslator]:
    """Install the ioreview and Qt translations for ``lang`` (default: the system locale).

    Only Simplified Chinese (zh_CN) is shipped; a missing .qm file leaves English.
    Returns the installed translators (keep them alive as long as the application).
    """
    installed: list[QTranslator] = []
    if not _wants_chinese(lang):
        return installed
    global _installed
    own = QTranslator(app)
    if own.load(str(TRANSLATIONS_DIR / "ioreview_zh_CN.qm")):
        app.installTranslator(own)
        installed.append(own)
        _installed = ("zh_CN", own)
    qt_base = QTranslator(app)
    if qt_base.load("qtbase_zh_CN", QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)):
        app.installTranslator(qt_base)
        installed.append(qt_base)
    return installed


def ui_locale() -> str | None:
    """The language the UI is shown in ("zh_CN"), or None for English.

    It is the locale `install_translators` installed the ioreview translation for, as long as
    that translator is still installed; the read form shows the protocol's labels in it."""
    if _installed is None:
        return None
    locale, translator = _installed
    try:
        expected = translator.translate(*_PROBE)
    except RuntimeError:  # the translator was deleted with its application
        return None
    if expected and QCoreApplication.translate(*_PROBE) == expected:
        return locale
    return None
