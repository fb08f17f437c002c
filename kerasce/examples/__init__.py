"""Examples for your own model: a body to put in a grid, and small saved models to audit."""
