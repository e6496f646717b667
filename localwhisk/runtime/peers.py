"""Which action process holds the client end of a loopback TCP connection to the server.

When a running action calls the REST API (the bundle's web action starting its worker),
the dashboard links the two activations. The link is read from the kernel, not from the
request: the server's socket table (``/proc/self/net/tcp`` and ``tcp6``: sandboxes share
the server's network namespace, see ``sandbox``) gives the inode of the socket whose
local end is the request's peer address and whose remote end is the server's; then the
file descriptor tables of the busy action process trees (``/proc/<pid>/fd``) say which
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
import struct
from collections.abc import Iterable, Mapping

TABLES = ("/proc/self/net/tcp", "/proc/self/net/tcp6")


def _hex_v4(address: ipaddress.IPv4Address) -> str:
    # The kernel prints the address as the 32-bit word it keeps, in host byte order.
    return f"{struct.unpack('=I', address.packed)[0]:08X}"


def _hex_v6(address: ipaddress.IPv6Address) -> str:
    return "".join(f"{word:08X}" for word in struct.unpack("=4I", address.packed))


def _encodings(host: str) -> list[str]:
    """How ``host`` appears in the socket tables: an IPv4 address (or one mapped into
    IPv6, as a dual-stack server reports its clients) in both tables' forms."""
    try:
        address = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return []
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if isinstance(address, ipaddress.IPv4Address):
        mapped = ipaddress.IPv6Address(b"\0" * 10 + b"\xff\xff" + address.packed)
        return [_hex_v4(address), _hex_v6(mapped)]
    return [_hex_v6(address)]


def socket_inode(peer: tuple[str, int], server: tuple[str, int]) -> int | None:
    """The inode of the socket whose local end is ``peer`` and remote end is ``server``'s port."""
    locals_ = [f" {code}:{peer[1]:04X} " for code in _encodings(peer[0])]
    remote_port = f":{server[1]:04X} "
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
                if len(fields) >= 9 and fields[1].endswith(remote_port.strip()):
                    inode = int(fields[8]) if fields[8].isdigit() else 0
                    if inode:
                        return inode
                at = text.find(local, at + 1)
    return None


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


def holder(inode: int, roots: Mapping[int, str]) -> str | None:
    """The one value of ``roots`` (process tree root pid -> owner) whose tree holds the
    socket ``inode``; None when no tree, or more than one, holds it."""
    target = f"socket:[{inode}]"
    owners = {owner for root, owner in roots.items() if any(_holds(p, target) for p in tree(root))}
    return owners.pop() if len(owners) == 1 else None


def caller(peer: tuple[str, int], server: tuple[str, int], roots: Mapping[int, str]) -> str | None:
    """Whose process tree (of ``roots``) made the connection ``peer`` -> ``server``."""
    if not roots:
        return None
    inode = socket_inode(peer, server)
    return holder(inode, roots) if inode is not None else None
