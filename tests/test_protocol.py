"""The read protocol: the default file loads, and every invalid file is rejected with the line
and field path of each problem."""
from __future__ import annotations

from pathlib import Path

import pytest

from adjudication.discordance import NumericDifference, OrdinalDifference, PresenceOrConfidence
from adjudication.protocol import (
    Code,
    FieldType,
    InvalidProtocol,
    Paradigm,
    PriorsMode,
    Protocol,
    ProtocolProblem,
    default_protocol_path,
    load_default_protocol,
    load_protocol,
    parse_protocol,
    sctid_is_valid,
)

DEFAULT_TEXT = default_protocol_path().read_text(encoding="utf-8")
MARK = "# HERE"


def mutate(*edits: tuple[str, str], text: str = DEFAULT_TEXT) -> str:
    """Apply (old, new) replacements, each of which must match exactly once."""
    for old, new in edits:
        assert text.count(old) == 1, f"snippet not unique in the default protocol: {old!r}"
        text = text.replace(old, new)
    return text


def marked_line(text: str) -> int:
    lines = [i for i, line in enumerate(text.splitlines(), start=1) if MARK in line]
    assert len(lines) == 1
    return lines[0]


def problems_of(text: str, source: str = "io.toml") -> list[ProtocolProblem]:
    with pytest.raises(InvalidProtocol) as info:
        parse_protocol(text, source)
    return info.value.problems


# --- the default protocol ------------------------------------------------------------------


def test_default_protocol_loads() -> None:
    p = load_default_protocol()
    assert isinstance(p, Protocol)
    assert p.id == "io-site-complications"
    assert p.paradigm is Paradigm.two_plus_one and p.readers_per_case == 2
    assert p.priors in (PriorsMode.none, PriorsMode.earlier_timepoints)
    assert p.rereads.fraction == pytest.approx(0.10) and p.rereads.washout_days == 28 and p.rereads.seeded
    assert p.timepoints == ("baseline", "post-insertion", "post-removal", "follow-up")
    assert p.tools.fat_hu == (-120, -30) and p.tools.fluid_hu == (0, 20) and p.tools.blood_hu == (30, 100)
    assert "anaemia" in p.tools.warn
    assert p.source_text == DEFAULT_TEXT
    assert len(p.sha256) == 64
    assert [f.id for f in p.findings] == [
        "needle_position", "extravasation", "haematoma", "fracture", "osteomyelitis", "fat_embolism",
    ]


def test_default_protocol_read_fields_and_timepoint_choices() -> None:
    p = load_default_protocol()
    assert [f.id for f in p.read_fields][:3] == ["image_quality", "side", "timepoint"]
    timepoint = p.field("timepoint")
    assert timepoint.choice_values == p.timepoints
    assert timepoint.fill_from == "case"


def test_presence_findings_get_presence_confidence_location_comment() -> None:
    p = load_default_protocol()
    for finding in p.findings:
        if not finding.presence:
            continue
        ids = [f.id for f in finding.fields]
        assert ids[:2] == ["presence", "confidence"], finding.id
        assert "comment" in ids
        presence = finding.presence_field
        assert presence.type is FieldType.presence and presence.required
        assert [str(c.code) for c in presence.choices] == ["SCT:52101004", "SCT:272519000", "SCT:373068000"]
        assert isinstance(finding.discordance, PresenceOrConfidence)
        confidence = finding.field("confidence")
        assert confidence.choice_values == (1, 2, 3, 4, 5)
        assert confidence.code == Code("DCM", "111012", "Certainty of Finding")
    for fid in ("extravasation", "haematoma", "fracture", "osteomyelitis"):
        assert "location" in [f.id for f in p.finding(fid).fields]


def test_default_protocol_uses_only_domain_snomed_codes() -> None:
    allowed = {"52101004", "272519000", "373068000", "255604002", "6736007", "24484000", "60168000",
               "76676007", "35566002", "44132006", "31978002", "12611008"}
    p = load_default_protocol()
    codes: list[Code] = []
    for finding in p.findings:
        if finding.code:
            codes.append(finding.code)
        for f in finding.fields:
            codes.extend(c.code for c in f.choices if c.code)
            if f.code:
                codes.append(f.code)
    sct = [c.value for c in codes if c.scheme == "SCT"]
    assert sct and set(sct) <= allowed
    assert {c.scheme for c in codes} <= {"SCT", "DCM", "99IOREVIEW"}


