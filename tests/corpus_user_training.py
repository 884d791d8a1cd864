"""Training-step functions returning ``(loss, metrics)``, differentiated with
``has_aux=True`` (part of the user-style corpus, see tests/corpus_user.py).

The metrics are what people log: floats, ints, strings, bools, arrays, lists
of per-batch losses, nested dicts, or a tuple."""
import math

import numpy as np

from corpus_user_kit import Case, normal, uniform


def mse_step(params, x, y):
    # regression step logging the loss and its root
    pred = x @ params["w"] + params["b"]
    loss = np.mean((pred - y) ** 2)
    return loss, {"loss": loss, "rmse": np.sqrt(loss)}


def softmax_cross_entropy_step(W, x, labels):
    # multinomial logistic regression with accuracy and a sample count
    logits = x @ W
    logits = logits - np.max(logits, axis=1, keepdims=True)
    log_p = logits - np.log(np.sum(np.exp(logits), axis=1, keepdims=True))
    loss = -np.mean(log_p[np.arange(x.shape[0]), labels])
    accuracy = float(np.mean(np.argmax(logits, axis=1) == labels))
    return loss, {"accuracy": accuracy, "n": x.shape[0]}


def step_with_phase_string(w, x, y):
    # metrics carrying a phase label string
    loss = np.sum(np.log(np.cosh(x @ w - y)))
    return loss, {"phase": "train", "loss": loss}


def step_with_prediction_array(params, x, y):
    # metrics holding the prediction and residual arrays
    pred = np.tanh(x @ params["W"]) @ params["v"]
    residual = pred - y
    return 0.5 * np.sum(residual ** 2), {"pred": pred, "residual": residual}


def step_aux_tuple(w, x):
    # aux is a plain tuple (prediction, per-row loss)
    pred = np.sin(x @ w)
    rows = pred ** 2 + 0.1 * pred
    return np.sum(rows), (pred, rows)


def step_aux_float(w, x):
    # aux is one float: the weight norm
    loss = np.sum(np.exp(-x @ w))
    return loss, float(np.linalg.norm(w))


def regularized_step(params, x, y, lam=0.1):
    # data term and regulariser logged separately
    data = np.mean((x @ params["w"] - y) ** 2)
    reg = lam * sum(np.sum(v ** 2) for v in params.values())
    return data + reg, {"data": data, "reg": reg}


def huber_step(w, x, y, delta=1.0):
    # Huber loss counting the outliers as an int
    r = x @ w - y
    small = np.abs(r) <= delta
    loss = np.sum(np.where(small, 0.5 * r ** 2, delta * (np.abs(r) - 0.5 * delta)))
    return loss, {"outliers": int(np.sum(~small)), "max_residual": np.max(np.abs(r))}


def adam_lookahead_step(params, state, x, y, lr=0.1):
    # loss after an Adam-like update; the updated moments are the aux
    new_m = {k: 0.9 * state["m"][k] + 0.1 * v for k, v in params.items()}
    new_params = {k: v - lr * new_m[k] / (1.0 + np.abs(new_m[k])) for k, v in params.items()}
    pred = np.tanh(x @ new_params["W"]) @ new_params["v"]
    loss = np.mean((pred - y) ** 2)
    return loss, {"m": new_m, "step": state["step"] + 1}


def multitask_step(params, x, y1, y2):
    # two heads sharing a trunk, metrics nested per task
    h = np.tanh(x @ params["trunk"])
    l1 = np.mean((h @ params["head1"] - y1) ** 2)
    l2 = np.mean(np.log1p(np.exp(-y2 * (h @ params["head2"]))))
    return l1 + 0.5 * l2, {"task1": {"loss": l1}, "task2": {"loss": l2, "weight": 0.5}}


def logistic_step(w, x, y):
    # logistic regression, probabilities by hand, accuracy and mean confidence
    p = 1.0 / (1.0 + np.exp(-(x @ w)))
    loss = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    metrics = {"accuracy": np.mean((p > 0.5) == (y > 0.5)), "mean_prob": np.mean(p)}
    return loss, metrics


def autoencoder_step(params, x):
    # reconstruction loss plus a code-norm penalty, both logged
    code = np.tanh(x @ params["enc"])
    recon = code @ params["dec"]
    recon_loss = np.mean((recon - x) ** 2)
    code_norm = np.mean(code ** 2)
    return recon_loss + 0.01 * code_norm, {"recon": recon_loss, "code_norm": code_norm}


def clipped_step(w, x, cap=50.0):
    # a loss capped above a threshold, the flag in the metrics
    loss = np.sum((x @ w) ** 2)
    if loss > cap:
        return cap + np.log(loss / cap), {"clipped": True}
    return loss, {"clipped": False}


def minibatch_step(w, x, y, n_batches=3):
    # losses over minibatches accumulated in a list logged as metrics
    losses = []
    size = x.shape[0] // n_batches
    for i in range(n_batches):
        xb, yb = x[i * size:(i + 1) * size], y[i * size:(i + 1) * size]
        losses.append(np.mean((xb @ w - yb) ** 2))
    total = sum(losses) / n_batches
    return total, {"batch_losses": losses, "batches": n_batches}


def loss_and_metrics(params, x, y):
    pred = x @ params["w"]
    loss = np.mean(np.abs(pred - y) ** 1.5)
    return loss, {"mae": np.mean(np.abs(pred - y))}


