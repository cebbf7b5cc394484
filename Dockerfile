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

# The account the server runs as, with a group of its own of the same fixed number (10001, not
# a system group's): files it makes in a mounted /data read as 10001:10001 on the host.
RUN groupadd --gid 10001 mimamori \
    && useradd --system --uid 10001 --gid 10001 --home-dir /data --shell /usr/sbin/nologin \
        mimamori \
    && mkdir -p /data && chown mimamori:mimamori /data

WORKDIR /app
# The dependencies in a layer of their own, read from pyproject.toml: a change to the code
# alone does not install them again.
COPY pyproject.toml ./
RUN python -c "import tomllib; print(*tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies'], sep=chr(10))" \
        > /tmp/dependencies.txt \
    && pip install --no-cache-dir -r /tmp/dependencies.txt \
    && rm /tmp/dependencies.txt
COPY README.md ./
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
# The project alone: its dependencies are installed above.
RUN pip install --no-cache-dir --no-deps .

USER mimamori
# The SQLite database (and its WAL files) live here: mount a volume to keep them.
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/livez' % os.environ.get('MIMAMORI_PORT', '8080'), timeout=4)"]
# SIGTERM lets the process finish the sweep in flight and close the database cleanly.
STOPSIGNAL SIGTERM
CMD ["mimamori", "serve"]
