"""Quality checks on each dubbed line. Every check gives pass / warn / fail (or n/a where it cannot
measure) with its numbers and a one-line reason; the limits live in the settings (`qc`)."""
from __future__ import annotations

from ..config import Limits
from ..core import CheckResult

SEVERITY = {"n/a": 0, "pass": 0, "warn": 1, "fail": 2}


def grade(value: float, limits: Limits) -> str:
    """pass / warn / fail for a measure where higher is worse."""
    return "fail" if value >= limits.fail else "warn" if value >= limits.warn else "pass"


def worst(verdicts: list[str]) -> str:
    return max(verdicts, key=SEVERITY.__getitem__, default="pass")


def graded(check: str, numbers: dict, measures: dict[str, tuple[float, Limits]], describe: dict[str, str]) -> CheckResult:
    """One result from several graded measures: the worst verdict, and the reasons of those that are not a pass."""
    verdicts = {name: grade(value, limits) for name, (value, limits) in measures.items()}
    verdict = worst(list(verdicts.values()))
    problems = [describe[name] for name, v in verdicts.items() if v != "pass"]
    return CheckResult(check, verdict, numbers, "; ".join(problems) if problems else describe.get("ok", "within limits"))
