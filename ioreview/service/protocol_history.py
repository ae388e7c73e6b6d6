"""Protocol history for the administrator: what changed between two installed versions of the
read protocol, as a line diff of their TOML text and as a list of changed form fields.

Every read records the protocol version it was made under; when a protocol is revised
mid-study, inspectors ask what exactly changed (ICH E6(R3) 4.2: changes to trial documents
are traceable), so both views are derived from the stored text of each version.
"""
from __future__ import annotations

import dataclasses
import difflib
from typing import Any

from adjudication.protocol import Field, Protocol
from ioreview.errors import NotFound

from .context import ADMINS, ServiceContext
from .protocols import _version_info
from .values import FieldChange, ProtocolDiff, Session

__all__ = ["ProtocolHistory", "field_changes"]

#: protocol-wide settings compared between versions (attribute names of `Protocol`)
_SETTINGS = ("title", "paradigm", "readers_per_case", "priors", "rereads", "timepoints",
             "confidence", "presence", "tools", "panel")


def _fields(protocol: Protocol) -> dict[str, tuple[str, Field]]:
    fields = {key: (protocol.label_for(key), f) for key, _finding, f in protocol.iter_fields()}
    for key in protocol.committee_keys():
        fields[key] = (protocol.label_for(key), protocol.committee_field(key))
    return fields


def _show(value: Any) -> str:
    if isinstance(value, tuple) and value and all(hasattr(v, "value") and hasattr(v, "label")
                                                  for v in value):
        return ", ".join(f"{v.value} ({v.label})" for v in value)  # choices
    if hasattr(value, "value") and isinstance(getattr(value, "value"), str) \
            and not dataclasses.is_dataclass(value):
        return str(value.value)  # an enumeration
    if isinstance(value, tuple):
        return ", ".join(str(v) for v in value) or "—"
    return "—" if value in (None, "") else str(value)


def field_changes(old: Protocol, new: Protocol) -> tuple[FieldChange, ...]:
    """Protocol settings and form fields added, removed or changed from `old` to `new`, in
    the new form's order (removed fields last)."""
    changes: list[FieldChange] = []
    for name in _SETTINGS:
        a, b = getattr(old, name), getattr(new, name)
        if a != b:
            changes.append(FieldChange(f"[protocol] {name}", name, "changed",
                                       (f"{name}: {_show(a)} → {_show(b)}",)))
    before, after = _fields(old), _fields(new)
    for key, (label, f) in after.items():
        if key not in before:
            changes.append(FieldChange(key, label, "added",
                                       (f"type {f.type.value}", f"choices: {_show(f.choices)}")
                                       if f.choices else (f"type {f.type.value}",)))
            continue
        _old_label, g = before[key]
        details = tuple(
            f"{attr.name}: {_show(getattr(g, attr.name))} → {_show(getattr(f, attr.name))}"
            for attr in dataclasses.fields(Field)
            if getattr(g, attr.name) != getattr(f, attr.name))
        if details:
            changes.append(FieldChange(key, label, "changed", details))
    for key, (label, _f) in before.items():
        if key not in after:
            changes.append(FieldChange(key, label, "removed", ()))
    return tuple(changes)


class ProtocolHistory:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def protocol_diff(self, session: Session, old_version_id: int,
                      new_version_id: int) -> ProtocolDiff:
        """Coordinator/admin: how protocol version `new_version_id` differs from
        `old_version_id`: a unified diff of the TOML text and the changed fields."""
        with self.ctx.use_case(session, ADMINS, "compare protocol versions",
                               write=False) as (uow, _actor):
            rows = []
            for version_id in (old_version_id, new_version_id):
                row = uow.protocols.get(int(version_id))
                if row is None or row.text is None:
                    raise NotFound(f"Protocol version {version_id} is not installed.")
                rows.append(row)
            old, new = (self.ctx.protocol(uow, r.id) for r in rows)
        a, b = rows
        text = tuple(difflib.unified_diff(
            (a.text or "").splitlines(), (b.text or "").splitlines(),
            f"{a.protocol_id} {a.version}", f"{b.protocol_id} {b.version}", lineterm=""))
        return ProtocolDiff(_version_info(a), _version_info(b), text, field_changes(old, new))
