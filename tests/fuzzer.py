"""A differential fuzzer for pullback: random user-style programs, checked
against float64 central finite differences, in reverse mode (grad, vjp) and
in forward mode (jvp along a random direction).

Each program is generated from ``(seed, index)`` alone by a seeded
``random.Random`` (no Hypothesis: a plain generator is reproducible from two
integers, needs no database and no shrinking machinery, and is fast enough to
run 100,000 programs). The programs are real source files (pullback reads
source with ``inspect``): a batch of generated functions is written into one
module file in a temporary folder and imported.

Outcomes, per program:

- ``ok``: the value and every gradient match the reference;
- ``refused``: pullback raised a ``PullbackError`` (or the runtime's
  ``NotDifferentiable``), a documented refusal;
- ``wrong``: a gradient differs from central differences at two step sizes
  that agree with each other (or from a hand-derived value), or the value
  returned differs from calling the function;
- ``crashed``: any other exception from pullback or the generated derivative;
- ``modified``: the caller's arguments changed;
- ``skipped``: the point is not smooth (the two finite-difference estimates
  disagree) or the function's value is not finite there; nothing is claimed.

Run ``python tests/fuzzer.py --n 1000 --seed 1 --jobs 2`` (``make fuzz``);
``python tests/fuzzer.py --show SEED INDEX`` prints one program.
"""
import argparse
import ast
import atexit
import collections
import importlib.util
import math
import multiprocessing
import os
import re
import shutil
import signal
import sys
import tempfile
import time
import traceback
import random

import numpy as np

SHAPES = [(), (3,), (2, 3), (1, 3), (2, 1)]
OUT_SHAPES = [(3,), (2, 3), (1, 3), (2, 1), (2,)]
EXTRA_SHAPES = [(2,)]         # reachable through reductions and slices


def broadcast(*shapes):
    try:
        return tuple(np.broadcast_shapes(*shapes))
    except ValueError:
        return None


ALL = SHAPES + EXTRA_SHAPES
SPLITS = {t: [(a, b) for a in ALL for b in ALL if broadcast(a, b) == t] for t in ALL}


def reductions_to(target, source):
    """Reduction call suffixes (axis/keepdims) taking ``source`` to ``target``."""
    out = []
    if target == ():
        out.append("")
    for axis in range(len(source)):
        for keep in (False, True):
            shape = list(source)
            if keep:
                shape[axis] = 1
            else:
                del shape[axis]
            if tuple(shape) == target:
                out.append(f", axis={axis}" + (", keepdims=True" if keep else ""))
                if axis == len(source) - 1 and not keep and len(source) > 1:
                    out.append(", axis=-1")
    return out


def slices_to(target, source):
    """Indexing expressions (suffixes) reading ``target`` out of ``source``."""
    out = []
    if source == (3,):
        if target == ():
            out += ["[0]", "[1]", "[2]", "[-1]"]
        if target == (2,):
            out += ["[1:]", "[:2]", "[::2]", "[:-1]"]
        if target == (3,):
            out += ["[::-1]", "[:]"]
    if source == (2, 3):
        if target == ():
            out += ["[0, 1]", "[1, 2]", "[-1, 0]", "[1][2]"]
        if target == (3,):
            out += ["[0]", "[1]", "[-1]", "[1, :]"]
        if target == (2,):
            out += ["[:, 0]", "[:, 2]", "[:, -1]"]
        if target == (1, 3):
            out += ["[:1]", "[1:]", "[-1:]"]
        if target == (2, 1):
            out += ["[:, :1]", "[:, 2:]", "[:, 1:2]"]
        if target == (2, 3):
            out += ["[::-1]", "[:, ::-1]"]
    if source == (1, 3):
        if target == ():
            out += ["[0, 1]", "[0, -1]"]
        if target == (3,):
            out += ["[0]"]
        if target == (2,):
            out += ["[0, 1:]"]
    if source == (2, 1):
        if target == ():
            out += ["[1, 0]", "[0, 0]"]
        if target == (2,):
            out += ["[:, 0]"]
    if source == (2,):
        if target == ():
            out += ["[0]", "[-1]"]
    return out


# Constant arrays with distinct entries, for shapes no name in scope can make.
CONSTANTS = {(3,): "np.array([0.5, 1.25, 2.0])", (2,): "np.array([0.75, 1.5])",
             (2, 1): "np.array([[0.75], [1.5]])", (1, 3): "np.array([[0.5, 1.25, 2.0]])",
             (2, 3): "np.array([[0.5, 1.25, 2.0], [-1.0, 0.25, 1.75]])"}


def owns_memory(expression):
    """Whether ``expression`` certainly makes a new array (an operator or a NumPy
    function), so that ``+=`` on its name cannot reach an argument."""
    node = ast.parse(expression, mode="eval").body
    if isinstance(node, (ast.BinOp, ast.UnaryOp, ast.Constant)):
        return True
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and (getattr(node.func.value, "id", None) == "np" or node.func.attr in REDUCTIONS))


REDUCTIONS = {"sum", "mean", "max", "min", "prod", "var", "std"}


