# eth-hosting-monitor: the `monitor` command, running `monitor serve` by default (see docker-compose.yml).
#   docker build -t eth-hosting-monitor .
#   docker run --rm -p 127.0.0.1:9108:9108 eth-hosting-monitor
FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY . .
# The package and its dependencies from PyPI (wheels: coincurve, msgpack, ... need no compiler on amd64/arm64).
RUN pip install --prefix=/install .

FROM python:3.11-slim
COPY --from=build /install /usr/local
RUN useradd --system --uid 10001 --user-group --home-dir /data --create-home monitor
USER monitor
# Datasets, node key, crawl history (SQLite) and snapshots live in /data: mount a volume there.
ENV MONITOR_DATA_DIR=/data PYTHONUNBUFFERED=1
WORKDIR /data
VOLUME ["/data"]
EXPOSE 9108
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:9108/healthz', timeout=5)"]
ENTRYPOINT ["monitor"]
# Inside a container the HTTP server must listen on all interfaces to be reachable from the compose network.
CMD ["serve", "--listen", "0.0.0.0:9108"]
