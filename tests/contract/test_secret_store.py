"""SecretStore: FixedSecrets against PostgresSecrets."""

from __future__ import annotations

import pytest

from adapters.postgres.secrets import PostgresSecrets
from application.ports.secrets import SecretStore
from tests.contract.conftest import BACKENDS
from tests.fakes import FixedSecrets


@pytest.fixture(params=BACKENDS)
def stores(request: pytest.FixtureRequest) -> tuple[SecretStore, SecretStore]:
    """Two instances, as two processes would hold."""
    if request.param == "fake":
        return FixedSecrets(), FixedSecrets()
    pool = request.getfixturevalue("pool")
    return PostgresSecrets(pool, None), PostgresSecrets(pool, None)


async def test_every_instance_signs_with_one_lasting_secret(
    stores: tuple[SecretStore, SecretStore],
) -> None:
    first, second = stores
    secret = await first.cursor_secret()
    assert len(secret) >= 16
    assert await first.cursor_secret() == secret
    assert await second.cursor_secret() == secret
