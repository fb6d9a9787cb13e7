"""Adam without ``torch.optim.Optimizer``: the same update, none of the compiler stack.

``torch.optim.Optimizer`` wraps ``add_param_group``, ``step``, ``zero_grad``, ``state_dict``
and ``load_state_dict`` in decorators that import ``torch._dynamo`` on first call: 1.8 s on
a quiet 2-core machine (4-6 s on a busy one), paid by the first fit of every fresh process,
against about 0.1 s for the fit itself. :class:`Adam` calls the very kernels
``torch.optim.Adam`` calls (``torch._fused_adam_``, or the ``torch._foreach_*`` /
single-tensor sequence of its other two implementations), in the same order, so the
weights after any number of steps are bitwise those of ``torch.optim.Adam`` with the same
arguments (``tests/test_runtime.py``). Its ``state_dict`` has ``torch.optim.Adam``'s layout,
so either class loads the other's state.

Only what the estimators use is supported: one parameter group, L2 ``weight_decay`` (not
AdamW), no amsgrad, maximize, capturable, differentiable, gradient scaling or closures.
"""

from __future__ import annotations

import torch

#: The keys of a ``torch.optim.Adam`` parameter group, with the values this class runs.
_GROUP_DEFAULTS = {
    "betas": (0.9, 0.999),
    "eps": 1e-8,
    "amsgrad": False,
    "maximize": False,
    "foreach": None,
    "capturable": False,
    "differentiable": False,
    "fused": None,
    "decoupled_weight_decay": False,
}
_UNSUPPORTED = ("amsgrad", "maximize", "capturable", "differentiable", "decoupled_weight_decay")
IMPLEMENTATIONS = ("fused", "foreach", "single", "default")
#: Where torch.optim.Adam defaults to its foreach implementation.
_FOREACH_DEVICES = ("cuda", "xpu", "mtia")


