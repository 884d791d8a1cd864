"""The peers: autograd, JAX (eager and jit) and PyTorch eager on the workloads.

autograd and JAX differentiate the very source of ``workloads.py``: the file
is executed once more into a fresh module whose ``np`` is then rebound to
``autograd.numpy`` or ``jax.numpy``. PyTorch cannot run NumPy code, so the
same math is written below with ``torch`` tensors (float64, CPU).

Every tool is prepared the same way: :func:`prepare` returns a callable that
computes the whole gradient (forward and reverse sweep) on inputs converted
once, outside the timing, and waits for the result; and a function turning
that result into NumPy arrays for the finite-difference check. Nothing here
is imported at module level except NumPy, so the benchmark still runs (and
says why a tool is missing) when a peer is not installed.
"""
import types
from pathlib import Path

import numpy as np

WORKLOADS_FILE = Path(__file__).with_name("workloads.py")

#: peer tool name -> (display name, the module whose import decides whether it is installed)
PEERS = {
    "autograd": ("autograd", "autograd"),
    "jax_eager": ("JAX eager", "jax"),
    "jax_jit": ("JAX jit", "jax"),
    "torch": ("PyTorch eager", "torch"),
}


def load_workloads(np_module, module_name, path=WORKLOADS_FILE):
    """Execute ``workloads.py`` (or another file written with ``np`` only, at
    ``path``) into a new module whose ``np`` is ``np_module``.

    The functions look ``np`` up as a global when they run, so rebinding it
    after the file's own ``import numpy as np`` makes them use ``np_module``.
    """
    path = Path(path)
    module = types.ModuleType(module_name)
    module.__file__ = str(path)
    code = compile(path.read_text(), str(path), "exec")
    exec(code, module.__dict__)
    module.np = np_module
    return module


def indices(wrt):
    """``wrt`` as a tuple of argument indices."""
    return (wrt,) if isinstance(wrt, int) else tuple(wrt)


def as_tuple(gradient, wrt):
    """A gradient result as a tuple with one entry per ``wrt`` index."""
    return (gradient,) if isinstance(wrt, int) else tuple(gradient)


def version(tool):
    """The installed version of the peer ``tool``; ImportError if it does not import."""
    from importlib import metadata
    module = __import__(PEERS[tool][1])
    try:
        return metadata.version(module.__name__)
    except metadata.PackageNotFoundError:
        return getattr(module, "__version__", "unknown")


# --------------------------------------------------------------------------- autograd

def prepare_autograd(name, args, wrt):
    """autograd.grad of the workload loaded with ``np = autograd.numpy``."""
    import autograd
    import autograd.numpy as anp

    module = load_workloads(anp, "workloads_autograd")
    gradient = autograd.grad(getattr(module, name), argnum=wrt)

    def call():
        return gradient(*args)

    def to_numpy(result):
        return tuple(np.asarray(g, dtype=float) for g in as_tuple(result, wrt))

    return call, to_numpy


# --------------------------------------------------------------------------- JAX

def jax_modules():
    """Import JAX with float64 enabled (the workloads are float64)."""
    import jax
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    return jax, jnp


def jax_arguments(args):
    """NumPy arrays become JAX arrays (on the CPU); numbers stay numbers."""
    _, jnp = jax_modules()
    return tuple(jnp.asarray(a) if isinstance(a, np.ndarray) else a for a in args)


def jax_gradient(name, wrt):
    """jax.grad of the workload loaded with ``np = jax.numpy`` (not compiled)."""
    jax, jnp = jax_modules()
    module = load_workloads(jnp, "workloads_jax")
    return jax.grad(getattr(module, name), argnums=wrt)


def prepare_jax(gradient, args, wrt):
    """The timed call and the conversion for a JAX gradient function."""
    jax, _ = jax_modules()
    jargs = jax_arguments(args)

    def call():
        return jax.block_until_ready(gradient(*jargs))

    def to_numpy(result):
        return tuple(np.asarray(g, dtype=float) for g in as_tuple(result, wrt))

    return call, to_numpy


def prepare_jax_eager(name, args, wrt):
    """JAX eager: jax.grad without jit (each operation dispatched on its own)."""
    return prepare_jax(jax_gradient(name, wrt), args, wrt)


