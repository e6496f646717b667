"""The connection's one-write responses: a head waits for its body, nothing else waits."""

from __future__ import annotations

from dataclasses import dataclass, field

from localwhisk.protocol import _one_write


@dataclass
class FakeTransport:
    writes: list[bytes] = field(default_factory=list)
    closed: bool = False

    def write(self, data: bytes) -> None:
        assert not self.closed, "write after close"
        self.writes.append(bytes(data))

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed


@dataclass
class FakeCycle:
    """The attributes of uvicorn's RequestResponseCycle that the wrapper reads."""

    transport: FakeTransport
    response_started: bool = False
    response_complete: bool = False
    completions: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.on_response = lambda: self.completions.append("done")


def started(transport: FakeTransport) -> FakeCycle:
    cycle = FakeCycle(transport)
    _one_write(cycle)  # type: ignore[arg-type]
    return cycle


def test_head_and_body_leave_in_one_write():
    transport = FakeTransport()
    cycle = started(transport)
    cycle.response_started = True
    cycle.transport.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n")
    assert transport.writes == []
    cycle.transport.write(b"{}")
    assert transport.writes == [b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}"]
    cycle.transport.write(b"more")  # a streamed body goes on as it comes
    assert transport.writes[-1] == b"more"


def test_a_response_without_body_sends_its_head_when_it_completes():
    transport = FakeTransport()
    cycle = started(transport)
    cycle.response_started = True
    cycle.transport.write(b"HTTP/1.1 204 No Content\r\n\r\n")  # HEAD or 204: no body write
    cycle.response_complete = True
    cycle.on_response()
    assert transport.writes == [b"HTTP/1.1 204 No Content\r\n\r\n"]
    assert cycle.completions == ["done"]  # the protocol's own completion still runs


def test_a_close_sends_the_held_head_first():
    transport = FakeTransport()
    cycle = started(transport)
    cycle.response_started = True
    cycle.transport.write(b"HTTP/1.1 200 OK\r\n\r\n")
    cycle.transport.close()  # the app failed after starting its answer
    assert transport.writes == [b"HTTP/1.1 200 OK\r\n\r\n"] and transport.closed


def test_continue_before_the_response_is_not_held():
    transport = FakeTransport()
    cycle = started(transport)
    cycle.transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")  # the client waits for it
    assert transport.writes == [b"HTTP/1.1 100 Continue\r\n\r\n"]
    assert cycle.transport.is_closing() is False  # everything else is the transport's
