"""The bundled offline sample site: made-up publishers carrying our own reports of the AIIMS attack."""
