"""Configuration: read once from the environment into one typed, validated object."""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit


class SettingsError(ValueError):
    """A configuration value is missing or malformed; the message names it."""


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from None
    if not low <= value <= high:
        raise SettingsError(f"{name} must be between {low} and {high}, got {value}")
    return value


def _float(env: Mapping[str, str], name: str, default: float, low: float, high: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from None
    if not low <= value <= high:
        raise SettingsError(f"{name} must be between {low} and {high}, got {value}")
    return value


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"{name} must be true or false, got {raw!r}")


def _list(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    raw = env.get(name, "")
    return tuple(item.strip() for item in raw.split(",") if item.strip())


def _origins(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    """Browser origins as a browser sends them (scheme://host[:port]), or `*`: anything
    else would never match an Origin header and CORS would fail without a word."""
    origins = _list(env, name)
    for origin in origins:
        if origin == "*":
            continue
        parts = urlsplit(origin)
        try:
            parts.port  # noqa: B018 - raises on a port that is not a number
        except ValueError:
            parts = parts._replace(netloc="")
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise SettingsError(
                f"{name} entry {origin!r} is not an origin: write scheme://host[:port],"
                " e.g. http://localhost:3000 (comma-separated; * allows any)"
            )
        if parts.path or parts.query or parts.fragment or parts.username:
            raise SettingsError(
                f"{name} entry {origin!r} is not an origin: only scheme://host[:port],"
                " without a path"
            )
    return origins


def _choice(env: Mapping[str, str], name: str, default: str, allowed: set[str]) -> str:
    raw = env.get(name) or default
    if raw not in allowed:
        raise SettingsError(f"{name} must be one of {', '.join(sorted(allowed))}, got {raw!r}")
    return raw


def _networks(
    env: Mapping[str, str], name: str
) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    try:
        return tuple(ipaddress.ip_network(item, strict=False) for item in _list(env, name))
    except ValueError as exc:
        raise SettingsError(f"{name} must list IP addresses or CIDR ranges: {exc}") from None


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str | None = None
    data_dir: Path = Path(".keygate/pgdata")
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 2
    server: str = "granian"
    # Seconds a stopping `serve` keeps serving with readiness at 503, so that a load
    # balancer stops sending before the listener closes.
    shutdown_delay: float = 0.0
    pool_min: int = 2
    pool_max: int = 10
    db_timeout: float = 5.0
    statement_timeout_ms: int = 5000
    registration_enabled: bool = True
    registration_per_hour: int = 20
    trusted_proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    cors_origins: tuple[str, ...] = ()
    quota_on_store_failure: str = "reject"
    # None: quota counters live in PostgreSQL. redis:// or rediss://: in Redis/Valkey.
    quota_store_url: str | None = None
    quota_store_prefix: str = "keygate"
    log_flush_interval: float = 0.5
    log_buffer_max: int = 100_000
    last_used_interval: float = 5.0
    cursor_secret: str | None = None
    log_level: str = "INFO"
    log_format: str = "text"
    # Dashboard: OpenID Connect is on when an issuer is set; sessions need a secret.
    oidc_issuer: str | None = None
    oidc_client_id: str | None = None
    oidc_client_secret: str | None = None
    public_base_url: str | None = None
    session_secret: str | None = None
    signin_per_hour: int = 20
    webhook_allow_private: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    webhook_dispatch_in_serve: bool = True
    webhook_dispatch_interval: float = 1.0
    webhook_timeout: float = 10.0
    webhook_connect_timeout: float = 5.0
    webhook_lease: float = 60.0
    webhook_retry_base: float = 5.0
    webhook_retry_cap: float = 4 * 3600.0
    webhook_retry_window: float = 24 * 3600.0
    webhook_delivery_retention_days: int = 7
    webhook_max_per_user: int = 25
    audit_retention_days: int = 365
    # GET /metrics: on the API port (behind metrics_token when set) or on its own port.
    metrics_enabled: bool = True
    metrics_token: str | None = None
    metrics_port: int | None = None
    # OpenTelemetry's own variables: traces are exported by OTLP when an endpoint is set.
    otel_endpoint: str | None = None
    otel_service_name: str = "keygate"
    usage_retention_days: int = 400

    @property
    def audit_retention(self) -> timedelta:
        return timedelta(days=self.audit_retention_days)

    @property
    def usage_retention(self) -> timedelta:
        return timedelta(days=self.usage_retention_days)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        settings = cls(
            database_url=env.get("DATABASE_URL") or None,
            data_dir=Path(env.get("KEYGATE_DATA_DIR") or ".keygate/pgdata"),
            host=env.get("HOST") or "127.0.0.1",
            port=_int(env, "PORT", 8000, 0, 65535),
            workers=_int(env, "WORKERS", 2, 1, 64),
            server=_choice(env, "KEYGATE_SERVER", "granian", {"granian", "uvicorn"}),
            shutdown_delay=_float(env, "SHUTDOWN_DELAY", 0.0, 0.0, 300.0),
            pool_min=_int(env, "DB_POOL_MIN", 2, 0, 100),
            pool_max=_int(env, "DB_POOL_MAX", 10, 1, 100),
            db_timeout=_float(env, "DB_TIMEOUT", 5.0, 0.1, 60),
            statement_timeout_ms=_int(env, "DB_STATEMENT_TIMEOUT_MS", 5000, 100, 600_000),
            registration_enabled=_bool(env, "REGISTRATION_ENABLED", True),
            registration_per_hour=_int(env, "REGISTRATION_PER_HOUR", 20, 1, 1_000_000),
            trusted_proxies=_networks(env, "TRUSTED_PROXIES"),
            cors_origins=_origins(env, "CORS_ORIGINS"),
            quota_on_store_failure=_choice(
                env, "QUOTA_ON_STORE_FAILURE", "reject", {"reject", "allow"}
            ),
            quota_store_url=env.get("QUOTA_STORE_URL") or None,
            quota_store_prefix=env.get("QUOTA_STORE_PREFIX") or "keygate",
            log_flush_interval=_float(env, "LOG_FLUSH_INTERVAL", 0.5, 0.01, 1.0),
            log_buffer_max=_int(env, "LOG_BUFFER_MAX", 100_000, 100, 10_000_000),
            last_used_interval=_float(env, "LAST_USED_INTERVAL", 5.0, 0.1, 3600),
            cursor_secret=env.get("CURSOR_SECRET") or None,
            log_level=_choice(env, "LOG_LEVEL", "INFO", {"DEBUG", "INFO", "WARNING", "ERROR"}),
            log_format=_choice(env, "LOG_FORMAT", "text", {"text", "json"}),
            oidc_issuer=(env.get("OIDC_ISSUER") or "").rstrip("/") or None,
            oidc_client_id=env.get("OIDC_CLIENT_ID") or None,
            oidc_client_secret=env.get("OIDC_CLIENT_SECRET") or None,
            public_base_url=(env.get("PUBLIC_BASE_URL") or "").rstrip("/") or None,
            session_secret=env.get("SESSION_SECRET") or None,
            signin_per_hour=_int(env, "SIGNIN_PER_HOUR", 20, 1, 1_000_000),
            webhook_allow_private=_networks(env, "WEBHOOK_ALLOW_PRIVATE"),
            webhook_dispatch_in_serve=_bool(env, "WEBHOOK_DISPATCH_IN_SERVE", True),
            webhook_dispatch_interval=_float(env, "WEBHOOK_DISPATCH_INTERVAL", 1.0, 0.01, 3600),
            webhook_timeout=_float(env, "WEBHOOK_TIMEOUT", 10.0, 0.1, 120),
            webhook_connect_timeout=_float(env, "WEBHOOK_CONNECT_TIMEOUT", 5.0, 0.1, 120),
            webhook_lease=_float(env, "WEBHOOK_LEASE", 60.0, 0.5, 3600),
            webhook_retry_base=_float(env, "WEBHOOK_RETRY_BASE", 5.0, 0.001, 86400),
            webhook_retry_cap=_float(env, "WEBHOOK_RETRY_CAP", 4 * 3600.0, 0.001, 86400),
            webhook_retry_window=_float(env, "WEBHOOK_RETRY_WINDOW", 24 * 3600.0, 0.01, 604800),
            webhook_delivery_retention_days=_int(
                env, "WEBHOOK_DELIVERY_RETENTION_DAYS", 7, 1, 3650
            ),
            webhook_max_per_user=_int(env, "WEBHOOK_MAX_PER_USER", 25, 1, 10_000),
            audit_retention_days=_int(env, "AUDIT_RETENTION_DAYS", 365, 1, 36500),
            metrics_enabled=_bool(env, "METRICS_ENABLED", True),
            metrics_token=env.get("METRICS_TOKEN") or None,
            metrics_port=_int(env, "METRICS_PORT", 0, 1, 65535) or None,
            otel_endpoint=env.get("OTEL_EXPORTER_OTLP_ENDPOINT")
            or env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
            or None,
            otel_service_name=env.get("OTEL_SERVICE_NAME") or "keygate",
            usage_retention_days=_int(env, "USAGE_RETENTION_DAYS", 400, 1, 36500),
        )
        return settings.validate()

    def validate(self) -> Settings:
        if self.pool_min > self.pool_max:
            raise SettingsError(
                f"DB_POOL_MIN ({self.pool_min}) must not exceed DB_POOL_MAX ({self.pool_max})"
            )
        # No client secret is fine: public clients (Replit Auth) rely on PKCE alone.
        if self.oidc_issuer and not (self.oidc_client_id and self.public_base_url):
            raise SettingsError("OIDC_ISSUER needs OIDC_CLIENT_ID and PUBLIC_BASE_URL")
        if self.quota_store_url is not None and not self.quota_store_url.startswith(
            ("redis://", "rediss://")
        ):
            raise SettingsError("QUOTA_STORE_URL must be a redis:// or rediss:// address")
        if self.session_secret is not None and len(self.session_secret) < 32:
            raise SettingsError("SESSION_SECRET must be at least 32 characters")
        if self.webhook_lease <= self.webhook_timeout:
            # A lease shorter than one attempt would let a second dispatcher send the
            # same delivery while the first is still waiting for an answer.
            raise SettingsError(
                f"WEBHOOK_LEASE ({self.webhook_lease:g}) must exceed"
                f" WEBHOOK_TIMEOUT ({self.webhook_timeout:g})"
            )
        return self