def test_default_extravasation_fields() -> None:
    p = load_default_protocol()
    ext = p.finding("extravasation")
    assert ext.code == Code("SCT", "76676007", "Extravasation")
    assert ext.field("compartment").type is FieldType.multi_choice
    volume = ext.field("volume_ml")
    assert volume.unit == "mL" and volume.range == (0, 3000) and volume.fill_from == "region_grow"
    assert volume.discordance == NumericDifference(relative=0.30, absolute=5)
    severity = ext.field("severity")
    assert [str(c.code) for c in severity.choices] == ["SCT:255604002", "SCT:6736007", "SCT:24484000"]
    assert severity.discordance == OrdinalDifference(1)
    assert ext.field("contrast_extravasation").code == Code("DCM", "113568", "Extravasation visible in image")
    assert ext.field("compartment").required_if is not None
    assert ext.field("compartment").required_if.keys() == ("extravasation.presence",)


def test_keys_and_labels() -> None:
    p = load_default_protocol()
    keys = p.keys()
    assert keys[0] == "image_quality"
    assert "extravasation.presence" in keys and "fat_embolism.filling_defect_hu" in keys
    assert len(keys) == len(set(keys))
    assert p.label_for("fracture.displacement") == "Fracture at the IO site: Displacement"
    with pytest.raises(KeyError):
        p.field("nope.nothing")


def test_load_protocol_from_a_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "trial.toml"
    path.write_text(DEFAULT_TEXT, encoding="utf-8")
    assert load_protocol(path).sha256 == load_default_protocol().sha256
    path.write_text(mutate(("range = [0, 3000]", "range = [5, 1]")), encoding="utf-8")
    with pytest.raises(InvalidProtocol) as info:
        load_protocol(path)
    assert str(info.value).startswith(f"{path}:")
    assert "findings[1].fields[2].range: expected [min, max] with min < max, got [5, 1]" in str(info.value)


def test_not_utf8_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes(DEFAULT_TEXT.replace('title = "', 'title = "\xe9', 1)
                     .encode("latin-1", errors="replace"))
    with pytest.raises(InvalidProtocol, match="UTF-8"):
        load_protocol(path)


# --- codes -----------------------------------------------------------------------------------


def test_code_parse_and_str() -> None:
    code = Code.parse("SCT:255604002", "Mild")
    assert code == Code("SCT", "255604002", "Mild")
    assert str(code) == "SCT:255604002"
    assert Code.parse("99IOREVIEW:needle-position").scheme == "99IOREVIEW"
    with pytest.raises(ValueError, match="SCHEME:VALUE"):
        Code.parse("SCT 255604002")


@pytest.mark.parametrize("value", ["52101004", "272519000", "373068000", "60168000", "76676007", "35566002",
                                   "44132006", "31978002", "12611008", "6736007", "24484000", "255604002"])
def test_domain_sctids_are_valid(value: str) -> None:
    assert sctid_is_valid(value)


@pytest.mark.parametrize("value", ["60168001", "6016800", "12345", "060168000", "abc", "76676017"])
def test_bad_sctids_are_rejected(value: str) -> None:
    assert not sctid_is_valid(value)


# --- every validation rule: a failing example naming line and field --------------------------

