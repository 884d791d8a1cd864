"""Docs that run: the fenced blocks of README.md and docs/*.md, executed and checked.

A page runs like a notebook (the rules are docs/ conventions, common to every page):
- ```python: executed; the page's python blocks share one namespace, a module
  registered as ``doc_<page>``; each block is compiled from a real file on disk so
  pullback can read the source of the functions it defines.
- ```python file=NAME.py: written to NAME.py in the page's working directory (which
  is on sys.path) and imported as module NAME (imported again if the page rewrites it).
- ```text right after a python block (only blank lines between): that block's stdout.
  Elsewhere a ```text block is a display and is not run.
- ```console: lines starting with ``$ `` run in bash in the page's working directory
  (``python`` is the test's interpreter); the lines after one are its output (stdout and
  stderr). In that output, ``(Pdb) CMD`` is a pdb prompt and the command typed: the
  runner feeds the commands to the process's stdin, in order.
- ```sh: set-up commands shown, not run (only make, pip install, git clone, cd).
Output is compared as doctest does with ELLIPSIS (``...`` matches any text, also
several lines); trailing whitespace is ignored. Every fence names its language.
"""
import contextlib
import doctest
import importlib
import io
import os
import re
import subprocess
import sys
import textwrap
import traceback
from dataclasses import dataclass
from pathlib import Path

LANGUAGES = ("python", "console", "text", "sh")
SH_COMMANDS = ("make", "pip install", "git clone", "cd")
FENCE = re.compile(r"^\s*```(.*)$")
COMMAND_TIMEOUT = 120


class DocFailure(AssertionError):
    """A block of a page failed: the message names the page, the block and its line."""


@dataclass
class Block:
    number: int         # 1-based, in the order of the page
    line: int           # line of the opening fence, 1-based
    language: str
    options: dict       # python file=model.py -> {"file": "model.py"}
    text: str
    gap: str            # the page's text between the previous block and this one
    page: str

    def where(self, offset=0):
        return f"{self.page}, block {self.number} ({self.language}), line {self.line + 1 + offset}"


def parse_blocks(text, page):
    """The fenced blocks of a page, checked: every fence names an allowed language."""
    blocks, lines, i, last_end = [], text.splitlines(), 0, 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        info = match.group(1).split()
        if not info:
            raise DocFailure(f"{page}, line {i + 1}: a fence without a language "
                             f"(use one of {', '.join(LANGUAGES)})")
        language, options = info[0], dict(word.split("=", 1) for word in info[1:] if "=" in word)
        if language not in LANGUAGES or len(options) != len(info) - 1 or set(options) - {"file"}:
            raise DocFailure(f"{page}, line {i + 1}: fence ```{match.group(1)} is not one of "
                             f"{', '.join(LANGUAGES)} (python may take file=NAME.py)")
        end = i + 1
        while end < len(lines) and not lines[end].strip().startswith("```"):
            end += 1
        if end == len(lines):
            raise DocFailure(f"{page}, line {i + 1}: the block is never closed")
        if lines[end].strip() != "```":
            raise DocFailure(f"{page}, line {end + 1}: a closing fence takes no language")
        gap = "\n".join(lines[last_end:i])
        body = "\n".join(lines[i + 1:end]) + "\n" if end > i + 1 else ""
        blocks.append(Block(len(blocks) + 1, i + 1, language, options, body, gap, page))
        i = last_end = end + 1
    for block in blocks:
        if block.language == "sh":
            check_sh(block)
    return blocks


def check_sh(block):
    for k, line in enumerate(block.text.splitlines()):
        command = line.split("#", 1)[0].strip()
        if command and not any(command == c or command.startswith(c + " ") for c in SH_COMMANDS):
            raise DocFailure(f"{block.where(k)}: only {', '.join(SH_COMMANDS)} may appear in a "
                             f"```sh block (it is shown, not run): {line.strip()!r}")


def same_output(want, got):
    """doctest's comparison with ELLIPSIS, trailing whitespace ignored; a first or
    last line that is only ``...`` also matches no line at all."""
    def clean(s):
        return "\n".join(line.rstrip() for line in s.rstrip().splitlines()) + "\n"
    want, got = clean(want), clean(got)
    got = ("\n" if want.startswith("...\n") else "") + got + ("\n" if want.endswith("\n...\n") else "")
    return doctest.OutputChecker().check_output(want, got, doctest.ELLIPSIS)


def mismatch(where, want, got):
    return DocFailure(f"{where}: the output differs.\n--- expected ---\n{want.rstrip()}\n"
                      f"--- got ---\n{got.rstrip()}\n---")


