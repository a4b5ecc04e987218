"""What a new user meets, through the `construct` command (issue 17): weak supervision from `train/` alone, locked
run folders, portable checkpoints, interruptions, disk faults, random weights said out loud, and a command line
that explains itself. Each test runs the installed console script in a subprocess, as a user would."""
import json, os, shutil, signal, socket, subprocess, sys, time
from pathlib import Path

import pytest
import torch

BIN = Path(sys.executable).parent / 'construct'
TINY = ('--preset', 'tiny', 'data.num_workers=0', 'train.batch_size=4', 'train.epochs=1')


def run(*args, cwd=None, timeout=600):
    return subprocess.run([str(BIN), *map(str, args)], capture_output=True, text=True, cwd=cwd, timeout=timeout)


@pytest.fixture(scope='module')
def data(tmp_path_factory):
    "A synthetic data root with all three splits (8 training tiles, 2 + 2 with masks)."
    root = tmp_path_factory.mktemp('data') / 'd'
    r = run('synth', '--out', root, '--n-train', 8, '--n-valid', 2, '--n-test', 2, '--quiet')
    assert r.returncode == 0, r.stderr
    return root


@pytest.fixture(scope='module')
def trained(data, tmp_path_factory):
    "One tiny run trained on a student weights file (saved in CONCH's format), and that file."
    from construct.encoders import STUDENT_PRESETS, _build_coca
    work = tmp_path_factory.mktemp('trained')
    torch.manual_seed(0)
    torch.save(_build_coca(STUDENT_PRESETS['conch_tiny'], captioning=True).state_dict(), work / 'conch_tiny.bin')
    r = run('train', '--data', data, '--out', work / 'run', '--quiet', *TINY, f'model.student_weights={work / "conch_tiny.bin"}')
    assert r.returncode == 0, r.stderr[-3000:]
    return work


def test_trains_from_image_labels_alone(data, tmp_path):
    "Item 1: only train/ — training runs, validation and test are skipped with one line each; check-data says what exists."
    root = tmp_path / 'weak'
    shutil.copytree(data / 'train', root / 'train')
    r = run('train', '--data', root, '--out', tmp_path / 'run', '--quiet', *TINY)
    assert r.returncode == 0, r.stderr[-3000:]
    assert 'has no valid/ split: validation is skipped' in r.stderr and 'has no test/ split: the test evaluation is skipped' in r.stderr
    assert (tmp_path / 'run' / 'last.pt').is_file() and not (tmp_path / 'run' / 'results.json').exists()
    r = run('check-data', root, '--quiet')
    assert r.returncode == 0, r.stdout
    assert 'valid       absent  → no validation after each epoch' in r.stdout and 'test        absent  → no test evaluation' in r.stdout


def test_a_run_folder_in_use_is_refused(data, tmp_path):
    "Item 2: a live lock stops a second training before it writes anything; a dead one is reported as stale."
    out = tmp_path / 'run'; out.mkdir()
    (out / '.lock').write_text(json.dumps(dict(pid=os.getpid(), host=socket.gethostname())))
    r = run('train', '--data', data, '--out', out, '--quiet', *TINY)
    assert r.returncode == 2 and f'another run (process {os.getpid()} on' in r.stderr, r.stderr
    assert sorted(p.name for p in out.iterdir()) == ['.lock']                          # nothing written
    dead = subprocess.Popen([sys.executable, '-c', 'pass']); dead.wait()
    (out / '.lock').write_text(json.dumps(dict(pid=dead.pid, host=socket.gethostname())))
    r = run('train', '--data', data, '--out', out, '--quiet', *TINY)
    assert r.returncode == 2 and f'a stale lock from process {dead.pid}, which no longer runs' in r.stderr, r.stderr