# (edits, expected path, fragment of the message)
RULES: list[tuple[str, list[tuple[str, str]], str, str]] = [
    ("unknown key with suggestion",
     [('required = true\ndiscordance = { ordinal_difference = 2 }',
       f'requird = true  {MARK}\ndiscordance = {{ ordinal_difference = 2 }}')],
     "read_fields[0].requird", "unknown key 'requird' (did you mean 'required'?)"),
    ("unknown table with suggestion",
     [("[tools]", f"[tool]  {MARK}")], "tool", "unknown key 'tool' (did you mean 'tools'?)"),
    ("key that does not apply to the type",
     [('id = "side"\nlabel = "Side of the IO site"', f'id = "side"\nlabel = "Side of the IO site"\nunit = "cm"  {MARK}')],
     "read_fields[1].unit", "'unit' does not apply to a choice field"),
    ("boolean expected",
     [('required = true\nfill_from = "dicom_header"', f'required = "yes"  {MARK}\nfill_from = "dicom_header"')],
     "read_fields[1].required", 'expected true or false, got a string "yes"'),
    ("version must be a string",
     [('version = "1.0.0"', f"version = 1.0  {MARK}")], "protocol.version", 'write it in quotes'),
    ("protocol id format",
     [('id = "io-site-complications"', f'id = "IO site"  {MARK}')], "protocol.id", "is not a valid protocol id"),
    ("field id format",
     [('id = "read_comment"', f'id = "Read comment"  {MARK}')], "read_fields[3].id", "is not a valid id"),
    ("duplicate finding id",
     [('id = "haematoma"', f'id = "extravasation"  {MARK}')], "findings[2].id",
     "duplicate finding id 'extravasation' (also findings[1])"),
    ("duplicate field id",
     [('  id = "max_size_cm"', f'  id = "compartment"  {MARK}')], "findings[1].fields[1].id",
     "duplicate field id 'compartment' in finding 'extravasation' (also findings[1].fields[0])"),
    ("duplicate read field id",
     [('id = "read_comment"', f'id = "side"  {MARK}')], "read_fields[3].id", "duplicate read field id 'side'"),
    ("reserved id in a presence finding",
     [('  id = "displacement"', f'  id = "confidence"  {MARK}')], "findings[3].fields[0].id",
     "'confidence' is added automatically to presence findings"),
    ("choices must not be empty",
     [('choices = [{ value = "left", label = "Left" }, { value = "right", label = "Right" }]', f"choices = []  {MARK}")],
     "read_fields[1].choices", "needs a non-empty choices array"),
    ("duplicate choice (element of a multi-line array)",
     [('  { value = "limited", label = "Limited" },', f'  {{ value = "adequate", label = "Limited" }},  {MARK}')],
     "read_fields[0].choices[1]", 'duplicate choice "adequate"'),
    ("range reversed",
     [("range = [0, 3000]", f"range = [5, 1]  {MARK}")], "findings[1].fields[2].range",
     "expected [min, max] with min < max, got [5, 1]"),
    ("range malformed",
     [("range = [0, 3000]", f"range = [0]  {MARK}")], "findings[1].fields[2].range",
     "expected [min, max] with min < max, got [0]"),
    ("required_if names an unknown field",
     [("""  required_if = "presence == 'present'"\n  shown_if = "presence != 'absent'"\n  discordance = "mismatch"\n\n  [[findings.fields]]\n  id = "max_size_cm\"""",
       f"""  required_if = "presense == 'present'"  {MARK}\n  shown_if = "presence != 'absent'"\n  discordance = "mismatch"\n\n  [[findings.fields]]\n  id = "max_size_cm\"""")],
     "findings[1].fields[0].required_if", "unknown field 'presense'"),
    ("required_if names an unknown value",
     [("""required_if = "abscess == true\"""", f"""required_if = "abscess == 'yes'"  {MARK}""")],
     "findings[4].fields[6].required_if", "'abscess' is yes/no"),
    ("condition value not a choice",
     [("""required_if = "presence == 'present'"\n  shown_if = "presence != 'absent'"\n  discordance = { ordinal_difference = 1 }""",
       f"""required_if = "presence == 'presnt'"  {MARK}\n  shown_if = "presence != 'absent'"\n  discordance = {{ ordinal_difference = 1 }}""")],
     "findings[1].fields[6].required_if", "\"presnt\" is not a choice of 'presence' (did you mean 'present'?)"),
    ("condition syntax error",
     [("""shown_if = "filling_defect == true\"""", f"""shown_if = "filling_defect = true"  {MARK}""")],
     "findings[5].fields[3].shown_if", "unexpected character '=' (use == to compare) at column 16"),
    ("condition operator does not fit the field type",
     [("""shown_if = "filling_defect == true\"""", f"""shown_if = "lung_signs == 'ground_glass'"  {MARK}""")],
     "findings[5].fields[3].shown_if", "use lung_signs contains '...'"),
    ("condition on the field itself",
     [("""shown_if = "filling_defect == true\"""", f"""shown_if = "filling_defect_hu > 0"  {MARK}""")],
     "findings[5].fields[3].shown_if", "refers to the field itself"),
    ("required together with required_if",
     [("""required_if = "abscess == true\"""", f"""required = true\n  required_if = "abscess == true"  {MARK}""")],
     "findings[4].fields[6].required_if", "use either required = true or required_if"),
    ("code format",
     [('code = { scheme = "SCT", value = "60168000", meaning = "Osteomyelitis" }', f'code = "SCT60168000"  {MARK}')],
     "findings[4].code", 'expected "SCHEME:VALUE"'),
    ("SNOMED check digit",
     [('code = { scheme = "SCT", value = "60168000", meaning = "Osteomyelitis" }',
       f'code = {{ scheme = "SCT", value = "60168001", meaning = "Osteomyelitis" }}  {MARK}')],
     "findings[4].code", "SCT:60168001 is not a valid SNOMED CT concept id"),
    ("coding scheme format",
     [('code = { scheme = "SCT", value = "60168000", meaning = "Osteomyelitis" }',
       f'code = {{ scheme = "snomed ct", value = "60168000" }}  {MARK}')],
     "findings[4].code", "coding scheme 'snomed ct' must be upper-case"),
    ("one code per choice",
     [('codes = ["SCT:255604002", "SCT:6736007", "SCT:24484000"]', f'codes = ["SCT:255604002", "SCT:6736007"]  {MARK}')],
     "findings[1].fields[6].codes", "expected one code per choice (3)"),
    ("two_of_three reads with 2 readers first",
     [('paradigm = "two_plus_one"', 'paradigm = "two_of_three"'), ("readers_per_case = 2", f"readers_per_case = 3  {MARK}")],
     "protocol.readers_per_case",
     "paradigm two_of_three needs exactly 2 (a third reader reads only discordant cases) readers per case, got 3"),
    ("two_plus_one needs 2 readers",
     [("readers_per_case = 2", f"readers_per_case = 3  {MARK}")],
     "protocol.readers_per_case", "paradigm two_plus_one needs exactly 2 readers per case, got 3"),
    ("consensus panel needs at least 2 readers",
     [('paradigm = "two_plus_one"', 'paradigm = "consensus_panel"'), ("readers_per_case = 2", f"readers_per_case = 1  {MARK}")],
     "protocol.readers_per_case", "needs at least 2 readers per case"),
    ("panel quorum",
     [('quorum = 3 ', f'quorum = 0  {MARK} ')],
     "panel.quorum", "expected the number of members present"),
    ("panel rule",
     [('rule = "majority"', f'rule = "most"  {MARK}')],
     "panel.rule", "majority"),
    ("committee fields take no conditions",
     [('id = "gurd_minor"', f'id = "gurd_minor"\nshown_if = "gurd_major != []"  {MARK}')],
     "committee_fields[1].shown_if", "does not apply to a committee-only field"),
    ("unknown paradigm",
     [('paradigm = "two_plus_one"', f'paradigm = "two_plus_1"  {MARK}')],
     "protocol.paradigm", "did you mean 'two_plus_one'?"),
    ("unknown priors mode",
     [('priors = "earlier_timepoints"', f'priors = "earlier"  {MARK}')], "protocol.priors", "is not one of none, earlier_timepoints"),
    ("reread fraction above 0.5",
     [("fraction = 0.10", f"fraction = 0.7  {MARK}")], "rereads.fraction", "expected a number from 0 to 0.5"),
    ("negative washout",
     [("washout_days = 28", f"washout_days = -1  {MARK}")], "rereads.washout_days", "expected a whole number of days >= 0"),
    ("HU ranges overlap",
     [("blood_hu = [30, 100]", f"blood_hu = [15, 100]  {MARK}")], "tools.blood_hu",
     "fluid_hu ends at 20 but blood_hu starts at 15"),
    ("HU range reversed",
     [("fat_hu = [-120, -30]", f"fat_hu = [-30, -120]  {MARK}")], "tools.fat_hu",
     "expected [min, max] with min < max, got [-30, -120]"),
    ("numeric rule on a choice field",
     [("discordance = { ordinal_difference = 2 }", f"discordance = {{ relative = 0.3 }}  {MARK}")],
     "read_fields[0].discordance", "does not fit here"),
    ("unknown rule name",
     [("""  modalities = ["US"]\n  discordance = "mismatch\"""", f"""  modalities = ["US"]\n  discordance = "mismatc"  {MARK}""")],
     "findings[0].fields[1].discordance", "did you mean 'mismatch'?"),
    ("negative numeric threshold",
     [("discordance = { relative = 0.30, absolute = 5 }", f"discordance = {{ relative = -0.3, absolute = 5 }}  {MARK}")],
     "findings[1].fields[2].discordance", "relative must be a number >= 0"),
    ("modality spelled in lower case",
     [("""  modalities = ["US"]\n  discordance = "mismatch\"""", f"""  modalities = ["us"]  {MARK}\n  discordance = "mismatch\"""")],
     "findings[0].fields[1].modalities[0]", "did you mean 'US'?"),
    ("unknown fill source",
     [('fill_from = "region_grow"', f'fill_from = "region_growing"  {MARK}')],
     "findings[1].fields[2].fill_from", "did you mean 'region_grow'?"),
    ("unit not UCUM",
     [('unit = "mL"', f'unit = "ml"  {MARK}')], "findings[1].fields[2].unit", 'is not a UCUM unit; write "mL"'),
    ("confidence labels do not match values",
     [('labels = ["definitely absent", "probably absent", "indeterminate", "probably present", "definitely present"]',
       f'labels = ["absent", "present"]  {MARK}')],
     "confidence.labels", "expected one label per value (5), got 2"),
    ("confidence values not increasing",
     [("values = [1, 2, 3, 4, 5]", f"values = [1, 3, 2]  {MARK}")], "confidence.values", "increasing whole numbers"),
    ("finding-level rule without presence",
     [('presence = false\nhelp = "Where', f'presence = false\ndiscordance = "mismatch"  {MARK}\nhelp = "Where')],
     "findings[0].discordance", "this finding has no presence"),
    ("choices_from unknown list",
     [('choices_from = "timepoints"', f'choices_from = "visits"  {MARK}')],
     "read_fields[2].choices_from", 'the only list choices can come from is "timepoints"'),
    ("field type missing",
     [('[[read_fields]]\nid = "read_comment"\nlabel = "Comment on the read"\ntype = "text"',
       f'[[read_fields]]  {MARK}\nid = "read_comment"\nlabel = "Comment on the read"')],
     "read_fields[3]", "missing key 'type' (choice, multi_choice, number, integer, boolean, text)"),
    ("unknown field type",
     [('id = "read_comment"\nlabel = "Comment on the read"\ntype = "text"',
       f'id = "read_comment"\nlabel = "Comment on the read"\ntype = "string"  {MARK}')],
     "read_fields[3].type", "is not one of choice, multi_choice"),
    ("missing protocol table",
     [("[protocol]\n", "[protocl]  # HERE\n")], "protocl", "did you mean 'protocol'?"),
]


