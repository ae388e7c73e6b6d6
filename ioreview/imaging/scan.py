"""A lean DICOM header scanner: the attributes ioreview indexes, without building a data set.

`scan_file` reads the first block of a file, parses the File Meta Information (PS3.10 7.1,
always Explicit VR Little Endian) and walks the top-level data set element by element
(PS3.5 7.1: data element structure) with `struct.unpack_from`, keeping only the raw values of
the tags `InstanceHeader` needs, stepping over sequences (PS3.5 7.5) and stopping at the Pixel
Data header, whose value offset it records for native (defined-length) pixel data
(PS3.5 A.4: encapsulated pixel data has undefined length).  It is ~20x faster than
`pydicom.dcmread(stop_before_pixels=True)`; anything it does not handle itself (Deflated
Explicit VR, files whose encoding contradicts their meta header) goes through pydicom.

Text is decoded by the file's Specific Character Set with pydicom's `pydicom.charset`
(PS3.5 6.1; person-name component groups PS3.5 6.2.1).
"""
from __future__ import annotations

import hashlib
import mmap
import os
import re
import struct
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from ioreview.imaging.header import InstanceHeader
from ioreview.imaging.pixel_check import (CODESTREAM_HEAD, NATIVE_SYNTAXES, PixelDescription,
                                          pixel_description_of, pixel_problems)

__all__ = ["DICOMDIR_REASON", "ScanError", "ScanResult", "bare_dataset_syntax", "clean_text",
           "scan", "scan_file",
           "header_from_dataset", "is_dicomdir", "dicomdir_referenced_files"]

#: bytes read up front; most headers (and the Pixel Data element header) fit in it
_FIRST_READ = 16 * 1024
_UNDEFINED = 0xFFFFFFFF
_ITEM = 0xFFFEE000
_ITEM_DELIMITER = 0xFFFEE00D
_SEQUENCE_DELIMITER = 0xFFFEE0DD
_PIXEL_DATA = 0x7FE00010
_PIXEL_TAGS = frozenset({0x7FE00008, 0x7FE00009, _PIXEL_DATA})
_DICOMDIR_CLASS = "1.2.840.10008.1.3.10"
#: the ScanError reason for a DICOMDIR (an index of other files, not an instance)
DICOMDIR_REASON = "DICOMDIR (directory record file, not an image)"
_IMPLICIT_LE = "1.2.840.10008.1.2"
_EXPLICIT_LE = "1.2.840.10008.1.2.1"
_EXPLICIT_BE = "1.2.840.10008.1.2.2"
_DEFLATED = "1.2.840.10008.1.2.1.99"

#: VRs with a 2-byte reserved field and a 4-byte length in explicit VR (PS3.5 7.1.2, Table 7.1-1)
_LONG_VRS = frozenset({b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"SQ", b"SV", b"UC", b"UN",
                       b"UR", b"UT", b"UV"})
_SHORT_VRS = frozenset({b"AE", b"AS", b"AT", b"CS", b"DA", b"DS", b"DT", b"FD", b"FL", b"IS",
                        b"LO", b"LT", b"PN", b"SH", b"SL", b"SS", b"ST", b"TM", b"UI", b"UL",
                        b"US"})
_ALL_VRS = _LONG_VRS | _SHORT_VRS

# How a raw value becomes a header value.
_UID, _CODE, _TEXT, _PN, _INT, _US, _FLOAT, _FLOATS = range(8)

