"""A self-contained HTML report: each finding on its source, with its path marked.

Built from a SARIF log, so `scan --format html` and `report DIR --html` (kbuild's
fragments) show the same thing: a summary by rule and by file, then for each finding
the source around it with the steps of its code flow numbered on their lines, the
rule's documentation, and links to the previous, next and same-function findings.
No script, no network fetch; everything taken from source or messages is escaped.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from urllib.parse import unquote, urlparse

_CODE = re.compile(r"`([^`]+)`")
CONTEXT = 3   # source lines shown around the steps
GAP = 12      # steps further apart than this get separate windows

CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:0 auto;max-width:1100px;padding:0 1em;
color:#1b1b1b}
h1{font-size:1.5em}h2{font-size:1.1em;margin:.2em 0}
table.sum{border-collapse:collapse;margin:.5em 0 1.5em}
table.sum td,table.sum th{border:1px solid #ccc;padding:.2em .6em;text-align:left}
section.finding{border:1px solid #ccc;border-radius:6px;margin:1.2em 0;padding:.6em 1em}
section.finding.suppressed{opacity:.65}
.warning{color:#a40000}.note{color:#1d4f91}.error{color:#a40000}
nav a{margin-right:1em}
table.src{border-collapse:collapse;font:12.5px/1.4 ui-monospace,monospace;width:100%;
background:#fafafa}
table.src td{padding:0 .5em;vertical-align:top;white-space:pre}
td.ln{color:#888;text-align:right;user-select:none;width:4em}
tr.hit td.code{background:#ffe9e6}tr.stepline td.code{background:#eef4ff}
tr.gap td{color:#888}
tr.steptext td{white-space:normal;font-family:system-ui,sans-serif;color:#1d4f91}
span.step{display:inline-block;min-width:1.4em;border-radius:.7em;background:#1d4f91;
color:#fff;text-align:center;font-size:11px;margin-right:.4em}
span.step.last{background:#a40000}
pre.doc{white-space:pre-wrap;background:#f4f4f4;padding:.6em;border-radius:4px}
details{margin:.4em 0}
"""


@dataclass
class Step:
    file: str
    line: int
    text: str
    number: int
    last: bool = False


@dataclass
class Item:
    ident: str
    rule: str
    level: str
    file: str
    line: int
    message: str
    function: str
    steps: list[Step] = field(default_factory=list)
    suppressed: str | None = None
    confidence: str = ""
    demoted_by: tuple[str, ...] = ()


def _evidence(i: Item) -> str:
    """How sure the finding is, and the registered exception that made it a note."""
    out = f"; confidence {escape(i.confidence)}" if i.confidence else ""
    if i.demoted_by:
        out += "; demoted to a note by " + ", ".join(
            f'<code class="exception">{escape(e)}</code>' for e in i.demoted_by)
    return out


def _uri_to_path(uri: str) -> Path | None:
    u = urlparse(uri)
    return Path(unquote(u.path)) if u.scheme in ("file", "") and u.path else None


def _items(run: dict) -> list[Item]:
    items = []
    for i, r in enumerate(run.get("results", []), 1):
        loc = r["locations"][0]["physicalLocation"]
        file = loc["artifactLocation"]["uri"]
        line = loc.get("region", {}).get("startLine", 0)
        steps = []
        for flow in r.get("codeFlows", [])[:1]:
            for tf in flow.get("threadFlows", [])[:1]:
                locs = tf.get("locations", [])
                for n, tfl in enumerate(locs, 1):
                    pl = tfl["location"]["physicalLocation"]
                    steps.append(Step(pl["artifactLocation"]["uri"],
                                      pl.get("region", {}).get("startLine", 0),
                                      tfl["location"].get("message", {}).get("text", ""), n,
                                      n == len(locs)))
        sup = r.get("suppressions") or []
        props = r.get("properties", {})
        items.append(Item(f"f{i}", r["ruleId"], r.get("level", "warning"), file, line,
                          r["message"]["text"], props.get("function", ""),
                          steps, (sup[0].get("justification") or "suppressed") if sup else None,
                          props.get("confidence", ""), tuple(props.get("demotedBy", ()))))
    return items


