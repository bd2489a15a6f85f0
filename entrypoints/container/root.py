"""The composition root: every adapter and use case, wired once, for HTTP and CLI alike,
and the services `serve` starts and stops (`entrypoints/lifecycle.py` runs them)."""

from __future__ import annotations

from dependency_injector import containers, providers

from adapters.background import PeriodicTask
from adapters.clock import SystemClock
from adapters.oidc import OidcClient
from adapters.postgres.api_keys import PostgresKeyFinder
from adapters.postgres.audit import PostgresAuditTrail
from adapters.postgres.key_cache import CachingKeyFinder
from adapters.postgres.last_used import BatchedUsageRecorder
from adapters.postgres.migrate import PostgresSchemaProbe
from adapters.postgres.pool import KeygatePool, PostgresProbe, create_pool
from adapters.postgres.quota import PostgresQuotaStore
from adapters.postgres.request_log_queries import (
    PostgresRequestLogPruner,
    PostgresRequestLogQueries,
)
from adapters.postgres.request_logs import PostgresRequestLogSink
from adapters.postgres.resource_counts import PostgresResourceCounts
from adapters.postgres.resources import PostgresResourceReader, PostgresResourceWriter
from adapters.postgres.secrets import PostgresDeployment, PostgresSecrets
from adapters.postgres.sessions import PostgresSessionStore
from adapters.postgres.uow import PostgresUnitOfWorkFactory
from adapters.postgres.usage import PostgresUsageRollups
from adapters.redis.quota import RedisQuotaStore
from application.audit import ListAudit
from application.health import CheckHealth, CheckReadiness, ShutdownState
from application.key_changes import RotateKey, UpdateKey
from application.keys import Authenticate, GetKey, IssueKey, ListKeys, RevokeKey
from application.quota import CheckQuota, CreditsLeft, LookAtQuota
from application.request_log import PruneRequestLogs, RecentRequests
from application.resources import (
    CreateResource,
    DeleteResource,
    GetResource,
    ListResources,
    PatchResource,
    ReplaceResource,
)
from application.sessions import CheckSession, EndSession, PurgeExpiredSessions, StartSession
from application.usage import KeyUsage, RebuildUsage, UsageOverview
from application.webhooks import ListDeliveries, ListSubscriptions, Subscribe, Unsubscribe
from domain.webhook_targets import AddressPolicy
from entrypoints.container.observability import gauge_sampler, observability_of
from entrypoints.container.webhooks import (
    dispatch_webhooks_of,
    purge_expired_of,
    webhook_dispatcher_of,
    webhook_sender_of,
)
from entrypoints.settings import Settings
from entrypoints.web.session import SessionCodec

VERSION = "1.0.0"
PARTITION_CHECK_SECONDS = 3600.0
RETENTION_PURGE_SECONDS = 300.0
# Writes append count deltas (resource counts, usage); folding them keeps sums short.
COUNT_COMPACTION_SECONDS = 5.0
# Leases end with their buckets (a second, a minute); what is left goes back this often.
QUOTA_LEASE_RETURN_SECONDS = 1.0


def identity_provider_of(settings: Settings) -> OidcClient | None:
    """The OpenID Connect provider, when one is configured (else: sign-in by API key)."""
    if not settings.oidc_issuer:
        return None
    # Settings.validate insists on these two whenever an issuer is set.
    assert settings.oidc_client_id and settings.public_base_url
    return OidcClient(
        settings.oidc_issuer,
        settings.oidc_client_id,
        settings.oidc_client_secret,
        settings.public_base_url,
    )


def _quota_store(settings: Settings, pool: KeygatePool) -> PostgresQuotaStore | RedisQuotaStore:
    """Where quota counters live: PostgreSQL unless QUOTA_STORE_URL names a Redis."""
    if settings.quota_store_url is None:
        return PostgresQuotaStore(pool, timeout=settings.db_timeout)
    return RedisQuotaStore(
        settings.quota_store_url,
        PostgresDeployment(pool),
        timeout=settings.db_timeout,
        prefix=settings.quota_store_prefix,
    )


