"""The pipeline, in order: from a user's function to a cached derivative.

    1 parse        frontend/parsing.py     the def of the code that runs, as gast
    2 normalize    frontend/*              refusals, desugared control flow, aliasing, ANF, SSA
    3 resolve      analysis/resolve.py     each operation bound to a rule of the table
    4 analyse      analysis/*              activity, numbers, shapes, array shapes: one Facts object
    5 reverse      transform/reverse.py    the reverse sweep from the adjoint templates
    5b save        transform/saving.py     stacks for values the forward sweep overwrites
                                           (checkpointed loops: snapshots, transform/checkpoint.py)
    5f forward     transform/forward.py    forward mode instead: tangents from the tangent templates
    6 assemble     transform/assemble.py   grad / value_and_grad / vjp functions (assemble_forward: jvp)
    7 optimize     optimize/<pass>.py      OPTIMIZER below, in order (FORWARD_OPTIMIZER for jvp)
    8b numba       backend/numba_variant.py  compile="numba": what Numba needs, @numba.njit
    8 emit         backend/emit.py         comments, imports, source text
    9 write        backend/cache.py        atomic, owner-only, HMAC-stamped
   10 import       backend/cache.py
   11 link         backend/link.py         the user's globals, checked at every call
   12 memoize      backend/cache.py

Each stage is one line of :func:`derive`, :func:`generate`, :func:`transform`
or :func:`transform_forward`; this file only wires them together. No stage imports a
later one.
"""
import inspect

import gast

from pullback.errors import UnsupportedSyntax, refuse
from pullback.code.naming import Namer
from pullback.frontend.parsing import (assigned_names, function_name, parameter_names,
                                       parse_function, raw_source)
from pullback.frontend.lift import lift_nested_functions
from pullback.frontend.source import unchecked_source
from pullback.frontend.normalize import (check_supported, desugar_augassign, is_static_reference,
                                         ssa_rename, to_anf)
from pullback.frontend.desugar_loops import desugar_comprehensions, desugar_for, desugar_while
from pullback.frontend.jumps import tailify_jumps
from pullback.frontend.desugar_branches import desugar_conditionals, desugar_tuple_targets
from pullback.frontend.desugar_pops import desugar_pops
from pullback.frontend.starred import expand_starred_calls
from pullback.frontend.desugar_python import desugar_python
from pullback.frontend.own_arguments import own_written_arguments
from pullback.frontend.containers import read_dicts
from pullback.frontend.index_tricks import spell_out_index_tricks
from pullback.frontend.aux import split_aux, split_aux_returns
from pullback.frontend.checkpoints import mark_checkpointed_loops
from pullback.frontend.foreign_arrays import refuse_writes_without_views
from pullback.runtime.arrays import LIBRARIES, NO_VIEWS, without_fallbacks
from pullback.runtime.containers import auxiliary_part
from pullback.frontend.aliasing import check_aliasing
from pullback.analysis.static_names import bind_static_names, module_constants
from pullback.analysis.resolve import resolve_operations
from pullback.analysis.operation import static_value
from pullback.analysis.activity import active_names, returned_names
from pullback.analysis.shape_classes import shape_representatives
from pullback.analysis.shapes import flat_names, scalars_and_shapes
from pullback.analysis.facts import Facts
from pullback.analysis.in_place import settle_in_place_checks
from pullback.analysis.array_shapes import Shape, parameter_shapes
from pullback.transform.reverse import reverse_sweeps
from pullback.transform.saving import save_overwritten_values
from pullback.transform.assemble import backward_function, grad_function, vjp_functions
from pullback.transform.forward import forward_sweep
from pullback.transform.assemble_forward import jvp_function
from pullback.optimize import (
    OptimizerFacts, accumulate_in_place, any_array_type, calls_shadowed, combine_accumulations,
    divide_after_sums, drop_unread_restores, eliminate_dead_code, eliminate_dead_stores,
    factor_shared_factors, fold_constants, forward_substitute, fuse_independent_iterations,
    fuse_product_sums, inline_temporaries, merge_stacks, own_in_place_buffers, propagate_copies,
    propagate_negations, read_array_attributes, recompute_cheap_values, resugar_while,
    reuse_dead_arrays, scale_smaller_factors, share_repeated_values, share_shape_references,
    sink_pops, skip_zero_first_step, write_indexes_in_place, write_into_parts)
