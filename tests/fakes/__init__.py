"""In-memory fakes of the ports, for unit tests of use cases.

Each implements the same Protocols (application/ports/) as its PostgreSQL adapter;
the contract suites under tests/contract/ run one set of tests against both, so a
fake cannot drift from what the adapter really answers.
"""

from tests.fakes.audit import InMemoryAuditLog
from tests.fakes.clock import FakeClock
from tests.fakes.keys import InMemoryKeys, RecordingUsage, make_caller
from tests.fakes.quota import InMemoryQuotaStore
from tests.fakes.request_log import InMemoryRequestLog
from tests.fakes.resources import FixedSecrets, InMemoryIdempotency, InMemoryResources
from tests.fakes.sessions import InMemorySessionStore
from tests.fakes.uow import InMemoryUnitOfWork
from tests.fakes.usage import InMemoryUsageRollups
from tests.fakes.webhooks import InMemoryWebhooks, ScriptedSender

__all__ = [
    "FakeClock",
    "FixedSecrets",
    "InMemoryAuditLog",
    "InMemoryIdempotency",
    "InMemoryKeys",
    "InMemoryQuotaStore",
    "InMemoryRequestLog",
    "InMemoryResources",
    "InMemorySessionStore",
    "InMemoryUnitOfWork",
    "InMemoryUsageRollups",
    "InMemoryWebhooks",
    "RecordingUsage",
    "ScriptedSender",
    "make_caller",
]
