#!/usr/bin/env python3
"""Set up and run hms on a fresh machine with nothing but Python 3.11+ and pip.

python3 dev.py demo    # install, start the embedded server with demo data, open the desktop
python3 dev.py test    # install, then run the whole test suite (extra args go to pytest)
python3 dev.py lint    # ruff and the import-linter contracts
"""

import hashlib
import os
import platform
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".hms-installed"
SUPPORTED = ((3, 11), (3, 12))
# Shared libraries Qt needs on Debian/Ubuntu (offscreen and xcb), and pdftoppm for print checks.
DEBIAN_PACKAGES = [
    "libegl1",
    "libgl1",
    "libopengl0",
    "libfontconfig1",
    "libxkbcommon0",
    "libdbus-1-3",
    "libglib2.0-0",
    "libxkbcommon-x11-0",
    "libxcb-cursor0",
    "libxcb-icccm4",
    "libxcb-image0",
    "libxcb-keysyms1",
    "libxcb-randr0",
    "libxcb-render-util0",
    "libxcb-shape0",
    "libxcb-xinerama0",
    "libxcb-xkb1",
    "libxrender1",
    "libxi6",
    "libsm6",
    "libice6",
    "libnss3",
    "fonts-dejavu-core",
    "poppler-utils",
]


def say(message: str) -> None:
    print(f"[hms] {message}", flush=True)


def run(*command: str | Path, env: dict[str, str] | None = None) -> None:
    subprocess.run([str(c) for c in command], check=True, env=env)


def find_python() -> str:
    """A Python 3.11 or 3.12 interpreter: this one, or one on PATH."""
    if sys.version_info[:2] in SUPPORTED:
        return sys.executable
    for version in ("3.12", "3.11"):
        found = shutil.which(f"python{version}")
        if found:
            return found
    sys.exit("hms needs Python 3.11 or 3.12 (install python3.12, then run this again).")


def system_packages() -> None:
    """Install Qt's shared libraries from Debian's packages when missing and we are allowed to."""
    if platform.system() != "Linux" or not shutil.which("dpkg"):
        return
    missing = [
        p
        for p in DEBIAN_PACKAGES
        if subprocess.run(["dpkg", "-s", p], capture_output=True).returncode != 0
    ]
    if not missing:
        return
    prefix = [] if os.geteuid() == 0 else (["sudo", "-n"] if shutil.which("sudo") else None)
    if prefix is None:
        say("please install these system packages: " + " ".join(missing))
        return
    say("installing system packages: " + " ".join(missing))
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    try:
        subprocess.run([*prefix, "apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(
            [*prefix, "apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing],
            check=True,
            env=env,
        )
    except subprocess.CalledProcessError:
        say("could not install system packages; Qt may fail to start: " + " ".join(missing))


def requirements_digest() -> str:
    return hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()


def ensure_venv() -> None:
    """Create .venv and install hms with its dev tools, again whenever pyproject.toml changes."""
    if not (BIN / "python").exists():
        say("creating .venv")
        run(find_python(), "-m", "venv", VENV)
    digest = requirements_digest()
    if STAMP.exists() and STAMP.read_text() == digest:
        return
    say("installing hms and its dependencies into .venv (first run takes a few minutes)")
    run(BIN / "python", "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    run(BIN / "python", "-m", "pip", "install", "--quiet", "-e", f"{ROOT}[dev]")
    STAMP.write_text(digest)


def demo(args: list[str]) -> int:
    return subprocess.call([str(BIN / "hms-server"), "demo", *args])


def test(args: list[str]) -> int:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.call([str(BIN / "pytest"), *args], cwd=ROOT, env=env)


def lint(_: list[str]) -> int:
    checks = [[str(BIN / "ruff"), "check", "."], [str(BIN / "lint-imports")]]
    return max(subprocess.call(c, cwd=ROOT) for c in checks)


COMMANDS = {"demo": demo, "test": test, "lint": lint}


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        print(__doc__)
        return 2
    system_packages()
    ensure_venv()
    return COMMANDS[sys.argv[1]](sys.argv[2:])


if __name__ == "__main__":
    sys.exit(main())
