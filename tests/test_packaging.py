"""An installed wheel carries everything dubdesk reads at run time: nothing comes from the repository."""
from __future__ import annotations

import subprocess
import sys
import sysconfig
import zipfile

import pytest

from .conftest import ROOT

pytestmark = pytest.mark.fast

# Run dubdesk from `installed` with this environment's dependencies behind the standard library, but
# without processing its .pth files: so without the editable install that points at the repository.
LAUNCH = ("import runpy, sys; sys.path.insert(0, sys.argv.pop(1)); sys.path.append(sys.argv.pop(1)); "
          "import dubdesk.synth; print(dubdesk.synth.__file__, file=sys.stderr); runpy.run_module('dubdesk', run_name='__main__')")


def test_a_wheel_installed_apart_from_the_repository_lists_the_stock_voices(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "-w",
                    str(tmp_path / "dist"), str(ROOT)], check=True, capture_output=True)
    (wheel,) = (tmp_path / "dist").glob("dubdesk-*.whl")
    assert "dubdesk/voices/stock.json" in zipfile.ZipFile(wheel).namelist()
    installed = tmp_path / "installed"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(installed), str(wheel)],
                   check=True, capture_output=True)
    listed = subprocess.run([sys.executable, "-S", "-c", LAUNCH, str(installed), sysconfig.get_paths()["purelib"],
                             "voices", "list", "--home", str(tmp_path / "home")],
                            capture_output=True, text=True, cwd=tmp_path,
                            env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "COLUMNS": "250"})
    assert listed.returncode == 0, listed.stderr
    assert listed.stderr.startswith(str(installed)), "dubdesk came from the wheel, not the repository"
    assert "stock-pico-es-es" in listed.stdout and "stock-kokoro-ja-jf-alpha" in listed.stdout
