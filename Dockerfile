# CoopMarket: one image for the web process (gunicorn), the Celery worker and beat.
# Build:  docker build -t coopmarket .
# Run:    see docker-compose.yml and docs/operations.md. Every setting comes from the environment (.env.example).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    # Run from the source tree in /app, so that templates, static files and translations are found next to the code.
    PYTHONPATH=/app \
    DJANGO_SETTINGS_MODULE=marketplace.settings

RUN groupadd --system --gid 1000 coopmarket \
    && useradd --system --uid 1000 --gid coopmarket --home-dir /app --shell /usr/sbin/nologin coopmarket

WORKDIR /app

# Install the project and its pinned dependencies.
COPY pyproject.toml README.md ./
COPY marketplace ./marketplace
COPY traceability ./traceability
COPY catalogue ./catalogue
COPY orders ./orders
COPY payments ./payments
RUN pip install .

COPY manage.py ./
COPY locale ./locale

# Static files are collected into the image and served by WhiteNoise. Settings need a key and a database URL
# to load (with no DATABASE_URL they would start the embedded PostgreSQL); nothing connects during the build.
RUN DEBUG=false SECRET_KEY=collectstatic-only DATABASE_URL=postgres://build@localhost/build \
    python manage.py collectstatic --no-input --verbosity 0 \
    && mkdir -p /app/media \
    && chown -R coopmarket:coopmarket /app/media

USER coopmarket

EXPOSE 8000

# The default process is the web server; docker-compose.yml runs the worker and beat from the same image.
# WEB_CONCURRENCY (gunicorn's own variable) sets the number of worker processes; GUNICORN_CMD_ARGS (also gunicorn's
# own) makes them threaded with keep-alive, which measured best on 2 cores (docs/performance.md). Every thread holds
# one database connection: PostgreSQL's max_connections must cover WEB_CONCURRENCY x threads per web container.
ENV WEB_CONCURRENCY=2 \
    GUNICORN_CMD_ARGS="--worker-class gthread --threads 4 --keep-alive 30"
CMD ["gunicorn", "marketplace.wsgi:application", \
     "--bind", "0.0.0.0:8000", \
     "--access-logfile", "-", \
     "--forwarded-allow-ips", "*", \
     "--worker-tmp-dir", "/dev/shm", \
     "--control-socket", "/tmp/gunicorn.ctl", \
     "--timeout", "60"]