def prepare_jax_jit(name, args, wrt, compilation_cache=None):
    """JAX jit: jax.jit(jax.grad(...)), compiled before it is returned.

    ``compilation_cache`` is a directory for JAX's persistent compilation
    cache: the benchmark compiles each workload first in a subprocess (which
    is where compile time is measured, under a time and memory limit), and
    the timing process then loads the compiled program from that cache.
    """
    jax, _ = jax_modules()
    if compilation_cache:
        use_compilation_cache(compilation_cache)
    gradient = jax.jit(jax_gradient(name, wrt))
    gradient.lower(*jax_arguments(args)).compile()
    return prepare_jax(gradient, args, wrt)


def use_compilation_cache(directory):
    """Make JAX store (and reuse) every compiled program in ``directory``."""
    jax, _ = jax_modules()
    jax.config.update("jax_compilation_cache_dir", str(directory))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)


def jit_compile_times(name, args, wrt):
    """Trace and compile jax.jit(jax.grad(workload)); return (trace s, compile s, call).

    Raises what JAX raises when the workload cannot be traced (a Python
    ``while`` on a traced value, for instance).
    """
    import time
    jax, _ = jax_modules()
    gradient = jax.jit(jax_gradient(name, wrt))
    jargs = jax_arguments(args)
    start = time.perf_counter()
    lowered = gradient.lower(*jargs)
    traced = time.perf_counter()
    compiled = lowered.compile()
    done = time.perf_counter()

    def call():
        return jax.block_until_ready(compiled(*jargs))

    return traced - start, done - traced, call


# --------------------------------------------------------------------------- PyTorch

def torch_workloads():
    """The workloads written with torch tensors: name -> function."""
    import torch

    def scalar_loop(x):
        s = 0.0
        for i in range(1000):
            x = torch.tanh(1.1 * x + 0.1)
            s = s + x * x
        return s

    def lotka_volterra(alpha, beta, delta, gamma):
        prey = 10.0
        predator = 5.0
        dt = 0.001
        for i in range(2000):
            growth = alpha * prey - beta * prey * predator
            decline = delta * prey * predator - gamma * predator
            prey = prey + dt * growth
            predator = predator + dt * decline
        return prey + predator

    def kepler(e):
        total = 0.0
        for k in range(100):
            m = 0.1 + 0.06 * k
            E = torch.tensor(m, dtype=torch.float64)
            residual = E - e * torch.sin(E) - m
            while abs(residual) > 1e-12:
                E = E - residual / (1.0 - e * torch.cos(E))
                residual = E - e * torch.sin(E) - m
            total = total + E
        return total

    def mlp_loss(W1, b1, W2, b2, W3, b3, X, Y):
        h1 = torch.tanh(X @ W1 + b1)
        h2 = torch.tanh(h1 @ W2 + b2)
        out = h2 @ W3 + b3
        return torch.mean((out - Y) ** 2)

    def rnn_loss(Wx, Wh, b, xs, h0, target):
        h = h0
        for t in range(100):
            h = torch.tanh(xs[t] @ Wx + h @ Wh + b)
        return torch.sum((h - target) ** 2)

    def softmax_xent(logits, labels):
        z = logits - torch.max(logits, dim=1, keepdim=True).values
        logp = z - torch.log(torch.sum(torch.exp(z), dim=1, keepdim=True))
        return -torch.sum(labels * logp) / logits.shape[0]

    def heat(u, alpha):
        for t in range(50):
            left = torch.cat((u[-1:], u[:-1]))
            right = torch.cat((u[1:], u[:1]))
            u = u + alpha * (left + right - 2.0 * u)
        return torch.sum(u * u)

    return {f.__name__: f for f in (scalar_loop, lotka_volterra, kepler, mlp_loss, rnn_loss,
                                    softmax_xent, heat) + new_torch_workloads()}


