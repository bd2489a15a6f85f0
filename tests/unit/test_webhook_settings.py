from __future__ import annotations

import ipaddress

import pytest

from entrypoints.settings import Settings, SettingsError


def test_webhook_settings_from_the_environment() -> None:
    settings = Settings.from_env(
        {
            "WEBHOOK_ALLOW_PRIVATE": "127.0.0.0/8, 10.1.0.0/16",
            "WEBHOOK_DISPATCH_IN_SERVE": "false",
            "WEBHOOK_DISPATCH_INTERVAL": "0.5",
            "WEBHOOK_TIMEOUT": "3",
            "WEBHOOK_LEASE": "30",
        }
    )
    assert settings.webhook_allow_private == (
        ipaddress.ip_network("127.0.0.0/8"),
        ipaddress.ip_network("10.1.0.0/16"),
    )
    assert settings.webhook_dispatch_in_serve is False
    assert settings.webhook_dispatch_interval == 0.5
    assert (settings.webhook_timeout, settings.webhook_lease) == (3, 30)
    assert Settings.from_env({}).webhook_allow_private == ()


def test_webhook_delivery_retention_is_days_and_defaults_to_a_week() -> None:
    assert Settings.from_env({}).webhook_delivery_retention_days == 7
    env = {"WEBHOOK_DELIVERY_RETENTION_DAYS": "30"}
    assert Settings.from_env(env).webhook_delivery_retention_days == 30


@pytest.mark.parametrize(
    ("env", "name"),
    [
        ({"WEBHOOK_ALLOW_PRIVATE": "localhost"}, "WEBHOOK_ALLOW_PRIVATE"),
        ({"WEBHOOK_TIMEOUT": "20", "WEBHOOK_LEASE": "10"}, "WEBHOOK_LEASE"),
        ({"WEBHOOK_DISPATCH_INTERVAL": "0"}, "WEBHOOK_DISPATCH_INTERVAL"),
        ({"WEBHOOK_DELIVERY_RETENTION_DAYS": "0"}, "WEBHOOK_DELIVERY_RETENTION_DAYS"),
        ({"WEBHOOK_DELIVERY_RETENTION_DAYS": "7d"}, "WEBHOOK_DELIVERY_RETENTION_DAYS"),
    ],
)
def test_bad_webhook_settings_are_named(env: dict[str, str], name: str) -> None:
    with pytest.raises(SettingsError, match=name):
        Settings.from_env(env)


def test_the_subscription_cap_per_user_is_configurable() -> None:
    assert Settings.from_env({}).webhook_max_per_user == 25
    assert Settings.from_env({"WEBHOOK_MAX_PER_USER": "3"}).webhook_max_per_user == 3
    with pytest.raises(SettingsError, match="WEBHOOK_MAX_PER_USER"):
        Settings.from_env({"WEBHOOK_MAX_PER_USER": "0"})
