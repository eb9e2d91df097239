"""Clientele's report pipeline: results into notebooks, HTML and PDF. Imports any simulation layer, not reports.commands."""
