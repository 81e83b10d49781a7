"""7. GPU (when one is present): the torch scheduler step and a compiled training step on the
GPU, host-device syncs per ``scheduler.step()`` (target 0), CUDA-graph capture of
``optimizer.step()`` with a tensor lr updated by ``scheduler.step()`` between replays, and
the jitted optax step on a JAX GPU device.

Without a GPU this writes "not measured: no GPU".
"""

from __future__ import annotations

import warnings

from _common import Record, interleaved, log, parse_args, quantiles, ratios, us, wall_note

import lrspec

LR0, DECAY_STEPS, DECAY_RATE = 0.1, 1.0, 0.5


def factor(k):
    return 1 / (1 + DECAY_RATE * k / DECAY_STEPS)


def torch_gpu(rec: Record, quick: bool) -> None:
    import torch
    from torch.optim.lr_scheduler import LambdaLR

    dev = torch.device("cuda")
    spec = lrspec.InverseTimeDecay(LR0, DECAY_STEPS, DECAY_RATE)
    rec.note(f"torch device: {torch.cuda.get_device_name(dev)}")

    def make(lr, capturable=False):
        model = torch.nn.Sequential(
            torch.nn.Linear(256, 1024), torch.nn.ReLU(), torch.nn.Linear(1024, 10)
        ).to(dev)
        if capturable:
            opt = torch.optim.Adam(model.parameters(), lr=lr, capturable=True)
        else:
            opt = torch.optim.SGD(model.parameters(), lr=lr)
        return model, opt

    # host syncs per scheduler step, tensor lr on the GPU
    _, opt = make(torch.tensor(LR0, device=dev))
    sched = spec.to_torch(opt)
    opt.step()
    sched.step()
    torch.cuda.synchronize()
    syncs = 0
    n_steps = 100
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        torch.cuda.set_sync_debug_mode("warn")
        try:
            for _ in range(n_steps):
                sched.step()
        finally:
            torch.cuda.set_sync_debug_mode("default")
        # count the sync warnings themselves, not torch's note that the mode is a prototype
        messages = [str(w.message) for w in caught]
        syncs = sum("synchroniz" in m and "prototype" not in m for m in messages)
    rec.target(
        f"host-device syncs in {n_steps} `scheduler.step()` calls, tensor lr on the GPU "
        "(`torch.cuda.set_sync_debug_mode`)",
        None,
        "0",
        syncs == 0,
        value=syncs,
    )

    # scheduler.step() per call on GPU: lrspec vs LambdaLR (tensor lr)
    _, opt_a = make(torch.tensor(LR0, device=dev))
    _, opt_b = make(torch.tensor(LR0, device=dev))
    a, b = spec.to_torch(opt_a), LambdaLR(opt_b, factor)
    opt_a.step()
    opt_b.step()

    def loop(s):
        def run(n):
            for _ in range(n):
                s.step()
            torch.cuda.synchronize()

        return run

    times, wall = interleaved({"lrspec": loop(a), "LambdaLR": loop(b)}, 200, 11 if quick else 41)
    r = quantiles(ratios(wall, "lrspec", "LambdaLR"))
    rec.target(
        "`scheduler.step()` per call, tensor lr on the GPU: lrspec / LambdaLR (wall time, "
        "synchronized per block)",
        r,
        "<= 0.5",
        r["median"] <= 0.5,
        unit="x",
        note=f"lrspec {us(quantiles(wall['lrspec']))['median']:.1f} us per call",
    )

    # CUDA graph: capture optimizer.step() reading the tensor lr; scheduler.step() between
    # replays updates the lr in place (fill_), so the replayed graph sees the new rate.
    model, opt = make(torch.tensor(LR0, device=dev), capturable=True)
    x = torch.randn(64, 256, device=dev)
    y = torch.randint(0, 10, (64,), device=dev)
    sched = spec.to_torch(opt)
    s = torch.cuda.Stream()
    s.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(s):
        for _ in range(3):  # warm-up on a side stream, as CUDA graphs require
            opt.zero_grad(set_to_none=False)
            torch.nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
    torch.cuda.current_stream().wait_stream(s)
    graph = torch.cuda.CUDAGraph()
    opt.zero_grad(set_to_none=False)
    captured = False
    error = ""
    try:
        with torch.cuda.graph(graph):
            loss = torch.nn.functional.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
        captured = True
    except Exception as err:  # report, don't crash the whole run
        error = f"{type(err).__name__}: {err}"
    ok = False
    if captured:
        lr_tensor = opt.param_groups[0]["lr"]
        start = sched.last_epoch
        for _ in range(20):
            graph.replay()
            sched.step()
        torch.cuda.synchronize()
        expected = spec(start + 20)
        ok = abs(float(lr_tensor) - expected) <= 1e-6 * expected
    rec.target(
        "CUDA-graph capture of forward + backward + `optimizer.step()` (Adam, capturable, "
        "tensor lr), `scheduler.step()` between 20 replays updates the captured lr",
        None,
        "captures; lr follows the spec",
        captured and ok,
        value="captured, lr follows the spec"
        if captured and ok
        else (error or "captured, but the lr did not follow the spec"),
    )

    # compiled training step on the GPU: lrspec vs constant lr
    def compiled(with_sched):
        model, opt = make(torch.tensor(LR0, device=dev))
        sched = spec.to_torch(opt) if with_sched else None
        step = torch.compile(opt.step)

        def run(n):
            for _ in range(n):
                torch.nn.functional.cross_entropy(model(x), y).backward()
                step()
                opt.zero_grad()
                if sched is not None:
                    sched.step()
            torch.cuda.synchronize()

        return run

    runs = {"constant": compiled(False), "lrspec": compiled(True)}
    times, wall = interleaved(runs, 20, 11 if quick else 41)
    r = quantiles(ratios(wall, "lrspec", "constant"))
    rec.target(
        "compiled training step on the GPU (wall time), lrspec tensor lr / constant lr",
        r,
        "<= 1.05",
        r["median"] <= 1.05,
        unit="x",
        note=wall_note(times, "lrspec", "constant").replace("wall", "CPU"),
    )