class Generator:
    """Writes one random function (plus helpers) into ``self.lines``.

    ``env`` maps names to shapes; ``scalar`` programs use Python floats and
    ``math`` only. ``fresh`` holds names known not to share memory with an
    argument (so that ``+=`` on them is the program's own business).
    """

    def __init__(self, rng, name, scalar=False):
        self.rng = rng
        self.name = name
        self.scalar = scalar
        self.env = {}
        self.fresh = set()
        self.ints = []            # loop counters in scope
        self.lines = []
        self.helpers = []         # module-level source of helper functions
        self.features = set()
        self.count = 0
        self.indent = 1
        self.sums = []            # sums over steps that only the result reads (s_sum_loop)

    # -- helpers ---------------------------------------------------------------
    def fresh_name(self, prefix="v"):
        self.count += 1
        return f"{prefix}{self.count}"

    def emit(self, text):
        self.lines.append("    " * self.indent + text)

    def fn(self, numpy_name):
        if self.scalar:
            return {"abs": "abs", "maximum": "max", "minimum": "min"}.get(numpy_name, "math." + numpy_name)
        return {"abs": "np.abs"}.get(numpy_name, "np." + numpy_name)

    def literal(self):
        return self.rng.choice(["0.5", "2.0", "1.5", "0.25", "3.0", "0.75", "1.0", "-0.5", "-1.25"])

    # -- expressions -----------------------------------------------------------
    def names(self, shape):
        return [n for n, s in self.env.items() if s == shape]

    def leaf(self, shape):
        rng = self.rng
        options = [("name", n) for n in self.names(shape)]
        if shape == ():
            options.append(("literal", None))
        if not self.scalar:
            for n, s in self.env.items():
                for suffix in slices_to(shape, s):
                    options.append(("index", n + suffix))
                if s != shape and s != ():
                    for suffix in reductions_to(shape, s):
                        options.append(("reduce", (n, suffix)))
        if self.ints and shape == () and rng.random() < 0.3:
            return f"({rng.choice(self.ints)} + {self.literal()})"
        if not options:
            if not self.scalar:
                for a, b in SPLITS[shape]:
                    if self.names(a) and self.names(b):
                        return f"{rng.choice(self.names(a))} * {rng.choice(self.names(b))}"
            if shape == (1, 3) or self.rng.random() < 0.1:   # equal entries: ties, zero spread
                return f"np.ones({shape}) * {self.leaf(())}"
            return f"{CONSTANTS[shape]} {self.rng.choice('*+')} {self.leaf(())}"
        # prefer plain names
        names = [o for o in options if o[0] == "name"]
        if names and rng.random() < 0.7:      # recent names first: fewer dead statements
            kind, value = rng.choices(names, weights=[(k + 1) ** 2 for k in range(len(names))])[0]
        else:
            kind, value = rng.choice(options)
        if kind == "name":
            return value
        if kind == "literal":
            return self.literal()
        if kind == "index":
            self.features.add("index")
            return value
        n, suffix = value
        self.features.add("reduce")
        return f"np.{rng.choice(['sum', 'mean'])}({n}{suffix})"

    def positive(self, shape, depth):
        e = self.expr(shape, depth)
        form = self.rng.randrange(4)
        if form == 0:
            return f"({e}) ** 2 + 0.5"
        if form == 1:
            return f"{self.fn('exp')}({e})"
        if form == 2:
            return f"(1.5 + {self.fn('sin')}({e}))"
        return f"({self.fn('abs')}({e}) + 0.25)"

    def expr(self, shape, depth):
        rng = self.rng
        if depth <= 0 or rng.random() < 0.2:
            return self.leaf(shape)
        d = depth - 1
        kinds = ["unary", "unary", "binary", "binary", "binary", "power", "maxmin"]
        if not self.scalar:
            kinds += ["reduce", "reduce", "product", "index", "where", "join"]
        else:
            kinds += ["ifexp"]
        kind = rng.choice(kinds)
        if kind == "unary":
            op = rng.choice(["sin", "cos", "tanh", "exp", "log", "sqrt", "abs", "neg", "square"])
            self.features.add("math")
            if op == "neg":
                return f"-{self.atom(shape, d)}"
            if op in ("log", "sqrt"):
                return f"{self.fn(op)}({self.positive(shape, d)})"
            if op == "exp":
                return f"{self.fn('exp')}({self.fn('sin')}({self.expr(shape, d)}))"
            if op == "square" and not self.scalar:
                return f"np.square({self.expr(shape, d)})"
            if op == "square":
                return f"{self.atom(shape, d)} * {self.atom(shape, d)}"
            return f"{self.fn(op)}({self.expr(shape, d)})"
        if kind == "binary":
            a, b = rng.choice(SPLITS[shape]) if not self.scalar else ((), ())
            op = rng.choice(["+", "-", "*", "*", "/"])
            if op == "/":
                return f"{self.atom(a, d)} / ({self.positive(b, d)})"
            self.features.add("broadcast") if a != b else None
            return f"{self.atom(a, d)} {op} {self.atom(b, d)}"
        if kind == "power":
            self.features.add("power")
            form = rng.randrange(5)
            if form == 0:
                return f"{self.atom(shape, d)} ** {rng.choice(['2', '3', '2.0', '4'])}"
            if form == 1:
                return f"({self.positive(shape, d)}) ** {rng.choice(['0.5', '1.5', '-1', '-0.5'])}"
            if form == 2 and self.ints:
                self.features.add("int_power")
                return f"{self.atom(shape, d)} ** {rng.choice(self.ints)}"
            if form == 3 and self.scalar:
                return f"math.pow({self.positive(shape, d)}, {self.literal().lstrip('-')})"
            if form == 3:
                return f"np.power({self.atom(shape, d)}, 2)"
            return f"{self.atom(shape, d)} ** 2"
        if kind == "maxmin":
            self.features.add("maxmin")
            a, b = rng.choice(SPLITS[shape]) if not self.scalar else ((), ())
            return f"{self.fn(rng.choice(['maximum', 'minimum']))}({self.expr(a, d)}, {self.expr(b, d)})"
        if kind == "ifexp":
            self.features.add("ifexp")
            return (f"({self.expr(shape, d)} if {self.expr((), d)} > {self.literal()} "
                    f"else {self.expr(shape, d)})")
        if kind == "reduce":
            sources = [s for s in ALL if s != shape and reductions_to(shape, s)]
            if not sources:
                return self.leaf(shape)
            s = rng.choice(sources)
            suffix = rng.choice(reductions_to(shape, s))
            op = rng.choice(["sum", "sum", "mean", "max", "min", "prod", "var", "std"])
            self.features.add("reduce_" + op)
            inner = self.expr(s, d)
            if op == "std":
                inner = f"{inner} + {self.expr(s, d)}"
            if rng.random() < 0.3 and op in ("sum", "mean", "max", "prod", "var", "std"):
                return f"({inner}).{op}({suffix[2:]})"
            return f"np.{op}({inner}{suffix})"
        if kind == "product":
            self.features.add("product")
            forms = {
                (): ["{a3} @ {b3}", "np.dot({a3}, {b3})", "np.einsum('i,i->', {a3}, {b3})",
                     "np.einsum('ij,ij->', {A}, {B})", "np.vdot({a3}, {b3})"],
                (2,): ["{A} @ {a3}", "np.dot({A}, {a3})", "np.einsum('ij,j->i', {A}, {a3})"],
                (3,): ["{a2} @ {A}", "np.einsum('ij->j', {A})", "{A}.T @ {a2}"],
                (2, 3): ["np.outer({a2}, {a3})", "np.einsum('i,j->ij', {a2}, {a3})", "{C} @ {R}"],
                (2, 1): ["{A} @ {R}.T"],
                (1, 3): ["{C}.T @ {A}"],
            }[shape]
            form = rng.choice(forms)
            fill = self.operands(form, d)
            return form.format(**fill)
        if kind == "index":
            sources = [s for s in ALL if slices_to(shape, s)]
            if not sources:
                return self.leaf(shape)
            s = rng.choice(sources)
            self.features.add("index")
            return f"({self.expr(s, d)}){rng.choice(slices_to(shape, s))}"
        if kind == "join":
            # np.concatenate of pieces and stencils on a padded copy: symbolic lengths
            # (analysis/lengths.py) decide which operands keep a shape
            self.features.add("join")
            forms = {
                (3,): ["np.concatenate(({a3}[:1], {b3}[1:]))", "np.concatenate(({a2}, {a3}[-1:]))",
                       "np.concatenate(({a3}[1:], {a3}[:1]))",
                       "{P}[2:] - 2.0 * {P}[1:-1] + {P}[:-2]"],
                (2,): ["np.concatenate(({a3}[:1], {b3}[-1:]))", "{a3}[1:] - {a3}[:-1]",
                       "{P}[2:-1] * {P}[1:-2]"],
                (2, 3): ["np.concatenate(({R}, {A}[1:]), axis=0)",
                         "np.concatenate(({C}, {A}[:, 1:]), axis=1)",
                         "np.concatenate(({A}[:, :1], {B}[:, 1:]), axis=-1)",
                         "{Q}[1:-1, 2:] + {Q}[1:-1, :-2] - {A}",
                         "np.vstack(({A}[-1:], {B}[:-1]))", "np.hstack(({A}[:, 1:], {B}[:, :1]))",
                         "{H}[:, 2:] - {H}[:, :-2]"],
                (1, 3): ["np.concatenate(({R}[:, :2], {R}[:, 2:]), axis=1)"],
                (2, 1): ["np.concatenate(({C}[:1], {C}[1:]))", "{A}[:, 1:2] - {A}[:, :1]"],
            }.get(shape)
            if not forms:
                return self.leaf(shape)
            form = rng.choice(forms)
            fill = self.operands(form, d)
            if "{P}" in form:       # a vector padded by its edge values
                v = self.atom((3,), d)
                fill["P"] = f"np.concatenate(({v}[:1], {v}, {v}[-1:]))"
            if "{Q}" in form:       # a matrix padded along both axes
                m = self.atom((2, 3), d)
                fill["Q"] = (f"np.concatenate((np.concatenate(({m}[:1], {m}, {m}[-1:]))[:, :1], "
                             f"np.concatenate(({m}[:1], {m}, {m}[-1:])), "
                             f"np.concatenate(({m}[:1], {m}, {m}[-1:]))[:, -1:]), axis=1)")
                fill["A"] = fill.get("A") or self.atom((2, 3), d)
            if "{H}" in form:       # a matrix with its columns wrapped round (np.hstack)
                m = self.atom((2, 3), d)
                fill["H"] = f"np.hstack(({m}[:, -1:], {m}, {m}[:, :1]))"
            return "(" + form.format(**fill) + ")"
        if kind == "where":
            self.features.add("where")
            shapes = [shape] + [rng.choice([s for s in ALL if broadcast(s, shape) == shape])
                                for _ in range(2)]
            rng.shuffle(shapes)
            return (f"np.where({self.expr(shapes[0], d)} > {self.literal()}, "
                    f"{self.expr(shapes[1], d)}, {self.expr(shapes[2], d)})")
        raise AssertionError(kind)

    def operands(self, form, depth):
        """An expression for each placeholder of ``form`` ({a3}: a (3,) operand...)."""
        fill = {}
        for key, s in (("a3", (3,)), ("b3", (3,)), ("A", (2, 3)), ("B", (2, 3)), ("a2", (2,)),
                       ("C", (2, 1)), ("R", (1, 3))):
            if "{" + key + "}" in form:
                fill[key] = self.atom(s, depth)
        return fill

    def atom(self, shape, depth):
        """An expression safe as an operand of a binary operator."""
        e = self.expr(shape, depth)
        if re.fullmatch(r"[\w.]+(\[[^\[\]]*\])?", e) and not e.startswith("-"):
            return e
        return f"({e})"

    # -- statements ------------------------------------------------------------
    def pick_shape(self):
        if self.scalar:
            return ()
        return self.rng.choice(ALL)

    def assign(self, name, shape, depth=None):
        depth = self.rng.randint(1, 3) if depth is None else depth
        e = self.expr(shape, depth)
        self.emit(f"{name} = {e}")
        self.env[name] = shape
        if owns_memory(e):
            self.fresh.add(name)
        else:
            self.fresh.discard(name)

    def statement(self, out_shape, loop_depth=0):
        rng = self.rng
        kinds = ["assign", "assign", "assign", "for_range", "while", "if", "list", "tuple", "helper",
                 "lambda", "nested", "aug", "early_return", "reassign"]
        if not self.scalar:
            kinds += ["fill", "copy_update", "view_write", "for_array", "reorder_loop"]
        if loop_depth:
            kinds = [k for k in kinds if k not in ("helper", "nested", "lambda", "early_return")]
        else:
            kinds += ["sum_loop"]
        kind = rng.choice(kinds)
        getattr(self, "s_" + kind)(out_shape, loop_depth)

    def s_assign(self, out_shape, loop_depth):
        self.assign(self.fresh_name(), self.pick_shape())

    def s_reassign(self, out_shape, loop_depth):
        """``x = f(x, ...)`` of a name already set (a parameter too), at the top, in
        a branch taken or not, or in a loop: its old value must be kept for the
        reverse sweep (parameters reassigned in a branch once lost it). Also
        ``x = x[::-1] * e``, whose gradient scatters into zeros from the
        adjoint of the new x under the same name (a rewrite once read it after
        the zeros replaced it)."""
        rng = self.rng
        names = sorted(self.env)
        if not names:
            return self.s_assign(out_shape, loop_depth)
        n = rng.choice(names)
        shape = self.env[n]
        self.features.add("reassign")
        f = self.fn(rng.choice(["sin", "tanh", "cos"]))
        values = [f"{n} * ({self.expr(shape, 1)})", f"{f}({n}) + ({self.expr(shape, 1)})",
                  f"{n} * {n}" if shape == () or not self.scalar else f"{n} * 1.5"]
        reorder = [r for r in slices_to(shape, shape) if r != "[:]"]
        if reorder:     # x = x[::-1] * e: the only read of the old x is a slice of it
            values.append(f"{n}{rng.choice(reorder)} * " + rng.choice(
                [self.literal(), f"({self.expr(shape, 1)})"]))
        value = rng.choice(values)
        where = rng.choice(["top", "if", "if_else"])
        if where == "top":
            self.emit(f"{n} = {value}")
        else:
            self.emit(f"if {self.condition()}:")
            self.indent += 1
            self.emit(f"{n} = {value}")
            self.indent -= 1
            if where == "if_else":
                self.emit("else:")
                self.indent += 1
                self.emit(f"{n} = {n} * {self.literal()}")
                self.indent -= 1
        self.fresh.add(n)

    def s_reorder_loop(self, out_shape, loop_depth):
        """``x = x[::-1] * c`` repeated in a loop: each reverse step scatters the
        adjoint of the new ``x`` into zeros under the same name (a rewrite once
        made the zeros first and read them: a gradient of zeros)."""
        rng = self.rng
        names = [n for n, s in sorted(self.env.items()) if any(r != "[:]" for r in slices_to(s, s))]
        if not names:
            return self.s_assign(out_shape, loop_depth)
        n = rng.choice(names)
        reorder = rng.choice([r for r in slices_to(self.env[n], self.env[n]) if r != "[:]"])
        self.features.add("reorder_loop")
        self.emit(f"for {self.fresh_name('r')} in range({rng.randint(2, 4)}):")
        self.indent += 1
        self.emit(f"{n} = {n}{reorder} * {self.literal()}")
        self.indent -= 1
        self.fresh.add(n)

    def s_aug(self, out_shape, loop_depth):
        candidates = [n for n in self.fresh if n in self.env]
        if not candidates:
            return self.s_assign(out_shape, loop_depth)
        n = self.rng.choice(candidates)
        self.features.add("augassign")
        op = self.rng.choice(["+=", "-=", "*="])
        self.emit(f"{n} {op} {self.expr(self.env[n], 2)}")

    def loop_body(self, out_shape, loop_depth, acc, shape):
        rng = self.rng
        self.indent += 1
        for _ in range(rng.randint(0, 2)):
            self.statement(out_shape, loop_depth + 1)
        form = rng.randrange(3)
        if form == 0:
            self.emit(f"{acc} = {acc} + {self.atom(shape, 2)}")
        elif form == 1:
            self.emit(f"{acc} = {acc} * 0.5 + {self.atom(shape, 2)}")
        else:
            self.features.add("augassign")
            self.emit(f"{acc} += {self.expr(shape, 2)}")
        self.indent -= 1

    def init_acc(self, shape):
        acc = self.fresh_name("acc")
        if shape == ():
            self.emit(f"{acc} = {self.rng.choice(['0.0', '1.0'])}")
        else:
            self.emit(f"{acc} = np.zeros({shape})")
        return acc

    def s_for_range(self, out_shape, loop_depth):
        rng = self.rng
        self.features.add("for_range")
        shape = self.pick_shape()
        acc = self.init_acc(shape)
        i = f"i{self.count}"
        n = rng.randint(1, 4)
        start = rng.choice(["", "1, "]) if n > 1 else ""
        self.emit(f"for {i} in range({start}{n}):")
        self.ints.append(i)
        self.loop_body(out_shape, loop_depth, acc, shape)
        self.ints.pop()
        self.env[acc] = shape
        self.fresh.add(acc) if shape != () else None

    def s_sum_loop(self, out_shape, loop_depth):
        """A sum over steps that only the result reads, and linearly: where no
        step reads another's values, the derivative runs each step's forward
        and reverse parts in one loop (optimize/fuse_independent_iterations.py)."""
        self.features.add("sum_loop")
        acc = self.init_acc(out_shape)
        i = f"i{self.count}"
        self.emit(f"for {i} in range({self.rng.choice(['', '1, '])}{self.rng.randint(2, 4)}):")
        self.ints.append(i)
        self.indent += 1
        for _ in range(self.rng.randint(0, 2)):
            self.statement(out_shape, loop_depth + 1)
        self.emit(f"{acc} = {acc} + {self.expr(out_shape, 2)}")
        self.indent -= 1
        self.ints.pop()
        self.sums.append(acc)

    def s_for_array(self, out_shape, loop_depth):
        rng = self.rng
        arrays = [n for n, s in self.env.items() if len(s) >= 1 and s[1:] in ALL]
        if not arrays:
            return self.s_for_range(out_shape, loop_depth)
        self.features.add("for_array")
        src = rng.choice(arrays)
        item_shape = self.env[src][1:]
        shape = rng.choice([(), item_shape])
        acc = self.init_acc(shape)
        item = f"r{self.count}"
        self.emit(f"for {item} in {src}:")
        self.env[item] = item_shape
        self.loop_body(out_shape, loop_depth, acc, shape)
        del self.env[item]
        self.env[acc] = shape

    def s_while(self, out_shape, loop_depth):
        rng = self.rng
        self.features.add("while")
        shape = self.pick_shape()
        acc = self.init_acc(shape)
        k = f"k{self.count}"
        self.emit(f"{k} = 0")
        if rng.random() < 0.3 and shape == ():
            self.features.add("while_data")
            self.emit(f"while {k} < 5 and {acc} < {rng.choice(['1.0', '2.0', '3.0'])}:")
        else:
            self.emit(f"while {k} < {rng.randint(1, 4)}:")
        self.ints.append(k)
        before = dict(self.env)      # the loop may run zero times: its names stay inside
        self.loop_body(out_shape, loop_depth, acc, shape)
        self.indent += 1
        self.emit(f"{k} += 1")
        self.indent -= 1
        self.ints.pop()
        self.env = before
        self.env[acc] = shape

    def condition(self):
        return f"{self.expr((), 2)} > {self.literal()}"

    def s_if(self, out_shape, loop_depth):
        self.features.add("if")
        name = self.fresh_name()
        shape = self.pick_shape()
        self.emit(f"if {self.condition()}:")
        before = dict(self.env)
        self.indent += 1
        self.assign(name, shape)
        self.indent -= 1
        self.env = dict(before)
        if self.rng.random() < 0.8:
            self.emit("else:")
            self.indent += 1
            self.assign(name, shape)
            self.indent -= 1
            self.env = dict(before)
            self.env[name] = shape
            self.fresh.discard(name)

    def s_early_return(self, out_shape, loop_depth):
        self.features.add("early_return")
        self.emit(f"if {self.condition()}:")
        self.indent += 1
        self.emit(f"return {self.expr(out_shape, 2)}")
        self.indent -= 1

    def s_list(self, out_shape, loop_depth):
        rng = self.rng
        self.features.add("list")
        shape = self.pick_shape()
        lst = self.fresh_name("parts")
        self.emit(f"{lst} = []")
        n = rng.randint(1, 3)
        i = f"j{self.count}"
        self.emit(f"for {i} in range({n}):")
        self.indent += 1
        self.ints.append(i)
        self.emit(f"{lst}.append({self.expr(shape, 2)})")
        self.ints.pop()
        self.indent -= 1
        name = self.fresh_name()
        form = rng.randrange(3)
        if form == 0:
            self.emit(f"{name} = {lst}[0] * {lst}[-1]")
        elif form == 1:
            acc = self.init_acc(shape)
            item = f"p{self.count}"
            self.emit(f"for {item} in {lst}:")
            self.indent += 1
            self.emit(f"{acc} = {acc} + {self.fn('sin')}({item})")
            self.indent -= 1
            self.emit(f"{name} = {acc}")
        else:
            self.emit(f"{name} = {lst}[{n - 1}] + {lst}[0]")
        self.env[name] = shape

    def s_tuple(self, out_shape, loop_depth):
        self.features.add("tuple")
        a, b = self.fresh_name(), self.fresh_name()
        sa, sb = self.pick_shape(), self.pick_shape()
        if self.rng.random() < 0.5:
            self.emit(f"{a}, {b} = {self.expr(sa, 2)}, {self.expr(sb, 2)}")
        else:
            t = self.fresh_name("t")
            self.emit(f"{t} = ({self.expr(sa, 2)}, {self.expr(sb, 2)})")
            self.emit(f"{a}, {b} = {t}")
        self.env[a], self.env[b] = sa, sb

    def sub_function(self, params):
        """The body expression of a helper over ``params`` (name -> shape)."""
        saved = (self.env, self.ints, self.fresh)
        self.env, self.ints, self.fresh = dict(params), [], set()
        shape = self.pick_shape()
        body = self.expr(shape, 2)
        self.env, self.ints, self.fresh = saved
        return body, shape

    def s_helper(self, out_shape, loop_depth):
        self.features.add("helper")
        hname = f"{self.name}_h{self.count}"
        self.count += 1
        params = {"a": self.pick_shape(), "b": self.pick_shape()}
        body, shape = self.sub_function(params)
        self.helpers.append(f"def {hname}(a, b):\n    c = {body}\n    return c * 1.5\n")
        name = self.fresh_name()
        self.emit(f"{name} = {hname}({self.expr(params['a'], 2)}, {self.expr(params['b'], 2)})")
        self.env[name] = shape
        self.fresh.add(name)

    def s_lambda(self, out_shape, loop_depth):
        self.features.add("lambda")
        lname = self.fresh_name("lam")
        ushape = self.pick_shape()
        body, shape = self.sub_function({"u": ushape})
        self.emit(f"{lname} = lambda u: {body}")
        name = self.fresh_name()
        self.emit(f"{name} = {lname}({self.expr(ushape, 2)})")
        self.env[name] = shape

    def s_nested(self, out_shape, loop_depth):
        self.features.add("nested_def")
        gname = self.fresh_name("g")
        ushape = self.pick_shape()
        # a nested def may read names of the enclosing function
        params = dict(self.env)
        params["u"] = ushape
        body, shape = self.sub_function(params)
        self.emit(f"def {gname}(u):")
        self.emit(f"    return {body}")
        name = self.fresh_name()
        self.emit(f"{name} = {gname}({self.expr(ushape, 2)})")
        self.env[name] = shape

    def s_fill(self, out_shape, loop_depth):
        rng = self.rng
        self.features.add("fill")
        shape = rng.choice([(3,), (2, 3)])
        y = self.fresh_name("y")
        self.emit(f"{y} = np.zeros({shape})")
        if shape == (3,):
            if rng.random() < 0.5:
                i = f"i{self.count}"
                self.emit(f"for {i} in range(3):")
                self.ints.append(i)
                self.indent += 1
                self.emit(f"{y}[{i}] = {self.expr((), 2)}")
                self.indent -= 1
                self.ints.pop()
            else:
                for i in rng.sample(range(3), rng.randint(1, 3)):
                    self.emit(f"{y}[{i}] = {self.expr((), 2)}")
        else:
            for i in rng.sample(range(2), rng.randint(1, 2)):
                self.emit(f"{y}[{i}] = {self.expr((3,), 2)}")
            if rng.random() < 0.5:
                self.emit(f"{y}[:, {rng.randrange(3)}] += {self.expr((2,), 2)}")
        self.env[y] = shape
        self.fresh.add(y)

    def s_copy_update(self, out_shape, loop_depth):
        rng = self.rng
        self.features.add("copy_update")
        sources = [n for n, s in self.env.items() if s in ((3,), (2, 3))]
        if not sources:
            return self.s_fill(out_shape, loop_depth)
        src = rng.choice(sources)
        shape = self.env[src]
        y = self.fresh_name("y")
        self.emit(f"{y} = {rng.choice([src + '.copy()', 'np.copy(' + src + ')'])}")
        if shape == (3,):
            part, pshape = rng.choice([("[1:]", (2,)), ("[:2]", (2,)), ("[0]", ()), ("[::2]", (2,))])
        else:
            part, pshape = rng.choice([("[1:]", (1, 3)), ("[0]", (3,)), ("[:, 1]", (2,)), ("[1, 2]", ())])
        op = rng.choice(["+=", "*=", "="])
        self.emit(f"{y}{part} {op} {self.expr(pshape, 2)}")
        self.env[y] = shape
        self.fresh.add(y)

    def s_view_write(self, out_shape, loop_depth):
        rng = self.rng
        self.features.add("view_write")
        sources = [n for n, s in self.env.items() if s == (2, 3)]
        y = self.fresh_name("y")
        if sources and rng.random() < 0.6:
            self.emit(f"{y} = {rng.choice(sources)}.copy()")
        else:
            self.emit(f"{y} = np.ones((2, 3)) * {self.atom((), 1)}")
        w = self.fresh_name("w")
        part, pshape = rng.choice([("[0]", (3,)), ("[:, 1:]", None), ("[1:]", (1, 3))])
        self.emit(f"{w} = {y}{part}")
        if pshape is None:
            self.emit(f"{w} *= {self.atom((), 2)}")
        else:
            self.emit(f"{w}[{rng.choice(['0', '-1', '1:'])}] = {self.expr((), 2)}" if pshape == (3,)
                      else f"{w} += {self.expr(pshape, 2)}")
        self.env[y] = (2, 3)
        self.fresh.add(y)

    # -- the whole function ----------------------------------------------------
    def function(self, params, out_shape, sums_only=False):
        """``sums_only``: a loop of steps summed into the result and nothing else
        (the loss over batches, samples or members that people write)."""
        self.env = dict(params)
        if sums_only:
            self.s_sum_loop(out_shape, 0)
            self.emit(f"return {' + '.join(self.sums)}")
        else:
            for _ in range(self.rng.randint(1, 4)):
                self.statement(out_shape)
            self.emit(f"return {' + '.join([self.expr(out_shape, self.rng.randint(1, 3))] + self.sums)}")
        header = f"def {self.name}({', '.join(params)}):"
        return "\n".join(self.helpers + [header] + self.lines) + "\n"


