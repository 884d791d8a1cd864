"""Stage 2: normalization passes, each a small function ``tree -> tree``.

check_supported   refuse what cannot be differentiated (with file:line)
check_aliasing    refuse writes another name would see (aliasing.py)
desugar_augassign ``x += e``  ->  ``x = x + e``
to_anf            one operation per statement, temporaries named after the op
ssa_rename        a reassigned name gets a fresh name (``x`` -> ``x_1``)

Every statement produced keeps ``pb_line``, the line of the user's statement
it came from, so the generated code can quote the user's source.
"""
import gast

from pullback.frontend.loop_renaming import rename_in_loops

from pullback.code.annotations import mark
from pullback.code.astutil import clone, make_name
from pullback.code.naming import unused_name
from pullback.runtime.in_place import in_place
from pullback.code.quote import quote
from pullback.errors import UnsupportedSyntax, refuse
from pullback.frontend.parsing import parameter_names

# Statements refused, with the advice given to the user.
_REFUSED_STATEMENTS = {
    gast.Try: ("'try' statements are not differentiable",
               "Move the try/except outside the function you differentiate."),
    gast.With: ("'with' blocks are not differentiable",
                "Move the with block outside the function you differentiate."),
    gast.AsyncWith: ("'async with' blocks are not differentiable",
                     "Move the block outside the function you differentiate."),
    gast.AsyncFor: ("'async for' loops are not differentiable",
                    "Differentiate a plain function."),
    gast.Global: ("'global' declarations are not differentiable",
                  "Pass the value in as an argument and return the new value."),
    gast.Nonlocal: ("'nonlocal' declarations are not differentiable",
                    "Pass the value in as an argument and return the new value."),
    gast.ClassDef: ("class definitions inside a differentiated function are not supported",
                    "Define the class at module level."),
    gast.Delete: ("'del' statements are not differentiable", "Remove the del statement."),
    gast.Import: ("imports inside a differentiated function are not supported",
                  "Import at module level."),
    gast.ImportFrom: ("imports inside a differentiated function are not supported",
                      "Import at module level."),
    gast.AsyncFunctionDef: ("'async def' is not differentiable", "Use a plain def."),
}

# Statements of newer Pythons, where gast has them (3.10 match, 3.11 except*,
# 3.12 type aliases): refused here, before any later stage meets them.
for _name, _entry in (
        ("Match", ("match statements are not supported",
                   "Rewrite it with if/elif statements on the value.")),
        ("TryStar", ("'try ... except*' statements are not differentiable",
                     "Move the try/except outside the function you differentiate.")),
        ("TypeAlias", ("'type' alias statements inside a differentiated function are not "
                       "supported", "Define the alias at module level."))):
    if hasattr(gast, _name):
        _REFUSED_STATEMENTS[getattr(gast, _name)] = _entry

_REFUSED_EXPRESSIONS = {
    gast.Yield: ("'yield' makes a generator, which is not differentiable",
                 "Return a value (a list or array) instead of yielding values."),
    gast.YieldFrom: ("'yield from' makes a generator, which is not differentiable",
                     "Return a value instead of yielding values."),
    gast.Await: ("'await' is not differentiable", "Differentiate a plain function."),
    gast.SetComp: ("set comprehensions are not differentiable", "Use a list or an array."),
    gast.DictComp: ("dict comprehensions are not differentiable", "Use a list or an array."),
    gast.NamedExpr: ("assignment expressions (:=) are not supported",
                     "Assign in a separate statement."),
    gast.Starred: ("starred expressions (*x) are not supported yet",
                   "Pass each argument by name or position."),
    gast.Set: ("set literals are not differentiable", "Use a list or an array."),
}


def check_supported(tree, location):
    """Refuse every construct outside what the transformer handles."""
    named_lambdas = {id(n.value) for n in gast.walk(tree) if isinstance(n, gast.Assign)
                     and isinstance(n.value, gast.Lambda) and len(n.targets) == 1
                     and isinstance(n.targets[0], gast.Name)}
    for node in gast.walk(tree):
        if node is tree:
            continue
        for kind, (what, advice) in _REFUSED_STATEMENTS.items():
            if isinstance(node, kind):
                raise refuse(UnsupportedSyntax, what, node, location, advice)
        for kind, (what, advice) in _REFUSED_EXPRESSIONS.items():
            if isinstance(node, kind):
                raise refuse(UnsupportedSyntax, what, node, location, advice)
        if isinstance(node, gast.Lambda) and id(node) not in named_lambdas:
            raise refuse(UnsupportedSyntax, "a lambda inside a differentiated function must be "
                         "assigned to a name to be differentiated", node, location,
                         "Write name = lambda ...: ... on its own line, or use def.")
        if isinstance(node, (gast.Assign, gast.AugAssign, gast.AnnAssign, gast.For)):
            targets = node.targets if isinstance(node, gast.Assign) else [node.target]
            for target in targets:
                _check_target(target, node, location)
        if isinstance(node, gast.Call) and any(k.arg is None for k in node.keywords):
            raise refuse(UnsupportedSyntax, "calls with **kwargs are not supported yet",
                         node, location, "Pass the keyword arguments by name.")
        if isinstance(node, gast.Call) and any(k.arg == "out" for k in node.keywords):
            raise refuse(UnsupportedSyntax,
                         "the 'out' argument writes into an existing array, which is not "
                         "differentiable",
                         node, location, "Assign the result to a new name instead: y = f(x).")
    return tree


