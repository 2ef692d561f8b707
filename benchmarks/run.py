"""Run the benchmark suite: ``python -m benchmarks.run [--only W1,W5] [--json out.json]``.

Every workload runs in chainrule and PyTorch (and tinygrad, MyGrad, micrograd where they are
installed and can express it) in this one process: a warm-up, then rounds that alternate the
frameworks (A B A B ...), each round timing enough steps to last ~0.1 s. The table shows the
median and min-max milliseconds per step and the ratio chainrule / other (lower is better
for chainrule). Memory and cold start run in fresh subprocesses (``benchmarks.memory``).
"""

from __future__ import annotations

import argparse
import cProfile
import datetime
import gc
import json
import os
import pstats
import statistics
import sys
import time

import numpy as np

from benchmarks import machine, memory
from benchmarks.workloads import (
    DESCRIPTIONS,
    FRAMEWORKS,
    WORKLOADS,
    Unsupported,
    build,
    forward_flops_w1,
)

SECTIONS = (*WORKLOADS, "W6", "memory", "coldstart", "scaling")
EXTRA = ("tinygrad", "mygrad", "micrograd")
GOALS = {"W5": 0.5, "W1": 0.8, "W3": 1.0, "W4": 1.2, "W2": 2.0}


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------- timing


def _summary(seconds: list[float]) -> dict:
    ms = [s * 1e3 for s in seconds]
    return {"median_ms": statistics.median(ms), "min_ms": min(ms), "max_ms": max(ms), "n": len(ms)}


def time_workload(
    workload: str,
    frameworks: list[str],
    repeat: int,
    warmup: int = 2,
    target_s: float = 0.1,
    **sizes,
) -> dict:
    """Per framework: the timing summary, or {"skipped": reason}."""
    steps, out = {}, {}
    for fw in frameworks:
        try:
            steps[fw] = build(workload, fw, **sizes)
        except Unsupported as exc:
            out[fw] = {"skipped": str(exc)}
    inner = {}
    for fw, step in steps.items():
        n_warm = max(warmup, 3) if fw == "tinygrad" else warmup  # tinygrad compiles twice
        t = 0.0
        for _ in range(n_warm):
            t0 = time.perf_counter()
            r = step.fn()
            t = r if step.self_timed else time.perf_counter() - t0
        step.phases.clear()
        inner[fw] = 1 if step.self_timed else int(min(100, max(1, round(target_s / max(t, 1e-9)))))
    samples: dict[str, list[float]] = {fw: [] for fw in steps}
    for r in range(repeat):
        for fw, step in steps.items():
            if step.self_timed and r >= 3:
                continue  # extrapolated runs are slow and deterministic enough
            # As timeit does, the cyclic garbage collector runs between rounds, not during one:
            # otherwise a collection triggered by one framework's objects (a full one walks
            # every object of the process, torch's included) lands in another's round.
            # micrograd, whose graph is made of Python sets, was measured 0.7-6 ms per W5 step
            # from one run to the next that way, against a steady 0.73 ms.
            gc.collect()
            gc.disable()
            try:
                if step.self_timed:
                    samples[fw].append(step.fn())
                    continue
                t0 = time.perf_counter()
                for _ in range(inner[fw]):
                    step.fn()
                samples[fw].append((time.perf_counter() - t0) / inner[fw])
            finally:
                gc.enable()
    for fw, step in steps.items():
        res = _summary(samples[fw])
        res["steps_per_sample"] = inner[fw]
        if step.note:
            res["note"] = step.note
        if step.phases:
            res["forward_ms"] = statistics.median(f for f, _ in step.phases) * 1e3
            res["backward_ms"] = statistics.median(b for _, b in step.phases) * 1e3
        if step.ops:
            res["us_per_op"] = res["median_ms"] * 1e3 / step.ops
            res["ops"] = step.ops
        out[fw] = res
    return out


# ----------------------------------------------------------------------------- W6 roofline


def _best_of(fn, repeat: int) -> list[float]:
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return times


