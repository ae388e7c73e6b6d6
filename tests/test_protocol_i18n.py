"""Translated labels in the read protocol: syntax, validation with line numbers, fallback.

The default protocol carries Simplified Chinese (zh_CN) labels; values, ids and codes stay
English because they are the data.
"""
from __future__ import annotations

import pytest

from adjudication.protocol import (
    InvalidProtocol,
    Protocol,
    ProtocolProblem,
    Translations,
    default_protocol_path,
    load_default_protocol,
    locale_candidates,
    parse_protocol,
)

DEFAULT_TEXT = default_protocol_path().read_text(encoding="utf-8")
MARK = "# HERE"

MINIMAL = """\
[protocol]
id = "mini"
version = "1"
title = "Mini"
titles = { zh_CN = "迷你" }
paradigm = "two_plus_one"

[timepoints]
labels = ["baseline", "follow-up"]

  [timepoints.translations.zh_CN]
  labels = ["基线", "随访"]

[confidence]
values = [1, 2, 3]
labels = ["absent", "unsure", "present"]

  [confidence.translations.zh_CN]
  label = "置信度"
  labels = ["不存在", "不确定", "存在"]

[presence]
present = "SCT:52101004"
absent = "SCT:272519000"
indeterminate = "SCT:373068000"

[[read_fields]]
id = "side"
label = "Side"
labels = { zh_CN = "侧别" }
type = "choice"
choices = [
  { value = "left", label = "Left", labels = { zh_CN = "左侧" } },
  { value = "right", label = "Right" },
]

  [read_fields.translations.zh_CN]
  choices = { right = "右侧" }

[[read_fields]]
id = "timepoint"
label = "Timepoint"
type = "choice"
choices_from = "timepoints"

[[findings]]
id = "bleed"
label = "Bleeding"
labels = { zh_CN = "出血", en_US = "Bleeding (US)" }
presence = true
"""


def mutate(text: str, *edits: tuple[str, str]) -> str:
    for old, new in edits:
        assert text.count(old) == 1, f"snippet not unique: {old!r}"
        text = text.replace(old, new)
    return text


def problems_of(text: str) -> list[ProtocolProblem]:
    with pytest.raises(InvalidProtocol) as info:
        parse_protocol(text, "io.toml")
    return info.value.problems


def marked_line(text: str) -> int:
    lines = [i for i, line in enumerate(text.splitlines(), start=1) if MARK in line]
    assert len(lines) == 1
    return lines[0]


# --- the default protocol ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def protocol() -> Protocol:
    return load_default_protocol()


def test_default_protocol_translates_every_label(protocol: Protocol) -> None:
    assert protocol.title_in("zh_CN") != protocol.title
    for key, finding, field in protocol.iter_fields():
        assert field.label_in("zh_CN") != field.label, key
        for choice in field.choices:
            assert choice.label_in("zh_CN") != choice.label, f"{key} = {choice.value}"
        if finding is not None:
            assert finding.label_in("zh_CN") != finding.label, finding.id
    for timepoint in protocol.timepoints:
        assert protocol.timepoint_label(timepoint, "zh_CN") != timepoint
    for value in protocol.confidence.values:
        assert protocol.confidence.label_in(value, "zh_CN") != protocol.confidence.label_for(value)


def test_default_protocol_chinese_words(protocol: Protocol) -> None:
    extravasation = protocol.finding("extravasation")
    assert extravasation.label_in("zh_CN") == "外渗/筋膜室受累"
    assert extravasation.presence_field.label_in("zh_CN") == "是否存在"
    assert [c.label_in("zh_CN") for c in extravasation.presence_field.choices] == ["存在", "不存在", "不确定"]
    assert extravasation.field("confidence").label_in("zh_CN") == "置信度"
    assert protocol.finding("haematoma").label_in("zh_CN").startswith("血肿")
    assert protocol.finding("osteomyelitis").label_in("zh_CN").startswith("骨髓炎")
    assert protocol.finding("fat_embolism").label_in("zh_CN") == "脂肪栓塞"
    quality = protocol.field("image_quality")
    assert quality.label_in("zh_CN") == "图像质量"
    assert [c.label_in("zh_CN") for c in quality.choices] == ["满意", "受限", "无法诊断"]
    assert [c.label_in("zh_CN") for c in protocol.field("side").choices] == ["左侧", "右侧"]
    assert [protocol.timepoint_label(t, "zh_CN") for t in protocol.timepoints] == ["基线", "置入后", "拔除后", "随访"]
    assert [c.label_in("zh_CN") for c in protocol.field("timepoint").choices] == ["基线", "置入后", "拔除后", "随访"]
    assert protocol.label_for("extravasation.compartment", "zh_CN") == "外渗/筋膜室受累: 筋膜室"


