"""Packaging that pyproject.toml cannot say: two top-level folders installed inside the package.

- templates/notices/ as ``cuijiao.notice_templates``: the shipped letter templates;
- sample_data/ as ``cuijiao.sample_data``: the sample estate the demo and tests use,
  kept at the top of the repository where a newcomer looks for it.

A plain (non-editable) ``pip install .`` carries both.
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages("src"), "cuijiao.notice_templates", "cuijiao.sample_data"],
    package_dir={"": "src", "cuijiao.notice_templates": "templates/notices", "cuijiao.sample_data": "sample_data"},
    package_data={"cuijiao": ["py.typed"], "cuijiao.notice_templates": ["*.docx", "README.md"],
                  "cuijiao.sample_data": ["*.csv", "*.xlsx"]},
)
