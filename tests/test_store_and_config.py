"""Schema migrations and the layered configuration."""
from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect, text

from dubdesk.config import Settings
from dubdesk.store.database import alembic_config, migrate

pytestmark = pytest.mark.fast


def test_migrations_run_up_down_and_up_again(tmp_path):
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    migrate(url)
    assert {"projects", "stage_runs", "alembic_version"} <= set(inspect(create_engine(url)).get_table_names())
    command.downgrade(alembic_config(url), "base")
    assert set(inspect(create_engine(url)).get_table_names()) == {"alembic_version"}
    migrate(url)
    assert "stage_runs" in inspect(create_engine(url)).get_table_names()


def test_budgets_written_in_characters_are_carried_into_syllables_and_back(tmp_path):
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    config = alembic_config(url)
    command.upgrade(config, "0009")
    with create_engine(url).begin() as connection:
        connection.execute(text("INSERT INTO line_translations (project_id, line_id, language, text, origin, engine, "
                                "budget_chars, over_budget, version, updated_at) VALUES "
                                "(1, 'L1', 'es', 'Hola.', 'machine', '{}', 33, 0, 1, '2026-01-01'), "
                                "(1, 'L1', 'ja', 'はい', 'machine', '{}', 16, 0, 1, '2026-01-01')"))
    command.upgrade(config, "0010")
    with create_engine(url).connect() as connection:
        budgets = dict(connection.execute(text("SELECT language, budget_syllables FROM line_translations")).all())
    assert budgets == {"es": 16, "ja": 16}  # Spanish says about 0.47 syllables a character, Japanese about one
    command.downgrade(config, "0009")
    with create_engine(url).connect() as connection:
        assert dict(connection.execute(text("SELECT language, budget_chars FROM line_translations")).all())["es"] == 34


def test_settings_layer_file_then_environment_then_flags(tmp_path, monkeypatch):
    config = tmp_path / "dubdesk.toml"
    config.write_text('[transcribe]\nbeam_size = 3\nlanguage = "es"\n[diarize]\nmax_speakers = 4\n')
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DUBDESK_TRANSCRIBE__LANGUAGE", "pt")
    settings = Settings()
    assert settings.transcribe.beam_size == 3
    assert settings.transcribe.language == "pt"
    assert settings.diarize.max_speakers == 4
    flagged = settings.with_overrides(transcribe={"beam_size": 1, "language": None})
    assert flagged.transcribe.beam_size == 1 and flagged.transcribe.language == "pt"


def test_a_transcription_is_stored_under_what_shapes_its_words_not_its_speed():
    from dubdesk.config import TranscribeSettings

    stored = TranscribeSettings().shaping_words()
    assert TranscribeSettings(workers=4, cpu_threads=8).shaping_words() == stored  # same words, faster
    assert TranscribeSettings(beam_size=1).shaping_words() != stored
