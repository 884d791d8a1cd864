"""Stage 5: the reverse-mode transformer.

Walks the normalized body backwards and, for every active statement, expands
the adjoint template of its rule with the user's names substituted. The first
write to an adjoint defines it; later writes accumulate (``dx = dx + ...``).
The result is a pair of sweeps that stage 6 assembles into functions.
"""
import builtins
import inspect
import operator
from dataclasses import dataclass, field

import gast
import numpy as np

from pullback.errors import UnsupportedSyntax, refuse
from pullback.frontend.parsing import LiftedFunction, parameter_names
from pullback.code.fold import fold_constants_in
from pullback.runtime import elementwise as runtime_elementwise
from pullback.runtime.declare import helper_facts
from pullback.analysis.shapes import ShapeFacts, is_scalar, same_shape_as_result
from pullback.code.astutil import breaks, clone, make_name, walk, walk_statements

_WRITE = "\0adjoint-of:"
_BUILTINS = frozenset(dir(builtins))     # marks ``d[x] = ...`` targets while a template is expanded


@dataclass
class Sweeps:
    """The two halves of a reverse-mode derivative."""
    forward: list                   # the normalized primal statements (no return)
    reverse: list                   # adjoint statements, in execution order
    output: str                     # name of the value the function returns
    seed: str                       # name of that value's adjoint
    gradients: list                 # one expression node per wrt parameter
    imports: dict = field(default_factory=dict)   # name in generated code -> object
    value_name: str = None          # the output's value kept before the reverse sweep restores it
    scalars: frozenset = frozenset()  # names known to hold scalars (stage 4b)
    named: frozenset = frozenset()    # the user's variables and their adjoints: never inlined away
    shapes: object = None           # a ShapeFacts: which values have one shape (stage 4b)


def _stmt(node, line, sweep):
    node.pb_line = line
    node.pb_sweep = sweep
    return node


