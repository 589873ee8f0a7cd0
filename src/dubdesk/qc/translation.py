"""Translation check: words the engine could not translate (left as they were, maybe in the pivot
language) must not reach a voice unnoticed. A line that holds any fails, naming them, so only a
person can let it through: by writing the line, or by approving it with a written override."""
from __future__ import annotations

from ..translate import stands_in
from . import CheckResult


def translation_check(untranslated: tuple[str, ...], text: str) -> CheckResult:
    """`untranslated`: the words the engine marked in the line's machine text; `text`: what the take says."""
    left = [word for word in untranslated if stands_in(word, text)]
    if left:
        return CheckResult("translation", "fail", {"untranslated": len(left)},
                           f"untranslated words: {', '.join(left)}; write the line, or approve it with a reason")
    return CheckResult("translation", "pass", {"untranslated": 0}, "no untranslated words")
