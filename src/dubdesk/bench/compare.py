"""Two deliveries of one job compared as a person would: the same dub or not.

What counts: each line (speaker, start, both texts, voice, use, model, fit rate, verdicts, approver,
override), the loudness readings and which files the package holds. What does not: times, hashes
and signatures, and record ids that depend on the data folder's own key. Run it on the main job's
delivery before and after a change meant to leave behaviour alone.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..export.delivery import MANIFEST

LINE_FIELDS = ("line", "speaker", "start", "source_text", "text", "voice_profile", "use", "model", "processing", "fit_rate", "qc",
               "approved_by", "override_reason")


def essence(package: Path) -> dict[str, Any]:
    """What makes a delivery the dub it is, read from its manifest."""
    manifest = json.loads((Path(package) / MANIFEST).read_text("utf-8"))
    return {"project": manifest["project"], "language": manifest["language"], "background": manifest["background"],
            "lines": {line["line"]: {field: line.get(field) for field in LINE_FIELDS} for line in manifest["lines"]},
            "loudness": manifest["loudness"], "files": sorted(manifest["files"])}


def differences(before: Path, after: Path) -> list[str]:
    """Where the two deliveries differ, one sentence each; empty when they are the same dub."""
    old, new = essence(before), essence(after)
    found = [f"{key}: {old[key]!r} -> {new[key]!r}" for key in ("project", "language", "background", "loudness", "files")
             if old[key] != new[key]]
    for line_id in sorted(set(old["lines"]) | set(new["lines"])):
        was, now = old["lines"].get(line_id), new["lines"].get(line_id)
        if was is None or now is None:
            found.append(f"{line_id}: {'added' if was is None else 'missing'}")
            continue
        found += [f"{line_id} {field}: {was[field]!r} -> {now[field]!r}" for field in LINE_FIELDS if was[field] != now[field]]
    return found