# Methods that change their array or list in place.
MUTATING_METHODS = frozenset({"append", "extend", "insert", "pop", "sort", "fill", "resize",
                              "remove", "clear", "reverse", "put", "itemset", "partition",
                              "setfield", "byteswap"})


def _check_target(target, node, location):
    if isinstance(target, gast.Name):
        return
    if isinstance(target, (gast.Tuple, gast.List)):
        for element in target.elts:
            _check_target(element, node, location)
        return
    if isinstance(target, gast.Subscript) and isinstance(target.value, gast.Name) \
            and not isinstance(node, gast.For):
        return
    if isinstance(target, gast.Starred):
        raise refuse(UnsupportedSyntax, "starred assignment targets (a, *rest = ...) are not "
                     "supported", node, location, "Index the sequence instead: a = t[0].")
    what = type(target).__name__.lower()
    raise refuse(UnsupportedSyntax, f"assignment to a {what} target is not differentiable",
                 node, location, "Assign to a plain name, or to a subscript of a named array.")


_OP_SYMBOLS = {gast.Add: "+", gast.Sub: "-", gast.Mult: "*", gast.Div: "/", gast.Pow: "**",
               gast.MatMult: "@", gast.FloorDiv: "//", gast.Mod: "%", gast.BitAnd: "&",
               gast.BitOr: "|", gast.BitXor: "^", gast.LShift: "<<", gast.RShift: ">>"}


def desugar_augassign(tree, parsed=None):
    """``x += e`` becomes ``x = in_place(x, x + e)`` (``x[i] += e``: ``x[i] = x[i] + e``),
    and ``x: T = e`` becomes ``x = e``. ``in_place`` raises where NumPy would: an
    array's in-place result must keep its shape (analysis/in_place.py drops the
    check where the shapes show it holds)."""
    check = _in_place_name(tree, parsed) if parsed is not None else None

    class Desugar(gast.NodeTransformer):
        def visit_AugAssign(self, node):
            load = clone(node.target)
            load.ctx = gast.Load()
            value = gast.BinOp(left=load, op=node.op, right=node.value)
            if isinstance(node.target, gast.Name) and check is not None:
                value = gast.Call(func=make_name(check), args=[clone(load), value], keywords=[])
                # kept where nothing reads its value: it raises where the user's line does
                return mark(_located(gast.Assign(targets=[node.target], value=value,
                                                 type_comment=None), node), keep=True)
            return _located(gast.Assign(targets=[node.target], value=value, type_comment=None), node)

        def visit_AnnAssign(self, node):
            if node.value is None:
                return None
            return _located(gast.Assign(targets=[node.target], value=node.value, type_comment=None), node)

    return gast.fix_missing_locations(Desugar().visit(tree))


def _in_place_name(tree, parsed):
    """The name ``in_place`` has in the function (a fresh one where the user's
    code uses it for something else); registered as a static name."""
    used = {n.id for n in gast.walk(tree) if isinstance(n, gast.Name)}
    name = "in_place"
    try:
        taken = name in used or name in parsed.local_names or parsed.free_value(name) is not in_place
    except NameError:
        taken = name in used or name in parsed.local_names
    if taken:
        name = unused_name(name, used | set(parsed.local_names))
    parsed.statics[name] = in_place
    return name


def _located(new, old):
    gast.copy_location(new, old)
    new.pb_line = getattr(old, "pb_line", getattr(old, "lineno", None))
    return new


_OP_NAMES = {
    gast.Add: "add", gast.Sub: "sub", gast.Mult: "mul", gast.Div: "div",
    gast.Pow: "power", gast.MatMult: "matmul", gast.FloorDiv: "floordiv",
    gast.Mod: "mod", gast.USub: "neg", gast.UAdd: "pos", gast.Not: "not_",
    gast.BitAnd: "and_", gast.BitOr: "or_", gast.BitXor: "xor",
    gast.LShift: "lshift", gast.RShift: "rshift", gast.Invert: "invert",
}


