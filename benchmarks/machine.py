"""A description of the machine and the software a benchmark ran on."""

from __future__ import annotations

import os
import platform
import sys


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            lines = f.read().splitlines()
    except OSError:
        return platform.processor() or platform.machine()
    fields = {}
    for line in lines:
        if not line.strip():
            break  # the first processor block is enough
        key, _, value = line.partition(":")
        fields[key.strip()] = value.strip()
    model = fields.get("model name", platform.machine())
    flags = set(fields.get("flags", "").split())
    simd = [f for f in ("avx2", "fma", "avx512f") if f in flags]
    mhz = fields.get("cpu MHz")
    extra = ", ".join(filter(None, [f"{float(mhz):.0f} MHz" if mhz else "", " ".join(simd)]))
    return f"{model} ({extra})" if extra else model


def _memory_gb() -> float | None:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) / 2**20
    except OSError:
        pass
    return None


def _blas() -> dict:
    import numpy as np

    info: dict = {}
    try:
        config = np.show_config(mode="dicts")
        blas = config["Build Dependencies"]["blas"]
        info["numpy_blas"] = f"{blas.get('name')} {blas.get('version')}"
    except Exception:
        info["numpy_blas"] = "unknown"
    try:
        from threadpoolctl import threadpool_info

        pools = [p for p in threadpool_info() if p.get("user_api") == "blas"]
        if pools:
            p = pools[0]
            info["numpy_blas"] = f"{p['internal_api']} {p['version']} ({p.get('architecture')})"
            info["blas_threads"] = p["num_threads"]
    except ImportError:
        info["blas_threads"] = "unknown (pip install threadpoolctl)"
    return info


def describe() -> dict:
    """CPU, cores, memory, load, Python, NumPy's BLAS and threads, library versions."""
    import numpy as np

    from benchmarks.workloads import FRAMEWORKS, framework_version

    info = {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "cores_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "memory_gb": round(_memory_gb() or 0, 1),
        "load_average": os.getloadavg() if hasattr(os, "getloadavg") else None,
        "os": platform.platform(),
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        **_blas(),
        "versions": {fw: framework_version(fw) for fw in FRAMEWORKS},
    }
    try:
        import torch

        info["torch_threads"] = torch.get_num_threads()
    except ImportError:
        pass
    return info


def format_machine(info: dict) -> str:
    versions = ", ".join(f"{k} {v}" for k, v in info["versions"].items() if v)
    load = info.get("load_average")
    load_text = " / ".join(f"{x:.1f}" for x in load) if load else "?"
    return "\n".join(
        [
            f"- CPU: {info['cpu']}, {info['cores']} cores ({info['cores_usable']} usable), "
            f"{info['memory_gb']} GB RAM",
            f"- OS: {info['os']}; Python {info['python']}",
            f"- NumPy {info['numpy']}, BLAS {info['numpy_blas']}, "
            f"{info.get('blas_threads')} BLAS threads; torch threads {info.get('torch_threads')}",
            f"- Libraries: {versions}",
            f"- Load average at start (1/5/15 min): {load_text}",
        ]
    )
