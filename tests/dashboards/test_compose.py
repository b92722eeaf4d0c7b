"""docker-compose.yml validates (`docker-compose config -q`) and wires the stack as documented.

No Docker engine runs here: the compose file is validated and inspected, not started. The normalized output of
`docker-compose config` (2-space YAML) is inspected line by line, so no YAML library is needed.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from dash_tools import COMPOSE_FILE, DASHBOARDS, REPO, require_tool, run

SERVICES = {"postgres", "monitor", "crawler", "crawler-b", "prometheus", "alertmanager", "grafana"}
CRAWLERS = ("crawler", "crawler-b")


def _compose(
    *args: str, password: str | None = "test-only-password", db_password: str | None = "test-only-db-password"
) -> subprocess.CompletedProcess[str]:
    binary = require_tool("docker-compose")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GF_", "COMPOSE_", "MONITOR_", "POSTGRES_", "PGPASSWORD"))
    }
    if password is not None:
        env["GF_ADMIN_PASSWORD"] = password
    if db_password is not None:
        env["POSTGRES_PASSWORD"] = db_password
    return run([binary, "--project-directory", str(REPO), "-f", str(COMPOSE_FILE), *args], env=env)


def _service_blocks(text: str) -> dict[str, str]:
    """Each service's block of the normalized config."""
    blocks: dict[str, list[str]] = {}
    current = None
    in_services = False
    for line in text.splitlines():
        if not line.startswith(" "):
            in_services = line.startswith("services:")
            current = None
            continue
        if in_services and re.match(r"^  \S", line):
            current = line.strip().rstrip(":")
            blocks[current] = []
        elif in_services and current is not None:
            blocks[current].append(line)
    return {name: "\n".join(lines) for name, lines in blocks.items()}


@pytest.fixture(scope="module")
def normalized() -> str:
    result = _compose("config")
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_compose_config_is_valid() -> None:
    result = _compose("config", "-q")
    assert result.returncode == 0, result.stdout + result.stderr


def test_grafana_password_is_required_and_not_committed() -> None:
    result = _compose("config", "-q", password=None)
    assert result.returncode != 0
    assert "GF_ADMIN_PASSWORD" in result.stderr
    text = COMPOSE_FILE.read_text()
    assert re.search(r"GF_SECURITY_ADMIN_PASSWORD: \"\$\{GF_ADMIN_PASSWORD:\?[^}]*\}\"", text)
    assert "GF_ADMIN_PASSWORD:-" not in text, "a default password would be committed"


def test_database_password_is_required_and_kept_out_of_urls(normalized: str) -> None:
    result = _compose("config", "-q", db_password=None)
    assert result.returncode != 0 and "POSTGRES_PASSWORD" in result.stderr
    text = COMPOSE_FILE.read_text()
    assert "POSTGRES_PASSWORD:-" not in text, "a default password would be committed"
    blocks = _service_blocks(normalized)
    assert "POSTGRES_PASSWORD: test-only-db-password" in blocks["postgres"]
    for name in ("monitor", *CRAWLERS):
        assert "MONITOR_STORE: postgresql://monitor@postgres:5432/monitor" in blocks[name], name
        assert "PGPASSWORD: test-only-db-password" in blocks[name], name  # libpq's variable, not the URL
    assert "    ports:" not in blocks["postgres"], "PostgreSQL must stay on the compose network"
    assert "pg_isready" in blocks["postgres"]


def test_two_vantage_points_and_an_api_server(normalized: str) -> None:
    blocks = _service_blocks(normalized)
    assert "- api" in blocks["monitor"] and "- --role" in blocks["monitor"]
    vantages = {re.search(r"- --vantage\n\s+- (\S+)", blocks[name]).group(1) for name in CRAWLERS}  # type: ignore[union-attr]
    assert vantages == {"site-a", "site-b"}
    for name in ("monitor", *CRAWLERS):
        assert "condition: service_healthy" in blocks[name], f"{name} must wait for PostgreSQL"


