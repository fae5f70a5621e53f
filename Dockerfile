# One image for the bots, the portal, `keerpunt init` and the backup (see compose.yaml).
# Debian's Python 3.11 with a virtual environment; every Python package comes from
# requirements.lock with its hash (L5), the project itself on top without dependencies.
#
# Production: `docker compose build` (PyPI with hashes). Where PyPI cannot be reached from a
# build (the local run, docs/deploy.md), `make compose-up` downloads the locked files into
# deploy/wheels/ on the host first and passes PIP_SOURCES="--no-index --find-links ..." here.
# The widget is built on the host first (`make setup`, or `make -C widget build`).

FROM debian:bookworm-slim AS build
ARG PIP_SOURCES=""
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
# A compiler and libpq's headers: psycopg2 (Synapse's PostgreSQL driver) comes as source only.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3-venv python3-dev gcc libc6-dev libpq-dev \
 && rm -rf /var/lib/apt/lists/*
COPY requirements.lock /build/requirements.lock
COPY deploy/wheels/ /build/wheels/
RUN python3 -m venv /opt/keerpunt \
 && /opt/keerpunt/bin/pip install --require-hashes $PIP_SOURCES -r /build/requirements.lock
COPY . /app
# Editable: synapse-config/ and content/ are found next to the packages in /app.
RUN rm -rf /app/deploy/wheels \
 && test -f /app/widget/dist/keerpunt-widget.json || { echo "widget/dist is missing: run make -C widget build first" >&2; exit 1; } \
 && /opt/keerpunt/bin/pip install --no-deps $PIP_SOURCES -e /app

FROM debian:bookworm-slim
# pg_dump/pg_restore of the same major version as the PostgreSQL service (compose.yaml).
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 libpq5 postgresql-client-15 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 991 --home-dir /data keerpunt \
 && mkdir -p /data && chown keerpunt /data
COPY --from=build /opt/keerpunt /opt/keerpunt
COPY --from=build /app /app
ENV PATH=/opt/keerpunt/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
USER keerpunt
CMD ["keerpunt", "--help"]
