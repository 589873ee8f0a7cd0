"""PostgreSQL as the team store: the migrations up and down, the database's own guards, two processes
racing one line's edit, and a data folder that opens whole from wherever it is mounted.

The tests start a PostgreSQL server of their own (Debian's postgresql, as install.sh puts it there):
initdb in a temporary folder and pg_ctl on a free port of 127.0.0.1, run as the `postgres` user when
the tests run as root (PostgreSQL refuses root), stopped and removed at the end.
"""
from __future__ import annotations

import multiprocessing
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import URL, inspect, select, text

from dubdesk.bench.security.races import race_trials
from dubdesk.config import Settings
from dubdesk.context import Context
from dubdesk.files import sha256_file
from dubdesk.review import decisions
from dubdesk.services import casting, desk, projects, scripting, speech, translation
from dubdesk.store import StageRun
from dubdesk.store.database import alembic_config, make_engine, migrate
from dubdesk.store.models import Clip
from dubdesk.takes import check_clip, decision_body
from dubdesk.voices.registry import ConsentError

from .conftest import SAMPLE
from .test_line_edits import heard
from .test_pipeline import DUBDESK

LANGUAGE, VOICE, PRODUCER = "es", "stock-pico-es-es", "Paula Producer"
USER, PASSWORD = "dubdesk", "s3cret%/@ pass"  # a password a URL must quote, and %-interpolation must leave be
RACES = 8


@dataclass(frozen=True)
class Server:
    """A running PostgreSQL server of the test session's own."""

    port: int

    def url(self, database: str) -> str:
        return URL.create("postgresql", USER, PASSWORD, "127.0.0.1", self.port, database).render_as_string(
            hide_password=False)

    def connect(self, database: str) -> psycopg.Connection:
        """A plain connection, beside dubdesk's, as anyone with an SQL shell has one."""
        return psycopg.connect(host="127.0.0.1", port=self.port, user=USER, password=PASSWORD, dbname=database,
                               autocommit=True)

    def new_database(self, name: str) -> str:
        """An empty database of its own for one test; its URL."""
        with self.connect("postgres") as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


def _postgres_program(name: str) -> str:
    found = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"), key=lambda p: int(p.parts[-3]))
    if not found:
        pytest.fail(f"PostgreSQL's {name} is not installed; install Debian's postgresql (install.sh does)")
    return str(found[-1])