#: tag -> (InstanceHeader field, value kind, number of values for float tuples or 0)
_FIELDS: dict[int, tuple[str, int, int]] = {
    0x00080005: ("specific_character_set", _CODE, 0),
    0x00080008: ("image_type", _CODE, 0),
    0x00080016: ("sop_class_uid", _UID, 0),
    0x00080018: ("sop_instance_uid", _UID, 0),
    0x00080020: ("study_date", _CODE, 0),
    0x00080021: ("series_date", _CODE, 0),
    0x00080023: ("content_date", _CODE, 0),
    0x00080030: ("study_time", _CODE, 0),
    0x00080050: ("accession_number", _TEXT, 0),
    0x00080060: ("modality", _CODE, 0),
    0x00080080: ("institution_name", _TEXT, 0),
    0x00080090: ("referring_physician_name", _PN, 0),
    0x00081030: ("study_description", _TEXT, 0),
    0x0008103E: ("series_description", _TEXT, 0),
    0x00100010: ("patient_name", _PN, 0),
    0x00100020: ("patient_id", _TEXT, 0),
    0x00100021: ("issuer_of_patient_id", _TEXT, 0),
    0x00100030: ("patient_birth_date", _CODE, 0),
    0x00100040: ("patient_sex", _CODE, 0),
    0x00180015: ("body_part_examined", _CODE, 0),
    0x00180050: ("slice_thickness", _FLOAT, 0),
    0x00181063: ("frame_time_ms", _FLOAT, 0),
    0x00181114: ("estimated_magnification", _FLOAT, 0),
    0x00181164: ("imager_pixel_spacing", _FLOATS, 2),
    # View Position is CS (ASCII) in the standard, yet modalities write local-language text
    # into it ("正位"): decoded by the Specific Character Set like LO text
    0x00185101: ("view_position", _TEXT, 0),
    0x0020000D: ("study_instance_uid", _UID, 0),
    0x0020000E: ("series_instance_uid", _UID, 0),
    0x00200010: ("study_id", _TEXT, 0),
    0x00200011: ("series_number", _INT, 0),
    0x00200013: ("instance_number", _INT, 0),
    0x00200032: ("image_position", _FLOATS, 3),
    0x00200037: ("image_orientation", _FLOATS, 6),
    0x00200052: ("frame_of_reference_uid", _UID, 0),
    0x00200060: ("laterality", _CODE, 0),
    0x00280002: ("samples_per_pixel", _US, 0),
    0x00280004: ("photometric_interpretation", _CODE, 0),
    0x00280006: ("planar_configuration", _US, 0),
    0x00280008: ("number_of_frames", _INT, 0),
    0x00280010: ("rows", _US, 0),
    0x00280011: ("columns", _US, 0),
    0x00280030: ("pixel_spacing", _FLOATS, 2),
    0x00280100: ("bits_allocated", _US, 0),
    0x00280101: ("bits_stored", _US, 0),
    0x00280103: ("pixel_representation", _US, 0),
    0x00281050: ("window_center", _FLOATS, -1),
    0x00281051: ("window_width", _FLOATS, -1),
    0x00281056: ("voi_lut_function", _CODE, 0),
    0x00281052: ("rescale_intercept", _FLOAT, 0),
    0x00281053: ("rescale_slope", _FLOAT, 0),
    # View Code Sequence: the walker keeps the Code Meaning (0008,0104) of its first item
    0x00540220: ("view_code_meaning", _TEXT, 0),
}
_VIEW_POSITION = 0x00185101
_VIEW_CODE_SEQUENCE = 0x00540220
_CODE_MEANING = 0x00080104
#: Red Palette Color LUT Descriptor / Data / Segmented Data (PS3.3 C.7.6.3.1.5-6): only
#: whether they are present matters (a PALETTE COLOR image without them cannot be shown)
_PALETTE_TAGS = frozenset({0x00281101, 0x00281201, 0x00281221})
_WANTED = frozenset(_FIELDS) | _PALETTE_TAGS
_REQUIRED_UIDS = (("sop_instance_uid", "SOP Instance UID"),
                  ("study_instance_uid", "Study Instance UID"),
                  ("series_instance_uid", "Series Instance UID"))
#: at most this many library warnings are kept per file, each cut to `_NOTE_CHARS`
_MAX_NOTES = 5
_NOTE_CHARS = 200
#: encapsulated items walked at most (a frame needs one; more is a damaged file)
_MAX_ITEMS = 1 << 20


def clean_text(text: str, limit: int | None = None) -> str:
    """`text` fit for a log and a terminal: one line, control characters and bytes that are
    not UTF-8 shown as '?', at most `limit` characters."""
    text = text.encode("utf-8", "replace").decode("utf-8")
    text = "".join("?" if (ord(c) < 32 or 127 <= ord(c) < 160) else c
                   for c in " ".join(text.split()))
    if limit is not None and len(text) > limit:
        text = text[:limit - 1] + "…"
    return text


class ScanError(Exception):
    """A file that cannot be indexed; `reason` says why in words a coordinator understands."""

    def __init__(self, reason: str, path: str | Path | None = None) -> None:
        self.reason = clean_text(reason, 1000)
        self.path = None if path is None else str(path)
        super().__init__(self.reason if path is None else f"{path}: {self.reason}")


@dataclass(frozen=True)
class ScanResult:
    """A scanned file: its header; why its pixels cannot be decoded consistently
    (`ioreview.imaging.pixel_check`; empty when they can, or when it holds no image); and
    what the DICOM library warned about while reading it (invalid values, undecodable text),
    kept for the import log instead of printed."""

    header: InstanceHeader
    pixel_problems: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def pixel_reason(self) -> str:
        """The pixel problems in one line (the first three)."""
        more = len(self.pixel_problems) - 3
        return "; ".join(self.pixel_problems[:3]) + (
            f" (and {more} more problems)" if more > 0 else "")


