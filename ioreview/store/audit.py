"""The audit chain: append-only records, each one's hash covering its content and the previous
hash, keyed with the per-trial key so that rewriting it needs the key.

21 CFR Part 11 style tamper evidence, in three layers:

* the database refuses UPDATE and DELETE of audit records (triggers; on PostgreSQL also the
  grants of the application role, `postgres.grants_script`);
* the chain is keyed: every record after the trial's *seal* carries HMAC-SHA256 under the
  trial key (kept outside the database, `trial_key.py`) of its sequence number, the previous
  MAC and its content, so someone who can write the database file and read this source, but
  does not hold the key, cannot recompute a chain that verifies;
* its head and length are anchored outside the database (the sidecar journal, `anchor.py`,
  and every export manifest, `append_anchor` / `read_anchor` below), so deleting the
  newest records is seen too.

The seal: databases from before the keyed chain (schema < 7) hold a plain SHA-256 chain.  When
one is first opened with a key, the old chain is verified and the *seal record* is appended in
the same transaction as schema 7: an audit record (action "seal") keyed like all that follow,
whose MAC covers the previous record's hash, so the unkeyed prefix can no longer change either
without breaking the seal.  Problems found in the prefix at that moment are written into the
seal and reported by every verification afterwards; the seal does not bless them.  A new
database is sealed the same way right after its first migrations (its prefix is the migration
records).  The key's fingerprint and the seal's sequence number are kept in `audit_seal`.

Appending reads the last record and inserts after it, so the caller must hold the backend's
append lock (SQLite: the single write lock of BEGIN IMMEDIATE; PostgreSQL: a transaction-scoped
advisory lock) for the chain to stay one line under concurrent writers.
"""
from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .trial_key import keyed_digest

GENESIS_HASH = "0" * 64
#: the action of the record that seals the chain under the trial key
SEAL_ACTION = "seal"
_SEP = "\x1f"


