"""Benchmark tables: readable in the terminal they are printed in, whatever its width."""
from __future__ import annotations

import json

import pytest

from dubdesk.bench.report import publish

ROWS = [{"programme": "amazon product video", "language": language, "dub": "dubdesk (stock Pico voice)",
         **{f"figure number {n}": 10.0 * n + index for n in range(12)}} for index, language in enumerate(("es", "fr"))]


@pytest.mark.fast
@pytest.mark.parametrize("width", [80, 400])
def test_a_benchmark_prints_every_figure_whole_at_any_terminal_width(width, monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("COLUMNS", str(width))
    publish("Dub", ROWS, {"CPU": "this machine"}, tmp_path / "dub.json")
    printed = capsys.readouterr().out
    assert max(map(len, printed.splitlines())) <= width
    assert "…" not in printed  # no figure or name cut short
    for row in ROWS:
        assert all(f"{value:.3f}" in printed for key, value in row.items() if key.startswith("figure"))
    assert ("amazon product video · es · dubdesk (stock Pico voice)" in printed) == (width == 80)  # a row per heading
    assert json.loads((tmp_path / "dub.json").read_text())["rows"] == ROWS