@contextmanager
def _noting(notes: list[str]) -> Iterator[None]:
    """Collect the warnings raised inside into `notes` (one line each, deduplicated)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield
    for w in caught:
        _note(notes, str(w.message))


def _note(notes: list[str], message: str) -> None:
    text = clean_text(message, _NOTE_CHARS)
    if text and text not in notes and len(notes) < _MAX_NOTES:
        notes.append(text)


class _Unsupported(Exception):
    """The fast walker meets an encoding it leaves to pydicom."""


class _OutOfData(Exception):
    """The walker needs bytes beyond the buffer; `tag` is the element being read."""

    def __init__(self, tag: int | None, need: int) -> None:
        self.tag = tag
        self.need = need
        super().__init__(need)


def _tag_text(tag: int | None) -> str:
    return "the first element" if tag is None else f"({tag >> 16:04X},{tag & 0xFFFF:04X})"


# -- the walker ------------------------------------------------------------------------------------
def _skip_undefined(buf: bytes, pos: int, explicit: bool, little: bool) -> int:
    """Return the position after the Sequence Delimitation Item of an undefined-length value
    that starts at `pos` (PS3.5 7.5.1-7.5.2: items of defined or undefined length; an item of
    undefined length ends with an Item Delimitation Item)."""
    e = "<" if little else ">"
    item_fmt = e + "HHL"
    efmt, lfmt = e + "HH2sH", e + "L"
    while True:
        group, elem, length = struct.unpack_from(item_fmt, buf, pos)
        tag = group << 16 | elem
        pos += 8
        if tag == _SEQUENCE_DELIMITER:
            return pos
        if tag != _ITEM:
            raise _Unsupported(f"unexpected {_tag_text(tag)} inside a sequence")
        if length != _UNDEFINED:
            pos += length
            continue
        while True:
            if explicit:
                group, elem, vr, length = struct.unpack_from(efmt, buf, pos)
                tag = group << 16 | elem
                if tag == _ITEM_DELIMITER:
                    pos += 8
                    break
                if vr in _LONG_VRS:
                    length = struct.unpack_from(lfmt, buf, pos + 8)[0]
                    pos += 12
                elif vr in _SHORT_VRS:
                    pos += 8
                else:
                    raise _Unsupported("invalid VR inside a sequence item")
            else:
                group, elem, length = struct.unpack_from(item_fmt, buf, pos)
                tag = group << 16 | elem
                pos += 8
                if tag == _ITEM_DELIMITER:
                    break
                vr = b""
            if length == _UNDEFINED:
                # PS3.5 6.2.2: an undefined-length UN value is encoded as Implicit VR LE
                unk = vr == b"UN"
                pos = _skip_undefined(buf, pos, explicit and not unk, little or unk)
            else:
                pos += length


def _walk(buf: bytes, pos: int, size: int, explicit: bool, little: bool
          ) -> tuple[dict[int, bytes], int | None, int | None, int | None]:
    """Walk the top-level data set from `pos` (PS3.5 7.1).  Return the raw values of the wanted
    tags and (pixel tag, pixel value offset, pixel value length or None when undefined)."""
    n = len(buf)
    whole = n >= size
    found: dict[int, bytes] = {}
    e = "<" if little else ">"
    efmt, lfmt, ifmt = e + "HH2sH", e + "L", e + "HHL"
    unpack = struct.unpack_from
    wanted = _WANTED
    long_vrs, short_vrs = _LONG_VRS, _SHORT_VRS
    tag: int | None = None
    try:
        while pos < n:
            if explicit:
                group, elem, vr, length = unpack(efmt, buf, pos)
                if vr in long_vrs:
                    length = unpack(lfmt, buf, pos + 8)[0]
                    hdr = 12
                elif vr in short_vrs:
                    hdr = 8
                else:
                    raise _Unsupported(f"invalid VR {vr!r}")
            else:
                group, elem, length = unpack(ifmt, buf, pos)
                vr = b""
                hdr = 8
            tag = group << 16 | elem
            vpos = pos + hdr
            if tag in _PIXEL_TAGS:
                return found, tag, vpos, None if length == _UNDEFINED else length
            if length == _UNDEFINED:
                unk = vr == b"UN"
                pos = _skip_undefined(buf, vpos, explicit and not unk, little or unk)
                if tag == _VIEW_CODE_SEQUENCE:
                    _keep_code_meaning(found, buf, vpos, pos, explicit and not unk, little or unk)
                continue
            pos = vpos + length
            if tag in wanted:
                if pos > n:
                    raise _OutOfData(tag, pos)
                if tag == _VIEW_CODE_SEQUENCE:
                    # PS3.5 6.2.2: a sequence read as UN holds Implicit VR Little Endian items
                    unk = vr == b"UN"
                    _keep_code_meaning(found, buf, vpos, pos, explicit and not unk, little or unk)
                else:
                    found[tag] = buf[vpos:pos]
    except struct.error:
        raise _OutOfData(tag, n + 1) from None
    if pos > n or (pos == n and not whole):
        raise _OutOfData(tag, pos + 8)
    return found, None, None, None


def _keep_code_meaning(found: dict[int, bytes], buf: bytes, pos: int, end: int,
                       explicit: bool, little: bool) -> None:
    """Keep, under the sequence's tag, the raw Code Meaning (0008,0104) of the first item of
    the sequence whose value lies in buf[pos:end] (PS3.5 7.5: items; PS3.3 8.8: code
    sequence macro).  A damaged or empty sequence keeps nothing: the view is only a hint."""
    e = "<" if little else ">"
    try:
        group, elem, length = struct.unpack_from(e + "HHL", buf, pos)
        if (group << 16 | elem) != _ITEM:
            return
        pos += 8
        stop = end if length == _UNDEFINED else min(end, pos + length)
        while pos < stop:
            if explicit:
                group, elem, vr, length = struct.unpack_from(e + "HH2sH", buf, pos)
                if vr in _LONG_VRS:
                    length = struct.unpack_from(e + "L", buf, pos + 8)[0]
                    hdr = 12
                elif vr in _SHORT_VRS:
                    hdr = 8
                else:
                    return
            else:
                group, elem, length = struct.unpack_from(e + "HHL", buf, pos)
                vr, hdr = b"", 8
            tag = group << 16 | elem
            if tag == _ITEM_DELIMITER or tag > _CODE_MEANING:
                return
            vpos = pos + hdr
            if length == _UNDEFINED:
                unk = vr == b"UN"
                pos = _skip_undefined(buf, vpos, explicit and not unk, little or unk)
                continue
            pos = vpos + length
            if tag == _CODE_MEANING:
                if pos <= stop:
                    found[_VIEW_CODE_SEQUENCE] = buf[vpos:pos]
                return
    except (struct.error, _Unsupported):
        return


def _parse_meta(buf: bytes) -> tuple[dict[int, bytes], int]:
    """Group 0002 after the preamble: Explicit VR Little Endian (PS3.10 7.1)."""
    pos = 132
    meta: dict[int, bytes] = {}
    while True:
        group, elem, vr, length = struct.unpack_from("<HH2sH", buf, pos)
        if group != 0x0002:
            return meta, pos
        if vr in _LONG_VRS:
            length = struct.unpack_from("<L", buf, pos + 8)[0]
            vpos = pos + 12
        elif vr in _SHORT_VRS:
            vpos = pos + 8
        else:
            raise _Unsupported("file meta information is not Explicit VR Little Endian")
        if length == _UNDEFINED or vpos + length > len(buf):
            raise _OutOfData(group << 16 | elem, vpos + (0 if length == _UNDEFINED else length))
        meta[elem] = buf[vpos:vpos + length]
        pos = vpos + length


def _ascii(raw: bytes) -> str:
    return raw.decode("latin-1").strip(" \0")


def _sniff_encoding(buf: bytes) -> tuple[bool, bool] | None:
    """(explicit, little) for a data set without preamble and meta header, when it plausibly
    starts with a group 0008 element, as pydicom's `force=True` reads such files."""
    if len(buf) < 8:
        return None
    vr = buf[4:6]
    if buf[0:2] == b"\x08\x00":
        return (vr in _ALL_VRS, True)
    if buf[0:2] == b"\x00\x08" and vr in _ALL_VRS:
        return (True, False)
    return None


