"""Stage 4b: which names are known to hold scalars (``tree -> facts``).

A derivative is generated for the kinds of arguments it is called with: a
parameter given a number (a Python float or int, a NumPy scalar) is known to
be a scalar. From those and the literals, this pass finds every name that
holds a scalar wherever it is assigned: arithmetic and elementwise functions
of scalars, ``math`` functions, full reductions (``np.sum(x)``), loop
counters. The reverse stage then leaves out what only arrays need: summing a
gradient back over broadcast axes (``unbroadcast``) when an operand has the
result's shape, the check and allocation of seeds and zeros.
"""
import operator

import gast
import numpy as np

from pullback.analysis.array_shapes import array_shapes, keeps_shape, largest, operand_shapes
from pullback.analysis.constructed import CONSTRUCTORS
from pullback.analysis.operation import in_table
from pullback.runtime.containers import copy_method
from pullback.code.astutil import walk, walk_statements

def elementwise(rule):
    """Does the rule's result have its operands' broadcast shape? (Declared
    on the rule: ``rule.shape``, see rules.SHAPES.)"""
    return rule.shape == "elementwise"


def scalars_and_shapes(tree, operations, scalar_params, parameter_shapes, constants=frozenset()):
    """``(scalar names, {name: Shape})``: scalar_names and array_shapes, each
    fed the other's findings until neither learns more (``p[0]`` of a 1-D
    array is a number; ``a = packed[0]`` of ``packed = p[0], p[1]`` then is one).
    ``constants``: the dotted names of module constants (``np.pi``), numbers
    wherever they are read."""
    scalars = scalar_names(tree, operations, scalar_params) | constants
    while True:
        arrays = array_shapes(tree, operations, parameter_shapes, scalars)
        numbers = {name for name, shape in arrays.items() if shape.number} - scalars
        if not numbers:
            return scalars, arrays
        scalars = scalar_names(tree, operations, scalar_params, scalars | numbers) | constants


def scalar_names(tree, operations, scalar_params, numbers=frozenset()):
    """The names of ``tree`` (normalized) that hold a scalar at every assignment.

    Starts from every assigned name and drops, until nothing changes, each
    name with an assignment not known to give a scalar (a loop reads its own
    earlier values, so the largest consistent set is the answer). ``numbers``:
    names known (array_shapes) to hold numbers at every assignment.
    """
    sites = _sites(tree, operations)
    for name in parameter_list(tree):
        sites.setdefault(name, []).append(name in scalar_params)
    for name in numbers:
        sites[name] = [True]
    shapes = {name for name, assigned in sites.items()     # x.shape: a tuple of ints
              if all(isinstance(s, gast.Assign) and isinstance(s.value, gast.Attribute)
                     and s.value.attr == "shape" for s in assigned)}
    builtin_range = "range" not in tree_locals(tree)
    ranges = {name for name, assigned in sites.items()     # seq = range(n): its items are ints
              if builtin_range and all(
                  isinstance(s, gast.Assign) and isinstance(s.value, gast.Call)
                  and isinstance(s.value.func, gast.Name) and s.value.func.id == "range"
                  for s in assigned)}
    return largest(sites, lambda site, known: _gives_scalar(site, operations, known, shapes, ranges))


def tree_locals(tree):
    return {n.id for n in walk(tree) if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store)}


def flat_names(tree, operations, scalars):
    """The names that never hold a list or tuple: numbers, and the arrays
    NumPy's functions make. Their gradients add up with ``+`` instead of
    ``accumulate`` (which also sums lists element by element)."""
    sites = _sites(tree, operations)
    for name in parameter_list(tree):
        sites.setdefault(name, []).append(name in scalars)

    def flat(site, known):
        if isinstance(site, bool) or site is None:
            return bool(site)
        # what would give a number from numbers gives an array or a number
        # from arrays and numbers: arithmetic, ufuncs, full reductions, copies
        if _gives_scalar(site, operations, known):
            return True
        operation = operations.get(id(site)) if isinstance(site, gast.Assign) else None
        if operation is None:
            return False
        if operation.kind == "constant" and in_table(operation.function, CONSTRUCTORS):
            return True                         # np.zeros(n), np.eye(k): an array
        if operation.kind == "subscript":       # an element or slice of an array
            return bool(operation.sources) and operation.sources[0] in known
        if operation.kind == "rule" and operation.rule.targets[0] is copy_method:
            return bool(operation.sources) and operation.sources[0] in known     # x.copy()
        if operation.kind == "rule" and operation.rule.targets[0] is operator.add:
            # a + b joins two lists only: an array or a number on either side gives neither
            return any(isinstance(n, gast.Name) and n.id in known or is_scalar(n, known)
                       for n in operation.bound.values())
        return operation.kind == "rule" and (operation.rule.shape in _ONE_ARRAY
                                             or _never_a_sequence(operation.rule))

    return largest(sites, flat)


