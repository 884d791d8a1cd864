"""The vocabulary of the rule-table tests: how a spec says to call a rule.

tests/test_rules.py generates one finite-difference test per case of every
spec; the specs live in tests/rule_spec_table.py and in
tests/rule_specs_<family>.py, one module per family of templates, each
exporting a ``SPEC`` dict keyed by function.
"""
import ast
import importlib
import pkgutil
import builtins
import math
import operator
import re
import zlib
from dataclasses import dataclass

import numpy as np

from pullback.analysis.operation import ATTRIBUTES, METHODS

# --------------------------------------------------------------------------
# Names: how a table key is written in generated source and in test ids.
# --------------------------------------------------------------------------

try:        # the scipy extra: specs call scipy.special and scipy.linalg where SciPy is installed
    import scipy
    import scipy.linalg
    import scipy.special
    _SCIPY = (("scipy.special", scipy.special), ("scipy.linalg", scipy.linalg))
except ImportError:
    scipy, _SCIPY = None, ()

_NAMESPACES = (("np", np), ("np.linalg", np.linalg), ("np.fft", np.fft), ("math", math), ("operator", operator),
               ("builtins", builtins)) + _SCIPY + tuple(
    # pullback's own helpers have rules too (higher order): runtime.unbroadcast, ... (every
    # module of pullback.runtime, so a new one is named the same way)
    (name, importlib.import_module("pullback." + name)) for name in ["runtime"] + [
        "runtime." + m.name for m in pkgutil.iter_modules(
            importlib.import_module("pullback.runtime").__path__) if m.name != "declare"])


def display_name(function):
    """``np.sin``, ``math.sin``, ``operator.add``, ``abs``: a name that,
    evaluated in a module importing np, math and operator, is ``function``."""
    name = getattr(function, "__name__", None)
    for prefix, module in _NAMESPACES:
        if name and getattr(module, name, None) is function:
            return name if prefix == "builtins" else f"{prefix}.{name}"
    for prefix, module in _NAMESPACES:     # an alias (np.round_ in old NumPy, ...)
        aliases = sorted(n for n, v in vars(module).items()
                         if v is function and not n.startswith("_"))
        if aliases:
            return aliases[0] if prefix == "builtins" else f"{prefix}.{aliases[0]}"
    return repr(function)


def _shape_text(shape):
    return "float" if shape is None else str(tuple(shape)).replace(" ", "")


# --------------------------------------------------------------------------
# The declarative table.
# --------------------------------------------------------------------------

@dataclass(frozen=True)
class Domain:
    """Where inputs are drawn from. ``signed``: magnitudes in [lo, hi] with
    random signs (keeps away from 0). ``kind="bool"``: a boolean mask."""
    lo: float = -2.0
    hi: float = 2.0
    signed: bool = False
    kind: str = "float"

    def sample(self, rng, shape):
        size = () if shape is None else shape
        if self.kind == "bool":
            return np.asarray(rng.random(size) < 0.5)
        value = np.array(rng.uniform(self.lo, self.hi, size=size), dtype=np.float64)
        if self.signed:
            value = value * rng.choice([-1.0, 1.0], size=size)
        return float(value) if shape is None else value


REAL = Domain(-2.0, 2.0)
WIDE = Domain(-3.0, 3.0)
POSITIVE = Domain(0.3, 3.0)
BASE = Domain(0.5, 2.0)             # bases of powers: positive, so x ** y is real
UNIT = Domain(-0.9, 0.9)            # arcsin, arccos
TAN = Domain(-1.2, 1.2)             # away from the poles at +-pi/2
LOG1P = Domain(-0.5, 2.0)
NONZERO = Domain(0.2, 2.0, signed=True)     # abs, reciprocal, divisors
LOG_BASE = Domain(1.5, 4.0)                 # math.log(x, base): base > 0, != 1
MASK = Domain(kind="bool")


@dataclass(frozen=True)
class Arg:
    name: str
    domain: Domain = REAL
    diff: bool = True       # a float input that gets a gradient (else: constant input)


@dataclass(frozen=True)
class Case:
    shapes: tuple           # one per argument: a shape tuple, or None for a Python float
    fields: tuple = ()      # (name, value) pairs formatted into the call template
    expr: str = None        # overrides the spec's template (with ``args``)
    args: tuple = None
    label: str = None
    valid: object = None    # replaces the spec's predicate (which fits the spec's args only)


