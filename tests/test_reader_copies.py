"""De-identified reader copies and burned-in text (issue 12): on a demo trial, everything
reader1 can reach holds none of the originals' identifying values; hidden re-reads get their
own copies; masks black out pixels and are recorded; flagged series are withheld until the
coordinator decides.  Real files, real SQLite (and PostgreSQL for the service flow)."""
from __future__ import annotations

import io
import time
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.data import get_charset_files, get_testdata_file

from adjudication.protocol import default_protocol_path
from ioreview.demo import build_demo
from ioreview.imaging.burned_in import MaskRectangle, burned_in_reason
from ioreview.imaging.deid import identifying_text, reader_copy_bytes
from ioreview.imaging.synthetic import DemoConfig
from ioreview.imaging.synthetic_render import US_TEXT_BOX
from ioreview.service import ImagesWithheld, InvalidInput, Role, Trial
from test_trial_helpers import fast_kdf  # noqa: F401  (a fixture)

_PASSWORD = "Tibia-Cortex-93!"
_ENCODINGS = ("utf-8", "gb18030", "latin-1", "shift_jis", "euc_kr", "iso2022_jp")


def _secrets_of_originals(folder: Path) -> set[str]:
    """Identifying values of every original file: names (all parts and forms), IDs, dates,
    institution, accession, physicians, and the instance, series, study and frame of
    reference UIDs."""
    found: set[str] = set()
    for path in folder.rglob("*.dcm"):
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        found.update(s for s in identifying_text(ds) if len(s) >= 4 or not s.isascii())
        for keyword in ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID",
                        "FrameOfReferenceUID"):
            if ds.get(keyword):
                found.add(str(ds[keyword].value))
    return found


def _encoded(secrets: set[str]) -> set[bytes]:
    out = set()
    for s in secrets:
        for encoding in _ENCODINGS:
            try:
                out.add(s.encode(encoding))
            except UnicodeEncodeError:
                continue
    return {b for b in out if len(b) >= 4}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("demo")
    result = build_demo(root, DemoConfig.small())
    later = time.time() + 400 * 86400  # past every washout: hidden re-reads are available
    trial = Trial.open(result.db, clock=lambda: later, archive_root=result.archive_root)
    yield result, trial
    trial.close()


def test_nothing_reader1_reaches_holds_an_identifying_value(demo) -> None:
    result, trial = demo
    secrets = _secrets_of_originals(result.manifest.dicom_dir)
    assert any(not s.isascii() for s in secrets)  # the Chinese names are among them
    assert any(len(s) == 8 and s.isdigit() for s in secrets)  # and the calendar dates
    encoded = _encoded(secrets)
    reader = trial.login("reader1", "reader1-demo")
    items = trial.worklist(reader)
    assert items and any(i for i in items)
    files: set[str] = set()
    for item in items:
        view = trial.open_case(reader, item.assignment_id)
        shown = repr(view.annotations) + repr(view.key_images) + view.case_label
        headers = [h for s in view.series for h in s.headers]
        headers += [h for p in view.priors for s in p.series for h in s.headers]
        shown += repr(headers) + repr([(s.description, s.modality) for s in view.series])
        shown += repr([p.case_label for p in view.priors])
        assert not [s for s in secrets if s in shown]
        for h in headers:
            assert Path(h.path).parent.parent == result.archive_root / "readers"
            files.add(h.path)
            rows = trial.tags_for_display(reader, h.sop_instance_uid)
            text = " ".join(f"{r.keyword} {r.value}" for r in rows)
            assert not [s for s in secrets if s in text], h.sop_instance_uid
    assert files
    for path in files:
        data = Path(path).read_bytes()
        leaked = [b for b in encoded if b in data]
        assert not leaked, (path, leaked[:3])
        ds = pydicom.dcmread(path)
        assert ds.PatientIdentityRemoved == "YES"
        assert str(ds.PatientID).startswith("CASE-")


