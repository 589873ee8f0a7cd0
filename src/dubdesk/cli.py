"""The command line: thin wrappers over `workbench`, with rich progress and one-line errors."""
from __future__ import annotations

import getpass
import json
import sys
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated, NoReturn, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from .config import Settings
from .errors import DubdeskError

app = typer.Typer(help="dubdesk: consented, labelled, reviewed AI dubbing.", no_args_is_help=True)
bench_app = typer.Typer(help="Measure speed and quality on the evaluation data; prints a table, writes JSON.")
app.add_typer(bench_app, name="bench")
voices_app = typer.Typer(help="Voice profiles and their consent: add, list, show, revoke.", no_args_is_help=True)
app.add_typer(voices_app, name="voices")
console = Console(stderr=True)

STAGE_LABELS = {"ingest": "Ingesting source", "transcribe": "Transcribing", "diarize": "Diarizing speakers",
                "script": "Building script", "export": "Writing files",
                "translate": "Translating", "synthesize": "Synthesizing lines", "fit": "Fitting lines",
                "qc": "Checking lines"}

Home = Annotated[Optional[Path], typer.Option("--home", help="data folder (database, projects, model cache)")]
BUNDLED_SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "pyannote_sample" / "sample.wav"
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


def load_settings(home: Path | None = None, **sections: dict) -> Settings:
    settings = Settings(home=home) if home else Settings()
    return settings.with_overrides(**sections)


def fail(message: str) -> NoReturn:
    """One red line on stderr and exit status 2."""
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
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
    """A rich progress display; yields the callback the workbench calls as stages start and advance."""
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


@app.command()
def new(source: Path, name: Annotated[Optional[str], typer.Option(help="project name")] = None,
        target: Annotated[Optional[list[str]], typer.Option(help="target language (repeatable)")] = None,
        commercial: Annotated[bool, typer.Option(help="the dub will be used commercially")] = False,
        by: By = None, home: Home = None) -> None:
    """Create a project from an audio or video file (the original is kept untouched)."""
    from .workbench import Workbench

    with reported_errors(), stage_progress() as progress:
        progress("ingest")
        project = Workbench(load_settings(home)).create_project(source, name, tuple(target or ()), commercial, person(by))
    typer.echo(project.id)


@app.command("projects")
def list_projects(home: Home = None) -> None:
    """List the projects in the data folder."""
    from .workbench import Workbench

    table = Table("id", "name", "source", "duration", "targets", "created")
    for p in Workbench(load_settings(home)).projects():
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
    from .workbench import Workbench, transcribe_file

    settings = load_settings(
        home, transcribe={"language": language, "engine": asr_engine, "model": asr_model, "beam_size": beam_size},
        diarize={"engine": diarizer, "num_speakers": speakers, "min_speakers": min_speakers,
                 "max_speakers": max_speakers})
    if (source is None) == (project is None):
        fail("give either a source file or --project ID")
    with reported_errors(), stage_progress() as progress:
        if source is not None:
            written = transcribe_file(settings, source, out, progress)
        else:
            workbench = Workbench(settings)
            chosen = workbench.project(project)
            workbench.script(chosen, progress)
            progress("export")
            written = workbench.export(chosen, out)
    for path in written:
        typer.echo(path)


@app.command()
def export(project: int, out: Path,
           format: Annotated[Optional[list[str]], typer.Option(help="json|srt|vtt|rttm|csv|xlsx (repeatable)")] = None,
           home: Home = None) -> None:
    """Export a project's script: JSON, SRT, VTT, RTTM and the timecoded dialogue list."""
    from .workbench import Workbench

    with reported_errors(), stage_progress() as progress:
        workbench = Workbench(load_settings(home))
        chosen = workbench.project(project)
        workbench.script(chosen, progress)
        progress("export")
        written = workbench.export(chosen, out, tuple(format or ()) or None)
    for path in written:
        typer.echo(path)


