"""Tables. A project is one source programme; a stage run is one cached stage result."""
from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from ..core import Fit


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    pass


class Project(Base):
    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    folder: Mapped[str] = mapped_column(String(500), unique=True)
    source_name: Mapped[str] = mapped_column(String(500))
    source_sha256: Mapped[str] = mapped_column(String(64), index=True)
    media: Mapped[dict] = mapped_column(JSON)
    target_languages: Mapped[list] = mapped_column(JSON, default=list)
    commercial: Mapped[bool] = mapped_column(default=False)
    series: Mapped[str | None] = mapped_column(String(200), nullable=True)
    characters: Mapped[dict] = mapped_column(JSON, default=dict)  # speaker label -> character name
    glossary: Mapped[dict] = mapped_column(JSON, default=dict)  # source term -> {language: required translation}
    # why AI is used here ("a first-pass dub for market testing in Spanish") and what it did (translation, voices)
    purpose: Mapped[str | None] = mapped_column(Text, nullable=True)
    ai_uses: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    stage_runs: Mapped[list[StageRun]] = relationship(back_populates="project", cascade="all, delete-orphan")


class StageRun(Base):
    """One stage's output for one set of inputs; `key` hashes inputs, settings and engine identity."""

    __tablename__ = "stage_runs"
    __table_args__ = (UniqueConstraint("project_id", "stage", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    stage: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(12))  # running | done | failed
    inputs: Mapped[dict] = mapped_column(JSON)
    engine: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    output: Mapped[str | None] = mapped_column(String(500), nullable=True)
    output_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    seconds: Mapped[float | None] = mapped_column(nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(nullable=True)

    project: Mapped[Project] = relationship(back_populates="stage_runs")


class VoiceProfile(Base):
    """The registered head of each voice profile's signed history (catches a truncated history)."""

    __tablename__ = "voice_profiles"

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    actor: Mapped[str] = mapped_column(String(200))
    stock: Mapped[bool] = mapped_column(default=False)
    head_hash: Mapped[str] = mapped_column(String(64))
    version: Mapped[int]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    owner: Mapped[str | None] = mapped_column(String(120), nullable=True)  # the voice actor's user name


class User(Base):
    """Someone who signs in to the review workbench, with one role."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    password_hash: Mapped[str] = mapped_column(String(300))
    role: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Clip(Base):
    """One synthesized line: what was said, in whose voice, under which consent record, by which model."""

    __tablename__ = "clips"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    line_id: Mapped[str] = mapped_column(String(40))
    language: Mapped[str] = mapped_column(String(12))
    text: Mapped[str] = mapped_column(Text)
    profile_id: Mapped[str] = mapped_column(ForeignKey("voice_profiles.id"), index=True)
    consent_record: Mapped[str] = mapped_column(String(64))
    engine: Mapped[dict] = mapped_column(JSON)
    settings: Mapped[dict] = mapped_column(JSON)
    path: Mapped[str] = mapped_column(String(500))
    sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(12), default="ready")  # ready | blocked | mixed
    blocked_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    fit: Mapped[dict | None] = mapped_column(JSON, nullable=True)  # core.Fit's JSON form; read it as `fitted`
    # the script edit after which this take no longer counts (its line was split, merged, retimed or moved)
    retired_by: Mapped[int | None] = mapped_column(nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # seals (see dubdesk.takes): what mixing trusts, beyond what the database alone can say
    seal: Mapped[str | None] = mapped_column(String(200), nullable=True)
    fit_seal: Mapped[str | None] = mapped_column(String(200), nullable=True)
    qc_seal: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # what QC read of the take (qc.runner.TakeReading's JSON), sealed with its verdicts: the checks of the
    # language's other lines compare with it (emotion baselines, a stock voice's other lines)
    qc_reading: Mapped[dict | None] = mapped_column(JSON, nullable=True)

    @property
    def fitted(self) -> Fit | None:
        """The take's fit (None before fitting): the one place the row's JSON becomes the type."""
        return Fit.from_json(self.fit) if self.fit else None


class Casting(Base):
    """Which consented voice speaks a source speaker in one target language."""

    __tablename__ = "castings"
    __table_args__ = (UniqueConstraint("project_id", "speaker", "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    speaker: Mapped[str] = mapped_column(String(80))
    language: Mapped[str] = mapped_column(String(12))
    profile_id: Mapped[str] = mapped_column(ForeignKey("voice_profiles.id"))
    series: Mapped[str | None] = mapped_column(String(200), nullable=True, index=True)
    character: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LineTranslation(Base):
    """A line's text in a target language: machine output until a person edits it."""

    __tablename__ = "line_translations"
    __table_args__ = (UniqueConstraint("project_id", "line_id", "language"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    line_id: Mapped[str] = mapped_column(String(40))
    language: Mapped[str] = mapped_column(String(12))
    text: Mapped[str] = mapped_column(Text)
    origin: Mapped[str] = mapped_column(String(12))  # machine | human
    engine: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    budget_syllables: Mapped[int]  # what the target says in the source line's time
    over_budget: Mapped[bool] = mapped_column(default=False)
    # words the engine could not translate (left as they were, maybe in a pivot language); none in a person's text
    untranslated: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")
    # fillers the embedded route left out of the source line before translating it ("you know")
    dropped: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")
    version: Mapped[int] = mapped_column(default=1)
    edited_by: Mapped[str | None] = mapped_column(String(200), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ScriptEdit(Base):
    """A person's edit of a project's script (script_edits.LineEdit as JSON), applied in `id` order on
    top of the machine's script whenever it is read."""

    __tablename__ = "script_edits"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    line_id: Mapped[str] = mapped_column(String(40))
    edit: Mapped[dict] = mapped_column(JSON)
    actor: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class QCResult(Base):
    """One check's verdict on one clip (a line version): pass | warn | fail, its numbers and why."""

    __tablename__ = "qc_results"
    __table_args__ = (UniqueConstraint("clip_id", "check"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    clip_id: Mapped[int] = mapped_column(ForeignKey("clips.id", ondelete="CASCADE"), index=True)
    check: Mapped[str] = mapped_column(String(40))
    verdict: Mapped[str] = mapped_column(String(8))
    numbers: Mapped[dict] = mapped_column(JSON)
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Review(Base):
    """A person's decision on a clip; approving over a QC fail needs a written override reason."""

    __tablename__ = "reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    clip_id: Mapped[int] = mapped_column(ForeignKey("clips.id", ondelete="CASCADE"), index=True)
    decision: Mapped[str] = mapped_column(String(12))  # approved | rejected
    reviewer: Mapped[str] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    override_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    seal: Mapped[str | None] = mapped_column(String(200), nullable=True)  # binds it to the clip and verdicts decided on


class AuditEvent(Base):
    """Who did what to which line, when."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(40))
    project_id: Mapped[int | None] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), nullable=True, index=True)
    line_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    detail: Mapped[dict] = mapped_column(JSON, default=dict)


class KeyPin(Base):
    """The fingerprint of a signing key, pinned on first use; it can be neither changed nor removed."""

    __tablename__ = "key_pins"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(100))
    pinned_at: Mapped[datetime] = mapped_column(default=utcnow)


class Revocation(Base):
    """A revoked voice profile and the decoded-PCM hashes of its references: kept apart from the
    profile's history so that removing the revocation there is caught, and so that the same
    recordings cannot back a new profile. Rows are never changed or removed."""

    __tablename__ = "revocations"

    profile_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    pcm_sha256: Mapped[list] = mapped_column(JSON, default=list)
    revoked_at: Mapped[datetime] = mapped_column(default=utcnow)


class Clearance(Base):
    """The registered head of each title clearance's signed history (catches a truncated history); a head
    only moves forward and is never removed."""

    __tablename__ = "clearances"

    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id"), index=True)
    head_hash: Mapped[str] = mapped_column(String(64))
    version: Mapped[int]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ClearanceRevocation(Base):
    """A revoked title clearance, kept apart from its history so that removing the revocation there is
    caught. Rows are never changed or removed."""

    __tablename__ = "clearance_revocations"

    clearance_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    revoked_at: Mapped[datetime] = mapped_column(default=utcnow)


class InputRight(Base):
    """Who owns one input of a project (the source, an M&E stem, a glossary term) and whether its use here
    is cleared, sealed; append-only, the newest row per input counts."""

    __tablename__ = "input_rights"

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    input: Mapped[str] = mapped_column(String(300))
    owner: Mapped[str] = mapped_column(String(300))
    cleared: Mapped[bool]
    note: Mapped[str] = mapped_column(Text, default="")
    document_ref: Mapped[str] = mapped_column(String(500), default="")
    document_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    recorded_by: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    seal: Mapped[str | None] = mapped_column(String(200), nullable=True)
