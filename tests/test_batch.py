"""`dubdesk batch` on a local Ray: real programmes x two languages, a repeated batch, a worker killed mid-batch."""
from __future__ import annotations

import os
import signal
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from dubdesk.config import Settings
from dubdesk.context import Context
from dubdesk.errors import BadInputError
from dubdesk.services import batch, projects
from dubdesk.store.models import Clip, StageRun

from .conftest import SAMPLE, ffmpeg

VOICES = {"es": "stock-pico-es-es", "pt": "stock-kokoro-pt-jf-alpha"}


@pytest.fixture(scope="module")
def ray_session():
    """One local Ray for the module: two CPUs, no dashboard, no usage report, nothing beyond 127.0.0.1."""
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    import ray

    ray.init(num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1", log_to_driver=False)
    yield ray
    ray.shutdown()


@pytest.fixture(scope="module")
def season(tmp_path_factory) -> Path:
    """Two episodes (10 s of the sample's dialogue each) in a manifest with names, a series and targets."""
    folder = tmp_path_factory.mktemp("season")
    for episode, start in (("ep1", 6.5), ("ep2", 16.5)):
        ffmpeg("-ss", str(start), "-t", "10", "-i", str(SAMPLE), str(folder / f"{episode}.wav"))
    (folder / "season.csv").write_text("source,name,series,targets\nep1.wav,Episode 1,Sample Show,es pt\n"
                                       "ep2.wav,Episode 2,Sample Show,es pt\n", encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def batch_settings(tmp_path_factory) -> Settings:
    return Settings(home=tmp_path_factory.mktemp("batch-home"))


@pytest.fixture(scope="module")
def first_run(ray_session, season, batch_settings) -> batch.BatchReport:
    return batch.run_batch(batch_settings, batch.programmes([season / "season.csv"], ()), VOICES)


def _work_done(settings: Settings) -> tuple[int, int, list]:
    """Stage runs, clips, and each stage run's finish time: all three unchanged where no new work was done."""
    with Context(settings).sessions() as session:
        return (session.scalar(select(func.count(StageRun.id))), session.scalar(select(func.count(Clip.id))),
                sorted(str(t) for t in session.scalars(select(StageRun.finished_at))))


def _duplicate_takes(settings: Settings) -> list:
    """Takes of one line in one language saying the same text in the same voice more than once."""
    with Context(settings).sessions() as session:
        said = Counter(session.execute(select(Clip.project_id, Clip.language, Clip.line_id, Clip.text, Clip.profile_id)))
    return [take for take, count in said.items() if count > 1]


def test_a_batch_dubs_every_programme_into_every_language_with_consent_checked_per_line(first_run, batch_settings):
    assert [(o.programme, o.language) for o in first_run.outcomes] == [
        ("Episode 1", "es"), ("Episode 1", "pt"), ("Episode 2", "es"), ("Episode 2", "pt")]
    assert first_run.workers == 2
    ctx = Context(batch_settings)
    for result in first_run.outcomes:
        assert result.lines > 0 and result.not_spoken == 0
        assert result.ready + result.failing == result.lines
        project = projects.project(ctx, result.project_id)
        assert project.series == "Sample Show" and project.name == result.programme
        with ctx.sessions() as session:
            takes = session.scalars(select(Clip).where(Clip.project_id == project.id, Clip.language == result.language)).all()
        assert {take.profile_id for take in takes} == {VOICES[result.language]}
        assert all(take.consent_record and take.seal and take.fit for take in takes)  # spoken through synth, sealed, fitted
    assert _duplicate_takes(batch_settings) == []


def test_a_repeated_batch_does_no_new_work_and_reports_the_same(first_run, season, batch_settings):
    before = _work_done(batch_settings)
    again = batch.run_batch(batch_settings, batch.programmes([season / "season.csv"], ()), VOICES)
    assert _work_done(batch_settings) == before
    assert again.outcomes == first_run.outcomes


def _kill_a_worker_speaking(deadline_s: float = 240.0) -> int | None:
    """SIGKILL the first Ray worker process seen running a dub step (its title names the method); its pid."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        for proc in Path("/proc").iterdir():
            try:
                title = (proc / "cmdline").read_bytes()
            except (OSError, ValueError):
                continue
            if proc.name.isdigit() and title.startswith(b"ray::StageWorker.dub"):
                os.kill(int(proc.name), signal.SIGKILL)
                return int(proc.name)
        time.sleep(0.2)
    return None


def test_a_worker_killed_mid_batch_is_replaced_and_the_batch_completes_with_no_duplicate_take(
        first_run, season, batch_settings):
    third = season / "ep3.wav"
    ffmpeg("-ss", "11.5", "-t", "10", "-i", str(SAMPLE), str(third))
    killed: list[int | None] = []
    killer = threading.Thread(target=lambda: killed.append(_kill_a_worker_speaking()))
    killer.start()
    report = batch.run_batch(batch_settings, batch.programmes([third], ("es", "pt")), VOICES)
    killer.join()
    assert killed and killed[0] is not None
    assert [(o.programme, o.language) for o in report.outcomes] == [("ep3", "es"), ("ep3", "pt")]
    assert all(o.lines > 0 and o.not_spoken == 0 and o.ready + o.failing == o.lines for o in report.outcomes)
    assert _duplicate_takes(batch_settings) == []
    with Context(batch_settings).sessions() as session:
        unfinished = session.scalar(select(func.count(StageRun.id)).where(StageRun.status != "done"))
    assert unfinished == 0


@pytest.mark.fast
def test_a_manifest_names_its_programmes_relative_to_itself_and_an_unknown_file_is_refused(tmp_path):
    (tmp_path / "a.wav").write_bytes(b"")
    (tmp_path / "m.csv").write_text("source,name,targets\na.wav,Pilot,\n", encoding="utf-8")
    assert batch.programmes([tmp_path / "m.csv"], ("es",)) == [batch.Programme(tmp_path / "a.wav", "Pilot", ("es",))]
    with pytest.raises(BadInputError, match="no such file"):
        batch.programmes([tmp_path / "missing.wav"], ("es",))
