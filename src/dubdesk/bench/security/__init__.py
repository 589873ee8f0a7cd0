"""Security benchmark: the attacks the tests make, tried again on a scratch data folder and counted.

Five groups (dubdesk issue 12), a module each: consent got round (held or broken), sealed takes
tampered with before the mix (`takes`: held or broken), two processes editing one line at once
(`races`: held or lost), a delivered package tampered with and verified (`packages`, group "verify":
caught or missed; "caught" means verify names the tampered thing in a failing finding) and Gradio's
file routes asked for secrets as each role (`web`: refused or served); what they share is in
`common`. The attack helpers live here, not in the tests, so the tests and this benchmark make the
same attacks. Everything happens in a temporary folder: a three-line programme dubbed with a stock Pico
voice, one real delivery, and the UI served on 127.0.0.1; nothing is downloaded.
"""
from __future__ import annotations

import tempfile
from dataclasses import asdict
from pathlib import Path

from ...config import Settings
from ...services import delivery
from ..main_job import clear_sample
from ..report import publish
from .common import BAD, GOOD, GROUPS, LANGUAGE, Attempt, approve_all, dubbed_desk, refused, scratch_settings, summary_of
from .consent import consent_attacks
from .packages import package_tamperings
from .races import race_trials
from .takes import take_tamperings
from .web import web_attacks

__all__ = ["BAD", "GOOD", "GROUPS", "Attempt", "attack_all", "refused", "run", "summary_of"]


def attack_all(settings: Settings, sample: Path, scratch: Path, races: int = 20, groups: tuple[str, ...] = GROUPS) -> list[Attempt]:
    """The chosen groups' attacks. Races, takes and verify share one dubbed programme, in an order that
    lets them: the races first, then one delivery, then the takes tampered with, the package last (it
    revokes the voice)."""
    found = []
    if "web" in groups:  # first: the server's model warm-up thread is done long before the program ends
        found += web_attacks(scratch_settings(settings, scratch / "web home"), sample, _folder(scratch / "web"))
    if "consent" in groups:
        found += consent_attacks(scratch_settings(settings, scratch / "consent home"), sample, _folder(scratch / "consent"))
    if {"races", "takes", "verify"} & set(groups):
        ctx, project = dubbed_desk(scratch_settings(settings, scratch / "desk home"), sample)
        if "races" in groups:
            found += race_trials(ctx, project, races)
        approve_all(ctx, project)
        if "verify" in groups:
            clear_sample(ctx, project, LANGUAGE, sample)
        package = delivery.deliver(ctx, project, LANGUAGE, scratch / "delivery") if "verify" in groups else None
        if "takes" in groups:
            found += take_tamperings(ctx, project, _folder(scratch / "takes"))
        if package:
            found += package_tamperings(ctx, package, _folder(scratch / "tampered"))
    return found


def _folder(path: Path) -> Path:
    path.mkdir(parents=True)
    return path


def run(settings: Settings, sample: Path, out: Path, races: int = 20, groups: tuple[str, ...] = GROUPS) -> list[Attempt]:
    """Every attack on a scratch data folder under the system's temporary folder; prints the table and
    the counts per group, writes both as JSON to `out`."""
    with tempfile.TemporaryDirectory(prefix="dubdesk-bench-security-") as scratch:
        found = attack_all(settings, sample, Path(scratch), races, groups)
    publish("Security: attacks tried on consent, sealed takes, concurrent edits, delivered packages and the served UI",
            [asdict(a) for a in found], summary_of(found), out)
    return found
