"""Decisions and a person's words: approve, edit one line, take an adapter's script, reject."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from . import By, Home, TargetLanguage, app, fail, load_settings, person, reported_errors


@app.command()
def approve(project: int, language: TargetLanguage,
            by: Annotated[str, typer.Option("--by", help="the person approving (written to the audit log)")],
            lines: Annotated[Optional[list[str]], typer.Argument(help="line ids")] = None,
            every: Annotated[bool, typer.Option("--all", help="every undecided line: those that passed every "
                                                              "check; with --override, also those that failed one")] = False,
            override: Annotated[Optional[str], typer.Option(help="why a QC fail is acceptable (written only on the "
                                                                 "lines that failed)")] = None,
            home: Home = None) -> None:
    """Approve lines by name (or --all); a line that failed QC needs --override with a reason."""
    from ..context import Context
    from ..services import desk, projects

    ctx = Context(load_settings(home))
    with reported_errors():
        chosen = projects.project(ctx, project)
        if not lines and not every:
            fail("name the lines to approve, or --all")
        if every:
            done = desk.approve_all(ctx, chosen, language, by, override)
            typer.echo(f"{len(done.passed)} line(s) passed every check: approved by {by}")
            for line_id, failed in done.overridden.items():
                typer.echo(f"{line_id}: approved by {by} over a failed check: {'; '.join(failed)}")
            for line_id, failed in done.left.items():
                typer.secho(f"{line_id}: not approved, it failed {'; '.join(failed)} (give --override with a reason)",
                            err=True, fg=typer.colors.YELLOW)
            raise typer.Exit(1 if done.left else 0)
        for line_id in lines:
            desk.review(ctx, chosen, line_id, language, by, approve=True, override_reason=override)
            typer.echo(f"{line_id}: approved by {by}")


@app.command()
def edit(project: int, line_id: str, language: TargetLanguage,
         text: Annotated[str, typer.Option(help="the line's new words")], by: By = None, home: Home = None) -> None:
    """Write a line's text by hand, speak it again in its cast voice (consent is checked now), fit and check
    it: this line only. Its earlier decisions stay with the earlier take."""
    from ..context import Context
    from ..services import projects, translation
    from ..services.desk import check_line, regenerate_line

    ctx = Context(load_settings(home))
    with reported_errors():
        chosen = projects.project(ctx, project)
        current = translation.translations(ctx, chosen, language).get(line_id)
        if current is None:
            fail(f"line {line_id} has no {language} text yet; translate first")
        regenerate_line(ctx, chosen, line_id, language, text, person(by), current.version)
        row = check_line(ctx, chosen, line_id, language)
    for check, (verdict, reason) in row.qc.items():
        typer.echo(f"{check}: {verdict} ({reason})")
    typer.echo(f"{line_id}: spoken again as \"{row.text}\"; decide on it with approve or reject")


@app.command()
def adapt(project: int, language: TargetLanguage,
          source: Annotated[Path, typer.Option("--from", help="TSV with the columns line, source, dub; or "
                                                                "subtitles (SRT, VTT) in the target language")],
          by: By = None, home: Home = None) -> None:
    """Take an adapter's script or a translator's subtitles. Before the dub, their lines are the text it
    speaks; after, every line they write differently is spoken again, fitted and checked."""
    from ..context import Context
    from ..services import projects, scripting
    from ..services.desk import adapt_lines
    from ..translate.edits import read_adapter_file

    ctx = Context(load_settings(home))
    with reported_errors():
        chosen = projects.project(ctx, project)
        texts = read_adapter_file(source, scripting.script(ctx, chosen).lines)
        rows = adapt_lines(ctx, chosen, language, texts, person(by))
    for row in rows:
        typer.echo(f"{row.line_id}: \"{row.text}\" " + (f"(QC {row.worst})" if row.clip_id else "(written; the dub speaks it)"))
    spoken = sum(row.clip_id is not None for row in rows)
    typer.echo(f"{len(rows)} line(s) adapted" + (f"; decide on the {spoken} spoken with approve or reject" if spoken else
                                                 "; `dubdesk dub` speaks them"))


@app.command()
def reject(project: int, line_id: str, language: TargetLanguage, by: Annotated[str, typer.Option("--by")],
           note: Annotated[str, typer.Option(help="what is wrong")], home: Home = None) -> None:
    """Reject a line with a note."""
    from ..context import Context
    from ..services import desk, projects

    ctx = Context(load_settings(home))
    with reported_errors():
        desk.review(ctx, projects.project(ctx, project), line_id, language, by, approve=False, note=note)
    typer.echo(f"{line_id}: rejected by {by}")
