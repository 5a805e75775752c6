"""The pure approval engine: no Django imports here (an import-linter contract).

Entry points: ``run.handle(definition, state, command, ctx)`` and ``run.preview``;
states in ``states``, commands in ``commands``, effects in ``effects``, refusals in
``errors``. See docs/engine.md.
"""
