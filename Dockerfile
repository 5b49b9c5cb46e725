# clusterwatch as a container: the service on embedded SQLite, data in a volume.
#   docker build -t clusterwatch .
#   docker run -d -p 8080:8080 -v clusterwatch-data:/data clusterwatch
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    CLUSTERWATCH_DATA_DIR=/data \
    CLUSTERWATCH_HTTP_HOST=0.0.0.0 \
    CLUSTERWATCH_HTTP_PORT=8080 \
    CLUSTERWATCH_FEED_BASE_URL=http://localhost:8080 \
    SCRAPY_SETTINGS_MODULE=scraper.settings

WORKDIR /app
COPY pyproject.toml README.md scrapy.cfg ./
COPY scraper ./scraper
COPY spiders ./spiders
COPY db ./db
COPY monitor ./monitor
RUN pip install --no-cache-dir . \
    && useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin clusterwatch \
    && mkdir -p /data \
    && chown clusterwatch /data

USER 10001
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4).status == 200 else 1)"]
CMD ["clusterwatch", "run"]
