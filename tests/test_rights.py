"""Rights before delivery: the rights holder's title clearance (signed, chained, revocable for good), each
input's rights status in the mix gate, the purpose and the disclosure a delivery carries, and verify's
findings on a forged, edited or revoked clearance."""
from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from datetime import date, timedelta

import pytest

from dubdesk.context import Context
from dubdesk.core import Transcript, Turn, Word
from dubdesk.errors import ProjectError
from dubdesk.export.credentials import ASSERTION_LABEL, read_provenance
from dubdesk.export.delivery import DISCLOSURE, MANIFEST
from dubdesk.rights.records import WORLDWIDE, RightsError, territories
from dubdesk.rights.registry import TamperedClearanceError
from dubdesk.seal import Seal
from dubdesk.services import delivery, desk, projects, rights, scripting
from dubdesk.store import open_database
from dubdesk.verify import Verifier

from .conftest import REVIEWER, ROOT

LICENCE = ROOT / "samples" / "ATTRIBUTION.md"
TODAY = date.today()
BOTH = ("ai-translation", "ai-voice")


def _clear(ctx: Context, project, languages=("es",), where=("ES", "MX"), uses=BOTH, start=TODAY, until=None):
    return rights.clear_title(ctx, project, "Estudio Norte S.A.", "Episode 1", list(languages), list(where), list(uses),
                              start, until, LICENCE, "letter 2024-117", by="Rosa Rights")


@pytest.fixture
def draft(ctx, make_media):
    """A two-line project with a glossary term, scripted from a given transcript (no model), not cleared."""
    project = projects.create_project(ctx, make_media("rights.wav", seconds=5.0), name="Episode 1")
    words = (Word("Hello", 0.5, 0.9), Word("Acme.", 1.0, 1.4), Word("Good", 3.0, 3.3), Word("morning.", 3.4, 3.9))
    scripting.import_transcript(ctx, project, Transcript("en", 1.0, words),
                                [Turn(0.4, 1.5, "SPEAKER_00"), Turn(2.9, 4.0, "SPEAKER_01")], "test")
    return projects.describe_project(ctx, project, glossary={"Acme": {"es": "Acme"}})


@pytest.mark.fast
def test_territories_are_iso_codes_or_worldwide_and_a_typo_is_refused():
    assert territories(["es", " mx", "Worldwide"]) == ("ES", "MX", WORLDWIDE)
    with pytest.raises(RightsError, match="unknown territory EU, XX"):
        territories(["ES", "XX", "EU"])
    with pytest.raises(RightsError, match=r"\(none given\)"):
        territories([" "])


@pytest.mark.fast
@pytest.mark.parametrize("clearance, delivery_for, missing", [
    (None, ("es", ("ES",), BOTH), "the project has no title clearance"),
    ({"start": TODAY - timedelta(days=30), "until": TODAY - timedelta(days=1)}, ("es", ("ES",), BOTH),
     f"expired on {TODAY - timedelta(days=1)}"),
    ({"start": TODAY + timedelta(days=3)}, ("es", ("ES",), BOTH), f"cleared from {TODAY + timedelta(days=3)}"),
    ({}, ("fr", ("ES",), BOTH), "language 'fr' (cleared: es)"),
    ({}, ("es", ("ES", "AR"), BOTH), "territory AR (cleared: ES, MX)"),
    ({}, ("es", (WORLDWIDE,), BOTH), "territory worldwide"),
    ({"uses": ("ai-voice", "draft-review")}, ("es", ("MX",), BOTH), "use ai-translation"),
])
def test_delivery_is_refused_naming_what_no_clearance_covers(ctx, draft, clearance, delivery_for, missing):
    if clearance is not None:
        _clear(ctx, draft, **clearance)
    language, where, uses = delivery_for
    with pytest.raises(RightsError, match="delivery refused: no title clearance covers") as refused:
        rights.covering_clearance(ctx, draft, language, where, uses, TODAY)
    assert missing in str(refused.value)


@pytest.mark.fast
def test_a_covering_clearance_is_found_and_after_its_revocation_refused_for_good(ctx, draft):
    given = _clear(ctx, draft, where=(WORLDWIDE,))
    assert rights.covering_clearance(ctx, draft, "es", ("AR",), BOTH, TODAY) == given
    rights.revoke_clearance(ctx, given.clearance_id, "the holder withdrew approval", by="Rosa Rights")
    with pytest.raises(RightsError, match=f"{given.clearance_id} was revoked on .* \\(the holder withdrew approval\\)"):
        rights.covering_clearance(ctx, draft, "es", ("AR",), BOTH, TODAY)
    with pytest.raises(RightsError, match="revocation is final"):
        ctx.clearances._append(ctx.clearances.current(given.clearance_id).next(revoked_at=None), "x", "un-revoke")
    database = sqlite3.connect(ctx.settings.home / "dubdesk.db")
    for statement in (f"DELETE FROM clearance_revocations WHERE clearance_id = '{given.clearance_id}'",
                      f"UPDATE clearances SET version = 1 WHERE id = '{given.clearance_id}'",
                      f"DELETE FROM clearances WHERE id = '{given.clearance_id}'"):
        with pytest.raises(sqlite3.DatabaseError, match="final|only moves forward|cannot be removed"):
            database.execute(statement)
    database.close()
    history = ctx.clearances._history_path(given.clearance_id)
    history.write_text(history.read_text().splitlines(keepends=True)[0])  # the revocation cut from the file
    with pytest.raises(TamperedClearanceError, match="does not end at the registered head"):
        ctx.clearances.history(given.clearance_id)


