"""Translation: each line's text in a target language, by machine or by a person, and a shorter
machine wording for a line whose speech does not fit its slot. A person's text is never
overwritten by a machine."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, replace

from sqlalchemy import select, update

from ..context import SYSTEM, Context
from ..core import Fit, Line, Script
from ..phonemes import syllable_counts
from ..store import Project
from ..store.audit import audit
from ..store.models import LineTranslation
from ..translate import NoRouteError, TranslatedLine, budget_syllables, route, shorter_alternatives, text_label, translate_lines
from ..translate.edits import TextEdit, apply_edit
from ..translate.fillers import RULES_VERSION as FILLER_RULES
from ..translate.fillers import drop_fillers
from .scripting import script as script_of


def _line_texts(project: Project, language: str):
    """The query for a project's line texts in one language."""
    return select(LineTranslation).where(LineTranslation.project_id == project.id, LineTranslation.language == language)


def translate(ctx: Context, project: Project, language: str, by: str = SYSTEM) -> dict[str, LineTranslation]:
    """Machine-translate every line into `language`; a person's edits are never overwritten. A pair no
    engine serves is opened for a person to write (`open_for_hand`)."""
    script = script_of(ctx, project)
    try:
        chosen = route(script.language, language, ctx.settings.translate)
    except NoRouteError:
        return open_for_hand(ctx, project, script, language, by)
    terms = protected_terms(project, language)
    inputs = {"script": [line.to_json() for line in script.lines], "route": chosen.describe(), "target": language,
              "terms": terms, "output": "text and untranslated words by line id"}
    budgets = _budgets(script.lines, script.language, language)
    embedded = chosen.quality != "production"  # a rule-based route translates fillers word for word
    said = [drop_fillers(line.text, script.language) if embedded else (line.text, ()) for line in script.lines]
    inputs["fillers"] = FILLER_RULES if embedded else None
    inputs["budgets"] = None if embedded else budgets  # a production engine rewords a line over its budget

    def compute():
        translated = translate_lines([text for text, _ in said], script.language, language, terms,
                                     ctx.settings.translate)
        counts = syllable_counts([found.text for found in translated], language)
        return {line.id: asdict(replace(found if count <= budget else _within_budget(
                    ctx, line.text, found, budget, script.language, language, terms), dropped=dropped))
                for line, found, count, budget, (_, dropped) in zip(script.lines, translated, counts, budgets, said)}, \
            chosen.identity

    result = ctx.run_stage(project, f"translate-{language}", inputs, compute)
    with ctx.sessions() as session:
        existing = {row.line_id for row in session.scalars(_line_texts(project, language))}
        machine, engine = result.load(), chosen.identity.to_json()
        found_lines = [TranslatedLine(**machine[line.id]) for line in script.lines]
        spoken = syllable_counts([found.text for found in found_lines], language)
        for line, budget, found, count in zip(script.lines, budgets, found_lines, spoken):
            values = {"text": found.text, "origin": "machine", "engine": engine, "budget_syllables": budget,
                      "over_budget": count > budget, "untranslated": list(found.untranslated),
                      "dropped": list(found.dropped)}
            if line.id not in existing:
                session.add(LineTranslation(project_id=project.id, line_id=line.id, language=language, **values))
            else:  # a person's text is never overwritten, not even one saved a moment ago
                session.execute(update(LineTranslation).where(
                    LineTranslation.project_id == project.id, LineTranslation.line_id == line.id,
                    LineTranslation.language == language, LineTranslation.origin == "machine").values(**values))
        audit(session, by, "translated", project.id, language=language, route=chosen.describe())
        session.commit()
    return translations(ctx, project, language)


def open_for_hand(ctx: Context, project: Project, script: Script, language: str, by: str = SYSTEM
                  ) -> dict[str, LineTranslation]:
    """A pair no engine serves: each line without a text gets an empty one of a person's, with its
    budget, for a person to write (in review, `dubdesk edit`, or an adapter's script or subtitles)."""
    with ctx.sessions() as session:
        existing = {row.line_id for row in session.scalars(_line_texts(project, language))}
        opened = [line for line in script.lines if line.id not in existing]
        for line, budget in zip(opened, _budgets(opened, script.language, language)):
            session.add(LineTranslation(project_id=project.id, line_id=line.id, language=language, text="",
                                        origin="human", engine=None, budget_syllables=budget, over_budget=False))
        audit(session, by, "opened for a hand translation", project.id, language=language, lines=len(opened))
        session.commit()
    return translations(ctx, project, language)


def text_labels(ctx: Context, project: Project, language: str) -> dict[str, str]:
    """Each line's text as review labels it: to write, human, or machine with its route's quality."""
    source = script_of(ctx, project).language
    return {line_id: label_of(row, source, language) for line_id, row in translations(ctx, project, language).items()}


def label_of(row: LineTranslation, source: str, target: str) -> str:
    """One line's text label (see translate.text_label)."""
    return text_label(row.text, row.origin, (row.engine or {}).get("engine"), source, target)


def _budgets(lines: Sequence[Line], source: str, target: str) -> list[int]:
    """Each line's budget in syllables: what `target` says in the time its source says its own."""
    return [budget_syllables(count, source, target) for count in syllable_counts([line.text for line in lines], source)]


def _within_budget(ctx: Context, source_text: str, found: TranslatedLine, budget: int, source: str, target: str,
                   terms: dict[str, str]) -> TranslatedLine:
    """An over-budget translation replaced by the engine's alternative within budget that keeps the most
    of its meaning, if it has one."""
    shorter = shorter_alternatives(source_text, source, target, budget, found.text, terms, ctx.settings.translate)
    return TranslatedLine(shorter[0]) if shorter else found


def protected_terms(project: Project, language: str) -> dict[str, str]:
    """Character names (kept as they are) and glossary terms with their required translation."""
    terms = {name: name for name in (project.characters or {}).values()}
    terms.update({term: targets[language] for term, targets in (project.glossary or {}).items() if language in targets})
    return terms


def translations(ctx: Context, project: Project, language: str) -> dict[str, LineTranslation]:
    with ctx.sessions() as session:
        return {row.line_id: row for row in session.scalars(_line_texts(project, language))}


def edit_translation(ctx: Context, project: Project, line_id: str, language: str, text: str, editor: str,
                     expected_version: int) -> LineTranslation:
    """A person's text for one line. An edit made on an older version is refused, never lost silently."""
    with ctx.sessions() as session:
        apply_edit(session, project.id, TextEdit(line_id, language, text, editor, expected_version))
        audit(session, editor, "text edited", project.id, line_id, language=language, text=text.strip())
        session.commit()
    return translations(ctx, project, language)[line_id]


def shorter_wording(ctx: Context, project: Project, script: Script, line: Line, language: str, spoken: str,
                    fitted: Fit) -> TextEdit | None:
    """The engine's shorter wording of a machine-translated line whose speech (`spoken`, fitted as
    `fitted`) does not fit, as an edit on the version it replaces; None when the line's text is a
    person's or the engine has nothing shorter."""
    row = translations(ctx, project, language).get(line.id)
    if row is None or row.origin != "machine":
        return None
    said = syllable_counts([spoken], language)[0]
    max_syllables = int(said * fitted.slot_s * fitted.bounds[1] / fitted.natural_s)
    terms = protected_terms(project, language)
    shorter = shorter_alternatives(line.text, script.language, language, max_syllables, spoken, terms,
                                   ctx.settings.translate)
    return TextEdit(line.id, language, shorter[0], row.engine["engine"], row.version, origin="machine") if shorter else None
