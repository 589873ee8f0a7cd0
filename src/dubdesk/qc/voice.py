"""Voice QC: the dub must sound like its own consented profile, more than like any other voice in the cast."""
from __future__ import annotations

import numpy as np

from ..config import QCSettings
from ..voices.embedding import similarity
from . import CheckResult, graded


def voice_check(dub: np.ndarray | None, own: np.ndarray | None, others: dict[str, np.ndarray], limits: QCSettings,
                own_source: str) -> CheckResult:
    """`dub`: its embedding, None where no speech is heard in it; `own`: the profile's embedding (from its
    references, or its other lines for a stock voice)."""
    if dub is None:
        return CheckResult("voice", "n/a", {}, "no speech heard in the dub: no voice to compare")
    if own is None:
        return CheckResult("voice", "n/a", {}, "no references and no other line in this voice to compare with")
    own_similarity = similarity(dub, own)
    numbers = {"similarity": round(own_similarity, 3), "compared_with": own_source}
    if not others:
        return CheckResult("voice", "pass", numbers, f"similarity {own_similarity:.2f} to its profile; no other voice in the cast")
    closest, other_similarity = max(((pid, similarity(dub, e)) for pid, e in others.items()), key=lambda item: item[1])
    margin = own_similarity - other_similarity
    numbers.update({"closest_other": closest, "other_similarity": round(other_similarity, 3), "margin": round(margin, 3)})
    return graded("voice", numbers, {"margin": (-margin, limits.voice_margin)}, {
        "margin": f"sounds as much like {closest} ({other_similarity:.2f}) as its own profile ({own_similarity:.2f})",
        "ok": f"own profile {own_similarity:.2f}, nearest other {other_similarity:.2f}"})
