"""Cases: series of one subject at one timepoint under a pseudonymous label.

The subject and the study are identifying and stay with the coordinator; readers see only the
label, the timepoint and days from insertion.  A case's files are copied into the
content-addressed archive when the case is created (originals, for the coordinator), and
de-identified reader copies are made from them (`reader_copies`): readers never get originals.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import date, datetime

from ioreview.errors import InvalidInput, IoreviewError
from ioreview.importing import ArchiveError, archive_series
from ioreview.store import UnitOfWork
from ioreview.store.records import CaseRecord, StudyForCases

from .context import ADMINS, ServiceContext
from .reader_copies import copy_case_series
from .values import DEFAULT_TIMEPOINTS, UNSCHEDULED, CaseInfo, Session

__all__ = ["Cases", "timepoint_for_days"]

_LABEL_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

#: days between insertion and a study beyond which `build_cases_from_studies` refuses to guess
#: a timepoint: an IO cannula stays at most 96 h, and the trial's imaging spans weeks, so a
#: study a year away is another episode or a patient key shared by unrelated studies
MAX_PLAUSIBLE_DAYS = 365


def timepoint_for_days(days: int | None, labels: Sequence[str] = DEFAULT_TIMEPOINTS) -> str:
    """The timepoint label for a study `days` after insertion: < 0 baseline, 0-1
    post-insertion, 2-7 post-removal, > 7 follow-up (the n-th protocol label, the last when
    the protocol has fewer); "unscheduled" without a date."""
    if days is None or not labels:
        return UNSCHEDULED
    index = 0 if days < 0 else 1 if days <= 1 else 2 if days <= 7 else 3
    return labels[min(index, len(labels) - 1)]


def parse_date(text: str | None) -> date | None:
    """A DICOM DA ("20260314") or ISO ("2026-03-14") date; None when empty or unreadable."""
    if not text:
        return None
    text = str(text).strip()
    for fmt in ("%Y%m%d", "%Y-%m-%d"):
        try:
            return datetime.strptime(text[:10] if "-" in text else text[:8], fmt).date()
        except ValueError:
            continue
    return None


def case_info(row: CaseRecord) -> CaseInfo:
    return CaseInfo(row.id, row.label, row.subject, row.timepoint, row.days_from_insertion,
                    row.n_series)


def new_label(ctx: ServiceContext, uow: UnitOfWork) -> str:
    """A fresh pseudonymous label ("CASE-" and 4, later 6, random characters)."""
    length = 4
    for attempt in range(200):
        if attempt == 100:
            length = 6
        label = "CASE-" + "".join(ctx.label_random.choice(_LABEL_ALPHABET)
                                  for _ in range(length))
        if not uow.cases.label_taken(label):
            return label
    raise IoreviewError("Could not draw a free case label; try again.")


class Cases:
    def __init__(self, ctx: ServiceContext) -> None:
        self.ctx = ctx

    def _create_case(self, uow: UnitOfWork, subject: str, timepoint: str,
                     days_from_insertion: int | None, series_pks: Sequence[int]) -> CaseInfo:
        subject = (subject or "").strip()
        timepoint = (timepoint or "").strip()
        if not subject:
            raise InvalidInput("A case needs a subject (the patient it belongs to).")
        if not timepoint:
            raise InvalidInput("A case needs a timepoint label (e.g. post-insertion).")
        if days_from_insertion is not None and (
                isinstance(days_from_insertion, bool) or not isinstance(days_from_insertion, int)):
            raise InvalidInput(f"Days from insertion must be a whole number, not "
                               f"{days_from_insertion!r}.")
        pks = list(dict.fromkeys(int(pk) for pk in series_pks))
        if not pks:
            raise InvalidInput("A case needs at least one series.")
        found = uow.dicom.series_summaries(pks)
        missing = sorted(set(pks) - {r.id for r in found})
        if missing:
            raise InvalidInput(f"Series {', '.join(map(str, missing))} do not exist; "
                               "refresh the study list.")
        taken = uow.cases.series_in_cases(pks)
        if taken:
            pk, case_id = next(iter(taken.items()))
            case = uow.cases.get(case_id)
            label = case.label if case else case_id
            raise InvalidInput(f"Series {pk} already belongs to case {label}; a series "
                               "can be in one case only.")
        studies = {r.study_pk for r in found}
        study_pk = studies.pop() if len(studies) == 1 else None
        try:
            archive_series(uow, pks, self.ctx.archive_root)
        except ArchiveError as exc:
            raise InvalidInput(str(exc)) from exc
        label = new_label(self.ctx, uow)
        case_id = uow.cases.add(label, subject, timepoint, days_from_insertion, study_pk,
                                self.ctx.now_iso(), pks)
        uow.audit("create", "case", case_id,
                  after={"label": label, "subject": subject, "timepoint": timepoint,
                         "days_from_insertion": days_from_insertion, "series": pks})
        # readers get de-identified copies; series that may show burned-in text wait for
        # the coordinator (reader_copies)
        copy_case_series(self.ctx, uow, case_id)
        created = uow.cases.get(case_id)
        assert created is not None
        return case_info(created)

    def create_case(self, session: Session, subject: str, timepoint: str,
                    days_from_insertion: int | None, series_pks: Sequence[int]) -> CaseInfo:
        """Coordinator/admin: group series into a case with a new pseudonymous label
        ("CASE-" and 4 random characters); a series can be in one case only."""
        with self.ctx.use_case(session, ADMINS, "create cases") as (uow, _actor):
            return self._create_case(uow, subject, timepoint, days_from_insertion, series_pks)

    def build_cases_from_studies(self, session: Session,
                                 insertion_dates: Mapping[str, str] | None = None
                                 ) -> list[CaseInfo]:
        """Coordinator/admin: one case per (patient, study) not yet in a case.  Days count
        from the subject's insertion date (`insertion_dates` keyed by patient ID or patient
        key, as YYYYMMDD or YYYY-MM-DD; else the subject's earliest study); the timepoint
        label follows from the days (see `timepoint_for_days`)."""
        with self.ctx.use_case(session, ADMINS, "build cases") as (uow, _actor):
            for subject, text in (insertion_dates or {}).items():
                if parse_date(text) is None:
                    raise InvalidInput(f"Insertion date {text!r} for subject {subject} is not a "
                                       "date; use YYYY-MM-DD.")
            # The timepoint labels come from the protocol: without one, say so rather than
            # label cases with defaults nobody chose.
            labels = self.ctx.require_active(uow)[1].timepoints
            by_subject: dict[str, list[StudyForCases]] = defaultdict(list)
            for row in uow.cases.studies_for_cases():
                by_subject[row.patient_key].append(row)
            self._refuse_implausible_days(by_subject, insertion_dates or {})
            created: list[CaseInfo] = []
            for key, studies in by_subject.items():
                insertion = self._insertion_date(key, studies, insertion_dates or {})
                subject = studies[0].patient_id or key
                for study in studies:
                    if study.in_case:
                        continue
                    series = uow.dicom.study_series_pks(study.study_pk)
                    if not series:
                        continue
                    day = parse_date(study.study_date)
                    days = (day - insertion).days if day and insertion else None
                    created.append(self._create_case(uow, subject,
                                                     timepoint_for_days(days, labels),
                                                     days, series))
            return created

    @classmethod
    def _refuse_implausible_days(cls, by_subject: Mapping[str, Sequence[StudyForCases]],
                                 given: Mapping[str, str]) -> None:
        """InvalidInput naming every subject whose new studies lie more than
        `MAX_PLAUSIBLE_DAYS` from the insertion date (given, or the subject's earliest study):
        such an offset is not a timepoint of this trial but studies that do not belong
        together, so no case is built until the coordinator says which is which."""
        problems: list[str] = []
        for key, studies in by_subject.items():
            insertion = cls._insertion_date(key, studies, given)
            if insertion is None:
                continue
            source = ("given insertion date" if given.get(key) or (
                studies[0].patient_id and given.get(studies[0].patient_id))
                else "earliest study, taken as the insertion date")
            for study in studies:
                day = parse_date(study.study_date)
                if study.in_case or day is None:
                    continue
                days = (day - insertion).days
                if abs(days) > MAX_PLAUSIBLE_DAYS:
                    problems.append(
                        f"subject {studies[0].patient_id or key or '(no patient ID)'}: study of "
                        f"{day.isoformat()} is {days:+d} days from {insertion.isoformat()} "
                        f"({source})")
        if problems:
            listed = list(dict.fromkeys(problems))  # several studies of one day: one line
            shown = "; ".join(listed[:5]) + (
                f"; and {len(listed) - 5} more" if len(listed) > 5 else "")
            raise InvalidInput(
                f"No cases built: {len(problems)} stud{'y lies' if len(problems) == 1 else 'ies lie'}"
                f" more than {MAX_PLAUSIBLE_DAYS} days from the subject's insertion, which is no "
                f"timepoint of this trial ({shown}). Check that these studies belong to the "
                "subject (their Patient ID), then make those cases by hand in the coordinator "
                "window's Cases tab ('New case from selected study...'), where you set the "
                "timepoint and the day.")

    @staticmethod
    def _insertion_date(key: str, studies: Sequence[StudyForCases],
                        given: Mapping[str, str]) -> date | None:
        patient_id = studies[0].patient_id
        text = given.get(key) or (given.get(patient_id) if patient_id else None)
        if text:
            parsed = parse_date(text)
            if parsed is None:
                raise InvalidInput(f"Insertion date {text!r} for subject {patient_id or key} is "
                                   "not a date; use YYYY-MM-DD.")
            return parsed
        dates = [d for d in (parse_date(s.study_date) for s in studies) if d]
        return min(dates) if dates else None

    def list_cases(self, session: Session) -> list[CaseInfo]:
        """Coordinator/admin: all cases, by subject and time."""
        with self.ctx.use_case(session, ADMINS, "list cases", write=False) as (uow, _actor):
            return [case_info(r) for r in uow.cases.list()]