def test_values_ids_and_codes_stay_the_data(protocol: Protocol) -> None:
    assert protocol.field("image_quality").choice_values == ("adequate", "limited", "non_diagnostic")
    assert protocol.timepoints == ("baseline", "post-insertion", "post-removal", "follow-up")
    assert protocol.finding("extravasation").presence_field.choice_values == ("present", "absent", "indeterminate")
    assert str(protocol.finding("extravasation").code) == "SCT:76676007"
    assert "extravasation.volume_ml" in protocol.keys()


# --- fallback ----------------------------------------------------------------------------------


def test_fallback_and_language_matching(protocol: Protocol) -> None:
    finding = protocol.finding("extravasation")
    english = "Extravasation / compartment involvement"
    assert finding.label_in(None) == english
    assert finding.label_in("") == english
    assert finding.label_in("en_US") == english
    assert finding.label_in("fr") == english
    assert finding.label_in("C") == english
    zh = "外渗/筋膜室受累"
    assert finding.label_in("zh") == zh
    assert finding.label_in("zh-CN") == zh
    assert finding.label_in("zh_CN.UTF-8") == zh
    assert finding.label_in("zh_TW") == zh  # same language, closest available
    assert protocol.timepoint_label("post-insertion", None) == "post-insertion"
    assert protocol.timepoint_label("unknown", "zh_CN") == "unknown"
    assert protocol.confidence.label_in(5, None) == "definitely present"
    assert protocol.confidence.label_in(5, "zh") == "肯定存在"
    assert protocol.confidence.label_in(9, "zh_CN") == "9"
    assert protocol.label_for("extravasation.compartment") == "Extravasation / compartment involvement: Compartment"


def test_locale_candidates() -> None:
    assert locale_candidates("zh-cn.UTF-8") == ("zh_CN", "zh")
    assert locale_candidates("zh_Hans") == ("zh_Hans", "zh")
    assert locale_candidates("en") == ("en",)
    assert locale_candidates(None) == ()
    assert locale_candidates("C") == ()


def test_exact_locale_wins_over_language() -> None:
    labels = Translations({"zh_TW": "外滲", "zh_CN": "外渗", "zh": "外渗(通用)"})
    assert labels.pick("zh_CN") == "外渗"
    assert labels.pick("zh_TW") == "外滲"
    assert labels.pick("zh_SG") == "外渗(通用)"
    assert labels.pick("en") is None


def test_protocol_objects_stay_hashable_and_frozen(protocol: Protocol) -> None:
    finding = protocol.finding("extravasation")
    assert hash(finding) == hash(load_default_protocol().finding("extravasation"))
    assert finding.labels == {"zh_CN": "外渗/筋膜室受累"}
    with pytest.raises(TypeError):
        finding.labels["zh_CN"] = "x"  # type: ignore[index]
    hash(protocol)


def test_minimal_protocol_with_every_form() -> None:
    p = parse_protocol(MINIMAL)
    assert p.title_in("zh") == "迷你"
    side = p.field("side")
    assert side.label_in("zh_CN") == "侧别"
    assert [c.label_in("zh_CN") for c in side.choices] == ["左侧", "右侧"]
    assert [c.label_in("zh_CN") for c in p.field("timepoint").choices] == ["基线", "随访"]
    bleed = p.finding("bleed")
    assert bleed.label_in("en_US") == "Bleeding (US)"
    assert bleed.label_in("en_GB") == "Bleeding (US)"
    assert bleed.field("confidence").label_in("zh_CN") == "置信度"
    assert [c.label_in("zh_CN") for c in bleed.field("confidence").choices] == ["不存在", "不确定", "存在"]
    # no presence translations in this file: English labels
    assert [c.label_in("zh_CN") for c in bleed.presence_field.choices] == ["Present", "Absent", "Indeterminate"]


