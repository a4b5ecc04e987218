"""The explorer renders and answers in JupyterLab: tools/screenshot_explorer.py drives a real JupyterLab in headless
Chromium (Playwright). Skipped, with the reason, where Playwright or a Chromium is missing (neither is a dependency)."""
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / 'tools'))
import screenshot_explorer as se


def test_no_browser_is_reported_not_crashed(monkeypatch):
    monkeypatch.setenv('CONSTRUCT_CHROMIUM', '/nonexistent/chromium')
    pytest.importorskip('playwright.sync_api', reason='Playwright is not installed (pip install playwright)')
    with pytest.raises(se.NoBrowser, match='CONSTRUCT_CHROMIUM=/nonexistent/chromium: no such file'):
        se.check_browser()
    assert se.main(['--out', '/nonexistent/never.png']) == 2          # a message and exit code 2, no traceback


def test_explorer_renders_in_jupyterlab(tmp_path):
    try: exe = se.check_browser()
    except se.NoBrowser as e: pytest.skip(f"no headless browser for the JupyterLab screenshot: {e}")
    out = tmp_path / 'explorer.png'
    shot = se.take_screenshot(out, exe, timeout=240)
    # the widget's figure loaded, and picking another tile in the browser's drop-down made the kernel redraw it
    assert shot.tiles_seen == list(se.TILES)
    assert shot.figure_size[0] >= 600 and shot.figure_size[1] >= 300
    im = np.asarray(Image.open(out).convert('RGB'))
    assert im.shape == (se.VIEWPORT['height'], se.VIEWPORT['width'], 3)
    # the figure is on screen: its legend and masks are drawn in the exact palette colours (TUM red, NEC purple, ...)
    for colour in [(255, 0, 0), (153, 0, 255)]:
        assert (im == colour).all(-1).sum() > 200, f"palette colour {colour} not in the screenshot"
