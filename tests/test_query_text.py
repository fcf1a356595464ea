import pytest

import gmnet
from gmnet import parse_query


def test_parse_full_query():
    q = parse_query("P(harm=yes | shift_type=extreme, spec_quality=low, "
                    "do(alignment_method=interpretability_verified, capability_level=superhuman))")
    assert q.target == "harm" and q.state == "yes"
    assert q.evidence == {"shift_type": "extreme", "spec_quality": "low"}
    assert q.do == {"alignment_method": "interpretability_verified",
                    "capability_level": "superhuman"}
    assert str(q) == ("P(harm=yes | shift_type=extreme, spec_quality=low, "
                      "do(alignment_method=interpretability_verified, "
                      "capability_level=superhuman))")


def test_do_may_come_first_and_spaces_are_free():
    q = parse_query("  P( harm |do( a = x ) ,b=y )")
    assert (q.target, q.state, q.evidence, q.do) == ("harm", None, {"b": "y"}, {"a": "x"})
    assert parse_query("P(harm)").evidence == {}


@pytest.mark.parametrize("text, message", [
    ("harm | a=b", "cannot parse query"),
    ("P(harm | )", "has '|' but nothing after it"),
    ("P(harm | a)", "cannot parse 'a' in query"),
    ("P(harm | a=x, a=y)", "a is given twice"),
    ("P(harm | do(a=x), a=y)", "a is given twice"),
    ("P(harm | do(a=x, ))", "empty item"),
])
def test_malformed_queries(text, message):
    with pytest.raises(gmnet.QuerySyntaxError, match=message):
        parse_query(text)


def test_public_api_names_import():
    for name in gmnet.__all__:
        assert getattr(gmnet, name) is not None, name


def test_quickstart_example_runs():
    import pathlib
    import subprocess
    import sys

    script = pathlib.Path(__file__).parent.parent / "examples" / "quickstart.py"
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                         check=True).stdout
    # the expanded formula: min(45%, 27.7% x 1.75) = 45.0%, then x 0.4 = 19.4%
    assert "= 0.450" in out and "= 0.194" in out
