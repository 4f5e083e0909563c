"""The HTML report, loaded in a real browser (Debian's headless Chromium)."""

import json
import os
import shutil
import subprocess
from html.parser import HTMLParser

import pytest

from analyzer.report.html import from_sarif
from tests.conftest import run_cli


def _browser() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true but chromium is missing: scripts/test installs it")
        pytest.skip("chromium is not installed")
    return exe


class _Dom(HTMLParser):
    """The rendered DOM as a flat list of (tag, attributes, text inside it)."""

    def __init__(self):
        super().__init__()
        self.elements, self.open = [], []

    def handle_starttag(self, tag, attrs):
        el = [tag, dict(attrs), ""]
        self.elements.append(el)
        if tag not in ("meta", "br", "img", "link", "input"):
            self.open.append(el)

    def handle_endtag(self, tag):
        while self.open:
            if self.open.pop()[0] == tag:
                break

    def handle_data(self, data):
        for el in self.open:
            el[2] += data

    def find(self, tag, cls=None):
        return [e for e in self.elements if e[0] == tag and
                (cls is None or cls in e[1].get("class", "").split())]


def rendered(path) -> _Dom:
    """What Chromium builds from the page (no network: the page must need none)."""
    out = subprocess.run([_browser(), "--headless", "--no-sandbox", "--disable-gpu",
                          "--disable-dev-shm-usage",
                          "--dump-dom", path.as_uri()],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    dom = _Dom()
    dom.feed(out.stdout)
    return dom


def _log(tmp_path, message, source):
    (tmp_path / "mm").mkdir()
    (tmp_path / "mm" / "x.c").write_text(source)

    def loc(line, text=None):
        d = {"physicalLocation": {"artifactLocation": {"uri": "mm/x.c", "uriBaseId": "SRCROOT"},
                                  "region": {"startLine": line}}}
        if text:
            d["message"] = {"text": text}
        return d

    flow = [{"location": loc(2, "rcu_read_lock() enters the section")},
            {"location": loc(4, "taking the true branch of `a < b`")},
            {"location": loc(6, message)}]
    return {"version": "2.1.0", "runs": [{
        "tool": {"driver": {"name": "rcucheck", "rules": [
            {"id": "rcu-unbalanced", "help": {"text": "## What it finds\nx `<y>`\n",
                                              "markdown": "## What it finds\nx `<y>`\n"}}]}},
        "originalUriBaseIds": {"SRCROOT": {"uri": tmp_path.as_uri() + "/"}},
        "results": [{"ruleId": "rcu-unbalanced", "level": "warning",
                     "message": {"text": message}, "locations": [loc(6)],
                     "codeFlows": [{"threadFlows": [{"locations": flow}]}],
                     "properties": {"function": "f"}}]}]}


def test_everything_from_source_and_messages_is_escaped(tmp_path):
    hostile = "<img src=x onerror=alert(1)> & <script>alert(2)</script>"
    source = "int f(void)\n{\trcu_read_lock();\n\t/* <script>alert(3)</script> */\n" \
             "\tif (a < b && c > d)\n\t\treturn 1;\n\treturn 0;\n}\n"
    page = tmp_path / "r.html"
    page.write_text(from_sarif(_log(tmp_path, hostile, source)))
    dom = rendered(page)
    assert not dom.find("img") and not dom.find("script")
    (section,) = dom.find("section", "finding")
    assert hostile in section[2] and "<script>alert(3)</script>" in section[2]
    assert "if (a < b && c > d)" in section[2]
    assert not [e for e in dom.elements if "src" in e[1] or e[0] == "link"]


def test_steps_are_marked_on_their_lines_in_order(tmp_path):
    source = "".join(f"line {n}\n" for n in range(1, 40))
    page = tmp_path / "r.html"
    page.write_text(from_sarif(_log(tmp_path, "left held", source)))
    dom = rendered(page)
    rows = [e for e in dom.find("tr") if e[1].get("id", "").startswith("f1-l")]
    marked = [(r[1]["id"], r[2]) for r in rows if "stepline" in r[1].get("class", "")
              or "hit" in r[1].get("class", "")]
    assert [m[0] for m in marked] == ["f1-l2", "f1-l4", "f1-l6"]
    # each row: its line number, the step's badge, the source line
    assert [m[1] for m in marked] == ["2" "1" "line 2", "4" "2" "line 4", "6" "3" "line 6"]
    (hit,) = [r for r in rows if "hit" in r[1].get("class", "")]
    assert hit[1]["id"] == "f1-l6"
    assert len(dom.find("span", "last")) == 2  # the badge on the line, and on its note


@pytest.mark.realtree
def test_scan_html_in_the_browser(kernel_tree, tmp_path):
    page = tmp_path / "report.html"
    res = run_cli("scan", "--tree", str(kernel_tree), "mm/shrinker.c", "--format", "html",
                  "-o", str(page))
    assert res.returncode == 1, res.stderr
    dom = rendered(page)
    sections = dom.find("section", "finding")
    assert {s[1]["data-rule"] for s in sections} == {"ref-leak", "rcu-use-after-unlock"}
    leak = next(s for s in sections if s[1]["data-rule"] == "ref-leak")
    assert "shrinker_try_get(shrinker)" in leak[2]  # the source around the path
    # the SARIF code flow's steps, every one numbered on the page
    sarif = json.loads(run_cli("scan", "--tree", str(kernel_tree), "mm/shrinker.c",
                               "--format", "sarif").stdout)
    flows = {r["ruleId"]: r["codeFlows"][0]["threadFlows"][0]["locations"]
             for r in sarif["runs"][0]["results"]}
    assert int(leak[1]["data-steps"]) == len(flows["ref-leak"])
    ids = {e[1].get("id") for e in dom.elements}
    assert {"rule-ref-leak", "rule-rcu-use-after-unlock", "by-rule", "by-file"} <= ids
    # links between findings and to the rules resolve to elements of the page
    hrefs = {e[1]["href"] for e in dom.find("a") if "href" in e[1]}
    assert hrefs and all(h.startswith("#") and h[1:] in ids for h in hrefs)
