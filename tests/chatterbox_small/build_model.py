"""Writes a Chatterbox multilingual model folder with random weights, in the real file names and formats,
from the real classes (at the test size sitecustomize.py sets): `python build_model.py FOLDER`.

The tokenizer is a character-level one in the real format: the special tokens, one token per
language tag ("[es]") and the characters text comes to after Chatterbox lowercases and NFKD-normalises it.
"""
import string
import sys
from pathlib import Path

import torch
from chatterbox.models.s3gen import S3Gen
from chatterbox.models.s3tokenizer import SPEECH_VOCAB_SIZE
from chatterbox.models.t3 import T3
from chatterbox.models.t3.modules.t3_config import T3Config
from chatterbox.models.tokenizers.tokenizer import SPECIAL_TOKENS
from chatterbox.models.voice_encoder import VoiceEncoder
from chatterbox.mtl_tts import SUPPORTED_LANGUAGES
from safetensors.torch import save_file
from tokenizers import Tokenizer, models


def tokenizer():
    tags = SPECIAL_TOKENS + [f"[{code}]" for code in SUPPORTED_LANGUAGES]
    characters = list(string.ascii_lowercase + string.digits + ".,!?¿¡'\"-") + [chr(c) for c in range(0x300, 0x370)]
    words = Tokenizer(models.BPE(vocab={token: i for i, token in enumerate(tags + characters)}, merges=[], unk_token="[UNK]"))
    words.add_special_tokens(tags)
    return words


def build(folder):
    folder.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    torch.save(VoiceEncoder().state_dict(), folder / "ve.pt")
    t3 = T3(T3Config.multilingual())
    with torch.no_grad():  # as a trained head does, it never picks a token S3Gen has no sound for
        t3.speech_head.weight.normal_(0.0, 0.125)  # logits with a spread of about 4, from the normed 1024 wide state
        t3.speech_head.weight[SPEECH_VOCAB_SIZE:] = 0.0  # 0: far below the best, so min_p drops them
    save_file({name: tensor.contiguous() for name, tensor in t3.state_dict().items()}, folder / "t3_mtl23ls_v2.safetensors")
    torch.save(S3Gen().state_dict(), folder / "s3gen.pt")
    tokenizer().save(str(folder / "grapheme_mtl_merged_expanded_v1.json"))


if __name__ == "__main__":
    build(Path(sys.argv[1]))