EVAL_DIR = Path(__file__).resolve().parents[3] / "shared" / "eval"
EvalDir = Annotated[Path, typer.Option("--eval-dir", help="evaluation data folder")]
BenchOut = Annotated[Optional[Path], typer.Option("--out", help="JSON result file")]


@bench_app.command("asr")
def bench_asr(eval_dir: EvalDir = EVAL_DIR, out: BenchOut = None, beam_size: BeamSize = None,
              asr_model: AsrModel = None, limit: Annotated[Optional[int], typer.Option(help="first N clips")] = None,
              compare_direct: Annotated[bool, typer.Option(help="also score faster-whisper called directly")] = False,
              home: Home = None) -> None:
    """WER per language, word-timestamp error and RTF of the configured transcriber."""
    from .bench import asr

    settings = load_settings(home, transcribe={"beam_size": beam_size, "model": asr_model})
    with reported_errors():
        asr.run(settings, eval_dir, out or Path("bench-results/asr.json"), limit, compare_direct)


@bench_app.command("diarization")
def bench_diarization(eval_dir: EvalDir = EVAL_DIR, out: BenchOut = None, diarizer: Diarizer = None,
                      speakers: Speakers = None,
                      asr: Annotated[bool, typer.Option(help="also time transcription of each clip")] = True,
                      home: Home = None) -> None:
    """DER on the pyannote sample and AMI excerpts, and RTF of diarization and transcription."""
    from .bench import diarization

    settings = load_settings(home, diarize={"engine": diarizer, "num_speakers": speakers})
    with reported_errors():
        diarization.run(settings, eval_dir, out or Path("bench-results/diarization.json"), asr)


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
    from .voices.records import ANY, ConsentTerms
    from .workbench import Workbench

    consent = ConsentTerms(tuple(language), tuple(title or (ANY,)), tuple(use or ("dubbing",)),
                           (valid_from or datetime.now()).date(), valid_until.date() if valid_until else None, terms)
    with reported_errors():
        record = Workbench(load_settings(home)).registry.create(actor, consent, list(reference or []), by=person(by))
    typer.echo(record.profile_id)


def _terms_cells(terms) -> tuple[str, str, str, str]:
    """Languages, titles, uses and end date of consent terms, as table cells."""
    until = terms.valid_until.isoformat() if terms.valid_until else "-"
    return ",".join(terms.languages), ",".join(terms.titles), ",".join(terms.uses), until


@voices_app.command("list")
def voices_list(home: Home = None) -> None:
    """Every voice profile with its consent scope and state."""
    from .workbench import Workbench

    registry = Workbench(load_settings(home)).registry
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
    from .workbench import Workbench

    workbench = Workbench(load_settings(home))
    with reported_errors():
        history = workbench.registry.history(profile_id)
    out = Console()
    versions = Table("version", "record hash", "created", "languages", "titles", "uses", "until", "revoked", title=profile_id)
    for record in history:
        versions.add_row(str(record.version), record.hash[:16], f"{record.created_at:%Y-%m-%d %H:%M}",
                         *_terms_cells(record.terms), record.revocation_reason if record.revoked else "")
    out.print(versions)
    usage = Table("clip", "project", "line", "language", "status", "created", "text", title="generated lines")
    for clip in workbench.clips(profile_id=profile_id):
        usage.add_row(str(clip.id), str(clip.project_id), clip.line_id, clip.language, clip.status,
                      f"{clip.created_at:%Y-%m-%d %H:%M}", clip.text[:60])
    out.print(usage)


@voices_app.command("revoke")
def voices_revoke(profile_id: str, reason: Annotated[str, typer.Option(help="why consent is withdrawn")],
                  by: By = None, home: Home = None) -> None:
    """Withdraw consent now: no new synthesis, and unmixed lines in this voice are blocked."""
    from .workbench import Workbench

    with reported_errors():
        blocked = Workbench(load_settings(home)).revoke_voice(profile_id, reason, by=person(by))
    typer.echo(f"revoked {profile_id}; {blocked} unmixed clip(s) blocked")


