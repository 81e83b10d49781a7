#!/usr/bin/env bash
# The GPU checks, in one run on a machine with a CUDA GPU and its own torch/JAX builds:
# the CUDA tests (device kept, no host sync per scheduler step) and benchmarks/bench_gpu.py.
# Usage: bash benchmarks/gpu_check.sh OUTDIR
set -uo pipefail
out=${1:-gpu-out}
mkdir -p "$out"
cd "$(dirname "$0")/.."
export PYTHONPATH="$PWD/src:$PWD/benchmarks" PYTHONUNBUFFERED=1 TF_CPP_MIN_LOG_LEVEL=3
python3 - <<'PY' 2>&1 | tee "$out/versions.log"
import jax, numpy, torch
print("torch", torch.__version__, torch.cuda.get_device_name(0), "| jax", jax.__version__, jax.devices())
PY
python3 -m pytest -q -p no:cacheprovider -rs tests/test_dispatch.py tests/test_torch.py \
    -k "cuda or device" 2>&1 | tee "$out/pytest.log"
python3 - <<'PY' 2>&1 | tee "$out/jax_gpu.log"
import jax, jax.numpy as jnp, optax, lrspec
spec = lrspec.Warmup(lrspec.CosineDecay(0.1, 1000), 100)
gpu = jax.devices("gpu")[0]
steps = jax.device_put(jnp.arange(2000), gpu)
out = spec(steps)
print("result device:", out.devices(), out.dtype)
traces = []
@jax.jit
def rate(count):
    traces.append(1)
    return spec(count)
vals = [float(rate(jax.device_put(jnp.int32(k), gpu))) for k in range(0, 2000, 97)]
print("jit traces over 21 counts:", len(traces))
ref = [float(lrspec.reference.exact(spec, k)) for k in range(0, 2000, 97)]
print("max abs diff vs exact, in float32 ulps of the peak:", max(abs(a - b) for a, b in zip(vals, ref)) / (0.1 * 2**-23))
PY
cd benchmarks && python3 bench_gpu.py --json "$out/gpu.json" 2>&1 | tee "$out/bench_gpu.log"