def _assert_handed_out_free_of_phi(result, trial, session, views, secrets, encoded, *,
                                   tags: bool = True) -> int:
    """Every header, file and (`tags`) tag row of these (series, reads, extra annotations)
    hold none of the originals' identifying values; every overlay lies on an image handed
    out.  Returns the number of annotations checked."""
    files: set[str] = set()
    n_overlays = 0
    for series, reads, own in views:
        headers = [h for s in series for h in s.headers]
        assert headers
        shown = repr(headers) + repr([(s.description, s.modality) for s in series])
        shown += repr([(r.annotations, r.key_images) for r in reads]) + repr(own)
        assert not [s for s in secrets if s in shown]
        handed = {h.sop_instance_uid for h in headers}
        overlays = [a for r in reads for a in (*r.annotations, *r.key_images)] + list(own)
        assert {a.sop_instance_uid for a in overlays} <= handed
        n_overlays += len(overlays)
        for h in headers:
            assert Path(h.path).parent.parent == result.archive_root / "readers"
            files.add(h.path)
        for h in headers[:3] if tags else ():
            rows = trial.tags_for_display(session, h.sop_instance_uid)
            text = " ".join(f"{r.keyword} {r.value}" for r in rows)
            assert not [s for s in secrets if s in text], h.sop_instance_uid
    for path in files:
        data = Path(path).read_bytes()
        leaked = [b for b in encoded if b in data]
        assert not leaked, (path, leaked[:3])
        assert pydicom.dcmread(path, stop_before_pixels=True).PatientIdentityRemoved == "YES"
    return n_overlays


def _sign_discordant_read(trial: Trial) -> str:
    """A reader who has not signed a case that another reader signed signs it discordantly
    (extravasation the other way round), with an annotation on every image of its first
    series and a key image; returns the case's label (it goes to adjudication)."""
    from ioreview.service import Annotation, KeyImage
    from ui_support import complete_values

    coordinator = trial.login("coordinator", "coordinator-demo")
    protocol = trial.active_protocol(coordinator)[1]
    by_label: dict[str, list[tuple[str, object, object]]] = {}
    for name in ("reader1", "reader2", "reader3"):
        session = trial.login(name, f"{name}-demo")
        for item in trial.worklist(session):
            by_label.setdefault(item.case_label, []).append((name, session, item))
    label, signed, unsigned = next(
        (label, done[0], todo[0]) for label, rows in sorted(by_label.items())
        for done in [[r for r in rows if r[2].status.value == "submitted"]]
        for todo in [[r for r in rows if r[2].status.value != "submitted"]] if done and todo)
    other = trial.open_case(signed[1], signed[2].assignment_id).values
    name, session, item = unsigned
    view = trial.open_case(session, item.assignment_id)
    headers = list(view.series[0].headers)
    annotations = [Annotation(None, "extravasation", "ellipse", h.sop_instance_uid, 0,
                              ((5.0, 6.0), (20.0, 24.0)), {}, "leak") for h in headers]
    present = other.get("extravasation.presence") == "present"
    trial.save_draft(session, view.read_id,
                     complete_values(protocol, view.timepoint, extravasation=not present),
                     annotations=annotations,
                     key_images=[KeyImage(headers[0].sop_instance_uid, 0, "key")])
    trial.submit_read(session, view.read_id, f"{name}-demo")
    return label


