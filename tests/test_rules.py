"""Rule files: loading, inheritance, and every problem reported as file:line $.path: message."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from compliance.errors import RuleError
from compliance.rules import load_rulebook

from .conftest import RULES, run_cli


def write(root: Path, name: str, text: str) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def problems(root: Path) -> list[str]:
    with pytest.raises(RuleError) as caught:
        load_rulebook(root)
    return caught.value.problems


@pytest.fixture
def rules_dir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return Path("rules")


PUBLISHER = """
    publisher:
      id: rferl
      name: Radio Free Europe/Radio Liberty
      aliases: [RFE/RL]
      home: https://www.rferl.org/
    rules:
      - id: credit-line
        type: attribution_text
        params:
          text: "This article was originally published by {publisher} and is reprinted with permission."
      - id: link-to-original
        type: link_back
      - id: photo-credit
        type: photo_credit
"""


def test_bundled_rules_are_valid_and_resolve_the_seed_licence():
    book = load_rulebook(RULES)
    amn = book.partner("american-military-news")
    assert amn.publisher.id == "rferl"
    assert [(r.id, r.type, r.severity) for r in amn.rules] == [
        ("credit-line", "attribution_text", "error"),
        ("link-to-original", "link_back", "error"),
        ("photo-credit", "photo_credit", "error"),
    ]
    assert amn.rules[0].params["text"] == ("This article was originally published by {publisher}"
                                           " and is reprinted with permission.")
    assert amn.rules[1].params["followed"] is True


def test_partner_overrides_merge_params_change_severity_and_disable(rules_dir):
    write(rules_dir, "publishers/rferl.yaml", PUBLISHER)
    write(rules_dir, "partners/amn.yaml", """
        partner: {id: amn, name: AMN, domains: [americanmilitarynews.com]}
        extends: rferl
        overrides:
          credit-line:
            severity: warning
            params: {placement: start}
          photo-credit:
            enabled: false
        rules:
          - id: credit-link-home
            type: link_back
            params: {target: publisher_home}
    """)
    amn = load_rulebook(rules_dir).partner("amn")
    assert [r.id for r in amn.rules] == ["credit-line", "link-to-original", "credit-link-home"]
    credit = amn.rules[0]
    assert credit.severity == "warning"
    assert credit.params["placement"] == "start"
    assert credit.params["text"].startswith("This article was originally published by")
    assert credit.source == "rules/partners/amn.yaml:4"


def test_a_file_with_typos_yields_every_error_with_file_line_and_path(rules_dir):
    write(rules_dir, "publishers/rferl.yaml", """
        publisher:
          id: rferl
          name: Radio Free Europe/Radio Liberty
          home: www.rferl.org
        rules:
          - id: credit-line
            type: atribution_text
            sevrity: error
          - id: link-to-original
            type: link_back
            severity: fatal
            params:
              target: pattern
          - id: photo-credit
            type: photo_credit
            params:
              pattern: "(Kremlin"
              scope: "div[["
          - id: Bad_ID
            type: link_back
          - id: wording
            type: attribution_text
            params: {text: "Originally published by {publsher}.", placment: start}
    """)
    write(rules_dir, "partners/amn.yaml", """
        partner:
          id: amn
          name: AMN
          contacts:
            - email: not-an-email
        extends: rferl
        overrides:
          credit-lin:
            severity: warning
          photo-credit:
            params:
              min_size: -3
    """)
    assert problems(rules_dir) == [
        "rules/partners/amn.yaml:5 $.partner.contacts[0].email: 'not-an-email' is not an e-mail "
        "address",
        "rules/partners/amn.yaml:8 $.overrides.credit-lin: overrides 'credit-lin', which is not an "
        "inherited rule; did you mean 'credit-line'? inherited: Bad_ID, credit-line, "
        "link-to-original, photo-credit, wording",
        "rules/partners/amn.yaml:12 $.overrides.photo-credit.params.min_size: -3 is less than the "
        "minimum of 0",
        "rules/publishers/rferl.yaml:4 $.publisher.home: 'www.rferl.org' is not an http(s) URL",
        "rules/publishers/rferl.yaml:7 $.rules[0].type: unknown check type 'atribution_text'; did "
        "you mean 'attribution_text'? known types: attribution_text, link_back, photo_credit",
        "rules/publishers/rferl.yaml:8 $.rules[0].sevrity: unknown key 'sevrity'; did you mean "
        "'severity'? allowed here: description, enabled, id, params, severity, type",
        "rules/publishers/rferl.yaml:11 $.rules[1].severity: 'fatal' is not one of ['error', "
        "'warning']",
        "rules/publishers/rferl.yaml:12 $.rules[1].params: missing required key 'url_pattern'",
        "rules/publishers/rferl.yaml:17 $.rules[2].params.pattern: invalid regular expression "
        "'(Kremlin': missing ) at position 8",
        "rules/publishers/rferl.yaml:18 $.rules[2].params.scope: invalid CSS selector 'div[[': "
        "Expected ident or '*', got <DELIM '[' at 4>",
        "rules/publishers/rferl.yaml:19 $.rules[3].id: 'Bad_ID' is not a valid id: use lower-case "
        "letters, digits and single hyphens, e.g. 'credit-line'",
        "rules/publishers/rferl.yaml:23 $.rules[4].params.placment: unknown key 'placment'; did you "
        "mean 'placement'? allowed here: case_sensitive, match, placement, review_threshold, scope, "
        "text, threshold, within_words",
        "rules/publishers/rferl.yaml:23 $.rules[4].params.text: invalid wording template "
        "'Originally published by {publsher}.': unknown placeholder {publsher}; known: "
        "{publisher}, {original_url}, {title}, {author} (write {{ and }} for literal braces)",
    ]


def test_broken_extends_chains_missing_file_and_cycle(rules_dir):
    write(rules_dir, "publishers/a.yaml", "publisher: {id: a, name: A}\nextends: b\n")
    write(rules_dir, "publishers/b.yaml", "publisher: {id: b, name: B}\nextends: a\n")
    write(rules_dir, "partners/p.yaml", "partner: {id: p, name: P}\nextends: nowhere\n")
    assert problems(rules_dir) == [
        "rules/partners/p.yaml:2 $.extends: 'extends: nowhere' names no rule file: expected "
        "publishers/<id>.yaml or partners/<id>.yaml in the rules folder, or a path relative to "
        "this file",
        "rules/publishers/b.yaml:2 $.extends: 'extends' makes a cycle: a.yaml -> b.yaml -> a.yaml; "
        "a partner extends its publisher, and a publisher extends nothing (or a shared base)",
    ]


def test_structural_problems(rules_dir):
    write(rules_dir, "publishers/rferl.yaml", PUBLISHER)
    write(rules_dir, "partners/dup.yaml", """
        partner: {id: dup, name: Dup}
        partner: {id: dup2, name: Dup}
        extends: rferl
        rules:
          - id: credit-line
            type: link_back
    """)
    write(rules_dir, "partners/orphan.yaml", "partner: {id: orphan, name: Orphan}\n")
    write(rules_dir, "partners/broken.yaml", "partner: {id: broken\n  name: [\n")
    write(rules_dir, "partners/list.json", '["not", "a", "mapping"]\n')
    found = problems(rules_dir)
    assert found[0] == ("rules/partners/broken.yaml:2 $: not valid YAML/JSON: expected ',' or "
                        "'}', but got ':'")
    assert found[1:] == [
        "rules/partners/dup.yaml:2 $.partner: duplicate key 'partner'; the later one would "
        "silently win, keep only one",
        "rules/partners/dup.yaml:5 $.rules[0].id: rule 'credit-line' is already inherited; change "
        "it under 'overrides: credit-line:' instead",
        "rules/partners/list.json:1 $: a rule file must be a mapping with 'publisher' or "
        "'partner' at the top",
        "rules/partners/orphan.yaml:1 $.partner: a partner file must 'extends' its publisher, e.g. "
        "'extends: rferl'",
        "rules/partners/orphan.yaml:1 $: no publisher: declare 'publisher' or 'extends' a "
        "publisher file",
    ]


def test_json_rule_files_are_accepted(rules_dir):
    write(rules_dir, "publishers/rferl.yaml", PUBLISHER)
    write(rules_dir, "partners/j.json", """
        {"partner": {"id": "j", "name": "J"},
         "extends": "../publishers/rferl.yaml",
         "overrides": {"link-to-original": {"params": {"followed": false}}}}
    """)
    book = load_rulebook(rules_dir)
    assert book.partner("j").rules[1].params["followed"] is False


def test_yaml_anchors_merge_keys_and_x_keys_are_accepted(rules_dir):
    write(rules_dir, "publishers/rferl.yaml", PUBLISHER)
    write(rules_dir, "partners/a.yaml", """
        x-warning: &warning
          severity: warning
        partner: {id: a, name: A}
        extends: rferl
        rules:
          - &home
            id: home-link
            type: link_back
            <<: *warning
            params: {target: publisher_home}
          - <<: *home
            id: home-link-nofollow-ok
            params: {target: publisher_home, followed: false}
    """)
    rules = {r.id: r for r in load_rulebook(rules_dir).partner("a").rules}
    assert (rules["home-link"].severity, rules["home-link"].params) == (
        "warning", {"target": "publisher_home"})
    assert (rules["home-link-nofollow-ok"].severity, rules["home-link-nofollow-ok"].params) == (
        "warning", {"target": "publisher_home", "followed": False})


def test_a_key_written_twice_is_still_an_error_next_to_a_merge_key(rules_dir):
    write(rules_dir, "publishers/rferl.yaml", PUBLISHER)
    write(rules_dir, "partners/a.yaml", """
        x-base: &base {type: photo_credit}
        partner: {id: a, name: A}
        extends: rferl
        rules:
          - <<: *base
            id: one
            id: two
    """)
    assert problems(rules_dir) == [
        "rules/partners/a.yaml:7 $.rules[0].id: duplicate key 'id'; the later one would "
        "silently win, keep only one"]


def test_validate_command_exit_codes(rules_dir):
    write(rules_dir, "publishers/rferl.yaml", PUBLISHER.replace("type: link_back", "type: linkback"))
    result = run_cli("rules", "validate", "--rules", str(rules_dir.resolve()))
    assert result.returncode == 2
    assert "$.rules[1].type: unknown check type 'linkback'; did you mean 'link_back'?" in result.stderr
    assert result.stderr.strip().endswith("1 problem in the rule files; nothing was checked")

    ok = run_cli("rules", "validate")
    assert ok.returncode == 0
    assert ok.stdout == "6 rule files valid (4 partners, 2 publishers)\n"


def test_explain_reads_the_licence_back():
    result = run_cli("rules", "explain", "american-military-news")
    assert result.returncode == 0
    assert ('1. [credit-line] The text "This article was originally published by Radio Free '
            'Europe/Radio Liberty and is reprinted with permission." must appear in the article'
            in result.stdout)
