"""lrspec <-> PyTorch: :class:`LRSpecScheduler` (``spec.to_torch(optimizer)``), a
``torch.optim.lr_scheduler.LRScheduler`` driven by an lrspec spec."""

from __future__ import annotations

import math
import warnings
from fractions import Fraction
from typing import Any

import numpy as np
import torch
from torch.optim.lr_scheduler import LRScheduler

from lrspec.schedules import (
    Anneal,
    Constant,
    Cycle,
    ExponentialDecay,
    Join,
    Linear,
    PiecewiseConstantDecay,
    Product,
    Schedule,
    Shift,
    Sum,
    deserialize,
    serialize,
)

__all__ = ["LRSpecScheduler", "from_torch"]

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


_FLOAT_MAX = 1.7976931348623157e308


def _check_last_lr(value: object) -> list[float]:
    """A state dict's ``_last_lr``: a list of finite numbers >= 0, as Python floats."""
    if not isinstance(value, (list, tuple)):
        raise TypeError(f"_last_lr must be a list of numbers, got _last_lr={value!r:.80}")
    out = []
    for v in value:
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
            raise TypeError(f"_last_lr must hold numbers, got an element {v!r:.80}")
        number = float(v)
        if not (0.0 <= number <= _FLOAT_MAX):
            raise ValueError(f"_last_lr must hold finite rates >= 0, got an element {v!r}")
        out.append(number)
    return out


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
            elif scale.__class__ is float and 0.0 <= scale <= _FLOAT_MAX:  # (not NaN)
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
        last_lr = _check_last_lr(state_dict.get("_last_lr", []))
        if spec != self._spec:
            self.spec = spec
        if last_epoch < 0:
            # not started (a later scheduler of a SequentialLR, say): the optimizer's lr
            # belongs to another scheduler for now
            self.last_epoch = last_epoch
            self._step_count = step_count
            self._last_lr = list(last_lr)
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


# --- torch -> lrspec: from_torch ----------------------------------------------------------

#: torch schedulers that set the rate outright at every step (the others multiply it)
_ABSOLUTE = ("LambdaLR", "CyclicLR", "OneCycleLR", "CosineAnnealingWarmRestarts")
_MULTIPLYING = (
    "StepLR",
    "MultiStepLR",
    "ConstantLR",
    "LinearLR",
    "ExponentialLR",
    "PolynomialLR",
)


def from_torch(scheduler: Any, group: int = 0) -> Schedule:
    """The spec of a ``torch.optim.lr_scheduler`` object: ``spec(k)`` is the learning rate
    of param group ``group`` after ``k`` calls of ``scheduler.step()`` counted from the
    scheduler's construction (its whole curve, also when it has stepped already).

    Converts ``StepLR``, ``MultiStepLR``, ``ConstantLR``, ``LinearLR``, ``ExponentialLR``,
    ``PolynomialLR``, ``CosineAnnealingLR`` (and its periodic continuation past ``T_max``),
    ``CosineAnnealingWarmRestarts``, ``CyclicLR``, ``OneCycleLR``, ``SequentialLR`` and
    ``ChainedScheduler`` over these (nested), the ``LambdaLR`` objects that
    ``transformers.get_scheduler`` builds, and lrspec's own scheduler. Anything else (a
    user's ``LambdaLR``/``MultiplicativeLR`` function, ``ReduceLROnPlateau``) raises a
    ``TypeError`` naming the scheduler and why.
    """
    if isinstance(group, bool) or not isinstance(group, int) or group < 0:
        raise TypeError(f"group must be a param group index, got group={group!r}")
    try:
        return _curve(scheduler, group, None, True)
    except ValueError as err:  # a spec refused the arguments: say which scheduler
        if str(err).startswith("cannot convert"):
            raise
        raise ValueError(f"cannot convert torch {_kind(scheduler)}: {err}") from err


def _kind(scheduler: Any) -> str:
    return type(scheduler).__name__


def _float(value: Any) -> float:
    return float(value.item()) if hasattr(value, "item") else float(value)


def _base(scheduler: Any, group: int) -> float:
    bases = getattr(scheduler, "base_lrs", None)
    if bases is None or group >= len(bases):
        raise ValueError(
            f"{_kind(scheduler)} has no param group {group} "
            f"({0 if bases is None else len(bases)} groups)"
        )
    return _float(bases[group])


def _refuse(scheduler: Any, why: str, error: type[Exception] = TypeError) -> Exception:
    return error(f"cannot convert torch {_kind(scheduler)} to an lrspec schedule: {why}")


