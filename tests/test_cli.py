"""The `construct` console script end to end: exit codes, errors without tracebacks, files written. (Paths that YAML
would read as numbers, multi-line reasons and the demo's refusal and seed are checked in `14_cli`.)"""
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

def test_user_errors_without_traceback(tmp_path):
    (tmp_path / 'full').mkdir(); (tmp_path / 'full' / 'x').write_text('x')
    r = run('synth', '--out', tmp_path / 'full', '--quiet')
    assert r.returncode == 2
    assert r.stderr.strip().count('\n') == 0 and 'Traceback' not in r.stderr
    assert r.stderr.startswith('construct synth: error:') and 'not empty' in r.stderr
    r = run('--debug', 'synth', '--out', tmp_path / 'full', '--quiet')
    assert r.returncode != 0 and 'Traceback' in r.stderr

def test_bugs_are_not_reported_as_user_errors(monkeypatch, capsys):
    from construct import cli
    from construct.core import CheckpointError
    def failing(exc):
        def cmd(a): raise exc
        return cmd
    monkeypatch.setattr(cli, '_cmd_synth', failing(CheckpointError('x.pt: does not match\n  missing keys (2): a, b')))
    assert cli.main(['synth', '--out', 'x']) == 2
    assert capsys.readouterr().err == 'construct synth: error: x.pt: does not match\n  missing keys (2): a, b\n'
    for bug in (ValueError('a bug'), KeyError('a bug')):
        monkeypatch.setattr(cli, '_cmd_synth', failing(bug))
        with pytest.raises(type(bug), match='a bug'): cli.main(['synth', '--out', 'x'])

def test_counts_are_checked_by_the_parser(tmp_path):
    r = run('synth', '--out', tmp_path / 'd', '--n-train', 0)
    assert r.returncode == 2 and 'argument --n-train: must be >= 1, got 0' in r.stderr and 'Traceback' not in r.stderr
