"""bot layer (see DESIGN.md)."""
