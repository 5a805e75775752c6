"""API schemas of approvals, one module per router concern:

- ``processes``: routes that fit a document with a preview, the process and its route
  map, resubmission and cancellation, the document's history;
- ``tasks``: the inbox, one task, decisions, reassignment;
- ``routes``: route templates for administrators.

Input schemas forbid unknown keys (422 ``unknown_field``). Output is built by the
``*_out`` functions, so only the listed attributes leave the server.
"""
