"""Importers of reference registers and files: plain functions over data, no request."""
