"""One typed configuration: defaults < dubdesk.toml < DUBDESK_* environment < CLI flags.

Nested sections are set from the environment with a double underscore,
e.g. DUBDESK_TRANSCRIBE__BEAM_SIZE=1. Every default works offline.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, TomlConfigSettingsSource


def _default_home() -> Path:
    return Path(os.environ.get("XDG_DATA_HOME", Path.home() / ".local" / "share")) / "dubdesk"


class IngestSettings(BaseModel):
    max_duration_s: float = Field(4 * 3600, description="longest programme accepted")
    silence_dbfs: float = Field(-60.0, description="a file whose loudest 50 ms stays below this is 'silence only'")


class TranscribeSettings(BaseModel):
    engine: Literal["faster-whisper", "whisperx"] = "faster-whisper"
    model: str = Field("base", description="'base' (embedded) or a CTranslate2 model folder")
    language: str | None = Field(None, description="ISO 639-1 code; None detects it")
    beam_size: int = 5
    compute_type: str = "int8"
    workers: int = Field(2, ge=1, description="transcriptions run at once (QC's windows of dub lines); each worker holds "
                         "a copy of the model (about 130 MB for base)")
    cpu_threads: int | None = Field(None, description="threads each transcription runs on; None: the machine's cores "
                                    "shared among the workers (at least one)")
    vad_filter: bool = True
    align_model: str | None = Field(None, description="whisperx: local wav2vec2 alignment model folder")
    chunk_s: float = Field(600.0, description="long programmes are transcribed (and resumed) in chunks this long")
    device: str = "cpu"

    def shaping_words(self) -> dict[str, Any]:
        """The settings the words depend on (a transcription stored under them stands whatever the speed
        settings, workers and cpu_threads, which give the same words)."""
        return self.model_dump(exclude={"workers", "cpu_threads"})


class DiarizeSettings(BaseModel):
    engine: Literal["embedded", "pyannote"] = "embedded"
    pipeline: str | None = Field(None, description="pyannote: local pipeline folder or config.yaml")
    num_speakers: int | None = None
    min_speakers: int | None = None
    max_speakers: int | None = None


class TranslateSettings(BaseModel):
    engine: Literal["embedded", "ctranslate2", "chat"] = "embedded"
    model: str | None = Field(None, description="ctranslate2: local model folder; chat: the model name to ask for")
    url: str | None = Field(None, description="chat: base URL of an OpenAI-compatible server (local)")
    licence: str = Field("see the model's licence", description="weights licence of a production model, recorded per line")


class SynthSettings(BaseModel):
    engine: Literal["embedded", "xtts", "chatterbox"] = Field("embedded", description="who speaks actor profiles with "
                                                                                     "references")
    xtts_model: str | None = Field(None, description="xtts: local folder with model.pth, config.json, vocab.json, "
                                                     "speakers_xtts.pth")
    chatterbox_model: str | None = Field(None, description="chatterbox: local folder with ve.pt, t3_mtl23ls_v2.safetensors, "
                                                           "s3gen.pt, grapheme_mtl_merged_expanded_v1.json")
    chatterbox_python: Path | None = Field(None, description="chatterbox: its environment's Python; default .venv-clone "
                                                             "beside dubdesk's environment")
    min_speed: float = Field(0.9, description="slowest an engine is asked to speak a line, as a share of its own pace")
    max_speed: float = Field(1.25, description="fastest an engine is asked to speak a line (natural speech varies so much)")
    speed_tolerance: float = Field(0.05, description="a line this close to its source's length is spoken at the "
                                                     "engine's own pace (fit's rate takes the rest)")


class ProsodySettings(BaseModel):
    carry: bool = Field(False, description="carry each source line's pitch and loudness shape over to its dub (Praat, "
                                           "a separate GPL program); off: with the stock voices it has not yet helped "
                                           "(the install's adapted sample: emotion pass 8 of 14 lines without, 6 with, "
                                           "7 at strength 0.5; median WER 0.0 -> 0.06; machine dub: WER 0.11 -> 0.23)")
    strength: float = Field(0.7, ge=0.0, le=1.0, description="0: the dub as the engine spoke it; 1: all the way to "
                                                             "the source line's contour, range and offsets")
    max_range_scale: float = Field(2.0, ge=1.0, description="the dub's pitch range is scaled by at most this (or at "
                                                            "least its inverse)")
    max_shift_st: float = Field(3.0, ge=0.0, description="most the dub's median pitch moves, in semitones")
    max_gain_db: float = Field(2.0, ge=0.0, description="most any stretch of the dub gets louder or quieter (4 dB "
                                                        "moved the syllable count the rate is measured by)")


class FitSettings(BaseModel):
    min_rate: float = Field(0.8, description="slowest a line may be played, as a share of its natural rate")
    max_rate: float = Field(1.2, description="fastest a line may be played, as a share of its natural rate")
    offscreen_min_rate: float = Field(0.7, description="bounds for lines with no face on screen")
    offscreen_max_rate: float = 1.35


class FaceSettings(BaseModel):
    python: Path | None = Field(None, description="the face environment's Python (MediaPipe, numpy<2); "
                                                  "default .venv-face beside dubdesk's environment")


class ExportSettings(BaseModel):
    signing_folder: Path | None = Field(None, description="signer.pem (chain), signer.key and root.pem; default: a "
                                                          "local CA made once under home/signing")
    watermark_python: Path | None = Field(None, description="the watermark environment's Python (resemble-perth); "
                                                            "default .venv-mark beside dubdesk's environment")


class Limits(BaseModel):
    """Where a measure (higher is worse) turns a check from pass to warn, and from warn to fail."""

    warn: float
    fail: float


class QCSettings(BaseModel):
    onset_error_s: Limits = Field(Limits(warn=0.15, fail=0.3), description="|dub speech start - source speech start|")
    offset_error_s: Limits = Limits(warn=0.25, fail=0.5)
    pause_mismatch: Limits = Field(Limits(warn=0.25, fail=0.4), description="share of 10 ms frames where one speaks and "
                                                                           "the other pauses")
    tempo_change: Limits = Field(Limits(warn=0.25, fail=0.5), description="|log2| of the dub's speaking tempo over the "
                                                                          "source's, each against its language's norm")
    offscreen_looser_by: float = Field(2.0, description="timing limits are multiplied by this for lines off screen")
    av_offset_s: Limits = Field(Limits(warn=0.045, fail=0.09), description="audio-visual offset (ITU-R BT.1359 "
                                                                           "detectability ~45 ms)")
    labial_mismatch: Limits = Field(Limits(warn=0.5, fail=0.8), description="share of lip closures (p, b, m) in the source "
                                    "and the dub together with no partner in the other within the tolerance, on-screen lines; "
                                    "the estimate alone misses or misplaces ~30% against Piper's own times (bench qc)")
    labial_tolerance_s: float = Field(0.1, description="a dub closure this near a source closure is in sync")
    emotion_distance: Limits = Field(Limits(warn=1.8, fail=2.3), description="prosody drift, levels against each "
                                     "voice's habitual level; p90 of same-emotion pairs across speakers (bench qc)")
    word_error_rate: Limits = Field(Limits(warn=0.15, fail=0.35), description="back-transcription WER (CER for ja, zh)")
    voice_margin: Limits = Field(Limits(warn=-0.05, fail=0.0), description="minus (similarity to own references - "
                                                                           "best similarity to another cast voice)")
    clipped_share: Limits = Limits(warn=0.0001, fail=0.001)
    dc_offset: Limits = Limits(warn=0.01, fail=0.05)
    loudness_from_target_lu: Limits = Field(Limits(warn=14.0, fail=20.0), description="|line loudness - -27 LUFS|; "
                                                                                      "the mix normalises, within reason")
    leading_silence_s: Limits = Limits(warn=0.3, fail=0.8)


class ScriptSettings(BaseModel):
    max_line_s: float = Field(7.0, description="a longer sentence splits at its pauses or phrase ends, if it has any")
    pause_break_s: float = Field(0.8, description="a silence this long starts a new line")
    frame_rate: float = Field(25.0, description="for timecodes in the dialogue list")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="DUBDESK_",
        env_nested_delimiter="__",
        toml_file=os.environ.get("DUBDESK_CONFIG", "dubdesk.toml"),
        extra="forbid",
    )

    home: Path = Field(default_factory=_default_home, description="database, projects and model cache")
    models: Path | None = Field(None, description="where models joined from their packages are kept; default: "
                                                  "models/ in `home`")
    database_url: str | None = Field(None, description="a team's PostgreSQL database (postgresql://user:password@host:port"
                                                       "/name), shared by every server and command line on the data "
                                                       "folder; default: the SQLite file dubdesk.db in `home`")
    key_fingerprint: str | None = Field(None, description="pin of the workbench key that signs consent records and "
                                                          "takes (a record's 'signer'); the database pins it too")
    ingest: IngestSettings = IngestSettings()
    transcribe: TranscribeSettings = TranscribeSettings()
    diarize: DiarizeSettings = DiarizeSettings()
    script: ScriptSettings = ScriptSettings()
    translate: TranslateSettings = TranslateSettings()
    synth: SynthSettings = SynthSettings()
    prosody: ProsodySettings = ProsodySettings()
    fit: FitSettings = FitSettings()
    faces: FaceSettings = FaceSettings()
    export: ExportSettings = ExportSettings()
    qc: QCSettings = QCSettings()

    @property
    def database(self) -> str:
        """The database in use: `database_url`, else the embedded SQLite file in the data folder (worked
        out when asked, so a copy with another `home` opens that folder's file)."""
        return self.database_url or f"sqlite:///{self.home / 'dubdesk.db'}"

    @property
    def projects_dir(self) -> Path:
        return self.home / "projects"

    @property
    def model_cache(self) -> Path:
        return self.models or self.home / "models"

    def in_scratch_home(self, home: Path) -> Settings:
        """These settings with their data in `home` (a benchmark's throw-away folder) and models where they are."""
        return self.model_copy(update={"home": home, "models": self.model_cache})

    @classmethod
    def settings_customise_sources(
        cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource, dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))

    def with_overrides(self, **sections: dict[str, Any]) -> Settings:
        """A copy with some section fields replaced (CLI flags); None values are ignored."""
        update: dict[str, Any] = {}
        for section, values in sections.items():
            values = {k: v for k, v in values.items() if v is not None}
            if values:
                update[section] = getattr(self, section).model_copy(update=values)
        return self.model_copy(update=update)
