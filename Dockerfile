# The image for web, worker, beat and migrate (see docker-compose.yml).

FROM python:3.11-slim-bookworm AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends gcc libpq-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY pyproject.toml ./
# Wheels for the runtime dependencies only; the project's own code is copied as files.
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > requirements.txt \
    && pip wheel --no-cache-dir --wheel-dir /wheels -r requirements.txt

FROM python:3.11-slim-bookworm
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpq5 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --create-home --home-dir /home/app app
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index /wheels/* && rm -rf /wheels

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYTHONPATH=/app
WORKDIR /app
# Everything the app needs; .dockerignore keeps out the tests, the venv and local data.
COPY . .

# Static files are collected at build time with a throwaway key; the running containers get
# theirs from the environment and refuse to start without it.
RUN APP_ENV=production \
    SECRET_KEY=build-time-only-collectstatic-key-0123456789-abcdefghijklmnop \
    ALLOWED_HOSTS=build.invalid \
    DATABASE_URL=postgres://build.invalid/collections \
    python manage.py collectstatic --noinput \
    && mkdir -p var \
    && chown -R app:app var

USER app
EXPOSE 8000
# gunicorn reads gunicorn.conf.py from /app: gthread, one process per core, 4 threads each.
CMD ["gunicorn", "collections_app.wsgi:application", "--bind=0.0.0.0:8000", "--access-logfile=-"]