class Program:
    """One generated program: its source, arguments, and how to check it."""

    def __init__(self, seed, index, name, source, args, wrt, mode, cotangent=None, expected=None,
                 family="array", features=()):
        self.seed, self.index, self.name, self.source = seed, index, name, source
        self.args, self.wrt, self.mode = args, wrt, mode
        self.cotangent, self.expected = cotangent, expected
        self.family, self.features = family, sorted(features)


def random_value(rng, shape, scalar=False):
    """Values in +-[0.2, 1.2] with distinct magnitudes (no ties, no kinks at 0)."""
    size = int(np.prod(shape, dtype=int))
    values = [rng.choice([-1, 1]) * rng.uniform(0.2, 1.2) for _ in range(size)]
    if scalar:
        return values[0]
    return np.array(values, dtype=np.float64).reshape(shape)


# Edge-value programs: a body over `x`, inputs with exact zeros and ties, and
# the hand-derived gradient (d f / d x) as a function of x.
EDGE_PROGRAMS = [
    ("return np.sum(x ** 2)", lambda x: 2 * x),
    ("return np.sum(x ** 3)", lambda x: 3 * x ** 2),
    ("return np.sum(x ** 0)", lambda x: 0 * x),
    ("return np.sum(x ** 1)", lambda x: 0 * x + 1.0),
    ("return np.sum(np.where(x > 0, np.sqrt(np.abs(x)), 0.0))",
     lambda x: np.where(x > 0, 0.5 / np.sqrt(np.where(x > 0, x, 1.0)), 0.0)),
    ("return np.sum(np.where(x > 0, np.log(np.abs(x) + (x == 0)), x))",
     lambda x: np.where(x > 0, 1.0 / np.where(x > 0, x, 1.0), 1.0)),
    ("return np.sum(np.abs(x) * x)", lambda x: 2 * np.abs(x)),
    ("return np.sum(np.maximum(x, 0.0) ** 2)", lambda x: 2 * np.maximum(x, 0.0)),
    ("return np.max(x * 0.0 + 1.0) + np.sum(x)", lambda x: 0 * x + 1.0),
    ("return np.sum(np.sin(x) / (1.0 + x * x))",
     lambda x: np.cos(x) / (1 + x * x) - np.sin(x) * 2 * x / (1 + x * x) ** 2),
    ("return np.sum(np.sqrt(x * x + 1.0))", lambda x: x / np.sqrt(x * x + 1.0)),
    ("return np.sum(x * np.exp(x)) + np.prod(x + 2.0)",
     lambda x: (1 + x) * np.exp(x) + np.prod(x + 2.0) / (x + 2.0)),
    ("return np.std(x * 0.0 + 1.0) + np.sum(x)", lambda x: 0 * x + 1.0),
    ("return np.var(x) * 2.0", lambda x: 4.0 * (x - np.mean(x)) / x.size),
    ("return np.sum(np.tanh(x)) ** 2", lambda x: 2 * np.sum(np.tanh(x)) * (1 - np.tanh(x) ** 2)),
]


