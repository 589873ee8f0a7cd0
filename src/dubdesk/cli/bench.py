"""Benchmarks: each measures on the evaluation data, prints a table and writes JSON."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from . import AsrModel, BeamSize, Diarizer, Home, Speakers, app, load_settings, reported_errors

bench_app = typer.Typer(help="Measure speed and quality on the evaluation data; prints a table, writes JSON.")
app.add_typer(bench_app, name="bench")
BUNDLED_SAMPLE = Path(__file__).resolve().parents[3] / "samples" / "pyannote_sample" / "sample.wav"

EVAL_DIR = Path(__file__).resolve().parents[4] / "shared" / "eval"
EvalDir = Annotated[Path, typer.Option("--eval-dir", help="evaluation data folder")]
BenchOut = Annotated[Optional[Path], typer.Option("--out", help="JSON result file")]


@bench_app.command("asr")
def bench_asr(eval_dir: EvalDir = EVAL_DIR, out: BenchOut = None, beam_size: BeamSize = None,
              asr_model: AsrModel = None, limit: Annotated[Optional[int], typer.Option(help="first N clips")] = None,
              compare_direct: Annotated[bool, typer.Option(help="also score faster-whisper called directly")] = False,
              home: Home = None) -> None:
    """WER per language, word-timestamp error and RTF of the configured transcriber."""
    from ..bench import asr

    settings = load_settings(home, transcribe={"beam_size": beam_size, "model": asr_model})
    with reported_errors():
        asr.run(settings, eval_dir, out or Path("bench-results/asr.json"), limit, compare_direct)


@bench_app.command("diarization")
def bench_diarization(eval_dir: EvalDir = EVAL_DIR, out: BenchOut = None, diarizer: Diarizer = None,
                      speakers: Speakers = None,
                      asr: Annotated[bool, typer.Option(help="also time transcription of each clip")] = True,
                      home: Home = None) -> None:
    """DER on the pyannote sample and AMI excerpts, and RTF of diarization and transcription."""
    from ..bench import diarization

    settings = load_settings(home, diarize={"engine": diarizer, "num_speakers": speakers})
    with reported_errors():
        diarization.run(settings, eval_dir, out or Path("bench-results/diarization.json"), asr)

@bench_app.command("translation")
def bench_translation(eval_dir: EvalDir = EVAL_DIR, out: BenchOut = None,
                      limit: Annotated[int, typer.Option(help="lines per pair and set")] = 200) -> None:
    """chrF of every embedded pair on FLORES-200 and Tatoeba, with the share of lines over budget."""
    from ..bench import translation

    with reported_errors():
        translation.run(eval_dir, out or Path("bench-results/translation.json"), limit)


@bench_app.command("qc")
def bench_qc(eval_dir: EvalDir = EVAL_DIR, out: BenchOut = None, home: Home = None) -> None:
    """Emotion-distance separation on RAVDESS; fit and QC of the sample dubbed through every stage."""
    from ..bench import qc as qc_bench

    with reported_errors():
        qc_bench.run(load_settings(home), eval_dir, out or Path("bench-results/qc.json"), BUNDLED_SAMPLE)


@bench_app.command("dub")
def bench_dub(eval_dir: EvalDir = EVAL_DIR, out: BenchOut = None, home: Home = None) -> None:
    """Machine dubs of the sample and the Amazon clip (es, fr, it) as a reviewer receives them: fit, timing,
    intelligibility and emotion shares, untranslated words, fillers left out, RTF; each without and with prosody carried over."""
    from ..bench import dub

    with reported_errors():
        dub.run(load_settings(home), eval_dir, BUNDLED_SAMPLE, out or Path("bench-results/dub.json"))


@bench_app.command("main")
def bench_main(out: BenchOut = None, home: Home = None,
               language: Annotated[str, typer.Option("--to")] = "es",
               voice: Annotated[str, typer.Option(help="voice profile for every speaker")] = "stock-pico-es-es") -> None:
    """The main job on the bundled sample, end to end: wall time and RTF per stage and in total."""
    from ..bench import main_job

    with reported_errors():
        main_job.run(load_settings(home), BUNDLED_SAMPLE, out or Path("bench-results/main.json"), language, voice)


@bench_app.command("long")
def bench_long(eval_dir: EvalDir = EVAL_DIR, out: BenchOut = None, home: Home = None,
               minutes: Annotated[Optional[float], typer.Option(help="repeat the recordings to this many minutes")] = None,
               language: Annotated[str, typer.Option("--to")] = "es",
               voice: Annotated[str, typer.Option(help="voice profile for every speaker")] = "stock-pico-es-es",
               keep: Annotated[Optional[Path], typer.Option(help="a new folder to keep the run's data folder in "
                                                                 "(project, delivery)")] = None) -> None:
    """The sample and the 12 AMI excerpts end to end (6.5 min; --minutes repeats them) through the main job:
    seconds, RTF and peak memory per stage, each stage in a process of its own."""
    from ..bench import long

    with reported_errors():
        long.run(load_settings(home), BUNDLED_SAMPLE, eval_dir, out or Path("bench-results/long.json"), minutes, language,
                 voice, keep)


@bench_app.command("compare")
def bench_compare(before: Annotated[Path, typer.Argument(help="a delivery package")],
                  after: Annotated[Path, typer.Argument(help="the same job delivered again")]) -> None:
    """Whether two deliveries are the same dub (lines, texts, verdicts, loudness, files); exit 1 where not."""
    from ..bench.compare import differences

    found = differences(before, after)
    for difference in found:
        typer.echo(difference)
    typer.echo(f"{len(found)} difference(s)" if found else "the same dub")
    raise typer.Exit(1 if found else 0)


@bench_app.command("security")
def bench_security(out: BenchOut = None,
                   races: Annotated[int, typer.Option(help="rounds of two processes editing one line")] = 20) -> None:
    """Attacks on consent, sealed takes, concurrent edits, delivered packages and the served UI: tried / held."""
    from ..bench import security

    with reported_errors():
        security.run(load_settings(), BUNDLED_SAMPLE, out or Path("bench-results/security.json"), races)


@bench_app.command("review")
def bench_review(eval_dir: EvalDir = EVAL_DIR, out: BenchOut = None,
                 lines: Annotated[int, typer.Option(help="sentences in the generated project")] = 1000) -> None:
    """Review page on a generated 1,000-line project, in the browser: open, page, regenerate one line."""
    from ..bench import review

    with reported_errors():
        review.run(load_settings(), eval_dir, BUNDLED_SAMPLE, out or Path("bench-results/review.json"), lines)


@bench_app.command("tts")
def bench_tts(eval_dir: EvalDir = EVAL_DIR, out: BenchOut = None,
              sentences: Annotated[int, typer.Option(help="FLORES sentences per voice")] = 10,
              voices: Annotated[str, typer.Option(help="only stock voices whose id contains this")] = "",
              home: Home = None) -> None:
    """Speed and intelligibility of every stock voice, through the consent-checked synthesis path."""
    from ..bench import tts

    with reported_errors():
        tts.run(load_settings(home), eval_dir, out or Path("bench-results/tts.json"), sentences, BUNDLED_SAMPLE, voices)


@bench_app.command("tts-languages")
def bench_tts_languages(eval_dir: EvalDir = EVAL_DIR, out: BenchOut = None,
                        sentences: Annotated[int, typer.Option(help="FLORES sentences per voice and language")] = 12,
                        languages: Annotated[str, typer.Option(help="comma-separated languages to measure")] = "es,fr,it,pt,de,en",
                        styles: Annotated[str, typer.Option(help="comma-separated Kokoro voice styles")] = "jf_alpha,jm_kumo",
                        home: Home = None) -> None:
    """Kokoro reading espeak-ng phonemes against Pico, per language: WER, speed, voice consistency, and where it is offered."""
    from ..bench import tts

    with reported_errors():
        tts.languages(load_settings(home), eval_dir, out or Path("bench-results/tts-languages.json"), sentences,
                      tuple(languages.split(",")), tuple(styles.split(",")))


@bench_app.command("batch")
def bench_batch(out: BenchOut = None, home: Home = None) -> None:
    """4 programmes x 2 languages on Ray with 1 and 2 workers, against a plain loop of prepare_dub: wall time."""
    from ..bench import batch

    with reported_errors():
        batch.run(load_settings(home), BUNDLED_SAMPLE, out or Path("bench-results/batch.json"))
