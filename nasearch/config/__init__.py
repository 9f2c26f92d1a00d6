"""Configuration: YAML -> validated, typed config; constructor options; registries; plug-in module paths."""