def test_adjudicators_and_the_committee_get_copies_with_the_readers_overlays(demo) -> None:
    result, trial = demo
    secrets = _secrets_of_originals(result.manifest.dicom_dir)
    encoded = _encoded(secrets)
    label = _sign_discordant_read(trial)
    coordinator = trial.login("coordinator", "coordinator-demo")
    case = next(c for c in trial.adjudication_overview(coordinator).cases
                if c.case_label == label)
    assert case.stage == "adjudication"
    n_overlays = n_views = 0
    adjudicated: list = []
    for name in ("adjudicator", "adjudicator2"):
        session = trial.login(name, f"{name}-demo")
        views = []
        for item in trial.adjudication_queue(session):
            view = trial.open_adjudication(session, item.adjudication_id)
            views.append((view.series, view.reads, view.annotations))
        adjudicated += views
        n_views += len(views)
        n_overlays += _assert_handed_out_free_of_phi(result, trial, session, views, secrets,
                                                     encoded)
    assert n_views == 1 and n_overlays  # the discordant case's adjudication
    # the coordinator sends it to the committee
    trial.send_to_panel(coordinator, case.case_id, "test: the committee looks at it")
    ids = {u.username: u.id for u in trial.list_users(coordinator)}
    trial.create_panel_session(coordinator, "Meeting", ids["committee"],
                               [ids["committee"], ids["committee2"], ids["committee3"]],
                               [case.case_id])
    for name in ("committee", "committee2", "coordinator"):
        session = trial.login(name, f"{name}-demo")
        views = [(case.series, case.reads, ())
                 for summary in trial.panel_sessions(session)
                 for case in trial.open_panel_session(session, summary.session_id).cases]
        n_views += len(views)
        # the coordinator's tag browser shows the originals (unblinded by design)
        n_overlays += _assert_handed_out_free_of_phi(result, trial, session, views, secrets,
                                                     encoded, tags=name != "coordinator")
    assert n_views == 4 and n_overlays  # the adjudication and 3 x the session's case
    # the overlays are the readers' own, stored on the originals' UIDs
    shown = [a for _series, reads, _own in adjudicated for r in reads for a in r.annotations]
    assert shown
    with trial.store.unit_of_work("test", write=False) as uow:
        originals = uow.reader_copies.original_uids([a.sop_instance_uid for a in shown])
        assert len(originals) == len({a.sop_instance_uid for a in shown})
        assert not set(originals.values()) & {a.sop_instance_uid for a in shown}


def test_hidden_rereads_get_their_copies_when_assigned(demo) -> None:
    """Made by generate_assignments (in the demo's build, by the coordinator), not at the
    re-read's first opening (by its reader): the case's series and its priors'."""
    result, trial = demo
    with trial.store.unit_of_work("test", write=False) as uow:
        rereads = [a for c in uow.cases.list() for a in uow.assignments.of_case(c.id)
                   if a.is_reread]
        needed = {}
        for a in rereads:
            case = uow.cases.get(a.case_id)
            earlier = [c.id for c in uow.cases.of_subject(case.subject)
                       if c.days_from_insertion is not None
                       and case.days_from_insertion is not None
                       and c.days_from_insertion < case.days_from_insertion]
            copy_set = uow.reader_copies.assignment_set(a.id)
            assert copy_set is not None
            needed[copy_set.id] = {pk for cid in (case.id, *earlier)
                                   for pk in uow.cases.series_pks(cid)}
    assert rereads
    readers = {"reader1", "reader2", "reader3"}
    for set_id, series in needed.items():
        made = [r for r in trial.store.audit_records("reader_copy_set", set_id)
                if r.action in ("create", "copy")]
        assert made and not {r.actor for r in made} & readers
        assert series <= {pk for r in made if r.action == "copy" for pk in r.after["series"]}


