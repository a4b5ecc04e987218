"""Two processes under `torchrun` (gloo, CPU) train what one process trains with the same global batch.

The same check, with its explanation, is at the end of nbs/10_train.ipynb (section "Two processes = one process").
Tolerances: loss terms per step 1e-5 relative; each trainable tensor within 1e-3 of how far it moved (+1e-7),
except the biases of φ1/φ2, which feed a BatchNorm (zero exact gradient; Adam amplifies rounding noise), whose
effect is covered by comparing the trained models' CAMs; with L_sim on, only the first step's L_cls, L_struct
and the synchronised memory bank are compared (L_sim's batch averages are per process by design)."""
import json, subprocess, sys, textwrap

import pytest
import torch
import torch.distributed as dist

from construct.config import from_dict
from construct.data import EvalTiles
from construct.model import tiny_config
from construct.synthetic import write_synthetic
from construct.train import _build_model, fit, load_checkpoint, load_model, read_log

SCRIPT = '''
import sys
from construct.model import tiny_config
from construct.train import fit
root, out = sys.argv[1], sys.argv[2]
base = {'data.root': root, 'data.num_workers': 0, 'model.img_size': 112, 'train.batch_size': 4, 'train.lr': 1e-3}
fit(tiny_config(**base, **{'loss.lambda_sim': 0, 'train.out_dir': out + '/nosim'}), progress=False)
fit(tiny_config(**base, **{'train.out_dir': out + '/sim'}), progress=False, max_steps=1, validate=False, test=False)
'''

def _cfg(root, out, **kw):
    return tiny_config(**{'data.root': str(root), 'data.num_workers': 0, 'model.img_size': 112, 'train.batch_size': 4,
                          'train.lr': 1e-3, 'train.out_dir': str(out), **kw})

@pytest.mark.skipif(not dist.is_available() or not dist.is_gloo_available(), reason='needs torch.distributed with gloo')
def test_two_processes_match_one(tmp_path):
    torch.set_num_threads(2)
    root = tmp_path/'data'
    write_synthetic(root, n_train=8, n_valid=4, n_test=4, seed=0, size=112, progress=False)
    (tmp_path/'ddp_check.py').write_text(SCRIPT)
    p = subprocess.run([sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node=2',
                        str(tmp_path/'ddp_check.py'), str(root), str(tmp_path/'ddp')], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-6000:]
    fit(_cfg(root, tmp_path/'one'/'nosim', **{'loss.lambda_sim': 0}), progress=False)
    fit(_cfg(root, tmp_path/'one'/'sim'), progress=False, max_steps=1, validate=False, test=False)

    # λ_sim = 0: the same training up to rounding
    a, b = load_checkpoint(tmp_path/'ddp'/'nosim'/'last.pt'), load_checkpoint(tmp_path/'one'/'nosim'/'last.pt')
    init = _build_model(from_dict(b['config'])).trainable_state_dict()
    for k, vb in b['model'].items():
        if not vb.is_floating_point() or k.endswith(('phi1.bias', 'phi2.bias')): continue
        diff, moved = (a['model'][k] - vb).abs().max().item(), (vb - init[k]).abs().max().item()
        assert diff <= 1e-3 * moved + 1e-7, f"{k}: differs by {diff:.3g}, moved {moved:.3g}"
    la, lb = read_log(tmp_path/'ddp'/'nosim'/'metrics.jsonl'), read_log(tmp_path/'one'/'nosim'/'metrics.jsonl')
    assert [(r['kind'], r['step']) for r in la] == [(r['kind'], r['step']) for r in lb]
    for ra, rb in zip(la, lb):
        for k in ('loss', 'cls', 'struct'): assert abs(ra[k] - rb[k]) <= 1e-5 * abs(rb[k]) + 1e-8, (ra, rb)
    ma, mb = load_model(tmp_path/'ddp'/'nosim'/'last.pt', 'cpu'), load_model(tmp_path/'one'/'nosim'/'last.pt', 'cpu')
    x = torch.stack([EvalTiles(root, 'valid')[i]['image'] for i in range(4)])
    with torch.no_grad(): ca, cb = ma(x).cams, mb(x).cams
    assert (ca - cb).abs().max() <= 1e-4 * cb.abs().max()
    for ra, rb in zip(a['history'], b['history']): assert abs(ra['val_miou'] - rb['val_miou']) <= 1e-6
    ta, tb = [json.loads((tmp_path/w/'nosim'/'results.json').read_text()) for w in ('ddp', 'one')]
    assert ta['n_images'] == tb['n_images'] == 4 and abs(ta['miou'] - tb['miou']) <= 1e-4

    # full objective, first step: same L_cls and L_struct, same (global) memory bank
    sa, sb = [read_log(tmp_path/w/'sim'/'metrics.jsonl')[0] for w in ('ddp', 'one')]
    for k in ('cls', 'struct'): assert abs(sa[k] - sb[k]) <= 1e-5 * abs(sb[k])
    a, b = load_checkpoint(tmp_path/'ddp'/'sim'/'last.pt'), load_checkpoint(tmp_path/'one'/'sim'/'last.pt')
    bank = lambda ck, k: ck['model'][f'refiner.bank.{k}']
    assert torch.equal(bank(a, 'ptr'), bank(b, 'ptr')) and int(bank(b, 'ptr')) >= 4, (bank(a, 'ptr'), bank(b, 'ptr'))
    assert (bank(a, 'feats') - bank(b, 'feats')).abs().max() <= 1e-5
