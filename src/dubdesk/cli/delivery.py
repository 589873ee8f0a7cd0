"""Mix and deliver the approved lines; verify a received package or file."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from . import By, Home, TargetLanguage, app, load_settings, person, reported_errors, stage_progress


@app.command()
def deliver(project: int, language: TargetLanguage,
            out: Annotated[Path, typer.Option(help="folder the delivery package is written into")] = Path("delivery"),
            me: Annotated[Optional[Path], typer.Option("--me", help="an M&E stem to mix over (default: the original, "
                                                                    "ducked under the dub)")] = None,
            territory: Annotated[str, typer.Option(help="where it goes out: ISO 3166-1 alpha-2 codes (ES,MX) or "
                                                        "'worldwide'; a title clearance must cover them")] = "worldwide",
            by: By = None, home: Home = None) -> None:
    """Mix the approved lines and write the labelled, signed package: mix, stems, lines, script, timeline, video."""
    from ..context import Context
    from ..services import delivery, projects

    ctx = Context(load_settings(home))
    with reported_errors(), stage_progress() as progress:
        folder = delivery.deliver(ctx, projects.project(ctx, project), language, out, me, progress, by=person(by),
                                  territories=tuple(territory.split(",")))
    loudness = json.loads((folder / "manifest.json").read_text("utf-8"))["loudness"]["ffmpeg_ebur128"]
    for role, reading in loudness.items():
        typer.echo(f"{role}: dialogue {reading['dialogue']['integrated_lkfs']:.1f} LKFS, programme "
                   f"{reading['programme']['integrated_lkfs']:.1f} LKFS, true peak {reading['programme']['true_peak_dbtp']:.1f} dBTP, "
                   f"range {reading['programme']['range_lu']:.1f} LU (ffmpeg ebur128)")
    typer.echo(f"delivered: {folder}")


@app.command()
def verify(target: Annotated[Path, typer.Argument(help="a delivered file or package folder")],
           trust: Annotated[Optional[Path], typer.Option(help="root certificate to trust (default: this studio's)")] = None,
           home: Home = None) -> None:
    """Check labels, C2PA signature, watermark, manifest hashes and consents; exit 1 on any problem."""
    from ..context import Context
    from ..services import delivery

    ctx = Context(load_settings(home))
    with reported_errors():
        findings = delivery.verify(ctx, target, trust)
    table = Table("file", "check", "", "finding", title=f"verify {target}")
    marks = {True: "[green]ok[/]", False: "[bold red]FAIL[/]", None: "[yellow]not checked[/]"}
    for finding in findings:
        table.add_row(finding.file, finding.check, marks[finding.ok], finding.message)
    Console().print(table)
    problems = [f for f in findings if f.ok is False]
    typer.echo(f"{len(problems)} problem(s) in {len({f.file for f in findings})} file(s)")
    raise typer.Exit(1 if problems else 0)