@dataclass(frozen=True)
class Spec:
    template: str           # "np.sin(x)", "x + y", "np.sum(a, axis={axis})"
    args: tuple             # Arg per parameter of the generated function
    cases: tuple            # Case per variant; cases[0] is the typical one (float32 test)
    valid: object = None    # predicate on the sampled inputs: kinks, ties, jumps

    def expr(self, case):
        return (case.expr or self.template).format(**dict(case.fields))

    def arguments(self, case):
        return case.args or self.args

    def predicate(self, case):
        if case.valid is not None:
            return case.valid
        return self.valid if case.args is None else None


UNARY_SHAPES = ((3, 4), (5,), (), None, (2, 3, 2))
BROADCAST_PAIRS = (
    ((3, 4), (3, 4)),
    ((3, 1), (4,)),
    ((4,), (3, 1)),
    ((), (2, 3)),
    ((2, 3), ()),
    ((2, 1, 4), (3, 1)),
    ((1, 4), (3, 1)),
    ((1,), (3, 4)),
    (None, (3,)),
    ((3,), None),
    (None, None),
)
MATMUL_SHAPES = (
    ((2, 3), (3, 4)),
    ((3,), (3,)),
    ((2, 3), (3,)),
    ((3,), (3, 4)),
    ((5, 2, 3), (3, 4)),
    ((2, 3), (5, 3, 4)),
    ((5, 2, 3), (5, 3, 4)),
    ((1, 2, 3), (5, 3, 4)),
    ((5, 2, 3), (1, 3, 4)),
    ((2, 1, 2, 3), (5, 3, 4)),
    ((5, 2, 3), (3,)),
    ((3,), (5, 3, 4)),
)
DOT_SHAPES = (
    ((2, 3), (3, 4)),
    ((3,), (3,)),
    ((2, 3), (3,)),
    ((3,), (3, 4)),
    ((5, 2, 3), (3, 4)),
    ((2, 3), (5, 3, 4)),
    ((3,), (5, 3, 4)),
    ((5, 2, 3), (3,)),
    ((2, 2, 3), (4, 3, 2)),
    ((), (3, 4)),
    ((2, 3), ()),
    (None, (3,)),
)
OUTER_SHAPES = (((3,), (4,)), ((2, 3), (4,)), ((3,), (2, 2)), ((), (3,)), (None, (3,)))


def _reduction_cases():
    cases = []
    for shape, axes in (((3, 4), (None, 0, 1, -1, (0, 1), (1, 0))),
                        ((2, 3, 4), (None, 1, -1, (0, 2), (-1, 0), (0, 1, 2))),
                        ((5,), (None, 0, -1))):
        for axis in axes:
            for keepdims in (False, True):
                cases.append(Case((shape,), (("axis", axis), ("keepdims", keepdims))))
    return cases


def unary(template, domain=REAL, shapes=UNARY_SHAPES):
    return Spec(template, (Arg("x", domain),), tuple(Case((s,)) for s in shapes))


def _same(template, domain, shape, names=("x", "y")):
    """The same variable in both slots: the two adjoint writes must add up."""
    first, second = names
    return Case((shape,), expr=re.sub(rf"\b{second}\b", first, template),
                args=(Arg(first, domain),))


def binary(template, dx=REAL, dy=REAL, pairs=BROADCAST_PAIRS, valid=None, extra=(),
           same=None, same_shape=(3, 4), names=("x", "y")):
    cases = tuple(Case(p) for p in pairs) + tuple(extra)
    cases += (_same(template, same or dx, same_shape, names),)
    return Spec(template, (Arg(names[0], dx), Arg(names[1], dy)), cases, valid)


def scalar(template, *domains, extra=(), same=None):
    names = ("x", "y")[:len(domains)]
    cases = (Case((None,) * len(domains)),) + tuple(extra)
    if len(domains) == 2:
        cases += (_same(template, same or domains[0], None),)
    return Spec(template, tuple(Arg(n, d) for n, d in zip(names, domains)), cases)


def reduction(function_name):
    return Spec(f"np.{function_name}(a, axis={{axis}}, keepdims={{keepdims}})",
                (Arg("a", REAL),),
                tuple(_reduction_cases()) + (
                    Case(((3, 4),), expr=f"np.{function_name}(a)"),
                    Case(((3, 4),), expr=f"np.{function_name}(a, 1)"),
                    Case(((3, 4),), expr=f"np.{function_name}(a, axis=0, dtype=np.float64)"),
                    Case((None,), expr=f"np.{function_name}(a)"),
                ))


