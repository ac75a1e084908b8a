"""A TCP proxy a test owns, between Steward and a real server (PostgreSQL), that the test can cut.

While cut, every open connection is reset and every new one is reset as it arrives, so to Steward the
database has gone away exactly as when its host drops off the network; while stalled, open connections
are reset and new ones are accepted but never answered, as behind a firewall that drops packets;
`restore` lets connections through again on the same address. The proxy runs its own event loop on
a thread of its own, so the code under test may block on the database from any thread, the test's
event loop included.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Coroutine
from typing import Any

CHUNK = 64 * 1024


class TcpProxy:
    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.port = 0
        self.cuts = 0
        self._cut = False
        self._stalled: asyncio.Event | None = None
        self._open: set[asyncio.StreamWriter] = set()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="tcp-proxy", daemon=True)
        self._server: asyncio.Server | None = None

    def _run(self, work: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(work, self._loop).result(timeout=10)

    def start(self) -> TcpProxy:
        self._thread.start()
        self._server = self._run(asyncio.start_server(self._serve, "127.0.0.1", 0))
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        self._run(self._stop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    def cut(self) -> None:
        """The database is gone: reset every open connection, and every new one from now on."""
        self._run(self._reset_all(cut=True))
        self.cuts += 1

    def stall(self) -> None:
        """The database stops answering: new connections hang, as to a host that drops packets."""
        self._run(self._stall())

    def restore(self) -> None:
        self._run(self._reset_all(cut=False))

    async def _stall(self) -> None:
        await self._reset_all(cut=False)
        self._stalled = asyncio.Event()

    async def _reset_all(self, cut: bool) -> None:
        self._cut = cut
        if self._stalled is not None:
            self._stalled.set()
            self._stalled = None
        for writer in list(self._open):
            writer.transport.abort()
        self._open.clear()

    async def _stop(self) -> None:
        await self._reset_all(cut=True)
        if self._server is not None:
            self._server.close()
        pending = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)

    async def _serve(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        if self._stalled is not None:
            await self._stalled.wait()
        if self._cut or client_writer.is_closing():
            client_writer.transport.abort()
            return
        try:
            upstream_reader, upstream_writer = await self._connect()
        except OSError:
            client_writer.transport.abort()
            return
        if self._cut:  # cut while connecting upstream
            upstream_writer.transport.abort()
            client_writer.transport.abort()
            return
        self._open |= {client_writer, upstream_writer}
        try:
            await asyncio.gather(_pump(client_reader, upstream_writer), _pump(upstream_reader, client_writer))
        finally:
            for writer in (client_writer, upstream_writer):
                self._open.discard(writer)
                writer.transport.abort()


    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        """The upstream connection for one client (a subclass may choose among several)."""
        return await asyncio.open_connection(*self.upstream)


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copy one direction until either side closes; a reset from the other pump ends it too."""
    with contextlib.suppress(OSError):
        while data := await reader.read(CHUNK):
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
