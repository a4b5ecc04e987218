"""Screenshot of the `construct.explorer` widget running in JupyterLab, in headless Chromium (Playwright).

Starts `jupyter lab` (this Python's) on a free port with a random token in a temporary folder, writes there a
notebook that builds an `Explorer` on a tiny random ConStruct and synthetic tiles, opens it in headless Chromium,
runs all its cells, waits for the widget's figure, picks the second tile in the widget's drop-down and waits for
the kernel to redraw, then saves a screenshot of the page. The server (and its kernel) and the folder are removed
afterwards.

Needs Playwright (`pip install playwright`, not a dependency of construct) and a Chromium: `$CONSTRUCT_CHROMIUM`,
a `chromium` / `chromium-browser` / `google-chrome` on PATH (Debian: `apt-get install chromium`), or Playwright's
own (`playwright install chromium`).

Usage: python tools/screenshot_explorer.py [--out nbs/images/explorer_jupyterlab.png] [--timeout 240]
"""
from __future__ import annotations
import argparse, json, os, secrets, shutil, socket, subprocess, sys, tempfile, time, urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / 'nbs' / 'images' / 'explorer_jupyterlab.png'
VIEWPORT = {'width': 1680, 'height': 1120}
TILES = ('synth-000000.png', 'synth-000001.png')      # the first tile, then the one picked in the browser

SETUP = """\
import torch
from construct.synthetic import write_synthetic
from construct.model import ConStruct, tiny_config
from construct.explorer import Explorer

write_synthetic('data', n_train=2, n_valid=0, n_test=4, seed=0, progress=False)   # 224-px synthetic tiles
torch.manual_seed(0)
model = ConStruct(tiny_config(**{'loss.lambda_struct': 0}))                        # tiny, random weights"""
SHOW = "explorer = Explorer(model, 'data', split='test')\nexplorer"


class NoBrowser(RuntimeError):
    "Playwright or a Chromium is missing: the screenshot cannot be taken."


def chromium_path() -> str | None:
    "A Chromium to drive: `$CONSTRUCT_CHROMIUM`, else the first of chromium, chromium-browser, google-chrome(-stable) on PATH."
    if os.environ.get('CONSTRUCT_CHROMIUM'): return os.environ['CONSTRUCT_CHROMIUM']
    return next(filter(None, map(shutil.which, ('chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'))), None)


def check_browser() -> str | None:
    "The Chromium executable to launch (None: Playwright's own); `NoBrowser` saying what is missing."
    try: from playwright.sync_api import sync_playwright
    except ImportError: raise NoBrowser("Playwright is not installed (pip install playwright)") from None
    exe = chromium_path()
    if exe:
        if not Path(exe).is_file(): raise NoBrowser(f"$CONSTRUCT_CHROMIUM={exe}: no such file")
        return exe
    with sync_playwright() as p:
        if Path(p.chromium.executable_path).is_file(): return None
    raise NoBrowser("no Chromium found: set $CONSTRUCT_CHROMIUM, install one (Debian: apt-get install chromium), "
                    "or run `playwright install chromium`")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0)); return s.getsockname()[1]


def _write_notebook(path: Path) -> None:
    import nbformat
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell('## `construct.explorer` in JupyterLab\nA tiny random ConStruct on synthetic tiles.'),
                nbformat.v4.new_code_cell(SETUP), nbformat.v4.new_code_cell(SHOW)]
    nb.metadata['kernelspec'] = {'name': 'python3', 'display_name': 'Python 3 (ipykernel)', 'language': 'python'}
    nbformat.write(nb, path)


def _start_lab(work: Path, port: int, token: str) -> subprocess.Popen:
    "`jupyter lab` serving `work`, its config, runtime and settings folders inside `work` (nothing written to HOME)."
    settings = work / '.lab-settings' / '@jupyterlab' / 'apputils-extension'
    settings.mkdir(parents=True)
    (settings / 'notification.jupyterlab-settings').write_text(json.dumps({'fetchNews': 'false', 'checkForUpdates': False}))
    env = {**os.environ, 'JUPYTER_CONFIG_DIR': str(work / '.config'), 'JUPYTER_RUNTIME_DIR': str(work / '.runtime'),
           'JUPYTERLAB_SETTINGS_DIR': str(work / '.lab-settings'), 'JUPYTERLAB_WORKSPACES_DIR': str(work / '.workspaces'),
           'IPYTHONDIR': str(work / '.ipython'), 'MPLBACKEND': 'Agg'}
    cmd = [sys.executable, '-m', 'jupyterlab', '--no-browser', '--ip=127.0.0.1', f'--port={port}',
           f'--IdentityProvider.token={token}', f'--ServerApp.root_dir={work}', '--LabApp.expose_app_in_browser=True',
           *(['--allow-root'] if hasattr(os, 'geteuid') and os.geteuid() == 0 else [])]
    return subprocess.Popen(cmd, cwd=work, env=env, stdout=open(work / '.lab.log', 'w'), stderr=subprocess.STDOUT)


