"""Assistive tools in the viewer: region growing, fat map and CLAHE — the reader decides.

The pixel work is the imaging core's (`ioreview.imaging.tools`: `grow_region`, `fat_map`,
`fat_overlay_rgba`, `clahe`); this module runs it off the GUI thread (`BackgroundCall`), holds
the thresholds the read protocol gives (`ToolThresholds`), and shows a grown region's numbers
with Accept / Reject (`RegionPanel`).  A proposal only becomes data when the reader accepts it.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PySide6.QtCore import QCoreApplication, QObject, QRunnable, QThreadPool, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QWidget,
)

from ioreview.imaging.display import modality_lut, rescale_for
from ioreview.imaging.header import InstanceHeader
from ioreview.imaging.tools import FAT_HU, RegionResult, grow_region
from ioreview.ui.viewer import theme

#: Defaults when the host gives no protocol thresholds (HU).
FLUID_HU: tuple[float, float] = (0.0, 20.0)
BLOOD_HU: tuple[float, float] = (30.0, 100.0)
#: Default HU tolerance around the seed value.
DEFAULT_TOLERANCE_HU = 30.0
#: A slab converted to HU for growing is at most this many bytes before it must grow.
SLAB_BYTES = 64 << 20

#: Modalities the tools apply to.
CT_MODALITIES = frozenset({"CT"})
RADIOGRAPH_MODALITIES = frozenset({"DX", "CR"})


@dataclass(frozen=True)
class ToolThresholds:
    """HU bands of the assistive tools, from the read protocol's tools section or defaults."""

    fat_hu: tuple[float, float] = FAT_HU
    fluid_hu: tuple[float, float] = FLUID_HU
    blood_hu: tuple[float, float] = BLOOD_HU


@dataclass(frozen=True)
class RegionRequest:
    """What to grow: a seed on image `index` of a stack, a tolerance and an optional HU band."""

    index: int
    row: float
    col: float
    tolerance_hu: float
    band: str  # "auto", "fluid", "blood" or "none"


@dataclass(frozen=True)
class RegionProposal:
    """A grown region the reader accepted: the numbers the read form takes, and where it began.

    `slices` is the number of images the region covers (`slice_indices` lists them in viewer
    order); `seed` is (row, col) on the seed image `sop_instance_uid` / `frame`.
    """

    volume_ml: float
    mean_hu: float
    sd_hu: float
    slices: int
    seed: tuple[float, float]
    sop_instance_uid: str
    frame: int
    hu_band: tuple[float, float]
    tolerance_hu: float
    slice_indices: tuple[int, ...] = ()
    annotation_uid: str = ""


@dataclass(eq=False)
class GrownRegion:
    """A region grown on a stack: the mask of slab `z0 ..` and the core's numbers."""

    request: RegionRequest
    result: RegionResult
    z0: int
    seed_hu: float
    hu_range: tuple[float, float] | None
    slice_indices: tuple[int, ...] = field(default=())

    def mask_for(self, index: int) -> np.ndarray | None:
        """The region's mask on image `index`, or None when it does not reach it."""
        k = index - self.z0
        mask = self.result.mask
        if not 0 <= k < mask.shape[0] or index not in self.slice_indices:
            return None
        return mask[k]


class RegionOutsideBand(ValueError):
    """The seed's value lies outside the HU band asked for."""


def band_for(band: str, seed_hu: float, thresholds: ToolThresholds) -> tuple[float, float] | None:
    """The HU range of `band`; "auto" picks fluid or blood when the seed lies in one, else none."""
    named = {"fluid": thresholds.fluid_hu, "blood": thresholds.blood_hu}
    if band == "auto":
        for rng in named.values():
            lo, hi = sorted(rng)
            if lo <= seed_hu <= hi:
                return (lo, hi)
        return None
    if band == "none":
        return None
    lo, hi = sorted(named[band])
    if not lo <= seed_hu <= hi:
        raise RegionOutsideBand(
            QCoreApplication.translate("AssistiveTools", "The seed (%1 HU) lies outside the %2 range %3..%4 HU")
            .replace("%1", f"{seed_hu:.0f}")
            .replace("%2", band_title(band))
            .replace("%3", f"{lo:g}")
            .replace("%4", f"{hi:g}")
        )
    return (lo, hi)


