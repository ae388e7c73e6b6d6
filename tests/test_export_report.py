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


@pytest.fixture(scope="module")
def edge_agreement():
    """Figures with every part of the method paragraph: six hidden re-reads signed 30 days
    after their first reads, and a finding every reader called absent (kappa not estimable,
    the kappa paradox flagged)."""
    from dataclasses import replace

    reads, discordances, adjudications = _synthetic(seed=5, subjects=SUBJECTS)
    reads = [replace(r, values={**r.values, "fat_embolism.presence": "absent"}) for r in reads]
    rereads = [replace(r, read_id=10_000 + r.read_id, is_reread=True,
                       signed_at=r.signed_at + 30 * 86400) for r in reads if r.reader == "R1"]
    return trial_agreement(P, reads + rereads[:6], discordances, adjudications)


def _data(material, ct_file: Path, language: str = "en", agreement=None) -> ReportData:
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
        agreement=report if agreement is None else agreement,
        adjudication=((("待仲裁" if zh else "Pending"), "3"), (("已裁决" if zh else "Decided"), "9")),
        subjects=subjects,
        finding_labels=labels,
        key_images=(KeyImage(str(ct_file), 0, "S1 post-insertion CT <axial>", shapes),),
        language=language,
        value_labels={"post-insertion": "置入后"} if zh else {},
        protocol_id=P.id, protocol_version=P.version, readers_per_case=P.readers_per_case,
        washout_days=P.rereads.washout_days,
    )


def _method(html: str) -> tuple[str, str]:
    """The method paragraph of a report page: its language and its text as a reader sees it."""
    import html as markup

    found = re.search(r'<p class="method" lang="([^"]*)">(.*?)</p>', html, re.S)
    assert found, "the page has no method paragraph"
    return found.group(1), markup.unescape(found.group(2))


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


def _images(html: str) -> list:
    """The page's embedded PNGs, decoded with Pillow."""
    import base64
    import io

    from PIL import Image

    return [Image.open(io.BytesIO(base64.b64decode(uri)))
            for uri in re.findall(r'src="data:image/png;base64,([^"]+)"', html)]


def test_charts_are_rgb_and_the_shapes_are_burned_in(material, ct_file):
    """The forest plot is 7.2 in at 160 dpi and each key image KEY_IMAGE_PX on its long side,
    both RGB without alpha (WeasyPrint would embed an alpha channel as a second image); the
    readers' shapes are in the key image's pixels, in their reader's colour."""
    from dataclasses import replace

    from ioreview.service.exports.report import KEY_IMAGE_PX, SHAPE_COLOURS

    forest, key = _images(render_html(_data(material, ct_file)))
    assert forest.mode == key.mode == "RGB"
    assert forest.width == round(7.2 * 160)
    assert key.size == (KEY_IMAGE_PX, KEY_IMAGE_PX)  # the 128-pixel CT, 4 screen pixels each
    # reader A (the first colour) marked the point (row 100, col 100): the centre of its cross
    expected = tuple(int(SHAPE_COLOURS[0][i:i + 2], 16) for i in (1, 3, 5))
    centre = round((100 + 0.5) * KEY_IMAGE_PX / 128)
    assert all(abs(a - b) <= 40 for a, b in zip(key.getpixel((centre, centre)), expected))
    # reader B's length line runs along row 90 from column 20 to 70: drawn in the second colour
    expected_b = tuple(int(SHAPE_COLOURS[1][i:i + 2], 16) for i in (1, 3, 5))
    row = round((90 + 0.5) * KEY_IMAGE_PX / 128)
    assert all(abs(a - b) <= 40 for a, b in zip(key.getpixel((45 * 4, row)), expected_b))
    # the same image without shapes has none of those colours there
    plain = _images(render_html(replace(_data(material, ct_file), key_images=(
        KeyImage(str(ct_file), 0, "plain"),))))[1]
    assert plain.getpixel((centre, centre)) != key.getpixel((centre, centre))


def test_writing_a_report_leaves_the_collector_as_it_was(material, ct_file, tmp_path):
    """write_report pauses the cyclic garbage collector while WeasyPrint works and restores
    the caller's setting, on and off; load_libraries (the worker's preload) leaves it on."""
    import gc

    from ioreview.service.exports.report import load_libraries

    load_libraries()
    assert gc.isenabled()
    data = _data(material, ct_file)
    write_report(data, tmp_path / "on", pdf=False)
    assert gc.isenabled()
    gc.disable()
    try:
        write_report(data, tmp_path / "off", pdf=False)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_not_estimable_reasons_in_the_reports_language(material, ct_file):
    """A field whose statistic is not estimable says why in the report's language: the
    statistic's reason code in Chinese, its English message in English."""
    from adjudication.agreement import REASON_MESSAGES
    from adjudication.reliability import Figure as StatFigure

    from ioreview.service.exports.report import _reason

    message = REASON_MESSAGES["too_few_subjects"].format(what="Cohen's kappa", minimum=2, n=0)
    figure = StatFigure("kappa", None, message)
    assert _reason(figure, "en") == message
    zh = _reason(figure, "zh_CN")
    assert "需要至少 2 个" in zh and "needs" not in zh
    assert _reason(StatFigure("kappa", None, "something else"), "zh_CN") == "something else"
    assert _reason(None, "zh_CN") == "未计算"
    html = render_html(_data(material, ct_file, "zh_CN"))
    assert "needs at least" not in html and "is undefined" not in html


