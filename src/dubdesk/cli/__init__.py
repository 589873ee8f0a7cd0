"""The command line: thin faces over the services, with rich progress and one-line errors.

One module per part of the flow, registered here in pipeline order: the project and its stages
(pipeline), a person's fixes to the script (lines), the review (review), the purpose, title clearance and
input rights (rights), delivery and verification
(delivery), voices and consent (voices), people and the browser app (users), and the benchmarks in
their own group (bench).
Each command parses its options, calls one service and renders what comes back.
"""
from __future__ import annotations

import getpass
import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, NoReturn, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn

from ..config import Settings
from ..errors import DubdeskError

app = typer.Typer(help="dubdesk: consented, labelled, reviewed AI dubbing.", no_args_is_help=True)
console = Console(stderr=True)

STAGE_LABELS = {"ingest": "Ingesting source", "transcribe": "Transcribing", "diarize": "Diarizing speakers",
                "script": "Building script", "export": "Writing files",
                "translate": "Translating", "synthesize": "Synthesizing lines", "fit": "Fitting lines",
                "qc": "Checking lines"}

Home = Annotated[Optional[Path], typer.Option("--home", help="data folder (database, projects, model cache)")]
TargetLanguage = Annotated[str, typer.Option("--to", help="target language")]
Language = Annotated[Optional[str], typer.Option(help="source language (ISO 639-1); detected if omitted")]
AsrModel = Annotated[Optional[str], typer.Option("--asr-model", help="'base' or a local CTranslate2 model folder")]
AsrEngine = Annotated[Optional[str], typer.Option("--asr-engine", help="faster-whisper | whisperx")]
BeamSize = Annotated[Optional[int], typer.Option(help="ASR beam size")]
Diarizer = Annotated[Optional[str], typer.Option("--diarizer", help="embedded | pyannote")]
Speakers = Annotated[Optional[int], typer.Option("--speakers", help="exact number of speakers, if known")]
By = Annotated[Optional[str], typer.Option("--by", envvar="DUBDESK_USER",
                                           help="who is doing this, for the audit log (default: the login name)")]


def person(by: str | None) -> str:
    """Who a command acts for: --by, else $DUBDESK_USER, else the login name."""
    return (by or "").strip() or getpass.getuser()
MinSpeakers = Annotated[Optional[int], typer.Option(help="at least this many speakers")]
MaxSpeakers = Annotated[Optional[int], typer.Option(help="at most this many speakers")]


@app.callback()
def everywhere(database_url: Annotated[Optional[str], typer.Option(
        "--database-url", help="the team's PostgreSQL database (postgresql://user:password@host:port/name) for this "
                               "command; default the setting database_url, else the SQLite file in the data folder")] = None,
               ) -> None:
    """dubdesk: consented, labelled, reviewed AI dubbing."""
    if database_url:  # the flag stands above the file and the environment, for this command and what it starts
        os.environ["DUBDESK_DATABASE_URL"] = database_url


def load_settings(home: Path | None = None, **sections: dict) -> Settings:
    settings = Settings(home=home) if home else Settings()
    return settings.with_overrides(**sections)


def say_error(message: str) -> None:
    """One red line on stderr."""
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)


def fail(message: str) -> NoReturn:
    """One red line on stderr and exit status 2."""
    say_error(message)
    raise typer.Exit(2)


@contextmanager
def reported_errors():
    """Turn a DubdeskError into one red line and exit status 2; nothing else is caught."""
    try:
        yield
    except DubdeskError as error:
        fail(str(error))


@contextmanager
def stage_progress():
    """A rich progress display (on standard error); yields the callback the services call as stages start and advance."""
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), console=console, transient=not sys.stderr.isatty()) as progress:
        tasks: dict[str, TaskID] = {}

        def finish_others(stage: str) -> None:
            for name, task in tasks.items():
                if name != stage:
                    progress.update(task, completed=1, total=1)

        def advance(stage: str, done: int | None = None, total: int | None = None) -> None:
            finish_others(stage)
            if stage not in tasks:
                tasks[stage] = progress.add_task(STAGE_LABELS.get(stage, stage), total=None)
            if total is not None:
                progress.update(tasks[stage], completed=done or 0, total=total)

        yield advance
        finish_others("")


@contextmanager
def programme_progress():
    """One rich progress bar per programme of a batch (on standard error); yields the callback the batch calls
    as each programme's steps finish."""
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, transient=not sys.stderr.isatty()) as progress:
        tasks: dict[str, TaskID] = {}

        def advance(programme: str, done: int, total: int) -> None:
            if programme not in tasks:
                tasks[programme] = progress.add_task(programme, total=total)
            progress.update(tasks[programme], completed=done, total=total)

        yield advance


def main() -> None:
    """The command line. An error a person can act on that comes before a command's own reporting (a
    database that cannot be opened, say) is one red line and exit status 2 too."""
    try:
        app()
    except DubdeskError as error:
        say_error(str(error))
        sys.exit(2)


# Importing each module registers its commands, in this order (the order `dubdesk --help` shows).
# isort: off
from . import pipeline, lines, review, rights, delivery, voices, users, bench  # noqa: E402,F401
# isort: on
