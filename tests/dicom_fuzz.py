"""Seeded mutations of real DICOM files for the fuzz tests (`tests/test_fuzz.py`, `make fuzz`).

Three kinds of damage, drawn with one `random.Random(seed)`: byte flips (mostly in the header,
where a flip changes meaning rather than one pixel), truncations at any offset, and tag-value
mutations (hostile values of the attributes that describe the pixels, of text and UIDs, and
byte-level edits pydicom refuses to write: a compressed transfer syntax over native pixels,
native pixels of undefined length).  The same seed and sources give the same files.
"""
from __future__ import annotations

import io
import os
import random
import struct
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pydicom
from pydicom import config as pydicom_config

#: (keyword, hostile values) for tag-value mutations
TAG_VALUES: tuple[tuple[str, tuple[object, ...]], ...] = (
    ("Rows", (0, 1, 3, 65535)),
    ("Columns", (0, 1, 7, 65535)),
    ("BitsAllocated", (0, 1, 12, 13, 24, 64, 65535)),
    ("BitsStored", (0, 1, 17, 40, 65535)),
    ("HighBit", (0, 99)),
    ("NumberOfFrames", ("2147483647", "-5", "0", "abc", "1e9", "3", "65536")),
    ("SamplesPerPixel", (0, 2, 3, 4)),
    ("PhotometricInterpretation", ("XYZ", "RGB", "MONOCHROME2", "PALETTE COLOR",
                                   "YBR_FULL_422", "", "ARGB")),
    ("PixelRepresentation", (1, 0, 2)),
    ("PlanarConfiguration", (1, 7)),
    ("RescaleSlope", ("0", "NaN", "inf", "-inf", "1e308", "abc", "-1")),
    ("RescaleIntercept", ("NaN", "1e308", "-inf")),
    ("WindowCenter", ("nan", "0", "1e308", "-1e308")),
    ("WindowWidth", ("nan", "0", "-5", "1e308")),
    ("SpecificCharacterSet", ("ISO 2022 IR 87", "GB18030", "NOPE", "ISO_IR 192", "")),
    ("PatientName", (b"\xff\xfe\x80\x81^\x1b$)A\xb0\xa1", b"A" * 70, b"\x00\x00")),
    ("StudyDescription", (b"\xc3\x28\xa0\xa1\xe2\x28\xa1", b"\x1b$B\x30\x21")),
    ("SOPInstanceUID", ("", "1.2.3..4", "x" * 80)),
    ("SeriesInstanceUID", ("",)),
    ("ImagePositionPatient", (["nan", "0", "0"], ["1", "2"])),
    ("PixelSpacing", (["0", "0"], ["-1", "nan"], ["1"])),
)
#: transfer syntaxes swapped in (the data set and Pixel Data are left as they are)
SWAPPED_SYNTAXES = (
    "1.2.840.10008.1.2.5",  # RLE Lossless
    "1.2.840.10008.1.2.4.50",  # JPEG Baseline
    "1.2.840.10008.1.2.4.90",  # JPEG 2000 Lossless
    "1.2.840.10008.1.2.2",  # Explicit VR Big Endian
    "1.2.840.10008.1.2",  # Implicit VR Little Endian
    "1.2.840.10008.1.2.1.99",  # Deflated Explicit VR Little Endian
    "1.2.3.4.5",  # not a transfer syntax
)
PIXEL_EDITS = ("drop pixel data", "halve pixel data", "undefined-length pixels",
               "swap transfer syntax")


@dataclass(frozen=True)
class Mutant:
    """One damaged file: what it came from, how it was damaged, and its bytes."""

    source: str
    kind: str
    data: bytes


def source_files(max_bytes: int = 1 << 20, demo_dir: Path | None = None) -> list[str]:
    """pydicom's and pydicom-data's test files up to `max_bytes`, and the demo's files."""
    from pydicom.data import get_testdata_files

    files = [f for f in get_testdata_files() if os.path.isfile(f)
             and os.path.getsize(f) <= max_bytes and not f.endswith((".json", ".txt", ".gz",
                                                                      ".bz2", ".xml"))]
    if demo_dir is not None:
        files += [str(p) for p in sorted(demo_dir.rglob("*.dcm"))
                  if p.stat().st_size <= max_bytes]
    return sorted(files)


def mutants(seed: int, n: int, sources: Sequence[str]) -> Iterator[Mutant]:
    """`n` seeded mutants, cycling through `sources` in a shuffled order."""
    rng = random.Random(seed)
    order = list(sources)
    cache: dict[str, bytes] = {}
    for i in range(n):
        if i % len(order) == 0:
            rng.shuffle(order)
        src = order[i % len(order)]
        data = cache.get(src)
        if data is None:
            data = cache[src] = Path(src).read_bytes()
        roll = rng.random()
        if roll < 0.3:
            yield Mutant(src, "flip", flip_bytes(data, rng))
        elif roll < 0.45:
            cut = rng.randrange(0, max(len(data), 1))
            yield Mutant(src, "truncate", data[:cut])
        elif roll < 0.85:
            kind, out = mutate_tag(data, rng)
            if rng.random() < 0.15:
                out, kind = flip_bytes(out, rng), kind + "+flip"
            yield Mutant(src, kind, out)
        else:
            kind, out = edit_pixels(data, rng)
            yield Mutant(src, kind, out)


