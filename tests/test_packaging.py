"""`pip install .` (not editable) gives a working pullback, templates included.

The templates live in the top-level templates/ folder and reach the wheel as
``pullback.templates`` through pyproject's package-dir. An editable install
(what the test suite runs on) cannot show a mistake there, so this test builds
and installs a real wheel into a new virtualenv and uses it from a folder
outside the repository.

Kept fast: the new virtualenv sees the base interpreter's site-packages
(numpy, setuptools), the build runs without isolation when the base has a
wheel-capable setuptools, and pip fetches from PyPI only what is missing.
"""
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
TIMEOUT = 240


def base_interpreter():
    """The interpreter the current virtualenv was made from (or this one)."""
    candidates = []
    config = Path(sys.prefix) / "pyvenv.cfg"
    if config.is_file():
        settings = {}
        for line in config.read_text().splitlines():
            key, sep, value = line.partition("=")
            if sep:
                settings[key.strip()] = value.strip()
        if settings.get("executable"):
            candidates.append(settings["executable"])
        if settings.get("home"):
            home = Path(settings["home"])
            version = f"{sys.version_info[0]}.{sys.version_info[1]}"
            candidates += [home / f"python{version}", home / "python3", home / "python"]
    candidates += [getattr(sys, "_base_executable", None), sys.executable]
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return sys.executable


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTHON", "PIP_", "VIRTUAL_ENV", "__PYVENV"))}
    env.update(PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INPUT="1")
    env.update(extra)
    return env


def run(args, cwd, env, timeout=TIMEOUT):
    done = subprocess.run([str(a) for a in args], cwd=str(cwd), env=env, capture_output=True,
                          text=True, timeout=timeout)
    assert done.returncode == 0, (f"{' '.join(map(str, args))} failed ({done.returncode})\n"
                                  f"stdout:\n{done.stdout[-6000:]}\nstderr:\n{done.stderr[-6000:]}")
    return done.stdout


BUILD_BACKEND_READY = r'''
import sys
try:
    import setuptools
except ImportError:
    sys.exit(1)
version = tuple(int(p) for p in setuptools.__version__.split(".")[:2] if p.isdigit())
if version < (64, 0):
    sys.exit(1)
if version < (70, 1):          # bdist_wheel still comes from the `wheel` package
    try:
        import wheel  # noqa: F401
    except ImportError:
        sys.exit(1)
'''

# Run by the new virtualenv's python, from a folder outside the repository.
CHECK = r'''
import importlib, importlib.metadata, json, math, os, sys, sysconfig
from pathlib import Path

import numpy as np
import pullback
import pullback.templates

repo = Path(sys.argv[1]).resolve()
purelib = Path(sysconfig.get_paths()["purelib"]).resolve()
package = Path(pullback.__file__).resolve()
templates = Path(pullback.templates.__file__).resolve()
families = {}
for family in ("arithmetic", "elementwise", "scalar", "reductions", "products"):
    module = importlib.import_module("pullback.templates." + family)
    families[family] = str(Path(module.__file__).resolve())

dist = importlib.metadata.distribution("pullback")
direct_url = dist.read_text("direct_url.json")


def loss(w, x):
    h = np.tanh(x * w)
    p = np.exp(-w) * np.sin(x)
    return np.sum(h * h) + np.sum(p) + math.cos(2.0) * np.sum(w)


w = np.array([0.2, -0.7, 1.3])
x = np.array([1.5, 0.5, -2.0])
g = pullback.grad(loss)(w, x)
value, g2 = pullback.value_and_grad(loss)(w, x)

# df/dx of  x**3 / y  w.r.t. both arguments (arithmetic templates).
def ratio(a, b):
    return a ** 3 / b

ga, gb = pullback.grad(ratio, wrt=(0, 1))(2.0, 4.0)

print(json.dumps({
    "package": str(package), "templates": str(templates), "families": families,
    "purelib": str(purelib), "repo": str(repo), "sys_path": sys.path,
    "version": dist.version, "direct_url": direct_url,
    "grad": g.tolist(), "grad2": g2.tolist(), "value": float(value),
    "ga": ga, "gb": gb,
    "cache_files": sorted(os.listdir(os.environ["PULLBACK_CACHE_DIR"])),
}))
'''


