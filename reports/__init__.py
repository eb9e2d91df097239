"""Clientele's reporting side: the command line, papermill-executed notebooks and the PDF pipeline."""
