"""YAML configs -> validated, typed dataclasses; errors name the file, the dotted key and its line.

Generic machinery shared by every YAML-driven command (``run``, ``compare``):
``load_yaml`` reads a file and remembers the line of each key, ``apply_overrides`` applies
``--set dotted.key=value`` strings, and ``build_dataclass`` checks a mapping against a dataclass
(unknown keys get a suggestion, wrong types are named) and builds it, recursing into nested
dataclass fields. Registry-backed blocks (``optimizer: {name: ..., options...}``) are validated
against the constructor's signature by ``nasearch.config.options``.
"""

from __future__ import annotations

import copy
import dataclasses
import types
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import yaml

from nasearch.api.errors import ConfigError, suggest
from nasearch.config.module_paths import add_config_folder

T = TypeVar("T")


@dataclasses.dataclass
class Source:
    """Where a config came from: the file and the line of each dotted key."""

    path: str
    lines: dict[str, int] = dataclasses.field(default_factory=dict)

    def where(self, key: str) -> str:
        """``'file.yaml', key 'a.b' (line 7)`` — the location used in error messages."""
        line = self.lines.get(key)
        while line is None and "." in key:
            key = key.rsplit(".", 1)[0]
            line = self.lines.get(key)
        return f"{self.path}, key {key!r}" + (f" (line {line})" if line else "")


#: most values a YAML document may expand to through its aliases (``*name``): a real config has a
#: few hundred; nested aliases ("billion laughs") would otherwise expand to billions
MAX_YAML_VALUES = 100_000


def _walk(node: yaml.Node, prefix: str, lines: dict[str, int]) -> None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = f"{prefix}.{key_node.value}" if prefix else str(key_node.value)
            lines[key] = key_node.start_mark.line + 1
            _walk(value_node, key, lines)


class _RecursiveAlias(Exception):
    def __init__(self, line: int) -> None:
        self.line = line


def _expanded_size(node: yaml.Node, memo: dict[int, int]) -> int:
    """How many values ``node`` stands for once every alias is expanded (linear time: shared
    nodes are counted once per use without being walked again)."""
    known = memo.get(id(node))
    if known is not None:
        if known < 0:
            raise _RecursiveAlias(node.start_mark.line + 1)
        return known
    memo[id(node)] = -1  # being counted: meeting it again below means a recursive alias
    size = 1
    if isinstance(node, yaml.MappingNode):
        size += sum(_expanded_size(k, memo) + _expanded_size(v, memo) for k, v in node.value)
    elif isinstance(node, yaml.SequenceNode):
        size += sum(_expanded_size(v, memo) for v in node.value)
    memo[id(node)] = size
    return size


def _refuse_duplicate_keys(node: yaml.Node, where: str, seen: set[int]) -> None:
    """A ConfigError naming the key and both lines when a mapping gives a key twice (YAML itself
    keeps the last silently, so a typo'd copy would quietly win)."""
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        first: dict[object, int] = {}
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
                line = key_node.start_mark.line + 1
                if key_node.value in first:
                    raise ConfigError(
                        f"{where}: line {line}: key {key_node.value!r} is given twice in one mapping (first on "
                        f"line {first[key_node.value]}); remove one"
                    )
                first[key_node.value] = line
            _refuse_duplicate_keys(value_node, where, seen)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            _refuse_duplicate_keys(item, where, seen)