from pullback.backend.emit import annotate, emit_module
from pullback.backend.numba_variant import numba_variant
from pullback.backend import cache
from pullback.backend.link import bind
from pullback.backend.namespace import generated_globals, module_namespace, template_aliases

MODES = ("grad", "value_and_grad", "vjp")     # each may end in "+aux": has_aux=True
FORWARD_MODES = ("jvp", "jvp_batched")


def options_of(mode, wrt, scalars=(), containers=(), varargs=(), arrays=(), libraries=(),
               checkpoint=None, compiler=None):
    """What a derivative is generated for, and cached under (the parts that are
    empty left out, so a key without arrays is what it was before them)."""
    return (mode, tuple(wrt), tuple(scalars)) + (
        (tuple(containers), tuple(varargs)) if containers or varargs or arrays else ()) + (
        (tuple(arrays),) if arrays else ()) + (
        (("libraries", tuple(libraries)),) if libraries else ()) + (
        (("checkpoint", checkpoint),) if checkpoint is not None else ()) + (
        (("compile", compiler),) if compiler is not None else ())


def derive(function, wrt, mode, scalars=(), containers=(), varargs=(), arrays=(), libraries=(),
           checkpoint=None, compiler=None):
    """Return the :class:`Compiled` derivative of ``function`` (cached).

    ``scalars`` are the indices of the parameters the derivative may assume
    hold numbers (the kinds of the arguments it is called with, see
    :func:`scalar_arguments`): it is generated for them in particular;
    ``containers``, those of the differentiated ones holding dicts, lists,
    tuples or dataclasses (any other differentiated one holds an array or a number);
    ``varargs``, how many items ``*args`` holds and which keys ``**kwargs`` has
    (``((name, count or keys), ...)``, see frontend/starred.py); ``arrays``,
    ``((index, dims, dtype), ...)`` for the parameters holding plain ndarrays:
    their number of dimensions, which have length 1, their dtype
    (analysis/array_shapes.py), so arrays differing in lengths only share one;
    ``libraries``, ``((index, library), ...)`` for the parameters holding Dask or
    CuPy arrays (runtime/arrays.py): the general code, written without in-place
    writes, whose helpers keep each array's type;
    ``checkpoint``: True or a number of snapshots, to checkpoint every outermost
    ``for`` over ``range`` (frontend/checkpoints.py), None for the marked loops only;
    ``compiler``: "numba" for the variant Numba compiles (backend/numba_variant.py).
    """
    options = options_of(mode, wrt, scalars, containers, varargs, arrays, libraries, checkpoint,
                         compiler)
    compiled = cache.memory_get(function, options)
    if compiled is not None and compiled.refresh():
        return compiled
    with cache.transform_lock:
        compiled = cache.memory_get(function, options)
        if compiled is not None and compiled.refresh():
            return compiled
        # What it depends on. The text is checked to compile to the code that
        # runs on a miss only: a hit's key holds a text checked when it was stored.
        source, text = unchecked_source(function), None
        if source is not None:
            key = cache.disk_key(function, source, options)
            text = cache.read_valid(cache.module_path(key, function))           # disk cache
        checked = source if text is not None else raw_source(function)
        if checked != source:
            key = cache.disk_key(function, checked, options)
            text = cache.read_valid(cache.module_path(key, function))
        path = cache.module_path(key, function)
        if text is None:
            text = generate(function, wrt, mode, scalars, containers, varargs, arrays,  # 1-8
                            libraries, checkpoint, compiler)
            path = cache.store_module(path, text)                       # 9 write
        module = cache.import_module_file(path, key, text)              # 10 import
        compiled = bind(function, module, path, mode.removesuffix("+aux"))   # 11 link globals
        if "dask" in {library for _, library in libraries}:     # no silent compute into NumPy
            compiled.entry = without_fallbacks(compiled.entry)
            compiled.backward = compiled.backward and without_fallbacks(compiled.backward)
        compiled.text = text                                            # what source() shows
        cache.memory_put(function, options, compiled)                   # 12 memoize
    return compiled


