"""A small reader of Bicep files, for checking infra/ where no Bicep compiler can be installed.

It understands the part of Bicep that infra/ uses: ``param``, ``var``, ``resource``, ``module``
and ``output`` declarations, object and array literals (values that are expressions are kept as
their source text, :class:`Expr`), strings, numbers, booleans, decorators and ``//`` comments.
It does not evaluate expressions nor check types: what it cannot read raises, so a construct it
does not know makes the tests fail rather than pass unread.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ("BicepFile", "Expr", "Output", "Param", "Resource", "read_bicep")

# Strings first, so that "//" inside 'https://…' is not taken for a comment.
_LEXEME = re.compile(r"'(?:[^'\\]|\\.)*'|//[^\n]*|/\*.*?\*/|[{}\[\](),:\n]|[^\s{}\[\](),:']+|[ \t\r]+", re.S)
_HEADER = re.compile(
    r"^(?P<decorators>(?:[ \t]*@[^\n]*\n)*)[ \t]*(?P<kind>resource|module)\s+(?P<name>\w+)\s+'(?P<target>[^']+)'\s*"
    r"(?P<existing>existing\s*)?=\s*(?:if\s*\((?P<condition>[^\n]*?)\)\s*)?\{",
    re.M,
)
_PARAM = re.compile(r"^(?P<decorators>(?:[ \t]*@[^\n]*\n)*)param\s+(?P<name>\w+)\s+(?P<type>\w+)(?:\s*=\s*(?P<default>[^\n]*))?$", re.M)
_OUTPUT = re.compile(r"^(?P<decorators>(?:[ \t]*@[^\n]*\n)*)output\s+(?P<name>\w+)\s+(?P<type>\w+)\s*=\s*(?P<value>[^\n]*)$", re.M)
_VAR = re.compile(r"^var\s+(?P<name>\w+)\s*=\s*(?P<value>[^\n]*)$", re.M)


@dataclass(frozen=True)
class Expr:
    """A value that is an expression (a reference, a call, an interpolation's neighbour …)."""

    source: str

    def __str__(self) -> str:
        return self.source


@dataclass(frozen=True)
class Resource:
    kind: str  # "resource" or "module"
    name: str  # the symbolic name
    type: str  # "Microsoft.KeyVault/vaults" (resource) or the module's path
    api_version: str
    condition: str | None
    body: dict[str, Any]

    @property
    def properties(self) -> dict[str, Any]:
        value = self.body.get("properties", {})
        assert isinstance(value, dict)
        return value


@dataclass(frozen=True)
class Param:
    name: str
    type: str
    default: str | None
    decorators: tuple[str, ...]


@dataclass(frozen=True)
class Output:
    name: str
    type: str
    value: str
    decorators: tuple[str, ...]


@dataclass
class BicepFile:
    path: Path
    text: str  # without comments
    resources: list[Resource] = field(default_factory=list)
    params: dict[str, Param] = field(default_factory=dict)
    outputs: dict[str, Output] = field(default_factory=dict)
    variables: dict[str, str] = field(default_factory=dict)

    def of_type(self, type_: str) -> list[Resource]:
        return [resource for resource in self.resources if resource.type == type_]

    def one(self, type_: str) -> Resource:
        found = self.of_type(type_)
        assert len(found) == 1, f"{self.path.name}: expected one {type_}, found {len(found)}"
        return found[0]

    def named(self, name: str) -> Resource:
        return next(resource for resource in self.resources if resource.name == name)


def strip_comments(source: str) -> str:
    return "".join("\n" * lexeme.count("\n") if lexeme.startswith(("//", "/*")) else lexeme for lexeme in _LEXEME.findall(source))


def read_bicep(path: Path) -> BicepFile:
    source = path.read_text(encoding="utf-8")
    text = strip_comments(source)
    parsed = BicepFile(path=path, text=text)
    for match in _HEADER.finditer(text):
        target = match["target"]
        type_, _, api_version = target.partition("@")
        body, _ = _Parser(text, match.end() - 1).value()
        assert isinstance(body, dict)
        parsed.resources.append(Resource(match["kind"], match["name"], type_, api_version, match["condition"], body))
    for match in _PARAM.finditer(text):
        parsed.params[match["name"]] = Param(match["name"], match["type"], match["default"], _decorators(match["decorators"]))
    for match in _OUTPUT.finditer(text):
        parsed.outputs[match["name"]] = Output(match["name"], match["type"], match["value"].strip(), _decorators(match["decorators"]))
    for match in _VAR.finditer(text):
        parsed.variables[match["name"]] = match["value"].strip()
    return parsed


def _decorators(block: str | None) -> tuple[str, ...]:
    return tuple(line.strip() for line in (block or "").splitlines() if line.strip())


class _Parser:
    """Object and array literals from ``start`` (a ``{`` or ``[``) on."""

    def __init__(self, text: str, start: int) -> None:
        self.tokens = [lexeme for lexeme in _LEXEME.findall(text[start:]) if not lexeme.isspace() or "\n" in lexeme]
        self.tokens = [("\n" if "\n" in token else token) for token in self.tokens]
        self.at = 0

    def peek(self) -> str:
        return self.tokens[self.at]

    def take(self) -> str:
        token = self.tokens[self.at]
        self.at += 1
        return token

    def skip_separators(self) -> None:
        while self.peek() in ("\n", ","):
            self.take()

    def value(self) -> tuple[Any, int]:
        token = self.peek()
        if token == "{":
            return self.object(), self.at
        if token == "[":
            return self.array(), self.at
        return self.scalar(), self.at

    def object(self) -> dict[str, Any]:
        assert self.take() == "{"
        result: dict[str, Any] = {}
        while True:
            self.skip_separators()
            if self.peek() == "}":
                self.take()
                return result
            key = self.take()
            key = key[1:-1] if key.startswith("'") else key
            colon = self.take()
            if colon != ":":
                raise ValueError(f"expected ':' after {key!r}, found {colon!r}")
            result[key] = self.value()[0]

    def array(self) -> list[Any]:
        assert self.take() == "["
        result: list[Any] = []
        while True:
            self.skip_separators()
            if self.peek() == "]":
                self.take()
                return result
            result.append(self.value()[0])

    def scalar(self) -> Any:
        parts: list[str] = []
        depth = 0
        while True:
            token = self.peek()
            if depth == 0 and (token in ("\n", ",", "}", "]")):
                break
            if token in ("(", "[", "{"):
                depth += 1
            elif token in (")", "]", "}"):
                depth -= 1
            parts.append(self.take())
        # The expression's text in Bicep's usual spelling: f(a, b), no space inside brackets.
        source = re.sub(r"\s+([(),\]])", r"\1", " ".join(parts))
        source = re.sub(r"([(\[])\s+", r"\1", source)
        source = re.sub(r",(?=\S)", ", ", source)
        if len(parts) == 1:
            only = parts[0]
            if only.startswith("'") and "${" not in only:
                return only[1:-1]
            if only in ("true", "false"):
                return only == "true"
            if re.fullmatch(r"-?\d+", only):
                return int(only)
        if not parts:
            raise ValueError("a value is missing")
        return Expr(source)
