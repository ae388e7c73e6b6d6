"""Importing files, folders, zips and DICOMDIRs: every file accounted for, idempotent, crash-safe."""
from __future__ import annotations

import os
import shutil
import zipfile
from pathlib import Path

import pytest
from pydicom.data import get_charset_files, get_testdata_file, get_testdata_files

from ioreview.importing import ImportSummary, import_paths
from ioreview.store import SQLiteStore as Store
from ioreview.store.dicom_index import counts, import_files, instance_paths

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def _all_testdata() -> list[str]:
    return sorted(f for f in get_testdata_files() if os.path.isfile(f))


@pytest.fixture()
def corpus(tmp_path: Path) -> list[Path]:
    """pydicom's test files plus a garbage, an empty and a truncated file, a zip and a DICOMDIR."""
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "garbage.dcm").write_bytes(os.urandom(3000))
    (bad / "empty.dcm").write_bytes(b"")
    ct = Path(get_testdata_file("CT_small.dcm")).read_bytes()
    (bad / "CT_truncated.dcm").write_bytes(ct[:5000])
    archive = tmp_path / "few.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for name in ("MR_small.dcm", "rtdose.dcm", "SC_rgb.dcm"):
            zf.write(get_testdata_file(name), f"sub/{name}")
        zf.writestr("../evil.dcm", b"x")
    dicomdir = tmp_path / "media"
    shutil.copytree(Path(get_testdata_file("DICOMDIR")).parent, dicomdir)
    return [*map(Path, _all_testdata()), bad, archive, dicomdir / "DICOMDIR"]


def _store(tmp_path: Path, name: str = "db.sqlite") -> Store:
    return Store(tmp_path / "db" / name)


def _accounted(s: ImportSummary) -> int:
    return s.imported + len(s.duplicates) + len(s.rejected) + len(s.skipped)


def test_import_accounts_for_every_file(tmp_path: Path, corpus: list[Path]) -> None:
    store = _store(tmp_path)
    s = import_paths(store, "tester", corpus)
    assert s.files_seen == _accounted(s) > 250
    assert s.imported > 130 and s.imported + len(s.duplicates) > 200
    rows = import_files(store, s.run_id)
    assert len(rows) == s.files_seen
    assert all(r.reason for r in rows if r.outcome in ("rejected", "skipped"))
    reasons = {Path(r.path.split("!")[0]).name: r.reason for r in s.rejected}
    assert reasons["garbage.dcm"] == "not a DICOM file"
    assert reasons["empty.dcm"] == "empty file"
    assert reasons["CT_truncated.dcm"].startswith("truncated file")
    assert reasons["few.zip"].startswith("unsafe path")
    assert any(r.reason == "DICOMDIR index" for r in s.skipped)
    assert {Path(p.path).name for p in instance_paths(store)} >= {"MR_small.dcm",
                                                                      "CT_small.dcm"}
    # zip members are logged as "archive!member" (here duplicates of the loose files, or
    # archived); their temporary extraction folder is gone
    members = [r for r in rows if "few.zip!" in r.path]
    assert {(Path(r.path).name, r.outcome) for r in members} == {
        ("MR_small.dcm", "duplicate"), ("rtdose.dcm", "duplicate"), ("SC_rgb.dcm", "duplicate"),
        ("evil.dcm", "rejected")}
    archive = tmp_path / "db" / "archive"
    assert not list(archive.glob(".extract-*")) and not list(archive.glob("??/*.dcm"))
    # the DICOMDIR's referenced files come in (as duplicates of the copies the walk found)
    media = [r for r in rows if "/media/" in r.path and r.outcome != "skipped"]
    assert len(media) == 31 and {r.outcome for r in media} <= {"imported", "duplicate"}
    assert s.totals == counts(store)
    data = s.to_json_dict()
    assert data["imported"] == s.imported and len(data["rejected"]) == len(s.rejected)
    assert store.verify_audit_chain() == []


def test_every_file_with_uids_is_imported(tmp_path: Path) -> None:
    from ioreview.imaging.scan import ScanError, scan_file

    store = _store(tmp_path)
    files = _all_testdata()
    s = import_paths(store, "tester", files)
    indexed = {r.sop_instance_uid for r in instance_paths(store)}
    for f in files:
        try:
            h = scan_file(f, with_sha256=False)
        except ScanError:
            continue
        assert h.sop_instance_uid in indexed, f
    rejected = {r.path for r in s.rejected}
    assert all(r.reason for r in s.rejected) and len(rejected) == len(s.rejected)


def test_reimport_changes_nothing(tmp_path: Path, corpus: list[Path]) -> None:
    store = _store(tmp_path)
    first = import_paths(store, "tester", corpus)
    before = counts(store)
    again = import_paths(store, "tester", corpus)
    after = counts(store)
    assert again.imported == 0
    assert len(again.duplicates) == first.imported + len(first.duplicates)
    assert {k: v for k, v in after.items() if k != "import_run"} == \
        {k: v for k, v in before.items() if k != "import_run"}
    assert again.files_seen == first.files_seen == _accounted(again)


class _Kill(KeyboardInterrupt):
    pass


