"""Random Norse 1.1.0 models (seeded) and Norse's own step-by-step forward pass, shared by the
reference-vs-Norse and Norse-frontend tests."""
import numpy as np
import torch
import norse.torch as norse
from norse.torch.functional.reset import reset_subtract


def per_neuron(rng, n, **ranges):
    """Per-neuron parameter tensors drawn uniformly from ``ranges``."""
    return {k: torch.tensor(rng.uniform(lo, hi, n), dtype=torch.float32)
            for k, (lo, hi) in ranges.items()}


def recurrent_cell(rng, n_in, n_hidden, dt, autapses=False, input_gain=1.0):
    """A LIFRecurrentCell with per-neuron parameters (its initial state needs a scalar v_leak)."""
    p = norse.LIFParameters(v_leak=torch.tensor(0.05), **per_neuron(
        rng, n_hidden, tau_syn_inv=(100, 300), tau_mem_inv=(50, 200), v_th=(0.2, 0.5),
        v_reset=(-0.1, 0.0)))
    cell = norse.LIFRecurrentCell(n_in, n_hidden, p=p, dt=dt, autapses=autapses)
    with torch.no_grad():
        cell.recurrent_weights.mul_(0.5)
        cell.input_weights.mul_(input_gain)
    return cell


def lif_box(rng, n, dt):
    p = per_neuron(rng, n, tau_mem_inv=(50, 300), v_leak=(-0.1, 0.1), v_th=(0.3, 1.0),
                   v_reset=(-0.3, 0.0))
    return norse.LIFBoxCell(norse.LIFBoxParameters(**p), dt=dt)


def lif_cuba(rng, n, dt):
    p = per_neuron(rng, n, tau_syn_inv=(100, 400), tau_mem_inv=(50, 200), v_leak=(-0.1, 0.1),
                   v_th=(0.2, 0.6), v_reset=(-0.2, 0.0))
    return norse.LIFCell(norse.LIFParameters(**p), dt=dt)


def li_box(rng, n, dt):
    p = per_neuron(rng, n, tau_mem_inv=(50, 300), v_leak=(-0.1, 0.1))
    return norse.LIBoxCell(norse.LIBoxParameters(**p), dt=dt)


def iaf(rng, n, dt):
    p = per_neuron(rng, n, v_th=(0.5, 1.5), v_reset=(-0.3, 0.0))
    return norse.IAFCell(norse.IAFParameters(**p), dt=dt)


def linear(rng, n_in, n_out, gain, bias=True):
    layer = torch.nn.Linear(n_in, n_out, bias=bias)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor(rng.normal(0, gain / np.sqrt(n_in), (n_out, n_in))))
    return layer


def conv(rng, c_in, c_out, **kw):
    layer = torch.nn.Conv2d(c_in, c_out, **kw)
    with torch.no_grad():
        layer.weight.mul_(4.0)
    return layer


# name -> (builder(rng, dt) -> (module, input shape), dt, reset option)
MODELS = {
    "linear-lifbox-default": (lambda r, dt: (norse.SequentialState(
        linear(r, 10, 8, 6), norse.LIFBoxCell(dt=dt)), (10,)), 1e-3, "to_v_reset"),
    "mlp-lifbox-per-neuron": (lambda r, dt: (norse.SequentialState(
        linear(r, 12, 16, 8), lif_box(r, 16, dt), linear(r, 16, 6, 10, bias=False),
        lif_box(r, 6, dt)), (12,)), 1e-3, "to_v_reset"),
    "linear-lifcell-default": (lambda r, dt: (norse.SequentialState(
        linear(r, 10, 8, 1.5), norse.LIFCell(dt=dt)), (10,)), 1e-3, "to_v_reset"),
    "lifcell-then-libox": (lambda r, dt: (norse.SequentialState(
        linear(r, 10, 12, 1.5), lif_cuba(r, 12, dt), linear(r, 12, 5, 4),
        li_box(r, 5, dt)), (10,)), 5e-4, "to_v_reset"),
    "linear-iaf": (lambda r, dt: (norse.SequentialState(
        linear(r, 9, 7, 1.0), iaf(r, 7, dt)), (9,)), 1e-3, "to_v_reset"),
    "conv-lifbox": (lambda r, dt: (norse.SequentialState(
        conv(r, 2, 3, kernel_size=3, stride=2, padding=1), norse.LIFBoxCell(dt=dt)),
        (2, 7, 7)), 1e-3, "to_v_reset"),
    "conv-iaf-conv-lifcell": (lambda r, dt: (norse.SequentialState(
        conv(r, 2, 4, kernel_size=3), norse.IAFCell(dt=dt), conv(r, 4, 2, kernel_size=2),
        norse.LIFCell(dt=dt)), (2, 6, 6)), 1e-3, "to_v_reset"),
    "lifbox-subtract-reset": (lambda r, dt: (norse.SequentialState(
        linear(r, 10, 8, 8), norse.LIFBoxCell(norse.LIFBoxParameters(
            reset_method=reset_subtract), dt=dt)), (10,)), 1e-3, "subtract"),
    "deep-mixed": (lambda r, dt: (norse.SequentialState(
        linear(r, 16, 20, 8), lif_box(r, 20, dt), linear(r, 20, 20, 1.5), lif_cuba(r, 20, dt),
        linear(r, 20, 10, 1.5), lif_cuba(r, 10, dt), linear(r, 10, 4, 3), li_box(r, 4, dt)),
        (16,)), 2e-3, "to_v_reset"),
    "wide-lifbox-small-dt": (lambda r, dt: (norse.SequentialState(
        linear(r, 32, 64, 30), lif_box(r, 64, dt)), (32,)), 1e-4, "to_v_reset"),
}


def run_norse(step, x):
    outputs, state = [], None
    with torch.no_grad():
        for frame in torch.from_numpy(x):
            out, state = step(frame, state)
            outputs.append(out.to_dense() if out.is_sparse else out)
    return torch.stack(outputs).numpy()


def inputs(rng, shape, steps=120, batch=3):
    return (rng.random((steps, batch, *shape)) < 0.3).astype(np.float32)


