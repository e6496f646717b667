"""Which action process holds the client end of a loopback TCP connection to the server.

When a running action calls the REST API (the bundle's web action starting its worker),
the dashboard links the two activations. The link is read from the kernel, not from the
request: the kernel's socket table (asked through sock_diag for the one socket, else
read from ``/proc/self/net/tcp`` and ``tcp6``; sandboxes share the server's network
namespace, see ``sandbox``) gives the inode of the socket whose local end is the
request's peer address and whose remote end is the server's; then the file descriptor
tables of the busy action process trees (``/proc/<pid>/fd``) say which
tree holds that socket. Action code cannot forge this as it could a header or a
parameter: it cannot write either table, its processes are only those the runner
started (a PID namespace under bubblewrap, the launcher's subreaper without), and a
socket passed to another activation's process (SCM_RIGHTS, which needs that process's
help) is held by both trees, which this module reports as nobody. Reads only; where
there is no /proc (not Linux) nothing is ever found.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import socket
import struct
import weakref
from collections.abc import Iterable, Mapping

TABLES = ("/proc/self/net/tcp", "/proc/self/net/tcp6")
NETLINK_SOCK_DIAG = 4
SOCK_DIAG_BY_FAMILY = 20
NLMSG_ERROR = 2
NLM_F_REQUEST = 1
ALL_STATES = 0xFFFFFFFF
NO_COOKIE = 0xFFFFFFFF
CACHED = 4096  # connections remembered (their sockets' inodes); then forgotten at once


def _v4(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address, an IPv4 one mapped into IPv6 (as a dual-stack server reports its
    clients) as the IPv4 address its socket really has."""
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


_link: socket.socket | None = None  # one netlink socket, kept (the server has one loop)


def _diag_inode(local: tuple[str, int], remote: tuple[str, int]) -> int | None:
    """The inode of the TCP socket ``local`` -> ``remote``, asked of the kernel by its
    exact address (sock_diag): one lookup, however many sockets the machine has.
    Raises OSError when the kernel offers no sock_diag."""
    here, there = _v4(local[0]), _v4(remote[0])
    if here is None or there is None or here.version != there.version:
        return None
    family = socket.AF_INET if here.version == 4 else socket.AF_INET6
    width = 16 if family == socket.AF_INET6 else 4
    sockid = struct.pack(
        "!HH16s16s",
        local[1],
        remote[1],
        here.packed.ljust(16, b"\0")[:16] if width == 4 else here.packed,
        there.packed.ljust(16, b"\0")[:16] if width == 4 else there.packed,
    ) + struct.pack("=III", 0, NO_COOKIE, NO_COOKIE)
    request = struct.pack("=BBBxI", family, socket.IPPROTO_TCP, 0, ALL_STATES) + sockid
    header = struct.pack("=IHHII", 16 + len(request), SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST, 1, 0)
    global _link
    if _link is None:
        _link = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_SOCK_DIAG)
        _link.settimeout(1.0)
    try:
        _link.send(header + request)
        reply = _link.recv(8192)
    except OSError:
        _link.close()
        _link = None
        raise
    if len(reply) < 16:
        return None
    _, kind, _, _, _ = struct.unpack_from("=IHHII", reply)
    if kind == NLMSG_ERROR:
        (code,) = struct.unpack_from("=i", reply, 16)
        if code in (0, -2):  # ENOENT: no such socket
            return None
        raise OSError(-code, os.strerror(-code))
    # inet_diag_msg: family, state, timer, retrans, sockid (48 bytes), expires, rqueue,
    # wqueue, uid, inode
    if kind != SOCK_DIAG_BY_FAMILY or len(reply) < 16 + 72:
        return None
    (inode,) = struct.unpack_from("=I", reply, 16 + 4 + 48 + 16)
    return inode or None


def _hex_v4(address: ipaddress.IPv4Address) -> str:
    # The kernel prints the address as the 32-bit word it keeps, in host byte order.
    return f"{struct.unpack('=I', address.packed)[0]:08X}"


def _hex_v6(address: ipaddress.IPv6Address) -> str:
    return "".join(f"{word:08X}" for word in struct.unpack("=4I", address.packed))


