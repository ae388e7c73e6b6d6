"""The read: drafts, validation, signature, lock, amendment, expiry, protocol change, progress."""
from __future__ import annotations

import pytest

from adjudication.protocol import default_protocol_path
from ioreview.imaging.header import IDENTIFYING_FIELDS
from ioreview.service import (AccountLocked, Annotation, InvalidInput, KeyImage, ReadIncomplete,
                            ReadLocked, ReadStatus, SessionExpired, SignatureRejected, Trial)
from ioreview.store.engine import ProtectedRecord
from test_trial_cases import add_studies_extra
from test_trial_helpers import PASSWORDS, complete_values, fast_kdf, make_world  # noqa: F401

#: the service suite runs on both backends (tests/conftest.py)
pytestmark = pytest.mark.usefixtures("trial_backend", "fast_kdf")


def _open_first(w, name="reader1", timepoint=None):
    session = w.login(name)
    items = w.trial.worklist(session)
    item = next(i for i in items if timepoint is None or i.timepoint == timepoint)
    return session, w.trial.open_case(session, item.assignment_id)


def test_open_case_starts_a_blinded_draft(tmp_path):
    w = make_world(tmp_path)
    session, view = _open_first(w, timepoint="follow-up")
    assert view.status is ReadStatus.IN_PROGRESS and view.values == {} and view.version == 1
    assert view.days_from_insertion == 14 and view.timepoint == "follow-up"
    assert view.protocol.id == "io-site-complications" and view.protocol_notice == ""
    assert len(view.series) == 1 and view.series[0].modality == "MR"
    assert view.series[0].n_instances == 2 and len(view.series[0].headers) == 2
    # priors = earlier_timepoints: the subject's baseline and post-insertion studies
    assert [(p.timepoint, p.days_from_insertion) for p in view.priors] == [
        ("baseline", -1), ("post-insertion", 0)]
    for series in [*view.series, *(s for p in view.priors for s in p.series)]:
        for h in series.headers:
            assert all(getattr(h, f) == "" for f in IDENTIFYING_FIELDS)
    item = next(i for i in w.trial.worklist(session) if i.assignment_id == view.assignment_id)
    assert item.status is ReadStatus.IN_PROGRESS and item.read_id == view.read_id
    # Opening again resumes the same read.
    assert w.trial.open_case(session, view.assignment_id).read_id == view.read_id


def test_no_priors_when_the_protocol_says_none(tmp_path):
    text = default_protocol_path().read_text(encoding="utf-8").replace(
        'priors = "earlier_timepoints"', 'priors = "none"')
    w = make_world(tmp_path, protocol_text=text)
    _session, view = _open_first(w, timepoint="follow-up")
    assert view.priors == ()


def test_draft_autosave_keeps_everything(tmp_path):
    w = make_world(tmp_path)
    session, view = _open_first(w, timepoint="post-insertion")
    uid = view.series[0].headers[0].sop_instance_uid
    ann = Annotation(None, "extravasation", "ellipse", uid, 0, ((1.0, 2.0), (3.5, 4.0)),
                     {"area_mm2": 12.5, "mean_hu": 35.0}, "leak")
    state = w.trial.save_draft(session, view.read_id,
                               {"image_quality": "limited", "extravasation.presence": "present"},
                               annotations=[ann], key_images=[KeyImage(uid, 0, "best view")],
                               active_seconds=30)
    assert (state.n_values, state.n_annotations, state.n_key_images) == (2, 1, 1)
    w.trial.save_draft(session, view.read_id, {"image_quality": "adequate"}, active_seconds=15)
    again = w.trial.open_case(session, view.assignment_id)
    assert again.values == {"image_quality": "adequate"}  # values replace the draft's values
    assert again.elapsed_s == 45
    (stored,) = again.annotations
    assert stored.id is not None and stored.points == ((1.0, 2.0), (3.5, 4.0))
    assert stored.measurements == {"area_mm2": 12.5, "mean_hu": 35.0}
    assert again.key_images == (KeyImage(uid, 0, "best view"),)


