"""Value checks at the CLI boundary: a command's ``Config`` may define ``validate(self) -> None``, which
``twinarm.cli.main`` calls after composing (never ``__post_init__``: hydra builds the dataclass before the overrides
are final). Every failure is a :class:`ConfigError` naming the key, the value given and the valid values.

Also here: the checks hydra does not do itself (an added ``+key`` that no schema field has) and a readable message
for a value of the wrong type (``episodes=abc``: "expected an integer").
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence

from twinarm.robot.errors import ConfigError


def check(ok: bool, key: str, value: object, valid: str) -> None:
    """Raise ``ConfigError("<key>=<value> is invalid; valid: <valid>")`` unless ``ok``."""
    if not ok:
        raise ConfigError(f"{key}={value!r} is invalid; valid: {valid}")


def at_least(cfg: object, keys: Iterable[str], minimum: float) -> None:
    """Every field of ``keys`` (dotted paths into ``cfg``) is >= ``minimum``."""
    for key in keys:
        value = _get(cfg, key)
        kind = "an integer" if isinstance(value, int) else "a number"
        check(value >= minimum, key, value, f"{kind} >= {minimum:g}")


def one_of(key: str, value: object, valid: Sequence[object]) -> None:
    check(value in valid, key, value, ", ".join(map(str, valid)))


def _get(cfg: object, key: str) -> object:
    for part in key.split("."):
        cfg = getattr(cfg, part)
    return cfg


# -- overrides ---------------------------------------------------------------------------------------------
def unknown_added_keys(schema: type, overrides: Sequence[str]) -> list[str]:
    """Keys of ``+key=value`` / ``++key=value`` overrides that are no field of ``schema`` (a dict-valued field,
    e.g. ``policy_args``, takes any key below it)."""
    defaults = schema()
    unknown = []
    for override in overrides:
        if not override.startswith("+"):
            continue
        key = override.lstrip("+").split("=", 1)[0]
        node: object = defaults
        for part in key.split("."):
            if isinstance(node, dict):
                break
            if not dataclasses.is_dataclass(node) or part not in {f.name for f in dataclasses.fields(node)}:
                unknown.append(key)
                break
            node = getattr(node, part)
    return unknown


_KINDS = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}


def type_error_message(schema: type, exc: BaseException) -> str | None:
    """``"episodes='abc' is invalid; valid: an integer (default 5)"`` for an omegaconf conversion error in the
    cause chain of ``exc``; None when the error is not about a value's type."""
    err: BaseException | None = exc
    while err is not None:
        key = getattr(err, "full_key", None)
        if key and "could not be converted" in str(err):
            try:
                default = _get(schema(), key)
            except AttributeError:
                return None
            kind = _KINDS.get(type(default), type(default).__name__)
            given = str(err).split("'")[1] if str(err).count("'") >= 2 else "?"
            return f"{key}={given!r} is invalid; valid: {kind} (default {default!r})"
        err = err.__cause__ or err.__context__
    return None