def test_hidden_rereads_share_no_uid_or_path_with_the_original_read(demo) -> None:
    result, trial = demo
    reader = trial.login("reader1", "reader1-demo")
    with trial.store.unit_of_work("test", write=False) as uow:
        mine = uow.assignments.of_reader(reader.user_id)
    rereads = [a for a in mine if a.is_reread]
    assert rereads
    for reread in rereads:
        original = next(a for a in mine if a.case_id == reread.case_id and not a.is_reread)
        views = [trial.open_case(reader, a.id) for a in (original, reread)]
        keys = []
        for view in views:
            headers = [h for s in view.series for h in s.headers]
            headers += [h for p in view.priors for s in p.series for h in s.headers]
            uids = {u for h in headers for u in (h.sop_instance_uid, h.study_instance_uid,
                                                 h.series_instance_uid,
                                                 h.frame_of_reference_uid) if u}
            paths = {h.path for h in headers}
            digests = {Path(p).read_bytes() for p in paths}
            ids = {str(pydicom.dcmread(p, stop_before_pixels=True).PatientID) for p in paths}
            keys.append((uids, paths, digests, ids))
        (u1, p1, b1, i1), (u2, p2, b2, i2) = keys
        assert u1 and u2 and not u1 & u2
        assert not p1 & p2 and not b1 & b2
        assert i2 == {reread.display_label} and not i1 & i2


def test_the_demo_banner_is_masked_in_every_copy_and_recorded(demo) -> None:
    result, trial = demo
    admin = trial.login("coordinator", "coordinator-demo")
    series = trial.list_burned_in_series(admin)
    masked = [s for s in series if s.status == "masked"]
    assert masked and all(s.rectangles == (US_TEXT_BOX,) and s.decided_by and s.decided_at
                          for s in masked)
    assert not [s for s in series if s.status == "flagged"]
    assert {s.status for s in series} <= {"masked", "clean"}
    with trial.store.unit_of_work("test", write=False) as uow:
        copies = [c for s in masked for c in uow.reader_copies.copies(
            uow.reader_copies.case_set(uow.cases.series_in_cases([s.series_pk])[s.series_pk]).id,
            [s.series_pk])]
        actions = {r[0] for r in uow.tuples("SELECT action FROM audit")}
    assert {"mask_burned_in_text", "flag_burned_in_text"} <= actions
    r0, c0, r1, c1 = US_TEXT_BOX
    for copy in copies:
        ds = pydicom.dcmread(copy.path)
        frames = ds.pixel_array
        assert ds.BurnedInAnnotation == "NO"
        assert frames[:, r0:r1, c0:c1].max() == 0
        assert frames[:, r1:, :].max() > 0  # the image itself stays


# -- a trial of pydicom's ultrasound file: withheld until decided --------------------------------
def _us_trial(tmp_path: Path, db: str | None = None) -> tuple[Trial, object, object, int]:
    src = tmp_path / "in"
    src.mkdir()
    ds = pydicom.dcmread(get_testdata_file("US1_UNCR.dcm"))
    ds.save_as(src / "us.dcm")
    trial = Trial.open(db or tmp_path / "t.sqlite", archive_root=tmp_path / "archive")
    system = trial.system_session("test")
    trial.create_user(system, "coord", "Coordinator", Role.COORDINATOR, _PASSWORD)
    admin = trial.login("coord", _PASSWORD)
    trial.install_protocol(admin, default_protocol_path())
    trial.import_studies(admin, [src])
    readers = [trial.create_user(admin, name, name, Role.READER, _PASSWORD).id
               for name in ("reader1", "reader2")]
    study = trial.list_studies(admin)[0]
    series_pk = trial.list_series(admin, study.id)[0].id
    trial.create_case(admin, "SUBJ", "post-insertion", 0, [series_pk])
    trial.generate_assignments(admin, readers, seed=1)
    return trial, admin, trial.login("reader1", _PASSWORD), series_pk


