"""The `construct` console script end to end: exit codes, one-line errors, files written."""
import subprocess, sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent / 'construct'

def run(*args, cwd=None):
    return subprocess.run([str(BIN), *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=600)

def test_help_for_every_command():
    top = run('--help')
    assert top.returncode == 0
    for cmd in ('synth', 'check-data', 'demo'):
        assert cmd in top.stdout
        r = run(cmd, '--help')
        assert r.returncode == 0 and 'usage: construct ' + cmd in r.stdout

def test_synth_then_check_data(tmp_path):
    r = run('synth', '--out', tmp_path / 'd', '--n-train', 12, '--n-valid', 4, '--n-test', 4, '--quiet')
    assert r.returncode == 0, r.stderr
    assert len(list((tmp_path / 'd' / 'train').glob('*.png'))) == 12
    r = run('check-data', tmp_path / 'd', '--quiet')
    assert r.returncode == 0 and 'OK' in r.stdout

def test_check_data_reports_problems_with_exit_code(tmp_path):
    run('synth', '--out', tmp_path / 'd', '--n-train', 4, '--n-valid', 2, '--n-test', 2, '--quiet')
    next((tmp_path / 'd' / 'test' / 'mask').glob('*.png')).unlink()
    (tmp_path / 'd' / 'train' / 'oops.png').write_bytes(b'garbage')
    r = run('check-data', tmp_path / 'd', '--quiet')
    assert r.returncode == 1
    assert 'image has no mask' in r.stdout and 'oops.png: file name has no label bracket' in r.stdout

def test_user_errors_are_one_line_without_traceback(tmp_path):
    (tmp_path / 'full').mkdir(); (tmp_path / 'full' / 'x').write_text('x')
    r = run('synth', '--out', tmp_path / 'full', '--quiet')
    assert r.returncode == 2
    assert r.stderr.strip().count('\n') == 0 and 'Traceback' not in r.stderr
    assert r.stderr.startswith('construct synth: error:') and 'not empty' in r.stderr
    r = run('--debug', 'synth', '--out', tmp_path / 'full', '--quiet')
    assert r.returncode != 0 and 'Traceback' in r.stderr