def utc_now() -> str:
    """ISO 8601 UTC timestamp with microseconds: sortable text, portable across backends."""
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def canonical_json(value: Any) -> str:
    """The one canonical JSON text used for audit payloads and signed content."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=str)


def audit_hash(prev_hash: str, at: str, actor: str, action: str, entity: str,
               entity_id: str, before: str | None, after: str | None) -> str:
    """Plain SHA-256 of one record chained to the previous one (records before the seal)."""
    h = hashlib.sha256()
    for part in (prev_hash, at, actor, action, entity, entity_id, before or "", after or ""):
        h.update(part.encode("utf-8"))
        h.update(b"\x1f")
    return h.hexdigest()


def audit_mac(key: bytes, seq: int, prev_hash: str, at: str, actor: str, action: str,
              entity: str, entity_id: str, before: str | None, after: str | None) -> str:
    """HMAC-SHA256 (under the trial key's "audit-chain" sub-key) of one record: its sequence
    number, the previous record's MAC and its content."""
    text = _SEP.join((str(seq), prev_hash, at, actor, action, entity, entity_id, before or "",
                      after or ""))
    return keyed_digest(key, "audit-chain", text)


@dataclass(frozen=True)
class AuditRecord:
    seq: int
    at: str
    actor: str
    action: str
    entity: str
    entity_id: str
    before: Any
    after: Any
    prev_hash: str
    hash: str


@dataclass(frozen=True)
class PendingAudit:
    actor: str
    action: str
    entity: str
    entity_id: str
    before: str | None
    after: str | None


@dataclass(frozen=True)
class ChainProblem:
    """One thing wrong in the audit chain: the record (sequence number, 0 for the chain as a
    whole) and what is wrong with it, in words an inspector understands."""

    seq: int
    message: str
    #: "chain" (the records themselves) or "anchor" (disagreement with an anchor outside)
    kind: str = "chain"


def chain(prev: str, at: str, pending: list[PendingAudit], *, key: bytes | None = None,
          next_seq: int = 1) -> list[tuple[Any, ...]]:
    """Rows (seq, at, actor, action, entity, entity_id, before, after, prev_hash, hash) for the
    pending records, chained after `prev`; keyed (HMAC) when `key` is given, else plain
    SHA-256 (only before the seal)."""
    rows = []
    seq = next_seq
    for p in pending:
        if key is None:
            h = audit_hash(prev, at, p.actor, p.action, p.entity, p.entity_id, p.before, p.after)
        else:
            h = audit_mac(key, seq, prev, at, p.actor, p.action, p.entity, p.entity_id,
                          p.before, p.after)
        rows.append((seq, at, p.actor, p.action, p.entity, p.entity_id, p.before, p.after,
                     prev, h))
        prev = h
        seq += 1
    return rows


def _describe(seq: int, at: str, actor: str, action: str, entity: str, eid: str) -> str:
    return f"audit record {seq} ({action} {entity} {eid} by {actor} at {at})"


def verify_rows(rows: Iterable[Sequence[Any]], key: bytes | None = None,
                sealed_seq: int | None = None) -> list[ChainProblem]:
    """Problems found walking the chain over (seq, at, actor, action, entity, entity_id, before,
    after, prev_hash, hash) rows in seq order (empty when intact).

    Records before `sealed_seq` are checked as plain SHA-256, the seal and every later record
    with `key`; without a key (or a seal) the whole chain is checked as plain SHA-256, which
    only shows accidental damage."""
    problems: list[ChainProblem] = []
    prev = GENESIS_HASH
    expected_seq = 1
    last_at = ""
    for seq, at, actor, action, entity, eid, before, after, prev_hash, h in rows:
        seq = int(seq)
        what = _describe(seq, at, actor, action, entity, eid)
        if seq != expected_seq:
            if seq > expected_seq:
                missing = (f"record {expected_seq} is" if seq == expected_seq + 1 else
                           f"records {expected_seq} to {seq - 1} are")
                problems.append(ChainProblem(expected_seq, f"audit {missing} missing (deleted "
                                             f"from the middle of the trail before {what})"))
            else:
                problems.append(ChainProblem(seq, f"{what} is out of sequence (records were "
                                             "renumbered or inserted)"))
        if prev_hash != prev:
            problems.append(ChainProblem(seq, f"{what}: its link to the previous record is "
                                         "broken (a record before it was removed, inserted "
                                         "or rewritten)"))
        keyed = key is not None and sealed_seq is not None and seq >= sealed_seq
        if keyed:
            assert key is not None
            good = audit_mac(key, seq, prev_hash, at, actor, action, entity, eid, before,
                             after) == h
            if not good:
                problems.append(ChainProblem(seq, f"{what}: the record is not authenticated "
                                             "by the trial key: its content was changed, or it "
                                             "was forged or recomputed without the key"))
        elif audit_hash(prev_hash, at, actor, action, entity, eid, before, after) != h:
            problems.append(ChainProblem(seq, f"{what}: its content does not match its hash "
                                         "(the record was edited)"))
        if at < last_at:
            problems.append(ChainProblem(seq, f"{what}: its time runs backwards (the record "
                                         f"before it is dated {last_at})"))
        last_at = max(last_at, at)
        prev = h
        expected_seq = seq + 1
    return problems


# -- the anchor journal -------------------------------------------------------------------------
@dataclass(frozen=True)
class Anchor:
    """The chain's length and head at one moment, kept outside the database (a line of the
    anchor journal, or an export manifest)."""

    seq: int
    head: str
    at: str
    source: str


def _line(seq: int, head: str, at: str) -> bytes:
    return f"{seq}\t{head}\t{at}\n".encode("ascii")


def append_anchor(path: Path, seq: int, head: str, at: str) -> None:
    """Append one line `seq head at` to the anchor journal (created 0600) and sync it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, _line(seq, head, at))
        os.fdatasync(fd)
    finally:
        os.close(fd)


class AnchorJournal:
    """The anchor journal of one database, appended after each commit that added audit
    records.  A line is one `write` to a file opened with O_APPEND (a killed process never
    leaves half a line before another's); a background thread syncs the file (fdatasync) right
    after, so a use case does not wait for a second disk flush (one group commit per burst).
    Only a power cut within those milliseconds can lose the newest lines, which leaves the
    journal behind the database: weaker, never a false alarm.  `close` syncs and closes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None
        self._lock = threading.Lock()
        self._dirty = threading.Event()
        self._closed = False
        self._thread: threading.Thread | None = None

    def append(self, seq: int, head: str, at: str) -> None:
        with self._lock:
            if self._closed:
                append_anchor(self.path, seq, head, at)
                return
            if self._fd is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            os.write(self._fd, _line(seq, head, at))
            if self._thread is None:
                self._thread = threading.Thread(target=self._sync, daemon=True,
                                                name="ioreview-anchor-sync")
                self._thread.start()
        self._dirty.set()

    def _sync(self) -> None:
        while True:
            self._dirty.wait()
            self._dirty.clear()
            fd = self._fd
            if fd is not None:
                try:
                    os.fdatasync(fd)
                except OSError:
                    pass  # reported by the next verification as a journal behind the trail
            if self._closed:
                return

    def close(self) -> None:
        with self._lock:
            self._closed = True
            thread = self._thread
        self._dirty.set()
        if thread is not None:
            thread.join()
        with self._lock:
            if self._fd is not None:
                try:
                    os.fdatasync(self._fd)
                finally:
                    os.close(self._fd)
                    self._fd = None


def read_anchor(path: Path) -> tuple[list[Anchor], list[str]]:
    """The anchors of a journal, and the lines that could not be read (a half-written last line
    after a crash is ignored).  A missing journal has no anchors."""
    try:
        text = path.read_text("ascii", errors="replace")
    except FileNotFoundError:
        return [], []
    lines = text.split("\n")
    anchors, bad = [], []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        parts = line.split("\t")
        try:
            seq, head, at = int(parts[0]), parts[1], parts[2]
            if len(parts) != 3 or len(head) != 64:
                raise ValueError
        except (ValueError, IndexError):
            if n < len(lines):  # not the unterminated last line
                bad.append(f"{path}, line {n}: {line[:80]!r}")
            continue
        anchors.append(Anchor(seq, head, at, f"{path.name}, line {n}"))
    return anchors, bad


def check_anchors(anchors: Iterable[Anchor], heads: dict[int, str], length: int
                  ) -> list[ChainProblem]:
    """Compare anchors with the chain (`heads`: seq -> hash; `length`: the last seq): the
    furthest anchor beyond the end of the trail, and the earliest anchored record that differs."""
    problems = []
    anchors = list(anchors)
    beyond = [a for a in anchors if a.seq > length]
    if beyond:
        a = max(beyond, key=lambda a: a.seq)
        problems.append(ChainProblem(length + 1, (
            f"the trail ends at record {length}, but {a.source} shows it held record {a.seq} "
            f"at {a.at}: {a.seq - length} record(s) at the end were deleted"), "anchor"))
    differing = [a for a in anchors if 0 < a.seq <= length and heads.get(a.seq) != a.head]
    if differing:
        a = min(differing, key=lambda a: a.seq)
        problems.append(ChainProblem(a.seq, (
            f"audit record {a.seq} is not the one {a.source} recorded at {a.at}"
            + (f" (and {len(differing) - 1} later anchor(s) disagree too)"
               if len(differing) > 1 else "")
            + ": the trail was rewritten from that record or earlier"), "anchor"))
    return problems


def locate_rewrite(rows: Sequence[Sequence[Any]], key: bytes, sealed_seq: int,
                   anchors: Iterable[Anchor]) -> ChainProblem | None:
    """Where a rewritten (recomputed) chain was changed: the keyed chain recomputed from the
    records' content is compared with the anchors; records up to the last anchor it still
    reaches are as they were, the change lies between that anchor and the next one."""
    true: dict[int, str] = {}
    prev = GENESIS_HASH
    for seq, at, actor, action, entity, eid, before, after, _prev, h in rows:
        seq = int(seq)
        if seq < sealed_seq:
            prev = h
            continue
        prev = true[seq] = audit_mac(key, seq, prev, at, actor, action, entity, eid, before,
                                     after)
    anchored = sorted((a for a in anchors if a.seq in true), key=lambda a: a.seq)
    bad = next((a for a in anchored if true[a.seq] != a.head), None)
    if bad is None:
        return None
    good = max((a.seq for a in anchored if a.seq < bad.seq and true[a.seq] == a.head),
               default=sealed_seq - 1)
    first = good + 1
    return ChainProblem(0, (
        f"audit records {first} to {bad.seq} are not what was written: recomputed from their "
        f"content under the trial key, the trail no longer reaches the head anchored at "
        f"{bad.at} ({bad.source}), while records up to {good} still match their anchor: "
        "a record in that range was edited, inserted or deleted"))
