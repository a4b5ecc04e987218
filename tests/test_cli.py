"""The `construct` console script end to end: exit codes, errors without tracebacks, files written."""
import json, subprocess, sys
from pathlib import Path

import pytest
import torch
import yaml

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

TINY = ('model.student=conch_tiny', 'model.teacher=mit_tiny', 'data.num_workers=0')

def test_demo_paths_seed_and_rerun(tmp_path):
    "A demo folder whose name YAML would cut at '#'; --seed lands in train.seed; a second run is refused before any work."
    out = tmp_path / 'demo #2'
    args = ('demo', '--out', out, '--seed', 3, '--n-train', 10, '--n-valid', 2, '--n-test', 2, '--quiet',
            'train.epochs=1', 'train.batch_size=5')
    r = run(*args)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-4000:]
    cfg = yaml.safe_load((out / 'run' / 'config.yaml').read_text())
    assert cfg['data']['root'] == str(out / 'data') and cfg['train']['out_dir'] == str(out / 'run')
    assert cfg['train']['seed'] == 3
    assert (out / 'data' / 'train').is_dir() and (out / 'results.json').is_file() and (out / 'run' / 'last.pt').is_file()
    assert json.loads((out / 'results.json').read_text())['config']['train']['seed'] == 3
    stamp = (out / 'run' / 'last.pt').stat().st_mtime_ns
    r = run(*args)
    assert r.returncode == 2 and 'Traceback' not in r.stderr
    assert r.stderr.startswith(f'construct demo: error: {out}: holds the outputs of an earlier demo')
    assert '--overwrite' in r.stderr and 'another --out' in r.stderr and 'overwrite=True' not in r.stderr
    assert r.stdout == '' and (out / 'run' / 'last.pt').stat().st_mtime_ns == stamp     # nothing was done

def test_train_paths_are_strings_and_errors_keep_their_listing(tmp_path):
    r = run('synth', '--out', tmp_path / '2024', '--n-train', 4, '--n-valid', 2, '--n-test', 2, '--quiet')
    assert r.returncode == 0, r.stderr
    # '2024' and 'true' are a number and a boolean to YAML; as path options they stay strings
    r = run('train', '--data', '2024', '--out', 'true', '--no-validate', '--quiet', *TINY, 'train.batch_size=2',
            'train.epochs=1', cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-4000:]
    cfg = yaml.safe_load((tmp_path / 'true' / 'config.yaml').read_text())
    assert (cfg['data']['root'], cfg['train']['out_dir']) == (str(tmp_path / '2024'), 'true')   # the data root made absolute
    # the same folder again: command-line advice, not the Python API's
    r = run('train', '--data', '2024', '--out', 'true', '--quiet', *TINY, cwd=tmp_path)
    assert r.returncode == 2 and '--resume true' in r.stderr and '--overwrite' in r.stderr
    # a multi-line reason (a weights file that does not fit): the listing follows the first line
    torch.save({'visual.trunk.foo.weight': torch.zeros(3)}, tmp_path / 'bad.pt')
    r = run('train', '--data', '2024', '--out', 'r2', '--quiet', *TINY, 'train.batch_size=2',
            f'model.student_weights={tmp_path / "bad.pt"}', cwd=tmp_path)
    lines = r.stderr.splitlines()
    assert r.returncode == 2 and 'Traceback' not in r.stderr, r.stderr[-4000:]
    assert lines[0].startswith('construct train: error: ') and 'bad.pt' in lines[0], lines
    assert any(l.strip().startswith('missing keys (') for l in lines[1:])
    assert any('visual.trunk.foo.weight' in l for l in lines[1:])                      # the unexpected key, listed

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
