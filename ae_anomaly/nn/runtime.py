"""How training runs on a CPU: an optimizer with no start-up tax, and a thread policy.

- :func:`make_adam` builds the estimators' optimizer, :class:`~ae_anomaly.nn.adam.Adam`:
  bitwise ``torch.optim.Adam(..., fused=True)``, without the 1.8 s import of
  ``torch._dynamo`` that ``torch.optim.Optimizer`` pays on first use.
- :func:`choose_threads` picks intra-op threads from the work of one training step (and
  :func:`inference_threads` of one inference batch), and :func:`intra_op_threads` applies
  them to a block and restores the caller's setting.
"""

from __future__ import annotations

import contextlib

import torch
from torch import nn

from .adam import Adam

#: Multiply-adds of one training step (forward and backward, about 3x the forward pass)
#: below which one intra-op thread is used. Fit seconds with torch's default 2 threads vs
#: 1 thread on this project's 2-core machine, ``Autoencoder()`` defaults, batch 1,024
#: (``python -m benchmarks.threads``; benchmarks/results/threads.md; the machine was shared,
#: load average 7-12; contended: plus a process spinning on one core):
#:
#: =============================  ===========  ================  ===================
#: network, rows                  MACs / step  2 thr / 1 thr     contended 2 / 1
#: =============================  ===========  ================  ===================
#: 30-64-6-64-30, 7,000 rows      1.4e7        16.0 s / 1.05 s   26.8 s / 1.36 s
#: 30-64-6-64-30, 54,000 rows     1.4e7        22.9 s / 2.95 s   124 s / 5.65 s
#: 100-64-10-64-100, 10,000 rows  4.3e7        22.7 s / 3.53 s   63.7 s / 3.90 s
#: =============================  ===========  ================  ===================
#:
#: Small networks gain nothing from a second thread and lose 6-22x when the cores are
#: busy (the threads wait for each other at every operation). Larger steps may gain on an
#: idle machine. The choice never looks at the machine's load: a thread count that changed
#: with the load could change a fit's last bits, and ``random_state`` must give identical
#: results. The value is an estimate (a 2-thread GEMM pays at around 1e8 multiply-adds per
#: call on an idle core; a step has a few of them); it was not calibrated on an idle machine.
PARALLEL_MACS = 2e9


