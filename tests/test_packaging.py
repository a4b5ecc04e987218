"""Packaging: every dependency is declared in settings.ini, and the install exposes what the README promises."""
import ast, configparser, re, sys
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CFG = configparser.ConfigParser(delimiters=['=']); CFG.read(ROOT / 'settings.ini')
CFG = CFG['DEFAULT']

# import name -> distribution name, where they differ
DIST = {'PIL': 'pillow', 'yaml': 'pyyaml', 'sklearn': 'scikit-learn', 'conch': 'conch-fork',
        'pydensecrf': 'pydensecrf2', 'open_clip': 'open_clip_torch', 'cv2': 'opencv-python-headless',
        'openslide': 'openslide-python'}

def _norm(name): return re.sub(r'[-_.]+', '-', name).lower()

def _requirements(key):
    return {_norm(re.split(r'[<>=!~ \[;]', r)[0]) for r in CFG.get(key, '').split()}

def _third_party_imports():
    mods = set()
    for f in (ROOT / 'construct').rglob('*.py'):
        for node in ast.walk(ast.parse(f.read_text())):
            if isinstance(node, ast.Import): mods |= {a.name.split('.')[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module: mods.add(node.module.split('.')[0])
    return {m for m in mods if m not in sys.stdlib_module_names and m != 'construct'}

def test_every_import_is_a_declared_requirement():
    reqs = _requirements('requirements')
    missing = sorted(m for m in _third_party_imports() if _norm(DIST.get(m, m)) not in reqs)
    assert not missing, f"imported by construct/ but not in settings.ini requirements: {missing}"

def test_nbdev_pins():
    dev = CFG['dev_requirements']
    assert 'nbdev>=2.4.14,<3' in dev.split()
    assert metadata.version('nbdev') == '2.4.14'

def test_console_script_and_version():
    "Published as construct-wsss (PyPI's `construct` is another project); the import package is `construct`."
    import construct
    assert CFG['dist_name'] == 'construct-wsss'
    assert construct.__version__ == CFG['version'] == metadata.version('construct-wsss')
    assert 'construct' in (metadata.distribution('construct-wsss').read_text('top_level.txt') or 'construct').split()
    eps = [e for e in metadata.entry_points(group='console_scripts') if e.name == 'construct']
    assert eps and eps[0].value == 'construct.cli:main'

def test_test_flags_declared():
    assert set(CFG['tst_flags'].split()) >= {'gpu', 'bcss', 'slow'}

def test_runtime_does_not_pull_jupyterlab():
    "JupyterLab is the `notebooks` extra, not a runtime requirement; the `parity` extra holds what the authors' code imports."
    assert 'jupyterlab' not in _requirements('requirements')
    assert 'jupyterlab' in _requirements('notebooks_requirements')
    assert {'ttach', 'albumentations', 'icecream'} <= _requirements('parity_requirements')

def test_license_file_matches_settings():
    text = (ROOT / 'LICENSE').read_text()
    assert CFG['license'] == 'apache2' and 'Apache License' in text and 'Version 2.0, January 2004' in text
