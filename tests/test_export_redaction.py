"""Free text in a de-identified export: the trial's known identifiers (names in every form,
IDs, accession numbers, institutions) and calendar dates are replaced by [REDACTED] and counted
in the manifest (tests/test_export.py exports the demo)."""
from __future__ import annotations

from ioreview.service.exports.redaction import MARKER, Redactor, name_forms


def test_names_ids_and_dates_in_common_forms_are_replaced():
    r = Redactor(["Zhang^Wei=张^伟", "O'Neil^Mary^Ann"], ["MRN-88231", "ACC99123",
                                                          "Saint Elsewhere Hospital"])
    assert {"Zhang^Wei", "Wei Zhang", "Zhang, Wei", "张伟", "张^伟"} <= name_forms("Zhang^Wei=张^伟")
    text = ("Called Wei Zhang (MRN-88231, acc ACC99123) at saint elsewhere hospital on "
            "2024-05-17; ZHANG^WEI seen 17/05/2024, 5/17/2024, 17 May 2024, May 17, 2024, "
            "20240517 and 2024年5月17日; 张伟 and Mary O'Neil agreed.")
    out = r(text, "t.c")
    for secret in ("Zhang", "ZHANG", "Wei", "MRN-88231", "ACC99123", "elsewhere", "2024",
                   "17 May", "张伟", "O'Neil", "Mary"):
        assert secret not in out, (secret, out)
    assert out.count(MARKER) == r.count == r.by_column["t.c"] >= 14
    # words that merely contain a name component, and numbers that are not dates, stay
    assert r("Weight 70 kg, volume 12.5 mL, 3 of 4 readers", "x") == \
        "Weight 70 kg, volume 12.5 mL, 3 of 4 readers"
