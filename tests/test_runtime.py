"""ae_anomaly.nn.runtime: an Adam bitwise as torch's without its import tax; thread policy."""

import pickle
import subprocess
import sys
import textwrap

import pytest
import torch
from torch import nn

from ae_anomaly.nn.adam import Adam
from ae_anomaly.nn.conv_nets import conv_autoencoder
from ae_anomaly.nn.nets import mlp_autoencoder
from ae_anomaly.nn.runtime import (
    choose_threads,
    forward_macs,
    inference_threads,
    intra_op_threads,
    make_adam,
)


@pytest.fixture(autouse=True)
def one_thread(request):
    """Tiny networks: one thread (torch's default of one per core crawls on a busy machine).
    The thread-policy tests opt out, so they see the caller's own count."""
    if "threads" in request.node.name:
        yield
        return
    with intra_op_threads(1):
        yield


TORCH_FLAGS = {"fused": {"fused": True}, "foreach": {"foreach": True}, "single": {"foreach": False}}


def _net(dtype=torch.float32):
    torch.manual_seed(0)
    return mlp_autoencoder(30, (64,), 6).to(dtype)


def _train(module, opt, steps, seed=1):
    X = torch.randn(
        256, 30, generator=torch.Generator().manual_seed(seed), dtype=module_dtype(module)
    )
    for _ in range(steps):
        loss = (module(X) - X).pow(2).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()


def module_dtype(module):
    return next(module.parameters()).dtype


def _same(a, b):
    return all(torch.equal(x, y) for x, y in zip(a.parameters(), b.parameters(), strict=True))


