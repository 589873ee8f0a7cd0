"""The review workbench driven in headless Chromium (Debian's), as each role.

Screenshots of the main pages go to screenshots/ (git-ignored) for a person to look at.
"""
from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from dubdesk.access import user
from dubdesk.services import desk, scripting, speech, translation
from dubdesk.services.desk import review_rows

from .conftest import LANGUAGE, PASSWORD, PEOPLE, ROOT  # served (the UI on a dubbed project) is conftest's

pytestmark = pytest.mark.browser

playwright_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SHOTS = ROOT / "screenshots"
@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        pytest.fail("Debian's chromium is not installed (install.sh installs it)")
    with playwright_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--no-first-run", "--disable-sync", "--disable-quic"])
        yield launched
        launched.close()


def sign_in(browser, url: str, name: str):
    page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    page.set_default_timeout(30000)
    page.goto(url)
    page.fill("input[type=text]", name)
    page.fill("input[type=password]", PASSWORD)
    page.click("button:has-text('Login')")
    page.wait_for_selector("#whoami:has-text('Signed in as')")
    return page


def shot(page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def tabs(page) -> list[str]:
    return [tab.inner_text() for tab in page.query_selector_all("[role=tab]") if tab.is_visible()]


def choose(page, elem_id: str, option: str) -> None:
    page.click(f"#{elem_id} input")
    page.click(f"[role=option]:has-text('{option}')")


def open_review(page, project) -> None:
    page.click("[role=tab]:has-text('Review')")
    choose(page, "project-choice", f"{project.id} {project.name}")
    page.fill("#review-language textarea, #review-language input", LANGUAGE)
    page.click("#review-load")
    page.wait_for_selector("#review-page-info:has-text('page 1 of')")


def open_line(page, line_id: str) -> None:
    box = page.locator("#review-line textarea, #review-line input").first
    box.fill(line_id)
    box.press("Enter")  # keyboard: type a line id, Enter
    page.wait_for_selector(f"#review-details:has-text('{line_id}')")


def cell(page, table: str, text: str):
    """A visible cell of a table holding `text` (Gradio also renders hidden sizing rows)."""
    return page.locator(f"#{table} span.text >> visible=true").filter(has_text=text).first


def expect_message(page, text: str) -> None:
    page.wait_for_selector(f"text={text}")


def test_each_role_signs_in_to_its_own_pages(served, browser):
    ctx, project, _, url = served
    expected = {"lena": ["Projects", "Casting", "Review", "Rights", "Deliveries", "Audit log"], "vic": ["My voices"],
                "dora": ["Deliveries"], "ada": ["Audit log", "Users"]}
    for name, pages in expected.items():
        page = sign_in(browser, url, name)
        for title in pages:
            page.wait_for_selector(f"[role=tab]:has-text('{title}')")
        assert tabs(page) == pages
        shot(page, f"{PEOPLE[name]}-home")
        page.context.close()


def test_a_reviewer_approves_a_line_and_it_is_audited(served, browser):
    ctx, project, _, url = served
    page = sign_in(browser, url, "lena")
    open_review(page, project)
    first = scripting.script(ctx, project).lines[0].id
    cell(page, "review-table", first).click()  # by mouse
    page.wait_for_selector(f"#review-details:has-text('{first}')")
    shot(page, "review-line")
    page.locator("#review-override textarea, #review-override input").first.fill("checked by ear")
    page.click("#review-approve")
    expect_message(page, f"{first} approved")
    assert first in desk.approvals(ctx, project, LANGUAGE)
    page.click("[role=tab]:has-text('Audit log')")
    page.click("#audit-refresh")
    cell(page, "audit-table", "approved").wait_for()
    shot(page, "audit-log")
    page.context.close()


def test_edit_and_regenerate_one_line_and_a_stale_edit_is_refused(served, browser):
    ctx, project, _, url = served
    line = scripting.script(ctx, project).lines[1].id
    page = sign_in(browser, url, "lena")
    open_review(page, project)
    open_line(page, line)
    text = page.locator("#review-text textarea").first
    text.fill("Una frase nueva y corta.")
    began = time.perf_counter()
    page.click("#review-regenerate")
    expect_message(page, f"{line} regenerated and checked")
    regenerated_s = time.perf_counter() - began
    row = next(r for r in review_rows(ctx, project, LANGUAGE) if r.line_id == line)
    assert row.text == "Una frase nueva y corta." and row.qc and row.decision == "pending"
    current = speech.current_clips(ctx, project, LANGUAGE)[line]
    assert current.text == row.text and current.fit is not None

    # a second reviewer saves an edit meanwhile; this page's copy is now stale
    translation.edit_translation(ctx, project, line, LANGUAGE, "Otra versión.", "rosa", row.version)
    text.fill("Mi versión.")
    page.click("#review-regenerate")
    expect_message(page, "since you opened it")
    assert translation.translations(ctx, project, LANGUAGE)[line].text == "Otra versión."
    print(f"regenerated one line through the browser in {regenerated_s:.1f} s")
    page.context.close()


def test_the_mix_stays_closed_until_every_line_is_approved(served, browser):
    ctx, project, _, url = served
    page = sign_in(browser, url, "lena")
    open_review(page, project)
    page.once("dialog", lambda dialog: dialog.accept())  # "Mix and deliver es now?"
    page.click("#review-mix")
    expect_message(page, "Mix unavailable")
    assert "not approved" in page.inner_text("#review-status")
    shot(page, "mix-gate")
    page.context.close()


def test_other_roles_cannot_call_review_actions(served):
    from gradio_client import Client

    ctx, project, _, url = served
    for name in ("vic", "dora", "ada"):
        client = Client(url, auth=(name, PASSWORD), verbose=False)
        with pytest.raises(Exception, match="may not do this"):
            client.predict(None, LANGUAGE, "all", "all", "all", "", 1, api_name="/load")
    assert desk.approvals(ctx, project, LANGUAGE).keys() <= {scripting.script(ctx, project).lines[0].id}


def test_a_voice_actor_revokes_and_the_review_page_then_refuses_synthesis(served, browser):
    ctx, project, profile, url = served
    actor = sign_in(browser, url, "vic")
    actor.click("#voices-refresh")
    cell(actor, "voices-table", profile).wait_for()
    choose(actor, "voices-chosen", profile)
    actor.click("#voices-usage")
    cell(actor, "voices-usage-table", "UI check").click()  # plays the line
    actor.wait_for_selector("#voices-player audio, #voices-player :text('.wav')", state="attached")
    shot(actor, "voice-portal")
    actor.locator("#voices-reason textarea, #voices-reason input").first.fill("I no longer agree")
    actor.once("dialog", lambda dialog: dialog.accept())  # "Revoke consent for ...? This is final."
    actor.click("#voices-revoke")
    expect_message(actor, f"Consent for {profile} revoked")
    actor.context.close()
    assert ctx.registry.current(profile).revoked

    page = sign_in(browser, url, "lena")
    open_review(page, project)
    line = scripting.script(ctx, project).lines[-1].id
    open_line(page, line)
    page.locator("#review-text textarea").first.fill("Esto no debe sonar.")
    page.click("#review-regenerate")
    expect_message(page, "revoked")
    page.context.close()


def test_admin_adds_a_user(served, browser):
    ctx, _, _, url = served
    page = sign_in(browser, url, "ada")
    page.click("[role=tab]:has-text('Users')")
    page.locator("#users-name textarea, #users-name input").first.fill("nora")
    page.fill("#users-password input", "long enough")
    page.click("#users-add")
    expect_message(page, "User nora added")
    shot(page, "users")
    assert user(ctx.sessions, "nora").role == "localization"
    page.context.close()


def test_screenshots_folder_is_git_ignored():
    assert "/screenshots/" in Path(ROOT / ".gitignore").read_text().split()
