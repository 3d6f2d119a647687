"""A small typed schema for TOML config: dataclass sections validated with key-path errors."""

from __future__ import annotations

import dataclasses
import difflib
import math
import types
import typing
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, Union

T = TypeVar("T")

Check = Callable[[Any], str | None]


def setting(
    default: Any = dataclasses.MISSING,
    *,
    doc: str,
    minimum: float | None = None,
    maximum: float | None = None,
    check: Check | None = None,
    default_factory: Callable[[], Any] | None = None,
) -> Any:
    """Declare a config field with documentation, bounds and an optional extra check."""
    metadata = {"doc": doc, "minimum": minimum, "maximum": maximum, "check": check}
    if default_factory is not None:
        return dataclasses.field(default_factory=default_factory, metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


def build(cls: type[T], data: Any, path: str, problems: list[str]) -> T | None:
    """Validate `data` against dataclass `cls`, appending every problem to `problems`."""
    if not isinstance(data, Mapping):
        problems.append(f"{path or '<root>'}: expected a table, got {_kind(data)}")
        return None
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    for key in data:
        if key not in fields:
            hint = difflib.get_close_matches(str(key), list(fields), n=1)
            suggestion = f" (did you mean '{hint[0]}'?)" if hint else ""
            problems.append(f"{_join(path, str(key))}: unknown key{suggestion}")
    values: dict[str, Any] = {}
    ok = True
    for name, field in fields.items():
        key_path = _join(path, name)
        if name not in data:
            if (
                field.default is dataclasses.MISSING
                and field.default_factory is dataclasses.MISSING
            ):
                if dataclasses.is_dataclass(hints[name]):
                    sub = build(hints[name], {}, key_path, problems)
                    if sub is None:
                        ok = False
                    values[name] = sub
                    continue
                problems.append(f"{key_path}: required key is missing")
                ok = False
            continue
        before = len(problems)
        value = _convert(hints[name], data[name], key_path, problems)
        if len(problems) > before:
            ok = False
            continue
        meta = field.metadata
        if meta.get("minimum") is not None and value is not None and value < meta["minimum"]:
            problems.append(f"{key_path}: {value!r} is below the minimum {meta['minimum']}")
            ok = False
        elif meta.get("maximum") is not None and value is not None and value > meta["maximum"]:
            problems.append(f"{key_path}: {value!r} is above the maximum {meta['maximum']}")
            ok = False
        elif meta.get("check") is not None and value is not None:
            message = meta["check"](value)
            if message:
                problems.append(f"{key_path}: {message}")
                ok = False
        values[name] = value
    if not ok:
        return None
    return cls(**values)


def _convert(hint: Any, value: Any, path: str, problems: list[str]) -> Any:
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        return _convert(inner[0], value, path, problems)
    if origin is typing.Literal:
        if value not in args:
            choices = ", ".join(repr(a) for a in args)
            problems.append(f"{path}: {value!r} is not one of {choices}")
        return value
    if origin is list:
        if not isinstance(value, list):
            problems.append(f"{path}: expected a list, got {_kind(value)}")
            return None
        return [_convert(args[0], item, f"{path}[{i}]", problems) for i, item in enumerate(value)]
    if dataclasses.is_dataclass(hint):
        return build(typing.cast(type, hint), value, path, problems)
    if hint is bool:
        if not isinstance(value, bool):
            problems.append(f"{path}: expected true or false, got {_kind(value)}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            problems.append(f"{path}: expected an integer, got {_kind(value)}")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            problems.append(f"{path}: expected a number, got {_kind(value)}")
            return value
        if not math.isfinite(value):
            problems.append(f"{path}: expected a finite number, got {value!r}")
            return value
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            problems.append(f"{path}: expected a string, got {_kind(value)}")
        return value
    raise TypeError(f"unsupported config type {hint!r} at {path}")


def describe(cls: type[Any], prefix: str = "") -> list[tuple[str, str, str, str]]:
    """List (key path, type, default, doc) for every setting, for the configuration reference."""
    rows: list[tuple[str, str, str, str]] = []
    hints = typing.get_type_hints(cls)
    for field in dataclasses.fields(cls):
        hint = hints[field.name]
        key = _join(prefix, field.name)
        if dataclasses.is_dataclass(hint):
            rows.extend(describe(typing.cast(type, hint), key))
            continue
        item = typing.get_args(hint)[0] if typing.get_origin(hint) is list else None
        if item is not None and dataclasses.is_dataclass(item):
            rows.append((key, "list of tables", "[]", field.metadata.get("doc", "")))
            rows.extend(describe(typing.cast(type, item), f"{key}[]"))
            continue
        if field.default is not dataclasses.MISSING:
            default = repr(field.default)
        elif field.default_factory is not dataclasses.MISSING:
            default = repr(field.default_factory())
        else:
            default = "(required)"
        type_name = _type_name(hint)
        rows.append((key, type_name, default, field.metadata.get("doc", "")))
    return rows


def _type_name(hint: Any) -> str:
    if typing.get_origin(hint) is typing.Literal:
        return " / ".join(str(arg) for arg in typing.get_args(hint))
    if typing.get_origin(hint) is list:
        return f"list of {_type_name(typing.get_args(hint)[0])}"
    return getattr(hint, "__name__", str(hint))


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _kind(value: Any) -> str:
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string"}.get(
        type(value), "a list" if isinstance(value, list) else "a table"
    )