def make_program(seed, index):
    """The program number ``index`` of ``seed``: the same source, arguments and cotangent
    on every call (everything comes from one ``random.Random``)."""
    rng = random.Random(f"pullback-fuzz:{seed}:{index}")
    name = f"f_{index}"
    roll = rng.random()
    if roll < 0.05:
        body, expected = EDGE_PROGRAMS[rng.randrange(len(EDGE_PROGRAMS))]
        shape = rng.choice([(3,), (4,), (2, 3)])
        x = random_value(rng, shape)
        flat = x.reshape(-1)
        flat[rng.randrange(flat.size)] = 0.0
        if flat.size > 2 and rng.random() < 0.5:
            flat[rng.randrange(flat.size)] = 0.0
        source = f"def {name}(x):\n    {body}\n"
        return Program(seed, index, name, source, [x], (0,), "grad", expected=expected,
                       family="edge", features={"edge"})
    scalar = roll < 0.25
    gen = Generator(rng, name, scalar=scalar)
    nparams = rng.randint(1, 3)
    pnames = ["x", "y", "z"][:nparams]
    if scalar:
        params = {p: () for p in pnames}
    else:
        params = {p: rng.choice(SHAPES) for p in pnames}
        if all(s == () for s in params.values()):
            params["x"] = rng.choice([(3,), (2, 3)])
    mode = "grad" if scalar or rng.random() < 0.6 else "vjp"
    out_shape = () if mode == "grad" else rng.choice(OUT_SHAPES)
    source = gen.function(params, out_shape, sums_only=rng.random() < 0.1)
    args = [random_value(rng, s, scalar=scalar) for s in params.values()]
    wrt = tuple(range(nparams))
    if nparams > 1 and rng.random() < 0.3:
        wrt = tuple(sorted(rng.sample(range(nparams), rng.randint(1, nparams - 1))))
    cotangent = random_value(rng, out_shape) if mode == "vjp" else None
    features = gen.features | {"scalar" if scalar else "array", mode}
    return Program(seed, index, name, source, args, wrt, mode, cotangent=cotangent,
                   family="scalar" if scalar else "array", features=features)


