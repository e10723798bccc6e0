"""Compressed answers and compressed request bodies, for reps on a slow, metered link (ADR 0023).

**Answers.** flask-compress compresses every answer worth it (JSON: pulls, lists,
GeoJSON, KPIs; GPX; the pages and their scripts) when the client accepts it:
zstd, then br, then gzip, at the levels of `CompressionSettings`, from
`min_bytes` up (an empty pull, a 401, is sent as it is). Every answer says
`Vary: Accept-Encoding`. What is compressed already (images, an answer with a
`Content-Encoding` of its own) is left alone. A streamed answer is compressed
chunk by chunk as it is sent, never gathered first.

The coding is chosen here (`negotiate`), by RFC 9110's rules, and handed to the
library: flask-compress 1.25 reads `gzip;q=0` ("never gzip") as a yes and
ignores `gzip; q=0.5` (a space before `q`).

**Request bodies** may come with `Content-Encoding: gzip` (or `x-gzip`) or
`zstd`, on any request (the pushes are the ones that matter). The body is
decoded when the app first reads it, in 64 KiB steps with the output of each
step bounded, so it never grows past the body limit (`MAX_CONTENT_LENGTH`, the
same 2 MB a plain body may have): a "zip bomb" of 2 KB that would expand to
gigabytes is refused with 413 `payload_too_large` after about 2 MB of output.
An unknown coding is 415 `unsupported_encoding`, data that does not decode is
400 `malformed_encoding`. The views see a plain body and never know.
"""

from __future__ import annotations

import io
import sys
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from flask import Flask, Response, request
from flask_compress import Compress
from werkzeug.http import parse_accept_header
from werkzeug.wsgi import get_input_stream

from .errors import ApiError

if sys.version_info >= (3, 14):
    from compression import zstd
else:  # the backport flask-compress installs (the same module as Python 3.14's)
    from backports import zstd

#: What answers are compressed with, most preferred first: zstd is the fastest for its
#: size, br is what every browser has, gzip what every client has.
CODINGS = ("zstd", "br", "gzip")
#: What request bodies may be compressed with (names as `Content-Encoding` gives them).
BODY_CODINGS = ("gzip", "x-gzip", "zstd")
#: Types worth compressing: text. Images and archives are compressed already.
MIMETYPES = (
    "application/json",
    "application/x-ndjson",  # the streamed pull (ADR 0025)
    "application/geo+json",
    "application/gpx+xml",
    "application/xml",
    "text/html",
    "text/css",
    "text/plain",
    "text/csv",
    "text/javascript",
    "application/javascript",
    "image/svg+xml",
)
#: Views of static files: their ETag gets the coding (`"abc:gzip"`), so flask-compress must
#: answer their `If-None-Match` itself, or a browser would download them again every time.
STATIC_ENDPOINTS = (
    "web.app_asset",
    "web.vendor_asset",
    "api_docs.swagger_asset",
    "reps_app.app_file",
)
#: Bytes of the compressed body read per step when decoding a request.
READ_STEP = 64 * 1024
#: The request header, as the API document describes it on every operation with a JSON body.
CONTENT_ENCODING_PARAMETER = {
    "name": "Content-Encoding",
    "description": "The body compressed with gzip or zstd (decoded, it may be as large as "
    "a plain body: 2 MB; more is 413). Any other coding is 415 `unsupported_encoding`, "
    "data that does not decode 400 `malformed_encoding`. Answers are compressed when "
    "`Accept-Encoding` allows it (zstd, br, gzip, in that order).",
    "required": False,
    "schema": {"type": "string", "enum": list(BODY_CODINGS)},
}


