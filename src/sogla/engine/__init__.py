"""The pure approval engine: no Django imports here (an import-linter contract)."""
