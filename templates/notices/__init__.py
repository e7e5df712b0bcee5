"""The shipped letter templates (installed as ``cuijiao.notice_templates``; see README.md here)."""