class TemplateExpander:
    """Expands one rule's template for one statement of the user's code."""

    def __init__(self, namer, active, aliases, imports, writer, scalars=frozenset(),
                 representatives=None):
        self.namer = namer
        self.active = active
        self.scalars = scalars      # names known to hold scalars: no unbroadcast for them
        self.representatives = representatives if representatives is not None else ShapeFacts()
        self.aliases = aliases      # template global name -> name in generated code
        self.imports = imports
        self.write = writer         # (adjoint name, value node, defined, line) -> statement
        self._cache = {}            # (rule, constants, shapes) -> specialized body

    def expand(self, rule, bound, target, defined, line, result_adjoint=None, masked=False):
        """The reverse-sweep statements of ``target = rule(bound...)``.

        ``target`` names the result's value (a capture of it when the
        statement overwrote one of its own operands), ``result_adjoint`` the
        name holding its adjoint. ``masked``: a selection may have zeroed the
        adjoint where the value was not selected (see masked_names); products
        and quotients of the adjoint then give 0 there whatever the factor.
        """
        result_adjoint = result_adjoint or self.namer.adjoint(target)
        body = self._specialized(rule, bound)
        template_locals = {}
        body = [self._instantiate(stmt, rule, bound, target, result_adjoint, template_locals)
                for stmt in body]
        if masked:
            body = MaskProducts(result_adjoint, self._masked_helper).statements(body)
        return self._writes(body, rule, bound, defined, line)

    def _masked_helper(self, name):
        """The generated code's name of a runtime_elementwise helper (``masked_mul``),
        renamed where the user's code already uses the name."""
        alias = self.aliases.get(name)
        if alias is None:
            alias = self.namer.fresh(name + "_pb") if name in self.namer.taken else name
            self.namer.taken.add(alias)
            self.aliases[name] = alias
        self.imports[alias] = getattr(runtime_elementwise, name)
        return alias

    def _specialized(self, rule, bound):
        """The rule's body decided for what is known of its arguments: the
        numbers written in the user's code put in and folded (``literal``
        answered), ``unbroadcast`` dropped where shapes agree. Cached per
        transformation: the same rule meets the same kinds of arguments often.
        """
        constants = {p: node for p, node in bound.items() if p in rule.params and _literal(node)}
        same = frozenset(p for p in rule.params
                         if same_shape_as_result(rule, bound, p, self.scalars, self.representatives))
        numbers = frozenset(p for p in rule.params if is_scalar(bound[p], self.scalars))
        key = (id(rule), tuple(sorted((p, _literal(node)) for p, node in constants.items())), same,
               numbers)
        body = self._cache.get(key)
        if body is None:
            body = fold_constants_in([_decide(clone(stmt), constants, same, numbers)
                                      for stmt in rule.body])
            self._cache[key] = body
        return body

    def _shape_call(self, node, rule, bound, target, result_adjoint, template_locals):
        """A call reading arguments only for their shape (``np.shape(a)``,
        ``unreduce(g, a, ...)``), given a value of the same shape where one is
        known; None if nothing changes."""
        func = node.func
        if isinstance(func, gast.Name):
            helper = rule.globals.get(func.id)
            known = getattr(helper, "__module__", "").startswith("pullback.runtime")
        elif isinstance(func, gast.Attribute) and isinstance(func.value, gast.Name):
            helper = getattr(rule.globals.get(func.value.id), func.attr, None)
            known = rule.globals.get(func.value.id) is np
        else:
            return None
        positions = helper_facts(helper).shape_only if known else ()
        swaps = {}
        for i in positions:
            argument = node.args[i] if i < len(node.args) else None
            if isinstance(argument, gast.Name) and argument.id in rule.params:
                value = bound.get(argument.id)
                same = self.representatives.get(getattr(value, "id", None))
                if isinstance(same, str):
                    swaps[i] = make_name(same)
                elif same and known and helper is np.shape:
                    # np.shape(a * b) -> np.broadcast_shapes(np.shape(a), np.shape(b))
                    shape = clone(func)
                    return _call(gast.Attribute(value=clone(func.value), attr="broadcast_shapes",
                                                ctx=gast.Load()),
                                 *[_call(clone(shape), make_name(n)) for n in same])
        if not swaps:
            return None
        new = self._instantiate(node, rule, bound, target, result_adjoint, template_locals, False)
        for i, name in swaps.items():
            new.args[i] = name
        return new

    def _assigned(self, rule):
        """Names the template assigns (a builtin's name may be reused as a local)."""
        names = self._cache.get(("assigned", id(rule)))
        if names is None:
            names = {n.id for stmt in rule.body for n in walk(stmt)
                     if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)}
            self._cache[("assigned", id(rule))] = names
        return names

    def _instantiate(self, node, rule, bound, target, result_adjoint, template_locals, shapes=True):
        """A fresh copy of template ``node`` with the statement's names put in."""
        if isinstance(node, list):
            return [self._instantiate(n, rule, bound, target, result_adjoint, template_locals)
                    for n in node]
        if not isinstance(node, gast.AST):
            return node
        if isinstance(node, gast.Subscript) and isinstance(node.value, gast.Name) \
                and node.value.id == "d":
            name = node.slice.id
            if isinstance(node.ctx, gast.Store):
                return make_name(_WRITE + name, gast.Store())
            if name == rule.result:
                return make_name(result_adjoint)
            return make_name(self.namer.adjoint(bound[name].id))
        if shapes and node.__class__ is gast.Call and self.representatives:
            call = self._shape_call(node, rule, bound, target, result_adjoint, template_locals)
            if call is not None:
                return call
        if isinstance(node, gast.Name):
            name = node.id
            if name == rule.result:
                return make_name(target, node.ctx)
            if name in bound and name in rule.params:
                return clone(bound[name])
            if name in rule.globals:
                alias = self.aliases.get(name, name)
                self.imports[alias] = rule.globals[name]
                return make_name(alias, node.ctx)
            if name in _BUILTINS and name not in self._assigned(rule):
                return make_name(name, node.ctx)        # isinstance, len, ... as in Python
            if name not in template_locals:
                template_locals[name] = self.namer.fresh(name)
            return make_name(template_locals[name], node.ctx)
        new = type(node)(**{field: self._instantiate(getattr(node, field, None), rule, bound, target,
                                                     result_adjoint, template_locals)
                            for field in node._fields})
        return new

    def _adjoint_target(self, param, bound):
        node = bound.get(param)
        if isinstance(node, gast.Name) and node.id in self.active:
            return self.namer.adjoint(node.id)
        return None

    def _writes(self, body, rule, bound, defined, line):
        out = []
        for stmt in body:
            if isinstance(stmt, gast.Assign) and stmt.targets[0].id.startswith(_WRITE):
                param = stmt.targets[0].id[len(_WRITE):]
                if isinstance(bound.get(param), (gast.Tuple, gast.List)):
                    out += self._spread(bound[param], stmt.value, defined, line)
                    continue
                adjoint = self._adjoint_target(param, bound)
                if adjoint is None:
                    continue            # the argument is a constant: no adjoint
                out.append(self.write(adjoint, stmt.value, defined, line))
            elif isinstance(stmt, gast.If):
                # A branch the constants did not decide: every adjoint it may write
                # must exist before it, so both paths can accumulate.
                for written in sorted(self._written_in(stmt, bound) - defined):
                    out.append(self.write(written, None, defined, line))
                stmt.body = self._writes(stmt.body, rule, bound, defined, line) or [gast.Pass()]
                stmt.orelse = self._writes(stmt.orelse, rule, bound, defined, line)
                out.append(_stmt(stmt, line, "reverse"))
            else:
                out.append(_stmt(stmt, line, "reverse"))
        return out

    def _spread(self, elements, value, defined, line):
        """``d[operands] = parts`` for operands written out at the call:
        element i of ``parts`` goes to the i-th operand."""
        receivers = [(i, self._adjoint_of_node(e)) for i, e in enumerate(elements.elts)]
        receivers = [(i, a) for i, a in receivers if a]
        if not receivers:
            return []
        parts = self.namer.fresh("parts")
        out = [_stmt(gast.Assign(targets=[make_name(parts, gast.Store())], value=value,
                                 type_comment=None), line, "reverse")]
        for i, adjoint in receivers:
            part = gast.Subscript(value=make_name(parts), slice=gast.Constant(value=i, kind=None),
                                  ctx=gast.Load())
            out.append(self.write(adjoint, part, defined, line))
        return out

    def _adjoint_of_node(self, node):
        if isinstance(node, gast.Name) and node.id in self.active:
            return self.namer.adjoint(node.id)
        return None

    def _written_in(self, node, bound):
        written = set()
        for sub in walk(node):
            if isinstance(sub, gast.Name) and sub.id.startswith(_WRITE):
                adjoint = self._adjoint_target(sub.id[len(_WRITE):], bound)
                if adjoint:
                    written.add(adjoint)
        return written