def _wait_for_server(proc: subprocess.Popen, url: str, log: Path, timeout: float) -> None:
    t0 = time.time()
    while time.time() - t0 < timeout:
        if proc.poll() is not None: raise RuntimeError(f"jupyter lab exited with code {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200: return
        except OSError: time.sleep(0.5)
    raise TimeoutError(f"jupyter lab did not answer within {timeout:.0f} s:\n{log.read_text()[-3000:]}")


@dataclass
class Shot:
    "What `take_screenshot` saw in the browser."
    path: Path
    tiles_seen: list[str]          # tile names the widget's summary showed: before and after picking a tile in the browser
    figure_size: tuple[int, int]   # natural size (px) of the widget's figure, as loaded in the page
    seconds: float


_KERNEL_IDLE = """() => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;
  return !!(k && k.status === 'idle' && document.querySelector('.jp-Notebook')); }"""
_FIGURE_SHOWS = """(name) => { const img = document.querySelector('.jp-OutputArea img.widget-image');
  const info = document.querySelector('.jp-OutputArea .widget-html-content');
  return !!(img && img.complete && img.naturalWidth > 0 && info && info.textContent.includes(name)); }"""
_ERRORS = """() => Array.from(document.querySelectorAll('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'))
  .map(e => e.textContent).filter(t => t.includes('Error') || t.includes('Traceback'))"""


def take_screenshot(out: str | Path = DEFAULT_OUT, executable: str | None = None, timeout: float = 240) -> Shot:
    """Run the explorer in JupyterLab in headless Chromium and save a PNG screenshot to `out`.
    `executable`: the Chromium to launch (None: Playwright's own; see `check_browser`)."""
    from playwright.sync_api import sync_playwright
    out, t0 = Path(out), time.time()
    work = Path(tempfile.mkdtemp(prefix='construct-lab-'))
    port, token = _free_port(), secrets.token_hex(16)
    base = f'http://127.0.0.1:{port}'
    proc = None
    try:
        _write_notebook(work / 'explorer.ipynb')
        proc = _start_lab(work, port, token)
        _wait_for_server(proc, f'{base}/api/status?token={token}', work / '.lab.log', timeout)
        ms = timeout * 1000
        with sync_playwright() as p:
            root = hasattr(os, 'geteuid') and os.geteuid() == 0
            browser = p.chromium.launch(executable_path=executable, args=['--no-sandbox'] if root else [])
            try:
                page = browser.new_page(viewport=VIEWPORT, device_scale_factor=1)
                page.goto(f'{base}/lab/tree/explorer.ipynb?token={token}', timeout=ms)
                page.wait_for_function(_KERNEL_IDLE, timeout=ms)
                page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
                try: page.wait_for_function(_FIGURE_SHOWS, arg=TILES[0], timeout=ms)
                except Exception:
                    raise RuntimeError(f"the explorer did not render; errors in the notebook: {page.evaluate(_ERRORS) or 'none shown'}") from None
                seen = [TILES[0]]
                page.locator('.jp-OutputArea .widget-dropdown select').first.select_option(label=TILES[1])   # the tile drop-down
                page.wait_for_function(_FIGURE_SHOWS, arg=TILES[1], timeout=ms)
                seen.append(TILES[1])
                img = page.locator('.jp-OutputArea img.widget-image').first
                size = tuple(img.evaluate('e => [e.naturalWidth, e.naturalHeight]'))
                page.locator('.jp-OutputArea .widget-html-content').first.scroll_into_view_if_needed()
                page.wait_for_timeout(500)                                   # let the scroll settle
                out.parent.mkdir(parents=True, exist_ok=True)
                tmp = out.with_name(f'.{out.name}.tmp-{os.getpid()}')
                page.screenshot(path=str(tmp), type='png')
                tmp.replace(out)
            finally:
                browser.close()
        return Shot(out, seen, size, time.time() - t0)
    finally:
        if proc is not None and proc.poll() is None:
            proc.terminate()                                     # the server shuts its kernel down on SIGTERM
            try: proc.wait(20)
            except subprocess.TimeoutExpired: proc.kill(); proc.wait()
        shutil.rmtree(work, ignore_errors=True)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--out', type=Path, default=DEFAULT_OUT, help=f'PNG to write (default: {DEFAULT_OUT.relative_to(ROOT)})')
    ap.add_argument('--timeout', type=float, default=240, help='seconds to wait for each step (default: 240)')
    a = ap.parse_args(argv)
    try: exe = check_browser()
    except NoBrowser as e:
        print(f"cannot take the screenshot: {e}", file=sys.stderr); return 2
    shot = take_screenshot(a.out, exe, a.timeout)
    print(f"wrote {shot.path} ({VIEWPORT['width']}×{VIEWPORT['height']}; widget figure {shot.figure_size[0]}×{shot.figure_size[1]} px; "
          f"tiles shown {', '.join(shot.tiles_seen)}) in {shot.seconds:.0f} s with {exe or 'Playwright’s Chromium'}")
    return 0


if __name__ == '__main__':
    sys.exit(main())
