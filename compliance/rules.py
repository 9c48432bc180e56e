"""Load, validate and resolve licence rule files.

Every problem in every file is collected before anything is checked, and each one is reported as
``file:line $.json.path: message``. A publisher file holds the publisher and its default rules; a
partner file ``extends`` a publisher (or another partner), overrides inherited rules by id and may
add rules of its own.
"""

from __future__ import annotations

import datetime
import difflib
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from functools import cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from .checks import REGISTRY
from .errors import RuleError
from .model import Publisher, Rule
from .waivers import Waiver
from .waivers import schema as waiver_schema

RULE_SUFFIXES = (".yaml", ".yml", ".json")
PathKey = tuple[str | int, ...]


# ---------------------------------------------------------------------------------------------
# Reading YAML with line numbers


@dataclass
class Document:
    path: Path
    data: Any
    lines: dict[PathKey, int] = field(default_factory=dict)

    def line(self, key: PathKey) -> int:
        """The line of ``key`` or, failing that, of its nearest ancestor."""
        while key not in self.lines and key:
            key = key[:-1]
        return self.lines.get(key, 1)

    def at(self, key: PathKey, message: str) -> str:
        return f"{display(self.path)}:{self.line(key)} {json_path(key)}: {message}"


def display(path: Path) -> str:
    """``path`` relative to the working folder when it is inside it: shorter, clickable."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def json_path(key: Iterable[str | int]) -> str:
    out = "$"
    for part in key:
        if isinstance(part, int):
            out += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", part):
            out += f".{part}"
        else:
            out += f"[{json.dumps(part)}]"
    return out


def read_document(path: Path) -> tuple[Document | None, list[str]]:
    """Parse one YAML or JSON file, recording the line of every key and item."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [f"{display(path)}:1 $: cannot read the file: {exc}"]
    problems: list[str] = []
    doc = Document(path, None)
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, [f"{display(path)}:1 $: the file is empty"]

        def build(node: yaml.Node, key: PathKey) -> Any:
            doc.lines.setdefault(key, node.start_mark.line + 1)
            if isinstance(node, yaml.MappingNode):
                # Keys written here, as opposed to those a merge key (<<: *anchor) brings in,
                # which the ones written here override by design.
                own = {id(k) for k, _ in node.value if k.tag != "tag:yaml.org,2002:merge"}
                loader.flatten_mapping(node)
                result: dict[Any, Any] = {}
                written: set[Any] = set()
                for key_node, value_node in node.value:
                    name = loader.construct_object(key_node, deep=True)
                    child = (*key, str(name))
                    if id(key_node) in own:
                        doc.lines[child] = key_node.start_mark.line + 1
                        if name in written:
                            problems.append(doc.at(child, f"duplicate key {name!r}; the later "
                                                          "one would silently win, keep only one"))
                        written.add(name)
                    else:
                        doc.lines.setdefault(child, key_node.start_mark.line + 1)
                    result[name] = build(value_node, child)
                return result
            if isinstance(node, yaml.SequenceNode):
                return [build(item, (*key, i)) for i, item in enumerate(node.value)]
            value = loader.construct_object(node, deep=True)
            # YAML reads 2027-01-31 as a date; rule files and schemas speak JSON, so a string.
            return value.isoformat() if isinstance(value, datetime.date) else value

        doc.data = build(node, ())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark is not None else 1
        what = getattr(exc, "problem", None) or str(exc)
        return None, [f"{display(path)}:{line} $: not valid YAML/JSON: {what}"]
    finally:
        loader.dispose()
    return doc, problems


# ---------------------------------------------------------------------------------------------
# Schema validation


