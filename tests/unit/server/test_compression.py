"""Choosing an answer's coding, decoding a request body within its limit, and the settings."""

from __future__ import annotations

import gzip
import io
import zlib

import pytest

from server.compression import (
    READ_STEP,
    CompressionSettings,
    decode_body,
    negotiate,
    zstd,
)
from server.config import ConfigError, build_config
from server.errors import ApiError


@pytest.mark.parametrize(
    ("accept_encoding", "coding"),
    [
        ("zstd, br, gzip", "zstd"),
        ("gzip, deflate, br", "br"),  # a browser without zstd: our order breaks the tie
        ("gzip, deflate, br, zstd", "zstd"),  # Chrome's order is not a preference
        ("gzip", "gzip"),
        ("GZIP", "gzip"),
        ("x-gzip", "gzip"),
        ("br;q=0.5, gzip", "gzip"),  # the client's preference comes first
        ("gzip; q=0.5, deflate", "gzip"),  # spaces around parameters are allowed
        ("*", "zstd"),
        ("zstd;q=0, *", "br"),  # named with q=0: never, whatever `*` says
        ("gzip;q=0", None),
        ("gzip;q=0.000, br;q=0", None),
        ("*;q=0", None),
        ("identity", None),
        ("identity, gzip", "gzip"),  # as acceptable as identity: fewer bytes win
        ("identity;q=1, gzip;q=0.5", None),  # identity preferred
        ("gzip;q=0.5, *;q=0.1", "gzip"),
        ("deflate", None),  # not ours to give
        ("", None),
        (None, None),
        ("gzip;q=nonsense, br", "br"),  # an unreadable quality drops its coding
    ],
)
def test_the_coding_follows_rfc_9110(accept_encoding, coding):
    assert negotiate(accept_encoding) == coding


def _gzip_members(*parts: bytes) -> bytes:
    return b"".join(gzip.compress(part) for part in parts)


@pytest.mark.parametrize("coding", ["gzip", "zstd"])
def test_a_body_decodes_to_what_was_compressed(coding):
    body = b'{"mutations": [' + b'{"id": "x"},' * 20_000 + b"{}]}"
    packed = gzip.compress(body) if coding == "gzip" else zstd.compress(body)
    assert decode_body(io.BytesIO(packed), coding, limit=len(body)) == body


def test_concatenated_gzip_members_and_zstd_frames_are_one_body():
    assert decode_body(io.BytesIO(_gzip_members(b"ab", b"", b"cd")), "gzip", 10) == b"abcd"
    frames = zstd.compress(b"ab") + zstd.compress(b"cd")
    assert decode_body(io.BytesIO(frames), "zstd", 10) == b"abcd"


class CountingStream(io.BytesIO):
    """Counts the compressed bytes the decoder asked for."""

    taken = 0

    def read(self, size: int = -1) -> bytes:
        data = super().read(size)
        self.taken += len(data)
        return data


@pytest.mark.parametrize("coding", ["gzip", "zstd"])
def test_a_bomb_is_refused_at_the_limit_without_reading_it_all(coding):
    block = b"\0" * (16 * 1024 * 1024)
    one = gzip.compress(block) if coding == "gzip" else zstd.compress(block)
    bomb = CountingStream(one * (64 + 4 * READ_STEP // len(one)))  # gigabytes, decoded
    with pytest.raises(ApiError) as refused:
        decode_body(bomb, coding, limit=2 * 1024 * 1024)
    assert (refused.value.code, refused.value.error_code) == (413, "payload_too_large")
    assert bomb.taken <= READ_STEP  # stopped in the first step, which overflowed


def test_exactly_the_limit_is_allowed_one_byte_more_is_not():
    body = b"x" * 1000
    assert decode_body(io.BytesIO(gzip.compress(body)), "gzip", 1000) == body
    with pytest.raises(ApiError, match="more than 999 bytes"):
        decode_body(io.BytesIO(gzip.compress(body)), "gzip", 999)


@pytest.mark.parametrize(
    ("coding", "data"),
    [
        ("gzip", b"this is not gzip at all"),
        ("gzip", gzip.compress(b"{}" * 100)[:-6]),  # cut short
        ("gzip", zlib.compress(b"{}")),  # zlib, not gzip
        ("zstd", b"this is not zstd at all"),
        ("zstd", zstd.compress(b"{}" * 100)[:-3]),
        ("gzip", gzip.compress(b"{}") + b"trailing rubbish"),
    ],
)
def test_data_that_does_not_decode_is_400(coding, data):
    with pytest.raises(ApiError) as refused:
        decode_body(io.BytesIO(data), coding, limit=1000)
    assert (refused.value.code, refused.value.error_code) == (400, "malformed_encoding")


def test_an_empty_body_stays_empty():
    assert decode_body(io.BytesIO(b""), "gzip", 10) == b""


def test_compression_settings_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("FIELDSYNC_COMPRESSION", "off")
    monkeypatch.setenv("FIELDSYNC_COMPRESSION_GZIP_LEVEL", "4")
    config = build_config(str(tmp_path), {"SECRET_KEY": "k" * 40})
    assert config["COMPRESSION_ENABLED"] is False
    assert config["COMPRESSION_GZIP_LEVEL"] == 4
    monkeypatch.setenv("FIELDSYNC_COMPRESSION", "maybe")
    with pytest.raises(ConfigError, match="on or off"):
        build_config(str(tmp_path), {"SECRET_KEY": "k" * 40})


@pytest.mark.parametrize(
    "setting", [{"zstd_level": 0}, {"br_level": 12}, {"gzip_level": 10}, {"min_bytes": -1}]
)
def test_levels_out_of_range_are_refused(setting):
    with pytest.raises(ValueError):
        CompressionSettings(**setting)