def test_services_and_volumes() -> None:
    services = _compose("config", "--services")
    assert set(services.stdout.split()) == SERVICES, services.stdout + services.stderr
    volumes = _compose("config", "--volumes")
    assert set(volumes.stdout.split()) == {f"{s}-data" for s in SERVICES}, volumes.stdout + volumes.stderr


def test_every_service_has_healthcheck_and_data_volume(normalized: str) -> None:
    blocks = _service_blocks(normalized)
    assert set(blocks) == SERVICES
    for name, block in blocks.items():
        assert "    healthcheck:" in block, name
        assert f"{name}-data:" in block, f"{name} keeps no data volume"


def test_monitor_on_compose_network_only(normalized: str) -> None:
    block = _service_blocks(normalized)["monitor"]
    assert "    ports:" not in block, "the monitor's HTTP port must not be published to the host"
    assert "0.0.0.0:9108" in block
    assert "- '9108'" in block or '- "9108"' in block
    assert "    build:" in block


def test_published_ports_bind_loopback(normalized: str) -> None:
    for name, block in _service_blocks(normalized).items():
        ports = re.findall(r"^    - (\S+:\d+/tcp)$", block, re.M)
        for port in ports:
            assert port.startswith("127.0.0.1:"), f"{name} publishes {port} beyond loopback"


def test_mounted_config_exists(normalized: str) -> None:
    mounts = re.findall(r"^    - (/[^:]+):(/[^:]+):ro$", normalized, re.M)
    assert len(mounts) == 4, mounts
    for source, _target in mounts:
        assert os.path.exists(source), source
    home = re.search(r"GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH: (\S+)", normalized)
    assert home is not None
    assert home.group(1).startswith("/etc/grafana/dashboards/")
    assert (DASHBOARDS / "grafana" / "dashboards" / home.group(1).rsplit("/", 1)[1]).is_file()


def test_provisioning_matches_the_stack() -> None:
    datasource = (DASHBOARDS / "grafana" / "provisioning" / "datasources" / "prometheus.yml").read_text()
    assert "url: http://prometheus:9090" in datasource
    assert "type: prometheus" in datasource
    provider = (DASHBOARDS / "grafana" / "provisioning" / "dashboards" / "eth-hosting.yml").read_text()
    assert "path: /etc/grafana/dashboards" in provider
    prometheus = (DASHBOARDS / "prometheus" / "prometheus.yml").read_text()
    assert '"monitor:9108"' in prometheus
    assert '"alertmanager:9093"' in prometheus


def test_dockerfile_installs_the_package_and_listens_on_all_interfaces() -> None:
    text = (REPO / "Dockerfile").read_text()
    assert re.search(r"^RUN pip install .*\.$", text, re.M)
    assert 'ENTRYPOINT ["monitor"]' in text
    assert '"--listen", "0.0.0.0:9108"' in text
    assert "HEALTHCHECK" in text
    ignored = (REPO / ".dockerignore").read_text().split()
    assert ".venv" in ignored and ".git" in ignored


def test_monitor_flags_exist() -> None:
    """The flags docker-compose.yml passes to `monitor serve` are ones it accepts."""
    help_run = run([sys.executable, "-m", "monitor", "serve", "--help"])
    assert help_run.returncode == 0, f"`monitor serve --help` failed: {help_run.stderr.strip()[-500:]}"
    text = COMPOSE_FILE.read_text()
    block = text.split("  monitor:", 1)[1].split("\n  prometheus:", 1)[0]  # monitor, crawler, crawler-b
    flags = set(re.findall(r"^\s*- (--[\w-]+)", block, re.M))
    assert {"--role", "--vantage", "--vantage-window"} <= flags
    for flag in flags:
        assert flag in help_run.stdout, f"monitor serve has no {flag}"