def test_pip_install_builds_a_working_wheel(tmp_path):
    source = tmp_path / "repo"
    shutil.copytree(REPO, source, ignore=shutil.ignore_patterns(
        ".venv*", ".git", "*.egg-info", "__pycache__", "build", "dist", ".pytest_cache",
        "results"))
    venv = tmp_path / "venv"
    env = clean_env()
    base = base_interpreter()
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    made = subprocess.run([base, "-m", "venv", "--system-site-packages", str(venv)],
                          env=env, capture_output=True, text=True, timeout=TIMEOUT)
    if made.returncode == 0:
        pip = [python, "-m", "pip"]
    else:
        # No ensurepip for the base interpreter: drive this interpreter's pip into the venv.
        run([base, "-m", "venv", "--clear", "--without-pip", "--system-site-packages", venv],
            tmp_path, env)
        pip = [sys.executable, "-m", "pip", "--python", python]

    install = pip + ["install", "--quiet"]
    ready = subprocess.run([str(python), "-c", BUILD_BACKEND_READY], env=env,
                           capture_output=True, timeout=TIMEOUT).returncode == 0
    if ready:
        install.append("--no-build-isolation")
    run(install + [source], tmp_path, env)

    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    script = workdir / "check.py"
    script.write_text(CHECK)
    cache = tmp_path / "cache"
    out = run([python, script, REPO], workdir, clean_env(PULLBACK_CACHE_DIR=str(cache)))
    result = json.loads(out.strip().splitlines()[-1])

    # The installed copy, not the repository's (editable) one.
    purelib = Path(result["purelib"])
    assert purelib.is_relative_to(venv.resolve()), result["purelib"]
    package = Path(result["package"])
    assert package == purelib / "pullback" / "__init__.py", result["package"]
    assert not package.is_relative_to(REPO), result["package"]
    assert not any(Path(p).resolve() == (REPO / "src").resolve()
                   for p in result["sys_path"] if p), result["sys_path"]
    assert result["version"] == "0.1.0"
    assert result["direct_url"] is None or '"editable": true' not in result["direct_url"]

    # The templates are in the wheel, as pullback.templates.
    assert Path(result["templates"]) == purelib / "pullback" / "templates" / "__init__.py"
    for family, path in result["families"].items():
        assert Path(path) == purelib / "pullback" / "templates" / f"{family}.py", family

    # The gradient, by hand:
    # d/dw [sum(tanh(xw)^2) + sum(exp(-w) sin x) + cos(2) sum(w)]
    #   = 2 tanh(xw)(1 - tanh(xw)^2) x - exp(-w) sin(x) + cos(2)
    import numpy as np
    w = np.array([0.2, -0.7, 1.3])
    x = np.array([1.5, 0.5, -2.0])
    t = np.tanh(x * w)
    expected = 2 * t * (1 - t * t) * x - np.exp(-w) * np.sin(x) + np.cos(2.0)
    np.testing.assert_allclose(result["grad"], expected, rtol=1e-12)
    np.testing.assert_allclose(result["grad2"], expected, rtol=1e-12)
    assert result["value"] == pytest.approx(
        float(np.sum(t * t) + np.sum(np.exp(-w) * np.sin(x)) + np.cos(2.0) * np.sum(w)), rel=1e-12)
    assert result["ga"] == pytest.approx(3 * 2.0 ** 2 / 4.0, rel=1e-12)       # 3a^2 / b
    assert result["gb"] == pytest.approx(-(2.0 ** 3) / 4.0 ** 2, rel=1e-12)   # -a^3 / b^2
    # The generated modules went to the cache directory given.
    assert sum(name.endswith(".py") for name in result["cache_files"]) == 3, result["cache_files"]



def test_every_package_of_the_source_is_in_the_wheel():
    """pyproject lists the packages by hand: a new folder of modules must be
    listed there, or the wheel lacks it (the editable install hides that)."""
    text = (REPO / "pyproject.toml").read_text()
    listed = set(re.findall(r'"(pullback[\w.]*)"', text[text.index("packages = ["):]
                            .split("]", 1)[0]))
    source = REPO / "src" / "pullback"
    found = {".".join(("pullback",) + path.parent.relative_to(source).parts)
             for path in source.rglob("__init__.py")}
    assert found | {"pullback.templates"} == listed
