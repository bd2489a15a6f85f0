"""Reading request_logs from tests: rows are written asynchronously, so wait for them."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import psycopg
from psycopg.rows import dict_row

SELECT = (
    "SELECT method, path, status_code, response_time_ms, ip_address, api_key_id, created_at"
    " FROM request_logs ORDER BY id"
)
# The contract: rows are visible within 2 s.
VISIBLE_WITHIN = 2.0


async def logged_rows(
    database_url: str, expected: int, within: float = VISIBLE_WITHIN, settle: float = 0.2
) -> list[dict[str, Any]]:
    """The rows once `expected` are there (or after `within` seconds), then `settle` seconds more so
    that a row too many would show."""
    deadline = time.monotonic() + within
    async with await psycopg.AsyncConnection.connect(
        database_url, autocommit=True, row_factory=dict_row
    ) as conn:
        while True:
            rows = await (await conn.execute(SELECT)).fetchall()
            if len(rows) >= expected or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.02)
        if settle:
            await asyncio.sleep(settle)
            rows = await (await conn.execute(SELECT)).fetchall()
    return rows


def logged_rows_now(database_url: str) -> list[dict[str, Any]]:
    with psycopg.connect(database_url, row_factory=dict_row) as conn:
        return conn.execute(SELECT).fetchall()
