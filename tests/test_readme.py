"""README.md is generated from nbs/index.ipynb (Quarto, which nbdev_readme needs, is not available everywhere)."""
import re, subprocess, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

def test_readme_in_step_with_index():
    r = subprocess.run([sys.executable, 'tools/make_readme.py', '--check'], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr

def test_readme_has_exactly_two_commands():
    "The quick start is exactly two commands, and both are Makefile targets."
    readme = (ROOT / 'README.md').read_text()
    block = re.search(r'## Quick start.*?```sh\n(.*?)```', readme, re.S).group(1)
    cmds = [l.split('#')[0].strip() for l in block.splitlines() if l.split('#')[0].strip()]
    assert cmds == ['make demo', 'make test']
    makefile = (ROOT / 'Makefile').read_text()
    for target in ('demo', 'test'): assert re.search(rf'^{target}:', makefile, re.M)

def test_ci_runs_the_readme_test_command():
    ci = (ROOT / '.ci' / 'run').read_text()
    assert re.search(r'^make test$', ci, re.M)