@pytest.mark.parametrize("edits,path,fragment", [r[1:] for r in RULES], ids=[r[0] for r in RULES])
def test_validation_rule_names_line_and_field(edits: list[tuple[str, str]], path: str, fragment: str) -> None:
    text = mutate(*edits)
    line = marked_line(text)
    problems = problems_of(text)
    matching = [p for p in problems if p.path == path and fragment in p.message]
    assert matching, "\n".join(p.format("io.toml") for p in problems)
    problem = matching[0]
    assert problem.line == line
    assert problem.format("io.toml").startswith(f"io.toml:{line}: {path}: ")


def test_all_problems_are_collected_in_line_order() -> None:
    text = mutate(
        ("fraction = 0.10", "fraction = 0.7"),
        ("range = [0, 3000]", "range = [5, 1]"),
        ('unit = "mL"', 'unit = "ml"'),
        ('id = "haematoma"', 'id = "extravasation"'),
    )
    problems = problems_of(text)
    assert len(problems) >= 4
    lines = [p.line for p in problems]
    assert all(line is not None for line in lines)
    assert lines == sorted(lines)  # type: ignore[type-var]
    message = str(InvalidProtocol("io.toml", problems))
    assert message.count("\n") == len(problems) - 1
    assert all(line.startswith("io.toml:") for line in message.splitlines())


