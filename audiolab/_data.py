"""Where the bundled data files are: one answer for the focus policies and the shipped scenarios.

An installed wheel carries ``datasets/`` inside the package as ``audiolab/_datasets`` (pyproject's
``force-include``). A source checkout (the editable install ``make`` builds) has no ``_datasets``; there the
files are read from ``datasets/`` beside the package.
"""

from __future__ import annotations

from pathlib import Path


def data_dir(kind: str) -> Path:
    """The folder of bundled data of one ``kind`` (``"focus"``, ``"scenarios"`` or ``"traces"``)."""
    package = _package_folder()
    for folder in (package / "_datasets" / kind, package.parent / "datasets" / kind):
        if folder.is_dir():
            return folder
    raise FileNotFoundError(f"audiolab's bundled {kind} data is missing from {package}: reinstall audiolab-focus")


def _package_folder() -> Path:
    here = Path(__file__).parent
    if here.is_dir():  # installed as files (the usual case): no resource reader needed, and a cold start saves one
        return here
    from importlib import resources

    package = resources.files("audiolab")
    if not isinstance(package, Path):  # a zip import: the loaders read files by path
        raise RuntimeError(f"audiolab's bundled data cannot be read from {package}; install it unzipped")
    return package