# Rule shapes (rules.SHAPES) of functions that give one array, never a list or a tuple.
_ONE_ARRAY = frozenset(("reduction", "array", "product", "joined", "hstacked", "vstacked", "same",
                        "padded", "transposed", "outer", "listed", "accumulated", "differenced",
                        "contracted"))


# Python operators that raise on lists and tuples (+ and * join and repeat them).
_NUMERIC_OPERATORS = frozenset({operator.sub, operator.truediv, operator.pow, operator.neg,
                                operator.pos, operator.matmul, operator.floordiv, operator.mod})


def _never_a_sequence(rule):
    """Does the rule's function give a number or an array, whatever it is given?
    NumPy's and math's functions of an elementwise result do (np.add of two lists
    is an array); Python's + and * join and repeat lists."""
    if rule.shape not in ("elementwise", "scalar", "product"):
        return False
    return all(isinstance(t, np.ufunc) or t in _NUMERIC_OPERATORS
               or getattr(t, "__module__", None) in ("math", "numpy") for t in rule.targets)


def _sites(tree, operations):
    """name -> what assigns it: statements, or None for what makes it a list
    or an element of something. The items of a list of tuples (a stack a
    gradient pushes onto, _stacks) get names of their own, ``stack[*][0]``,
    ``stack[*][1]``, assigned by each tuple appended; ``t = stack.pop()`` (or
    ``stack[-1]``) assigns ``t[0]``, ``t[1]`` from them: ``("item", "stack[*][0]")``.
    These names are not identifiers: no variable of the code has one."""
    sites = {}
    packs = _packs(tree, operations)
    stacks = _stacks(tree, operations)
    for stmt in walk_statements(tree.body):
        if isinstance(stmt, gast.Assign):
            target = stmt.targets[0]
            if isinstance(target, gast.Name):
                sites.setdefault(target.id, []).append(stmt)
                _taken_items(stmt, operations, packs, stacks, sites)
            else:       # unpacked from something (y[i] = v leaves y what it was)
                for node in walk(target):
                    if isinstance(node, gast.Name) and isinstance(node.ctx, gast.Store):
                        sites.setdefault(node.id, []).append(None)
        elif isinstance(stmt, gast.For):
            for node in walk(stmt.target):
                if isinstance(node, gast.Name):
                    sites.setdefault(node.id, []).append(stmt)
        elif isinstance(stmt, gast.Expr):
            operation = operations.get(id(stmt))
            if operation is not None and operation.target:      # ys.append(v): ys is a list
                sites.setdefault(operation.target, []).append(None)
                if operation.kind == "append" and operation.target in stacks:
                    _appended_items(operation, packs, sites)
    return sites