def band_title(band: str) -> str:
    return {"auto": QCoreApplication.translate("AssistiveTools", "auto"), "fluid": QCoreApplication.translate("AssistiveTools", "fluid"), "blood": QCoreApplication.translate("AssistiveTools", "blood"), "none": QCoreApplication.translate("AssistiveTools", "no band")}[band]


def _slab_hu(stack: np.ndarray, headers: Sequence[InstanceHeader], z0: int, z1: int) -> np.ndarray:
    """HU (float32) of stack[z0:z1], each slice with its own rescale."""
    out = np.empty((z1 - z0,) + stack.shape[1:], dtype=np.float32)
    for k in range(z0, z1):
        slope, intercept = rescale_for(headers[k])
        out[k - z0] = modality_lut(stack[k], slope, intercept)
    return out


def grow_on_stack(
    stack: np.ndarray,
    headers: Sequence[InstanceHeader],
    spacing_zyx: tuple[float, float, float],
    request: RegionRequest,
    thresholds: ToolThresholds,
) -> GrownRegion:
    """Grow a region from the request's seed with `grow_region`, on a slab around the seed.

    Only a slab (at most `SLAB_BYTES` of float32 HU) is converted at a time, so a 500-slice
    series is not copied whole; when the region reaches the slab's end the slab doubles.
    """
    n = stack.shape[0]
    z, row, col = int(request.index), int(round(request.row)), int(round(request.col))
    if not (0 <= z < n and 0 <= row < stack.shape[1] and 0 <= col < stack.shape[2]):
        raise ValueError(QCoreApplication.translate("AssistiveTools", "The seed lies outside the image"))
    slope, intercept = rescale_for(headers[z])
    seed_hu = float(modality_lut(stack[z, row, col : col + 1], slope, intercept)[0])
    hu_range = band_for(request.band, seed_hu, thresholds)
    per_slice = stack.shape[1] * stack.shape[2] * 4
    half = max(4, SLAB_BYTES // per_slice // 2)
    while True:
        z0, z1 = max(0, z - half), min(n, z + half + 1)
        hu = _slab_hu(stack, headers, z0, z1)
        result = grow_region(hu, (z - z0, row, col), request.tolerance_hu, hu_range, spacing_zyx)
        del hu
        touches = bool(result.slices) and (
            (result.slices[0] == 0 and z0 > 0) or (result.slices[-1] == z1 - z0 - 1 and z1 < n)
        )
        if not touches:
            break
        half *= 2
    return GrownRegion(request, result, z0, seed_hu, hu_range, tuple(z0 + s for s in result.slices))


def region_summary(result: RegionResult) -> str:
    """ "Volume 12.4 mL, mean 14 HU (SD 9), 23 slices" """
    mean = "–" if not math.isfinite(result.mean_hu) else f"{result.mean_hu:.0f}"
    return (
        QCoreApplication.translate("AssistiveTools", "Volume %1 mL, mean %2 HU (SD %3), %4 slices")
        .replace("%1", f"{result.volume_ml:.1f}")
        .replace("%2", mean)
        .replace("%3", f"{result.sd_hu:.0f}")
        .replace("%4", str(len(result.slices)))
    )


# ---------------------------------------------------------------- off the GUI thread


class _Runnable(QRunnable):
    def __init__(self, owner: BackgroundCall, tag: Any, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
        super().__init__()
        self._owner, self._tag, self._fn, self._args = owner, tag, fn, args

    def run(self) -> None:
        try:
            result = self._fn(*self._args)
        except Exception as exc:  # delivered to the GUI thread as a message
            try:
                self._owner.failed.emit(self._tag, str(exc))
            except RuntimeError:  # the owner went away meanwhile
                pass
            return
        try:
            self._owner.done.emit(self._tag, result)
        except RuntimeError:
            pass


class BackgroundCall(QObject):
    """Runs a function on Qt's global thread pool; `done(tag, result)` / `failed(tag, message)`
    arrive on the owner's (GUI) thread."""

    done = Signal(object, object)
    failed = Signal(object, str)

    def start(self, tag: Any, fn: Callable[..., Any], *args: Any) -> None:
        QThreadPool.globalInstance().start(_Runnable(self, tag, fn, args))


# ---------------------------------------------------------------- the result panel


class RegionPanel(QFrame):
    """The numbers of a grown region with Accept / Reject, tolerance and HU band controls.

    `paramsChanged()` asks for the region again (debounced) after the reader changes the
    tolerance or the band.
    """

    accepted = Signal()
    rejected = Signal()
    paramsChanged = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("RegionPanel")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setStyleSheet(
            f"#RegionPanel {{ background: {theme.RAISED}; border: 1px solid {theme.ACCENT}; }}"
        )
        self.title = QLabel(self.tr("Grown region"), self)
        self.title.setStyleSheet(f"color: {theme.ACCENT}; font-weight: bold;")
        self.summary = QLabel(self)
        self.summary.setMinimumWidth(320)
        self.tolerance = QDoubleSpinBox(self)
        self.tolerance.setRange(0.0, 500.0)
        self.tolerance.setDecimals(0)
        self.tolerance.setSingleStep(5.0)
        self.tolerance.setSuffix(" HU")
        self.tolerance.setValue(DEFAULT_TOLERANCE_HU)
        self.tolerance.setToolTip(self.tr("Voxels within this many HU of the seed value join the region"))
        self.band = QComboBox(self)
        self.accept_button = QPushButton(self.tr("Accept"), self)
        self.accept_button.setToolTip(self.tr("Use this volume and mean HU for the current finding"))
        self.reject_button = QPushButton(self.tr("Reject"), self)
        self.reject_button.setToolTip(self.tr("Discard the proposed region"))
        lay = QHBoxLayout(self)
        lay.setContentsMargins(8, 4, 8, 4)
        lay.addWidget(self.title)
        lay.addWidget(self.summary, 1)
        lay.addWidget(QLabel(self.tr("Tolerance ±"), self))
        lay.addWidget(self.tolerance)
        lay.addWidget(QLabel(self.tr("Band"), self))
        lay.addWidget(self.band)
        lay.addWidget(self.accept_button)
        lay.addWidget(self.reject_button)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(250)
        self._debounce.timeout.connect(self.paramsChanged)
        self.tolerance.valueChanged.connect(lambda _v: self._debounce.start())
        self.band.currentIndexChanged.connect(lambda _i: self._debounce.start())
        self.accept_button.clicked.connect(self.accepted)
        self.reject_button.clicked.connect(self.rejected)
        self.set_thresholds(ToolThresholds())
        self.hide()

    def set_thresholds(self, thresholds: ToolThresholds) -> None:
        """Name the bands with their HU ranges (keeps the current choice)."""
        current = self.band_name()
        self.band.blockSignals(True)
        self.band.clear()
        for key, rng in (("auto", None), ("fluid", thresholds.fluid_hu), ("blood", thresholds.blood_hu), ("none", None)):
            text = band_title(key) if rng is None else f"{band_title(key)} {min(rng):g}..{max(rng):g} HU"
            self.band.addItem(text, key)
        self.band.setCurrentIndex(max(0, self.band.findData(current)))
        self.band.blockSignals(False)

    def band_name(self) -> str:
        data = self.band.currentData()
        return str(data) if data else "auto"

    def show_busy(self) -> None:
        self.summary.setText(self.tr("Growing the region…"))
        self.accept_button.setEnabled(False)
        self.show()

    def show_region(self, region: GrownRegion) -> None:
        text = region_summary(region.result)
        if region.hu_range is not None:
            text += "  " + self.tr("[band %1..%2 HU]").replace("%1", f"{region.hu_range[0]:g}").replace("%2", f"{region.hu_range[1]:g}")
        self.summary.setText(text)
        self.accept_button.setEnabled(region.result.n_voxels > 0)
        self.show()

    def show_message(self, text: str) -> None:
        self.summary.setText(text)
        self.accept_button.setEnabled(False)
        self.show()
