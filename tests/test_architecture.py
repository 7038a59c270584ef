"""The package layering declared in pyproject.toml holds (import-linter reads every import,
including the lazy ones inside functions), and a violation of it is reported."""
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def lint(cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "import sys; from importlinter.cli import lint_imports;"
                           "sys.exit(lint_imports(no_cache=True))"],
                          cwd=cwd, capture_output=True, text=True, env={"PYTHONPATH": str(cwd), "PATH": ""})


def test_import_contracts_are_kept():
    out = lint(ROOT)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "2 kept, 0 broken" in out.stdout


def test_a_lower_layer_importing_a_higher_one_is_reported(tmp_path):
    copy = tmp_path / "tree"
    ignore = shutil.ignore_patterns("__pycache__")
    for name in ("core", "tui"):
        shutil.copytree(ROOT / name, copy / name, ignore=ignore)
    shutil.copy(ROOT / "pyproject.toml", copy / "pyproject.toml")
    (copy / "core" / "data" / "leak.py").write_text("from core.training import trainer\n")
    out = lint(copy)
    assert out.returncode != 0
    assert "core.data.leak -> core.training.trainer" in out.stdout
