"""Where a webhook may go (server-side request forgery guard): public addresses only, no credentials in
the URL, unless the operator names a host or network in ``WEBHOOK_ALLOWED_HOSTS`` (or allows private
networks for development). Checked when a URL is written and again on the resolved address at every send,
so a name that later resolves inward (DNS rebinding) is refused too."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


class WebhookTargetRefused(ValueError):
    """The URL or the address it resolves to is not a place alerts may be posted to."""


@dataclass(frozen=True)
class WebhookTarget:
    """A checked send: connect to ``address`` (pinned, so no second lookup can differ) for ``host``."""

    url: str
    host: str
    address: str | None
    """None when the host is allowed by name: connect as usual."""

    def pinned_url(self) -> str:
        if self.address is None:
            return self.url
        parts = urlsplit(self.url)
        literal = f"[{self.address}]" if ":" in self.address else self.address
        netloc = f"{literal}:{parts.port}" if parts.port else literal
        return parts._replace(netloc=netloc).geturl()

    def host_header(self) -> str:
        parts = urlsplit(self.url)
        return parts.netloc.rpartition("@")[2]


def _address(value: str) -> IPAddress | None:
    """An IP literal, also in the legacy forms resolvers accept (``2130706433``, ``0x7f.1``, ``127.1``)."""
    try:
        return ipaddress.ip_address(value.strip("[]"))
    except ValueError:
        pass
    try:
        return ipaddress.IPv4Address(socket.inet_aton(value))
    except OSError:
        return None


@dataclass(frozen=True)
class WebhookPolicy:
    allowed_names: frozenset[str]
    allowed_networks: tuple[IPNetwork, ...]
    allow_private_networks: bool = False

    @classmethod
    def of(cls, allowed_hosts: Iterable[str], *, allow_private_networks: bool = False) -> WebhookPolicy:
        names, networks = set(), []
        for entry in (str(e).strip().lower() for e in allowed_hosts):
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
            except ValueError:
                names.add(entry)
        return cls(frozenset(names), tuple(networks), allow_private_networks)

    def check_url(self, url: str) -> SplitResult:
        """The parsed URL, or ``WebhookTargetRefused`` saying why (no DNS look-up: see ``resolve``)."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise WebhookTargetRefused("a webhook URL is an http(s) URL with a host")
        if parts.username is not None or parts.password is not None:
            raise WebhookTargetRefused("a webhook URL may not carry credentials (user:password@)")
        host = parts.hostname.lower()
        if host in self.allowed_names:
            return parts
        literal = _address(host)
        if literal is not None:
            self.check_address(literal)
        elif host == "localhost" or host.endswith(".localhost"):  # always loopback (RFC 6761)
            self.check_address(ipaddress.ip_address("127.0.0.1"))
        return parts

    def check_address(self, address: IPAddress) -> None:
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        if any(address in network for network in self.allowed_networks):
            return
        if address.is_global and not address.is_multicast:
            return
        if self.allow_private_networks and (address.is_private or address.is_loopback) and not address.is_link_local:
            return
        raise WebhookTargetRefused(
            f"webhooks may not go to {address} (loopback, link-local, private or reserved) "
            "unless WEBHOOK_ALLOWED_HOSTS names it"
        )

    async def resolve(self, url: str) -> WebhookTarget:
        """Check the URL, resolve its host and check every address it resolves to; the send then connects
        to the first of them. A host that does not resolve (now) raises ``OSError``."""
        parts = self.check_url(url)
        host = parts.hostname or ""
        if host.lower() in self.allowed_names:
            return WebhookTarget(url=url, host=host, address=None)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        found = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        addresses = [a for a in (_address(str(info[4][0])) for info in found) if a is not None]
        if not addresses:
            raise OSError(f"{host} resolves to no address")
        for address in addresses:
            self.check_address(address)
        return WebhookTarget(url=url, host=host, address=str(addresses[0]))
