"""Translation check: words the engine could not translate (left as they were, maybe in the pivot
language) must not reach a voice unnoticed. A line that holds any fails, naming them, so only a
person can let it through: by writing the line, or by approving it with a written override."""
from __future__ import annotations

from ..translate import TranslatedLine, stands_in
from . import CheckResult


def translation_check(machine: TranslatedLine | None, text: str) -> CheckResult:
    """`machine`: the line's machine translation with its flags (None where there is none); `text`: what
    the take says. Fillers left out of the source are said in the reason, so a reviewer knows."""
    left = [word for word in (machine.untranslated if machine else ()) if stands_in(word, text)]
    dropped = f"; left out of the source before translating: {', '.join(machine.dropped)}" if machine and \
        machine.dropped and machine.text == text else ""
    numbers = {"untranslated": len(left), "fillers_dropped": len(machine.dropped) if machine else 0}
    if left:
        return CheckResult("translation", "fail", numbers,
                           f"untranslated words: {', '.join(left)}; write the line, or approve it with a reason{dropped}")
    return CheckResult("translation", "pass", numbers, f"no untranslated words{dropped}")