@bench_app.command("translation")
def bench_translation(eval_dir: EvalDir = EVAL_DIR, out: BenchOut = None,
                      limit: Annotated[int, typer.Option(help="lines per pair and set")] = 200) -> None:
    """chrF of every embedded pair on FLORES-200 and Tatoeba, with the share of lines over budget."""
    from .bench import translation

    with reported_errors():
        translation.run(eval_dir, out or Path("bench-results/translation.json"), limit)


@bench_app.command("qc")
def bench_qc(eval_dir: EvalDir = EVAL_DIR, out: BenchOut = None, home: Home = None) -> None:
    """Emotion-distance separation on RAVDESS; fit and QC of the sample dubbed through every stage."""
    from .bench import qc as qc_bench

    with reported_errors():
        qc_bench.run(load_settings(home), eval_dir, out or Path("bench-results/qc.json"), BUNDLED_SAMPLE)


@bench_app.command("main")
def bench_main(out: BenchOut = None, home: Home = None,
               language: Annotated[str, typer.Option("--to")] = "es",
               voice: Annotated[str, typer.Option(help="voice profile for every speaker")] = "stock-pico-es-es") -> None:
    """The main job on the bundled sample, end to end: wall time and RTF per stage and in total."""
    from .bench import main_job

    with reported_errors():
        main_job.run(load_settings(home), BUNDLED_SAMPLE, out or Path("bench-results/main.json"), language, voice)


@bench_app.command("compare")
def bench_compare(before: Annotated[Path, typer.Argument(help="a delivery package")],
                  after: Annotated[Path, typer.Argument(help="the same job delivered again")]) -> None:
    """Whether two deliveries are the same dub (lines, texts, verdicts, loudness, files); exit 1 where not."""
    from .bench.compare import differences

    found = differences(before, after)
    for difference in found:
        typer.echo(difference)
    typer.echo(f"{len(found)} difference(s)" if found else "the same dub")
    raise typer.Exit(1 if found else 0)


@bench_app.command("security")
def bench_security(out: BenchOut = None,
                   races: Annotated[int, typer.Option(help="rounds of two processes editing one line")] = 20) -> None:
    """Attacks on consent, sealed takes, concurrent edits, delivered packages and the served UI: tried / held."""
    from .bench import security

    with reported_errors():
        security.run(load_settings(), BUNDLED_SAMPLE, out or Path("bench-results/security.json"), races)


@bench_app.command("review")
def bench_review(eval_dir: EvalDir = EVAL_DIR, out: BenchOut = None,
                 lines: Annotated[int, typer.Option(help="sentences in the generated project")] = 1000) -> None:
    """Review page on a generated 1,000-line project, in the browser: open, page, regenerate one line."""
    from .bench import review

    with reported_errors():
        review.run(load_settings(), eval_dir, BUNDLED_SAMPLE, out or Path("bench-results/review.json"), lines)


@bench_app.command("tts")
def bench_tts(eval_dir: EvalDir = EVAL_DIR, out: BenchOut = None,
              sentences: Annotated[int, typer.Option(help="FLORES sentences per voice")] = 10,
              voices: Annotated[str, typer.Option(help="only stock voices whose id contains this")] = "",
              home: Home = None) -> None:
    """Speed and intelligibility of every stock voice, through the consent-checked synthesis path."""
    from .bench import tts

    with reported_errors():
        tts.run(load_settings(home), eval_dir, out or Path("bench-results/tts.json"), sentences, BUNDLED_SAMPLE, voices)