def _table_inode(peer: tuple[str, int], server: tuple[str, int]) -> int | None:
    """The same from /proc/net/tcp{,6}: where there is no sock_diag (slow with many
    sockets: the kernel prints its whole table)."""
    address = _v4(peer[0])
    if address is None:
        return None
    if isinstance(address, ipaddress.IPv4Address):
        mapped = ipaddress.IPv6Address(b"\0" * 10 + b"\xff\xff" + address.packed)
        codes = [_hex_v4(address), _hex_v6(mapped)]
    else:
        codes = [_hex_v6(address)]
    locals_ = [f" {code}:{peer[1]:04X} " for code in codes]
    remote_port = f":{server[1]:04X}"
    for table in TABLES:
        try:
            with open(table, "rb") as f:
                text = f.read().decode("ascii", "replace")
        except OSError:
            continue
        for local in locals_:
            at = text.find(local)
            while at >= 0:
                end = text.find("\n", at)
                fields = text[at : end if end >= 0 else len(text)].split()
                # local, remote, state, tx:rx, tr:when, retrnsmt, uid, timeout, inode
                if len(fields) >= 9 and fields[1].endswith(remote_port):
                    inode = int(fields[8]) if fields[8].isdigit() else 0
                    if inode:
                        return inode
                at = text.find(local, at + 1)
    return None


_diag_works = True


def socket_inode(peer: tuple[str, int], server: tuple[str, int]) -> int | None:
    """The inode of the socket whose local end is ``peer`` and remote end is ``server``."""
    global _diag_works
    if _diag_works:
        try:
            return _diag_inode(peer, server)
        except OSError:
            _diag_works = False
    return _table_inode(peer, server)


def _children(pid: int) -> list[int]:
    found: list[int] = []
    with contextlib.suppress(OSError):
        for task in os.listdir(f"/proc/{pid}/task"):
            with (
                contextlib.suppress(OSError, ValueError),
                open(f"/proc/{pid}/task/{task}/children") as f,
            ):
                found.extend(int(child) for child in f.read().split())
    return found


def tree(root: int) -> Iterable[int]:
    """``root`` and every descendant (bounded: a tree being forked may race the walk)."""
    seen, stack = {root}, [root]
    while stack and len(seen) < 4096:
        pid = stack.pop()
        yield pid
        for child in _children(pid):
            if child not in seen:
                seen.add(child)
                stack.append(child)


def _holds(pid: int, target: str) -> bool:
    folder = f"/proc/{pid}/fd"
    try:
        fds = os.listdir(folder)
    except OSError:
        return False
    for fd in fds:
        with contextlib.suppress(OSError):
            if os.readlink(f"{folder}/{fd}") == target:
                return True
    return False


class Callers:
    """Finds the owner of a connection's client end among busy process trees, remembering
    per socket what it found, so a keep-alive connection costs one kernel lookup per
    request instead of a walk over every busy process's descriptors.

    What is remembered stays true: a socket's holder found once keeps it (a process
    gets a socket another holds only by having it passed), and a tree that did not hold
    a socket when looked at cannot come to hold it the same way. So per socket only the
    trees not yet looked at are walked.
    """

    def __init__(self) -> None:
        self._found: dict[int, int | None] = {}  # inode -> root pid holding it (None: several)
        self._checked: dict[int, set[int]] = {}  # inode -> roots known not to hold it
        # connection (the server's object for it) -> its client end's inode: asked once
        self._inodes: weakref.WeakKeyDictionary[object, int | None] = weakref.WeakKeyDictionary()

    def find(
        self,
        peer: tuple[str, int],
        server: tuple[str, int],
        roots: Mapping[int, str],
        connection: object | None = None,
    ) -> str | None:
        """The value of ``roots`` (busy root pid -> owner) whose tree holds the client end of
        ``peer`` -> ``server``; None when none does, or more than one. ``connection``, the
        same object for each request of one TCP connection, saves asking the kernel again."""
        if not roots:
            return None
        if connection is not None and connection in self._inodes:
            inode = self._inodes[connection]
        else:
            inode = socket_inode(peer, server)
            if connection is not None:
                self._inodes[connection] = inode
        if inode is None:
            return None
        if inode in self._found:
            root = self._found[inode]
            return roots.get(root) if root is not None else None
        if len(self._checked) >= CACHED:
            self._found.clear()
            self._checked.clear()
        checked = self._checked.setdefault(inode, set())
        target = f"socket:[{inode}]"
        holders = []
        for root in roots:
            if root in checked:
                continue
            if any(_holds(pid, target) for pid in tree(root)):
                holders.append(root)
            else:
                checked.add(root)
        if not holders:
            return None
        del self._checked[inode]
        self._found[inode] = holders[0] if len(holders) == 1 else None
        return roots[holders[0]] if len(holders) == 1 else None


def caller(peer: tuple[str, int], server: tuple[str, int], roots: Mapping[int, str]) -> str | None:
    """Whose process tree (of ``roots``) holds the client end of ``peer`` -> ``server``,
    looked at afresh (``Callers`` remembers what it found)."""
    return Callers().find(peer, server, roots)
