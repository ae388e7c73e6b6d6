"""The electronic-signature dialog: states the meaning and asks for the password again.

21 CFR Part 11 §11.50/§11.200: a signature shows who signed, when and its meaning, and is
executed by re-entering a secret. The dialog does not verify anything itself: it hands the
password (and the reason, for an amendment) to a callable that calls the service, and stays
open with an inline message when the service rejects it, so nothing typed is lost.  Before the
password it can show what is being signed (a summary, one line per finding) and a warning
(e.g. annotations linked to no finding), so the signer sees the content of the record.
"""
from __future__ import annotations

import html
from collections.abc import Callable, Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from ioreview.errors import IoreviewError, SignatureRejected

__all__ = ["SignDialog"]

SignCallable = Callable[[str, str], object]


class SignDialog(QDialog):
    """Ask for the signer's password (and a reason when amending) and sign through ``sign``.

    ``explain`` replaces the read-signing explanation (adjudications, ballots, minutes).
    ``sign(password, reason)`` performs the service call and returns its result, which is
    kept in `result_value` after `accept`. ``summary`` lists what is signed as (title, text)
    rows and ``warning`` is shown above the password. A `SignatureRejected` (wrong password) or any other
    `IoreviewError` is shown inline and the dialog stays open; ``on_error`` may claim an error
    (for example an expired session) by returning True, which closes the dialog unsigned.
    """

    def __init__(
        self,
        sign: SignCallable,
        *,
        signer: str,
        meaning: str | None = None,
        ask_reason: bool = False,
        title: str | None = None,
        explain: str | None = None,
        on_error: Callable[[IoreviewError], bool] | None = None,
        summary: Sequence[tuple[str, str]] = (),
        warning: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._sign = sign
        self._on_error = on_error
        self.result_value: object = None
        self.setObjectName("SignDialog")
        self.setWindowTitle(title or self.tr("Sign read"))
        self.setMinimumWidth(420)

        meaning_text = meaning or self.tr("I confirm this read")
        self.meaning_label = QLabel(self.tr("Meaning of this signature: <b>{meaning}</b>").format(
            meaning=meaning_text))
        self.meaning_label.setObjectName("SignMeaning")
        self.meaning_label.setWordWrap(True)
        signer_label = QLabel(self.tr("Signed by: {signer}").format(signer=signer))
        self.explain_label = QLabel(explain or self.tr(
            "Enter your password to sign. After signing, the read is locked and can only be "
            "changed by a signed amendment."))
        self.explain_label.setObjectName("SignExplanation")
        self.explain_label.setWordWrap(True)
        self.summary_label = QLabel()
        self.summary_label.setObjectName("SignSummary")
        self.summary_label.setWordWrap(True)
        self.summary_label.setTextFormat(Qt.TextFormat.RichText)
        self.summary_label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.summary_label.setContentsMargins(6, 4, 6, 4)
        self.summary_label.setText("<br>".join(
            f"<b>{html.escape(title)}</b>: {html.escape(text)}" for title, text in summary))
        self.summary_area = QScrollArea()
        self.summary_area.setWidgetResizable(True)
        self.summary_area.setWidget(self.summary_label)
        self.summary_area.setMaximumHeight(300)
        self.summary_area.setVisible(bool(summary))
        self.summary_caption = QLabel(self.tr("You are signing:"))
        self.summary_caption.setVisible(bool(summary))
        self.warning_label = QLabel(warning)
        self.warning_label.setObjectName("SignWarning")
        self.warning_label.setWordWrap(True)
        self.warning_label.setStyleSheet(
            "background: #4a3b12; color: #ffe08a; padding: 6px; border-radius: 3px;")
        self.warning_label.setVisible(bool(warning))
        if summary:
            self.setMinimumWidth(560)

        form = QFormLayout()
        self.reason_edit: QPlainTextEdit | None = None
        if ask_reason:
            self.reason_edit = QPlainTextEdit()
            self.reason_edit.setObjectName("reason")
            self.reason_edit.setPlaceholderText(self.tr("Why is the read being amended?"))
            self.reason_edit.setFixedHeight(70)
            form.addRow(self.tr("Reason"), self.reason_edit)
        self.password_edit = QLineEdit()
        self.password_edit.setObjectName("password")
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        form.addRow(self.tr("Password"), self.password_edit)

        self.message_label = QLabel()
        self.message_label.setObjectName("SignMessage")
        self.message_label.setWordWrap(True)
        self.message_label.setStyleSheet("color: #ff8a80;")
        self.message_label.hide()

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.sign_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.sign_button.setText(self.tr("Sign"))
        self.buttons.accepted.connect(self.attempt_sign)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(self.meaning_label)
        layout.addWidget(signer_label)
        layout.addWidget(self.explain_label)
        layout.addWidget(self.summary_caption)
        layout.addWidget(self.summary_area)
        layout.addWidget(self.warning_label)
        layout.addLayout(form)
        layout.addWidget(self.message_label)
        layout.addWidget(self.buttons)
        (self.reason_edit or self.password_edit).setFocus()

    def show_message(self, text: str) -> None:
        """Show an inline explanation above the buttons; the dialog grows so that the whole
        wrapped message shows (a lock-out warning must not be cut off)."""
        self.message_label.setText(text)
        self.message_label.setVisible(bool(text))
        layout = self.layout()
        if layout is not None:
            layout.activate()
            needed = layout.totalHeightForWidth(self.width()) if layout.hasHeightForWidth() \
                else self.sizeHint().height()
            if self.height() < needed:
                self.resize(self.width(), needed)

    def reason(self) -> str:
        """The amendment reason typed so far (empty when not asked)."""
        return self.reason_edit.toPlainText().strip() if self.reason_edit is not None else ""

    def attempt_sign(self) -> None:
        """Call the signing callable; accept on success, explain and stay open otherwise."""
        if self.reason_edit is not None and not self.reason():
            self.show_message(self.tr("Enter the reason for the amendment."))
            return
        password = self.password_edit.text()
        if not password:
            self.show_message(self.tr("Enter your password to sign."))
            return
        try:
            self.result_value = self._sign(password, self.reason())
        except SignatureRejected as exc:
            self.password_edit.clear()
            self.password_edit.setFocus()
            self.show_message(self.tr("Signature rejected: {detail}").format(detail=str(exc)))
            return
        except IoreviewError as exc:
            self.password_edit.clear()
            if self._on_error is not None and self._on_error(exc):
                self.reject()
                return
            self.show_message(str(exc))
            return
        self.accept()