# --- invalid translations, reported with line numbers ------------------------------------------

INVALID = [
    ("locale key with a hyphen",
     [('labels = { zh_CN = "侧别" }', f'labels = {{ "zh-CN" = "侧别" }}  {MARK}')],
     "read_fields[0].labels.zh-CN", "is not a locale such as zh_CN or en_US (did you mean 'zh_CN'?)"),
    ("labels is not a table",
     [('labels = { zh_CN = "侧别" }', f'labels = "侧别"  {MARK}')],
     "read_fields[0].labels", "expected a table of translations"),
    ("translation is not a string",
     [('labels = { zh_CN = "出血", en_US = "Bleeding (US)" }', f'labels = {{ zh_CN = 3 }}  {MARK}')],
     "findings[0].labels.zh_CN", "expected a non-empty string, got 3"),
    ("choice translation in an inline table of a multi-line array",
     [('  { value = "left", label = "Left", labels = { zh_CN = "左侧" } },',
       f'  {{ value = "left", label = "Left", labels = {{ zh_CN = "" }} }},  {MARK}')],
     "read_fields[0].choices[0].labels.zh_CN", "expected a non-empty string"),
    ("misspelt labels key",
     [('labels = { zh_CN = "侧别" }', f'lables = {{ zh_CN = "侧别" }}  {MARK}')],
     "read_fields[0].lables", "did you mean 'labels'?"),
    ("timepoint translations of the wrong length",
     [('  labels = ["基线", "随访"]', f'  labels = ["基线"]  {MARK}')],
     "timepoints.translations.zh_CN.labels", "expected 2 labels (one per item, same order), got 1"),
    ("confidence translations of the wrong length",
     [('  labels = ["不存在", "不确定", "存在"]', f'  labels = ["不存在", "存在"]  {MARK}')],
     "confidence.translations.zh_CN.labels", "expected 3 labels"),
    ("confidence translation labels of the wrong type",
     [('  labels = ["不存在", "不确定", "存在"]', f'  labels = "不存在"  {MARK}')],
     "confidence.translations.zh_CN.labels", "expected an array of non-empty strings"),
    ("unknown key in a translation table",
     [('  label = "置信度"', f'  lable = "置信度"  {MARK}')],
     "confidence.translations.zh_CN.lable", "did you mean 'label'?"),
    ("bad locale of a translation table",
     [("  [timepoints.translations.zh_CN]", f"  [timepoints.translations.chinese]  {MARK}")],
     "timepoints.translations.chinese", "is not a locale such as zh_CN"),
    ("field translation names an unknown choice",
     [('  choices = { right = "右侧" }', f'  choices = {{ rigth = "右侧" }}  {MARK}')],
     "read_fields[0].translations.zh_CN.choices.rigth", "did you mean 'right'?"),
    ("protocol titles not a table",
     [('titles = { zh_CN = "迷你" }', f'titles = ["迷你"]  {MARK}')],
     "protocol.titles", "expected a table of translations"),
]


@pytest.mark.parametrize(("edits", "path", "fragment"), [case[1:] for case in INVALID],
                         ids=[case[0] for case in INVALID])
def test_invalid_translations_name_line_and_field(edits: list[tuple[str, str]], path: str,
                                                  fragment: str) -> None:
    text = mutate(MINIMAL, *edits)
    line = marked_line(text)
    problems = problems_of(text)
    matching = [p for p in problems if p.path == path and fragment in p.message]
    assert matching, "\n".join(p.format("io.toml") for p in problems)
    assert matching[0].line == line
    assert matching[0].format("io.toml").startswith(f"io.toml:{line}: {path}: ")


def test_default_protocol_translation_problem_has_its_line() -> None:
    old = '  choices = { left = "左侧", right = "右侧" }'
    assert DEFAULT_TEXT.count(old) == 1
    text = DEFAULT_TEXT.replace(old, f'  choices = {{ left = "左侧", middle = "x" }}  {MARK}')
    problems = problems_of(text)
    assert [p.line for p in problems if p.path.endswith("choices.middle")] == [marked_line(text)]
