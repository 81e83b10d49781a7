"""What lrspec's Keras 3 and Keras 2 (tf_keras) schedules share: they hold a spec, and save
it as its serialized dict (``{"spec": lrspec.serialize(spec)}``)."""

from __future__ import annotations

from lrspec.schedules import Schedule, brief, deserialize, serialize

TYPE_CHECKING = False  # no runtime typing import: lrspec.adapters.keras loads at start-up
if TYPE_CHECKING:
    from typing import Any

__all__ = ["SpecSchedule"]


class SpecSchedule:
    """Mixed in before a Keras ``LearningRateSchedule`` base, which supplies the rest."""

    def __init__(self, spec: Schedule) -> None:
        super().__init__()
        if not isinstance(spec, Schedule):
            raise TypeError(f"spec must be an lrspec schedule, got spec={brief(spec)}")
        self.spec = spec

    def get_config(self) -> dict[str, Any]:
        return {"spec": serialize(self.spec)}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Any:
        if not isinstance(config, dict) or "spec" not in config:
            raise ValueError(
                f"a saved lrspec KerasSchedule config needs a 'spec', got {brief(config)}"
            )
        return cls(deserialize(config["spec"]))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.spec!r})"
