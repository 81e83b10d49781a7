"""The PyTorch scheduler, ``spec.to_torch(optimizer)``: real training with SGD, the lr read back
from every update, tensor lrs under ``torch.compile``, checkpoints (plain state dicts; resuming
in a fresh process: tests/test_resume.py), pickling, CUDA without host syncs, and
``spec(tensor)`` under ``fullgraph=True`` in a fresh process.

The oracle is the one exact reference (``lrspec.reference``), within its ``BOUNDS``.
"""

from __future__ import annotations

import json
import math
import pickle
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from oracle import exact, exact_float, ulp_error_exact  # noqa: E402

import lrspec  # noqa: E402
from lrspec import reference  # noqa: E402
from lrspec.adapters import torch as torch_backend  # noqa: E402

SPECS = {
    "smooth": (0.1, 3.0, 0.5, False),
    "staircase": (0.1, 3.0, 0.5, True),
    "staircase-frac": (0.05, 2.5, 1.5, True),  # decay_steps not an integer
}
UPDATES = 25


def close(spec: lrspec.Schedule, k: int, got: float) -> bool:
    """Within the float64 bound of the exact rate (neighbouring steps differ by millions of
    ulps)."""
    return ulp_error_exact(got, exact(spec, k), np.float64) <= reference.bound(spec, "float64")


def spec_of(name: str) -> lrspec.InverseTimeDecay:
    a, d, r, staircase = SPECS[name]
    return lrspec.InverseTimeDecay(a, d, r, staircase=staircase)


def regression(seed: int = 0, dtype=torch.float64):
    """A linear regression: data, and a model with fixed initial weights."""
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(64, 3, generator=gen, dtype=dtype)
    y = x @ torch.tensor([1.5, -2.0, 0.5], dtype=dtype) + 0.3
    model = torch.nn.Linear(3, 1, dtype=dtype)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[0.1, 0.2, -0.3]], dtype=dtype))
        model.bias.fill_(0.05)
    return x, y, model


def loss_of(model, x, y):
    return torch.mean((model(x)[:, 0] - y) ** 2)


@pytest.fixture(autouse=True)
def _strict_warnings():
    # used as documented, the scheduler must not trigger torch's scheduler warnings
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*(lr_scheduler|optimizer\\.step|get_lr)")
        yield


# --- training: the lr applied by the k-th update is spec(k) ------------------------------


@pytest.mark.parametrize("name", list(SPECS))
def test_sgd_applies_spec_k_at_update_k(name):
    spec = spec_of(name)
    x, y, model = regression()
    optimizer = torch.optim.SGD(model.parameters(), lr=123.0)  # overwritten by the spec
    scheduler = spec.to_torch(optimizer)
    assert isinstance(scheduler, torch.optim.lr_scheduler.LRScheduler)
    assert scheduler.base_lrs == [123.0]  # torch's record of the optimizer's own lr
    assert scheduler.get_last_lr() == [spec(0)]
    losses = []
    for k in range(UPDATES):
        group_lr = optimizer.param_groups[0]["lr"]
        assert type(group_lr) is float
        assert group_lr == spec(k)  # the Python-number (float64) evaluation, bit for bit
        assert close(spec, k, group_lr), (k, group_lr)
        optimizer.zero_grad()
        loss = loss_of(model, x, y)
        loss.backward()
        before = [p.detach().clone() for p in model.parameters()]
        grads = [p.grad.detach().clone() for p in model.parameters()]
        optimizer.step()
        # the lr actually applied, from the parameter change: delta = -lr * grad
        for p, p0, g in zip(model.parameters(), before, grads, strict=True):
            applied = (-(p.detach() - p0) / g).numpy()
            np.testing.assert_allclose(applied, exact_float(spec, k), rtol=1e-9, err_msg=str(k))
        scheduler.step()
        assert scheduler.get_last_lr() == [spec(k + 1)]
        assert scheduler.last_epoch == k + 1
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]  # it trains