class Program:
    """The functions of one generated module: the derivative asked for, and a
    forward/backward pair for every Python function it calls (recursively)."""

    def __init__(self, root, libraries=()):
        self.root = root
        self.libraries = frozenset(library for _, library in libraries)    # Dask, CuPy arrays
        self.callees = []           # functions of the callees' derivatives, in order
        self.imports = {}
        self.user_globals = []
        self.links = {}             # generated function -> path of names from root to its source
        self.vjp_names = {}         # (function, wrt) -> (forward name, backward name)
        self.taken = set()
        self.location = None        # where the root function is (for the header)

    def name(self, base):
        name, i = base, 1
        while name in self.taken:
            name, i = f"{base}_{i}", i + 1
        self.taken.add(name)
        return name

    def request_vjp(self, path, statics):
        """A callback for the reverse stage of the function reached by ``path``.

        ``arguments`` maps the callee's parameters that receive a known function
        (``apply(np.sin, x)``) to that function and its path: the callee is
        differentiated for that function in particular.
        """
        def request(callee, func_node, wrt, arguments, masked=False, kinds=((), ())):
            general = (callee, wrt, tuple(sorted((p, id(v)) for p, (v, _) in arguments.items())),
                       masked)
            key = general + (kinds,)
            if key not in self.vjp_names and any(k[:4] == general for k in self.vjp_names):
                key, kinds = general + (((), ()),), ((), ())   # one specialization per callee
                # and the general one: recursion cannot make new kinds without end
            if key not in self.vjp_names:
                base = function_name(callee)
                base = _chain(func_node)[-1] if base == "lambda" else base
                base += "_masked" if masked else ""
                names = (self.name(base + "_forward"), self.name(base + "_backward"))
                self.vjp_names[key] = names
                self.callees += transform(callee, wrt, "vjp", self, self.path_of(func_node, path, statics),
                                          names, arguments, scalars=kinds[0],
                                          masked_output=masked, arrays=kinds[1])
            return self.vjp_names[key]
        return request

    def request_jvp(self, path, statics, batched=False):
        """A callback for the forward stage of the function reached by ``path``:
        the name of a callee's jvp function for the arguments ``wrt``."""
        def request(callee, func_node, wrt, arguments):
            key = ("jvp", callee, wrt, tuple(sorted((p, id(v)) for p, (v, _) in arguments.items())))
            if key not in self.vjp_names:
                base = function_name(callee)
                base = _chain(func_node)[-1] if base == "lambda" else base
                self.vjp_names[key] = name = self.name(base + "_jvp")
                statics_of_callee = dict(arguments)
                self.callees += transform_forward(callee, wrt, batched, self,
                                                  self.path_of(func_node, path, statics), name,
                                                  statics_of_callee)
            return self.vjp_names[key]
        return request

    @staticmethod
    def path_of(node, path, statics):
        """How to reach the function a call site names, from the root function."""
        if isinstance(node, gast.Name) and node.id in statics:
            return statics[node.id][1]
        return path + (_chain(node),)


def _chain(node):
    """``helpers.g`` -> ("helpers", "g"): how a call site names its callee."""
    parts = []
    while isinstance(node, gast.Attribute):
        parts.append(node.attr)
        node = node.value
    return (node.id,) + tuple(reversed(parts))