def test_a_flagged_series_is_withheld_until_confirmed(tmp_path: Path, db_url: str) -> None:
    trial, admin, reader, pk = _us_trial(tmp_path, db_url)
    try:
        flagged = trial.list_burned_in_series(admin, include_decided=False)
        assert [(s.series_pk, s.status) for s in flagged] == [(pk, "flagged")]
        assert "US image" in flagged[0].reason
        item = trial.worklist(reader)[0]
        with pytest.raises(ImagesWithheld, match="burned into the images"):
            trial.open_case(reader, item.assignment_id)
        done = trial.confirm_no_burned_in_text(admin, pk)
        assert done.status == "clean" and done.decided_by
        view = trial.open_case(reader, item.assignment_id)
        header = view.series[0].headers[0]
        copy = pydicom.dcmread(header.path)
        assert copy.BurnedInAnnotation == "NO" and "BAPTIST" not in str(copy)
        original = pydicom.dcmread(get_testdata_file("US1_UNCR.dcm"))
        assert np.array_equal(copy.pixel_array, original.pixel_array)
        # masking afterwards remakes the copy: same UID, other bytes, black rectangle
        with pytest.raises(InvalidInput, match="outside"):
            trial.mask_burned_in_text(admin, pk, [(600, 700, 610, 720)])
        masked = trial.mask_burned_in_text(admin, pk, [(0, 0, 40.5, 200)])
        assert masked.status == "masked" and masked.rectangles == ((0, 0, 41, 200),)
        again = trial.open_case(reader, item.assignment_id).series[0].headers[0]
        assert again.sop_instance_uid == header.sop_instance_uid and again.path != header.path
        assert not Path(header.path).exists()  # the unmasked copy is gone
        pixels = pydicom.dcmread(again.path).pixel_array
        assert pixels[:41, :200].max() == 0 and pixels[41:, 200:].max() > 0
        preview = trial.burned_in_preview(admin, pk)
        assert preview.pixels.shape[:2] == (480, 640) and preview.pixels.dtype == np.uint8
    finally:
        trial.close()


def test_annotations_are_stored_on_originals_and_shown_on_copies(tmp_path: Path) -> None:
    from ioreview.service import Annotation, KeyImage

    trial, admin, reader, pk = _us_trial(tmp_path)
    try:
        trial.confirm_no_burned_in_text(admin, pk)
        item = trial.worklist(reader)[0]
        view = trial.open_case(reader, item.assignment_id)
        uid = view.series[0].headers[0].sop_instance_uid
        trial.save_draft(reader, view.read_id, {},
                         annotations=[Annotation(None, None, "point", uid, 0, ((5.0, 6.0),),
                                                 {}, "x")],
                         key_images=[KeyImage(uid, 0, "key")])
        with trial.store.unit_of_work("test", write=False) as uow:
            stored = uow.reads.annotations(view.read_id, 1)[0].sop_instance_uid
            original = uow.reader_copies.original_uids([uid])[uid]
        assert stored == original == pydicom.dcmread(
            get_testdata_file("US1_UNCR.dcm")).SOPInstanceUID
        again = trial.open_case(reader, item.assignment_id)
        assert again.annotations[0].sop_instance_uid == uid
        assert again.key_images[0].sop_instance_uid == uid
        assert trial.read_history(reader, view.read_id)[0].annotations[0].sop_instance_uid == uid
    finally:
        trial.close()


# -- the policy on pydicom's character-set files ------------------------------------------------
@pytest.mark.parametrize("name", ["chrX1.dcm", "chrX2.dcm", "chrH31.dcm", "chrJapMulti.dcm",
                                  "chrRuss.dcm", "chrGreek.dcm", "chrArab.dcm", "chrFrenMulti.dcm",
                                  "chrSQEncoding.dcm"])
def test_reader_copies_of_charset_files_hold_no_names(name: str) -> None:
    path = get_charset_files(name)[0]
    ds = pydicom.dcmread(path)
    secrets = [s for s in identifying_text(ds) if len(s) >= 2]
    assert secrets
    data = reader_copy_bytes(path, uid_map=lambda u: "2.25.1" + str(len(u)),
                             date_offset_days=3, patient_label="CASE-TEST",
                             pixels_checked=True)
    copy = pydicom.dcmread(io.BytesIO(data), force=True)
    text = str(copy)
    assert not [s for s in secrets if s in text]
    encodings = set(_ENCODINGS) | set(getattr(copy, "_character_set", None) or [])
    for s in secrets:
        for encoding in encodings:
            try:
                raw = s.encode(encoding)
            except (UnicodeEncodeError, LookupError):
                continue
            if len(raw) >= 4:
                assert raw not in data, (name, s, encoding)
    assert copy.PatientID == "CASE-TEST"