def test_lr_scale_groups():
    spec = spec_of("staircase")
    x, y, model = regression()
    optimizer = torch.optim.SGD(
        [
            {"params": [model.weight]},  # no lr_scale: 1
            {"params": [model.bias], "lr_scale": 0.25, "lr": 7.0},
        ],
        lr=1.0,
    )
    scheduler = spec.to_torch(optimizer)
    assert scheduler.base_lrs == [1.0, 7.0]
    for k in range(UPDATES):
        want = [spec(k), spec(k) * 0.25]
        assert [g["lr"] for g in optimizer.param_groups] == want
        assert scheduler.get_last_lr() == want
        optimizer.zero_grad()
        loss_of(model, x, y).backward()
        before = [model.weight.detach().clone(), model.bias.detach().clone()]
        grads = [model.weight.grad.clone(), model.bias.grad.clone()]
        optimizer.step()
        for p, p0, g, lr in zip((model.weight, model.bias), before, grads, want, strict=True):
            np.testing.assert_allclose((-(p.detach() - p0) / g).numpy(), lr, rtol=1e-9)
        scheduler.step()


@pytest.mark.parametrize("scale", [-0.5, math.nan, "0.5", torch.tensor(0.5), True])
def test_bad_lr_scale_is_rejected(scale):
    model = torch.nn.Linear(2, 1)
    optimizer = torch.optim.SGD([{"params": model.parameters(), "lr_scale": scale}], lr=0.1)
    with pytest.raises((TypeError, ValueError), match="lr_scale"):
        spec_of("smooth").to_torch(optimizer)