def test_example_message_from_the_brief() -> None:
    text = mutate(("range = [0, 3000]", "range = [5, 1]"))
    with pytest.raises(InvalidProtocol) as info:
        parse_protocol(text, "io.toml")
    line = text.splitlines().index("  range = [5, 1]") + 1
    assert str(info.value) == f"io.toml:{line}: findings[1].fields[2].range: expected [min, max] with min < max, got [5, 1]"


def test_toml_syntax_error_keeps_the_line() -> None:
    text = mutate(('title = "Intraosseous', 'title = Intraosseous'))
    line = next(i for i, s in enumerate(text.splitlines(), start=1) if s.startswith("title = Intra"))
    problems = problems_of(text)
    assert len(problems) == 1
    assert problems[0].line == line
    assert problems[0].message.startswith("TOML syntax error: ")
    assert problems[0].format("io.toml").startswith(f"io.toml:{line}: TOML syntax error")


def test_duplicate_toml_key_is_a_syntax_error_with_line() -> None:
    text = mutate(("washout_days = 28", "washout_days = 28\nwashout_days = 14"))
    line = text.splitlines().index("washout_days = 14") + 1
    (problem,) = problems_of(text)
    assert problem.line == line


def test_minimal_protocol_and_optional_tables() -> None:
    p = parse_protocol(
        """
        [protocol]
        id = "mini"
        version = "0.1"
        paradigm = "consensus_panel"
        readers_per_case = 5

        [[findings]]
        id = "needle"
        [[findings.fields]]
        id = "tip"
        type = "choice"
        choices = ["inside", "outside"]
        """
    )
    assert p.readers_per_case == 5 and p.title == "mini"
    assert p.rereads.fraction == 0.0 and p.timepoints == ()
    tip = p.field("needle.tip")
    assert tip.label == "Tip" and [c.label for c in tip.choices] == ["inside", "outside"]