def _curve(s: Any, group: int, base: float | None, own_start: bool) -> Schedule:
    """``s``'s curve; ``base`` given: as a factor of that base (inside a chain).
    ``own_start``: step 0 is the scheduler's own construction step (not a SequentialLR's)."""
    kind = _kind(s)
    spec = getattr(s, "spec", None)
    if isinstance(spec, Schedule):  # lrspec's own scheduler
        return spec
    if kind == "ReduceLROnPlateau":
        raise _refuse(s, "it follows the metric passed to step(), so it has no fixed curve")
    if kind == "MultiplicativeLR":
        raise _refuse(s, "it multiplies by a Python function, which lrspec cannot read")
    if kind == "SequentialLR":
        milestones = list(s._milestones)
        if any(not isinstance(m, int) or m < 0 for m in milestones) or milestones != sorted(
            milestones
        ):
            raise _refuse(s, f"milestones must be sorted whole steps, got {milestones!r}")
        return Join(tuple(_curve(c, group, base, False) for c in s._schedulers), tuple(milestones))
    if kind == "ChainedScheduler":
        return _chain(s, group, base, own_start)
    b = _base(s, group) if base is None else base
    if kind == "StepLR":
        return ExponentialDecay(b, s.step_size, _float(s.gamma), staircase=True)
    if kind == "MultiStepLR":
        gamma = Fraction(_float(s.gamma))
        hits = sorted(m for m in s.milestones.elements() if m >= 0)
        values = [float(Fraction(b) * gamma**j) for j in range(len(hits) + 1)]
        return (
            PiecewiseConstantDecay(tuple(m - 1 for m in hits), tuple(values))
            if hits
            else Constant(b)
        )
    if kind == "ConstantLR":
        factor = _float(s.factor)
        if s.total_iters == 0:  # torch applies the factor at step 0 and never undoes it
            return Constant(b * factor)
        if factor == 0:
            raise _refuse(s, "factor=0: torch divides by zero at step total_iters", ValueError)
        return PiecewiseConstantDecay((s.total_iters - 1,), (b * factor, b))
    if kind == "LinearLR":
        start, end = _float(s.start_factor), _float(s.end_factor)
        if s.total_iters == 0:
            return Constant(b * start)
        return Linear(b * start, b * end, s.total_iters)
    if kind == "ExponentialLR":
        return ExponentialDecay(b, 1, _float(s.gamma))
    if kind == "PolynomialLR":
        power = _float(s.power)
        if s.total_iters == 0 or power == 0:
            return Constant(b)
        return Anneal(b, 0.0, s.total_iters, shape="linear", power=power)
    if kind == "CosineAnnealingLR":
        if s.T_max <= 0:
            raise _refuse(s, f"T_max={s.T_max!r}: torch divides by zero", ValueError)
        return Anneal(b, _float(s.eta_min), s.T_max, shape="cos", mirror=True)
    if base is not None and kind in _ABSOLUTE:
        raise _refuse(s, "it sets the rate outright, so inside a chain it is no factor")
    if kind == "CosineAnnealingWarmRestarts":
        inner = Anneal(b, _float(s.eta_min), s.T_0, shape="cos")
        return Cycle(inner, period=s.T_0, period_mul=s.T_mult)
    if kind == "CyclicLR":
        return _cyclic(s, group, own_start)
    if kind == "OneCycleLR":
        return _one_cycle(s, group)
    if kind == "LambdaLR":
        from lrspec.adapters.transformers import from_lambda

        fn = s.lr_lambdas[group]
        spec = from_lambda(fn, b)
        if spec is None:
            name = getattr(getattr(fn, "func", fn), "__qualname__", type(fn).__name__)
            raise _refuse(
                s,
                f"its lr_lambda {name} is a Python function, which lrspec cannot read; "
                "write the schedule with lrspec's specs instead (docs/porting.md)",
            )
        return spec
    raise _refuse(s, "lrspec does not know this scheduler")


