"""Pixel decoding: DICOM files to arrays of stored values.

Everything goes through pydicom 3's pixel backends (pylibjpeg, openjpeg, libjpeg, pyjpegls),
so every transfer syntax pydicom can decode is covered.  Native (uncompressed) frames whose
byte offset is known from the index can instead be read straight from the file with
`read_frame_at_offset`, which skips parsing the file again.

Failures never surface as bare tracebacks: anything that cannot be shown raises
`UnsupportedImage` with a message naming the file and the feature.
"""
from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.errors import InvalidDicomError
from pydicom.pixels import apply_color_lut, convert_color_space, iter_pixels
from pydicom.uid import UID

from ioreview.imaging.header import InstanceHeader

__all__ = [
    "NATIVE_TRANSFER_SYNTAXES",
    "FrameOutOfRange",
    "UnsupportedImage",
    "failure_reason",
    "read_dataset",
    "read_header",
    "read_frames",
    "read_frame_at_offset",
    "read_indexed_frame",
    "read_grey_slice",
    "native_dtype",
    "correct_unused_bits",
    "frame_shape",
    "ybr_to_rgb",
]

#: Transfer syntaxes whose Pixel Data is stored uncompressed (PS3.5 A.1-A.3); deflated
#: explicit VR little endian is native too, but compressed as a whole, so it has no offset.
NATIVE_TRANSFER_SYNTAXES: frozenset[str] = frozenset(
    {"1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.2"}
)
_BIG_ENDIAN = "1.2.840.10008.1.2.2"
#: JPEG 2000 (lossless only, and lossy): decoded by `read_grey_slice` straight with OpenJPEG.
_J2K_TRANSFER_SYNTAXES: frozenset[str] = frozenset({"1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.91"})


class UnsupportedImage(Exception):
    """The file holds no pixel data ioreview can show; the message says what and why."""


class FrameOutOfRange(ValueError):
    """A frame number (0-based `frame`) beyond the instance's `count` frames."""

    def __init__(self, message: str, frame: int, count: int) -> None:
        super().__init__(message)
        self.frame = frame
        self.count = count


def failure_reason(exc: BaseException, path: str | os.PathLike[str] | None = None) -> str:
    """Why a frame cannot be shown, in one line without the file's path (which the viewer
    shows elsewhere, or which is a meaningless archive name to a reader)."""
    text = " ".join((str(exc).strip() or type(exc).__name__).split())
    if path is not None:
        prefix = f"{os.fspath(path)}: "
        while text.startswith(prefix):
            text = text[len(prefix):]
    if not isinstance(exc, (UnsupportedImage, ValueError)):
        text = f"{type(exc).__name__}: {text}"
    return text[:300]


