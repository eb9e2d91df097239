"""Where customers come from: ingest, tables, synthetic books, calibration, targets. Imports the layers up to the model."""
