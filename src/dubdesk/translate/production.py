"""Production translation engines: a CTranslate2 model folder (opus-mt, NLLB, M2M100 converted
with ct2-*-converter, SentencePiece tokenizers beside it) and an OpenAI-compatible chat endpoint
(a local llama.cpp, vLLM or Ollama server). Nothing is downloaded. Both follow engines.Translator and
register in translate/__init__."""
from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from ..engines import EngineIdentity
from ..errors import DubdeskError, EngineUnavailableError, ModelMissingError
from ..stages import package_version
from .engines import tidy

CANDIDATES = 4  # wordings a chat endpoint is asked for, for a line over its budget
LIST_MARK = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s*")  # "1. ", "- ": a model numbering its candidates
LANGUAGE_NAMES = {"en": "English", "es": "Spanish", "pt": "Brazilian Portuguese", "fr": "French", "de": "German",
                  "it": "Italian", "ja": "Japanese"}


class CTranslate2Model:
    """A local CTranslate2 translation model: model.bin plus source.spm / target.spm (or one spm)."""

    def __init__(self, folder: str | None, licence: str) -> None:
        location = Path(folder).expanduser() if folder else None
        tokenizers = [location / n for n in ("source.spm", "target.spm", "sentencepiece.bpe.model")] if location else []
        if location is None or not (location / "model.bin").exists() or not any(t.exists() for t in tokenizers):
            looked = [str(location / "model.bin"), *map(str, tokenizers)] if location else ["setting translate.model (unset)"]
            raise ModelMissingError("CTranslate2 translation model", looked,
                                    hint="set translate.model to a converted model folder with its SentencePiece files")
        try:
            import ctranslate2
            import sentencepiece
        except ImportError as error:
            raise EngineUnavailableError("ctranslate2 translation", "production", error) from error
        shared = location / "sentencepiece.bpe.model"
        self.source = sentencepiece.SentencePieceProcessor(model_file=str(shared if shared.exists() else location / "source.spm"))
        self.target = sentencepiece.SentencePieceProcessor(model_file=str(shared if shared.exists() else location / "target.spm"))
        self.model = ctranslate2.Translator(str(location), device="cpu", compute_type="int8")
        self.identity = EngineIdentity("ctranslate2", location.name, licence, package_version("ctranslate2"))

    def translate(self, lines: Sequence[str], source: str, target: str) -> list[str]:
        tokens = [self.source.encode(tidy(line), out_type=str) for line in lines]
        results = self.model.translate_batch(tokens, beam_size=4)
        return [tidy(self.target.decode(r.hypotheses[0])) if line.strip() else "" for r, line in zip(results, lines)]

    def alternatives(self, line: str, source: str, target: str, max_syllables: int) -> list[str]:
        """The beam's hypotheses, best first (the budget is for the caller to apply)."""
        result = self.model.translate_batch([self.source.encode(tidy(line), out_type=str)], beam_size=6, num_hypotheses=6)[0]
        return [tidy(self.target.decode(hypothesis)) for hypothesis in result.hypotheses]


class ChatEndpoint:
    """An OpenAI-compatible /v1/chat/completions server, asked for one translation per line."""

    def __init__(self, url: str | None, model: str, licence: str, timeout_s: float = 120.0) -> None:
        if not url:
            raise ModelMissingError("translation chat endpoint", ["setting translate.url (unset)"],
                                    hint="set translate.url to a local OpenAI-compatible server, e.g. http://127.0.0.1:8080")
        self.url = url.rstrip("/") + "/v1/chat/completions"
        self.model, self.timeout_s = model, timeout_s
        self.identity = EngineIdentity("chat-endpoint", model, licence, "openai-compatible")

    def _ask(self, prompt: str) -> str:
        body = json.dumps({"model": self.model, "temperature": 0, "messages": [
            {"role": "system", "content": "You translate film and TV dialogue for dubbing. Reply with the translation "
                                          "only. Keep every token that starts with Zxq exactly as it is."},
            {"role": "user", "content": prompt}]}).encode()
        request = urllib.request.Request(self.url, body, {"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                return json.loads(response.read())["choices"][0]["message"]["content"].strip()
        except (urllib.error.URLError, OSError, KeyError, ValueError) as error:
            raise DubdeskError(f"translation endpoint {self.url} failed: {error}") from error

    def translate(self, lines: Sequence[str], source: str, target: str) -> list[str]:
        return [tidy(self._ask(f"From {_name(source)} to {_name(target)}:\n{line}")) if line.strip() else "" for line in lines]

    def alternatives(self, line: str, source: str, target: str, max_syllables: int) -> list[str]:
        """Several shorter translations, one a line, asked for by spoken length, for a line that runs
        over its slot (the caller counts their syllables and chooses)."""
        reply = self._ask(f"From {_name(source)} to {_name(target)}, {CANDIDATES} different translations, one per "
                          f"line, each at most {max_syllables} syllables when spoken, keeping the meaning and tone:\n{line}")
        return [tidy(LIST_MARK.sub("", row)) for row in reply.splitlines() if row.strip()][:CANDIDATES]


def _name(language: str) -> str:
    return LANGUAGE_NAMES.get(language, language)
