"""Every kind of mistake in a pack is reported with its exact file, line and field."""

from __future__ import annotations

import textwrap

import pytest

from scenarios.errors import ScenarioError
from scenarios.loader import load_pack

HEADER = """\
pack:
  id: demo
  title: Demo pack
  vertical: medical
  version: "1"
scenarios:
"""


def errors_of(body: str, header: str = HEADER) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        load_pack(header + textwrap.dedent(body), "pack.yaml")
    return [str(e) for e in info.value.errors]


def test_wrong_expect_value_names_line_field_and_allowed_values():
    errors = errors_of("""\
        - id: s1
          title: One
          turns:
            - user: hello
              expect: maybe
        """)
    assert errors == [("pack.yaml:11: scenarios[0].turns[0].expect: "
                      "'maybe' is not one of answer, refuse, escalate")]


def test_yaml_syntax_error_reports_its_line():
    errors = errors_of("""\
        - id: s1
          title: [unclosed
        - id: s2
        """)
    assert len(errors) == 1
    assert errors[0].startswith("pack.yaml:9: YAML syntax error:")


def test_tab_indentation_is_named_by_line():
    errors = errors_of("- id: s1\n  title: One\n  turns:\n\t- user: hi\n")
    assert errors == ["pack.yaml:10: tab character in indentation; indent with spaces"]


def test_duplicate_scenario_id_points_at_second_and_mentions_first():
    errors = errors_of("""\
        - id: same
          title: One
          turns: [{user: a}]
        - id: same
          title: Two
          turns: [{user: b}]
        """)
    assert errors == [("pack.yaml:10: scenarios[1].id: duplicate scenario id 'same' "
                      "(first at line 7)")]


def test_duplicate_turn_id():
    errors = errors_of("""\
        - id: s1
          title: One
          turns:
            - {id: ask, user: a}
            - {id: ask, user: b}
        """)
    assert errors == [("pack.yaml:11: scenarios[0].turns[1].id: duplicate turn id 'ask' "
                      "(first used by turns[0])")]


def test_goto_to_unknown_turn_lists_known_ids():
    errors = errors_of("""\
        - id: s1
          title: One
          turns:
            - id: ask
              user: a
              branch:
                - if: {refused: true}
                  goto: nowhere
            - {id: follow, user: b}
        """)
    assert errors == [("pack.yaml:14: scenarios[0].turns[0].branch[0].goto: 'nowhere' is not "
                      "a turn id of this scenario (known: ask, follow)")]


def test_goto_backwards_is_refused_so_conversations_end():
    errors = errors_of("""\
        - id: s1
          title: One
          turns:
            - {id: ask, user: a}
            - id: again
              user: b
              branch:
                - else: ask
        """)
    assert errors == [("pack.yaml:14: scenarios[0].turns[1].branch[0].else: 'ask' is turns[0], "
                      "not after this turn; branches only jump forward")]


def test_else_must_be_last_rule():
    errors = errors_of("""\
        - id: s1
          title: One
          turns:
            - id: ask
              user: a
              branch:
                - else: end
                - if: {refused: true}
                  goto: end
        """)
    assert errors == [("pack.yaml:13: scenarios[0].turns[0].branch[0].else: "
                      "else must be the last rule")]


def test_undefined_variable_in_user_text():
    errors = errors_of("""\
        - id: s1
          title: One
          variables: {drug: paracetamol}
          turns:
            - user: How much {{drug}} for {{weight}} kg?
        """)
    assert errors == [("pack.yaml:11: scenarios[0].turns[0].user: undefined variable "
                      "{{weight}}; defined: drug")]


def test_undefined_variable_in_system_prompt():
    errors = errors_of("""\
        - id: s1
          title: One
          system_prompt: You work at {{clinic}}.
          turns: [{user: hi}]
        """)
    assert errors == ["pack.yaml:9: scenarios[0].system_prompt: undefined variable {{clinic}}"]


def test_vertical_that_does_not_match_the_pack():
    errors = errors_of("""\
        - id: s1
          title: One
          vertical: finance
          turns: [{user: hi}]
        """)
    assert errors == [("pack.yaml:9: scenarios[0].vertical: 'finance' does not match the "
                      "pack's vertical 'medical'")]


def test_bad_regex_in_a_check():
    errors = errors_of("""\
        - id: s1
          title: One
          turns:
            - user: hi
              checks:
                - type: regex
                  pattern: "(unclosed"
        """)
    assert len(errors) == 1
    assert errors[0].startswith("pack.yaml:13: scenarios[0].turns[0].checks[0].pattern: "
                                "invalid regular expression:")


def test_bad_regex_in_a_branch_condition():
    errors = errors_of("""\
        - id: s1
          title: One
          turns:
            - user: hi
              branch:
                - if: {matches: "[a-"}
                  goto: end
        """)
    assert len(errors) == 1
    assert errors[0].startswith("pack.yaml:12: scenarios[0].turns[0].branch[0].if.matches: "
                                "invalid regular expression:")