class MaskProducts:
    """Rewrites an expanded template so a zero adjoint gives zero contributions.

    Every product or quotient of the result's adjoint ``g`` (or of a value
    computed from it: ``scaled = g / y`` in the division rule) with another
    factor becomes ``masked_mul(g, factor)`` / ``masked_div(g, divisor)``,
    which are 0 where g is 0 even where the factor is inf or NaN. Sums,
    negations and calls carry the adjoint through unchanged. Any rule gets
    this form, with nothing written for it in its template.
    """

    def __init__(self, result_adjoint, helper):
        self.carrying = {result_adjoint}    # names holding the adjoint (or a product of it)
        self.helper = helper                # "masked_mul" -> its name in the generated code

    def statements(self, body):
        out = []
        for stmt in body:
            if isinstance(stmt, gast.Assign):
                stmt.value, carries = self.expression(stmt.value)
                target = stmt.targets[0]
                if carries and isinstance(target, gast.Name) and not target.id.startswith(_WRITE):
                    self.carrying.add(target.id)
            elif isinstance(stmt, gast.If):
                stmt.body = self.statements(stmt.body)
                stmt.orelse = self.statements(stmt.orelse)
            out.append(stmt)
        return out

    def expression(self, node):
        """``(new node, whether it carries the adjoint)``."""
        if isinstance(node, gast.Name):
            return node, node.id in self.carrying
        if isinstance(node, gast.BinOp):
            node.left, left = self.expression(node.left)
            node.right, right = self.expression(node.right)
            if isinstance(node.op, gast.Mult) and left != right:
                g, factor = (node.left, node.right) if left else (node.right, node.left)
                if isinstance(factor, gast.Constant):
                    return node, True           # a finite number keeps zeros zero
                return _call(self.helper("masked_mul"), g, factor), True
            if isinstance(node.op, gast.Div) and left and not right:
                return _call(self.helper("masked_div"), node.left, node.right), True
            return node, left or right
        if isinstance(node, gast.UnaryOp):
            node.operand, carries = self.expression(node.operand)
            return node, carries
        if isinstance(node, gast.IfExp):
            node.body, body = self.expression(node.body)
            node.orelse, orelse = self.expression(node.orelse)
            return node, body or orelse
        if isinstance(node, gast.Subscript):
            node.value, carries = self.expression(node.value)
            return node, carries
        if isinstance(node, (gast.Call, gast.Tuple, gast.List)):
            parts = node.args if isinstance(node, gast.Call) else node.elts
            carries = False
            for i, part in enumerate(parts):
                parts[i], carried = self.expression(part)
                carries = carries or carried
            return node, carries
        return node, False


# Functions whose adjoint gives each operand the gradient where that operand was
# selected and exact zeros elsewhere, where its value may be inf or NaN.
_SELECTING = (np.where, np.select)
_PRODUCTS = (operator.mul, np.multiply)
_MASK_FUNCTIONS = frozenset({"logical_and", "logical_or", "logical_not", "logical_xor", "isfinite",
                             "isnan", "isinf", "isposinf", "isneginf", "signbit", "isclose",
                             "greater", "greater_equal", "less", "less_equal", "equal",
                             "not_equal"})


def _mask_names(tree):
    """Names holding masks: comparisons (``x > 0``), their logical combinations
    and casts (``(x > 0).astype(float)``), wherever they are assigned."""
    assignments = [s for s in walk_statements(tree.body)
                   if isinstance(s, gast.Assign) and isinstance(s.targets[0], gast.Name)]
    masks = set()

    def is_mask(node):
        if isinstance(node, gast.Compare):
            return True
        if isinstance(node, gast.Constant):
            return isinstance(node.value, bool)
        if isinstance(node, gast.Name):
            return node.id in masks
        if isinstance(node, gast.UnaryOp) and isinstance(node.op, (gast.Not, gast.Invert)):
            return is_mask(node.operand)
        if isinstance(node, gast.BinOp) and isinstance(node.op, (gast.BitAnd, gast.BitOr,
                                                                 gast.BitXor)):
            return is_mask(node.left) and is_mask(node.right)
        if isinstance(node, gast.Call) and isinstance(node.func, gast.Attribute):
            if node.func.attr in _MASK_FUNCTIONS:
                return True
            if node.func.attr == "astype":
                return is_mask(node.func.value)
        return False

    changed = True
    while changed:
        changed = False
        for stmt in assignments:
            name = stmt.targets[0].id
            if name not in masks and is_mask(stmt.value):
                masks.add(name)
                changed = True
    # a name also assigned something else is not known to hold a mask
    for stmt in assignments:
        if not is_mask(stmt.value):
            masks.discard(stmt.targets[0].id)
    return masks


def masked_names(tree, operations, active, seeds=()):
    """Names whose adjoint a selection may have zeroed where the value was not
    selected: the operands of np.where/np.select and the operands a mask
    multiplies (``(x > 0) * np.sqrt(x)``), and, transitively, the operands of
    the operations computing them. ``seeds``: names masked from the start
    (a helper's output, when its caller selects from it).

    ``np.where(x > 0, np.sqrt(x), 0.0)``: the sqrt value gets 0 where x <= 0,
    and sqrt's derivative there is inf (x = 0) or NaN (x < 0); the statements
    defining these names get rules in which a zero gradient contributes zero
    (MaskProducts). Decided here, when the derivative is written: code without
    a selection is unchanged.
    """
    masked = set(seeds)
    masks = None
    for operation in operations.values():
        if operation.kind != "rule":
            continue
        targets = operation.rule.targets
        if any(t in _SELECTING for t in targets):
            masked.update(s for s in operation.sources if s in active)
        elif any(t in _PRODUCTS for t in targets):
            if masks is None:
                masks = _mask_names(tree)
            x, y = operation.bound.get("x"), operation.bound.get("y")
            for mask, value in ((x, y), (y, x)):
                if isinstance(value, gast.Name) and value.id in active and (
                        (isinstance(mask, gast.Name) and mask.id in masks)
                        or (isinstance(mask, gast.Constant) and isinstance(mask.value, bool))):
                    masked.add(value.id)
    if not masked:
        return frozenset()
    flows = [op for op in operations.values() if op.target in active]
    changed = True
    while changed:
        changed = False
        for operation in flows:
            if operation.target in masked:
                new = (set(operation.sources) & active) - masked
                if new:
                    masked |= new
                    changed = True
    return frozenset(masked)


_FOURIER = frozenset({"fft", "ifft", "fft2", "ifft2", "fftn", "ifftn", "rfft", "irfft", "rfft2",
                      "irfft2", "rfftn", "irfftn", "hfft", "ihfft"})


def _complex_constant(node):
    """Does ``node`` make a complex value where it stands: a complex number
    (``1j``), the complex type (``complex(x, y)``, ``x.astype(complex)``,
    ``np.complex128``, ``dtype='complex64'``), a Fourier transform (np.fft.fft)?"""
    if isinstance(node, gast.Constant):
        return isinstance(node.value, complex) or (isinstance(node.value, str)
                                                   and node.value.startswith("complex"))
    if isinstance(node, gast.Name):
        return node.id == "complex"
    if isinstance(node, gast.Attribute):
        return node.attr.startswith("complex") or node.attr in _FOURIER
    return False


