"""Parquet columns built from buffers (`tables.arrow_column`) equal what `pyarrow.array`
builds, and writing Parquet tables does not import pandas."""
from __future__ import annotations

import random
import subprocess
import sys
import textwrap

import pyarrow as pa
import pytest

from ioreview.service.exports.tables import _CLEANERS, _arrow_type, arrow_column


def _values(kind: str, rng: random.Random, n: int) -> list:
    def one():
        if rng.random() < 0.3:
            return None
        if kind == "string":
            return rng.choice(["", "a", "Present", "中文 ñ", "x" * rng.randint(0, 40), "NA", "\x00"])
        if kind == "integer":
            return rng.choice([0, -1, 2**63 - 1, -(2**63), rng.randint(-10**6, 10**6)])
        if kind == "number":
            return rng.choice([0.0, -0.0, 1.5, -2.25e-300, 1e308, rng.uniform(-1e3, 1e3), float("nan")])
        return rng.random() < 0.5
    return [None if (v := one()) is None else _CLEANERS[kind](v) for _ in range(n)]


@pytest.mark.parametrize("kind", ["string", "integer", "number", "boolean"])
@pytest.mark.parametrize("n", [0, 1, 7, 8, 9, 500])
def test_arrow_column_equals_pyarrow_array(kind: str, n: int) -> None:
    rng = random.Random(f"{kind}{n}")
    for _ in range(5):
        values = _values(kind, rng, n)
        built = arrow_column(values, kind)
        built.validate(full=True)
        expected = pa.array(values, type=_arrow_type(kind))
        assert built.type == expected.type
        assert built.null_count == expected.null_count
        assert built.to_pylist() == expected.to_pylist()
        assert built.equals(expected)


def test_all_null_and_no_null_columns() -> None:
    for kind in ("string", "integer", "number", "boolean"):
        assert arrow_column([None] * 10, kind).to_pylist() == [None] * 10
    assert arrow_column(["a", "b"], "string").to_pylist() == ["a", "b"]
    assert arrow_column([True, False, True], "boolean").to_pylist() == [True, False, True]


def test_integer_out_of_range_is_refused_as_pyarrow_refuses_it() -> None:
    with pytest.raises(OverflowError):
        arrow_column([2**63], "integer")


def test_writing_parquet_tables_does_not_import_pandas(tmp_path) -> None:
    code = textwrap.dedent(f"""
        import sys
        from pathlib import Path
        from ioreview.service.exports.tables import TABLES, TableWriter
        table = next(iter(TABLES.values()))
        w = TableWriter(table, Path({str(tmp_path)!r}), ("parquet",), False)
        w.write({{c.name: None for c in w.columns}})
        w.close()
        print("pandas" in sys.modules)  # (reading it back may import pandas)
        import pyarrow.parquet as pq
        assert pq.read_table(w.paths[0]).num_rows == 1
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