def _stacks(tree, operations):
    """The lists used only as stacks: made empty (``s = []``), appended to, popped
    (``t = s.pop()``, or ``t = s[-1]`` then ``s = s[:-1]``), never read otherwise,
    so what a pop gives is something an append pushed."""
    candidates = {stmt.targets[0].id for stmt in walk_statements(tree.body)
                  if isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name)
                  and isinstance(stmt.value, gast.List) and not stmt.value.elts}
    allowed = set()         # ids of the Name nodes a stack may be read through
    for stmt in walk_statements(tree.body):
        operation = operations.get(id(stmt))
        if isinstance(stmt, gast.Expr) and operation is not None and operation.kind == "append":
            allowed.add(id(stmt.value.func.value))
        elif isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name):
            value = stmt.value
            if operation is not None and operation.kind == "pop":
                allowed.add(id(value.func.value))
            elif isinstance(value, gast.Subscript) and isinstance(value.value, gast.Name) and (
                    (isinstance(value.slice, gast.Constant) and value.slice.value == -1)
                    or (isinstance(value.slice, gast.Slice) and value.slice.lower is None
                        and value.slice.step is None and value.value.id == stmt.targets[0].id
                        and isinstance(value.slice.upper, gast.Constant)
                        and value.slice.upper.value == -1)):
                allowed.add(id(value.value))
            elif isinstance(value, gast.List) and not value.elts:
                continue
            else:
                candidates.discard(stmt.targets[0].id)      # assigned something else
        elif isinstance(stmt, gast.Expr) and operation is not None and operation.kind == "pop":
            allowed.add(id(stmt.value.func.value))
    for node in walk(tree):
        if isinstance(node, gast.Name) and node.id in candidates and id(node) not in allowed \
                and not isinstance(node.ctx, gast.Store):
            candidates.discard(node.id)
    return candidates


def _packs(tree, operations):
    """name -> the elements of the one tuple it is assigned (``value = a, b``)."""
    packs, counts = {}, {}
    for stmt in walk_statements(tree.body):
        if isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name):
            name = stmt.targets[0].id
            counts[name] = counts.get(name, 0) + 1
            operation = operations.get(id(stmt))
            if operation is not None and operation.kind == "pack" \
                    and isinstance(stmt.value, gast.Tuple):
                packs[name] = stmt.value.elts
    return {name: elements for name, elements in packs.items() if counts[name] == 1}


_ITEMS = 16         # items of a pushed tuple followed by name


def _appended_items(operation, packs, sites):
    value = operation.bound.get("value")
    sites.setdefault(f"{operation.target}[*]", []).append(("element", value))   # the item itself
    elements = packs.get(value.id) if isinstance(value, gast.Name) else None
    for i in range(_ITEMS):
        site = ("element", elements[i]) if elements is not None and i < len(elements) else None
        sites.setdefault(f"{operation.target}[*][{i}]", []).append(site)


def _taken_items(stmt, operations, packs, stacks, sites):
    """``t = stack.pop()`` / ``t = stack[-1]``: t's items are the stack's items."""
    operation = operations.get(id(stmt))
    owner = None
    if operation is not None and operation.kind == "pop":
        owner = operation.bound["owner"]
    elif isinstance(stmt.value, gast.Subscript) and isinstance(stmt.value.value, gast.Name) \
            and isinstance(stmt.value.slice, gast.Constant) and stmt.value.slice.value == -1:
        owner = stmt.value.value.id
    name = stmt.targets[0].id
    for i in range(_ITEMS):     # t's items: the stack's, or unknown
        if owner is not None:
            site = ("item", f"{owner}[*][{i}]") if owner in stacks else None
            sites.setdefault(f"{name}[{i}]", []).append(site)
    if name in packs:       # value = a, b: its items are a and b
        for i, element in enumerate(packs[name][:_ITEMS]):
            sites.setdefault(f"{name}[{i}]", []).append(("element", element))


def parameter_list(tree):
    args = tree.args
    return [a.id for a in args.posonlyargs + args.args + args.kwonlyargs] + \
        [a.id for a in (args.vararg, args.kwarg) if a is not None]


def is_scalar(node, scalars):
    """A value node that is a number: a numeric literal or a known-scalar name."""
    match node:
        case gast.Constant(value=value):
            return isinstance(value, (int, float, complex))
        case gast.UnaryOp(operand=operand):
            return is_scalar(operand, scalars)
        case gast.Name(id=name):
            return name in scalars
        case gast.Attribute(value=gast.Name(id=module), attr=attribute):
            return f"{module}.{attribute}" in scalars      # np.pi (module_constants)
    return False


