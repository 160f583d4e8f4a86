"""Which client an anonymous request counts against: forwarded addresses only from trusted proxies,
the right-most untrusted hop, IPv6 by /64; never an exception whatever the headers hold."""

import ipaddress

from hypothesis import given
from hypothesis import strategies as st

from feedback.domain.ratelimit import client_key, parse_networks

PROXIES = parse_networks(["10.0.0.0/8", "fd00::/8"])
ipv4 = st.ip_addresses(v=4).filter(lambda a: not a.is_private).map(str)
ipv6 = st.ip_addresses(v=6).filter(lambda a: a not in ipaddress.ip_network("fd00::/8") and a.ipv4_mapped is None)


@given(ipv4, ipv4)
def test_a_forwarded_address_from_an_untrusted_peer_is_ignored(peer, claimed):
    assert client_key(peer, claimed, PROXIES) == peer


@given(ipv4, st.lists(ipv4, max_size=3))
def test_behind_a_trusted_proxy_the_client_is_the_right_most_untrusted_hop(client, spoofed):
    header = ", ".join([*spoofed, client, "10.1.2.3"])  # the client's own claims, then what our proxies saw
    assert client_key("10.9.9.9", header, PROXIES) == client


def test_a_school_behind_one_ingress_is_many_clients_not_one():
    keys = {client_key("10.0.0.1", f"203.0.113.{n}", PROXIES) for n in range(6)}
    assert len(keys) == 6


@given(ipv6, st.integers(0, 2**64 - 1))
def test_ipv6_addresses_of_one_64_are_one_client(address, suffix):
    network = ipaddress.IPv6Network((address, 64), strict=False)
    other = network.network_address + suffix
    if other.ipv4_mapped is None:  # ::ffff:0:0/96 holds IPv4 clients
        assert client_key(str(address), None, PROXIES) == client_key(str(other), None, PROXIES) == str(network)


def test_an_ipv4_mapped_address_is_the_ipv4_client():
    assert client_key("::ffff:198.51.100.7", None, PROXIES) == "198.51.100.7"


@given(st.one_of(st.none(), st.text(max_size=40)), st.one_of(st.none(), st.text(max_size=200)))
def test_any_input_gives_a_short_key(peer, forwarded):
    for trusted in (PROXIES, parse_networks(["0.0.0.0/0", "::/0"])):
        assert len(client_key(peer, forwarded, trusted)) <= 80
