"""Packaging that pyproject.toml cannot say: the top-level templates/notices/ folder is
installed inside the package as ``cuijiao.notice_templates``, so a plain (non-editable)
``pip install .`` carries the shipped letter templates."""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages("src"), "cuijiao.notice_templates"],
    package_dir={"": "src", "cuijiao.notice_templates": "templates/notices"},
    package_data={"cuijiao": ["sample_data/*", "py.typed"], "cuijiao.notice_templates": ["*.docx", "README.md"]},
)
