"""The words a rule declares its result's shape with (``@adjoint(..., shape=...)``).

The shape analysis (analysis/array_shapes.py, analysis/shapes.py) reads the
word, never the function's name; tests/analysis/test_an_rule_shapes.py holds
each rule to its word on the cases of its spec.
"""

# What a rule declares about its result's shape: ``@adjoint(np.sum, shape="reduction")``, or a
# template module's ``SHAPE = "elementwise"`` for all its rules. The shape analysis
# (analysis/shapes.py) asks the rule, never its name. "other" claims nothing.
SHAPES = {
    "elementwise": "the broadcast shape of its operands; a number when every operand is one",
    "scalar": "a number when its arguments are numbers (the math module's functions)",
    "reduction": "a number when axis is None and keepdims is false, else its operand's axes kept or gone",
    "product": "a product of its first two operands as @ and np.dot make it (1-D and 2-D ones: known)",
    "joined": "np.concatenate's: its operands' shape, with their lengths along axis added",
    "hstacked": "np.hstack's: its operands joined along axis 1 (1-D ones end to end)",
    "vstacked": "np.vstack's: its operands joined along axis 0 (1-D ones made rows first)",
    "same": "its first operand's shape (np.roll, np.flip): unknown for a number",
    "padded": "np.pad's: its first operand's shape, each axis longer by its literal pad_width",
    "transposed": "np.transpose's: its operand's axes reversed, or in the order of literal axes",
    "outer": "np.outer's: 2-D, its operands' sizes (known for numbers and 1-D operands)",
    "listed": "np.array's: an array operand's shape, or the nesting of a list or tuple of numbers, or of arrays of one shape",
    "accumulated": "np.cumsum's: its operand's shape along a literal axis, 1-D of its size without one",
    "differenced": "np.diff's: its operand's shape, n shorter (not below 0) along axis",
    "contracted": "np.einsum's: each output letter's length from the operands that carry it (literal subscripts, no ellipsis)",
    "array": "one array (or a number), never a list or tuple; its shape is not known",
    "other": "nothing is known (it may be a list or a tuple of arrays)",
}


def check_shape(shape):
    """``shape`` if it is a word of :data:`SHAPES`, else a TypeError."""
    if shape not in SHAPES:
        raise TypeError(f"shape={shape!r} is not one of {', '.join(map(repr, SHAPES))}")
    return shape
