"""What the analyses found, handed to the transformers as one object (stages 3-4b -> 5).

``pipeline.transform`` builds a :class:`Facts` from resolve (the operations),
activity and shapes; the reverse transformer (and the transformers to come)
read it instead of a dozen positional parameters.
"""
from dataclasses import dataclass
from typing import Callable


def _no_function(node):
    return None


@dataclass(frozen=True)
class Facts:
    """The analyses' results for one normalized function."""
    operations: dict                    # id(statement) -> its Operation (stage 3)
    active: set                         # names that get adjoints (stage 4)
    wrt: tuple                          # the differentiated parameters' names
    scalars: frozenset = frozenset()    # names known to hold numbers (stage 4b)
    shapes: object = None               # a ShapeFacts: values of one shape (stage 4b)
    flat: frozenset = frozenset()       # arrays and numbers: their gradients add with +
    location: object = None             # where the function is, for refusals
    masked_output: bool = False         # the caller selects from the result (np.where)
    static_argument: Callable = _no_function  # a call argument naming a known function
    request_vjp: Callable = None        # (callee, call node, wrt, ...) -> (forward, backward)
    aux: str = None                     # has_aux=True: the name holding aux (frontend/aux.py)
    generated: bool = False             # the function is a derivative pullback generated
    arrays: dict = None                 # name -> array_shapes.Shape, where known (stage 4c)