# --------------------------------------------------------------------------
# Checking
# --------------------------------------------------------------------------

RTOL = 1e-4
STEPS = (1e-6, 1e-5)


def copy_value(v):
    return v.copy() if isinstance(v, np.ndarray) else v


def same_value(a, b):
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (type(a) is type(b) and a.shape == b.shape and a.dtype == b.dtype
                and np.array_equal(a, b, equal_nan=True))
    return a == b or (a != a and b != b)


def objective(f, args, cotangent):
    out = f(*[copy_value(a) for a in args])
    if cotangent is None:
        return float(out)
    return float(np.sum(np.asarray(out, dtype=np.float64) * cotangent))


def _steps(f, args, index, cotangent, eps):
    """For each entry of args[index]: its step and the objective a step above
    and a step below."""
    x = args[index]
    base = np.array(x, dtype=np.float64)
    flat = base.reshape(-1)
    for i in range(flat.size):
        step = eps * max(1.0, abs(flat[i]))
        values = []
        for sign in (1.0, -1.0):
            shifted = flat.copy()
            shifted[i] += sign * step
            call = list(args)
            call[index] = shifted.reshape(base.shape) if isinstance(x, np.ndarray) else float(shifted[0])
            values.append(objective(f, call, cotangent))
        yield step, values[0], values[1]


