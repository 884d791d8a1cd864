"""The house rules of src/pullback (issue 12), checked on the source itself.

Rooms of a readable size, layers that import downward only (no stage
imports a later one), and every node annotation declared in one place.
"""
import ast
import re
from pathlib import Path

import pullback
from pullback.code.annotations import ANNOTATIONS

PACKAGE = Path(pullback.__file__).parent
MODULE_LINES = 500
FUNCTION_LINES = 80

# Each layer may import its own and lower layers only (the stages in order).
LAYERS = {
    "errors": 0, "_version": 0,
    "code": 1, "runtime": 1,
    "rules": 2, "rule_shapes": 2, "tangent_rules": 2, "templates": 2,
    "frontend": 3, "analysis": 4, "transform": 5, "optimize": 6, "backend": 7,
    "pipeline": 8,
    "arguments": 9, "outputs": 9, "registration": 9, "trees": 9, "passed_functions": 9,
    "compiling": 9, "call_memo": 9,
    "api": 10, "forward_api": 11, "vjp_api": 11, "checking": 11, "coverage": 11,
    "exporting": 11, "debugging": 11, "stages": 11, "__init__": 12, "cli": 13, "__main__": 13,
}


def modules():
    return sorted(PACKAGE.rglob("*.py"))


def layer_of(dotted):
    """pullback.transform.reverse -> its layer's rank."""
    parts = dotted.split(".")
    return LAYERS[parts[1]] if len(parts) > 1 else LAYERS["__init__"]


def dotted_name(path):
    relative = path.relative_to(PACKAGE.parent).with_suffix("")
    return ".".join(relative.parts)


def test_no_module_is_over_the_limit():
    too_long = {str(p.relative_to(PACKAGE)): n for p in modules()
                if (n := p.read_text().count("\n")) > MODULE_LINES}
    assert not too_long


def test_no_function_is_over_the_limit():
    too_long = []
    for path in modules():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > FUNCTION_LINES:
                    too_long.append((str(path.relative_to(PACKAGE)), node.name, length))
    assert not too_long


def imported_modules(path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module \
                and node.module.split(".")[0] == "pullback":
            yield node.module, node.lineno
            for alias in node.names:        # from pullback import runtime
                if node.module == "pullback":
                    yield f"pullback.{alias.name}", node.lineno
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "pullback":
                    yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom) and node.level:
            raise AssertionError(f"{path}: a relative import (the package uses absolute ones)")


def test_layers_import_downward_only():
    upward = []
    for path in modules():
        name = dotted_name(path)
        if name == "pullback":
            continue
        mine = layer_of(name)
        for target, line in imported_modules(path):
            if target != "pullback" and layer_of(target) > mine:
                upward.append(f"{path.relative_to(PACKAGE)}:{line} imports {target}")
    assert not upward


def test_every_layer_is_ranked():
    tops = {p.relative_to(PACKAGE).parts[0].removesuffix(".py") for p in modules()}
    assert tops <= set(LAYERS)


def test_every_node_annotation_is_declared():
    used = set()
    for path in modules():
        used |= set(re.findall(r"\bpb_[a-z_]+", path.read_text()))
    assert used - set(ANNOTATIONS) == set()
    assert set(ANNOTATIONS) - used == set()     # none declared and unused


def test_the_checks_can_fail(tmp_path):
    """The layer check sees an upward import, and the size checks a long body."""
    fake = tmp_path / "m.py"
    fake.write_text("from pullback.pipeline import derive\n" + "def f():\n" + "    x = 1\n" * 90)
    assert [t for t, _ in imported_modules(fake)] == ["pullback.pipeline"]
    assert layer_of("pullback.pipeline") > layer_of("pullback.transform.reverse")
    node = ast.parse(fake.read_text()).body[1]
    assert node.end_lineno - node.lineno + 1 > FUNCTION_LINES
