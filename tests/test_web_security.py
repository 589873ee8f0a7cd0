"""The served UI attacked as each role: secrets never served, login throttled, stale decisions refused.

Against the real server on 127.0.0.1 with httpx (log in with POST /login, then ask Gradio's file routes
for what should stay private) and, for what a person sees, headless Chromium. Logins that must not
disturb one another come from their own loopback addresses (127.0.0.2, ...), as separate clients.
"""
from __future__ import annotations

import contextlib
import os
import statistics
import threading
import time
from pathlib import Path

import httpx
import pytest
from gradio.processing_utils import hash_file
from sqlalchemy import select

from dubdesk.access import LoginThrottle, add_user, user
from dubdesk.audio import decode_audio
from dubdesk.bench.security.web import attempts, fetched, free_port, login, secrets_of, signed_in
from dubdesk.config import Settings
from dubdesk.context import Context
from dubdesk.core import Transcript, Turn, Word
from dubdesk.errors import DubdeskError, ProjectError
from dubdesk.labels import write_labelled_wav
from dubdesk.services import casting, delivery, desk, portal, projects, scripting, speech, translation
from dubdesk.store.models import AuditEvent, Review

from . import test_ui
from .conftest import SAMPLE
from .test_ui import PASSWORD, choose, open_line, shot, sign_in

pytestmark = pytest.mark.browser

browser = test_ui.browser  # the same headless Chromium fixture

PEOPLE = {"lucia": "localization", "vera": "voice_actor", "olive": "voice_actor", "dino": "distributor", "adam": "admin",
          "tess": "distributor", "tim": "distributor"}
ROLE_HOLDERS = ("lucia", "vera", "dino", "adam")
LANGUAGE = "es"
SCREEN = "Web security"


def _reference(folder: Path, actor: str, start_s: int) -> Path:
    path = folder / f"{actor}.wav"
    return write_labelled_wav(path, decode_audio(SAMPLE)[16000 * start_s:16000 * (start_s + 10)], 16000, "reference", actor,
                              "reference")


@pytest.fixture(scope="module")
def served(ctx, make_media, tmp_path_factory):
    """Seven people, two actors' profiles, a two-line project spoken in vera's voice, the signing key made; served."""
    from ui.app import serve

    for name, role in PEOPLE.items():
        add_user(ctx.sessions, name, PASSWORD, role)
    references = tmp_path_factory.mktemp("references")
    profiles = {actor: portal.create_profile(ctx, user(ctx.sessions, actor), actor.title(), [LANGUAGE], ["dubbing"],
                                             None, "contract", [_reference(references, actor, start)]).profile_id
                for actor, start in (("vera", 2), ("olive", 14))}
    project = projects.create_project(ctx, make_media("web-security.flac", seconds=6.0), name=SCREEN)
    words = (Word("Hello", 0.5, 0.9), Word("there.", 1.0, 1.4), Word("Good", 3.0, 3.3), Word("morning.", 3.4, 3.9))
    script = scripting.import_transcript(ctx, project, Transcript("en", 1.0, words),
                                         [Turn(0.4, 1.5, "SPEAKER_00"), Turn(2.9, 4.0, "SPEAKER_01")], "test")
    translation.translate(ctx, project, LANGUAGE)
    for speaker in script.speakers:
        casting.cast(ctx, project, speaker, LANGUAGE, profiles["vera"])
    speech.synthesize_language(ctx, project, LANGUAGE)
    delivery.signing_identity(ctx)
    app, url = serve(ctx, port=free_port(), block=False)
    yield ctx, project, profiles, url.rstrip("/")
    app.close()


def cache_folder() -> Path:
    return Path(os.environ["GRADIO_TEMP_DIR"])


def api(url: str, name: str):
    from gradio_client import Client

    return Client(url, auth=(name, PASSWORD), verbose=False, download_files=False)


def test_no_role_is_served_a_key_the_database_a_consent_history_or_another_actors_recording(served):
    ctx, _, profiles, url = served
    secrets = secrets_of(ctx, profiles)
    for name in ROLE_HOLDERS:
        client = signed_in(url, name, PASSWORD)
        for what, path in secrets.items():
            secret = path.read_bytes()
            for attempt in attempts(path, cache_folder()):
                body = fetched(client, attempt)
                assert body is None or secret[:64] not in body, f"{name} was served the {what} at {attempt}"
    anonymous = httpx.Client(base_url=url)
    assert all(fetched(anonymous, a) is None for a in attempts(secrets["signing key"], cache_folder()))


