"""The project and its stages, in order: new, transcribe, export, translate, cast, synthesize, fit, QC, dub."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from . import (
    AsrEngine,
    AsrModel,
    BeamSize,
    By,
    Diarizer,
    Home,
    Language,
    MaxSpeakers,
    MinSpeakers,
    Speakers,
    TargetLanguage,
    app,
    fail,
    load_settings,
    person,
    programme_progress,
    reported_errors,
    stage_progress,
)


@app.command()
def new(source: Path, name: Annotated[Optional[str], typer.Option(help="project name")] = None,
        target: Annotated[Optional[list[str]], typer.Option(help="target language (repeatable)")] = None,
        commercial: Annotated[bool, typer.Option(help="the dub will be used commercially")] = False,
        by: By = None, home: Home = None) -> None:
    """Create a project from an audio or video file (the original is kept untouched)."""
    from ..context import Context
    from ..services import projects

    with reported_errors(), stage_progress() as progress:
        progress("ingest")
        project = projects.create_project(Context(load_settings(home)), source, name, tuple(target or ()), commercial, person(by))
    typer.echo(project.id)


@app.command("projects")
def list_projects(home: Home = None) -> None:
    """List the projects in the data folder."""
    from ..context import Context
    from ..services import projects

    table = Table("id", "name", "source", "duration", "targets", "created")
    for p in projects.projects(Context(load_settings(home))):
        table.add_row(str(p.id), p.name, p.source_name, f"{p.media['duration_s']:.1f} s",
                      ",".join(p.target_languages), p.created_at.strftime("%Y-%m-%d %H:%M"))
    Console().print(table)


@app.command()
def transcribe(
    source: Annotated[Optional[Path], typer.Argument(help="audio or video file")] = None,
    out: Annotated[Path, typer.Option(help="folder for script.json, script.srt, speakers.rttm ...")] = Path("."),
    project: Annotated[Optional[int], typer.Option(help="an existing project instead of a file")] = None,
    language: Language = None, asr_engine: AsrEngine = None, asr_model: AsrModel = None, beam_size: BeamSize = None,
    diarizer: Diarizer = None, speakers: Speakers = None, min_speakers: MinSpeakers = None,
    max_speakers: MaxSpeakers = None, home: Home = None,
) -> None:
    """Transcribe and diarize a source into a timed, speaker-attributed script, and export it."""
    from ..context import Context
    from ..services import projects, scripting

    settings = load_settings(
        home, transcribe={"language": language, "engine": asr_engine, "model": asr_model, "beam_size": beam_size},
        diarize={"engine": diarizer, "num_speakers": speakers, "min_speakers": min_speakers,
                 "max_speakers": max_speakers})
    if (source is None) == (project is None):
        fail("give either a source file or --project ID")
    with reported_errors(), stage_progress() as progress:
        if source is not None:
            written = scripting.transcribe_file(Context(settings), source, out, progress)
        else:
            ctx = Context(settings)
            chosen = projects.project(ctx, project)
            scripting.script(ctx, chosen, progress)
            progress("export")
            written = scripting.export(ctx, chosen, out)
    for path in written:
        typer.echo(path)


@app.command()
def export(project: int, out: Path,
           format: Annotated[Optional[list[str]], typer.Option(help="json|srt|vtt|rttm|csv|xlsx (repeatable)")] = None,
           home: Home = None) -> None:
    """Export a project's script: JSON, SRT, VTT, RTTM and the timecoded dialogue list."""
    from ..context import Context
    from ..services import projects, scripting

    with reported_errors(), stage_progress() as progress:
        ctx = Context(load_settings(home))
        chosen = projects.project(ctx, project)
        scripting.script(ctx, chosen, progress)
        progress("export")
        written = scripting.export(ctx, chosen, out, tuple(format or ()) or None)
    for path in written:
        typer.echo(path)

@app.command()
def translate(project: int, language: TargetLanguage, by: By = None, home: Home = None) -> None:
    """Translate every line, with a budget in syllables (what the target says in the source line's time);
    over-budget lines are marked. A pair no engine serves opens every line empty, for a person to write."""
    from ..context import Context
    from ..services import projects, translation

    ctx = Context(load_settings(home))
    with reported_errors(), stage_progress() as progress:
        chosen = projects.project(ctx, project)
        progress("translate")
        rows = translation.translate(ctx, chosen, language, by=person(by))
        labels = translation.text_labels(ctx, chosen, language)
    table = Table("line", "budget (syllables)", "", "text", "text by", title=f"{chosen.name}: {language}")
    for line_id, row in sorted(rows.items()):
        table.add_row(line_id, str(row.budget_syllables), "OVER" if row.over_budget else "", row.text, labels[line_id])
    Console().print(table)
    unwritten = sorted(line_id for line_id, label in labels.items() if label == "to write")
    if unwritten:
        typer.echo(f"{len(unwritten)} line(s) to write by hand: `dubdesk edit` one line, or `dubdesk adapt --from` "
                   f"an adapter's TSV or subtitles (SRT/VTT)")