def _chain(s: Any, group: int, base: float | None, own_start: bool) -> Schedule:
    """``ChainedScheduler``: each scheduler in turn updates the rate left by the previous
    one. Multiplying schedulers compose as a product of their curves; one that sets the rate
    outright (``CyclicLR``, ...) replaces all before it."""
    flat: list[Any] = []

    def walk(chain: Any) -> None:
        for child in chain._schedulers:
            if _kind(child) == "ChainedScheduler":
                walk(child)
            else:
                flat.append(child)

    walk(s)
    last = max((i for i, c in enumerate(flat) if _kind(c) in _ABSOLUTE), default=-1)
    if last >= 0:
        if last < len(flat) - 1:
            raise _refuse(
                s,
                f"{_kind(flat[last + 1])} follows {_kind(flat[last])}, which sets the rate "
                "outright: torch then applies only one step's factor each step, no product",
            )
        return _curve(flat[last], group, base, own_start)
    for child in flat:
        if _kind(child) not in _MULTIPLYING:
            why = (
                "CosineAnnealingLR past T_max rebases its rate additively, which no product "
                "of curves follows"
                if _kind(child) == "CosineAnnealingLR"
                else "it is not a multiplying scheduler"
            )
            if len(flat) > 1:
                raise _refuse(s, f"{_kind(child)} in a chain: {why}")
    if len(flat) == 1:
        return _curve(flat[0], group, base, own_start)
    b = _base(flat[0], group) if base is None else base
    factors = [_curve(c, group, 1.0, own_start) for c in flat[1:]]
    return Product((_curve(flat[0], group, b, own_start), *factors))


def _cyclic(s: Any, group: int, own_start: bool) -> Schedule:
    if getattr(s, "_scale_fn_custom", None) is not None:
        raise _refuse(s, "its scale_fn is a Python function, which lrspec cannot read")
    low, high = _float(s.base_lrs[group]), _float(s.max_lrs[group])
    total = float(s.total_size)
    up = round(total * s.step_ratio)
    down = total - up
    if not total.is_integer() or up / total != s.step_ratio or up <= 0:
        raise _refuse(
            s,
            "step_size_up and step_size_down must be whole numbers, step_size_up >= 1",
            ValueError,
        )
    size = int(total)

    def wave(a: float, b: float) -> Schedule:
        """One cycle: up from ``a`` to ``b`` in ``up`` steps, down again in ``down``."""
        rise = Anneal(a, b, up, shape="linear")
        return rise if down == 0 else Join((rise, Anneal(b, a, down, shape="linear")), (up,))

    if s.mode == "triangular":
        curve: Schedule = Cycle(wave(low, high), period=size)
    else:
        if high < low:
            raise _refuse(s, f"mode={s.mode!r} with max_lr < base_lr", ValueError)
        height = float(Fraction(high) - Fraction(low))
        if s.mode == "triangular2":  # the amplitude halves each cycle
            amplitude: Schedule = Cycle(wave(0.0, height), period=size, decay=0.5)
        else:  # exp_range: the amplitude times gamma ** k
            gamma = ExponentialDecay(1.0, 1, _float(s.gamma))
            amplitude = Product((Cycle(wave(0.0, height), period=size), gamma))
        curve = Sum((Constant(low), amplitude))
    initial = _float(s.optimizer.param_groups[group].get("initial_lr", low))
    if own_start and initial != low:
        # torch builds CyclicLR's first rate from the group's initial_lr (set by an earlier
        # scheduler of the optimizer), not from base_lr: step 0 is initial_lr
        return Join((Constant(initial), Shift(curve, 1)), (1,))
    return curve


def _one_cycle(s: Any, group: int) -> Schedule:
    """``OneCycleLR``: phases between real-valued end steps (``pct_start * total_steps - 1``,
    ...); phase ``i`` runs over ``(end[i-1], end[i]]`` at progress
    ``(k - end[i-1]) / (end[i] - end[i-1])``. After ``total_steps - 1`` torch raises (at
    ``total_steps`` it extrapolates); lrspec holds the last phase's end value."""
    g = s.optimizer.param_groups[group]
    shape = "cos" if s._anneal_func_type == "cos" else "linear"
    schedules: list[Schedule] = []
    boundaries: list[int] = []
    start = 0.0
    phases = s._schedule_phases
    final = s.total_steps - 1  # the last step torch schedules
    for i, phase in enumerate(phases):
        end = float(phase["end_step"])
        first = 0 if i == 0 else max(math.floor(start) + 1, 0)  # its first whole step
        last = final if i == len(phases) - 1 else min(end, final)  # and its last
        if first > last:  # no step of the run falls in this phase
            start = end
            continue
        length = end - start
        if length <= 0:
            raise _refuse(
                s,
                f"phase {i} has no length (it ends at step {end!r}, where it starts): torch "
                "divides by zero there",
                ValueError,
            )
        a, b = _float(g[phase["start_lr"]]), _float(g[phase["end_lr"]])
        curve: Schedule = Anneal(a, b, length, shape=shape)
        offset = float(Fraction(first) - Fraction(start))
        if offset:
            curve = Shift(curve, offset)
        if schedules:
            boundaries.append(first)
        schedules.append(curve)
        start = end
    if len(schedules) == 1:
        return schedules[0]
    return Join(tuple(schedules), tuple(boundaries))
