"""Letters: template context, templates and their lint, the fast renderer, the print file,
call sheets, texts and the manifest (pure functions returning bytes), and ``batch``, the one
edge that writes a run's files.

Library entry point for the monthly run::

    from cuijiao.documents import issue_and_render
    result = issue_and_render(workspace, run, as_of, approve=frozenset(), out_dir=None)
"""

from cuijiao.documents.batch import IssueResult, issue_and_render, render_pending

__all__ = ["IssueResult", "issue_and_render", "render_pending"]
