"""The header values ioreview keeps for each DICOM instance.

`InstanceHeader` is the value that crosses layers: the scanner (`ioreview.imaging.scan`)
produces it from a file, the store persists it, the volume loader and viewer read pixels with
it (the stored pixel-data offset lets uncompressed frames be read without parsing the file
again).  Text values are already decoded by the file's Specific Character Set (PS3.5 6.1).
`SeriesView` groups the headers of one series as the viewer receives them.
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

#: Attributes that identify a person or a calendar date; readers never see them (blinding).
#: Part of the de-identification policy of `ioreview.imaging.deid` (which re-exports it and
#: blanks them in `blind_header`); defined here, next to the fields, so that this module
#: stays free of pydicom for the lean scanner.
IDENTIFYING_FIELDS: frozenset[str] = frozenset(
    {
        "patient_id",
        "patient_name",
        "patient_birth_date",
        "issuer_of_patient_id",
        "accession_number",
        "institution_name",
        "referring_physician_name",
        "study_date",
        "study_time",
        "series_date",
        "content_date",
        "study_id",
    }
)


@dataclass(frozen=True, slots=True)
class InstanceHeader:
    """Header values of one DICOM instance (one file)."""

    path: str
    sop_instance_uid: str
    sop_class_uid: str
    study_instance_uid: str
    series_instance_uid: str
    transfer_syntax_uid: str = ""
    specific_character_set: str = ""
    # patient / study (identifying: see IDENTIFYING_FIELDS)
    patient_id: str = ""
    issuer_of_patient_id: str = ""
    patient_name: str = ""
    patient_birth_date: str = ""
    patient_sex: str = ""
    study_date: str = ""
    study_time: str = ""
    study_id: str = ""
    study_description: str = ""
    accession_number: str = ""
    institution_name: str = ""
    referring_physician_name: str = ""
    # series
    modality: str = ""
    series_number: int | None = None
    series_description: str = ""
    series_date: str = ""
    body_part_examined: str = ""
    laterality: str = ""
    frame_of_reference_uid: str = ""
    # instance / image
    instance_number: int | None = None
    content_date: str = ""
    image_type: str = ""
    #: View Position (0018,5101) as the modality wrote it ("AP", "PA", "LL", "RL", or a
    #: vendor's or a local language's text; PS3.3 C.8.11.5.1.1); not identifying (PS3.15
    #: Table E.1-1 keeps it), so readers see it.  `ioreview.ui.viewer.hanging` normalises it.
    view_position: str = ""
    #: Code Meaning of the first item of View Code Sequence (0054,0220), e.g. "antero-posterior"
    view_code_meaning: str = ""
    rows: int | None = None
    columns: int | None = None
    number_of_frames: int = 1
    samples_per_pixel: int | None = None
    photometric_interpretation: str = ""
    bits_allocated: int | None = None
    bits_stored: int | None = None
    pixel_representation: int | None = None
    planar_configuration: int | None = None
    pixel_spacing: tuple[float, float] | None = None
    imager_pixel_spacing: tuple[float, float] | None = None
    estimated_magnification: float | None = None
    slice_thickness: float | None = None
    image_position: tuple[float, float, float] | None = None
    image_orientation: tuple[float, float, float, float, float, float] | None = None
    rescale_slope: float | None = None
    rescale_intercept: float | None = None
    window_center: tuple[float, ...] | None = None
    window_width: tuple[float, ...] | None = None
    #: VOI LUT Function (0028,1056): LINEAR (default), LINEAR_EXACT or SIGMOID
    voi_lut_function: str = ""
    frame_time_ms: float | None = None
    #: byte offset of the Pixel Data *value* in the file, for native (uncompressed) pixel data
    pixel_data_offset: int | None = None
    #: length in bytes of the Pixel Data value, for native pixel data
    pixel_data_length: int | None = None
    file_size: int | None = None
    sha256: str = ""

    @property
    def has_pixels(self) -> bool:
        return bool(self.rows and self.columns)

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))


@dataclass(frozen=True)
class SeriesView:
    """A series as the viewer shows it: what the service hands a reader (headers blinded by
    `ioreview.imaging.deid.blind_header`), or the local files of `ioreview view`."""

    series_pk: int
    modality: str
    description: str
    n_instances: int
    n_frames: int
    headers: tuple[InstanceHeader, ...]
