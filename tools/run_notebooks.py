"""Execute notebooks in place, as `nbdev_test` runs them, and store their outputs (the executed cells are the docs).

    .venv/bin/python tools/run_notebooks.py nbs/09_model.ipynb [more.ipynb ...] [--flags "slow"]

Cells carrying a test flag (settings.ini `tst_flags`) that is not named in `--flags` are not run and keep the outputs
they had (from the last run with that flag, e.g. on a GPU machine); `#| eval: false` cells are never run. Stops at
the first failing cell, writes nothing for that notebook, and exits 1. Run `nbdev_clean` afterwards.
"""
import argparse, json, os, sys, time
from pathlib import Path

from execnb.shell import CaptureShell
from fastcore.xtras import working_directory
from nbdev.config import get_config
from nbdev.process import NBProcessor
from nbdev.frontmatter import FrontmatterProc


def run(path: Path, flags: set[str]) -> float:
    "Execute `path`, write the outputs of the cells that ran into the file; the seconds it took."
    all_flags = set(get_config().tst_flags.split())
    skip = all_flags - flags
    nb = NBProcessor(path, procs=FrontmatterProc, process=True).nb

    def no_eval(cell):
        if cell.cell_type != 'code': return True
        d = getattr(cell, 'directives_', {}) or {}
        if d.get('eval:', [''])[0].lower() == 'false': return True
        return bool(skip & d.keys())

    ran = {}
    def preproc(cell):
        skipped = no_eval(cell)
        if not skipped and cell.cell_type == 'code': ran[cell.id] = cell
        return skipped

    t0 = time.time()
    os.environ['IN_TEST'] = '1'
    shell = CaptureShell(path)
    with working_directory(path.parent):
        try: shell.run_all(nb, exc_stop=True, preproc=preproc)
        except Exception:
            sys.stderr.write(shell.prettytb(fname=path) + '\n')
            raise
    raw = json.loads(path.read_text())
    for i, c in enumerate(raw['cells']):
        if c['cell_type'] == 'code' and c.get('id') in ran:
            c['outputs'] = ran[c['id']].get('outputs', [])
            c['execution_count'] = None
    path.write_text(json.dumps(raw, indent=1, ensure_ascii=False) + '\n')
    return time.time() - t0


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('notebooks', nargs='+', type=Path)
    p.add_argument('--flags', default='', help='space-separated test flags whose cells should run too')
    a = p.parse_args(argv)
    for nb in a.notebooks:
        try: secs = run(nb.resolve(), set(a.flags.split()))
        except Exception as e:
            print(f"FAILED {nb}: {type(e).__name__}: {e}", file=sys.stderr)
            return 1
        print(f"{nb}: executed in {secs:.1f} s", flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