@app.command()
def characters(project: int,
               names: Annotated[Optional[list[str]], typer.Argument(help="SPEAKER=Character pairs")] = None,
               series: Annotated[Optional[str], typer.Option(help="series this episode belongs to")] = None,
               by: By = None, home: Home = None) -> None:
    """Name the characters (kept verbatim in translation) and the series (one voice per character)."""
    from ..context import Context
    from ..services import projects

    pairs = dict(pair.split("=", 1) for pair in names or [] if "=" in pair)
    if len(pairs) != len(names or []):
        fail("give characters as SPEAKER=Name")
    with reported_errors():
        ctx = Context(load_settings(home))
        row = projects.describe_project(ctx, projects.project(ctx, project), series=series, characters=pairs, by=person(by))
    typer.echo(f"series: {row.series or '-'}; characters: {row.characters}")


@app.command()
def glossary(project: int, term: str, language: TargetLanguage,
             translation: Annotated[str, typer.Option("--as", help="the required translation")],
             by: By = None, home: Home = None) -> None:
    """Require a translation for a term in one language (applied at the next translate)."""
    from ..context import Context
    from ..services import projects, translation

    with reported_errors():
        ctx = Context(load_settings(home))
        projects.describe_project(ctx, projects.project(ctx, project), glossary={term: {language: translation}}, by=person(by))
    typer.echo(f"{term} -> {translation} ({language})")


@app.command()
def cast(project: int, speaker: str, voice: Annotated[str, typer.Option(help="voice profile id")],
         language: TargetLanguage, by: By = None, home: Home = None) -> None:
    """Cast a consented voice as a source speaker (see voices-for for the voices on offer)."""
    from ..context import Context
    from ..services import casting, projects

    with reported_errors():
        ctx = Context(load_settings(home))
        casting.cast(ctx, projects.project(ctx, project), speaker, language, voice, person(by))
    typer.echo(f"{speaker} -> {voice} ({language})")


@app.command("voices-for")
def voices_for(project: int, language: TargetLanguage,
               home: Home = None) -> None:
    """The voices whose consent covers this project's title, the language and dubbing, today."""
    from ..context import Context
    from ..services import casting, projects

    ctx = Context(load_settings(home))
    with reported_errors():
        offered = casting.eligible_voices(ctx, projects.project(ctx, project), language)
    for record in offered:
        typer.echo(f"{record.profile_id}\t{record.actor}")


@app.command()
def synth(project: int, language: TargetLanguage, by: By = None, home: Home = None) -> None:
    """Speak every translated, cast line in its voice (consent is checked per line); exit 1 if any
    line could not be spoken."""
    from ..context import Context
    from ..services import projects, speech

    ctx = Context(load_settings(home))
    with reported_errors(), stage_progress() as progress:
        clips, refused = speech.synthesize_language(ctx, projects.project(ctx, project), language, progress, by=person(by))
    typer.echo(f"{len(clips)} line(s) synthesized")
    _exit_if_refused(refused)


def _exit_if_refused(refused: dict[str, str]) -> None:
    """Each line not spoken, with why, and exit status 1 if there is any."""
    for line_id, reason in refused.items():
        typer.secho(f"{line_id}: not synthesized: {reason}", err=True, fg=typer.colors.YELLOW)
    if refused:
        typer.secho(f"{len(refused)} line(s) not synthesized; they cannot be approved or mixed", err=True,
                    fg=typer.colors.RED)
        raise typer.Exit(1)


VERDICT_STYLE = {"pass": "green", "warn": "yellow", "fail": "bold red", "n/a": "dim"}


@app.command()
def fit(project: int, language: TargetLanguage, home: Home = None) -> None:
    """Fit every line's clip into its slot (pitch kept, within the rate bounds); lines that do not fit are listed."""
    from ..context import Context
    from ..services import pipeline, projects

    ctx = Context(load_settings(home))
    with reported_errors(), stage_progress() as progress:
        fits = pipeline.fit_lines(ctx, projects.project(ctx, project), language, progress)
    table = Table("line", "start", "slot s", "natural s", "rate", "fits", "", title=f"fit ({language})")
    for line_id, fitted in fits.items():
        table.add_row(line_id, f"{fitted.start:.2f}", f"{fitted.slot_s:.2f}", f"{fitted.natural_s:.2f}", f"{fitted.rate:.2f}",
                      "yes" if fitted.fits else "[bold red]NO[/]", "" if fitted.fits else fitted.reason)
    Console().print(table)
    typer.echo(f"{sum(f.fits for f in fits.values())} of {len(fits)} line(s) fit within the bounds")


