# gremienbot: runs `gremienbot run` as a non-root user; the data directory is a volume.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY commands ./commands
COPY storage ./storage
RUN pip install . \
 && useradd --system --uid 1000 --home-dir /data --shell /usr/sbin/nologin gremienbot \
 && mkdir -p /data /config && chown gremienbot /data

USER gremienbot
VOLUME ["/data"]
# config.yaml is mounted read-only at /config; set `data_dir: /data` in it.
# Secrets can come from GREMIENBOT_PASSWORD / GREMIENBOT_ACCESS_TOKEN instead of the file.
ENTRYPOINT ["gremienbot"]
CMD ["run", "--config", "/config/config.yaml"]
