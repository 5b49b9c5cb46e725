# clusterwatch as a container: the service on embedded SQLite, data in a volume.
#   docker build -t clusterwatch .
#   docker run -d -p 8080:8080 -v clusterwatch-data:/data --stop-timeout 45 clusterwatch
# --stop-timeout: a stop lets running crawls finish for shutdown_grace_seconds (20 s) before
# they are killed and recorded; Docker's default 10 s would SIGKILL the service mid-way.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    CLUSTERWATCH_DATA_DIR=/data \
    CLUSTERWATCH_HTTP_HOST=0.0.0.0 \
    CLUSTERWATCH_HTTP_PORT=8080 \
    SCRAPY_SETTINGS_MODULE=scraper.settings

WORKDIR /app
# Optional extras, comma-separated: EXTRAS=postgres,workers for the Scrapyd setup
# (deploy/docker-compose.yml).
ARG EXTRAS=""
# Dependencies first, in their own layer: a source change does not reinstall them.
COPY pyproject.toml ./
RUN EXTRAS="$EXTRAS" python -c "import os, tomllib; p = tomllib.load(open('pyproject.toml', 'rb'))['project']; extras = [e for e in os.environ['EXTRAS'].split(',') if e]; print('\n'.join(p['dependencies'] + [d for e in extras for d in p['optional-dependencies'][e]]))" > /tmp/requirements.txt \
    && pip install --no-cache-dir -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

COPY README.md scrapy.cfg ./
COPY scraper ./scraper
COPY spiders ./spiders
COPY db ./db
COPY monitor ./monitor
RUN pip install --no-cache-dir --no-deps . \
    && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin clusterwatch \
    && mkdir -p /data \
    && chown clusterwatch /data

USER 10001
VOLUME ["/data"]
EXPOSE 8080
STOPSIGNAL SIGTERM
# Follows http_port wherever it is configured (environment or a mounted clusterwatch.toml).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-m", "monitor.healthcheck"]
CMD ["clusterwatch", "run"]