@dataclass(frozen=True)
class CompressionSettings:
    """How answers are compressed (request bodies are always decoded)."""

    #: Config keys: `COMPRESSION_ENABLED`, `COMPRESSION_MIN_BYTES`… (server/config.py).
    CONFIG_PREFIX: ClassVar[str] = "COMPRESSION_"

    enabled: bool = True
    #: Smaller answers go as they are: a few hundred bytes fit in one packet either way.
    min_bytes: int = 500
    #: Levels from `./bench/run compression` (ADR 0023): the highest whose compression of a
    #: rep's first sync costs under 15 % of the server's CPU time for it (br 4 and gzip 4
    #: cost more once the whole request is counted). zstd 3 sends 10 % of the plain bytes,
    #: br 3 10.5 %, gzip 1 15.6 %.
    zstd_level: int = 3
    br_level: int = 3
    gzip_level: int = 1

    def __post_init__(self) -> None:
        limits = {"zstd_level": (1, 19), "br_level": (0, 11), "gzip_level": (1, 9)}
        for name, (low, high) in limits.items():
            value = getattr(self, name)
            if not isinstance(value, int) or not low <= value <= high:
                raise ValueError(f"{name} must be a whole number from {low} to {high}.")
        if not isinstance(self.min_bytes, int) or self.min_bytes < 0:
            raise ValueError(f"min_bytes must be a whole number ≥ 0, not {self.min_bytes!r}.")


def negotiate(accept_encoding: str | None, offered: Sequence[str] = CODINGS) -> str | None:
    """The coding to answer in (RFC 9110 §12.5.3), or None for none.

    A coding's quality is its own, or that of `*` when not named, or 0; `q=0` means
    never. The best quality wins, ties go to the order of `offered`; a client that
    names `identity` above every coding we have gets the answer uncompressed. No
    header at all: uncompressed, since nothing says the client can decode anything.
    """
    if not accept_encoding:
        return None
    qualities: dict[str, float] = {}
    for value, quality in parse_accept_header(accept_encoding):
        name = value.lower()
        name = "gzip" if name == "x-gzip" else name
        qualities.setdefault(name, quality)
    anything = qualities.get("*")

    def quality(coding: str) -> float:
        return qualities.get(coding, 0.0 if anything is None else anything)

    best = max(offered, key=quality, default=None)  # the first of the best: our preference
    if best is None or quality(best) <= 0:
        return None
    # Uncompressed is always acceptable (unless refused); it wins only when named higher.
    return None if qualities.get("identity", 0.0) > quality(best) else best


class _Compress(Compress):
    """flask-compress with the coding chosen by `negotiate`."""

    def after_request(self, response: Response | None) -> Response:
        environ = request.environ
        header = environ.get("HTTP_ACCEPT_ENCODING")
        # The library reads the header itself: give it only the coding we chose.
        environ["HTTP_ACCEPT_ENCODING"] = negotiate(header, self.enabled_algorithms) or "identity"
        try:
            return super().after_request(response)
        finally:
            if header is None:
                environ.pop("HTTP_ACCEPT_ENCODING", None)
            else:
                environ["HTTP_ACCEPT_ENCODING"] = header


class _Decoder:
    """One coding's decompressor, fed step by step, each step's output bounded."""

    def __init__(self, coding: str) -> None:
        self.zstd = coding == "zstd"
        self._inner = self._new()
        self.started = False

    def _new(self) -> Any:
        # wbits 16 + 15: gzip only (a bare zlib or raw deflate stream is an error).
        return zstd.ZstdDecompressor() if self.zstd else zlib.decompressobj(16 + 15)

    @property
    def finished(self) -> bool:
        """At the end of a whole frame (gzip member): the body was not cut short."""
        return self._inner.eof or not self.started

    def decode(self, data: bytes, max_length: int) -> bytes:
        """What `data` decodes to, but never more than `max_length` (≥ 1) bytes: at that
        many the caller stops. Frames (gzip members) may follow each other, as both
        formats allow."""
        out = bytearray()
        while data:
            self.started = True
            if self._inner.eof:
                self._inner = self._new()
            out += self._inner.decompress(data, max_length - len(out))
            if len(out) >= max_length:
                break
            # Below the bound every byte of input was taken: only a next frame is left.
            data = self._inner.unused_data if self._inner.eof else b""
        return bytes(out)


def _too_large(cap: int) -> ApiError:
    return ApiError(413, "payload_too_large", f"The request body decodes to more than {cap} bytes.")


