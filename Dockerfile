# keygate API image: uv resolves exactly what uv.lock pins.
FROM python:3.11-slim AS base
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy
RUN pip install --no-cache-dir uv
WORKDIR /app
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --locked --no-dev --no-install-project
COPY domain ./domain
COPY application ./application
COPY adapters ./adapters
COPY entrypoints ./entrypoints
RUN uv sync --locked --no-dev
RUN useradd --system --uid 10001 keygate
USER keygate
ENV HOST=0.0.0.0 PORT=8000
EXPOSE 8000
# SIGTERM reaches keygate directly (exec form): it drains requests and log rows, then exits.
CMD ["/app/.venv/bin/keygate", "serve"]
