import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.skipif(shutil.which("ruff") is None, reason="ruff is not installed (pip install -r requirements-dev.txt)")
def test_ruff_is_clean():
    for command in (["ruff", "check", "."], ["ruff", "format", "--check", "."]):
        result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr


def test_every_module_has_a_tier():
    """``pytest -m unit`` and friends only work if every test module is in conftest.TIERS."""
    from tests.conftest import TIERS

    modules = {path.stem for path in Path(__file__).parent.glob("test_*.py")}
    assert modules - set(TIERS) == set(), "add these modules to TIERS in tests/conftest.py"
