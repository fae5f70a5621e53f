# One image for the bots, the portal, `keerpunt init` and the backup (see compose.yaml).
# Debian's Python 3.11 with a virtual environment; every Python package comes from
# requirements.lock with its hash (L5). The project itself is the source tree in
# /opt/keerpunt/app, on the venv's path (synapse-config/ and content/ are found next to the
# packages); the widget is built before (`make setup`, or `make -C widget build`).
#
# Production: `docker compose build` (PyPI, each file checked against the lock's hash). Where a
# build cannot reach PyPI (`make compose-up` here), the host downloads the locked files and the
# build mounts them: PIP_SOURCES="--no-index --find-links /build/wheels".
#
# Few layers after the big ones: where the storage driver copies every layer (vfs), a source
# change costs one copy of the final COPY only.

FROM debian:bookworm-slim AS build
ARG PIP_SOURCES=""
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
# A compiler and libpq's headers: psycopg2 (Synapse's PostgreSQL driver) comes as source only.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3-venv python3-dev gcc libc6-dev libpq-dev \
 && rm -rf /var/lib/apt/lists/*
COPY requirements.lock /build/requirements.lock
RUN python3 -m venv /opt/keerpunt/venv \
 && /opt/keerpunt/venv/bin/pip install --require-hashes $PIP_SOURCES -r /build/requirements.lock \
 && site=$(/opt/keerpunt/venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])') \
 && echo /opt/keerpunt/app > "$site/keerpunt-app.pth" \
 && printf '#!/opt/keerpunt/venv/bin/python\nimport sys\nfrom keerpunt.cli import main\nsys.exit(main())\n' \
    > /opt/keerpunt/venv/bin/keerpunt \
 && chmod 755 /opt/keerpunt/venv/bin/keerpunt

FROM debian:bookworm-slim
# pg_dump/pg_restore of the same major version as the PostgreSQL service (compose.yaml).
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 libpq5 postgresql-client-15 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 991 --home-dir /data keerpunt \
 && mkdir -p /data/synapse /data/shared /data/bots /etc/caddy-out \
 && chown -R keerpunt /data /etc/caddy-out
# (A new named volume takes the owner of the path it is mounted on: so these exist, as 991's.)
ENV PATH=/opt/keerpunt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /opt/keerpunt/app
USER keerpunt
COPY --from=build /opt/keerpunt/venv /opt/keerpunt/venv
COPY . /opt/keerpunt/app