class Adam:
    """Adam (Kingma & Ba, 2015) with L2 weight decay, bitwise as ``torch.optim.Adam``.

    Parameters
    ----------
    params : iterable of torch.Tensor
        The tensors to optimize (one parameter group).
    lr : float, default=1e-3
    betas : tuple of float, default=(0.9, 0.999)
    eps : float, default=1e-8
    weight_decay : float, default=0.0
        L2 penalty added to the gradient, as ``torch.optim.Adam``'s (not AdamW's).
    implementation : {"fused", "foreach", "single", "default"}, default="fused"
        Which of ``torch.optim.Adam``'s implementations to reproduce: ``fused=True``,
        ``foreach=True``, ``foreach=False``, or torch's default (neither flag: foreach when
        every parameter is on CUDA, else single). They differ in float rounding only.

    Attributes
    ----------
    param_groups : list of dict
        One group, with ``torch.optim.Adam``'s keys.
    state : dict
        ``parameter -> {"step", "exp_avg", "exp_avg_sq"}``, created on a parameter's first step.

    Examples
    --------
    >>> import torch
    >>> w = torch.nn.Parameter(torch.tensor([1.0, -2.0]))
    >>> opt = Adam([w], lr=0.1)
    >>> w.pow(2).sum().backward()
    >>> opt.step()
    >>> w.detach()
    tensor([ 0.9000, -1.9000])
    >>> sorted(opt.state_dict()["state"][0])
    ['exp_avg', 'exp_avg_sq', 'step']
    """

    def __init__(
        self,
        params,
        lr=1e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=0.0,
        *,
        implementation="fused",
    ):
        if implementation not in IMPLEMENTATIONS:
            raise ValueError(
                f"implementation must be one of {IMPLEMENTATIONS}, got {implementation!r}."
            )
        params = list(params)
        if not params:
            raise ValueError("Adam got an empty parameter list.")
        if not lr >= 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not eps >= 0.0:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if not (0.0 <= betas[0] < 1.0 and 0.0 <= betas[1] < 1.0):
            raise ValueError(f"Invalid beta parameters: {betas}")
        if not weight_decay >= 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        group = {
            **_GROUP_DEFAULTS,
            "params": params,
            "lr": lr,
            "betas": (float(betas[0]), float(betas[1])),
            "eps": eps,
            "weight_decay": weight_decay,
            "fused": True if implementation == "fused" else None,
            "foreach": {"fused": None, "foreach": True, "single": False, "default": None}[
                implementation
            ],
        }
        self.defaults = {key: value for key, value in group.items() if key != "params"}
        self.param_groups = [group]
        self.state = {}

    def __repr__(self):
        group = self.param_groups[0]
        return (
            f"Adam(lr={group['lr']}, betas={group['betas']}, eps={group['eps']}, "
            f"weight_decay={group['weight_decay']}, implementation={self.implementation!r})"
        )

    @property
    def implementation(self):
        """``"fused"``, ``"foreach"`` or ``"single"``, read from the group's flags as
        ``torch.optim.Adam`` reads them (``foreach=None``: foreach on CUDA, else single)."""
        group = self.param_groups[0]
        if group.get("fused"):
            return "fused"
        foreach = group.get("foreach")
        if foreach is None:
            foreach = all(p.device.type in _FOREACH_DEVICES for p in group["params"])
        return "foreach" if foreach else "single"

    def zero_grad(self, set_to_none=True):
        """Forget the gradients (``None``, or zeros with ``set_to_none=False``)."""
        for p in self.param_groups[0]["params"]:
            if p.grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                p.grad.detach_().zero_()

    def _gather(self, fused):
        """The parameters with a gradient and their state, created on first use."""
        params, grads, exp_avgs, exp_avg_sqs, steps = [], [], [], [], []
        for p in self.param_groups[0]["params"]:
            if p.grad is None:
                continue
            if p.grad.is_sparse:
                raise RuntimeError("Adam does not support sparse gradients.")
            state = self.state.get(p)
            if not state:
                # torch.optim.Adam: a float32 step on the parameter's device when fused, a
                # CPU step of the default scalar dtype otherwise.
                state = self.state[p] = {
                    "step": torch.zeros((), dtype=torch.float32, device=p.device)
                    if fused
                    else torch.tensor(0.0, dtype=_scalar_dtype()),
                    "exp_avg": torch.zeros_like(p, memory_format=torch.preserve_format),
                    "exp_avg_sq": torch.zeros_like(p, memory_format=torch.preserve_format),
                }
            if fused and state["step"].device != p.device:
                state["step"] = state["step"].to(p.device, torch.float32)  # fused: on device
            for key in ("exp_avg", "exp_avg_sq"):
                # Moments kept while the network rests in another dtype (the estimators
                # train in float32 and score in float64): a lossless round trip.
                if state[key].dtype != p.dtype or state[key].device != p.device:
                    state[key] = state[key].to(p.device, p.dtype)
            params.append(p)
            grads.append(p.grad)
            exp_avgs.append(state["exp_avg"])
            exp_avg_sqs.append(state["exp_avg_sq"])
            steps.append(state["step"])
        return params, grads, exp_avgs, exp_avg_sqs, steps

    def step(self, closure=None):
        """One Adam update of every parameter that has a gradient."""
        if closure is not None:
            raise ValueError("This Adam does not take a closure.")
        group = self.param_groups[0]
        for key in _UNSUPPORTED:
            if group.get(key):
                raise ValueError(f"This Adam does not support {key}=True.")
        implementation = self.implementation
        tensors = self._gather(implementation == "fused")
        if not tensors[0]:
            return
        with torch.no_grad():
            _STEPS[implementation](*tensors, group)

    def state_dict(self):
        """``torch.optim.Adam.state_dict()``'s layout: states and params by index."""
        group = self.param_groups[0]
        index = {id(p): i for i, p in enumerate(group["params"])}
        return {
            "state": {index[id(p)]: dict(s) for p, s in self.state.items() if id(p) in index},
            "param_groups": [{**group, "params": list(range(len(group["params"])))}],
        }

    def load_state_dict(self, state_dict):
        """Load a state saved by this class or by ``torch.optim.Adam`` (one group).

        Tensors move to their parameter's device and keep their dtype (the next step casts
        the moments to the parameter's dtype).
        """
        (saved_group,) = state_dict["param_groups"]
        params = self.param_groups[0]["params"]
        if len(saved_group["params"]) != len(params):
            raise ValueError(
                f"The saved state holds {len(saved_group['params'])} parameters, "
                f"this optimizer {len(params)}."
            )
        position = {saved: i for i, saved in enumerate(saved_group["params"])}
        self.param_groups = [{**_GROUP_DEFAULTS, **saved_group, "params": params}]
        self.state = {}
        fused = bool(self.param_groups[0].get("fused"))
        for key, saved in state_dict["state"].items():
            p = params[position[key]]
            state = {name: value.to(p.device) for name, value in saved.items() if name != "step"}
            # torch.optim.Adam: a fused step lives on the device in float32, others as saved
            state["step"] = saved["step"].to(p.device, torch.float32) if fused else saved["step"]
            self.state[p] = state


