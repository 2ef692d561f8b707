"""Helpers shared by the CLI tests: run ``python -m chainrule`` as a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys

DATA_DIR = os.path.join(os.path.dirname(__file__), "..", "..", "..", "shared", "data")
REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def run_cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    # Small matrices: one BLAS thread is as fast, and immune to oversubscription when
    # several test processes share the cores.
    env.setdefault("OPENBLAS_NUM_THREADS", "1")
    env.setdefault("OMP_NUM_THREADS", "1")
    env.setdefault("MPLBACKEND", "Agg")
    env["PYTHONPATH"] = REPO + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run(
        [sys.executable, "-m", "chainrule", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=REPO,
        env=env,
    )