def roofline(repeat: int, frameworks: list[str]) -> dict:
    """float32 matmul GFLOP/s through NumPy, chainrule (and torch), at n = 1024 and 2048."""
    import chainrule as cr

    rng = np.random.default_rng(0)
    out: dict = {}
    for n in (1024, 2048):
        a = rng.standard_normal((n, n), dtype=np.float32)
        b = rng.standard_normal((n, n), dtype=np.float32)
        flops = 2 * n**3
        reps = repeat if n == 1024 else max(2, repeat // 2)
        runs = {"numpy": lambda a=a, b=b: a @ b}
        ta, tb = cr.tensor(a), cr.tensor(b)
        runs["chainrule"] = lambda ta=ta, tb=tb: cr.matmul(ta, tb)
        if "torch" in frameworks:
            import torch

            xa, xb = torch.from_numpy(a), torch.from_numpy(b)
            runs["torch"] = lambda xa=xa, xb=xb: xa @ xb
        for name, fn in runs.items():
            times = _best_of(fn, reps)
            out[f"{name}_{n}"] = {
                "gflops_best": flops / min(times) / 1e9,
                "gflops_median": flops / statistics.median(times) / 1e9,
            }
    out["numpy_peak_gflops"] = max(
        out["numpy_1024"]["gflops_best"], out["numpy_2048"]["gflops_best"]
    )
    return out


# ----------------------------------------------------------------------------- profile


def profile_workload(workload: str, steps: int = 5, top: int = 15, **sizes) -> str:
    """cProfile of ``steps`` chainrule steps after a warm-up: top functions by own time."""
    step = build(workload, "chainrule", **sizes)
    step.fn()
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(steps):
        step.fn()
    prof.disable()
    stats = pstats.Stats(prof)
    total = stats.total_tt
    rows = sorted(stats.stats.items(), key=lambda kv: kv[1][2], reverse=True)[:top]
    lines = [f"{workload}: {steps} steps, {total * 1e3 / steps:.1f} ms/step under cProfile"]
    lines.append("| own % | cum % | calls/step | function |")
    lines.append("|---:|---:|---:|---|")
    for (file, line, func), (_, ncalls, tottime, cumtime, _) in rows:
        where = file.split("site-packages/")[-1].split("/work/main/")[-1]
        lines.append(
            f"| {100 * tottime / total:.1f} | {100 * cumtime / total:.1f} | "
            f"{ncalls / steps:.0f} | `{func}` {where}:{line} |"
        )
    return "\n".join(lines)


# ----------------------------------------------------------------------------- reporting


def _fmt_ms(res: dict | None) -> str:
    if not res:
        return "-"
    if "skipped" in res:
        return "n/a"
    mark = "~" if "note" in res and "extrapolated" in res["note"] else ""
    med = res["median_ms"]
    if med >= 1e4:
        return f"{mark}{med / 1e3:.0f} s"
    return f"{mark}{med:.2f} [{res['min_ms']:.2f}-{res['max_ms']:.2f}]"


def _ratio(a: dict | None, b: dict | None) -> float | None:
    if not a or not b or "skipped" in a or "skipped" in b:
        return None
    return a["median_ms"] / b["median_ms"]


def _fmt_ratio(r: float | None) -> str:
    return "-" if r is None else (f"{r:.2f}" if r >= 0.01 else f"{r:.1e}")


def timing_table(results: dict, frameworks: list[str]) -> str:
    extras = [fw for fw in EXTRA if fw in frameworks]
    head = ["workload", "chainrule ms", "torch ms", "chainrule/torch"]
    for fw in extras:
        head += [f"{fw} ms", f"cr/{fw}"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for wl, res in results.items():
        cr_res = res.get("chainrule")
        row = [f"{wl} {DESCRIPTIONS[wl]}", _fmt_ms(cr_res), _fmt_ms(res.get("torch"))]
        row.append(_fmt_ratio(_ratio(cr_res, res.get("torch"))))
        for fw in extras:
            row += [_fmt_ms(res.get(fw)), _fmt_ratio(_ratio(cr_res, res.get(fw)))]
        lines.append("| " + " | ".join(row) + " |")
    notes = []
    for wl, res in results.items():
        for fw, r in res.items():
            if "skipped" in r:
                notes.append(f"- {wl} {fw}: skipped, {r['skipped']}")
            elif "note" in r:
                notes.append(f"- {wl} {fw}: {r['note']}")
    w5 = results.get("W5", {})
    for fw, r in w5.items():
        if "us_per_op" in r:
            notes.append(
                f"- W5 {fw}: {r['us_per_op']:.2f} us/op ({r['ops']} ops); forward "
                f"{r['forward_ms']:.2f} ms, backward {r['backward_ms']:.2f} ms"
            )
    return "\n".join(lines + ([""] + notes if notes else []))


def _mb(n: float) -> str:
    return f"{n / 2**20:.1f} MB"


def goals(report: dict) -> list[tuple[str, str, bool | None]]:
    """(goal, measured, met) for each of the issue's goals that was measured."""
    out = []
    timing = report.get("timing", {})
    for wl, limit in GOALS.items():
        r = _ratio(timing.get(wl, {}).get("chainrule"), timing.get(wl, {}).get("torch"))
        if r is not None:
            out.append((f"{wl} chainrule/torch <= {limit}", f"{r:.2f}", r <= limit))
    roof = report.get("W6")
    if roof and "W1_fraction_of_numpy_peak" in roof:
        f = roof["W1_fraction_of_numpy_peak"]
        out.append(("W1 >= 50% of the NumPy matmul peak", f"{100 * f:.0f}%", f >= 0.5))
    mem = report.get("memory", {})
    for wl in ("W1", "W4"):
        if f"{wl}_chainrule" in mem and f"{wl}_torch" in mem:
            a = mem[f"{wl}_chainrule"]["peak_above_import"]
            b = mem[f"{wl}_torch"]["peak_above_import"]
            out.append(
                (
                    f"{wl} peak memory <= 1/2 of torch's",
                    f"{_mb(a)} vs {_mb(b)} ({a / b:.2f})",
                    a <= b / 2,
                )
            )
    cold = report.get("coldstart", {}).get("times", {})
    if "chainrule" in cold:
        s, m = cold["chainrule"]["seconds_median"], cold["chainrule"]["peak_rss"]
        out.append(("`import chainrule` < 0.3 s", f"{s:.3f} s", s < 0.3))
        out.append(("`import chainrule` < 40 MB (process peak RSS)", _mb(m), m < 40 * 2**20))
    for fw in EXTRA:
        for wl, res in timing.items():
            r = _ratio(res.get("chainrule"), res.get(fw))
            if r is not None:
                out.append((f"faster than {fw} on {wl}", f"ratio {_fmt_ratio(r)}", r < 1))
    return out


def render(report: dict, frameworks: list[str]) -> str:
    parts = [f"## Machine\n\n{machine.format_machine(report['machine'])}"]
    if report.get("timing"):
        parts.append(
            "## Milliseconds per step (median [min-max])\n\n"
            + timing_table(report["timing"], frameworks)
        )
    roof = report.get("W6")
    if roof:
        lines = ["| matmul | GFLOP/s best | GFLOP/s median |", "|---|---:|---:|"]
        for key, v in roof.items():
            if isinstance(v, dict):
                lines.append(f"| {key} | {v['gflops_best']:.1f} | {v['gflops_median']:.1f} |")
        if "W1_gflops" in roof:
            lines.append("")
            lines.append(
                f"W1 achieves {roof['W1_gflops']:.1f} GFLOP/s (3x forward matmul FLOPs per step) = "
                f"{100 * roof['W1_fraction_of_numpy_peak']:.0f}% of the NumPy peak "
                f"{roof['numpy_peak_gflops']:.1f} GFLOP/s; "
                f"torch W1: {roof.get('W1_torch_gflops', 0):.1f} GFLOP/s"
            )
        parts.append("## W6 roofline\n\n" + "\n".join(lines))
    mem = report.get("memory")
    if mem:
        lines = [
            "| run | peak RSS above import | above built model | import baseline "
            "| tracemalloc step peak |",
            "|---|---:|---:|---:|---:|",
        ]
        for key, v in mem.items():
            tm = _mb(v["tracemalloc_step_peak"]) if "tracemalloc_step_peak" in v else "-"
            above_build = _mb(v["train_peak"] - v["build_peak"])
            lines.append(
                f"| {key} | {_mb(v['peak_above_import'])} | {above_build} | "
                f"{_mb(v['import_baseline'])} | {tm} |"
            )
        parts.append("## Memory (20 steps in a fresh process)\n\n" + "\n".join(lines))
    cold = report.get("coldstart")
    if cold:
        lines = ["| command | wall s median [min-max] | peak RSS |", "|---|---:|---:|"]
        for name, v in cold["times"].items():
            cmd = "python -c pass" if name == "python" else f'python -c "import {name}"'
            lines.append(
                f"| `{cmd}` | {v['seconds_median']:.3f} "
                f"[{v['seconds_min']:.3f}-{v['seconds_max']:.3f}] | "
                f"{_mb(v['peak_rss'])} |"
            )
        lines += [
            "",
            "| installed (with runtime dependency closure) | size | distributions |",
            "|---|---:|---|",
        ]
        for name, v in cold["sizes"].items():
            dists = ", ".join(f"{k} {_mb(b)}" for k, b in v["per_distribution"].items())
            lines.append(f"| {name} | {_mb(v['total'])} | {dists} |")
        parts.append("## Cold start and install size\n\n" + "\n".join(lines))
    scal = report.get("scaling")
    if scal:
        lines = [
            "| config | chainrule ms | torch ms | ratio "
            "| chainrule peak RSS / tracemalloc | torch peak RSS |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for key, v in scal.items():
            t = v["timing"]
            m = v.get("memory", {})
            crm = m.get("chainrule", {})
            tm = _mb(crm["tracemalloc_step_peak"]) if "tracemalloc_step_peak" in crm else "-"
            cr_rss = _mb(crm["peak_above_build"]) if "peak_above_build" in crm else "-"
            th_rss = _mb(m["torch"]["peak_above_build"]) if "torch" in m else "-"
            lines.append(
                f"| {key} | {_fmt_ms(t.get('chainrule'))} | {_fmt_ms(t.get('torch'))} | "
                f"{_fmt_ratio(_ratio(t.get('chainrule'), t.get('torch')))} | "
                f"{cr_rss} / {tm} | {th_rss} |"
            )
        parts.append(
            "## Scaling (peak RSS of 2 steps above the built model, fresh process)\n\n"
            + "\n".join(lines)
        )
    gl = goals(report)
    if gl:
        lines = ["| goal | measured | status |", "|---|---|---|"]
        lines += [f"| {g} | {m} | {'met' if ok else 'NOT met'} |" for g, m, ok in gl]
        parts.append("## Goals\n\n" + "\n".join(lines))
    return "\n\n".join(parts) + "\n"


# ----------------------------------------------------------------------------- main


def set_threads(n: int) -> None:
    """Limit BLAS/OpenMP threads here and in the subprocesses (same number for all)."""
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(n)
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(n)
    except ImportError:
        _log("threadpoolctl is not installed: NumPy's BLAS keeps its threads")
    try:
        import torch

        torch.set_num_threads(n)
    except ImportError:
        pass


SCALING = (
    [("W1", {"batch": b, "width": 512}) for b in (32, 128, 512, 2048)]
    + [("W1", {"batch": 128, "width": w}) for w in (256, 1024, 2048)]
    + [("W4", {"batch": 32, "seq": s}) for s in (64, 128, 256, 512)]
)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__)
    parser.add_argument("--only", help=f"comma-separated sections of {','.join(SECTIONS)}")
    parser.add_argument("--json", help="write the full results to this file")
    parser.add_argument("--markdown", help="write the rendered tables to this file")
    parser.add_argument("--repeat", type=int, help="timed rounds per workload (default 7, quick 3)")
    parser.add_argument("--quick", action="store_true", help="fewer rounds, no scaling")
    parser.add_argument("--scaling", action=argparse.BooleanOptionalAction, default=None)
    parser.add_argument("--frameworks", default=",".join(FRAMEWORKS))
    parser.add_argument("--profile", help="cProfile these chainrule workloads (comma-separated)")
    parser.add_argument(
        "--threads", type=int, help="limit NumPy's BLAS and torch to N threads (default: all)"
    )
    args = parser.parse_args(argv)
    if args.threads:
        set_threads(args.threads)

    repeat = args.repeat or (3 if args.quick else 7)
    frameworks = [f for f in args.frameworks.split(",") if f]
    sections = args.only.split(",") if args.only else list(SECTIONS)
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown sections {sorted(unknown)}; choose from {SECTIONS}")
    scaling = args.scaling if args.scaling is not None else not args.quick
    if not scaling and "scaling" in sections:
        sections.remove("scaling")
    if args.scaling and "scaling" not in sections:
        sections.append("scaling")

    start = time.perf_counter()
    report: dict = {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": machine.describe(),
        "repeat": repeat,
        "threads": args.threads or "all",
        "timing": {},
    }
    _log(machine.format_machine(report["machine"]))
    for wl in WORKLOADS:
        if wl in sections:
            _log(f"timing {wl} ...")
            fws = (
                frameworks
                if wl in ("W1", "W2", "W5")
                else [f for f in frameworks if f in ("chainrule", "torch")]
            )
            report["timing"][wl] = time_workload(wl, fws, repeat)
    if "W6" in sections:
        _log("timing W6 matmul roofline ...")
        roof = roofline(max(3, repeat), frameworks)
        w1 = report["timing"].get("W1") or time_workload("W1", ["chainrule", "torch"], repeat)
        if "chainrule" in w1 and "median_ms" in w1["chainrule"]:
            roof["W1_gflops"] = 3 * forward_flops_w1() / (w1["chainrule"]["median_ms"] / 1e3) / 1e9
            roof["W1_fraction_of_numpy_peak"] = roof["W1_gflops"] / roof["numpy_peak_gflops"]
        if "median_ms" in w1.get("torch", {}):
            roof["W1_torch_gflops"] = (
                3 * forward_flops_w1() / (w1["torch"]["median_ms"] / 1e3) / 1e9
            )
        report["W6"] = roof
    if "memory" in sections:
        report["memory"] = {}
        for wl in ("W1", "W4"):
            for fw in ("chainrule", "torch"):
                if fw in frameworks:
                    _log(f"memory {wl} {fw} ...")
                    report["memory"][f"{wl}_{fw}"] = memory.training_memory(wl, fw, steps=20)
    if "coldstart" in sections:
        _log("cold start ...")
        mods = [m for m in ("chainrule", "torch") if m in frameworks]
        report["coldstart"] = {
            "times": memory.cold_start(mods, repeat=3 if args.quick else 7),
            "sizes": {m: memory.installed_size(m) for m in mods},
        }
    if "scaling" in sections:
        report["scaling"] = {}
        fws = [f for f in ("chainrule", "torch") if f in frameworks]
        for wl, sizes in SCALING:
            key = f"{wl} " + " ".join(f"{k}={v}" for k, v in sizes.items())
            _log(f"scaling {key} ...")
            timing = time_workload(wl, fws, 3, warmup=1, target_s=0.0, **sizes)
            mem = {fw: memory.step_memory(wl, fw, sizes) for fw in fws}
            report["scaling"][key] = {"timing": timing, "memory": mem}
    if args.profile:
        report["profiles"] = {}
        for wl in args.profile.split(","):
            _log(f"profiling {wl} ...")
            report["profiles"][wl] = profile_workload(wl)
    report["elapsed_s"] = time.perf_counter() - start

    text = (
        f"Run {report['date']}, {report['elapsed_s']:.0f} s, {repeat} rounds, "
        f"threads: {report['threads']}\n\n"
    )
    text += render(report, frameworks)
    for wl, prof in report.get("profiles", {}).items():
        text += f"\n## Profile {wl}\n\n{prof}\n"
    print(text)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(text)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1, default=str)
    return report


if __name__ == "__main__":
    main()