def test_the_data_folder_is_not_served_and_the_cache_folder_lies_outside_it(served):
    ctx, *_ = served
    app_cache, home = cache_folder().resolve(), ctx.settings.home.resolve()
    assert not app_cache.is_relative_to(home) and not home.is_relative_to(app_cache)
    assert app_cache.stat().st_mode & 0o077 == 0, "the cache folder is private to the server's user"


def test_a_lines_dub_is_served_to_localization_and_its_cached_copy_to_nobody_else(served):
    ctx, project, _, url = served
    line = scripting.script(ctx, project).lines[0].id
    view = api(url, "lucia").predict(f"{project.id} {project.name}", LANGUAGE, line, api_name="/open_line")
    source, dub = view[3], view[4]
    clip = speech.current_clips(ctx, project, LANGUAGE)[line]
    lucia = signed_in(url, "lucia", PASSWORD)
    assert fetched(lucia, source["url"]) is not None
    assert fetched(lucia, dub["url"]) == (ctx.folder(project) / clip.path).read_bytes()
    for other in ("dino", "vera", "adam"):
        client = signed_in(url, other, PASSWORD)
        assert fetched(client, source["url"]) is None and fetched(client, dub["url"]) is None, f"{other} got lucia's copy"


def test_a_distributor_cannot_walk_out_of_the_deliveries_folder(served):
    ctx, _, profiles, url = served
    from dubdesk.shelf import package

    distributor = api(url, "dino")
    for name in ("..", "../keys", str(ctx.settings.home)):
        with pytest.raises(DubdeskError, match="choose a delivery from the list"):
            package(ctx.settings, name)
        with contextlib.suppress(Exception):  # Gradio's dropdown may refuse it before the handler does
            distributor.predict(name, api_name="/verify_delivery")
    dino = signed_in(url, "dino", PASSWORD)
    for what, path in secrets_of(ctx, profiles).items():
        copy = cache_folder() / hash_file(path) / path.name  # where a handed-out copy would be
        assert fetched(dino, f"/gradio_api/file={copy}") is None, f"the {what} was handed out as a delivery"


def test_the_cache_folder_holds_no_secret(served):
    ctx, _, profiles, _ = served
    keys = [delivery.signing_identity(ctx).key.read_bytes(), (ctx.settings.home / "keys" / "registry-ed25519.pem").read_bytes()]
    cached = [p.read_bytes() for p in cache_folder().rglob("*") if p.is_file() and p.stat().st_size < 1_000_000]
    assert not any(key in body for key in keys for body in cached)


def test_a_decision_on_a_take_the_reviewer_did_not_hear_is_refused_by_the_server(served):
    ctx, project, profiles, url = served
    line = scripting.script(ctx, project).lines[1].id
    lucia = api(url, "lucia")
    view = lucia.predict(f"{project.id} {project.name}", LANGUAGE, line, api_name="/open_line")
    assert view[6:8] == ("", ""), "opening a line empties the note and override boxes"
    heard = speech.current_clips(ctx, project, LANGUAGE)[line]
    newer = speech.synthesize(ctx, project, line, heard.text, LANGUAGE, profiles["vera"])  # someone regenerated it meanwhile

    lucia.predict(f"{project.id} {project.name}", LANGUAGE, line, "", "the other line's reason", api_name="/approve")
    with ctx.sessions() as session:
        assert session.scalars(select(Review).where(Review.clip_id.in_([heard.id, newer.id]))).all() == []

    lucia.predict(f"{project.id} {project.name}", LANGUAGE, line, api_name="/open_line")  # reloaded: now it is the new take
    lucia.predict(f"{project.id} {project.name}", LANGUAGE, line, "too fast", "", api_name="/reject")
    with ctx.sessions() as session:
        assert [r.decision for r in session.scalars(select(Review).where(Review.clip_id == newer.id))] == ["rejected"]
    with pytest.raises(ProjectError, match="changed since you opened it"):
        desk.review(ctx, project, line, LANGUAGE, "lucia", False, expected_clip_id=heard.id)