def finite_difference(f, args, index, cotangent, eps):
    """Central differences of the (cotangent-weighted) objective w.r.t. args[index]."""
    slopes = [(above - below) / (2 * step)
              for step, above, below in _steps(f, args, index, cotangent, eps)]
    return np.array(slopes).reshape(np.shape(args[index]))


def jumps_at(f, args, index, cotangent, eps):
    """Whether the objective jumps at ``args``: the mean of its values a step
    either side differs from its value at the point by more than smoothness
    allows. A branch taken on a rounding-level tie (``np.std(...) > 1.5`` with
    the spread exactly 1.5 at the point, 1.5000000000000002 a step away) makes
    both central differences agree with each other and not with the point's
    own branch; such a point is not smooth, whatever the derivative code does."""
    centre = objective(f, args, cotangent)
    return any(abs((above + below) / 2 - centre) > 1e-6 * (1.0 + abs(centre))
               for _, above, below in _steps(f, args, index, cotangent, eps))


def close(a, b, scale):
    """Agreement with rtol 1e-4 and an absolute floor scaled to the function's size
    (the round-off of a central difference is about 1e-16 * |f| / step)."""
    atol = 1e-6 + 1e-8 * scale
    return np.all(np.abs(a - b) <= atol + RTOL * np.abs(b))


class Outcome:
    def __init__(self, program, status, reason="", detail=""):
        self.seed, self.index = program.seed, program.index
        self.status, self.reason, self.detail = status, reason, detail
        self.source = program.source
        self.features = program.features
        self.family = program.family

    def describe(self):
        return (f"# seed={self.seed} index={self.index} status={self.status} family={self.family}\n"
                f"# features: {' '.join(self.features)}\n"
                f"# {self.reason}\n" + "".join(f"# {line}\n" for line in self.detail.splitlines())
                + self.source)


def refusal_reason(error):
    """A short, instance-free key for counting refusals by kind."""
    first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    first = re.sub(r"\b(f|v|y|w|acc|parts|lam|g|t|r|i|j|k|p)_?\d+(_h\d+)?\b", "<name>", first)
    first = re.sub(r"'[^']*'", "'...'", first)
    first = re.sub(r"`[^`]*`", "`...`", first)
    first = re.sub(r"\d+", "N", first)
    return f"{type(error).__name__}: {first[:120]}"


def check(program, function, errors):
    """Run pullback on ``function`` and compare with the reference; an Outcome."""
    import pullback
    args = program.args
    originals = [copy_value(a) for a in args]
    with np.errstate(all="ignore"):
        try:
            with np.errstate(over="raise", invalid="raise"):
                reference = function(*[copy_value(a) for a in args])
        except (OverflowError, FloatingPointError, ZeroDivisionError):
            # an infinity or NaN inside the function: its derivative there is not the question
            return Outcome(program, "skipped", "overflow or NaN inside the function")
        except ValueError as error:
            if "math domain error" not in str(error):    # math.log of an underflowed exp
                return Outcome(program, "invalid", f"ValueError: {error}")
            return Outcome(program, "skipped", "overflow or NaN inside the function")
        except Exception as error:       # the generator wrote an invalid program
            return Outcome(program, "invalid", f"{type(error).__name__}: {error}")
        if not np.all(np.isfinite(reference)) or np.max(np.abs(reference)) > 1e8:
            return Outcome(program, "skipped", "value not finite or huge")
        try:
            if program.mode == "grad":
                value, grads = pullback.value_and_grad(function, wrt=program.wrt)(*args)
            else:
                value, back = pullback.vjp(function, *args, wrt=program.wrt)
                grads = back(copy_value(program.cotangent))
        except errors as error:
            if type(error).__name__ == "InternalError":     # pullback's own check failed: a bug
                return Outcome(program, "crashed", refusal_reason(error), traceback.format_exc(limit=-6))
            return Outcome(program, "refused", refusal_reason(error))
        except Exception as error:
            tb = traceback.format_exc(limit=-6)
            return Outcome(program, "crashed", f"{type(error).__name__}: {str(error)[:200]}", tb)
    if not all(same_value(a, b) for a, b in zip(args, originals)):
        return Outcome(program, "modified", "the caller's arguments changed")
    if np.shape(value) != np.shape(reference) or not np.allclose(value, reference, rtol=1e-9,
                                                                   atol=1e-12):
        return Outcome(program, "wrong", "value differs from calling the function",
                       f"pullback: {value!r}\nfunction: {reference!r}")
    scale = float(np.max(np.abs(reference))) * (1.0 if program.cotangent is None
                                                 else float(np.max(np.abs(program.cotangent))))
    skipped = False
    with np.errstate(all="ignore"):
        for g, i in zip(grads, program.wrt):
            g = np.asarray(g, dtype=np.float64)
            if g.shape != np.shape(args[i]):
                return Outcome(program, "wrong", f"gradient {i} has shape {g.shape}, "
                                                 f"argument {np.shape(args[i])}")
            if program.expected is not None:
                want = program.expected(np.array(args[i], dtype=np.float64))
                if not close(g, want, scale):
                    return Outcome(program, "wrong", f"gradient of argument {i} differs from the "
                                   f"hand-derived value", f"pullback: {g!r}\nexpected: {want!r}")
                continue
            fd1 = finite_difference(function, args, i, program.cotangent, STEPS[0])
            if close(g, fd1, scale):
                continue
            fd2 = finite_difference(function, args, i, program.cotangent, STEPS[1])
            if (np.all(np.isfinite(fd1)) and np.all(np.isfinite(fd2)) and close(fd2, fd1, scale)
                    and not close(g, fd2, scale)
                    and not jumps_at(function, args, i, program.cotangent, STEPS[0])):
                return Outcome(program, "wrong", f"gradient of argument {i} differs from central "
                               f"differences", f"pullback: {g!r}\nfd(1e-6): {fd1!r}\nfd(1e-5): {fd2!r}")
            skipped = True
    if skipped:
        return Outcome(program, "skipped", "not smooth at this point (finite differences disagree)")
    if os.environ.get("PULLBACK_FUZZ_COMPILE") and program.mode == "grad":
        compiled = check_compiled(program, function, grads)
        if compiled is not None:
            return compiled
    return check_forward(program, function, errors, scale)


