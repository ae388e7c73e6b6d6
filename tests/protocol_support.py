"""Shared values for the pure protocol tests (pytest puts tests/ on sys.path)."""
from __future__ import annotations

from typing import Any

FINDINGS_WITH_PRESENCE = ("extravasation", "haematoma", "fracture", "osteomyelitis", "fat_embolism")


def negative_read() -> dict[str, Any]:
    """A complete read of the default protocol with no complication."""
    values: dict[str, Any] = {
        "image_quality": "adequate",
        "side": "left",
        "timepoint": "post-insertion",
        "needle_position.tip_position": "intramedullary",
    }
    for finding in FINDINGS_WITH_PRESENCE:
        values[f"{finding}.presence"] = "absent"
        values[f"{finding}.confidence"] = 1
    return values
