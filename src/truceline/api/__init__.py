"""HTTP transport: the FastAPI app factory and thin routes."""
