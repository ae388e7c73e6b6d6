"""De-identified reader copies and the coordinator's review of burned-in text.

Readers are handed copies, never originals (which stay with the coordinator): every file made
under the one de-identification policy (`ioreview.imaging.deid.reader_copy_dataset`: PS3.15
Basic Profile, patient characteristics kept, dates shifted so that the subject's insertion day
is `DAY_ZERO`, descriptors cleaned, Patient ID and Name the label the reader sees) and stored
under the hash of its own bytes in `<archive>/readers/`.

Copies come in copy sets, each with its own secret UID salt: a case's set (made when its
series join the case) serves its primary and third reads and shows it as a prior; a hidden
re-read gets a set of its own, with the case and its priors under other Study, Series, SOP
Instance and Frame of Reference UIDs, other paths and other bytes, made on the re-read's first
opening.  `reader_copy` rows map each copy to its original.

Reads store the ORIGINAL SOP Instance UIDs (one UID space for reads, adjudication, the
committee, exports and DICOM SR): a reader's annotations and key images arrive on copy UIDs
and are mapped to originals before they are checked and stored (`to_original_uids`), and go
back out on the copy UIDs of the set the reader is looking at (`to_copy_uids`).

Burned-in text: a series whose pixels may carry text (`imaging.burned_in.burned_in_reason`) is
flagged when first looked at; until the coordinator masks rectangles (applied to every frame of
every copy) or confirms the pixels clean, no copy of it is made and readers cannot open the
cases that need it (`ImagesWithheld`).  Masks and decisions are recorded and audited.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

from adjudication.protocol import Protocol
from ioreview.errors import InvalidInput, IoreviewError, NotFound
from ioreview.imaging.burned_in import (burned_in_reason, clean_rectangles, frame_for_display,
                                        series_text_facts, MaskRectangle)
from ioreview.imaging.decode import read_frames
from ioreview.imaging.deid import blind_header
from ioreview.imaging.header import InstanceHeader
from ioreview.importing import ArchiveError, ReaderCopyFile, archive_reader_copy
from ioreview.store import UnitOfWork, dicom_index
from ioreview.store.records import AssignmentRecord, CaseRecord
from ioreview.store.repositories import (BurnedInReviewRecord, ReaderCopyRecord,
                                         ReaderCopySetRecord)

from .context import ADMINS, ServiceContext
from .values import (Annotation, BurnedInPreview, BurnedInSeries, KeyImage, PriorView,
                     SeriesView, Session)

__all__ = ["DAY_ZERO", "ImagesWithheld", "ReaderCopies", "case_copy_views", "copy_case_series",
           "copy_reread_series", "existing_case_copy_views", "pixel_release",
           "reader_case_views", "to_copy_uids", "to_original_uids"]

#: The day a subject's insertion falls on in reader copies (dates keep their distance to it).
DAY_ZERO = date(2000, 1, 1)
#: burned_in_review statuses
NOT_FLAGGED, FLAGGED, MASKED, CLEAN = "not_flagged", "flagged", "masked", "clean"
_TUPLE_FIELDS = ("pixel_spacing", "imager_pixel_spacing", "image_position",
                 "image_orientation", "window_center", "window_width")


class ImagesWithheld(IoreviewError):
    """Images a reader needs are withheld until the coordinator has checked them."""


# -- helpers ------------------------------------------------------------------------------------
def _uid_map(salt: str) -> Callable[[str], str]:
    """A UID map under a set's secret salt: the same original gives the same copy UID within a
    set and unrelated UIDs across sets (2.25 UUID-derived form, PS3.5 B.2)."""
    key = salt.encode()

    def mapped(uid: str) -> str:
        digest = hmac.new(key, uid.encode(), hashlib.sha256).digest()[:16]
        return f"2.25.{int.from_bytes(digest, 'big')}"
    return mapped


def _header_of(copy: ReaderCopyRecord) -> InstanceHeader:
    values = dict(copy.header)
    for name in _TUPLE_FIELDS:
        if isinstance(values.get(name), list):
            values[name] = tuple(values[name])
    known = set(InstanceHeader.field_names())
    return InstanceHeader(**{k: v for k, v in values.items() if k in known})


def _date_offset(uow: UnitOfWork, case: CaseRecord, headers: Sequence[InstanceHeader]
                 ) -> int | None:
    """Days to add to the case's calendar dates so that the insertion day is DAY_ZERO; None
    (dates removed) when the case has no days from insertion or no study date."""
    if case.days_from_insertion is None:
        return None
    for h in headers:
        text = (h.study_date or h.series_date or h.content_date or "").strip()
        if len(text) >= 8 and text[:8].isdigit():
            try:
                study_day = date(int(text[:4]), int(text[4:6]), int(text[6:8]))
            except ValueError:
                continue
            insertion = study_day - timedelta(days=case.days_from_insertion)
            return (DAY_ZERO - insertion).days
    return None


def review_series(ctx: ServiceContext, uow: UnitOfWork, series_pks: Iterable[int]
                  ) -> dict[int, BurnedInReviewRecord]:
    """The burned-in text review of each series, evaluated (and recorded) when first seen."""
    pks = list(dict.fromkeys(int(pk) for pk in series_pks))
    found = {r.series_pk: r for r in uow.reader_copies.reviews(pks)}
    todo = [pk for pk in pks if pk not in found]
    if todo:
        headers_of = dicom_index.series_headers_of(uow, todo)
        for pk in todo:
            facts = series_text_facts([h.path for h in headers_of[pk]])
            reason = burned_in_reason(**facts) if facts else ""
            status = FLAGGED if reason else NOT_FLAGGED
            uow.reader_copies.add_review(pk, reason, status, ctx.now_iso())
            if reason:
                uow.audit("flag_burned_in_text", "series", pk, after={"reason": reason})
            review = uow.reader_copies.review(pk)
            assert review is not None
            found[pk] = review
    return found


def pixel_release(uow: UnitOfWork, series_pks: Iterable[int]
                  ) -> dict[int, tuple[tuple[MaskRectangle, ...], bool] | None]:
    """For pixels that leave the tool (exported images): per series, the mask rectangles to
    apply and whether the coordinator found the pixels clean, or None for a series withheld
    (flagged and undecided, or never reviewed and flagged now).  Reads only: nothing is
    recorded, so a read-only export can ask."""
    pks = list(dict.fromkeys(int(pk) for pk in series_pks))
    found = {r.series_pk: r for r in uow.reader_copies.reviews(pks)}
    todo = [pk for pk in pks if pk not in found]
    headers_of = dicom_index.series_headers_of(uow, todo) if todo else {}
    out: dict[int, tuple[tuple[MaskRectangle, ...], bool] | None] = {}
    for pk in pks:
        review = found.get(pk)
        if review is None:
            facts = series_text_facts([h.path for h in headers_of.get(pk, [])])
            out[pk] = None if (facts and burned_in_reason(**facts)) else ((), False)
        elif review.status == FLAGGED:
            out[pk] = None
        else:
            mask = uow.reader_copies.mask(review.mask_id) if review.status == MASKED else None
            out[pk] = (tuple(MaskRectangle(*r) for r in mask.rectangles) if mask else (),
                       review.status in (MASKED, CLEAN))
    return out


def _set_for(ctx: ServiceContext, uow: UnitOfWork, case: CaseRecord,
             assignment: AssignmentRecord | None) -> ReaderCopySetRecord:
    """The copy set of a case (assignment None) or of a hidden re-read, made when missing."""
    existing = (uow.reader_copies.assignment_set(assignment.id) if assignment is not None
                else uow.reader_copies.case_set(case.id))
    if existing is not None:
        return existing
    headers = next(iter(dicom_index.series_headers_of(
        uow, uow.cases.series_pks(case.id)[:1]).values()), [])
    label = assignment.display_label if assignment is not None else case.label
    set_id = uow.reader_copies.add_set(case.id, assignment.id if assignment else None, label,
                                       _date_offset(uow, case, headers),
                                       secrets.token_hex(16), ctx.now_iso())
    uow.audit("create", "reader_copy_set", set_id,
              after={"case": case.id, "assignment": assignment.id if assignment else None})
    made = (uow.reader_copies.assignment_set(assignment.id) if assignment is not None
            else uow.reader_copies.case_set(case.id))
    assert made is not None
    return made


def _make_copies(ctx: ServiceContext, uow: UnitOfWork, copy_set: ReaderCopySetRecord,
                 case: CaseRecord, series_pks: Sequence[int]) -> list[int]:
    """Copy the series of `case` (the set's case or one of its priors) into the set, those
    the review lets through; returns the series still withheld (flagged, undecided)."""
    reviews = review_series(ctx, uow, series_pks)
    have = uow.reader_copies.copied_series(copy_set.id)
    withheld = [pk for pk in series_pks if reviews[pk].status == FLAGGED]
    todo = [pk for pk in series_pks if pk not in have and reviews[pk].status != FLAGGED]
    if not todo:
        return withheld
    headers_of = dicom_index.series_headers_of(uow, todo)
    offset = copy_set.date_offset_days
    if case.id != copy_set.case_id:  # a prior: its own distance to the subject's insertion
        offset = _date_offset(uow, case, [h for pk in todo for h in headers_of[pk]])
    uid_map = _uid_map(copy_set.uid_salt)
    n = 0
    for pk in todo:
        review = reviews[pk]
        mask = uow.reader_copies.mask(review.mask_id) if review.status == MASKED else None
        rectangles = tuple(MaskRectangle(*r) for r in mask.rectangles) if mask else ()
        for h in headers_of[pk]:
            location = uow.dicom.instance_location(h.sop_instance_uid)
            assert location is not None
            if not Path(h.path).is_file():
                # indexed without a file (moved away, or an index built without files): a
                # copy of the header alone, with the copy's UIDs and no path to hand out
                made = _header_only_copy(h, uid_map)
            else:
                made = _file_copy(ctx, h, uid_map, offset, copy_set.patient_label,
                                  rectangles, review.status in (MASKED, CLEAN), pk)
            uow.reader_copies.add_copy(copy_set.id, pk, location.id,
                                       made.header.sop_instance_uid, made.path, made.sha256,
                                       mask.id if mask else None, made.header.to_dict(),
                                       made.replaced_uids, ctx.now_iso())
            n += 1
    uow.audit("copy", "reader_copy_set", copy_set.id,
              after={"case": case.id, "series": todo, "files": n})
    return withheld


def _file_copy(ctx: ServiceContext, h: InstanceHeader, uid_map: Callable[[str], str],
               offset: int | None, label: str, rectangles: Sequence[MaskRectangle],
               checked: bool, series_pk: int) -> ReaderCopyFile:
    try:
        return archive_reader_copy(h.path, ctx.archive_root, uid_map=uid_map,
                                   date_offset_days=offset, patient_label=label,
                                   rectangles=rectangles, pixels_checked=checked)
    except ArchiveError as exc:
        raise InvalidInput(f"The reader copy of series {series_pk} cannot be made: {exc}"
                           ) from exc


def _header_only_copy(h: InstanceHeader, uid_map: Callable[[str], str]) -> ReaderCopyFile:
    replaced = {u: uid_map(u) for u in (h.sop_instance_uid, h.study_instance_uid,
                                        h.series_instance_uid, h.frame_of_reference_uid) if u}
    header = replace(blind_header(h), path="", sha256="", file_size=None,
                     pixel_data_offset=None, pixel_data_length=None,
                     **{name: replaced.get(getattr(h, name), "") for name in (
                         "sop_instance_uid", "study_instance_uid", "series_instance_uid",
                         "frame_of_reference_uid")})
    return ReaderCopyFile("", "", header, replaced)


def copy_case_series(ctx: ServiceContext, uow: UnitOfWork, case_id: int) -> list[int]:
    """When series join a case: review them for burned-in text and make the case's copies of
    those that may go to readers.  Returns the series withheld for the coordinator's check."""
    case = uow.cases.get(case_id)
    assert case is not None
    copy_set = _set_for(ctx, uow, case, None)
    return _make_copies(ctx, uow, copy_set, case, uow.cases.series_pks(case.id))


def _withheld_message(label: str, n: int, *, reader: bool = True) -> str:
    return (f"Case {label} cannot be opened yet: {n} of its series may show text burned into "
            "the images (such as a name or a date) and wait for the coordinator to mask it or "
            "confirm the images are clean. "
            + ("It stays in your worklist; open another case meanwhile." if reader else
               "Ask the coordinator to review it in the Burned-in text tab."))


def reader_case_views(ctx: ServiceContext, uow: UnitOfWork, case: CaseRecord,
                      assignment: AssignmentRecord, priors: Sequence[CaseRecord]
                      ) -> tuple[tuple[SeriesView, ...], tuple[PriorView, ...], list[int]]:
    """The series and priors of an assignment as its reader sees them: headers of the
    de-identified copies (paths, UIDs and offsets of the copies, identifying fields blank),
    made first where missing; and the copy sets used, nearest first (for `to_copy_uids`).
    Raises ImagesWithheld when a series the reader needs waits for the coordinator."""
    own = _set_for(ctx, uow, case, assignment if assignment.is_reread else None)
    withheld = _make_copies(ctx, uow, own, case, uow.cases.series_pks(case.id))
    prior_sets: list[tuple[CaseRecord, ReaderCopySetRecord]] = []
    for prior in priors:
        prior_set = own if assignment.is_reread else _set_for(ctx, uow, prior, None)
        withheld += _make_copies(ctx, uow, prior_set, prior, uow.cases.series_pks(prior.id))
        prior_sets.append((prior, prior_set))
    if withheld:
        raise ImagesWithheld(_withheld_message(assignment.display_label, len(withheld)))
    series = _views(uow, own, uow.cases.series_pks(case.id))
    prior_views = tuple(
        PriorView(f"Prior: {p.timepoint}, day {p.days_from_insertion}", p.timepoint,
                  p.days_from_insertion, _views(uow, s, uow.cases.series_pks(p.id)))
        for p, s in prior_sets)
    set_ids = list(dict.fromkeys([own.id, *(s.id for _p, s in prior_sets)]))
    return series, prior_views, set_ids


def case_copy_views(ctx: ServiceContext, uow: UnitOfWork, case: CaseRecord
                    ) -> tuple[tuple[SeriesView, ...], list[int]]:
    """The case's own de-identified copies (its primary copy set) for the adjudicator and the
    committee, and the set to pass to `to_copy_uids` for the readers' annotations (stored on
    original UIDs); copies missing are made first (a write transaction).  Raises
    ImagesWithheld while a series waits for the coordinator."""
    ready = existing_case_copy_views(uow, case)
    if ready is not None:
        return ready
    own = _set_for(ctx, uow, case, None)
    withheld = _make_copies(ctx, uow, own, case, uow.cases.series_pks(case.id))
    if withheld:
        raise ImagesWithheld(_withheld_message(case.label, len(withheld), reader=False))
    return _views(uow, own, uow.cases.series_pks(case.id)), [own.id]


def existing_case_copy_views(uow: UnitOfWork, case: CaseRecord
                             ) -> tuple[tuple[SeriesView, ...], list[int]] | None:
    """`case_copy_views` without writing: None when the case's copy set lacks a series (made
    when the case was built, so only a case built before copies existed, or one whose
    burned-in text review is pending, lacks one)."""
    own = uow.reader_copies.case_set(case.id)
    pks = uow.cases.series_pks(case.id)
    if own is None or not set(pks) <= uow.reader_copies.copied_series(own.id):
        return None
    return _views(uow, own, pks), [own.id]


def copy_reread_series(ctx: ServiceContext, uow: UnitOfWork,
                       rereads: Sequence[tuple[AssignmentRecord, CaseRecord,
                                               Sequence[CaseRecord]]]) -> None:
    """When hidden re-reads are assigned: make each re-read's own copy set (the case and the
    priors it shows), so that its first opening writes nothing.  Series waiting for the
    coordinator's burned-in text review are left out; the opening makes them once decided."""
    for assignment, case, priors in rereads:
        own = _set_for(ctx, uow, case, assignment)
        _make_copies(ctx, uow, own, case, uow.cases.series_pks(case.id))
        for prior in priors:
            _make_copies(ctx, uow, own, prior, uow.cases.series_pks(prior.id))


def _views(uow: UnitOfWork, copy_set: ReaderCopySetRecord, series_pks: Sequence[int]
           ) -> tuple[SeriesView, ...]:
    by_series: dict[int, list[InstanceHeader]] = {pk: [] for pk in series_pks}
    for copy in uow.reader_copies.copies(copy_set.id, series_pks):
        by_series[copy.series_pk].append(blind_header(_header_of(copy)))
    views = []
    for row in uow.dicom.series_summaries(series_pks):
        headers = tuple(by_series[row.id])
        first = headers[0] if headers else None
        views.append(SeriesView(row.id, (first.modality if first else row.modality) or "",
                                (first.series_description if first else "") or "",
                                len(headers), sum(h.number_of_frames for h in headers),
                                headers))
    return tuple(views)


def to_original_uids(uow: UnitOfWork, annotations: Sequence[Annotation] | None,
                     key_images: Sequence[KeyImage] | None
                     ) -> tuple[list[Annotation] | None, list[KeyImage] | None]:
    """Annotations and key images on copy UIDs, moved to the original UIDs reads store
    (UIDs that are not copies are left as they are, for the caller's checks to judge)."""
    uids = [a.sop_instance_uid for a in annotations or () if isinstance(a, Annotation)]
    uids += [k.sop_instance_uid for k in key_images or () if isinstance(k, KeyImage)]
    original = uow.reader_copies.original_uids(uids)
    out_a = None if annotations is None else [
        replace(a, sop_instance_uid=original.get(a.sop_instance_uid, a.sop_instance_uid))
        if isinstance(a, Annotation) else a for a in annotations]
    out_k = None if key_images is None else [
        replace(k, sop_instance_uid=original.get(k.sop_instance_uid, k.sop_instance_uid))
        if isinstance(k, KeyImage) else k for k in key_images]
    return out_a, out_k


def to_copy_uids(uow: UnitOfWork, set_ids: Sequence[int], annotations: Sequence[Annotation],
                 key_images: Sequence[KeyImage]) -> tuple[tuple[Annotation, ...],
                                                        tuple[KeyImage, ...]]:
    """Stored annotations and key images (original UIDs) on the copy UIDs of `set_ids`."""
    uids = [a.sop_instance_uid for a in annotations] + [k.sop_instance_uid for k in key_images]
    copy = uow.reader_copies.copy_uids(list(set_ids), uids)
    return (tuple(replace(a, sop_instance_uid=copy.get(a.sop_instance_uid, ""))
                  for a in annotations),
            tuple(replace(k, sop_instance_uid=copy.get(k.sop_instance_uid, ""))
                  for k in key_images))


def reader_copy_sets(ctx: ServiceContext, uow: UnitOfWork, case: CaseRecord,
                     assignment: AssignmentRecord, priors: Sequence[CaseRecord]) -> list[int]:
    """The copy sets a reader's assignment shows, nearest first (existing ones only)."""
    if assignment.is_reread:
        own = uow.reader_copies.assignment_set(assignment.id)
        return [own.id] if own else []
    ids = []
    for c in (case, *priors):
        s = uow.reader_copies.case_set(c.id)
        if s is not None:
            ids.append(s.id)
    return ids


# -- the coordinator's use cases ------------------------------------------------------------------
class ReaderCopies:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def _series(self, uow: UnitOfWork, review: BurnedInReviewRecord) -> BurnedInSeries:
        summary = uow.dicom.series_summaries([review.series_pk])[0]
        case_id = uow.cases.series_in_cases([review.series_pk]).get(review.series_pk)
        case = uow.cases.get(case_id) if case_id is not None else None
        mask = uow.reader_copies.mask(review.mask_id)
        first = dicom_index.series_headers_of(uow, [review.series_pk])[review.series_pk][:1]
        return BurnedInSeries(
            series_pk=review.series_pk, case_label=case.label if case else "",
            modality=summary.modality or "", description=summary.series_description or "",
            n_instances=summary.n_instances, n_frames=summary.n_frames,
            rows=first[0].rows or 0 if first else 0,
            columns=first[0].columns or 0 if first else 0,
            reason=review.reason, status=review.status, decided_by=review.decided_by or "",
            decided_at=review.decided_at or "",
            rectangles=mask.rectangles if mask else ())

    def list_burned_in_series(self, session: Session, *, include_decided: bool = True
                              ) -> list[BurnedInSeries]:
        """Coordinator/admin: imported series whose pixels may carry text (Burned In
        Annotation YES, or absent on ultrasound, secondary captures and some vendors'
        radiographs), with what was decided; series not looked at yet are reviewed now."""
        with self.ctx.use_case(session, ADMINS, "review burned-in text") as (uow, _actor):
            pks = uow.reader_copies.all_series_pks()
            reviews = review_series(self.ctx, uow, pks)
            return [self._series(uow, r) for r in reviews.values()
                    if r.status == FLAGGED
                    or (include_decided and (r.reason or r.status in (MASKED, CLEAN)))]

    def burned_in_preview(self, session: Session, series_pk: int) -> BurnedInPreview:
        """Coordinator/admin: the first frame of a series' first image, as 8-bit pixels for
        drawing rectangles on (read from the original)."""
        with self.ctx.use_case(session, ADMINS, "review burned-in text",
                               write=False) as (uow, _actor):
            headers = dicom_index.series_headers_of(uow, [int(series_pk)])[int(series_pk)]
            if not headers:
                raise NotFound(f"Series {series_pk} has no images; refresh the list.")
            first = headers[0]
        try:
            frame = read_frames(first.path, [0])[0]
        except Exception as exc:  # decoders raise many kinds
            raise NotFound(f"The first image of series {series_pk} cannot be decoded ({exc}); "
                           "check the archive.") from exc
        return BurnedInPreview(int(series_pk), int(frame.shape[0]), int(frame.shape[1]),
                               frame_for_display(frame, first.photometric_interpretation))

    def mask_burned_in_text(self, session: Session, series_pk: int,
                            rectangles: Sequence[Sequence[float]]) -> BurnedInSeries:
        """Coordinator/admin: black out these rectangles (row0, col0, row1, col1 in pixels of
        the frame, ends exclusive) on every frame of every reader copy of the series; the
        copies say Burned In Annotation NO.  Recorded with who and when, and audited."""
        with self.ctx.use_case(session, ADMINS, "mask burned-in text") as (uow, actor):
            pk = int(series_pk)
            review = self._review(uow, pk)
            first = dicom_index.series_headers_of(uow, [pk])[pk][:1]
            rows = first[0].rows or 0 if first else 0
            columns = first[0].columns or 0 if first else 0
            try:
                clean = clean_rectangles(list(rectangles or ()), rows, columns)
            except ValueError as exc:
                raise InvalidInput(str(exc)) from exc
            if not clean:
                raise InvalidInput("Draw at least one rectangle to mask, or confirm the "
                                   "images clean instead.")
            at = self.ctx.now_iso()
            mask_id = uow.reader_copies.add_mask(pk, [r.as_tuple() for r in clean],
                                                 actor.audit_name, at)
            uow.reader_copies.decide(pk, MASKED, actor.audit_name, at, mask_id)
            uow.audit("mask_burned_in_text", "series", pk,
                      before={"status": review.status},
                      after={"status": MASKED, "mask": mask_id,
                             "rectangles": [list(r.as_tuple()) for r in clean]})
            old = self._remake(uow, pk)
            result = self._series(uow, uow.reader_copies.review(pk) or review)
        _remove_files(old)
        return result

    def confirm_no_burned_in_text(self, session: Session, series_pk: int) -> BurnedInSeries:
        """Coordinator/admin: confirm a flagged series' pixels carry no identifying text, so
        readers may get it unmasked (audited)."""
        with self.ctx.use_case(session, ADMINS, "confirm images clean") as (uow, actor):
            pk = int(series_pk)
            review = self._review(uow, pk)
            uow.reader_copies.decide(pk, CLEAN, actor.audit_name, self.ctx.now_iso(), None)
            uow.audit("confirm_no_burned_in_text", "series", pk,
                      before={"status": review.status}, after={"status": CLEAN})
            old = self._remake(uow, pk)
            result = self._series(uow, uow.reader_copies.review(pk) or review)
        _remove_files(old)
        return result

    def _review(self, uow: UnitOfWork, pk: int) -> BurnedInReviewRecord:
        if not uow.dicom.series_summaries([pk]):
            raise NotFound(f"Series {pk} does not exist; refresh the list.")
        return review_series(self.ctx, uow, [pk])[pk]

    def _remake(self, uow: UnitOfWork, series_pk: int) -> list[str]:
        """Make the series' copies again in every set that shows it (its case's, re-reads of
        it, and sets of later cases of the same subject showing it as a prior); returns the
        paths of the copies replaced."""
        case_id = uow.cases.series_in_cases([series_pk]).get(series_pk)
        if case_id is None:
            return []  # copies are made when the series joins a case
        case = uow.cases.get(case_id)
        assert case is not None
        later = [c.id for c in uow.cases.of_subject(case.subject)
                 if c.id != case.id and c.days_from_insertion is not None
                 and case.days_from_insertion is not None
                 and c.days_from_insertion > case.days_from_insertion]
        old: list[str] = []
        for copy_set in uow.reader_copies.sets_of_cases([case.id, *later]):
            if (copy_set.case_id == case.id
                    or series_pk in uow.reader_copies.copied_series(copy_set.id)):
                old += uow.reader_copies.remove_copies(copy_set.id, series_pk)
                _make_copies(self.ctx, uow, copy_set, case, [series_pk])
        return old


def _remove_files(paths: Iterable[str]) -> None:
    """Remove replaced copies (after the commit: their rows are gone)."""
    for p in paths:
        try:
            Path(p).unlink(missing_ok=True)
        except OSError:
            pass
