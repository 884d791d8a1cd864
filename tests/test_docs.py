"""Documentation that is generated or promised must be true."""
import re
from pathlib import Path

import numpy as np

import pullback
from pullback.coverage import coverage_markdown, environment

ROOT = Path(__file__).resolve().parent.parent


def test_coverage_doc_is_generated_from_the_rule_table():
    current = (ROOT / "docs" / "coverage.md").read_text()
    generated = coverage_markdown()
    if environment() in current:
        assert current == generated, "docs/coverage.md is stale: run `make coverage`"
    else:
        # Another Python/NumPy than the one the doc was made with: every rule
        # this environment has must still be listed (version-guarded rules
        # may be missing here).
        rows = [line for line in generated.splitlines() if line.startswith("| `")]
        missing = [row for row in rows if row not in current]
        assert not missing, f"docs/coverage.md is stale: run `make coverage` ({missing[:3]})"


# What README.md and docs/*.md print is checked by tests/test_docs_run.py, which runs them.


def test_the_readme_links_every_page():
    readme = (ROOT / "README.md").read_text()
    unlinked = [p.name for p in (ROOT / "docs").glob("*.md") if f"(docs/{p.name})" not in readme]
    assert not unlinked, f"README.md links no {unlinked}"


def test_every_doc_a_message_or_doc_mentions_exists():
    texts = [p.read_text() for p in (ROOT / "src" / "pullback").glob("*.py")]
    texts += [p.read_text() for p in (ROOT / "docs").glob("*.md")] + [(ROOT / "README.md").read_text()]
    for text in texts:
        for doc in re.findall(r"docs/[\w-]+\.md", text):
            assert (ROOT / doc).exists(), doc


def central_jacobian(f, x, eps=1e-6):
    out = np.asarray(f(x))
    jac = np.zeros(out.shape + x.shape)
    for i in np.ndindex(*x.shape):
        step = np.zeros_like(x)
        step[i] = eps
        jac[(...,) + i] = (np.asarray(f(x + step)) - np.asarray(f(x - step))) / (2 * eps)
    return jac


def softmax_like(x):
    e = np.exp(x)
    return e / np.sum(e)


def matrix_map(a, b):
    return np.tanh(a @ b)


def test_jacobian_matches_central_differences():
    x = np.array([0.3, -1.2, 0.5])
    np.testing.assert_allclose(pullback.jacobian(softmax_like)(x), central_jacobian(softmax_like, x),
                               rtol=1e-6, atol=1e-8)


def test_jacobian_of_matrix_valued_function_with_tuple_wrt():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 3)), rng.standard_normal((3, 2))
    ja, jb = pullback.jacobian(matrix_map, wrt=(0, 1))(a, b)
    assert ja.shape == (2, 2, 2, 3) and jb.shape == (2, 2, 3, 2)
    np.testing.assert_allclose(ja, central_jacobian(lambda t: matrix_map(t, b), a), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(jb, central_jacobian(lambda t: matrix_map(a, t), b), rtol=1e-6, atol=1e-8)


def test_jacobian_of_scalar_function_is_the_gradient_shape():
    x = np.array([1.0, 2.0])
    j = pullback.jacobian(softmax_like)(np.float32(1.0) * x.astype(np.float32))
    assert j.dtype == np.float32 and j.shape == (2, 2)


def test_custom_rules_doc_examples_run(tmp_path, monkeypatch):
    """Every python block of docs/custom-rules.md runs (as a real module file,
    since pullback reads source)."""
    import importlib.util
    import sys
    text = (ROOT / "docs" / "custom-rules.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert len(blocks) >= 2
    for k, block in enumerate(blocks):
        path = tmp_path / f"doc_example_{k}.py"
        path.write_text(block)
        spec = importlib.util.spec_from_file_location(f"doc_example_{k}", path)
        module = importlib.util.module_from_spec(spec)
        monkeypatch.setitem(sys.modules, spec.name, module)
        spec.loader.exec_module(module)
