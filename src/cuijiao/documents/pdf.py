"""PDF copies through LibreOffice (``soffice --headless``), when it is installed."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

from cuijiao.errors import CuijiaoError

INSTALL_HINT = ("未找到 LibreOffice（soffice），无法转出 PDF。Debian/Ubuntu 可安装："
                "sudo apt-get install -y libreoffice-writer-nogui fonts-noto-cjk；"
                "Windows/macOS 请从 https://www.libreoffice.org 安装并把 soffice 加入 PATH。.docx 信件已生成。")


def to_pdf(paths: Sequence[Path], timeout: int = 600) -> list[Path]:
    """Convert each .docx beside itself; returns the PDFs written."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        raise CuijiaoError(INSTALL_HINT)
    made = []
    for folder in sorted({p.parent for p in paths}):
        batch = [str(p) for p in paths if p.parent == folder]
        subprocess.run([soffice, "--headless", "--convert-to", "pdf", "--outdir", str(folder), *batch],  # noqa: S603
                       check=True, capture_output=True, timeout=timeout)
        made += [folder / (Path(p).stem + ".pdf") for p in batch]
    return [p for p in made if p.is_file()]
