"""Bulk import and export of layer data: one importer per file format, one pipeline."""