def _gives_scalar(site, operations, scalars, shapes=frozenset(), ranges=frozenset()):
    match site:
        case bool() | None:
            return bool(site)
        case ("element", node):             # an item of a tuple pushed onto a stack
            return is_scalar(node, scalars)
        case ("item", name):                # an item of a tuple popped from a stack
            return name in scalars
        case gast.For(iter=gast.Call(func=gast.Name(id="range"))):
            return True
        case gast.For():
            return False
    operation = operations.get(id(site))
    if operation is None:
        return False
    match operation.kind:
        case "pop":                         # an item of a stack (_sites: "stack[*]")
            return f"{operation.bound['owner']}[*]" in scalars
        case "copy":
            return operation.sources[0] in scalars
        case "constant":
            return _constant_is_scalar(site.value, scalars)
        case "subscript":                   # x.shape[0], an item of a popped tuple
            match site.value:
                case gast.Subscript(value=gast.Name(id=name), slice=gast.Constant(value=-1)) \
                        if f"{name}[*]" in scalars:
                    return True                 # the top of a stack of numbers
                case gast.Subscript(value=gast.Name(id=name), slice=gast.Constant(value=int(i))):
                    return name in shapes or name in ranges or f"{name}[{i}]" in scalars
                case gast.Subscript(value=gast.Name(id=name), slice=gast.Name() | gast.BinOp()):
                    return name in ranges       # seq[last - i] of seq = range(n): an int
        case "rule":
            return rule_gives_scalar(operation.rule, operation.bound, scalars)
    return False


def _constant_is_scalar(node, scalars):
    match node:
        case gast.Constant():
            return is_scalar(node, scalars)
        case gast.Compare(left=left, comparators=comparators):
            return is_scalar(left, scalars) and all(is_scalar(c, scalars) for c in comparators)
        case gast.BinOp(left=left, right=right):        # floor division, bit operations
            return is_scalar(left, scalars) and is_scalar(right, scalars)
        case gast.UnaryOp(operand=operand):             # not, ~
            return is_scalar(operand, scalars)
        case gast.Attribute(attr=attr):                 # x.ndim, x.size: ints
            return attr in ("ndim", "size", "itemsize", "nbytes")
        case gast.Call(func=gast.Name(id="len")):
            return True
    return False


def rule_gives_scalar(rule, bound, scalars):
    """Does ``rule`` applied to ``bound`` give a scalar, by its declared shape?"""
    match rule.shape:
        case "scalar":                      # math.sin and friends: a float from numbers
            return all(is_scalar(bound[p], scalars) or _is_none(bound[p]) for p in rule.params
                       if p != rule.varargs)
        case "elementwise":
            return all(is_scalar(node, scalars) or _is_none(node) for node in bound.values())
        case "reduction":
            return _is_none(bound.get("axis")) and not _truthy(bound.get("keepdims"))
    return False


def same_shape_as_result(rule, bound, param, scalars, facts=None):
    """Does operand ``param`` of an elementwise rule have the result's shape?

    True when every other operand is a number, the same name, or (by
    ``facts``, a ``ShapeFacts``) a value that broadcasts into its shape:
    none of them changes the shape.
    """
    if not elementwise(rule):
        return False
    own = bound.get(param)
    arrays = getattr(facts, "arrays", None)
    if arrays and isinstance(own, gast.Name):       # what the argument kinds tell
        shapes = operand_shapes(rule, bound, arrays, scalars)
        if shapes is not None and param in shapes and keeps_shape(
                shapes[param], [shape for p, shape in shapes.items() if p != param]):
            return True
    fits = getattr(facts, "fits", {})
    if not isinstance(own, (gast.Name, gast.Constant)):
        return False
    for name, node in bound.items():
        if name == param or _is_none(node) or is_scalar(node, scalars):
            continue
        if isinstance(own, gast.Name) and isinstance(node, gast.Name) and (
                node.id == own.id or (node.id in fits and fits[node.id] == facts.shape_of(own.id))):
            continue
        if isinstance(node, gast.Constant) and isinstance(node.value, str):
            continue        # an option, such as a casting mode
        return False
    return True


def _is_none(node):
    return node is None or (isinstance(node, gast.Constant) and node.value is None)


def _truthy(node):
    return node is not None and not (isinstance(node, gast.Constant) and not node.value)