@cache
def file_schema() -> dict[str, Any]:
    text = resources.files("compliance").joinpath("schemas/rules.schema.json").read_text("utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def _format_checker() -> Any:
    import jsonschema
    import regex

    checker = jsonschema.FormatChecker(formats=())

    @checker.checks("regex", raises=(regex.error, TypeError))
    def _is_regex(value: object) -> bool:
        if isinstance(value, str):
            regex.compile(value)
        return True

    @checker.checks("css-selector", raises=(Exception,))
    def _is_css(value: object) -> bool:
        if isinstance(value, str) and value not in {"article", "body", "page"}:
            from cssselect import GenericTranslator

            GenericTranslator().css_to_xpath(value)
        return True

    @checker.checks("template", raises=ValueError)
    def _is_template(value: object) -> bool:
        if isinstance(value, str):
            from .checks.common import template_fields

            template_fields(value)
        return True

    return checker


def schema_problems(doc: Document, instance: Any, schema: Mapping[str, Any],
                    prefix: PathKey = ()) -> list[str]:
    """Every schema violation in ``instance``, as ``file:line $.path: message`` lines."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema, format_checker=_format_checker())
    problems: list[tuple[int, str]] = []
    for error in validator.iter_errors(instance):
        key: PathKey = (*prefix, *error.absolute_path)
        for sub_key, message in _explain(error, key):
            problems.append((doc.line(sub_key), doc.at(sub_key, message)))
    return [text for _, text in sorted(problems)]


def _explain(error: Any, key: PathKey) -> Iterator[tuple[PathKey, str]]:
    validator = error.validator
    if validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = sorted(error.schema.get("properties", {}))
        for name in error.instance:
            if name in allowed:
                continue
            close = difflib.get_close_matches(str(name), allowed, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            yield (*key, str(name)), (f"unknown key {name!r}; {hint}"
                                      f"allowed here: {', '.join(allowed) or 'none'}")
        return
    if validator == "required":
        missing = re.search(r"'(.+?)' is a required property", error.message)
        name = missing.group(1) if missing else error.message
        yield key, f"missing required key {name!r}"
        return
    if validator == "format":
        cause = f": {error.cause}" if error.cause else ""
        kind = {"regex": "regular expression", "css-selector": "CSS selector",
                "template": "wording template"}.get(error.validator_value, error.validator_value)
        yield key, f"invalid {kind} {error.instance!r}{cause}"
        return
    if validator == "pattern":
        field = next((k for k in reversed(key) if isinstance(k, str)), "")
        yield key, {
            "id": f"{error.instance!r} is not a valid id: use lower-case letters, digits and "
                  "single hyphens, e.g. 'credit-line'",
            "email": f"{error.instance!r} is not an e-mail address",
            "home": f"{error.instance!r} is not an http(s) URL",
            "domains": f"{error.instance!r} is not a host name such as 'example.com'",
        }.get(field, error.message)
        return
    if validator == "type":
        expected = error.validator_value
        got = type(error.instance).__name__.replace("NoneType", "null").replace("dict", "mapping")
        yield key, f"expected {expected if isinstance(expected, str) else ' or '.join(expected)}" \
                   f", got {got} {error.instance!r}"
        return
    yield key, error.message


# ---------------------------------------------------------------------------------------------
# Resolution


@dataclass
class Partner:
    id: str
    name: str
    publisher: Publisher
    rules: tuple[Rule, ...]
    domains: tuple[str, ...] = ()
    contacts: tuple[Mapping[str, str], ...] = ()
    file: Path | None = None
    fetch: Mapping[str, Any] = field(default_factory=dict)
    notify: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class RuleBook:
    """All partners of a rules folder, resolved and validated, and the waivers."""

    partners: dict[str, Partner]
    publishers: dict[str, Publisher]
    files: list[Path]
    waivers: tuple[Waiver, ...] = ()

    def partner(self, partner_id: str) -> Partner:
        return self.partners[partner_id]


def freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return MappingProxyType({k: freeze(v) for k, v in value.items()})
    if isinstance(value, list):
        return tuple(freeze(v) for v in value)
    return value


def discover(paths: Iterable[Path]) -> list[Path]:
    """Rule files named directly or found under folders (waivers live elsewhere)."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(
                sorted(p for p in path.rglob("*") if p.suffix in RULE_SUFFIXES and p.is_file()
                       and not p.name.startswith((".", "waivers")))
            )
        else:
            found.append(path)
    return found


