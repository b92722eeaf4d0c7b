"""A throwaway PostgreSQL cluster for tests and the store benchmark: initdb + pg_ctl on a temporary directory.

It listens on one loopback address and port (127.54.0.1:24543 unless told otherwise, the next free port if that one
is taken) and on a Unix socket in the same temporary directory. PostgreSQL refuses to run as root, so as root the
cluster runs as the ``postgres`` user (created by Debian's package) or, failing that, a system user created here;
the temporary directory is made outside pytest's private (mode 700) tree so that user can reach it. Authentication
is ``trust`` on loopback only: the cluster lives for one test session and holds synthetic data.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Cluster", "find_bindir", "throwaway_cluster", "free_pg_port"]

DEFAULT_HOST = "127.54.0.1"  # tests/store own 127.54.0.0/16 and ports 24000-24999
DEFAULT_PORT = 24543
_SYSTEM_USER = "monitor-pg"


@dataclass(frozen=True)
class Cluster:
    host: str
    port: int
    socket_dir: Path
    user: str  # the database superuser

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{self.user}@{self.host}:{self.port}/{database}"


def find_bindir() -> Path | None:
    """Where initdb and pg_ctl are: on PATH, else Debian's /usr/lib/postgresql/<version>/bin (newest)."""
    on_path = shutil.which("pg_ctl")
    if on_path is not None and shutil.which("initdb") is not None:
        return Path(on_path).resolve().parent
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(Path(p).parts[-3]))
    return Path(found[-1]).parent if found else None


def free_pg_port(host: str, first: int) -> int:
    for port in range(first, first + 100):
        with socket.socket() as s:
            try:
                s.bind((host, port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {first}..{first + 99} on {host}")


def _os_user() -> str | None:
    """The unprivileged user to run the server as when we are root (None: run as ourselves)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", _SYSTEM_USER):
        with suppress(KeyError):
            pwd.getpwnam(name)
            return name
    subprocess.run(
        ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", _SYSTEM_USER], check=True
    )
    return _SYSTEM_USER


def _run(cmd: list[str], user: str | None, log: Path) -> None:
    full = ["runuser", "-u", user, "--", *cmd] if user is not None else cmd
    with log.open("ab") as fh:
        # cwd: the server's user may not be allowed into ours (a root-owned checkout), and initdb/pg_ctl need theirs
        done = subprocess.run(full, stdout=fh, stderr=subprocess.STDOUT, timeout=120, check=False, cwd=log.parent)
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(cmd[:2])} failed ({done.returncode}):\n{log.read_text(errors='replace')[-3000:]}"
        )


@contextmanager
def throwaway_cluster(
    bindir: Path, *, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, settings: dict[str, str] | None = None
) -> Iterator[Cluster]:
    """Start a fresh cluster; stop it (immediate) and delete every file on exit."""
    user = _os_user()
    base = Path(tempfile.mkdtemp(prefix="monitor-pg-"))
    data, log = base / "data", base / "server.log"
    if user is not None:
        shutil.chown(base, user)
    port = free_pg_port(host, port)
    options = {"listen_addresses": host, "port": str(port), "unix_socket_directories": str(base), **(settings or {})}
    opts = " ".join(f"-c {k}={v}" for k, v in options.items())
    try:
        _run([str(bindir / "initdb"), "-D", str(data), "-U", "monitor", "-A", "trust", "-E", "UTF8",
              "--locale=C", "--no-sync"], user, base / "initdb.log")  # fmt: skip
        _run([str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", opts, "-w", "-t", "60", "start"], user,
             base / "pg_ctl.log")  # fmt: skip
        try:
            yield Cluster(host, port, base, "monitor")
        finally:
            _run([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"], user, base / "stop.log")
    finally:
        shutil.rmtree(base, ignore_errors=True)