# Functions and attributes giving real values from complex ones.
_REAL_OF_COMPLEX = frozenset({"abs", "absolute", "real", "imag", "angle"})


def _real_valued(node):
    """Is the value real whatever its operands (``np.abs(z)``, ``z.imag``, ``a > b``)?"""
    if isinstance(node, gast.Compare):
        return True
    if isinstance(node, gast.Attribute):
        return node.attr in ("real", "imag")
    if isinstance(node, gast.Call):
        func = node.func
        name = func.attr if isinstance(func, gast.Attribute) else getattr(func, "id", None)
        return name in _REAL_OF_COMPLEX
    return False


def refuse_complex_values(tree, operations, active, location):
    """Refuse a derivative that would flow through a complex value.

    The rules are written for real values: through ``z = x * 1j`` they give
    ``np.sum(np.abs(z) ** 2)`` the gradient with the wrong sign. A value is
    complex if its statement holds a complex number written in the code
    (``1j``, ``2 + 3j``, ``np.array([1j])``) or reads a complex value; the
    first statement that mixes one into an active value is refused. (Complex
    values pullback cannot see here, from arguments or globals, make the
    gradient complex, which the API refuses when it returns.)
    """
    if not any(_complex_constant(n) for n in gast.walk(tree)):
        return
    statements = [s for s in walk_statements(tree.body) if isinstance(s, gast.Assign)]
    complex_names = set()
    changed = True
    while changed:
        changed = False
        for stmt in statements:
            target = stmt.targets[0]
            if not isinstance(target, gast.Name) or target.id in complex_names \
                    or _real_valued(stmt.value):
                continue
            if any(_complex_constant(n) or (isinstance(n, gast.Name) and n.id in complex_names)
                   for n in gast.walk(stmt.value)):
                complex_names.add(target.id)
                changed = True
    for stmt in statements:
        operation = operations.get(id(stmt))
        if operation is None or not active.intersection(operation.sources) \
                or operation.target not in active or _real_valued(stmt.value):
            continue
        culprit = next((n for n in gast.walk(stmt.value) if _complex_constant(n)
                        or (isinstance(n, gast.Name) and n.id in complex_names
                            and isinstance(n.ctx, gast.Load))), None)
        if culprit is not None:
            shown = repr(culprit.value) if isinstance(culprit, gast.Constant) else \
                culprit.attr if isinstance(culprit, gast.Attribute) else culprit.id
            raise refuse(UnsupportedSyntax, f"a complex value ({shown}) in a differentiated "
                         "computation is not supported: pullback differentiates real-valued "
                         "code", culprit if getattr(culprit, "lineno", None) else stmt, location,
                         "Write the computation with real numbers (exp(1j x) as cos(x) and "
                         "sin(x), |z|**2 as re**2 + im**2), or mark the complex part "
                         "constant with pullback.stop_gradient.")


def _literal(node):
    """A number, string, None or tuple of them written in the user's code, as a
    hashable key (with types: 1, 1.0 and True differ); None for anything else."""
    if isinstance(node, gast.Constant):
        return (type(node.value).__name__, node.value)
    if isinstance(node, gast.Tuple) and all(_literal(e) for e in node.elts):
        return ("tuple",) + tuple(_literal(e) for e in node.elts)
    return None


def _decide(node, constants, same_shape, numbers=frozenset()):
    """A template statement with the arguments known at transformation time
    put in: numbers from the user's code, ``literal(p)`` and ``number(p)``
    answered, and ``unbroadcast(g, p)`` -> ``g`` for the parameters in
    ``same_shape``."""
    class Decide(gast.NodeTransformer):
        def visit_Subscript(self, node):
            if isinstance(node.value, gast.Name) and node.value.id == "d":
                return node                 # d[p] names an adjoint, not p's value
            return self.generic_visit(node)

        def visit_Call(self, node):
            func = node.func
            if isinstance(func, gast.Name) and len(node.args) == 2 and func.id == "unbroadcast" \
                    and isinstance(node.args[1], gast.Name) and node.args[1].id in same_shape:
                return self.visit(node.args[0])
            if isinstance(func, gast.Name) and func.id == "number" and len(node.args) == 1 \
                    and isinstance(node.args[0], gast.Name):
                return gast.Constant(value=node.args[0].id in numbers, kind=None)
            if isinstance(func, gast.Name) and func.id == "literal" and len(node.args) == 1 \
                    and isinstance(node.args[0], gast.Name):
                value = getattr(constants.get(node.args[0].id), "value", None)
                return gast.Constant(value=isinstance(value, (int, float)) and not isinstance(value, bool),
                                     kind=None)
            return self.generic_visit(node)

        def visit_Name(self, node):
            if node.id in constants and isinstance(node.ctx, gast.Load):
                return clone(constants[node.id])
            return node

    return Decide().visit(node)


# -- the reverse sweep of structured code --------------------------------------------

class Restore(gast.Pass):
    """Where the reverse sweep puts back a value the forward sweep overwrote.

    ``name`` is the variable; ``site`` the forward statement that overwrote
    it; ``index`` the subscript for an element assignment, ``append`` for a
    list append. The stacks pass (stage 5b) turns it into a pop, or drops it
    when nothing in the reverse sweep reads the variable.
    """

    def __init__(self, name, site, index=None, append=False):
        super().__init__()
        self.name, self.site, self.index, self.append = name, site, index, append


def _call(func, *args):
    return gast.Call(func=make_name(func) if isinstance(func, str) else func, args=list(args),
                     keywords=[])


def _assign(name, value, line):
    return _stmt(gast.Assign(targets=[make_name(name, gast.Store())], value=value,
                             type_comment=None), line, "reverse")