def test_the_right_password_is_refused_after_five_wrong_ones_for_that_name(served):
    *_, url = served
    attacker = httpx.Client(base_url=url, transport=httpx.HTTPTransport(local_address="127.0.0.2"))
    assert [login(attacker, "tess", f"guess {i}").status_code for i in range(5)] == [400] * 5
    assert login(attacker, "tess", PASSWORD).status_code == 400
    other_client = httpx.Client(base_url=url, transport=httpx.HTTPTransport(local_address="127.0.0.6"))
    assert login(other_client, "tess", PASSWORD).status_code == 400, "the name is locked whatever the client"
    assert login(attacker, "lucia", PASSWORD).status_code == 200, "the client itself is not locked yet"


def test_a_client_guessing_many_names_is_locked_out(served):
    *_, url = served
    attacker = httpx.Client(base_url=url, transport=httpx.HTTPTransport(local_address="127.0.0.3"))
    assert all(login(attacker, f"name{i}", "guess").status_code == 400 for i in range(20))
    assert login(attacker, "lucia", PASSWORD).status_code == 400
    assert login(httpx.Client(base_url=url), "lucia", PASSWORD).status_code == 200


def test_an_unknown_name_takes_as_long_to_refuse_as_a_known_one(served):
    *_, url = served
    client = httpx.Client(base_url=url, transport=httpx.HTTPTransport(local_address="127.0.0.4"))
    known, unknown = [], []
    for i in range(4):  # fewer than the five a name may get wrong
        for name, times in (("tim", known), (f"nobody{i}", unknown)):
            began = time.perf_counter()
            assert login(client, name, "wrong password").status_code == 400
            times.append(time.perf_counter() - began)
    known_s, unknown_s = statistics.median(known), statistics.median(unknown)
    print(f"refused in {known_s * 1000:.0f} ms (known name) and {unknown_s * 1000:.0f} ms (unknown name)")
    assert 0.6 < unknown_s / known_s < 1.6


def test_sign_ins_do_not_hold_up_other_requests(served):
    *_, url = served
    probe = httpx.Client(base_url=url)
    idle = statistics.median(_timed(lambda: probe.get("/gradio_api/app_id")) for _ in range(5))
    busy, done = [], threading.Event()

    def sign_in_repeatedly(address: str) -> None:
        client = httpx.Client(base_url=url, transport=httpx.HTTPTransport(local_address=address))
        while not done.is_set():
            login(client, "lucia", PASSWORD)

    workers = [threading.Thread(target=sign_in_repeatedly, args=(f"127.0.0.{10 + i}",)) for i in range(3)]
    for worker in workers:
        worker.start()
    time.sleep(0.2)
    busy = [_timed(lambda: probe.get("/gradio_api/app_id")) for _ in range(10)]
    done.set()
    for worker in workers:
        worker.join()
    print(f"another request took {idle * 1000:.1f} ms idle, {statistics.median(busy) * 1000:.1f} ms "
          f"(worst {max(busy) * 1000:.0f} ms) during sign-ins")
    assert statistics.median(busy) < 0.1  # scrypt on the event loop held it up for 259 ms


def _timed(call) -> float:
    began = time.perf_counter()
    call()
    return time.perf_counter() - began


def test_an_admin_adding_a_user_is_audited_with_the_admins_name(served):
    ctx, *_, url = served
    api(url, "adam").predict("newcomer", "long enough", "distributor", api_name="/add_user")
    with ctx.sessions() as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "added user")
                                .order_by(AuditEvent.id.desc())).first()
    assert (event.actor, event.detail["user"], event.detail["role"]) == ("adam", "newcomer", "distributor")


def test_key_files_are_readable_by_their_owner_only(tmp_path):
    signing = tmp_path / "studio-signing"
    ctx = Context(Settings(home=tmp_path / "home", export={"signing_folder": signing}))
    identity = delivery.signing_identity(ctx)
    registry_key = tmp_path / "home" / "keys" / "registry-ed25519.pem"
    ctx.registry  # noqa: B018 - opening the registry makes its key
    assert identity.key.parent == signing and not (tmp_path / "home" / "signing").exists()
    assert [p.stat().st_mode & 0o777 for p in (identity.key, registry_key)] == [0o600, 0o600]
    os.chmod(registry_key, 0o644)  # as an older dubdesk left it
    Context(Settings(home=tmp_path / "home")).registry  # noqa: B018
    assert registry_key.stat().st_mode & 0o777 == 0o600