def _scalar_dtype():
    return torch.float64 if torch.get_default_dtype() == torch.float64 else torch.float32


def _fused(params, grads, exp_avgs, exp_avg_sqs, steps, group):
    # torch.optim.adam._fused_adam, one device and dtype (the estimators' case); several
    # devices or dtypes are split as torch splits them.
    for idx in _by_device_and_dtype(params):
        sub_steps = [steps[i] for i in idx]
        torch._foreach_add_(sub_steps, 1)
        torch._fused_adam_(
            [params[i] for i in idx],
            [grads[i] for i in idx],
            [exp_avgs[i] for i in idx],
            [exp_avg_sqs[i] for i in idx],
            [],
            sub_steps,
            amsgrad=False,
            lr=group["lr"],
            beta1=group["betas"][0],
            beta2=group["betas"][1],
            weight_decay=group["weight_decay"],
            eps=group["eps"],
            maximize=False,
            grad_scale=None,
            found_inf=None,
        )


def _foreach(params, grads, exp_avgs, exp_avg_sqs, steps, group):
    # torch.optim.adam._multi_tensor_adam with capturable=False.
    lr, (beta1, beta2), eps, weight_decay = (
        group["lr"],
        group["betas"],
        group["eps"],
        group["weight_decay"],
    )
    for idx in _by_device_and_dtype(params):
        d_params = [params[i] for i in idx]
        d_grads = [grads[i] for i in idx]
        d_exp_avgs = [exp_avgs[i] for i in idx]
        d_exp_avg_sqs = [exp_avg_sqs[i] for i in idx]
        d_steps = [steps[i] for i in idx]
        if d_steps[0].is_cpu:
            torch._foreach_add_(d_steps, torch.tensor(1.0, device="cpu"), alpha=1.0)
        else:
            torch._foreach_add_(d_steps, 1)
        if weight_decay != 0:
            d_grads = torch._foreach_add(d_grads, d_params, alpha=weight_decay)
        torch._foreach_lerp_(d_exp_avgs, d_grads, 1 - beta1)
        torch._foreach_mul_(d_exp_avg_sqs, beta2)
        torch._foreach_addcmul_(d_exp_avg_sqs, d_grads, d_grads, 1 - beta2)
        del d_grads
        step_size = [(lr / (1 - beta1 ** s.item())) * -1 for s in d_steps]
        bias_correction2_sqrt = [(1 - beta2 ** s.item()) ** 0.5 for s in d_steps]
        denom = torch._foreach_sqrt(d_exp_avg_sqs)
        torch._foreach_div_(denom, bias_correction2_sqrt)
        torch._foreach_add_(denom, eps)
        torch._foreach_addcdiv_(d_params, d_exp_avgs, denom, step_size)


def _single(params, grads, exp_avgs, exp_avg_sqs, steps, group):
    # torch.optim.adam._single_tensor_adam with capturable=False, differentiable=False.
    lr, (beta1, beta2), eps, weight_decay = (
        group["lr"],
        group["betas"],
        group["eps"],
        group["weight_decay"],
    )
    for param, grad, exp_avg, exp_avg_sq, step_t in zip(
        params, grads, exp_avgs, exp_avg_sqs, steps, strict=True
    ):
        step_t += 1
        if weight_decay != 0:
            grad = grad.add(param, alpha=weight_decay)
        exp_avg.lerp_(grad, 1 - beta1)
        exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        step = step_t.item()
        step_size = lr / (1 - beta1**step)
        bias_correction2_sqrt = (1 - beta2**step) ** 0.5
        denom = (exp_avg_sq.sqrt() / bias_correction2_sqrt).add_(eps)
        param.addcdiv_(exp_avg, denom, value=-step_size)


_STEPS = {"fused": _fused, "foreach": _foreach, "single": _single}


def _by_device_and_dtype(params):
    """Index lists of ``params`` sharing a device and dtype, in first-seen order."""
    groups = {}
    for i, p in enumerate(params):
        groups.setdefault((p.device, p.dtype), []).append(i)
    return groups.values()