def forward_macs(module, input_shape):
    """Multiply-adds of one forward pass of one row through ``module``'s dense and
    convolutional layers (activations, norms and losses are not counted).

    The row is a zero tensor of shape ``(1, *input_shape)`` on the module's device; the
    module runs in eval mode under ``torch.no_grad`` and is left as it was.

    Examples
    --------
    >>> from torch import nn
    >>> forward_macs(nn.Sequential(nn.Linear(30, 64), nn.ReLU(), nn.Linear(64, 30)), (30,))
    3840
    """
    total = 0

    def count(layer, inputs, output):
        nonlocal total
        if isinstance(layer, nn.Linear):
            total += output.numel() * layer.in_features
        elif isinstance(layer, nn.Conv2d):
            kh, kw = layer.kernel_size
            total += output.numel() * (layer.in_channels // layer.groups) * kh * kw
        elif isinstance(layer, nn.ConvTranspose2d):
            kh, kw = layer.kernel_size
            total += inputs[0].numel() * (layer.out_channels // layer.groups) * kh * kw

    hooks = [
        layer.register_forward_hook(count)
        for layer in module.modules()
        if isinstance(layer, (nn.Linear, nn.Conv2d, nn.ConvTranspose2d))
    ]
    param = next(module.parameters())
    was_training = module.training
    try:
        module.eval()
        with torch.no_grad():
            module(torch.zeros((1, *input_shape), dtype=param.dtype, device=param.device))
    finally:
        module.train(was_training)
        for hook in hooks:
            hook.remove()
    return total


def choose_threads(macs_per_row, batch_rows, *, training=True, device="cpu", max_threads=None):
    """Intra-op threads for steps of ``batch_rows`` rows costing ``macs_per_row``
    multiply-adds each in the forward pass (see :func:`forward_macs`).

    One thread unless a step does at least :data:`PARALLEL_MACS` multiply-adds (forward
    and, when ``training``, backward: 3x the forward); then the caller's
    ``torch.get_num_threads()`` (or ``max_threads``), so ``torch.set_num_threads(1)`` is
    respected. On a GPU the CPU only launches kernels: one thread.

    Why (the table at :data:`PARALLEL_MACS`): the default ``Autoencoder()`` fit of 7,000 x 30
    rows took 1.05 s on one thread and 16.0 s on torch's default two on a shared 2-core
    machine, 1.36 s and 26.8 s with one core kept busy by another process.

    Examples
    --------
    >>> choose_threads(3840, 1024)
    1
    >>> choose_threads(10**8, 1024, max_threads=4)
    4
    """
    if torch.device(device).type != "cpu":
        return 1
    work = (3 if training else 1) * macs_per_row * batch_rows
    if work < PARALLEL_MACS:
        return 1
    return max(1, torch.get_num_threads() if max_threads is None else max_threads)


def inference_threads(module, batch_rows, *, device="cpu"):
    """Intra-op threads for inference batches of ``batch_rows`` rows through ``module``:
    :func:`choose_threads` of its forward work, or None (the caller's setting) for
    convolutional networks, whose work per row the parameters do not tell.

    A dense network does about one multiply-add per weight and row, so the parameter
    count stands for :func:`forward_macs` (which needs the input's shape; inference also
    runs parts of a network, e.g. the decoder alone).

    Examples
    --------
    >>> from torch import nn
    >>> inference_threads(nn.Sequential(nn.Linear(30, 64), nn.ReLU(), nn.Linear(64, 30)), 2184)
    1
    """
    if any(isinstance(layer, (nn.Conv2d, nn.ConvTranspose2d)) for layer in module.modules()):
        return None
    macs = sum(p.numel() for p in module.parameters())
    return choose_threads(macs, batch_rows, training=False, device=device)


@contextlib.contextmanager
def intra_op_threads(n):
    """Run the block with ``torch.set_num_threads(n)``; restore the caller's count after,
    also when the block raises. ``None`` (or the count the caller has) leaves the setting
    alone.

    torch keeps one count per thread (OpenMP's), and sets a thread's count, when the
    thread first uses torch, from a process-wide value that each ``set_num_threads``
    call writes. So while the block runs, a thread that first uses torch starts with
    ``n`` and keeps it; the calling thread, and the threads that first use torch after
    the block, have the caller's count. No torch call sets one thread's count alone.

    Examples
    --------
    >>> import torch
    >>> before = torch.get_num_threads()
    >>> with intra_op_threads(1):
    ...     torch.get_num_threads()
    1
    >>> torch.get_num_threads() == before
    True
    """
    before = torch.get_num_threads()
    if n is None or n == before:
        yield before
        return
    if n < 1:
        raise ValueError(f"The number of threads must be at least 1, got {n}.")
    torch.set_num_threads(n)
    try:
        yield n
    finally:
        torch.set_num_threads(before)


def make_adam(params, *, lr, weight_decay, implementation="fused"):
    """The estimators' optimizer: :class:`~ae_anomaly.nn.adam.Adam`, the same weights as
    ``torch.optim.Adam(params, lr=lr, weight_decay=weight_decay, fused=True)`` step for
    step, with the same ``state_dict`` layout, and no import of the compiler stack.

    Fused is the fastest of torch's three implementations for the estimators' networks:
    per optimizer step of the 30-64-6-64-30 MLP, one thread, 0.28 ms (ours, fused), 0.47 ms
    (torch, fused), 1.1 / 1.4 ms (foreach, ours / torch), 1.5 / 2.0 ms (single tensor)
    on the 2-core CI machine under load. ``implementation="single"`` reproduces
    ``torch.optim.Adam``'s default on a CPU (``foreach=False``), the StackedAutoencoder's.

    Examples
    --------
    >>> import torch
    >>> net = torch.nn.Linear(3, 2)
    >>> opt = make_adam(net.parameters(), lr=1e-3, weight_decay=0.0)
    >>> opt.param_groups[0]["fused"], opt.param_groups[0]["lr"]
    (True, 0.001)
    """
    return Adam(params, lr=lr, weight_decay=weight_decay, implementation=implementation)
