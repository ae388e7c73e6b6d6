"""What an export's signer signs (the parameters, the manifest's hash, the audit head), kept
apart from the export's code so that verifying a signature does not load DICOM, statistics
and table code (`signatures.BUILDER_MODULES`)."""
from __future__ import annotations

from typing import Any

from ioreview.store import UnitOfWork
from ioreview.store.records import ExportRecord, SignatureRecord

from .. import signatures

__all__ = ["export_content", "signed_export_content"]


def signed_export_content(record: ExportRecord, signer: str, meaning: str,
                          signed_at: str) -> dict[str, Any]:
    return {"export_id": record.id, "created_at": record.created_at,
            "created_by": record.created_by, "parameters": record.parameters,
            "manifest_sha256": record.manifest_sha256, "audit_head": record.audit_head,
            "identified": record.identified, "n_files": record.n_files,
            "signer": signer, "meaning": meaning, "signed_at": signed_at}


def export_content(uow: UnitOfWork, s: SignatureRecord) -> dict[str, Any] | None:
    """The content of an export's signature, rebuilt from its export record."""
    record = uow.exports.get(s.entity_id)
    return None if record is None else signed_export_content(record, s.signer, s.meaning,
                                                             s.signed_at)


signatures.CONTENT_BUILDERS["export"] = export_content
