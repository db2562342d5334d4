"""Fixtures of the sweep tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.sweep.helpers import BLOWUP_SPEC


@pytest.fixture
def blowup_spec(tmp_path: Path) -> Path:
    p = tmp_path / "quartic.toml"
    p.write_text(BLOWUP_SPEC)
    return p
