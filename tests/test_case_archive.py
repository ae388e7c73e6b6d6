"""Files of a case are archived under content hashes, so paths handed to readers carry no
source folder names (which often hold patient IDs), and tampering is detected."""
from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from adjudication.protocol import default_protocol_path
from ioreview.errors import InvalidInput
from ioreview.imaging.synthetic import DemoConfig, generate_demo_trial
from ioreview.service import Role, Trial


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo")
    return generate_demo_trial(root, DemoConfig.small())


def make_trial(tmp_path: Path, dicom_dir: Path) -> tuple[Trial, object]:
    trial = Trial.open(tmp_path / "t.sqlite")
    admin = trial.system_session("test")
    trial.install_protocol(admin, default_protocol_path())
    trial.import_studies(admin, [dicom_dir])
    return trial, admin


def test_reader_paths_are_archive_hashes(tmp_path, demo):
    trial, admin = make_trial(tmp_path, Path(demo.dicom_dir))
    trial.create_user(admin, "r1", "Reader One", Role.READER, "reader-pass-1")
    trial.create_user(admin, "r2", "Reader Two", Role.READER, "reader-pass-2")
    trial.build_cases_from_studies(admin)
    trial.generate_assignments(admin, seed=1)
    reader = trial.login("r1", "reader-pass-1")
    item = trial.worklist(reader)[0]
    view = trial.open_case(reader, item.assignment_id)
    subjects = set(demo.subjects)
    archive = trial.archive_dir.resolve()
    for series in view.series:
        for h in series.headers:
            path = Path(h.path)
            assert path.resolve().is_relative_to(archive)
            assert not any(s in h.path for s in subjects)
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
            assert path.stem == digest == h.sha256
    assert any(r.action == "archive" for r in trial.store.audit_records(entity="instance"))
    assert trial.store.verify_audit_chain() == []


def test_changed_source_file_is_refused_when_building_a_case(tmp_path, demo):
    src = tmp_path / "copy"
    import shutil

    shutil.copytree(demo.dicom_dir, src)
    trial = Trial.open(tmp_path / "t.sqlite")
    admin = trial.system_session("test")
    trial.install_protocol(admin, default_protocol_path())
    trial.import_studies(admin, [src], checksum=True)
    victim = next(src.rglob("*.dcm"))
    data = bytearray(victim.read_bytes())
    data[-1] ^= 0xFF
    victim.write_bytes(bytes(data))
    with pytest.raises(InvalidInput, match="changed since it was imported"):
        trial.build_cases_from_studies(admin)
