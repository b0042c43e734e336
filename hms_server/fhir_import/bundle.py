"""Reading FHIR Bundles from files, resolving references inside them, and the name directory
built from practitioner, organization and location bundles."""

import gzip
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

Resource = dict[str, Any]
# Resources read only to name clinicians and places; never stored as rows.
DIRECTORY_TYPES = frozenset({"Practitioner", "PractitionerRole", "Organization", "Location"})


class BundleError(Exception):
    """A file that is not a readable FHIR Bundle."""


def bundle_files(paths: list[Path]) -> list[Path]:
    """The .json and .json.gz files named, or found (sorted) in the folders named."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(
                sorted(p for p in path.iterdir() if p.name.endswith((".json", ".json.gz")))
            )
        else:
            found.append(path)
    return found


def read_bundle(path: Path) -> Resource:
    """The Bundle in `path` (gzip when it ends in .gz); BundleError in plain words otherwise."""
    try:
        opener = gzip.open if path.name.endswith(".gz") else open
        with opener(path, "rb") as stream:
            data = json.load(stream)
    except FileNotFoundError:
        raise BundleError("no such file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BundleError(f"not a JSON file ({exc})") from None
    if not isinstance(data, dict) or data.get("resourceType") != "Bundle":
        raise BundleError("not a FHIR Bundle (resourceType is not 'Bundle')")
    if not isinstance(data.get("entry", []), list):
        raise BundleError("the Bundle's entry is not a list")
    return data


def resources(bundle: Resource) -> Iterator[tuple[str, Resource]]:
    """(fullUrl, resource) of each entry that holds a resource."""
    for entry in bundle.get("entry", []):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if isinstance(resource, dict) and "resourceType" in resource:
            yield str(entry.get("fullUrl") or ""), resource


def is_directory_bundle(bundle: Resource) -> bool:
    """A bundle of practitioners, organizations and locations only."""
    types = {r["resourceType"] for _, r in resources(bundle)}
    return bool(types) and types <= DIRECTORY_TYPES


def resource_key(full_url: str, resource: Resource) -> str:
    """The resource's id: its `id`, else the uuid of an urn:uuid fullUrl, else the fullUrl."""
    if resource.get("id"):
        return str(resource["id"])
    return full_url.removeprefix("urn:uuid:")


@dataclass
class BundleIndex:
    """Resolves references inside one bundle: urn:uuid:…, ResourceType/id, absolute URLs."""

    by_reference: dict[str, tuple[str, str]] = field(default_factory=dict)

    @classmethod
    def of(cls, bundle: Resource) -> "BundleIndex":
        index = cls()
        for full_url, resource in resources(bundle):
            kind, key = resource["resourceType"], resource_key(full_url, resource)
            index.by_reference[f"{kind}/{key}"] = (kind, key)
            if full_url:
                index.by_reference[full_url] = (kind, key)
        return index

    def resolve(self, reference: dict[str, Any] | None) -> tuple[str, str] | None:
        """(resource type, id) a reference points to, inside the bundle or by its form."""
        text = str((reference or {}).get("reference") or "")
        if not text:
            return None
        if text in self.by_reference:
            return self.by_reference[text]
        if "?" in text:
            return None
        parts = text.rstrip("/").split("/")
        if text.startswith("urn:uuid:"):
            return ("", text.removeprefix("urn:uuid:"))
        if len(parts) >= 2:
            return (parts[-2], parts[-1])
        return None


@dataclass
class Directory:
    """Display names of practitioners, organizations and locations, by the references that
    point at them (urn:uuid, Type/id, and Synthea's conditional Type?identifier=sys|value)."""

    names: dict[str, str] = field(default_factory=dict)
    read: dict[str, int] = field(default_factory=dict)  # resource type → how many

    def add_bundle(self, bundle: Resource) -> None:
        for full_url, resource in resources(bundle):
            kind = resource["resourceType"]
            self.read[kind] = self.read.get(kind, 0) + 1
            name = _display_name(resource)
            if not name:
                continue
            keys = [full_url, f"{kind}/{resource_key(full_url, resource)}"]
            for ident in resource.get("identifier", []) or []:
                keys.append(f"{kind}?identifier={ident.get('system', '')}|{ident.get('value', '')}")
            for key in keys:
                if key:
                    self.names[key] = name

    def name(self, reference: dict[str, Any] | None) -> str:
        """The reference's own display, else the name the directory knows, else ""."""
        if not reference:
            return ""
        return str(reference.get("display") or self.names.get(reference.get("reference", ""), ""))


def _display_name(resource: Resource) -> str:
    name = resource.get("name")
    if isinstance(name, str):
        return name
    if isinstance(name, list) and name:
        return human_name(name[0])
    return ""


def human_name(name: dict[str, Any]) -> str:
    """A HumanName as one line: its text, or prefix, given and family names."""
    if name.get("text"):
        return str(name["text"])
    parts = [*name.get("prefix", []), *name.get("given", []), name.get("family", "")]
    return " ".join(p for p in parts if p)
