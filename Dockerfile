# gremienbot container image. Build: `docker build -t gremienbot .` (or scripts/image: with
# podman on a Debian base, then run and checked); run and operate it: docs/deployment.md
# (docker-compose.example.yml runs it beside Synapse and PostgreSQL).
#
# Two stages. The builder makes a virtual environment in /opt/venv holding exactly the
# packages of requirements.lock (every version pinned, every file checked against its
# sha256) and then the gremienbot package itself; the final image gets that environment
# and nothing of the build (no sources, no pip cache, no build backend).

# One base for both stages: the venv's interpreter is a link to the base image's `python`
# (/usr/local/bin/python3.11 in python:3.11-slim, Debian's /usr/bin/python3.11 in the base
# scripts/image makes) and must find the same Python in the final stage. Any base with
# Python 3.11 as `python`, its `pip`, groupadd and useradd will do. For a byte-identical
# base, pin its digest: --build-arg PYTHON_IMAGE=python:3.11-slim@sha256:...
ARG PYTHON_IMAGE=python:3.11-slim

FROM ${PYTHON_IMAGE} AS builder

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore

# The venv gets no pip or setuptools of its own (the copies Python 3.11 bundles are old and
# nothing needs them at run time): the base image's pip installs into it with --python.
RUN python -m venv --without-pip /opt/venv

WORKDIR /src

# The whole runtime dependency tree, from the lock alone: --require-hashes refuses any file
# whose sha256 the lock does not list, --no-deps anything the lock does not name. The lock
# is copied before the sources, so this slow layer is rebuilt only when the lock changes.
# scripts/lock regenerates it from pyproject.toml.
COPY requirements.lock ./
RUN pip --python /opt/venv/bin/python install --require-hashes --no-deps -r requirements.lock

# The package itself, without dependencies (all of them are in the lock). pip check fails
# the build if the lock lacks something that gremienbot or a locked package requires.
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY commands ./commands
COPY storage ./storage
RUN pip --python /opt/venv/bin/python install --no-deps . \
 && pip --python /opt/venv/bin/python check


FROM ${PYTHON_IMAGE}

LABEL org.opencontainers.image.title="gremienbot" \
      org.opencontainers.image.description="Matrix bot that follows up the agreements of municipal education committees" \
      org.opencontainers.image.licenses="EUPL-1.2"

# matplotlib (the evaluation chart) keeps its font cache in MPLCONFIGDIR, fontconfig (the
# PDF papers) its own under XDG_CACHE_HOME: scratch directories, so /data (the bot user's
# home) holds only what the bot itself keeps.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    MPLCONFIGDIR=/tmp/matplotlib \
    XDG_CACHE_HOME=/tmp/cache

# The PDF papers (WeasyPrint) need Pango and HarfBuzz's font subsetter from Debian. The base
# scripts/image makes has them already (and may build without a network); python:3.11-slim
# gets them here, and apt's lists are removed again.
RUN if ! ldconfig -p | grep -q 'libpangoft2-1.0.so.0' \
      || ! ldconfig -p | grep -q 'libharfbuzz-subset.so.0'; then \
      apt-get update \
      && apt-get install -y --no-install-recommends \
           libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 \
      && rm -rf /var/lib/apt/lists/*; \
    fi

# A non-root user with a fixed uid/gid (1000), so that a bind-mounted host directory can be
# given to it (chown 1000:1000). /data holds the database (SQLite unless database.url says
# otherwise), the login, the encryption store and the cross-signing keys: owned by that user
# and 0700, nobody else may read it. Docker copies owner and mode into a new named volume
# mounted there; for a bind mount, set them on the host. /keys, the same, is where a volume
# of its own keeps the voter key apart from /data and the database (privacy.voter_key_file,
# docs/deployment.md).
RUN groupadd --gid 1000 gremienbot \
 && useradd --uid 1000 --gid 1000 --home-dir /data --no-create-home \
        --shell /usr/sbin/nologin gremienbot \
 && install -d -m 0700 -o gremienbot -g gremienbot /data /keys

COPY --from=builder /opt/venv /opt/venv

USER gremienbot
WORKDIR /data
# Declared after /data is made: a RUN after VOLUME could no longer change it.
VOLUME ["/data"]

# /healthz and /metrics (Prometheus); the config must say metrics: {listen: "0.0.0.0:9464"}.
EXPOSE 9464

# `gremienbot healthcheck` asks the bot's own /healthz at metrics.listen and exits 0 on 200:
# the last sync with the homeserver succeeded recently and the database answers. The start
# period covers migrations, the first login and the first sync.
HEALTHCHECK --interval=30s --timeout=10s --start-period=2m --retries=3 \
    CMD ["gremienbot", "healthcheck", "--config", "/config/config.yaml"]

# The configuration is mounted read-only at /config (it must say `data_dir: /data`); secrets
# can come from the environment instead of the file: GREMIENBOT_PASSWORD or
# GREMIENBOT_ACCESS_TOKEN, GREMIENBOT_DATABASE_URL, GREMIENBOT_RECOVERY_KEY. Other
# subcommands replace CMD, e.g. `docker run --rm -v "$PWD/config:/config:ro" gremienbot
# check-config --config /config/config.yaml`.
ENTRYPOINT ["gremienbot"]
CMD ["run", "--config", "/config/config.yaml"]
