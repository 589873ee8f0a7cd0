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
    sample_rate: int = 16000


class TranscribeSettings(BaseModel):
    engine: Literal["faster-whisper", "whisperx"] = "faster-whisper"
    model: str = Field("base", description="'base' (embedded) or a CTranslate2 model folder")
    language: str | None = Field(None, description="ISO 639-1 code; None detects it")
    beam_size: int = 5
    compute_type: str = "int8"
    vad_filter: bool = True
    align_model: str | None = Field(None, description="whisperx: local wav2vec2 alignment model folder")
    chunk_s: float = Field(600.0, description="long programmes are transcribed (and resumed) in chunks this long")
    device: str = "cpu"


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
    engine: Literal["embedded", "xtts"] = Field("embedded", description="who speaks actor profiles with references")
    xtts_model: str | None = Field(None, description="xtts: local folder with model.pth, config.json, vocab.json, "
                                                     "speakers_xtts.pth")


class ScriptSettings(BaseModel):
    max_line_chars: int = Field(84, description="two subtitle rows of 42")
    max_line_s: float = 7.0
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
    ingest: IngestSettings = IngestSettings()
    transcribe: TranscribeSettings = TranscribeSettings()
    diarize: DiarizeSettings = DiarizeSettings()
    script: ScriptSettings = ScriptSettings()
    translate: TranslateSettings = TranslateSettings()
    synth: SynthSettings = SynthSettings()

    @property
    def database_url(self) -> str:
        return f"sqlite:///{self.home / 'dubdesk.db'}"

    @property
    def projects_dir(self) -> Path:
        return self.home / "projects"

    @property
    def model_cache(self) -> Path:
        return self.home / "models"

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