def test_burned_in_reason_and_masks() -> None:
    assert burned_in_reason(burned_in_annotation="YES", modality="CT", sop_class_uid="") != ""
    assert burned_in_reason(burned_in_annotation="NO", modality="US", sop_class_uid="") == ""
    assert "US" in burned_in_reason(burned_in_annotation="", modality="US", sop_class_uid="")
    assert "secondary capture" in burned_in_reason(
        burned_in_annotation="", modality="OT", sop_class_uid="1.2.840.10008.5.1.4.1.1.7")
    assert burned_in_reason(burned_in_annotation="", modality="DX", sop_class_uid="",
                            manufacturer="Acme") == ""
    assert burned_in_reason(burned_in_annotation="", modality="DX", sop_class_uid="",
                            manufacturer="AGFA") != ""
    assert burned_in_reason(burned_in_annotation="", modality="CT", sop_class_uid="") == ""
    # a JPEG 2000 colour ultrasound: decoded, masked on every frame, written uncompressed
    src = get_testdata_file("US1_J2KR.dcm")
    data = reader_copy_bytes(src, uid_map=lambda u: "2.25.7", date_offset_days=None,
                             patient_label="CASE-X", rectangles=[MaskRectangle(10, 20, 30, 60)])
    copy = pydicom.dcmread(io.BytesIO(data))
    assert copy.file_meta.TransferSyntaxUID == "1.2.840.10008.1.2.1"
    arr = copy.pixel_array
    assert arr[10:30, 20:60].max() == 0 and arr.max() > 0