def _as_server_user(*command: str) -> None:
    """Run a PostgreSQL program; as root, as the `postgres` user the Debian package made (PostgreSQL will not
    run as root)."""
    done = subprocess.run(["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else list(command),
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.fail(f"{Path(command[0]).name} failed: {done.stderr.strip()}")


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def postgresql() -> Iterator[Server]:
    folder = Path(tempfile.mkdtemp(prefix="dubdesk-pg-"))  # not under pytest's tmp: that is root's alone (0700)
    data, password_file, port = folder / "data", folder / "password", _free_port()
    password_file.write_text(PASSWORD + "\n")
    if os.geteuid() == 0:
        for path in (folder, password_file):
            shutil.chown(path, "postgres", "postgres")
    _as_server_user(_postgres_program("initdb"), "-D", str(data), "-U", USER, f"--pwfile={password_file}",
                    "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--no-locale")
    pg_ctl = _postgres_program("pg_ctl")
    _as_server_user(pg_ctl, "-D", str(data), "-l", str(folder / "log"), "-w", "start", "-o",
                    # a server whose own time zone is not UTC: dubdesk keeps times in UTC (the seals cover them)
                    f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off -c timezone=America/Sao_Paulo")
    try:
        yield Server(port)
    finally:
        _as_server_user(pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(folder, ignore_errors=True)


def _tables(url: str) -> set[str]:
    return set(inspect(make_engine(url)).get_table_names())


def _guards(url: str) -> set[str]:
    """The triggers on dubdesk's tables and the functions they call."""
    with make_engine(url).connect() as connection:
        triggers = connection.execute(text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")).scalars()
        functions = connection.execute(text("SELECT proname FROM pg_proc WHERE proname LIKE 'dubdesk%'")).scalars()
        return {*triggers, *functions}


@pytest.mark.fast
def test_the_migrations_run_up_down_and_up_again_on_postgresql_with_their_guards(postgresql):
    url = postgresql.new_database("migrations")
    migrate(url)
    assert {"projects", "clips", "reviews", "revocations", "script_edits", "clearances", "alembic_version"} <= _tables(url)
    guards = {"key_pins_append_only", "revocations_append_only", "reviews_append_only", "audit_log_append_only",
              "voice_profiles_forward", "voice_profiles_no_delete", "dubdesk_refuse", "dubdesk_head_forward",
              "clearances_forward", "clearances_no_delete", "clearance_revocations_append_only", "input_rights_append_only"}
    assert _guards(url) == guards
    command.downgrade(alembic_config(url), "base")
    assert _tables(url) == {"alembic_version"} and not _guards(url)
    migrate(url)
    assert "script_edits" in _tables(url) and _guards(url) == guards


FREE_TEXT = (("projects", "purpose"), ("stage_runs", "error"), ("clips", "text"), ("clips", "blocked_reason"),
             ("line_translations", "text"), ("qc_results", "reason"), ("reviews", "note"), ("reviews", "override_reason"),
             ("input_rights", "note"))


@pytest.mark.fast
def test_free_text_has_no_length_limit_on_postgresql_and_the_limits_come_back_on_downgrade(postgresql):
    url = postgresql.new_database("free_text")
    migrate(url)

    def kinds() -> dict[tuple[str, str], str]:
        with make_engine(url).connect() as connection:
            return {(table, column): connection.execute(text(
                "SELECT data_type FROM information_schema.columns WHERE table_name = :t AND column_name = :c"),
                {"t": table, "c": column}).scalar_one() for table, column in FREE_TEXT}

    assert set(kinds().values()) == {"text"}
    with make_engine(url).begin() as connection:  # a purpose far longer than the old 2,000 characters
        connection.execute(text("INSERT INTO projects (name, folder, source_name, source_sha256, media, target_languages, "
                                "commercial, created_at, purpose) VALUES ('p', 'p', 's', 'x', '{}', '[]', false, now(), :p)"),
                           {"p": "why " * 2000})
    command.downgrade(alembic_config(url), "0012")
    assert set(kinds().values()) == {"character varying"}
    with make_engine(url).connect() as connection:
        assert len(connection.execute(text("SELECT purpose FROM projects")).scalar_one()) == 2000


@pytest.mark.fast
def test_servers_starting_together_on_a_new_database_migrate_it_one_after_the_other(postgresql):
    url = postgresql.new_database("together")
    spawn = multiprocessing.get_context("spawn")
    starting = [spawn.Process(target=migrate, args=(url,)) for _ in range(3)]
    for process in starting:
        process.start()
    for process in starting:
        process.join(120)
    assert [process.exitcode for process in starting] == [0, 0, 0]
    with make_engine(url).connect() as connection:
        migrated = connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    assert migrated == [ScriptDirectory.from_config(alembic_config(url)).get_current_head()]


@pytest.mark.fast
def test_budgets_written_in_characters_are_carried_into_syllables_and_back_on_postgresql(postgresql):
    url = postgresql.new_database("budgets")
    config = alembic_config(url)
    command.upgrade(config, "0009")
    with make_engine(url).begin() as connection:
        connection.execute(text("INSERT INTO projects (id, name, folder, source_name, source_sha256, media, "
                                "target_languages, commercial, created_at) VALUES (1, 'p', 'p', 'p.wav', '0', '{}', "
                                "'[]', false, '2026-01-01')"))
        connection.execute(text("INSERT INTO line_translations (project_id, line_id, language, text, origin, engine, "
                                "budget_chars, over_budget, version, updated_at) VALUES "
                                "(1, 'L1', 'es', 'Hola.', 'machine', '{}', 33, false, 1, '2026-01-01'), "
                                "(1, 'L1', 'ja', 'はい', 'machine', '{}', 16, false, 1, '2026-01-01')"))
    command.upgrade(config, "0010")
    with make_engine(url).connect() as connection:
        budgets = dict(connection.execute(text("SELECT language, budget_syllables FROM line_translations")).all())
    assert budgets == {"es": 16, "ja": 16}  # as on SQLite
    command.downgrade(config, "0009")
    with make_engine(url).connect() as connection:
        assert dict(connection.execute(text("SELECT language, budget_chars FROM line_translations")).all())["es"] == 34


@pytest.mark.fast
def test_postgresql_itself_refuses_to_un_revoke_a_voice_or_rewrite_the_audit_log(postgresql, tmp_path):
    ctx = Context(Settings(home=tmp_path / "home", database_url=postgresql.new_database("guards")))
    speech.revoke_voice(ctx, VOICE, "the stock voice is withdrawn", by="Vera Voice")
    with postgresql.connect("guards") as database:
        for refused, said in [
                (f"UPDATE revocations SET pcm_sha256 = '[]' WHERE profile_id = '{VOICE}'", "a revocation is final"),
                (f"DELETE FROM revocations WHERE profile_id = '{VOICE}'", "a revocation is final"),
                (f"UPDATE voice_profiles SET version = version - 1 WHERE id = '{VOICE}'", "only moves forward"),
                (f"UPDATE voice_profiles SET head_hash = 'forged' WHERE id = '{VOICE}'", "only moves forward"),
                (f"DELETE FROM voice_profiles WHERE id = '{VOICE}'", "cannot be removed"),
                ("UPDATE audit_log SET actor = 'somebody else'", "append-only")]:
            with pytest.raises(psycopg.errors.RaiseException, match=said):
                database.execute(refused)
        assert database.execute("SELECT count(*) FROM revocations").fetchone() == (1,)
    assert ctx.registry.current(VOICE).revoked
    with pytest.raises(ConsentError, match="revoked"):
        ctx.registry.update_terms(VOICE, ctx.registry.current(VOICE).terms, by="Vera Voice")


@pytest.fixture(scope="module")
def team(postgresql, tmp_path_factory) -> tuple[Context, object]:
    """A four-line programme (its transcript given, not heard) spoken in Spanish, on a PostgreSQL database."""
    ctx = Context(Settings(home=tmp_path_factory.mktemp("team-home"), database_url=postgresql.new_database("team")))
    project = projects.create_project(ctx, SAMPLE, name="Team", by=PRODUCER)
    script = scripting.import_transcript(ctx, project, *heard(), "the team tests' transcript")
    translation.translate(ctx, project, LANGUAGE, PRODUCER)
    for speaker in script.speakers:
        casting.cast(ctx, project, speaker, LANGUAGE, VOICE, PRODUCER)
    speech.synthesize_language(ctx, project, LANGUAGE, by=PRODUCER)
    return ctx, project


def test_two_processes_editing_one_line_on_postgresql_lose_no_edit(team):
    ctx, project = team
    rounds = race_trials(ctx, project, RACES)
    assert [attempt.outcome for attempt in rounds] == ["held"] * RACES, [attempt.detail for attempt in rounds]
    line_id = next(iter(speech.current_clips(ctx, project, LANGUAGE)))
    text = translation.translations(ctx, project, LANGUAGE)[line_id]
    assert speech.current_clips(ctx, project, LANGUAGE)[line_id].text == text.text
    assert text.text == f"Versión {RACES - 1} de {text.edited_by}.", "the last round's winner has the line"


def _everything(url: str) -> str:
    """Every row of every table, as text."""
    with make_engine(url).connect() as connection:
        return repr([connection.execute(text(f'SELECT * FROM "{table}"')).all() for table in _tables(url)])


def _reject_in_turn(settings: Settings, project_id: int, line_id: str, reviewer: str, rounds: int, barrier) -> None:
    """One reviewer in a process of their own: each round, wait for the other, then reject the line's take."""
    ctx = Context(settings)
    project = projects.project(ctx, project_id)
    for round_ in range(rounds):
        barrier.wait()
        desk.review(ctx, project, line_id, LANGUAGE, reviewer, approve=False, note=f"round {round_}")


def test_two_processes_deciding_on_one_line_on_postgresql_lose_no_decision_and_keep_the_chain(team):
    ctx, project = team
    line_id, clip = list(speech.current_clips(ctx, project, LANGUAGE).items())[-1]
    spawn = multiprocessing.get_context("spawn")
    barrier = spawn.Barrier(2, timeout=120)
    reviewers = [spawn.Process(target=_reject_in_turn, args=(ctx.settings, project.id, line_id, name, RACES, barrier))
                 for name in ("ana", "bruno")]
    for reviewer in reviewers:
        reviewer.start()
    for reviewer in reviewers:
        reviewer.join(300)
    assert [reviewer.exitcode for reviewer in reviewers] == [0, 0]
    with ctx.sessions() as session:
        made = decisions(session, clip.id)
    assert sorted(review.reviewer for review in made) == ["ana"] * RACES + ["bruno"] * RACES
    for previous, review in zip([None, *made], made):  # each sealed on the one made before it
        ctx.seal.check("decision", decision_body(review, clip, previous), review.seal, f"decision {review.id}")


def test_a_data_folder_mounted_at_another_path_opens_whole_from_the_shared_database(team, tmp_path):
    """Machines mount the shared data folder where each likes: the database names no path of any of them."""
    ctx, project = team
    home, script = ctx.settings.home, scripting.script(ctx, project)
    mounted, away = tmp_path / "mounted-elsewhere", home.with_name(home.name + "-away")
    shutil.copytree(home, mounted)
    home.rename(away)  # nothing may still be read where the first machine had it
    try:
        moved = Context(ctx.settings.model_copy(update={"home": mounted}))
        with moved.sessions() as session:
            runs = session.scalars(select(StageRun).where(StageRun.project_id == project.id)).all()
            clips = session.scalars(select(Clip).where(Clip.project_id == project.id)).all()
        folder = moved.folder(project)
        assert runs and all(sha256_file(folder / run.output) == run.output_sha256 for run in runs)
        assert clips and all(sha256_file(folder / clip.path) == clip.sha256 for clip in clips)
        assert all((folder / clip.fitted.path).exists() for clip in clips if clip.fitted)
        assert scripting.script(moved, project) == script
        for clip in clips:
            check_clip(moved.seal, clip)  # the seal covers its time, read back as written
        with moved.sessions() as session:
            assert len(session.scalars(select(StageRun).where(StageRun.project_id == project.id)).all()) == len(runs), \
                "every stage result was found where the new mount has it, none made again"
        assert moved.registry.current(VOICE).stock is not None, "the consent history verifies from the new mount"
        stored = _everything(ctx.settings.database_url)
        assert str(home) not in stored and str(mounted) not in stored
    finally:
        away.rename(home)


def test_the_database_url_comes_from_the_file_then_the_environment_then_the_flag(team, tmp_path):
    ctx, _ = team
    (tmp_path / "dubdesk.toml").write_text('database_url = "postgresql://nobody:hush@127.0.0.1:1/none"\n')
    environment = {name: value for name, value in os.environ.items() if name not in ("DUBDESK_CONFIG", "DUBDESK_DATABASE_URL")}

    def listed(*flags: str, **env: str) -> subprocess.CompletedProcess:
        return subprocess.run([*DUBDESK, *flags, "projects", "--home", str(ctx.settings.home)], capture_output=True,
                              text=True, cwd=tmp_path, env={**environment, **env})

    from_file = listed()
    assert from_file.returncode == 2 and "hush" not in from_file.stderr
    assert from_file.stderr.startswith("error: cannot open the database postgresql://nobody:***@127.0.0.1:1/none (")
    from_environment = listed(DUBDESK_DATABASE_URL=ctx.settings.database_url)
    assert from_environment.returncode == 0 and "Team" in from_environment.stdout, from_environment.stderr
    flagged = listed("--database-url", "mysql://somebody@db/dubdesk", DUBDESK_DATABASE_URL=ctx.settings.database_url)
    assert flagged.returncode == 2
    assert flagged.stderr.startswith("error: database_url 'mysql://somebody@db/dubdesk' names a database dubdesk does not run on")


@pytest.mark.fast
def test_without_a_database_url_each_data_folder_keeps_its_own_sqlite_file(tmp_path):
    settings = Settings(home=tmp_path / "one")
    assert settings.database == f"sqlite:///{tmp_path / 'one' / 'dubdesk.db'}"
    assert settings.model_copy(update={"home": tmp_path / "two"}).database == f"sqlite:///{tmp_path / 'two' / 'dubdesk.db'}"


@pytest.mark.fast
def test_a_delivery_in_the_data_folder_is_recorded_relative_to_it_and_one_outside_as_it_is(tmp_path):
    ctx = Context(Settings(home=tmp_path / "home"))
    assert ctx.stored_path(tmp_path / "home" / "deliveries" / "Team es [AI beta]") == "deliveries/Team es [AI beta]"
    assert ctx.stored_path(tmp_path / "elsewhere" / ".." / "out") == str(tmp_path / "out")


def test_a_voice_revoked_with_a_long_reason_blocks_every_take_in_it_on_postgresql(team):
    """Last of the tests on `team`: a revocation is final."""
    ctx, project = team
    reason = "The actor withdrew consent for every use of this voice, in every language and project. " * 8
    assert speech.revoke_voice(ctx, VOICE, reason, by="Vera Voice") == len(speech.clips(ctx, project)) > 0
    assert {clip.status for clip in speech.clips(ctx, project)} == {"blocked"}
    assert ctx.registry.current(VOICE).revocation_reason == reason, "the whole reason is kept in the signed history"
