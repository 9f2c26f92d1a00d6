"""Language templates of nodes and devices, and the offline sentence encoder (real bundled model)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from nasearch.api.errors import DeviceError
from nasearch.config.registry import SEARCH_SPACES
from nasearch.data.devices import device_names
from nasearch.predictors.text import (
    HARDWARE_NUMBERS,
    NODE_NUMBERS,
    NODE_TEMPLATES,
    get_text_encoder,
    hardware_numbers,
    hardware_template,
    node_numbers,
    node_template,
    node_template_category,
    register_node_template,
)
from nasearch.search_spaces.nasbench201.space import OPS as NB201_OPS

NB101_OPS = ("input", "output", "conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3")
CHAIN_OPS = ("input", "output", "conv", "depthwise_conv", "maxpool", "identity")


@pytest.mark.parametrize(
    "op, attrs, expected",
    [
        ("nor_conv_3x3", None, "ParamL Conv 3"),
        ("nor_conv_1x1", None, "ParamL Conv 1"),
        ("avg_pool_3x3", None, "Pool Avg 3"),
        ("skip_connect", None, "Skip Identity"),
        ("none", None, "Zero None"),
        ("input", None, "Input"),
        ("output", None, "Output"),
        ("conv3x3-bn-relu", None, "ParamL Conv 3"),
        ("maxpool3x3", None, "Pool Max 3"),
        ("conv", {"kernel": 5, "width": 32}, "ParamL Conv 5 width 32"),
        ("depthwise_conv", {"kernel": 3, "width": 16}, "ParamL DWConv 3 width 16"),
        ("maxpool", {"kernel": 3, "width": 8}, "Pool Max 3 width 8"),
        ("identity", {"kernel": 1, "width": 8}, "Skip Identity"),
        ("nor_conv_3x3", {"kernel": 5}, "ParamL Conv 5"),  # attrs override the name
    ],
)
def test_node_template_of_known_ops(op, attrs, expected):
    assert node_template(op, attrs) == expected


@pytest.mark.parametrize("ops", [("input", "output", *NB201_OPS), NB101_OPS, CHAIN_OPS])
def test_every_builtin_op_has_a_specific_template(ops):
    for op in ops:
        assert node_template_category(op) != "fallback", op
    # distinct ops of one space must not collapse onto one description
    assert len({node_template(op) for op in ops}) == len(ops)


FAST_OPTIONS = {"nasbench101": {"sampling": "nasbench"}}


def _space_graphs(name: str, n: int = 40):
    factory = SEARCH_SPACES.get(name)
    # NB101's uniform sampling builds the index of all 423,624 cells; its paper sampler needs none
    space = factory(**FAST_OPTIONS.get(name, {}))
    rng = np.random.default_rng(0)
    return [space.to_graph(space.sample(rng)) for _ in range(n)]


@pytest.mark.parametrize("name", SEARCH_SPACES.names())
def test_every_op_of_every_registered_space_gets_a_template(name):
    graphs = _space_graphs(name)
    seen = set()
    for g in graphs:
        for v, op in enumerate(g.ops):
            attrs = g.attrs[v] if g.attrs else None
            text = node_template(op, attrs)
            assert text and text.strip() == text
            assert node_template_category(op) != "fallback", f"{name}: op {op!r} has no specific template"
            numbers = node_numbers(op, attrs)
            assert numbers.shape == (len(NODE_NUMBERS),) and np.isfinite(numbers).all()
            seen.add(op)
    assert {"input", "output"} <= seen and len(seen) > 2


def test_unknown_op_falls_back_gracefully_and_rules_can_be_added():
    assert node_template("Weird-Op_7") == "Op weird op 7"
    assert node_template("squeeze", {"width": 64}) == "Op squeeze width 64"
    saved = dict(NODE_TEMPLATES)
    try:
        register_node_template("squeeze", lambda op, attrs: "SE Squeeze" if op == "squeeze" else None)
        assert node_template("squeeze") == "SE Squeeze"
        assert node_template_category("squeeze") == "squeeze"
        assert node_template("nor_conv_3x3") == "ParamL Conv 3"  # built-ins still apply
    finally:
        NODE_TEMPLATES.clear()
        NODE_TEMPLATES.update(saved)


def test_node_numbers_carry_kernel_and_width():
    conv3 = node_numbers("nor_conv_3x3")
    conv1 = node_numbers("nor_conv_1x1")
    assert conv3[NODE_NUMBERS.index("kernel")] > conv1[NODE_NUMBERS.index("kernel")]
    assert conv3[NODE_NUMBERS.index("parametric")] == 1.0
    assert node_numbers("avg_pool_3x3")[NODE_NUMBERS.index("parametric")] == 0.0
    wide = node_numbers("conv", {"kernel": 3, "width": 64})
    narrow = node_numbers("conv", {"kernel": 3, "width": 8})
    assert wide[NODE_NUMBERS.index("log2_width")] > narrow[NODE_NUMBERS.index("log2_width")]


def test_hardware_templates_describe_every_device():
    assert hardware_template("2080ti_32") == "Nv GPU FP32 13.4 Turing 250W batch 32"
    assert hardware_template("latency/pixel3").startswith("Qcom Phone CPU FP32 0.236")
    texts = {d: hardware_template(d) for d in device_names()}
    assert len(texts) == 28
    # the batch size is what separates the three settings of one GPU
    assert len({texts["titanxp_1"], texts["titanxp_32"], texts["titanxp_256"]}) == 3
    for d in device_names():
        nums = hardware_numbers(d)
        assert nums.shape == (len(HARDWARE_NUMBERS),) and np.isfinite(nums).all()
    custom = {
        "vendor": "Nvidia",
        "kind": "GPU",
        "precision": "FP32",
        "peak_tflops": 8.1,
        "memory_bandwidth_gbs": 320,
        "architecture": "Turing",
        "power_w": 70,
    }
    assert hardware_template(custom) == "Nv GPU FP32 8.1 Turing 70W batch 1"
    with pytest.raises(DeviceError, match="peak_tflops"):
        hardware_template({k: v for k, v in custom.items() if k != "peak_tflops"})


# --- the encoder: the real bundled all-MiniLM-L6-v2 -------------------------------------------------

OFFLINE_SCRIPT = textwrap.dedent(
    """
    import json, socket
    def refuse(*args, **kwargs):
        raise OSError("network disabled in this test")
    socket.socket.connect = refuse
    socket.create_connection = refuse
    from nasearch.predictors.text import TextEncoder
    enc = TextEncoder()
    vecs = enc.encode(["ParamL Conv 3", "ParamL Conv 1", "Input", "ParamL Conv 3"])
    print(json.dumps({"shape": list(vecs.shape), "cache": enc.cache_size,
                      "same": bool((vecs[0] == vecs[3]).all()),
                      "norm": float((vecs ** 2).sum(1).min())}))
    """
)


def test_encoder_loads_offline_from_the_installed_package():
    env = dict(
        os.environ,
        HF_HUB_OFFLINE="1",
        TRANSFORMERS_OFFLINE="1",
        HF_ENDPOINT="http://127.0.0.1:9",
        HF_HOME=os.path.join(os.sep, "nonexistent-hf-home"),
    )
    proc = subprocess.run(
        [sys.executable, "-c", OFFLINE_SCRIPT], capture_output=True, text=True, env=env, timeout=240
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["shape"] == [4, 384]
    assert out["cache"] == 3  # the repeated string was embedded once
    assert out["same"] and out["norm"] > 0


@pytest.fixture(scope="module")
def encoder():
    return get_text_encoder()


def test_encoder_is_pretrained_and_caches_per_unique_string(encoder, monkeypatch):
    gpu = "Nv GPU FP32 13.4 Turing 250W batch 32"
    vecs = encoder.encode(["ParamL Conv 3", "ParamL Conv 1", "Input", gpu])
    assert vecs.shape == (4, encoder.dim) and vecs.dtype == np.float32

    def cos(a, b):
        return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))

    # a pretrained sentence encoder puts two convolutions closer than a convolution and a GPU
    assert cos(vecs[0], vecs[1]) > cos(vecs[0], vecs[3])
    calls = []
    original = encoder._embed
    monkeypatch.setattr(encoder, "_embed", lambda todo: (calls.append(list(todo)), original(todo))[1])
    again = encoder.encode(["Input", "ParamL Conv 3", "Pool Avg 3 cache probe", "Pool Avg 3 cache probe"])
    assert calls == [["Pool Avg 3 cache probe"]]  # only the new string went through the model
    np.testing.assert_array_equal(again[1], vecs[0])
    np.testing.assert_array_equal(again[2], again[3])


def test_random_initialised_encoder_differs_from_pretrained(encoder):
    from nasearch.predictors.text import TextEncoder

    rand = TextEncoder(pretrained=False, seed=0)
    a = encoder.encode(["ParamL Conv 3"])[0]
    b = rand.encode(["ParamL Conv 3"])[0]
    assert not np.allclose(a, b, atol=1e-3)
    # seeded: the same random weights each time
    again = TextEncoder(pretrained=False, seed=0).encode(["ParamL Conv 3"])[0]
    np.testing.assert_allclose(again, b, atol=1e-5)