def new_torch_workloads():
    """Workloads 8 to 13 (issue 16) written with torch tensors."""
    import math

    import torch

    def lotka_volterra_vector(p):
        a, b, c, d = p[0], p[1], p[2], p[3]
        prey = 10.0
        predator = 5.0
        dt = 0.001
        for i in range(2000):
            growth = a * prey - b * prey * predator
            decline = c * prey * predator - d * predator
            prey = prey + dt * growth
            predator = predator + dt * decline
        return prey + predator

    def nbody(pos, vel, mass):
        dt = 0.01
        for t in range(500):
            diff = pos[None, :, :] - pos[:, None, :]
            dist2 = torch.sum(diff * diff, dim=2) + 0.01
            strength = mass[None, :] * dist2 ** -1.5
            acc = torch.sum(diff * strength[:, :, None], dim=1)
            vel = vel + dt * acc
            pos = pos + dt * vel
        return torch.sum(pos * pos) + 0.5 * torch.sum(mass[:, None] * vel * vel)

    def gmm_loglik(means, log_scales, logits, X):
        log_weights = logits - torch.max(logits)
        log_weights = log_weights - torch.log(torch.sum(torch.exp(log_weights)))
        z = (X[:, None, :] - means[None, :, :]) / torch.exp(log_scales)[None, :, :]
        log_norm = -torch.sum(log_scales, dim=1) - 0.5 * X.shape[1] * math.log(2.0 * math.pi)
        log_comp = -0.5 * torch.sum(z * z, dim=2) + log_norm + log_weights
        top = torch.max(log_comp, dim=1, keepdim=True).values
        lse = top + torch.log(torch.sum(torch.exp(log_comp - top), dim=1, keepdim=True))
        return torch.mean(lse)

    def logistic_batches(w, b, X, y):
        total = 0.0
        for k in range(X.shape[0]):
            z = X[k] @ w + b
            p = 1.0 / (1.0 + torch.exp(-z))
            total = total - torch.mean(y[k] * torch.log(p) + (1.0 - y[k]) * torch.log(1.0 - p))
        return total / X.shape[0]

    def reaction_diffusion(u, diffusivity):
        dt = 0.1
        for t in range(30):
            v = torch.cat((u[:1], u, u[-1:]), dim=0)
            v = torch.cat((v[:, :1], v, v[:, -1:]), dim=1)
            lap = v[:-2, 1:-1] + v[2:, 1:-1] + v[1:-1, :-2] + v[1:-1, 2:] - 4.0 * u
            u = u + dt * (diffusivity * lap + u * (1.0 - u))
        return torch.sum(u * u)

    def option_price(spot, vol, rate, Z):
        strike = 100.0
        dt = 1.0 / Z.shape[1]
        s = spot * torch.ones(Z.shape[0], dtype=torch.float64)
        for k in range(Z.shape[1]):
            s = s * torch.exp((rate - 0.5 * vol * vol) * dt + vol * math.sqrt(dt) * Z[:, k])
        payoff = torch.log1p(torch.exp(s - strike))
        return torch.exp(-rate) * torch.mean(payoff)

    return (lotka_volterra_vector, nbody, gmm_loglik, logistic_batches, reaction_diffusion, option_price)


def torch_arguments(args):
    """Arrays and numbers as float64 CPU tensors (arrays share their memory)."""
    import torch
    return tuple(torch.from_numpy(a) if isinstance(a, np.ndarray)
                 else torch.tensor(a, dtype=torch.float64) for a in args)


def limit_torch_threads():
    """PyTorch on one thread, intra-op and inter-op (call before it runs
    anything: the inter-op pool cannot change once started); the counts."""
    import torch
    torch.set_num_threads(1)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:            # the pool has started: report what it has
        pass
    return {"intra-op": torch.get_num_threads(), "inter-op": torch.get_num_interop_threads()}


def prepare_torch(name, args, wrt):
    """PyTorch eager: forward pass, then torch.autograd.grad (the backward pass)."""
    import torch
    function = torch_workloads()[name]
    targs = torch_arguments(args)
    positions = indices(wrt)

    def call():
        leaves = list(targs)
        for i in positions:
            leaves[i] = targs[i].detach().requires_grad_(True)
        loss = function(*leaves)
        gradients = torch.autograd.grad(loss, [leaves[i] for i in positions])
        return gradients[0] if isinstance(wrt, int) else gradients

    def to_numpy(result):
        return tuple(g.detach().numpy().astype(float) for g in as_tuple(result, wrt))

    return call, to_numpy


PREPARE = {
    "autograd": prepare_autograd,
    "jax_eager": prepare_jax_eager,
    "jax_jit": prepare_jax_jit,
    "torch": prepare_torch,
}


def prepare(tool, name, args, wrt, **options):
    """``(call, to_numpy)`` for a peer tool on a workload (see the module docstring)."""
    return PREPARE[tool](name, args, wrt, **options)