@pytest.mark.parametrize("figures", ["material", "edge_agreement"])
def test_english_method_paragraph_is_the_agreement_summary(material, ct_file, figures,
                                                           request):
    """An English report's method paragraph is the agreement figures' own summary, character
    for character, with re-reads, a statistic not estimable and the kappa paradox too."""
    agreement = request.getfixturevalue(figures)
    if figures == "material":
        agreement = agreement[0]
    lang, text = _method(render_html(_data(material, ct_file, agreement=agreement)))
    assert lang == "en"
    assert text == agreement.summary


def test_chinese_method_paragraph_is_chinese(material, ct_file, edge_agreement):
    """A Chinese report says the method in Chinese: the same counts, the protocol's facts, the
    findings under their Chinese labels, a statistic not estimable with its Chinese reason,
    and no English sentence of the English paragraph."""
    a = edge_agreement
    lang, text = _method(render_html(_data(material, ct_file, "zh_CN", agreement=a)))
    assert lang == "zh-CN"
    assert (a.n_cases, a.n_subjects, a.n_readers, a.n_rereads) == (32, SUBJECTS, 3, 6)
    assert "阅片者间一致性基于 32 个病例（8 名受试者）评估，共 3 名阅片者按方案 " \
           f"{P.id} {P.version} 独立阅片；每个病例由 {P.readers_per_case} 名阅片者阅读" in text
    assert "阅片者内一致性基于 6 次隐藏重复阅片评估，重复阅片距首次阅片的中位间隔为 30 天" \
           f"（洗脱期 {P.rereads.washout_days} 天）。" in text
    assert "Krippendorff's alpha（以病例为单位进行 1000 次 bootstrap 重抽样）" in text
    assert "外渗/筋膜室受累: 是否存在（n=32）：一致百分比 0.50（95% 置信区间 0.34～0.66），" \
           "kappa -0.19（95% 置信区间 -0.44～0.07），AC1 0.37（95% 置信区间 0.10～0.63）。" in text
    assert "脂肪栓塞: 是否存在（n=32）：" in text
    assert "kappa 无法估计（Cohen's kappa 无法定义：机遇一致性为 1" in text
    assert "存在 kappa 悖论" in text
    assert len(text.splitlines()) == len(a.summary.splitlines())
    for line in a.summary.splitlines():
        assert line not in text
    # no English phrase: the statistics keep their names, nothing else is in Latin letters
    assert re.search(r"[A-Za-z']+(?: [A-Za-z']+){2,}", text) is None, text
    for english in ("assessed", "readers", "percent agreement", "undefined", "washout",
                    "CI ", "Presence", "paradox:"):
        assert english not in text


@pytest.mark.parametrize("language", ["en", "zh_CN"])
def test_fields_no_two_readers_answered_are_listed_not_tabled(material, ct_file, language):
    """A field with no case that two readers answered (n = 0) has no figure to show: it is not
    a row of the agreement table but is listed with its reason under "not estimable", and a
    note under the table says so; every field with pairs keeps its row."""
    import html as markup

    from ioreview.service.exports.report import _HEADINGS, _field_label

    data = _data(material, ct_file, language)
    page = render_html(data)
    table = page.split('<table class="agreement">', 1)[1].split("</table>", 1)[0]
    listed = page.split('<ul class="undefined">', 1)[1].split("</ul>", 1)[0]
    labels = dict(data.finding_labels)
    empty = [f for f in data.agreement.fields if f.n == 0]
    answered = [f for f in data.agreement.fields if f.n > 0]
    assert empty and answered  # the material has both kinds
    # each row's first cell: the field's label (and the kappa paradox flag)
    rows = [markup.unescape(re.sub(r"<span.*?</span>", "", cell)).strip()
            for cell in re.findall(r"<tr[^>]*><td>(.*?)</td>", table.split("<tbody>", 1)[1])]
    assert sorted(rows) == sorted(_field_label(f, labels) for f in answered)
    for f in empty:
        label = markup.escape(_field_label(f, labels))
        assert f"<strong>{label}</strong>" in listed
    assert markup.escape(_HEADINGS[language]["unanswered"], quote=False) in page