class _Sources:
    """Source files by their SARIF uri, read once, relative to the run's SRCROOT."""

    def __init__(self, run: dict, root: Path | None):
        base = run.get("originalUriBaseIds", {}).get("SRCROOT", {}).get("uri")
        self.root = root or (_uri_to_path(base) if base else None)
        self.cache: dict[str, list[str] | None] = {}

    def lines(self, uri: str) -> list[str] | None:
        if uri not in self.cache:
            path = _uri_to_path(uri)
            if path is not None and not path.is_absolute() and self.root is not None:
                path = self.root / path
            try:
                self.cache[uri] = path.read_text(errors="replace").splitlines() \
                    if path is not None else None
            except OSError:
                self.cache[uri] = None
        return self.cache[uri]


def _windows(lines: list[int], total: int) -> list[tuple[int, int]]:
    """Line ranges to show: the steps' lines with context, split where they are far apart."""
    out: list[tuple[int, int]] = []
    for n in sorted(set(lines)):
        lo, hi = max(1, n - CONTEXT), min(total, n + CONTEXT)
        if out and lo <= out[-1][1] + GAP:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out


def _source(item: Item, sources: _Sources) -> str:
    text = sources.lines(item.file)
    here = [s for s in item.steps if s.file == item.file]
    if not here:
        here = [Step(item.file, item.line, item.message, 1, True)]
    elsewhere = [s for s in item.steps if s.file != item.file]
    out = []
    if text is None:
        out.append(f"<p>(source of {escape(item.file)} not available)</p><ol>")
        out += [f"<li>{escape(s.file)}:{s.line}: {escape(s.text)}</li>" for s in item.steps]
        out.append("</ol>")
        return "".join(out)
    by_line: dict[int, list[Step]] = defaultdict(list)
    for s in here:
        by_line[s.line].append(s)
    out.append('<table class="src">')
    windows = _windows(list(by_line), len(text))
    for k, (lo, hi) in enumerate(windows):
        if k:
            out.append('<tr class="gap"><td class="ln">⋮</td><td></td></tr>')
        for n in range(lo, hi + 1):
            steps = by_line.get(n, [])
            cls = "hit" if n == item.line else "stepline" if steps else ""
            badges = "".join(f'<span class="step{" last" if s.last else ""}">{s.number}'
                             "</span>" for s in steps)
            out.append(f'<tr class="{cls}" id="{item.ident}-l{n}"><td class="ln">{n}</td>'
                       f'<td class="code">{badges}{escape(text[n - 1])}</td></tr>')
            for s in steps:
                out.append(f'<tr class="steptext"><td></td><td><span class="step'
                           f'{" last" if s.last else ""}">{s.number}</span>'
                           f"{escape(s.text)}</td></tr>")
    out.append("</table>")
    if elsewhere:
        out.append("<p>Steps in other files:</p><ol>")
        out += [f'<li value="{s.number}">{escape(s.file)}:{s.line}: {escape(s.text)}</li>'
                for s in elsewhere]
        out.append("</ol>")
    return "".join(out)


def _doc(markdown: str) -> str:
    """The rule's documentation: headings, paragraphs and code blocks, escaped."""
    out: list[str] = []
    para: list[str] = []
    code: list[str] | None = None

    def flush() -> None:
        if para:
            out.append("<p>" + _CODE.sub(r"<code>\1</code>", escape(" ".join(para))) + "</p>")
            para.clear()

    for line in markdown.splitlines():
        if line.startswith("```"):
            flush()
            if code is None:
                code = []
            else:
                out.append(f'<pre class="doc">{escape(chr(10).join(code))}</pre>')
                code = None
        elif code is not None:
            code.append(line)
        elif line.startswith("## "):
            flush()
            out.append(f"<h3>{escape(line[3:])}</h3>")
        elif line.strip():
            para.append(line.strip())
        else:
            flush()
    flush()
    return "".join(out)


