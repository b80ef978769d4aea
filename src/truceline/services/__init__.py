"""Use cases. The only place transactions open (through the unit of work)."""
