"""The Chatterbox worker: chatterbox-tts 0.1.7 (Resemble AI, MIT), multilingual, run in `.venv-clone`.

Chatterbox pins its own torch, transformers and gradio, so this file runs in its own environment as a
separate process and imports nothing from dubdesk. It stays up, so the model loads once:

  python worker.py MODEL_FOLDER
  -> first line: {"ready": true, "chatterbox": "0.1.7", "sample_rate": 24000, "load_s": ...}
  then one request per line on stdin, one reply line on stdout:
  {"text": "Hola.", "language": "es", "references": ["a.wav", ...], "output": "line.wav", "max_s": 4.0,
   "exaggeration": 0.5, "cfg_weight": 0.5}
  -> {"output": "line.wav", "sample_rate": 24000, "seconds": ..., "references": [...], "elapsed_s": ...}
  a request it cannot do -> {"error": "one line"}; one that stops it from starting -> {"error": ...}, exit 1.

The only recordings it hears are the request's `references` (the parent checked the consent grant
that covers them); several are joined into one prompt, and their conditioning is kept per set.
Chatterbox lets a line run to 1000 speech tokens (40 s) whatever its text; `max_s` caps each line,
so confused weights cannot babble for 40 s. Its output carries Resemble's PerTh watermark.
"""
import json
import os
import sys
import tempfile
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never the hub: a missing file fails at once

TOKENS_PER_S = 25  # Chatterbox's speech tokens (S3 tokenizer, 25 Hz)


class RequestError(Exception):
    """One request cannot be done; the worker goes on."""


class Speaker:
    """The multilingual model, loaded once, with its conditioning per set of references."""

    def __init__(self, folder):
        from chatterbox.mtl_tts import SUPPORTED_LANGUAGES, ChatterboxMultilingualTTS

        self.languages = SUPPORTED_LANGUAGES
        self.model = ChatterboxMultilingualTTS.from_local(folder, "cpu")
        self.conditionals = {}
        self.token_limit = None
        inference = self.model.t3.inference

        def bounded(**kwargs):  # generate() always asks for 1000 tokens
            return inference(**{**kwargs, "max_new_tokens": min(kwargs["max_new_tokens"], self.token_limit)})

        self.model.t3.inference = bounded

    def condition(self, references, exaggeration):
        """The model conditioned on exactly these recordings (joined into one prompt when several)."""
        key = tuple(references)
        if key not in self.conditionals:
            with tempfile.TemporaryDirectory(prefix="dubdesk-clone-") as folder:
                self.model.prepare_conditionals(_one_prompt(references, folder), exaggeration=exaggeration)
            self.conditionals[key] = self.model.conds
        self.model.conds = self.conditionals[key]

    def speak(self, request):
        import soundfile as sf

        text, language, references = request.get("text"), request.get("language"), request.get("references")
        if not text or not references or not request.get("output"):
            raise RequestError("a request needs 'text', 'references' and 'output'")
        if language not in self.languages:
            raise RequestError(f"Chatterbox does not speak '{language}'; it speaks {', '.join(self.languages)}")
        missing = [path for path in references if not os.path.isfile(path)]
        if missing:
            raise RequestError(f"no such reference recording: {', '.join(missing)}")
        exaggeration = float(request.get("exaggeration", 0.5))
        self.condition(references, exaggeration)
        self.token_limit = max(1, int(float(request.get("max_s", 40.0)) * TOKENS_PER_S))  # 40 ms of sound a token
        wav = self.model.generate(text, language, exaggeration=exaggeration, cfg_weight=float(request.get("cfg_weight", 0.5)))
        audio = wav.squeeze(0).numpy()
        sf.write(request["output"], audio, self.model.sr, subtype="FLOAT")
        return {"output": request["output"], "sample_rate": self.model.sr, "seconds": round(audio.size / self.model.sr, 3),
                "references": list(references)}


def _one_prompt(references, folder):
    """One recording to condition on: the reference itself, or all of them joined (Chatterbox takes one)."""
    if len(references) == 1:
        return references[0]
    import librosa
    import numpy as np
    import soundfile as sf
    from chatterbox.models.s3gen import S3GEN_SR

    joined = np.concatenate([librosa.load(path, sr=S3GEN_SR)[0] for path in references])
    path = os.path.join(folder, "references.wav")
    sf.write(path, joined, S3GEN_SR, subtype="FLOAT")
    return path


def _version():
    from importlib.metadata import version

    return version("chatterbox-tts")


def _one_line(error):
    return f"{type(error).__name__}: {' '.join(str(error).split())}"[:500]


def main():
    started = time.perf_counter()
    stdout, sys.stdout = sys.stdout, sys.stderr  # stdout carries the replies only (perth prints)

    def reply(message):
        stdout.write(json.dumps(message, allow_nan=False) + "\n")
        stdout.flush()

    try:
        if len(sys.argv) != 2:
            raise ValueError("usage: worker.py MODEL_FOLDER")
        speaker = Speaker(sys.argv[1])
    except Exception as error:  # whatever it was, the caller gets one line
        reply({"error": _one_line(error)})
        return 1
    reply({"ready": True, "chatterbox": _version(), "sample_rate": speaker.model.sr,
           "load_s": round(time.perf_counter() - started, 3)})
    for line in sys.stdin:
        begun = time.perf_counter()
        try:
            result = speaker.speak(json.loads(line))
            reply({**result, "elapsed_s": round(time.perf_counter() - begun, 3)})
        except RequestError as error:
            reply({"error": str(error)})
        except Exception as error:
            reply({"error": _one_line(error)})
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # every reply is written: skip tearing down torch (0.7 s) while the caller waits
