"""JSON round trips for the frozen network config dataclasses."""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

T = TypeVar("T", bound="JsonConfig")


class JsonConfig:
    """Mixin for frozen dataclasses: ``to_dict()`` gives JSON-safe values, ``from_dict()`` inverts it.

    Tuples become lists in JSON and tuples again on the way back; unknown keys are an error (a
    config written by a newer version should fail loudly, not be half-read).
    """

    def to_dict(self) -> dict[str, Any]:
        """Field name -> value, with tuples as lists."""
        out = {}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            out[f.name] = list(value) if isinstance(value, tuple) else value
        return out

    @classmethod
    def from_dict(cls: type[T], data: dict[str, Any]) -> T:
        """Build the config from :meth:`to_dict` output; ``ValueError`` on unknown keys or values."""
        names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        unknown = sorted(set(data) - names)
        if unknown:
            raise ValueError(f"unknown {cls.__name__} fields: {', '.join(unknown)}")
        values = {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}
        return cls(**values)
