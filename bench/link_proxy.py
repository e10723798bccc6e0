"""A throttling TCP proxy on 127.0.0.1: a slow mobile link between a phone and a server.

Each direction has its own bandwidth and one-way latency (half the round-trip time) with
seeded jitter. Bytes leave through a token bucket (rate = the link's bandwidth, depth = one
TCP segment, so nothing bursts past the rate) and arrive one latency later, in order. A new
connection first waits one round trip, as a TCP handshake does. The link is shared by every
connection through it, as a phone's radio is.

What it does not emulate: TCP slow start and congestion windows, loss and retransmission,
TLS. Both peers of a comparison cross the same link, so these costs would fall on both; a
protocol that needs more round trips or more bytes pays for them here, which is what the
link bench measures.

The proxy also reads the HTTP/1.1 framing of what the phone sends (heads, `Content-Length`
and chunked bodies), so it counts requests, not just bytes.

    with LinkProxy(upstream_port, LINKS["3g"]) as link:
        ... requests to 127.0.0.1:link.port ...
        link.stats.requests, link.stats.up_bytes, link.stats.down_bytes
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import threading
from collections import deque
from dataclasses import dataclass, field, replace

#: Bytes per TCP segment on a typical mobile path (MSS 1,460 less the timestamp option).
SEGMENT = 1448
READ_SIZE = 64 * 1024


@dataclass(frozen=True)
class Link:
    """A link's shape: bandwidth per direction (kbit/s, 1 kbit = 1,000 bits), round-trip time,
    and jitter as a share of each direction's latency (± uniformly, seeded)."""

    name: str
    down_kbit: float
    up_kbit: float
    rtt_ms: float
    jitter: float = 0.1

    @property
    def down_bytes_per_s(self) -> float:
        return self.down_kbit * 1000 / 8

    @property
    def up_bytes_per_s(self) -> float:
        return self.up_kbit * 1000 / 8


#: The three links of issue 18.
LINKS = {
    "edge": Link("edge of coverage", down_kbit=256, up_kbit=128, rtt_ms=600),
    "3g": Link("3G", down_kbit=1500, up_kbit=750, rtt_ms=300),
    "4g": Link("4G", down_kbit=10_000, up_kbit=10_000, rtt_ms=60),
}