def decode_body(raw: Any, coding: str, limit: int | None) -> bytes:
    """The body `raw` gives, decoded; 413 as soon as it decodes to more than `limit` bytes.

    Compressed bytes are read `READ_STEP` at a time and each step may decode to at most
    what is left below the limit, plus one byte: memory stays within the limit whatever
    the ratio (a bomb is refused after at most `limit` + 1 bytes of output).
    """
    decoder = _Decoder(coding)
    out = bytearray()
    cap = sys.maxsize if limit is None else limit
    try:
        while chunk := raw.read(READ_STEP):
            out += decoder.decode(chunk, cap + 1 - len(out))
            if len(out) > cap:
                raise _too_large(cap)
    except (zlib.error, zstd.ZstdError, EOFError) as exc:
        raise ApiError(
            400, "malformed_encoding", f"The request body is not valid {coding} data."
        ) from exc
    if not decoder.finished:
        raise ApiError(400, "malformed_encoding", f"The request body is cut short ({coding}).")
    return bytes(out)


class _DecodedInput:
    """`wsgi.input` for a compressed body: the decoded body, made on the first read.

    Made lazily so that its errors are raised inside the request (and answered as
    JSON by the app's error handlers) and a body no view reads is never decoded.
    """

    def __init__(self, environ: dict[str, Any], coding: str, limit: Callable[[], int | None]):
        self._raw_environ = {
            key: environ[key]
            for key in ("wsgi.input", "CONTENT_LENGTH", "wsgi.input_terminated")
            if key in environ
        }
        self._coding = coding
        self._limit = limit
        self._body: io.BytesIO | None = None

    def _decoded(self) -> io.BytesIO:
        if self._body is None:
            if self._coding not in BODY_CODINGS:
                raise ApiError(
                    415,
                    "unsupported_encoding",
                    f"Request bodies may be sent as gzip or zstd, not {self._coding!r}.",
                )
            limit = self._limit()
            # The compressed body meets the limit too (its Content-Length: 413 at once).
            raw = get_input_stream(self._raw_environ, max_content_length=limit)
            coding = "gzip" if self._coding == "x-gzip" else self._coding
            self._body = io.BytesIO(decode_body(raw, coding, limit))
        return self._body

    def read(self, size: int = -1) -> bytes:
        return self._decoded().read(size)

    def readline(self, size: int = -1) -> bytes:
        return self._decoded().readline(size)

    def readable(self) -> bool:
        return True

    def __iter__(self) -> Iterable[bytes]:
        return iter(self._decoded())


class DecodedBodies:
    """WSGI middleware: a body with a `Content-Encoding` reaches the app decoded."""

    def __init__(self, wsgi_app: Any, limit: Callable[[], int | None]) -> None:
        self.wsgi_app = wsgi_app
        self.limit = limit

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        coding = environ.get("HTTP_CONTENT_ENCODING", "").strip().lower()
        if coding and coding != "identity":
            environ["wsgi.input"] = _DecodedInput(environ, coding, self.limit)
            # Its length is known once decoded: the input ends where the decoded body ends.
            environ.pop("CONTENT_LENGTH", None)
            environ["wsgi.input_terminated"] = True
            del environ["HTTP_CONTENT_ENCODING"]
        return self.wsgi_app(environ, start_response)


def install(app: Flask, settings: CompressionSettings) -> None:
    """Decode compressed request bodies; compress answers when `settings.enabled`."""
    app.wsgi_app = DecodedBodies(  # type: ignore[method-assign]
        app.wsgi_app, lambda: request.max_content_length
    )
    if not settings.enabled:
        return
    app.config.update(
        COMPRESS_ALGORITHM=list(CODINGS),
        # flask-compress leaves gzip out of streams by default; its gzip stream is sound.
        COMPRESS_ALGORITHM_STREAMING=list(CODINGS),
        COMPRESS_MIMETYPES=list(MIMETYPES),
        COMPRESS_MIN_SIZE=settings.min_bytes,
        COMPRESS_ZSTD_LEVEL=settings.zstd_level,
        COMPRESS_BR_LEVEL=settings.br_level,
        COMPRESS_LEVEL=settings.gzip_level,
        COMPRESS_STREAMING_ENDPOINT_CONDITIONAL=list(STATIC_ENDPOINTS),
    )
    _Compress(app)