def from_sarif(log: dict, root: Path | None = None, title: str = "rcucheck report") -> str:
    """One HTML page for every run of a SARIF log."""
    body = [f"<h1>{escape(title)}</h1>"]
    for run in log.get("runs", []):
        rules = {r["id"]: r for r in run.get("tool", {}).get("driver", {}).get("rules", [])}
        items = _items(run)
        sources = _Sources(run, root)
        levels = Counter(i.level for i in items if not i.suppressed)
        n_sup = sum(1 for i in items if i.suppressed)
        files = sorted({i.file for i in items})
        body.append(f"<p>{len(items) - n_sup} findings in {len(files)} files: "
                    + ", ".join(f'<span class="{escape(k)}">{v} {escape(k)}'
                                f'{"s" if v != 1 else ""}</span>'
                                for k, v in sorted(levels.items()))
                    + (f"; {n_sup} suppressed" if n_sup else "") + "</p>")
        by_rule = Counter(i.rule for i in items)
        body.append('<table class="sum" id="by-rule"><tr><th>rule</th><th>findings</th>'
                    "<th>first</th></tr>")
        for rid, n in sorted(by_rule.items()):
            first = next(i for i in items if i.rule == rid)
            body.append(f'<tr><td><a href="#rule-{escape(rid)}">{escape(rid)}</a></td>'
                        f'<td>{n}</td><td><a href="#{first.ident}">{escape(first.file)}:'
                        f"{first.line}</a></td></tr>")
        body.append("</table>")
        body.append('<table class="sum" id="by-file"><tr><th>file</th><th>findings</th>'
                    "<th>where</th></tr>")
        for f in files:
            mine = [i for i in items if i.file == f]
            links = " ".join(f'<a href="#{i.ident}">{i.line}</a>' for i in mine)
            body.append(f"<tr><td>{escape(f)}</td><td>{len(mine)}</td><td>{links}</td></tr>")
        body.append("</table>")
        by_fn: dict[tuple[str, str], list[Item]] = defaultdict(list)
        for i in items:
            by_fn[(i.file, i.function)].append(i)
        for k, i in enumerate(items):
            nav = []
            if k:
                nav.append(f'<a href="#{items[k - 1].ident}">← previous</a>')
            if k + 1 < len(items):
                nav.append(f'<a href="#{items[k + 1].ident}">next →</a>')
            nav.append(f'<a href="#rule-{escape(i.rule)}">about {escape(i.rule)}</a>')
            others = [o for o in by_fn[(i.file, i.function)] if o is not i]
            if others:
                nav.append(f"also in {escape(i.function)}(): " + " ".join(
                    f'<a href="#{o.ident}">{escape(o.rule)} at {o.line}</a>' for o in others))
            sup = (f'<p class="suppressed-why">Suppressed: {escape(i.suppressed)}</p>'
                   if i.suppressed else "")
            body.append(
                f'<section class="finding{" suppressed" if i.suppressed else ""}" '
                f'id="{i.ident}" data-rule="{escape(i.rule)}" data-steps="{len(i.steps)}">'
                f'<h2>{escape(i.file)}:{i.line}: <span class="{escape(i.level)}">'
                f"{escape(i.level)}</span>: {escape(i.message)} [{escape(i.rule)}]</h2>"
                f"<p>in {escape(i.function)}(){_evidence(i)}</p>{sup}"
                f"<nav>{' '.join(nav)}</nav>"
                f"{_source(i, sources)}</section>")
        body.append("<h1>Rules</h1>")
        for rid in sorted(by_rule):
            r = rules.get(rid, {})
            doc = r.get("help", {}).get("markdown") or r.get("help", {}).get("text", "")
            body.append(f'<section class="rule" id="rule-{escape(rid)}"><h2>{escape(rid)}'
                        "</h2><details open><summary>documentation</summary>"
                        f"{_doc(doc)}</details></section>")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{escape(title)}</title><style>{CSS}</style></head><body>"
            + "\n".join(body) + "</body></html>\n")