def jax_gpu(rec: Record, quick: bool) -> None:
    import jax

    try:
        gpus = jax.devices("gpu")
    except RuntimeError:
        gpus = []
    if not gpus:
        rec.note("JAX: no GPU device (jax is installed without CUDA support): not measured.")
        return
    import bench_jax

    rec.note(f"JAX device: {gpus[0].device_kind}")
    with jax.default_device(gpus[0]):
        _, wall, traces, _, _, _ = bench_jax.measure(quick)
    # wall time: the device's time is not this process's CPU time
    ratio = quantiles(ratios(wall, "spec as learning_rate", "hand-written jnp closure"))
    rec.target(
        "jitted train step on the GPU (wall time): `optax.sgd(spec)` / hand-written closure",
        ratio,
        "<= 1.02",
        ratio["median"] <= 1.02,
        unit="x",
        note=f"traces: {len(traces['spec as learning_rate'])}",
    )


def main() -> None:
    args = parse_args(__doc__)
    rec = Record("gpu", "7. GPU")
    try:
        import torch

        has_cuda = torch.cuda.is_available()
    except ImportError:
        has_cuda = False
    if has_cuda:
        log("gpu: CUDA present")
        torch_gpu(rec, args.quick)
    else:
        rec.note("torch: not measured: no GPU (`torch.cuda.is_available()` is False).")
    jax_gpu(rec, args.quick)
    if not rec.data["targets"]:
        rec.target(
            "GPU: torch/JAX steps on the GPU, host syncs per scheduler step, CUDA-graph capture",
            None,
            "syncs 0; capture works",
            None,
            value="not measured: no GPU",
        )
    rec.write(args.json)


if __name__ == "__main__":
    main()
