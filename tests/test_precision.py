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
