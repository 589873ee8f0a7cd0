"""Rights before generation: the rights holder's clearance of a project's title, and the rights status of
every input (the source programme, an M&E stem, each voice's references, the glossary's brand names).

A project may be prepared and reviewed without a clearance (a draft to show the rights holder), but a
delivery needs one that covers its language, territories and uses on the day; and it needs every input
cleared. Both refusals name what is missing. What the delivery then discloses is built here too.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import select

from ..context import SYSTEM, Context
from ..errors import BadInputError, ProjectError, TamperedError
from ..files import sha256_file
from ..rights.disclosure import Disclosure, VoiceConsent
from ..rights.records import ClearanceRecord, ClearanceTerms, RightsError, territories, uses
from ..store import Project
from ..store.audit import audit
from ..store.models import InputRight, LineTranslation
from .speech import current_clips

USE_OF = {"voices": "ai-voice", "translation": "ai-translation"}  # what AI did -> the use a clearance must allow
SOURCE, STEM, GLOSSARY, REFERENCE = "source", "stem", "glossary:", "reference:"


@dataclass(frozen=True)
class InputStatus:
    """One input of a project: who owns it and whether its use here is cleared (None: nothing recorded)."""

    input: str
    owner: str
    cleared: bool | None
    note: str = ""
    document: str = ""

    def describe(self) -> str:
        state = {True: "cleared", False: "not cleared", None: "no rights recorded"}[self.cleared]
        return f"{self.input} ({self.owner or 'owner unknown'}): {state}" + (f", {self.note}" if self.note else "")


# the title clearance ------------------------------------------------------------------------------

def clear_title(ctx: Context, project: Project, holder: str, title: str, languages: list[str], territory_codes: list[str],
                allowed: list[str], valid_from: date, valid_until: date | None, document: Path, reference: str,
                by: str = SYSTEM) -> ClearanceRecord:
    """Record the rights holder's approval, with the approving document by its hash and reference."""
    if not holder.strip() or not title.strip() or not reference.strip():
        raise RightsError("a title clearance names the rights holder, the title and the approving document's reference")
    if valid_until is not None and valid_until < valid_from:
        raise RightsError(f"a title clearance cannot end ({valid_until}) before it starts ({valid_from})")
    languages = tuple(sorted({language.strip().lower() for language in languages if language.strip()}))
    if not languages:
        raise RightsError("a title clearance names at least one target language")
    terms = ClearanceTerms(holder.strip(), title.strip(), languages, territories(territory_codes), uses(allowed),
                           valid_from, valid_until, _document_hash(document), reference.strip())
    return ctx.clearances.create(project.id, terms, by=by)


def revoke_clearance(ctx: Context, clearance_id: str, reason: str, by: str = SYSTEM) -> ClearanceRecord:
    """Withdraw a title clearance now, for good: no delivery under it, and verify fails the ones made."""
    return ctx.clearances.revoke(clearance_id, reason, by=by)


def clearances(ctx: Context, project: Project) -> list[list[ClearanceRecord]]:
    """Each of the project's clearances as its verified history, oldest clearance first."""
    return [ctx.clearances.history(clearance_id) for clearance_id in ctx.clearances.clearance_ids(project.id)]


def covering_clearance(ctx: Context, project: Project, language: str, territory_codes: tuple[str, ...],
                       needed: tuple[str, ...], day: date) -> ClearanceRecord:
    """The clearance under which this delivery may go out; RightsError naming what each one lacks."""
    wanted = territories(territory_codes)
    gaps = []
    for history in clearances(ctx, project):
        head = history[-1]
        if head.revoked:
            gaps.append(f"{head.clearance_id} was revoked on {head.revoked_at:%Y-%m-%d} ({head.revocation_reason})")
            continue
        gap = head.terms.refusal(language, wanted, needed, day)
        if gap is None:
            return head
        gaps.append(f"{head.clearance_id} does not cover {gap}")
    found = "; ".join(gaps) if gaps else "the project has no title clearance"
    raise RightsError(f"delivery refused: no title clearance covers {', '.join(needed)} in {language} for "
                      f"{', '.join(wanted)} on {day.isoformat()}: {found}. Record the rights holder's approval "
                      f"(dubdesk rights clear)")