def is_static_reference(node, local_names):
    """``np``, ``np.linalg.norm``, ``math.pi``: attribute chains on a non-local name."""
    while isinstance(node, gast.Attribute):
        node = node.value
    return isinstance(node, gast.Name) and node.id not in local_names


def is_atom(node, local_names):
    """Names, literals, static references and tuples of literals (``axis=(0, 1)``)."""
    if isinstance(node, (gast.Name, gast.Constant)):
        return True
    if isinstance(node, gast.Attribute):
        return is_static_reference(node, local_names)
    if isinstance(node, gast.Tuple):
        return all(isinstance(e, gast.Constant) or (is_atom(e, local_names)
                   and not isinstance(e, gast.Name)) for e in node.elts)
    return False


# Temporaries named after a builtin would shadow it; they get a word instead.
_INSTEAD_OF_BUILTIN = {"sum": "total", "pow": "power", "max": "largest", "min": "smallest",
                       "abs": "absolute", "round": "rounded", "len": "length", "float": "as_float",
                       "loop_length": "length"}


def _temp_base(node):
    if isinstance(node, gast.BinOp) or isinstance(node, gast.UnaryOp):
        return _OP_NAMES.get(type(node.op), "value")
    if isinstance(node, gast.Call):
        func = node.func
        name = func.attr if isinstance(func, gast.Attribute) else getattr(func, "id", "value")
        return _INSTEAD_OF_BUILTIN.get(name, name)
    if isinstance(node, gast.Attribute):
        return node.attr
    if isinstance(node, gast.Compare):
        return "cond"
    if isinstance(node, gast.Subscript) and isinstance(node.value, gast.Name):
        key = node.slice.value if isinstance(node.slice, gast.Constant) else None
        if isinstance(key, str) and key.isidentifier():
            return f"{node.value.id}_{key}"         # params["W"] -> params_W
        part = isinstance(node.slice, gast.Slice) or (
            isinstance(node.slice, gast.Tuple) and any(isinstance(e, gast.Slice) for e in node.slice.elts))
        return node.value.id + ("_part" if part else "_item")
    return "value"


def to_anf(tree, namer, local_names):
    """Flatten nested expressions: each statement does one operation on atoms.

    A temporary is named after its operation (``tanh``, ``mul``); the value a
    function returns is named after the function (``loss``). Headers of
    ``if`` and ``for`` get atoms too; bodies are flattened recursively.
    """
    tree.body = _Flatten(tree.name, namer, local_names).block(tree.body)
    return tree