@app.command()
def translate(project: int, language: TargetLanguage, by: By = None, home: Home = None) -> None:
    """Translate every line, with a character budget from its slot; over-budget lines are marked."""
    from .translate import route
    from .workbench import Workbench

    workbench = Workbench(load_settings(home))
    with reported_errors(), stage_progress() as progress:
        chosen = workbench.project(project)
        script = workbench.script(chosen, progress)
        progress("translate")
        quality = route(script.language, language, workbench.settings.translate).describe()
        rows = workbench.translate(chosen, language, by=person(by))
    table = Table("line", "budget", "chars", "", "text", title=quality)
    for line_id, row in sorted(rows.items()):
        table.add_row(line_id, str(row.budget_chars), str(len(row.text)), "OVER" if row.over_budget else "", row.text)
    Console().print(table)


@app.command()
def characters(project: int,
               names: Annotated[Optional[list[str]], typer.Argument(help="SPEAKER=Character pairs")] = None,
               series: Annotated[Optional[str], typer.Option(help="series this episode belongs to")] = None,
               by: By = None, home: Home = None) -> None:
    """Name the characters (kept verbatim in translation) and the series (one voice per character)."""
    from .workbench import Workbench

    pairs = dict(pair.split("=", 1) for pair in names or [] if "=" in pair)
    if len(pairs) != len(names or []):
        fail("give characters as SPEAKER=Name")
    with reported_errors():
        workbench = Workbench(load_settings(home))
        row = workbench.describe_project(workbench.project(project), series=series, characters=pairs, by=person(by))
    typer.echo(f"series: {row.series or '-'}; characters: {row.characters}")


@app.command()
def glossary(project: int, term: str, language: TargetLanguage,
             translation: Annotated[str, typer.Option("--as", help="the required translation")],
             by: By = None, home: Home = None) -> None:
    """Require a translation for a term in one language (applied at the next translate)."""
    from .workbench import Workbench

    with reported_errors():
        workbench = Workbench(load_settings(home))
        workbench.describe_project(workbench.project(project), glossary={term: {language: translation}}, by=person(by))
    typer.echo(f"{term} -> {translation} ({language})")


@app.command()
def cast(project: int, speaker: str, voice: Annotated[str, typer.Option(help="voice profile id")],
         language: TargetLanguage, by: By = None, home: Home = None) -> None:
    """Cast a consented voice as a source speaker (see voices-for for the voices on offer)."""
    from .workbench import Workbench

    with reported_errors():
        workbench = Workbench(load_settings(home))
        workbench.cast(workbench.project(project), speaker, language, voice, person(by))
    typer.echo(f"{speaker} -> {voice} ({language})")


@app.command("voices-for")
def voices_for(project: int, language: TargetLanguage,
               home: Home = None) -> None:
    """The voices whose consent covers this project's title, the language and dubbing, today."""
    from .cast import eligible_voices
    from .workbench import Workbench

    workbench = Workbench(load_settings(home))
    with reported_errors():
        offered = eligible_voices(workbench.registry, workbench.project(project), language)
    for record in offered:
        typer.echo(f"{record.profile_id}\t{record.actor}")


@app.command()
def synth(project: int, language: TargetLanguage, by: By = None, home: Home = None) -> None:
    """Speak every translated, cast line in its voice (consent is checked per line); exit 1 if any
    line could not be spoken."""
    from .workbench import Workbench

    workbench = Workbench(load_settings(home))
    with reported_errors(), stage_progress() as progress:
        clips, refused = workbench.synthesize_language(workbench.project(project), language, progress, by=person(by))
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
    from .workbench import Workbench

    workbench = Workbench(load_settings(home))
    with reported_errors(), stage_progress() as progress:
        fits = workbench.fit(workbench.project(project), language, progress)
    table = Table("line", "start", "slot s", "natural s", "rate", "fits", "", title=f"fit ({language})")
    for line_id, fitted in fits.items():
        table.add_row(line_id, f"{fitted.start:.2f}", f"{fitted.slot_s:.2f}", f"{fitted.natural_s:.2f}", f"{fitted.rate:.2f}",
                      "yes" if fitted.fits else "[bold red]NO[/]", "" if fitted.fits else fitted.reason)
    Console().print(table)
    typer.echo(f"{sum(f.fits for f in fits.values())} of {len(fits)} line(s) fit within the bounds")