def draft_label(ctx: Context, project: Project, language: str) -> str | None:
    """While no clearance allows delivery in `language`, what the project's dub is: a draft for the rights
    holder's review; None once one does (for some territory)."""
    for history in clearances(ctx, project):
        head = history[-1]
        if not head.revoked and language in head.terms.languages and set(head.terms.uses) - {"draft-review"}:
            return None
    return f"Draft for the rights holder's review only: no title clearance allows delivery in {language}"


# inputs ------------------------------------------------------------------------------------------

def record_input(ctx: Context, project: Project, name: str, owner: str, cleared: bool, note: str = "",
                 document: Path | None = None, reference: str = "", by: str = SYSTEM) -> InputStatus:
    """Record who owns one input (source, stem, glossary:TERM) and whether its use here is cleared; the
    newest record counts, every record is kept."""
    _check_input_name(project, name)
    if not owner.strip():
        raise RightsError(f"input '{name}': name its owner")
    body = {"project": project.id, "input": name, "owner": owner.strip(), "cleared": cleared, "note": note,
            "document_ref": reference, "document_sha256": _document_hash(document) if document else None}
    with ctx.sessions() as session:
        session.add(InputRight(project_id=project.id, input=name, owner=body["owner"], cleared=cleared, note=note,
                               document_ref=reference, document_sha256=body["document_sha256"], recorded_by=by,
                               seal=ctx.seal.sign("input right", body)))
        audit(session, by, "input rights recorded", project.id, input=name, owner=body["owner"], cleared=cleared)
        session.commit()
    return InputStatus(name, body["owner"], cleared, note, reference)


def inputs(ctx: Context, project: Project, language: str, with_stem: bool = False) -> list[InputStatus]:
    """Every input of the project's dub in `language` with its rights status: the source (cleared by the title
    clearance unless recorded otherwise), the M&E stem (where recorded or about to be mixed), each glossary term,
    and each voice's references (under its consent)."""
    recorded = _recorded_inputs(ctx, project)
    source = recorded.get(SOURCE) or _source_by_clearance(ctx, project, language)
    stem = [recorded.get(STEM, InputStatus(STEM, "", None))] if with_stem or STEM in recorded else []
    glossary = [recorded.get(f"{GLOSSARY}{term}", InputStatus(f"{GLOSSARY}{term}", "", None))
                for term in sorted(project.glossary or {})]
    return [source, *stem, *glossary, *_references(ctx, project, language)]


def uncleared(ctx: Context, project: Project, language: str, with_stem: bool = False) -> list[InputStatus]:
    return [status for status in inputs(ctx, project, language, with_stem) if status.cleared is not True]


def refuse_uncleared_inputs(ctx: Context, project: Project, language: str, with_stem: bool) -> None:
    waiting = uncleared(ctx, project, language, with_stem)
    if waiting:
        raise RightsError(f"delivery refused: {len(waiting)} input(s) not cleared: "
                          + "; ".join(status.describe() for status in waiting)
                          + ". Record their rights (dubdesk rights input)")


def _check_input_name(project: Project, name: str) -> None:
    if name in (SOURCE, STEM):
        return
    if name.startswith(GLOSSARY) and name.removeprefix(GLOSSARY) in (project.glossary or {}):
        return
    terms = ", ".join(sorted(project.glossary or {})) or "none"
    raise RightsError(f"unknown input '{name}': inputs are '{SOURCE}', '{STEM}' and '{GLOSSARY}TERM' for a term of "
                      f"the project's glossary ({terms}); a voice's references are cleared by its consent")


