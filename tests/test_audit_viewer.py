"""The audit viewer: its use cases on both backends (filters, paging, the case filter, CSV
export) and the screen acting as a coordinator (filters, before/after, verification)."""
from __future__ import annotations

import csv
import hashlib
from datetime import date, datetime, timedelta, timezone

import pytest

from ioreview.service import (AuditLogFilter, InvalidInput, NotFound, PermissionDenied)
from test_trial_helpers import (PASSWORDS, World, complete_values, fast_kdf,  # noqa: F401
                                make_world)


def _sign_first_read(w: World, reader: str = "reader1") -> tuple[str, int]:
    """`reader` signs the first case of their worklist; its label and read id."""
    session = w.login(reader)
    item = w.trial.worklist(session)[0]
    view = w.trial.open_case(session, item.assignment_id)
    w.trial.save_draft(session, view.read_id, complete_values(view.timepoint))
    w.trial.submit_read(session, view.read_id, PASSWORDS[reader])
    return view.case_label, view.read_id




@pytest.mark.usefixtures("trial_backend", "fast_kdf")
class TestAuditLogService:
    def test_filters_page_and_count(self, tmp_path):
        w = make_world(tmp_path)
        label, read_id = _sign_first_read(w)
        coord = w.login("coord")
        everything = w.trial.audit_log(coord, limit=5)
        assert everything.total >= 50 and len(everything.entries) == 5
        seqs = [e.seq for e in everything.entries]
        assert seqs == sorted(seqs, reverse=True)  # newest first
        second = w.trial.audit_log(coord, limit=5, offset=5)
        assert second.entries[0].seq == seqs[-1] - 1 and second.total == everything.total

        by_reader = w.trial.audit_log(coord, user="reader1", limit=500)
        assert by_reader.total == len(by_reader.entries) > 0
        assert {e.actor for e in by_reader.entries} == {"reader1"}
        assert {"submit", "save_draft", "sign", "login"} <= {e.action for e in by_reader.entries}

        signs = w.trial.audit_log(coord, action="sign")
        assert signs.total == 1
        (sign,) = signs.entries
        assert sign.entity == "signature" and sign.after["read"] == read_id
        assert sign.after["meaning"] == "I confirm this read"
        assert sign.at_utc.endswith("+00:00") and len(sign.at_local) == 19

        actions = w.trial.audit_actions(coord)
        assert actions == sorted(actions) and {"sign", "create", "install"} <= set(actions)
        assert "reader1" in w.trial.audit_actors(coord)

    def test_case_filter_finds_the_case_its_reads_and_signatures(self, tmp_path):
        w = make_world(tmp_path)
        label, read_id = _sign_first_read(w)
        coord = w.login("coord")
        page = w.trial.audit_log(coord, case=label, limit=500)
        kinds = {(e.entity, e.action) for e in page.entries}
        assert ("case", "create") in kinds
        assert ("assignment", "create") in kinds
        assert {("read", "start"), ("read", "save_draft"), ("read", "submit"),
                ("signature", "sign")} <= kinds
        assert all(e.entity_id == str(read_id) for e in page.entries if e.entity == "read")
        # another case's records are not there
        other = next(c.label for c in w.trial.list_cases(coord) if c.label != label)
        other_page = w.trial.audit_log(coord, case=other, limit=500)
        assert not {e.seq for e in other_page.entries} & {e.seq for e in page.entries}
        assert ("signature", "sign") not in {(e.entity, e.action) for e in other_page.entries}
        with pytest.raises(NotFound, match="No case is labelled"):
            w.trial.audit_log(coord, case="CASE-NONE")

    def test_time_filters(self, tmp_path):
        w = make_world(tmp_path)
        coord = w.login("coord")
        total = w.trial.audit_log(coord).total
        today = datetime.now().date()
        assert w.trial.audit_log(coord, since=today, until=today).total == total
        assert w.trial.audit_log(coord, since=today + timedelta(days=1)).total == 0
        assert w.trial.audit_log(coord, until=today - timedelta(days=1)).total == 0
        assert w.trial.audit_log(coord, since=today.isoformat()).total == total
        future = datetime.now(timezone.utc) + timedelta(hours=1)
        assert w.trial.audit_log(coord, until=future).total == total
        assert w.trial.audit_log(coord, since=future).total == 0
        with pytest.raises(InvalidInput, match="not a date"):
            w.trial.audit_log(coord, since="yesterday")
        with pytest.raises(InvalidInput, match="after the 'to' date"):
            w.trial.audit_log(coord, since=today, until=today - timedelta(days=2))
        with pytest.raises(InvalidInput):
            w.trial.audit_log(coord, limit=0)

    def test_export_csv_writes_what_the_filter_selects_and_is_audited(self, tmp_path):
        w = make_world(tmp_path)
        label, _read_id = _sign_first_read(w)
        coord = w.login("coord")
        out = tmp_path / "audit.csv"
        summary = w.trial.export_audit_csv(coord, out, AuditLogFilter(case=label))
        rows = list(csv.DictReader(out.open(encoding="utf-8", newline="")))
        assert summary.n_records == len(rows) == w.trial.audit_log(coord, case=label).total
        assert summary.sha256 == hashlib.sha256(out.read_bytes()).hexdigest()
        assert [int(r["seq"]) for r in rows] == sorted(int(r["seq"]) for r in rows)
        assert any(r["action"] == "sign" and '"meaning":"I confirm this read"' in r["after_json"]
                   for r in rows)
        (audited,) = w.trial.audit_log(coord, action="export_csv").entries
        assert audited.actor == "coord" and audited.after["sha256"] == summary.sha256
        assert audited.after["filter"]["case"] == label
        everything = w.trial.export_audit_csv(coord, tmp_path / "all.csv")
        assert everything.n_records == w.trial.audit_log(coord).total - 1  # not its own record
        with pytest.raises(InvalidInput, match="does not exist"):
            w.trial.export_audit_csv(coord, tmp_path / "missing" / "a.csv")

    def test_readers_and_adjudicators_are_refused(self, tmp_path):
        w = make_world(tmp_path)
        for name in ("reader1", "adjudicator"):
            session = w.login(name)
            for call in (lambda s: w.trial.audit_log(s), w.trial.audit_actions,
                         w.trial.audit_actors,
                         lambda s: w.trial.export_audit_csv(s, tmp_path / "x.csv")):
                with pytest.raises(PermissionDenied):
                    call(session)
        assert not (tmp_path / "x.csv").exists()
