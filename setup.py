"""Package discovery for the server distribution, ``qianshi`` (everything else is in pyproject.toml).

``qianshi`` is a namespace package. This distribution ships ``qianshi.server`` from server/; the
generated stubs (``qianshi.v1``) and the client library (``qianshi.client``) are the
``qianshi-client`` distribution in client/ (client/pyproject.toml), which this one depends on.
Folders without an ``__init__.py`` (corpus/, static/) are data, shipped as package data.
"""

from pathlib import Path

from setuptools import find_namespace_packages, setup

ROOT = "server"
packages: list[str] = []
package_dir: dict[str, str] = {}
for name in find_namespace_packages(where=ROOT, include=["qianshi.*"]):
    if not (Path(ROOT) / name.replace(".", "/") / "__init__.py").exists():
        continue  # a data folder (corpus/, static/), shipped as package data
    packages.append(name)
    package_dir[name] = f"{ROOT}/{name.replace('.', '/')}"

setup(packages=packages, package_dir=package_dir)
