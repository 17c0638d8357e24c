"""Build geoapp's API reference (HTML) from its numpy docstrings with pdoc, offline.

    python tools/build_api.py OUT_DIR

pdoc imports every module of the package and renders one page per module into
``OUT_DIR`` (open ``OUT_DIR/index.html``); nothing is fetched (no MathJax, no Mermaid,
no web fonts). pdoc only warns when a module cannot be imported or a name of an
``__all__`` does not resolve, and would still exit 0 with that page missing; this script
fails instead (exit code 1, naming each problem), and also when a module of ``geoapp/``
has no page or the face (``geoapp.analyse``, ``geoapp.load_region``) is missing from the
package's page. Other pdoc warnings (an annotation it cannot evaluate) are printed.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: Warnings that mean a page or a name is missing from the reference.
FATAL = ("Couldn't import", "Error loading", "Cannot find spec", "Found ")

#: Names the package page must document (the library's front door).
FACE = ("analyse", "load_region")


def expected_pages(package: Path) -> list[str]:
    """Return the dotted name of every public module and sub-package directly in ``package``.

    Parameters
    ----------
    package
        The package folder (``geoapp/``).

    Returns
    -------
    list of str
        ``geoapp``, ``geoapp.coverage``, ``geoapp.network`` ... (one page each; private
        modules, whose name starts with ``_``, are left out, as pdoc leaves them out). A
        sub-package with an ``__all__`` documents its public names on its own page, so
        its modules need no page of their own.
    """
    names = [package.name]
    for path in sorted(package.iterdir()):
        if path.name.startswith("_"):
            continue
        if path.suffix == ".py" or (path / "__init__.py").is_file():
            names.append(f"{package.name}.{path.stem}")
    return names


def build(out_dir: Path, package: str = "geoapp") -> list[str]:
    """Render the reference of ``package`` into ``out_dir``; return the problems found.

    Parameters
    ----------
    out_dir
        Folder for the HTML pages (created).
    package
        The package to document.

    Returns
    -------
    list of str
        One sentence per problem (an empty list: the reference is complete).
    """
    import pdoc
    import pdoc.extract
    import pdoc.render

    pdoc.render.configure(docformat="numpy", math=False, mermaid=False, show_source=True)
    pkg_dir = ROOT / package
    expected = expected_pages(pkg_dir) if pkg_dir.is_dir() else [package]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        # A package's __all__ hides the submodules it does not name: name every public
        # module of the package too, so each has its page beside the package's face.
        found = set(pdoc.extract.walk_specs([package]))
        pdoc.pdoc(package, *[m for m in expected if m not in found], output_directory=out_dir)
    problems = []
    for w in caught:
        text = str(w.message)
        if text.startswith(FATAL):
            problems.append(f"pdoc: {text.strip()}")
        elif issubclass(w.category, UserWarning):
            print(f"note: {text.strip().splitlines()[0]}", file=sys.stderr)
    for name in expected:
        page = out_dir / f"{name.replace('.', '/')}.html"
        if not page.is_file():
            problems.append(f"no page for {name} ({page} is missing)")
    top = out_dir / f"{package}.html"
    html = top.read_text(encoding="utf-8") if top.is_file() else ""
    for name in FACE:
        if f'id="{name}"' not in html:
            problems.append(f"{package}.{name} is not documented in {top}")
    return problems


def main(argv: list[str] | None = None) -> int:
    """Build the reference; print the problems and return 1 when there are any."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="folder for the HTML pages")
    args = parser.parse_args(argv)
    problems = build(args.out)
    for p in problems:
        print(p, file=sys.stderr)
    if problems:
        print(f"API reference incomplete: {len(problems)} problem(s).", file=sys.stderr)
        return 1
    print(f"API reference: {args.out / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
