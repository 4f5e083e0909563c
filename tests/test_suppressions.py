"""Suppressions: reviewed findings left out of text and exit codes, kept in SARIF."""

import json

import pytest

from analyzer.errors import InputError
from analyzer.ir import Finding, Loc
from analyzer.report.suppressions import Suppressions, draft
from tests.conftest import run_cli
from tests.test_sarif import validate


def finding(rule="ref-leak", function="f", fp="aa:1", line=3):
    return Finding(rule, "warning", Loc("/t/mm/x.c", line, 1), "msg", function,
                   fingerprint=fp)


def rel(path):
    return path.removeprefix("/t/")


def load(tmp_path, text):
    p = tmp_path / "s.toml"
    p.write_text(text)
    return Suppressions.load(p)


def test_fingerprint_or_function_and_rule(tmp_path):
    sup = load(tmp_path, '[[suppress]]\nfingerprint = "aa:1"\nreason = "pinned by caller"\n'
                         '[[suppress]]\nfunction = "g"\nrule = "ref-leak"\n'
                         'file = "mm/x.c"\nreason = "freed by the release"\n')
    a, b, c, d = finding(), finding(function="g", fp="bb:1"), \
        finding(function="g", rule="rcu-unbalanced", fp="cc:1"), finding(fp="dd:1")
    shown, reasons = sup.split([a, b, c, d], rel)
    assert shown == [c, d]
    assert reasons == {"aa:1": "pinned by caller", "bb:1": "freed by the release"}
    # a file entry that names another file covers nothing
    other = load(tmp_path, '[[suppress]]\nfunction = "g"\nrule = "ref-leak"\n'
                           'file = "mm/y.c"\nreason = "r"\n')
    assert other.split([b], rel) == ([b], {})


@pytest.mark.parametrize("text, says", [
    ('[[suppress]]\nfingerprint = "aa:1"\n', "has no reason"),
    ('[[suppress]]\nfunction = "g"\nreason = "r"\n', "a function and a rule"),
    ('[[suppress]]\nfingerprint = "aa:1"\nreason = "r"\ncolour = "red"\n', "keys are"),
    ('[suppress\n', "not valid TOML"),
    ('[other]\nx = 1\n', "only [[suppress]]"),
])
def test_bad_files_are_one_sentence(tmp_path, text, says):
    with pytest.raises(InputError, match=says.replace("[", r"\[")):
        load(tmp_path, text)


def test_draft_loads_once_reasons_are_given(tmp_path):
    text = draft([finding(), finding(function="g", fp="bb:1")], rel)
    with pytest.raises(InputError, match="has no reason"):
        load(tmp_path, text)
    sup = load(tmp_path, text.replace('reason = ""', 'reason = "reviewed"'))
    assert [s.fingerprint for s in sup.entries] == ["aa:1", "bb:1"]
    assert sup.entries[1].file == "mm/x.c" and sup.entries[1].function == "g"


@pytest.mark.realtree
def test_scan_with_suppressions_end_to_end(kernel_tree, tmp_path):
    sup = tmp_path / "sup.toml"
    res = run_cli("scan", "--tree", str(kernel_tree), "mm/shrinker.c",
                  "--write-suppressions", str(sup))
    assert res.returncode == 1 and "shrinker.c:557" in res.stdout
    # the reviewer keeps the leak and accepts the note
    text = sup.read_text()
    blocks = text.split("[[suppress]]")
    kept = [b for b in blocks if 'rule = "ref-leak"' not in b]
    sup.write_text("[[suppress]]".join(kept).replace(
        'reason = ""', 'reason = "units are freed only from mem_cgroup_css_free()"'))
    res = run_cli("scan", "--tree", str(kernel_tree), "mm/shrinker.c", "--suppress", str(sup))
    assert res.returncode == 1 and "shrinker.c:557" in res.stdout
    assert "rcu-use-after-unlock" not in res.stdout and "1 finding suppressed" in res.stderr
    # suppressing the leak too: clean exit
    sup.write_text(text.replace('reason = ""', 'reason = "reviewed"'))
    res = run_cli("scan", "--tree", str(kernel_tree), "mm/shrinker.c", "--suppress", str(sup))
    assert res.returncode == 0 and res.stdout == ""
    # SARIF keeps both, marked, with the justification
    res = run_cli("scan", "--tree", str(kernel_tree), "mm/shrinker.c", "--suppress", str(sup),
                  "--format", "sarif")
    log = json.loads(res.stdout)
    validate(log)
    results = log["runs"][0]["results"]
    assert len(results) == 2
    assert all(r["suppressions"] == [{"kind": "external",
                                      "justification": "reviewed"}] for r in results)
    res = run_cli("scan", "--tree", str(kernel_tree), "mm/shrinker.c", "--suppress",
                  str(tmp_path / "missing.toml"))
    assert res.returncode == 2 and "cannot read suppressions" in res.stderr