def index_value(node):
    """A subscript's index as a value (``1:n`` -> ``slice(1, n)``)."""
    if isinstance(node, gast.Slice):
        none = gast.Constant(value=None, kind=None)
        return _call("slice", *[clone(getattr(node, p)) if getattr(node, p) is not None else none
                               for p in ("lower", "upper", "step")])
    if isinstance(node, gast.Tuple):
        return gast.Tuple(elts=[index_value(e) for e in node.elts], ctx=gast.Load())
    return clone(node)


def assigned_in_loops(tree):
    """Names a loop may assign more than once, or assigned at several sites."""
    sites = {}
    in_loop = set()

    def visit(stmts, looping):
        for stmt in stmts:
            if isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name):
                name = stmt.targets[0].id
                sites[name] = sites.get(name, 0) + 1
                if looping:
                    in_loop.add(name)
            if isinstance(stmt, (gast.For, gast.While)):
                if isinstance(stmt, gast.For):
                    in_loop.add(stmt.target.id)
                visit(stmt.body, True)
            elif isinstance(stmt, gast.If):
                visit(stmt.body, looping)
                visit(stmt.orelse, looping)

    visit(tree.body, False)
    return in_loop | {name for name, count in sites.items() if count > 1}


def add_loop_counters(stmts, namer, nested=False):
    """Count the iterations of loops the reverse sweep cannot replay from a range.

    ``while True`` loops and ``for`` loops that may break get ``n = 0`` before
    and ``n = n + 1`` at the top of the body; the loop node remembers ``n``.
    """
    out = []
    for stmt in stmts:
        for field_name in ("body", "orelse"):
            block = getattr(stmt, field_name, None)
            if isinstance(block, list):
                inner = nested or isinstance(stmt, (gast.For, gast.While))
                setattr(stmt, field_name, add_loop_counters(block, namer, inner))
        counted = isinstance(stmt, gast.While) or (isinstance(stmt, gast.For) and breaks(stmt.body))
        if counted:
            counter = namer.fresh("n_iter")
            line = getattr(stmt, "pb_line", None)
            init = _stmt(gast.Assign(targets=[make_name(counter, gast.Store())],
                                     value=gast.Constant(value=0, kind=None), type_comment=None),
                         line, "forward")
            step = _stmt(gast.Assign(targets=[make_name(counter, gast.Store())],
                                     value=gast.BinOp(left=make_name(counter), op=gast.Add(),
                                                      right=gast.Constant(value=1, kind=None)),
                                     type_comment=None), line, "forward")
            init.pb_counter = "init-nested" if nested else "init"
            step.pb_counter = "step"
            stmt.body.insert(0, step)
            stmt.pb_counter = counter
            out += [init, stmt]
        else:
            out.append(stmt)
    return out


