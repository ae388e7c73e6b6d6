"""Text burned into pixels: which series may carry it, and blacking out rectangles.

Header de-identification (`ioreview.imaging.deid`) cannot remove a name an ultrasound machine
or a screen capture drew into the image.  PS3.15 E.3.1 (Clean Pixel Data Option) asks for the
pixels to be cleaned; PS3.3 C.7.6.1.1.7 says Burned In Annotation (0028,0301) tells whether
they carry identifying text.  Ultrasound, secondary captures and some vendors' projection
radiographs often carry it without saying so, so a series is flagged for the coordinator when
the attribute says YES, or when it is absent on such images (`burned_in_reason`).

`mask_dataset` blacks out rectangles (in pixel coordinates of a frame, the same on every
frame) in a dataset's pixels: compressed pixel data is decoded first and the dataset becomes
Explicit VR Little Endian, so the transfer syntax stays true to the bytes; Burned In Annotation
becomes NO.  `mask_frame` does the same to one frame array (for a preview).
"""
from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pydicom
from pydicom.dataset import Dataset
from pydicom.uid import ExplicitVRLittleEndian

__all__ = ["BURN_IN_VENDORS", "MaskRectangle", "black_value", "burned_in_reason",
           "clean_rectangles", "frame_for_display", "mask_dataset", "mask_frame",
           "series_text_facts"]

#: Secondary Capture Image Storage and the multi-frame Secondary Capture SOP classes
#: (PS3.4 B.5): screen captures, scanned documents, exported reports.
_SECONDARY_CAPTURE_PREFIX = "1.2.840.10008.5.1.4.1.1.7"
#: Modalities whose images often carry text drawn by the device (ultrasound measurements and
#: patient banners, secondary captures).
_TEXT_MODALITIES = frozenset({"US", "IVUS", "SC", "OT", "DOC", "XC", "ES", "GM", "SM"})
#: Projection radiography, checked for burned-in text only for the vendors below.
_PROJECTION_MODALITIES = frozenset({"DX", "CR", "XA", "RF", "MG", "PX", "IO"})
#: Manufacturers (matched case-insensitively as a part of Manufacturer) whose projection
#: radiographs are treated as possibly carrying burned-in text when Burned In Annotation is
#: absent.  A precaution of this site's policy, not a fact about these vendors' products:
#: extend it with the vendors seen in a trial.
BURN_IN_VENDORS: tuple[str, ...] = ("AGFA", "CARESTREAM", "FUJI", "KODAK", "KONICA", "PHILIPS",
                                    "SIEMENS", "SHIMADZU", "CANON", "TOSHIBA", "GE ")


@dataclass(frozen=True, slots=True)
class MaskRectangle:
    """A rectangle of pixels to black out: rows `row0`..`row1`, columns `col0`..`col1`, the
    ends exclusive (numpy slices)."""

    row0: int
    col0: int
    row1: int
    col1: int

    def as_tuple(self) -> tuple[int, int, int, int]:
        return (self.row0, self.col0, self.row1, self.col1)


def burned_in_reason(*, burned_in_annotation: str, modality: str, sop_class_uid: str,
                     manufacturer: str = "",
                     vendors: Iterable[str] = BURN_IN_VENDORS) -> str:
    """Why a series' pixels may carry text, or "" when nothing suggests they do.

    YES always flags; NO never does; absent or any other value flags ultrasound and other
    device-text modalities, secondary captures, and projection radiographs of `vendors`.
    """
    value = (burned_in_annotation or "").strip().upper()
    if value == "YES":
        return "Burned In Annotation is YES"
    if value == "NO":
        return ""
    what = "absent" if not value else f"{value!r}"
    modality = (modality or "").strip().upper()
    if str(sop_class_uid or "").startswith(_SECONDARY_CAPTURE_PREFIX):
        return f"secondary capture, Burned In Annotation {what}"
    if modality in _TEXT_MODALITIES:
        return f"{modality} image, Burned In Annotation {what}"
    if modality in _PROJECTION_MODALITIES:
        maker = f"{manufacturer or ''} ".upper()
        for vendor in vendors:
            if vendor.upper() in maker:
                return f"{modality} from {manufacturer.strip()}, Burned In Annotation {what}"
    return ""


def clean_rectangles(rectangles: Iterable[Sequence[float]], rows: int, columns: int
                     ) -> tuple[MaskRectangle, ...]:
    """Rectangles as whole pixels clipped to a `rows` x `columns` frame.

    Raises ValueError, naming the rectangle, for one that is not four numbers, is inverted, or
    lies wholly outside the frame.
    """
    out = []
    for n, rect in enumerate(rectangles, 1):
        values = list(rect)
        if len(values) != 4:
            raise ValueError(f"Rectangle {n} must be four numbers (row0, col0, row1, col1).")
        try:
            r0, c0, r1, c1 = (int(np.floor(float(values[0]))), int(np.floor(float(values[1]))),
                              int(np.ceil(float(values[2]))), int(np.ceil(float(values[3]))))
        except (TypeError, ValueError, OverflowError):
            raise ValueError(f"Rectangle {n} holds something that is not a number.") from None
        if r1 <= r0 or c1 <= c0:
            raise ValueError(f"Rectangle {n} is empty: its end must lie after its start.")
        r0, c0, r1, c1 = max(r0, 0), max(c0, 0), min(r1, rows), min(c1, columns)
        if r1 <= r0 or c1 <= c0:
            raise ValueError(f"Rectangle {n} lies outside the {columns} x {rows} image.")
        out.append(MaskRectangle(r0, c0, r1, c1))
    return tuple(out)


