"""lrspec <-> PyTorch: :class:`LRSpecScheduler` (``spec.to_torch(optimizer)``), a
``torch.optim.lr_scheduler.LRScheduler`` driven by an lrspec spec."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import torch
from torch.optim.lr_scheduler import LRScheduler

from lrspec.schedules import Schedule, deserialize, serialize

__all__ = ["LRSpecScheduler"]

#: steps evaluated at once for the float path (one vectorized float64 evaluation per block)
_BLOCK = 1024
_INT64_MAX = 2**63 - 1


def _check_scale(index: int, scale: object) -> float:
    """A param group's ``lr_scale``: a real, finite number >= 0, as a Python float."""
    if isinstance(scale, bool) or not isinstance(scale, (int, float, np.integer, np.floating)):
        raise TypeError(
            f"param_groups[{index}]['lr_scale'] must be a Python or NumPy number, "
            f"got lr_scale={scale!r}"
        )
    value = float(scale)
    if not (value >= 0 and math.isfinite(value)):
        raise ValueError(
            f"param_groups[{index}]['lr_scale'] must be finite and >= 0, got lr_scale={scale!r}"
        )
    return value


def _check_step(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an int, got {name}={value!r}")
    return int(value)


class LRSpecScheduler(LRScheduler):
    """A ``torch.optim.lr_scheduler.LRScheduler`` whose learning rates follow an lrspec spec.

    Use it like ``LambdaLR``: call ``scheduler.step()`` after each ``optimizer.step()``. The
    lr applied by the k-th ``optimizer.step()`` (k = 0, 1, ...) is ``spec(k)``, times the
    param group's optional ``lr_scale`` entry (timm's convention)::

        scheduler = spec.to_torch(optimizer)   # sets every group's lr to spec(0) * lr_scale
        for batch in data:
            loss(batch).backward()
            optimizer.step()                   # applies spec(k)
            scheduler.step()                   # moves to k + 1
            optimizer.zero_grad()

    * The spec defines the learning rate: the lr the optimizer was built with is overwritten
      (``base_lrs`` and the groups' ``initial_lr`` record it, as in torch, and are not used).
    * A float lr becomes the Python float ``spec(k) * lr_scale``, computed in float64: the
      spec is evaluated by NumPy 1024 steps at a time (a few microseconds per step less than
      one Python-number evaluation per step), giving the values of ``spec(k)`` for a Python
      int ``k``.
    * A tensor lr (the ``torch.compile`` / CUDA-graph pattern) stays the same tensor object and
      is updated in place with ``fill_``: a compiled ``optimizer.step()`` never recompiles, and
      a step never synchronizes with the device (the value comes from the host counter).
    * :meth:`state_dict` holds plain Python values only (the serialized spec, the step and the
      last rates): it loads with ``torch.load(..., weights_only=True)``.
      :meth:`load_state_dict` adopts the saved spec and step and puts that step's rate into
      the optimizer at once, so it also resumes a scheduler built after
      ``optimizer.load_state_dict(...)``.
    * ``step()`` runs eagerly under ``torch.compile`` (a graph break, as for torch's own
      schedulers), so the Python step counter never becomes a guard.

    Args:
        optimizer: the wrapped ``torch.optim.Optimizer``.
        spec: an lrspec schedule, e.g. ``lrspec.InverseTimeDecay(0.1, 1.0, 0.5)``.
        last_epoch: as in torch: ``-1`` (default) starts at step 0; ``n >= 0`` resumes after
            step ``n`` (the optimizer is set to ``spec(n + 1)``).

    >>> import torch, lrspec
    >>> model = torch.nn.Linear(2, 1)
    >>> optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
    >>> scheduler = lrspec.InverseTimeDecay(0.1, 1.0, 0.5).to_torch(optimizer)
    >>> optimizer.param_groups[0]["lr"]
    0.1
    >>> optimizer.step(); scheduler.step()
    >>> scheduler.get_last_lr()
    [0.06666666666666667]
    """

    def __init__(
        self, optimizer: torch.optim.Optimizer, spec: Schedule, last_epoch: int = -1
    ) -> None:
        if not isinstance(spec, Schedule):
            raise TypeError(f"spec must be an lrspec schedule, got spec={spec!r}")
        last_epoch = _check_step("last_epoch", last_epoch)
        if last_epoch < -1:
            raise ValueError(f"last_epoch must be >= -1, got last_epoch={last_epoch!r}")
        if isinstance(optimizer, torch.optim.Optimizer):
            for index, group in enumerate(optimizer.param_groups):
                if "lr_scale" in group:
                    _check_scale(index, group["lr_scale"])
                # torch's record of the optimizer's own lr, which it needs to resume
                # (last_epoch >= 0); the schedule never reads it
                initial = group["lr"]
                group.setdefault(
                    "initial_lr", initial.clone() if isinstance(initial, torch.Tensor) else initial
                )
        _install_compile_barrier()
        self._spec = spec
        self._table: list[float] = []
        self._table_start = 0
        self._last_lr: list[float | torch.Tensor] = []
        # records the optimizer's lrs, runs the initial step (lr = spec(last_epoch + 1))
        super().__init__(optimizer, last_epoch)

    # the spec ---------------------------------------------------------------------------

    @property
    def spec(self) -> Schedule:
        """The lrspec schedule driving the optimizer."""
        return self._spec

    @spec.setter
    def spec(self, spec: Schedule) -> None:
        if not isinstance(spec, Schedule):
            raise TypeError(f"spec must be an lrspec schedule, got spec={spec!r}")
        self._spec = spec
        self._table = []

    def _rate(self, step: int) -> float:
        """``spec(step)`` as a Python float computed in float64 (before ``lr_scale``)."""
        i = step - self._table_start
        table = self._table
        if 0 <= i < len(table):
            return table[i]
        return self._fill(step)

    def _fill(self, step: int) -> float:
        """Evaluate the spec at the block of steps that starts at ``step`` (float64)."""
        step = _check_step("step", step)
        if step < 0:
            raise ValueError(f"step must be >= 0, got step={step!r}")
        if step > _INT64_MAX - _BLOCK:  # past an int64 block: one Python-number evaluation
            return float(self._spec(step))
        steps = np.arange(step, step + _BLOCK, dtype=np.int64)
        self._table = np.asarray(self._spec(steps), dtype=np.float64).tolist()
        self._table_start = step
        return self._table[0]

    # LRScheduler ------------------------------------------------------------------------

    def step(self, epoch: int | None = None) -> None:
        """Move to the next step (or to step ``epoch``) and set every group's lr to its rate.

        Call it after ``optimizer.step()``.
        """
        if self._step_count == 1:
            self._check_call_order()
        k = self.last_epoch + 1 if epoch is None else _check_step("epoch", epoch)
        # the rate first: a bad step changes nothing
        i = k - self._table_start
        table = self._table
        rate = table[i] if 0 <= i < len(table) else self._fill(k)
        self._step_count += 1
        self.last_epoch = k
        last: list[float | torch.Tensor] = []
        for group in self.optimizer.param_groups:
            scale = group.get("lr_scale")
            if scale is None:
                value = rate
            elif scale.__class__ is float:
                value = rate * scale
            else:
                value = rate * _check_scale(len(last), scale)
            lr = group["lr"]
            if isinstance(lr, torch.Tensor):
                lr.fill_(value)  # in place: same tensor object, no host-device sync
            else:
                group["lr"] = value
            last.append(value)
        self._last_lr = last

    def _check_call_order(self) -> None:
        # torch's own checks (https://github.com/pytorch/pytorch/issues/20124), same warnings
        if not hasattr(self.optimizer.step, "_wrapped_by_lr_sched"):
            warnings.warn(
                "Seems like `optimizer.step()` has been overridden after learning rate "
                "scheduler initialization. Please, make sure to call `optimizer.step()` before "
                "`lr_scheduler.step()`. See more details at "
                "https://pytorch.org/docs/stable/optim.html#how-to-adjust-learning-rate",
                UserWarning,
                stacklevel=3,
            )
        elif not getattr(self.optimizer, "_opt_called", False):
            warnings.warn(
                "Detected call of `lr_scheduler.step()` before `optimizer.step()`. "
                "In PyTorch 1.1.0 and later, you should call them in the opposite order: "
                "`optimizer.step()` before `lr_scheduler.step()`.  Failure to do this will "
                "result in PyTorch skipping the first value of the learning rate schedule. "
                "See more details at "
                "https://pytorch.org/docs/stable/optim.html#how-to-adjust-learning-rate",
                UserWarning,
                stacklevel=3,
            )

    def get_lr(self) -> list[float | torch.Tensor]:
        """The rates of the current step (``last_epoch``), one per param group, as floats."""
        rate = self._rate(max(self.last_epoch, 0))
        return [
            rate * _check_scale(index, group.get("lr_scale", 1.0))
            for index, group in enumerate(self.optimizer.param_groups)
        ]

    def _get_closed_form_lr(self) -> list[float | torch.Tensor]:
        return self.get_lr()

    def get_last_lr(self) -> list[float | torch.Tensor]:
        """The rates set by the last step, one per param group, of the type of its lr.

        A float lr gives the Python float that was written; a tensor lr a new tensor (never
        the optimizer's own) holding the value written to it.
        """
        groups = self.optimizer.param_groups
        out: list[float | torch.Tensor] = []
        for index, value in enumerate(self._last_lr):
            lr = groups[index]["lr"] if index < len(groups) else None
            if isinstance(lr, torch.Tensor) and not isinstance(value, torch.Tensor):
                out.append(torch.full_like(lr, value))
            else:
                out.append(value)
        return out

    # state ------------------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """The scheduler's state as plain Python values (``weights_only``-loadable):
        ``{"spec": lrspec.serialize(spec), "last_epoch": int, "_step_count": int,
        "_last_lr": [float, ...]}``."""
        return {
            "spec": serialize(self._spec),
            "last_epoch": int(self.last_epoch),
            "_step_count": int(self._step_count),
            "_last_lr": [float(v) for v in self._last_lr],
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore a :meth:`state_dict`: its spec and step, and put that step's rate into the
        optimizer at once (so a scheduler built after ``optimizer.load_state_dict`` resumes
        where it stopped)."""
        if not isinstance(state_dict, dict):
            raise TypeError(f"state_dict must be a dict, got {type(state_dict).__name__}")
        missing = [key for key in ("spec", "last_epoch") if key not in state_dict]
        if missing:
            raise KeyError(
                f"not an LRSpecScheduler state_dict: missing {missing}, "
                f"got keys {sorted(state_dict)}"
            )
        spec = deserialize(state_dict["spec"])
        last_epoch = _check_step("last_epoch", state_dict["last_epoch"])
        if last_epoch < -1:
            raise ValueError(f"last_epoch must be >= -1, got last_epoch={last_epoch!r}")
        step_count = _check_step("_step_count", state_dict.get("_step_count", last_epoch + 1))
        if spec != self._spec:
            self.spec = spec
        if last_epoch < 0:
            # not started (a later scheduler of a SequentialLR, say): the optimizer's lr
            # belongs to another scheduler for now
            self.last_epoch = last_epoch
            self._step_count = step_count
            self._last_lr = [float(v) for v in state_dict.get("_last_lr", [])]
            return
        # re-apply the restored step's rate through step(), without counting a step
        self.last_epoch = last_epoch - 1
        self._step_count = 0
        self.step()
        self._step_count = step_count

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_table"] = []  # a cache: rebuilt on the next step
        return state

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._spec!r}, last_epoch={self.last_epoch})"


