"""The sign dialog shows a whole wrong-password message (issue 14: it was cut off at
"...before the account locks for 15")."""
from __future__ import annotations

import os

from ioreview.errors import SignatureRejected
from ioreview.ui.sign_dialog import SignDialog

LONG = ("The password is not correct: 2 attempt(s) left before the account locks for 15 "
        "minutes. Type it again, or ask an administrator to reset it if you have forgotten it.")


def test_a_long_rejection_is_shown_whole(qtbot, tmp_path):
    def sign(password: str, reason: str) -> object:
        raise SignatureRejected(LONG)

    dialog = SignDialog(sign, signer="Reader One (reader1)", meaning="I confirm this read")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    dialog.password_edit.setText("wrong-password")
    dialog.attempt_sign()
    qtbot.wait(50)
    label = dialog.message_label
    assert label.isVisible() and "15 minutes" in label.text()
    assert label.height() >= label.heightForWidth(label.width()), "the message is cut off"
    bottom = label.mapTo(dialog, label.rect().bottomLeft()).y()
    assert bottom <= dialog.height()
    shots = os.environ.get("IOREVIEW_SHOTS")
    if shots:
        dialog.grab().save(os.path.join(shots, "sign_dialog_rejected.png"))
