# Offboard's production image: the bot alone, live mode only (the embedded Partner Center sandbox
# is not in it, so a misconfigured deployment fails at start instead of serving demo data).
# Built in Azure with `az acr build` (README "Going live"); linted by tests/infra.
#
# Base: the Debian 12 slim Python image, pinned to an exact patch tag and its digest. The digest
# is the one public Dockerfiles cite for python:3.11.14-slim-bookworm (the multi-platform index);
# it was not re-read from Docker Hub here (unreachable from the build machine). Check it, and
# move tag and digest forward together for security updates:
#   docker buildx imagetools inspect python:3.11.14-slim-bookworm
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm@sha256:65a93d69fa75478d554f4ad27c85c1e69fa184956261b4301ebaf6dbb0a3543d

# ---- Dependencies: exactly the locked versions, each checked against its hash ----
FROM ${PYTHON_IMAGE} AS dependencies
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1
COPY requirements.lock /tmp/requirements.lock
# --no-deps: the lock already lists every transitive dependency; nothing unlisted gets in.
# Wheels except aiounittest 1.3.0 (botbuilder-dialogs' pin), which PyPI has as a source archive
# only: its hash is checked, the setuptools pip builds it with is not.
RUN python -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-cache-dir --require-hashes --no-deps --prefer-binary -r /tmp/requirements.lock

# ---- Runtime ----
FROM ${PYTHON_IMAGE}
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    OFFBOARD_HOST=0.0.0.0 \
    OFFBOARD_PORT=3978 \
    OFFBOARD_ENV_FILE=
# A user of its own, no login shell, no home worth writing to; the code stays root-owned and
# read-only to it. .offboard/ is the only place it writes (the local token cache's default path).
RUN groupadd --system --gid 10001 offboard \
 && useradd --system --uid 10001 --gid offboard --no-create-home --shell /usr/sbin/nologin offboard \
 && mkdir -p /app/.offboard \
 && chown offboard:offboard /app/.offboard \
 && chmod 0700 /app/.offboard
COPY --from=dependencies /opt/venv /opt/venv
WORKDIR /app
# The product code only: no tests, sandbox, benchmarks, scripts or developer files.
COPY app.py ./
COPY bot/ bot/
COPY dialogs/ dialogs/
COPY cards/ cards/
COPY removal/ removal/
COPY partner_center/ partner_center/
COPY storage/ storage/
COPY golive/ golive/
USER 10001:10001
EXPOSE 3978
# Python, not curl (slim has none): healthy when /healthz answers 200 ("ok"), unhealthy on 503.
HEALTHCHECK --interval=30s --timeout=12s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import os, sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('OFFBOARD_PORT', '3978'), timeout=10).status == 200 else 1)"]
CMD ["python", "app.py"]
