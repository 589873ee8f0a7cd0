"""Print a benchmark table with rich and write the same rows as JSON."""
from __future__ import annotations

import json
import os
import platform
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from rich.columns import Columns
from rich.console import Console
from rich.table import Table

from ..files import write_text

TEXT_COLUMNS = ("file", "language", "set", "stage", "group", "attack", "detail", "programme", "dub")


class StageTimes(dict[str, float]):
    """Wall seconds per stage: calling it with (stage, run) runs `run`, adds how long it took and
    returns its result (the shape pipeline.prepare_dub's `timed` takes). `cpu` keeps each stage's
    processor seconds (all threads, and the worker programs it waited for): on a machine other work
    shares, wall time grows and these do not, so a busy run still shows where the work goes."""

    def __init__(self) -> None:
        super().__init__()
        self.cpu: dict[str, float] = {}

    def __call__(self, stage: str, run: Callable[[], object]) -> object:
        began, cpu = time.perf_counter(), processor_seconds()
        result = run()
        self[stage] = self.get(stage, 0.0) + time.perf_counter() - began
        self.cpu[stage] = self.cpu.get(stage, 0.0) + processor_seconds() - cpu
        return result


def processor_seconds() -> float:
    """User and system seconds of this process, of the child processes it has waited for, and of those
    still running (a worker kept between stages)."""
    spent = os.times()
    running = sum(_cpu_seconds(pid) for pid in family(os.getpid())[1:])
    return spent.user + spent.system + spent.children_user + spent.children_system + running


def family(root: int) -> list[int]:
    """`root` and every process descended from it."""
    parents = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/stat") as stat:
                    parents[int(entry.name)] = int(stat.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):  # gone meanwhile
                continue
    found, frontier = [root], [root]
    while frontier:
        frontier = [pid for pid, parent in parents.items() if parent in frontier]
        found += frontier
    return found


def _cpu_seconds(pid: int) -> float:
    """A running process's user and system seconds (0 once it is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def machine_load() -> float:
    """Runnable processes over the last minute: near the core count or above, timings are busy ones."""
    return round(os.getloadavg()[0], 2)


def publish(title: str, rows: list[dict], summary: dict, out: Path) -> None:
    """The rows as a table (or, where it would not fit the terminal, each row as its name and its figures
    side by side), the summary under it, and all of it as JSON in `out`."""
    columns = list(dict.fromkeys(k for row in rows for k in row))
    console = Console()
    if sum(_width(column, rows) for column in columns) <= console.width:
        table = Table(title=title)
        for column in columns:
            table.add_column(column, justify="left" if column in TEXT_COLUMNS else "right")
        for row in rows:
            table.add_row(*(_cell(row.get(c)) for c in columns))
        console.print(table)
    else:
        _print_rows(console, title, rows, columns)
    for key, value in summary.items():
        console.print(f"[bold]{key}[/]: {_cell(value)}")
    document = {"title": title, "when": datetime.now(UTC).isoformat(timespec="seconds"),
                "machine": {"cpu_count": os.cpu_count(), "platform": platform.platform()},
                "summary": summary, "rows": rows}
    write_text(out, json.dumps(document, indent=2, ensure_ascii=False))
    console.print(f"written: {out}")


def _width(column: str, rows: list[dict]) -> int:
    """The narrowest a column can be drawn: its longest cell or header word, and its borders."""
    return max([*map(len, column.split()), *(len(_cell(row.get(column))) for row in rows)]) + 3


def _print_rows(console: Console, title: str, rows: list[dict], columns: list[str]) -> None:
    """Each row under a heading of the columns that name it (the leading ones, text rather than numbers),
    its other figures flowed across the terminal's width."""
    naming = []
    for column in columns:
        if any(isinstance(row.get(column), int | float) and not isinstance(row.get(column), bool) for row in rows):
            break
        naming.append(column)
    console.rule(title)
    for row in rows:
        console.print("[bold]" + " · ".join(f"{c} {_cell(row.get(c))}" if isinstance(row.get(c), bool | None)
                                             else _cell(row.get(c)) for c in naming) + "[/]")
        console.print(Columns([f"{c} [bold]{_cell(row.get(c))}[/]" for c in columns if c not in naming], padding=(0, 3)))


def _cell(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)
