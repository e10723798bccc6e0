"""A small HTTP proxy that loses responses after the server answered (and so committed).

    python -m bench.chaos_proxy --port P --upstream U [--upstream U2 …] --drop-push 0.2
        --out DIR [--drop-pull 0.1] [--seed N]

One request per client connection (the reference client's urllib transport sends
`Connection: close`): read the request, forward it to the server, read the whole answer,
then either pass it on or, for `--drop-push` of the push requests answered 200, close the
client's connection without a byte: the server has committed the push, the phone never
learns it and retries with the same mutation ids. The results the phone never saw are kept
in DIR/dropped.jsonl, so the bench can check that the retry replays exactly them.

With several `--upstream` app servers, each client's requests alternate between them
(the client is its bearer token; requests without one alternate among themselves): a
phone's push goes to one server and its next request to the other, which must agree.

The proxy also tells apart what the phone cannot: a server connection closed before the
whole answer (a worker killed with SIGKILL) and a refused connection to the server. On
SIGTERM it writes its counters to DIR/stats.json and exits. It runs in its own process so
its work does not compete with the simulated phones for one interpreter lock.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import signal
from collections import Counter
from pathlib import Path

from fieldsync_client.transport import DECODERS

MAX_HEAD = 64 * 1024


def _kind(target: bytes) -> str:
    if target.startswith(b"/api/v1/sync/push"):
        return "push"
    if target.startswith(b"/api/v1/sync/pull"):
        return "pull"
    return "other"


def _header(head: bytes, wanted: bytes) -> bytes | None:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == wanted:
            return value.strip()
    return None


def _content_length(head: bytes) -> int | None:
    value = _header(head, b"content-length")
    return None if value is None else int(value)


class Proxy:
    def __init__(
        self, upstreams: list[int], drop_push: float, drop_pull: float, out: Path, seed: int
    ):
        self.upstreams = upstreams
        self.turns: Counter[bytes] = Counter()
        self.rates = {"push": drop_push, "pull": drop_pull, "other": 0.0}
        self.random = random.Random(seed)
        self.stats: Counter[str] = Counter()
        self.out = out
        self.dropped = (out / "dropped.jsonl").open("a", encoding="utf-8")

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream_writer = None
        try:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                return
            kind = _kind(head.split(b" ", 2)[1] if head.count(b" ") >= 2 else b"")
            length = _content_length(head) or 0
            body = await reader.readexactly(length) if length else b""
            self.stats[f"{kind}.requests"] += 1
            upstream = self._next_upstream(head)
            self.stats[f"upstream.{upstream}"] += 1
            try:
                upstream_reader, upstream_writer = await asyncio.open_connection(
                    "127.0.0.1", upstream
                )
            except OSError:
                self.stats[f"{kind}.upstream_refused"] += 1
                writer.transport.abort()
                return
            upstream_writer.write(head + body)
            await upstream_writer.drain()
            try:
                answer_head = await upstream_reader.readuntil(b"\r\n\r\n")
                answer_length = _content_length(answer_head)
                if answer_length is None:
                    answer_body = await upstream_reader.read()
                else:
                    answer_body = await upstream_reader.readexactly(answer_length)
            except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                # The worker died before its whole answer: the phone sees a lost connection.
                self.stats[f"{kind}.upstream_lost"] += 1
                writer.transport.abort()
                return
            status = int(answer_head.split(b" ", 2)[1])
            self.stats[f"{kind}.status.{status}"] += 1
            if status == 200 and self.random.random() < self.rates[kind]:
                self.stats[f"{kind}.dropped"] += 1
                if kind == "push":
                    self._keep_dropped(answer_head, answer_body)
                writer.close()  # after the commit, before a byte of the answer
                return
            writer.write(answer_head + answer_body)
            await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError) as exc:
            self.stats[f"error.{type(exc).__name__}"] += 1
        finally:
            if upstream_writer is not None:
                upstream_writer.close()
            with contextlib.suppress(Exception):
                writer.close()

    def _next_upstream(self, head: bytes) -> int:
        """The other app server than this client's previous request went to."""
        client = b""
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"authorization":
                client = value.strip()
        turn = self.turns[client]
        self.turns[client] += 1
        return self.upstreams[turn % len(self.upstreams)]

    def _keep_dropped(self, head: bytes, body: bytes) -> None:
        coding = (_header(head, b"content-encoding") or b"identity").decode().lower()
        if coding != "identity":  # the phones accept compressed answers (ADR 0023)
            body = DECODERS[coding](body)
        results = json.loads(body)["results"]
        self.dropped.write(json.dumps({"results": results}, separators=(",", ":")) + "\n")
        self.dropped.flush()

    def write_stats(self) -> None:
        self.dropped.close()
        (self.out / "stats.json").write_text(json.dumps(dict(self.stats), indent=1))


async def serve(args: argparse.Namespace) -> None:
    proxy = Proxy(args.upstream, args.drop_push, args.drop_pull, Path(args.out), args.seed)
    server = await asyncio.start_server(
        proxy.handle, "127.0.0.1", args.port, limit=MAX_HEAD, backlog=4096
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with server:
        await stop.wait()
    proxy.write_stats()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument(
        "--upstream", type=int, action="append", required=True, help="an app server's port"
    )
    parser.add_argument("--drop-push", type=float, default=0.2)
    parser.add_argument("--drop-pull", type=float, default=0.0, help="of pull answers")
    parser.add_argument("--out", required=True)
    parser.add_argument("--seed", type=int, default=1)
    asyncio.run(serve(parser.parse_args()))


if __name__ == "__main__":
    main()