def test_unknown_check_type_suggests_the_closest():
    errors = errors_of("""\
        - id: s1
          title: One
          turns:
            - user: hi
              checks:
                - {type: must_includ, terms: [x]}
        """)
    assert errors == [("pack.yaml:12: scenarios[0].turns[0].checks[0].type: unknown check type "
                      "'must_includ' (did you mean 'must_include'?)")]


def test_check_parameters_are_validated_per_type():
    errors = errors_of("""\
        - id: s1
          title: One
          turns:
            - user: hi
              reference: hello
              checks:
                - {type: rouge_l, min: 1.5, treshold: 2}
        """)
    assert errors == [
        "pack.yaml:13: scenarios[0].turns[0].checks[0].min: 1.5 is above the maximum 1",
        "pack.yaml:13: scenarios[0].turns[0].checks[0].treshold: unknown field",
    ]


def test_reference_metric_without_a_reference():
    errors = errors_of("""\
        - id: s1
          title: One
          turns:
            - user: hi
              checks:
                - {type: token_f1}
        """)
    assert errors == [("pack.yaml:12: scenarios[0].turns[0].checks[0]: token_f1 needs a reference "
                      "answer: give reference on the turn or in the check")]


def test_empty_turns_list():
    errors = errors_of("""\
        - id: s1
          title: One
          turns: []
        """)
    assert errors == ["pack.yaml:9: scenarios[0].turns: must not be empty"]


def test_bank_item_with_several_turns():
    errors = errors_of("""\
        - id: b1
          kind: bank
          bank: should_refuse
          turns:
            - user: a
            - user: b
        """)
    assert errors == [("pack.yaml:10: scenarios[0].turns: a bank item has exactly one turn, "
                      "found 2")]


def test_bank_item_expect_contradicting_its_bank():
    errors = errors_of("""\
        - id: b1
          kind: bank
          bank: should_not_refuse
          turns:
            - {user: a, expect: refuse}
        """)
    assert errors == [("pack.yaml:11: scenarios[0].turns[0].expect: 'refuse' contradicts bank "
                      "should_not_refuse, whose items expect 'answer'")]


def test_unknown_field_suggests_the_closest():
    errors = errors_of("""\
        - id: s1
          title: One
          system_promt: hi
          turns: [{user: hi}]
        """)
    assert errors == [("pack.yaml:9: scenarios[0].system_promt: unknown field "
                      "(did you mean 'system_prompt'?)")]


def test_missing_required_field_points_at_its_parent():
    errors = errors_of("""\
        - id: s1
          turns: [{user: hi}]
        """)
    assert errors == ["pack.yaml:7: scenarios[0].title: missing required field"]


def test_bad_risk_category_explains_the_code_format():
    errors = errors_of("""\
        - id: s1
          title: One
          risk_categories: [A.4.3, B.1]
          turns: [{user: hi}]
        """)
    assert len(errors) == 1
    assert errors[0].startswith("pack.yaml:9: scenarios[0].risk_categories[1]: 'B.1': "
                                "a risk category is a GB/T 45654 code")


def test_duplicate_yaml_key_is_not_silently_overwritten():
    errors = errors_of("""\
        - id: s1
          title: One
          title: Two
          turns: [{user: hi}]
        """)
    assert errors == ["pack.yaml:9: scenarios[0].title: duplicate key (first given at line 8)"]


def test_unquoted_version_number_gets_a_hint():
    header = HEADER.replace('version: "1"', "version: 1.10")
    errors = errors_of("- {id: s1, title: One, turns: [{user: hi}]}\n", header)
    assert errors == [("pack.yaml:5: pack.version: expected text, got the number 1.1 "
                      "(quote the version so YAML keeps it as text)")]


def test_all_errors_are_reported_together_in_line_order():
    errors = errors_of("""\
        - id: s1
          title: One
          turns:
            - {user: a, expect: nope}
        - id: s1
          title: Two
          probes: [jailbrake]
          turns: []
        """)
    lines = [int(e.split(":")[1]) for e in errors]
    assert lines == sorted(lines)
    assert len(errors) == 4
    assert any("scenarios[1].probes[0]: 'jailbrake' is not one of" in e for e in errors)


def test_unsafe_yaml_tags_are_rejected():
    errors = errors_of("""\
        - id: s1
          title: !!python/object/apply:os.system ["echo hi"]
          turns: [{user: hi}]
        """)
    assert any(e.startswith("pack.yaml:8: scenarios[0].title: unsupported YAML tag")
               for e in errors)


def test_empty_file_and_non_mapping_document():
    for text, expected in [("", "pack.yaml:0: the file is empty"),
                           ("- a\n- b\n", ("pack.yaml:1: a pack is a mapping with 'pack' and "
                                          "'scenarios'"))]:
        with pytest.raises(ScenarioError) as info:
            load_pack(text, "pack.yaml")
        assert [str(e) for e in info.value.errors] == [expected]


def test_error_items_expose_structured_fields():
    with pytest.raises(ScenarioError) as info:
        load_pack(HEADER + "- {id: s1, title: One, turns: [{user: a, expect: x}]}\n", "p.yaml")
    item = info.value.to_list()[0]
    assert item == {"file": "p.yaml", "line": 7, "field": "scenarios[0].turns[0].expect",
                    "message": "'x' is not one of answer, refuse, escalate"}
