"""Stage 6: assemble the sweeps into the functions a user calls and reads.

grad             d{f}_d{x}(params)            -> gradients
value_and_grad   value_and_d{f}_d{x}(params)  -> (value, gradients)
vjp              {f}_forward(params)           -> (value, saved values)
                 {f}_backward(d{f}, saved)     -> gradients

Each function is cleaned (stage 7) here, because what the backward function
reads decides what the forward function must save.
"""
import gast

from pullback import runtime
from pullback.runtime.declare import helper_facts
from pullback.code.astutil import loads, make_name, stores, walk
from pullback.transform.seed import put_in_the_seed


def _param(name):
    return gast.Name(id=name, ctx=gast.Param(), annotation=None, type_comment=None)


def _function(name, params, body, doc):
    doc_stmt = gast.Expr(value=gast.Constant(value=doc, kind=None))
    return gast.FunctionDef(
        name=name,
        args=gast.arguments(args=[_param(p) for p in params], posonlyargs=[], vararg=None,
                            kwonlyargs=[], kw_defaults=[], kwarg=None, defaults=[]),
        body=[doc_stmt] + body, decorator_list=[], returns=None, type_comment=None,
        type_params=[])


def _mutated(fn, imports):
    """Names a function changes in place: ``x.pop()``, ``x.append(v)``, ``x[i] = v``,
    and the arguments a runtime helper declares it writes into (``add_at``'s total)."""
    names = set()
    for node in walk(fn):
        match node:
            case gast.Call(func=gast.Attribute(attr="pop" | "append", value=gast.Name(id=owner))):
                names.add(owner)
            case gast.Subscript(ctx=gast.Store(), value=gast.Name(id=owner)):
                names.add(owner)
            case gast.Call(func=gast.Name(id=helper), args=args) if helper in imports:
                names.update(args[i].id for i in helper_facts(imports[helper]).mutates
                             if i < len(args) and isinstance(args[i], gast.Name))
    return names


def _fresh_copies(sweeps, backward, consumed, saved, params):
    """The backward function's first statements: copies of what it consumes.

    Where it restores overwritten parts of an array (``y[1:] = y_stack.pop()``),
    saved values that may be views of that array (``y_part = y[1:]``) must
    look into the copy, as they look into ``y`` itself in a gradient function:
    ``fresh_copies`` copies the memory once and maps those views onto it.
    """
    restored = {node.value.id for node in walk(backward)
                if isinstance(node, gast.Subscript) and isinstance(node.ctx, gast.Store)
                and isinstance(node.value, gast.Name)} & set(consumed)
    if not restored:
        sweeps.imports["fresh_copy"] = runtime.fresh_copy
        return [_assign([n], gast.Call(func=make_name("fresh_copy"), args=[make_name(n)],
                                       keywords=[])) for n in consumed]
    fresh_values = (gast.BinOp, gast.UnaryOp, gast.Compare, gast.Constant, gast.BoolOp)
    may_view = {n for stmt in walk(gast.Module(body=list(sweeps.forward), type_ignores=[]))
                if isinstance(stmt, gast.Assign) and not isinstance(stmt.value, fresh_values)
                for n in stores(stmt)}
    views = [n for n in saved if n in may_view and n not in consumed and n not in params]
    sweeps.imports["fresh_copies"] = runtime.fresh_copies
    keywords = [gast.keyword(arg="views", value=gast.Tuple(
        elts=[make_name(n) for n in views], ctx=gast.Load()))] if views else []
    call = gast.Call(func=make_name("fresh_copies"), args=[make_name(n) for n in consumed],
                     keywords=keywords)
    return [_assign(consumed + views, call)]


def _assign(names, value):
    target = make_name(names[0], gast.Store()) if len(names) == 1 else gast.Tuple(
        elts=[make_name(n, gast.Store()) for n in names], ctx=gast.Store())
    return gast.Assign(targets=[target], value=value, type_comment=None)


def _none(name):
    stmt = gast.Assign(targets=[make_name(name, gast.Store())],
                       value=gast.Constant(value=None, kind=None), type_comment=None)
    stmt.pb_sweep = "forward"
    return stmt


