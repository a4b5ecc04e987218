"""Write README.md from nbs/index.ipynb without Quarto (which nbdev_readme needs).

The README is the markdown cells of the index notebook, in order. `--check` exits 1 if README.md
differs from what would be written. Used by `make readme` and tests/test_readme.py.
"""
import json, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEADER = '<!-- Generated from nbs/index.ipynb by `make readme`: edit the notebook, not this file. -->\n\n'

def render() -> str:
    nb = json.loads((ROOT / 'nbs' / 'index.ipynb').read_text(encoding='utf-8'))
    parts = [''.join(c['source']).strip() for c in nb['cells'] if c['cell_type'] == 'markdown']
    return HEADER + '\n\n'.join(p for p in parts if p) + '\n'

if __name__ == '__main__':
    readme = ROOT / 'README.md'
    if '--check' in sys.argv:
        ok = readme.exists() and readme.read_text(encoding='utf-8') == render()
        print('README.md is in step with nbs/index.ipynb' if ok else 'README.md is stale: run `make readme`')
        sys.exit(0 if ok else 1)
    readme.write_text(render(), encoding='utf-8')
    print(f'wrote {readme}')