class Shaper:
    """One direction of a link: when does each segment arrive?

    A token bucket with debt: a segment takes `size` tokens, which refill at `rate` bytes/s up
    to `depth`; a segment that overdraws the bucket leaves once the debt is paid back, so a
    stream is sent at exactly `rate`. It then arrives `delay` ± jitter later, never before
    the segment ahead of it (TCP delivers in order). Pure arithmetic on the times given, so
    it is tested without a clock.
    """

    def __init__(self, rate: float, delay: float, jitter: float, seed: int, depth: float = SEGMENT):
        self.rate, self.delay, self.jitter, self.depth = rate, delay, jitter, depth
        self.random = random.Random(seed)
        self.tokens = depth
        self.stamp: float | None = None
        self.last_arrival = 0.0

    def arrival(self, now: float, size: int) -> float:
        """The time at which `size` bytes handed to the link at `now` reach the other end."""
        if self.stamp is not None:
            self.tokens = min(self.depth, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        self.tokens -= size
        sent = now if self.tokens >= 0 else now - self.tokens / self.rate
        spread = self.delay * self.jitter
        arrival = sent + self.delay + self.random.uniform(-spread, spread)
        self.last_arrival = max(arrival, self.last_arrival)
        return self.last_arrival


class RequestCounter:
    """Counts the HTTP/1.1 requests in a byte stream from a client (heads, then bodies by
    `Content-Length` or chunked), so a bench sees round trips, not only bytes."""

    def __init__(self) -> None:
        self.buffer = b""
        self.body_left = 0  # bytes of a Content-Length body still to skip
        self.chunked = False
        self.requests: list[str] = []  # request lines, "GET /path"

    def feed(self, data: bytes) -> None:
        self.buffer += data
        while True:
            if self.body_left:
                taken = min(self.body_left, len(self.buffer))
                self.buffer = self.buffer[taken:]
                self.body_left -= taken
                if self.body_left:
                    return
            if self.chunked:
                if not self._skip_chunk():
                    return
                continue
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head, self.buffer = self.buffer[:end], self.buffer[end + 4 :]
            lines = head.split(b"\r\n")
            self.requests.append(" ".join(lines[0].decode("latin-1").split(" ")[:2]))
            for line in lines[1:]:
                name, _, value = line.partition(b":")
                name, value = name.strip().lower(), value.strip().lower()
                if name == b"content-length":
                    self.body_left = int(value)
                elif name == b"transfer-encoding" and value.endswith(b"chunked"):
                    self.chunked = True

    def _skip_chunk(self) -> bool:
        """Skip one chunk of a chunked body; False when more bytes are needed."""
        end = self.buffer.find(b"\r\n")
        if end < 0:
            return False
        size = int(self.buffer[:end].split(b";")[0], 16)
        if size == 0:  # the last chunk, then (no trailers from our clients) an empty line
            if len(self.buffer) < end + 4:
                return False
            self.buffer, self.chunked = self.buffer[end + 4 :], False
            return True
        if len(self.buffer) < end + 2 + size + 2:
            return False
        self.buffer = self.buffer[end + 2 + size + 2 :]
        return True


@dataclass
class LinkStats:
    """What crossed the link: payload bytes each way (no TCP/IP headers), the phone's HTTP
    requests, and the connections it opened (each paid a handshake round trip)."""

    up_bytes: int = 0
    down_bytes: int = 0
    connections: int = 0
    request_lines: list[str] = field(default_factory=list)

    @property
    def requests(self) -> int:
        return len(self.request_lines)

    def snapshot(self) -> LinkStats:
        return replace(self, request_lines=list(self.request_lines))

    def since(self, before: LinkStats) -> LinkStats:
        """What crossed after `before` (a snapshot)."""
        return LinkStats(
            self.up_bytes - before.up_bytes,
            self.down_bytes - before.down_bytes,
            self.connections - before.connections,
            self.request_lines[before.requests :],
        )


class LinkProxy:
    """The proxy: 127.0.0.1:`port` → 127.0.0.1:`upstream` through `link`.

    As a context manager it runs its own event loop in a thread (for blocking clients); an
    asyncio caller can `await serve()` and `close()` instead.
    """

    def __init__(self, upstream: int, link: Link, seed: int = 1):
        self.upstream, self.link = upstream, link
        one_way = link.rtt_ms / 2000
        self.up = Shaper(link.up_bytes_per_s, one_way, link.jitter, seed)
        self.down = Shaper(link.down_bytes_per_s, one_way, link.jitter, seed + 1)
        self.stats = LinkStats()
        self.port = 0
        self._server: asyncio.Server | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._tasks: set[asyncio.Task] = set()

    # -- running ---------------------------------------------------------------------------

    async def serve(self) -> int:
        """Start listening on a free port; return it."""
        self._server = await asyncio.start_server(self._connection, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def __enter__(self) -> LinkProxy:
        started = threading.Event()

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            self._loop.run_until_complete(self.serve())
            started.set()
            self._loop.run_forever()
            self._loop.run_until_complete(self.close())
            self._loop.close()

        self._thread = threading.Thread(target=run, name=f"link-{self.link.name}", daemon=True)
        self._thread.start()
        started.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._loop is not None and self._thread is not None
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    # -- one connection --------------------------------------------------------------------

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self.stats.connections += 1
        upstream_writer = None
        try:
            # The TCP handshake: one round trip before the phone's first byte can leave.
            await asyncio.sleep(self.link.rtt_ms / 1000)
            upstream_reader, upstream_writer = await asyncio.open_connection(
                "127.0.0.1", self.upstream
            )
            counter = RequestCounter()

            def sent_up(data: bytes) -> None:
                self.stats.up_bytes += len(data)
                counter.feed(data)
                self.stats.request_lines.extend(counter.requests)
                counter.requests.clear()

            def sent_down(data: bytes) -> None:
                self.stats.down_bytes += len(data)

            await asyncio.gather(
                self._pump(reader, upstream_writer, self.up, sent_up),
                self._pump(upstream_reader, writer, self.down, sent_down),
            )
        except (OSError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass  # a peer gone, or the proxy closing: this connection is over
        finally:
            for w in (writer, upstream_writer):
                if w is not None:
                    with contextlib.suppress(Exception):
                        w.close()
            self._tasks.discard(task)

    async def _pump(self, reader, writer, shaper: Shaper, account) -> None:
        """Copy one direction through `shaper`; on end of stream, close the other side (an
        HTTP peer that closes is done with the connection both ways)."""
        loop = asyncio.get_running_loop()
        pending: deque[tuple[float, bytes]] = deque()
        arrived = asyncio.Event()
        ended = False

        async def receive() -> None:
            nonlocal ended
            try:
                while data := await reader.read(READ_SIZE):
                    account(data)
                    for start in range(0, len(data), SEGMENT):
                        piece = data[start : start + SEGMENT]
                        pending.append((shaper.arrival(loop.time(), len(piece)), piece))
                    arrived.set()
            except OSError:
                pass
            ended = True
            arrived.set()

        receiving = asyncio.create_task(receive())
        try:
            while pending or not ended:
                if not pending:
                    arrived.clear()
                    await arrived.wait()
                    continue
                wait = pending[0][0] - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                # Everything due by now goes in one write.
                now, parts = loop.time(), []
                while pending and pending[0][0] <= now:
                    parts.append(pending.popleft()[1])
                writer.write(b"".join(parts))
                await writer.drain()
        finally:
            receiving.cancel()
            with contextlib.suppress(Exception):
                writer.close()
