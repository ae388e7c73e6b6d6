"""The DICOM tag browser, through the one de-identification policy (`ioreview.imaging.deid`)."""
from __future__ import annotations

from ioreview.errors import BlindingViolation, NotFound
from ioreview.imaging.deid import TagRow, UnreadableHeader, tag_rows

from .blinding import reader_may_see_series
from .context import ADMINS, ServiceContext
from .values import Role, Session

__all__ = ["Tags"]


class Tags:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def tags_for_display(self, session: Session, sop_instance_uid: str) -> list[TagRow]:
        """The rows of the DICOM tag browser for one image, read from its file.  For every
        role but coordinator/admin, values the de-identification policy hides (names, IDs,
        dates and times, institution, instance UIDs, private tags...) show as "•••"; a reader
        may look only at images of their own available cases (and those cases' priors)."""
        with self.ctx.use_case(session, None, "see DICOM tags", write=False) as (uow, actor):
            location = uow.dicom.instance_location(str(sop_instance_uid))
            unmasked = actor.role in ADMINS
            if actor.role is Role.READER:
                if location is None or not reader_may_see_series(
                        self.ctx, uow, actor, location.series_pk):
                    raise BlindingViolation("This image is not part of a case in your worklist.")
            elif not unmasked and (location is None
                                   or not uow.cases.series_in_cases([location.series_pk])):
                raise BlindingViolation("This image is not part of a case.")
            if location is None:
                raise NotFound(f"No image with SOP Instance UID {sop_instance_uid} is indexed.")
        try:
            return tag_rows(location.path, masked=not unmasked)
        except UnreadableHeader as exc:
            shown = location.path if unmasked else "the archive"
            raise NotFound(f"The image file cannot be read from {shown}; ask the coordinator "
                           "to check the archive.") from exc
