"""The API model file and the gfp reading."""

import pytest

from analyzer.errors import InputError
from analyzer.model import ApiModel
from analyzer.model.gfp import gfp_may_sleep


def test_shipped_model_loads_with_aliases():
    m = ApiModel.load()
    assert m.fn("rcu_read_lock").enter == "rcu"
    assert m.fn("class_rcu_destructor").exit == "rcu"
    assert m.fn("kzalloc_noprof").sleeps == "gfp" and m.fn("kzalloc_noprof").gfp == 1
    assert m.fn("synchronize_rcu").waits_gp == "rcu"
    assert m.fn("css_tryget").tryget == 0
    assert m.access["rcu_dereference_check"].cond == 1
    assert m.walks["list_for_each_entry_rcu"].cursor == 0
    assert m.fn("css_put").sleeps is False  # css_put() never sleeps (include/linux/cgroup_refcnt.h)


def test_user_model_overrides_and_extends(tmp_path):
    extra = tmp_path / "mine.toml"
    extra.write_text('[fn.my_lock]\nenter = "rcu"\n[fn.css_put]\nput = 0\nsleeps = true\n')
    m = ApiModel.load([extra])
    assert m.fn("my_lock").enter == "rcu"
    assert m.fn("css_put").sleeps is True


@pytest.mark.parametrize("text,needle", [
    ("[fn.x\n", "not valid TOML"),
    ("[fn.x]\nfoo = 1\n", "unknown keys: foo"),
    ("[fn.x]\nenter = \"rcuu\"\n", "enter must be one of"),
    ("[other.x]\n", "unknown sections"),
    ("[fn.x]\nreplaces = [[0, \"cgroups\", \"struct css_set\"]]\n", "replaces must be"),
])
def test_bad_model_is_one_sentence(tmp_path, text, needle):
    bad = tmp_path / "bad.toml"
    bad.write_text(text)
    with pytest.raises(InputError) as exc:
        ApiModel.load([bad])
    assert needle in str(exc.value)


@pytest.mark.parametrize("mask,sleeps", [
    ("GFP_KERNEL", True),
    ("GFP_KERNEL | __GFP_NOWARN", True),
    ("GFP_KERNEL_ACCOUNT", True),
    ("GFP_NOFS", True),
    ("GFP_NOIO", True),
    ("GFP_ATOMIC", False),
    ("GFP_NOWAIT | __GFP_NOWARN", False),
    ("GFP_KERNEL & ~__GFP_DIRECT_RECLAIM", False),
    ("gfp & ~__GFP_RECLAIM", False),
    ("GFP_TRANSHUGE_LIGHT", False),
    ("gfp_mask", None),
    ("sc->gfp_mask", None),
])
def test_gfp_reading(mask, sleeps):
    assert gfp_may_sleep(ApiModel.load().gfp, mask) is sleeps


def test_a_name_described_twice_in_one_file_is_rejected(tmp_path):
    bad = tmp_path / "dup.toml"
    bad.write_text('[fn.my_lock]\nenter = "rcu"\n\n[fn.my_other]\nexit = "rcu"\n'
                   'aliases = ["my_unlock", "my_lock"]\n')
    with pytest.raises(InputError) as exc:
        ApiModel.load([bad])
    assert str(exc.value) == (f"model file {bad}, line 6: my_lock is already described "
                              "(as part of [fn.my_lock])")


def test_the_shipped_model_describes_each_name_once():
    from importlib import resources

    text = resources.files("analyzer.model").joinpath("data/kernel-api.toml").read_text()
    ApiModel().merge(text, "the shipped model")  # raises on a duplicate


def test_kernel_conventions_come_from_the_model():
    m = ApiModel.load()
    assert m.names_a_put("put_pid") and m.names_a_put("fput") and m.names_a_put("kobject_put")
    assert not m.names_a_put("put_user") and not m.names_a_put("put_cpu")
    assert m.names_a_lock_assertion("lockdep_rtnl_is_held")
    assert m.guards.destructor_for("class_rcu_t") == "class_rcu_destructor"
    assert m.guards.destructor_for("struct foo") is None
    assert m.explicit_vanilla == {"rcu", "rcu_bh", "rcu_sched"}
    assert m.vanilla == {"rcu", "rcu_bh", "rcu_sched", "implicit"}
