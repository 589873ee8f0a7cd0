"""Loaded first by every Python started with this folder on PYTHONPATH, in the clone environment only
(tests/test_chatterbox.py's worker and its model builder): Chatterbox at test size.

- T3, Chatterbox's 520M-parameter Llama, is shrunk to the fewest layers its alignment analyser reads
  (it watches layers 9, 12 and 13, 16 heads each) with 4-wide heads and a 64-wide MLP; the width (1024)
  stays, as its perceiver is built for it.
- S3Gen's token-to-mel flow keeps one conformer block of six and one decoder block of four plus twelve;
  its speech tokenizer, speaker encoder (CAMPPlus) and vocoder (HiFT) keep their real sizes, as do the
  voice encoder and the tokenizer. At full size (264M parameters) it took 88 s for 2 s of speech on
  this workplace's two busy cores.
- T3 stops after TEST_TOKENS speech tokens (0.4 s): random weights never say a line's end, and every
  token is one more pass through the flow and the vocoder.
- With CHATTERBOX_HEARD set, every recording the worker reads (librosa.load) is written to that file,
  one path a line: what the consent test checks the worker heard.
"""
import os

from chatterbox.models.s3gen import s3gen
from chatterbox.models.t3 import llama_configs, t3

TEST_TOKENS = 10

T3_TEST_SIZE = {"num_hidden_layers": 14, "num_attention_heads": 16, "num_key_value_heads": 16, "head_dim": 4,
                "intermediate_size": 64}
llama_configs.LLAMA_CONFIGS["Llama_520M"].update(T3_TEST_SIZE)


def _at_test_size(build, **size):
    """`build` with `size` in place of the sizes S3Gen asks for."""
    return lambda *args, **kwargs: build(*args, **{**kwargs, **size})


s3gen.UpsampleConformerEncoder = _at_test_size(s3gen.UpsampleConformerEncoder, num_blocks=1)
s3gen.ConditionalDecoder = _at_test_size(s3gen.ConditionalDecoder, n_blocks=1, num_mid_blocks=1)
_inference = t3.T3.inference
t3.T3.inference = lambda self, **kwargs: _inference(self, **{**kwargs, "max_new_tokens": min(
    kwargs.get("max_new_tokens", TEST_TOKENS), TEST_TOKENS)})

if os.environ.get("CHATTERBOX_HEARD"):
    import librosa

    load = librosa.load

    def heard_load(path, *args, **kwargs):
        with open(os.environ["CHATTERBOX_HEARD"], "a", encoding="utf-8") as log:
            log.write(f"{path}\n")
        return load(path, *args, **kwargs)

    librosa.load = heard_load
