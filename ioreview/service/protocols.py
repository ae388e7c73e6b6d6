"""Read protocols: install a version (every version is kept), see the active one."""
from __future__ import annotations

import hashlib
from pathlib import Path

from adjudication.protocol import Protocol, parse_protocol
from ioreview.errors import InvalidInput
from ioreview.store.records import ProtocolVersionRecord

from .context import ADMINS, ServiceContext
from .values import ProtocolVersionInfo, Session

__all__ = ["Protocols"]


def _version_info(row: ProtocolVersionRecord) -> ProtocolVersionInfo:
    return ProtocolVersionInfo(row.id, row.protocol_id, row.version, row.sha256,
                               row.installed_at, row.active)


class Protocols:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def install_protocol(self, session: Session, source: str | Path,
                         text: str | None = None) -> ProtocolVersionInfo:
        """Coordinator/admin: install a protocol file (or `text`, named `source`) as the active
        version.  Every version is kept; installing identical text again re-activates it;
        InvalidProtocol passes through with its problems (file, line, field)."""
        with self.ctx.use_case(session, ADMINS, "install a protocol") as (uow, actor):
            if text is None:
                try:
                    text = Path(source).read_text(encoding="utf-8")
                except OSError as exc:
                    raise InvalidInput(f"Cannot read the protocol file {source}: "
                                       f"{exc.strerror or exc}.") from exc
                except UnicodeDecodeError:
                    raise InvalidInput(f"{source} is not UTF-8 text; save it as UTF-8.") from None
            protocol = parse_protocol(text, str(source))
            sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
            existing = uow.protocols.find(sha256=sha)
            if existing is not None:
                version_id = existing.id
                uow.audit("activate", "protocol_version", version_id,
                          after={"protocol_id": protocol.id, "version": protocol.version})
            else:
                clash = uow.protocols.find(protocol_id=protocol.id, version=protocol.version)
                if clash is not None:
                    raise InvalidInput(
                        f"{source}: protocol {protocol.id} version {protocol.version} is already "
                        "installed with different content; give the edited file a new version "
                        "number ([protocol] version) and install it again.")
                version_id = uow.protocols.add(
                    protocol.id, protocol.version, protocol.title, str(source), text, sha,
                    self.ctx.now_iso(), actor.audit_name)
                uow.audit("install", "protocol_version", version_id,
                          after={"protocol_id": protocol.id, "version": protocol.version,
                                 "sha256": sha, "source": str(source)})
            uow.protocols.activate(version_id)
            row = uow.protocols.get(version_id)
            assert row is not None
            return _version_info(row)

    def active_protocol(self, session: Session) -> tuple[int, Protocol]:
        """The active protocol version id and the parsed protocol (NotFound if none)."""
        with self.ctx.use_case(session, None, "see the protocol", write=False) as (uow, _a):
            return self.ctx.require_active(uow)

    def protocol_versions(self, session: Session) -> list[ProtocolVersionInfo]:
        """All installed protocol versions, oldest first."""
        with self.ctx.use_case(session, None, "see the protocol", write=False) as (uow, _a):
            return [_version_info(r) for r in uow.protocols.list()]