def generate(function, wrt, mode, scalars=(), containers=(), varargs=(), arrays=(),
             libraries=(), checkpoint=None, compiler=None):
    """Stages 1-8: the text of the module that differentiates ``function``."""
    program = Program(function, libraries)
    kinds = dict(scalars=scalars, containers=containers, varargs=varargs, arrays=arrays)
    if mode in FORWARD_MODES:
        root = transform_forward(function, wrt, mode == "jvp_batched", program, (), **kinds)
    else:
        root = transform(function, wrt, mode, program, (), checkpoint=checkpoint, **kinds)
    functions = root + program.callees
    location = program.location
    header = [f"Generated by pullback from {location.filename}:{location.first_line} "
              f"({function_name(function)}).",
              "The cache regenerates this file when the source changes; "
              "copy it elsewhere to edit it."]
    params = list(inspect.signature(function).parameters)
    if scalars:
        header.append(f"Specialized for numbers (not arrays) as {', '.join(params[i] for i in scalars)}.")
    if containers:
        header.append(f"Specialized for containers (dicts, lists, tuples, dataclasses) as "
                      f"{', '.join(params[i] for i in containers)}.")
    for name, shape in varargs:
        header.append(f"Specialized for {len(shape) if isinstance(shape, tuple) else shape} "
                      f"item(s) in {name}" + (f" ({', '.join(shape)})." if isinstance(shape, tuple)
                                               else "."))
    if arrays:      # "n": a length other than 1 (any: the lengths do not matter)
        header += _wrapped("Specialized for arrays: ", [
            f"{params[i]} ({Shape(tuple(dims), dtype).describe()})" for i, dims, dtype in arrays
            if i < len(params)])
    if libraries:
        header += _wrapped("For arrays of libraries other than NumPy (written out of place; "
                           "the runtime helpers keep each array's type): ", [
                               f"{params[i]} ({LIBRARIES[library]})" for i, library in libraries
                               if i < len(params)])
    if checkpoint is not None:
        header.append("Checkpointed: every outermost for loop over range keeps "
                      + ("about sqrt(n) snapshots" if checkpoint is True
                         else f"at most {checkpoint} snapshots") + " (docs/checkpointing.md).")
    if program.user_globals:
        header.append(f"Reads {', '.join(sorted(set(program.user_globals)))} from the user's globals.")
    imports = program.imports
    if compiler is not None:    # 8b the variant Numba compiles
        functions, imports = numba_variant(functions, imports, program.user_globals, location)
        header.append("Compiled by Numba (nopython mode); its machine code is cached beside "
                      "this file (docs/compiling.md).")
    return emit_module(functions, imports, header, program.links)           # 8 emit


def _wrapped(start, items, width=88):
    """``start`` and ``items`` joined by commas, ending in a period, over lines
    of at most ``width`` characters broken between items (the next indented)."""
    lines, line = [], start
    for k, item in enumerate(items):
        item += "." if k == len(items) - 1 else ","
        if line.strip() and len(line) + len(item) > width:
            lines.append(line.rstrip())
            line = "    "
        line += item + " "
    return lines + [line.rstrip()]


def transform(function, wrt, mode, program, path, names=None, statics=None, scalars=(),
              masked_output=False, containers=(), varargs=(), arrays=(), checkpoint=None):
    """Stages 1-7 for one user function; ``wrt`` indexes all its parameters.
    ``masked_output``: the caller selects from its result (np.where)."""
    mode, aux = mode.removesuffix("+aux"), mode.endswith("+aux")
    parsed, tree, facts, namer, aliases, params = analyse(                # 1-4
        function, wrt, program, path, statics, scalars, masked_output, program.request_vjp,
        containers=containers, aux=aux, varargs=varargs, arrays=arrays, checkpoint=checkpoint)
    sweeps = reverse_sweeps(tree, facts, namer, aliases)                # 5 reverse
    sweeps.aux = facts.aux
    save_overwritten_values(sweeps, namer, aliases, params)               # 5b stacks
    functions = assemble(sweeps, parsed, params, list(facts.wrt), mode, aliases, names, program)
    return finish(functions, parsed, sweeps.imports, program, path)


