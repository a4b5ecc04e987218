"""Packaging for `construct`: everything is read from settings.ini (nbdev 2 convention)."""
from configparser import ConfigParser
from pathlib import Path

import setuptools

cfg = ConfigParser(delimiters=['='])
cfg.read(Path(__file__).parent / 'settings.ini', encoding='utf-8')
cfg = cfg['DEFAULT']

expected = ('version description keywords author author_email license user repo lib_name '
            'min_python audience language status git_url').split()
missing = [k for k in expected if k not in cfg]
if missing: raise KeyError(f'settings.ini is missing: {missing}')

licenses = {'apache2': ('Apache Software License 2.0', 'OSI Approved :: Apache Software License')}
statuses = ['1 - Planning', '2 - Pre-Alpha', '3 - Alpha', '4 - Beta', '5 - Production/Stable',
            '6 - Mature', '7 - Inactive']
py_versions = ['3.9', '3.10', '3.11', '3.12', '3.13']
if cfg['min_python'] not in py_versions: raise ValueError(f"min_python must be one of {py_versions}")
lic = licenses[cfg['license']]
min_python = cfg['min_python']

setuptools.setup(
    name=cfg.get('dist_name', cfg['lib_name']),
    version=cfg['version'],
    description=cfg['description'],
    long_description=(Path(__file__).parent / 'README.md').read_text(encoding='utf-8'),
    long_description_content_type='text/markdown',
    keywords=cfg['keywords'],
    author=cfg['author'], author_email=cfg['author_email'],
    url=cfg['git_url'],
    license=lic[0],
    classifiers=[f"Development Status :: {statuses[int(cfg['status'])]}",
                 f"Intended Audience :: {cfg['audience']}",
                 f"License :: {lic[1]}",
                 f"Natural Language :: {cfg['language']}"] +
                [f'Programming Language :: Python :: {v}' for v in py_versions[py_versions.index(min_python):]],
    packages=setuptools.find_packages(include=[cfg['lib_name'], f"{cfg['lib_name']}.*"]),
    include_package_data=True,
    install_requires=cfg.get('requirements', '').split(),
    extras_require={k.removesuffix('_requirements'): cfg[k].split() for k in cfg if k.endswith('_requirements')},   # dev, notebooks, parity
    python_requires=f'>={min_python}',
    zip_safe=False,
    entry_points={
        'console_scripts': cfg.get('console_scripts', '').split('\n') if cfg.get('console_scripts') else [],
        'nbdev': [f"{cfg['lib_path']}={cfg['lib_path']}._modidx:d"],
    },
)
