"""The before/after check for changes meant to leave behaviour alone: same dub or not."""
from __future__ import annotations

import json
import shutil

from dubdesk.bench.compare import differences
from dubdesk.export.delivery import MANIFEST


def test_a_delivery_is_the_same_dub_as_its_copy_and_not_once_a_line_changes(delivered, tmp_path):
    copy = shutil.copytree(delivered, tmp_path / delivered.name)
    manifest = json.loads((copy / MANIFEST).read_text("utf-8"))
    manifest["created_at"], manifest["lines"][0]["generated_at"] = "another day", "another time"
    (copy / MANIFEST).write_text(json.dumps(manifest), "utf-8")
    assert differences(delivered, copy) == []
    manifest["lines"][0]["text"] = "Otra cosa."
    manifest["lines"][1]["qc"]["timing"] = "pass" if manifest["lines"][1]["qc"]["timing"] != "pass" else "fail"
    (copy / MANIFEST).write_text(json.dumps(manifest), "utf-8")
    found = differences(delivered, copy)
    assert len(found) == 2 and found[0].startswith(f"{manifest['lines'][0]['line']} text:") and " qc: " in found[1]
