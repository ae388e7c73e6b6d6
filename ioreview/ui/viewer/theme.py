"""The dark reading-room theme: near-black surfaces, grey text and one accent colour.

Reading rooms are dim; a bright frame around the images ruins dark adaptation, so every
surface of the application is near-black and text is mid-grey.  Apply once with
`apply_dark_theme(app)`.
"""
from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

#: The one accent colour (selection, active viewport, annotations in edit).
ACCENT = "#3d9be9"
BACKGROUND = "#0b0b0c"
SURFACE = "#151517"
RAISED = "#202024"
BORDER = "#2c2c31"
TEXT = "#b8b8bd"
TEXT_DIM = "#7c7c83"
TEXT_BRIGHT = "#dedee2"
#: Colour of annotations and measurements drawn over images.
ANNOTATION = "#f2c744"
#: Colour of overlay text drawn over images.
OVERLAY_TEXT = "#d0d0d0"

STYLESHEET = f"""
QWidget {{ background-color: {BACKGROUND}; color: {TEXT}; selection-background-color: {ACCENT};
          selection-color: {TEXT_BRIGHT}; }}
QMainWindow::separator {{ background: {BORDER}; width: 1px; height: 1px; }}
QToolBar {{ background: {SURFACE}; border: none; border-bottom: 1px solid {BORDER}; spacing: 2px;
           padding: 2px; }}
QToolBar QToolButton {{ background: transparent; color: {TEXT}; border: 1px solid transparent;
                       border-radius: 3px; padding: 3px 6px; }}
QToolButton:hover {{ background: {RAISED}; border-color: {BORDER}; }}
QToolButton:checked {{ background: {RAISED}; color: {TEXT_BRIGHT}; border-color: {ACCENT}; }}
QToolButton:disabled {{ color: #4a4a50; }}
QPushButton {{ background: {RAISED}; color: {TEXT}; border: 1px solid {BORDER}; border-radius: 3px;
              padding: 4px 12px; }}
QPushButton:hover {{ border-color: {ACCENT}; }}
QPushButton:default {{ border-color: {ACCENT}; }}
QLineEdit, QComboBox, QSpinBox, QDoubleSpinBox, QPlainTextEdit, QTextEdit {{
    background: {SURFACE}; color: {TEXT_BRIGHT}; border: 1px solid {BORDER}; border-radius: 3px;
    padding: 2px 4px; }}
QLineEdit:focus, QComboBox:focus, QSpinBox:focus, QPlainTextEdit:focus {{ border-color: {ACCENT}; }}
QComboBox QAbstractItemView {{ background: {SURFACE}; border: 1px solid {BORDER}; }}
QListView, QTreeView, QTableView {{ background: {SURFACE}; alternate-background-color: #18181b;
    border: 1px solid {BORDER}; }}
QListView::item:selected, QTreeView::item:selected {{ background: {RAISED}; color: {TEXT_BRIGHT};
    border: 1px solid {ACCENT}; }}
QHeaderView::section {{ background: {RAISED}; color: {TEXT}; border: none;
    border-right: 1px solid {BORDER}; padding: 3px; }}
QMenu {{ background: {SURFACE}; border: 1px solid {BORDER}; }}
QMenu::item:selected {{ background: {RAISED}; color: {TEXT_BRIGHT}; }}
QMenuBar {{ background: {SURFACE}; }}
QMenuBar::item:selected {{ background: {RAISED}; }}
QStatusBar {{ background: {SURFACE}; color: {TEXT_DIM}; border-top: 1px solid {BORDER}; }}
QProgressBar {{ background: {SURFACE}; border: 1px solid {BORDER}; border-radius: 2px; height: 6px;
    text-align: center; color: {TEXT_DIM}; }}
QProgressBar::chunk {{ background: {ACCENT}; }}
QScrollBar:vertical, QScrollBar:horizontal {{ background: {BACKGROUND}; border: none;
    width: 10px; height: 10px; }}
QScrollBar::handle {{ background: {RAISED}; border-radius: 4px; min-height: 20px; min-width: 20px; }}
QScrollBar::add-line, QScrollBar::sub-line {{ width: 0; height: 0; }}
QSplitter::handle {{ background: {BORDER}; }}
QToolTip {{ background: {RAISED}; color: {TEXT_BRIGHT}; border: 1px solid {BORDER}; }}
QGroupBox {{ border: 1px solid {BORDER}; margin-top: 8px; }}
QGroupBox::title {{ subcontrol-origin: margin; left: 6px; color: {TEXT_DIM}; }}
QTabBar::tab {{ background: {SURFACE}; color: {TEXT_DIM}; padding: 4px 10px; border: 1px solid {BORDER}; }}
QTabBar::tab:selected {{ color: {TEXT_BRIGHT}; border-bottom-color: {ACCENT}; }}
"""


def dark_palette() -> QPalette:
    """The palette matching `STYLESHEET`, for widgets that paint from the palette."""
    pal = QPalette()
    roles = {
        QPalette.ColorRole.Window: BACKGROUND,
        QPalette.ColorRole.WindowText: TEXT,
        QPalette.ColorRole.Base: SURFACE,
        QPalette.ColorRole.AlternateBase: "#18181b",
        QPalette.ColorRole.Text: TEXT_BRIGHT,
        QPalette.ColorRole.Button: RAISED,
        QPalette.ColorRole.ButtonText: TEXT,
        QPalette.ColorRole.Highlight: ACCENT,
        QPalette.ColorRole.HighlightedText: TEXT_BRIGHT,
        QPalette.ColorRole.ToolTipBase: RAISED,
        QPalette.ColorRole.ToolTipText: TEXT_BRIGHT,
        QPalette.ColorRole.PlaceholderText: TEXT_DIM,
        QPalette.ColorRole.Link: ACCENT,
    }
    for role, colour in roles.items():
        pal.setColor(role, QColor(colour))
    pal.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text, QColor("#4a4a50"))
    pal.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText, QColor("#4a4a50"))
    return pal


def apply_dark_theme(app: QApplication) -> None:
    """Give the whole application the reading-room look (Fusion style, dark palette, stylesheet)."""
    app.setStyle("Fusion")
    app.setPalette(dark_palette())
    app.setStyleSheet(STYLESHEET)
