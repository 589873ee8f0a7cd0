"""Delivery: the approved lines mixed over the programme's background and written as a labelled,
signed package (see export.delivery), and the verification of a package or file received alone.

Mixing is refused, saying why, while any line is not approved, runs into its speaker's next line,
has lost its consent, comes from weights the project's licence forbids, or does not check out
against its seals (see takes.py); and while no title clearance covers the delivery or an input is
not cleared (see services.rights).
"""
from __future__ import annotations

import tempfile
from dataclasses import replace
from datetime import date
from pathlib import Path

import soundfile as sf

from ..audio import check_readable, decode_to_wav, resample
from ..context import SYSTEM, Context, Progress, no_progress
from ..core import Line, LineProvenance, Script, Take
from ..errors import ProjectError, TamperedError, listed
from ..export.credentials import SigningIdentity, make_project_ca
from ..export.delivery import DeliveredLine, DeliveryRequest, consent_refusal, write_delivery
from ..mix import MIX_RATE, LineFile, Mix, mixdown
from ..review import decisions, qc_results
from ..rights.records import WORLDWIDE
from ..shelf import shelf
from ..store import Project
from ..store.audit import audit
from ..store.models import Clip
from ..store.takes import current_takes
from ..synth.engines import NON_COMMERCIAL_LICENCES
from ..takes import check_take
from ..verify import Finding, Verifier
from ..voices.registry import ConsentError
from ..watermark import Watermarker
from . import rights
from .desk import approvals as approved_lines
from .projects import media, original
from .projects import project as project_of
from .scripting import script as script_of
from .speech import current_clips

STALE_TOLERANCE_S = 1e-3  # a take's sealed fit and its line agree on start and length to this
OWN_OVERLAP_TOLERANCE_S = 0.01  # a dub line may touch its speaker's next line by this much (sample rounding)


def deliver(ctx: Context, project: Project, language: str, out: Path, background: Path | None = None,
            progress: Progress = no_progress, by: str = SYSTEM, territories: tuple[str, ...] = (WORLDWIDE,)) -> Path:
    """Mix the approved lines and write the labelled, signed delivery package (see export.delivery).

    Refused, saying why, while any line is not approved, when a line's consent has been revoked or
    has lapsed, when a commercial project holds a line from non-commercial weights, and when any
    take's seals or fitted file do not check out (see takes.py); then while no title clearance covers the
    language, `territories` and what AI did on the day, or an input is not cleared (see services.rights)."""
    project = project_of(ctx, project.id)  # its purpose as stated now
    script, clips = script_of(ctx, project), current_clips(ctx, project, language)
    approvals = approved_lines(ctx, project, language)
    _refuse_unready(script, clips, approvals, language)
    _refuse_stale(script, clips)
    _refuse_running_into_own_lines(script, clips)
    watermarker = _loading_watermarker(ctx)  # it loads while consents, seals and rights are checked
    _refuse_consent_and_licence(ctx, project, language, clips)
    _refuse_unsealed(ctx, project, clips)
    today = date.today()
    needed = rights.delivery_uses(ctx, project, language)
    clearance = rights.covering_clearance(ctx, project, language, territories, needed, today)
    rights.refuse_uncleared_inputs(ctx, project, language, with_stem=background is not None)
    progress("mix")
    with ctx.sessions() as session:
        takes = current_takes(session, project.id, language)
    with tempfile.TemporaryDirectory(prefix="dubdesk-mix-") as scratch:  # the mix's files, until the package has them
        work = Path(scratch)
        delivered = [_delivered_line(ctx, project, line, takes[line.id], work / "fitted") for line in script.lines]
        mix = _mix(delivered, original(ctx, project) if background is None else Path(background), background is None,
                   round(script.duration * MIX_RATE), work, watermarker)
        # the line clips go out as mixed, watermarked where the mix was
        delivered = [replace(d, path=placed.path) for d, placed in zip(delivered, mix.lines, strict=True)]
        progress("deliver")
        consents = _consents(ctx, clips)
        approvers = tuple(sorted({d.provenance.approved_by for d in delivered}))
        request = DeliveryRequest(project.name, language, script, delivered, mix, "background" if background is None else "M&E",
                                  original(ctx, project), media(project).has_video, ctx.settings.script.frame_rate, consents,
                                  signing_identity(ctx), watermarker.identity if watermarker else None,
                                  rights.disclosure(clearance, project, language, territories, needed, consents, approvers, today))
        folder = write_delivery(request, Path(out))
    with ctx.sessions() as session:
        for clip in clips.values():
            session.get(Clip, clip.id).status = "mixed"
        audit(session, by, "delivered", project.id, language=language, folder=ctx.stored_path(folder),
              lines=len(delivered), clearance=clearance.clearance_id, territories=list(territories))
        session.commit()
    return folder


