"""Stage 5b: the stacks (and saved names) for values the reverse sweep reads
after the forward sweep overwrote them, created at the top of the forward sweep."""
from pullback import runtime
from pullback.runtime.declare import runtime_helpers
from pullback.code.annotations import mark
from pullback.code.quote import quote
from pullback.transform.stacks import insert_stacks


def save_overwritten_values(sweeps, namer, aliases, params):
    """Stage 5b: stacks for the values the reverse sweep reads after the forward
    sweep overwrote them, created empty at the top of the forward sweep."""
    def runtime_name(name):
        alias = aliases.get(name, name)
        sweeps.imports[alias] = getattr(runtime, name, None) or runtime_helpers()[name]
        return alias

    stacks, overwritten, given_back = insert_stacks(sweeps, namer, runtime_name, params)
    if sweeps.output in given_back:     # the reverse sweep gives the output its old values back
        sweeps.value_name = namer.fresh(sweeps.output + "_value")
    preamble = [quote("name = None", name=name) for name in overwritten]  # pushed before set
    preamble += [quote("stack = []", stack=stack) for stack in stacks.values()]
    sweeps.forward = [mark(stmt, sweep="forward", line=None) for stmt in preamble] + sweeps.forward
