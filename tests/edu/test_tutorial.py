"""Run every ```python block of docs/tutorial-backprop.md, in order, in one namespace."""

import pathlib
import re

TUTORIAL = pathlib.Path(__file__).resolve().parents[2] / "docs" / "tutorial-backprop.md"


def python_blocks(text: str) -> list:
    return re.findall(r"^```python\n(.*?)^```", text, flags=re.S | re.M)


def test_tutorial_runs(tmp_path, monkeypatch, capsys):
    blocks = python_blocks(TUTORIAL.read_text(encoding="utf-8"))
    assert len(blocks) >= 6
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "__tutorial__"}
    for i, code in enumerate(blocks):
        exec(compile(code, f"{TUTORIAL.name}[block {i}]", "exec"), namespace)
    out = capsys.readouterr().out
    assert "loss = 0.298371109" in out
    assert "dL/dw5 = 0.082167041" in out
    assert "gradcheck passed" in out
    assert "Hessian-vector product matches finite differences" in out
    assert (tmp_path / "forward.svg").stat().st_size > 0
    assert (tmp_path / "backward.svg").stat().st_size > 0