def _mix(delivered: list[DeliveredLine], bed_source: Path, ducked: bool, frames: int, work: Path,
         watermarker: Watermarker | None) -> Mix:
    """The lines over the bed (the original, ducked, or the supplied M&E stem), decoded to a float WAV in
    `work` by ffmpeg, so the programme is never held whole; watermarked where the watermarker is installed."""
    check_readable(bed_source)
    decode_to_wav(bed_source, work / "bed.wav", MIX_RATE, 2)
    mark = None if watermarker is None else lambda paths: watermarker.embed_files(paths, work / "marked")
    spans = [(d.start, d.start + d.seconds) for d in delivered]
    lines = [LineFile(d.line.id, d.start, d.path, d.frames) for d in delivered]
    return mixdown(lines, work / "bed.wav", frames, spans, ducked=ducked, work=work, mark=mark)


def verify(ctx: Context, target: Path, trust: Path | None = None) -> list[Finding]:
    """Findings on a delivered file or package (see verify.Verifier)."""
    watermarker = _loading_watermarker(ctx)  # it loads while the manifests, signatures and labels are read
    root = Path(trust).read_bytes() if trust else signing_identity(ctx).root.read_bytes()
    return Verifier(ctx.registry, root, watermarker, ctx.clearances).verify(Path(target))


def _loading_watermarker(ctx: Context) -> Watermarker | None:
    """The watermarker where installed, its worker already loading (it takes seconds)."""
    watermarker = Watermarker.find(ctx.settings)
    if watermarker:
        watermarker.start()
    return watermarker


def signing_identity(ctx: Context) -> SigningIdentity:
    """The studio's signing certificate: the one in `export.signing_folder`, else a local CA made once."""
    folder = ctx.settings.export.signing_folder or ctx.settings.home / "signing"
    return make_project_ca(folder, "dubdesk studio")


def _refuse_unsealed(ctx: Context, project: Project, clips: dict[str, Clip]) -> None:
    """Every take exactly as dubdesk made it: clip, fit, fitted file, verdicts and approval."""
    problems = []
    with ctx.sessions() as session:
        for clip in clips.values():
            try:
                check_take(ctx.seal, clip, qc_results(session, clip.id), decisions(session, clip.id),
                           ctx.folder(project))
            except TamperedError as error:
                problems.append(str(error))
    if problems:
        raise TamperedError(f"mix refused: {len(problems)} line(s) do not check out: " + "; ".join(problems[:8])
                            + (f"; and {len(problems) - 8} more" if len(problems) > 8 else ""))


def _refuse_consent_and_licence(ctx: Context, project: Project, language: str, clips: dict[str, Clip]) -> None:
    today = date.today()
    for profile in sorted({clip.profile_id for clip in clips.values()}):
        lines = sorted(line_id for line_id, clip in clips.items() if clip.profile_id == profile)
        history = ctx.registry.history(profile)
        unknown = sorted(line_id for line_id in lines if clips[line_id].consent_record not in {r.hash for r in history})
        if unknown:
            raise ConsentError(f"mix refused: {len(unknown)} line(s) ({listed(unknown)}) name a consent record "
                               f"that voice '{profile}' never had")
        uses = {clip.settings.get("use", "dubbing") for clip in clips.values() if clip.profile_id == profile}
        for use in uses:
            refusal = consent_refusal(history[-1], language, project.name, use, today)
            if refusal:
                raise ConsentError(f"mix refused: {len(lines)} line(s) in voice '{profile}' ({listed(lines)}): {refusal}")
    if project.commercial:
        barred = sorted(line_id for line_id, clip in clips.items()  # by the weights' licence the clip records
                        if clip.engine.get("weights_licence") in NON_COMMERCIAL_LICENCES.values())
        if barred:
            engine = clips[barred[0]].engine
            raise ProjectError(f"mix refused: project '{project.name}' is commercial and {len(barred)} line(s) "
                               f"({listed(barred)}) come from {engine['engine']}, whose weights licence forbids "
                               f"commercial use: {engine['weights_licence']}")


