"""The trial report (HTML + PDF): every section from real figures, key images rendered from a
generated CT with the readers' shapes burned in, byte-identical HTML across runs, and a Chinese
report whose first PDF page is rasterised with pdftoppm (no Qt)."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from adjudication.paradigms import CaseAtTimepoint, final_outcome, subject_endpoints
from adjudication.protocol import load_default_protocol
from adjudication.reliability import trial_agreement
from ioreview.imaging.synthetic import write_ct_series
from ioreview.service.exports.report import KeyImage, ReportData, render_html, write_report
from ioreview.service.values import SubjectOutcomeView
from test_agreement_report import _synthetic

P = load_default_protocol()
SUBJECTS = 8


@pytest.fixture(scope="module")
def ct_file(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("ct")
    return write_ct_series(out, n_slices=1, shape=(128, 128), seed=3)[0]


@pytest.fixture(scope="module")
def material():
    """Agreement figures and per-subject outcomes from the same synthetic reads."""
    reads, discordances, adjudications = _synthetic(seed=5, subjects=SUBJECTS)
    report = trial_agreement(P, reads, discordances, adjudications)
    by_case: dict[int, list] = {}
    for r in reads:
        by_case.setdefault(r.case_id, []).append(r)
    days = {"baseline": -1, "post-insertion": 0, "post-removal": 2, "follow-up": 14}
    per_subject: dict[str, list[CaseAtTimepoint]] = {}
    for case_id, rs in sorted(by_case.items()):
        # the first reader's values stand where the two disagree (the adjudicator sided with A)
        outcome = final_outcome(P, [rs[0].values, rs[0].values], {})
        if rs[0].subject == "S1" and rs[0].timepoint == "follow-up":
            outcome = None  # one case still pending
        per_subject.setdefault(rs[0].subject, []).append(
            CaseAtTimepoint(f"C{case_id}", rs[0].timepoint, days[rs[0].timepoint], outcome))
    subjects = [SubjectOutcomeView(s, subject_endpoints(P, cases))
                for s, cases in per_subject.items()]
    return report, subjects


def _data(material, ct_file: Path, language: str = "en") -> ReportData:
    report, subjects = material
    locale = None if language == "en" else language
    labels = {f.id: f.label_in(locale) for f in P.findings}
    if locale:
        labels.update({key: P.label_for(key, locale) for key, _f, _x in P.iter_fields()})
    zh = language == "zh_CN"
    shapes = (
        ("A", "ellipse", ((40.0, 40.0), (70.0, 80.0)), labels["extravasation"]),
        ("B", "arrow", ((60.0, 60.0), (20.0, 100.0)), labels["haematoma"]),
        ("B", "length", ((90.0, 20.0), (90.0, 70.0)), "3.1 cm"),
        ("A", "polygon", ((10.0, 10.0), (10.0, 30.0), (30.0, 20.0)), ""),
        ("A", "point", ((100.0, 100.0),), "x"),
    )
    return ReportData(
        title="骨内通路并发症阅片报告" if zh else "IO complication read: trial report",
        generated=("导出（审计链头 abc123…）" if zh else "export of the demo trial (audit head abc123…)"),
        summary=((("受试者" if zh else "Subjects"), str(SUBJECTS)),
                 (("阅片方式" if zh else "Paradigm"), "2+1")),
        agreement=report,
        adjudication=((("待仲裁" if zh else "Pending"), "3"), (("已裁决" if zh else "Decided"), "9")),
        subjects=subjects,
        finding_labels=labels,
        key_images=(KeyImage(str(ct_file), 0, "S1 post-insertion CT <axial>", shapes),),
        language=language,
        value_labels={"post-insertion": "置入后"} if zh else {},
    )


def _pdf_pages(pdf: Path) -> int:
    """Page count with pypdf when installed, else poppler's pdfinfo."""
    assert pdf.read_bytes().startswith(b"%PDF")
    try:
        from pypdf import PdfReader
    except ImportError:
        if shutil.which("pdfinfo") is None:
            pytest.skip("neither pypdf nor pdfinfo (poppler-utils) is installed")
        out = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True,
                             text=True).stdout
        return int(re.search(r"^Pages:\s+(\d+)", out, re.M).group(1))
    return len(PdfReader(str(pdf)).pages)


def _first_page_png(pdf: Path, out: Path) -> Path:
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) is not installed")
    subprocess.run(["pdftoppm", "-r", "60", "-png", "-f", "1", "-l", "1", str(pdf),
                    str(out / "page")], check=True, capture_output=True)
    pngs = sorted(out.glob("page*.png"))
    assert pngs and pngs[0].stat().st_size > 1000
    return pngs[0]


def test_english_report_has_every_section_and_is_reproducible(material, ct_file, tmp_path):
    data = _data(material, ct_file)
    written = write_report(data, tmp_path / "one")
    html_path, pdf_path = written
    assert [p.name for p in written] == ["report.html", "report.pdf"]
    html = html_path.read_text(encoding="utf-8")
    for heading in ("Trial summary", "Inter-reader agreement", "Agreement per field",
                    "Forest plot", "Not estimable on these data", "Adjudication",
                    "Per-subject outcomes", "Key images", "Reader monitoring"):
        assert heading in html
    for f in P.findings:
        assert f.label_in(None) in html
    assert "Subjects" in html and "Pending" in html
    assert "&lt;axial&gt;" in html and "<axial>" not in html  # autoescaped
    assert html.count("data:image/png;base64,") == 2  # the forest plot and the key image
    assert "S1" in html and "pending" in html  # a subject with a case still open
    # presence findings lead the agreement table
    table = html.split('<table class="agreement">', 1)[1].split("</table>", 1)[0]
    first_row = table.split("<tbody>", 1)[1].split("</tr>", 1)[0]
    assert 'class="presence"' in first_row
    assert "not computed" not in html
    assert _pdf_pages(pdf_path) >= 2
    _first_page_png(pdf_path, tmp_path)

    # a second run on the same data writes the same HTML, byte for byte
    again = write_report(data, tmp_path / "two", pdf=False)
    assert [p.name for p in again] == ["report.html"]
    assert again[0].read_bytes() == html_path.read_bytes()


def test_chinese_report_renders_cjk(material, ct_file, tmp_path):
    data = _data(material, ct_file, "zh_CN")
    html_path, pdf_path = write_report(data, tmp_path)
    html = html_path.read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in html
    for heading in ("试验概况", "阅片者间一致性", "森林图", "仲裁", "受试者结局", "关键图像"):
        assert heading in html
    assert "外渗/筋膜室受累: 是否存在" in html and "置入后" in html
    assert _pdf_pages(pdf_path) >= 2
    png = _first_page_png(pdf_path, tmp_path)
    assert png.name.endswith(".png")


def test_unknown_language_and_shape_are_refused(material, ct_file, tmp_path):
    from dataclasses import replace

    data = _data(material, ct_file)
    with pytest.raises(ValueError, match="language"):
        write_report(replace(data, language="fr"), tmp_path)
    bad = replace(data, key_images=(KeyImage(str(ct_file), 0, "x",
                                             (("A", "blob", ((1.0, 1.0),), ""),)),))
    with pytest.raises(ValueError, match="blob"):
        render_html(bad)