@pytest.mark.fast
def test_an_edited_or_forged_clearance_record_is_caught(ctx, draft, tmp_path):
    given = _clear(ctx, draft)
    history = ctx.clearances._history_path(given.clearance_id)
    signed = history.read_text()
    history.write_text(signed.replace('"ES"', '"AR"'))
    with pytest.raises(TamperedClearanceError, match="signature does not verify; the record was edited"):
        ctx.clearances.history(given.clearance_id)
    forger = Seal(tmp_path / "forger", open_database(f"sqlite:///{tmp_path / 'forger.db'}"))  # a key never pinned here
    forged = forger.sign_record(replace(given, terms=replace(given.terms, territories=(WORLDWIDE,)), signer="", signature=""))
    history.write_text(json.dumps(forged.to_json()) + "\n")
    with pytest.raises(TamperedClearanceError, match="signed by an unknown key"):
        ctx.clearances.history(given.clearance_id)


@pytest.mark.fast
def test_the_mix_gate_lists_the_draft_label_and_every_input_not_cleared(ctx, draft, tmp_path):
    gate = desk.mix_gate(ctx, draft, "es")
    assert "2 line(s) not approved" in gate
    assert "Draft for the rights holder's review only" in gate
    assert "source (owner unknown): no rights recorded" in gate and "glossary:Acme (owner unknown): no rights recorded" in gate
    _clear(ctx, draft)
    rights.record_input(ctx, draft, "glossary:Acme", "Acme Corp.", False, "brand use not licensed", by="Rosa Rights")
    gate = desk.mix_gate(ctx, draft, "es")
    assert "Draft for" not in gate and "source" not in gate, "the title clearance clears the source"
    assert "1 input(s) not cleared: glossary:Acme (Acme Corp.): not cleared, brand use not licensed" in gate
    rights.record_input(ctx, draft, "glossary:Acme", "Acme Corp.", True, "licence 88", by="Rosa Rights")
    assert "input(s) not cleared" not in desk.mix_gate(ctx, draft, "es")
    with pytest.raises(RightsError, match="unknown input 'glossary:Zeta'"):
        rights.record_input(ctx, draft, "glossary:Zeta", "Z", True)
    database = sqlite3.connect(ctx.settings.home / "dubdesk.db")
    database.execute("INSERT INTO input_rights (project_id, input, owner, cleared, note, document_ref, recorded_by, "
                     "created_at) VALUES (?, 'glossary:Acme', 'Acme Corp.', 1, '', '', 'sql', CURRENT_TIMESTAMP)",
                     (draft.id,))
    database.commit()
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        database.execute("DELETE FROM input_rights WHERE project_id = ?", (draft.id,))
    database.close()
    assert "glossary:Acme (Acme Corp.): not cleared, its record carries no seal" in desk.mix_gate(ctx, draft, "es")


@pytest.mark.fast
def test_a_delivery_needs_a_stated_purpose_that_names_what_ai_did(ctx, draft):
    with pytest.raises(ProjectError, match="states no purpose"):
        rights.delivery_uses(ctx, draft, "es")
    with pytest.raises(ProjectError, match="one or more of translation, voices"):
        projects.state_purpose(ctx, draft, "market test", ("dancing",))
    stated = projects.state_purpose(ctx, draft, "a first-pass dub for market testing in Spanish", ("voices",))
    assert rights.delivery_uses(ctx, stated, "es") == ("ai-voice",)


# a delivered package (models tier: the shared, dubbed and approved video of conftest) ------------------

def _problems(findings) -> list[str]:
    return [f"{f.file} {f.check}: {f.message}" for f in findings if f.ok is False]


