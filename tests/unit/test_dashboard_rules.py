"""Pure pieces of the dashboard: user ids, the session principal, sealed sessions, chart,
settings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from application.sessions import StartedSession
from domain.dashboard import oidc_user_id, session_principal, signin_subject
from domain.errors import PermissionDenied
from domain.key_requests import KeyRequest, authorize_issue
from domain.keys import Permission, can_see
from domain.request_log import HourCount
from entrypoints.settings import Settings, SettingsError
from entrypoints.web.chart import bar_chart
from entrypoints.web.session import SessionCodec

LIFE = timedelta(hours=8)

NOW = datetime(2026, 1, 1, 12, tzinfo=UTC)


def test_oidc_user_id_is_stable_and_issuer_scoped() -> None:
    a = oidc_user_id("https://idp.example", "42")
    assert a == oidc_user_id("https://idp.example", "42")
    assert a != oidc_user_id("https://other.example", "42")
    assert a != oidc_user_id("https://idp.example", "43")
    assert a.startswith("oidc_") and len(a) == 37


def test_session_principal_reads_and_writes_its_own_keys_only() -> None:
    me = session_principal("u1", NOW)
    assert can_see(me, "u1") and not can_see(me, "u2")
    assert me.allows(Permission.WRITE) and not me.is_admin
    authorize_issue(me, KeyRequest(name="k", permissions=frozenset({Permission.READ})))
    with pytest.raises(PermissionDenied):
        authorize_issue(me, KeyRequest(name="k", permissions=frozenset({Permission.ADMIN})))
    with pytest.raises(PermissionDenied):
        authorize_issue(
            me, KeyRequest(name="k", permissions=frozenset({Permission.READ}), user_id="u2")
        )


def test_signin_subject() -> None:
    assert signin_subject("10.0.0.1") == "signin-ip:10.0.0.1"
    assert signin_subject(None) == "signin-ip:unknown"


def test_sealed_session_round_trips_and_rejects_tampering_and_age() -> None:
    now = [1_000_000.0]
    codec = SessionCodec("k" * 40, clock=lambda: now[0])
    # Markers long enough that random ciphertext cannot contain them by chance.
    user, key = "user-plaintext-marker", "rk_plaintext_key_marker"
    started = StartedSession("session-id-marker", datetime.fromtimestamp(now[0], UTC) + LIFE)
    session = codec.signed_in(user, started, api_key=key, display_name="Ada")
    sealed = codec.seal(session)
    assert key not in sealed and user not in sealed and started.id not in sealed
    assert codec.open(sealed) == session
    flipped = sealed[:-2] + ("A" if sealed[-2] != "A" else "B") + sealed[-1]
    assert codec.open(flipped) is None
    assert codec.open("garbage") is None and codec.open("") is None
    assert SessionCodec("j" * 40, clock=lambda: now[0]).open(sealed) is None
    now[0] += LIFE.total_seconds()
    assert codec.open(sealed) is None


def test_csrf_tokens_differ_per_session_and_compare_exactly() -> None:
    codec = SessionCodec("k" * 40)
    a, b = codec.visitor(), codec.visitor()
    assert a.csrf != b.csrf
    assert a.csrf_matches(a.csrf) and not a.csrf_matches(b.csrf) and not a.csrf_matches(None)


def test_chart_scales_bars_to_a_round_top() -> None:
    hours = [
        HourCount(NOW - timedelta(hours=23 - i), count) for i, count in enumerate([0] * 22 + [3, 7])
    ]
    chart = bar_chart(hours)
    assert len(chart.bars) == 24 and chart.peak == 7
    assert [t.value for t in chart.ticks] == [0, 5, 10]
    tallest = chart.bars[-1]
    assert tallest.y + tallest.height == chart.baseline
    assert chart.bars[0].height == 0
    assert tallest.height == pytest.approx((chart.baseline - 12) * 0.7, abs=0.01)
    assert [t.value for t in bar_chart(hours[:1]).ticks] == [0, 1]


def test_settings_read_the_provider_and_insist_on_its_parts() -> None:
    env = {
        "OIDC_ISSUER": "https://idp.example/realms/x/",
        "OIDC_CLIENT_ID": "keygate",
        "OIDC_CLIENT_SECRET": "shh",
        "PUBLIC_BASE_URL": "https://keys.example/",
        "SESSION_SECRET": "x" * 32,
    }
    settings = Settings.from_env(env)
    assert settings.oidc_issuer == "https://idp.example/realms/x"
    assert settings.public_base_url == "https://keys.example"
    assert (settings.oidc_client_id, settings.oidc_client_secret) == ("keygate", "shh")
    assert settings.session_secret == "x" * 32
    with pytest.raises(SettingsError, match="OIDC_CLIENT_ID"):
        Settings.from_env({k: v for k, v in env.items() if k != "OIDC_CLIENT_ID"})
    with pytest.raises(SettingsError, match="PUBLIC_BASE_URL"):
        Settings.from_env({k: v for k, v in env.items() if k != "PUBLIC_BASE_URL"})
    public = Settings.from_env({k: v for k, v in env.items() if k != "OIDC_CLIENT_SECRET"})
    assert public.oidc_client_secret is None
    with pytest.raises(SettingsError, match="SESSION_SECRET"):
        Settings.from_env(env | {"SESSION_SECRET": "short"})
    assert Settings.from_env({}).oidc_issuer is None