def test_interrupted_import_then_rerun_matches_clean_import(tmp_path: Path) -> None:
    import pydicom
    from pydicom.uid import generate_uid

    folder = tmp_path / "series"
    folder.mkdir()
    ds = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    for i in range(1300):  # more than two 500-file batches
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
        ds.InstanceNumber = i + 1
        ds.save_as(folder / f"CT{i:05d}.dcm")

    clean = _store(tmp_path, "clean.sqlite")
    import_paths(clean, "tester", [folder])

    crashed = _store(tmp_path, "crashed.sqlite")
    calls = []

    def progress(done: int, total: int) -> None:
        calls.append((done, total))
        if done > 600:
            raise _Kill()

    with pytest.raises(KeyboardInterrupt):
        import_paths(crashed, "tester", [folder], progress=progress)
    partial = counts(crashed)["instance"]
    assert 0 < partial < counts(clean)["instance"]
    assert all(d <= t for d, t in calls)
    assert crashed.verify_audit_chain() == []
    rerun = import_paths(crashed, "tester", [folder])
    assert rerun.imported == counts(clean)["instance"] - partial
    strip = ("import_run",)
    assert {k: v for k, v in counts(crashed).items() if k not in strip} == \
        {k: v for k, v in counts(clean).items() if k not in strip}
    assert crashed.verify_audit_chain() == [] and clean.verify_audit_chain() == []


def test_copy_mode_archives_by_content(tmp_path: Path) -> None:
    import hashlib

    store = _store(tmp_path)
    archive = tmp_path / "archive"
    files = [get_testdata_file(n) for n in ("CT_small.dcm", "MR_small.dcm", "JPEG2000.dcm")]
    s = import_paths(store, "tester", files, copy_to=archive)
    assert s.imported == 3
    rows = instance_paths(store)
    for row in rows:
        assert row.archived is True
        p = Path(row.path)
        assert p.parent.parent == archive and p.name == f"{row.sha256}.dcm"
        assert hashlib.sha256(p.read_bytes()).hexdigest() == row.sha256
    again = import_paths(store, "tester", files, copy_to=archive)
    assert again.imported == 0 and len(again.duplicates) == 3
    # the content files (a writing process also leaves its marker in archive/.writers)
    assert sorted(p.name for p in archive.glob("??/*") if p.is_file()) == \
        sorted(f"{r.sha256}.dcm" for r in rows)


def test_gb18030_name_round_trips_through_the_db(tmp_path: Path) -> None:
    from ioreview.store.dicom_index import list_studies

    store = _store(tmp_path)
    import_paths(store, "tester", [get_charset_files("chrX2.dcm")[0]])
    assert [s.patient_name for s in list_studies(store)] == ["Wang^XiaoDong=王^小东"]


def test_pool_scan_gives_the_same_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ioreview import importing

    files = _all_testdata()
    in_process = _store(tmp_path, "a.sqlite")
    a = import_paths(in_process, "tester", files, workers=1)
    monkeypatch.setattr(importing, "_pool_pays", lambda *_args: True)
    pooled = _store(tmp_path, "b.sqlite")
    b = import_paths(pooled, "tester", files, workers=2)
    assert (a.imported, len(a.rejected), len(a.duplicates)) == \
        (b.imported, len(b.rejected), len(b.duplicates))
    assert instance_paths(in_process) == instance_paths(pooled)


def _radiograph_with_view_code(path: Path) -> Path:
    """A DX header (no pixels) with View Position LL and a View Code Sequence."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.1.1"
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.Modality, ds.SeriesDescription = "DX", "KNEE"
    item = Dataset()
    item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = "R-10236", "SRT", "left lateral"
    ds.ViewCodeSequence = [item]
    ds.ViewPosition = "LL"
    ds.save_as(path, enforce_file_format=True)
    return path


@pytest.mark.parametrize("workers", [1, 2])
def test_view_positions_are_indexed(tmp_path: Path, db_url: str, workers: int,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """Radiographs of pydicom-data (View Position AP / PA) and one with a View Code Sequence
    are indexed with their views, in-process and through the scanning pool, on SQLite and
    PostgreSQL; files without a view read back with none."""
    import pydicom

    from ioreview import importing
    from ioreview.store import open_store
    from ioreview.store.dicom_index import list_series, series_headers

    if workers > 1:
        monkeypatch.setattr(importing, "_pool_pays", lambda *_args: True)
    files = [get_testdata_file(n) for n in ("RG1_UNCI.dcm", "RG3_UNCI.dcm", "CT_small.dcm")]
    files.append(str(_radiograph_with_view_code(tmp_path / "dx.dcm")))
    expected = {}
    for f in files:
        ds = pydicom.dcmread(f, stop_before_pixels=True)
        items = ds.get("ViewCodeSequence")
        expected[ds.SOPInstanceUID] = (ds.get("ViewPosition", ""),
                                       items[0].CodeMeaning if items else "")
    assert sorted(expected.values()) == [("", ""), ("AP", ""), ("LL", "left lateral"), ("PA", "")]
    store = open_store(db_url)
    try:
        summary = import_paths(store, "tester", files, workers=workers,
                               archive_root=tmp_path / "archive")
        assert summary.imported == 4
        found = {h.sop_instance_uid: (h.view_position, h.view_code_meaning)
                 for s in list_series(store) for h in series_headers(store, s.id)}
    finally:
        store.close()
    assert found == expected


def test_a_reader_copy_keeps_the_view(tmp_path: Path) -> None:
    """The de-identified reader copy keeps View Position and the View Code Sequence (PS3.15
    Table E.1-1 lists neither), so the reader's blinded header names the view."""
    from ioreview.importing import archive_reader_copy

    original = _radiograph_with_view_code(tmp_path / "dx.dcm")
    made = archive_reader_copy(original, tmp_path / "archive", uid_map=lambda u: u + ".9",
                               date_offset_days=None, patient_label="CASE-0001")
    assert made.header.view_position == "LL"
    assert made.header.view_code_meaning == "left lateral"
    assert made.header.sop_instance_uid != _sop_uid(original)


def _sop_uid(path: Path) -> str:
    import pydicom

    return str(pydicom.dcmread(path, stop_before_pixels=True).SOPInstanceUID)
