"""The security benchmark: its attacks on consent, sealed takes, concurrent edits and the served UI
are all held, and the figures are written as JSON (the package tamperings are left to `dubdesk bench
security`: they wait on a real delivery and the watermark detector)."""
from __future__ import annotations

import json

from dubdesk.bench import security

from .conftest import SAMPLE

FAST_GROUPS = ("web", "consent", "races", "takes")


def test_every_attack_of_the_fast_groups_is_held_and_the_counts_are_written(settings, tmp_path):
    out = tmp_path / "security.json"
    found = security.run(settings, SAMPLE, out, races=3, groups=FAST_GROUPS)
    not_held = [f"{a.group}: {a.attack}: {a.outcome} ({a.detail})" for a in found if not a.held]
    assert not not_held
    written = json.loads(out.read_text())
    counts = {group: (c["tried"], c[security.GOOD[group]]) for group, c in written["summary"].items()}
    assert counts == {"web": (30, 30), "consent": (27, 27), "races": (3, 3), "takes": (7, 7)}
    assert len(written["rows"]) == sum(tried for tried, _ in counts.values())
