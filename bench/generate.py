"""Fill a keygate (or peer) database with benchmark data, straight through COPY.

    uv run python bench/generate.py --db postgresql://postgres@127.0.0.1:5432/kg \\
        --resources 100000 --user bench [--logs 10000000] [--log-days 7] [--truncate]

Resources: names and descriptions drawn from a small vocabulary (so `search=` on a
common word such as "cloud" matches a few % of rows), categories cat-0..cat-19,
JSON metadata, created_at spread over the last 90 days. The `resources` columns are
the same in keygate and the Express peer, so one command fills either.

--logs N fills request_logs (keygate's schema) with N rows server-side through
generate_series, spread evenly over the last --log-days days, after creating the
daily partitions with request_logs_ensure_partitions(). api_key_id is an existing
key id or NULL.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time

import psycopg

WORDS = [
    "cloud",
    "data",
    "fast",
    "secure",
    "api",
    "service",
    "report",
    "daily",
    "sync",
    "backup",
    "invoice",
    "customer",
    "order",
    "payment",
    "stream",
    "event",
    "metric",
    "alert",
    "user",
    "account",
    "billing",
    "search",
    "index",
    "cache",
    "queue",
    "worker",
    "storage",
    "image",
    "video",
    "audio",
    "document",
    "archive",
    "export",
    "import",
    "analytics",
    "dashboard",
    "network",
    "gateway",
    "proxy",
    "token",
    "session",
    "profile",
    "team",
    "project",
    "task",
    "note",
    "calendar",
    "mail",
]
ADJECTIVES = [
    "blue",
    "quick",
    "silent",
    "golden",
    "bright",
    "red",
    "smart",
    "tiny",
    "large",
    "remote",
    "local",
    "shared",
]
STATUSES = ("active", "draft", "archived")


def resource_rows(n: int, categories: int, user: str, rng: random.Random):
    now = time.time()
    for i in range(n):
        words = rng.sample(WORDS, 3)
        name = f"{rng.choice(ADJECTIVES)} {words[0]} {words[1]} {i}"
        description = (
            f"The {words[0]} {words[1]} for {words[2]} handling; "
            + " ".join(rng.choices(WORDS, k=rng.randint(8, 24)))
            + "."
        )
        metadata = {
            "priority": rng.randint(1, 5),
            "status": rng.choice(STATUSES),
            "tags": rng.sample(WORDS, rng.randint(1, 4)),
            "owner": {"team": f"team-{rng.randint(1, 30)}", "seq": i},
        }
        created = now - rng.uniform(0, 90 * 86400)
        updated = min(now, created + rng.uniform(0, 86400))
        yield (
            name,
            description,
            f"cat-{i % categories}",
            json.dumps(metadata),
            user,
            time.strftime("%Y-%m-%d %H:%M:%S+00", time.gmtime(created)),
            time.strftime("%Y-%m-%d %H:%M:%S+00", time.gmtime(updated)),
        )


def fill_resources(conn: psycopg.Connection, n: int, categories: int, user: str, seed: int) -> None:
    rng = random.Random(seed)
    t0 = time.monotonic()
    copy_sql = (
        "COPY resources (name, description, category, metadata, created_by, created_at,"
        " updated_at) FROM STDIN"
    )
    # Generated rows are not changes anyone subscribed to hear about (the peer's
    # database has no such setting; an unknown one is harmless there).
    conn.execute("SET LOCAL keygate.resource_events = 'off'")
    with conn.cursor() as cur, cur.copy(copy_sql) as copy:
        for row in resource_rows(n, categories, user, rng):
            copy.write_row(row)
    conn.commit()
    conn.execute("ANALYZE resources")
    print(f"resources: {n} rows in {time.monotonic() - t0:.1f} s")


LOGS_SQL = """
INSERT INTO request_logs (api_key_id, method, path, status_code, response_time_ms,
                          ip_address, created_at)
SELECT CASE WHEN g %% 10 = 0 THEN NULL ELSE (%(keys)s::int[])[1 + g %% %(nkeys)s] END,
       (ARRAY['GET','GET','GET','POST','PUT'])[1 + g %% 5],
       (ARRAY['/api/resources','/api/resources/1','/api/health','/api/keys'])[1 + g %% 4],
       (ARRAY[200,200,200,201,404,429,401])[1 + g %% 7],
       (g %% 97) / 7.0,
       '127.0.0.' || (g %% 250),
       %(start)s::timestamptz + (g * %(step)s) * interval '1 microsecond'
FROM generate_series(%(lo)s::bigint, %(hi)s::bigint) AS g
"""


def fill_logs(conn: psycopg.Connection, n: int, days: int, chunk: int = 1_000_000) -> None:
    keys = [r[0] for r in conn.execute("SELECT id FROM api_keys ORDER BY id").fetchall()]
    if not keys:
        sys.exit("generate: no api_keys row; issue a key first (keygate keys issue ...)")
    # Spread rows over [now - days, now), into the daily UTC partitions.
    (start,) = conn.execute(
        "SELECT date_trunc('day', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'"
        " - make_interval(days => %s)",
        (days - 1,),
    ).fetchone()
    (made,) = conn.execute(
        "SELECT request_logs_ensure_partitions(%s::date, %s)", (start.date(), days + 1)
    ).fetchone()
    conn.commit()
    (span_us,) = conn.execute(
        "SELECT (extract(epoch FROM now() - %s::timestamptz) * 1e6)::bigint", (start,)
    ).fetchone()
    step = max(1, span_us // n)
    print(f"request_logs: {made} partition(s) created; {n} rows from {start} every {step} µs")
    t0 = time.monotonic()
    conn.execute("SET synchronous_commit = off")
    for lo in range(0, n, chunk):
        hi = min(n, lo + chunk) - 1
        params = {
            "keys": keys,
            "nkeys": len(keys),
            "start": start,
            "step": step,
            "lo": lo,
            "hi": hi,
        }
        conn.execute(LOGS_SQL, params)
        conn.commit()
        print(f"  {hi + 1}/{n} rows, {time.monotonic() - t0:.0f} s", flush=True)
    conn.execute("ANALYZE request_logs")
    print(f"request_logs: {n} rows in {time.monotonic() - t0:.1f} s")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--db", required=True, help="libpq URL of the database to fill")
    p.add_argument("--resources", type=int, default=100_000)
    p.add_argument("--categories", type=int, default=20)
    p.add_argument("--user", default="bench", help="created_by of every resource")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--truncate", action="store_true", help="empty resources first")
    p.add_argument("--logs", type=int, default=0, help="request_logs rows to add")
    p.add_argument("--log-days", type=int, default=7)
    a = p.parse_args()
    with psycopg.connect(a.db) as conn:
        if a.truncate:
            conn.execute("TRUNCATE resources RESTART IDENTITY")
            conn.commit()
        if a.resources:
            fill_resources(conn, a.resources, a.categories, a.user, a.seed)
        if a.logs:
            fill_logs(conn, a.logs, a.log_days)


if __name__ == "__main__":
    main()
