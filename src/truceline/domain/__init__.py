"""Pure domain: model, geometry, cells, conflict rules, state tables. Imports no I/O layer."""
