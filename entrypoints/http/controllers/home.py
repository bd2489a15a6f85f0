"""GET /: where a person who opens the server's address in a browser goes next."""

from __future__ import annotations

from html import escape

from litestar import MediaType, Request, get

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>keygate</title>
<link rel="stylesheet" href="/dashboard/static/style.css">
</head>
<body>
<main class="page">
<h1>keygate</h1>
<p>An API with keys, per-key rate limits, a log of every request and CRUD on resources.</p>
<ul>
  <li><a href="/docs">API reference</a> (interactive; the OpenAPI document is
    <a href="/api/docs">/api/docs</a>)</li>
  <li><a href="/dashboard">Dashboard</a>: your keys, their usage and recent requests</li>
  <li><a href="/api/health">Health</a></li>
</ul>
<h2>A first key</h2>
<pre><code>curl -X POST {base}/api/auth/register -H 'Content-Type: application/json' \\
  -d '{{"name": "my app", "permissions": ["read", "write"]}}'</code></pre>
<p class="help">The key in the answer is shown once: send it as
<code>Authorization: Bearer rk_…</code>.</p>
</main>
</body>
</html>
"""


@get("/", media_type=MediaType.HTML, include_in_schema=False, sync_to_thread=False)
def home(request: Request) -> str:  # type: ignore[type-arg]
    return PAGE.format(base=escape(str(request.base_url).rstrip("/")))
