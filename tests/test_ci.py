"""``CI`` means CI only when it says so: ``CI=false`` on a developer's shell is not CI."""

from __future__ import annotations

import pytest

from tests.ci import in_ci


@pytest.mark.parametrize(("value", "ci"), [("true", True), ("1", True), ("yes", True), ("false", False),
                                           ("0", False), ("", False), ("no", False), (" FALSE ", False)])  # fmt: skip
def test_ci_is_read_from_its_value(monkeypatch, value, ci):
    monkeypatch.setenv("CI", value)
    assert in_ci() is ci


def test_ci_unset_is_not_ci(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    assert not in_ci()


def test_the_ci_script_sets_ci_itself():
    from pathlib import Path

    script = (Path(__file__).resolve().parent.parent / ".ci" / "run").read_text(encoding="utf-8")
    assert "export CI=true" in script
