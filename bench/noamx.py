"""`--no-amx`: run a bench worker as on a CPU without AMX, on a CPU with it.

A seccomp filter makes the kernel refuse this process (and its children) the AMX tile state
(`arch_prctl(ARCH_REQ_XCOMP_PERM)` fails with EPERM), as an older kernel or a sandbox does. oneDNN (torch) and
onnxruntime then fall back to AVX-512, and Newsdesk's `auto` precision sees no AMX (precision.amx_permitted). The
clock speed, caches and AVX-512 units stay this CPU's: a CPU that lacks AMX is often slower than this emulates.
"""
from __future__ import annotations

import ctypes
import platform
import sys

_PR_SET_NO_NEW_PRIVS, _PR_SET_SECCOMP, _SECCOMP_MODE_FILTER = 38, 22, 2
_AUDIT_ARCH_X86_64, _ARCH_PRCTL, _ARCH_REQ_XCOMP_PERM = 0xC000003E, 158, 0x1023
_LD_W_ABS, _JEQ_K, _RET_K = 0x20, 0x15, 0x06
_ALLOW, _EPERM = 0x7FFF0000, 0x00050000 | 1


class _Filter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte), ("jf", ctypes.c_ubyte), ("k", ctypes.c_uint32)]


class _Program(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_Filter))]


# seccomp_data: nr at 0, arch at 4, args[0] at 16 (its low 32 bits, little-endian)
_RULES = [
    (_LD_W_ABS, 0, 0, 4), (_JEQ_K, 0, 5, _AUDIT_ARCH_X86_64),
    (_LD_W_ABS, 0, 0, 0), (_JEQ_K, 0, 3, _ARCH_PRCTL),
    (_LD_W_ABS, 0, 0, 16), (_JEQ_K, 0, 1, _ARCH_REQ_XCOMP_PERM),
    (_RET_K, 0, 0, _EPERM),
    (_RET_K, 0, 0, _ALLOW),
]


def refuse_amx() -> None:
    """From now on the kernel refuses AMX to this process and its children; call before torch is imported."""
    if sys.platform != "linux" or platform.machine() != "x86_64":
        raise SystemExit("bench: --no-amx needs Linux on x86-64 (it refuses AMX through a seccomp filter)")
    libc = ctypes.CDLL(None, use_errno=True)
    rules = (_Filter * len(_RULES))(*[_Filter(*r) for r in _RULES])
    program = _Program(len(_RULES), rules)
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 or \
            libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(program), 0, 0) != 0:
        raise SystemExit(f"bench: --no-amx could not install its seccomp filter (errno {ctypes.get_errno()})")