def check_compiled(program, function, grads):
    """``--compile``: the gradient with compile="auto" must be the plain one
    wherever Numba compiles it (no CompileWarning); None when it is, else the
    failing Outcome. The program's features say whether Numba compiled it."""
    import warnings
    import pullback
    from pullback.errors import CompileWarning
    args = [copy_value(a) for a in program.args]
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            compiled = pullback.value_and_grad(function, wrt=program.wrt, compile="auto")(*args)[1]
    except Exception as error:
        return Outcome(program, "crashed", f"compile=auto: {type(error).__name__}: {str(error)[:200]}",
                       traceback.format_exc(limit=-6))
    if not all(same_value(a, b) for a, b in zip(args, program.args)):
        return Outcome(program, "modified", "the caller's arguments changed (compile=auto)")
    refused = any(issubclass(w.category, CompileWarning) for w in caught)
    program.features = sorted(set(program.features) | {"numba refused" if refused else "numba"})
    if refused:
        return None
    for g, want, i in zip(compiled, grads, program.wrt):
        if np.shape(g) != np.shape(want) or not np.allclose(g, want, rtol=1e-9, atol=1e-12):
            return Outcome(program, "wrong", f"compile=auto: gradient of argument {i} differs from "
                           f"the plain one", f"numba: {g!r}\nplain: {want!r}")
    return None


def directional(f, args, tangents, eps):
    """Central differences of ``f``'s value along ``tangents`` (float64)."""
    def moved(sign):
        return [copy_value(a) if t is None else
                (np.asarray(a, np.float64) + sign * eps * t if isinstance(a, np.ndarray)
                 else float(a) + sign * eps * t) for a, t in zip(args, tangents)]
    up, down = f(*moved(1.0)), f(*moved(-1.0))
    return (np.asarray(up, np.float64) - np.asarray(down, np.float64)) / (2 * eps)


def check_forward(program, function, errors, scale):
    """The same program in forward mode: pullback.jvp along a random direction
    against directional central differences (two step sizes, as above)."""
    import pullback
    args = program.args
    originals = [copy_value(a) for a in args]
    rng = np.random.default_rng([program.seed, program.index, 13])
    tangents = [None] * len(args)
    for i in program.wrt:
        tangents[i] = (rng.standard_normal(np.shape(args[i])) if isinstance(args[i], np.ndarray)
                       else float(rng.standard_normal()))
    with np.errstate(all="ignore"):
        try:
            _, tangent = pullback.jvp(function, tuple(args), tuple(tangents))
        except errors as error:
            status = "crashed" if type(error).__name__ == "InternalError" else "refused"
            return Outcome(program, status, "jvp: " + refusal_reason(error))
        except Exception as error:
            return Outcome(program, "crashed", f"jvp: {type(error).__name__}: {str(error)[:200]}",
                           traceback.format_exc(limit=-6))
        if not all(same_value(a, b) for a, b in zip(args, originals)):
            return Outcome(program, "modified", "jvp changed the caller's arguments")
        tangent = np.asarray(tangent, np.float64)
        size = 1.0 + max(float(np.max(np.abs(np.asarray(a, np.float64)))) for a in args)
        fd1 = directional(function, args, tangents, STEPS[0] * size)
        if tangent.shape == fd1.shape and close(tangent, fd1, scale):
            return Outcome(program, "ok")
        fd2 = directional(function, args, tangents, STEPS[1] * size)
        if tangent.shape != fd1.shape or (np.all(np.isfinite(fd1)) and np.all(np.isfinite(fd2))
                                          and close(fd2, fd1, scale) and not close(tangent, fd2, scale)):
            return Outcome(program, "wrong", "jvp differs from directional central differences",
                           f"pullback: {tangent!r}\nfd: {fd1!r}\nfd(larger step): {fd2!r}")
    return Outcome(program, "skipped", "not smooth along the direction (finite differences disagree)")


def refusal_errors():
    from pullback.errors import PullbackError
    from pullback.runtime import NotDifferentiable
    return (PullbackError, NotDifferentiable)


