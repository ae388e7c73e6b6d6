"""Electronic signatures of signable records (21 CFR Part 11 style).

A signature binds a signer, a UTC time and a meaning to the SHA-256 of the canonical content of
one version of an entity.  The content is rebuilt from the domain tables when verifying, so a
value changed behind the application's back no longer matches its signature.  Read versions
are signable here; adjudication decisions, panel outcomes and exports register their own
content builders in `CONTENT_BUILDERS` when their module loads (`BUILDER_MODULES` names it for
every other signable kind: adjudication, panel_ballot, panel_session, export);
`verify_signatures` loads the modules of the kinds it meets and rebuilds each signature's
content with them, in whatever process it runs (a command that verifies has not adjudicated
or exported).  The SHA-256 itself is not secret (anyone can recompute it): what makes a recomputed
hash visible is the signing audit record, keyed, that holds the hash signed
(`monitoring.verify_audit_trail` compares the two).
"""
from __future__ import annotations

import hashlib
import importlib
from collections.abc import Callable
from typing import Any

from ioreview.store import UnitOfWork
from ioreview.store.audit import canonical_json
from ioreview.store.records import ReadRecord, SignatureRecord

__all__ = ["BUILDER_MODULES", "CONTENT_BUILDERS", "content_sha256", "read_content", "sign", "verify_signatures"]


def content_sha256(content: Any) -> str:
    return hashlib.sha256(canonical_json(content).encode("utf-8")).hexdigest()


def read_content(uow: UnitOfWork, read: ReadRecord, version: int, signer: str, meaning: str,
                 signed_at: str) -> dict[str, Any]:
    """What a reader signs: the read version's values, annotations and key images, with who,
    when and what the signature means."""
    return {
        "read_id": read.id, "assignment_id": read.assignment_id, "version": version,
        "protocol_version_id": read.protocol_version_id, "signer": signer,
        "meaning": meaning, "signed_at": signed_at,
        "values": uow.reads.values(read.id, version),
        "annotations": [{"version": version, "finding_id": a.finding_id, "kind": a.kind,
                         "sop_instance_uid": a.sop_instance_uid, "frame": a.frame,
                         "label": a.label, "points": [list(p) for p in a.points],
                         "measurements": a.measurements}
                        for a in uow.reads.annotations(read.id, version)],
        "key_images": [{"sop_instance_uid": k.sop_instance_uid, "frame": k.frame,
                        "note": k.note} for k in uow.reads.key_images(read.id, version)],
    }


def _read_content_for(uow: UnitOfWork, signature: SignatureRecord) -> dict[str, Any] | None:
    read = uow.reads.get(signature.entity_id)
    if read is None:
        return None
    return read_content(uow, read, signature.version, signature.signer, signature.meaning,
                        signature.signed_at)


#: entity kind -> rebuilds the signed content of a signature (None: the entity is gone)
CONTENT_BUILDERS: dict[str, Callable[[UnitOfWork, SignatureRecord], dict[str, Any] | None]] = {
    "read": _read_content_for,
}
#: signable kind -> the module that registers its content builder when it loads
BUILDER_MODULES: dict[str, str] = {
    "adjudication": "ioreview.service.adjudication",
    "panel_ballot": "ioreview.service.panels",
    "panel_session": "ioreview.service.panels",
    "export": "ioreview.service.exports.signed_content",
}


def content_builder(
        kind: str) -> Callable[[UnitOfWork, SignatureRecord], dict[str, Any] | None] | None:
    """The content builder of signatures of `kind`, loading its module on first use (None: a
    kind no module signs)."""
    if kind not in CONTENT_BUILDERS and kind in BUILDER_MODULES:
        importlib.import_module(BUILDER_MODULES[kind])
    return CONTENT_BUILDERS.get(kind)


def sign(uow: UnitOfWork, entity_kind: str, entity_id: int, version: int, signer_id: int,
         signer: str, signed_at: str, meaning: str, content: Any) -> SignatureRecord:
    """Record a signature of `content` (already built by the entity's content builder) and
    audit it; returns the stored record."""
    sha = content_sha256(content)
    signature_id = uow.signatures.add(entity_kind, entity_id, version, signer_id, signed_at,
                                      meaning, sha)
    uow.audit("sign", "signature", signature_id,
              after={entity_kind: entity_id, "version": version, "meaning": meaning,
                     "content_sha256": sha})
    return SignatureRecord(signature_id, entity_kind, entity_id, version, signer_id, signer,
                           signed_at, meaning, sha)


def verify_signatures(uow: UnitOfWork) -> list[tuple[SignatureRecord, str]]:
    """Re-check every signature against the content it signed, rebuilt from the domain tables
    by its kind's content builder; one (signature, sentence) per mismatch."""
    problems = []
    for s in uow.signatures.all():
        what = (f"signature {s.id} ({s.entity_kind} {s.entity_id} version {s.version}, "
                f"'{s.meaning}', signed by {s.signer} at {s.signed_at})")
        builder = content_builder(s.entity_kind)
        if builder is None:
            problems.append((s, f"{what}: unknown signed entity kind {s.entity_kind!r}"))
            continue
        content = builder(uow, s)
        if content is None:
            problems.append((s, f"{what}: the signed {s.entity_kind} is missing"))
        elif content_sha256(content) != s.content_sha256:
            problems.append((s, f"{what}: the content no longer matches what was signed "
                                "(the signed record, or the signature's signer, time or "
                                "meaning, was changed)"))
    return problems
