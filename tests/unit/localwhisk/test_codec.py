"""The fast JSON codec reads and writes what the standard library did, where it matters."""

import json
import math

import pytest

from localwhisk import codec


def test_integers_beyond_64_bits_survive_a_round_trip() -> None:
    big = 123456789012345678901234567890
    assert codec.loads(b'{"n": 123456789012345678901234567890}') == {"n": big}
    assert codec.loads('{"n": -123456789012345678901234567890}') == {"n": -big}
    assert codec.dumps({"n": big}) == b'{"n":123456789012345678901234567890}'


def test_what_only_the_standard_library_reads_is_still_read() -> None:
    assert math.isnan(codec.loads(b'{"x": NaN}')["x"])
    assert codec.loads(b'{"x": 1e400}')["x"] == math.inf
    assert codec.loads(b"\xef\xbb\xbf{}") == {}


def test_malformed_documents_raise_the_standard_librarys_error() -> None:
    with pytest.raises(ValueError) as caught:
        codec.loads(b'{"a": ')
    assert isinstance(caught.value, json.JSONDecodeError)
    with pytest.raises(ValueError):
        codec.loads(b'{"a": "\xff"}')


def test_output_is_compact_utf8_and_falls_back_for_lone_surrogates() -> None:
    assert codec.dumps({"a": [1, "é"], "b": None}) == '{"a":[1,"é"],"b":null}'.encode()
    assert codec.dumps_text({"k": 1}) == '{"k":1}'
    assert codec.dumps_text({"s": "\ud800"}) == '{"s":"\ud800"}'  # as json wrote it
    assert codec.dumps({1: True}) == b'{"1":true}'
