"""`verify` against each way a delivered package can be tampered with: every one is named, a damaged file
is a finding rather than a crash, a consent record that cannot be checked fails, and the CLI exits 1 on a
tampered package and 0 on the intact one. The delivery is made once per session (conftest) and copied
for each tampering."""
from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dubdesk.cli import app
from dubdesk.export.delivery import MANIFEST, SIGNATURE
from dubdesk.services import delivery, speech
from dubdesk.verify import Finding, Verifier
from dubdesk.voices.registry import HISTORY

from .conftest import ffmpeg

Expected = tuple[str, str, str]  # the file a finding names, its check, words in its message


@pytest.fixture(scope="module")
def verifier(ctx) -> Verifier:
    """Verify as `dubdesk verify` does, without the watermark detector: no tampering here is about the mark,
    and the detector takes seconds a run (the CLI test runs it)."""
    return Verifier(ctx.registry, delivery.signing_identity(ctx).root.read_bytes(), watermarker=None)


@pytest.fixture
def package(delivered, tmp_path) -> Path:
    """A copy of the session's delivery to tamper with."""
    return shutil.copytree(delivered, tmp_path / delivered.name)


def _failures(findings: list[Finding]) -> list[Expected]:
    return [(f.file, f.check, f.message) for f in findings if f.ok is False]


def _line_clips(package: Path) -> list[Path]:
    return sorted(package.glob("lines/*.wav"))


def delete_a_line_clip(package: Path) -> tuple[Path, list[Expected]]:
    clip = _line_clips(package)[0]
    clip.unlink()
    return package, [(f"lines/{clip.name}", "file", "listed in the package manifest but missing")]


def delete_the_dialogue_stem(package: Path) -> tuple[Path, list[Expected]]:
    stem = next(package.glob("* dialogue stem.wav"))
    stem.unlink()
    return package, [(stem.name, "file", "listed in the package manifest but missing")]


def remove_the_manifest_and_its_signature(package: Path) -> tuple[Path, list[Expected]]:
    (package / MANIFEST).unlink()
    (package / SIGNATURE).unlink()
    return package, [(package.name, "manifest", f"no {MANIFEST} in this folder or above it")]


def damage_the_manifest(package: Path) -> tuple[Path, list[Expected]]:
    (package / MANIFEST).write_text("{", "utf-8")
    return package, [(MANIFEST, "manifest", "cannot be read (JSONDecodeError")]


def edit_the_subtitles(package: Path) -> tuple[Path, list[Expected]]:
    srt = package / "script" / "script.srt"
    cues = srt.read_text("utf-8").split("\n")
    cues[2] = "Texto cambiado."  # the first cue's words
    srt.write_text("\n".join(cues), "utf-8")
    return package, [("script/script.srt", "hash", "changed after delivery")]


def edit_the_edl(package: Path) -> tuple[Path, list[Expected]]:
    edl = next(package.glob("timeline/*.edl"))
    edl.write_text(edl.read_text("utf-8").replace("001 ", "009 ", 1), "utf-8")  # the first event renumbered
    return package, [(f"timeline/{edl.name}", "hash", "changed after delivery")]


def replace_the_mix_by_an_ogg(package: Path) -> tuple[Path, list[Expected]]:
    mix = next(package.glob("* full mix.wav"))
    ffmpeg("-i", str(mix), str(mix.with_suffix(".ogg")))
    mix.unlink()
    ogg = mix.with_suffix(".ogg").name
    return package, [(mix.name, "file", "listed in the package manifest but missing"),
                     (ogg, "listed", "not listed in the package manifest"), (ogg, "type", "unknown file type '.ogg'")]


def rename_a_clip_to_another_line_and_send_it_alone(package: Path) -> tuple[Path, list[Expected]]:
    first, second = _line_clips(package)[:2]
    first_id, second_id = first.name.split(" ")[0], second.name.split(" ")[0]
    alone = package.parent / "alone" / second.name
    alone.parent.mkdir()
    shutil.copy(first, alone)
    return alone, [(second.name, "line", f"named as line {second_id} but signed for {first_id}")]


