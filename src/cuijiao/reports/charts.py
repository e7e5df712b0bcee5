"""Charts for the manager's report (matplotlib), drawn only with a font that has Chinese.

A chart whose Chinese labels print as boxes is worse than none: without a CJK
font, :func:`find_cjk_font` says so and how to get one, and the report carries
that sentence instead of the charts.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import matplotlib as mpl

mpl.use("Agg")  # no display: cron and servers have none

import matplotlib.pyplot as plt
from matplotlib import font_manager
from matplotlib.figure import Figure
from matplotlib.ft2font import FT2Font

# Families that carry Simplified Chinese, most common first (Linux, Windows, macOS).
KNOWN_CJK_FAMILIES = (
    "Noto Sans CJK SC", "Noto Serif CJK SC", "Source Han Sans SC", "Source Han Serif SC",
    "WenQuanYi Micro Hei", "WenQuanYi Zen Hei", "Microsoft YaHei", "SimHei", "SimSun", "DengXian",
    "FangSong", "KaiTi", "PingFang SC", "Hiragino Sans GB", "Heiti SC", "STHeiti", "Songti SC",
    "AR PL UMing CN", "AR PL UKai CN", "Droid Sans Fallback",
)
_PROBE = "收缴率清欠账龄元"

INSTALL_HINT = (
    "本机没有找到含中文字形的字体，报告中省略了图表。安装一种中文字体后重新运行即可："
    "Debian/Ubuntu 运行 sudo apt install fonts-noto-cjk（或 fonts-wqy-microhei），"
    "CentOS/RHEL 运行 sudo yum install google-noto-sans-cjk-ttc-fonts；"
    "也可以在 cuijiao.toml 的 [report] 中用 font = \"字体文件路径或字体名\" 指定一种"
    "（如 Windows 的 C:/Windows/Fonts/simhei.ttf）。"
)


@dataclass(frozen=True)
class FontChoice:
    path: Path | None  # None: no usable font; ``problem`` says why and how to fix it
    problem: str = ""


def _has_chinese(path: str) -> bool:
    try:
        charmap = FT2Font(path).get_charmap()
    except (OSError, RuntimeError, ValueError):
        return False
    return all(ord(char) in charmap for char in _PROBE)


def find_cjk_font(configured: str = "") -> FontChoice:
    """The font for chart labels: the one named in cuijiao.toml, else a CJK font on this machine."""
    if configured:
        path = Path(configured)
        if not path.is_file():
            try:
                path = Path(font_manager.findfont(configured, fallback_to_default=False))
            except ValueError:
                return FontChoice(None, f"cuijiao.toml 中 [report] font = \"{configured}\" 指定的字体在本机找不到。"
                                  + INSTALL_HINT)
        if not _has_chinese(str(path)):
            return FontChoice(None, f"cuijiao.toml 中 [report] font 指定的字体 {path.name} 不含中文字形。"
                              + INSTALL_HINT)
        return FontChoice(path)
    by_family = {entry.name: entry.fname for entry in font_manager.fontManager.ttflist}
    for family in KNOWN_CJK_FAMILIES:
        if family in by_family and _has_chinese(by_family[family]):
            return FontChoice(Path(by_family[family]))
    return FontChoice(None, INSTALL_HINT)


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=150, bbox_inches="tight")
    plt.close(figure)
    return buffer.getvalue()


def rate_chart(font: Path, months: list[str], series: dict[str, list[float | None]]) -> bytes:
    """Lines of rates (in per cent) over the months, as PNG bytes."""
    prop = font_manager.FontProperties(fname=str(font))
    figure, axes = plt.subplots(figsize=(7, 3.2))
    for label, values in series.items():
        axes.plot(months, [float("nan") if v is None else v for v in values], marker="o", label=label)
    axes.set_ylabel("%", fontproperties=prop)
    axes.set_title("收缴率与清欠率（近12个月）", fontproperties=prop)
    axes.legend(prop=prop)
    axes.grid(alpha=0.3)
    plt.setp(axes.get_xticklabels(), rotation=45, ha="right")
    return _png(figure)


def bucket_chart(font: Path, labels: list[str], this_month: list[float], last_month: list[float]) -> bytes:
    """Arrears (yuan) per bucket, this month beside last, as PNG bytes."""
    prop = font_manager.FontProperties(fname=str(font))
    figure, axes = plt.subplots(figsize=(7, 3.2))
    positions = range(len(labels))
    axes.bar([p - 0.2 for p in positions], last_month, width=0.4, label="上月末")
    axes.bar([p + 0.2 for p in positions], this_month, width=0.4, label="本月末")
    axes.set_xticks(list(positions))
    axes.set_xticklabels([f"{label}天" for label in labels], fontproperties=prop)
    axes.set_ylabel("欠费（元）", fontproperties=prop)
    axes.set_title("欠费账龄分布", fontproperties=prop)
    axes.legend(prop=prop)
    axes.grid(axis="y", alpha=0.3)
    return _png(figure)