def test_unknown_fields_and_bad_annotations_are_rejected_and_nothing_is_saved(tmp_path):
    w = make_world(tmp_path)
    session, view = _open_first(w)
    w.trial.save_draft(session, view.read_id, {"image_quality": "adequate"})
    with pytest.raises(InvalidInput, match="'no_such_field'"):
        w.trial.save_draft(session, view.read_id, {"image_quality": "limited",
                                                   "no_such_field": 1})
    outside = w.headers[-1].sop_instance_uid
    with pytest.raises(InvalidInput, match="not part of this case"):
        w.trial.save_draft(session, view.read_id, {}, annotations=[
            Annotation(None, None, "point", outside, 0, ((1.0, 1.0),), {}, "")])
    uid = view.series[0].headers[0].sop_instance_uid
    with pytest.raises(InvalidInput, match="unknown kind"):
        w.trial.save_draft(session, view.read_id, {}, annotations=[
            Annotation(None, None, "scribble", uid, 0, ((1.0, 1.0),), {}, "")])
    with pytest.raises(InvalidInput, match="not a finding"):
        w.trial.save_draft(session, view.read_id, {}, annotations=[
            Annotation(None, "tumour", "point", uid, 0, ((1.0, 1.0),), {}, "")])
    with pytest.raises(InvalidInput, match="negative"):
        w.trial.save_draft(session, view.read_id, {}, active_seconds=-5)
    assert w.trial.open_case(session, view.assignment_id).values == {"image_quality": "adequate"}


def test_validation_messages_name_the_fields(tmp_path):
    w = make_world(tmp_path)
    session, view = _open_first(w)
    values = complete_values(view.timepoint)
    values.update({"extravasation.presence": "present", "extravasation.confidence": 5,
                   "extravasation.max_size_cm": 99})
    del values["side"]
    w.trial.save_draft(session, view.read_id, values)
    problems = {p.field_key: p.message for p in w.trial.validate_read(session, view.read_id)}
    assert "Side of the IO site is required" in problems["side"]
    assert "extravasation.max_size_cm" in problems and "50" in problems[
        "extravasation.max_size_cm"]
    assert "extravasation.compartment" in problems and "required" in problems[
        "extravasation.compartment"]
    with pytest.raises(ReadIncomplete) as incomplete:
        w.trial.submit_read(session, view.read_id, PASSWORDS["reader1"])
    assert {p.field_key for p in incomplete.value.problems} == set(problems)
    assert "Side of the IO site is required" in str(incomplete.value)
    assert w.trial.open_case(session, view.assignment_id).status is ReadStatus.IN_PROGRESS


def test_full_lifecycle_sign_lock_amend(tmp_path):
    w = make_world(tmp_path)
    session, view = _open_first(w)
    values = complete_values(view.timepoint)
    w.trial.save_draft(session, view.read_id, values, active_seconds=60)
    with pytest.raises(SignatureRejected, match="NOT signed") as rejected:
        w.trial.submit_read(session, view.read_id, "wrong password")
    assert "4 attempt(s) left" in str(rejected.value)
    signature = w.trial.submit_read(session, view.read_id, PASSWORDS["reader1"])
    assert signature.meaning == "I confirm this read" and signature.signer == "reader1"
    assert len(signature.content_sha256) == 64 and signature.version == 1
    locked = w.trial.open_case(session, view.assignment_id)
    assert locked.status is ReadStatus.SUBMITTED and locked.values == values
    with pytest.raises(ReadLocked, match="Amend"):
        w.trial.save_draft(session, view.read_id, {"image_quality": "limited"})
    with pytest.raises(ReadLocked):
        w.trial.submit_read(session, view.read_id, PASSWORDS["reader1"])
    # Amendment: reason required, signature required, new version, old kept.
    with pytest.raises(InvalidInput, match="reason"):
        w.trial.amend_read(session, view.read_id, " ", {"image_quality": "limited"},
                           PASSWORDS["reader1"])
    with pytest.raises(SignatureRejected):
        w.trial.amend_read(session, view.read_id, "typo", {"image_quality": "limited"},
                           "wrong password")
    with pytest.raises(ReadIncomplete):
        w.trial.amend_read(session, view.read_id, "typo", {"side": None}, PASSWORDS["reader1"])
    amended = w.trial.amend_read(session, view.read_id, "re-checked the quality",
                                 {"image_quality": "limited"}, PASSWORDS["reader1"])
    assert amended.version == 2 and amended.content_sha256 != signature.content_sha256
    history = w.trial.read_history(session, view.read_id)
    assert [h.version for h in history] == [1, 2]
    assert history[0].values == values and history[0].signature == signature
    assert history[1].values == {**values, "image_quality": "limited"}
    assert history[1].amendment_reason == "re-checked the quality"
    assert history[1].signature == amended
    assert w.trial.open_case(session, view.assignment_id).values["image_quality"] == "limited"
    assert w.store.verify_audit_chain() == []


