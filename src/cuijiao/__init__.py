"""cuijiao (催缴): collect property fees and arrears, lawfully and on the record."""

import os

__version__ = "0.1.0"

# numpy asks the kernel for transparent huge pages for each large array. Where the kernel then
# compacts memory on the spot (THP defrag "madvise", a common default) while the page cache holds
# the workspace's gigabytes, every fresh array's first touch stalls: a third of segment's system
# time on the 100,000-unit workspace. Set before numpy is imported; a value in the environment wins.
os.environ.setdefault("NUMPY_MADVISE_HUGEPAGE", "0")
