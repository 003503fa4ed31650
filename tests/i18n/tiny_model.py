"""Build a tiny but valid Argos Translate package (.argosmodel) on the fly, offline.

No real model can be downloaded in tests, so this makes one that argostranslate loads and
runs through its real code path: a CTranslate2 Transformer (random weights with a little
noise, so int8 quantization has no all-zero row), a SentencePiece model trained on a few
words, and a MiniSBD sentence splitter (a three-node ONNX graph written by hand) so that
nothing is fetched at run time. The translations are gibberish made of target-language
pieces, deterministic for a given seed: enough to test plumbing, caching and routing.

Other test suites (the router's chat test) use it as a fixture maker:
    from tests.i18n.tiny_model import build_tiny_package
    path = build_tiny_package(tmp_path, "es", "en")   # then i18n.translation.install_model
Call `i18n.argos.configure(tmp_dir)` before anything imports argostranslate, so that its
data, config and cache directories land in a temporary directory (else var/argos).
"""

from __future__ import annotations

import io
import json
import tempfile
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

SPECIALS = ["<unk>", "<s>", "</s>"]

WORDS: dict[str, list[str]] = {
    "en": [
        "hello",
        "my",
        "bag",
        "is",
        "lost",
        "where",
        "is",
        "my",
        "flight",
        "thank",
        "you",
        "please",
        "help",
    ],
    "es": [
        "hola",
        "mi",
        "maleta",
        "esta",
        "perdida",
        "donde",
        "esta",
        "mi",
        "vuelo",
        "gracias",
        "por",
        "favor",
        "ayuda",
    ],
    "fr": [
        "bonjour",
        "mon",
        "sac",
        "est",
        "perdu",
        "ou",
        "est",
        "mon",
        "vol",
        "merci",
        "aide",
        "moi",
    ],
    "de": [
        "hallo",
        "mein",
        "koffer",
        "ist",
        "weg",
        "wo",
        "ist",
        "mein",
        "flug",
        "danke",
        "bitte",
        "hilfe",
    ],
    "ja": ["こんにちは", "わたし", "の", "にもつ", "が", "ない", "ありがとう", "ください"],
}


# --- protobuf wire format, just enough for an ONNX ModelProto -------------------------------


def _varint(value: int) -> bytes:
    out = bytearray()
    value &= (1 << 64) - 1
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _int(field: int, value: int) -> bytes:
    return _varint(field << 3) + _varint(value)


def _bytes(field: int, value: bytes | str) -> bytes:
    data = value.encode() if isinstance(value, str) else value
    return _varint((field << 3) | 2) + _varint(len(data)) + data


def _tensor(name: str, array: np.ndarray) -> bytes:
    """TensorProto: dims=1, data_type=2 (1 float, 7 int64), name=8, raw_data=9."""
    data_type = 1 if array.dtype == np.float32 else 7
    out = b"".join(_int(1, d) for d in array.shape)
    return out + _int(2, data_type) + _bytes(8, name) + _bytes(9, array.tobytes())


def _value_info(name: str, elem_type: int, dims: Sequence[int | str]) -> bytes:
    """ValueInfoProto{name=1, type=2: TypeProto{tensor_type=1{elem_type=1, shape=2}}}."""
    shape = b"".join(_bytes(1, _bytes(2, d) if isinstance(d, str) else _int(1, d)) for d in dims)
    tensor_type = _int(1, elem_type) + _bytes(2, shape)
    return _bytes(1, name) + _bytes(2, _bytes(1, tensor_type))


def _node(op: str, inputs: Sequence[str], outputs: Sequence[str]) -> bytes:
    out = b"".join(_bytes(1, i) for i in inputs) + b"".join(_bytes(2, o) for o in outputs)
    return out + _bytes(3, f"{op}_{outputs[0]}") + _bytes(4, op)


def minisbd_onnx(lang: str) -> bytes:
    """A MiniSBD splitter: a per-character lookup table plus an end-of-paragraph feature.

    Classes: 0 inside a token, 1 end of token (a space), 2 end of sentence (. ! ? and the
    last character of a paragraph). logits = table[units] + features @ boost.
    """
    units = ["<PAD>", "<UNK>", " ", ".", "!", "?", "。"]
    table = np.zeros((len(units), 5), dtype=np.float32)
    table[:, 0] = 1.0
    table[2] = [0, 2, 0, 0, 0]
    for index in range(3, len(units)):
        table[index] = [0, 0, 2, 0, 0]
    boost = np.array([[0, 0, 10, 0, 0]], dtype=np.float32)
    graph = (
        _bytes(1, _node("Gather", ["table", "units"], ["per_unit"]))
        + _bytes(1, _node("MatMul", ["features", "boost"], ["per_feature"]))
        + _bytes(1, _node("Add", ["per_unit", "per_feature"], ["logits"]))
        + _bytes(2, "tiny_sbd")
        + _bytes(5, _tensor("table", table))
        + _bytes(5, _tensor("boost", boost))
        + _bytes(11, _value_info("units", 7, ["batch", "length"]))
        + _bytes(11, _value_info("features", 1, ["batch", "length", 1]))
        + _bytes(12, _value_info("logits", 1, ["batch", "length", 5]))
    )
    vocab = {
        "lang": lang,
        "idx": 0,
        "cutoff": 0,
        "lower": False,
        "_id2unit": units,
        "_unit2id": {unit: i for i, unit in enumerate(units)},
    }
    config = {"feat_funcs": ["end_of_para"], "max_seqlen": 1000, "batch_size": 8}
    metadata = {"lang_code": lang, "config": json.dumps(config), "vocab": json.dumps(vocab)}
    model = _int(1, 8) + _bytes(8, _bytes(1, "") + _int(2, 13)) + _bytes(2, "switchboard-tests")
    model += _bytes(7, graph)
    for key, value in metadata.items():
        model += _bytes(14, _bytes(1, key) + _bytes(2, value))
    return model


