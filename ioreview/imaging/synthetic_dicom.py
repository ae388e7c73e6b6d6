"""DICOM datasets for the synthetic demo trial (PS3.3 IODs: CT, MR, DX for presentation, US MF).

Builders take plain values and numpy pixels and return `pydicom.Dataset` objects with file meta
(explicit VR little endian) ready for ``save_as(path, enforce_file_format=True)``.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_dataset, write_file_meta_info
from pydicom.sequence import Sequence
from pydicom.tag import BaseTag, Tag
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"
MR_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.4"
DX_PRESENTATION_STORAGE = "1.2.840.10008.5.1.4.1.1.1.1"
US_MULTIFRAME_STORAGE = "1.2.840.10008.5.1.4.1.1.3.1"

MANUFACTURER = "ioreview synthetic"


def seeded_uid(*parts: object) -> str:
    """A UID that depends only on ``parts`` (seed, subject, ...) so reruns give the same UIDs."""
    return generate_uid(entropy_srcs=[str(p) for p in parts])


@dataclass(frozen=True)
class PatientStudy:
    """Patient and study attributes shared by every series of one study."""

    patient_id: str
    patient_name: str
    character_set: str
    birth_date: str
    sex: str
    study_uid: str
    study_date: str
    study_time: str
    study_id: str
    accession_number: str
    study_description: str
    institution_name: str
    referring_physician: str


@dataclass(frozen=True)
class SeriesInfo:
    """Series-level attributes."""

    uid: str
    number: int
    description: str
    modality: str
    laterality: str
    frame_of_reference_uid: str = ""
    time: str = "000000"


def _base(
    sop_class: str, sop_uid: str, ps: PatientStudy, series: SeriesInfo, instance: int
) -> Dataset:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = sop_uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SpecificCharacterSet = ps.character_set
    ds.ImageType = ["ORIGINAL", "PRIMARY"]
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = sop_uid
    ds.StudyDate = ps.study_date
    ds.SeriesDate = ps.study_date
    ds.ContentDate = ps.study_date
    ds.StudyTime = ps.study_time
    ds.SeriesTime = series.time
    ds.ContentTime = series.time
    ds.AccessionNumber = ps.accession_number
    ds.Modality = series.modality
    ds.Manufacturer = MANUFACTURER
    ds.InstitutionName = ps.institution_name
    ds.ReferringPhysicianName = ps.referring_physician
    ds.StudyDescription = ps.study_description
    ds.SeriesDescription = series.description
    ds.ManufacturerModelName = "IOT-SIM"
    ds.PatientName = ps.patient_name
    ds.PatientID = ps.patient_id
    ds.PatientBirthDate = ps.birth_date
    ds.PatientSex = ps.sex
    ds.BodyPartExamined = "LEG"
    ds.StudyInstanceUID = ps.study_uid
    ds.SeriesInstanceUID = series.uid
    ds.StudyID = ps.study_id
    ds.SeriesNumber = series.number
    ds.InstanceNumber = instance
    ds.Laterality = series.laterality
    ds.BurnedInAnnotation = "NO"
    return ds


def _pixels(ds: Dataset, arr: np.ndarray, bits_stored: int, signed: bool, photometric: str) -> None:
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = photometric
    ds.Rows, ds.Columns = int(arr.shape[-2]), int(arr.shape[-1])
    ds.BitsAllocated = arr.dtype.itemsize * 8
    ds.BitsStored = bits_stored
    ds.HighBit = bits_stored - 1
    ds.PixelRepresentation = 1 if signed else 0
    ds.PixelData = np.ascontiguousarray(arr).tobytes()


def ct_slice(
    ps: PatientStudy,
    series: SeriesInfo,
    sop_uid: str,
    instance: int,
    stored: np.ndarray,
    position: tuple[float, float, float],
    pixel_mm: float,
    thickness: float,
    spacing: float,
) -> Dataset:
    """One axial CT image (CT Image Storage), HU = stored - 1024."""
    ds = _base(CT_IMAGE_STORAGE, sop_uid, ps, series, instance)
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.ScanOptions = "HELICAL MODE"
    ds.SliceThickness = f"{thickness:g}"
    ds.SpacingBetweenSlices = f"{spacing:g}"
    ds.KVP = "120"
    ds.DataCollectionDiameter = "500"
    ds.ReconstructionDiameter = f"{pixel_mm * stored.shape[-1]:.1f}"
    ds.ConvolutionKernel = "STANDARD"
    ds.PatientPosition = "FFS"
    ds.XRayTubeCurrent = 180
    ds.ExposureTime = 750
    ds.AcquisitionNumber = 1
    ds.ImagePositionPatient = [f"{p:.3f}" for p in position]
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.FrameOfReferenceUID = series.frame_of_reference_uid
    ds.PositionReferenceIndicator = ""
    ds.SliceLocation = f"{position[2]:.3f}"
    ds.PixelSpacing = [f"{pixel_mm:.6g}", f"{pixel_mm:.6g}"]
    _pixels(ds, stored, 16, True, "MONOCHROME2")
    ds.WindowCenter = [50, 500]
    ds.WindowWidth = [400, 2000]
    ds.WindowCenterWidthExplanation = ["SOFT TISSUE", "BONE"]
    ds.RescaleIntercept = "-1024"
    ds.RescaleSlope = "1"
    ds.RescaleType = "HU"
    return ds


def mr_slice(
    ps: PatientStudy,
    series: SeriesInfo,
    sop_uid: str,
    instance: int,
    pixels: np.ndarray,
    position: tuple[float, float, float],
    pixel_mm: float,
    thickness: float,
    spacing: float,
    stir: bool,
) -> Dataset:
    """One axial MR image (MR Image Storage): T1 spin echo or STIR."""
    ds = _base(MR_IMAGE_STORAGE, sop_uid, ps, series, instance)
    ds.ImageType = ["ORIGINAL", "PRIMARY", "M", "NORM"]
    ds.ScanningSequence = "IR" if stir else "SE"
    ds.SequenceVariant = "SK"
    ds.ScanOptions = "FS" if stir else ""
    ds.MRAcquisitionType = "2D"
    ds.SequenceName = "tir2d1_13" if stir else "se2d1"
    ds.SliceThickness = f"{thickness:g}"
    ds.RepetitionTime = "4500" if stir else "550"
    ds.EchoTime = "40" if stir else "11"
    if stir:
        ds.InversionTime = "150"
    ds.NumberOfAverages = "1"
    ds.ImagingFrequency = "63.87"
    ds.ImagedNucleus = "1H"
    ds.MagneticFieldStrength = "1.5"
    ds.SpacingBetweenSlices = f"{spacing:g}"
    ds.EchoTrainLength = 13 if stir else 1
    ds.FlipAngle = "150" if stir else "90"
    ds.PatientPosition = "FFS"
    ds.AcquisitionNumber = 1
    ds.ImagePositionPatient = [f"{p:.3f}" for p in position]
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.FrameOfReferenceUID = series.frame_of_reference_uid
    ds.PositionReferenceIndicator = ""
    ds.SliceLocation = f"{position[2]:.3f}"
    ds.PixelSpacing = [f"{pixel_mm:.6g}", f"{pixel_mm:.6g}"]
    _pixels(ds, pixels, 12, False, "MONOCHROME2")
    ds.WindowCenter = 700 if stir else 500
    ds.WindowWidth = 1400 if stir else 1000
    return ds


def dx_image(
    ps: PatientStudy,
    series: SeriesInfo,
    sop_uid: str,
    instance: int,
    pixels: np.ndarray,
    view: str,
    side: str,
    imager_pixel_mm: float,
    magnification: float,
    monochrome1: bool,
) -> Dataset:
    """One radiograph (Digital X-Ray Image Storage - For Presentation), 12 bits in 16."""
    ds = _base(DX_PRESENTATION_STORAGE, sop_uid, ps, series, instance)
    ds.ImageType = ["ORIGINAL", "PRIMARY"]
    ds.PresentationIntentType = "FOR PRESENTATION"
    ds.KVP = "60"
    ds.ExposureTime = 20
    ds.XRayTubeCurrent = 200
    ds.Exposure = 4
    ds.DistanceSourceToDetector = "1100"
    ds.DistanceSourceToPatient = f"{1100 / magnification:.1f}"
    ds.EstimatedRadiographicMagnificationFactor = f"{magnification:g}"
    ds.ImagerPixelSpacing = [f"{imager_pixel_mm:.6g}", f"{imager_pixel_mm:.6g}"]
    ds.DetectorType = "SCINTILLATOR"
    ds.Grid = "NONE"
    ds.ViewPosition = "AP" if view == "AP" else ("LL" if side == "L" else "RL")
    ds.ImageLaterality = side
    ds.PatientOrientation = ["L", "F"] if view == "AP" else ["P", "F"]
    ds.AcquisitionDeviceProcessingDescription = "KNEE/TIB-FIB"
    photometric = "MONOCHROME1" if monochrome1 else "MONOCHROME2"
    _pixels(
        ds, (4095 - pixels).astype(np.uint16) if monochrome1 else pixels, 12, False, photometric
    )
    centre, width = 2300, 3000
    ds.WindowCenter = 4095 - centre if monochrome1 else centre
    ds.WindowWidth = width
    ds.RescaleIntercept = "0"
    ds.RescaleSlope = "1"
    ds.RescaleType = "US"
    ds.PixelIntensityRelationship = "LOG"
    ds.PixelIntensityRelationshipSign = 1 if monochrome1 else -1
    ds.LossyImageCompression = "00"
    return ds


def us_cine(
    ps: PatientStudy,
    series: SeriesInfo,
    sop_uid: str,
    frames: np.ndarray,
    region: tuple[int, int, int, int],
    delta_cm: float,
    frame_time_ms: float,
    side: str,
) -> Dataset:
    """One B-mode cine (Ultrasound Multi-frame Image Storage) with a calibrated region (C.8.5.5)."""
    ds = _base(US_MULTIFRAME_STORAGE, sop_uid, ps, series, 1)
    ds.ImageType = ["ORIGINAL", "PRIMARY", "", "0001"]
    ds.NumberOfFrames = int(frames.shape[0])
    ds.FrameTime = f"{frame_time_ms:g}"
    ds.FrameIncrementPointer = (0x0018, 0x1063)
    ds.CineRate = int(round(1000.0 / frame_time_ms))
    ds.RecommendedDisplayFrameRate = int(round(1000.0 / frame_time_ms))
    ds.ImageLaterality = side
    ds.TransducerData = ["L12-4"]
    ds.ProcessingFunction = "MSK"
    ds.UltrasoundColorDataPresent = 0
    x0, y0, x1, y1 = region
    item = Dataset()
    item.RegionSpatialFormat = 1
    item.RegionDataType = 1
    item.RegionFlags = 0
    item.RegionLocationMinX0 = x0
    item.RegionLocationMinY0 = y0
    item.RegionLocationMaxX1 = x1
    item.RegionLocationMaxY1 = y1
    item.ReferencePixelX0 = (x1 - x0) // 2
    item.ReferencePixelY0 = 0
    item.ReferencePixelPhysicalValueX = 0.0
    item.ReferencePixelPhysicalValueY = 0.0
    item.PhysicalUnitsXDirection = 3
    item.PhysicalUnitsYDirection = 3
    item.PhysicalDeltaX = float(delta_cm)
    item.PhysicalDeltaY = float(delta_cm)
    item.TransducerFrequency = 10000
    ds.SequenceOfUltrasoundRegions = Sequence([item])
    _pixels(ds, frames, 8, False, "MONOCHROME2")
    ds.LossyImageCompression = "00"
    return ds


#: Attributes that change from slice to slice within a CT or MR series.
SLICE_VARYING: tuple[BaseTag, ...] = tuple(
    Tag(k)
    for k in (
        "SOPInstanceUID",
        "InstanceNumber",
        "ImagePositionPatient",
        "SliceLocation",
        "PixelData",
    )
)


def _encode(ds: Dataset, charset: str) -> bytes:
    fp = DicomBytesIO()
    fp.is_little_endian = True
    fp.is_implicit_VR = False
    write_dataset(fp, ds, parent_encoding=charset)
    return fp.getvalue()


class SeriesFileWriter:
    """Writes the slices of one series with the constant attributes encoded only once.

    The output is byte-identical to ``Dataset.save_as(path, enforce_file_format=True)`` (PS3.10
    preamble, file meta, explicit VR little endian data set); it only saves re-encoding the
    ~60 attributes every slice shares, which otherwise dominates writing a demo CT.
    """

    def __init__(self, first: Dataset) -> None:
        self.charset = str(first.SpecificCharacterSet)
        self.segments: list[bytes | BaseTag] = []
        run = Dataset()
        for tag in sorted(first.keys()):
            if tag in SLICE_VARYING:
                if len(run):
                    self.segments.append(_encode(run, self.charset))
                    run = Dataset()
                self.segments.append(tag)
            else:
                run.add(first[tag])
        if len(run):
            self.segments.append(_encode(run, self.charset))
        # file meta completed as save_as(enforce_file_format=True) would (version, implementation)
        meta = FileMetaDataset(first.file_meta)
        write_file_meta_info(DicomBytesIO(), meta, enforce_standard=True)
        before, after = Dataset(), Dataset()
        for tag in sorted(meta.keys()):
            if tag.element == 0:
                continue
            if tag < 0x00020003:
                before.add(meta[tag])
            elif tag > 0x00020003:
                after.add(meta[tag])
        self.meta_before = _encode(before, "ISO_IR 6")
        self.meta_after = _encode(after, "ISO_IR 6")

    def write(self, path: Path, slice_ds: Dataset) -> None:
        """Write ``slice_ds`` (holding at least the varying attributes) with the shared rest."""
        uid = Dataset()
        uid.MediaStorageSOPInstanceUID = slice_ds.SOPInstanceUID
        sop = _encode(uid, "ISO_IR 6")
        meta_len = len(self.meta_before) + len(sop) + len(self.meta_after)
        parts = [b"\x00" * 128, b"DICM", struct.pack("<HH2sHI", 2, 0, b"UL", 4, meta_len)]
        parts += [self.meta_before, sop, self.meta_after]
        for seg in self.segments:
            if isinstance(seg, bytes):
                parts.append(seg)
            elif seg in slice_ds:
                one = Dataset()
                one.add(slice_ds[seg])
                parts.append(_encode(one, self.charset))
        path.write_bytes(b"".join(parts))


def varying_part(
    sop_uid: str, instance: int, position: tuple[float, float, float], pixels: np.ndarray
) -> Dataset:
    """The attributes of one slice that `SeriesFileWriter` does not share across the series."""
    ds = Dataset()
    ds.SOPInstanceUID = sop_uid
    ds.InstanceNumber = instance
    ds.ImagePositionPatient = [f"{p:.3f}" for p in position]
    ds.SliceLocation = f"{position[2]:.3f}"
    ds.add_new(
        0x7FE00010,
        "OW" if pixels.dtype.itemsize > 1 else "OB",
        np.ascontiguousarray(pixels).tobytes(),
    )
    return ds