def _recorded_inputs(ctx: Context, project: Project) -> dict[str, InputStatus]:
    """The newest record of each input whose seal holds; one that does not is shown as not cleared."""
    found = {}
    with ctx.sessions() as session:
        for row in session.scalars(select(InputRight).where(InputRight.project_id == project.id).order_by(InputRight.id)):
            body = {"project": project.id, "input": row.input, "owner": row.owner, "cleared": row.cleared,
                    "note": row.note, "document_ref": row.document_ref, "document_sha256": row.document_sha256}
            try:
                ctx.seal.check("input right", body, row.seal, "its record")
                found[row.input] = InputStatus(row.input, row.owner, row.cleared, row.note, row.document_ref)
            except TamperedError as error:
                found[row.input] = InputStatus(row.input, row.owner, False, str(error))
    return found


def _source_by_clearance(ctx: Context, project: Project, language: str) -> InputStatus:
    """The source programme, cleared by a title clearance for the language (its holder owns the title)."""
    for history in reversed(clearances(ctx, project)):
        head = history[-1]
        if not head.revoked and language in head.terms.languages:
            return InputStatus(SOURCE, head.terms.holder, True, f"by title clearance {head.clearance_id}",
                               head.terms.document_ref)
    return InputStatus(SOURCE, "", None, "no title clearance for this language")


def _references(ctx: Context, project: Project, language: str) -> list[InputStatus]:
    """Each voice speaking the dub: its references are cleared by its consent, while that holds."""
    statuses = []
    for profile in sorted({clip.profile_id for clip in current_clips(ctx, project, language).values()}):
        record = ctx.registry.current(profile)
        owner = f"{record.stock.source} ({record.stock.weights_licence})" if record.stock else record.actor
        refusal = (f"consent revoked ({record.revocation_reason})" if record.revoked
                   else record.terms.refusal(language, project.name, "dubbing", date.today()))
        statuses.append(InputStatus(f"{REFERENCE}{profile}", owner, refusal is None, refusal or "by the voice's consent",
                                    record.terms.terms_ref))
    return statuses


def _document_hash(document: Path | None) -> str:
    if document is None or not Path(document).is_file():
        raise BadInputError(str(document), "the approving document is missing: give the file the rights holder signed")
    return sha256_file(Path(document))


# purpose and disclosure -----------------------------------------------------------------------------

def ai_did(ctx: Context, project: Project, language: str) -> tuple[str, ...]:
    """What AI did in this dub, from the record: the voices always; the translation where an engine made any line's text."""
    with ctx.sessions() as session:
        machine = session.scalar(select(LineTranslation.id).where(
            LineTranslation.project_id == project.id, LineTranslation.language == language,
            LineTranslation.engine.is_not(None)).limit(1))
    return ("translation", "voices") if machine is not None else ("voices",)


def delivery_uses(ctx: Context, project: Project, language: str) -> tuple[str, ...]:
    """The uses a clearance must allow for this delivery; refused while the project does not state its purpose,
    or states less than AI did."""
    did = ai_did(ctx, project, language)
    if not project.purpose:
        raise ProjectError(f"delivery refused: project '{project.name}' states no purpose: say why AI is used and what "
                           f"it did (dubdesk purpose {project.id} --text ... --ai {','.join(did)})")
    unstated = [use for use in did if use not in (project.ai_uses or [])]
    if unstated:
        raise ProjectError(f"delivery refused: project '{project.name}' states AI did {', '.join(project.ai_uses)}, "
                           f"but it also did {', '.join(unstated)}: state it (dubdesk purpose)")
    return tuple(sorted(USE_OF[use] for use in project.ai_uses))


def disclosure(clearance: ClearanceRecord, project: Project, language: str, territory_codes: tuple[str, ...],
               needed: tuple[str, ...], consents: list[dict], approvers: tuple[str, ...], day: date) -> Disclosure:
    voices = tuple(VoiceConsent(c["actor"], c["profile"], c["record"]) for c in consents)
    return Disclosure.of(clearance, project.name, language, territories(territory_codes), needed, project.purpose,
                         tuple(project.ai_uses), voices, approvers, day)