def step_through_helper(params, x, y):
    # the (loss, metrics) pair comes from a helper, a metric is added
    loss, metrics = loss_and_metrics(params, x, y)
    metrics["w_norm"] = np.sqrt(np.sum(params["w"] ** 2))
    return loss + 0.01 * metrics["w_norm"], metrics


def temperature_step(logits, temperature, target):
    # distillation-style loss w.r.t. the logits and a float temperature
    z = logits / temperature
    z = z - np.max(z)
    p = np.exp(z) / np.sum(np.exp(z))
    loss = -np.sum(target * np.log(p))
    return loss, {"entropy": -np.sum(p * np.log(p)), "temperature": temperature}


def kl_step(mu, log_var, x):
    # VAE-style step: reconstruction with the mean, KL to a standard normal
    recon = np.sum((x - mu) ** 2)
    kl = -0.5 * np.sum(1.0 + log_var - mu ** 2 - np.exp(log_var))
    return recon + kl, {"recon": recon, "kl": kl, "beta": 1}


def ranking_step(scores, margin=0.5):
    # pairwise hinge ranking loss with smoothed hinge, counting the violations
    loss = 0.0
    violations = 0
    for i in range(len(scores) - 1):
        gap = margin - (scores[i] - scores[i + 1])
        loss = loss + math.log1p(math.exp(gap))
        if gap > 0:
            violations += 1
    return loss, {"violations": violations}


def ols_step(params, x, y):
    # named wrt: the metrics also carry the R^2
    pred = x @ params["w"] + params["b"]
    ss_res = np.sum((y - pred) ** 2)
    ss_tot = np.sum((y - np.mean(y)) ** 2)
    return ss_res / len(y), {"r2": 1.0 - ss_res / ss_tot, "label": f"n={len(y)}"}


TRAINING = [
    Case(mse_step, lambda r: [{"w": normal(r, 3), "b": 0.5}, normal(r, 5, 3), normal(r, 5)],
         aux=True),
    Case(softmax_cross_entropy_step, lambda r: [normal(r, 3, 4), normal(r, 6, 3),
                                                np.array([0, 3, 1, 2, 2, 0])], aux=True),
    Case(step_with_phase_string, lambda r: [normal(r, 3), normal(r, 4, 3), normal(r, 4)],
         aux=True),
    Case(step_with_prediction_array, lambda r: [{"W": normal(r, 3, 3), "v": normal(r, 3)},
                                                normal(r, 4, 3), normal(r, 4)], aux=True),
    Case(step_aux_tuple, lambda r: [normal(r, 3), normal(r, 4, 3)], aux=True),
    Case(step_aux_float, lambda r: [normal(r, 3, scale=0.3), normal(r, 4, 3)], aux=True),
    Case(regularized_step, lambda r: [{"w": normal(r, 3)}, normal(r, 5, 3), normal(r, 5)],
         aux=True, kwargs={"lam": 0.05}),
    Case(huber_step, lambda r: [np.array([1.2, -0.7, 0.4]), uniform(r, 6, 3),
                                np.array([2.5, -0.1, 0.3, -2.2, 0.05, 0.4])], aux=True),
    Case(adam_lookahead_step, lambda r: [{"W": normal(r, 3, 3), "v": normal(r, 3)},
                                         {"m": {"W": normal(r, 3, 3), "v": normal(r, 3)},
                                          "step": 4}, normal(r, 4, 3), normal(r, 4)],
         wrt=(0, 1), aux=True),
    Case(multitask_step, lambda r: [{"trunk": normal(r, 3, 3), "head1": normal(r, 3),
                                     "head2": normal(r, 3)}, normal(r, 4, 3), normal(r, 4),
                                    np.array([1.0, -1.0, -1.0, 1.0])], aux=True),
    Case(logistic_step, lambda r: [normal(r, 3), normal(r, 6, 3),
                                   np.array([1.0, 0.0, 0.0, 1.0, 1.0, 0.0])], wrt="w", aux=True),
    Case(autoencoder_step, lambda r: [{"enc": normal(r, 4, 2), "dec": normal(r, 2, 4)},
                                      normal(r, 3, 4)], aux=True),
    Case(clipped_step, lambda r: [np.array([2.0, -1.5, 1.0]), np.array([[1.0, -2.0, 0.5],
                                                                       [3.0, 0.2, -1.0],
                                                                       [-2.0, 1.0, 2.0]])],
         aux=True),
    Case(minibatch_step, lambda r: [normal(r, 3), normal(r, 6, 3), normal(r, 6)], aux=True),
    Case(step_through_helper, lambda r: [{"w": normal(r, 3)}, normal(r, 5, 3), normal(r, 5)],
         aux=True),
    Case(temperature_step, lambda r: [normal(r, 4), 1.7, np.array([0.1, 0.2, 0.3, 0.4])],
         wrt=(0, 1), aux=True),
    Case(kl_step, lambda r: [normal(r, 3), normal(r, 3, scale=0.3), normal(r, 3)], wrt=(0, 1),
         aux=True),
    Case(ranking_step, lambda r: [np.array([0.9, 0.1, 0.8, -0.6, -0.3])], aux=True,
         kwargs={"margin": 0.5}),
    Case(ols_step, lambda r: [{"w": normal(r, 2), "b": 0.1}, normal(r, 5, 2), normal(r, 5)],
         wrt="params", aux=True),
]
