"""Fixtures of the pytest suite of the Python package (run by scripts/test.sh against the package
as installed by `pip install ./python`)."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
MODELS = ["ref", "prune", "quant", "coreset", "noisy"]


@pytest.fixture(scope="session")
def native():
    """Runs `native` (the debug build scripts/test.sh makes) and returns its parsed JSON."""
    exe = ROOT / "target" / "debug" / "native"
    if not exe.exists():
        subprocess.run(["cargo", "build", "--workspace", "--bins"], cwd=ROOT, check=True)

    def run(*args):
        out = subprocess.run([str(exe), *map(str, args)], capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)

    return run


def _reference(tmp, *flags):
    subprocess.run([sys.executable, str(HERE / "reference_reps.py"), str(tmp), *flags], check=True)
    return tmp


@pytest.fixture(scope="session")
def reference_dir(tmp_path_factory):
    """The numpy-written files of reference_reps.py and its independent expected.json."""
    return _reference(tmp_path_factory.mktemp("reference"))


@pytest.fixture(scope="session")
def token_dir(tmp_path_factory):
    """The same models as (B, T, D) token files with an attention_mask and per-token labels."""
    return _reference(tmp_path_factory.mktemp("tokens"), "--tokens")


def files(d):
    return [os.path.join(d, f"{m}.npz") for m in MODELS]
