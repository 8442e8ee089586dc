"""analyses spec layer (see DESIGN.md)."""
