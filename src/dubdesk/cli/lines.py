"""A person's fixes to the script: split, merge, retime, move a line; the edits kept, and those that no longer apply."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Optional

import typer

from . import By, Home, app, fail, load_settings, person, reported_errors

line_app = typer.Typer(help="Fix the script by hand: split, merge, retime or move a line (kept through re-runs).",
                       no_args_is_help=True)
app.add_typer(line_app, name="line")


@line_app.command("split")
def line_split(project: int, line_id: str,
               at_word: Annotated[Optional[int], typer.Option("--at-word", help="the word the new line starts with, "
                                                                                 "counted from 1")] = None,
               at: Annotated[Optional[float], typer.Option("--at", help="seconds: the new line starts at the first "
                                                                        "word starting there or later")] = None,
               by: By = None, home: Home = None) -> None:
    """Split a line in two at a word; the second part gets a new id (L0005 -> L0005 and L0005.2)."""
    from ..services import lines

    if (at_word is None) == (at is None):
        fail("give --at-word N or --at SECONDS, one of the two")
    _run(project, home, lambda ctx, chosen: lines.split_line(ctx, chosen, line_id, at_word=at_word, at_time=at,
                                                             by=person(by)))


@line_app.command("merge")
def line_merge(project: int, line_id: str, next_id: Annotated[str, typer.Argument(help="a later line")],
               speaker: Annotated[Optional[str], typer.Option(help="who speaks the merged line, when the two lines' "
                                                                   "speakers differ")] = None,
               by: By = None, home: Home = None) -> None:
    """Merge a line with a later one: one line under the first's id."""
    from ..services import lines

    _run(project, home, lambda ctx, chosen: lines.merge_lines(ctx, chosen, line_id, next_id, speaker=speaker,
                                                              by=person(by)))


@line_app.command("retime")
def line_retime(project: int, line_id: str, start: Annotated[float, typer.Option(help="seconds")],
                end: Annotated[float, typer.Option(help="seconds")], by: By = None, home: Home = None) -> None:
    """Give a line a new start and end, inside the programme and clear of its speaker's other lines."""
    from ..services import lines

    _run(project, home, lambda ctx, chosen: lines.retime_line(ctx, chosen, line_id, start, end, by=person(by)))


@line_app.command("move")
def line_move(project: int, line_id: str, speaker: Annotated[str, typer.Option(help="the speaker who says it")],
              by: By = None, home: Home = None) -> None:
    """Give a line to another speaker (a diarization error)."""
    from ..services import lines

    _run(project, home, lambda ctx, chosen: lines.move_line(ctx, chosen, line_id, speaker, by=person(by)))


@line_app.command("edits")
def line_edits(project: int, home: Home = None) -> None:
    """The script's hand edits in the order made; exit 1 if any no longer applies (its line changed or is gone)."""
    from ..context import Context
    from ..services import projects, scripting

    with reported_errors():
        ctx = Context(load_settings(home))
        edited = scripting.edited_script(ctx, projects.project(ctx, project))
    for edit in edited.applied:
        typer.echo(f"{edit} (by {edit.by})")
    for unapplied in edited.unapplied:
        typer.secho(str(unapplied), err=True, fg=typer.colors.YELLOW)
    if edited.unapplied:
        raise typer.Exit(1)


def _run(project: int, home: Optional[Path], edit: Callable) -> None:
    """Make one edit on the project (`edit(ctx, project)`, a services.lines call) and print what it did."""
    from ..context import Context
    from ..services import projects

    with reported_errors():
        ctx = Context(load_settings(home))
        change = edit(ctx, projects.project(ctx, project))
    typer.echo(f"{change.edit} (by {change.edit.by})")
    for line in change.lines:
        typer.echo(f"{line.id}\t{line.speaker}\t{line.start:.2f}-{line.end:.2f} s\t{line.text}")
    for line_id in change.gone:
        typer.echo(f"{line_id}\tgone")
    typer.echo(f"spoken again at the next dub: {', '.join(change.to_speak_again)} "
               f"({change.retired_takes} earlier take(s) no longer count)")