class ReverseBuilder:
    """Builds the reverse sweep of a normalized body, block by block.

    ``defined`` is the set of adjoints holding a value for the current value
    of their variable: the first write to an adjoint outside it defines the
    adjoint, later writes accumulate. When the reverse sweep passes the
    assignment of a variable that is assigned more than once (``mutable``),
    the variable's earlier value starts with no adjoint, so its adjoint
    leaves ``defined``. Branches and loops are made to agree on ``defined``
    with explicit zeros.
    """

    def __init__(self, operations, active, namer, aliases, imports, mutable, structured,
                 request_vjp=None, location=None, scalars=frozenset(), representatives=None):
        self.request_vjp = request_vjp  # (callee, call node, wrt) -> (forward, backward) names
        self.location = location
        self.operations = operations
        self.active = active
        self.namer = namer
        self.aliases = aliases
        self.imports = imports
        self.mutable = mutable          # names assigned more than once
        self.structured = structured    # names whose adjoint is indexed into (arrays, lists)
        self.scalars = scalars
        self.expander = TemplateExpander(namer, active, aliases, imports, self.write, scalars,
                                         representatives)
        self.site_counts = {}
        self.loop_depth = 0
        self.masked = frozenset()      # names whose adjoint a selection may zero (masked_names)

    def sweep(self, forward, defined, params):
        """The reverse sweep of the whole forward sweep."""
        self.site_counts = _count_stores(forward)
        for name in params:         # a parameter is assigned by the call
            self.site_counts[name] = self.site_counts.get(name, 0) + 1
        return self.block(forward, defined)

    # -- helpers ---------------------------------------------------------------
    def runtime(self, name):
        from pullback import runtime
        alias = self.aliases.get(name, name)
        self.imports[alias] = getattr(runtime, name)
        return alias

    def write(self, adjoint, value, defined, line):
        """``adjoint = value`` if undefined, else accumulate; ``value=None``: a zero."""
        primal = self.namer.primal_of(adjoint)
        if value is None:
            value = self.zero_value(primal)
        elif adjoint in defined:
            if primal in self.structured:
                value = _call(self.runtime("accumulate"), make_name(adjoint), value)
            else:
                value = gast.BinOp(left=make_name(adjoint), op=gast.Add(), right=value)
        defined.add(adjoint)
        return _assign(adjoint, value, line)

    def zero_value(self, primal):
        """A zero gradient for ``primal``: ``0.0`` for a known scalar."""
        if primal in self.scalars:
            return gast.Constant(value=0.0, kind=None)
        return _call(self.runtime("zeros_adjoint"), make_name(primal))

    def zero(self, adjoint, line=None):
        return self.write(adjoint, None, set(), line)

    def adjoint_of(self, node):
        """The adjoint name of an operand, or None if no derivative flows to it."""
        if isinstance(node, gast.Name) and node.id in self.active:
            return self.namer.adjoint(node.id)
        return None

    # -- blocks ------------------------------------------------------------------
    def block(self, stmts, defined):
        out = []
        for stmt in reversed(stmts):
            out += self.statement(stmt, defined)
        return out

    def statement(self, stmt, defined):
        line = getattr(stmt, "pb_line", None)
        if isinstance(stmt, gast.If):
            return self.branch(stmt, defined, line)
        if isinstance(stmt, (gast.For, gast.While)):
            return self.loop(stmt, defined, line)
        counter = getattr(stmt, "pb_counter", None)
        if counter == "init-nested":
            # an inner loop's trip count, kept per iteration of the outer loop
            return [Restore(stmt.targets[0].id, stmt)]
        if counter or id(stmt) not in self.operations:
            return []       # break, pass, raise, return, counting: nothing to undo
        operation = self.operations[id(stmt)]
        if operation.kind == "setitem":
            return self.setitem(stmt, operation, defined, line)
        if operation.kind == "append":
            return self.append(stmt, operation, defined, line)
        if operation.target is None:
            return []
        return self.assignment(stmt, operation, defined, line)

    def branch(self, stmt, defined, line):
        in_body, in_else = set(defined), set(defined)
        body = self.block(stmt.body, in_body)
        orelse = self.block(stmt.orelse, in_else)
        # Outside loops, variables only this statement assigns are dead before
        # it: their adjoints need not agree between the branches.
        local = set()
        if not self.loop_depth:
            inside = _count_stores([stmt])
            local = {self.namer.adjoint(n) for n, k in inside.items() if self.site_counts.get(n) == k}
        in_body -= local
        in_else -= local
        merged = in_body | in_else
        body += [self.zero(a, line) for a in sorted(merged - in_body)]
        orelse += [self.zero(a, line) for a in sorted(merged - in_else)]
        defined.clear()
        defined.update(merged)
        if not body and not orelse:
            return []
        if not body:
            test, body, orelse = _negate(stmt.test), orelse, []
        else:
            test = clone(stmt.test)
        return [_stmt(gast.If(test=test, body=body, orelse=orelse), line, "reverse")]

    def loop(self, stmt, defined, line):
        counter = getattr(stmt, "pb_counter", None)
        if isinstance(stmt, gast.While):
            exit_test = _exit_test(stmt)
            if exit_test is not None:
                # ``while t: B`` ran B n - 1 times, then the test failed: undo
                # the last test (and the loop's else), then B n - 1 times.
                test, condition = exit_test
                last = [s for s in condition.orelse if not isinstance(s, gast.Break)]
                code = self.block(test + last, defined)
                n_minus_1 = gast.BinOp(left=make_name(counter), op=gast.Sub(),
                                       right=gast.Constant(value=1, kind=None))
                return code + self.repeat(test + condition.body, defined, line,
                                          make_name("_", gast.Store()), _call("range", n_minus_1))
            target, iterator = make_name("_", gast.Store()), _call("range", make_name(counter))
        else:
            steps = clone(stmt.iter)
            if counter is not None:
                steps = gast.Subscript(value=steps, slice=gast.Slice(
                    lower=None, upper=make_name(counter), step=None), ctx=gast.Load())
            target, iterator = clone(stmt.target), _call("reversed", steps)
        return self.repeat(stmt.body, defined, line, target, iterator)

    def repeat(self, stmts, defined, line, target, iterator):
        """``for target in iterator:`` running the reverse of ``stmts``."""
        entry = set(defined)
        while True:             # the adjoints defined at the top of every iteration
            at_end = set(entry)
            self.loop_depth += 1
            body = self.block(stmts, at_end)
            self.loop_depth -= 1
            if at_end <= entry:
                break
            entry |= at_end
        body += [self.zero(a, line) for a in sorted(entry - at_end)]
        inits = [self.zero(a, line) for a in sorted(entry - defined)]
        defined.clear()
        defined.update(entry)
        if not body:
            return inits
        loop = gast.For(target=target, iter=iterator, body=body, orelse=[], type_comment=None)
        return inits + [_stmt(loop, line, "reverse")]

    # -- assignments -------------------------------------------------------------
    def assignment(self, stmt, operation, defined, line):
        target = operation.target
        adjoint = self.namer.adjoint(target)
        lifted = operation.kind == "call" and isinstance(operation.bound["function"], LiftedFunction)
        if operation.kind == "call" and (lifted or (target in self.active and adjoint in defined)):
            self.call_forward(stmt, operation)      # a lifted def exists only as its forward
        mutable = target in self.mutable
        restore = [Restore(target, stmt)] if mutable else []
        saved = getattr(stmt, "pb_saved", None)
        # the callee's saved values are put back after its backward sweep has used them
        saved_restore = [Restore(saved, stmt)] if saved is not None and saved in self.mutable else []
        if target not in self.active or adjoint not in defined:
            if mutable:
                defined.discard(adjoint)
            return restore + saved_restore
        operands = self.operands(operation)
        overwrites_operand = target in operands
        code = []
        value_name, result_adjoint = target, adjoint
        if mutable and overwrites_operand:
            # target = f(target, ...): the template needs the operand's old value
            # (restored first) and may need the new one (kept in a capture).
            if operation.kind == "rule" and operation.rule.reads_result:
                value_name = self.namer.fresh(target + "_new")
                code.append(_assign(value_name, make_name(target), line))
            code += restore
            restore = []
            defined.discard(adjoint)
            # Every other write reads the adjoint before the write to it (the
            # operand's) replaces it; with more than one such write, keep a copy.
            trial_defined = set(defined)
            writes = self.adjoint_code(operation, value_name, adjoint, trial_defined, line)
            own = [w for w in writes if isinstance(w, gast.Assign) and isinstance(w.targets[0], gast.Name)
                   and w.targets[0].id == adjoint]
            nested = any(adjoint in {n.id for n in walk(w) if isinstance(n, gast.Name)}
                         for w in writes if not isinstance(w, gast.Assign))
            if len(own) == 1 and not nested:
                defined.clear()
                defined.update(trial_defined)
                return code + [w for w in writes if w is not own[0]] + own + saved_restore
            result_adjoint = self.namer.fresh(adjoint + "_new")
            code.insert(0, _assign(result_adjoint, make_name(adjoint), line))
        code += self.adjoint_code(operation, value_name, result_adjoint, defined, line)
        if mutable and not overwrites_operand:
            defined.discard(adjoint)
        return code + saved_restore + restore

    def operands(self, operation):
        return set(operation.sources)

    def adjoint_code(self, operation, value_name, result_adjoint, defined, line):
        kind = operation.kind
        if kind == "rule":
            return self.expander.expand(operation.rule, operation.bound, value_name, defined, line,
                                        result_adjoint, operation.target in self.masked)
        if kind == "copy":
            source = self.adjoint_of(make_name(operation.sources[0]))
            return [self.write(source, make_name(result_adjoint), defined, line)] if source else []
        if kind == "subscript":
            container = operation.bound["value"]
            source = self.adjoint_of(container)
            if source is None:
                return []
            index = index_value(operation.bound["index"])
            if source in defined:
                value = _call(self.runtime("add_at"), make_name(source), clone(container), index,
                              make_name(result_adjoint))
            else:
                value = _call(self.runtime("scatter"), clone(container), index,
                              make_name(result_adjoint))
            defined.add(source)
            return [_assign(source, value, line)]
        if kind == "call":
            return self.call_reverse(operation, result_adjoint, defined, line)
        if kind == "pack":
            code = []
            for i, element in enumerate(operation.bound["elements"]):
                source = self.adjoint_of(element)
                if source:
                    part = gast.Subscript(value=make_name(result_adjoint),
                                          slice=gast.Constant(value=i, kind=None), ctx=gast.Load())
                    code.append(self.write(source, part, defined, line))
            return code
        return []

    # -- calls into other Python functions -----------------------------------------
    def call_forward(self, stmt, operation):
        """``y = g(a, b)`` -> ``y, g_saved = g_forward(a, b)``: the callee's own
        forward sweep, which also returns what its backward sweep needs."""
        if getattr(stmt, "pb_saved", None) is not None:
            return
        callee, node = operation.bound["function"], operation.bound["node"]
        arguments, wrt = self.bind_call(callee, node)
        names = [p.name for p in inspect.signature(callee).parameters.values()]
        functions = {}
        for name, argument in zip(names, arguments):
            known = self.static_argument(argument)
            if known is not None:
                functions[name] = known
        forward, backward = self.request_vjp(callee, node.func, wrt, functions,
                                             operation.target in self.masked)
        saved = self.namer.fresh(_callee_name(node.func) + "_saved")
        stmt.targets = [gast.Tuple(elts=[make_name(operation.target, gast.Store()),
                                         make_name(saved, gast.Store())], ctx=gast.Store())]
        stmt.value = gast.Call(func=make_name(forward), args=arguments, keywords=[])
        stmt.pb_saved, stmt.pb_backward, stmt.pb_wrt = saved, backward, wrt
        stmt.pb_arguments = arguments
        operation.bound["statement"] = stmt
        if operation.target in self.mutable:
            self.mutable.add(saved)

    def call_reverse(self, operation, result_adjoint, defined, line):
        stmt = operation.bound["statement"]
        backward = gast.Call(func=make_name(stmt.pb_backward), args=[
            make_name(result_adjoint), gast.Starred(value=make_name(stmt.pb_saved), ctx=gast.Load())],
            keywords=[])
        receivers = [self.adjoint_of(stmt.pb_arguments[i]) for i in stmt.pb_wrt]
        if len(receivers) == 1:
            return [self.write(receivers[0], backward, defined, line)]
        parts = self.namer.fresh("d" + _callee_name(operation.bound["node"].func) + "_args")
        code = [_assign(parts, backward, line)]
        for i, receiver in enumerate(receivers):
            part = gast.Subscript(value=make_name(parts), slice=gast.Constant(value=i, kind=None),
                                  ctx=gast.Load())
            code.append(self.write(receiver, part, defined, line))
        return code

    def bind_call(self, callee, node):
        """Every parameter's argument node, in the callee's order, and which
        positions carry a derivative."""
        signature = inspect.signature(callee)
        positional = list(node.args)
        keywords = {k.arg: k.value for k in node.keywords}
        defaults = callee.__defaults__ or ()
        ordered = [p for p in signature.parameters.values()
                   if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        arguments = []
        for parameter in signature.parameters.values():
            if parameter.kind == parameter.VAR_POSITIONAL:
                arguments.append(gast.Tuple(elts=positional, ctx=gast.Load()))
                positional = []
            elif parameter.kind == parameter.VAR_KEYWORD:
                raise refuse(UnsupportedSyntax, f"calling {callee.__qualname__}, which takes "
                             "**kwargs, is not differentiable", node, self.location,
                             "Give the function named keyword parameters.")
            elif positional and parameter.kind != parameter.KEYWORD_ONLY:
                arguments.append(positional.pop(0))
            elif parameter.name in keywords:
                arguments.append(keywords.pop(parameter.name))
            elif parameter.default is not parameter.empty:
                arguments.append(_default(parameter, callee, node.func, ordered, defaults))
            else:
                raise refuse(UnsupportedSyntax, f"{callee.__qualname__}() is missing the argument "
                             f"{parameter.name!r}", node, self.location, "Pass every argument.")
        wrt = tuple(i for i, a in enumerate(arguments)
                    if isinstance(a, gast.Name) and a.id in self.active)
        for a in arguments:
            if isinstance(a, gast.Tuple) and any(isinstance(e, gast.Name) and e.id in self.active
                                                 for e in a.elts):
                raise refuse(UnsupportedSyntax, f"differentiating through the *args of "
                             f"{callee.__qualname__} is not supported", node, self.location,
                             "Give the function named parameters for differentiated values.")
        return arguments, wrt

    def setitem(self, stmt, operation, defined, line):
        """``y[i] = v``: v gets ``dy[i]``, which is then zero (v replaced it)."""
        target = operation.target
        adjoint = self.namer.adjoint(target)
        code = []
        if target in self.active and adjoint in defined:
            index = index_value(operation.bound["index"])
            value = operation.bound["value"]
            part = self.namer.fresh("d" + target + "_part")
            code.append(_stmt(gast.Assign(
                targets=[gast.Tuple(elts=[make_name(adjoint, gast.Store()), make_name(part, gast.Store())],
                                    ctx=gast.Store())],
                value=_call(self.runtime("take_at"), make_name(adjoint), make_name(target), index),
                type_comment=None), line, "reverse"))
            source = self.adjoint_of(value)
            if source:
                code.append(self.write(source, _call(self.runtime("unbroadcast"), make_name(part),
                                                     clone(value)), defined, line))
        return code + [Restore(target, stmt, index=operation.bound["index"])]

    def append(self, stmt, operation, defined, line):
        """``ys.append(v)``: v gets the last entry of ``dys``, which is removed."""
        target = operation.target
        adjoint = self.namer.adjoint(target)
        code = []
        if target in self.active and adjoint in defined:
            part = self.namer.fresh("d" + target + "_last")
            code.append(_stmt(gast.Assign(
                targets=[gast.Tuple(elts=[make_name(adjoint, gast.Store()), make_name(part, gast.Store())],
                                    ctx=gast.Store())],
                value=_call(self.runtime("pop_last"), make_name(adjoint)), type_comment=None),
                line, "reverse"))
            source = self.adjoint_of(operation.bound["value"])
            if source:
                code.append(self.write(source, make_name(part), defined, line))
        return code + [Restore(target, stmt, append=True)]


def _exit_test(loop):
    """For a desugared ``while True: ...; if cond: B else: break`` whose B
    never breaks or continues: (the statements before the ``if``, the ``if``)."""
    *test, condition = loop.body
    if not isinstance(condition, gast.If) or not isinstance(condition.test, gast.Name) \
            or not condition.orelse or not isinstance(condition.orelse[-1], gast.Break):
        return None
    if any(isinstance(n, (gast.Break, gast.Continue, gast.Return)) for s in condition.body + test
           for n in walk(s)):
        return None
    if any(isinstance(n, (gast.Break, gast.Continue, gast.Return)) for s in condition.orelse[:-1]
           for n in walk(s)):
        return None
    return test, condition


def _callee_name(func_node):
    """How the call site names its callee: ``helpers.g`` -> ``g``."""
    return func_node.attr if isinstance(func_node, gast.Attribute) else getattr(func_node, "id", "f")


_LITERALS = (int, float, bool, str, type(None))


def _default(parameter, callee, func_node, ordered, defaults):
    """A parameter's default as code: the literal, or the callee's own record of it."""
    value = parameter.default
    if isinstance(value, _LITERALS) or (isinstance(value, tuple)
                                        and all(isinstance(v, _LITERALS) for v in value)):
        if isinstance(value, tuple):
            return gast.Tuple(elts=[gast.Constant(value=v, kind=None) for v in value], ctx=gast.Load())
        return gast.Constant(value=value, kind=None)
    if parameter.kind == parameter.KEYWORD_ONLY:
        record, key = "__kwdefaults__", gast.Constant(value=parameter.name, kind=None)
    else:
        position = ordered.index(parameter) - (len(ordered) - len(defaults))
        record, key = "__defaults__", gast.Constant(value=position, kind=None)
    return gast.Subscript(value=gast.Attribute(value=clone(func_node), attr=record, ctx=gast.Load()),
                          slice=key, ctx=gast.Load())


def _count_stores(stmts):
    counts = {}
    for stmt in stmts:
        for node in walk(stmt):
            if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Store):
                counts[node.id] = counts.get(node.id, 0) + 1
    return counts