def black_value(photometric: str, bits_stored: int, signed: bool) -> int:
    """The stored value that displays black under any window: the lowest representable value
    (the highest for MONOCHROME1, where high values are dark); 0 for colour images."""
    photometric = (photometric or "").upper()
    if photometric not in ("MONOCHROME1", "MONOCHROME2"):
        return 0
    low = -(1 << (bits_stored - 1)) if signed else 0
    high = (1 << (bits_stored - 1)) - 1 if signed else (1 << bits_stored) - 1
    return high if photometric == "MONOCHROME1" else low


def mask_frame(frame: np.ndarray, rectangles: Sequence[MaskRectangle], value: int | float
               ) -> np.ndarray:
    """A copy of one frame (rows x columns, or rows x columns x samples) with the rectangles
    set to `value`."""
    out = np.array(frame, copy=True)
    for r in rectangles:
        out[r.row0:r.row1, r.col0:r.col1, ...] = value
    return out


def mask_dataset(ds: Dataset, rectangles: Sequence[MaskRectangle]) -> Dataset:
    """Black out `rectangles` on every frame of `ds`, in place, and return it.

    Compressed pixel data is decoded and the dataset becomes Explicit VR Little Endian (YBR
    colour is converted to RGB by the decoder, and Photometric Interpretation says so);
    Burned In Annotation becomes NO.  Raises ValueError when the pixels cannot be decoded.
    """
    if "PixelData" not in ds:
        raise ValueError("The image has no pixel data to mask.")
    try:
        if ds.file_meta.TransferSyntaxUID.is_compressed:
            ds.decompress()
        arr = ds.pixel_array
    except Exception as exc:  # pydicom raises many kinds for undecodable pixels
        raise ValueError(f"The pixels cannot be decoded to mask them ({exc}).") from exc
    arr = np.array(arr, copy=True)
    rows, columns = int(ds.Rows), int(ds.Columns)
    clipped = clean_rectangles([r.as_tuple() for r in rectangles], rows, columns)
    value = black_value(str(ds.get("PhotometricInterpretation", "")),
                        int(ds.get("BitsStored", ds.get("BitsAllocated", 8))),
                        int(ds.get("PixelRepresentation", 0)) == 1)
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    samples = int(ds.get("SamplesPerPixel", 1) or 1)
    planar = int(ds.get("PlanarConfiguration", 0) or 0)
    if frames == 1:
        arr = mask_frame(arr, clipped, value)
    else:
        for k in range(arr.shape[0]):
            arr[k] = mask_frame(arr[k], clipped, value)
    if samples > 1 and planar == 1:
        # pixel_array is always colour-by-pixel; the bytes must follow the declared layout
        arr = np.moveaxis(arr, -1, -3)
    ds.PixelData = np.ascontiguousarray(arr).astype(arr.dtype.newbyteorder("<")).tobytes()
    if ds.file_meta.TransferSyntaxUID != ExplicitVRLittleEndian:
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds["PixelData"].VR = "OW" if int(ds.get("BitsAllocated", 8)) > 8 else "OB"
    ds.BurnedInAnnotation = "NO"
    return ds


def series_text_facts(paths: Sequence[str]) -> dict[str, str]:
    """What `burned_in_reason` needs of a series, read from its files' headers: Burned In
    Annotation (YES when any file says YES), Modality, SOP Class UID and Manufacturer of the
    first readable file; {} when no file can be read."""
    facts: dict[str, str] = {}
    for path in paths:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ds = pydicom.dcmread(path, stop_before_pixels=True, force=True)
        except Exception:  # an unreadable file is the importer's business, not this check's
            continue
        value = str(ds.get("BurnedInAnnotation", "") or "").strip().upper()
        if not facts:
            facts = {"burned_in_annotation": value, "modality": str(ds.get("Modality", "")),
                     "sop_class_uid": str(ds.get("SOPClassUID", "")),
                     "manufacturer": str(ds.get("Manufacturer", "") or "")}
        if value == "YES":
            facts["burned_in_annotation"] = "YES"
            break
    return facts


def frame_for_display(frame: np.ndarray, photometric: str = "") -> np.ndarray:
    """One decoded frame as 8-bit pixels to draw on: grey stretched from its lowest to its
    highest value (inverted for MONOCHROME1), colour scaled to 0-255."""
    arr = np.asarray(frame)
    if arr.ndim == 3:
        top = float(arr.max()) if arr.size else 0.0
        scale = 255.0 / top if top > 255 else 1.0
        return np.clip(arr.astype(np.float32) * scale, 0, 255).astype(np.uint8)
    lo, hi = (float(arr.min()), float(arr.max())) if arr.size else (0.0, 0.0)
    out = (arr.astype(np.float32) - lo) * (255.0 / (hi - lo) if hi > lo else 0.0)
    out = np.clip(out, 0, 255).astype(np.uint8)
    return 255 - out if (photometric or "").upper() == "MONOCHROME1" else out