def bare_dataset_syntax(head: bytes) -> str | None:
    """The transfer syntax of a data set stored without preamble and meta header (an older,
    pre-Part-10 file), when its first bytes read as a group 0008 element; else None."""
    sniffed = _sniff_encoding(head)
    if sniffed is None:
        return None
    explicit, little = sniffed
    return _IMPLICIT_LE if not explicit else _EXPLICIT_LE if little else _EXPLICIT_BE


def _read_header(path: str, with_sha256: bool) -> ScanResult:
    notes: list[str] = []
    with open(path, "rb", buffering=0) as f:
        size = os.fstat(f.fileno()).st_size
        if size == 0:
            raise ScanError("empty file")
        buf = f.read(min(size, _FIRST_READ))
        while True:
            try:
                fields, pixel = _parse(buf, size, notes)
                break
            except _OutOfData as exc:
                if len(buf) >= size:
                    raise ScanError(f"truncated file (ends inside element {_tag_text(exc.tag)})"
                                    ) from None
                want = min(size, max(2 * len(buf), exc.need + _FIRST_READ))
                buf += f.read(want - len(buf))
        fragments: tuple[int, bytes | None] | str | None = None
        if fields is not None and pixel[0] == _PIXEL_DATA and pixel[2] is None \
                and fields.get("transfer_syntax_uid") not in NATIVE_SYNTAXES:
            fragments = _count_fragments(f.fileno(), pixel[1], size)
        digest = _sha256(f, size) if with_sha256 else ""
    if fields is None:
        return _fallback(path, size, digest)
    tag, offset, length = pixel
    if tag is not None and length is not None and offset + length > size:
        raise ScanError(f"truncated file (ends inside element {_tag_text(tag)})")
    palette = fields.pop("_palette", None)
    problems = _pixel_problems(fields, _pixel_kind(tag, length), length, fragments, palette)
    fields["file_size"] = size
    fields["sha256"] = digest
    if length is not None and tag == _PIXEL_DATA:
        fields["pixel_data_offset"] = offset
        fields["pixel_data_length"] = length
    return ScanResult(_finish(path, fields), problems, tuple(notes))


def _pixel_kind(tag: int | None, length: int | None) -> str | None:
    if tag is None:
        return None
    if tag != _PIXEL_DATA:
        return "float"
    return "native" if length is not None else "encapsulated"


