"""Rights before delivery, in the order they are given: the project's purpose, the rights holder's title
clearance, each input's rights; show them; revoke a clearance."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from . import By, Home, app, load_settings, person, reported_errors

rights_app = typer.Typer(help="Title clearances and input rights: clear, input, show, revoke.", no_args_is_help=True)
app.add_typer(rights_app, name="rights")

Listed = Annotated[str, typer.Option(help="comma-separated")]


def _items(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


@app.command()
def purpose(project: int, text: Annotated[str, typer.Option(help="why AI is used here, e.g. 'a first-pass dub for "
                                                                   "market testing in Spanish'")],
            ai: Annotated[str, typer.Option(help="what AI does: translation, voices (comma-separated)")],
            by: By = None, home: Home = None) -> None:
    """State why AI is used in the project and what it does; every delivery discloses it."""
    from ..context import Context
    from ..services import projects

    ctx = Context(load_settings(home))
    with reported_errors():
        row = projects.state_purpose(ctx, projects.project(ctx, project), text, tuple(_items(ai)), by=person(by))
    typer.echo(f"project {row.id}: {row.purpose} (AI: {', '.join(row.ai_uses)})")


@rights_app.command("clear")
def rights_clear(
    project: int,
    holder: Annotated[str, typer.Option(help="the rights holder who approves")],
    title: Annotated[str, typer.Option(help="the title as the rights holder names it")],
    languages: Listed,
    territories: Annotated[str, typer.Option(help="ISO 3166-1 alpha-2 codes (ES,MX) or 'worldwide'")],
    uses: Annotated[str, typer.Option(help="ai-voice, ai-translation, draft-review (comma-separated)")],
    document: Annotated[Path, typer.Option(help="the approving document (its SHA-256 is recorded)")],
    reference: Annotated[str, typer.Option(help="the document's reference (contract number, letter date)")],
    valid_from: Annotated[Optional[datetime], typer.Option("--from", formats=["%Y-%m-%d"])] = None,
    valid_until: Annotated[Optional[datetime], typer.Option("--until", formats=["%Y-%m-%d"])] = None,
    by: By = None, home: Home = None,
) -> None:
    """Record the rights holder's signed approval of AI dubbing for the project's title; prints its id."""
    from ..context import Context
    from ..services import projects, rights

    ctx = Context(load_settings(home))
    with reported_errors():
        record = rights.clear_title(ctx, projects.project(ctx, project), holder, title, _items(languages),
                                    _items(territories), _items(uses), (valid_from or datetime.now()).date(),
                                    valid_until.date() if valid_until else None, document, reference, by=person(by))
    typer.echo(record.clearance_id)


@rights_app.command("input")
def rights_input(
    project: int,
    name: Annotated[str, typer.Option("--input", help="source | stem | glossary:TERM")],
    owner: Annotated[str, typer.Option(help="who owns it")],
    cleared: Annotated[bool, typer.Option("--cleared/--not-cleared", help="whether its use here is cleared")],
    note: str = "",
    document: Annotated[Optional[Path], typer.Option(help="the document that clears it (its SHA-256 is recorded)")] = None,
    reference: Annotated[str, typer.Option(help="the document's reference")] = "",
    by: By = None, home: Home = None,
) -> None:
    """Record who owns one input of the project and whether its use here is cleared."""
    from ..context import Context
    from ..services import projects, rights

    ctx = Context(load_settings(home))
    with reported_errors():
        status = rights.record_input(ctx, projects.project(ctx, project), name, owner, cleared, note, document,
                                     reference, by=person(by))
    typer.echo(status.describe())


@rights_app.command("show")
def rights_show(project: int, language: Annotated[str, typer.Option("--to", help="target language")] = "es",
                home: Home = None) -> None:
    """The project's purpose, its clearances with their verified history, and every input's rights status."""
    from ..context import Context
    from ..services import projects, rights

    ctx = Context(load_settings(home))
    out = Console()
    with reported_errors():
        chosen = projects.project(ctx, project)
        histories = rights.clearances(ctx, chosen)
        statuses = rights.inputs(ctx, chosen, language)
    out.print(f"purpose: {chosen.purpose or '(not stated)'}; AI: {', '.join(chosen.ai_uses or []) or '-'}")
    table = Table("clearance", "version", "holder", "title", "languages", "territories", "uses", "from", "until",
                  "document", "state", title="title clearances")
    for history in histories:
        for record in history:
            terms = record.terms
            table.add_row(record.clearance_id, str(record.version), terms.holder, terms.title, ",".join(terms.languages),
                          ",".join(terms.territories), ",".join(terms.uses), terms.valid_from.isoformat(),
                          terms.valid_until.isoformat() if terms.valid_until else "-", terms.document_ref,
                          f"revoked: {record.revocation_reason}" if record.revoked else "given")
    out.print(table)
    inputs = Table("input", "owner", "cleared", "note", "document", title=f"inputs ({language})")
    for status in statuses:
        inputs.add_row(status.input, status.owner, {True: "yes", False: "NO", None: "not recorded"}[status.cleared],
                       status.note, status.document)
    out.print(inputs)


@rights_app.command("revoke")
def rights_revoke(clearance: str, reason: Annotated[str, typer.Option(help="why the approval is withdrawn")],
                  by: By = None, home: Home = None) -> None:
    """Withdraw a title clearance, for good: no delivery under it, and verify fails the packages made under it."""
    from ..context import Context
    from ..services import rights

    with reported_errors():
        rights.revoke_clearance(Context(load_settings(home)), clearance, reason, by=person(by))
    typer.echo(f"revoked {clearance}")
