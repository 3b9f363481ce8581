# One image for every editbench role (worker, beat, flower, producer CLI). It runs as the
# unprivileged user `editbench` (uid 10001): a bind-mounted EDITBENCH_HOME must be writable by it.
FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 EDITBENCH_HOME=/data
WORKDIR /app
RUN pip install --no-cache-dir torch==2.14.1 torchvision==0.29.1
COPY pyproject.toml README.md ./
COPY editbench ./editbench
RUN pip install --no-cache-dir -e ".[postgres]" \
 && useradd --uid 10001 --user-group --create-home --shell /usr/sbin/nologin editbench \
 && mkdir -p /data && chown editbench:editbench /data
USER 10001:10001
ENTRYPOINT ["editbench"]
