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


@pytest.mark.parametrize(
    "text",
    [
        "18446744073709551616",  # 2**64: the smallest integer orjson reads as a float
        "9999999999999999999",  # 19 digits
        "-12345678901234567890",
        "[1, 12345678901234567890123]",
        '{"a": "x", "b": 99999999999999999999}',
    ],
)
def test_long_integers_anywhere_are_read_exactly_from_bytes_and_text(text: str) -> None:
    expected = json.loads(text)
    assert codec.loads(text.encode()) == expected and codec.loads(text) == expected
    assert codec.loads_stored(text.encode()) == expected and codec.loads_stored(text) == expected


def test_eighteen_digits_and_split_runs_stay_on_the_fast_path() -> None:
    assert not codec._long_digits(b"[123456789012345678, 1234567890.123456789]")
    assert codec._long_digits("\u00e9 1234567890123456789")
    assert not codec._long_digits("\ud800 \u0661\u0662\u0663")  # only ASCII digits count


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


def test_outside_documents_past_the_limits_are_unreadable() -> None:
    limit = codec.MAX_DEPTH
    assert codec.loads("[" * limit + "]" * limit) is not None
    for text in ("[" * (limit + 1) + "]" * (limit + 1), '{"a":' * 2000 + "1" + "}" * 2000):
        with pytest.raises(codec.Unreadable, match="levels deep"):
            codec.loads(text)
    with pytest.raises(codec.Unreadable, match="surrogate"):
        codec.loads('["\\ud800"]')
    with pytest.raises(codec.Unreadable, match="4300 digits"):
        codec.loads("[" + "1" * 4301 + "]")
    assert codec.loads('["\\ud83d\\ude00"]') == ["\U0001f600"]  # a pair is a character


def test_own_documents_are_read_without_the_depth_limit() -> None:
    deep = "[" * (codec.MAX_DEPTH + 3) + "]" * (codec.MAX_DEPTH + 3)
    assert codec.loads_stored(deep) == json.loads(deep)
    assert codec.loads_stored('{"n": 123456789012345678901234567890}')["n"] % 10 == 0


def test_storable_text_is_valid_utf8_json_or_unstorable() -> None:
    assert codec.storable_text({"n": 2**70}) == f'{{"n":{2**70}}}'
    nested: list = []
    for _ in range(5000):
        nested = [nested]
    for value, reason in (({"s": "\ud800"}, "surrogate"), (nested, "levels deep")):
        with pytest.raises(codec.Unstorable, match=reason):
            codec.storable_text(value)
    with pytest.raises(codec.Unstorable, match="cannot be written"):
        codec.storable_text({"x": object()})
