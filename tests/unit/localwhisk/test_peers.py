"""runtime.peers on this machine's real socket tables: which process tree holds a
connection's client end, with real sockets and real child processes."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

from localwhisk.runtime import peers

pytestmark = pytest.mark.skipif(
    not os.path.exists("/proc/self/net/tcp"), reason="needs Linux /proc"
)

# A child that connects to the port given, says so, and waits to be killed.
CLIENT = (
    "import socket, sys\n"
    "s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))\n"
    "print(s.getsockname()[1], flush=True)\n"
    "sys.stdin.read()\n"
)


@pytest.fixture
def listener():
    server = socket.create_server(("127.0.0.1", 0))
    yield server
    server.close()


def _child(port: int) -> tuple[subprocess.Popen[str], int]:
    proc = subprocess.Popen(
        [sys.executable, "-c", CLIENT, str(port)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    return proc, int(proc.stdout.readline())


def test_the_child_holding_the_client_end_is_named(listener):
    port = listener.getsockname()[1]
    one, one_port = _child(port)
    two, two_port = _child(port)
    try:
        accepted = [listener.accept()[0] for _ in range(2)]
        server = ("127.0.0.1", port)
        roots = {one.pid: "first", two.pid: "second"}
        assert peers.caller(("127.0.0.1", one_port), server, roots) == "first"
        assert peers.caller(("127.0.0.1", two_port), server, roots) == "second"
        # The same connection seen through a dual-stack server (an IPv4-mapped peer).
        assert peers.caller(("::ffff:127.0.0.1", two_port), server, roots) == "second"
        assert peers.caller(("127.0.0.1", one_port), server, {two.pid: "second"}) is None
        assert peers.caller(("127.0.0.1", 1), server, roots) is None  # no such connection
        assert peers.caller(("127.0.0.1", one_port), server, {}) is None
        for sock in accepted:
            sock.close()
    finally:
        for proc in (one, two):
            proc.kill()
            proc.wait()


def test_a_grandchild_counts_for_its_tree(listener):
    port = listener.getsockname()[1]
    wrapper = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import subprocess, sys; subprocess.run([sys.executable, '-c', {CLIENT!r}, '{port}'])",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert wrapper.stdout is not None
        client_port = int(wrapper.stdout.readline())
        accepted, _ = listener.accept()
        assert (
            peers.caller(("127.0.0.1", client_port), ("127.0.0.1", port), {wrapper.pid: "w"}) == "w"
        )
        accepted.close()
    finally:
        for pid in peers.tree(wrapper.pid):
            if pid != wrapper.pid:
                os.kill(pid, 9)
        wrapper.kill()
        wrapper.wait()


def test_a_socket_held_by_two_trees_names_nobody(listener):
    # Passing a connection to another activation's process (SCM_RIGHTS, or inheriting it)
    # leaves it in both: such a call cannot be pinned on either.
    port = listener.getsockname()[1]
    client = socket.create_connection(("127.0.0.1", port))
    accepted, _ = listener.accept()
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.stdin.read()"],
        stdin=subprocess.PIPE,
        pass_fds=(client.fileno(),),
    )
    try:
        peer, server = ("127.0.0.1", client.getsockname()[1]), ("127.0.0.1", port)
        assert peers.caller(peer, server, {os.getpid(): "tests"}) == "tests"
        assert peers.caller(peer, server, {holder.pid: "other"}) == "other"
        assert peers.caller(peer, server, {os.getpid(): "tests", holder.pid: "other"}) is None
    finally:
        holder.kill()
        holder.wait()
        client.close()
        accepted.close()


def test_ipv6_loopback_connections_are_found():
    try:
        server = socket.create_server(("::1", 0), family=socket.AF_INET6)
    except OSError:
        pytest.skip("no IPv6 loopback on this machine")
    with server:
        port = server.getsockname()[1]
        client = socket.create_connection(("::1", port))
        accepted, _ = server.accept()
        with client, accepted:
            peer = ("::1", client.getsockname()[1])
            assert peers.caller(peer, ("::1", port), {os.getpid(): "me"}) == "me"


def test_the_kernel_lookup_and_the_proc_table_agree(listener):
    port = listener.getsockname()[1]
    client = socket.create_connection(("127.0.0.1", port))
    accepted, _ = listener.accept()
    with client, accepted:
        peer, server = ("127.0.0.1", client.getsockname()[1]), ("127.0.0.1", port)
        found = peers._table_inode(peer, server)
        assert found is not None and found == os.fstat(client.fileno()).st_ino
        assert peers._diag_inode(peer, server) == found
        assert peers._diag_inode(("127.0.0.1", 1), server) is None  # no such socket
        # The server's own end is a different socket: asking for it names that one.
        assert peers._diag_inode(server, peer) == os.fstat(accepted.fileno()).st_ino
