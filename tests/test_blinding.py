"""Blinding below the UI: every public `Trial` method, called by a reader, refuses or masks.

`CHECKS` holds one check per public method; `test_every_public_method_has_a_blinding_check`
fails when a method is added to `Trial` without one.
"""
from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable
from pathlib import Path

import pydicom
import pytest
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian

from adjudication.protocol import Protocol, default_protocol_path
from ioreview.imaging.header import IDENTIFYING_FIELDS
from ioreview.store import dicom_index as di
from ioreview.imaging.deid import MASK
from ioreview.service import (USE_CASE_GROUPS, BlindingViolation, PermissionDenied, Role, SessionExpired,
                            Trial)
from test_trial_helpers import (PASSWORDS, STUDY_PLAN, SUBJECTS, World, complete_values,
                                fast_kdf, instance_header, make_world, uid)  # noqa: F401

#: the service suite runs on both backends (tests/conftest.py)
pytestmark = pytest.mark.usefixtures("trial_backend", "fast_kdf")
SECRETS = ("DOE^JANE", "19800101", "ACC", "Shanxi", "Li^Ming", "20260309", "20260310",
           "20260324", "SUBJ-00")


def _write_dicom(path: Path, subject: int, study: int, n: int) -> None:
    h = instance_header(subject, study, n, STUDY_PLAN[study][1], STUDY_PLAN[study][2])
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = h.sop_class_uid
    meta.MediaStorageSOPInstanceUID = h.sop_instance_uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset(str(path), {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID, ds.SOPInstanceUID = h.sop_class_uid, h.sop_instance_uid
    ds.StudyInstanceUID, ds.SeriesInstanceUID = h.study_instance_uid, h.series_instance_uid
    ds.PatientName, ds.PatientID, ds.PatientBirthDate = h.patient_name, h.patient_id, "19800101"
    ds.PatientSex, ds.PatientAge = "F", "046Y"
    ds.StudyDate, ds.SeriesDate, ds.StudyTime = h.study_date, h.study_date, "101500"
    ds.AccessionNumber, ds.InstitutionName = h.accession_number, h.institution_name
    ds.ReferringPhysicianName, ds.OperatorsName = "Li^Ming", "Li^Ming"
    ds.OtherPatientIDsSequence = [pydicom.Dataset()]
    ds.OtherPatientIDsSequence[0].PatientID = "SUBJ-00-OTHER"
    ds.Modality, ds.SeriesDescription, ds.StudyDescription = h.modality, "tibia", "TIBIA IO SITE"
    ds.Rows, ds.Columns = 8, 8
    ds.add_new(0x00091010, "LO", "SUBJ-00 private copy")
    ds.save_as(path, enforce_file_format=True)


@pytest.fixture
def world(tmp_path: Path) -> World:
    paths = {}
    for s in range(len(SUBJECTS)):
        for t in range(len(STUDY_PLAN)):
            for n in (1, 2):
                p = tmp_path / f"{s}-{t}-{n}.dcm"
                _write_dicom(p, s, t, n)
                paths[uid(s, t, 1, n)] = str(p)
    w = make_world(tmp_path, paths=paths)
    _add_unassigned_case(w)
    # reader1 signs one read and keeps one draft, so there is work to try to reach.
    r1 = w.login("reader1")
    items = w.trial.worklist(r1)
    for item, sign in ((items[0], True), (items[1], False)):
        view = w.trial.open_case(r1, item.assignment_id)
        w.trial.save_draft(r1, view.read_id, complete_values(view.timepoint))
        if sign:
            w.trial.submit_read(r1, view.read_id, PASSWORDS["reader1"])
    return w


def _reader1_reads(w: World) -> list[int]:
    with w.store.unit_of_work("test", write=False) as uow:
        return [r.id for r in uow.reads.of_reader(w.user_ids["reader1"])]


def _foreign_assignments(w: World, reader: str) -> list[int]:
    with w.store.unit_of_work("test", write=False) as uow:
        return [a.id for name, user_id in w.user_ids.items() if name != reader
                for a in uow.assignments.of_reader(user_id)]


def _unassigned_uid(w: World) -> str:
    """The instance of a case (of a fourth subject) that nobody is assigned."""
    return uid(9, 0, 1, 1)


def _add_unassigned_case(w: World) -> None:
    h = dataclasses.replace(instance_header(0, 0, 1, "20260401", "CT"), patient_id="SUBJ-009",
                            sop_instance_uid=uid(9, 0, 1, 1), series_instance_uid=uid(9, 0, 1),
                            study_instance_uid=uid(9, 0))
    with w.store.atomic("tester") as tx:
        run = di.begin_import_run(tx, ["/extra"], "reference")
        di.IndexWriter(run).insert(tx, [h], archived=True)
    assert len(w.trial.build_cases_from_studies(w.admin)) == 1


# -- one check per public method ------------------------------------------------------------------
def denied(method: str, *args) -> Callable[[World], None]:
    """The reader's role may not call the method at all."""

    def check(w: World) -> None:
        reader = w.login("reader2")
        with pytest.raises(PermissionDenied):
            getattr(w.trial, method)(reader, *args)
        adjudicator = w.login("adjudicator")
        if method not in ("import_studies",):
            with pytest.raises(PermissionDenied):
                getattr(w.trial, method)(adjudicator, *args)
    return check


def foreign_read(method: str, *args) -> Callable[[World], None]:
    """reader2 cannot touch any of reader1's reads; the adjudicator cannot use reader calls."""

    def check(w: World) -> None:
        reader2 = w.login("reader2")
        for read_id in _reader1_reads(w):
            with pytest.raises(BlindingViolation):
                getattr(w.trial, method)(reader2, read_id, *args)
        with pytest.raises(PermissionDenied):
            getattr(w.trial, method)(w.login("adjudicator"), _reader1_reads(w)[0], *args)
    return check


def reader_refused(method: str, *args) -> Callable[[World], None]:
    """Readers may not call the method (adjudicator and committee calls)."""

    def check(w: World) -> None:
        for name in ("reader1", "reader2"):
            with pytest.raises(PermissionDenied):
                getattr(w.trial, method)(w.login(name), *args)
    return check


def own_adjudication(method: str, *args) -> Callable[[World], None]:
    """Readers are refused; an adjudicator reaches only adjudications assigned to them."""

    def check(w: World) -> None:
        reader_refused(method, 1, *args)(w)
        with pytest.raises(BlindingViolation):
            getattr(w.trial, method)(w.login("adjudicator"), 1, *args)
    return check


def check_open(w: World) -> None:
    # A class method that only opens a database file; it takes no session and returns no data.
    assert inspect.ismethod(Trial.open)
    assert "session" not in inspect.signature(Trial.open).parameters


def check_close(w: World) -> None:
    # Closes the connection; takes no session and returns nothing.
    assert "session" not in inspect.signature(Trial.close).parameters


def check_login(w: World) -> None:
    from ioreview.service import AuthenticationFailed

    with pytest.raises(AuthenticationFailed):
        w.trial.login("reader1", PASSWORDS["reader2"])
    assert w.login("reader2").role is Role.READER


def check_system_session(w: World) -> None:
    # The admin workstation session is for the command line only: the UI never creates one.
    ui = Path(__file__).resolve().parents[1] / "ioreview" / "ui"
    for source in ui.rglob("*.py"):
        assert "system_session" not in source.read_text(encoding="utf-8"), source


def check_check_session(w: World) -> None:
    reader = w.login("reader2")
    w.trial.check_session(reader)
    with pytest.raises(SessionExpired):
        w.trial.check_session(dataclasses.replace(reader, token="guessed"))
    with pytest.raises(SessionExpired):
        w.trial.check_session(dataclasses.replace(reader, user_id=w.user_ids["reader1"]))


def check_unlock(w: World) -> None:
    from ioreview.service import AuthenticationFailed

    r1 = w.login("reader1")
    w.clock.advance(10_000)
    with pytest.raises(AuthenticationFailed):
        w.trial.unlock(r1, PASSWORDS["reader2"])
    with pytest.raises(SessionExpired):
        w.trial.unlock(dataclasses.replace(r1, user_id=w.user_ids["reader2"]),
                       PASSWORDS["reader2"])


def check_logout(w: World) -> None:
    r1, r2 = w.login("reader1"), w.login("reader2")
    w.trial.logout(dataclasses.replace(r2, user_id=w.user_ids["reader1"]))
    w.trial.check_session(r1)  # ending one's own session never ends someone else's


def check_change_password(w: World) -> None:
    r2 = w.login("reader2")
    w.trial.change_password(r2, PASSWORDS["reader2"], "new password 2")
    assert w.login("reader1").username == "reader1"  # only the caller's own password changed


def check_create_first_admin(w: World) -> None:
    # Takes no session: only the first account of an empty trial; here accounts exist.
    with pytest.raises(PermissionDenied):
        w.trial.create_first_admin("mallory", "Mallory", "a long enough passphrase")
    from ioreview.service import AuthenticationFailed

    with pytest.raises(AuthenticationFailed):
        w.trial.login("mallory", "a long enough passphrase")


def check_has_accounts(w: World) -> None:
    # Takes no session and tells only whether any account exists (the first-run dialog and
    # the command line's first-account rule need it before anyone can log in).
    assert "session" not in inspect.signature(Trial.has_accounts).parameters
    assert w.trial.has_accounts() is True


def check_active_protocol(w: World) -> None:
    # The protocol is the read form: readers need it; it holds nothing about subjects or reads.
    version_id, protocol = w.trial.active_protocol(w.login("reader2"))
    assert isinstance(protocol, Protocol) and isinstance(version_id, int)


def check_protocol_versions(w: World) -> None:
    versions = w.trial.protocol_versions(w.login("reader2"))
    fields = {f.name for f in dataclasses.fields(versions[0])}
    assert fields == {"id", "protocol_id", "version", "sha256", "installed_at", "active"}


def check_worklist(w: World) -> None:
    for name in ("reader1", "reader2", "reader3"):
        items = w.trial.worklist(w.login(name))
        with w.store.unit_of_work("test", write=False) as uow:
            own = {a.id for a in uow.assignments.of_reader(w.user_ids[name])}
        assert items and {i.assignment_id for i in items} <= own
        text = repr(items)
        assert not any(s in text for s in SECRETS)
        assert "subject" not in {f.name for f in dataclasses.fields(items[0])}
    with pytest.raises(PermissionDenied):
        w.trial.worklist(w.login("adjudicator"))


def check_open_case(w: World) -> None:
    reader2 = w.login("reader2")
    for assignment_id in _foreign_assignments(w, "reader2"):
        with pytest.raises(BlindingViolation):
            w.trial.open_case(reader2, assignment_id)
    with pytest.raises(BlindingViolation):
        w.trial.open_case(reader2, 10 ** 6)
    for item in w.trial.worklist(reader2):
        view = w.trial.open_case(reader2, item.assignment_id)
        series = [*view.series, *(s for p in view.priors for s in p.series)]
        for h in (h for s in series for h in s.headers):
            assert all(getattr(h, f) == "" for f in IDENTIFYING_FIELDS)
        shown = repr(dataclasses.replace(view, protocol=None, series=(), priors=()))
        shown += repr([(s.modality, s.description) for s in series])
        assert not any(s in shown for s in SECRETS)
        assert view.values == {} or view.read_id not in _reader1_reads(w)
    with pytest.raises(PermissionDenied):
        w.trial.open_case(w.login("adjudicator"), _foreign_assignments(w, "reader2")[0])


def check_tags_for_display(w: World) -> None:
    reader2 = w.login("reader2")
    item = w.trial.worklist(reader2)[0]
    view = w.trial.open_case(reader2, item.assignment_id)
    rows = w.trial.tags_for_display(reader2, view.series[0].headers[0].sop_instance_uid)
    by_keyword = {r.keyword: r.value for r in rows}
    for keyword in ("PatientName", "PatientID", "PatientBirthDate", "StudyDate", "SeriesDate",
                    "StudyTime", "AccessionNumber", "InstitutionName", "ReferringPhysicianName",
                    "OperatorsName", "OtherPatientIDsSequence"):
        # a reader copy has these removed, emptied or replaced; what is left is masked
        assert by_keyword.get(keyword, "") in (MASK, ""), keyword
    assert by_keyword["PatientSex"] == "F" and by_keyword["Modality"]
    assert any((r.tag, r.keyword, r.value, r.masked) == ("(0010,0010)", "PatientName", MASK, True)
               for r in rows)
    assert not any(s in r.value for r in rows for s in SECRETS)
    # Instance UIDs identify the study across systems: masked for readers too.
    assert by_keyword["StudyInstanceUID"] == MASK and by_keyword["SOPInstanceUID"] == MASK
    with pytest.raises(BlindingViolation):
        w.trial.tags_for_display(reader2, _unassigned_uid(w))
    with pytest.raises(BlindingViolation):
        w.trial.tags_for_display(reader2, "1.2.3.4.not.indexed")
    # The adjudicator sees masked values too; the coordinator sees everything.
    adj = {r.keyword: r.value for r in w.trial.tags_for_display(
        w.login("adjudicator"), view.series[0].headers[0].sop_instance_uid)}
    assert adj["PatientName"] == MASK
    coord = {r.keyword: r.value for r in w.trial.tags_for_display(
        w.login("coord"), view.series[0].headers[0].sop_instance_uid)}
    assert coord["PatientName"].startswith("DOE^JANE")


def check_save_draft(w: World) -> None:
    foreign_read("save_draft", {"image_quality": "limited"})(w)
    # reader1's read is unchanged.
    r1 = w.login("reader1")
    for item in w.trial.worklist(r1)[:2]:
        assert w.trial.open_case(r1, item.assignment_id).values["image_quality"] == "adequate"


def check_submit_read(w: World) -> None:
    foreign_read("submit_read", PASSWORDS["reader2"])(w)


def check_amend_read(w: World) -> None:
    foreign_read("amend_read", "reason", {"image_quality": "limited"}, PASSWORDS["reader2"])(w)


CHECKS: dict[str, Callable[[World], None]] = {
    "open": check_open,
    "close": check_close,
    "login": check_login,
    "system_session": check_system_session,
    "check_session": check_check_session,
    "unlock": check_unlock,
    "logout": check_logout,
    "create_user": denied("create_user", "spy", "Spy", "admin", "password1"),
    "list_users": denied("list_users"),
    "set_user_active": denied("set_user_active", 1, False),
    "reset_password": denied("reset_password", 1, "password1"),
    "change_password": check_change_password,
    "unlock_account": denied("unlock_account", 1),
    "create_first_admin": check_create_first_admin,
    "has_accounts": check_has_accounts,
    "account_policy": denied("account_policy"),
    "set_account_policy": denied("set_account_policy"),
    "install_protocol": denied("install_protocol", default_protocol_path()),
    "active_protocol": check_active_protocol,
    "protocol_versions": check_protocol_versions,
    "protocol_diff": denied("protocol_diff", 1, 1),
    "import_studies": denied("import_studies", ["/nowhere"]),
    "info": denied("info"),
    "list_studies": denied("list_studies"),
    "list_series": denied("list_series", 1),
    "list_burned_in_series": denied("list_burned_in_series"),
    "burned_in_preview": denied("burned_in_preview", 1),
    "mask_burned_in_text": denied("mask_burned_in_text", 1, [(0, 0, 2, 2)]),
    "confirm_no_burned_in_text": denied("confirm_no_burned_in_text", 1),
    "create_case": denied("create_case", "S", "baseline", 0, [1]),
    "build_cases_from_studies": denied("build_cases_from_studies"),
    "list_cases": denied("list_cases"),
    "generate_assignments": denied("generate_assignments"),
    # the case x reader table names hidden re-reads: coordinator and admin only
    "assignment_table": denied("assignment_table"),
    "reassign": denied("reassign", 1, 2, "reason"),
    "worklist": check_worklist,
    "open_case": check_open_case,
    "save_draft": check_save_draft,
    "validate_read": foreign_read("validate_read"),
    "submit_read": check_submit_read,
    "amend_read": check_amend_read,
    "read_history": foreign_read("read_history"),
    "tags_for_display": check_tags_for_display,
    "progress": denied("progress"),
    "verify_audit_trail": denied("verify_audit_trail"),
    # the audit viewer: coordinator and admin only
    "audit_log": denied("audit_log"),
    "audit_actions": denied("audit_actions"),
    "audit_actors": denied("audit_actors"),
    "export_audit_csv": denied("export_audit_csv", "/tmp/never-written-audit.csv"),
    # adjudication: readers see nothing of it; adjudicators only their own tasks, as A/B
    "adjudication_queue": reader_refused("adjudication_queue"),
    "open_adjudication": own_adjudication("open_adjudication"),
    "submit_adjudication": own_adjudication("submit_adjudication", [], "x"),
    "adjudication_status": denied("adjudication_status", 1),
    "adjudication_overview": denied("adjudication_overview"),
    "reassign_adjudication": denied("reassign_adjudication", 1, 1),
    "send_to_panel": denied("send_to_panel", 1, "why"),
    "case_outcome": denied("case_outcome", 1),
    "final_outcomes": denied("final_outcomes"),
    # committee sessions: members and the coordinator only
    "create_panel_session": denied("create_panel_session", "t", 1, [1], [1]),
    "panel_sessions": denied("panel_sessions"),
    "committee_candidates": denied("committee_candidates"),
    "open_panel_session": denied("open_panel_session", 1),
    "record_attendance": denied("record_attendance", 1, {}),
    "cast_votes": reader_refused("cast_votes", 1, 1, [], "x"),
    "cast_deciding_vote": denied("cast_deciding_vote", 1, 1, "k", "v", "x"),
    "finalise_panel_session": denied("finalise_panel_session", 1, "minutes", "x"),
    # agreement statistics: coordinator and committee only
    "agreement_report": denied("agreement_report"),
    # exports: coordinator and admin only
    "export_trial": denied("export_trial", "/nonexistent-export", "x"),
    # backup and the PostgreSQL grants script: coordinator and admin only
    "backup": denied("backup", "/nonexistent-backup"),
    "postgres_grants": denied("postgres_grants", "ioreview_app"),
}


def _public_methods() -> set[str]:
    """Every use case of every group of the service, and the facade's own public methods;
    each use case must also be reachable on `Trial` under its name."""
    names = {name for name, _ in inspect.getmembers(Trial, callable) if not name.startswith("_")}
    for group in USE_CASE_GROUPS:
        use_cases = {name for name, _ in inspect.getmembers(group, inspect.isfunction)
                     if not name.startswith("_")}
        names |= use_cases
    return names


def test_every_use_case_is_on_the_facade(world: World) -> None:
    for group in USE_CASE_GROUPS:
        for name, function in inspect.getmembers(group, inspect.isfunction):
            if not name.startswith("_"):
                bound = getattr(world.trial, name)
                assert bound.__func__ is function, name


def test_every_public_method_has_a_blinding_check():
    missing = _public_methods() - set(CHECKS)
    assert not missing, f"add a blinding check for {sorted(missing)} to tests/test_blinding.py"
    assert not set(CHECKS) - _public_methods()


@pytest.mark.parametrize("method", sorted(CHECKS))
def test_reader_is_refused_or_masked(world: World, method: str) -> None:
    CHECKS[method](world)


def test_rereads_cannot_be_linked_to_their_original(world: World) -> None:
    with world.store.unit_of_work("test", write=False) as uow:
        rows = uow.assignments.rereads()
    world.clock.advance(29 * 86400)
    for row in rows:
        name = next(k for k, v in world.user_ids.items() if v == row.reader_id)
        session = world.login(name)
        item = next(i for i in world.trial.worklist(session) if i.case_label == row.label)
        view = world.trial.open_case(session, item.assignment_id)
        assert view.case_label == row.label and view.values == {}
        case_labels = {c.label for c in world.trial.list_cases(world.admin)}
        assert view.case_label not in case_labels
