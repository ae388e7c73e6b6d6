"""Pure domain code of ioreview: the read protocol, read-form validation and discordance rules.

Imports only the standard library (and numpy/scipy where statistics need them) — never
`ioreview`, a database or Qt; an import-linter contract in pyproject.toml enforces it.

The names below are loaded on first use (PEP 562), so importing one submodule (say
`adjudication.protocol` for its exception) does not build every other module's classes: the
command line's start-up pays only for what a command uses.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from adjudication.discordance import Discordance, DiscordanceRule, find_discordant_fields
    from adjudication.protocol import (InvalidProtocol, Protocol, ProtocolProblem,
                                       default_protocol_path, load_default_protocol,
                                       load_protocol, parse_protocol)
    from adjudication.readform import (FieldProblem, FormItem, coerce_value, form_layout,
                                       validate_read)

_HOMES = {
    "Discordance": "discordance", "DiscordanceRule": "discordance",
    "find_discordant_fields": "discordance",
    "InvalidProtocol": "protocol", "Protocol": "protocol", "ProtocolProblem": "protocol",
    "default_protocol_path": "protocol", "load_default_protocol": "protocol",
    "load_protocol": "protocol", "parse_protocol": "protocol",
    "FieldProblem": "readform", "FormItem": "readform", "coerce_value": "readform",
    "form_layout": "readform", "validate_read": "readform",
}

__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'adjudication' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"adjudication.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_HOMES))