def safe_yaml(text: str, where: str) -> tuple[object, yaml.Node | None]:
    """Parse YAML text with the safe loader, refusing documents whose aliases expand past
    ``MAX_YAML_VALUES`` values; one ConfigError for any problem. Returns the data and its node."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        if node is not None and _expanded_size(node, {}) > MAX_YAML_VALUES:
            raise ConfigError(
                f"{where}: its aliases (*name) expand to more than {MAX_YAML_VALUES:,} values; "
                "a run config never needs that many (write the values out, or use fewer nested aliases)"
            )
        if node is not None:
            _refuse_duplicate_keys(node, where, set())
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{where}: not valid YAML: {exc}") from None
    except _RecursiveAlias as exc:
        raise ConfigError(
            f"{where}: line {exc.line}: a value contains an alias of itself (recursive *alias)"
        ) from None
    except RecursionError:
        raise ConfigError(f"{where}: the YAML is nested too deeply") from None
    return data, node


def load_yaml(path: str | Path) -> tuple[dict[str, Any], Source]:
    """Read a YAML mapping and the line numbers of its keys; one ConfigError on any problem."""
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"config file {str(p)!r} does not exist")
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise ConfigError(f"config file {str(p)!r} cannot be read: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(
            f"{p}: not UTF-8 text (byte 0x{raw[exc.start]:02x} on line {line}); save the config as UTF-8"
        ) from None
    data, node = safe_yaml(text, str(p))
    if data is None:
        data = {}
    add_config_folder(p)  # its "module:Class" paths resolve from its folder too
    if not isinstance(data, dict):
        raise ConfigError(f"{p}: the top level must be a mapping of keys, got {type(data).__name__}")
    lines: dict[str, int] = {}
    if node is not None:
        _walk(node, "", lines)
    return data, Source(str(p), lines)


def apply_overrides(
    data: dict[str, Any], overrides: Sequence[str], source: Source | None = None
) -> dict[str, Any]:
    """Apply ``dotted.key=value`` overrides (values parsed as YAML) to a copy of ``data``."""
    out = copy.deepcopy(data)
    for item in overrides:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError(f"--set {item!r}: expected KEY=VALUE, e.g. --set budget.queries=50")
        value = safe_yaml(raw, f"--set {item!r}: the value")[0] if raw.strip() else None
        target = out
        parts = key.split(".")
        for part in parts[:-1]:
            nxt = target.get(part)
            if nxt is None:
                nxt = target[part] = {}
            if not isinstance(nxt, dict):
                raise ConfigError(f"--set {item!r}: {part!r} is not a mapping, cannot set a key inside it")
            target = nxt
        target[parts[-1]] = value
        if source is not None:
            source.lines.pop(key, None)
    return out


def _type_name(tp: object) -> str:
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def _coerce(value: object, tp: object, key: str, source: Source) -> object:
    """Check ``value`` against annotation ``tp`` (basic types, unions, lists, dicts, dataclasses)."""
    origin = typing.get_origin(tp)
    if tp is Any or tp is object:
        return value
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return None
        choices = [arg for arg in args if arg is not type(None)]
        if len(choices) == 1 and dataclasses.is_dataclass(choices[0]) and isinstance(value, Mapping):
            return _coerce(value, choices[0], key, source)  # Optional[section]: the section's own error
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(value, arg, key, source)
            except ConfigError as exc:
                errors.append(exc)
        raise ConfigError(f"{source.where(key)}: expected {_type_name(tp)}, got {value!r}")
    if origin is typing.Literal:
        allowed = typing.get_args(tp)
        if value not in allowed:
            raise ConfigError(
                f"{source.where(key)}: must be one of {', '.join(map(repr, allowed))}, got {value!r}"
            )
        return value
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        if not isinstance(value, Mapping):
            raise ConfigError(f"{source.where(key)}: expected a mapping of keys, got {value!r}")
        return build_dataclass(tp, value, source, prefix=key)
    if origin in (list, Sequence, tuple) or tp in (list, tuple):
        if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
            raise ConfigError(f"{source.where(key)}: expected a list, got {value!r}")
        args = typing.get_args(tp)
        if origin is tuple and args and not (len(args) == 2 and args[1] is Ellipsis):  # tuple[str, bool]
            if len(value) != len(args):
                raise ConfigError(
                    f"{source.where(key)}: expected a list of {len(args)} values, got {value!r}"
                )
            return [_coerce(v, a, f"{key}[{i}]", source) for i, (v, a) in enumerate(zip(value, args))]
        inner = args[0] if args else object
        return [_coerce(v, inner, f"{key}[{i}]", source) for i, v in enumerate(value)]
    if origin in (dict, Mapping) or tp is dict:
        if not isinstance(value, Mapping):
            raise ConfigError(f"{source.where(key)}: expected a mapping, got {value!r}")
        return dict(value)
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{source.where(key)}: expected a number, got {value!r}")
        return float(value)
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{source.where(key)}: expected an integer, got {value!r}")
        return value
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{source.where(key)}: expected true or false, got {value!r}")
        return value
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(f"{source.where(key)}: expected a string, got {value!r}")
        return value
    return value


def check_value(value: object, tp: object, key: str, source: Source) -> None:
    """Raise a ConfigError (naming file, key and line) when ``value`` does not fit annotation
    ``tp``; what ``build_dataclass`` checks, for constructor options."""
    _coerce(value, tp, key, source)


def build_dataclass(cls: type[T], data: Mapping[str, object], source: Source, prefix: str = "") -> T:
    """Validate ``data`` against dataclass ``cls`` and build it; errors point at file and key."""
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    kwargs: dict[str, object] = {}
    for key, value in data.items():
        dotted = f"{prefix}.{key}" if prefix else str(key)
        if key not in fields:
            raise ConfigError(
                f"{source.where(dotted)}: unknown key {key!r}{suggest(key, fields)} "
                f"(known: {', '.join(fields)})"
            )
        kwargs[key] = _coerce(value, hints[key], dotted, source)
    missing = [
        name
        for name, f in fields.items()
        if name not in kwargs
        and f.default is dataclasses.MISSING
        and f.default_factory is dataclasses.MISSING
    ]
    if missing:
        where = f"{source.path}" + (f", section {prefix!r}" if prefix else "")
        raise ConfigError(f"{where}: missing required key(s) {', '.join(missing)}")
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{source.where(prefix) if prefix else source.path}: {exc}") from exc
