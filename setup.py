"""Package discovery for the three roots of DESIGN.md's layout (everything else is in pyproject.toml).

``qianshi`` is a namespace package spread over protos/ (qianshi.v1, the generated stubs), server/
(qianshi.server) and client/ (qianshi.client); setuptools' declarative finder cannot map one
namespace onto several folders, so the mapping is computed here.
"""

from pathlib import Path

from setuptools import find_namespace_packages, setup

ROOTS = ("protos", "server", "client")
packages: list[str] = []
package_dir: dict[str, str] = {}
for root in ROOTS:
    for name in find_namespace_packages(where=root, include=["qianshi.*"]):
        if not (Path(root) / name.replace(".", "/") / "__init__.py").exists():
            continue  # a data folder (corpus/, static/), shipped as package data
        packages.append(name)
        package_dir[name] = f"{root}/{name.replace('.', '/')}"

setup(packages=packages, package_dir=package_dir)
