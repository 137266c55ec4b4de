# medcareer-bot: the Telegram service in a slim image.
#   docker build -t medcareer-bot .
#   docker run -d --name medcareer-bot --restart on-failure \
#     -e TELEGRAM_BOT_TOKEN=... -v medcareer-state:/state -v "$PWD/config:/config:ro" medcareer-bot
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN groupadd --system bot && useradd --system --gid bot --home-dir /app --shell /usr/sbin/nologin bot

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
RUN pip install .
# The knowledge is read from /app/knowledge (knowledge_dir: knowledge, relative to the working directory);
# mount another folder over it to change the knowledge without rebuilding, then send /reload.
COPY knowledge ./knowledge

# SQLite state lives on a volume: point state_path at it (state_path: /state/medcareer.sqlite3).
RUN mkdir /state && chown bot:bot /state
VOLUME ["/state"]

USER bot
# Webhook mode listens here (webhook.listen: 0.0.0.0, webhook.port: 8443); polling needs no port.
EXPOSE 8443
STOPSIGNAL SIGTERM
CMD ["python", "-m", "bot", "run", "--config", "/config/config.yaml"]