def transform_forward(function, wrt, batched, program, path, name=None, statics=None, scalars=(),
                      containers=(), varargs=(), arrays=()):
    """Stages 1-7 in forward mode: the jvp function of one user function."""
    request = lambda path, statics: program.request_jvp(path, statics, batched)     # noqa: E731
    parsed, tree, facts, namer, aliases, params = analyse(                # 1-4
        function, wrt, program, path, statics, scalars, False, request, forward=True,
        containers=containers, varargs=varargs, arrays=arrays)
    body, imports, directions = forward_sweep(tree, facts, namer, aliases, batched,   # 5 forward
                                              facts.request_vjp)
    fn = jvp_function(parsed, params, list(facts.wrt), body, namer, directions, batched,
                      name or program.name(f"{parsed.name}_jvp"), imports, aliases)   # 6
    fn = optimize_forward(fn, aliases)                                     # 7
    return finish([fn], parsed, imports, program, path)


def analyse(function, wrt, program, path, statics, scalars, masked_output, request,
            forward=False, containers=(), aux=False, varargs=(), arrays=(), checkpoint=None):
    """Stages 1-4: ``(parsed, normalized tree, Facts, namer, aliases, parameter names)``;
    ``request(path, statics)`` makes the callback that names a callee's derivative."""
    parsed = parse_function(function)                                   # 1 parse
    if not path:
        program.location = parsed.location
    statics = dict(statics or {})
    parsed.tree = expand_starred_calls(parsed.tree, parsed, varargs)   # g(a, *saved), g(*args)
    parsed.tree = desugar_python(parsed.tree, parsed)           # map, sorted(key=), with, ...
    parsed.tree = own_written_arguments(parsed.tree, parsed, not path)   # x[0] = ... on a parameter
    refuse_writes_without_views(parsed, program.libraries & NO_VIEWS)   # x[0] = ... on Dask arrays
    parsed.tree = read_dicts(parsed.tree, parsed)               # d.items(), dict(...), {k: v for ...}
    parsed.tree = spell_out_index_tricks(parsed.tree, parsed)   # np.r_[x, 0:3]
    check_supported(parsed.tree, parsed.location)
    for name, lifted in lift_nested_functions(parsed, parsed.location).items():
        statics[name] = (lifted, path)          # nested defs: functions of their own
    for name, value in parsed.statics.items():  # a lifted function's siblings
        statics.setdefault(name, (value, path))
    parsed.statics = {name: value for name, (value, _) in statics.items()}
    parsed.local_names = parsed.local_names - set(statics)
    if not any(isinstance(n, gast.Return) and n.value is not None for n in gast.walk(parsed.tree)):
        raise refuse(UnsupportedSyntax, f"{parsed.name} returns no value to differentiate",
                     parsed.tree, parsed.location, "Return the value whose derivative you want.")
    aux_name = None
    if aux:                 # has_aux=True: f returns (loss, aux); only loss is differentiated
        parsed.tree, aux_name = split_aux_returns(parsed.tree, parsed)
    bind_static_names(parsed, wrt)  # xp=np, m = np: read as np (a parameter gets a guard)
    # for t in pullback.checkpoint(range(n)) (or grad(f, checkpoint=...)): snapshots, not stacks
    mark_checkpointed_loops(parsed, "marked" if checkpoint is None else "outermost",
                            None if checkpoint in (None, True) else checkpoint)
    namer = Namer.for_tree(parsed.tree, reserved=set(generated_globals()) | program.taken)
    generated = getattr(function, "__pullback_generated__", False)
    tree = normalize(parsed, namer, keep_pops=forward, later_reads=not (forward and generated),
                     checked_in_place=not generated)
    if aux and aux_name is None:    # has_aux=True, a return not written as a pair
        tree, aux_name = split_aux(tree, namer, parsed.location)
        parsed.statics.setdefault("auxiliary_part", auxiliary_part)
    operations = resolve_operations(tree, parsed)                       # 3 resolve rules
    outputs = returned_names(tree)
    params = parameter_names(tree)
    wrt_names = [params[i] for i in wrt]
    active = active_names(tree, operations, wrt_names, outputs)         # 4 activity
    # 4b numbers and 4c arrays' dimensions and dtypes, each feeding the other (from the
    # kinds of the arguments: the call's for the root, the call site's for a callee)
    known_scalars, arrays_known = scalars_and_shapes(
        tree, operations, {params[i] for i in scalars},
        parameter_shapes(params, arrays), module_constants(tree, parsed))
    settle_in_place_checks(tree, operations, known_scalars, arrays_known)   # 4d x += e
    same_shapes = shape_representatives(tree, operations, known_scalars, arrays_known)
    # the differentiated arguments of the function the user called are numbers or arrays
    # unless the call passed containers (arguments.py checks, see derive); forward mode
    # assumes it of its callees' too: their tangents never are lists
    flat = flat_names(tree, operations, known_scalars | (       # and a known shape: an array
        set(wrt_names) - {params[i] for i in containers} if forward or not path else set())) | set(arrays_known)
    aliases = template_aliases(parsed, namer)

    def static_argument(node):
        """A call argument that names a known function: (function, path) or None."""
        if not is_static_reference(node, parsed.local_names):
            return None
        try:
            value = static_value(node, parsed)
        except (NameError, AttributeError):
            return None
        return (value, program.path_of(node, path, statics)) if callable(value) else None

    facts = Facts(operations, active, tuple(wrt_names), known_scalars, same_shapes,
                  flat, parsed.location, masked_output, static_argument,
                  request(path, statics), aux_name, generated, arrays=arrays_known)
    return parsed, tree, facts, namer, aliases, params


