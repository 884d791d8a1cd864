"""Stage 5b: the stacks (and saved names) for values the reverse sweep reads
after the forward sweep overwrote them, created at the top of the forward sweep;
checkpointed loops then keep snapshots instead of their steps' values (checkpoint.py)."""
import gast

from pullback import runtime
from pullback.code.astutil import walk_statements
from pullback.runtime.declare import runtime_helpers
from pullback.code.annotations import mark
from pullback.code.quote import quote
from pullback.transform.checkpoint import checkpoint_loops
from pullback.transform.stacks import insert_stacks


def save_overwritten_values(sweeps, namer, aliases, params):
    """Stage 5b: stacks for the values the reverse sweep reads after the forward
    sweep overwrote them, created empty at the top of the forward sweep."""
    def runtime_name(name):
        alias = aliases.get(name, name)
        sweeps.imports[alias] = getattr(runtime, name, None) or runtime_helpers()[name]
        return alias

    stacks, overwritten, given_back = insert_stacks(sweeps, namer, runtime_name, params)
    rebound, made_in_reverse = checkpoint_loops(sweeps, namer, runtime_name, stacks,
                                                set(params) | set(overwritten))
    given_back |= rebound
    if sweeps.output in given_back:     # the reverse sweep gives the output its old values back
        sweeps.value_name = namer.fresh(sweeps.output + "_value")
    lines = _push_lines(sweeps.forward)
    preamble = [mark(quote("name = None", name=name), line=None)      # pushed before set
                for name in overwritten]
    preamble += [mark(quote("stack = []", stack=stack), line=lines.get(stack))
                 for stack in stacks.values() if stack not in made_in_reverse]
    sweeps.forward = [mark(stmt, sweep="forward") for stmt in preamble] + sweeps.forward


def _push_lines(stmts):
    """``{stack: user line}`` for the source map: the line of the statement of
    ``stmts`` holding the first push onto each stack (a loop's header when the
    push is in a loop: the stack is created before the loop runs)."""
    lines = {}
    for top in stmts:
        for stmt in walk_statements([top]):
            if isinstance(stmt, gast.Expr) and getattr(stmt, "pb_line", None) is not None:
                match stmt.value:
                    case gast.Call(func=gast.Attribute(attr="append", value=gast.Name(id=stack))):
                        lines.setdefault(stack, getattr(top, "pb_line", None) or stmt.pb_line)
    return lines
