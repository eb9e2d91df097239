"""The scenario: parameters, the file, strategies' steps and actions. Imports the core, the book and the mechanisms."""