def test_wrong_signature_passwords_lock_the_account(tmp_path):
    w = make_world(tmp_path)
    session, view = _open_first(w)
    w.trial.save_draft(session, view.read_id, complete_values(view.timepoint))
    for _ in range(4):
        with pytest.raises(SignatureRejected):
            w.trial.submit_read(session, view.read_id, "wrong password")
    with pytest.raises(AccountLocked):
        w.trial.submit_read(session, view.read_id, "wrong password")
    with pytest.raises(AccountLocked):
        w.trial.worklist(session)
    w.clock.advance(15 * 60 + 1)
    session = w.login("reader1")
    # The draft survived every failure.
    assert w.trial.submit_read(session, view.read_id, PASSWORDS["reader1"]).version == 1


def test_expired_session_loses_nothing(tmp_path):
    w = make_world(tmp_path)
    session, view = _open_first(w)
    w.trial.save_draft(session, view.read_id, {"image_quality": "adequate"})
    w.clock.advance(3600)
    with pytest.raises(SessionExpired):
        w.trial.save_draft(session, view.read_id, {"image_quality": "adequate", "side": "left"})
    w.trial.unlock(session, PASSWORDS["reader1"])
    assert w.trial.open_case(session, view.assignment_id).values == {"image_quality": "adequate"}
    w.trial.save_draft(session, view.read_id, {"image_quality": "adequate", "side": "left"})
    assert w.trial.open_case(session, view.assignment_id).values == {
        "image_quality": "adequate", "side": "left"}


def _protocol_v11() -> str:
    text = default_protocol_path().read_text(encoding="utf-8")
    text = text.replace('version = "1.0.0"', 'version = "1.1.0"', 1)
    return text.replace('''[[read_fields]]
id = "read_comment"''', '''[[read_fields]]
id = "contrast_given"
label = "Contrast given"
type = "boolean"
required = true

[[read_fields]]
id = "read_comment"''', 1)


def test_protocol_change_mid_study(tmp_path):
    w = make_world(tmp_path)
    session = w.login("reader1")
    first, second = w.trial.worklist(session)[:2]
    old = w.trial.open_case(session, first.assignment_id)
    w.trial.save_draft(session, old.read_id, complete_values(old.timepoint))
    info = w.trial.install_protocol(w.admin, "io-v1.1.toml", _protocol_v11())
    assert info.version == "1.1.0" and info.active
    assert [v.version for v in w.trial.protocol_versions(w.admin)] == ["1.0.0", "1.1.0"]
    resumed = w.trial.open_case(session, first.assignment_id)
    assert resumed.protocol_version_id == old.protocol_version_id
    assert resumed.protocol.version == "1.0.0"
    assert "1.1.0 is now active" in resumed.protocol_notice
    # The draft is signed under the version it was started with.
    w.trial.submit_read(session, old.read_id, PASSWORDS["reader1"])
    new = w.trial.open_case(session, second.assignment_id)
    assert new.protocol_version_id == info.id and new.protocol_notice == ""
    w.trial.save_draft(session, new.read_id, complete_values(new.timepoint))
    problems = w.trial.validate_read(session, new.read_id)
    assert [p.field_key for p in problems] == ["contrast_given"]
    with pytest.raises(InvalidInput, match="already installed with different content"):
        w.trial.install_protocol(w.admin, "edited.toml",
                                 _protocol_v11().replace("Contrast given", "Contrast"))
    # Re-installing identical text re-activates that version; every version is kept.
    again = w.trial.install_protocol(w.admin, default_protocol_path())
    assert again.id == old.protocol_version_id and again.active
    assert len(w.trial.protocol_versions(w.admin)) == 2


