"""Users, roles and the voice actor's ownership, checked on the server; reference recordings validated."""
from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from dubdesk.access import AccessDenied, add_user, authenticate, require, user
from dubdesk.audio import decode_audio
from dubdesk.errors import BadInputError, DubdeskError
from dubdesk.services import portal

from .conftest import SAMPLE

pytestmark = pytest.mark.fast


def test_passwords_are_hashed_and_checked(ctx):
    add_user(ctx.sessions, "paula", "a long secret", "distributor")
    stored = user(ctx.sessions, "paula")
    assert stored.password_hash.startswith("scrypt$") and "a long secret" not in stored.password_hash
    assert authenticate(ctx.sessions, "paula", "a long secret")
    assert not authenticate(ctx.sessions, "paula", "a long secreT")
    assert not authenticate(ctx.sessions, "nobody", "a long secret")
    with pytest.raises(DubdeskError, match="unknown role"):
        add_user(ctx.sessions, "quinn", "a long secret", "root")
    with pytest.raises(DubdeskError, match="at least 8"):
        add_user(ctx.sessions, "quinn", "short", "admin")
    with pytest.raises(AccessDenied, match="needs the role localization"):
        require(stored, "localization")


def test_a_voice_actor_reaches_only_their_own_profiles(ctx, tmp_path):
    reference = tmp_path / "ref.wav"
    sf.write(reference, decode_audio(SAMPLE)[16000 * 2:16000 * 12], 16000)
    add_user(ctx.sessions, "olga", "a long secret", "voice_actor")
    add_user(ctx.sessions, "pete", "a long secret", "voice_actor")
    olga, pete = user(ctx.sessions, "olga"), user(ctx.sessions, "pete")
    record = portal.create_profile(ctx, olga, "Olga O.", ["es"], ["dubbing"], None, "contract 1", [reference])
    assert [r.profile_id for r in portal.own_profiles(ctx, olga)] == [record.profile_id]
    assert portal.own_profiles(ctx, pete) == []
    with pytest.raises(AccessDenied, match="has no voice profile"):
        portal.revoke(ctx, pete, record.profile_id, "not mine")
    with pytest.raises(AccessDenied):
        portal.own_profiles(ctx, user(ctx.sessions, "paula"))
    assert not ctx.registry.current(record.profile_id).revoked


def test_reference_recordings_are_validated(tmp_path):
    speech = decode_audio(SAMPLE)[16000 * 2:16000 * 12]
    cases = {"short.wav": (speech[:16000], "long; a reference must be"),
             "quiet.wav": (speech * 0.001, "too quiet"),
             "clipped.wav": (np.clip(speech * 40, -1, 1), "clipped"),
             "tone.wav": (0.3 * np.sin(2 * np.pi * 440 * np.arange(16000 * 8) / 16000), "speech in only")}
    for name, (audio, reason) in cases.items():
        sf.write(tmp_path / name, audio, 16000, subtype="FLOAT")
        with pytest.raises(BadInputError, match=reason):
            portal.check_reference(tmp_path / name)
    sf.write(tmp_path / "good.wav", speech, 16000)
    portal.check_reference(tmp_path / "good.wav")