def test_the_coordinator_masks_by_drawing_on_the_first_frame(tmp_path: Path, qtbot) -> None:
    from PySide6.QtCore import QPoint, Qt

    from ioreview.ui.coordinator import CoordinatorWindow

    trial, admin, reader, pk = _us_trial(tmp_path)
    try:
        window = CoordinatorWindow(trial, admin)
        qtbot.addWidget(window)
        window.show()
        window.show_tab(window.burned_in_tab)
        tab = window.burned_in_tab
        assert tab.model.rowCount() == 1 and tab.model.record(0).status == "flagged"
        canvas = tab.canvas
        target = canvas._target()
        start = QPoint(target.left() + 5, target.top() + 5)
        end = QPoint(target.left() + target.width() // 4, target.top() + target.height() // 8)
        qtbot.mousePress(canvas, Qt.MouseButton.LeftButton, pos=start)
        qtbot.mouseMove(canvas, end)
        qtbot.mouseRelease(canvas, Qt.MouseButton.LeftButton, pos=end)
        assert len(canvas.rectangles) == 1
        qtbot.mouseClick(tab.save_button, Qt.MouseButton.LeftButton)
        shown = tab.model.record(0)
        assert shown.status == "masked" and shown.rectangles == tuple(canvas.rectangles)
        assert "masked" in tab.message.text()
        item = trial.worklist(reader)[0]
        copy = trial.open_case(reader, item.assignment_id).series[0].headers[0]
        r0, c0, r1, c1 = shown.rectangles[0]
        assert pydicom.dcmread(copy.path).pixel_array[r0:r1, c0:c1].max() == 0
    finally:
        trial.close()


# -- adjudication and committee on both backends --------------------------------------------------
@pytest.mark.usefixtures("trial_backend", "fast_kdf")
def test_adjudication_and_committee_hand_out_copies_and_map_annotations(tmp_path: Path) -> None:
    """Both reads carry annotations (drawn on the reader's copy UIDs, stored on originals); the
    adjudicator and the committee get the case's copies with every overlay on them; the
    adjudicator's own measurement goes back to the original; a session whose case lost its
    copies (one built before copies existed) gets them again when opened."""
    from adjudication.paradigms import Decision
    from ioreview.service import Annotation
    from test_adjudication_service import PASSWORDS, _readers_of, _world
    from test_trial_helpers import complete_values

    w = _world(tmp_path)
    case = next(c for c in w.trial.list_cases(w.admin) if c.timepoint == "post-insertion")
    with w.store.unit_of_work("test", write=False) as uow:
        originals = uow.dicom.instance_uids(uow.cases.series_pks(case.id))
    for n, reader in enumerate(_readers_of(w, case.id)):
        session = w.login(reader)
        with w.store.unit_of_work("test", write=False) as uow:
            assignment = next(a for a in uow.assignments.of_case(case.id)
                              if a.reader_id == w.user_ids[reader] and not a.is_reread)
        view = w.trial.open_case(session, assignment.id)
        uid = view.series[0].headers[0].sop_instance_uid
        assert uid not in originals
        w.trial.save_draft(session, view.read_id,
                           {**complete_values(), "image_quality": ("adequate", "non_diagnostic")[n]},
                           annotations=[Annotation(None, None, "point", uid, 0,
                                                   ((1.0 + n, 2.0),), {}, f"r{n}")])
        w.trial.submit_read(session, view.read_id, PASSWORDS[reader])

    def check(series, reads) -> set[str]:
        handed = {h.sop_instance_uid for s in series for h in s.headers}
        assert handed and not handed & originals
        shown = {a.sop_instance_uid for r in reads for a in r.annotations}
        assert len([a for r in reads for a in r.annotations]) == 2 and shown <= handed
        return handed

    adjudicator = w.login("adjudicator")
    item = w.trial.adjudication_queue(adjudicator)[0]
    view = w.trial.open_adjudication(adjudicator, item.adjudication_id)
    handed = check(view.series, view.reads)
    mine = sorted(handed)[0]
    w.trial.submit_adjudication(
        adjudicator, item.adjudication_id,
        [Decision(i.key, "A") for i in view.items if not i.committee_only],
        PASSWORDS["adjudicator"],
        annotations=[Annotation(None, None, "point", mine, 0, ((3.0, 4.0),), {}, "adj")])
    again = w.trial.open_adjudication(adjudicator, item.adjudication_id)
    assert [a.sop_instance_uid for a in again.annotations] == [mine]
    with w.store.unit_of_work("test", write=False) as uow:
        [stored] = uow.adjudications.annotations(item.adjudication_id)
        assert stored.sop_instance_uid == uow.reader_copies.original_uids([mine])[mine]
        assert stored.sop_instance_uid in originals

    # the committee, after the coordinator sends the case on
    coord = w.login("coord")
    w.trial.send_to_panel(coord, case.id, "to the committee")
    members = [w.user_ids[n] for n in ("chair", "member2", "member3", "member4")]
    sid = w.trial.create_panel_session(coord, "C1", w.user_ids["chair"], members,
                                       [case.id]).session_id
    chair = w.login("chair")
    [pcase] = w.trial.open_panel_session(chair, sid).cases
    assert check(pcase.series, pcase.reads) == handed  # the case's one copy set
    with w.store.unit_of_work("test") as uow:  # as before copies existed
        copy_set = uow.reader_copies.case_set(case.id)
        for pk in uow.cases.series_pks(case.id):
            uow.reader_copies.remove_copies(copy_set.id, pk)
    [pcase] = w.trial.open_panel_session(chair, sid).cases
    check(pcase.series, pcase.reads)
    with w.store.unit_of_work("test", write=False) as uow:
        assert set(uow.cases.series_pks(case.id)) <= uow.reader_copies.copied_series(
            copy_set.id)
