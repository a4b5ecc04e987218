"""Render every docs page and check it, without Quarto.

1. Process the notebooks for the docs as `nbdev_docs` would: `nbdev_proc_nbs` (nbs/ -> _proc/). Where Quarto is not
   installed, `nbdev_proc_nbs` would try to download it, so the same steps run without that one:
   `refresh_quarto_yml()` then `nbdev.serve.proc_nbs()`.
2. Convert each processed notebook to HTML with `jupyter nbconvert --to html` (into --out, a temporary folder by default).
3. Check every page: the HTML exists; it embeds every figure its notebook outputs (one `<img src="data:image/...">` or
   inline SVG per image output) and links no image file that does not exist; the notebook holds no error output
   (an `error` output, or a traceback on stderr); and nbs/sidebar.yml lists exactly the notebooks that exist.

Prints one row per page and exits 1 if any check fails. Usage: python tools/check_docs.py [--out DIR] [--force]
"""
from __future__ import annotations
import argparse, json, os, re, shutil, subprocess, sys, tempfile, time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
NBS, PROC = ROOT / 'nbs', ROOT / '_proc'
BIN = Path(sys.executable).parent
IMAGE_MIMES = ('image/png', 'image/jpeg', 'image/gif', 'image/svg+xml')
TRACEBACK = 'Traceback (most recent call last)'

def source_notebooks(nbs: Path = NBS) -> list[Path]:
    "The notebooks the docs are made of: every `*.ipynb` under `nbs` except hidden, `_`-prefixed and checkpoint files."
    return sorted(p for p in nbs.rglob('*.ipynb')
                  if not any(part.startswith(('.', '_')) for part in p.relative_to(nbs).parts))

# --- checks on one page (pure functions, tested in tests/test_docs.py) ---

def _outputs(nb: dict):
    for i, cell in enumerate(nb.get('cells', [])):
        for out in cell.get('outputs', []) if cell.get('cell_type') == 'code' else []:
            yield i, out

def image_outputs(nb: dict) -> int:
    "Number of outputs of notebook `nb` (parsed JSON) that carry an image."
    return sum(any(m in out.get('data', {}) for m in IMAGE_MIMES) for _, out in _outputs(nb))

def error_outputs(nb: dict) -> list[str]:
    "One line per error output of `nb`: `error` outputs, and stderr streams that hold a traceback."
    found = []
    for i, out in _outputs(nb):
        if out.get('output_type') == 'error':
            found.append(f"cell {i}: {out.get('ename', '?')}: {str(out.get('evalue', ''))[:120]}")
        elif out.get('output_type') == 'stream' and out.get('name') == 'stderr' and TRACEBACK in ''.join(out.get('text', '')):
            found.append(f"cell {i}: traceback on stderr")
    return found

def embedded_images(html: str) -> int:
    "Number of figures embedded in an nbconvert page: `<img>` with a data URI, plus inline SVG outputs."
    return len(re.findall(r'<img\b[^>]*\bsrc="data:image/', html)) + len(re.findall(r'class="[^"]*\bjp-RenderedSVG\b', html))

def missing_image_files(html: str, base: Path) -> list[str]:
    "Image files the page links (`<img src=...>` that is not a data URI or a URL) that do not exist under `base`."
    srcs = re.findall(r'<img\b[^>]*\bsrc="([^"]+)"', html)
    return [s for s in srcs if not re.match(r'(data:|https?:|//)', s) and not (base / s.split('#')[0].split('?')[0]).exists()]

def check_page(nb: dict, html: str | None, base: Path) -> list[str]:
    "Every problem of one page: no HTML, figures not embedded, broken image links, error outputs."
    if html is None: return ['no HTML was written']
    problems = []
    n_img, n_emb = image_outputs(nb), embedded_images(html)
    if n_emb < n_img: problems.append(f"{n_img} image output(s) but {n_emb} embedded figure(s) in the HTML")
    problems += [f"broken image link {s}" for s in missing_image_files(html, base)]
    problems += [f"error output: {e}" for e in error_outputs(nb)]
    if TRACEBACK in html and not error_outputs(nb): problems.append("the HTML shows a traceback")
    return problems

def sidebar_entries(sidebar: Path) -> list[str]:
    "Every page `sidebar.yml` lists (strings and `href`s, in sections at any depth)."
    def walk(x):
        if isinstance(x, str): yield x
        elif isinstance(x, list):
            for y in x: yield from walk(y)
        elif isinstance(x, dict):
            if 'href' in x: yield x['href']
            if 'contents' in x: yield from walk(x['contents'])
    doc = yaml.safe_load(sidebar.read_text()) or {}
    return list(walk(doc.get('website', {}).get('sidebar', {}).get('contents', [])))

