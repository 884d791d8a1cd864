"""Every annotation pullback puts on a gast node, declared in one place.

Passes talk to later passes through these attributes. :func:`clone` (in
``astutil``) copies every one declared here, and :func:`mark` refuses a name
that is not declared, so a new annotation is added here or not at all.
"""

ANNOTATIONS = {
    # on statements
    "pb_line": "the line number of the user's statement this one derives from (the `# grad of:` comments)",
    "pb_sweep": "'forward', 'reverse', 'return', or 'fused' (a loop holding both sweeps, "
                "optimize/fuse_independent_iterations.py): which part of the generated function it belongs to",
    "pb_keep": "never removed by the optimizer (the check that grad's output is a scalar)",
    "pb_pair": "the push (forward) or pop (reverse) statement this one is paired with",
    "pb_counter": "a loop's iteration counter, kept by the forward sweep for the reverse sweep",
    "pb_doubled": "an accumulation that the optimizer already joined with its twin (x * x)",
    "pb_lifted": "a reference to a lifted nested def that was already rewritten",
    "pb_name": "on a lambda: the name it is assigned to, used as its function's name",
    "pb_checkpoint": "on a checkpointed for loop and its range(...): its Checkpoint "
                     "(frontend/checkpoints.py), which transform/checkpoint.py follows",
    # on the call statements of user functions (y, g_saved = g_forward(...))
    "pb_saved": "the name holding what the callee's forward function saved",
    "pb_backward": "the name of the callee's backward function",
    "pb_wrt": "the callee's differentiated parameters",
    "pb_arguments": "the call's arguments bound to the callee's parameters",
}


def mark(node, **values):
    """Set declared annotations on ``node`` (``mark(stmt, sweep="reverse")``
    sets ``pb_sweep``); returns the node."""
    for key, value in values.items():
        attribute = "pb_" + key
        if attribute not in ANNOTATIONS:
            raise KeyError(f"{attribute} is not declared in pullback.code.annotations")
        setattr(node, attribute, value)
    return node


def copy_annotations(source, target):
    """Give ``target`` every annotation ``source`` has; returns ``target``."""
    for attribute in ANNOTATIONS:
        if hasattr(source, attribute):
            setattr(target, attribute, getattr(source, attribute))
    return target