def test_invalid_protocol_passes_through_with_line_numbers(tmp_path):
    from ioreview.errors import InvalidProtocol

    w = make_world(tmp_path, assign=False)
    text = default_protocol_path().read_text(encoding="utf-8").replace(
        "readers_per_case = 2", "readers_per_case = 0")
    with pytest.raises(InvalidProtocol) as bad:
        w.trial.install_protocol(w.admin, "bad.toml", text)
    assert "bad.toml:" in str(bad.value)
    assert len(w.trial.protocol_versions(w.admin)) == 1


def test_progress_reports_reads_and_discordances(tmp_path):
    w = make_world(tmp_path, readers=2)
    s1, s2 = w.login("reader1"), w.login("reader2")
    items1 = {i.case_label: i for i in w.trial.worklist(s1)}
    items2 = {i.case_label: i for i in w.trial.worklist(s2)}
    labels = sorted(set(items1) & set(items2))[:2]
    for n, label in enumerate(labels):
        for session, items, name in ((s1, items1, "reader1"), (s2, items2, "reader2")):
            view = w.trial.open_case(session, items[label].assignment_id)
            values = complete_values(view.timepoint)
            if n == 0 and name == "reader2":
                values.update({"fracture.presence": "present", "fracture.confidence": 5,
                               "fracture.displacement": "displaced"})
            w.trial.save_draft(session, view.read_id, values)
            w.trial.submit_read(session, view.read_id, PASSWORDS[name])
    report = w.trial.progress(w.admin)
    assert report.cases_total == 9 and report.cases_complete == 2
    assert report.open_discordances == 1
    [case] = report.discordant_cases
    assert (case.case_label, case.fields) == (labels[0], ("fracture.presence",))
    assert case.evaluated_at.startswith("2026-09-21T")
    per = {p.reader: p for p in report.per_reader}
    assert per["Dr Reader1"].submitted == 2 and per["Dr Reader1"].assigned >= 9
    info = w.trial.info(w.admin)
    assert info.reads["submitted"] == 4 and info.cases == 9
    assert info.protocol == "io-site-complications 1.0.0"

    # An amendment that resolves the disagreement re-evaluates the case, with an audit record;
    # the earlier evaluation is kept, superseded.
    w.clock.advance(60)
    read_id = next(i.read_id for i in w.trial.worklist(s2) if i.case_label == labels[0])
    w.trial.amend_read(s2, read_id, "second look: no fracture",
                       {"fracture.presence": "absent", "fracture.confidence": 1,
                        "fracture.displacement": None}, PASSWORDS["reader2"])
    report = w.trial.progress(w.admin)
    assert report.open_discordances == 0 and report.discordant_cases == []
    evaluations = [r for r in w.store.audit_records("discordance") if r.action == "evaluate"]
    assert [r.after["cause"] for r in evaluations] == ["locked", "locked", "amended"]
    assert evaluations[-1].before == {"fields": ["fracture.presence"]}
    assert evaluations[-1].after["fields"] == []


def test_discordance_is_evaluated_once_when_the_last_read_locks(tmp_path):
    """Progress reads the stored evaluation: it does not change unless a read is amended."""
    w = make_world(tmp_path, readers=2)
    s1, s2 = w.login("reader1"), w.login("reader2")
    items1 = {i.case_label: i for i in w.trial.worklist(s1)}
    items2 = {i.case_label: i for i in w.trial.worklist(s2)}
    label = sorted(set(items1) & set(items2))[0]
    view1 = w.trial.open_case(s1, items1[label].assignment_id)
    w.trial.save_draft(s1, view1.read_id, complete_values(view1.timepoint))
    w.trial.submit_read(s1, view1.read_id, PASSWORDS["reader1"])
    assert w.store.audit_records("discordance") == []  # one read locked: nothing to compare
    view2 = w.trial.open_case(s2, items2[label].assignment_id)
    w.trial.save_draft(s2, view2.read_id, complete_values(view2.timepoint, side="right"))
    w.trial.submit_read(s2, view2.read_id, PASSWORDS["reader2"])
    [evaluation] = w.store.audit_records("discordance")
    assert evaluation.after["fields"] == ["side"] and evaluation.after["cause"] == "locked"
    for _ in range(3):
        assert [c.fields for c in w.trial.progress(w.admin).discordant_cases] == [("side",)]
    assert len(w.store.audit_records("discordance")) == 1