@pytest.mark.skipif(os.geteuid() != 0, reason="giving a file to another user needs root")
def test_a_database_another_user_owns_is_refused_at_start(tmp_path):
    Context(Settings(home=tmp_path))
    os.chown(tmp_path / "dubdesk.db", 65534, 65534)
    with pytest.raises(DubdeskError, match="belongs to user id 65534"):
        Context(Settings(home=tmp_path))


def test_a_distributor_in_the_browser_cannot_fetch_a_key_or_the_database(served, browser):
    ctx, _, profiles, url = served
    secrets = secrets_of(ctx, profiles)
    page = sign_in(browser, url, "dino")
    for what in ("signing key", "registry key", "database"):
        for route in ("/gradio_api/file=", "/file="):
            response = page.request.get(f"{url}{route}{secrets[what]}")
            assert response.status != 200, f"the browser fetched the {what}"
    page.goto(f"{url}/gradio_api/file={secrets['signing key']}")
    shot(page, "distributor-asks-for-the-signing-key")
    page.context.close()


def test_opening_another_line_empties_the_override_box(served, browser):
    ctx, project, _, url = served
    first, second = (line.id for line in scripting.script(ctx, project).lines[:2])
    page = sign_in(browser, url, "lucia")
    page.click("[role=tab]:has-text('Review')")
    choose(page, "project-choice", f"{project.id} {project.name}")
    page.fill("#review-language textarea, #review-language input", LANGUAGE)
    open_line(page, first)
    override = page.locator("#review-override textarea, #review-override input").first
    override.fill("fine for line one")
    open_line(page, second)
    assert override.input_value() == ""
    page.context.close()


def test_refusals_read_as_one_plain_message_without_server_paths_or_tracebacks(served, browser, capfd, tmp_path):
    *_, url = served
    page = sign_in(browser, url, "vera")
    page.locator("#voices-until textarea, #voices-until input").first.fill("31/12/2027")
    page.click("#voices-create")
    page.wait_for_selector("text=is not a date")
    shot(page, "refusal-bad-date")
    short = tmp_path / "my take.wav"
    write_labelled_wav(short, decode_audio(SAMPLE)[16000 * 2:16000 * 3], 16000, "reference", "vera", "reference")
    page.locator("#voices-until textarea, #voices-until input").first.fill("")
    page.set_input_files("#voices-references input[type=file]", str(short))
    page.wait_for_selector("#voices-references :text('my take.wav')")
    page.click("#voices-create")
    page.wait_for_selector("text=my take.wav: 1.0 s long")
    shot(page, "refusal-short-reference")
    shown = page.inner_text("body")
    assert "isoformat" not in shown and str(cache_folder()) not in shown and "/tmp" not in shown
    page.context.close()
    assert "Traceback" not in capfd.readouterr().err


def test_a_database_not_in_wal_mode_is_refused(tmp_path):
    from sqlalchemy import create_engine

    from dubdesk.store.database import check_sqlite

    path = tmp_path / "rollback.db"
    engine = create_engine(f"sqlite:///{path}")  # without dubdesk's WAL pragma
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE t (x)")
    with pytest.raises(DubdeskError, match="not WAL"):
        check_sqlite(engine, path)


def test_each_further_failure_doubles_the_lock_and_a_success_clears_the_name():
    throttle = LoginThrottle(free_tries=2, client_free_tries=100, first_lock_s=0.2)
    throttle.failed("tess", "client")
    assert throttle.wait_s("tess", "client") == 0
    throttle.failed("tess", "client")
    assert 0.1 < throttle.wait_s("tess", "elsewhere") <= 0.2 and throttle.wait_s("tim", "client") == 0
    time.sleep(0.2)
    throttle.failed("tess", "client")
    assert 0.3 < throttle.wait_s("tess", "client") <= 0.4
    throttle.succeeded("tess")
    assert throttle.wait_s("tess", "client") == 0
