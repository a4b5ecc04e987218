"""The docs pages render to HTML with their figures and without errors (tools/check_docs.py), and the checker
catches each problem it claims to."""
import subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / 'tools'))
import check_docs as cd

PNG = {'output_type': 'display_data', 'data': {'image/png': 'iVBORw0KGgo=', 'text/plain': '<Figure>'}}
SVG = {'output_type': 'display_data', 'data': {'image/svg+xml': '<svg></svg>'}}
TEXT = {'output_type': 'execute_result', 'data': {'text/plain': '42'}}
ERROR = {'output_type': 'error', 'ename': 'ValueError', 'evalue': 'bad input', 'traceback': []}
TRACE = {'output_type': 'stream', 'name': 'stderr', 'text': ['Traceback (most recent call last):\n', '  File ...\n']}
WARN = {'output_type': 'stream', 'name': 'stderr', 'text': ['UserWarning: careful\n']}
IMG = '<img alt="No description has been provided for this image" src="data:image/png;base64,iVBORw0KGgo="/>'

def nb(*outputs, markdown_first=True):
    cells = [{'cell_type': 'markdown', 'source': '# t'}] if markdown_first else []
    return {'cells': cells + [{'cell_type': 'code', 'source': 'x', 'outputs': [o]} for o in outputs]}

def test_counts_figures_in_notebooks_and_pages():
    assert cd.image_outputs(nb(PNG, TEXT, SVG, WARN)) == 2
    assert cd.embedded_images(f'<p>{IMG}</p><div class="jp-RenderedSVG jp-OutputArea-output"><svg/></div>') == 2
    assert cd.embedded_images('<img src="figure.png"/>') == 0                 # a linked file is not an embedded figure

def test_error_outputs():
    assert cd.error_outputs(nb(PNG, WARN)) == []                              # a warning on stderr is not an error
    assert cd.error_outputs(nb(TEXT, ERROR, TRACE)) == ['cell 2: ValueError: bad input', 'cell 3: traceback on stderr']

def test_check_page(tmp_path):
    (tmp_path / 'there.png').write_bytes(b'')
    assert cd.check_page(nb(PNG), f'<html>{IMG}<img src="there.png"/></html>', tmp_path) == []
    assert cd.check_page(nb(PNG), None, tmp_path) == ['no HTML was written']
    assert cd.check_page(nb(PNG, PNG), f'<html>{IMG}</html>', tmp_path) == ['2 image output(s) but 1 embedded figure(s) in the HTML']
    assert cd.check_page(nb(TEXT), '<img src="gone.png"/>', tmp_path) == ['broken image link gone.png']
    assert cd.check_page(nb(ERROR), '<pre>ValueError</pre>', tmp_path) == ['error output: cell 1: ValueError: bad input']
    assert cd.check_page(nb(TEXT), '<pre>Traceback (most recent call last):</pre>', tmp_path) == ['the HTML shows a traceback']

def test_sidebar(tmp_path):
    for name in ('index.ipynb', '00_a.ipynb', '01_b.ipynb', '_private.ipynb'): (tmp_path / name).write_text('{}')
    (tmp_path / '.ipynb_checkpoints').mkdir(); (tmp_path / '.ipynb_checkpoints' / 'x.ipynb').write_text('{}')
    notebooks = cd.source_notebooks(tmp_path)
    assert [p.name for p in notebooks] == ['00_a.ipynb', '01_b.ipynb', 'index.ipynb']
    side = tmp_path / 'sidebar.yml'
    side.write_text('website:\n  sidebar:\n    contents:\n      - index.ipynb\n      - section: A\n        contents:\n'
                    '          - 00_a.ipynb\n      - text: B\n        href: 01_b.ipynb\n')
    assert cd.sidebar_entries(side) == ['index.ipynb', '00_a.ipynb', '01_b.ipynb']
    assert cd.check_sidebar(side, notebooks, tmp_path) == []
    side.write_text('website:\n  sidebar:\n    contents:\n      - index.ipynb\n      - text: C\n        href: 99_c.ipynb\n')
    assert cd.check_sidebar(side, notebooks, tmp_path) == ['sidebar lists 99_c.ipynb, which does not exist',
                                                           '00_a.ipynb is not in the sidebar', '01_b.ipynb is not in the sidebar']

def test_docs_render_and_check():
    "The whole check on this repository: every page renders, embeds its figures, has no errors; the sidebar is complete."
    r = subprocess.run([sys.executable, 'tools/check_docs.py'], cwd=ROOT, capture_output=True, text=True, timeout=1800)
    assert r.returncode == 0, r.stdout[-5000:] + r.stderr[-3000:]
    rows = [l for l in r.stdout.splitlines() if l.endswith((' ok', ' FAIL'))]
    assert len(rows) == len(cd.source_notebooks()) + 1 and all(l.endswith(' ok') for l in rows), r.stdout
