"""The link bench's throttling proxy shapes what crosses it (bench/link_proxy.py).

The bench's figures are only as good as its link: bytes must pass unchanged and counted,
requests must be counted, and a transfer must take at least as long as the link's bandwidth
and latency allow. Bounds are one-sided (a loaded machine may be slower, never faster), so
nothing here can flake; the live test takes about 3 s.
"""

from __future__ import annotations

import asyncio
import gzip
import time
from concurrent.futures import ThreadPoolExecutor

import brotli
import pytest

from bench.link_fronts import decode
from bench.link_proxy import LINKS, SEGMENT, Link, LinkProxy, RequestCounter, Shaper
from server.compression import zstd

KB64 = 64 * 1024


def test_a_shaper_sends_at_the_links_rate_and_delivers_a_latency_later_in_order():
    edge = LINKS["edge"]
    shaper = Shaper(edge.down_bytes_per_s, edge.rtt_ms / 2000, edge.jitter, seed=7)
    arrivals = [shaper.arrival(0.0, SEGMENT) for _ in range(KB64 // SEGMENT + 1)]
    assert arrivals == sorted(arrivals)
    sent_bytes = len(arrivals) * SEGMENT
    # 256 kbit/s is 32,000 bytes/s: 65,160 bytes after the first free segment, then 300 ms.
    floor = (sent_bytes - SEGMENT) / 32_000 + 0.3 * (1 - edge.jitter)
    assert floor <= arrivals[-1] <= floor + 0.3 * 2 * edge.jitter + 1e-9
    # Seeded: the same link gives the same jitter.
    again = Shaper(edge.down_bytes_per_s, edge.rtt_ms / 2000, edge.jitter, seed=7)
    assert [again.arrival(0.0, SEGMENT) for _ in arrivals] == arrivals


def test_a_shaper_lets_an_idle_link_refill_but_never_burst_past_one_segment():
    shaper = Shaper(rate=1000, delay=0.0, jitter=0.0, seed=1)
    assert shaper.arrival(0.0, SEGMENT) == 0.0  # a full bucket: leaves at once
    assert shaper.arrival(0.0, 1000) == 1.0  # the next waits for its tokens
    assert shaper.arrival(100.0, SEGMENT) == 100.0  # idle for long: full again, no more
    assert shaper.arrival(100.0, 2000) == 102.0


def test_requests_are_counted_by_their_framing_not_by_their_bytes():
    counter = RequestCounter()
    body = b'{"a": "GET /not-a-request HTTP/1.1\\r\\n\\r\\n"}'
    stream = (
        b"POST /api/v1/sync/push HTTP/1.1\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
        + b"POST /up HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
        + b"GET /api/v1/sync/pull?cursor=x HTTP/1.1\r\nHost: a\r\n\r\n"
    )
    for i in range(0, len(stream), 7):  # as TCP may cut it
        counter.feed(stream[i : i + 7])
    assert counter.requests == [
        "POST /api/v1/sync/push",
        "POST /up",
        "GET /api/v1/sync/pull?cursor=x",
    ]


def _zstd_streamed(body: bytes) -> bytes:
    """A frame written as a stream, which does not say its size."""
    packer = zstd.ZstdCompressor()
    return packer.compress(body) + packer.flush()


@pytest.mark.parametrize(
    ("encoding", "pack"),
    [
        ("identity", lambda body: body),
        ("gzip", gzip.compress),
        ("br", brotli.compress),
        ("zstd", zstd.compress),
        ("zstd", _zstd_streamed),
    ],
)
def test_the_phone_reads_every_encoding_a_server_may_answer_with(encoding, pack):
    body = b'{"changes": [], "cursor": "c", "has_more": false}' * 50
    assert decode(pack(body), encoding) == body


async def _serve_64kb(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await reader.readuntil(b"\r\n\r\n")
    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % KB64 + b"x" * KB64)
    await writer.drain()
    await reader.read()  # until the client closes
    writer.close()


async def _fetch_through(link: Link) -> tuple[float, bytes, object]:
    server = await asyncio.start_server(_serve_64kb, "127.0.0.1", 0)
    proxy = LinkProxy(server.sockets[0].getsockname()[1], link)
    port = await proxy.serve()
    started = time.perf_counter()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    request = b"GET /page HTTP/1.1\r\nHost: x\r\n\r\n"
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    body = await reader.readexactly(KB64)
    seconds = time.perf_counter() - started
    writer.close()
    await proxy.close()
    server.close()
    return seconds, head + body, proxy.stats


def test_64_kb_at_256_kbit_s_take_at_least_two_seconds_and_arrive_whole():
    # A thread of its own: the browser tests' Playwright keeps an event loop running in
    # the main thread for the rest of the session.
    with ThreadPoolExecutor(1) as thread:
        run = thread.submit(asyncio.run, asyncio.wait_for(_fetch_through(LINKS["edge"]), 30))
        seconds, answer, stats = run.result()
    assert answer.endswith(b"x" * KB64)
    # 65,536 bytes at 32,000 bytes/s, after a handshake and a request's round trip.
    assert seconds >= 2.0 + 0.6
    assert stats.down_bytes == len(answer)
    assert stats.up_bytes == len(b"GET /page HTTP/1.1\r\nHost: x\r\n\r\n")
    assert stats.request_lines == ["GET /page"]
    assert stats.connections == 1
