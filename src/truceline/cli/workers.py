"""``serve --workers N``: N server processes on one port, each listening on a socket of its own.

uvicorn's own workers share one listening socket, and asyncio accepts every pending connection at each
wake-up. A pool of kept-alive connections opened together (a proxy's, a busy client's) can then all land
on one process while the others idle. Here each worker binds the port with ``SO_REUSEPORT`` and the
kernel spreads new connections across the workers' sockets."""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import socket
import threading
import time
from multiprocessing.process import BaseProcess
from types import FrameType
from typing import Any

import uvicorn
from uvicorn.config import STARTUP_FAILURE

from truceline.api import stopping

log = logging.getLogger("uvicorn.error")
CAN_SHARE_PORT = hasattr(socket, "SO_REUSEPORT")


def _socket(host: str, port: int, *, shared: bool) -> tuple[socket.socket, Any]:
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if shared:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    return sock, address


def listening_socket(host: str, port: int, backlog: int) -> socket.socket:
    sock, address = _socket(host, port, shared=True)
    try:
        sock.bind(address)
        sock.listen(backlog)
    except OSError:
        sock.close()
        raise
    return sock


def check_port(host: str, port: int) -> None:
    """Raise OSError now if anything listens on the port, before any worker starts. Without
    ``SO_REUSEPORT`` here: another server whose sockets share their port (another ``serve --workers``)
    must not go unnoticed, as it would be joined and handed half the connections."""
    sock, address = _socket(host, port, shared=False)
    with sock:
        sock.bind(address)


class Server(uvicorn.Server):
    """uvicorn's server, which tells the app's long-lived responses when a shutdown begins."""

    def run(self, sockets: list[socket.socket] | None = None) -> None:
        stopping.reset()
        super().run(sockets=sockets)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        stopping.begin()
        super().handle_exit(sig, frame)


def serve(config: uvicorn.Config) -> None:
    """Run one server process in the foreground (what ``uvicorn.run`` does for an app object)."""
    config.load_app()
    server = Server(config)
    server.run()
    if not server.started:
        raise SystemExit(STARTUP_FAILURE)


def _worker(config: uvicorn.Config) -> None:
    config.configure_logging()  # a spawned process starts with logging unconfigured
    Server(config).run(sockets=[listening_socket(config.host, config.port, config.backlog)])


def run(config: uvicorn.Config, workers: int, *, grace_s: float) -> int:
    """Start ``workers`` processes, start another when one dies, and on SIGTERM or SIGINT stop them all
    (each finishes its requests in flight, up to ``grace_s``). Returns the exit status."""
    check_port(config.host, config.port)
    spawn = multiprocessing.get_context("spawn")
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}

    def start() -> BaseProcess:
        p = spawn.Process(target=_worker, args=(config,), name="truceline-worker")
        p.start()
        return p

    status = 0
    procs = [start() for _ in range(workers)]
    log.info("started %d workers, each listening on its own socket: %s", workers, [p.pid for p in procs])
    try:
        while not stop.wait(0.5):
            for i, p in enumerate(procs):
                if p.is_alive():
                    continue
                if p.exitcode == STARTUP_FAILURE:  # it would fail again: stop, as uvicorn does
                    log.error("worker %s could not start; stopping", p.pid)
                    status = STARTUP_FAILURE
                    stop.set()
                    break
                log.warning("worker %s exited (%s); starting another", p.pid, p.exitcode)
                procs[i] = start()
    finally:
        for p in procs:
            if p.is_alive() and p.pid is not None:
                os.kill(p.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace_s + 5
        for p in procs:
            p.join(max(0.0, deadline - time.monotonic()))
            if p.is_alive():
                p.kill()
                p.join()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return status
