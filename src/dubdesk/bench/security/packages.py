"""The package attacks: a delivered package tampered with (each tampering on a copy), then verified;
caught when verify names the tampered thing in a failing finding. Last, the voice is revoked and its
consent history corrupted, and the untouched package verified.
"""
from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import soundfile as sf

from ...context import Context
from ...export.delivery import MANIFEST, SIGNATURE
from ...services import delivery, speech
from .common import PRODUCER, VOICE, Attempt

# Tamperings of a delivered package, each on a copy: (what it does, how, the name a finding must say).

def _line(package: Path, index: int) -> Path:
    return sorted((package / "lines").glob("*.wav"))[index]


def _one(package: Path, pattern: str) -> Path:
    return next(package.rglob(pattern))


def _delete(path: Path) -> Path:
    path.unlink()
    return path.parents[1] if path.parent.name in ("lines", "script", "timeline") else path.parent


def _remove_manifest(package: Path) -> Path:
    (package / MANIFEST).unlink()
    (package / SIGNATURE).unlink()
    return package


def _append_text(path: Path, text: str) -> Path:
    path.write_text(path.read_text("utf-8") + text, "utf-8")
    return path.parents[1]


def _as_ogg(package: Path) -> Path:
    mix = _one(package, "* full mix.wav")
    audio, rate = sf.read(mix, dtype="float32")
    sf.write(mix.with_suffix(".ogg"), audio, rate, format="OGG", subtype="VORBIS")
    mix.unlink()
    return package


def _renamed_alone(package: Path) -> Path:
    """Line 1's signed clip, alone in a folder, named as line 2."""
    first, second = _line(package, 0), _line(package, 1)
    alone = package.parent / "received alone"
    alone.mkdir()
    return shutil.copyfile(first, alone / second.name)


def _truncate(path: Path) -> Path:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    return path.parents[1]


TAMPERINGS: tuple[tuple[str, Callable[[Path], Path], Callable[[Path], str]], ...] = (
    ("delete a line clip", lambda p: _delete(_line(p, 1)), lambda p: _line(p, 1).name.split()[0]),
    ("delete the dialogue stem", lambda p: _delete(_one(p, "* dialogue stem.wav")), lambda p: "dialogue stem"),
    ("remove the manifest and its signature", _remove_manifest, lambda p: MANIFEST),
    ("edit the SRT", lambda p: _append_text(_one(p, "*.srt"), "\n99\n00:00:09,000 --> 00:00:10,000\nTexto añadido.\n"),
     lambda p: ".srt"),
    ("edit the EDL", lambda p: _append_text(_one(p, "*.edl"), "* an edit made after delivery\n"), lambda p: ".edl"),
    ("replace the full mix with an .ogg", _as_ogg, lambda p: "full mix"),
    ("rename a signed clip to another line and verify it alone", _renamed_alone, lambda p: _line(p, 1).name.split()[0]),
    ("truncate a line's WAV", lambda p: _truncate(_line(p, 2)), lambda p: _line(p, 2).name.split()[0]),
)


def package_tamperings(ctx: Context, package: Path, scratch: Path) -> list[Attempt]:
    """Each tampering on a fresh copy of the delivered package, then verify; last, the voice is revoked
    and its consent history corrupted, and the untouched package verified."""
    attempts = []
    for index, (attack, tamper, named) in enumerate(TAMPERINGS):
        copy = shutil.copytree(package, scratch / f"tampered {index}" / package.name)
        names = named(copy)
        attempts.append(_verified(ctx, attack, tamper(copy), names))
    speech.revoke_voice(ctx, VOICE, "benchmark: the stock voice is withdrawn", by=PRODUCER)
    history = ctx.registry.folder / VOICE / "history.jsonl"
    *kept, revocation = history.read_text("utf-8").splitlines(keepends=True)
    history.write_text("".join(kept) + "\x00" * len(revocation), "utf-8")  # the revocation record overwritten
    attempts.append(_verified(ctx, "corrupt a revoked profile's consent history", package, VOICE))
    return attempts


def _verified(ctx: Context, attack: str, target: Path, names: str) -> Attempt:
    """Caught: verify returns a failing finding naming `names` (in its file or its message), without crashing."""
    try:
        findings = delivery.verify(ctx, target)
    except Exception as crash:  # noqa: BLE001 - a crash is recorded as the outcome, not raised
        return Attempt("verify", attack, "missed", f"verify crashed: {type(crash).__name__}: {str(crash)[:160]}")
    failing = [f for f in findings if f.ok is False]
    hit = next((f for f in failing if names in f.file or names in f.message), None)
    if hit:
        return Attempt("verify", attack, "caught", f"{hit.file}: {hit.check}: {hit.message}"[:200])
    return Attempt("verify", attack, "missed", f"no failing finding names '{names}' ({len(failing)} failing: "
                                               f"{'; '.join(f'{f.file} {f.check}' for f in failing[:3]) or 'none'})")