def flip_bytes(data: bytes, rng: random.Random) -> bytes:
    """XOR 1-16 bytes with random non-zero values, three in four within the first 2 KiB."""
    if not data:
        return data
    out = bytearray(data)
    for _ in range(rng.randint(1, 16)):
        limit = len(out) if rng.random() < 0.25 else min(len(out), 2048)
        out[rng.randrange(limit)] ^= rng.randint(1, 255)
    return bytes(out)


def _read(data: bytes) -> pydicom.Dataset | None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return pydicom.dcmread(io.BytesIO(data), force=True)
    except Exception:  # noqa: BLE001 - a source pydicom cannot read gets byte damage instead
        return None


def _write(ds: pydicom.Dataset) -> bytes | None:
    buf = io.BytesIO()
    saved = (pydicom_config.settings.reading_validation_mode,
             pydicom_config.settings.writing_validation_mode)
    pydicom_config.settings.reading_validation_mode = pydicom_config.IGNORE
    pydicom_config.settings.writing_validation_mode = pydicom_config.IGNORE
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds.save_as(buf, enforce_file_format=False)
    except Exception:  # noqa: BLE001 - pydicom refuses some values: the caller falls back
        return None
    finally:
        (pydicom_config.settings.reading_validation_mode,
         pydicom_config.settings.writing_validation_mode) = saved
    return buf.getvalue()


def mutate_tag(data: bytes, rng: random.Random) -> tuple[str, bytes]:
    """Give one attribute a hostile value (pydicom writes it); byte flips when it cannot."""
    ds = _read(data)
    keyword, values = TAG_VALUES[rng.randrange(len(TAG_VALUES))]
    value = values[rng.randrange(len(values))]
    if ds is None:
        return "flip (unreadable source)", flip_bytes(data, rng)
    saved = pydicom_config.settings.writing_validation_mode
    pydicom_config.settings.writing_validation_mode = pydicom_config.IGNORE
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            setattr(ds, keyword, value)
    except Exception:  # noqa: BLE001
        return f"flip ({keyword} not settable)", flip_bytes(data, rng)
    finally:
        pydicom_config.settings.writing_validation_mode = saved
    out = _write(ds)
    if out is None:
        return f"flip ({keyword} not writable)", flip_bytes(data, rng)
    return f"tag {keyword}={value!r}"[:80], out


def edit_pixels(data: bytes, rng: random.Random) -> tuple[str, bytes]:
    """Damage the Pixel Data element or what says how it is encoded."""
    what = PIXEL_EDITS[rng.randrange(len(PIXEL_EDITS))]
    if what == "swap transfer syntax":
        ts = SWAPPED_SYNTAXES[rng.randrange(len(SWAPPED_SYNTAXES))]
        out = replace_transfer_syntax(data, ts)
        return (f"transfer syntax {ts}", out) if out is not None else ("truncate", data[:-1])
    pos = data.rfind(b"\xe0\x7f\x10\x00")
    if pos < 0:
        return "flip (no pixel data)", flip_bytes(data, rng)
    explicit = data[pos + 4:pos + 6] in (b"OB", b"OW")
    len_at = pos + 8 if explicit else pos + 4
    if what == "undefined-length pixels":
        return what, data[:len_at] + b"\xff\xff\xff\xff" + data[len_at + 4:]
    if what == "drop pixel data":
        return what, data[:pos]
    (length,) = struct.unpack_from("<L", data, len_at)
    if length == 0xFFFFFFFF:
        return what, data[:len_at + 4 + (len(data) - len_at - 4) // 2]
    half = length // 2 & ~1
    return what, data[:len_at] + struct.pack("<L", half) + data[len_at + 4:len_at + 4 + half]


def replace_transfer_syntax(data: bytes, ts: str) -> bytes | None:
    """The file with (0002,0010) replaced and the meta group length fixed; None without meta."""
    if data[128:132] != b"DICM":
        return None
    pos = 132
    group_len_at = None
    while pos + 8 <= len(data):
        group, elem = struct.unpack_from("<HH", data, pos)
        if group != 2:
            return None
        vr = data[pos + 4:pos + 6]
        if vr in (b"OB", b"OW", b"UN", b"UT", b"SQ"):
            length = struct.unpack_from("<L", data, pos + 8)[0]
            hdr = 12
        else:
            length = struct.unpack_from("<H", data, pos + 6)[0]
            hdr = 8
        if elem == 0:
            group_len_at = pos + 8
        if elem == 0x10:
            value = ts.encode() + (b"\0" if len(ts) % 2 else b"")
            out = data[:pos + 6] + struct.pack("<H", len(value)) + value \
                + data[pos + hdr + length:]
            if group_len_at is not None:
                (group_len,) = struct.unpack_from("<L", data, group_len_at)
                out = out[:group_len_at] + struct.pack("<L", group_len + len(value) - length) \
                    + out[group_len_at + 4:]
            return out
        pos += hdr + length
    return None
