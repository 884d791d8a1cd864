"""Every page of the documentation runs: README.md and docs/*.md, block by block.

The rules a page follows are in tests/docs_runner.py (python blocks run in one
namespace per page, a ```text block right after one is its output, console blocks
run in a shell, pdb sessions are replayed); each page gets its own working
directory and its own pullback cache.
"""
import sys
from pathlib import Path

import pytest

from docs_runner import DocFailure, dedent, parse_blocks, run_page, same_output, with_typed_commands

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md"] + sorted((ROOT / "docs").glob("*.md"))


@pytest.fixture
def page_dir(tmp_path, monkeypatch):
    """A working directory on sys.path, a cache of its own, and sys.modules as before."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.setenv("PULLBACK_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.chdir(work)
    monkeypatch.syspath_prepend(str(work))
    monkeypatch.setattr(sys, "dont_write_bytecode", True)     # a rewritten file is read again
    before = set(sys.modules)
    yield work
    for name in set(sys.modules) - before:
        module = sys.modules[name]
        if name.startswith("doc_") or str(getattr(module, "__file__", "") or "").startswith(str(tmp_path)):
            del sys.modules[name]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_page_runs_and_shows_what_it_prints(page, page_dir):
    run_page(page, page_dir)


def test_every_page_is_found():
    names = {p.name for p in PAGES}
    assert {"README.md", "tutorial.md", "how-it-works.md", "limitations.md"} <= names


def write_page(tmp_path, text):
    page = tmp_path / "page.md"
    page.write_text(dedent(text))
    return page


def test_a_wrong_output_is_reported_with_page_block_and_line(tmp_path, page_dir):
    page = write_page(tmp_path, """
        # A page

        ```python
        def f(x):
            return 2 * x
        ```

        ```python
        print(f(3))
        ```
        ```text
        7
        ```
        """)
    with pytest.raises(DocFailure) as failure:
        run_page(page, page_dir)
    message = str(failure.value)
    assert "page.md, block 3 (text), line 12" in message
    assert "--- expected ---\n7\n--- got ---\n6" in message


def test_a_right_output_passes_with_ellipsis_and_shared_namespace(tmp_path, page_dir):
    page = write_page(tmp_path, """
        ```python file=helpers.py
        def twice(x):
            return 2 * x
        ```
        ```python
        from helpers import twice
        value = twice(21)
        ```
        ```python
        print("start", value)
        print("a path", __file__)
        print("end")
        ```
        ```text
        start 42
        ...
        end
        ```
        ```console
        $ python -c "import helpers; print(helpers.twice(5))"
        10
        ```
        """)
    assert len(run_page(page, page_dir)) == 5


def test_a_console_block_is_checked(tmp_path, page_dir):
    page = write_page(tmp_path, """
        ```console
        $ echo hello
        goodbye
        ```
        """)
    with pytest.raises(DocFailure, match=r"block 1 \(console\), line 2: `echo hello`"):
        run_page(page, page_dir)


def test_an_exception_names_the_block(tmp_path, page_dir):
    page = write_page(tmp_path, """
        ```python
        1 / 0
        ```
        """)
    with pytest.raises(DocFailure, match=r"(?s)block 1 \(python\).*ZeroDivisionError"):
        run_page(page, page_dir)


@pytest.mark.parametrize("fence", ["```", "```py", "```bash"])
def test_a_fence_without_an_allowed_language_is_refused(fence):
    with pytest.raises(DocFailure, match="line 2"):
        parse_blocks(f"text\n{fence}\nx = 1\n```\n", "page.md")


def test_sh_blocks_hold_set_up_commands_only():
    parse_blocks("```sh\nmake demo    # comment\npip install .\ncd x\n```\n", "page.md")
    with pytest.raises(DocFailure, match="rm -rf"):
        parse_blocks("```sh\nmake test\nrm -rf /\n```\n", "page.md")


def test_pdb_prompts_get_the_commands_typed():
    got = with_typed_commands("> f.py(2)f()\n(Pdb) 3\n(Pdb) ", ["p x", "c"])
    assert got == "> f.py(2)f()\n(Pdb) p x\n3\n(Pdb) c\n"
    assert same_output("> f.py(2)f()\n(Pdb) p x\n3\n(Pdb) c\n", got)
    assert not same_output("(Pdb) p x\n4\n", "(Pdb) p x\n3\n")


def test_an_ellipsis_line_first_or_last_may_match_nothing():
    assert same_output("...\nb\n...\n", "b\n") and same_output("...\nb\n...\n", "a\nb\nc\n")
    assert same_output("a ...\n", "a b\n") and not same_output("a\n...\n", "b\n")
    assert not same_output("a\n...\nc\n", "a\nc\n")      # inside, as doctest: at least a line end


def test_a_pdb_session_is_replayed(tmp_path, page_dir):
    page = write_page(tmp_path, r"""
        ```console
        $ printf 'x = 3\nprint("done", x)\n' > script.py
        $ python -m pdb script.py
        > .../script.py(1)<module>()
        -> x = 3
        (Pdb) n
        > .../script.py(2)<module>()
        -> print("done", x)
        (Pdb) p x + 1
        4
        (Pdb) c
        done 3
        ...
        ```
        """)
    run_page(page, page_dir)
