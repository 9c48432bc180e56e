"""Read a partner's resolved rule set back in plain English, for the rule authors in legal."""

from __future__ import annotations

from .checks import REGISTRY
from .rules import Partner


def explain_partner(partner: Partner) -> str:
    publisher = partner.publisher
    lines = [f"{partner.name} ({partner.id}) reprints articles of {publisher.name} "
             f"({publisher.id}) under {len(partner.rules)} rule"
             f"{'s' if len(partner.rules) != 1 else ''}:", ""]
    for number, rule in enumerate(partner.rules, start=1):
        consequence = "a violation" if rule.severity == "error" else "a warning"
        lines.append(f"{number}. [{rule.id}] {REGISTRY[rule.type].describe(rule)}")
        lines.append(f"   Missing it is {consequence}. Defined at {rule.source}.")
        if rule.description:
            lines.append(f"   Why: {rule.description}")
    return "\n".join(lines) + "\n"
