"""Search spaces: NAS-Bench-201, NAS-Bench-101 and a plug-in example."""
