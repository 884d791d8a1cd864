"""Stage 5: which adjoints a selection may zero, and the refusal of complex values.

``masked_names`` finds the values whose adjoint ``np.where``/``np.select`` (or
a mask product) may make zero where the value is inf or NaN; ``MaskProducts``
rewrites their templates so such a zero stays zero.
"""
import operator

import gast
import numpy as np

from pullback.errors import UnsupportedSyntax, refuse
from pullback.code.astutil import walk_statements
from pullback.transform.nodes import WRITE, call


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
                if carries and isinstance(target, gast.Name) and not target.id.startswith(WRITE):
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
                return call(self.helper("masked_mul"), g, factor), True
            if isinstance(node.op, gast.Div) and left and not right:
                return call(self.helper("masked_div"), node.left, node.right), True
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
    # np.fft in np.fft.fftshift(x) names a module, not a Fourier transform
    prefixes = {id(n.value) for n in gast.walk(tree) if isinstance(n, gast.Attribute)}

    def complex_at(node):
        return id(node) not in prefixes and _complex_constant(node)

    if not any(complex_at(n) for n in gast.walk(tree)):
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
            if any(complex_at(n) or (isinstance(n, gast.Name) and n.id in complex_names)
                   for n in gast.walk(stmt.value)):
                complex_names.add(target.id)
                changed = True
    for stmt in statements:
        operation = operations.get(id(stmt))
        if operation is None or not active.intersection(operation.sources) \
                or operation.target not in active or _real_valued(stmt.value):
            continue
        culprit = next((n for n in gast.walk(stmt.value) if complex_at(n)
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


