# One image for the bots, the portal and `keerpunt init` (see compose.yaml).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
RUN apt-get update && apt-get install -y --no-install-recommends libpq5 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY . /app
# Editable install: synapse-config/ and content/ are found next to the packages.
RUN pip install --no-cache-dir -e . && useradd --system --uid 991 keerpunt && mkdir -p /data && chown keerpunt /data
USER keerpunt
