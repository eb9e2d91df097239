"""The core: errors, files, periods, random streams, the input schema, segments, array formulas. Imports no other layer."""
