"""Compile-database loading and kernel-tree validation."""

import json

import pytest

from analyzer.build.compdb import CompileDatabase
from analyzer.build.tree import KernelTree, derived_flags
from analyzer.errors import InputError


def write(tmp_path, data, raw=False):
    p = tmp_path / "compile_commands.json"
    p.write_text(data if raw else json.dumps(data))
    return p


def test_loads_command_and_arguments_forms(tmp_path):
    p = write(tmp_path, [
        {"directory": "/k", "file": "mm/a.c", "command": "gcc -DX='\"a b\"' -c mm/a.c"},
        {"directory": "/k", "file": "/k/mm/b.c", "arguments": ["gcc", "-c", "mm/b.c"]},
    ])
    db = CompileDatabase.load(p)
    assert len(db) == 2
    assert db.get("/k/mm/a.c").argv == ("gcc", "-DX=\"a b\"", "-c", "mm/a.c")
    assert "/k/mm/b.c" in db
    assert db.files() == ["/k/mm/a.c", "/k/mm/b.c"]


@pytest.mark.parametrize("content,needle", [
    ("[{", "not valid JSON (line 1"),
    ('{"a": 1}', "must be a JSON list"),
    ('[1]', "entry 0 is not an object"),
    ('[{"directory": "/k"}]', "needs string 'directory' and 'file'"),
    ('[{"directory": "/k", "file": "a.c"}]', "neither 'arguments' nor 'command'"),
    ('[{"directory": "/k", "file": "a.c", "arguments": [1]}]', "not a list of strings"),
    ('[{"directory": "/k", "file": "a.c", "command": "gcc \'x"}]', "cannot be split"),
])
def test_malformed_database_is_one_clear_sentence(tmp_path, content, needle):
    p = write(tmp_path, content, raw=True)
    with pytest.raises(InputError, match=None) as exc:
        CompileDatabase.load(p)
    assert needle in str(exc.value)
    assert str(p) in str(exc.value)


def test_garbage_bytes_database(tmp_path):
    p = tmp_path / "compile_commands.json"
    p.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(InputError, match="not UTF-8"):
        CompileDatabase.load(p)


def fake_tree(tmp_path, configured=True):
    root = tmp_path / "linux"
    (root / "include" / "linux").mkdir(parents=True)
    (root / "mm").mkdir()
    (root / "Makefile").write_text("# kernel\n")
    (root / "mm" / "a.c").write_text("int a;\n")
    (root / "mm" / "notes.txt").write_text("x\n")
    if configured:
        (root / "include" / "generated").mkdir()
        (root / "include" / "generated" / "autoconf.h").write_text("#define CONFIG_MMU 1\n")
    return root


def test_tree_errors(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        KernelTree.open(tmp_path / "nope")
    with pytest.raises(InputError, match="does not look like a kernel tree"):
        KernelTree.open(tmp_path)
    root = fake_tree(tmp_path, configured=False)
    with pytest.raises(InputError, match="not configured: configure it with `make olddefconfig"):
        KernelTree.open(root)


def test_tree_files_and_derived_flags(tmp_path):
    root = fake_tree(tmp_path)
    tree = KernelTree.open(root)
    assert tree.compdb is None
    with pytest.raises(InputError, match="does not exist in the kernel tree"):
        tree.resolve("mm/zz.c")
    with pytest.raises(InputError, match="not inside the kernel tree"):
        tree.resolve("/etc/passwd")
    with pytest.raises(InputError, match="not a C source file"):
        tree.expand(["mm/notes.txt"])
    cmd = tree.command_for(root / "mm" / "a.c")
    assert "-D__KERNEL__" in cmd.argv and "./include/linux/kconfig.h" in cmd.argv
    assert '-DKBUILD_BASENAME="a"' in cmd.argv
    assert derived_flags(root, root / "mm" / "a.c")[-1] == "mm/a.c"


def test_file_missing_from_database(tmp_path):
    root = fake_tree(tmp_path)
    write(root, [{"directory": str(root), "file": "mm/other.c", "arguments": ["gcc"]}])
    tree = KernelTree.open(root)
    with pytest.raises(InputError, match="is not in the compile database"):
        tree.command_for(root / "mm" / "a.c")


def test_kbuild_cmd_file_used_without_database(tmp_path):
    root = fake_tree(tmp_path)
    (root / "mm" / ".a.o.cmd").write_text(
        "savedcmd_mm/a.o := gcc -Wp,-MMD,mm/.a.o.d -DFROM_CMD -c -o mm/a.o mm/a.c\n\n"
        "source_mm/a.o := mm/a.c\n")
    cmd = KernelTree.open(root).command_for(root / "mm" / "a.c")
    assert "-DFROM_CMD" in cmd.argv
