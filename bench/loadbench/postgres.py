"""A throwaway PostgreSQL server in a temporary folder, on a loopback port.

Debian's server binaries (/usr/lib/postgresql/<version>/bin). PostgreSQL refuses to run as root,
so as root the cluster belongs to the ``postgres`` system user and every server command goes
through ``runuser``. Trust authentication for one superuser, ``bench``, on 127.0.0.1 only."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import psutil

from serving import free_port

USER = "bench"


def find_bin() -> Path:
    for folder in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (folder / "initdb").exists():
            return folder
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    raise SystemExit("no PostgreSQL server binaries (initdb) found; install Debian's postgresql package")


class TempPostgres:
    """``with TempPostgres(options) as pg: pg.create("db"); pg.url("db")``; stopped and deleted on exit."""

    def __init__(self, options: dict[str, str] | None = None):
        self.bin = find_bin()
        self.options = {"max_connections": "300", **(options or {})}
        self.folder: Path | None = None
        self.port = 0
        self.pid = 0

    def _run(self, *command: str, check: bool = True) -> subprocess.CompletedProcess:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        return subprocess.run([*prefix, *command], capture_output=True, text=True, check=check,
                              cwd=self.folder, start_new_session=True)

    def __enter__(self) -> TempPostgres:
        self.folder = Path(tempfile.mkdtemp(prefix="f2f-pg-"))
        try:
            if os.geteuid() == 0:
                shutil.chown(self.folder, "postgres", "postgres")
            data = self.folder / "data"
            self._run(str(self.bin / "initdb"), "-D", str(data), "-U", USER, "--auth=trust",
                      "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync")
            self.port = free_port()
            settings = {"listen_addresses": "'127.0.0.1'", "port": str(self.port),
                        "unix_socket_directories": f"'{self.folder}'", **self.options}
            with open(data / "postgresql.conf", "a") as conf:
                conf.writelines(f"{name} = {value}\n" for name, value in settings.items())
            self._run(str(self.bin / "pg_ctl"), "-D", str(data), "-l", str(self.folder / "server.log"),
                      "-w", "-t", "60", "start")
            self.pid = int((data / "postmaster.pid").read_text().split()[0])
            return self
        except BaseException:
            self.__exit__()
            raise

    def create(self, name: str) -> None:
        self._run(str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", USER, name)

    def url(self, name: str, driver: str = "psycopg") -> str:
        return f"postgresql+{driver}://{USER}@127.0.0.1:{self.port}/{name}"

    def __exit__(self, *_exc) -> None:
        if self.folder is None:
            return
        data = self.folder / "data"
        if (data / "postmaster.pid").exists():
            done = self._run(str(self.bin / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop",
                             check=False)
            if done.returncode != 0 and self.pid and psutil.pid_exists(self.pid):
                psutil.Process(self.pid).kill()
                time.sleep(0.5)
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder = None
