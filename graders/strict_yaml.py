"""YAML for manifests written by others: only what a Kubernetes manifest needs. No anchors or
aliases (a few hundred bytes of aliases expand to megabytes), no merge keys, no duplicate keys
(keeping the last one would let a second `namespace:` win), no tags beyond the plain types, and
a nesting-depth limit checked on the event stream before any object is built (deep nesting
crashes the C loader and exhausts the pure one's recursion)."""
from __future__ import annotations

import itertools

import yaml

MAX_DEPTH = 40
PLAIN_TAGS = {f"tag:yaml.org,2002:{name}" for name in ("str", "int", "float", "bool", "null", "map", "seq")}


class UnsafeYAML(ValueError):
    """The text is YAML we do not accept; the message says where and why."""


def _where(mark) -> str:
    return f"line {mark.line + 1}, column {mark.column + 1}"


def _screen(text: str, most: int | None) -> None:
    depth = documents = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.DocumentEndEvent):
            documents += 1
            if documents == most:
                return
        if isinstance(event, yaml.AliasEvent):
            raise UnsafeYAML(f"{_where(event.start_mark)}: aliases (*{event.anchor}) are not allowed")
        if isinstance(event, yaml.NodeEvent) and event.anchor:
            raise UnsafeYAML(f"{_where(event.start_mark)}: anchors (&{event.anchor}) are not allowed")
        tag = getattr(event, "tag", None)
        if tag and tag not in PLAIN_TAGS and tag != "!":
            raise UnsafeYAML(f"{_where(event.start_mark)}: the tag {tag} is not allowed")
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise UnsafeYAML(f"{_where(event.start_mark)}: nested deeper than {MAX_DEPTH} levels")
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


class _Loader(yaml.SafeLoader):
    def construct_mapping(self, node, deep=False):
        mapping = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise UnsafeYAML(f"{_where(key_node.start_mark)}: merge keys (<<) are not allowed")
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, (str, int, float, bool)) and key is not None:
                raise UnsafeYAML(f"{_where(key_node.start_mark)}: a key must be a plain value")
            if key in mapping:
                raise UnsafeYAML(f"{_where(key_node.start_mark)}: the key {key!r} appears twice in one mapping")
            mapping[key] = self.construct_object(value_node, deep=deep)
        return mapping


_Loader.add_constructor("tag:yaml.org,2002:map", _Loader.construct_mapping)
# Dates stay text, as Kubernetes reads them (and as JSON can carry them).
_Loader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}


def load_all(text: str, most: int | None = None) -> list:
    """The documents of `text`, or its first `most` (the rest is not parsed); raises UnsafeYAML,
    or yaml.YAMLError for text that is not YAML."""
    _screen(text, most)
    return list(itertools.islice(yaml.load_all(text, Loader=_Loader), most))
