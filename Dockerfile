# syntax=docker/dockerfile:1
# One image per service, all from this file:
#   docker build --target gateway   -t pdfonto/gateway .
#   docker build --target parse     -t pdfonto/parse --build-arg MINERU_MODELS_TIER=standard .   # GPU image
# Targets: gateway, source, router, parse, structure, extract, migrate. Every service listens on $PORT
# (8080, what Knative sets). Dependencies sit in their own layers, keyed on pyproject.toml only, so
# editing code rebuilds nothing but the final COPY.

ARG PYTHON_VERSION=3.11

# ---------------------------------------------------------------------------------------------------
FROM python:${PYTHON_VERSION}-slim-bookworm AS base
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONPATH=/app \
    PORT=8080
RUN groupadd --system --gid 10001 pdfonto \
 && useradd --system --uid 10001 --gid pdfonto --create-home --home-dir /home/pdfonto pdfonto
WORKDIR /app
COPY pyproject.toml ./
# Writes the requirement lines of the project plus the extras named in $1 (pyproject is the only list).
RUN printf '%s\n' \
      'import sys, tomllib' \
      'project = tomllib.load(open("/app/pyproject.toml", "rb"))["project"]' \
      'extras = project["optional-dependencies"]' \
      'lines = project["dependencies"] + [d for name in sys.argv[1:] for d in extras[name]]' \
      'print("\n".join(lines))' > /usr/local/bin/requirements.py \
 && python /usr/local/bin/requirements.py > /tmp/requirements.txt \
 && pip install -r /tmp/requirements.txt

# ---------------------------------------------------------------------------------------------------
# The application code, added last to every target so code changes never invalidate dependency layers.
FROM base AS app-code
COPY core/ /app/core/
COPY functions/ /app/functions/
COPY gateway/ /app/gateway/
COPY pdfonto/ /app/pdfonto/

# ---------------------------------------------------------------------------------------------------
FROM base AS gateway
RUN python /usr/local/bin/requirements.py gateway > /tmp/requirements.txt && pip install -r /tmp/requirements.txt
COPY --from=app-code /app /app
USER 10001
EXPOSE 8080
# --keep-alive outlasts the proxy's idle connections (see tests/deploy/commands.py).
CMD ["gunicorn", "--threads", "8", "--timeout", "120", "--keep-alive", "120", "gateway:create_app()"]

# ---------------------------------------------------------------------------------------------------
FROM base AS source
COPY --from=app-code /app /app
USER 10001
EXPOSE 8080
CMD ["functions-framework", "--target", "handle", "--source", "functions/source/main.py", "--signature-type", "http"]

# ---------------------------------------------------------------------------------------------------
FROM base AS router
COPY --from=app-code /app /app
USER 10001
EXPOSE 8080
CMD ["functions-framework", "--target", "handle", "--source", "functions/router/main.py", "--signature-type", "http"]

# ---------------------------------------------------------------------------------------------------
FROM base AS parse
# OpenCV (rapidocr, MinerU's layout tools) needs these shared libraries at import time.
RUN apt-get update \
 && apt-get install --yes --no-install-recommends libgl1 libglib2.0-0 \
 && rm -rf /var/lib/apt/lists/*
RUN python /usr/local/bin/requirements.py parse > /tmp/requirements.txt && pip install -r /tmp/requirements.txt
# Empty (default): the flash tier, which needs no weights. basic/standard: bake that tier's models into
# the image so a GPU pod starts without downloading anything.
ARG MINERU_MODELS_TIER=""
ENV MINERU_HOME=/opt/mineru \
    MINERU_MODEL_SOURCE=local
RUN mkdir -p /opt/mineru \
 && if [ -n "$MINERU_MODELS_TIER" ]; then \
      MINERU_MODEL_SOURCE=huggingface mineru-kit models download --tier "$MINERU_MODELS_TIER"; \
    fi \
 && chown -R 10001:10001 /opt/mineru
COPY --from=app-code /app /app
USER 10001
EXPOSE 8080
CMD ["functions-framework", "--target", "handle", "--source", "functions/parse/main.py", "--signature-type", "cloudevent"]

# ---------------------------------------------------------------------------------------------------
FROM base AS structure
COPY --from=app-code /app /app
USER 10001
EXPOSE 8080
CMD ["functions-framework", "--target", "handle", "--source", "functions/structure/main.py", "--signature-type", "cloudevent"]

# ---------------------------------------------------------------------------------------------------
FROM base AS extract
RUN python /usr/local/bin/requirements.py extract > /tmp/requirements.txt && pip install -r /tmp/requirements.txt
COPY --from=app-code /app /app
USER 10001
EXPOSE 8080
CMD ["functions-framework", "--target", "handle", "--source", "functions/extract/main.py", "--signature-type", "cloudevent"]

# ---------------------------------------------------------------------------------------------------
# Applies database migrations and exits (Helm pre-install/pre-upgrade hook, compose one-shot).
FROM base AS migrate
COPY --from=app-code /app /app
USER 10001
CMD ["python", "-m", "pdfonto.cli", "migrate"]
