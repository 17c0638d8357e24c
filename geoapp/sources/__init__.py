"""Data sources: OSM extracts and online, boundaries, facility tables, the demo region."""
