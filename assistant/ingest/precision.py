"""Which precision bulk embedding runs at on this CPU: a pure table from the CPU's flags, plus reading the flags.

Measured on a 2-core Xeon (all-MiniLM-L6-v2, batches of 32 BBC chunks, word pieces/s against torch fp32 in the same
run; "no AMX" = the process refused AMX by the kernel, so oneDNN and onnxruntime fall back to AVX-512 VNNI):
  with AMX     bf16 autocast 2.5x (cosine to fp32 >= 0.9999)
  without AMX  bf16 autocast slower than fp32; int8 (onnxruntime, per-channel weights, sensitive layers in fp32)
               faster, within the cosine bar below (figures in int8_layers.json and docs/)
"""
from __future__ import annotations

import ctypes
import platform
import sys

PRECISIONS = ("fp32", "bf16", "int8")

# The int8 copy is used by `auto` only where its vectors stay this close to fp32's (worst cosine over the texts it
# was checked on when it was built on this machine): retrieval ranks by these vectors.
INT8_MIN_COSINE = 0.99


def read_cpu_flags(cpuinfo: str = "/proc/cpuinfo") -> frozenset[str]:
    """The CPU's feature flags (empty where the file is missing or lists none, e.g. not Linux)."""
    try:
        with open(cpuinfo, encoding="utf-8", errors="replace") as fh:
            for line in fh:
                key, _, value = line.partition(":")
                if key.strip().lower() in ("flags", "features"):
                    return frozenset(value.split())
    except OSError:
        pass
    return frozenset()


_ARCH_PRCTL, _ARCH_REQ_XCOMP_PERM, _XFEATURE_XTILEDATA = 158, 0x1023, 18  # x86-64 Linux


def amx_permitted() -> bool:
    """Whether the kernel lets this process use AMX tiles. Linux gives them only on request (kernel 5.16 and later);
    an older kernel or a sandbox's seccomp filter refuses, and then oneDNN runs AVX-512 while /proc/cpuinfo still
    lists AMX."""
    if sys.platform != "linux" or platform.machine() != "x86_64":
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.syscall(_ARCH_PRCTL, _ARCH_REQ_XCOMP_PERM, _XFEATURE_XTILEDATA) == 0
    except (OSError, AttributeError):
        return False


def usable_cpu_flags() -> frozenset[str]:
    """This CPU's flags less AMX's when the kernel refuses AMX to this process (see amx_permitted)."""
    flags = read_cpu_flags()
    if has_amx(flags) and not amx_permitted():
        flags = frozenset(f for f in flags if not f.startswith("amx"))
    return flags


def has_amx(flags: frozenset[str]) -> bool:
    """bf16 matrix products on AMX tiles: the only CPUs where bf16 was measured faster than fp32."""
    return "amx_bf16" in flags and "amx_tile" in flags


def choose_precision(requested: str, flags: frozenset[str], int8_rejected: bool = False) -> str:
    """fp32, bf16 or int8 for `requested` (auto or one of PRECISIONS) on a CPU with `flags`.

    auto: bf16 with AMX; else int8 where the CPU has the vector units its kernels were measured on (AVX2 or
    AVX-512) and the int8 copy did not fail its cosine check on this machine (`int8_rejected`); else fp32.
    An explicit precision is taken as it is.
    """
    if requested in PRECISIONS:
        return requested
    if requested != "auto":
        raise ValueError(f"unknown precision {requested!r}: use auto, " + ", ".join(PRECISIONS))
    if has_amx(flags):
        return "bf16"
    if ("avx2" in flags or "avx512f" in flags) and not int8_rejected:
        return "int8"
    return "fp32"