def test_the_disclosure_is_in_the_manifest_each_files_credential_and_a_text(ctx, delivered):
    manifest = json.loads((delivered / MANIFEST).read_text())
    disclosure = manifest["disclosure"]
    assert disclosure["holder"] == "pyannote.audio authors (MIT licence)" and disclosure["territories"] == [WORLDWIDE]
    assert disclosure["uses"] == list(BOTH) and disclosure["ai_did"] == ["translation", "voices"]
    assert disclosure["purpose"].startswith("a demonstration dub") and disclosure["approvers"] == [REVIEWER]
    assert [v["actor"] for v in disclosure["voices"]] == ["Delivery Voice"]
    assert DISCLOSURE in manifest["files"]
    text = (delivered / DISCLOSURE).read_text()
    for said in ("pyannote.audio authors (MIT licence)", disclosure["purpose"], "Delivery Voice", REVIEWER,
                 disclosure["clearance_id"], "translated the dialogue and spoke the dub in synthetic voices"):
        assert said in text
    mix = next(delivered.glob("*full mix.wav"))
    assert read_provenance(mix).assertions[ASSERTION_LABEL]["disclosure"] == disclosure
    cleared = [f for f in delivery.verify(ctx, delivered) if f.check == "clearance"]
    assert cleared and all(f.ok for f in cleared) and "not revoked" in cleared[0].message


def test_verify_fails_on_an_edited_forged_or_revoked_clearance_and_delivery_is_refused(home_copy, reviewed, delivered,
                                                                                       tmp_path):
    project, *_ = reviewed
    out = tmp_path / "out"
    clearance_id = json.loads((delivered / MANIFEST).read_text())["disclosure"]["clearance_id"]
    history = home_copy.clearances._history_path(clearance_id)
    signed = history.read_text()

    verifier = Verifier(home_copy.registry, delivery.signing_identity(home_copy).root.read_bytes(), None,
                        home_copy.clearances)  # no watermark detector: nothing here is about the mark

    def clearance_problems() -> list[str]:
        return [p for p in _problems(verifier.verify(delivered)) if " clearance: " in p]

    history.write_text(signed.replace('"worldwide"', '"ES"'))
    assert any("signature does not verify" in p for p in clearance_problems())
    record = json.loads(signed)
    history.write_text(json.dumps({**record, "signature": record["signature"][::-1]}) + "\n")
    assert any("signature does not verify" in p for p in clearance_problems())
    history.write_text(signed)
    assert clearance_problems() == []

    rights.revoke_clearance(home_copy, clearance_id, "licence terms disputed", by="Rosa Rights")
    assert any("revoked on" in p and "licence terms disputed" in p for p in clearance_problems())
    again = projects.project(home_copy, project.id)
    with pytest.raises(RightsError, match=f"{clearance_id} was revoked"):
        delivery.deliver(home_copy, again, "es", out)
    assert not out.exists(), "a refused delivery writes nothing"
    rights.clear_title(home_copy, again, "Sample Owner", "sample", ["es"], ["ES"], ["ai-voice"], TODAY, None, LICENCE,
                       "letter 7", by="Rosa Rights")
    with pytest.raises(RightsError, match=r"territory worldwide .*use ai-translation"):
        delivery.deliver(home_copy, again, "es", out)
    projects.state_purpose(home_copy, again, "a test", ("voices",))
    with pytest.raises(ProjectError, match="it also did translation"):
        delivery.deliver(home_copy, again, "es", out, territories=("ES",))


@pytest.mark.fast
def test_the_rights_commands_state_the_purpose_clear_record_show_and_revoke(make_media, tmp_path, monkeypatch):
    from dubdesk.config import Settings

    from .test_pipeline import run_cli

    monkeypatch.setenv("COLUMNS", "250")
    home = tmp_path / "home"
    project = projects.create_project(Context(Settings(home=home)), make_media("rights-cli.wav", seconds=3.0), name="Ep 2")
    said = run_cli("purpose", str(project.id), "--text", "a market test", "--ai", "voices,translation", home=home)
    assert said.returncode == 0 and "a market test (AI: translation, voices)" in said.stdout, said.stderr
    cleared = run_cli("rights", "clear", str(project.id), "--holder", "Estudio Norte", "--title", "Ep 2", "--languages",
                      "es", "--territories", "es,mx", "--uses", "ai-voice", "--document", str(LICENCE), "--reference",
                      "letter 3", "--until", "2099-12-31", home=home)
    assert cleared.returncode == 0, cleared.stderr
    clearance_id = cleared.stdout.strip()
    typo = run_cli("rights", "clear", str(project.id), "--holder", "X", "--title", "Ep 2", "--languages", "es",
                   "--territories", "Spain", "--uses", "ai-voice", "--document", str(LICENCE), "--reference", "r", home=home)
    assert typo.returncode == 2 and "unknown territory SPAIN" in typo.stderr
    recorded = run_cli("rights", "input", str(project.id), "--input", "stem", "--owner", "Music Co.", "--not-cleared",
                       "--note", "score not licensed", home=home)
    assert recorded.returncode == 0 and "stem (Music Co.): not cleared, score not licensed" in recorded.stdout
    revoked = run_cli("rights", "revoke", clearance_id, "--reason", "withdrawn", home=home)
    assert revoked.returncode == 0, revoked.stderr
    shown = run_cli("rights", "show", str(project.id), home=home)
    assert shown.returncode == 0, shown.stderr
    for said in (clearance_id, "ES,MX", "2099-12-31", "revoked: withdrawn", "Music Co.", "score not licensed"):
        assert said in shown.stdout
