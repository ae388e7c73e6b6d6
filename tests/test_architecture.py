"""Layering rules from shared/design.md, checked on the source (an import-linter equivalent)."""
from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def python_files(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def test_qt_only_inside_ioreview_ui():
    offenders = [
        str(p.relative_to(ROOT))
        for pkg in ("ioreview", "adjudication")
        for p in python_files(pkg)
        if "ui" not in p.relative_to(ROOT).parts[1:2]
        and any(m.split(".")[0] == "PySide6" for m in imported_modules(p))
    ]
    assert offenders == [], f"PySide6 imported outside ioreview/ui: {offenders}"


def test_adjudication_is_pure_domain_code():
    forbidden = {"ioreview", "sqlite3", "sqlite_utils", "PySide6", "pydicom"}
    offenders = {
        str(p.relative_to(ROOT)): sorted(m for m in imported_modules(p)
                                         if m.split(".")[0] in forbidden)
        for p in python_files("adjudication")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_ui_reads_dicom_only_through_imaging():
    """Pixel and header access of the UI goes through ioreview.imaging, never pydicom itself."""
    offenders = [
        str(p.relative_to(ROOT))
        for p in python_files("ioreview/ui")
        if any(m.split(".")[0] == "pydicom" for m in imported_modules(p))
    ]
    assert offenders == [], f"pydicom imported in ioreview/ui: {offenders}"


def test_sql_only_in_store():
    """Nothing outside ioreview/store opens database connections (sqlite3, sqlite-utils,
    psycopg)."""
    offenders = [
        str(p.relative_to(ROOT))
        for p in python_files("ioreview")
        if p.relative_to(ROOT).parts[1] != "store"
        and {"sqlite3", "sqlite_utils", "psycopg"} & {m.split(".")[0]
                                                      for m in imported_modules(p)}
    ]
    assert offenders == []


def test_models_do_not_import_ui():
    offenders = [
        str(p.relative_to(ROOT))
        for p in python_files("ioreview")
        if p.relative_to(ROOT).parts[1] != "ui"
        and any(m.startswith("ioreview.ui") for m in imported_modules(p))
        and p.name not in {"cli.py"}
    ]
    assert offenders == []


LINT_IMPORTS = shutil.which("lint-imports", path=str(Path(sys.executable).parent)) or shutil.which(
    "lint-imports")


def test_import_linter_contracts_hold():
    """The layering contracts of pyproject.toml hold; a missing import-linter is a failure
    (it is a test dependency), never a skip."""
    assert LINT_IMPORTS is not None, "import-linter is missing: pip install -e '.[test]'"
    proc = subprocess.run([LINT_IMPORTS], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 broken" in proc.stdout and " 6 kept" in proc.stdout, proc.stdout


def test_no_sql_text_outside_store():
    """SQL statements live in ioreview/store only (a PostgreSQL backend will replace it)."""
    import re

    sql = re.compile(r"^\s*(SELECT\b.*\bFROM|INSERT INTO|UPDATE \w+ SET|DELETE FROM|CREATE TABLE)\b",
                     re.DOTALL)
    offenders = []
    for pkg in ("ioreview", "adjudication"):
        for p in python_files(pkg):
            if p.relative_to(ROOT).parts[1:2] == ("store",):
                continue
            for node in ast.walk(ast.parse(p.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                        and sql.match(node.value):
                    offenders.append(f"{p.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []
