"""PyTorch backend: ops on tensors, float64 on the step's own device (float32 on MPS)."""

from __future__ import annotations

from typing import Any

import torch

from lrspec.backends.base import LazyStep, Ops

_WRAP_BITS = {torch.int8: 8, torch.int16: 16, torch.int32: 32}


def _compute_dtype(device: torch.device) -> torch.dtype:
    # MPS has no float64; everywhere else compute in float64 and round once.
    return torch.float32 if device.type == "mps" else torch.float64


def _out_dtype(dtype: Any | None) -> torch.dtype:
    if dtype is None:
        return torch.get_default_dtype()
    if isinstance(dtype, str):
        dtype = getattr(torch, dtype)
    if not isinstance(dtype, torch.dtype):
        raise TypeError(f"dtype must be a torch dtype or its name, got dtype={dtype!r}")
    return dtype


class TorchOps(Ops):
    name = "torch"
    xp = torch

    def prepare(self, step: Any, dtype: Any | None) -> LazyStep:
        if step.dtype == torch.bool or step.is_complex():
            raise TypeError(f"step must have an integer or floating dtype, got {step.dtype}")
        fdtype = _compute_dtype(step.device)
        precise = fdtype == torch.float64 and _out_dtype(dtype) == torch.float64
        if step.is_floating_point():
            # inf: the largest step; NaN stays NaN (clamp propagates it)
            top = torch.finfo(fdtype).max
            return LazyStep(
                lambda: torch.clamp(step.to(fdtype), 0.0, top), None, precise, may_be_nan=True
            )
        if step.dtype == torch.uint64:
            # torch has no uint64 arithmetic (and int64 would wrap past 2**63): read it as
            # float64, exact below 2**53 and rounded once above
            return LazyStep(lambda: step.to(fdtype), None, precise)
        bits = _WRAP_BITS.get(step.dtype)
        wide = step.to(torch.int64)
        if bits is not None:
            # A wrapped narrow counter counts on: read it modulo 2**bits.
            wide = torch.where(wide < 0, wide + (1 << bits), wide)
        else:
            wide = torch.clamp(wide, min=0)
        return LazyStep(lambda: wide.to(fdtype), lambda: wide, precise)

    def finish(self, value: Any, step: Any, dtype: Any | None) -> Any:
        return value.to(_out_dtype(dtype))

    def to_float(self, x: Any) -> Any:
        return x.to(_compute_dtype(x.device))

    def div(self, num: Any, den: Any) -> Any:
        # torch computes `float / tensor` as reciprocal(tensor) * float: two roundings
        if isinstance(num, float):
            return torch.full_like(den, num).div_(den)
        return num / den

    def minimum(self, x: Any, y: Any) -> Any:
        return torch.clamp(x, max=y) if isinstance(y, float) else torch.minimum(x, y)

    def maximum(self, x: Any, y: Any) -> Any:
        return torch.clamp(x, min=y) if isinstance(y, float) else torch.maximum(x, y)

    def native(self, steps: Any, variant: str) -> Any:
        return torch.from_numpy(steps)

    def to_numpy(self, value: Any) -> Any:
        return value.detach().cpu().numpy()


OPS = TorchOps()