def _count_fragments(fd: int, pos: int, size: int) -> tuple[int, bytes | None] | str:
    """Fragments of encapsulated Pixel Data whose value starts at `pos` (PS3.5 A.4: a Basic
    Offset Table item, then one item per fragment, then a Sequence Delimitation Item).  A
    file that ends right after its last complete item (no delimiter) is read as pydicom
    reads it; one that ends inside an item is truncated.  Returns the count and the start of
    the first fragment (`pixel_check.CODESTREAM_HEAD` bytes at most), or what is wrong with
    the item structure."""
    items = 0
    first: bytes | None = None
    while pos + 8 <= size and items <= _MAX_ITEMS:
        group, elem, length = struct.unpack("<HHL", os.pread(fd, 8, pos))
        tag = group << 16 | elem
        if tag == _SEQUENCE_DELIMITER:
            break
        if tag != _ITEM:
            return (f"the encapsulated Pixel Data is damaged: {_tag_text(tag)} where an item "
                    "or the sequence delimiter belongs (PS3.5 A.4)")
        if length == _UNDEFINED or pos + 8 + length > size:
            return "the file ends inside the encapsulated Pixel Data (truncated)"
        if items == 1:
            first = os.pread(fd, min(length, CODESTREAM_HEAD), pos + 8)
        pos += 8 + length
        items += 1
    return max(items - 1, 0), first


def _pixel_problems(fields: dict[str, Any], kind: str | None, length: int | None,
                    fragments: tuple[int, bytes | None] | str | None,
                    palette: bool | None) -> tuple[str, ...]:
    """Why the pixels of a lean-scanned file cannot be decoded consistently."""
    if isinstance(fragments, str):
        return (fragments,)
    count, first = fragments if fragments is not None else (None, None)
    problems = pixel_problems(PixelDescription(
        rows=fields.get("rows"), columns=fields.get("columns"),
        samples_per_pixel=fields.get("samples_per_pixel"),
        photometric_interpretation=fields.get("photometric_interpretation") or "",
        bits_allocated=fields.get("bits_allocated"), bits_stored=fields.get("bits_stored"),
        pixel_representation=fields.get("pixel_representation"),
        planar_configuration=fields.get("planar_configuration"),
        number_of_frames=fields.get("number_of_frames"),
        transfer_syntax_uid=fields.get("transfer_syntax_uid") or "",
        pixel_data=kind, pixel_data_length=length, fragments=count, first_fragment=first,
        rescale_slope=fields.get("rescale_slope"),
        rescale_intercept=fields.get("rescale_intercept"),
        has_palette=palette))
    return tuple(problems)


def _sha256(f: Any, size: int) -> str:
    """SHA-256 of the whole file through a memory map (no copy into Python buffers)."""
    try:
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
            return hashlib.sha256(m).hexdigest()
    except (OSError, ValueError):
        f.seek(0)
        return hashlib.file_digest(f, "sha256").hexdigest()


def _parse(buf: bytes, size: int, notes: list[str]
           ) -> tuple[dict[str, Any] | None, tuple[int | None, int | None, int | None]]:
    """Parse one buffer; (None, ...) asks for the pydicom fallback."""
    meta_class = ""
    if buf[128:132] == b"DICM":
        try:
            meta, pos = _parse_meta(buf)
        except _Unsupported:
            return None, (None, None, None)
        except struct.error:
            raise _OutOfData(0x00020000, len(buf) + 1) from None
        ts = _ascii(meta.get(0x0010, b""))
        meta_class = _ascii(meta.get(0x0002, b""))
        if meta_class == _DICOMDIR_CLASS:
            raise ScanError(DICOMDIR_REASON)
        if not ts or ts == _DEFLATED:
            return None, (None, None, None)
        explicit, little = ts != _IMPLICIT_LE, ts != _EXPLICIT_BE
        if not explicit and len(buf) >= pos + 6 and buf[pos + 4:pos + 6] in _ALL_VRS:
            return None, (None, None, None)
    else:
        sniffed = _sniff_encoding(buf)
        if sniffed is None:
            raise ScanError("not a DICOM file")
        explicit, little = sniffed
        pos = 0
        ts = _IMPLICIT_LE if not explicit else _EXPLICIT_LE if little else _EXPLICIT_BE
    try:
        found, tag, offset, length = _walk(buf, pos, size, explicit, little)
    except _Unsupported:
        return None, (None, None, None)
    fields = _decode_fields(found, little, notes)
    fields["transfer_syntax_uid"] = ts
    fields["_palette"] = 0x00281101 in found and bool(found.keys() & {0x00281201, 0x00281221})
    if not fields.get("sop_class_uid") and meta_class:
        fields["sop_class_uid"] = meta_class
    return fields, (tag, offset, length)


