"""The coordinator's assignment table and reassignment, on SQLite and PostgreSQL."""
from __future__ import annotations

import pytest

from ioreview.errors import BlindingViolation, InvalidInput, ReadLocked
from ioreview.service import AssignmentPurpose, ReadStatus
from test_trial_helpers import PASSWORDS, complete_values, fast_kdf, make_world  # noqa: F401

pytestmark = pytest.mark.usefixtures("trial_backend", "fast_kdf")


def _entries(w, coord):
    return w.trial.assignment_table(coord).entries


def _target_for(w, coord, entry) -> str:
    """A reader who has no part of the entry's case."""
    holders = {e.reader for e in _entries(w, coord) if e.case_id == entry.case_id}
    return next(name for name in ("reader1", "reader2", "reader3") if name not in holders)


def test_table_marks_hidden_rereads_and_explains_the_worklist_totals(tmp_path):
    w = make_world(tmp_path)
    coord = w.login("coord")
    table = w.trial.assignment_table(coord)
    rereads = [e for e in table.entries if e.purpose is AssignmentPurpose.HIDDEN_REREAD]
    assert rereads and all(not e.available_now for e in rereads)  # still in the washout
    assert all(e.reread_label and e.reread_label != e.case_label for e in rereads)
    assert {e.status for e in table.entries} == {ReadStatus.NEW}
    for totals in table.readers:
        mine = [e for e in table.entries if e.reader_id == totals.reader_id]
        assert totals.assigned == len(mine)
        assert sorted(e.position for e in mine) == list(range(1, len(mine) + 1))
        assert totals.hidden_rereads == sum(e.purpose is AssignmentPurpose.HIDDEN_REREAD
                                            for e in mine) >= 1
        worklist = w.trial.worklist(w.login(totals.reader))
        assert totals.in_worklist == len(worklist) == totals.assigned - totals.not_yet_available
        # what the worklist shows is exactly the available rows, in the table's order
        assert [i.assignment_id for i in worklist] == [
            e.assignment_id for e in sorted(mine, key=lambda e: e.position) if e.available_now]


def test_reassign_moves_the_case_between_worklists_with_an_audited_reason(tmp_path):
    w = make_world(tmp_path)
    coord = w.login("coord")
    entry = next(e for e in _entries(w, coord) if e.purpose is AssignmentPurpose.PRIMARY)
    old = w.login(entry.reader)
    new_name = _target_for(w, coord, entry)
    new = w.login(new_name)
    assert entry.case_label in {i.case_label for i in w.trial.worklist(old)}  # cached now
    assert entry.case_label not in {i.case_label for i in w.trial.worklist(new)}

    with pytest.raises(InvalidInput, match="reason"):
        w.trial.reassign(coord, entry.assignment_id, w.user_ids[new_name], "  ")
    with pytest.raises(InvalidInput, match="not an active reader"):
        w.trial.reassign(coord, entry.assignment_id, w.user_ids["adjudicator"], "leave")
    holder = next(e.reader for e in _entries(w, coord)
                  if e.case_id == entry.case_id and e.reader != entry.reader)
    with pytest.raises(InvalidInput, match="already has case"):
        w.trial.reassign(coord, entry.assignment_id, w.user_ids[holder], "leave")

    result = w.trial.reassign(coord, entry.assignment_id, w.user_ids[new_name],
                              "Reader on leave until March")
    assert (result.from_reader, result.to_reader, result.draft_withdrawn) == (
        entry.reader, new_name, False)
    assert entry.case_label not in {i.case_label for i in w.trial.worklist(old)}
    new_items = w.trial.worklist(new)
    assert entry.case_label == new_items[-1].case_label  # at the end of the new reader's list
    with pytest.raises(BlindingViolation):
        w.trial.open_case(old, entry.assignment_id)
    assert "image_quality" not in w.trial.open_case(new, entry.assignment_id).values
    moved = next(e for e in _entries(w, coord) if e.assignment_id == entry.assignment_id)
    assert moved.reader == new_name
    records = w.store.audit_records(entity="assignment", entity_id=entry.assignment_id)
    last = records[-1]
    assert last.action == "reassign" and last.actor == "coord"
    assert last.after["reason"] == "Reader on leave until March"
    assert last.before["reader"] == w.user_ids[entry.reader]
    assert last.after["reader"] == w.user_ids[new_name]


def test_a_draft_is_withdrawn_and_a_signed_read_stays(tmp_path):
    w = make_world(tmp_path)
    coord = w.login("coord")
    reader1 = w.login("reader1")
    items = w.trial.worklist(reader1)
    # reader1 signs the first case and leaves a draft on the second
    signed = w.trial.open_case(reader1, items[0].assignment_id)
    w.trial.save_draft(reader1, signed.read_id, complete_values(signed.timepoint))
    w.trial.submit_read(reader1, signed.read_id, PASSWORDS["reader1"])
    draft = w.trial.open_case(reader1, items[1].assignment_id)
    w.trial.save_draft(reader1, draft.read_id, {"image_quality": "limited"},
                       active_seconds=42)

    entries = {e.assignment_id: e for e in _entries(w, coord)}
    assert entries[items[0].assignment_id].status is ReadStatus.SUBMITTED
    assert entries[items[1].assignment_id].status is ReadStatus.IN_PROGRESS
    target = _target_for(w, coord, entries[items[0].assignment_id])
    with pytest.raises(ReadLocked, match="signed"):
        w.trial.reassign(coord, items[0].assignment_id, w.user_ids[target], "leave")

    target = _target_for(w, coord, entries[items[1].assignment_id])
    result = w.trial.reassign(coord, items[1].assignment_id, w.user_ids[target], "leave")
    assert result.draft_withdrawn
    new = w.login(target)
    view = w.trial.open_case(new, items[1].assignment_id)
    assert view.read_id == draft.read_id  # the assignment's read, emptied
    assert "image_quality" not in view.values and view.elapsed_s == 0  # starts empty
    assert items[1].assignment_id not in {i.assignment_id for i in w.trial.worklist(reader1)}
    withdrawn = next(r for r in w.store.audit_records(entity="read", entity_id=draft.read_id)
                     if r.action == "withdraw")
    assert withdrawn.actor == "coord"
    assert withdrawn.before["values"] == {"image_quality": "limited"}
    assert withdrawn.before["active_seconds"] == pytest.approx(42)
    assert withdrawn.after == {"reason": "leave"}
    # the trail still verifies (no signed read was touched)
    assert w.trial.verify_audit_trail(coord).problems == ()


def test_a_hidden_reread_moves_only_with_its_primary_read(tmp_path):
    w = make_world(tmp_path)
    coord = w.login("coord")
    entries = _entries(w, coord)
    reread = next(e for e in entries if e.purpose is AssignmentPurpose.HIDDEN_REREAD)
    target = _target_for(w, coord, reread)
    with pytest.raises(InvalidInput, match="hidden re-read"):
        w.trial.reassign(coord, reread.assignment_id, w.user_ids[target], "leave")
    primary = next(e for e in entries if e.case_id == reread.case_id
                   and e.reader == reread.reader and e.purpose is AssignmentPurpose.PRIMARY)
    result = w.trial.reassign(coord, primary.assignment_id, w.user_ids[target], "leave")
    assert result.moved_rereads == (reread.assignment_id,)
    after = {e.assignment_id: e for e in _entries(w, coord)}
    assert after[reread.assignment_id].reader == target
    assert after[primary.assignment_id].reader == target
    assert after[reread.assignment_id].position > after[primary.assignment_id].position
    assert not after[reread.assignment_id].available_now  # its washout is kept
