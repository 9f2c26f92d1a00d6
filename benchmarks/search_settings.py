"""The small, fast NN-Former surrogate the shipped search configs use (``runs/*.yaml``), for benchmarks that
build their configs in code: one place, so two scripts cannot drift apart."""

SEARCH_SURROGATE = {
    "name": "nnformer",
    "dim": 16,
    "layers": 2,
    "epochs": 30,
    "batch_size": 32,
    "lr": 0.001,
    "threads": 1,
}