class _Flatten:
    """to_anf's walk: ``out`` is the block the statements computing operands go to."""

    def __init__(self, function_name, namer, local_names):
        self.function_name, self.namer, self.local_names = function_name, namer, local_names

    def atomize(self, node, out, line):
        """Return an atom for ``node``, appending the statements that compute it."""
        match node:
            case gast.UnaryOp(op=gast.USub(), operand=gast.Constant(value=int() | float() as number)):
                return gast.Constant(value=-number, kind=None)
        if is_atom(node, self.local_names):
            return node
        value = self.flatten(node, out, line)
        temp = self.namer.fresh(_temp_base(node))
        out.append(_stmt(quote("temp = value", temp=temp, value=value), line))
        return make_name(temp)

    def index(self, node, out, line):
        """Atomize the parts of a subscript's index, keeping slices and tuples."""
        match node:
            case gast.Slice():
                for part in ("lower", "upper", "step"):
                    if getattr(node, part) is not None:
                        setattr(node, part, self.atomize(getattr(node, part), out, line))
                return node
            case gast.Tuple():
                node.elts = [self.index(e, out, line) for e in node.elts]
                return node
        return self.atomize(node, out, line)

    def flatten(self, node, out, line):
        """Make ``node``'s operands atoms; return the one-operation node."""
        atomize = self.atomize
        match node:
            case gast.BinOp():
                node.left = atomize(node.left, out, line)
                node.right = atomize(node.right, out, line)
            case gast.UnaryOp():
                node.operand = atomize(node.operand, out, line)
            case gast.Call():
                static = is_static_reference(node.func, self.local_names)
                if isinstance(node.func, gast.Attribute) and not static:
                    node.func.value = atomize(node.func.value, out, line)     # a method call
                elif not static:
                    node.func = atomize(node.func, out, line)
                node.args = [atomize(a, out, line) for a in node.args]
                for keyword in node.keywords:
                    keyword.value = atomize(keyword.value, out, line)
            case gast.Compare():
                node.left = atomize(node.left, out, line)
                node.comparators = [atomize(c, out, line) for c in node.comparators]
            case gast.Attribute():
                node.value = atomize(node.value, out, line)
            case gast.Subscript():
                node.value = atomize(node.value, out, line)
                node.slice = self.index(node.slice, out, line)
            case gast.Tuple() | gast.List():
                node.elts = [atomize(e, out, line) for e in node.elts]
            case gast.Dict():
                node.keys = [k if k is None else atomize(k, out, line) for k in node.keys]
                node.values = [atomize(v, out, line) for v in node.values]
        return node

    def block(self, stmts):
        body = []
        for stmt in stmts:
            line = getattr(stmt, "pb_line", None) or stmt.lineno
            match stmt:
                case gast.Assign(targets=[gast.Subscript() as target]):
                    target.slice = self.index(target.slice, body, line)
                    stmt.value = self.atomize(stmt.value, body, line)
                case gast.Assign():
                    stmt.value = self.flatten(stmt.value, body, line)
                case gast.Return(value=value) if value is not None and not isinstance(value, gast.Name):
                    value = self.flatten(value, body, line)
                    result = self.namer.fresh(self.function_name)
                    body.append(_stmt(quote("result = value", result=result, value=value), line))
                    stmt.value = make_name(result)
                case gast.Expr(value=gast.Constant()) | gast.Pass():
                    continue    # a docstring or a bare literal does nothing
                case gast.Expr():
                    stmt.value = self.flatten(stmt.value, body, line)
                case gast.If():
                    self.branch(stmt, body, line)
                case gast.For() | gast.While():
                    if isinstance(stmt, gast.For):
                        stmt.iter.args = [self.atomize(a, body, line) for a in stmt.iter.args]
                    stmt.body = self.block(stmt.body) or [_stmt(gast.Pass(), line)]
            body.append(_stmt(stmt, line))
        return body

    def branch(self, stmt, body, line):
        """An ``if``: its test an atom the branches do not change, its blocks flattened."""
        test = stmt.test
        if isinstance(test, gast.UnaryOp) and isinstance(test.op, gast.Not):
            test.operand = self.atomize(test.operand, body, line)
            tested = test.operand
        else:
            stmt.test = tested = self.atomize(test, body, line)
        if isinstance(tested, gast.Name) and _assigns(stmt, tested.id):
            # The reverse sweep re-reads the test after undoing the branch:
            # it must be a value the branch does not change.
            copy = self.namer.fresh(tested.id + "_was")
            body.append(_stmt(quote("copy = tested", copy=copy, tested=tested.id), line))
            tested.id = copy
        stmt.body = self.block(stmt.body) or [_stmt(gast.Pass(), line)]
        stmt.orelse = self.block(stmt.orelse)


def _assigns(stmt, name):
    return any(isinstance(n, gast.Name) and n.id == name and isinstance(n.ctx, gast.Store)
               for block in (stmt.body, stmt.orelse) for s in block for n in gast.walk(s))


def _stmt(node, line):
    node.pb_line = line
    return node


def ssa_rename(tree, namer):
    """Give every reassignment a fresh name, so each name has one value.

    ``x = x * 2`` becomes ``x_1 = x * 2`` and later reads of ``x`` read
    ``x_1``. Parameters count as first assignments. Only names assigned
    nowhere but in top-level statements are renamed; a name assigned inside
    a branch or loop keeps one name, and the reverse sweep saves its
    overwritten values on a stack instead, except inside a loop's body,
    where a value that does not outlive its step gets a name of its own
    (frontend/loop_renaming.py).
    """
    rename_in_loops(tree.body, namer)
    nested = set()
    for stmt in tree.body:
        if isinstance(stmt, (gast.If, gast.For, gast.While)):
            nested.update(n.id for n in gast.walk(stmt)
                          if isinstance(n, gast.Name) and isinstance(n.ctx, gast.Store))
    current = {name: name for name in parameter_names(tree) if name not in nested}

    class RenameLoads(gast.NodeTransformer):
        def visit_Name(self, node):
            if isinstance(node.ctx, gast.Load) and node.id in current:
                node.id = current[node.id]
            return node

    for stmt in tree.body:
        if isinstance(stmt, gast.Assign) and isinstance(stmt.targets[0], gast.Name) \
                and stmt.targets[0].id not in nested:
            stmt.value = RenameLoads().visit(stmt.value)
            target = stmt.targets[0]
            if target.id in current:
                new = namer.fresh(target.id)
                current[target.id] = new
                target.id = new
            else:
                current[target.id] = target.id
        else:
            RenameLoads().visit(stmt)
    return tree
