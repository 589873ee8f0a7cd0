"""Voice profiles and their consent: add, list, show, revoke."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from . import By, Home, app, load_settings, person, reported_errors

voices_app = typer.Typer(help="Voice profiles and their consent: add, list, show, revoke.", no_args_is_help=True)
app.add_typer(voices_app, name="voices")


@voices_app.command("add")
def voices_add(
    actor: Annotated[str, typer.Option(help="the actor's name as it appears in credits")],
    language: Annotated[list[str], typer.Option(help="language the actor consents to (repeatable)")],
    reference: Annotated[Optional[list[Path]], typer.Option(help="reference recording (repeatable)")] = None,
    title: Annotated[Optional[list[str]], typer.Option(help="title covered (repeatable); default any")] = None,
    use: Annotated[Optional[list[str]], typer.Option(help="dubbing | promo | trailer (repeatable)")] = None,
    valid_from: Annotated[Optional[datetime], typer.Option("--from", formats=["%Y-%m-%d"])] = None,
    valid_until: Annotated[Optional[datetime], typer.Option("--until", formats=["%Y-%m-%d"])] = None,
    terms: Annotated[str, typer.Option(help="compensation / contract reference")] = "",
    by: By = None,
    home: Home = None,
) -> None:
    """Register a voice profile with signed consent terms; prints its id."""
    from ..context import Context
    from ..voices.records import ANY, ConsentTerms

    consent = ConsentTerms(tuple(language), tuple(title or (ANY,)), tuple(use or ("dubbing",)),
                           (valid_from or datetime.now()).date(), valid_until.date() if valid_until else None, terms)
    with reported_errors():
        record = Context(load_settings(home)).registry.create(actor, consent, list(reference or []), by=person(by))
    typer.echo(record.profile_id)


def _terms_cells(terms) -> tuple[str, str, str, str]:
    """Languages, titles, uses and end date of consent terms, as table cells."""
    until = terms.valid_until.isoformat() if terms.valid_until else "-"
    return ",".join(terms.languages), ",".join(terms.titles), ",".join(terms.uses), until


@voices_app.command("list")
def voices_list(home: Home = None) -> None:
    """Every voice profile with its consent scope and state."""
    from ..context import Context

    registry = Context(load_settings(home)).registry
    table = Table("id", "actor", "kind", "languages", "titles", "uses", "until", "state")
    with reported_errors():
        for profile_id in registry.profile_ids():
            record = registry.current(profile_id)
            table.add_row(profile_id, record.actor, "stock" if record.stock else "actor", *_terms_cells(record.terms),
                          "revoked" if record.revoked else "active")
    Console().print(table)


@voices_app.command("show")
def voices_show(profile_id: str, home: Home = None) -> None:
    """A profile's verified history and every line generated with the voice."""
    from ..context import Context
    from ..services import speech

    ctx = Context(load_settings(home))
    with reported_errors():
        history = ctx.registry.history(profile_id)
    out = Console()
    versions = Table("version", "record hash", "created", "languages", "titles", "uses", "until", "revoked", title=profile_id)
    for record in history:
        versions.add_row(str(record.version), record.hash[:16], f"{record.created_at:%Y-%m-%d %H:%M}",
                         *_terms_cells(record.terms), record.revocation_reason if record.revoked else "")
    out.print(versions)
    usage = Table("clip", "project", "line", "language", "status", "created", "text", title="generated lines")
    for clip in speech.clips(ctx, profile_id=profile_id):
        usage.add_row(str(clip.id), str(clip.project_id), clip.line_id, clip.language, clip.status,
                      f"{clip.created_at:%Y-%m-%d %H:%M}", clip.text[:60])
    out.print(usage)


@voices_app.command("revoke")
def voices_revoke(profile_id: str, reason: Annotated[str, typer.Option(help="why consent is withdrawn")],
                  by: By = None, home: Home = None) -> None:
    """Withdraw consent now: no new synthesis, and unmixed lines in this voice are blocked."""
    from ..context import Context
    from ..services import speech

    with reported_errors():
        blocked = speech.revoke_voice(Context(load_settings(home)), profile_id, reason, by=person(by))
    typer.echo(f"revoked {profile_id}; {blocked} unmixed clip(s) blocked")