# --- sentencepiece + ctranslate2 --------------------------------------------------------------


def _sentencepiece(words: Sequence[str]) -> bytes:
    import sentencepiece as spm

    model = io.BytesIO()
    sentences = [" ".join([*words[i:], *words[:i]]) for i in range(len(words))] * 4
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(sentences),
        model_writer=model,
        vocab_size=len(set(words)) + 8,
        hard_vocab_limit=False,
        model_type="word",
        character_coverage=1.0,
        minloglevel=2,
    )
    return model.getvalue()


def _transformer(
    source_tokens: list[str], target_tokens: list[str], out_dir: Path, seed: int
) -> None:
    from ctranslate2.specs import model_spec, transformer_spec

    rng = np.random.default_rng(seed)
    depth, ffn = 16, 32
    spec = transformer_spec.TransformerSpec.from_config(1, 2)
    sizes = {"encoder": len(source_tokens), "decoder": len(target_tokens)}

    def shape_of(scope: str) -> tuple[int, ...]:
        side = scope.split("/")[0]
        if scope.endswith("layer_norm/gamma") or scope.endswith("layer_norm/beta"):
            return (depth,)
        if "/embeddings" in scope:
            return (sizes[side], depth)
        if scope == "decoder/projection/weight":
            return (sizes["decoder"], depth)
        if scope == "decoder/projection/bias":
            return (sizes["decoder"],)
        rows = {
            "self_attention/linear_0": 3 * depth,
            "attention/linear_1": 2 * depth,
            "ffn/linear_0": ffn,
        }
        out_rows = next((n for key, n in rows.items() if f"{key}/" in scope), depth)
        if scope.endswith("/bias"):
            return (out_rows,)
        in_cols = ffn if "ffn/linear_1" in scope else depth
        return (out_rows, in_cols)

    def fill(owner: object, scope: str, value: object) -> None:
        name = scope.rsplit("/", 1)[-1]
        if value is None or (name == "bias" and value == model_spec.OPTIONAL):
            shape = shape_of(scope)
            if name == "gamma":
                array = np.ones(shape, dtype=np.float32)
            else:
                array = rng.normal(0.0, 0.3, size=shape).astype(np.float32)
            setattr(owner, name, array)

    model_spec.visit_spec(spec, fill)
    # A bias towards </s> keeps the random decoder's output short; <unk> is never produced
    # (argostranslate replaces it with a source token, which would leak the source language).
    bias = spec.decoder.projection.bias
    bias[target_tokens.index("</s>")] += 3.0
    bias[target_tokens.index("<unk>")] = -1e4
    bias[target_tokens.index("<s>")] = -1e4
    spec.register_source_vocabulary(source_tokens)
    spec.register_target_vocabulary(target_tokens)
    spec.validate()
    spec.optimize(quantization="int8")
    out_dir.mkdir(parents=True, exist_ok=True)
    spec.save(str(out_dir))


def build_tiny_package(
    out_dir: Path,
    source: str,
    target: str,
    source_words: Sequence[str] | None = None,
    target_words: Sequence[str] | None = None,
    seed: int = 7,
) -> Path:
    """Write `translate-{source}_{target}.argosmodel` into out_dir and return its path."""
    source_words = list(source_words or WORDS[source])
    target_words = list(target_words or WORDS[target])
    sp_bytes = _sentencepiece([*source_words, *target_words])

    import sentencepiece as spm

    processor = spm.SentencePieceProcessor(model_proto=sp_bytes)
    pieces = [processor.id_to_piece(i) for i in range(processor.get_piece_size())]
    source_tokens = SPECIALS + [p for p in pieces if p not in SPECIALS]
    target_pieces = {p for w in target_words for p in processor.encode(w, out_type=str)}
    target_tokens = SPECIALS + sorted(target_pieces - set(SPECIALS))

    name = f"translate-{source}_{target}"
    out_dir.mkdir(parents=True, exist_ok=True)
    archive = out_dir / f"{name}.argosmodel"
    with tempfile.TemporaryDirectory() as scratch:
        model_dir = Path(scratch) / "model"
        _transformer(source_tokens, target_tokens, model_dir, seed)
        metadata = {
            "package_version": "0.1",
            "argos_version": "1.11",
            "from_code": source,
            "from_name": source,
            "to_code": target,
            "to_name": target,
            "type": "translate",
        }
        with zipfile.ZipFile(archive, "w") as zipf:
            zipf.writestr(f"{name}/metadata.json", json.dumps(metadata))
            zipf.writestr(f"{name}/sentencepiece.model", sp_bytes)
            zipf.writestr(f"{name}/minisbd/{source}.onnx", minisbd_onnx(source))
            for path in sorted(model_dir.rglob("*")):
                if path.is_file():
                    zipf.write(path, f"{name}/model/{path.relative_to(model_dir)}")
    return archive


def target_characters(target: str, target_words: Sequence[str] | None = None) -> set[str]:
    """Characters a translation into `target` may contain (for assertions in tests)."""
    return set("".join(target_words or WORDS[target])) | {" "}


__all__ = ["WORDS", "build_tiny_package", "minisbd_onnx", "target_characters"]
