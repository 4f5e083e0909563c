"""A rule's documentation page (docs/rules/RULE.md), the target of SARIF's helpUri.

The page is the checker's docstring under a title, so `rcucheck explain`, the SARIF
help text and the page a code-review tool links to never disagree (a test keeps the
files in docs/rules/ equal to what this makes).
"""

from __future__ import annotations

from analyzer.ir import Rule

DOCS_PATH = "docs/rules"


def page(rule: Rule) -> str:
    facts = [f"level `{rule.level}`", f"precision `{rule.precision}`"]
    if rule.cwe:
        facts.append("CWE " + ", ".join(c.replace("CWE-", "") for c in rule.cwe))
    return (f"# {rule.id} ({rule.name})\n\n{rule.short}.\n\n"
            f"{'; '.join(facts)}. Run `rcucheck explain {rule.id}` for this page in a "
            "terminal.\n\n" + rule.doc.strip() + "\n")
