# Casework: the web app, API and portal (`serve`) or the timer/outbox/mail worker (`worker`),
# one image for both.  Installs exactly the versions of requirements.lock.
#   docker build -t casework .
#   docker compose up            (PostgreSQL, schema, two server processes, one worker)
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    CASEWORK_PRODUCTION=1 \
    CASEWORK_MAILDIR=/var/lib/casework/mail-outbox

# An unprivileged user owns nothing but its data folder: the code is read-only to it.
RUN useradd --system --home-dir /var/lib/casework --create-home --shell /usr/sbin/nologin casework

WORKDIR /app
COPY pyproject.toml requirements.lock README.md run.py ./
COPY casework casework
COPY cli cli
COPY connectors connectors
COPY designer designer
COPY engine engine
COPY mail mail
COPY people people
COPY processes processes
COPY rules rules
COPY web web
RUN pip install -c requirements.lock -e . \
    && python -m compileall -q /app

USER casework
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4)"]
CMD ["python", "run.py", "serve", "--host", "0.0.0.0", "--port", "8000", "--no-worker"]