def _negate(test):
    if isinstance(test, gast.UnaryOp) and isinstance(test.op, gast.Not):
        return clone(test.operand)
    return gast.UnaryOp(op=gast.Not(), operand=clone(test))


def reverse_sweeps(tree, operations, active, wrt, namer, aliases, request_vjp=None, location=None,
                   static_argument=None, scalars=frozenset(), representatives=None,
                   flat=frozenset(), masked_output=False):
    """Build the forward and reverse sweeps of ``tree`` (normalized).

    ``masked_output``: the caller selects from this function's result
    (``np.where(c, helper(x), 0.0)``), so the output's adjoint may be zero
    where the helper's derivative is not finite (see masked_names)."""
    refuse_complex_values(tree, operations, active, location)
    body = tree.body
    returned = body[-1].value if body and isinstance(body[-1], gast.Return) else None
    forward = [s for s in body if not isinstance(s, gast.Return)]
    forward = add_loop_counters(forward, namer)
    _mark(forward, "forward")
    output = returned.id if isinstance(returned, gast.Name) else None
    seed = namer.adjoint(output) if output else None
    imports = {}
    mutable = assigned_in_loops(tree) | assigned_in_loops(gast.Module(body=forward, type_ignores=[]))
    structured = {op.bound["value"].id for op in operations.values()
                  if op.kind == "subscript" and isinstance(op.bound["value"], gast.Name)}
    structured |= {op.target for op in operations.values() if op.kind in ("pack", "setitem", "append")}
    structured -= flat      # arrays and numbers: their gradients add with +
    builder = ReverseBuilder(operations, active, namer, aliases, imports, mutable, structured,
                             request_vjp, location, scalars, representatives)
    builder.static_argument = static_argument or (lambda node: None)
    builder.masked = masked_names(tree, operations, active,
                                  {output} if masked_output and output in active else ())
    defined = {seed} if output in active else set()
    reverse = builder.sweep(forward, defined, parameter_names(tree))
    gradients = []
    for name in wrt:
        adjoint = namer.adjoint(name)
        if adjoint in defined:
            gradients.append(make_name(adjoint))
        else:
            # The output does not depend on this argument: its gradient is zero.
            gradients.append(builder.zero_value(name))
    return Sweeps(forward, reverse, output, seed, gradients, imports, scalars=scalars,
                  named=namer.user_adjoints() | frozenset(namer.user), shapes=representatives)


def _mark(stmts, sweep):
    for stmt in stmts:
        stmt.pb_sweep = sweep
        for field_name in ("body", "orelse"):
            block = getattr(stmt, field_name, None)
            if isinstance(block, list):
                _mark(block, sweep)
