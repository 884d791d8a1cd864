# Two commands set everything up on a fresh machine: `make demo`, `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.installed-bench

.PHONY: demo test bench coverage clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(PY) examples/flagship.py

test: $(STAMP)
	$(PY) -m pytest -q

# The peers (autograd, JAX, PyTorch CPU) come with the bench extra, installed once.
$(BENCH_STAMP): $(STAMP)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test,bench]'
	touch $(BENCH_STAMP)

# About 15 minutes on 2 cores (gradients on default threads and on one thread, forward mode, transformation
# time, memory, checkpointing); `$(PY) benchmarks/run.py --quick --workloads scalar_loop mlp_loss` is a
# smoke test of about 3 minutes. It rewrites docs/performance.md.
bench: $(BENCH_STAMP)
	$(PY) benchmarks/run.py

coverage: $(STAMP)
	$(PY) -m pullback.coverage > docs/coverage.md

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info

# The differential fuzzer (docs/fuzzing.md): random programs against central
# differences, e.g. `make fuzz N=100000 SEED=1 JOBS=2`; failures go to fuzz-failures/.
N ?= 2000
SEED ?= 0
JOBS ?= 2
.PHONY: fuzz
fuzz: $(STAMP)
	$(PY) tests/fuzzer.py --n $(N) --seed $(SEED) --jobs $(JOBS) --out fuzz-failures