@pytest.mark.parametrize("implementation", ["fused", "foreach", "single"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_adam_is_bitwise_torch_adam(implementation, dtype):
    ours, theirs = _net(dtype), _net(dtype)
    kw = {"lr": 1e-2, "weight_decay": 1e-3}
    _train(ours, Adam(ours.parameters(), implementation=implementation, **kw), 25)
    _train(theirs, torch.optim.Adam(theirs.parameters(), **TORCH_FLAGS[implementation], **kw), 25)
    assert _same(ours, theirs)


def test_default_implementation_is_torch_default_adam():
    ours, theirs = _net(), _net()
    opt = Adam(ours.parameters(), lr=1e-2, implementation="default")
    assert opt.implementation == "single"  # torch's default on a CPU
    _train(ours, opt, 10)
    _train(theirs, torch.optim.Adam(theirs.parameters(), lr=1e-2), 10)
    assert _same(ours, theirs)


def test_make_adam_is_torch_fused_adam():
    ours, theirs = _net(), _net()
    _train(ours, make_adam(ours.parameters(), lr=1e-3, weight_decay=0.0), 10)
    _train(theirs, torch.optim.Adam(theirs.parameters(), lr=1e-3, fused=True), 10)
    assert _same(ours, theirs)


@pytest.mark.parametrize("implementation", ["fused", "single"])
def test_state_dict_loads_both_ways(implementation):
    """A state saved by either class, loaded into either, continues the same trajectory."""
    kw = {"lr": 1e-2, "weight_decay": 1e-4}
    reference = _net()
    ref_opt = torch.optim.Adam(reference.parameters(), **TORCH_FLAGS[implementation], **kw)
    _train(reference, ref_opt, 10)
    saved = pickle.loads(pickle.dumps(ref_opt.state_dict()))
    ours = _net()
    ours.load_state_dict(reference.state_dict())
    opt = Adam(ours.parameters(), implementation=implementation, **kw)
    opt.load_state_dict(saved)
    assert opt.implementation == implementation
    assert set(opt.state_dict()["param_groups"][0]) == set(ref_opt.state_dict()["param_groups"][0])
    _train(ours, opt, 10, seed=2)
    _train(reference, ref_opt, 10, seed=2)
    assert _same(ours, reference)

    back = _net()
    back.load_state_dict(ours.state_dict())
    back_opt = torch.optim.Adam(back.parameters(), **TORCH_FLAGS[implementation], **kw)
    back_opt.load_state_dict(pickle.loads(pickle.dumps(opt.state_dict())))
    _train(back, back_opt, 5, seed=3)
    _train(ours, opt, 5, seed=3)
    assert _same(back, ours)


def test_moments_survive_a_rest_in_float64():
    """The estimators train in float32 and rest in float64 between partial_fit calls."""
    straight, rested = _net(), _net()
    opt_straight = make_adam(straight.parameters(), lr=1e-2, weight_decay=0.0)
    opt_rested = make_adam(rested.parameters(), lr=1e-2, weight_decay=0.0)
    _train(straight, opt_straight, 6)
    _train(rested, opt_rested, 6)
    rested.to(torch.float64)
    state = opt_rested.state_dict()
    opt_rested = make_adam(rested.parameters(), lr=1e-2, weight_decay=0.0)
    opt_rested.load_state_dict(state)
    rested.to(torch.float32)
    _train(straight, opt_straight, 6, seed=2)
    _train(rested, opt_rested, 6, seed=2)
    assert _same(straight, rested)
    assert all(s["exp_avg"].dtype == torch.float32 for s in opt_rested.state.values())


def test_zero_grad_and_parameters_without_gradient():
    a, b = nn.Parameter(torch.ones(3)), nn.Parameter(torch.ones(2))
    opt = Adam([a, b], lr=0.1)
    a.sum().backward()
    opt.step()
    assert b not in opt.state and torch.equal(b.detach(), torch.ones(2))
    assert torch.allclose(a.detach(), torch.full((3,), 0.9))
    opt.zero_grad(set_to_none=False)
    assert torch.equal(a.grad, torch.zeros(3))
    opt.zero_grad()
    assert a.grad is None
    opt.step()  # no gradients: nothing to do


def test_adam_rejects_what_it_does_not_run():
    p = [nn.Parameter(torch.ones(1))]
    with pytest.raises(ValueError, match="implementation"):
        Adam(p, implementation="compiled")
    with pytest.raises(ValueError, match="learning rate"):
        Adam(p, lr=-1.0)
    with pytest.raises(ValueError, match="empty"):
        Adam([])
    opt = Adam(p)
    opt.param_groups[0]["amsgrad"] = True
    p[0].sum().backward()
    with pytest.raises(ValueError, match="amsgrad"):
        opt.step()
    with pytest.raises(ValueError, match="2 parameters"):
        Adam(p).load_state_dict({"state": {}, "param_groups": [{"lr": 0.1, "params": [0, 1]}]})


def test_no_compiler_import():
    """The point of the module: training with it never imports torch._dynamo."""
    code = textwrap.dedent(
        """
        import sys, torch
        from ae_anomaly.nn.nets import mlp_autoencoder
        from ae_anomaly.nn.runtime import make_adam
        net = mlp_autoencoder(5, (8,), 2)
        opt = make_adam(net.parameters(), lr=1e-3, weight_decay=1e-4)
        x = torch.randn(16, 5)
        for _ in range(2):
            opt.zero_grad()
            (net(x) - x).pow(2).mean().backward()
            opt.step()
        opt.load_state_dict(opt.state_dict())
        print("torch._dynamo" in sys.modules)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "False"


def test_intra_op_threads_restores_the_callers_count():
    before = torch.get_num_threads()
    with intra_op_threads(1) as n:
        assert n == 1 and torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with pytest.raises(RuntimeError, match="boom"), intra_op_threads(1):
        raise RuntimeError("boom")
    assert torch.get_num_threads() == before
    with intra_op_threads(None) as n:
        assert n == before
    with pytest.raises(ValueError, match="at least 1"), intra_op_threads(0):
        pass
    assert torch.get_num_threads() == before


def test_choose_threads(monkeypatch):
    from ae_anomaly.nn import runtime

    tiny = forward_macs(_net(), (30,))
    assert tiny == 2 * (30 * 64 + 64 * 6)
    assert choose_threads(tiny, 1024) == 1
    assert choose_threads(10**9, 1024, max_threads=3) == 3
    assert choose_threads(10**9, 1024, device="cuda") == 1
    with intra_op_threads(1):
        assert choose_threads(10**9, 1024) == 1  # the caller's setting is a ceiling
    monkeypatch.setattr("os.getloadavg", lambda: (50.0, 50.0, 50.0))  # the load is ignored
    assert choose_threads(10**9, 1024, max_threads=3) == 3
    # inference does a third of a training step's work
    threshold_rows = int(runtime.PARALLEL_MACS // (3 * 10**6)) + 1
    assert choose_threads(10**6, threshold_rows, max_threads=2) == 2
    assert choose_threads(10**6, threshold_rows, training=False, max_threads=2) == 1


def test_forward_macs_counts_convolutions_and_leaves_the_module_alone():
    torch.manual_seed(0)
    net = conv_autoencoder((1, 8, 8), (4,), (), 3).train()
    # conv 1->4, 3x3, stride 2 on 8x8: 4*4*4 outputs x 9; head 64->3; body 3->64;
    # transposed conv 4->1, 4x4 on a 4x4 input: 4*4*4 inputs x 1 x 16
    expected = 64 * 9 + 64 * 3 + 3 * 64 + 64 * 16
    state = {k: v.clone() for k, v in net.state_dict().items()}
    assert forward_macs(net, (64,)) == expected
    assert net.training
    assert all(torch.equal(v, state[k]) for k, v in net.state_dict().items())


def test_fit_leaves_the_callers_thread_count_alone():
    import numpy as np

    from ae_anomaly import Autoencoder

    before = torch.get_num_threads()
    X = np.random.default_rng(0).normal(size=(64, 4))
    Autoencoder(max_iter=2, random_state=0).fit(X)
    assert torch.get_num_threads() == before


def test_threads_that_start_after_a_fit_or_a_score_see_the_callers_count():
    """What holds across threads (torch keeps one count per thread, set when the thread
    first uses torch from the last ``torch.set_num_threads``): a thread that first uses
    torch after the call sees the caller's count; one that does so during another
    thread's fit may start with that fit's 1 (README, "What you can rely on")."""
    import threading

    import numpy as np

    from ae_anomaly import Autoencoder

    def fresh_thread_count():
        seen = []
        thread = threading.Thread(target=lambda: seen.append(torch.get_num_threads()))
        thread.start()
        thread.join()
        return seen[0]

    X = np.random.default_rng(0).normal(size=(64, 4))
    with intra_op_threads(torch.get_num_threads() + 1) as mine:
        model = Autoencoder(max_iter=2, random_state=0).fit(X)
        assert (torch.get_num_threads(), fresh_thread_count()) == (mine, mine)
        model.score_samples(X)
        assert (torch.get_num_threads(), fresh_thread_count()) == (mine, mine)


def test_inference_threads_one_for_dense_nets_caller_for_conv():
    assert inference_threads(_net(), 2184) == 1
    assert inference_threads(_net(), 2184, device="cuda") == 1
    assert inference_threads(conv_autoencoder((1, 8, 8), (4,), (), 3), 128) is None


def test_scoring_threads_leave_the_caller_alone_and_the_scores_unchanged():
    import numpy as np

    from ae_anomaly import Autoencoder

    X = np.random.default_rng(0).normal(size=(3000, 5))
    with intra_op_threads(1):
        est = Autoencoder(max_iter=2, random_state=0).fit(X)
        one = est.score_samples(X)
    with intra_op_threads(2):
        two = est.score_samples(X)
        assert torch.get_num_threads() == 2
    np.testing.assert_array_equal(one, two)


def test_a_fit_in_a_fresh_process_never_imports_the_compiler():
    code = textwrap.dedent(
        """
        import sys
        import numpy as np
        from ae_anomaly import Autoencoder
        est = Autoencoder(max_iter=2, random_state=0).fit(np.random.rand(64, 4))
        est.score_samples(np.random.rand(8, 4))
        print("torch._dynamo" in sys.modules)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "False"
