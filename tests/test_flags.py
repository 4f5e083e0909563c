"""gcc → libclang flag translation."""

import shlex

from analyzer.build.flags import translate

KBUILD = shlex.split(
    "gcc -Wp,-MMD,mm/.shrinker.o.d -nostdinc -I./arch/x86/include -I ./include "
    "-include ./include/linux/kconfig.h -D__KERNEL__ -fmacro-prefix-map=./= -std=gnu11 "
    "-fshort-wchar -funsigned-char -mno-sse -m64 -falign-jumps=1 -mpreferred-stack-boundary=3 "
    "-mskip-rax-setup -mindirect-branch=thunk-extern -mharden-sls=all "
    "-fpatchable-function-entry=16,16 -fno-allow-store-data-races -pg -mrecord-mcount -mfentry "
    "-DCC_USING_FENTRY -fconserve-stack -Wall -Werror=implicit-int -O2 -g "
    "-DKBUILD_MODFILE='\"mm/shrinker\"' -MD -MF dep.d -c -o mm/shrinker.o mm/shrinker.c"
)


def test_depfile_options_never_reach_libclang():
    out = translate(KBUILD, "/t", "mm/shrinker.c").args
    assert not any(a.startswith(("-Wp,", "-MD", "-MMD", "-MF")) for a in out)
    assert "dep.d" not in out


def test_gcc_only_options_dropped():
    res = translate(KBUILD, "/t", "mm/shrinker.c")
    for gone in ("-pg", "-mfentry", "-mrecord-mcount", "-fconserve-stack", "-mskip-rax-setup",
                 "-mharden-sls=all", "-mindirect-branch=thunk-extern", "-falign-jumps=1",
                 "-fpatchable-function-entry=16,16", "-fno-allow-store-data-races"):
        assert gone not in res.args
        assert gone in res.dropped
    assert "-Wall" not in res.args


def test_preprocessor_state_kept_and_made_absolute():
    out = translate(KBUILD, "/t", "mm/shrinker.c").args
    assert "-nostdinc" in out and "-std=gnu11" in out and "-m64" in out and "-O2" in out
    assert "-I/t/arch/x86/include" in out
    i = out.index("-I")
    assert out[i + 1] == "/t/include"
    j = out.index("-include")
    assert out[j + 1] == "/t/include/linux/kconfig.h"
    assert "-D__KERNEL__" in out and "-DCC_USING_FENTRY" in out
    assert '-DKBUILD_MODFILE="mm/shrinker"' in out


def test_source_output_and_compile_only_removed():
    out = translate(KBUILD, "/t", "mm/shrinker.c").args
    assert "mm/shrinker.c" not in out and "mm/shrinker.o" not in out
    assert "-c" not in out and "-o" not in out


def test_target_added_for_m64():
    out = translate(["gcc", "-m64", "x.c"], "/t", "x.c").args
    assert "--target=x86_64-linux-gnu" in out
    out = translate(["gcc", "--target=aarch64-linux-gnu", "x.c"], "/t", "x.c").args
    assert "--target=x86_64-linux-gnu" not in out
