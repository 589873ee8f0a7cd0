"""The separate Piper program (GPL-3.0 piper-tts lives only here): speaks the text on stdin into a
WAV file and prints when each phoneme is heard, as JSON [[phoneme, start_s, end_s], ...].

Run as `python -m dubdesk.piper.worker MODEL.onnx ALIGNED.onnx OUT.wav [SPEED]`: SPEED times the
voice's own pace (its length scale divided by it; 1 by default). ALIGNED is the voice
patched once to report its phoneme durations (written on first use). Sentences are joined by the
same silence the piper command puts between them."""
from __future__ import annotations

import json
import os
import sys

import numpy as np
import soundfile as sf

SENTENCE_SILENCE_S = 0.2
SKIPPED = {"^", "$", "_", " "}  # piper's sentence start and end, padding, word gap


def aligned_model(model: str, aligned: str) -> str:
    """The voice with its phoneme-duration tensor exposed, written once beside the model cache."""
    if not os.path.exists(aligned):
        import onnx

        from piper.patch_voice_with_alignment import add_alignment_output

        patched = onnx.load(model)
        add_alignment_output(patched)
        os.makedirs(os.path.dirname(aligned), exist_ok=True)
        onnx.save(patched, f"{aligned}.{os.getpid()}.part")
        os.replace(f"{aligned}.{os.getpid()}.part", aligned)
    return aligned


def main(model: str, aligned: str, target: str, speed: str = "1") -> None:
    from piper import PiperVoice, SynthesisConfig

    voice = PiperVoice.load(aligned_model(model, aligned), config_path=f"{model}.json")
    rate = voice.config.sample_rate
    pace = SynthesisConfig(length_scale=voice.config.length_scale / float(speed))
    pieces, phonemes, at = [], [], 0
    for chunk in voice.synthesize(sys.stdin.read(), syn_config=pace, include_alignments=True):
        for alignment in chunk.phoneme_alignments or []:
            if alignment.phoneme not in SKIPPED:
                phonemes.append([alignment.phoneme, at / rate, (at + alignment.num_samples) / rate])
            at += alignment.num_samples
        silence = np.zeros(int(SENTENCE_SILENCE_S * rate), dtype=np.float32)
        pieces += [chunk.audio_float_array, silence]
        at = sum(len(piece) for piece in pieces)
    sf.write(target, np.concatenate(pieces) if pieces else np.zeros(1, np.float32), rate)
    print(json.dumps([[p, round(s, 4), round(e, 4)] for p, s, e in phonemes]))


if __name__ == "__main__":
    main(*sys.argv[1:5])
