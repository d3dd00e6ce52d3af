"""Which URLs the shop sends events to: a guard against server-side request forgery.

A target is checked when it is saved and again before every delivery, after resolving its
name: in production only https, and never an address that is not globally routable
(loopback, private, link-local such as the cloud metadata service 169.254.169.254, shared,
reserved, multicast, or unspecified; IPv4 inside IPv6 is judged as IPv4). Every address the
name resolves to must pass, and the sender connects to the one checked, so a name that
resolves differently a moment later (DNS rebinding) cannot redirect the delivery."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from attrs import frozen

from shop_core.errors import TargetRefused

Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class TargetUnresolved(Exception):
    """The target's name does not resolve right now (which may pass)."""


@frozen
class Target:
    """A checked target: connect to `address`, speaking to `host`."""

    scheme: str
    host: str
    port: int
    path: str
    address: str


@frozen
class TargetPolicy:
    """`production`: https only, public addresses only. Elsewhere (development, test) http
    and local addresses are allowed, for receivers on the developer's machine."""

    production: bool

    def check(self, url: str) -> None:
        """The `TargetCheck` port: raise `TargetRefused` unless the shop may send to `url`."""
        try:
            self.resolve(url)
        except TargetUnresolved as error:
            raise TargetRefused(str(error)) from None

    def resolve(self, url: str) -> Target:
        """Where to connect for `url`; `TargetRefused` when the shop must not,
        `TargetUnresolved` when its name does not resolve now."""
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            raise TargetRefused("Enter a valid URL.") from None
        allowed = ("https",) if self.production else ("https", "http")
        if parts.scheme not in allowed:
            raise TargetRefused("Use an https URL." if self.production
                                else "Use an http or https URL.")
        if not parts.hostname:
            raise TargetRefused("Enter a valid URL.")
        if parts.username is not None or parts.password is not None:
            raise TargetRefused("Put no credentials in the URL; verify the signature instead.")
        port = port or (443 if parts.scheme == "https" else 80)
        addresses = _resolve(parts.hostname, port)
        if self.production:
            refused = [address for address in addresses if not _public(address)]
            if refused:
                raise TargetRefused(
                    f"{parts.hostname} resolves to {refused[0]}, which is not a public "
                    "address; the shop sends events only to public addresses.")
        path = parts.path or "/"
        return Target(scheme=parts.scheme, host=parts.hostname, port=port,
                      path=f"{path}?{parts.query}" if parts.query else path,
                      address=str(addresses[0]))


def _resolve(host: str, port: int) -> list[Address]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as error:
        raise TargetUnresolved(f"{host} does not resolve: {error}") from None
    addresses: list[Address] = []
    for *_, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise TargetUnresolved(f"{host} does not resolve.")
    return addresses


def _public(address: Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        mapped = address.ipv4_mapped or address.sixtofour
        if mapped is not None:
            return _public(mapped)
    return address.is_global and not address.is_multicast
