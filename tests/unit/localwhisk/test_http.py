"""The query-string parser's fast path must agree with ``urllib.parse.parse_qsl``."""

from urllib.parse import parse_qsl

from hypothesis import given
from hypothesis import strategies as st

from localwhisk.http import parse_query

QUERY_TEXT = st.text(alphabet="ab=&;+%2F0 é", max_size=40)


@given(QUERY_TEXT)
def test_parse_query_matches_parse_qsl(text: str) -> None:
    assert parse_query(text) == dict(parse_qsl(text, keep_blank_values=True))


def test_parse_query_keeps_blank_values_and_the_last_repeat() -> None:
    assert parse_query("blocking=true&result&blocking=false&&=x") == {
        "blocking": "false",
        "result": "",
        "": "x",
    }


def test_parse_query_decodes_when_needed() -> None:
    assert parse_query("name=a%2Fb+c") == {"name": "a/b c"}