def finish(functions, parsed, imports, program, path):
    """Comments from the user's source; the module's imports and globals recorded."""
    functions = [annotate(fn, parsed.source.splitlines(), parsed.location) for fn in functions]
    imports, user_globals = module_namespace(functions, imports, parsed)
    program.imports.update(imports)
    program.user_globals += user_globals
    for fn in functions:
        program.links[fn.name] = path
    return functions


def normalize(parsed, namer, keep_pops=False, later_reads=True, checked_in_place=True):
    """Stage 2 in order: the control-flow desugarings, then one operation per statement.
    ``keep_pops``: forward mode differentiates ``items.pop()`` as it is;
    ``later_reads``: see check_aliasing; ``checked_in_place``: ``x += e`` checks
    that an array keeps its shape (generated code adds gradients of one shape)."""
    tree, local = parsed.tree, parsed.local_names
    tree = desugar_comprehensions(tree, namer, parsed.location)
    tree = desugar_for(tree, namer, local)
    tree = desugar_while(tree, namer)
    tree = tailify_jumps(tree, namer)
    tree = desugar_conditionals(tree, namer)
    tree = desugar_tuple_targets(tree, namer)
    if not keep_pops:
        tree = desugar_pops(tree, local)
    tree = check_aliasing(tree, parsed.location, parsed, later_reads)
    tree = desugar_augassign(tree, parsed if checked_in_place else None)
    local = frozenset(assigned_names(tree))
    return ssa_rename(to_anf(tree, namer, local), namer)


