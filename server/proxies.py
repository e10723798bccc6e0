"""The client's real address: the peer, or who a proxy we trust says it serves.

`X-Forwarded-For` is whatever the sender wrote. Believed from anyone, an
attacker rotates it to dodge the per-address sign-in limits, or writes a
victim's address to get the victim refused. So it is believed only from the
proxies named by `FIELDSYNC_TRUSTED_PROXIES` (config key `TRUSTED_PROXIES`):

- unset or empty (the default): trust nobody. The client is the TCP peer and
  every `X-Forwarded-*` header is ignored.
- a whole number N: the service is reachable only through exactly N proxies,
  each appending to the headers: werkzeug's `ProxyFix` with `x_for`, `x_proto`
  and `x_host` N (the N-th address from the right is the client).
- a comma list of addresses and CIDR networks (`10.0.0.0/8, 192.0.2.7`): the
  headers count only when the peer is in them; `X-Forwarded-For` is walked from
  the right, skipping addresses in them, and the first one that is not is the
  client (nginx `real_ip_recursive on`); `X-Forwarded-Proto` is read at the
  same hop. `X-Forwarded-Host` is not read in this form.

A value that is neither is refused at start-up (server/config.py). The WSGI
middleware is installed by `create_app`; `request.remote_addr` is the result.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from werkzeug.middleware.proxy_fix import ProxyFix

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
#: Where the middleware keeps the peer's own address when it changes `REMOTE_ADDR`.
PEER_ENVIRON_KEY = "fieldsync.peer_addr"


@dataclass(frozen=True)
class Trust:
    """Whom `X-Forwarded-*` is believed from: N hops, or these networks; default nobody."""

    hops: int = 0
    networks: tuple[Network, ...] = ()


def parse(value: Any) -> Trust:
    """`FIELDSYNC_TRUSTED_PROXIES` as a `Trust`; ValueError if it is neither form."""
    if isinstance(value, bool):
        raise ValueError("a number of proxies or a list of networks, not a boolean")
    if isinstance(value, int):
        value = str(value)
    if value is None or (isinstance(value, str) and not value.strip()):
        return Trust()
    if isinstance(value, str) and value.strip().isdigit():
        return Trust(hops=int(value))
    if isinstance(value, str):
        items = value.split(",")
    elif isinstance(value, list | tuple):
        items = list(value)
    else:
        raise ValueError(f"a number of proxies or a list of networks, not {value!r}")
    networks = []
    for item in (str(item).strip() for item in items):
        if not item:
            continue
        try:
            network = ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise ValueError(
                f"{item!r} is neither a number of proxies nor an address or CIDR network"
            ) from None
        if network.prefixlen == 0:
            raise ValueError(f"{item!r} trusts every address: name your proxies")
        networks.append(network)
    return Trust(networks=tuple(networks))


def install(wsgi_app: Any, trust: Trust) -> Any:
    """`wsgi_app` behind the proxies `trust` names (itself when it names none)."""
    if trust.hops:
        return ProxyFix(wsgi_app, x_for=trust.hops, x_proto=trust.hops, x_host=trust.hops)
    if trust.networks:
        return TrustedNetworks(wsgi_app, trust.networks)
    return wsgi_app


def ip(text: str | None) -> Address | None:
    """An address as proxies write it (`[::1]:80`, `192.0.2.1:443` too); None if it is not."""
    text = (text or "").strip()
    if text.startswith("["):  # [IPv6]:port
        text = text[1 : text.find("]")] if "]" in text else ""
    elif text.count(":") == 1:  # IPv4:port
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def real_client(
    peer: Address, forwarded: Iterable[Address | None], networks: tuple[Network, ...]
) -> tuple[Address, int]:
    """The client and how many `X-Forwarded-For` entries were read to find it (0: the peer).

    Right to left, an address of a trusted proxy is skipped; the first other one is
    the client. An unreadable entry ends the walk at the last trusted hop: anything
    left of it was written by someone we do not trust."""
    client, read = peer, 0
    for address in reversed(list(forwarded)):
        if not _trusted(client, networks) or address is None:
            break
        client, read = address, read + 1
    return client, read


class TrustedNetworks:
    """WSGI middleware: `REMOTE_ADDR` and the scheme from trusted proxies only."""

    def __init__(self, wsgi_app: Any, networks: tuple[Network, ...]):
        self.wsgi_app = wsgi_app
        self.networks = networks

    def __call__(self, environ: dict, start_response: Any) -> Any:
        peer = ip(environ.get("REMOTE_ADDR"))
        if peer is not None and _trusted(peer, self.networks):
            forwarded = _values(environ.get("HTTP_X_FORWARDED_FOR"))
            client, read = real_client(peer, (ip(value) for value in forwarded), self.networks)
            if read:
                environ[PEER_ENVIRON_KEY] = environ["REMOTE_ADDR"]
                environ["REMOTE_ADDR"] = str(client)
                scheme = _at_hop(_values(environ.get("HTTP_X_FORWARDED_PROTO")), read)
                if scheme in ("http", "https"):
                    environ["wsgi.url_scheme"] = scheme
        return self.wsgi_app(environ, start_response)


def _trusted(address: Address, networks: tuple[Network, ...]) -> bool:
    return any(address in network for network in networks)


def _values(header: str | None) -> list[str]:
    return [value.strip() for value in (header or "").split(",") if value.strip()]


def _at_hop(values: list[str], read: int) -> str | None:
    """The value the proxy that named the client wrote (the leftmost if fewer were written)."""
    if not values:
        return None
    return (values[-read] if read <= len(values) else values[0]).lower()
