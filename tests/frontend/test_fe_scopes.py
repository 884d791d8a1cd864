"""desugar_match.py and nonlocal_names.py (run by desugar_python): the source
``match`` and ``nonlocal`` are rewritten into, before and after on tiny functions."""
from fekit import parse, show
from pullback.code.naming import Namer
from pullback.errors import Location
from pullback.frontend.desugar_match import desugar_match
from pullback.frontend.nonlocal_names import pass_nonlocal_names


def run(rewrite, source):
    tree = parse(source)
    return show(rewrite(tree, Namer.for_tree(tree), Location("<test>", 1, "f")))


def test_match_becomes_if_elif_else():
    text = run(desugar_match, """
        def f(x, k):
            match k:
                case 0 | 1:
                    y = x
                case [a, b] if a > b:
                    y = a * x
                case other:
                    y = other * x
            return y
    """)
    assert "subject = k" in text
    assert "if subject == 0 or subject == 1:" in text
    assert ("elif is_sequence_subject(subject) and len(subject) == 2 "
            "and (subject[0] > subject[1]):") in text
    assert "a = subject[0]" in text and "b = subject[1]" in text
    assert "else:\n        other = subject\n        y = other * x" in text
    assert "match" not in text


def test_nonlocal_is_passed_in_and_returned():
    text = run(pass_nonlocal_names, """
        def f(x):
            s = 0.0
            def acc(v):
                nonlocal s
                s = s + v
            acc(x)
            return s
    """)
    assert "def acc(v, *, s):" in text
    assert "return s" in text and "nonlocal" not in text
    assert "s = acc(x, s=s)" in text


def test_nonlocal_with_a_result_returns_the_state_first():
    text = run(pass_nonlocal_names, """
        def f(x):
            s = 0.0
            def acc(v):
                nonlocal s
                s = s + v
                return v * 2.0
            y = acc(x)
            return s + y
    """)
    assert "return (s, v * 2.0)" in text
    # (Python 3.10's unparser writes the tuple target in parentheses)
    assert "s, y = acc(x, s=s)" in text.replace("(s, y) =", "s, y =")