def _apart(x, y):
    """No ties (maximum/minimum): the arguments differ everywhere."""
    return bool(np.all(np.abs(np.subtract(x, y)) > 0.02))


def _off_jumps(x, y):
    """x mod y jumps where x / y is an integer: stay away from those."""
    frac = np.mod(np.divide(x, y), 1.0)
    return bool(np.all((frac > 0.02) & (frac < 0.98)))


def _pow_extras(call):
    """Constant exponents (negative bases allowed) and constant bases."""
    return (
        Case(((3, 4),), expr=call.format("x", "3.0"), args=(Arg("x", REAL),)),
        Case(((3, 4),), expr=call.format("x", "2"), args=(Arg("x", REAL),)),
        Case((None,), expr=call.format("x", "-2.0"), args=(Arg("x", NONZERO),)),
        Case(((3, 4),), expr=call.format("2.5", "y"), args=(Arg("y", REAL),)),
    )


_MAX_MIN = dict(valid=_apart)
_MOD = dict(dx=WIDE, dy=NONZERO, valid=_off_jumps)
_POW = dict(dx=BASE, dy=REAL)


# --------------------------------------------------------------------------
# Inputs of a case.
# --------------------------------------------------------------------------

def _rng(text):
    return np.random.default_rng(zlib.crc32(text.encode()))


def sample_inputs(spec, case, seed_text):
    """Inputs of one case: drawn from the domains, redrawn until ``valid``."""
    rng = _rng(seed_text)
    args = spec.arguments(case)
    valid = spec.predicate(case)
    for _ in range(2000):
        inputs = [arg.domain.sample(rng, shape) for arg, shape in zip(args, case.shapes)]
        if valid is None or valid(*inputs):
            return inputs
    raise AssertionError(f"no valid inputs found for {seed_text}")


# --------------------------------------------------------------------------
# Which function a spec's expression calls, and with which operands.
# --------------------------------------------------------------------------

_EVAL_NAMESPACE = {"np": np, "math": math, "operator": operator,
                   "runtime": importlib.import_module("pullback.runtime"),
                   **({"scipy": scipy} if scipy is not None else {})}
_AST_BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
               ast.Div: operator.truediv, ast.Pow: operator.pow, ast.MatMult: operator.matmul,
               ast.Mod: operator.mod, ast.FloorDiv: operator.floordiv}
_AST_UNARY = {ast.USub: operator.neg, ast.UAdd: operator.pos}


def _called(expr):
    """The function the outermost operation of ``expr`` resolves to, and
    the rule-parameter position/keyword of each operand."""
    node = ast.parse(expr, mode="eval").body
    if isinstance(node, ast.BinOp):
        return _AST_BINARY[type(node.op)], list(enumerate([node.left, node.right])), []
    if isinstance(node, ast.UnaryOp):
        return _AST_UNARY[type(node.op)], [(0, node.operand)], []
    if isinstance(node, ast.Attribute):             # a.T
        return ATTRIBUTES[node.attr], [(0, node.value)], []
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Call):   # divmod(x, y)[1]
        return _called(ast.unparse(node.value))
    if isinstance(node, ast.Subscript):             # np.r_[a, b]: its items are the operands
        items = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
        function = eval(compile(ast.Expression(node.value), "<spec>", "eval"), dict(_EVAL_NAMESPACE))
        return function, list(enumerate(items)), []
    if isinstance(node, ast.BinOp) is False and isinstance(node, ast.Call) \
            and isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name) \
            and node.func.value.id not in _EVAL_NAMESPACE:     # a.reshape(...): a method
        owner = node.func.value
        return METHODS[node.func.attr], list(enumerate([owner] + node.args)), \
            [(k.arg, k.value) for k in node.keywords]
    assert isinstance(node, ast.Call), expr
    function = eval(compile(ast.Expression(node.func), "<spec>", "eval"), dict(_EVAL_NAMESPACE))
    return function, list(enumerate(node.args)), [(k.arg, k.value) for k in node.keywords]


def _inner_call(expr, function):
    """For functions returning tuples (np.linalg.eigh): the first call of
    ``function`` inside a scalar of its outputs, ``np.sum(np.linalg.eigh(s)[0] * c)``."""
    for node in ast.walk(ast.parse(expr, mode="eval").body):
        if isinstance(node, ast.Call):
            try:
                called = eval(compile(ast.Expression(node.func), "<spec>", "eval"), dict(_EVAL_NAMESPACE))
            except Exception:
                continue
            if called is function:
                return called, list(enumerate(node.args)), [(k.arg, k.value) for k in node.keywords]
    return None
