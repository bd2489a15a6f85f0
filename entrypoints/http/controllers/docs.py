"""GET /docs: a page that renders /api/docs with Swagger UI served from this process.

Swagger UI (Apache-2.0) comes from the swagger-ui-bundle-v2 wheel, so the page works
with no internet access and loads nothing from another host.
"""

from __future__ import annotations

from typing import Any

from litestar import MediaType, get
from litestar.static_files import create_static_files_router
from swagger_ui_bundle import swagger_ui_path

STATIC_PATH = "/docs/static"
SCHEMA_URL = "/api/docs"

PAGE = f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>keygate API</title>
  <link rel="stylesheet" href="{STATIC_PATH}/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <noscript>The interactive reference needs JavaScript; the raw OpenAPI document is at
    <a href="{SCHEMA_URL}">{SCHEMA_URL}</a>.</noscript>
  <script src="{STATIC_PATH}/swagger-ui-bundle.js"></script>
  <script>
    window.ui = SwaggerUIBundle({{url: "{SCHEMA_URL}", dom_id: "#swagger-ui", validatorUrl: null}});
  </script>
</body>
</html>
"""


@get("/docs", media_type=MediaType.HTML, include_in_schema=False, sync_to_thread=False)
def docs_page() -> str:
    return PAGE


def docs_handlers() -> list[Any]:
    return [
        docs_page,
        create_static_files_router(
            path=STATIC_PATH,
            directories=[str(swagger_ui_path)],
            include_in_schema=False,
        ),
    ]
