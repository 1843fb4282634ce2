"""A throwaway PostgreSQL server for the test session, from Debian's postgresql binaries.

initdb into a temporary folder, start `postgres` on a free loopback port with its socket in that folder
(as the `postgres` user when the tests run as root: the server refuses to run as root), and stop it at
the end. Every step that can fail raises PostgresUnavailable with the reason, for a clear pytest.skip.
"""

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


class PostgresUnavailable(Exception):
    """The server could not be started here; the message says why."""


def _binaries() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        raise PostgresUnavailable("no initdb under /usr/lib/postgresql/*/bin (apt-get install postgresql)")
    return Path(found[-1]).parent


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _as_server_user(command: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return command
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        raise PostgresUnavailable(
            "running as root and there is no 'postgres' user to run the server"
        ) from None
    return ["runuser", "-u", "postgres", "--", *command]


@dataclass
class PostgresServer:
    root: Path
    port: int
    process: subprocess.Popen[bytes]

    @property
    def admin_url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(
            f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres", autocommit=True
        ) as c:
            c.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def log_tail(self) -> str:
        log = self.root / "server.log"
        return log.read_text(errors="replace")[-2000:] if log.exists() else ""

    def stop(self) -> None:
        if self.process.poll() is None:
            # SIGINT is PostgreSQL's "fast shutdown". Sent to the process group: as root the server runs under
            # runuser, which does not pass the signal on (each stop waited out its 30 s and killed it).
            os.killpg(self.process.pid, signal.SIGINT)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.root, ignore_errors=True)


def _initdb(bin_dir: Path, data: Path) -> None:
    result = subprocess.run(
        _as_server_user(
            [str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "--no-sync"]
        ),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        raise PostgresUnavailable(f"initdb failed ({result.returncode}): {result.stderr.strip()[-500:]}")


def start_postgres() -> PostgresServer:
    try:
        import psycopg
    except ImportError:
        raise PostgresUnavailable(
            "psycopg is not installed (.venv/bin/pip install 'psycopg[binary]')"
        ) from None
    bin_dir = _binaries()
    root = Path(tempfile.mkdtemp(prefix="socratic-pg-"))
    data = root / "data"
    if os.geteuid() == 0:
        shutil.chown(root, user="postgres", group="postgres")
    _initdb(bin_dir, data)
    port = _free_port()
    server_args = [
        str(bin_dir / "postgres"),
        "-D",
        str(data),
        "-p",
        str(port),
        "-k",
        str(root),
        "-c",
        "listen_addresses=127.0.0.1",
        "-c",
        "fsync=off",
        "-c",
        "max_connections=60",
    ]
    with open(root / "server.log", "wb") as log:
        process = subprocess.Popen(
            _as_server_user(server_args), stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = PostgresServer(root=root, port=port, process=process)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = server.log_tail()
            server.stop()
            raise PostgresUnavailable(f"postgres exited with {process.returncode}: {tail}")
        try:
            psycopg.connect(
                f"host=127.0.0.1 port={port} user=postgres dbname=postgres", connect_timeout=2
            ).close()
            return server
        except psycopg.OperationalError:
            time.sleep(0.3)
    tail = server.log_tail()
    server.stop()
    raise PostgresUnavailable(f"postgres did not accept connections within 60 s: {tail}")