def test_readers_default_from_paradigm() -> None:
    p = parse_protocol('[protocol]\nid = "m"\nversion = "1"\nparadigm = "two_of_three"\n'
                       '[[read_fields]]\nid = "q"\ntype = "boolean"\n')
    assert p.readers_per_case == 2


def test_presence_finding_needs_confidence_and_presence_tables() -> None:
    text = '[protocol]\nid = "m"\nversion = "1"\nparadigm = "two_plus_one"\n[[findings]]\nid = "f"\npresence = true\n'
    problems = problems_of(text)
    assert {p.path for p in problems} >= {"confidence", "presence"}


def test_missing_paradigm_and_version() -> None:
    problems = problems_of('[protocol]  # line 1\nid = "m"\n[[read_fields]]\nid = "q"\ntype = "text"\n')
    messages = [p.format("x.toml") for p in problems]
    assert "x.toml:1: protocol: missing key 'version'" in messages
    assert any(m.startswith("x.toml:1: protocol: missing key 'paradigm'") for m in messages)


def test_cross_finding_condition_binds_to_that_finding() -> None:
    text = mutate(("""shown_if = "filling_defect == true\"""", """shown_if = "osteomyelitis.abscess == true\""""))
    p = parse_protocol(text)
    cond = p.field("fat_embolism.filling_defect_hu").shown_if
    assert cond is not None and cond.keys() == ("osteomyelitis.abscess",)