class Container(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)

    clock = providers.Singleton(SystemClock)
    observability = providers.Singleton(observability_of, settings)
    metrics = observability.provided.metrics
    pool = providers.Singleton(
        create_pool,
        conninfo=settings.provided.database_url,
        min_size=settings.provided.pool_min,
        max_size=settings.provided.pool_max,
        timeout=settings.provided.db_timeout,
        statement_timeout_ms=settings.provided.statement_timeout_ms,
        cursor_factory=observability.provided.cursor_factory.call(),
    )

    # Adapters with background work; `services` starts and stops them with the app.
    key_store = providers.Singleton(PostgresKeyFinder, pool=pool)
    key_finder = providers.Singleton(
        CachingKeyFinder, inner=key_store, conninfo=settings.provided.database_url
    )
    uow = providers.Singleton(
        PostgresUnitOfWorkFactory, pool=pool, on_keys_changed=key_finder.provided.forget_ids
    )
    usage_recorder = providers.Singleton(BatchedUsageRecorder, pool=pool)
    request_log_sink = providers.Singleton(
        PostgresRequestLogSink,
        pool=pool,
        max_buffer=settings.provided.log_buffer_max,
        metrics=metrics,
    )
    quota_store = providers.Singleton(_quota_store, settings=settings, pool=pool)
    usage_rollups = providers.Singleton(PostgresUsageRollups, pool=pool)
    secrets = providers.Singleton(
        PostgresSecrets, pool=pool, override=settings.provided.cursor_secret
    )
    webhook_address_policy = providers.Singleton(
        AddressPolicy, allowed=settings.provided.webhook_allow_private
    )
    webhook_sender = providers.Singleton(webhook_sender_of, settings, webhook_address_policy)
    dispatch_webhooks = providers.Singleton(
        dispatch_webhooks_of, settings, pool, webhook_sender, clock, metrics
    )
    webhook_dispatcher = providers.Singleton(
        webhook_dispatcher_of, settings, dispatch_webhooks, webhook_sender
    )
    purge_expired = providers.Singleton(purge_expired_of, settings, pool, clock)
    session_store = providers.Singleton(
        PostgresSessionStore, pool=pool, timeout=settings.provided.db_timeout
    )
    services = providers.List(
        observability,  # stopped last: sends the spans of everything before it
        key_finder,
        secrets,
        providers.Singleton(
            PeriodicTask,
            name="request-log-flush",
            interval=settings.provided.log_flush_interval,
            job=request_log_sink.provided.flush,
            final=request_log_sink.provided.drain,
        ),
        providers.Singleton(
            PeriodicTask,
            name="quota-lease-return",
            interval=QUOTA_LEASE_RETURN_SECONDS,
            job=quota_store.provided.return_expired,
            final=quota_store.provided.return_all,
        ),
        providers.Singleton(
            PeriodicTask,
            name="last-used-flush",
            interval=settings.provided.last_used_interval,
            job=usage_recorder.provided.flush,
        ),
        providers.Singleton(
            PeriodicTask,
            name="request-log-partitions",
            interval=PARTITION_CHECK_SECONDS,
            job=request_log_sink.provided.ensure_partitions,
            at_start=True,
            at_stop=False,
        ),
        providers.Singleton(
            PeriodicTask,
            name="resource-count-compaction",
            interval=COUNT_COMPACTION_SECONDS,
            job=providers.Singleton(PostgresResourceCounts, pool=pool).provided.compact,
            at_stop=False,
        ),
        providers.Singleton(
            PeriodicTask,
            name="usage-compaction",
            interval=COUNT_COMPACTION_SECONDS,
            job=usage_rollups.provided.compact,
            at_stop=False,
        ),
        providers.Singleton(
            PeriodicTask,
            name="retention-purge",
            interval=RETENTION_PURGE_SECONDS,
            job=purge_expired,
            at_stop=False,
        ),
        providers.Singleton(
            PeriodicTask,
            name="dashboard-session-purge",
            interval=RETENTION_PURGE_SECONDS,
            job=providers.Singleton(PurgeExpiredSessions, store=session_store),
            at_stop=False,
        ),
        webhook_dispatcher,
        providers.Singleton(gauge_sampler, metrics, pool, request_log_sink),
    )

    # Only the services a CLI command asks for run in it: `keygate webhooks dispatch`.
    dispatch_services = providers.List(webhook_dispatcher)

    session_codec = providers.Singleton(SessionCodec, secret=settings.provided.session_secret)
    start_session = providers.Singleton(StartSession, store=session_store)
    check_session = providers.Singleton(CheckSession, store=session_store)
    end_session = providers.Singleton(EndSession, store=session_store)
    identity_provider = providers.Singleton(identity_provider_of, settings)

    database_probe = providers.Singleton(
        PostgresProbe, pool=pool, timeout=settings.provided.db_timeout
    )
    check_health = providers.Singleton(CheckHealth, probe=database_probe, version=VERSION)
    shutdown_state = providers.Singleton(ShutdownState)
    check_readiness = providers.Singleton(
        CheckReadiness,
        database=database_probe,
        schema=providers.Singleton(PostgresSchemaProbe, pool=pool),
        shutdown=shutdown_state,
        quota_store=providers.Callable(  # only one apart from the database
            lambda q: q if isinstance(q, RedisQuotaStore) else None, quota_store
        ),
    )

    authenticate = providers.Singleton(
        Authenticate, finder=key_finder, usage=usage_recorder, clock=clock
    )
    check_quota = providers.Singleton(
        CheckQuota,
        store=quota_store,
        fail_open=providers.Callable(lambda s: s.quota_on_store_failure == "allow", settings),
        metrics=metrics,
    )
    issue_key = providers.Singleton(
        IssueKey, uow=uow, clock=clock, self_service=settings.provided.registration_enabled
    )
    get_key = providers.Singleton(GetKey, uow=uow)
    revoke_key = providers.Singleton(RevokeKey, uow=uow)
    rotate_key = providers.Singleton(RotateKey, uow=uow, clock=clock)
    update_key = providers.Singleton(UpdateKey, uow=uow, clock=clock)

    subscribe_webhook = providers.Singleton(
        Subscribe,
        uow=uow,
        policy=webhook_address_policy,
        max_per_user=settings.provided.webhook_max_per_user,
    )
    list_webhooks = providers.Singleton(ListSubscriptions, uow=uow)
    unsubscribe_webhook = providers.Singleton(Unsubscribe, uow=uow)
    list_webhook_deliveries = providers.Singleton(ListDeliveries, uow=uow)

    resource_reader = providers.Singleton(PostgresResourceReader, pool=pool)
    resource_writer = providers.Singleton(PostgresResourceWriter, pool=pool)
    list_resources = providers.Singleton(ListResources, reader=resource_reader, secrets=secrets)
    # Key cursors are signed with the resources' cursor key.
    list_keys = providers.Singleton(ListKeys, uow=uow, codec=list_resources.provided.codec)
    list_audit = providers.Singleton(
        ListAudit,
        trail=providers.Singleton(PostgresAuditTrail, pool=pool),
        codec=list_resources.provided.codec,
    )

    request_log_queries = providers.Singleton(PostgresRequestLogQueries, pool=pool)
    key_usage = providers.Singleton(KeyUsage, keys=get_key, rollups=usage_rollups, clock=clock)
    usage_overview = providers.Singleton(UsageOverview, rollups=usage_rollups, clock=clock)
    rebuild_usage = providers.Singleton(RebuildUsage, rebuilder=usage_rollups)
    look_at_quota = providers.Singleton(LookAtQuota, keys=get_key, store=quota_store)
    credits_left = providers.Singleton(CreditsLeft, store=quota_store)
    recent_requests = providers.Singleton(
        RecentRequests, list_keys=list_keys, queries=request_log_queries
    )
    prune_request_logs = providers.Singleton(
        PruneRequestLogs,
        pruner=providers.Singleton(PostgresRequestLogPruner, pool=pool),
        clock=clock,
    )

    get_resource = providers.Singleton(GetResource, reader=resource_reader)
    create_resource = providers.Singleton(CreateResource, uow=uow, writer=resource_writer)
    replace_resource = providers.Singleton(ReplaceResource, uow=uow, writer=resource_writer)
    patch_resource = providers.Singleton(PatchResource, uow=uow)
    delete_resource = providers.Singleton(DeleteResource, uow=uow, writer=resource_writer)


def build_container(settings: Settings) -> Container:
    if not settings.database_url:
        raise ValueError("a database URL is required to build the container")
    return Container(settings=settings)
