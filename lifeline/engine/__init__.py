"""The live loop: one engine over every input, in event time (see :mod:`lifeline.engine.engine`)."""

from lifeline.engine.engine import Engine, EngineConfig, StepReport

__all__ = ["Engine", "EngineConfig", "StepReport"]
