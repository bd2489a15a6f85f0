from __future__ import annotations

import ipaddress

import pytest

from entrypoints.settings import Settings, SettingsError


def test_defaults() -> None:
    s = Settings.from_env({})
    assert s.database_url is None
    assert (s.host, s.port, s.registration_per_hour) == ("127.0.0.1", 8000, 20)
    assert s.quota_on_store_failure == "reject"
    assert s.shutdown_delay == 0  # locally a stop is immediate; compose sets one


def test_reads_and_converts() -> None:
    s = Settings.from_env(
        {
            "DATABASE_URL": "postgresql://x/y",
            "PORT": "9000",
            "REGISTRATION_ENABLED": "off",
            "TRUSTED_PROXIES": "10.0.0.0/8, 127.0.0.1",
            "CORS_ORIGINS": "https://a.example,https://b.example",
            "SHUTDOWN_DELAY": "7.5",
        }
    )
    assert s.shutdown_delay == 7.5
    assert s.port == 9000
    assert s.registration_enabled is False
    assert ipaddress.ip_address("10.1.2.3") in s.trusted_proxies[0]
    assert s.cors_origins == ("https://a.example", "https://b.example")


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({"PORT": "http"}, "PORT"),
        ({"PORT": "70000"}, "PORT"),
        ({"WORKERS": "0"}, "WORKERS"),
        ({"SHUTDOWN_DELAY": "-1"}, "SHUTDOWN_DELAY"),
        ({"REGISTRATION_ENABLED": "maybe"}, "REGISTRATION_ENABLED"),
        ({"TRUSTED_PROXIES": "not-an-ip"}, "TRUSTED_PROXIES"),
        ({"QUOTA_ON_STORE_FAILURE": "panic"}, "QUOTA_ON_STORE_FAILURE"),
        ({"DB_POOL_MIN": "9", "DB_POOL_MAX": "3"}, "DB_POOL_MIN"),
    ],
)
def test_bad_values_name_the_variable(env: dict[str, str], names: str) -> None:
    with pytest.raises(SettingsError, match=names):
        Settings.from_env(env)


@pytest.mark.parametrize(
    "origin",
    [
        "localhost:3000",
        "http://localhost:3000/",
        "http://localhost:3000/app",
        "ftp://files.example",
        "https://",
        "http://host:port",
    ],
)
def test_a_cors_origin_without_scheme_and_host_is_refused_in_one_line(origin: str) -> None:
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({"CORS_ORIGINS": f"http://ok.example,{origin}"})
    message = str(refused.value)
    assert message.startswith(f"CORS_ORIGINS entry {origin!r} is not an origin")
    assert "\n" not in message


def test_cors_origins_may_be_any_origin_or_star() -> None:
    env = {"CORS_ORIGINS": "http://localhost:3000, https://[::1]:8443,*"}
    assert Settings.from_env(env).cors_origins == (
        "http://localhost:3000",
        "https://[::1]:8443",
        "*",
    )


def test_operations_settings() -> None:
    defaults = Settings.from_env({})
    assert (defaults.metrics_enabled, defaults.metrics_token, defaults.metrics_port) == (
        True,
        None,
        None,
    )
    assert (defaults.log_format, defaults.otel_endpoint) == ("text", None)
    s = Settings.from_env(
        {
            "METRICS_TOKEN": "t",
            "METRICS_PORT": "9100",
            "LOG_FORMAT": "json",
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318",
            "OTEL_SERVICE_NAME": "gate-a",
        }
    )
    assert (s.metrics_token, s.metrics_port, s.log_format) == ("t", 9100, "json")
    assert (s.otel_endpoint, s.otel_service_name) == ("http://127.0.0.1:4318", "gate-a")
    for env in ({"METRICS_PORT": "0"}, {"LOG_FORMAT": "yaml"}, {"METRICS_ENABLED": "perhaps"}):
        with pytest.raises(SettingsError, match=next(iter(env))):
            Settings.from_env(env)
