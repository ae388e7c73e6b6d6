"""The account roles as the user interface names them (translated)."""
from __future__ import annotations

from PySide6.QtCore import QCoreApplication

from ioreview.service import Role

__all__ = ["role_name"]


def role_name(role: Role) -> str:
    """`role` in the interface language ("coordinator", "协调员")."""
    names = {
        Role.READER: QCoreApplication.translate("Roles", "reader"),
        Role.ADJUDICATOR: QCoreApplication.translate("Roles", "adjudicator"),
        Role.COMMITTEE: QCoreApplication.translate("Roles", "committee"),
        Role.COORDINATOR: QCoreApplication.translate("Roles", "coordinator"),
        Role.ADMIN: QCoreApplication.translate("Roles", "admin"),
    }
    return names[Role(role)]
