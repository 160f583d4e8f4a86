"""Which client an anonymous request counts against (pure).

Only the address is used, and only as a rate-limit key that is hashed before it is stored. Behind an
ingress every request comes from the proxy, so ``X-Forwarded-For`` is read, but only when the peer
is a trusted proxy, and then the right-most hop that is not itself trusted (what our own proxies saw;
anything to its left was written by the client and is ignored). An IPv6 client can pick any address
of its /64, so IPv6 addresses are keyed by their /64 network."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
MAX_HOPS = 20


def parse_networks(cidrs: Sequence[str]) -> list[Network]:
    """``TRUSTED_PROXIES`` entries (CIDRs or single addresses); raises ValueError on a bad one."""
    return [ipaddress.ip_network(cidr.strip(), strict=False) for cidr in cidrs if cidr.strip()]


def _address(text: str) -> Address | None:
    try:
        address = ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _trusted(address: Address | None, trusted: Sequence[Network]) -> bool:
    return address is not None and any(address in network for network in trusted)


def client_key(peer: str | None, forwarded_for: str | None, trusted: Sequence[Network]) -> str:
    """The rate-limit key of a request from ``peer`` carrying ``forwarded_for`` (X-Forwarded-For)."""
    address = _address(peer or "")
    if _trusted(address, trusted) and forwarded_for:
        hops = [hop.strip() for hop in forwarded_for.split(",")][-MAX_HOPS:]
        for hop in reversed(hops):
            hop_address = _address(hop)
            if not _trusted(hop_address, trusted):
                return _key(hop_address) if hop_address is not None else f"unparsed:{hop[:64]}"
            address = hop_address  # every hop trusted so far: the left-most trusted one is the client
    return _key(address) if address is not None else "unknown"


def _key(address: Address) -> str:
    if isinstance(address, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)
