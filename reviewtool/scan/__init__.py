"""`reviewtool scan`: every series of whole archives, reviewed by the same core as `report`."""
