"""JSON schema of a Python function for chat-template ``tools=``, as transformers' ``get_json_schema``.

The function needs type hints on every argument and a Google-style docstring with an ``Args:`` entry
per argument; ``(choices: [...])`` at the end of an argument's description becomes an ``enum``.

>>> def get_weather(city: str, unit: str = "C") -> str:
...     '''Get the weather.
...
...     Args:
...         city: The city name.
...         unit: The unit (choices: ["C", "F"])
...     '''
>>> get_json_schema(get_weather)["function"]["parameters"]["required"]
['city']
"""

from __future__ import annotations

import inspect
import json
import re
import types
from typing import Any, Literal, Union, get_args, get_origin, get_type_hints

_DESCRIPTION = re.compile(r"^(.*?)[\n\s]*(Args:|Returns:|Raises:|\Z)", re.DOTALL)
_ARGS = re.compile(r"\n\s*Args:\n\s*(.*?)[\n\s]*(Returns:|Raises:|\Z)", re.DOTALL)
_ARGS_SPLIT = re.compile(r"(?:^|\n)\s*(\w+):\s*(.*?)\s*(?=\n\s*\w+:|\Z)", re.DOTALL)
_RETURNS = re.compile(r"\n\s*Returns:\n\s*(.*?)[\n\s]*(Raises:|\Z)", re.DOTALL)

_JSON_TYPES: dict[Any, dict] = {
    int: {"type": "integer"},
    float: {"type": "number"},
    str: {"type": "string"},
    bool: {"type": "boolean"},
    type(None): {"type": "null"},
    Any: {},
}


class TypeHintParsingException(Exception):
    """A type hint with no JSON-schema equivalent."""


class DocstringParsingException(Exception):
    """A docstring that does not describe every argument."""


def _json_type(tp: Any) -> dict:
    where = (getattr(tp, "__module__", ""), getattr(tp, "__name__", ""))
    if where == ("torch", "Tensor"):
        return {"type": "audio"}
    if where == ("PIL.Image", "Image"):
        return {"type": "image"}
    return dict(_JSON_TYPES.get(tp, {"type": "object"}))


def _parse_type_hint(hint: Any) -> dict:
    origin, args = get_origin(hint), get_args(hint)
    if origin is None:
        return _json_type(hint)
    if origin is Union or origin is types.UnionType:
        subtypes = [_parse_type_hint(t) for t in args if t is not type(None)]
        if len(subtypes) == 1:
            out = subtypes[0]
        elif all(isinstance(s.get("type"), str) for s in subtypes):
            out = {"type": sorted(s["type"] for s in subtypes)}
        else:
            out = {"anyOf": subtypes}
        if type(None) in args:
            out["nullable"] = True
        return out
    if origin is Literal and args:
        kinds: list[str] = []
        for arg in args:
            if type(arg) not in (int, float, str, bool, type(None)):
                raise TypeHintParsingException(
                    "Only the valid python literals can be listed in typing.Literal."
                )
            kind = _json_type(type(arg)).get("type")
            if kind is not None and kind not in kinds:
                kinds.append(kind)
        return {"type": kinds.pop() if len(kinds) == 1 else list(kinds), "enum": list(args)}
    if origin is list:
        return {"type": "array", "items": _parse_type_hint(args[0])} if args else {"type": "array"}
    if origin is tuple:
        if not args:
            return {"type": "array"}
        if len(args) == 1 or ... in args:
            raise TypeHintParsingException(
                f"The type hint {str(hint).replace('typing.', '')} is a single-element or variable-length tuple; "
                "use list[] instead."
            )
        return {"type": "array", "prefixItems": [_parse_type_hint(t) for t in args]}
    if origin is dict:
        out = {"type": "object"}
        if len(args) == 2:
            out["additionalProperties"] = _parse_type_hint(args[1])
        return out
    raise TypeHintParsingException(
        "Couldn't parse this type hint, likely due to a custom class or object: ", hint
    )


def _parse_docstring(doc: str) -> tuple[str | None, dict[str, str], str | None]:
    description = _DESCRIPTION.search(doc)
    args = _ARGS.search(doc)
    returns = _RETURNS.search(doc)
    arg_docs: dict[str, str] = {}
    if args:
        block = "\n".join(line for line in args.group(1).strip().split("\n") if line.strip())
        arg_docs = {m[0]: re.sub(r"\s*\n+\s*", " ", m[1].strip()) for m in _ARGS_SPLIT.findall(block)}
    return (
        description.group(1).strip() if description else None,
        arg_docs,
        returns.group(1).strip() if returns else None,
    )


def get_json_schema(func: Any) -> dict:
    """``{"type": "function", "function": {"name", "description", "parameters"[, "return"]}}`` for ``func``."""
    doc = inspect.getdoc(func)
    if not doc:
        raise DocstringParsingException(
            f"Cannot generate JSON schema for {func.__name__} because it has no docstring!"
        )
    description, arg_docs, return_doc = _parse_docstring(doc.strip())
    hints = get_type_hints(func)
    required = []
    for name, param in inspect.signature(func).parameters.items():
        if param.annotation is inspect.Parameter.empty:
            raise TypeHintParsingException(
                f"Argument {param.name} is missing a type hint in function {func.__name__}"
            )
        if param.default is inspect.Parameter.empty:
            required.append(name)
    properties = {name: _parse_type_hint(tp) for name, tp in hints.items()}
    returns = properties.pop("return", None)
    if returns is not None and return_doc is not None:
        returns["description"] = return_doc
    for arg, schema in properties.items():
        if arg not in arg_docs:
            raise DocstringParsingException(
                f"Cannot generate JSON schema for {func.__name__} because the docstring has no description for the "
                f"argument '{arg}'"
            )
        desc = arg_docs[arg]
        choices = re.search(r"\(choices:\s*(.*?)\)\s*$", desc, flags=re.IGNORECASE)
        if choices:
            schema["enum"] = [c.strip() for c in json.loads(choices.group(1))]
            desc = choices.string[: choices.start()].strip()
        schema["description"] = desc
    parameters: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        parameters["required"] = required
    out: dict[str, Any] = {"name": func.__name__, "description": description, "parameters": parameters}
    if returns is not None:
        out["return"] = returns
    return {"type": "function", "function": out}