def run_chunk(seed, start, count, folder, errors=None):
    """Generate programs ``start .. start+count-1`` into one module file, import it,
    check each; the list of Outcomes."""
    errors = errors or refusal_errors()
    programs = [make_program(seed, i) for i in range(start, start + count)]
    modname = f"pullback_fuzz_{seed}_{start}_{os.getpid()}"
    path = os.path.join(folder, modname + ".py")
    with open(path, "w") as handle:
        handle.write("import math\nimport numpy as np\n\n\n")
        handle.write("\n\n".join(p.source for p in programs))
    spec = importlib.util.spec_from_file_location(modname, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[modname] = module
    try:
        spec.loader.exec_module(module)
        outcomes = []
        for p in programs:
            try:
                outcomes.append(check(p, getattr(module, p.name), errors))
            except Exception as error:    # a failure of the checker itself
                outcomes.append(Outcome(p, "crashed", f"checker: {type(error).__name__}: {error}",
                                        traceback.format_exc(limit=-6)))
        return outcomes
    finally:
        del sys.modules[modname]


def check_source(program, source, errors=None):
    """Check ``program`` with its source replaced by ``source`` (same arguments)."""
    errors = errors or refusal_errors()
    folder = tempfile.mkdtemp(prefix="pullback-fuzz-reduce-")
    try:
        variant = Program(program.seed, program.index, program.name, source, program.args,
                          program.wrt, program.mode, program.cotangent, program.expected,
                          program.family, program.features)
        modname = f"pullback_fuzz_reduce_{os.getpid()}_{abs(hash(source))}"
        path = os.path.join(folder, modname + ".py")
        with open(path, "w") as handle:
            handle.write("import math\nimport numpy as np\n\n\n" + source)
        spec = importlib.util.spec_from_file_location(modname, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[modname] = module
        try:
            spec.loader.exec_module(module)
            return check(variant, getattr(module, program.name), errors)
        except Exception as error:
            return Outcome(variant, "invalid", f"{type(error).__name__}: {error}")
        finally:
            del sys.modules[modname]
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _blocks(lines):
    """(start, end) line ranges that can be deleted whole: one statement, or a
    compound statement with its indented body."""
    out = []
    for i, line in enumerate(lines):
        if (not line.strip() or line.startswith(("def f_", "import"))
                or re.fullmatch(r"\s*k\d+ \+= 1", line)):     # keep while loops finite
            continue
        indent = len(line) - len(line.lstrip())
        end = i + 1
        if line.rstrip().endswith(":"):
            while end < len(lines) and (not lines[end].strip()
                                        or len(lines[end]) - len(lines[end].lstrip()) > indent):
                end += 1
        out.append((i, end))
    return out


def reduce_program(program, status=None):
    """Delete statements of a failing program while it keeps failing the same way;
    the smallest source found (a starting point for a regression test)."""
    first = check_source(program, program.source)
    status = status or first.status
    key = first.reason.split(" differs")[0][:40]
    lines = program.source.splitlines()
    progress = True
    while progress:
        progress = False
        for start, end in sorted(_blocks(lines), key=lambda b: b[0] - b[1]):
            candidate = lines[:start] + lines[end:]
            outcome = check_source(program, "\n".join(candidate) + "\n")
            if outcome.status == status and outcome.reason.split(" differs")[0][:40] == key:
                lines = candidate
                progress = True
                break
    return "\n".join(lines) + "\n"


def _worker(task):
    seed, start, count, folder = task
    try:
        return run_chunk(seed, start, count, folder)
    finally:
        # the chunk's derivatives are not needed again: keep a long run's cache small
        cache = os.environ.get("PULLBACK_CACHE_DIR", "")
        if cache.startswith(folder):
            for name in os.listdir(cache):
                if name.startswith("pullback_fuzz_"):     # <module>.<function>-<hash>.py
                    os.remove(os.path.join(cache, name))
        try:
            os.remove(os.path.join(folder, f"pullback_fuzz_{seed}_{start}_{os.getpid()}.py"))
        except FileNotFoundError:
            pass


def _init_worker(cache_root):
    # main() stops the pool: a worker neither handles Ctrl-C nor turns SIGTERM into one
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    cache = tempfile.mkdtemp(prefix="cache-", dir=cache_root)
    os.environ["PULLBACK_CACHE_DIR"] = cache


def _scratch_root():
    """A temporary folder, in memory (/dev/shm) where there is one: pullback writes
    every derivative to its cache, and a long run writes many."""
    shm = "/dev/shm"
    if os.path.isdir(shm) and os.access(shm, os.W_OK):
        return tempfile.mkdtemp(prefix="pullback-fuzz-", dir=shm)
    return tempfile.mkdtemp(prefix="pullback-fuzz-")


def run(n, seed=0, jobs=1, chunk=100, start=0, progress=False, on_chunk=None):
    """Run programs ``start .. start+n-1`` of ``seed``; the list of Outcomes (ordered).
    ``on_chunk(outcomes)`` sees each chunk's outcomes as soon as they are known."""
    root = _scratch_root()
    try:
        tasks = [(seed, s, min(chunk, start + n - s), root) for s in range(start, start + n, chunk)]
        outcomes = []
        t0 = time.time()
        if jobs <= 1:
            # in this process: the caller's PULLBACK_CACHE_DIR (main() and the tests set one)
            for task in tasks:
                result = _worker(task)
                outcomes += result
                if on_chunk:
                    on_chunk(result)
                if progress:
                    _progress(outcomes, t0)
        else:
            context = multiprocessing.get_context("fork")
            with context.Pool(jobs, initializer=_init_worker, initargs=(root,)) as pool:
                results = pool.imap(_worker, tasks)
                while True:
                    try:    # a timeout, so that Ctrl-C reaches this process while it waits
                        result = results.next(timeout=0.5)
                    except multiprocessing.TimeoutError:
                        continue
                    except StopIteration:
                        break
                    outcomes += result
                    if on_chunk:
                        on_chunk(result)
                    if progress:
                        _progress(outcomes, t0)
        return outcomes
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _progress(outcomes, t0):
    counts = collections.Counter(o.status for o in outcomes)
    rate = len(outcomes) / max(time.time() - t0, 1e-9)
    print(f"  {len(outcomes)} programs, {rate:.1f}/s: " +
          ", ".join(f"{k} {v}" for k, v in sorted(counts.items())), file=sys.stderr, flush=True)


FAILURES = ("wrong", "crashed", "modified", "invalid")


def summary(outcomes, elapsed=None):
    counts = collections.Counter(o.status for o in outcomes)
    lines = [f"programs run: {len(outcomes)}"]
    if elapsed:
        lines[0] += f" in {elapsed:.1f} s ({len(outcomes) / elapsed:.1f} programs/s)"
    for status in ("ok", "refused", "skipped", "wrong", "crashed", "modified", "invalid"):
        lines.append(f"  {status:9s} {counts.get(status, 0)}")
    reasons = collections.Counter(o.reason for o in outcomes if o.status == "refused")
    if reasons:
        lines.append("top refusal reasons:")
        lines += [f"  {c:6d}  {r}" for r, c in reasons.most_common(12)]
    compiled = collections.Counter(f for o in outcomes for f in o.features if f.startswith("numba"))
    if compiled:
        lines.append(f"compiled by Numba (--compile): {compiled['numba']}, "
                     f"refused: {compiled['numba refused']}")
    failures = [o for o in outcomes if o.status in FAILURES]
    if failures:
        lines.append("failures by reason:")
        for r, c in collections.Counter(f"{o.status}: {o.reason[:100]}" for o in failures).most_common(20):
            lines.append(f"  {c:6d}  {r}")
        feats = collections.Counter(f for o in failures for f in o.features)
        total = collections.Counter(f for o in outcomes for f in o.features)
        lines.append("features of failing programs (failing / all with the feature):")
        lines += [f"  {f}: {c} / {total[f]}" for f, c in feats.most_common()]
    return "\n".join(lines)


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--start", type=int, default=0)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--chunk", type=int, default=100)
    parser.add_argument("--out", default="fuzz-failures")
    parser.add_argument("--show", nargs=2, type=int, metavar=("SEED", "INDEX"),
                        help="print one program's source and arguments, then check it")
    parser.add_argument("--reduce", action="store_true",
                        help="with --show: also delete statements while the program still fails")
    parser.add_argument("--compile", action="store_true",
                        help="also compile each gradient with Numba (compile=\"auto\"): where "
                             "Numba takes it, it must be the plain gradient")
    options = parser.parse_args(argv)
    if options.compile:
        os.environ["PULLBACK_FUZZ_COMPILE"] = "auto"    # the workers inherit it
    # never the user's cache: a temporary one, removed at exit (workers make their own)
    cache = _scratch_root()
    atexit.register(shutil.rmtree, cache, ignore_errors=True)
    os.environ["PULLBACK_CACHE_DIR"] = cache
    if options.show:
        seed, index = options.show
        p = make_program(seed, index)
        print(p.source)
        print(f"# args: {p.args!r}\n# wrt: {p.wrt} mode: {p.mode} cotangent: {p.cotangent!r}")
        outcome = run(1, seed, jobs=1, start=index)[0]
        print(outcome.describe())
        if options.reduce and outcome.status in FAILURES:
            print("# reduced:")
            print(reduce_program(p, outcome.status))
        return 0
    os.makedirs(options.out, exist_ok=True)
    path = os.path.join(options.out, f"seed{options.seed}-{options.start}-{options.n}.txt")
    outcomes = []
    with open(path, "w") as handle:
        def write_failures(chunk):        # as they come: a long run can be read while it runs
            outcomes.extend(chunk)
            for o in chunk:
                if o.status in FAILURES:
                    handle.write(o.describe() + "\n\n")
            handle.flush()
        t0 = time.time()
        signal.signal(signal.SIGTERM, _interrupt)     # `kill` stops a run as Ctrl-C does
        signal.signal(signal.SIGINT, _interrupt)
        try:
            run(options.n, options.seed, options.jobs, options.chunk, options.start,
                progress=True, on_chunk=write_failures)
        except KeyboardInterrupt:         # Ctrl-C: the summary of the programs run so far
            print("interrupted", file=sys.stderr)
        elapsed = time.time() - t0
        text = summary(outcomes, elapsed)
        handle.write("\n" + text + "\n")
    print(text)
    failures = [o for o in outcomes if o.status in FAILURES]
    if failures:
        print(f"{len(failures)} failing programs written to {path}")
    else:
        os.remove(path)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