def truncate_the_mix(package: Path) -> tuple[Path, list[Expected]]:
    mix = next(package.glob("* full mix.wav"))
    mix.write_bytes(mix.read_bytes()[: mix.stat().st_size // 2])
    return package, [(mix.name, "read", "cannot be read"), (mix.name, "hash", "changed after delivery")]


TAMPERINGS = [delete_a_line_clip, delete_the_dialogue_stem, remove_the_manifest_and_its_signature, damage_the_manifest,
              edit_the_subtitles, edit_the_edl, replace_the_mix_by_an_ogg, rename_a_clip_to_another_line_and_send_it_alone,
              truncate_the_mix]


def test_an_untouched_copy_of_the_delivery_verifies_without_a_failure(verifier, package):
    findings = verifier.verify(package)
    assert _failures(findings) == []
    assert {f.check for f in findings} >= {"manifest", "hash", "name", "tags", "c2pa", "line", "consent"}


def test_a_folder_of_deliveries_is_verified_package_by_package(verifier, package):
    stray = package.parent / "stray"  # beside the package: something no manifest vouches for
    stray.mkdir()
    shutil.copyfile(next(package.glob("script/*.srt")), stray / "script.srt")
    failures = _failures(verifier.verify(package.parent))
    assert {(file, check) for file, check, _ in failures} == {("stray", "manifest"), ("script.srt", "type")}, failures
    shutil.rmtree(stray)
    assert not _failures(verifier.verify(package.parent))


@pytest.mark.parametrize("tamper", TAMPERINGS, ids=lambda tamper: tamper.__name__)
def test_verify_names_each_tampering_with_a_delivered_package(verifier, package, tamper: Callable):
    target, expected = tamper(package)
    failures = _failures(verifier.verify(target))
    for finding in expected:
        assert any(finding[:2] == failure[:2] and finding[2] in failure[2] for failure in failures), (finding, failures)


def drop_the_revocation(ctx, profile: str) -> None:
    history = ctx.registry.folder / profile / HISTORY
    history.write_text("".join(history.read_text("utf-8").splitlines(keepends=True)[:-1]), "utf-8")


def undo_the_revocation_in_place(ctx, profile: str) -> None:
    history = ctx.registry.folder / profile / HISTORY
    *earlier, last = history.read_text("utf-8").splitlines(keepends=True)
    record = json.loads(last) | {"revoked_at": None, "revocation_reason": None}
    history.write_text("".join(earlier) + json.dumps(record) + "\n", "utf-8")


def delete_the_profile_row(ctx, profile: str) -> None:
    """As one would at the sqlite3 prompt, where foreign keys are not enforced, dropping the guard first."""
    with closing(sqlite3.connect(ctx.settings.home / "dubdesk.db")) as database:
        database.execute("DROP TRIGGER voice_profiles_no_delete")
        database.execute("DELETE FROM voice_profiles WHERE id = ?", (profile,))
        database.commit()


@pytest.mark.parametrize(("hide", "reason"), [(drop_the_revocation, "records were removed or replaced"),
                                              (undo_the_revocation_in_place, "signature does not verify"),
                                              (delete_the_profile_row, "no voice profile")],
                         ids=["history truncated", "revocation edited out", "profile row deleted"])
def test_a_revocation_hidden_in_the_registry_still_fails_verify(home_copy, reviewed, delivered, hide: Callable, reason: str):
    profile = reviewed[2]
    speech.revoke_voice(home_copy, profile, "actor withdrew consent", by="Delivery Voice")
    hide(home_copy, profile)
    verifier = Verifier(home_copy.registry, delivery.signing_identity(home_copy, ).root.read_bytes(), watermarker=None)
    consents = [f for f in verifier.verify(next(delivered.glob("* full mix.wav"))) if f.check == "consent"]
    assert consents and all(f.ok is False and "consent not checked, so not trusted" in f.message and reason in f.message
                            for f in consents), consents


def test_the_cli_exits_0_on_the_intact_package_and_1_on_a_truncated_file_without_a_traceback(settings, package):
    def verify(target: Path) -> int:
        result = CliRunner().invoke(app, ["verify", str(target), "--home", str(settings.home)])
        assert result.exception is None or isinstance(result.exception, SystemExit), result.output
        return result.exit_code

    assert verify(package) == 0
    truncate_the_mix(package)
    assert verify(next(package.glob("* full mix.wav"))) == 1  # the file alone: the watermark detector is not started
