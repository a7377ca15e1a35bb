"""Small measuring tools: timers, percentiles, memory, folder sizes, timed subprocesses."""
from __future__ import annotations

import os
import resource
import subprocess
import time
from pathlib import Path
from typing import Callable, Sequence


def percentiles(samples: Sequence[float]) -> dict[str, float]:
    """p50/p95/mean/max of seconds, reported in milliseconds."""
    if not samples:
        return {"n": 0}
    ordered = sorted(samples)

    def pick(q: float) -> float:  # nearest-rank on the sorted samples, interpolated like numpy's default
        pos = (len(ordered) - 1) * q
        lo = int(pos)
        hi = min(lo + 1, len(ordered) - 1)
        return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)

    return {"n": len(ordered), "p50_ms": 1000 * pick(0.5), "p95_ms": 1000 * pick(0.95),
            "mean_ms": 1000 * sum(ordered) / len(ordered), "max_ms": 1000 * ordered[-1]}


def timed(fn: Callable, *args, **kwargs) -> tuple[object, float]:
    started = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - started


def latencies(fn: Callable[[str], object], questions: Sequence[str]) -> tuple[list[float], list[object]]:
    """Seconds per call and the results, one question at a time (what a user waits for)."""
    seconds, results = [], []
    for q in questions:
        started = time.perf_counter()
        results.append(fn(q))
        seconds.append(time.perf_counter() - started)
    return seconds, results


def model_throughput(embedder, texts: Sequence[str]) -> float:
    """Word pieces per second of the bare model on fixed texts (assistant.embedder.Embedder.embed_counted):
    how fast this machine is right now, so that pipeline figures taken minutes apart can be compared."""
    if not texts:
        raise ValueError("no calibration texts: the parent process must give the workers some (bench/inputs.py)")
    started = time.perf_counter()
    _, read = embedder.embed_counted(list(texts))
    return read / (time.perf_counter() - started)


_FEATURES = {"AMX": ("amx_tile", "amx_bf16", "amx_int8", "amx_fp16"), "AVX-512": ("avx512f", "avx512_bf16",
             "avx512_vnni", "avx512_fp16"), "AVX2": ("avx2",)}


# How each embedding precision (Embedder.precision, chosen from the CPU's features) is named in the table
PRECISION_NAMES = {"bf16": "bf16 autocast", "int8": "int8 (onnxruntime, per-channel weights)", "fp32": "fp32"}


def cpu_info(cpuinfo: str | None = None) -> dict:
    """The CPU's model and the vector features the model's speed depends on (AMX, AVX-512, AVX2), from the flags in
    /proc/cpuinfo, so figures from different machines can be read side by side."""
    if cpuinfo is None:
        try:
            with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as fh:
                cpuinfo = fh.read()
        except OSError:
            cpuinfo = ""
    model, flags = "", set()
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        key = key.strip().lower()
        if key == "model name" and not model:
            model = value.strip()
        elif key in ("flags", "features") and not flags:
            flags = set(value.split())
    import platform

    features = {name: [f for f in names if f in flags] for name, names in _FEATURES.items()}
    return {"model": model or platform.processor() or platform.machine() or "unknown", "cpus": os.cpu_count(),
            "flags_read": bool(flags), **{name.lower().replace("-", ""): bool(found) for name, found in features.items()},
            "feature_flags": features}


def describe_cpu(cpu: dict) -> str:
    """'Intel(R) Xeon(R) Processor, 2 CPUs; AMX yes (amx_tile amx_bf16), AVX-512 yes (...), AVX2 yes'."""
    if not cpu.get("flags_read"):
        return f"{cpu['model']}, {cpu['cpus']} CPUs; CPU flags unknown (no /proc/cpuinfo flags)"
    parts = []
    for name in _FEATURES:
        found = cpu["feature_flags"][name]
        parts.append(f"{name} " + (f"yes ({' '.join(found)})" if len(_FEATURES[name]) > 1 and found else
                                    "yes" if found else "no"))
    return f"{cpu['model']}, {cpu['cpus']} CPUs; " + ", ".join(parts)


class MachineShare:
    """How busy the rest of the machine was while a phase ran: CPU used by other processes, as a share of all
    cores (0 = we had the machine to ourselves). Our own CPU seconds come along, for per-CPU-second rates."""

    def __enter__(self) -> "MachineShare":
        import psutil

        self._proc = psutil.Process()
        self._cpu0 = self._busy(psutil.cpu_times())
        self._own0 = sum(self._proc.cpu_times()[:4])
        self._t0 = time.perf_counter()
        return self

    @staticmethod
    def _busy(t) -> float:
        return sum(t) - t.idle - getattr(t, "iowait", 0.0) - getattr(t, "guest", 0.0) - getattr(t, "guest_nice", 0.0)

    def __exit__(self, *exc) -> None:
        import psutil

        wall = time.perf_counter() - self._t0
        own = sum(self._proc.cpu_times()[:4]) - self._own0
        busy = self._busy(psutil.cpu_times()) - self._cpu0
        cores = psutil.cpu_count() or 1
        self.result = {"wall_s": wall, "own_cpu_s": own,
                       "others_cpu_share": max(0.0, busy - own) / (wall * cores) if wall else 0.0}


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far: VmHWM, which starts afresh at exec. (getrusage's ru_maxrss
    does not: a child forked from a 4 GB parent reports at least 4 GB however little it uses itself.)"""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def folder_mb(path: Path) -> float:
    total = 0
    for dirpath, _, filenames in os.walk(path):
        for name in filenames:
            try:
                total += os.lstat(os.path.join(dirpath, name)).st_blocks * 512  # on-disk, sparse files honest
            except OSError:
                pass
    return total / 2**20


def run_timed(cmd: Sequence[str], env: dict | None = None, cwd: Path | None = None,
              timeout: float = 600, capture: bool = True) -> dict:
    """Wall time, exit code, output and the child's peak RSS (from wait4: the child's own, but never below what
    its parent held when it forked, so start big workers from a small parent).
    With capture=False the child's output goes straight to our stderr (progress lines of a worker)."""
    import sys
    import tempfile
    import threading

    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        sink = (out, err) if capture else (sys.stderr, sys.stderr)
        proc = subprocess.Popen(list(cmd), env=env, cwd=cwd, stdout=sink[0], stderr=sink[1], text=True)
        killer = threading.Timer(timeout, proc.kill)
        killer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            killer.cancel()
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return {"seconds": wall, "returncode": proc.returncode, "stdout": out.read(), "stderr": err.read(),
                "peak_rss_mb": usage.ru_maxrss / 1024, "cpu_s": usage.ru_utime + usage.ru_stime}
