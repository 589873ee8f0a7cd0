"""Translation benchmark: chrF per embedded pair on FLORES-200 and Tatoeba, speed, and the share
of lines over their timing budget: the syllables the target language says in the time the source
says its sentence, each at its usual rate (and at the 120% the fit stage may speed a line up to)."""
from __future__ import annotations

import time
from pathlib import Path

import sacrebleu

from ..phonemes import syllable_counts
from ..translate import ROUTES, budget_syllables, route, translate_lines
from .report import publish

FIT_SPEEDUP = 1.2  # the fit stage may speed a line up to 120% of its natural rate

ISO3 = {"en": "eng", "es": "spa", "pt": "por", "fr": "fra", "it": "ita", "de": "deu", "ja": "jpn"}


def _flores(eval_dir: Path, source: str, target: str, limit: int) -> tuple[list[str], list[str]]:
    folder = eval_dir / "translation/flores200"
    read = lambda lang: (folder / f"{ISO3[lang]}.txt").read_text(encoding="utf-8").splitlines()[:limit]  # noqa: E731
    return read(source), read(target)


def _tatoeba(eval_dir: Path, source: str, target: str, limit: int) -> tuple[list[str], list[str]] | None:
    for name in (f"{ISO3[source]}-{ISO3[target]}", f"{ISO3[target]}-{ISO3[source]}"):
        path = eval_dir / "translation/tatoeba" / f"{name}.tsv"
        if path.exists():
            header, *rows = [line.split("\t") for line in path.read_text(encoding="utf-8").splitlines()]
            pairs = [dict(zip(header, row)) for row in rows if len(row) == len(header)][:limit]
            return [p[ISO3[source]] for p in pairs], [p[ISO3[target]] for p in pairs]
    return None


def run(eval_dir: Path, out: Path, limit: int = 200) -> dict:
    rows = []
    for source, target in ROUTES:
        for dataset, loader in (("flores200", _flores), ("tatoeba", _tatoeba)):
            data = loader(eval_dir, source, target, limit)
            if data is None:
                continue
            sources, references = data
            began = time.perf_counter()
            translated = translate_lines(sources, source, target)
            seconds = time.perf_counter() - began
            hypotheses = [line.text for line in translated]
            budgets = [budget_syllables(count, source, target) for count in syllable_counts(sources, source)]
            said = syllable_counts(hypotheses, target)
            over = sum(count > budget for count, budget in zip(said, budgets))
            beyond_speedup = sum(count > FIT_SPEEDUP * budget for count, budget in zip(said, budgets))
            rows.append({"pair": f"{source}->{target}", "set": dataset, "lines": len(sources),
                         "quality": route(source, target).quality,
                         "chrF": sacrebleu.corpus_chrf(hypotheses, [references]).score,
                         "over budget %": 100 * over / len(sources),
                         f"over {FIT_SPEEDUP:.0%} budget %": 100 * beyond_speedup / len(sources),
                         "untranslated-word lines %": 100 * sum(bool(t.untranslated) for t in translated) / len(sources),
                         "s/line": seconds / len(sources)})
    summary = {"engines": {f"{s}->{t}": route(s, t).identity.to_json() for s, t in ROUTES}}
    publish("Translation: chrF, timing budget, untranslated words, speed", rows, summary, out)
    return summary
