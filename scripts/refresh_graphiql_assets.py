#!/usr/bin/env python3
"""Refresh app/http/static/graphiql/ from the npm registry, at the versions Strawberry's GraphiQL page names.

Strawberry's page (strawberry/static/graphiql.html) loads its scripts and stylesheets from unpkg, each
pinned to a version and an SRI hash. This script takes the same files from the packages' npm tarballs
(fetched with `npm pack`, which checks each tarball's sha512), checks every file against the hash the
page names, copies it with the package's licence to app/http/static/graphiql/<package>@<version>/, and
rewrites manifest.json, which the app reads to serve the files and write the integrity attributes.

    python scripts/refresh_graphiql_assets.py          # download and rewrite (needs npm and the registry)
    python scripts/refresh_graphiql_assets.py --check  # offline: do the files match the manifest and the page?
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from importlib.metadata import version as installed_version
from pathlib import Path
from typing import Any

from strawberry.http.ides import get_graphql_ide_html

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ASSETS_DIR = PROJECT_ROOT / "app" / "http" / "static" / "graphiql"
MANIFEST = ASSETS_DIR / "manifest.json"
LICENSE_NAMES = ("LICENSE", "LICENSE.md", "LICENSE.txt", "LICENCE", "license", "license.md")
# @graphiql/plugin-explorer's tarball has no licence file. It lives in github.com/graphql/graphiql, one
# monorepo under one MIT licence, whose text graphiql's tarball carries.
LICENSE_FROM = {"@graphiql/plugin-explorer": "graphiql"}
# The explorer plugin's UMD build bundles OneGraph's graphiql-explorer (a dependency, not a peer), so that
# package's licence travels with the plugin's files.
BUNDLES = {"@graphiql/plugin-explorer": ("graphiql-explorer",)}

_TAG = re.compile(r"<(script|link)\b[^>]*>", re.S)
_URL = re.compile(
    r'(?:src|href)="https://unpkg\.com/(?P<package>(?:@[^/"]+/)?[^@/"]+)@(?P<version>[^/"]+)/(?P<path>[^"]+)"'
)
_INTEGRITY = re.compile(r'integrity="(?P<integrity>sha384-[^"]+)"')


@dataclass(frozen=True)
class CdnAsset:
    """One file Strawberry's page loads from unpkg."""

    kind: str  # "script" or "stylesheet"
    package: str
    version: str
    path: str
    integrity: str

    @property
    def cdn_url(self) -> str:
        return f"https://unpkg.com/{self.package}@{self.version}/{self.path}"

    @property
    def local_path(self) -> str:
        return f"{self.package}@{self.version}/{self.path}"


def strawberry_assets() -> list[CdnAsset]:
    """The files Strawberry's GraphiQL page loads, in the order it loads them (scripts depend on it)."""
    assets = []
    for tag in _TAG.finditer(get_graphql_ide_html("graphiql")):
        url = _URL.search(tag.group(0))
        if url is None:
            continue
        integrity = _INTEGRITY.search(tag.group(0))
        if integrity is None:
            raise SystemExit(f"Strawberry's page loads {url.group(0)} without an integrity hash")
        kind = "script" if tag.group(1) == "script" else "stylesheet"
        assets.append(CdnAsset(kind, url["package"], url["version"], url["path"], integrity["integrity"]))
    if not assets:
        raise SystemExit("found no unpkg.com assets in Strawberry's GraphiQL page; has its template changed?")
    return assets


def sri_sha384(content: bytes) -> str:
    """The Subresource Integrity value of `content`."""
    return "sha384-" + base64.b64encode(hashlib.sha384(content).digest()).decode()


def _npm(*args: str, cwd: Path) -> object:
    done = subprocess.run(["npm", *args, "--json"], cwd=cwd, check=True, capture_output=True, text=True)
    return json.loads(done.stdout)


@dataclass
class Tarball:
    """One package version, as the npm registry serves it."""

    spec: str
    info: dict[str, Any]  # `npm view`'s dist, license and dependencies
    files: dict[str, bytes]  # path inside the package -> content

    @property
    def name(self) -> str:
        return self.spec.rsplit("@", 1)[0]

    def licence(self) -> tuple[str, bytes] | None:
        return next(((name, self.files[name]) for name in LICENSE_NAMES if name in self.files), None)

    def entry(self, licence_file: str, **extra: str) -> dict[str, str]:
        return {
            "name": self.name,
            "version": self.spec.rsplit("@", 1)[1],
            "license": self.info["license"],
            "license_file": licence_file,
            "tarball": self.info["dist"]["tarball"],
            "tarball_integrity": self.info["dist"]["integrity"],
            **extra,
        }


