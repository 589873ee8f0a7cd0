"""The "AI beta" label every generated audio file carries: in its name and in its metadata.

A WAV says it three ways, for three kinds of tools: LIST-INFO (title, artist, comment: players),
a BWF `bext` chunk (description, originator, loudness: broadcast tools) and an iXML note
(production sound tools). No library writes bext and iXML both, so the chunks are written here.
"""
from __future__ import annotations

import math
import shutil
import struct
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from xml.sax.saxutils import escape

import numpy as np
import soundfile as sf

from .files import atomic_write

AI_LABEL = "AI beta"
COPY_BLOCK_FRAMES = 1 << 19  # about 11 s at 48 kHz
BEXT_TEXT = {"description": 256, "originator": 32, "originator_reference": 32}


def labelled_name(stem: str, suffix: str = ".wav") -> str:
    return f"{stem} [{AI_LABEL}]{suffix}"


def write_labelled_wav(path: Path, audio: np.ndarray, rate: int, title: str, artist: str, description: str) -> Path:
    """A 24-bit WAV (mono, or channels in columns) whose LIST-INFO names it AI-generated, written atomically."""
    return _labelled_wav(path, [audio], rate, 1 if audio.ndim == 1 else audio.shape[1], (title, artist, description))


def copy_labelled_wav(path: Path, source: Path, title: str, artist: str, description: str) -> Path:
    """`source` (any WAV) as a labelled 24-bit WAV, copied a block at a time (a programme need not fit in memory)."""
    info = sf.info(source)
    blocks = sf.blocks(source, blocksize=COPY_BLOCK_FRAMES, dtype="float64", always_2d=True)
    return _labelled_wav(path, blocks, info.samplerate, info.channels, (title, artist, description))


def _labelled_wav(path: Path, blocks: Iterable[np.ndarray], rate: int, channels: int, labels: tuple[str, str, str]) -> Path:
    def write(tmp: Path) -> None:
        with sf.SoundFile(tmp, "w", samplerate=rate, channels=channels, subtype="PCM_24", format="WAV") as out:
            out.title, out.artist, out.comment = labels
            out.software = "dubdesk"
            for block in blocks:
                out.write(block)

    return atomic_write(path, write)


def read_labels(path: Path) -> dict[str, str]:
    with sf.SoundFile(path) as source:
        return {"title": source.title, "artist": source.artist, "description": source.comment}


def _centi(value: float | None) -> int:
    """A bext loudness field in hundredths; 0x7FFF where it is unknown, or not finite (silence measures -inf)."""
    return round(value * 100) if value is not None and math.isfinite(value) else 0x7FFF


def bext_chunk(description: str, originator: str, reference: str, loudness: dict[str, float], history: str) -> bytes:
    """A BWF bext chunk, version 2 (EBU Tech 3285): ASCII text fields and the loudness of the file."""
    text = {"description": description, "originator": originator, "originator_reference": reference}
    fields = b"".join(text[name].encode("ascii", "replace")[:size].ljust(size, b"\0") for name, size in BEXT_TEXT.items())
    now = datetime.now()
    fields += now.strftime("%Y-%m-%d").encode() + now.strftime("%H:%M:%S").encode()
    fields += struct.pack("<QH", 0, 2) + b"\0" * 64  # time reference, version, UMID
    centi = [_centi(loudness.get(name)) for name in
             ("integrated_lufs", "range_lu", "true_peak_dbtp", "max_momentary_lufs", "max_short_term_lufs")]
    fields += struct.pack("<5h", *centi) + b"\0" * 180
    return fields + history.encode("ascii", "replace") + b"\r\n"


def ixml_chunk(project: str, note: str) -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?><BWFXML><IXML_VERSION>2.10</IXML_VERSION>'
            f"<PROJECT>{escape(project)}</PROJECT><NOTE>{escape(note)}</NOTE></BWFXML>").encode()


def add_wav_chunks(path: Path, bext: bytes, ixml: bytes) -> Path:
    """Rewrite a WAV with `bext` before its audio and `iXML` after it (must precede signing: the C2PA
    hash covers every chunk)."""
    chunks = riff_chunks(path)
    if any(chunk_id in (b"bext", b"iXML", b"C2PA") for chunk_id, _, _ in chunks):
        raise ValueError(f"{path.name} already carries bext, iXML or a C2PA manifest")

    def write(tmp: Path) -> None:
        with path.open("rb") as source, tmp.open("wb") as out:
            out.write(b"RIFF\0\0\0\0WAVE")
            for chunk_id, offset, size in chunks:
                if chunk_id == b"data":
                    _write_chunk(out, b"bext", bext)
                source.seek(offset - 8)
                shutil.copyfileobj(_limited(source, 8 + size + size % 2), out)
            _write_chunk(out, b"iXML", ixml)
            total = out.tell()
            out.seek(4)
            out.write(struct.pack("<I", total - 8))

    return atomic_write(path, write)


def read_wav_chunk(path: Path, wanted: bytes) -> bytes | None:
    for chunk_id, offset, size in riff_chunks(path):
        if chunk_id == wanted:
            with path.open("rb") as source:
                source.seek(offset)
                return source.read(size)
    return None


def bext_description(path: Path) -> str | None:
    chunk = read_wav_chunk(path, b"bext")
    return chunk[:BEXT_TEXT["description"]].rstrip(b"\0").decode("ascii", "replace") if chunk else None


def riff_chunks(path: Path) -> list[tuple[bytes, int, int]]:
    """(id, data offset, data size) of each top-level chunk of a RIFF WAVE file."""
    chunks = []
    with path.open("rb") as source:
        riff, riff_size, wave = struct.unpack("<4sI4s", source.read(12))
        if riff != b"RIFF" or wave != b"WAVE":
            raise ValueError(f"{path.name} is not a RIFF WAVE file")
        offset, end = 12, min(riff_size + 8, path.stat().st_size)
        while offset + 8 <= end:
            source.seek(offset)
            chunk_id, size = struct.unpack("<4sI", source.read(8))
            chunks.append((chunk_id, offset + 8, size))
            offset += 8 + size + size % 2
    return chunks


def _write_chunk(out, chunk_id: bytes, body: bytes) -> None:
    out.write(chunk_id + struct.pack("<I", len(body)) + body + b"\0" * (len(body) % 2))


class _limited:
    """A file read only `remaining` bytes further, for copyfileobj."""

    def __init__(self, source, remaining: int) -> None:
        self.source, self.remaining = source, remaining

    def read(self, size: int = -1) -> bytes:
        size = self.remaining if size < 0 else min(size, self.remaining)
        data = self.source.read(size)
        self.remaining -= len(data)
        return data