# -- values --------------------------------------------------------------------------------------------
@lru_cache(maxsize=64)
def _encodings(charset: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Python codecs for a Specific Character Set, and the warnings naming it raised."""
    from pydicom.charset import convert_encodings

    values = [v.strip() for v in charset.split("\\")] if charset else [""]
    notes: list[str] = []
    with _noting(notes):
        encodings = tuple(convert_encodings(values))
    return encodings, tuple(notes)


def _decode_text(raw: bytes, encodings: tuple[str, ...]) -> str:
    """LO/SH text (PS3.5 6.1.2.5.3: TEXT_VR delimiters reset ISO 2022 code extensions).
    Non-ASCII text is decoded inside `_decode_fields`' warning collector."""
    if raw.isascii() and b"\x1b" not in raw:
        text = raw.decode("ascii")
    elif encodings and encodings[0].startswith(_STRICT):
        text = raw.decode(encodings[0][len(_STRICT):])
    else:
        from pydicom.charset import decode_bytes
        from pydicom.valuerep import TEXT_VR_DELIMS

        if _IR58_ESC in raw and "iso_ir_58" in encodings:
            text = _decode_ir58(raw, encodings, TEXT_VR_DELIMS)
        else:
            text = decode_bytes(raw, list(encodings), TEXT_VR_DELIMS)
    return _normalise(text)


_IR58_ESC = b"\x1b$)A"


def _decode_ir58(raw: bytes, encodings: tuple[str, ...], delimiters: set[int]) -> str:
    """ISO 2022 IR 58 (GB 2312 designated into G1 by ESC $ ) A, PS3.5 K.2): each escaped
    fragment is GB 2312 up to the next delimiter, which resets to the first character set.
    pydicom 3.0 leaves the escape sequence in the decoded text for this code element."""
    from pydicom.charset import decode_bytes

    out = []
    for frag in re.findall(b"(^[^\x1b]+|\x1b[^\x1b]*)", raw):
        if not frag.startswith(_IR58_ESC):
            out.append(decode_bytes(frag, list(encodings), delimiters))
            continue
        body = frag[len(_IR58_ESC):]
        cut = next((i for i, ch in enumerate(body) if ch in delimiters), len(body))
        out.append(body[:cut].decode("gb2312", errors="replace"))
        if cut < len(body):
            out.append(decode_bytes(body[cut:], list(encodings), delimiters))
    return "".join(out)


def _normalise(text: str) -> str:
    """Multi-valued text as backslash-joined values, each without padding (PS3.5 6.4)."""
    if "\\" in text:
        return "\\".join(v.strip(" \0") for v in text.split("\\"))
    return text.strip(" \0")


def _decode_pn(raw: bytes, encodings: tuple[str, ...]) -> str:
    """Person name: up to three component groups separated by '=' (PS3.5 6.2.1), each decoded
    on its own so ISO 2022 escape sequences reset at '^' and '=' as pydicom does."""
    raw = raw.rstrip(b" \0")
    plain = encodings and encodings[0].startswith(_STRICT)
    if (raw.isascii() and b"\x1b" not in raw) or plain:
        values = (raw.decode(encodings[0][len(_STRICT):]) if plain
                  else raw.decode("ascii")).split("\\")
        out = []
        for v in values:
            groups = v.split("=")
            while groups and not groups[-1]:
                groups.pop()
            out.append("=".join(groups))
        return _normalise("\\".join(out))
    from pydicom.valuerep import PN_DELIMS, PersonName
    from pydicom.values import convert_PN

    if _IR58_ESC in raw and "iso_ir_58" in encodings:
        names = []
        for value in raw.split(b"\\"):
            groups = [_decode_ir58(g, encodings, PN_DELIMS) for g in value.split(b"=")]
            while groups and not groups[-1]:
                groups.pop()
            names.append("=".join(groups))
        return _normalise("\\".join(names))

    value = convert_PN(raw, list(encodings))
    if isinstance(value, PersonName):
        return _normalise(str(value))
    return _normalise("\\".join(str(v) for v in value))


def _to_int(text: str) -> int | None:
    text = text.split("\\")[0].strip(" \0")
    if not text:
        return None
    try:
        return int(text)
    except ValueError:
        try:
            f = float(text)
        except ValueError:
            return None
        return int(f) if f.is_integer() else None


def _to_floats(text: str) -> tuple[float, ...] | None:
    try:
        return tuple(map(float, text.split("\\")))
    except ValueError:
        pass
    parts = [p.strip(" \0") for p in text.split("\\")]
    if not any(parts):
        return None
    try:
        return tuple(float(p) for p in parts)
    except ValueError:
        return None


#: the Defined Terms of Specific Character Set (PS3.3 C.12.1.1.2): a file naming only these has
#: nothing to be warned about, so ASCII text needs no codec (and no import of pydicom, ~0.3 s of
#: every import's start-up)
_DEFINED_CHARSETS = frozenset({
    "", "ISO_IR 100", "ISO_IR 101", "ISO_IR 109", "ISO_IR 110", "ISO_IR 144", "ISO_IR 127",
    "ISO_IR 126", "ISO_IR 138", "ISO_IR 148", "ISO_IR 203", "ISO_IR 13", "ISO_IR 166",
    "ISO_IR 192", "GB18030", "GBK", "ISO 2022 IR 6", "ISO 2022 IR 100", "ISO 2022 IR 101",
    "ISO 2022 IR 109", "ISO 2022 IR 110", "ISO 2022 IR 144", "ISO 2022 IR 127",
    "ISO 2022 IR 126", "ISO 2022 IR 138", "ISO 2022 IR 148", "ISO 2022 IR 203",
    "ISO 2022 IR 13", "ISO 2022 IR 166", "ISO 2022 IR 87", "ISO 2022 IR 159",
    "ISO 2022 IR 149", "ISO 2022 IR 58",
})


#: single character sets whose text Python decodes exactly as pydicom does (no code extensions;
#: no byte of a multi-byte character can be taken for a delimiter)
_PLAIN_CODECS = {"ISO_IR 192": "utf_8", "ISO_IR 100": "latin_1"}
#: marks an encodings tuple of one Python codec to apply strictly (see `_decode_fields`)
_STRICT = "strict:"


def _decode_fields(found: dict[int, bytes], little: bool, notes: list[str]) -> dict[str, Any]:
    charset = _ascii(found.get(0x00080005, b""))
    # pydicom decodes non-ASCII text and warns about bytes invalid in the character set:
    # collect those warnings once for the file (a collector costs ~10 µs)
    non_ascii = any(_FIELDS[tag][1] in (_TEXT, _PN) and (not raw.isascii() or b"\x1b" in raw)
                    for tag, raw in found.items() if tag in _FIELDS)
    if all(v.strip() in _DEFINED_CHARSETS for v in charset.split("\\")):
        if not non_ascii:
            return _decode_values(found, little, ())  # ASCII text, a standard character set
        codec = _PLAIN_CODECS.get(charset.strip())
        if codec is not None:
            try:  # UTF-8 or Latin-1 text that decodes cleanly: no pydicom needed
                return _decode_values(found, little, (_STRICT + codec,))
            except UnicodeDecodeError:
                pass  # invalid bytes: pydicom decodes them and says what was wrong
    encodings, charset_notes = _encodings(charset)
    for note in charset_notes:
        _note(notes, note)
    if non_ascii:
        with _noting(notes):
            return _decode_values(found, little, encodings)
    return _decode_values(found, little, encodings)


def _decode_values(found: dict[int, bytes], little: bool, encodings: tuple[str, ...]
                   ) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for tag, raw in found.items():
        if tag in _PALETTE_TAGS:
            continue
        name, kind, count = _FIELDS[tag]
        if kind == _UID or kind == _CODE:
            out[name] = _normalise(raw.decode("latin-1"))
        elif kind == _TEXT:
            out[name] = _decode_text(raw, encodings)
        elif kind == _PN:
            out[name] = _decode_pn(raw, encodings)
        elif kind == _US:
            if len(raw) >= 2:
                out[name] = struct.unpack_from("<H" if little else ">H", raw)[0]
        elif kind == _INT:
            text = raw.decode("latin-1")
            value = _to_int(text)
            if value is None and name == "number_of_frames" and text.strip(" \0"):
                out[name] = text.strip(" \0")  # refused by the pixel check, with the text
            else:
                out[name] = value
        else:
            values = _to_floats(raw.decode("latin-1"))
            out[name] = _shape_floats(values, kind, count)
    return out


def _shape_floats(values: tuple[float, ...] | None, kind: int, count: int) -> Any:
    if values is None:
        return None
    if kind == _FLOAT:
        return values[0]
    if count > 0 and len(values) != count:
        return None
    return values


def _finish(path: str, fields: dict[str, Any]) -> InstanceHeader:
    missing = [label for name, label in _REQUIRED_UIDS if not fields.get(name)]
    if missing:
        raise ScanError("missing " + " / ".join(missing))
    frames = fields.get("number_of_frames")
    fields["number_of_frames"] = frames if isinstance(frames, int) and frames > 0 else 1
    fields.setdefault("sop_class_uid", "")
    return InstanceHeader(path=path, **fields)


# -- the pydicom path -------------------------------------------------------------------------------
def _value_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        return "\\".join(str(v).strip(" \0") for v in value)
    return _normalise(str(value))


def _first_item_element(items: Any, tag: int) -> Any:
    """The element `tag` of a sequence's first item; None when there is none."""
    if not items or not hasattr(items[0], "get"):
        return None
    return items[0].get(tag)


def header_from_dataset(ds: Any, path: str | Path, *, file_size: int | None = None,
                        sha256: str = "") -> InstanceHeader:
    """The header of a data set pydicom has read (pixel-data offset unknown: None).

    Raises ScanError when a required UID is missing.
    """
    fields: dict[str, Any] = {}
    for tag, (name, kind, count) in _FIELDS.items():
        try:
            elem = ds.get(tag)
            if elem is not None and tag == _VIEW_CODE_SEQUENCE:
                elem = _first_item_element(elem.value, _CODE_MEANING)
            if elem is None or elem.value is None or elem.value == "" or elem.value == b"":
                continue
            value = elem.value
        except Exception:  # noqa: BLE001 - a damaged value is left out (the pixel check names it)
            continue
        try:
            if tag == _VIEW_POSITION and isinstance(value, str) and not value.isascii():
                # pydicom decodes CS as ISO 8859-1: the bytes back, decoded as the scanner does
                charset = _value_text(ds.get("SpecificCharacterSet", ""))
                fields[name] = _decode_text(value.encode("latin-1"), _encodings(charset)[0])
            elif kind in (_UID, _CODE, _TEXT, _PN):
                fields[name] = _value_text(value)
            elif kind == _US:
                fields[name] = int(value[0] if isinstance(value, (list, tuple)) or
                                   type(value).__name__ == "MultiValue" else value)
            elif kind == _INT:
                fields[name] = _to_int(_value_text(value))
            else:
                fields[name] = _shape_floats(_to_floats(_value_text(value)), kind, count)
        except (TypeError, ValueError):
            continue
    meta = getattr(ds, "file_meta", None)
    ts = meta.get("TransferSyntaxUID") if meta is not None else None
    fields["transfer_syntax_uid"] = str(ts or "")
    if not fields.get("sop_class_uid") and meta is not None:
        fields["sop_class_uid"] = str(meta.get("MediaStorageSOPClassUID") or "")
    fields["file_size"] = file_size
    fields["sha256"] = sha256
    return _finish(str(path), fields)


def _fallback(path: str, size: int, digest: str) -> ScanResult:
    """Files the lean walker leaves to pydicom (deflated, encodings contradicting the meta
    header); large values stay on disk (`defer_size`) and are read only if looked at."""
    import pydicom
    from pydicom.errors import InvalidDicomError

    with open(path, "rb") as f:
        head = f.read(132)
    force = head[128:132] != b"DICM"
    notes: list[str] = []
    with _noting(notes):
        try:
            ds = pydicom.dcmread(path, force=force, defer_size=_FIRST_READ)
        except InvalidDicomError as exc:
            raise ScanError(f"not a DICOM file ({exc})") from None
        except EOFError:
            raise ScanError("truncated file") from None
        meta = getattr(ds, "file_meta", None)
        if meta is not None and str(meta.get("MediaStorageSOPClassUID", "")) == _DICOMDIR_CLASS:
            raise ScanError(DICOMDIR_REASON)
        header = header_from_dataset(ds, path, file_size=size, sha256=digest)
        problems = pixel_problems(pixel_description_of(ds))
    return ScanResult(header, tuple(problems), tuple(notes))


# -- public API ---------------------------------------------------------------------------------------
def scan_file(path: str | Path, *, with_sha256: bool = True) -> InstanceHeader:
    """Index one file: its header values, the native pixel-data offset and its SHA-256.

    Raises ScanError (with a `reason`) for anything that is not an indexable DICOM instance.
    Whether its pixels can be decoded is `scan`'s business.
    """
    return scan(path, with_sha256=with_sha256).header


def scan(path: str | Path, *, with_sha256: bool = True) -> ScanResult:
    """`scan_file`, with what keeps its pixels from being decoded (an import refuses such a
    file) and the warnings the DICOM library raised while reading it."""
    p = os.fspath(path)
    try:
        return _read_header(p, with_sha256)
    except ScanError as exc:
        if exc.path is None:
            raise ScanError(exc.reason, p) from None
        raise
    except PermissionError:
        raise ScanError("unreadable: permission denied", p) from None
    except FileNotFoundError:
        raise ScanError("unreadable: file not found", p) from None
    except IsADirectoryError:
        raise ScanError("unreadable: is a directory", p) from None
    except Exception as exc:  # one bad file never stops an import: every failure gets a reason
        raise ScanError(f"unreadable: {type(exc).__name__}: {exc}", p) from None


def is_dicomdir(path: str | Path) -> bool:
    """True for a DICOMDIR (Media Storage Directory, PS3.10 7.2 / PS3.3 F.2)."""
    try:
        with open(path, "rb") as f:
            buf = f.read(_FIRST_READ)
    except OSError:
        return False
    if buf[128:132] != b"DICM":
        return False
    try:
        meta, _ = _parse_meta(buf)
    except (struct.error, _Unsupported, _OutOfData):
        return Path(path).name.upper() == "DICOMDIR"
    return _ascii(meta.get(0x0002, b"")) == _DICOMDIR_CLASS


def dicomdir_referenced_files(path: str | Path) -> list[Path]:
    """The files a DICOMDIR references (Referenced File ID, PS3.3 F.5, relative to the
    DICOMDIR's folder), in directory-record order.  Raises ScanError if it cannot be read."""
    import pydicom
    from pydicom.fileset import FileSet

    root = Path(path).parent
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fs = FileSet(pydicom.dcmread(path))
    except Exception as exc:
        raise ScanError(f"unreadable DICOMDIR: {type(exc).__name__}: {exc}", path) from None
    out: list[Path] = []
    for instance in fs:
        file_id = instance.ReferencedFileID
        parts = [file_id] if isinstance(file_id, str) else list(file_id)
        out.append(root.joinpath(*parts))
    return out