def test_checkpoints_travel_with_their_weights(trained, tmp_path):
    "Item 3: absolute paths and digests in the checkpoint; moved weights are given anew; NaN weights are refused."
    ck = torch.load(trained / 'run' / 'last.pt', weights_only=False)
    assert ck['config']['model']['student_weights'] == str(trained / 'conch_tiny.bin') and ck['frozen']['student']
    moved = tmp_path / 'elsewhere.bin'
    shutil.copy(trained / 'conch_tiny.bin', moved)
    (trained / 'conch_tiny.bin').rename(trained / 'hidden.bin')
    try:
        r = run('evaluate', '--checkpoint', trained / 'run', '--out', tmp_path / 'ev', '--no-crf', '--quiet', cwd=tmp_path)
        assert r.returncode == 2 and 'conch_tiny.bin' in r.stderr and 'Traceback' not in r.stderr, r.stderr
        r = run('evaluate', '--checkpoint', trained / 'run', '--out', tmp_path / 'ev', '--no-crf', '--quiet',
                '--student-weights', moved, cwd=tmp_path)
        assert r.returncode == 0, r.stderr[-3000:]
        other = {k: v + 0.01 if v.is_floating_point() else v for k, v in torch.load(moved).items()}
        torch.save(other, tmp_path / 'other.bin')
        r = run('predict', '--checkpoint', trained / 'run', '--input', tmp_path, '--out', tmp_path / 'p', '--quiet',
                '--student-weights', tmp_path / 'other.bin')
        assert r.returncode == 2 and 'differs from the one it was trained with' in r.stderr, r.stderr
    finally:
        (trained / 'hidden.bin').rename(trained / 'conch_tiny.bin')
    ck['state'] = {k: v.clone() for k, v in ck['state'].items()}
    next(v for v in ck['state'].values() if v.is_floating_point())[0] = float('nan')
    torch.save(ck, tmp_path / 'nan.pt')
    r = run('evaluate', '--checkpoint', tmp_path / 'nan.pt', '--out', tmp_path / 'ev2', '--quiet')
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert 'the trained weights hold NaN or infinite values' in r.stderr


