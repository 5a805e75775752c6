"""Evidence of finished approvals: the approval sheet («Лист согласования»), the
stamped copy of the main PDF and the public verification page ``/v/<code>``.

It stands on the floor above workflow (next to demo and reports): it reads
processes, tasks and files and adds generated files to documents; nothing below
imports it. The worker (``sogla.site.worker``) calls ``evidence_sweep`` so that a
finished process gets its sheet and, when approved, its stamped copy.
"""