def page_module_name(page):
    stem = Path(page).stem.lower()
    return "doc_" + re.sub(r"\W", "_", stem)


def run_page(path, workdir):
    """Run every block of the page at ``path`` in ``workdir``; raise DocFailure on the
    first failure. The caller sets the cache directory and cleans sys.modules/sys.path."""
    path = Path(path)
    page = path.name if path.parent.name != "docs" else f"docs/{path.name}"
    blocks = parse_blocks(path.read_text(), page)
    module_name = page_module_name(page)
    namespace = None
    for k, block in enumerate(blocks):
        following = blocks[k + 1] if k + 1 < len(blocks) else None
        expected = (following.text if following is not None and following.language == "text"
                    and not following.gap.strip() else None)
        if block.language == "python":
            if namespace is None:
                namespace = new_module(module_name, workdir)
            stdout = run_python(block, namespace, workdir, module_name)
            if expected is not None and not same_output(expected, stdout):
                raise mismatch(following.where(), expected, stdout)
        elif block.language == "console":
            run_console(block, workdir)
    return blocks


def new_module(name, workdir):
    module = type(sys)(name)
    module.__file__ = str(Path(workdir) / f"{name}.py")
    sys.modules[name] = module
    return module


def run_python(block, module, workdir, module_name):
    """Execute one python block (or write and import its file); return its stdout."""
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            if "file" in block.options:
                name = block.options["file"]
                (Path(workdir) / name).write_text(block.text)
                modname = Path(name).stem
                importlib.invalidate_caches()
                if modname in sys.modules and str(Path(getattr(sys.modules[modname], "__file__", "")
                                                       ).parent) == str(workdir):
                    importlib.reload(sys.modules[modname])
                else:
                    sys.modules.pop(modname, None)
                    importlib.import_module(modname)
            else:
                file = Path(workdir) / f"{module_name}_block{block.number}.py"
                file.write_text(block.text)
                module.__file__ = str(file)
                exec(compile(block.text, str(file), "exec"), module.__dict__)
    except BaseException as error:       # noqa: BLE001 - any failure of the page is reported
        lines = traceback.format_exception(type(error), error, error.__traceback__.tb_next)
        raise DocFailure(f"{block.where()}: the block raised\n{''.join(lines)}"
                         f"--- its output before ---\n{out.getvalue()}") from None
    return out.getvalue()


def console_steps(block):
    """[(line offset, command, expected output)] of a console block."""
    steps = []
    for k, line in enumerate(block.text.splitlines()):
        if line.startswith("$ "):
            steps.append([k, line[2:], []])
        elif not steps:
            raise DocFailure(f"{block.where(k)}: a console block starts with a `$ ` command")
        else:
            steps[-1][2].append(line)
    return [(k, command, "\n".join(out) + "\n" if out else "") for k, command, out in steps]


def python_shim(workdir):
    """A directory whose ``python`` is this interpreter (put first on PATH)."""
    shim = Path(workdir).parent / (Path(workdir).name + "-bin")
    shim.mkdir(exist_ok=True)
    script = shim / "python"
    script.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    script.chmod(0o755)
    return shim


def run_console(block, workdir):
    env = dict(os.environ, PATH=f"{python_shim(workdir)}{os.pathsep}{os.environ.get('PATH', '')}",
               PYTHONDONTWRITEBYTECODE="1", PYTHONUNBUFFERED="1", COLUMNS="80", TERM="dumb", NO_COLOR="1",
               PYTHONPATH=os.pathsep.join([str(workdir)] + [p for p in
                                           os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
    for offset, command, want in console_steps(block):
        typed = [line[len("(Pdb) "):] for line in want.splitlines() if line.startswith("(Pdb) ")]
        try:
            done = subprocess.run(["bash", "-c", command], cwd=workdir, env=env, text=True,
                                  input="".join(t + "\n" for t in typed), stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, timeout=COMMAND_TIMEOUT)
        except subprocess.TimeoutExpired:
            raise DocFailure(f"{block.where(offset)}: `{command}` ran over {COMMAND_TIMEOUT} s") from None
        got = with_typed_commands(done.stdout, typed)
        if not same_output(want, got):
            raise mismatch(f"{block.where(offset)}: `{command}`", want, got)


def with_typed_commands(output, typed):
    """pdb's prompts, each followed by the command fed to it, as on a terminal."""
    parts = output.split("(Pdb) ")
    text = parts[0]
    for k, part in enumerate(parts[1:]):
        text += "(Pdb) " + (typed[k] + "\n" if k < len(typed) else "") + part
    return text


def dedent(text):
    return textwrap.dedent(text).lstrip("\n")
