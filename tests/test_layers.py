"""The shape of the code: layers that depend one way, and what crosses them."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from analyzer.driver.store import code_files
from checkers import REGISTRY
from tests.conftest import ROOT

PACKAGE = ROOT / "analyzer"
# what each layer may import from the analyzer (besides itself, `ir` and `errors`)
ALLOWED = {
    "build": set(),
    "frontend": {"build"},
    "model": set(),
    "lower": {"frontend", "model"},
    "engine": {"model"},
    "interproc": {"engine", "lower", "frontend", "model"},
    "report": set(),
    "driver": {"interproc", "lower", "frontend", "build", "model", "report"},
    "workflows": {"driver", "build"},
    "cli": {"workflows", "driver", "report", "frontend", "build", "model", "interproc"},
}
BASE = {"ir", "errors", "__init__"}


def layer_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    out = set()
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "analyzer" and len(parts) > 1:
                out.add(parts[1])
            elif parts[0] == "checkers":
                out.add("checkers")
    return out


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_dependencies_point_one_way(layer):
    for path in sorted((PACKAGE / layer).glob("*.py")):
        extra = layer_imports(path) - ALLOWED[layer] - BASE - {layer}
        if layer == "cli":
            extra -= {"checkers"}
        assert not extra, f"{path.relative_to(ROOT)} imports {sorted(extra)}"


def test_every_layer_is_a_package_that_says_what_it_is():
    layers = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}
    assert layers == set(ALLOWED) | {"ir"}
    for layer in layers:
        doc = ast.get_docstring(ast.parse((PACKAGE / layer / "__init__.py").read_text()))
        assert doc and len(doc) > 40, layer


def test_the_driver_imports_no_checker():
    modules = sorted(".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(
        ".__init__") for p in PACKAGE.rglob("*.py") if "cli" not in p.relative_to(PACKAGE).parts)
    code = ("import sys, importlib\n"
            f"for name in {modules!r}:\n"
            "    importlib.import_module(name)\n"
            "bad = sorted(n for n in sys.modules if n.split('.')[0] == 'checkers')\n"
            "print(','.join(bad))\n")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, timeout=120)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "" and len(modules) > 30


def test_the_cache_fingerprint_covers_every_module():
    hashed = set(code_files())
    modules = set(PACKAGE.rglob("*.py"))
    assert modules <= hashed
    assert PACKAGE / "model" / "data" / "kernel-api.toml" in hashed


@pytest.mark.parametrize("rule", sorted(REGISTRY))
def test_rule_docs_cite_what_a_user_can_look_up(rule):
    doc = REGISTRY[rule].rule.doc
    for heading in ("## What it finds", "## Why is this bad", "## Example", "## Use instead"):
        assert heading in doc
    for private in ("seed", "KERNEL-APIS", "../shared"):
        assert private.lower() not in doc.lower(), f"{rule} cites {private}"


@pytest.mark.parametrize("layer", ["analyzer/engine", "analyzer/interproc", "checkers"])
def test_rules_never_match_patterns_over_expression_text(layer):
    """Identity is structure (`Val.path`, `Val.root`, `Val.container`, `Val.named`), never
    text: the engine, the summaries and the rules import no pattern matcher."""
    matchers = {"re", "regex", "fnmatch", "glob"}
    offenders = [f"{path.relative_to(ROOT)}: {name}"
                 for path in sorted((ROOT / layer).rglob("*.py"))
                 for name in layer_imports_all(path) if name.split(".")[0] in matchers]
    assert not offenders, offenders


def layer_imports_all(path: Path) -> set[str]:
    """Every module `path` imports, analyzer's or not."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
        elif isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
    return out
