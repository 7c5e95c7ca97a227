"""Serving the classroom dashboard (``perksim dashboard``): ``solara run`` on the page of
:mod:`simulator.views.dashboard`, with its browser files fetched from the npm registry where
solara's CDN cannot be reached, a warning when it is served beyond this machine, and a clean
stop on Ctrl+C or ``kill``.

The page itself is defined in :mod:`simulator.views.dashboard`; this module only starts and
stops the server that serves it (``solara run simulator.views.dashboard:page``).
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import solara

from simulator.scenario.loader import load_scenario
from simulator.views import dashboard
from simulator.views.dashboard import SCENARIO_ENV, base_scenario_path

PAGE = f"{dashboard.__name__}:page"  # what `solara run` serves
STARTUP_TIMEOUT = 120.0  # seconds to wait for the page to answer before saying so

_CDN_REF = re.compile(r"(?:\{\{\s*cdn\s*\}\}|\$\{this\.getCdn\(\)\})/"
                      r"((?:@[\w.\-]+/)?[\w.\-]+@\d+\.\d+\.\d+[\w.\-]*)/")
# solara files naming the CDN packages this page uses: the page template and the draggable
# grid SolaraViz lays its views out with (the page avoids solara.Markdown, which needs more)
_CDN_SOURCES = ("server/templates/solara.html.j2", "widgets/vue/gridlayout.vue",
                "widgets/vue/gridlayout_v3.vue")


def frontend_packages() -> list[str]:
    """The npm packages (``name@version``) the served page loads through solara's CDN proxy."""
    import ipyvue
    import solara.server.settings as solara_settings

    root = Path(solara.__file__).parent
    found: set[str] = set()
    for name in _CDN_SOURCES:
        if (root / name).exists():
            found.update(_CDN_REF.findall((root / name).read_text(encoding="utf-8")))
    # the template names the vuetify 2 and the vuetify 3 app; the server uses one
    unused = ("@widgetti/solara-vuetify-app@" if ipyvue.__version__.startswith("3")
              else "@widgetti/solara-vuetify3-app@")
    found = {p for p in found if not p.startswith(unused)}
    assets = solara_settings.assets
    if assets.fontawesome_enabled:
        found.add(assets.fontawesome_path.strip("/").split("/")[0])
    return sorted(found)


def frontend_cache_dir() -> Path:
    """Where solara's server looks for CDN files before fetching them (its proxy cache)."""
    import solara.server.settings as solara_settings

    return Path(solara_settings.assets.proxy_cache_dir)


def fetch_frontend_assets(cache_dir: Path | None = None, npm: str = "npm") -> list[str]:
    """Put the page's browser files into solara's CDN cache, from the npm registry.

    ``solara run`` fetches them from a CDN on first use; where only package registries can
    be reached (a school network, CI), this fetches the same packages with ``npm pack`` and
    unpacks them where the server looks first. Packages already there are skipped. Returns
    the packages fetched; raises ``RuntimeError`` if npm fails.
    """
    import shutil
    import tarfile
    import tempfile

    cache = Path(cache_dir) if cache_dir is not None else frontend_cache_dir()
    missing = [p for p in frontend_packages() if not (cache / p / "package.json").exists()]
    if not missing:
        return []
    exe = shutil.which(npm)
    if exe is None:
        raise RuntimeError(f"npm is needed to fetch {', '.join(missing)} (apt-get install npm)")
    with tempfile.TemporaryDirectory() as tmp:
        for pkg in missing:
            done = subprocess.run([exe, "pack", "--silent", pkg], cwd=tmp, capture_output=True,
                                  text=True, timeout=300)
            if done.returncode != 0:
                raise RuntimeError(f"npm pack {pkg} failed: {done.stderr.strip()}")
            tarball = Path(tmp) / done.stdout.strip().splitlines()[-1]
            unpacked = Path(tmp) / "unpacked"
            with tarfile.open(tarball) as tar:
                tar.extractall(unpacked, filter="data")
            target = cache / pkg
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.rmtree(target, ignore_errors=True)
            shutil.move(str(unpacked / "package"), str(target))
            shutil.rmtree(unpacked, ignore_errors=True)
    return missing


def server_command(host: str = "127.0.0.1", port: int = 8765) -> list[str]:
    """The ``solara run`` command line that serves the dashboard page (:data:`PAGE`)."""
    return [sys.executable, "-m", "solara", "run", PAGE, "--host", host,
            "--port", str(port), "--production"]


def server_env(scenario: str | os.PathLike[str] | None = None) -> dict[str, str]:
    """The environment for the server: the base scenario, no usage telemetry, less noise."""
    env = dict(os.environ)
    env[SCENARIO_ENV] = str(base_scenario_path(scenario).resolve())
    env.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "False")
    # solara warns on every page load that a loopback http server cannot set https cookies
    quiet = "ignore:Cookies with samesite=none require https:UserWarning"
    env["PYTHONWARNINGS"] = ",".join(filter(None, [env.get("PYTHONWARNINGS"), quiet]))
    return env


