"""Why a statistic is undefined, as a code with parameters (the UI says it in its language)
while the English message stays what the command line and the exports show."""
from __future__ import annotations

import pytest

from adjudication import agreement as stats


def test_too_few_subjects_carries_its_code_and_parameters() -> None:
    with pytest.raises(stats.TooFewSubjects) as caught:
        stats.cohen_kappa(["present"], ["absent"])
    exc = caught.value
    assert str(exc) == ("Cohen's kappa needs at least 2 subject(s) with complete ratings; got 1")
    assert exc.reason == stats.AgreementReason(
        "too_few_subjects", {"what": "Cohen's kappa", "minimum": "2", "n": "1"})


def test_a_missing_rating_is_counted_in_the_reason() -> None:
    with pytest.raises(stats.TooFewSubjects) as caught:
        stats.cohen_kappa(["present", None], ["absent", "absent"])
    assert caught.value.reason is not None
    assert caught.value.reason.code == "too_few_subjects_dropped"
    assert caught.value.reason.params["dropped"] == "1"


def test_one_category_and_constant_measurements() -> None:
    with pytest.raises(stats.UndefinedStatistic) as caught:
        stats.cohen_kappa(["absent"] * 5, ["absent"] * 5)
    assert caught.value.reason is not None
    assert caught.value.reason == stats.AgreementReason(
        "single_label", {"what": "Cohen's kappa", "used": "('absent',)", "n": "5"})
    assert "chance agreement 1" in str(caught.value)
    with pytest.raises(stats.UndefinedStatistic) as caught:
        stats.icc([[2.0, 2.0], [2.0, 2.0], [2.0, 2.0]])
    assert caught.value.reason is not None and caught.value.reason.code == "no_variance"
    with pytest.raises(stats.TooFewSubjects) as caught:
        stats.bland_altman([1.0, None], [2.0, 3.0])
    assert caught.value.reason == stats.AgreementReason(
        "too_few_pairs", {"what": "Bland-Altman limits of agreement", "n": "1", "dropped": "1"})


@pytest.mark.parametrize("code", sorted(stats.REASON_MESSAGES))
def test_every_message_reads_back_into_its_code(code: str) -> None:
    template = stats.REASON_MESSAGES[code]
    params = {name: f"<{name} 1>" for name in
              __import__("re").findall(r"\{(\w+)\}", template)}
    message = template.format(**params)
    assert stats.explain(message) == stats.AgreementReason(code, params)


def test_other_messages_have_no_code() -> None:
    assert stats.explain("weights must be None, 'linear' or 'quadratic', got 'cubic'") is None
    with pytest.raises(stats.InvalidOption) as caught:
        stats.cohen_kappa(["a", "b"], ["a", "b"], weights="cubic")  # type: ignore[arg-type]
    assert caught.value.reason is None
