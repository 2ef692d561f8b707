"""Memory and cold-start measurements, each in fresh subprocesses.

Method. A training run's memory is the peak resident set size (``ru_maxrss``) of a fresh
Python process that imports the framework, builds the model and data and trains; its import
baseline is the ``ru_maxrss`` of another fresh process that imports the same modules and
stops. The difference is what the model, data, optimizer state, activations and gradients
cost, as the operating system sees it (allocator caches included), and it is measured the
same way for every framework. For chainrule the child also reports the ``tracemalloc``
peak of one extra step: NumPy reports its array buffers to tracemalloc, so that is the exact
peak of live Python and NumPy bytes (PyTorch's allocator is invisible to tracemalloc, and on
CPU it keeps no peak statistics, hence RSS for the comparison).

Run as a module, this file is that child: ``python -m benchmarks.memory train W1 torch``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _maxrss_bytes() -> int:
    """Peak resident bytes of this process since it started (its exec, on Linux).

    Linux carries ``ru_maxrss`` over ``execve`` from the process that forked us (a child of
    a 200 MB benchmark process starts at 200 MB), so read the fresh address space's high
    water mark ``VmHWM`` instead where there is one.
    """
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb * (1 if sys.platform == "darwin" else 1024)


# ----------------------------------------------------------------------------- the child


def _child(argv: list[str]) -> dict:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.memory")
    parser.add_argument("mode", choices=["baseline", "train"])
    parser.add_argument("workload")
    parser.add_argument("framework")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--sizes", default="{}", help="JSON dict of workload sizes")
    args = parser.parse_args(argv)

    import gc

    from benchmarks import workloads

    if args.framework != "chainrule":
        importlib.import_module(args.framework)
    gc.collect()
    result = {"import_peak": _maxrss_bytes()}
    if args.mode == "baseline":
        return result
    step = workloads.build(args.workload, args.framework, **json.loads(args.sizes))
    gc.collect()
    result["build_peak"] = _maxrss_bytes()
    t0 = time.perf_counter()
    for _ in range(args.steps):
        step.fn()
    result["seconds_per_step"] = (time.perf_counter() - t0) / args.steps
    result["train_peak"] = _maxrss_bytes()
    if args.framework == "chainrule":
        import tracemalloc

        gc.collect()
        tracemalloc.start()
        base, _ = tracemalloc.get_traced_memory()
        step.fn()
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        result["tracemalloc_step_peak"] = peak - base
    return result


def run_child(*args: str, timeout: float = 300) -> dict:
    """Run ``python -m benchmarks.memory ARGS`` in a fresh process; its JSON result."""
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.memory", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    if proc.returncode != 0:
        raise RuntimeError(f"memory child {args} failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def training_memory(workload: str, framework: str, steps: int = 20) -> dict:
    """Peak RSS of ``steps`` training steps above the import baseline (fresh processes)."""
    base = run_child("baseline", workload, framework)
    run = run_child("train", workload, framework, "--steps", str(steps))
    run["import_baseline"] = base["import_peak"]
    run["peak_above_import"] = run["train_peak"] - base["import_peak"]
    return run


def step_memory(workload: str, framework: str, sizes: dict, steps: int = 2) -> dict:
    """Peak RSS growth of a few steps over the built model (one fresh process), for scaling."""
    run = run_child(
        "train", workload, framework, "--steps", str(steps), "--sizes", json.dumps(sizes)
    )
    run["peak_above_build"] = run["train_peak"] - run["build_peak"]
    return run


# ----------------------------------------------------------------------------- cold start


_REPORT_PEAK = (
    "\nimport os as _o\n"
    "_s = open('/proc/self/status').read() if _o.path.exists('/proc/self/status') else ''\n"
    "print(next((l.split()[1] for l in _s.splitlines() if l.startswith('VmHWM:')), '0'))"
)


def _timed_process(code: str) -> tuple[float, int]:
    """Wall seconds and peak RSS bytes (VmHWM) of ``python -c code`` in a fresh process."""
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", code + _REPORT_PEAK], cwd="/", capture_output=True, text=True
    )
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"`python -c {code!r}` failed:\n{proc.stderr[-2000:]}")
    return seconds, int(proc.stdout.split()[-1]) * 1024


def cold_start(modules: list[str], repeat: int = 5) -> dict:
    """Median wall time and peak RSS of ``python -c "import M"`` (and of bare ``python``)."""
    codes = {"python": "pass", **{m: f"import {m}" for m in modules}}
    samples: dict[str, list[tuple[float, int]]] = {name: [] for name in codes}
    for code in codes.values():  # one untimed run each warms the OS file cache
        _timed_process(code)
    for _ in range(repeat):
        for name, code in codes.items():  # interleaved, so load changes hit all alike
            samples[name].append(_timed_process(code))
    out = {}
    for name, runs in samples.items():
        times = [t for t, _ in runs]
        out[name] = {
            "seconds_median": statistics.median(times),
            "seconds_min": min(times),
            "seconds_max": max(times),
            "peak_rss": statistics.median(r for _, r in runs),
        }
    return out


# ----------------------------------------------------------------------------- install size


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _dist_closure(root: str) -> list:
    """The installed distribution ``root`` and everything it requires (markers applied)."""
    from importlib import metadata

    try:
        from packaging.requirements import Requirement
    except ImportError:  # pragma: no cover - packaging comes with matplotlib
        Requirement = None

    seen: dict[str, object] = {}
    todo = [root]
    while todo:
        name = _normalize(todo.pop())
        if name in seen:
            continue
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        seen[name] = dist
        for spec in dist.requires or []:
            if Requirement is None:
                if ";" not in spec:
                    todo.append(re.split(r"[ <>=!~\[;(]", spec, maxsplit=1)[0])
                continue
            req = Requirement(spec)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(req.name)
    return list(seen.values())


def _tree_bytes(path: Path) -> int:
    total = 0
    for dirpath, dirnames, filenames in os.walk(path):
        dirnames[:] = [d for d in dirnames if d != "__pycache__"]
        total += sum((Path(dirpath) / f).stat().st_size for f in filenames)
    return total


def _dist_bytes(dist) -> int:
    total = 0
    for f in dist.files or []:
        path = Path(dist.locate_file(f))
        if path.is_file():
            total += path.stat().st_size
    name = _normalize(dist.metadata["Name"])
    if name == "chainrule":  # an editable install lists no sources: count the package dir
        import chainrule

        pkg = Path(chainrule.__file__).parent
        if not str(pkg).startswith(sysconfig.get_paths()["purelib"]):
            total += _tree_bytes(pkg)
    return total


def installed_size(root: str) -> dict:
    """Bytes on disk of ``root`` and of its runtime dependency closure, per distribution."""
    per = {dist.metadata["Name"]: _dist_bytes(dist) for dist in _dist_closure(root)}
    return {"total": sum(per.values()), "per_distribution": dict(sorted(per.items()))}


if __name__ == "__main__":
    print(json.dumps(_child(sys.argv[1:])))
