"""The customer book: population, state, valuation, effects, how an outcome is declared. Imports the core only."""
