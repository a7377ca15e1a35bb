"""The precision table: which runtime bulk embedding uses on which CPU."""
import pytest

from assistant.ingest.precision import choose_precision, read_cpu_flags

AMX = frozenset({"avx2", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile", "amx_bf16", "amx_int8"})
AVX512 = frozenset({"avx2", "avx512f", "avx512bw", "avx512_vnni"})
AVX2 = frozenset({"avx", "avx2", "fma"})
OLD = frozenset({"sse4_2", "avx"})
ARM = frozenset({"fp", "asimd", "sve"})


@pytest.mark.parametrize("flags, rejected, expected", [
    (AMX, False, "bf16"),
    (AMX, True, "bf16"),  # the int8 check does not matter where bf16 runs
    (AMX - {"amx_bf16"}, False, "int8"),  # AMX tiles without bf16: no bf16 speed-up
    (AVX512, False, "int8"),
    (AVX512, True, "fp32"),  # int8 failed its cosine check on this machine
    (AVX2, False, "int8"),
    (OLD, False, "fp32"),  # int8 kernels never measured there
    (ARM, False, "fp32"),
    (frozenset(), False, "fp32"),  # flags unknown
])
def test_auto_picks_by_cpu_flags(flags, rejected, expected):
    assert choose_precision("auto", flags, rejected) == expected


@pytest.mark.parametrize("requested", ["fp32", "bf16", "int8"])
def test_an_explicit_precision_is_taken_as_it_is(requested):
    for flags in (AMX, AVX512, OLD, frozenset()):
        assert choose_precision(requested, flags, int8_rejected=True) == requested


def test_an_unknown_precision_names_the_choices():
    with pytest.raises(ValueError, match="auto, fp32, bf16, int8"):
        choose_precision("fp16", AVX2)


def test_flags_are_read_from_cpuinfo(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nmodel name\t: Test CPU\nflags\t\t: fpu avx2 amx_tile amx_bf16\n\n"
                    "processor\t: 1\nflags\t\t: fpu\n")
    assert read_cpu_flags(str(info)) == {"fpu", "avx2", "amx_tile", "amx_bf16"}
    assert read_cpu_flags(str(tmp_path / "missing")) == frozenset()


def test_amx_refused_by_the_kernel_is_not_used(tmp_path):
    """A process the kernel refuses AMX (a sandbox's seccomp filter, an old kernel) gets no bf16 from `auto`, though
    /proc/cpuinfo still lists AMX: --no-amx in the bench refuses it the same way."""
    import subprocess
    import sys

    code = ("from bench.noamx import refuse_amx\n"
            "from assistant.ingest.precision import amx_permitted, has_amx, usable_cpu_flags, read_cpu_flags\n"
            "from assistant.ingest.embedder import Embedder\n"
            "listed = has_amx(read_cpu_flags())\n"
            "refuse_amx()\n"
            "print(listed, amx_permitted(), has_amx(usable_cpu_flags()), Embedder(cache_dir=%r).precision)\n"
            % str(tmp_path))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out[1:3] == ["False", "False"]
    assert out[3] in ("fp32", "int8")


def test_usable_flags_keep_amx_where_the_kernel_gives_it():
    from assistant.ingest.precision import amx_permitted, has_amx, usable_cpu_flags

    if not has_amx(read_cpu_flags()):
        pytest.skip("this CPU has no AMX")
    assert amx_permitted() and has_amx(usable_cpu_flags())