def check_sidebar(sidebar: Path, notebooks: list[Path], nbs: Path) -> list[str]:
    "Sidebar entries without a file, and notebooks the sidebar leaves out (with custom_sidebar they would not appear)."
    entries = sidebar_entries(sidebar)
    listed = set(entries)
    problems = [f"sidebar lists {e}, which does not exist" for e in entries if not (nbs / e).exists()]
    problems += [f"{p.relative_to(nbs)} is not in the sidebar" for p in notebooks if str(p.relative_to(nbs)) not in listed]
    return problems

# --- the pipeline ---

def process(force: bool) -> None:
    "nbs/ -> _proc/, as `nbdev_proc_nbs` does (without installing Quarto where it is missing)."
    env = {**os.environ, 'IPYTHONDIR': os.environ.get('IPYTHONDIR', str(ROOT / '.venv' / 'ipython')), 'MPLBACKEND': 'Agg'}
    if shutil.which('quarto'):
        cmd = [str(BIN / 'nbdev_proc_nbs'), *(['--force'] if force else [])]
    else:
        cmd = [sys.executable, '-c', 'from nbdev.quarto import refresh_quarto_yml; from nbdev.serve import proc_nbs; '
               f'refresh_quarto_yml(); proc_nbs(force={force})']
    r = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    if r.returncode: raise SystemExit(f"processing the notebooks failed ({' '.join(cmd[:2])} ...):\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}")

def render(notebooks: list[Path], out: Path) -> None:
    "`jupyter nbconvert --to html` of the processed notebooks into `out` (same relative paths)."
    by_dir: dict[Path, list[Path]] = {}
    for p in notebooks: by_dir.setdefault(p.parent.relative_to(PROC), []).append(p)
    for rel, nbs in by_dir.items():
        r = subprocess.run([str(BIN / 'jupyter'), 'nbconvert', '--to', 'html', '--output-dir', str(out / rel), *map(str, nbs)],
                           cwd=ROOT, capture_output=True, text=True)
        if r.returncode: raise SystemExit(f"nbconvert failed:\n{r.stderr[-3000:]}")

def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--out', type=Path, help='folder for the HTML pages (default: a temporary folder, removed afterwards)')
    ap.add_argument('--force', action='store_true', help='process every notebook again, not only those changed since the last run')
    a = ap.parse_args(argv)
    t0 = time.time()
    sources = source_notebooks()
    process(a.force)
    out = a.out or Path(tempfile.mkdtemp(prefix='construct-docs-'))
    try:
        rows, problems = [], {}
        procs = [PROC / p.relative_to(NBS) for p in sources]
        missing = [p for p in procs if not p.is_file()]
        render([p for p in procs if p.is_file()], out)
        for src, proc in zip(sources, procs):
            rel = src.relative_to(NBS)
            html_path = out / rel.with_suffix('.html')
            if proc in missing:
                problems[str(rel)] = ['nbdev did not process it (no file in _proc/)']
                rows.append((str(rel), '-', '-', '-', 'FAIL')); continue
            nb = json.loads(proc.read_text(encoding='utf-8'))
            html = html_path.read_text(encoding='utf-8') if html_path.is_file() else None
            ps = check_page(nb, html, proc.parent)
            if ps: problems[str(rel)] = ps
            rows.append((str(rel), f"{len(html) / 1024:.0f}" if html else '-', f"{image_outputs(nb)}/{embedded_images(html or '')}",
                         str(len(error_outputs(nb))), 'FAIL' if ps else 'ok'))
        side = check_sidebar(NBS / 'sidebar.yml', sources, NBS)
        if side: problems['sidebar.yml'] = side
        w = max(len(r[0]) for r in rows)
        print(f"{'page':{w}s}  {'HTML KB':>7s}  {'images (outputs/embedded)':>25s}  {'errors':>6s}  status")
        for r in rows: print(f"{r[0]:{w}s}  {r[1]:>7s}  {r[2]:>25s}  {r[3]:>6s}  {r[4]}")
        print(f"{'sidebar.yml':{w}s}  {'':>7s}  {'':>25s}  {'':>6s}  {'FAIL' if side else 'ok'}")
        for page, ps in problems.items():
            for p in ps: print(f"✗ {page}: {p}")
        print(f"{len(rows)} pages, {len(problems)} with problems; HTML in {out if a.out else '(a temporary folder)'}; {time.time() - t0:.0f} s")
        return 1 if problems else 0
    finally:
        if a.out is None: shutil.rmtree(out, ignore_errors=True)

if __name__ == '__main__':
    sys.exit(main())
