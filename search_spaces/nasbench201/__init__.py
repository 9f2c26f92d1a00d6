"""NAS-Bench-201: the cell space, its benchmark tables, the official-file reader, the network."""
