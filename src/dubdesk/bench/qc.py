"""QC benchmark.

Emotion: on RAVDESS (same sentence), does the emotion distance separate neutral-vs-{angry, happy,
fearful, surprised} (strong) from same-emotion pairs (other repetition)? ROC AUC per emotion, for the
same actor and across the two actors (the workbench's mode: levels against each voice's baseline).
Dub: the bundled sample dubbed en -> es with a stock voice through every stage; fit shares, stretch
rates, drift, and each check's verdicts, intelligibility and voice similarity.
Lip-sync: see bench.lipsync; lip closures: see bench.labials.
"""
from __future__ import annotations

import csv
import itertools
import tempfile
import time
from pathlib import Path

import numpy as np

from ..config import Settings
from ..context import Context
from ..praat import run_praat
from ..qc.emotion import FEATURES, emotion_distance, relative_to, speaker_baseline
from ..services import fitting, scripting
from . import labials, lipsync
from .main_job import timed_main_job
from .report import publish

EMOTIONS = ("angry", "happy", "fearful", "surprised")
SAME_SPEAKER_LEVEL_WEIGHT = 0.25  # raw levels (pitch, loudness, voice quality) only hint at drift


def auc(positives: list[float], negatives: list[float]) -> float:
    """Mann-Whitney ROC AUC: P(a different-emotion pair scores above a same-emotion pair)."""
    p, n = np.asarray(positives)[:, None], np.asarray(negatives)[None, :]
    return float(((p > n).sum() + 0.5 * (p == n).sum()) / (p.size * n.size))


def _pairs(rows: list[dict], same_actor: bool) -> tuple[list, dict[str, list]]:
    same, different = [], {emotion: [] for emotion in EMOTIONS}
    for a, b in itertools.permutations(rows, 2):
        if a["transcript_en"] != b["transcript_en"] or (a["actor"] == b["actor"]) != same_actor:
            continue
        if (a["emotion"], a["intensity"]) == (b["emotion"], b["intensity"]) and a["file"] < b["file"]\
                and (a["repetition"] != b["repetition"]) == same_actor:
            same.append((a["file"], b["file"]))
        if a["emotion"] == "neutral" and b["emotion"] in EMOTIONS and b["intensity"] == "strong":
            different[b["emotion"]].append((a["file"], b["file"]))
    return same, different


def emotion_rows(eval_dir: Path, settings: Settings) -> tuple[list[dict], dict]:
    folder = eval_dir / "emotion" / "ravdess"
    rows = list(csv.DictReader((folder / "labels.csv").open()))
    began = time.perf_counter()
    profiles = dict(zip((r["file"] for r in rows), run_praat("prosody", segments=[{"path": str(folder / r["file"])} for r in rows])))
    seconds = (time.perf_counter() - began) / len(rows)
    actors = {r["actor"] for r in rows}
    baselines = {actor: speaker_baseline([profiles[r["file"]] for r in rows if r["actor"] == actor]) for actor in actors}
    relative = {r["file"]: relative_to(profiles[r["file"]], baselines[r["actor"]]) for r in rows}
    modes = {"same actor (levels x0.25)": (True, profiles, SAME_SPEAKER_LEVEL_WEIGHT),
             "across actors (levels vs each voice's baseline)": (False, relative, 1.0)}
    limits, table, summary = settings.qc.emotion_distance, [], {"prosody seconds per line": round(seconds, 3)}
    for mode, (same_actor, chosen, weight) in modes.items():
        same, different = _pairs(rows, same_actor)

        def distance(pair, chosen=chosen, weight=weight):
            return emotion_distance(chosen[pair[0]], chosen[pair[1]], weight)[0]

        same_scores = [distance(p) for p in same]
        row = {"mode": mode, "same pairs": len(same)}
        row.update({f"AUC {e}": auc([distance(p) for p in different[e]], same_scores) for e in EMOTIONS})
        row["AUC all"] = auc([distance(p) for e in EMOTIONS for p in different[e]], same_scores)
        row["same p90"] = float(np.percentile(same_scores, 90))
        row[f"same flagged (>= {limits.warn})"] = float(np.mean(np.array(same_scores) >= limits.warn))
        row["different flagged"] = float(np.mean([distance(p) >= limits.warn for e in EMOTIONS for p in different[e]]))
        table.append(row)
    summary["features"] = ", ".join(FEATURES)
    return table, summary


def dub_rows(sample: Path, settings: Settings, language: str = "es", voice: str = "stock-pico-es-es") -> tuple[list[dict], dict]:
    """The sample through every stage into `language`; wall time per stage and what fit and QC found."""
    with tempfile.TemporaryDirectory(prefix="dubdesk-bench-qc-") as home:
        ctx = Context(settings.in_scratch_home(Path(home)))
        project, timings, checks = timed_main_job(ctx, sample, language, voice, Path(home), until="qc")
        fits = fitting.fits(ctx, project, language)
        script = scripting.script(ctx, project)
    rates = np.array([f.rate for f in fits.values()])
    starts = {line.id: line.start for line in script.lines}
    rows = [{"check": name, **{v: sum(c.verdict == v for line in checks.values() for c in line if c.check == name)
                               for v in ("pass", "warn", "fail", "n/a")}}
            for name in [c.check for c in next(iter(checks.values()))]]
    numbers = {name: [c.numbers for line in checks.values() for c in line if c.check == name] for name in ("intelligibility", "voice")}
    summary = {
        "lines": len(fits), "share fitting within bounds": float(np.mean([f.fits for f in fits.values()])),
        "stretch rate min/p25/median/p75/max": " / ".join(f"{q:.2f}" for q in np.percentile(rates, [0, 25, 50, 75, 100])),
        "lines starting later than their slot": sum(f.start > starts[i] + 1e-9 for i, f in fits.items()),
        "median WER (back-transcription)": float(np.median([n["WER"] for n in numbers["intelligibility"]])),
        "median voice similarity": float(np.median([n["similarity"] for n in numbers["voice"] if "similarity" in n])),
        "seconds per stage": {stage: round(s, 2) for stage, s in timings.items()},
        "programme seconds": round(script.duration, 2),
        "RTF (all stages)": round(sum(timings.values()) / script.duration, 3),
    }
    return rows, summary


def run(settings: Settings, eval_dir: Path, out: Path, sample: Path) -> dict:
    emotion, emotion_summary = emotion_rows(eval_dir, settings)
    publish("QC: emotion distance on RAVDESS (same sentence), ROC AUC", emotion, emotion_summary, out.with_name(out.stem + "-emotion.json"))
    sync, timing, sync_summary = lipsync.run(settings, eval_dir)
    publish("QC: offsets planted in the Amazon original, recovered from the face track", sync, sync_summary,
            out.with_name(out.stem + "-sync.json"))
    publish("QC: timing and AV checks on the Amazon production dubs (de, es, fr, it)", timing, {},
            out.with_name(out.stem + "-production-dubs.json"))
    closures, closures_summary = labials.run(settings, eval_dir, sample)
    publish("QC: lip closures estimated from words, against Piper's phoneme times", closures, closures_summary,
            out.with_name(out.stem + "-labials.json"))
    dub, dub_summary = dub_rows(sample, settings)
    publish("QC: the sample dubbed en -> es (stock voice), verdicts per check", dub, dub_summary, out)
    return {"emotion": emotion, "sync": sync, "production dubs": timing, "labials": closures, "dub": dub,
            "summary": dub_summary}