class _Resolver:
    def __init__(self, root: Path | None) -> None:
        self.root = root
        self.docs: dict[Path, Document | None] = {}
        self.problems: list[str] = []
        self.resolved: dict[Path, tuple[Publisher | None, list[Rule]] | None] = {}

    def load(self, path: Path) -> Document | None:
        path = path.resolve()
        if path not in self.docs:
            doc, problems = read_document(path)
            self.problems.extend(problems)
            if doc is not None:
                if not isinstance(doc.data, dict):
                    self.problems.append(doc.at((), "a rule file must be a mapping with "
                                                     "'publisher' or 'partner' at the top"))
                    doc = None
                else:
                    self.problems.extend(self.check_document(doc))
            self.docs[path] = doc
        return self.docs[path]

    def check_document(self, doc: Document) -> list[str]:
        data = doc.data
        problems = schema_problems(doc, data, file_schema())
        if ("publisher" in data) == ("partner" in data):
            problems.append(doc.at((), "a rule file declares exactly one of 'publisher' "
                                       "(a publisher's defaults) or 'partner' (a partner's licence)"))
        partner = data.get("partner")
        if isinstance(partner, dict) and isinstance(partner.get("fetch"), dict):
            secrets = {"headers", "cookies", "basic_auth"} & set(partner["fetch"])
            if secrets and not partner.get("domains"):
                problems.append(doc.at(("partner", "fetch"), "fetch credentials need "
                                       "'domains' so that secrets are sent only to the partner's "
                                       "own site"))
        if "partner" in data and "extends" not in data:
            problems.append(doc.at(("partner",), "a partner file must 'extends' its publisher, "
                                                 "e.g. 'extends: rferl'"))
        rules = data.get("rules")
        seen: dict[str, int] = {}
        for index, rule in enumerate(rules if isinstance(rules, list) else []):
            if not isinstance(rule, dict):
                continue
            rule_id = rule.get("id")
            if isinstance(rule_id, str):
                if rule_id in seen:
                    problems.append(doc.at(("rules", index, "id"),
                                           f"duplicate rule id {rule_id!r} (also rules[{seen[rule_id]}])"))
                seen.setdefault(rule_id, index)
            problems.extend(self.check_params(doc, rule, ("rules", index), partial=False))
        return problems

    def check_params(self, doc: Document, rule: Mapping[str, Any], key: PathKey, *,
                     partial: bool, rule_type: str | None = None) -> list[str]:
        rule_type = rule_type or rule.get("type")
        if not isinstance(rule_type, str):
            return []
        module = REGISTRY.get(rule_type)
        if module is None:
            close = difflib.get_close_matches(rule_type, REGISTRY, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            return [doc.at((*key, "type"), f"unknown check type {rule_type!r}; {hint}known types: "
                                           f"{', '.join(sorted(REGISTRY))}")]
        params = rule.get("params", {})
        schema = dict(module.PARAMS)
        if partial:
            schema.pop("required", None)
        return schema_problems(doc, params, schema, (*key, "params"))

    def extends_target(self, doc: Document, value: str) -> Path | None:
        if "/" in value or value.endswith(RULE_SUFFIXES):
            return (doc.path.parent / value).resolve()
        roots = [self.root] if self.root else []
        roots.append(doc.path.parent.parent)
        for root in roots:
            for folder in ("publishers", "partners"):
                for suffix in RULE_SUFFIXES:
                    candidate = root / folder / f"{value}{suffix}"
                    if candidate.is_file():
                        return candidate.resolve()
        return None

    def resolve(self, path: Path, stack: tuple[Path, ...] = ()) -> tuple[Publisher | None,
                                                                          list[Rule]] | None:
        path = path.resolve()
        if path in stack:
            cycle = " -> ".join(p.name for p in (*stack[stack.index(path):], path))
            doc = self.docs.get(stack[-1])
            where = doc.at(("extends",), "") if doc else f"{stack[-1]}:1 $.extends: "
            self.problems.append(f"{where}'extends' makes a cycle: {cycle}; a partner extends its "
                                 "publisher, and a publisher extends nothing (or a shared base)")
            return None
        if path in self.resolved:
            return self.resolved[path]
        doc = self.load(path)
        result = None if doc is None else self._resolve_doc(doc, (*stack, path))
        self.resolved[path] = result
        return result

    def _resolve_doc(self, doc: Document, stack: tuple[Path, ...]) -> tuple[Publisher | None,
                                                                           list[Rule]] | None:
        data = doc.data
        publisher: Publisher | None = None
        inherited: list[Rule] = []
        extends = data.get("extends")
        if isinstance(extends, str):
            target = self.extends_target(doc, extends)
            if target is None or not target.is_file():
                self.problems.append(doc.at(("extends",), f"'extends: {extends}' names no rule "
                                            "file: expected publishers/<id>.yaml or "
                                            "partners/<id>.yaml in the rules folder, or a path "
                                            "relative to this file"))
                return None
            parent = self.resolve(target, stack)
            if parent is None:
                return None
            publisher, inherited = parent
        info = data.get("publisher")
        if isinstance(info, dict) and isinstance(info.get("id"), str):
            publisher = Publisher(info["id"], str(info.get("name", info["id"])),
                                  tuple(str(a) for a in info.get("aliases", []) or []),
                                  info.get("home"))
        rules = [r for r in (self._apply_override(doc, rule) for rule in inherited) if r]
        inherited_ids = {rule.id for rule in inherited}
        overrides = data.get("overrides")
        if isinstance(overrides, dict):
            for rule_id in overrides:
                if rule_id not in inherited_ids:
                    close = difflib.get_close_matches(str(rule_id), sorted(inherited_ids), n=1)
                    hint = f"did you mean {close[0]!r}? " if close else ""
                    self.problems.append(doc.at(("overrides", str(rule_id)),
                                                f"overrides {rule_id!r}, which is not an "
                                                f"inherited rule; {hint}inherited: "
                                                f"{', '.join(sorted(inherited_ids)) or 'none'}"))
        if publisher is None:
            self.problems.append(doc.at((), "no publisher: declare 'publisher' or 'extends' a "
                                            "publisher file"))
            return None
        for index, raw in enumerate(data.get("rules") or []):
            if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
                continue
            if raw["id"] in inherited_ids:
                self.problems.append(doc.at(("rules", index, "id"),
                                            f"rule {raw['id']!r} is already inherited; change it "
                                            f"under 'overrides: {raw['id']}:' instead"))
                continue
            if raw.get("enabled", True) is False:
                continue
            rules.append(Rule(
                id=raw["id"], type=str(raw.get("type")), params=freeze(raw.get("params") or {}),
                publisher=publisher, severity=raw.get("severity", "error"),
                description=raw.get("description"),
                source=f"{display(doc.path)}:{doc.line(('rules', index))}",
            ))
        return publisher, [replace(r, publisher=publisher) for r in rules]

    def _apply_override(self, doc: Document, rule: Rule) -> Rule | None:
        overrides = doc.data.get("overrides")
        change = overrides.get(rule.id) if isinstance(overrides, dict) else None
        if not isinstance(change, dict):
            return rule
        key: PathKey = ("overrides", rule.id)
        params = dict(rule.params)
        if isinstance(change.get("params"), dict):
            params.update(change["params"])
            # Overrides may omit what the publisher already set, so only the merged result
            # is checked for required keys.
            self.problems.extend(self.check_params(doc, change, key, partial=True,
                                                   rule_type=rule.type))
        if change.get("enabled") is False:
            return None
        return Rule(rule.id, rule.type, freeze(params), rule.publisher,
                    change.get("severity", rule.severity),
                    change.get("description", rule.description),
                    f"{display(doc.path)}:{doc.line(key)}")


def load_rulebook(root: Path, paths: Iterable[Path] | None = None) -> RuleBook:
    """Load and validate rule files (default: every file under ``root``); raise on any problem."""
    resolver = _Resolver(root if root.is_dir() else None)
    files = discover(list(paths) if paths is not None else [root])
    if paths is None and not root.is_dir():
        raise RuleError([f"{root}:1 $: rules folder not found; pass --rules DIR"])
    if not files:
        raise RuleError([f"{root}:1 $: no rule files (*.yaml, *.yml, *.json) found"])
    partners: dict[str, Partner] = {}
    publishers: dict[str, Publisher] = {}
    origins: dict[str, Path] = {}
    for path in files:
        if not path.exists():
            resolver.problems.append(f"{display(path)}:1 $: no such file")
            continue
        resolved = resolver.resolve(path)
        doc = resolver.docs.get(path.resolve())
        if resolved is None or doc is None:
            continue
        publisher, rules = resolved
        if publisher is not None:
            publishers[publisher.id] = publisher
        info = doc.data.get("partner")
        if isinstance(info, dict) and isinstance(info.get("id"), str) and publisher is not None:
            partner_id = info["id"]
            if partner_id in origins and origins[partner_id] != path.resolve():
                resolver.problems.append(doc.at(("partner", "id"), f"partner id {partner_id!r} "
                                                f"is also declared in {origins[partner_id]}"))
                continue
            origins[partner_id] = path.resolve()
            partners[partner_id] = Partner(
                id=partner_id, name=str(info.get("name", partner_id)), publisher=publisher,
                rules=tuple(rules), domains=tuple(info.get("domains", []) or []),
                contacts=tuple(freeze(c) for c in info.get("contacts", []) or []), file=path,
                fetch=freeze(info.get("fetch") or {}),
                notify=freeze(info.get("notify") or {}),
            )
    waivers: list[Waiver] = []
    if paths is None and (root / "waivers.yaml").exists():
        waivers = load_waivers(root / "waivers.yaml", partners, resolver.problems)
    problems = sorted(set(resolver.problems), key=_problem_order)
    if problems:
        raise RuleError(problems)
    return RuleBook(partners, publishers, files, tuple(waivers))


def load_waivers(path: Path, partners: Mapping[str, Partner], problems: list[str]) -> list[Waiver]:
    """Every waiver of ``path``, checked against the schema and the partners' rules."""
    doc, found = read_document(path)
    problems.extend(found)
    if doc is None:
        return []
    errors = schema_problems(doc, doc.data, waiver_schema())
    problems.extend(errors)
    if errors:
        return []
    waivers: list[Waiver] = []
    for index, item in enumerate(doc.data["waivers"]):
        key: PathKey = ("waivers", index)
        partner = partners.get(item["partner"])
        if partner is None:
            problems.append(doc.at((*key, "partner"), f"unknown partner {item['partner']!r}; "
                                   f"known: {', '.join(sorted(partners)) or 'none'}"))
            continue
        rule_ids = [r.id for r in partner.rules]
        if item["rule"] != "*" and item["rule"] not in rule_ids:
            problems.append(doc.at((*key, "rule"), f"{partner.id} has no rule {item['rule']!r}; "
                                   f"its rules: {', '.join(rule_ids)} (or * for all)"))
            continue
        try:
            expires = datetime.date.fromisoformat(item["expires"])
        except ValueError:
            problems.append(doc.at((*key, "expires"), f"{item['expires']!r} is not a date"))
            continue
        waivers.append(Waiver(f"{display(path)}:{doc.line(key)}", item["partner"], item["rule"],
                              item["reason"], item["approved_by"], expires, item.get("url"),
                              item.get("url_pattern")))
    return waivers


def _problem_order(text: str) -> tuple[str, int, str]:
    match = re.match(r"(.*?):(\d+) ", text)
    if not match:
        return (text, 0, text)
    return (match.group(1), int(match.group(2)), text)
