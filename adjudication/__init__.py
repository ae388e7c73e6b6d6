"""Pure domain code of ioreview: the read protocol, read-form validation and discordance rules.

Imports only the standard library (and numpy/scipy where statistics need them) — never
`ioreview`, a database or Qt; an import-linter contract in pyproject.toml enforces it.
"""
from __future__ import annotations

from adjudication.discordance import Discordance, DiscordanceRule, find_discordant_fields
from adjudication.protocol import (
    InvalidProtocol,
    Protocol,
    ProtocolProblem,
    default_protocol_path,
    load_default_protocol,
    load_protocol,
    parse_protocol,
)
from adjudication.readform import FieldProblem, FormItem, coerce_value, form_layout, validate_read

__all__ = [
    "Discordance",
    "DiscordanceRule",
    "FieldProblem",
    "FormItem",
    "InvalidProtocol",
    "Protocol",
    "ProtocolProblem",
    "coerce_value",
    "default_protocol_path",
    "find_discordant_fields",
    "form_layout",
    "load_default_protocol",
    "load_protocol",
    "parse_protocol",
    "validate_read",
]
