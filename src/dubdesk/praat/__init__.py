"""Praat (praat-parselmouth, GPL-3.0) work, always in a separate program.

The workbench never imports parselmouth: `run_praat` starts `python -m dubdesk.praat.worker`,
hands it one JSON request on stdin and reads one JSON answer from stdout. Audio travels as WAV
files. A batch of lines goes in one request, so the program starts once per batch.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from ..errors import EngineUnavailableError
from ..tools import ToolError, last_output, run

# What `prosody.prosody_profile` measures of one line's delivery (compared in qc.emotion).
PROSODY_FEATURES = ("pitch_range_st", "loudness_range_db", "speech_rate_sps", "alpha_ratio_db", "pitch_median_st",
                    "loudness_db", "jitter_local", "shimmer_local", "hnr_db")
PROSODY_MEASURE = Path(__file__).with_name("prosody.py")  # how profiles are measured: stored profiles are keyed by it


def run_praat(task: str, **request: Any) -> Any:
    """Run one Praat `task` (see worker.TASKS) in its own process and return its answer."""
    result = run([sys.executable, "-m", "dubdesk.praat.worker"], input=json.dumps({"task": task, **request}), check=False)
    if result.returncode == 3:
        raise EngineUnavailableError("praat-parselmouth", "embedded", result.stderr.strip())
    if result.returncode != 0:
        raise ToolError(f"Praat task '{task}' failed: {last_output(result.stderr)}")
    return json.loads(result.stdout)