def assemble(sweeps, parsed, params, wrt_names, mode, aliases, names, program):
    """Stages 6-7: the generated functions, each run through the optimizer."""
    f = parsed.name
    where = f"{parsed.location.filename}:{parsed.location.first_line}"
    wrt_text = ", ".join(wrt_names)
    grad_name = f"d{f}_" + "_".join("d" + w for w in wrt_names)
    if mode == "vjp":
        names = names or (program.name(f"{f}_forward"), program.name(f"{f}_backward"))
        backward = backward_function(sweeps, names[1], f"Backward sweep of {f} ({where}): "
                                     f"vector-Jacobian product w.r.t. {wrt_text}.")
        backward = optimize(backward, sweeps.named, sweeps.shapes,       # 7 (what it reads decides
                            sweeps.adjoints, not program.libraries, shadowed=aliases)
        forward, backward = vjp_functions(                                 #    what the forward saves)
            sweeps, names[0], backward, params,
            f"Forward sweep of {f} ({where}): its value and what the backward sweep reads.")
        return [optimize(forward, in_place=not program.libraries, shadowed=aliases), backward]
    with_value = mode == "value_and_grad"
    name = program.name(f"value_and_{grad_name}" if with_value else grad_name)
    doc = (f"{'Value and gradient' if with_value else 'Gradient'} of {f} ({where}) "
           f"with respect to {wrt_text}.")
    fn = grad_function(sweeps, name, params, wrt_names, with_value, doc, sweeps.imports,
                       aliases.get("scalar_seed", "scalar_seed"))
    return [optimize(fn, sweeps.named, sweeps.shapes, sweeps.adjoints, not program.libraries,
                     shadowed=aliases)]


# Stage 7, in order: each pass is ``pass(fn, facts)``, in pullback/optimize/<its name>.py.
OPTIMIZER = [
    fold_constants, propagate_copies, share_repeated_values, forward_substitute,
    combine_accumulations, share_shape_references, fuse_product_sums, drop_unread_restores,   # with shape facts only
    sink_pops, inline_temporaries, merge_stacks,
    eliminate_dead_stores, eliminate_dead_code, fuse_independent_iterations, recompute_cheap_values,
    accumulate_in_place,
    propagate_negations, factor_shared_factors, scale_smaller_factors, read_array_attributes,
    reuse_dead_arrays, divide_after_sums, resugar_while, skip_zero_first_step,
    own_in_place_buffers,                                               # it undoes what is unsafe
    write_into_parts,                                                   # and what it undid needlessly
    write_indexes_in_place, drop_unread_restores,                      # a shape's restore it left
]


# Stage 7 for arrays of other libraries (runtime/arrays.py): a Dask array has no writes in
# place, and NumPy's cannot take a Dask or CuPy gradient into its memory.
OUT_OF_PLACE = [p for p in OPTIMIZER
                if p not in (accumulate_in_place, reuse_dead_arrays, write_into_parts,
                              write_indexes_in_place)] + [
    any_array_type]


# Stage 7 of forward mode: the passes that hold for one sweep computing values and tangents.
FORWARD_OPTIMIZER = [fold_constants, propagate_copies, inline_temporaries, eliminate_dead_stores,
                     eliminate_dead_code]


def optimize_forward(fn, shadowed=None):
    """Stage 7 on a jvp function: FORWARD_OPTIMIZER, in order."""
    return optimize(fn, passes=FORWARD_OPTIMIZER, shadowed=shadowed)


def optimize(fn, named=frozenset(), shapes=None, adjoints=None, in_place=True, passes=None,
             shadowed=None):
    """Stage 7 on one function: every pass of OPTIMIZER (or ``passes``), in order, on its body
    without the docstring; ``named`` adjoints (of the user's variables) keep their own lines,
    ``shapes`` (a ``ShapeFacts``, kept as ``fn.value_shapes`` for backend/numba_loops.py) says
    which values have one shape. Where ``fn`` calls a name the user's code gives another meaning
    (``shadowed``: ``np`` written ``np_pb``), no pass runs: they know names by their spelling."""
    shadowed = {name for name, alias in (shadowed or {}).items() if alias != name}
    if shadowed and calls_shadowed(fn, shadowed):
        return fn
    doc, fn.body = fn.body[0], fn.body[1:]
    facts = OptimizerFacts(named, shapes, adjoints, shadowed)
    for optimizer_pass in passes or (OPTIMIZER if in_place else OUT_OF_PLACE):
        fn = optimizer_pass(fn, facts)
    fn.body, fn.value_shapes = [doc] + fn.body, (getattr(shapes, "arrays", None) or {}, adjoints or {})
    return fn