def exposure_warning(host: str, port: int) -> str | None:
    """A warning when ``host`` makes the dashboard reachable beyond this machine (anything
    but loopback: ``0.0.0.0``, ``::``, a LAN address or a name that resolves to one)."""
    import ipaddress
    import socket

    name = host.strip().strip("[]")
    if name.lower() in ("localhost", "localhost.localdomain"):
        return None
    try:
        addresses = {ipaddress.ip_address(name.split("%")[0])}
    except ValueError:
        try:
            addresses = {ipaddress.ip_address(str(info[4][0]).split("%")[0])
                         for info in socket.getaddrinfo(name, port)}
        except (OSError, UnicodeError, ValueError):
            addresses = set()
    if addresses and all(a.is_loopback for a in addresses):
        return None
    where = ("on every network interface of this machine"
             if any(a.is_unspecified for a in addresses) else f"at {host}")
    return (f"warning: the dashboard is served {where}, so anyone who can reach port {port} "
            "of this machine can use it (it has no login, and every visitor's model runs "
            "here); use --host 127.0.0.1 to keep it on this machine")


def local_url(host: str, port: int) -> str:
    """The page's address as this machine reaches it: loopback for a wildcard host."""
    import ipaddress

    name = host.strip().strip("[]")
    try:
        ip = ipaddress.ip_address(name.split("%")[0])
    except ValueError:
        return f"http://{name}:{port}/"
    if ip.is_unspecified:
        ip = ipaddress.ip_address("::1" if ip.version == 6 else "127.0.0.1")
    return f"http://[{ip}]:{port}/" if ip.version == 6 else f"http://{ip}:{port}/"


def wait_until_serving(url: str, proc: subprocess.Popen | None = None,
                       timeout: float | None = None, interval: float = 0.25) -> bool:
    """Poll ``url`` until it answers HTTP 200: True then; False if ``proc`` (the server)
    ended first or ``timeout`` (default :data:`STARTUP_TIMEOUT`) seconds passed. No proxy
    is asked, whatever the environment says: the server is on this machine."""
    import time
    import urllib.error
    import urllib.request

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + (STARTUP_TIMEOUT if timeout is None else timeout)
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            with opener.open(url, timeout=5) as response:
                if response.status == 200:
                    return True
        except (OSError, urllib.error.URLError):
            pass
        time.sleep(interval)
    return False


def serve(scenario: str | None = None, host: str = "127.0.0.1", port: int = 8765) -> None:
    """Serve the dashboard with ``solara run`` until interrupted (Ctrl+C).

    ``scenario`` is a scenario file or a bundled name (default ``klout_pout``); it is
    validated first, so a bad file fails here with located messages, not in the browser.
    A ``host`` beyond loopback is served, with a warning on standard error
    (:func:`exposure_warning`). The address (``dashboard: http://…``) is printed once the
    page answers (:func:`wait_until_serving`), not when the server starts.
    """
    path = base_scenario_path(scenario)
    load_scenario(path)  # raises ScenarioError with file:line messages
    if warning := exposure_warning(host, port):
        print(warning, file=sys.stderr, flush=True)
    try:  # so the page also loads where only package registries are reachable
        if fetched := fetch_frontend_assets():
            print(f"fetched the page's browser files: {', '.join(fetched)}", flush=True)
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as exc:
        print(f"note: browser files not cached ({exc}); solara will fetch them from its CDN",
              file=sys.stderr, flush=True)
    env = server_env(path)
    name = host.strip()
    address = f"http://[{name}]:{port}" if ":" in name and "[" not in name else f"http://{name}:{port}"
    proc = subprocess.Popen(server_command(host, port), env=env)

    def _stop(signum: int, frame: Any) -> None:
        raise SystemExit(128 + signum)

    try:  # a plain `kill` of this process must not leave the server running
        previous = signal.signal(signal.SIGTERM, _stop)
    except ValueError:  # not the main thread: no signal handlers there
        previous = None
    interrupted = False
    try:  # the address only once the page answers (solara takes seconds to start)
        if wait_until_serving(local_url(host, port), proc):
            print(f"dashboard: {address}  (scenario {path}; Ctrl+C to stop)", flush=True)
        elif proc.poll() is None:
            print(f"dashboard: {address} has not answered in {STARTUP_TIMEOUT:.0f} s; it may "
                  f"still be starting (scenario {path}; Ctrl+C to stop)", file=sys.stderr,
                  flush=True)
        proc.wait()
    except KeyboardInterrupt:  # Ctrl+C: the usual way to stop; the server got it too
        interrupted = True
    except SystemExit:
        interrupted = True
        raise
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if not interrupted and proc.returncode not in (0, None):
            raise RuntimeError(f"the dashboard server (solara) exited with code {proc.returncode}")
