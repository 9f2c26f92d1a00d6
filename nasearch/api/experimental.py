"""Stability marker: a class still moving (a new predictor) warns once when first built, as Optuna's
``@experimental_class`` does, so users know its options and defaults may change."""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T", bound=type)


class ExperimentalWarning(UserWarning):
    """The class's interface or defaults may change in a later release."""


def experimental_class(since: str) -> Callable[[T], T]:
    """Decorator: the first construction of the class emits one ExperimentalWarning."""

    def deco(cls: T) -> T:
        original_init = cls.__init__  # type: ignore[misc]  # the class itself, not an instance
        warned = False

        @functools.wraps(original_init)
        def __init__(self: object, *args: object, **kwargs: object) -> None:
            nonlocal warned
            if not warned:
                warned = True
                warnings.warn(
                    f"{cls.__name__} is experimental (since nasearch {since}): its options and "
                    "defaults may change in a later release",
                    ExperimentalWarning,
                    stacklevel=2,
                )
            original_init(self, *args, **kwargs)

        cls.__init__ = __init__  # type: ignore[misc]
        return cls

    return deco
