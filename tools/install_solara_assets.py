"""Fill Solara's local CDN folder from the npm registry, so that the dashboard works offline.

Solara's page loads its JavaScript and CSS from ``/_solara/cdn/<package>@<version>/<file>``.
The server answers from ``<prefix>/share/solara/cdn/`` (``solara.server.settings.assets.
proxy_cache_dir``) and only fetches from a public CDN (cdn.jsdelivr.net) on a miss; machines
without that CDN then get a blank page. This script runs ``npm pack`` for every package the page
asks for and unpacks each into ``<cdn folder>/<spec>/``, the layout of jsdelivr's
``/npm/<spec>/`` urls (the folder name is the spec exactly as the page writes it, a version
range such as ``vega@5`` included).

Usage (from the repository root, with the virtual env's Python, after solara is installed)::

    .venv/bin/python tools/install_solara_assets.py            # into Solara's own folder
    .venv/bin/python tools/install_solara_assets.py --dest DIR # elsewhere

It is idempotent: a package whose folder holds a complete unpack (marker file written last)
is skipped. It exits with status 1 and a message naming what failed if npm is missing, a
pack fails, or a file the page loads is absent after unpacking.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

# spec as the page requests it -> files of it that the page loads (checked after unpacking).
# Sources: solara/server/templates/solara.html.j2 (the vuetify-2 app, used with ipyvuetify < 3,
# and require.js), solara/server/settings.py (font-awesome), solara/widgets/vue/gridlayout.vue
# (the grid that SolaraViz lays its plots out in), solara/widgets/vue/vegalite.vue (Altair).
# Not covered: solara.Markdown, which loads mermaid and katex from the CDN on every page; the
# dashboard does not use it.
ASSETS: dict[str, tuple[str, ...]] = {
    "@widgetti/solara-vuetify-app@10.1.1": ("dist/fonts.css", "dist/main8.css", "dist/solara-vuetify-app8.min.js"),
    "requirejs@2.3.6": ("require.js",),
    "font-awesome@4.5.0": ("css/font-awesome.min.css",),
    "@widgetti/vue-grid-layout@2.3.13-alpha.2": ("dist/vue-grid-layout.umd.js",),
    "vega@5": ("build/vega.min.js",),
    "vega-lite@5": ("build/vega-lite.min.js",),
    "vega-embed@6": ("build/vega-embed.min.js",),
}
MARKER = ".npm-pack.json"  # written last: its presence means the folder is complete


class AssetError(RuntimeError):
    """An asset could not be installed (the message says which and why)."""


def solara_cdn_folder() -> Path:
    """The folder Solara's server reads its CDN files from (honours SOLARA_ASSETS_PROXY_CACHE_DIR)."""
    # Importing solara's settings writes a user id into SOLARA_HOME (default ~/.solara); an
    # installer has no business there, so point it at a throw-away folder unless it is set.
    with tempfile.TemporaryDirectory(prefix="solara-home-") as home:
        had_home = "SOLARA_HOME" in os.environ
        os.environ.setdefault("SOLARA_HOME", home)
        try:
            from solara.server.settings import assets
        except ImportError as err:
            raise AssetError(
                f"solara is not installed in {sys.prefix} ({err}); install the dashboard extra first: "
                "pip install -e '.[dashboard]'"
            ) from err
        finally:
            if not had_home:
                del os.environ["SOLARA_HOME"]
    return Path(assets.proxy_cache_dir)


def is_complete(folder: Path, files: tuple[str, ...]) -> bool:
    """True if ``folder`` holds a finished unpack with every file the page loads."""
    return (folder / MARKER).is_file() and all((folder / f).is_file() for f in files)


def npm_pack(spec: str, workdir: Path, npm: str) -> tuple[Path, str]:
    """Download the tarball of ``spec`` into ``workdir``; return its path and resolved version."""
    command = [npm, "pack", spec, "--json", "--silent", "--pack-destination", str(workdir)]
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=600)
    if done.returncode != 0:
        raise AssetError(f"`{' '.join(command)}` failed (exit {done.returncode}): {done.stderr.strip()[-2000:]}")
    try:
        info = json.loads(done.stdout)[0]
        return workdir / info["filename"], str(info["version"])
    except (ValueError, LookupError) as err:
        raise AssetError(f"`npm pack {spec}` gave unexpected output: {done.stdout[:500]!r}") from err


def unpack(tarball: Path, target: Path) -> None:
    """Unpack an npm tarball (one top folder, usually ``package/``) into ``target``."""
    staging = Path(tempfile.mkdtemp(prefix=".unpack-", dir=target.parent))
    try:
        with tarfile.open(tarball) as archive:
            archive.extractall(staging, filter="data")  # "data": no absolute paths, links or devices
        tops = [p for p in staging.iterdir()]
        if len(tops) != 1 or not tops[0].is_dir():
            raise AssetError(f"{tarball.name}: expected one top folder, found {[p.name for p in tops]}")
        if target.exists():  # an incomplete earlier attempt
            shutil.rmtree(target)
        tops[0].rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def install(dest: Path, assets: dict[str, tuple[str, ...]] = ASSETS) -> list[str]:
    """Install every missing asset into ``dest``; return the specs that were installed.

    Raises
    ------
    AssetError
        If npm is missing, a pack fails, or a file the page loads is missing after unpacking.
    """
    missing = {spec: files for spec, files in assets.items() if not is_complete(dest / spec, files)}
    if not missing:
        return []
    npm = shutil.which("npm")
    if npm is None:
        raise AssetError(
            "npm is not on PATH; it is needed once, to download Solara's page assets from the npm "
            f"registry ({', '.join(missing)}). Install Node.js/npm (Debian: apt-get install -y npm) and re-run."
        )
    installed = []
    with tempfile.TemporaryDirectory(prefix="solara-assets-") as work:
        for spec, files in missing.items():
            tarball, version = npm_pack(spec, Path(work), npm)
            target = dest / spec
            target.parent.mkdir(parents=True, exist_ok=True)
            unpack(tarball, target)
            absent = [f for f in files if not (target / f).is_file()]
            if absent:
                raise AssetError(f"{spec} (npm {version}) lacks {absent}, which Solara's page loads")
            (target / MARKER).write_text(json.dumps({"spec": spec, "version": version}) + "\n")
            installed.append(f"{spec} ({version})")
    return installed


def main(argv: list[str] | None = None) -> int:
    """Command line: install the assets, report what was done; exit 1 with a message on failure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dest", type=Path, default=None, help="target folder (default: Solara's own CDN folder)")
    args = parser.parse_args(argv)
    try:
        dest = args.dest if args.dest is not None else solara_cdn_folder()
        dest.mkdir(parents=True, exist_ok=True)
        installed = install(dest)
    except (AssetError, OSError, subprocess.TimeoutExpired) as err:
        print(f"error: Solara assets not installed: {err}", file=sys.stderr)
        return 1
    if installed:
        print(f"Solara assets installed into {dest}: {', '.join(installed)}")
    else:
        print(f"Solara assets already present in {dest}")
    return 0


if __name__ == "__main__":
    os.umask(0o022)  # the files must be readable by whoever runs the server
    sys.exit(main())
