"""Is an image's pixel description consistent enough to decode?  Checked at import and before
rendering, so a damaged file is refused with a reason instead of failing when a reader opens it.

The Image Pixel module (PS3.3 C.7.6.3) describes the Pixel Data element: Rows x Columns x
Samples per Pixel x Number of Frames cells of Bits Allocated bits, Photometric Interpretation
naming the samples.  Native Pixel Data must hold that many bytes (PS3.5 8.1.1) and has a defined
length; encapsulated Pixel Data (compressed transfer syntaxes) has an undefined length and at
least one fragment per frame (PS3.5 A.4).  `pixel_problems` lists what breaks those rules, in
words a coordinator can act on; `pixel_description_of` builds the description from a data set.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

__all__ = ["CODESTREAM_HEAD", "MAX_FRAME_BYTES", "NATIVE_SYNTAXES", "PixelDescription",
           "codestream_problem", "pixel_description_of", "pixel_problems", "rescale_problem"]

#: transfer syntaxes whose Pixel Data is native (uncompressed, defined length), PS3.5 A.1-A.3
NATIVE_SYNTAXES: frozenset[str] = frozenset({
    "1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.2",
    "1.2.840.10008.1.2.1.99"})
#: one decoded frame may not need more than this (a 16-bit 16384 x 16384 frame needs 512 MiB);
#: a larger claim is a damaged header, and honouring it would exhaust the workstation's memory
MAX_FRAME_BYTES = 1 << 30

#: samples per pixel of each photometric interpretation ioreview shows (PS3.3 C.7.6.3.1.2)
_SAMPLES = {"MONOCHROME1": 1, "MONOCHROME2": 1, "PALETTE COLOR": 1, "RGB": 3, "YBR_FULL": 3,
            "YBR_FULL_422": 3, "YBR_PARTIAL_420": 3, "YBR_ICT": 3, "YBR_RCT": 3}
_RETIRED = frozenset({"HSV", "ARGB", "CMYK", "YBR_PARTIAL_422"})
#: bytes of the first fragment `codestream_problem` looks at (a JPEG's frame header follows
#: its tables, rarely more than a few KiB in)
CODESTREAM_HEAD = 64 * 1024
_JPEG_SYNTAXES = frozenset({"1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51",
                            "1.2.840.10008.1.2.4.57", "1.2.840.10008.1.2.4.70",
                            "1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.81"})
_J2K_SYNTAXES = frozenset({"1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.91",
                           "1.2.840.10008.1.2.4.201", "1.2.840.10008.1.2.4.202",
                           "1.2.840.10008.1.2.4.203"})
_RLE = "1.2.840.10008.1.2.5"
#: JPEG start-of-frame markers (ITU T.81 B.1.1.3; 0xF7 is JPEG-LS, ITU T.87)
_SOF = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE,
                  0xCF, 0xF7})


@dataclass(frozen=True)
class PixelDescription:
    """What a file says about its pixels.  `number_of_frames` is as written (None when absent,
    the text when it is not a whole number); `pixel_data` is "native", "encapsulated", "float"
    or None (no pixel data element); `pixel_data_length` is the native value's length (None
    when undefined); `fragments` counts the encapsulated fragments (None when not counted)."""

    rows: int | None
    columns: int | None
    samples_per_pixel: int | None
    photometric_interpretation: str
    bits_allocated: int | None
    bits_stored: int | None
    pixel_representation: int | None
    planar_configuration: int | None
    number_of_frames: int | str | None
    transfer_syntax_uid: str
    pixel_data: str | None
    pixel_data_length: int | None = None
    fragments: int | None = None
    rescale_slope: float | str | None = None
    rescale_intercept: float | str | None = None
    #: attributes present but too damaged to read (wrong value length, invalid encoding)
    unreadable: tuple[str, ...] = ()
    #: the start of the first encapsulated fragment (None when not read)
    first_fragment: bytes | None = field(default=None, repr=False)
    #: whether the palette colour lookup tables are present (None: not looked at)
    has_palette: bool | None = None


@lru_cache(maxsize=64)
def _decodable(ts: str) -> str | None:
    """None when pydicom has an installed decoder for `ts`, else why not."""
    from pydicom.pixels import get_decoder
    from pydicom.uid import UID

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # an invalid UID: the reason below says so
        uid = UID(ts)
        if not uid.is_transfer_syntax:
            return f"{ts!r} is not a DICOM transfer syntax"
        try:
            decoder = get_decoder(uid)
        except NotImplementedError:
            return f"transfer syntax {uid.name} ({ts}) has no pixel decoder in ioreview"
        if not decoder.is_available:
            return f"transfer syntax {uid.name} ({ts}) has no installed decoder"
    return None


def _syntax_name(ts: str) -> str:
    from pydicom.uid import UID

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        name = UID(ts).name
    return f"{name} ({ts})" if name != ts else ts


def rescale_problem(slope: Any, intercept: Any) -> str | None:
    """Why Rescale Slope / Intercept cannot map stored values to modality values (PS3.3
    C.11.1.1.2: the slope multiplies, so it must be a finite non-zero number), or None."""
    if slope is not None:
        try:
            s = float(slope)
        except (TypeError, ValueError):
            return f"Rescale Slope {slope!r} is not a number"
        if not math.isfinite(s) or s == 0:
            return f"Rescale Slope {s:g} is not a finite, non-zero number"
    if intercept is not None:
        try:
            b = float(intercept)
        except (TypeError, ValueError):
            return f"Rescale Intercept {intercept!r} is not a number"
        if not math.isfinite(b):
            return f"Rescale Intercept {b:g} is not a finite number"
    return None


def _frame_bytes(d: PixelDescription, rows: int, cols: int, spp: int, bits: int) -> int:
    """Bytes of one native frame (YBR_FULL_422 keeps two samples per pixel, PS3.3 C.7.6.3.1.2)."""
    samples = 2 if d.photometric_interpretation == "YBR_FULL_422" and d.pixel_data == "native" \
        else spp
    return (rows * cols * samples * bits + 7) // 8


def pixel_problems(d: PixelDescription) -> list[str]:
    """Everything that keeps the image from being decoded consistently; empty when it can be.

    A file without pixel data and without Rows/Columns is not an image (an SR, a presentation
    state): nothing to check.
    """
    if d.pixel_data is None:
        if d.rows or d.columns:
            return ["no Pixel Data, although Rows and Columns describe an image"]
        return []
    if d.pixel_data == "float":
        return ["Float Pixel Data / Double Float Pixel Data (a parametric map) is not "
                "supported for review"]
    problems = [f"{name} cannot be read (its value is damaged)" for name in d.unreadable]
    ts = d.transfer_syntax_uid
    native = ts in NATIVE_SYNTAXES
    if ts and not native:
        why = _decodable(ts)
        if why is not None:
            problems.append(why)
        elif d.pixel_data == "native":
            problems.append(f"the transfer syntax {_syntax_name(ts)} is compressed but the "
                            "Pixel Data is not encapsulated (PS3.5 A.4)")
    if native and d.pixel_data == "encapsulated":
        problems.append(f"native Pixel Data of undefined length under {_syntax_name(ts)} "
                        "(only compressed pixel data is encapsulated, PS3.5 A.4)")
    rows, cols = d.rows, d.columns
    for name, value in (("Rows", rows), ("Columns", cols)):
        if name in d.unreadable:
            continue
        if value is None:
            problems.append(f"{name} is missing")
        elif value <= 0:
            problems.append(f"{name} is {value}: the image has no pixels")
    spp = d.samples_per_pixel
    pi = d.photometric_interpretation.strip().upper()
    if spp is None:
        if "Samples per Pixel" not in d.unreadable:
            problems.append("Samples per Pixel is missing")
    elif spp not in (1, 3):
        problems.append(f"Samples per Pixel {spp} is not 1 (grey or palette) or 3 (colour)")
    if not pi:
        if "Photometric Interpretation" not in d.unreadable:
            problems.append("Photometric Interpretation is missing")
    elif pi in _RETIRED:
        problems.append(f"Photometric Interpretation {pi} is retired and not supported")
    elif pi not in _SAMPLES:
        problems.append(f"Photometric Interpretation {pi!r} is not a DICOM photometric "
                        "interpretation")
    elif spp in (1, 3) and _SAMPLES[pi] != spp:
        problems.append(f"Samples per Pixel {spp} does not match Photometric Interpretation "
                        f"{pi} ({_SAMPLES[pi]} sample{'s' if _SAMPLES[pi] > 1 else ''})")
    elif pi == "PALETTE COLOR" and d.has_palette is False:
        problems.append("Photometric Interpretation is PALETTE COLOR but the palette lookup "
                        "tables are missing (PS3.3 C.7.6.3.1.5)")
    ba, bs = d.bits_allocated, d.bits_stored
    if ba is None:
        if "Bits Allocated" not in d.unreadable:
            problems.append("Bits Allocated is missing")
    elif ba not in (1, 8, 16, 32):
        problems.append(f"Bits Allocated {ba} is not 1, 8, 16 or 32")
    if bs is None:
        if "Bits Stored" not in d.unreadable:
            problems.append("Bits Stored is missing")
    elif bs < 1 or (ba is not None and bs > ba):
        problems.append(f"Bits Stored {bs} is not between 1 and Bits Allocated ({ba})")
    if d.pixel_representation not in (0, 1) and "Pixel Representation" not in d.unreadable:
        problems.append("Pixel Representation is missing" if d.pixel_representation is None
                        else f"Pixel Representation {d.pixel_representation} is not 0 "
                             "(unsigned) or 1 (signed)")
    planar = d.planar_configuration
    if spp == 3 and planar not in (0, 1) and "Planar Configuration" not in d.unreadable \
            and (planar is not None or d.pixel_data == "native"):
        problems.append("Planar Configuration is missing" if planar is None
                        else f"Planar Configuration {planar} is not 0 or 1")
    frames = d.number_of_frames
    if isinstance(frames, str):
        problems.append(f"Number of Frames {frames!r} is not a whole number")
        frames = None
    elif frames is not None and frames < 1:
        problems.append(f"Number of Frames {frames} is not a positive count")
        frames = None
    if d.rescale_slope is not None or d.rescale_intercept is not None:
        why = rescale_problem(d.rescale_slope, d.rescale_intercept)
        if why is not None:
            problems.append(why)
    if problems or rows is None or cols is None or spp is None or ba is None:
        return problems
    frame = _frame_bytes(d, rows, cols, spp, ba)
    if frame > MAX_FRAME_BYTES:
        problems.append(f"one frame of {rows} x {cols} x {spp} sample(s) x {ba} bits needs "
                        f"{frame / (1 << 30):.1f} GiB, more than the {MAX_FRAME_BYTES >> 30} GiB "
                        "a frame may take")
        return problems
    n = frames or 1
    if d.pixel_data == "native" and d.pixel_data_length is not None:
        need = (rows * cols * n * (2 if pi == "YBR_FULL_422" else spp) * ba + 7) // 8
        if d.pixel_data_length < need:
            problems.append(f"Pixel Data holds {d.pixel_data_length} bytes, fewer than the "
                            f"{need} that {n} frame(s) of {rows} x {cols} x {spp} sample(s) x "
                            f"{ba} bits need")
    if d.pixel_data == "encapsulated" and d.fragments is not None and d.fragments < n:
        problems.append(f"Number of Frames is {n} but the encapsulated Pixel Data holds "
                        f"{d.fragments} fragment(s); each frame needs at least one (PS3.5 A.4)")
    if d.pixel_data == "encapsulated" and d.first_fragment is not None and not problems:
        why = codestream_problem(d.first_fragment, d)
        if why is not None:
            problems.append(why)
    return problems


def _jpeg_frame(head: bytes) -> tuple[int, int, int] | None:
    """(rows, columns, components) from a JPEG / JPEG-LS frame header, None when not found."""
    if head[:2] != b"\xff\xd8":
        return None
    pos = 2
    while pos + 4 <= len(head):
        if head[pos] != 0xFF:
            return None
        marker = head[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0x01, 0xD8) or 0xD0 <= marker <= 0xD7:
            pos += 2
            continue
        length = int.from_bytes(head[pos + 2:pos + 4], "big")
        if marker in _SOF:
            if pos + 10 > len(head):
                return None
            rows = int.from_bytes(head[pos + 5:pos + 7], "big")
            cols = int.from_bytes(head[pos + 7:pos + 9], "big")
            return rows, cols, head[pos + 9]
        if marker == 0xDA or length < 2:  # scan data before any frame header: give up
            return None
        pos += 2 + length
    return None


_JP2_SIGNATURE = b"\x00\x00\x00\x0cjP  "


def _j2k_frame(head: bytes) -> tuple[int, int, int] | str | None:
    """(rows, columns, components) from a JPEG 2000 codestream's SIZ segment (ISO 15444-1
    A.5.1), also inside a JP2 file wrapper (which PS3.5 A.4.4 does not allow, but some
    writers add); a problem with the wrapper; or None when the frame header is not found."""
    if head.startswith(_JP2_SIGNATURE):
        pos = 12  # after the 12-byte signature box
        while pos + 8 <= len(head):
            length = int.from_bytes(head[pos:pos + 4], "big")
            if head[pos + 4:pos + 8] == b"jp2c":
                head = head[pos + 8:]
                break
            if length < 8:
                # 0 means "to the end of the file": pydicom's box walk never ends on it
                return (f"the JPEG 2000 data is wrapped in a JP2 file with a box of length "
                        f"{length} before its codestream")
            pos += length
        else:
            return None
    if head[:4] != b"\xff\x4f\xff\x51" or len(head) < 42:
        return None
    xsiz, ysiz, xo, yo = (int.from_bytes(head[8 + 4 * i:12 + 4 * i], "big") for i in range(4))
    return ysiz - yo, xsiz - xo, int.from_bytes(head[40:42], "big")


def codestream_problem(head: bytes, d: PixelDescription) -> str | None:
    """Why the start of the first compressed frame (`head`, up to `CODESTREAM_HEAD` bytes)
    contradicts the Image Pixel module: a JPEG / JPEG 2000 frame of another size or number
    of components, an RLE frame with another number of segments (PS3.5 G.2); or None."""
    ts = d.transfer_syntax_uid
    if not head:
        return "the first compressed frame is empty"
    found: tuple[int, int, int] | str | None = None
    if ts in _JPEG_SYNTAXES:
        found = _jpeg_frame(head)
        codec = "JPEG"
    elif ts in _J2K_SYNTAXES:
        found = _j2k_frame(head)
        codec = "JPEG 2000"
    elif ts == _RLE and len(head) >= 4 and d.bits_allocated and d.samples_per_pixel:
        segments = int.from_bytes(head[:4], "little")
        need = d.samples_per_pixel * ((d.bits_allocated + 7) // 8)
        if segments != need:
            return (f"the RLE frame holds {segments} segment(s), but {d.samples_per_pixel} "
                    f"sample(s) of {d.bits_allocated} bits need {need} (PS3.5 G.2)")
        return None
    if found is None:
        return None
    if isinstance(found, str):
        return found
    rows, cols, comps = found
    if cols != d.columns or (rows and rows != d.rows):
        return (f"the {codec} frame is {rows} x {cols} pixels but Rows x Columns say "
                f"{d.rows} x {d.columns}")
    if d.samples_per_pixel and comps != d.samples_per_pixel:
        return (f"the {codec} frame has {comps} component(s) but Samples per Pixel is "
                f"{d.samples_per_pixel}")
    return None


def _int_or_none(value: Any) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
        value = value[0] if len(value) else None
        if value is None:
            return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _frames_as_written(value: Any) -> int | str | None:
    if value is None or value == "":
        return None
    try:
        f = float(value)
    except (TypeError, ValueError):
        return str(value)
    if not math.isfinite(f) or not f.is_integer():
        return str(value)
    return int(f)


def _float_or_text(value: Any) -> Any:
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value)


#: keyword -> name used in messages, for the attributes a pixel description reads
_ATTRIBUTES = {
    "Rows": "Rows", "Columns": "Columns", "SamplesPerPixel": "Samples per Pixel",
    "PhotometricInterpretation": "Photometric Interpretation",
    "BitsAllocated": "Bits Allocated", "BitsStored": "Bits Stored",
    "PixelRepresentation": "Pixel Representation",
    "PlanarConfiguration": "Planar Configuration", "NumberOfFrames": "Number of Frames",
    "RescaleSlope": "Rescale Slope", "RescaleIntercept": "Rescale Intercept",
}


def pixel_description_of(ds: Any) -> PixelDescription:
    """The pixel description of a pydicom data set read with its pixel data."""
    from pydicom.encaps import generate_fragments

    values: dict[str, Any] = {}
    unreadable: list[str] = []
    for keyword, name in _ATTRIBUTES.items():
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                values[keyword] = ds.get(keyword)
        except Exception:  # noqa: BLE001 - pydicom raises many kinds for a damaged value
            values[keyword] = None
            unreadable.append(name)
    meta = getattr(ds, "file_meta", None)
    ts = str(meta.get("TransferSyntaxUID", "") or "") if meta is not None else ""
    kind: str | None = None
    length: int | None = None
    fragments: int | None = None
    first: bytes | None = None
    if "FloatPixelData" in ds or "DoubleFloatPixelData" in ds:
        kind = "float"
    elif "PixelData" in ds:
        # the raw element when pydicom has not converted it
        elem = ds.get_item(0x7FE00010)
        value = elem.value
        if getattr(elem, "is_undefined_length", False) or getattr(elem, "length", 0) == 0xFFFFFFFF:
            kind = "encapsulated"
            if isinstance(value, (bytes, bytearray)):
                try:
                    # the first item is the Basic Offset Table, not a fragment
                    items = list(generate_fragments(value))
                    fragments = len(items) - 1
                    first = bytes(items[1][:CODESTREAM_HEAD]) if fragments > 0 else None
                except Exception:  # noqa: BLE001 - a broken item structure holds no frame
                    fragments = 0
        else:
            kind = "native"
            if isinstance(value, (bytes, bytearray)):
                length = len(value)
            elif isinstance(getattr(elem, "length", None), int):
                length = elem.length
    return PixelDescription(
        rows=_int_or_none(values["Rows"]),
        columns=_int_or_none(values["Columns"]),
        samples_per_pixel=_int_or_none(values["SamplesPerPixel"]),
        photometric_interpretation=str(values["PhotometricInterpretation"] or ""),
        bits_allocated=_int_or_none(values["BitsAllocated"]),
        bits_stored=_int_or_none(values["BitsStored"]),
        pixel_representation=_int_or_none(values["PixelRepresentation"]),
        planar_configuration=_int_or_none(values["PlanarConfiguration"]),
        number_of_frames=_frames_as_written(values["NumberOfFrames"]),
        transfer_syntax_uid=ts,
        pixel_data=kind,
        pixel_data_length=length,
        fragments=fragments,
        rescale_slope=_float_or_text(values["RescaleSlope"]),
        rescale_intercept=_float_or_text(values["RescaleIntercept"]),
        unreadable=tuple(unreadable),
        first_fragment=first,
        has_palette="RedPaletteColorLookupTableDescriptor" in ds and (
            "RedPaletteColorLookupTableData" in ds
            or "SegmentedRedPaletteColorLookupTableData" in ds),
    )
