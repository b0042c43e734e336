"""`hms-server demo`: database, demo data, server and desktop; closing the desktop stops it all."""

import os
import subprocess
import time

import httpx
import psutil

from tests.e2e.test_cli import HMS_SERVER, free_port


def wait_until(condition, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


def health(url: str) -> dict | None:
    try:
        return httpx.get(f"{url}/health", timeout=2).json()
    except httpx.TransportError:
        return None


def assert_icu_station_is_live(url: str) -> None:
    """The demo's simulated monitors reach the ICU station: ICU-01's patient has a fresh HR."""
    login = httpx.post(
        f"{url}/api/auth/login", json={"username": "nurse", "password": "nurse-demo"}
    )
    headers = {"Authorization": f"Bearer {login.json()['token']}"}
    wards = httpx.get(f"{url}/api/monitoring/wards", headers=headers).json()
    icu = next(w for w in wards if w["code"] == "ICU")

    def icu_01() -> dict | None:
        station = httpx.get(
            f"{url}/api/monitoring/station", params={"ward_id": icu["id"]}, headers=headers
        ).json()
        bed = next(b for b in station["beds"] if b["label"] == "ICU-01")
        return bed if bed["patient"] and "hr" in bed["latest"] else None

    bed = wait_until(icu_01, 60, "live values from the demo's ICU monitors")
    assert bed["latest"]["hr"]["source"] == "monitor"


def assert_bills_have_a_letterhead(url: str) -> None:
    """The billing desk signs in and the demo's printed bills carry a full letterhead."""
    login = httpx.post(
        f"{url}/api/auth/login", json={"username": "billing", "password": "billing-demo"}
    )
    headers = {"Authorization": f"Bearer {login.json()['token']}"}
    profile = httpx.get(f"{url}/api/hospital/profile", headers=headers).json()
    assert profile["address_lines"] == ["1 Riverside Road", "Riverside 1010"]
    assert (profile["currency"], profile["exponent"]) == ("USD", 2)


def test_demo_starts_everything_and_closing_the_desktop_stops_it(tmp_path):
    port, data_dir = free_port(), tmp_path / "demo"
    env = {k: v for k, v in os.environ.items() if k != "HMS_DATABASE_URL"}
    env |= {
        "QT_QPA_PLATFORM": "offscreen",
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
    }
    demo = subprocess.Popen(
        [HMS_SERVER, "demo", "--data-dir", str(data_dir), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        assert wait_until(lambda: health(url), 180, "the demo server")["status"] == "ok"
        login = httpx.post(
            f"{url}/api/auth/login", json={"username": "reception", "password": "reception-demo"}
        )
        assert login.status_code == 200
        assert_icu_station_is_live(url)
        assert_bills_have_a_letterhead(url)
        desktop = wait_until(
            lambda: [
                p
                for p in psutil.Process(demo.pid).children()
                if "hms_desktop" in " ".join(p.cmdline())
            ],
            60,
            "the desktop process",
        )[0]
        assert "--username" in desktop.cmdline() and "reception" in desktop.cmdline()
        desktop.terminate()  # what closing the window does to the demo: the desktop exits
        demo.wait(timeout=60)
        assert health(url) is None
        assert not (data_dir / "pgdata" / "postmaster.pid").exists()
    finally:
        if demo.poll() is None:
            demo.kill()
            demo.wait()