def test_killed_run_resumes_from_its_last_step(data, tmp_path):
    "Item 4: step checkpoints (train.save_every), SIGKILL, then --resume RUN alone, then more epochs."
    out = tmp_path / 'run'
    p = subprocess.Popen([str(BIN), 'train', '--data', str(data), '--out', str(out), '--quiet', '--no-validate', '--no-test',
                          *TINY[:-1], 'train.epochs=20', 'train.save_every=1'], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    log, deadline = out / 'metrics.jsonl', time.time() + 300
    while not (log.exists() and log.read_text().count('"kind": "step"') >= 3) and time.time() < deadline and p.poll() is None:
        time.sleep(0.2)
    p.send_signal(signal.SIGKILL); p.wait()
    done = torch.load(out / 'last.pt', weights_only=False)['step']
    assert done >= 2, done                                                    # at most the step in flight was lost
    r = run('train', '--resume', out, '--quiet', '--no-validate', '--no-test', 'train.epochs=2')
    assert r.returncode == 2 and 'train.epochs is 2, fewer than the 20 the run was started with' in r.stderr, r.stderr
    r = run('train', '--resume', out, '--quiet', '--no-validate', '--no-test', 'train.epochs=21')
    assert r.returncode == 0, r.stderr[-3000:]
    assert f'took over the stale lock of process {p.pid}' in r.stderr
    steps = [json.loads(l)['step'] for l in log.read_text().splitlines() if '"kind": "step"' in l]
    assert steps == list(range(1, 43)), steps                                 # 21 epochs × 2 steps, each logged once


def test_disk_faults_are_one_line(data, tmp_path):
    "Item 5: an output path that cannot be a folder fails at once, in one line, before any work."
    (tmp_path / 'file').write_text('x')
    for args in (('train', '--data', data, '--out', tmp_path / 'file' / 'run', '--quiet', *TINY),
                 ('synth', '--out', tmp_path / 'file' / 'd', '--quiet')):
        r = run(*args)
        assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and 'Traceback' not in r.stderr, r.stderr
        assert 'file' in r.stderr


def test_random_weights_are_said_out_loud(trained, data, tmp_path):
    "Item 7: one WARNING line, and results.json records the weights used."
    r = run('train', '--data', data, '--out', tmp_path / 'run', '--quiet', *TINY)
    warn = [l for l in r.stderr.splitlines() if 'RANDOM weights' in l]
    assert r.returncode == 0 and len(warn) == 1 and warn[0].startswith('WARNING: student (conch_tiny) and teacher (mit_tiny)'), r.stderr
    res = json.loads((tmp_path / 'run' / 'results.json').read_text())
    assert res['weights'] == {'student': 'random', 'teacher': 'random'}
    res = json.loads((trained / 'run' / 'results.json').read_text())
    assert res['weights'] == {'student': str(trained / 'conch_tiny.bin'), 'teacher': 'random'}


def test_the_command_line_explains_itself(trained, data, tmp_path):
    "Item 8: --version, help on every option, presets and `construct config`, evaluate refuses to overwrite, results.md."
    from construct.cli import build_parser
    sub = next(a for a in build_parser()._actions if a.__class__.__name__ == '_SubParsersAction')
    for name, p in sub.choices.items():
        bare = [a.dest for a in p._actions if a.dest != 'help' and not (a.help or '').strip()]
        assert not bare, f'{name}: options without help: {bare}'
    r = run('--version')
    assert r.returncode == 0 and r.stdout.strip() == f"construct-wsss {__import__('construct').__version__}"
    r = run('config', '--preset', 'tiny', 'train.lr=0.5')
    assert r.returncode == 0 and 'student: conch_tiny' in r.stdout and 'lr: 0.5' in r.stdout
    args = ('evaluate', '--checkpoint', trained / 'run', '--out', tmp_path / 'ev', '--no-crf', '--baseline', '--quiet')
    assert run(*args).returncode == 0
    md = (tmp_path / 'ev' / 'results.md').read_text()
    assert 'split: test' in md and str(trained / 'run' / 'last.pt') in md and 'baseline' in md, md
    r = run(*args)
    assert r.returncode == 2 and 'pass --overwrite' in r.stderr, r.stderr
    assert run(*args, '--overwrite').returncode == 0


def test_help_does_not_import_torch():
    "Item 8: `construct --help` answers without importing the heavy modules (the 12-15 s import of a command's first use)."
    code = ("import sys\nfrom construct.cli import main\ntry: main(['--help'])\nexcept SystemExit: pass\n"
            "print(sorted(m for m in ('torch', 'open_clip', 'transformers', 'timm') if m in sys.modules))")
    r = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stdout.strip().splitlines()[-1] == '[]', r.stdout[-500:] + r.stderr[-500:]


def test_logs_are_not_flooded(data, tmp_path):
    "Item 8: with output to a file (not a terminal), no progress bars — one line per epoch at most."
    r = run('train', '--data', data, '--out', tmp_path / 'run', *TINY[:-1], 'train.epochs=2')
    assert r.returncode == 0, r.stderr[-3000:]
    assert '\r' not in r.stderr and '|' not in r.stderr, r.stderr[-2000:]
    assert len(r.stderr.splitlines()) <= 8, r.stderr


def test_images_keep_their_size_and_shape(trained, tmp_path):
    """Item 6: an image larger than a tile goes through sliding windows at its own resolution (never squashed), other
    sizes keep their aspect; palette and CMYK images are converted; --recursive; --skip-bad lists what it skipped."""
    import numpy as np
    from PIL import Image
    from construct.data import read_mask
    from construct.synthetic import make_tile
    t = [make_tile(np.random.default_rng(i)).image for i in range(6)]
    src = tmp_path / 'in'; (src / 'sub').mkdir(parents=True)
    Image.fromarray(np.block([[[t[0]], [t[1]], [t[2]]], [[t[3]], [t[4]], [t[5]]]])).save(src / 'big.png')    # 448 × 672
    Image.fromarray(t[0]).save(src / 'sub' / 'alone.png')
    Image.fromarray(t[1][:, :150]).save(src / 'sub' / 'narrow.bmp')
    Image.fromarray(t[2]).convert('CMYK').save(src / 'cmyk.jpg')
    Image.fromarray(t[3]).convert('P').save(src / 'palette.png')
    (src / 'broken.png').write_bytes(b'not a png')
    args = ('predict', '--checkpoint', trained / 'run', '--input', src, '--out', tmp_path / 'm', '--no-overlays', '--quiet')
    r = run(*args)
    assert r.returncode == 2 and 'broken.png: unreadable or corrupt' in r.stderr and 'Traceback' not in r.stderr, r.stderr
    assert not (tmp_path / 'm').exists()
    r = run(*args, '--recursive', '--skip-bad')
    assert r.returncode == 0, r.stderr[-3000:]
    assert 'wrote 5 masks' in r.stdout and 'skipped 1 unusable file(s):' in r.stdout and 'broken.png' in r.stdout, r.stdout
    m = tmp_path / 'm'
    shapes = {p.relative_to(m).as_posix(): read_mask(p).shape for p in sorted(m.rglob('*.png'))}
    assert shapes == {'big.png': (448, 672), 'cmyk.png': (224, 224), 'palette.png': (224, 224),
                      'sub/alone.png': (224, 224), 'sub/narrow.png': (224, 150)}, shapes
    # the big image's top-left 168 × 168 px are seen by one window only: the first tile itself, at its own resolution
    assert (read_mask(m / 'big.png')[:168, :168] == read_mask(m / 'sub' / 'alone.png')[:168, :168]).all()


def test_segment_slide_reads_every_format(trained, tmp_path):
    """Issue 12: `construct segment-slide` on a pyramidal TIFF, an OME-TIFF, an Aperio-style SVS and a large PNG (which
    records no µm/px: --mpp), one folder in one call; one-line errors for the faults a user meets."""
    from PIL import Image
    from construct.synthetic import SLIDE_FORMATS, write_synthetic_slide
    slides = tmp_path / 'slides'
    for i, (fmt, suffix) in enumerate(SLIDE_FORMATS.items()):
        write_synthetic_slide(slides / f"{fmt.replace('.', '-')}{suffix}", size=(900, 700), mpp=None if fmt == 'png' else 0.25,
                              fmt=fmt, seed=i)
    r = run('segment-slide', slides, '--checkpoint', trained / 'run', '--out', tmp_path / 'out', '--mpp', '0.25', '--no-crf', '--quiet')
    assert r.returncode == 0, r.stderr[-3000:]
    readers = {p.name: json.loads((p / 'summary.json').read_text())['slide']['backend'] for p in (tmp_path / 'out').iterdir()}
    print(readers)
    assert sorted(readers) == ['ome-tiff', 'png', 'svs', 'tiff'], readers
    for name in readers:
        assert sorted(f.name for f in (tmp_path / 'out' / name).iterdir()) == ['annotations.geojson', 'labels.tif', 'summary.json', 'thumbnail.png']

    bad = tmp_path / 'bad'; bad.mkdir()
    (bad / 'notes.svs').write_text('not a slide')
    data = (slides / 'svs.svs').read_bytes(); (bad / 'cut.svs').write_bytes(data[:len(data) // 3])
    write_synthetic_slide(bad / 'small.tif', size=(150, 120), mpp=0.25, seed=5)
    Image.new('RGB', (1000, 800), 'white').save(bad / 'glass.png')
    r = run('segment-slide', bad, '--checkpoint', trained / 'run', '--out', tmp_path / 'out2', '--mpp', '0.25', '--no-crf',
            '--keep-going', '--quiet')
    print(r.stderr)
    assert r.returncode == 2 and '4 of 4 slide(s) failed' in r.stderr and 'Traceback' not in r.stderr, r.stderr
    for name, reason in (('notes.svs', 'no reader opens this file'), ('cut.svs', 'truncated'), ('small.tif', 'is smaller than one 224-px tile'),
                         ('glass.png', 'no tissue found')):
        line = next((l for l in r.stderr.splitlines() if name in l), '')
        assert reason in line, (name, r.stderr)
    r = run('segment-slide', tmp_path / 'nowhere.svs', '--checkpoint', trained / 'run', '--quiet')
    assert r.returncode == 2 and r.stderr.strip().count('\n') == 0 and 'nowhere.svs: file not found' in r.stderr, r.stderr