@app.command()
def qc(project: int, language: TargetLanguage,
       again: Annotated[bool, typer.Option("--again", help="check again the lines checked before that nobody has decided on")] = False,
       as_json: Annotated[bool, typer.Option("--json", help="print every line (texts, fit, each check's verdict, "
                                                            "numbers and reason, decision) as JSON instead")] = False,
       home: Home = None) -> None:
    """Run every check on each line's current clip not checked yet and print the verdicts, with their reasons."""
    from ..context import Context
    from ..services import checks, projects

    ctx = Context(load_settings(home))
    with reported_errors(), stage_progress() as progress:
        chosen = projects.project(ctx, project)
        results = checks.qc(ctx, chosen, language, progress, again=again)
    if as_json:
        typer.echo(json.dumps([line.to_json() for line in checks.line_verdicts(ctx, chosen, language)],
                              ensure_ascii=False, indent=1))
    else:
        _print_qc(results, language)


QC_COLUMN_WIDTH = 16  # below this much room per check, the verdicts are listed line by line instead of tabled


def _print_qc(results: dict, language: str) -> None:
    names = [c.check for c in next(iter(results.values()), [])]
    out = Console()
    if out.width >= 8 + QC_COLUMN_WIDTH * len(names):
        table = Table("line", *names, title=f"QC ({language})", show_lines=True)
        for line_id, line_checks in results.items():
            table.add_row(line_id, *(f"[{VERDICT_STYLE[c.verdict]}]{c.verdict}[/]\n{c.reason}" for c in line_checks))
        out.print(table)
    else:  # a narrow terminal: one check per row, the reason wrapped under it
        for line_id, line_checks in results.items():
            out.print(f"[bold]{line_id}[/]")
            for c in line_checks:
                out.print(f"  {c.check:<16} [{VERDICT_STYLE[c.verdict]}]{c.verdict}[/]  {c.reason}")
    failed = sum(any(c.verdict == "fail" for c in line_checks) for line_checks in results.values())
    typer.echo(f"{failed} of {len(results)} line(s) failed a check")


@app.command()
def dub(project: int, language: TargetLanguage,
        voice: Annotated[str, typer.Option(help="voice profile for every speaker not cast yet")],
        by: By = None, home: Home = None) -> None:
    """Every stage up to review: script, translate, cast, synthesize, fit, QC; then print the verdicts.
    Run again, it redoes only what changed (approvals of unchanged lines stand); exit 1 if any line
    could not be spoken (say, its voice's consent was revoked)."""
    from ..context import Context
    from ..services import pipeline, projects

    ctx = Context(load_settings(home))
    with reported_errors(), stage_progress() as progress:
        report = pipeline.prepare_dub(ctx, projects.project(ctx, project), language, voice, progress, by=person(by))
    _print_qc(report.results, language)
    for unapplied in report.unapplied_edits:
        typer.secho(f"script edit {unapplied}", err=True, fg=typer.colors.YELLOW)
    _exit_if_refused(report.refused)


@app.command()
def batch(sources: Annotated[list[Path], typer.Argument(help="programme files, folders of them, or CSV manifests "
                                                              "(columns source, name, series, targets)")],
          target: Annotated[Optional[list[str]], typer.Option("--to", help="target language where a manifest gives "
                                                                           "none (repeatable)")] = None,
          voice: Annotated[Optional[list[str]], typer.Option(help="LANGUAGE=PROFILE: the voice for each language's "
                                                                  "uncast speakers (repeatable)")] = None,
          address: Annotated[Optional[str], typer.Option(help="an existing Ray cluster (ray start --head ...); "
                                                              "default: a local Ray started for the run")] = None,
          workers: Annotated[Optional[int], typer.Option(help="workers, each holding its own models; default one per CPU")] = None,
          out: Annotated[Optional[Path], typer.Option("--json", help="also write the summary as JSON here")] = None,
          by: By = None, home: Home = None) -> None:
    """Many programmes x several languages, each through every stage up to review, on Ray; a progress bar per
    programme, then lines ready and lines failing a check per programme and language. Run again, it does no new work."""
    from ..services import batch as batches

    pairs = dict(pair.split("=", 1) for pair in voice or [] if "=" in pair)
    if len(pairs) != len(voice or []):
        fail("give voices as LANGUAGE=PROFILE, e.g. --voice es=stock-pico-es-es")
    with reported_errors(), programme_progress() as progress:
        report = batches.run_batch(load_settings(home), batches.programmes(sources, tuple(target or ())), pairs, address,
                                   workers, progress, person(by))
    table = Table("programme", "project", "language", "lines", "ready", "failing a check", "not spoken",
                  title=f"batch: {report.workers} worker(s), {report.seconds:.1f} s")
    for o in report.outcomes:
        table.add_row(o.programme, str(o.project_id), o.language, str(o.lines), str(o.ready),
                      f"[bold red]{o.failing}[/]" if o.failing else "0", str(o.not_spoken))
    Console().print(table)
    if out:
        out.write_text(json.dumps(report.to_json(), ensure_ascii=False, indent=1), encoding="utf-8")