def test_bad_arguments():
    model = torch.nn.Linear(2, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(TypeError, match="spec must be an lrspec schedule"):
        torch_backend.LRSpecScheduler(optimizer, lambda k: 0.1)
    with pytest.raises(TypeError, match="Optimizer"):
        spec_of("smooth").to_torch(model)
    scheduler = spec_of("smooth").to_torch(optimizer)
    optimizer.step()
    with pytest.raises(ValueError, match="step must be >= 0"):
        scheduler.step(-3)
    with pytest.raises(TypeError, match="epoch must be an int"):
        scheduler.step(1.5)
    assert scheduler.last_epoch == 0 and scheduler._step_count == 1  # nothing changed
    assert optimizer.param_groups[0]["lr"] == spec_of("smooth")(0)


def test_step_order_warning_is_torchs():
    model = torch.nn.Linear(2, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    scheduler = spec_of("smooth").to_torch(optimizer)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        scheduler.step()


def test_float_lr_entries_are_python_floats_equal_to_the_float64_value():
    """Across the blocks the float path evaluates at once, and far out (2**40, near 2**63):
    every lr written is the Python float spec(k), within 2 ulp of the exact value."""
    for name in SPECS:
        spec = spec_of(name)
        model = torch.nn.Linear(2, 1)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
        scheduler = spec.to_torch(optimizer)
        starts = [0, 2**40 - 3, 2**53 + 1, 2**63 - 1500, 2**63 + 5]
        for start in starts:
            scheduler.load_state_dict({**scheduler.state_dict(), "last_epoch": start})
            steps = 2100 if start == 0 else 40  # crosses a block boundary (1024 steps)
            for k in range(start, start + steps):
                lr = optimizer.param_groups[0]["lr"]
                assert type(lr) is float
                assert lr == spec(k), (name, k)
                assert close(spec, k, lr), (name, k)
                optimizer.step()
                scheduler.step()


FAMILY = {
    "exponential": lrspec.ExponentialDecay(0.1, 7.0, 0.5, staircase=True),
    "piecewise": lrspec.PiecewiseConstantDecay((10, 40), (0.1, 0.05, 0.01)),
    "polynomial": lrspec.PolynomialDecay(0.1, 300.0, 0.001, power=2.0, cycle=True),
    "cosine-warmup": lrspec.CosineDecay(0.1, 2000.0, alpha=0.1, warmup_target=0.2, warmup_steps=30),
    "restarts": lrspec.CosineDecayRestarts(0.1, 20.0),
    "linear": lrspec.Linear(0.1, 0.0, 1000.0),
    "inverse-sqrt": lrspec.InverseSqrt(0.1, 10),
    "warmup-join": lrspec.Warmup(
        lrspec.Join((lrspec.Constant(0.1), lrspec.InverseTimeDecay(0.1, 3.0, 0.5)), (20,)), 5
    ),
}
# formulas with exp/log: NumPy's SIMD exp/log may round differently from the C library's
# (AVX-512 builds), by at most an ulp; all others are the same operations, bit for bit
ONE_ULP = {"exponential", "polynomial"}


@pytest.mark.parametrize("name", list(FAMILY))
def test_float_lrs_are_the_python_number_values_for_the_family(name, monkeypatch):
    monkeypatch.setattr(torch_backend, "_BLOCK", 16)  # many block boundaries
    spec = FAMILY[name]
    model = torch.nn.Linear(2, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    scheduler = spec.to_torch(optimizer)
    optimizer.step()
    for start in (0, 10**6 - 7, 2**40):
        scheduler.load_state_dict({**scheduler.state_dict(), "last_epoch": start})
        for k in range(start, start + 60):
            lr, want = optimizer.param_groups[0]["lr"], spec(k)
            assert type(lr) is float
            if name in ONE_ULP:
                assert abs(lr - want) <= math.ulp(want), (k, lr, want)
            else:
                assert lr == want, (k, lr, want)
            scheduler.step()


# --- tensor lr: updated in place ----------------------------------------------------------


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_tensor_lr_is_updated_in_place(dtype):
    spec = spec_of("smooth")
    x, y, model = regression()
    lr = torch.tensor(0.5, dtype=dtype)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    scheduler = spec.to_torch(optimizer)
    for k in range(UPDATES):
        group_lr = optimizer.param_groups[0]["lr"]
        assert group_lr is lr and group_lr.dtype == dtype
        assert lr.item() == float(torch.tensor(spec(k), dtype=torch.float64).to(dtype))
        last = scheduler.get_last_lr()[0]
        assert isinstance(last, torch.Tensor) and last is not lr and torch.equal(last, lr)
        optimizer.zero_grad()
        loss_of(model, x, y).backward()
        optimizer.step()
        scheduler.step()
    assert isinstance(scheduler.base_lrs[0], torch.Tensor) and scheduler.base_lrs[0].item() == 0.5


def _train_compiled(make_scheduler, lr, steps):
    from torch._dynamo.testing import CompileCounter

    torch._dynamo.reset()
    x, y, model = regression(dtype=torch.float32)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    scheduler = make_scheduler(optimizer)
    counter = CompileCounter()

    # torch's recipe "compiling the optimizer with an LR scheduler"
    @torch.compile(backend=counter)
    def update():
        optimizer.step()
        scheduler.step()
        return scheduler.get_last_lr()  # a logging loop reads it

    applied = []
    for k in range(steps):
        optimizer.zero_grad()
        loss_of(model, x, y).backward()
        applied.append(float(optimizer.param_groups[0]["lr"]))
        last = update()
        assert float(last[0]) == float(optimizer.param_groups[0]["lr"]), k
    return counter.frame_count, applied, optimizer


def test_compiled_update_with_tensor_lr_compiles_once(monkeypatch):
    # small blocks, so that the float64 block evaluation also happens inside the compiled
    # function: the scheduler step and all it calls must stay out of the graph
    monkeypatch.setattr(torch_backend, "_BLOCK", 16)
    spec = spec_of("staircase")
    lr = torch.tensor(0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # dynamo's own notes (profiler, graph breaks)
        frames, applied, optimizer = _train_compiled(spec.to_torch, lr, 50)
        # contrast: LambdaLR with a float lr recompiles (the lr is a constant of the graph)
        lambda_frames, lambda_applied, _ = _train_compiled(
            lambda o: torch.optim.lr_scheduler.LambdaLR(o, lambda k: spec(k) / spec(0)),
            0.1,
            10,
        )
        # again, after torch._dynamo.reset() (in _train_compiled)
        frames_again, applied_again, _ = _train_compiled(spec.to_torch, torch.tensor(0.1), 20)
    assert frames == 1
    assert optimizer.param_groups[0]["lr"] is lr
    assert applied == [float(np.float32(spec(k))) for k in range(50)]
    assert frames_again == 1 and applied_again == applied[:20]
    assert lambda_frames > 1
    np.testing.assert_allclose(lambda_applied, [spec(k) for k in range(10)], rtol=1e-15)


def test_compile_barrier_fallback_without_private_dynamo_api():
    """Where torch lacks the private frame-skip marking, ``torch.compiler.disable`` is used:
    still one compilation (fresh process, since the barrier is installed once)."""
    code = textwrap.dedent(
        """
        import warnings
        warnings.simplefilter("ignore")
        import torch
        import torch._dynamo  # keeps its own reference
        import torch._C._dynamo.eval_frame as ef
        del ef.set_code_exec_strategy
        from torch._dynamo.testing import CompileCounter
        import lrspec
        from lrspec.adapters import torch as tb
        tb._BLOCK = 8
        model = torch.nn.Linear(3, 1)
        lr = torch.tensor(0.1)
        optimizer = torch.optim.SGD(model.parameters(), lr=lr)
        spec = lrspec.InverseTimeDecay(0.1, 3.0, 0.5, staircase=True)
        scheduler = spec.to_torch(optimizer)
        assert hasattr(tb.LRSpecScheduler.step, "__wrapped__")  # the public wrapper
        counter = CompileCounter()
        @torch.compile(backend=counter)
        def update():
            optimizer.step()
            scheduler.step()
        x = torch.randn(8, 3)
        for k in range(20):
            assert lr.item() == float(torch.tensor(spec(k)))
            optimizer.zero_grad()
            model(x).sum().backward()
            update()
        print(counter.frame_count)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=False
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.split()[-1] == "1"


# --- checkpoints --------------------------------------------------------------------------

PLAIN = (dict, list, str, int, float, bool, type(None))


def _plain(value) -> bool:
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_plain(v) for v in value)
    return type(value) in PLAIN


def _run(spec, start_state, updates, tensor_lr=False):
    """Train ``updates`` steps from a checkpoint (or from scratch); the lrs applied and the
    final parameters."""
    x, y, model = regression()
    optimizer = torch.optim.SGD(model.parameters(), lr=torch.tensor(0.1) if tensor_lr else 0.1)
    if start_state is not None:
        model.load_state_dict(start_state["model"])
        optimizer.load_state_dict(start_state["optimizer"])
    scheduler = spec.to_torch(optimizer)  # built after optimizer.load_state_dict
    if start_state is not None:
        scheduler.load_state_dict(start_state["scheduler"])
    lrs = []
    for _ in range(updates):
        lrs.append(float(optimizer.param_groups[0]["lr"]))
        optimizer.zero_grad()
        loss_of(model, x, y).backward()
        optimizer.step()
        scheduler.step()
    state = {
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
    }
    return lrs, [p.detach().clone() for p in model.parameters()], state


@pytest.mark.parametrize("name", ["smooth", "staircase"])
def test_state_dict_holds_plain_values(name):
    spec = spec_of(name)
    _, _, state = _run(spec, None, 7)
    sd = state["scheduler"]
    assert _plain(sd), sd
    assert sd["spec"] == lrspec.serialize(spec)
    assert sd["last_epoch"] == 7
    assert sd["_last_lr"] == [spec(7)]
    json.dumps(sd)  # JSON-able too
    _, _, tensor_state = _run(spec, None, 7, tensor_lr=True)
    assert _plain(tensor_state["scheduler"])
    assert tensor_state["scheduler"]["_last_lr"] == [spec(7)]


@pytest.mark.parametrize("tensor_lr", [False, True], ids=["float-lr", "tensor-lr"])
@pytest.mark.parametrize("order", ["scheduler-first", "optimizer-first"])
def test_resume_in_process_either_order(order, tensor_lr):
    """``load_state_dict`` puts the restored step's rate into the optimizer at once, whether
    the scheduler was built before or after ``optimizer.load_state_dict``."""
    spec = spec_of("smooth")
    _, _, state = _run(spec, None, 9, tensor_lr=tensor_lr)
    state = pickle.loads(pickle.dumps(state))  # a copy
    model = torch.nn.Linear(3, 1, dtype=torch.float64)
    optimizer = torch.optim.SGD(model.parameters(), lr=torch.tensor(1.0) if tensor_lr else 1.0)
    if order == "scheduler-first":
        scheduler = spec.to_torch(optimizer)
        optimizer.load_state_dict(state["optimizer"])
    else:
        optimizer.load_state_dict(state["optimizer"])
        scheduler = spec.to_torch(optimizer)
    lr_object = optimizer.param_groups[0]["lr"]
    scheduler.load_state_dict(state["scheduler"])
    assert scheduler.last_epoch == 9
    assert float(optimizer.param_groups[0]["lr"]) == pytest.approx(spec(9), rel=1e-7)
    if tensor_lr:
        assert optimizer.param_groups[0]["lr"] is lr_object  # updated in place
    else:
        assert optimizer.param_groups[0]["lr"] == spec(9)
    optimizer.step()
    scheduler.step()
    assert float(optimizer.param_groups[0]["lr"]) == pytest.approx(spec(10), rel=1e-7)
    assert (optimizer.param_groups[0]["lr"] is lr_object) == tensor_lr


def test_load_state_dict_adopts_the_saved_spec_and_rejects_foreign_states():
    model = torch.nn.Linear(2, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    saved = spec_of("staircase").to_torch(optimizer)
    saved.load_state_dict({**saved.state_dict(), "last_epoch": 11})
    state = saved.state_dict()
    other = spec_of("smooth").to_torch(optimizer)
    other.load_state_dict(state)
    assert other.spec == spec_of("staircase")
    assert optimizer.param_groups[0]["lr"] == spec_of("staircase")(11)
    assert state == saved.state_dict()  # loading did not change the dict
    lambda_state = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda k: 1.0).state_dict()
    with pytest.raises(KeyError, match="not an LRSpecScheduler state_dict"):
        other.load_state_dict(lambda_state)
    with pytest.raises(ValueError, match="unknown schedule"):
        other.load_state_dict({**state, "spec": {"class_name": "Nope", "config": {}}})


def test_resume_with_last_epoch_argument():
    spec = spec_of("smooth")
    model = torch.nn.Linear(2, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    scheduler = spec.to_torch(optimizer, last_epoch=4)  # torch's meaning: after step 4
    assert scheduler.last_epoch == 5
    assert optimizer.param_groups[0]["lr"] == spec(5)


def test_scheduler_pickles():
    spec = spec_of("staircase")
    _, _, model = regression()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    scheduler = spec.to_torch(optimizer)
    for _ in range(5):
        optimizer.step()
        scheduler.step()
    blob = pickle.dumps(scheduler)
    assert len(blob) < 20_000  # no cached block of rates in it
    copy = pickle.loads(blob)
    assert copy.spec == spec and copy.last_epoch == 5
    assert copy.state_dict() == scheduler.state_dict()
    for k in range(5, 30):
        assert copy.optimizer.param_groups[0]["lr"] == spec(k)
        copy.optimizer.step()
        copy.step()


def _sequential(spec, optimizer):
    warmup = torch.optim.lr_scheduler.LinearLR(optimizer, 0.25, 1.0, total_iters=3)
    return torch.optim.lr_scheduler.SequentialLR(
        optimizer, [warmup, spec.to_torch(optimizer)], milestones=[3]
    )


@pytest.mark.parametrize("saved_at", [2, 6])
def test_works_inside_sequential_lr(saved_at):
    """A warmup with torch's LinearLR, then the spec from its step 0; a checkpoint taken
    during the warmup or after it resumes with the same rates."""
    spec = spec_of("smooth")
    model = torch.nn.Linear(2, 1)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's deprecation notes inside SequentialLR
        sequential = _sequential(spec, optimizer)
        lrs, state = [], None
        for k in range(10):
            if k == saved_at:
                state = pickle.loads(
                    pickle.dumps({"opt": optimizer.state_dict(), "sched": sequential.state_dict()})
                )
            lrs.append(optimizer.param_groups[0]["lr"])
            optimizer.step()
            sequential.step()
        # resume: fresh objects, scheduler first (torch's advice), then both states
        model2 = torch.nn.Linear(2, 1)
        optimizer2 = torch.optim.SGD(model2.parameters(), lr=0.1)
        sequential2 = _sequential(spec, optimizer2)
        optimizer2.load_state_dict(state["opt"])
        sequential2.load_state_dict(state["sched"])
        resumed = []
        for _ in range(saved_at, 10):
            resumed.append(optimizer2.param_groups[0]["lr"])
            optimizer2.step()
            sequential2.step()
    np.testing.assert_allclose(lrs[:3], [0.025, 0.05, 0.075], rtol=1e-12)
    assert lrs[3:] == [spec(k) for k in range(7)]
    assert resumed == lrs[saved_at:]


# --- CUDA: no host-device synchronization -------------------------------------------------


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("tensor_lr", [False, True], ids=["float-lr", "tensor-lr"])
def test_cuda_scheduler_step_does_not_sync(tensor_lr):
    spec = spec_of("staircase")
    model = torch.nn.Linear(3, 1, device="cuda")
    lr = torch.tensor(0.1, device="cuda") if tensor_lr else 0.1
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    scheduler = spec.to_torch(optimizer)
    x = torch.randn(16, 3, device="cuda")
    previous = torch.cuda.get_sync_debug_mode()
    for k in range(1, 40):
        model(x).sum().backward()
        optimizer.step()
        torch.cuda.set_sync_debug_mode("error")
        try:
            scheduler.step()
            last = scheduler.get_last_lr()
        finally:
            torch.cuda.set_sync_debug_mode(previous)
        value = optimizer.param_groups[0]["lr"]
        if tensor_lr:
            assert value is lr and value.device.type == "cuda"
            assert value.item() == float(np.float32(spec(k)))
            assert last[0].device.type == "cuda" and last[0].item() == value.item()
        else:
            assert value == spec(k) and last == [spec(k)]


# --- spec(tensor) under torch.compile(fullgraph=True) ------------------------------------


def test_tensor_step_under_compile_fullgraph_in_a_fresh_process():
    """``spec(tensor)`` under ``torch.compile(fullgraph=True)`` in a fresh process (the first
    torch step lrspec ever sees is inside the compiler): one frame per spec, float32 scalars
    with the same bits as eager, the exact rate."""
    values = [0, 1, 2, 3, 7, 1000, 2**24 + 1, 2**31 + 5, 2**40, 2**53 + 1]
    code = textwrap.dedent(
        f"""
        import json
        import torch
        import lrspec
        from torch._dynamo.testing import CompileCounter
        report = {{}}
        for name, (a, d, r, staircase) in {SPECS!r}.items():
            spec = lrspec.InverseTimeDecay(a, d, r, staircase=staircase)
            torch._dynamo.reset()
            counter = CompileCounter()
            rate = torch.compile(lambda step: spec(step), backend=counter, fullgraph=True)
            steps = [torch.tensor(v, dtype=torch.int64) for v in {values!r}]
            compiled = [rate(step) for step in steps]
            eager = [spec(step) for step in steps]
            report[name] = {{
                "frames": counter.frame_count,
                "scalar_float32": all(
                    c.dtype == torch.float32 and c.shape == () for c in compiled
                ),
                "as_eager": [bool(torch.equal(c, e)) for c, e in zip(compiled, eager)],
                "values": [float(c) for c in compiled],
            }}
        print(json.dumps(report))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=False
    )
    assert out.returncode == 0, out.stderr[-2000:]
    report = json.loads(out.stdout.strip().splitlines()[-1])
    for name, got in report.items():
        spec = spec_of(name)
        assert got["frames"] == 1, name
        assert got["scalar_float32"] and all(got["as_eager"]), (name, got)
        for v, value in zip(values, got["values"], strict=True):
            assert value == pytest.approx(exact_float(spec, v), rel=6e-8), (name, v)
