"""Spanish subject pronouns the Portuguese pivot leaves in, struck as a Spanish editor would.

The embedded en->es route goes through Portuguese, which says its subject pronoun ("Eu não sabia que
..."), and the rule-based pt->es step keeps it: "Yo no sabía que ...". Spanish leaves "yo" out where the
verb says who speaks, so the line reads translated and says two syllables more than it needs to. This
step (es->es, the route's last) drops "yo" where it opens a sentence or a clause and a verb follows; it
keeps it where it carries weight: before "también", "tampoco", "mismo" or "solo", alone, in a
coordination ("Tom y yo"), and after "que" (whose subjunctive is the same for yo and él).
Measured with `dubdesk bench translation` (FLORES-200 and Tatoeba, en->es).
"""
from __future__ import annotations

import re
from collections.abc import Sequence

from ..engines import EngineIdentity

RULES_VERSION = "pronouns 1"
_SENTENCE_START = r"^|[.!?]\s+|[¿¡\"“«]"
_OPENERS = r"y|pero|entonces|porque|oh|cuando|si|así que|bueno|bien|pues|ahora|hoy|ayer"
_KEPT_BEFORE = r"también|tampoco|mism[oa]s?|sol[oa]|sí|que|y|e|o|u|ni|pero|con|de|en|a"
_YO = re.compile(rf"(?P<lead>(?:{_SENTENCE_START}|,\s*)(?:(?i:{_OPENERS})\s+)?)(?P<yo>[Yy]o)\s+"
                 rf"(?!(?i:{_KEPT_BEFORE})\b)(?P<next>[a-záéíóúñü])")
_OPENS = re.compile(rf"(?:{_SENTENCE_START})$")


def drop_subject_yo(text: str) -> str:
    """`text` without the "yo" a Spanish sentence does not need; a sentence it opened starts with the next word."""
    def strike(match: re.Match) -> str:
        opened = match.group("yo") == "Yo" and _OPENS.fullmatch(match.group("lead")) is not None
        return match.group("lead") + (match.group("next").upper() if opened else match.group("next"))

    return _YO.sub(strike, text)


class SubjectPronouns:
    """The es->es step of a route through Portuguese (engines.Translator)."""

    def __init__(self) -> None:
        self.identity = EngineIdentity("pronoun rules", RULES_VERSION, "rules, no weights", "1")

    def translate(self, lines: Sequence[str], source: str, target: str) -> list[str]:
        return [drop_subject_yo(line) for line in lines]

    def alternatives(self, line: str, source: str, target: str, max_syllables: int) -> list[str]:
        """None: rules yield one wording."""
        return []