def read_header(path: str | os.PathLike[str]) -> Dataset:
    """A file's header without its pixels (`stop_before_pixels`), read as `read_dataset` reads
    the file: a DICOM Part 10 file, or an older bare data set that the importer indexes
    (`scan.bare_dataset_syntax`); anything else raises pydicom's `InvalidDicomError`."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return pydicom.dcmread(path, stop_before_pixels=True)
        except InvalidDicomError:
            if _bare_syntax(Path(path)) is None:
                raise
            return pydicom.dcmread(path, stop_before_pixels=True, force=True)


def read_dataset(path: str | os.PathLike[str]) -> Dataset:
    """Read a DICOM Part 10 file (PS3.10 7.1) with its pixel data.

    Raises `UnsupportedImage` when the file is missing, is a directory, or is not a DICOM
    Part 10 file (no 128-byte preamble and 'DICM' prefix).  An older file holding a bare data
    set that the importer indexes (`scan.bare_dataset_syntax`) is read too, its transfer
    syntax taken from its encoding; anything else is never force-read.
    """
    p = Path(path)
    if not p.is_file():
        raise UnsupportedImage(f"{p}: no such file")
    bare = _bare_syntax(p)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if bare is None:
                return pydicom.dcmread(p, force=False)
            ds = pydicom.dcmread(p, force=True)
            if not getattr(ds, "file_meta", None) or "TransferSyntaxUID" not in ds.file_meta:
                ds.file_meta = FileMetaDataset()
                ds.file_meta.TransferSyntaxUID = bare
            return ds
    except InvalidDicomError as exc:
        raise UnsupportedImage(
            f"{p}: not a DICOM Part 10 file (no 'DICM' prefix after the preamble); "
            "re-export it from the modality or PACS"
        ) from exc
    except Exception as exc:  # pydicom raises many kinds for damaged files
        raise UnsupportedImage(f"{p}: the file could not be parsed as DICOM: {_first_line(exc)}") from exc


def read_frames(
    path_or_ds: str | os.PathLike[str] | Dataset, frames: Sequence[int] | None = None
) -> np.ndarray:
    """Decode frames to stored values, shaped (frames, rows, cols) or (frames, rows, cols, 3).

    YBR_FULL and YBR_FULL_422 are converted to RGB and PALETTE COLOR is expanded through its
    palette (PS3.3 C.7.6.3.1.5), so colour always comes back as RGB in the stored bit depth of
    the samples or the palette.  Grey-scale values are stored values: no Modality LUT applied.
    Byte order is native.  Given a path, only the requested frames are decoded.
    """
    if frames is not None:
        frames = [int(f) for f in frames]
    if isinstance(path_or_ds, Dataset):
        ds = path_or_ds
        where = str(getattr(ds, "filename", None) or "dataset")
        _check_pixel_module(ds, where)
        src: str | Dataset = ds
        attrs = ds
    else:
        where = str(path_or_ds)
        p = Path(path_or_ds)
        if not p.is_file():
            raise UnsupportedImage(f"{where}: no such file")
        if _bare_syntax(p) is not None:
            return read_frames(read_dataset(p), frames)
        _check_part10(p)
        src = str(p)
        attrs = Dataset()
    if isinstance(src, Dataset):
        out = _decode_dataset(src, frames, where)
    else:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out = list(iter_pixels(src, indices=frames, ds_out=attrs))
        except Exception:
            # The streaming reader is stricter than dcmread (e.g. a zero-length Basic Offset
            # Table item written wrongly): read the whole file and decode from the dataset.
            attrs = read_dataset(src)
            _check_pixel_module(attrs, where)
            out = _decode_dataset(attrs, frames, where)
    if not out:
        raise UnsupportedImage(f"{where}: no frames selected")
    arr = np.stack(out) if len(out) > 1 else out[0][np.newaxis]
    return _to_rgb_or_grey(arr, attrs, where)


def _decode_dataset(ds: Dataset, frames: list[int] | None, where: str) -> list[np.ndarray]:
    if frames is not None:
        _check_frames(frames, _nframes(ds), where)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return list(iter_pixels(ds, indices=frames))
    except Exception as exc:
        raise _translate(exc, ds, where) from exc


def _bare_syntax(p: Path) -> str | None:
    """The transfer syntax of a pre-Part-10 file (a bare data set), else None."""
    from ioreview.imaging.scan import bare_dataset_syntax

    with p.open("rb") as f:
        head = f.read(132)
    if len(head) >= 132 and head[128:132] == b"DICM":
        return None
    return bare_dataset_syntax(head)


def _check_part10(p: Path) -> None:
    with p.open("rb") as f:
        head = f.read(132)
    if len(head) < 132 or head[128:132] != b"DICM":
        raise UnsupportedImage(
            f"{p}: not a DICOM Part 10 file (no 'DICM' prefix after the preamble); "
            "re-export it from the modality or PACS"
        )


def _check_pixel_module(ds: Dataset, where: str) -> None:
    if "FloatPixelData" in ds or "DoubleFloatPixelData" in ds:
        raise UnsupportedImage(
            f"{where}: Float Pixel Data / Double Float Pixel Data (parametric maps) is not "
            "supported for review"
        )
    if "PixelData" not in ds:
        raise UnsupportedImage(f"{where}: no pixel data (the instance is not an image)")


def _nframes(ds: Dataset) -> int:
    try:
        return max(int(ds.get("NumberOfFrames", 1) or 1), 1)
    except (TypeError, ValueError):
        return 1


def _check_frames(frames: Sequence[int], nframes: int, where: str) -> None:
    for f in frames:
        if f < 0 or f >= nframes:
            raise FrameOutOfRange(f"frames: frame {f} is out of range for {where} ({nframes} frames)",
                                  f, nframes)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


def _translate(exc: Exception, ds: Dataset | None, where: str) -> Exception:
    """Turn a pydicom decoding error into `UnsupportedImage` (or ValueError for bad frames)."""
    msg = str(exc)
    if isinstance(exc, IndexError) or "There is insufficient pixel data" in msg or (
        "index" in msg.lower() and "out of range" in msg.lower()
    ):
        return ValueError(f"frames: {_first_line(exc)} ({where})")
    if "no pixel data to decode" in msg:
        if "Float Pixel Data" in msg and ds is not None and (
            "FloatPixelData" in ds or "DoubleFloatPixelData" in ds
        ):
            return UnsupportedImage(f"{where}: Float Pixel Data is not supported for review")
        return UnsupportedImage(f"{where}: no pixel data (the instance is not an image)")
    if "transfer_syntax_uid' is required" in msg or "has no (0002,0010)" in msg:
        return UnsupportedImage(
            f"{where}: the file meta information has no Transfer Syntax UID (0002,0010), so the "
            "pixel encoding is unknown"
        )
    if "Transfer Syntax UID" in msg and ("not supported" in msg or "is required" in msg or "has no" in msg):
        return UnsupportedImage(f"{where}: {_first_line(exc)}")
    tsyntax = ""
    if ds is not None:
        tsyntax = str(getattr(getattr(ds, "file_meta", None), "TransferSyntaxUID", "") or "")
    ts_name = f"{UID(tsyntax).name} ({tsyntax})" if tsyntax else "the transfer syntax"
    if "plugins" in msg and ("no available" in msg.lower() or "missing" in msg.lower() or "are available" in msg):
        return UnsupportedImage(f"{where}: transfer syntax {ts_name} has no installed decoder")
    if "exceptions were raised by all available plugins" in msg:
        detail = " ".join(msg.split())[:300]
        return UnsupportedImage(f"{where}: the {ts_name} pixel data could not be decoded: {detail}")
    if "Missing required element" in msg:
        return UnsupportedImage(f"{where}: incomplete Image Pixel module: {_first_line(exc)}")
    if "less than expected" in msg or "cannot reshape" in msg or "truncated" in msg.lower():
        return UnsupportedImage(
            f"{where}: pixel data is truncated or does not match Rows/Columns/Bits Allocated "
            f"({_first_line(exc)})"
        )
    if isinstance(exc, ValueError) and "invalid literal" in msg:
        return UnsupportedImage(f"{where}: an Image Pixel module attribute has an invalid value ({_first_line(exc)})")
    return UnsupportedImage(f"{where}: pixel data could not be decoded: {_first_line(exc)}")


def _to_rgb_or_grey(arr: np.ndarray, ds: Dataset, where: str) -> np.ndarray:
    """Native byte order, then YBR to RGB and palette expansion (PS3.3 C.7.6.3.1.2)."""
    if arr.dtype.kind == "f":
        raise UnsupportedImage(
            f"{where}: Float Pixel Data / Double Float Pixel Data (parametric maps) is not "
            "supported for review"
        )
    if arr.dtype.byteorder not in ("=", "|"):
        arr = arr.astype(arr.dtype.newbyteorder("="))
    pi = str(ds.get("PhotometricInterpretation", "") or "").upper()
    spp = int(ds.get("SamplesPerPixel", 1) or 1)
    if pi == "PALETTE COLOR" and arr.ndim == 3:
        try:
            arr = apply_color_lut(arr, ds)
        except Exception as exc:
            raise UnsupportedImage(f"{where}: the PALETTE COLOR lookup tables are unusable: {_first_line(exc)}") from exc
    elif spp == 3 and arr.ndim != 4:
        raise UnsupportedImage(f"{where}: 3 samples per pixel but decoded shape is {arr.shape}")
    elif spp not in (1, 3):
        raise UnsupportedImage(f"{where}: {spp} samples per pixel is not supported")
    return arr


def ybr_to_rgb(arr: np.ndarray) -> np.ndarray:
    """YBR_FULL 8-bit samples to RGB (PS3.3 C.7.6.3.1.2), via pydicom."""
    return convert_color_space(arr, "YBR_FULL", "RGB")


def native_dtype(bits_allocated: int, pixel_representation: int) -> np.dtype:
    """The little-endian numpy dtype of native pixel cells (PS3.5 8.1.1)."""
    if bits_allocated not in (8, 16, 32):
        raise ValueError(f"bits_allocated: {bits_allocated} cannot be read as whole cells")
    if pixel_representation not in (0, 1):
        raise ValueError(f"pixel_representation: must be 0 or 1, not {pixel_representation}")
    kind = "i" if pixel_representation == 1 else "u"
    return np.dtype(f"<{kind}{bits_allocated // 8}")


def correct_unused_bits(arr: np.ndarray, bits_stored: int, signed: bool) -> np.ndarray:
    """Mask (unsigned) or sign-extend (signed) stored values in place (PS3.5 8.1.1)."""
    nbits = arr.dtype.itemsize * 8
    if bits_stored >= nbits:
        return arr
    if signed:
        shift = nbits - bits_stored
        np.left_shift(arr, shift, out=arr)
        np.right_shift(arr, shift, out=arr)
    else:
        np.bitwise_and(arr, arr.dtype.type((1 << bits_stored) - 1), out=arr)
    return arr


def frame_shape(header: InstanceHeader) -> tuple[int, ...]:
    """Shape of one decoded frame: (rows, cols) or (rows, cols, samples)."""
    if not header.rows or not header.columns:
        raise UnsupportedImage(f"{header.path}: no pixel data (Rows/Columns missing)")
    spp = header.samples_per_pixel or 1
    return (header.rows, header.columns) if spp == 1 else (header.rows, header.columns, spp)


def read_frame_at_offset(header: InstanceHeader, frame: int = 0) -> np.ndarray:
    """Read one native frame straight from the file at the indexed Pixel Data offset.

    Returns stored values (rows, cols), or (rows, cols, 3) RGB for 3-sample images, in native
    byte order; unused high bits are masked or sign-extended as PS3.5 8.1.1 requires.
    """
    ts = header.transfer_syntax_uid
    if ts not in NATIVE_TRANSFER_SYNTAXES:
        raise UnsupportedImage(
            f"{header.path}: transfer syntax {ts or '(unknown)'} is not native; decode it with read_frames"
        )
    if header.pixel_data_offset is None:
        raise UnsupportedImage(f"{header.path}: the index holds no Pixel Data offset")
    if header.bits_allocated not in (8, 16, 32):
        raise UnsupportedImage(
            f"{header.path}: Bits Allocated {header.bits_allocated} cannot be read at an offset; use read_frames"
        )
    pi = header.photometric_interpretation.upper()
    if pi == "YBR_FULL_422" or pi == "PALETTE COLOR":
        raise UnsupportedImage(f"{header.path}: {pi} cannot be read at an offset; use read_frames")
    nframes = max(header.number_of_frames or 1, 1)
    if not 0 <= frame < nframes:
        raise FrameOutOfRange(f"frame: {frame} is out of range ({nframes} frames)", frame, nframes)
    shape = frame_shape(header)
    dtype = native_dtype(header.bits_allocated, header.pixel_representation or 0)
    if ts == _BIG_ENDIAN:
        dtype = dtype.newbyteorder(">")
    count = int(np.prod(shape))
    nbytes = count * dtype.itemsize
    offset = header.pixel_data_offset + frame * nbytes
    if header.pixel_data_length is not None and (frame + 1) * nbytes > header.pixel_data_length:
        raise UnsupportedImage(
            f"{header.path}: Pixel Data holds {header.pixel_data_length} bytes, fewer than frame {frame} needs"
        )
    arr = np.empty(count, dtype=dtype)
    with open(header.path, "rb", buffering=0) as f:
        got = os.preadv(f.fileno(), [memoryview(arr).cast("B")], offset)
    if got != nbytes:
        raise UnsupportedImage(f"{header.path}: file truncated: read {got} of {nbytes} pixel bytes")
    if ts == _BIG_ENDIAN:
        arr = arr.byteswap().view(dtype.newbyteorder("="))
    correct_unused_bits(arr, header.bits_stored or header.bits_allocated, header.pixel_representation == 1)
    if len(shape) == 3 and header.planar_configuration == 1:
        arr = np.ascontiguousarray(arr.reshape(shape[2], shape[0], shape[1]).transpose(1, 2, 0))
    else:
        arr = arr.reshape(shape)
    if len(shape) == 3 and pi == "YBR_FULL":
        arr = ybr_to_rgb(arr)
    return arr


def read_indexed_frame(
    header: InstanceHeader, frame: int = 0, datasets: dict[str, Dataset] | None = None
) -> np.ndarray:
    """Stored values of one frame of an indexed instance, as the viewer reads it: native
    frames at the indexed Pixel Data offset, anything else decoded by pydicom.

    `datasets` caches parsed multi-frame files between calls (the frames of a cine share one;
    at most two are kept).
    """
    h = header
    if h.transfer_syntax_uid in NATIVE_TRANSFER_SYNTAXES and h.pixel_data_offset is not None:
        try:
            return read_frame_at_offset(h, frame)
        except UnsupportedImage:
            pass
    if (h.number_of_frames or 1) > 1:
        ds = datasets.get(h.path) if datasets is not None else None
        if ds is None:
            ds = read_dataset(h.path)
            if datasets is not None:
                if len(datasets) >= 2:
                    datasets.pop(next(iter(datasets)))
                datasets[h.path] = ds
        return read_frames(ds, [frame])[0]
    return read_frames(h.path, [frame])[0]


def read_grey_slice(header: InstanceHeader) -> np.ndarray:
    """The one grey frame of a single-frame slice as stored values (rows, cols), native order.

    This is `read_frames(header.path, [0])[0]` for the volume loader's hot path: native
    slices are read at their indexed offset, and JPEG 2000 slices are decoded by OpenJPEG
    directly from the codestream, which skips pydicom's generic pixel pipeline (~8 % of a
    512x512 slice's decode).  The direct route is taken only when its result provably has
    the header's shape and stored type (a codestream whose signedness or precision
    disagrees with the header goes through pydicom, which knows how to correct it).
    """
    if header.transfer_syntax_uid in NATIVE_TRANSFER_SYNTAXES and header.pixel_data_offset is not None:
        try:
            return read_frame_at_offset(header, 0)
        except UnsupportedImage:
            pass
    elif (
        header.transfer_syntax_uid in _J2K_TRANSFER_SYNTAXES
        and (header.number_of_frames or 1) == 1
        and (header.samples_per_pixel or 1) == 1
        and header.bits_allocated in (8, 16)
    ):
        arr = _j2k_direct(header)
        if arr is not None:
            return arr
    return read_frames(header.path, [0])[0]


def _j2k_direct(header: InstanceHeader) -> np.ndarray | None:
    """OpenJPEG straight on the slice's codestream; None when the result is not certain to be
    what pydicom would return (the caller then decodes through pydicom)."""
    try:
        from openjpeg import decode as j2k_decode
        from pydicom.encaps import generate_frames

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = pydicom.dcmread(header.path, force=False)
            frame = next(generate_frames(ds.PixelData, number_of_frames=1))
            arr = j2k_decode(frame, j2k_format=0)
    except Exception:  # noqa: BLE001 - anything unusual takes the general route
        return None
    expected = native_dtype(header.bits_allocated or 16, header.pixel_representation or 0).newbyteorder("=")
    if arr.shape != (header.rows, header.columns) or arr.dtype != expected:
        return None
    bits = header.bits_stored or header.bits_allocated or 16
    return correct_unused_bits(arr, bits, header.pixel_representation == 1)