def _tuple(nodes):
    return nodes[0] if len(nodes) == 1 else gast.Tuple(elts=list(nodes), ctx=gast.Load())



def _return(value):
    stmt = gast.Return(value=value)
    stmt.pb_sweep = "return"
    return stmt


def _with_aux(sweeps, value):
    """The value, or ``(value, aux)`` for has_aux=True."""
    if not sweeps.aux:
        return value
    return gast.Tuple(elts=[value, make_name(sweeps.aux)], ctx=gast.Load())


def _seed_statement(sweeps, imports, seed_function):
    if sweeps.output in sweeps.scalars:     # known to be a number: no check needed
        value = gast.Constant(value=1.0, kind=None)
    else:
        imports[seed_function] = runtime.scalar_seed
        value = gast.Call(func=make_name(seed_function), args=[make_name(sweeps.output)], keywords=[])
    stmt = gast.Assign(targets=[make_name(sweeps.seed, gast.Store())], value=value, type_comment=None)
    stmt.pb_keep = True      # the check that grad's output is a scalar
    stmt.pb_sweep = "reverse"
    stmt.pb_line = None
    return stmt


def grad_function(sweeps, name, params, wrt, with_value, doc, imports, seed_function):
    """One function running both sweeps; returns the gradients (and the value)."""
    body = list(sweeps.forward)
    value = sweeps.output
    if with_value and sweeps.value_name:
        keep = gast.Assign(targets=[make_name(sweeps.value_name, gast.Store())],
                           value=make_name(value), type_comment=None)
        keep.pb_sweep, value = "forward", sweeps.value_name
        body.append(keep)
    reverse, gradients = list(sweeps.reverse), list(sweeps.gradients)
    if sweeps.output is not None and put_in_the_seed(sweeps, reverse, gradients):
        body.append(_seed_statement(sweeps, imports, seed_function))
    body += reverse
    gradients = _tuple(gradients)
    value = _with_aux(sweeps, make_name(value))
    if with_value:
        result = gast.Tuple(elts=[value, gradients], ctx=gast.Load())
    elif sweeps.aux:
        result = gast.Tuple(elts=[gradients, make_name(sweeps.aux)], ctx=gast.Load())
    else:
        result = gradients
    body.append(_return(result))
    return _function(name, params, body, doc)


def backward_function(sweeps, backward_name, doc_backward):
    """The backward function of a vjp pair, before it learns what it reads
    (:func:`vjp_functions`, after the optimizer ran on it)."""
    return _function(backward_name, [sweeps.seed], list(sweeps.reverse)
                     + [_return(_tuple(sweeps.gradients))], doc_backward)


def vjp_functions(sweeps, forward_name, backward, params, doc_forward):
    """A forward function saving what the (optimized) ``backward`` function
    reads, and that function with those values as parameters."""
    available = {n for s in sweeps.forward for n in stores(s)} | set(params)
    saved = []
    for name in loads(backward):
        if name in available and name not in saved and name != sweeps.seed:
            saved.append(name)
    backward.args.args += [_param(n) for n in saved]
    # back() may run again (another cotangent, a Jacobian's next row): stacks it
    # pops and arrays it writes into are copies, never the saved values themselves.
    consumed = [n for n in saved if n in _mutated(backward, sweeps.imports)]
    if consumed:
        copies = _fresh_copies(sweeps, backward, consumed, saved, params)
        for stmt in copies:
            stmt.pb_sweep, stmt.pb_line = "reverse", None
        backward.body[1:1] = copies
    saved_tuple = gast.Tuple(elts=[make_name(n) for n in saved], ctx=gast.Load())
    # A value saved from inside a branch may not exist on the path taken.
    top_level = {n for s in sweeps.forward if not isinstance(s, (gast.If, gast.For, gast.While))
                 for n in stores(s)} | set(params)
    maybe_unset = [_none(n) for n in saved if n not in top_level]
    forward = _function(forward_name, params, maybe_unset + list(sweeps.forward) + [
        _return(gast.Tuple(elts=[_with_aux(sweeps, make_name(sweeps.output)), saved_tuple],
                           ctx=gast.Load()))],
        doc_forward)
    return forward, backward
