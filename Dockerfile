# The production image: Django under gunicorn, talking to the MongoDB in MONGO_URI.
# No development tools and no embedded database in here.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

WORKDIR /web

# The same pinned set, installed the same way, as `make install` (see README.md).
COPY requirements.txt requirements-nodeps.txt build-constraints.txt ./
RUN pip install "pip==26.3" \
    && pip install -r requirements.txt \
    && pip install --no-deps --build-constraint build-constraints.txt -r requirements-nodeps.txt

COPY . .
# The static files and their manifest, built under the production settings the image runs
# with (CompressedManifestStaticFilesStorage); the placeholders below exist only for this step.
RUN DJANGO_ENV=production DJANGO_ALLOWED_HOSTS=build.invalid MONGO_URI=mongodb://build.invalid/topbox \
    TOPBOX_DATA_DIR=/tmp DJANGO_SECRET_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(50))')" \
    python manage.py collectstatic --noinput --verbosity 0
RUN useradd --create-home --uid 10001 topbox \
    && mkdir -p /data \
    && chown topbox /data

USER topbox
ENV DJANGO_ENV=production \
    TOPBOX_DATA_DIR=/data \
    PORT=5000
EXPOSE 5000

CMD ["sh", "-c", "python manage.py migrate --noinput && python manage.py ensure_indexes && exec gunicorn topbox.wsgi --bind 0.0.0.0:${PORT} --workers ${WEB_CONCURRENCY:-2} --access-logfile -"]
