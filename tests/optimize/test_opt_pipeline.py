"""The optimizer's pass list: one pass per module, one signature, one documented order."""
import inspect

import pullback.optimize
from pullback.pipeline import OPTIMIZER


def test_every_pass_lives_in_the_module_of_its_name_and_takes_fn_and_facts():
    for optimizer_pass in OPTIMIZER:
        assert optimizer_pass.__module__ == f"pullback.optimize.{optimizer_pass.__name__}"
        assert list(inspect.signature(optimizer_pass).parameters) == ["fn", "facts"]
        assert optimizer_pass.__name__ in pullback.optimize.__all__


def test_the_package_docstring_lists_the_passes_in_the_pipeline_s_order():
    names = {p.__name__ for p in OPTIMIZER}
    listed = [line.split()[0] for line in pullback.optimize.__doc__.splitlines()
              if line.split() and line.split()[0] in names]
    assert listed == [p.__name__ for p in OPTIMIZER]
    assert len(set(listed)) == 27 and len(listed) == 28      # drop_unread_restores twice


def test_every_pass_module_says_what_it_does_with_an_example():
    for optimizer_pass in OPTIMIZER:
        doc = inspect.getmodule(optimizer_pass).__doc__
        assert doc.startswith(optimizer_pass.__name__ + ":"), optimizer_pass.__name__
        assert "->" in doc, optimizer_pass.__name__
