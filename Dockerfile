FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    MIMAMORI_DATABASE=/data/mimamori.db \
    MIMAMORI_HOST=0.0.0.0 \
    MIMAMORI_PORT=8080 \
    MIMAMORI_IN_CONTAINER=1

# A Japanese font: `mimamori richmenu` draws the tiles' labels with it.
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-ipafont-gothic \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md ./
COPY ground ./ground
COPY storage ./storage
COPY care ./care
COPY scheduler ./scheduler
COPY liff ./liff
COPY admin ./admin
COPY bot ./bot
COPY phone ./phone
COPY server ./server
COPY simulator ./simulator
COPY mimamori ./mimamori
COPY locales ./locales
RUN pip install --no-cache-dir . \
    && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin mimamori \
    && mkdir -p /data && chown mimamori:mimamori /data

USER mimamori
# The SQLite database (and its WAL files) live here: mount a volume to keep them.
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/livez' % os.environ.get('MIMAMORI_PORT', '8080'), timeout=4)"]
# SIGTERM lets the process finish the sweep in flight and close the database cleanly.
STOPSIGNAL SIGTERM
CMD ["mimamori", "serve"]
