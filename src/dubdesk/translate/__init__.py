"""Translation: each line into each target language, within the time its slot allows.

A route is a chain of engine steps (a pivot language where no direct model exists). Every
line gets a budget in syllables: what the target language says in the time the source line says
its own syllables (each language against its usual syllable rate); lines over budget are marked
for a person. Pairs the embedded engines serve only roughly are
labelled draft; a pair nobody serves is said so, and its lines can be typed in by hand.

The translation engines register here (engines.register): the embedded steps (fast, apertium, and
the Spanish pronoun rules after the Portuguese pivot) and the production engines (ctranslate2,
chat), which are imported only when first asked for.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import sacrebleu

from ..config import TranslateSettings
from ..core import Script
from ..engines import EngineIdentity, Translator, engine, register
from ..errors import DubdeskError
from ..phonemes import syllable_counts
from .engines import Apertium, FastTranslate
from .glossary import is_token, protect, restore
from .pronouns import SubjectPronouns

# Syllables (morae in Japanese) per second of each language's usual speech: Pellegrino, Coupé & Marsico
# (2011), "A cross-language perspective on speech information rate", Language 87(3), the same texts read
# in each language. Portuguese is not in that study: its rate is English's times the ratio of the two
# read by FLEURS's speakers of the same sentences (pt 5.79, en 4.75 syllables a second of speech).
SPEAKING_RATE_SPS = {"en": 6.19, "es": 7.82, "fr": 7.18, "it": 6.99, "de": 5.97, "ja": 7.84, "pt": 7.55}
DEFAULT_RATE_SPS = 6.5
EMBEDDED = "embedded-mt"  # the engine name of every embedded route
SLOT_OVERHANG_S = 0.5  # a dub line may run this far into the silence after its source line

# (source, target): (steps as (engine, from, to), quality)
ROUTES: dict[tuple[str, str], tuple[tuple[tuple[str, str, str], ...], str]] = {
    ("en", "pt"): ((("fast", "en", "pt"),), "good"),
    ("pt", "en"): ((("fast", "pt", "en"),), "good"),
    ("pt", "es"): ((("apertium", "pt", "es"),), "draft"),
    ("es", "pt"): ((("apertium", "es", "pt"),), "draft"),
    ("en", "es"): ((("fast", "en", "pt"), ("apertium", "pt", "es"), ("pronouns", "es", "es")), "draft"),
    ("es", "en"): ((("apertium", "es", "pt"), ("fast", "pt", "en")), "draft"),
    ("en", "fr"): ((("fast", "en", "pt"), ("apertium", "pt", "es"), ("apertium", "es", "fr")), "draft"),
    ("en", "it"): ((("fast", "en", "pt"), ("apertium", "pt", "es"), ("apertium", "es", "it")), "draft"),
}


# An engine's marks before a word: '*' it does not know the word (left as it was); '#', '@' it could not
# inflect or transfer it (Apertium's marks).
_MARKED = re.compile(r"(?<![\w*#@])([*#@])(\w[\w'’-]*)")


@dataclass(frozen=True)
class TranslatedLine:
    """A line's translation, the words in it the engine could not translate (as they stand in it) and
    the fillers left out of the source before translating (see fillers.py)."""

    text: str
    untranslated: tuple[str, ...] = ()
    dropped: tuple[str, ...] = ()


def unmarked(text: str) -> tuple[str, list[str]]:
    """`text` without an engine's marks, and the words it marked as unknown (glossary tokens aside)."""
    unknown = [m.group(2) for m in _MARKED.finditer(text) if m.group(1) == "*" and not is_token(m.group(2))]
    return _MARKED.sub(r"\2", text), unknown


@dataclass(frozen=True)
class Route:
    source: str
    target: str
    quality: str  # good | draft | production
    identity: EngineIdentity

    def describe(self) -> str:
        return f"{self.source}->{self.target} via {self.identity.model} ({self.quality} quality)"


def slot_durations(script: Script) -> list[float]:
    """Seconds each line may take: its own time plus the silence after it, up to the next line."""
    starts = [line.start for line in script.lines[1:]] + [script.duration]
    return [max(line.end, min(next_start, line.end + SLOT_OVERHANG_S)) - line.start
            for line, next_start in zip(script.lines, starts)]


def speaking_rate(language: str) -> float:
    """Syllables a second of `language`'s usual speech."""
    return SPEAKING_RATE_SPS.get(language, DEFAULT_RATE_SPS)


def budget_syllables(source_syllables: int, source: str, target: str) -> int:
    """The syllables `target` says in the time `source` says `source_syllables` (at least one):
    Spanish says about 1.26 syllables for each English one."""
    return max(1, round(source_syllables * speaking_rate(target) / speaking_rate(source)))


@register("translate", "fast")
def _fast(settings: TranslateSettings | None) -> Translator:
    return FastTranslate()