@app.command()
def qc(project: int, language: TargetLanguage,
       again: Annotated[bool, typer.Option("--again", help="check again the lines checked before that nobody has decided on")] = False,
       home: Home = None) -> None:
    """Run every check on each line's current clip not checked yet and print the verdicts, with their reasons."""
    from .workbench import Workbench

    workbench = Workbench(load_settings(home))
    with reported_errors(), stage_progress() as progress:
        results = workbench.qc(workbench.project(project), language, progress, again=again)
    _print_qc(results, language)


def _print_qc(results: dict, language: str) -> None:
    checks = [c.check for c in next(iter(results.values()), [])]
    table = Table("line", *checks, title=f"QC ({language})", show_lines=True)
    for line_id, line_checks in results.items():
        table.add_row(line_id, *(f"[{VERDICT_STYLE[c.verdict]}]{c.verdict}[/]\n{c.reason}" for c in line_checks))
    Console().print(table)
    failed = sum(any(c.verdict == "fail" for c in line_checks) for line_checks in results.values())
    typer.echo(f"{failed} of {len(results)} line(s) failed a check")


@app.command()
def dub(project: int, language: TargetLanguage,
        voice: Annotated[str, typer.Option(help="voice profile for every speaker not cast yet")],
        by: By = None, home: Home = None) -> None:
    """Every stage up to review: script, translate, cast, synthesize, fit, QC; then print the verdicts.
    Run again, it redoes only what changed (approvals of unchanged lines stand); exit 1 if any line
    could not be spoken (say, its voice's consent was revoked)."""
    from .workbench import Workbench

    workbench = Workbench(load_settings(home))
    with reported_errors(), stage_progress() as progress:
        report = workbench.prepare_dub(workbench.project(project), language, voice, progress, by=person(by))
    _print_qc(report.results, language)
    _exit_if_refused(report.refused)


@app.command()
def approve(project: int, language: TargetLanguage,
            by: Annotated[str, typer.Option("--by", help="the person approving (written to the audit log)")],
            lines: Annotated[Optional[list[str]], typer.Argument(help="line ids")] = None,
            every: Annotated[bool, typer.Option("--all", help="every line with a clip")] = False,
            override: Annotated[Optional[str], typer.Option(help="why a QC fail is acceptable")] = None,
            home: Home = None) -> None:
    """Approve lines by name (or --all); a line that failed QC needs --override with a reason."""
    from .workbench import Workbench

    workbench = Workbench(load_settings(home))
    with reported_errors():
        chosen = workbench.project(project)
        if not lines and not every:
            fail("name the lines to approve, or --all")
        for line_id in list(workbench.current_clips(chosen, language)) if every else lines:
            workbench.review(chosen, line_id, language, by, approve=True, override_reason=override)
            typer.echo(f"{line_id}: approved by {by}")


@app.command()
def edit(project: int, line_id: str, language: TargetLanguage,
         text: Annotated[str, typer.Option(help="the line's new words")], by: By = None, home: Home = None) -> None:
    """Write a line's text by hand, speak it again in its cast voice (consent is checked now), fit and check
    it: this line only. Its earlier decisions stay with the earlier take."""
    from .desk import check_line, regenerate_line
    from .workbench import Workbench

    workbench = Workbench(load_settings(home))
    with reported_errors():
        chosen = workbench.project(project)
        current = workbench.translations(chosen, language).get(line_id)
        if current is None:
            fail(f"line {line_id} has no {language} text yet; translate first")
        regenerate_line(workbench, chosen, line_id, language, text, person(by), current.version)
        row = check_line(workbench, chosen, line_id, language)
    for check, (verdict, reason) in row.qc.items():
        typer.echo(f"{check}: {verdict} ({reason})")
    typer.echo(f"{line_id}: spoken again as \"{row.text}\"; decide on it with approve or reject")


