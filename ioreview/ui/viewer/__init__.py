"""The image viewer: viewports, series loading, measurement tools, cine, sync and MPR.

The reading screen embeds `ViewerWidget`; `ioreview view PATH` opens `ViewerWindow`.
"""
from __future__ import annotations

__all__ = ["ViewerWidget", "ViewerWindow", "ViewerAnnotation", "ImageViewport"]


def __getattr__(name: str) -> object:
    # Lazy so that importing a submodule (e.g. theme) does not build the whole viewer.
    if name in ("ViewerWidget", "ViewerWindow"):
        from ioreview.ui.viewer import viewer_window

        return getattr(viewer_window, name)
    if name == "ViewerAnnotation":
        from ioreview.ui.viewer.annotations import ViewerAnnotation

        return ViewerAnnotation
    if name == "ImageViewport":
        from ioreview.ui.viewer.viewport import ImageViewport

        return ImageViewport
    raise AttributeError(name)