@register("translate", "apertium")
def _apertium(settings: TranslateSettings | None) -> Translator:
    return Apertium()


@register("translate", "pronouns")
def _pronouns(settings: TranslateSettings | None) -> Translator:
    return SubjectPronouns()


@register("translate", "ctranslate2", key=lambda settings: (settings.model,))
def _ctranslate2(settings: TranslateSettings) -> Translator:
    from .production import CTranslate2Model

    return CTranslate2Model(settings.model, settings.licence)


@register("translate", "chat", key=lambda settings: (settings.url, settings.model))
def _chat(settings: TranslateSettings) -> Translator:
    from .production import ChatEndpoint

    return ChatEndpoint(settings.url, settings.model or "default", settings.licence)


def _production_engine(settings: TranslateSettings) -> Translator:
    return engine("translate", settings.engine, settings)


class NoRouteError(DubdeskError):
    """No engine serves the pair: a person writes its lines (or a production engine is configured)."""


def route(source: str, target: str, settings: TranslateSettings | None = None) -> Route:
    if settings is not None and settings.engine != "embedded":
        return Route(source, target, "production", _production_engine(settings).identity)
    if (source, target) not in ROUTES:
        served = ", ".join(f"{s}->{t}" for s, t in ROUTES)
        raise NoRouteError(f"no embedded translation engine covers {source}->{target} (covered: {served}); "
                           f"translate these lines by hand or configure a production engine")
    steps, quality = ROUTES[(source, target)]
    engines = [_engine(name) for name, _, _ in steps]
    model = " + ".join(f"{e.identity.engine} {a}->{b}" for e, (_, a, b) in zip(engines, steps))
    licence = "; ".join(dict.fromkeys(e.identity.weights_licence for e in engines))
    return Route(source, target, quality, EngineIdentity(EMBEDDED, model, licence, "1"))


def text_label(text: str, origin: str, engine_name: str | None, source: str, target: str) -> str:
    """What a line's text is, as review shows it: still to write, a person's, or a machine's and how
    good its route is (a rule-based chain is a draft)."""
    if origin == "human":
        return "human" if text else "to write"
    return f"machine, {ROUTES[(source, target)][1] if engine_name == EMBEDDED and (source, target) in ROUTES else 'production'}"


def _engine(name: str) -> Translator:
    """An embedded route's step."""
    return engine("translate", name)


def translate_lines(lines: Sequence[str], source: str, target: str, terms: dict[str, str] | None = None,
                    settings: TranslateSettings | None = None) -> list[TranslatedLine]:
    """Every line through the configured engine (or the embedded route's steps, in order); `terms`
    (source -> required target text, e.g. a glossary and character names) come out exactly as given.
    Words a step could not translate (a pivot language's words the next step did not know, say) are
    collected per line, never passed on silently; a name carried over from the source is not one."""
    route(source, target, settings)
    current, replacements = protect(lines, terms or {})
    steps = ([(_production_engine(settings), source, target)] if settings is not None and settings.engine != "embedded"
             else [(_engine(name), a, b) for name, a, b in ROUTES[(source, target)][0]])
    unknown: list[list[str]] = [[] for _ in current]
    for step, step_source, step_target in steps:
        current = step.translate(current, step_source, step_target)
        for index, text in enumerate(current):
            current[index], found = unmarked(text)
            unknown[index] += found
    texts = restore(current, replacements)
    return [TranslatedLine(text, tuple(word for word in dict.fromkeys(words) if stands_in(word, text)
                                       and not _name_kept(word, original)))
            for text, words, original in zip(texts, unknown, lines)]


def _name_kept(word: str, source_line: str) -> bool:
    """A capitalised word the source line says as it is: a name, kept on purpose (Diane, Jersey)."""
    return word[:1].isupper() and stands_in(word, source_line)


def stands_in(word: str, text: str) -> bool:
    """Whether `word` stands in `text` as a whole word (an unknown word of one step may be gone after the next)."""
    return re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text) is not None


def shorter_alternatives(line: str, source: str, target: str, max_syllables: int, meaning: str,
                         terms: dict[str, str] | None = None, settings: TranslateSettings | None = None) -> list[str]:
    """Other translations of `line` within `max_syllables`, from an engine that can propose several (the
    production engines; none from the embedded ones). The one that keeps the most of `meaning` (the
    engine's unconstrained translation, by chrF) comes first: the shortest wording is not the best."""
    if settings is None or settings.engine == "embedded":
        return []
    (protected,), replacements = protect([line], terms or {})
    proposals = _production_engine(settings).alternatives(protected, source, target, max_syllables)
    restored = [text for text in dict.fromkeys(restore([p], replacements)[0] for p in proposals) if text]
    within = [text for text, count in zip(restored, syllable_counts(restored, target)) if count <= max_syllables]
    return sorted(within, key=lambda text: -sacrebleu.sentence_chrf(text, [meaning]).score)
