"""Glossary and character names: terms the engines must not translate freely.

Each protected term is swapped for a placeholder token the engines pass through untouched
(an unknown, unpronounceable word), then the token is replaced by the term's required
translation (a character name stays as it is).
"""
from __future__ import annotations

import re
import string
from collections.abc import Sequence


def _token(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = string.ascii_lowercase[rest] + letters
    return f"Zxq{letters}"


def is_token(word: str) -> bool:
    """Whether `word` is a placeholder `protect` put in (engines do not know it, by design)."""
    return re.fullmatch(r"Zxq[a-z]+", word) is not None


def protect(lines: Sequence[str], terms: dict[str, str]) -> tuple[list[str], dict[str, str]]:
    """Lines with every term (longest first, whole words) replaced by a token; token -> target term."""
    replacements: dict[str, str] = {}
    protected = list(lines)
    for index, term in enumerate(sorted(terms, key=len, reverse=True)):
        token = _token(index)
        pattern = re.compile(rf"(?<!\w){re.escape(term)}(?!\w)")
        if any(pattern.search(line) for line in protected):
            protected = [pattern.sub(token, line) for line in protected]
            replacements[token] = terms[term]
    return protected, replacements


def restore(lines: Sequence[str], replacements: dict[str, str]) -> list[str]:
    restored = list(lines)
    for token, target in replacements.items():
        restored = [line.replace(token, target) for line in restored]
    return restored