#: run eagerly under torch.compile: every method that reads the Python step counter or the
#: Python floats of the last rates (traced, each would be a guard, and each step a recompile)
_EAGER = ("step", "get_lr", "get_last_lr", "state_dict", "load_state_dict")
_BARRIER: list[Any] = []  # [the private marking function] once installed, or [None]


def _install_compile_barrier() -> None:
    """Make ``torch.compile`` run the scheduler's methods eagerly, as it runs torch's own
    schedulers (dynamo skips ``torch/optim/lr_scheduler.py``): traced, the Python step counter
    would be a guard and every step a recompile.

    Dynamo graph-breaks at a call to a function marked ``_torchdynamo_disable``, then runs it,
    and everything it calls, untraced when its code is marked "skip, recursively". That costs
    nothing per call; the marks are renewed at each construction (``torch._dynamo.reset()``
    may clear them). Where this torch lacks the (private) marking, ``torch.compiler.disable``
    wraps the methods instead (0.5-1.5 us more per call; it imports ``torch._dynamo``, which
    ``optimizer.step()`` imports anyway).
    """
    if not _BARRIER:
        try:
            from torch._C._dynamo.eval_frame import (
                _FrameAction,
                _FrameExecStrategy,
                set_code_exec_strategy,
            )

            skip = _FrameExecStrategy(_FrameAction.SKIP, _FrameAction.SKIP)

            def mark(code: Any) -> None:
                set_code_exec_strategy(code, skip)

            for name in _EAGER:
                fn = LRSpecScheduler.__dict__[name]
                mark(fn.__code__)
                fn._torchdynamo_disable = True
            _BARRIER.append(mark)
        except (ImportError, AttributeError, TypeError, RuntimeError):
            for name in _EAGER:
                fn = LRSpecScheduler.__dict__[name]
                setattr(LRSpecScheduler, name, torch.compiler.disable(fn))  # type: ignore[no-untyped-call]
            _BARRIER.append(None)
        return
    mark = _BARRIER[0]
    if mark is not None:
        for name in _EAGER:
            mark(LRSpecScheduler.__dict__[name].__code__)