@app.command()
def adapt(project: int, language: TargetLanguage,
          source: Annotated[Path, typer.Option("--from", help="TSV with the columns line, source, dub")],
          by: By = None, home: Home = None) -> None:
    """Take an adapter's script: every line it writes differently is spoken again, fitted and checked."""
    from .desk import adapt_lines
    from .translate.edits import read_adaptation
    from .workbench import Workbench

    workbench = Workbench(load_settings(home))
    with reported_errors():
        rows = adapt_lines(workbench, workbench.project(project), language, read_adaptation(source), person(by))
    for row in rows:
        typer.echo(f"{row.line_id}: \"{row.text}\" (QC {row.worst})")
    typer.echo(f"{len(rows)} line(s) adapted; decide on them with approve or reject")


@app.command()
def reject(project: int, line_id: str, language: TargetLanguage, by: Annotated[str, typer.Option("--by")],
           note: Annotated[str, typer.Option(help="what is wrong")], home: Home = None) -> None:
    """Reject a line with a note."""
    from .workbench import Workbench

    workbench = Workbench(load_settings(home))
    with reported_errors():
        workbench.review(workbench.project(project), line_id, language, by, approve=False, note=note)
    typer.echo(f"{line_id}: rejected by {by}")


@app.command()
def deliver(project: int, language: TargetLanguage,
            out: Annotated[Path, typer.Option(help="folder the delivery package is written into")] = Path("delivery"),
            me: Annotated[Optional[Path], typer.Option("--me", help="an M&E stem to mix over (default: the original, "
                                                                    "ducked under the dub)")] = None,
            by: By = None, home: Home = None) -> None:
    """Mix the approved lines and write the labelled, signed package: mix, stems, lines, script, timeline, video."""
    from .workbench import Workbench

    workbench = Workbench(load_settings(home))
    with reported_errors(), stage_progress() as progress:
        folder = workbench.deliver(workbench.project(project), language, out, me, progress, by=person(by))
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
    from .workbench import Workbench

    workbench = Workbench(load_settings(home))
    with reported_errors():
        findings = workbench.verify(target, trust)
    table = Table("file", "check", "", "finding", title=f"verify {target}")
    marks = {True: "[green]ok[/]", False: "[bold red]FAIL[/]", None: "[yellow]not checked[/]"}
    for finding in findings:
        table.add_row(finding.file, finding.check, marks[finding.ok], finding.message)
    Console().print(table)
    problems = [f for f in findings if f.ok is False]
    typer.echo(f"{len(problems)} problem(s) in {len({f.file for f in findings})} file(s)")
    raise typer.Exit(1 if problems else 0)


users_app = typer.Typer(help="People who sign in to the review workbench, each with one role.", no_args_is_help=True)
app.add_typer(users_app, name="users")


@users_app.command("add")
def users_add(name: str, role: Annotated[str, typer.Option(help="localization | voice_actor | distributor | admin")],
              password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True,
                                                    envvar="DUBDESK_NEW_PASSWORD")],
              home: Home = None) -> None:
    """Add a user (the password is stored scrypt-hashed)."""
    from .access import add_user
    from .workbench import Workbench

    with reported_errors():
        add_user(Workbench(load_settings(home)).sessions, name, password, role, actor=f"{getpass.getuser()} (command line)")
    typer.echo(f"user {name} added ({role})")


@users_app.command("list")
def users_list(home: Home = None) -> None:
    from .access import users
    from .workbench import Workbench

    for person in users(Workbench(load_settings(home)).sessions):
        typer.echo(f"{person.name}\t{person.role}")


@app.command()
def ui(host: Annotated[str, typer.Option(help="address to serve on")] = "127.0.0.1",
       port: Annotated[int, typer.Option(help="port")] = 7860, home: Home = None) -> None:
    """Serve the review workbench in the browser, behind a login (add people with `dubdesk users add`)."""
    from ui.app import serve

    from .workbench import Workbench

    serve(Workbench(load_settings(home)), host, port)


def main() -> None:
    app()