def test_audit_verification_rechecks_signatures_against_the_signed_read(tmp_path):
    """A signed read's value changed behind the service's back no longer matches its signature,
    even though the audit chain itself is untouched."""
    w = make_world(tmp_path, readers=2)
    s1 = w.login("reader1")
    item = w.trial.worklist(s1)[0]
    view = w.trial.open_case(s1, item.assignment_id)
    w.trial.save_draft(s1, view.read_id, complete_values(view.timepoint))
    signature = w.trial.submit_read(s1, view.read_id, PASSWORDS["reader1"])
    assert w.trial.verify_audit_trail(w.admin).intact
    tampered = {**complete_values(view.timepoint), "fracture.presence": "present"}
    with pytest.raises(ProtectedRecord, match="signed read version cannot be changed"):
        with w.store.unit_of_work("intruder") as uow:  # the port, not the service: no checks
            uow.reads.replace_values(view.read_id, 1, tampered, {})
    assert w.trial.verify_audit_trail(w.admin).intact
    with w.store.unit_of_work("intruder") as uow:  # its protection removed first
        for op in ("insert", "delete"):
            uow.execute(f"DROP TRIGGER read_value_signed_{op}" if w.store.dialect == "sqlite"
                        else "DROP TRIGGER read_value_signed ON read_value")
            if w.store.dialect != "sqlite":
                break
        uow.reads.replace_values(view.read_id, 1, tampered, {})
    report = w.trial.verify_audit_trail(w.admin)
    assert not report.intact
    assert [p for p in report.problems if f"signature {signature.id} " in p
            and "no longer matches" in p]


def test_worklist_follows_changes_made_by_other_workstations(tmp_path):
    """A worklist is cached per reader; changes written by another process (another Trial
    on the same database) still show at once: a read signed elsewhere, new assignments."""
    w = make_world(tmp_path, readers=2)
    db = w.store.target
    other = Trial.open(db, clock=w.clock, archive_root=tmp_path / "archive")
    here, there = w.login("reader1"), other.login("reader1", PASSWORDS["reader1"])
    before = w.trial.worklist(here)
    assert w.trial.worklist(here) == before  # cached, unchanged
    view = other.open_case(there, before[2].assignment_id)
    other.save_draft(there, view.read_id, complete_values(view.timepoint))
    other.submit_read(there, view.read_id, PASSWORDS["reader1"])
    after = w.trial.worklist(here)
    assert after[2].status is ReadStatus.SUBMITTED and after[2].read_id == view.read_id
    assert [i for n, i in enumerate(after) if n != 2] == [i for n, i in enumerate(before)
                                                          if n != 2]
    # A new case assigned from another workstation appears in order.
    add_studies_extra(w)
    other_coord = other.login("coord", PASSWORDS["coord"])
    other.build_cases_from_studies(other_coord)
    other.generate_assignments(other_coord, seed=3)
    grown = w.trial.worklist(here)
    assert len(grown) == len(before) + 1
    assert grown == other.worklist(there)
    assert [i.order_index for i in grown] == list(range(len(grown)))


def test_a_save_while_the_password_is_checked_stops_the_signature(tmp_path, monkeypatch):
    """The password is checked outside any transaction; a save from another window in that
    moment must not get signed unseen."""
    import ioreview.service.reading as reading_module

    w = make_world(tmp_path, readers=2)
    s1 = w.login("reader1")
    view = w.trial.open_case(s1, w.trial.worklist(s1)[0].assignment_id)
    w.trial.save_draft(s1, view.read_id, complete_values(view.timepoint))
    real = reading_module.verify_password

    def racing(password: str, stored: str | None) -> bool:
        w.clock.advance(1)
        w.trial.save_draft(s1, view.read_id, complete_values(view.timepoint, side="right"))
        return real(password, stored)

    monkeypatch.setattr(reading_module, "verify_password", racing)
    with pytest.raises(InvalidInput, match="changed while it was being signed"):
        w.trial.submit_read(s1, view.read_id, PASSWORDS["reader1"])
    monkeypatch.setattr(reading_module, "verify_password", real)
    assert w.trial.worklist(s1)[0].status is ReadStatus.IN_PROGRESS
    signature = w.trial.submit_read(s1, view.read_id, PASSWORDS["reader1"])
    [version] = w.trial.read_history(s1, view.read_id)
    assert version.values["side"] == "right" and version.signature == signature