def _delivered_line(ctx: Context, project: Project, line: Line, take: Take, folder: Path) -> DeliveredLine:
    """An approved take as it goes out: its fitted audio at the mix rate (a float WAV in `folder`) and its provenance."""
    audio, rate = sf.read(ctx.folder(project) / take.fit.path, dtype="float32")
    at_mix_rate = resample(audio, rate, MIX_RATE)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{line.id}.wav"
    sf.write(path, at_mix_rate, MIX_RATE, subtype="FLOAT")
    return DeliveredLine(line, take.text, take.fit.start, path, len(at_mix_rate), LineProvenance.of(line, take))


def _consents(ctx: Context, clips: dict[str, Clip]) -> list[dict]:
    """Each consent record a delivered line was generated under."""
    used = sorted({(clip.profile_id, clip.consent_record) for clip in clips.values()})
    records = {}
    for profile, _ in used:
        records.update({record.hash: record for record in ctx.registry.history(profile)})
    return [{"profile": profile, "record": record_hash, "actor": records[record_hash].actor,
             "terms": records[record_hash].to_json()["terms"]} for profile, record_hash in used]


def _refuse_unready(script: Script, clips: dict[str, Clip], approvals: dict, language: str) -> None:
    """Mixing needs every line approved; say which are not and why."""
    missing = [line.id for line in script.lines if line.id not in clips]
    blocked = sorted(line_id for line_id, clip in clips.items() if clip.status == "blocked")
    pending = [line.id for line in script.lines if line.id in clips and line.id not in approvals]
    problems = [f"{len(ids)} line(s) {what}: {listed(ids)}" for ids, what in (
        (missing, f"have no {language} clip"), (blocked, "are blocked (consent revoked)"), (pending, "are not approved"))
        if ids]
    if problems:
        raise ProjectError("mix refused: " + "; ".join(problems))


def _refuse_stale(script: Script, clips: dict[str, Clip]) -> None:
    """A take is for its line as the script has it now: one fitted for another start or length (its line
    was retimed, split or merged since; its sealed fit says so) stops the mix, whatever the database
    says of the take being retired."""
    stale = [line.id for line in script.lines if (fit := clips[line.id].fitted) is None
             or abs(fit.start - line.start) > STALE_TOLERANCE_S or abs(fit.source_s - line.duration) > STALE_TOLERANCE_S]
    if stale:
        raise ProjectError(f"mix refused: {len(stale)} line(s) ({listed(stale)}) were edited after their take was "
                           f"fitted (their time or words changed): speak them again")


def _next_own_lines(script: Script) -> list[tuple[Line, Line]]:
    """Each line with the same speaker's next line (lines a speaker says last are left out)."""
    following: dict[str, Line] = {}
    pairs = []
    for line in sorted(script.lines, key=lambda line: line.start, reverse=True):
        if line.speaker in following:
            pairs.append((line, following[line.speaker]))
        following[line.speaker] = line
    return pairs[::-1]


def running_into_own_lines(script: Script, clips: dict[str, Clip]) -> dict[str, str]:
    """Each line whose fitted dub would still be heard when its speaker's next line starts: what it runs into."""
    overruns = {}
    for line, after in _next_own_lines(script):
        fit = clips[line.id].fitted
        end = fit.span.end if fit else line.start
        if end > after.start + OWN_OVERLAP_TOLERANCE_S:
            overruns[line.id] = f"{line.id} into {after.id} by {end - after.start:.2f} s"
    return overruns


def _refuse_running_into_own_lines(script: Script, clips: dict[str, Clip]) -> None:
    """One voice cannot say two lines at once: a fitted dub line (an approved override of one that does
    not fit, say) that would still be heard when its speaker's next line starts stops the mix; say which."""
    overruns = list(running_into_own_lines(script, clips).values())
    if overruns:
        raise ProjectError(f"mix refused: {len(overruns)} line(s) would run into the same speaker's next line "
                           f"({listed(overruns)}); shorten their text and speak them again, or reject them")


def deliver_to_shelf(ctx: Context, project: Project, language: str, by: str,
                     territories: tuple[str, ...] = (WORLDWIDE,)) -> Path:
    """Mix and deliver onto the deliveries shelf, where the browser lists packages."""
    return deliver(ctx, project, language, shelf(ctx.settings), by=by, territories=territories)
