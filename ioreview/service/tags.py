"""The DICOM tag browser, through the one de-identification policy (`ioreview.imaging.deid`).

Readers look at the files they were handed: de-identified reader copies, named by the copy's
SOP Instance UID (`reader_copies`); an original is the coordinator's alone."""
from __future__ import annotations

from ioreview.errors import BlindingViolation, NotFound
from ioreview.imaging.deid import TagRow, UnreadableHeader, tag_rows
from ioreview.store import UnitOfWork

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
        may look only at the copies of their own available cases (and those cases' priors)
        they were handed, named by the copy's UID."""
        uid = str(sop_instance_uid)
        with self.ctx.use_case(session, None, "see DICOM tags", write=False) as (uow, actor):
            unmasked = actor.role in ADMINS
            copy = uow.reader_copies.by_uid(uid)
            if copy is not None and unmasked:  # the coordinator sees the original
                uid = uow.reader_copies.original_uids([uid]).get(uid, uid)
                copy = None
            location = uow.dicom.instance_location(uid)
            if copy is not None:
                path, series_pk = copy.path, copy.series_pk
            elif location is not None:
                path, series_pk = location.path, location.series_pk
            else:
                path, series_pk = "", None
            if actor.role is Role.READER:
                if copy is None or series_pk is None or not reader_may_see_series(
                        self.ctx, uow, actor, series_pk) or not self._own_set(
                        uow, actor.user_id, copy.copy_set_id):
                    raise BlindingViolation("This image is not part of a case in your worklist.")
            elif not unmasked and (series_pk is None
                                   or not uow.cases.series_in_cases([series_pk])):
                raise BlindingViolation("This image is not part of a case.")
            if series_pk is None:
                raise NotFound(f"No image with SOP Instance UID {uid} is indexed.")
        try:
            return tag_rows(path, masked=not unmasked)
        except UnreadableHeader as exc:
            shown = path if unmasked else "the archive"
            raise NotFound(f"The image file cannot be read from {shown}; ask the coordinator "
                           "to check the archive.") from exc

    @staticmethod
    def _own_set(uow: UnitOfWork, reader_id: int | None, copy_set_id: int) -> bool:
        """A case's copies go to its readers; a hidden re-read's only to that re-read's."""
        copy_set = uow.reader_copies.set(copy_set_id)
        if copy_set is None:
            return False
        if copy_set.assignment_id is None:
            return True
        assignment = uow.assignments.get(copy_set.assignment_id)
        return assignment is not None and assignment.reader_id == reader_id
