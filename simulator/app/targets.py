"""Where an ``http:`` consumer named over HTTP may be: which hosts the harness
will POST event streams to on behalf of whoever can reach the control API.

Loopback targets are allowed; any other host only when the server was started
with ``--allow-target HOST[:PORT]``. A host is judged by what the URL says, never
by what a name resolves to: a DNS answer can change between this check and the
harness's connection (rebinding), so a name other than ``localhost`` is loopback
only if it is listed. URLs are read with a grammar stricter than any HTTP client's,
so that what is checked here is what the client connects to: no userinfo, no
backslash, no percent-escapes, whitespace or non-ASCII, and IPv4 only as four
decimal numbers (``127.1`` and ``2130706433`` also reach 127.0.0.1 through the C
resolver, and ``0177.0.0.1`` is octal there: refused, not guessed at).
"""
from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Iterable

OPTION = "--allow-target"
LOOPBACK_NAMES = frozenset({"localhost"})
DEFAULT_PORTS = {"http": 80, "https": 443}

_AUTHORITY = re.compile(
    r"(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(?::(?P<port>[0-9]{1,5}))?")
_URL = re.compile(r"(?P<scheme>[A-Za-z]+)://(?P<authority>[^/?#]*)(?P<rest>[/?#].*)?", re.DOTALL)
_NUMERIC = re.compile(r"[0-9.]+")
_PRINTABLE_ASCII = re.compile(r"[\x21-\x7e]*")


class TargetError(ValueError):
    """A URL or --allow-target value that cannot be read; the message says why."""


@dataclass(frozen=True, slots=True)
class Target:
    scheme: str
    host: str  # canonical: lower case, IP addresses in their compressed form, no brackets
    port: int

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


@dataclass(frozen=True, slots=True)
class AllowedTarget:
    host: str
    port: int | None  # None: any port

    def admits(self, target: Target) -> bool:
        return self.host == target.host and self.port in (None, target.port)


def parse_url(url: str) -> Target:
    """The host and port ``url`` connects to, or TargetError."""
    if not _PRINTABLE_ASCII.fullmatch(url):
        raise TargetError("the URL must be printable ASCII without spaces (percent-encode the rest)")
    if "\\" in url:
        raise TargetError("the URL contains a backslash, which HTTP clients read differently")
    match = _URL.fullmatch(url)
    if not match or match["scheme"].lower() not in DEFAULT_PORTS:
        raise TargetError("expected an absolute http:// or https:// URL")
    scheme = match["scheme"].lower()
    authority = match["authority"]
    if "@" in authority:
        raise TargetError("user:password@ is not accepted in the URL")
    found = _AUTHORITY.fullmatch(authority)
    if not found:
        raise TargetError(f"{authority!r} is not HOST or HOST:PORT")
    host = canonical_host(found["host"])
    port = int(found["port"]) if found["port"] else DEFAULT_PORTS[scheme]
    if not 1 <= port <= 65535:
        raise TargetError(f"port {port} is outside 1..65535")
    return Target(scheme, host, port)


def canonical_host(text: str) -> str:
    """``text`` (a name, a dotted IPv4 address or a bracketed IPv6 one) in the one
    spelling hosts are compared in; TargetError for ambiguous numeric forms."""
    if text.startswith("["):
        if not text.endswith("]"):
            raise TargetError(f"{text!r} is not a bracketed IPv6 address")
        try:
            return str(ipaddress.IPv6Address(text[1:-1]))
        except ValueError:
            raise TargetError(f"{text!r} is not an IPv6 address") from None
    if _NUMERIC.fullmatch(text):
        try:
            return str(ipaddress.IPv4Address(text))
        except ValueError:
            raise TargetError(f"{text!r} is not an IPv4 address written as four decimal numbers "
                              "(0-255, no leading zeros)") from None
    if text.startswith(("-", ".")) or ".." in text:
        raise TargetError(f"{text!r} is not a host name")
    return text.lower()


def is_loopback(host: str) -> bool:
    """Whether a canonical host (``canonical_host``) names this machine by itself."""
    if host in LOOPBACK_NAMES:
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)  # ::ffff:127.0.0.1 is IPv4 loopback
    return (mapped or address).is_loopback


def parse_allowed(text: str) -> AllowedTarget:
    """An ``--allow-target`` value: HOST, HOST:PORT, [IPv6] or [IPv6]:PORT."""
    text = text.strip()
    if text.count(":") > 1 and not text.startswith("["):
        text = f"[{text}]"  # a bare IPv6 address, no port
    found = _AUTHORITY.fullmatch(text)
    if not found:
        raise TargetError(f"{text!r} is not HOST[:PORT] (IPv6 as [ADDRESS]:PORT)")
    port = int(found["port"]) if found["port"] else None
    if port is not None and not 1 <= port <= 65535:
        raise TargetError(f"port {port} is outside 1..65535")
    return AllowedTarget(canonical_host(found["host"]), port)


class TargetPolicy:
    """Loopback, plus what the server was started with ``--allow-target``."""

    def __init__(self, allowed: Iterable[AllowedTarget] = ()) -> None:
        self.allowed = tuple(allowed)

    def refusal(self, url: str) -> str | None:
        """None when the harness may deliver to ``url``, else why not."""
        try:
            target = parse_url(url)
        except TargetError as exc:
            return str(exc)
        if is_loopback(target.host) or any(a.admits(target) for a in self.allowed):
            return None
        return (f"{target} is not this machine: this server delivers only to loopback "
                f"(127.0.0.0/8, ::1, localhost) and to hosts it was started with "
                f"{OPTION} HOST[:PORT] (e.g. genesys-sim serve {OPTION} {target})")