def fetch(spec: str, work: Path) -> Tarball:
    """`spec` from the registry, its tarball checked against the registry's integrity hash."""
    info = _npm("view", spec, "dist", "license", "dependencies", cwd=work)
    packed = _npm("pack", spec, "--ignore-scripts", "--pack-destination", str(work), cwd=work)
    assert isinstance(info, dict) and isinstance(packed, list) and len(packed) == 1, (info, packed)
    tarball = work / packed[0]["filename"]
    algorithm, _, expected = info["dist"]["integrity"].partition("-")
    if base64.b64encode(hashlib.new(algorithm, tarball.read_bytes()).digest()).decode() != expected:
        raise SystemExit(f"{spec}: the tarball does not match the registry's {algorithm} integrity")
    files = {}
    with tarfile.open(tarball) as tar:
        for member in tar.getmembers():
            extracted = tar.extractfile(member) if member.isfile() else None
            if extracted is not None:
                files[member.name.removeprefix("package/")] = extracted.read()
    return Tarball(spec, info, files)


def _resolve(name: str, version_range: str, work: Path) -> str:
    versions = _npm("view", f"{name}@{version_range}", "version", cwd=work)
    return f"{name}@{versions[-1] if isinstance(versions, list) else versions}"


def refresh() -> None:
    """Download every asset at Strawberry's versions and rewrite the folder and its manifest."""
    assets = strawberry_assets()
    contents: dict[str, bytes] = {}
    packages: list[dict[str, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        tarballs = {spec: fetch(spec, work) for spec in dict.fromkeys(f"{a.package}@{a.version}" for a in assets)}
        for asset in assets:
            body = tarballs[f"{asset.package}@{asset.version}"].files.get(asset.path)
            if body is None:
                raise SystemExit(f"{asset.package}@{asset.version} has no {asset.path}")
            if sri_sha384(body) != asset.integrity:
                raise SystemExit(f"{asset.local_path}: the npm file does not match Strawberry's integrity hash")
            contents[asset.local_path] = body
        for spec, tarball in tarballs.items():
            licence = tarball.licence()
            extra = {}
            if licence is None and tarball.name in LICENSE_FROM:
                source = next(t for t in tarballs.values() if t.name == LICENSE_FROM[tarball.name])
                licence, extra = source.licence(), {"license_text_from": source.spec}
            if licence is None:
                raise SystemExit(f"{spec}: the tarball has no licence file")
            contents[f"{spec}/{licence[0]}"] = licence[1]
            packages.append(tarball.entry(f"{spec}/{licence[0]}", **extra))
            for dependency in BUNDLES.get(tarball.name, ()):
                bundled = fetch(_resolve(dependency, tarball.info["dependencies"][dependency], work), work)
                bundled_licence = bundled.licence()
                if bundled_licence is None:
                    raise SystemExit(f"{bundled.spec}: the tarball has no licence file")
                contents[f"{spec}/bundled/{bundled.spec}/{bundled_licence[0]}"] = bundled_licence[1]
                packages.append(bundled.entry(f"{spec}/bundled/{bundled.spec}/{bundled_licence[0]}", bundled_in=spec))

    for child in ASSETS_DIR.iterdir() if ASSETS_DIR.exists() else ():
        if child.is_dir():
            shutil.rmtree(child)
    for relative, body in contents.items():
        target = ASSETS_DIR / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(body)
    manifest = {
        "comment": "Written by scripts/refresh_graphiql_assets.py; do not edit by hand.",
        "strawberry_graphql": installed_version("strawberry-graphql"),
        "packages": packages,
        "assets": [
            {
                "kind": a.kind,
                "package": a.package,
                "version": a.version,
                "path": a.local_path,
                "source": a.cdn_url,
                "integrity": a.integrity,
            }
            for a in assets
        ],
    }
    MANIFEST.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {len(contents)} files for {len(packages)} packages to {ASSETS_DIR.relative_to(PROJECT_ROOT)}")


def check() -> list[str]:
    """What is wrong with the committed assets, offline: each a sentence; none when all is well."""
    problems = []
    manifest = json.loads(MANIFEST.read_text(encoding="utf-8"))
    listed = {(a["source"], a["integrity"]) for a in manifest["assets"]}
    wanted = {(a.cdn_url, a.integrity) for a in strawberry_assets()}
    if listed != wanted:
        problems.append(
            "the manifest does not name the files Strawberry's page loads "
            f"(missing {sorted(wanted - listed)}, extra {sorted(listed - wanted)}): run this script"
        )
    for asset in manifest["assets"]:
        path = ASSETS_DIR / asset["path"]
        if not path.is_file():
            problems.append(f"{asset['path']} is missing")
        elif sri_sha384(path.read_bytes()) != asset["integrity"]:
            problems.append(f"{asset['path']} does not match its integrity hash")
    for package in manifest["packages"]:
        if not (ASSETS_DIR / package["license_file"]).is_file():
            problems.append(f"{package['license_file']} is missing")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="verify the committed files offline; change nothing")
    arguments = parser.parse_args()
    if not arguments.check:
        refresh()
    problems = check()
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
