# keygate API image: uv installs exactly what uv.lock pins, without the dev tools and
# without the embedded PostgreSQL (dependency group "embedded"): the image always runs
# on DATABASE_URL (docker-compose.yml sets it).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy \
    PATH="/app/.venv/bin:$PATH"
RUN pip install --no-cache-dir uv==0.13.9
WORKDIR /app
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --locked --no-default-groups --no-install-project
COPY domain ./domain
COPY application ./application
COPY adapters ./adapters
COPY entrypoints ./entrypoints
RUN uv sync --locked --no-default-groups \
    && useradd --system --uid 10001 --no-create-home keygate
USER 10001
ENV HOST=0.0.0.0 PORT=8000
EXPOSE 8000
# SIGTERM reaches keygate directly (exec form): it drains requests and log rows, then exits.
# `docker compose exec api keygate ...` finds the same command on PATH.
CMD ["keygate", "serve"]
