"""desugar_python (frontend/desugar_python.py): the source each Python idiom
is rewritten into, shown before and after on tiny functions."""
import numpy as np

from fekit import expect, parse, show
from pullback.errors import Location
from pullback.frontend.desugar_python import desugar_python
from pullback.frontend.parsing import assigned_names


class _Parsed:
    """What desugar_python reads of a parsed function: its tree, where it is,
    its local names and the values of its free names (here: np and builtins)."""

    def __init__(self, tree):
        self.tree, self.location = tree, Location("<test>", 1, "f")
        self.local_names = frozenset(assigned_names(tree))

    def is_free(self, name):
        return name not in self.local_names

    def free_value(self, name):
        import builtins
        import warnings
        values = {"np": np, "warnings": warnings}
        if name in values:
            return values[name]
        if hasattr(builtins, name):
            return getattr(builtins, name)
        raise NameError(name)


def run(source):
    tree = parse(source)
    return show(desugar_python(tree, _Parsed(tree)))


def test_map_with_a_lambda_inlines_its_body():
    assert run("""
        def f(x):
            return sum(map(lambda v: v * v, x))
    """) == expect("""
        def f(x):
            return sum([v * v for v in x])
    """)


def test_filter_with_a_function_calls_it_per_item():
    assert run("""
        def f(x):
            return list(filter(g, x))
    """) == expect("""
        def f(x):
            return list([item for item in x if g(item)])
    """)


def test_sorted_with_key_reads_the_items_in_order():
    assert run("""
        def f(xs):
            return sorted(xs, key=abs, reverse=True)
    """) == expect("""
        def f(xs):
            return [xs[index] for index in sorted_order([abs(item) for item in xs], True)]
    """)


def test_max_with_key_reads_one_item():
    assert run("""
        def f(xs):
            return max(xs, key=lambda v: v * v)
    """) == expect("""
        def f(xs):
            return xs[first_largest([v * v for v in xs])]
    """)


def test_min_of_a_generator_with_key_names_the_items_first():
    assert run("""
        def f(xs):
            y = min((v * 2.0 for v in xs), key=abs) + 1.0
            return y
    """) == expect("""
        def f(xs):
            items = [v * 2.0 for v in xs]
            y = items[first_smallest([abs(item) for item in items])] + 1.0
            return y
    """)


def test_zip_of_rows_transposes():
    assert run("""
        def f(rows):
            for a, b in zip(*rows):
                pass
    """) == expect("""
        def f(rows):
            for a, b in [tuple([row[column] for row in rows]) for column in range(shortest_length(rows))]:
                pass
    """)


def test_insert_makes_a_new_list():
    assert run("""
        def f(x):
            xs = [x]
            xs.insert(0, x * 2.0)
            return xs
    """) == expect("""
        def f(x):
            xs = [x]
            value = x * 2.0
            xs_tail = xs[0:]
            xs = list(xs[:0])
            xs.append(value)
            for item in xs_tail:
                xs.append(item)
            return xs
    """)


def test_pop_at_a_computed_index_reads_its_position_first():
    assert run("""
        def f(x, i):
            xs = [x, x]
            y = xs.pop(i)
            return y
    """) == expect("""
        def f(x, i):
            xs = [x, x]
            position = position_in(xs, i)
            y = xs[position]
            xs_tail = xs[position + 1:]
            xs = list(xs[:position])
            for item in xs_tail:
                xs.append(item)
            return y
    """)


def test_reverse_and_extend():
    assert run("""
        def f(x):
            xs = [x]
            xs.reverse()
            xs.extend([x, x])
            return xs
    """) == expect("""
        def f(x):
            xs = [x]
            xs = xs[::-1]
            xs.append(x)
            xs.append(x)
            return xs
    """)


def test_warning_contexts_leave_their_body():
    assert run("""
        def f(x):
            with np.errstate(divide="ignore"):
                y = np.log(x)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                z = y * 2.0
            return z
    """) == expect("""
        def f(x):
            y = np.log(x)
            z = y * 2.0
            return z
    """)
