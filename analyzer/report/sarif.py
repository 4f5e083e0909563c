"""SARIF 2.1.0 output, built with sarif-om and serialised here.

sarif-om's own serialiser drops values equal to the schema default (a result's
`level: "warning"`) and is slow; code scanning wants the level explicit.  Fields
are written when they are set and differ from the class default, plus the ones
in `_EXPLICIT`.  Everything is emitted in a fixed order, so identical input
gives byte-identical logs.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import attr
import sarif_om as om

from analyzer import __version__
from analyzer.errors import InputError
from analyzer.ir import Finding, Rule
from analyzer.report import rulepage
from analyzer.report.fingerprints import KEY as FINGERPRINT_KEY
from analyzer.report.fingerprints import LEGACY_KEY, known, ordered
from analyzer.report.linehash import line_hashes

SCHEMA_URI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
INFORMATION_URI = "https://github.com/rcucheck/rcucheck"
AUTOMATION_ID = "rcucheck/scan/"
SRCROOT = "SRCROOT"
_EXPLICIT = {(om.Result, "level"), (om.ReportingConfiguration, "level")}


def serialise(obj):
    """sarif-om objects → plain JSON values, keeping explicit defaults that matter."""
    if attr.has(type(obj)):
        out = {}
        for f in attr.fields(type(obj)):
            value = getattr(obj, f.name)
            if value is None:
                continue
            default = f.default.factory() if isinstance(f.default, attr.Factory) else f.default
            if default is not attr.NOTHING and value == default and \
                    (type(obj), f.name) not in _EXPLICIT:
                continue
            out[f.metadata["schema_property_name"]] = serialise(value)
        return out
    if isinstance(obj, dict):
        return {k: serialise(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [serialise(v) for v in obj]
    return obj


def sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else text + "."


def rule_descriptor(rule: Rule) -> om.ReportingDescriptor:
    what = rule.doc.split("## Why is this bad")[0].replace("## What it finds", "").strip()
    first = " ".join(what.split("\n\n")[0].split())
    tags = [*rule.tags, *(f"external/cwe/{c.lower()}" for c in rule.cwe)]
    return om.ReportingDescriptor(
        id=rule.id,
        name=rule.name,
        short_description=om.MultiformatMessageString(text=sentence(rule.short)),
        full_description=om.MultiformatMessageString(text=sentence(first)),
        help=om.MultiformatMessageString(text=rule.doc, markdown=rule.doc),
        help_uri=f"{INFORMATION_URI}/blob/main/{rulepage.DOCS_PATH}/{rule.id}.md",
        default_configuration=om.ReportingConfiguration(level=rule.level),
        properties={"precision": rule.precision, "tags": tags,
                    "problem.severity": "recommendation" if rule.level == "note"
                    else rule.level},
    )


@dataclass
class SarifInput:
    """What a log is made of: the rules, the findings, and where files live."""

    rules: list[Rule]
    findings: list[Finding]
    root: Path
    rel: Callable[[str], str]
    notifications: list[tuple[str, str]] = field(default_factory=list)  # (file, message)
    baseline: set[str] | None = None
    # fingerprint -> the reviewer's reason, for findings a suppressions file covers
    suppressed: dict[str, str] = field(default_factory=dict)


def _location(loc, rel, message: str | None = None, ident: int | None = None) -> om.Location:
    return om.Location(
        id=ident,
        physical_location=om.PhysicalLocation(
            artifact_location=om.ArtifactLocation(uri=rel(loc.file), uri_base_id=SRCROOT),
            region=om.Region(start_line=loc.line, start_column=max(loc.col, 1)),
        ),
        message=om.Message(text=sentence(message)) if message else None,
    )


def build_log(inp: SarifInput) -> om.SarifLog:
    rules = sorted(inp.rules, key=lambda r: r.id)
    index = {r.id: i for i, r in enumerate(rules)}
    hashes: dict[str, list[str]] = {}
    results = []
    for f in ordered(inp.findings, inp.rel):
        fp = f.fingerprint
        rel = inp.rel(f.loc.file)
        partial = {}
        if rel not in hashes:
            try:
                hashes[rel] = line_hashes((inp.root / rel).read_text(errors="replace"))
            except OSError:
                hashes[rel] = []
        if 0 < f.loc.line <= len(hashes[rel]):
            partial["primaryLocationLineHash"] = hashes[rel][f.loc.line - 1]
        steps = [(loc, text) for loc, text in f.notes]
        related = [_location(loc, inp.rel, text, i + 1) for i, (loc, text) in enumerate(steps)]
        flow_locs = [om.ThreadFlowLocation(location=_location(loc, inp.rel, text))
                     for loc, text in [*steps, (f.loc, f.message)]]
        result = om.Result(
            rule_id=f.rule,
            rule_index=index[f.rule],
            level=f.level,
            message=om.Message(text=sentence(f.message)),
            locations=[_location(f.loc, inp.rel)],
            related_locations=related or None,
            code_flows=[om.CodeFlow(thread_flows=[om.ThreadFlow(locations=flow_locs)])],
            partial_fingerprints=partial or None,
            fingerprints={FINGERPRINT_KEY: fp, **({LEGACY_KEY: f.legacy_fingerprint}
                                                 if f.legacy_fingerprint else {})},
            properties={"function": f.function, "confidence": f.confidence,
                        **({"demotedBy": list(f.demoted_by)} if f.demoted_by else {}),
                        **({"exceptionOff": list(f.waived_by)} if f.waived_by else {})},
        )
        if fp in inp.suppressed:
            result.suppressions = [om.Suppression(kind="external",
                                                  justification=inp.suppressed[fp])]
        if inp.baseline is not None:
            result.baseline_state = "unchanged" if known(f, inp.baseline) else "new"
        results.append(result)
    notes = [om.Notification(
        message=om.Message(text=sentence(msg)), level="error",
        locations=[om.Location(physical_location=om.PhysicalLocation(
            artifact_location=om.ArtifactLocation(uri=inp.rel(path), uri_base_id=SRCROOT)))])
        for path, msg in inp.notifications]
    run = om.Run(
        tool=om.Tool(driver=om.ToolComponent(
            name="rcucheck", semantic_version=__version__, version=__version__,
            information_uri=INFORMATION_URI, rules=[rule_descriptor(r) for r in rules])),
        automation_details=om.RunAutomationDetails(id=AUTOMATION_ID),
        original_uri_base_ids={SRCROOT: om.ArtifactLocation(uri=inp.root.as_uri() + "/")},
        invocations=[om.Invocation(execution_successful=not inp.notifications,
                                   tool_execution_notifications=notes or None)],
        results=results,
        version_control_provenance=_provenance(inp.root),
        column_kind="unicodeCodePoints",
    )
    return om.SarifLog(version="2.1.0", schema_uri=SCHEMA_URI, runs=[run])


def _provenance(root: Path) -> list[om.VersionControlDetails] | None:
    """The tree's git revision, when it is a checkout with a remote."""
    if not (root / ".git").exists():
        return None

    def git(*args: str) -> str | None:
        try:
            out = subprocess.run(["git", "-C", str(root), *args], capture_output=True,
                                 text=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return out.stdout.strip() if out.returncode == 0 and out.stdout.strip() else None

    rev, remote = git("rev-parse", "HEAD"), git("remote", "get-url", "origin")
    if rev is None or remote is None:
        return None
    branch = git("rev-parse", "--abbrev-ref", "HEAD")
    return [om.VersionControlDetails(repository_uri=remote, revision_id=rev,
                                     branch=branch if branch and branch != "HEAD" else None,
                                     mapped_to=om.ArtifactLocation(uri="",
                                                                   uri_base_id=SRCROOT))]


def render(log: om.SarifLog) -> str:
    data = serialise(log)
    # `results: []` must stay even when empty: code scanning reads it as "clean"
    for run in data.get("runs", []):
        run.setdefault("results", [])
    data = {"$schema": data.pop("$schema"), "version": data.pop("version"), **data}
    return json.dumps(data, indent=2, sort_keys=False, ensure_ascii=False) + "\n"


def fingerprints_of(path: Path) -> set[str]:
    """The fingerprints of a previous log (for --baseline), of either scheme."""
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read baseline {path}: {exc}") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"baseline {path} is not valid JSON (line {exc.lineno})") from None
    out = set()
    try:
        for run in data["runs"]:
            for res in run.get("results", []):
                prints = res.get("fingerprints", {})
                out |= {prints[k] for k in (FINGERPRINT_KEY, LEGACY_KEY) if prints.get(k)}
    except (KeyError, TypeError, AttributeError):
        raise InputError(f"baseline {path} is not a SARIF log") from None
    return out


def merge(directory: Path) -> str:
    """One log from the fragments `rcucheck kbuild --sarif-dir` wrote, one per TU."""
    if not directory.is_dir():
        raise InputError(f"{directory} is not a directory")
    paths = sorted(directory.glob("*.sarif"))
    if not paths:
        raise InputError(f"no SARIF fragments (*.sarif) in {directory}")
    base = None
    results: dict[str, dict] = {}
    notes: list = []
    for path in paths:
        try:
            log = json.loads(path.read_text())
            run = log["runs"][0]
        except (OSError, ValueError, KeyError, IndexError, TypeError):
            raise InputError(f"{path} is not a SARIF log") from None
        if base is None:
            base = log
        for res in run.get("results", []):
            prints = res.get("fingerprints", {})
            fp = prints.get(FINGERPRINT_KEY) or prints.get(LEGACY_KEY) or json.dumps(res)
            results.setdefault(fp, res)
        for inv in run.get("invocations", []):
            notes.extend(inv.get("toolExecutionNotifications", []))
    run = base["runs"][0]
    index = {r["id"]: i for i, r in enumerate(run["tool"]["driver"]["rules"])}

    def key(res: dict):
        loc = res["locations"][0]["physicalLocation"]
        return (loc["artifactLocation"]["uri"], loc["region"]["startLine"],
                loc["region"].get("startColumn", 0), res["ruleId"])

    merged = sorted(results.values(), key=key)
    for res in merged:
        res["ruleIndex"] = index[res["ruleId"]]
    run["results"] = merged
    run["invocations"] = [{"executionSuccessful": not notes,
                           **({"toolExecutionNotifications": notes} if notes else {})}]
    return json.dumps(base, indent=2, ensure_ascii=False) + "\n"
