"""The wheel holds every module and C source: built from a clean export of the repository,
installed without ``-e`` into a fresh environment, it imports every module and runs the
CLI.

The fresh environment borrows this one's third-party packages through a ``.pth`` file
(so nothing is downloaded); an editable install of ``xlstm_ts`` here is not seen there,
because ``.pth`` files on a borrowed path are not executed. ``.ci/run`` repeats the check
with a real install from the package registry.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

from xlstm_ts import __version__

ROOT = Path(__file__).resolve().parents[1]
SOURCES = {"xlstm_ts": ROOT / "xlstm_ts", "xlstm_ts.kernels": ROOT / "kernels",
           "xlstm_ts.datasets": ROOT / "datasets"}  # fmt: skip


def _export(dest: Path) -> None:
    """The files git tracks (or would: untracked but not ignored), as a clean clone has."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
        cwd=ROOT, capture_output=True, check=True,
    ).stdout.decode().split("\0")  # fmt: skip
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)


def _source_modules() -> set[str]:
    modules = set()
    for package, folder in SOURCES.items():
        for path in folder.rglob("*.py"):
            parts = path.relative_to(folder).with_suffix("").parts
            if "__pycache__" not in parts:
                modules.add(".".join((package, *parts)).removesuffix(".__init__"))
    return modules


def _c_sources() -> set[str]:
    """The C files of the packages, as paths inside the wheel."""
    return {
        "/".join((*package.split("."), *path.relative_to(folder).parts))
        for package, folder in SOURCES.items()
        for path in folder.rglob("*.c")
    }


@pytest.mark.skipif(shutil.which("git") is None or not (ROOT / ".git").exists(),
                    reason="needs a git checkout to export")  # fmt: skip
def test_wheel_from_clean_export_imports_every_module_and_runs_the_cli(tmp_path):
    export, dist = tmp_path / "export", tmp_path / "dist"
    _export(export)
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(export)],
                   check=True, capture_output=True)  # fmt: skip
    (wheel,) = dist.glob("xlstm_ts-*.whl")
    with zipfile.ZipFile(wheel) as archive:  # the C sources compiled on first use, too
        held = set(archive.namelist())
    assert _c_sources() <= held, sorted(_c_sources() - held)

    env_dir = tmp_path / "fresh"
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    purelib = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    site = subprocess.run([str(python), "-c", purelib], capture_output=True, text=True,
                          check=True).stdout.strip()  # fmt: skip
    borrowed = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    Path(site, "borrowed.pth").write_text("\n".join(sorted(borrowed)) + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
                    "--no-index", "--quiet", str(wheel)], check=True)  # fmt: skip

    script = ROOT / ".ci" / "import_every_module.py"
    run = subprocess.run([str(python), str(script)], cwd=tmp_path, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    installed = set(run.stdout.split())
    assert _source_modules() <= installed, sorted(_source_modules() - installed)

    cli = subprocess.run([str(env_dir / "bin" / "xlstm-ts"), "--version"], cwd=tmp_path,
                         capture_output=True, text=True)  # fmt: skip
    assert cli.returncode == 0, cli.stderr
    assert cli.stdout.strip() == f"xlstm-ts {__version__}"
