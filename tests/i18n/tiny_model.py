"""Build a tiny Argos Translate package (.argosmodel) that really translates, offline.

No real model can be downloaded in tests, so this makes one that argostranslate loads and
runs through its real code path: a SentencePiece model trained on a few words, a MiniSBD
sentence splitter (a three-node ONNX graph written by hand, so nothing is fetched at run
time) and a one-layer CTranslate2 Transformer whose weights are set by hand, not trained,
so that it translates word for word with a dictionary: the i-th word of the source list
becomes the i-th word of the target list (`WORDS`), anything else (punctuation, names,
single characters) is copied. "hola mi maleta está perdida." comes out "hello my bag is
lost." under every compute type (float32, int8), so tests can assert the text itself.

How the Transformer does it (d model dimensions, one attention head):
- every vocabulary piece has its own dimension (a one-hot source embedding); the target
  embeddings are zero, so the decoder's input at step t is its position encoding alone;
- position encodings are our own table (16 cosine/sine pairs at angles spread by the
  golden ratio), whose dot product peaks at distance 0 with a margin of several units
  over every other distance up to 512 positions; one dimension is left empty, and
  subtracting it cancels the layer norm's mean;
- encoder and decoder self-attention and feed-forward layers are ~0 (residuals pass);
- cross-attention: the query at step t and the keys are the position dimensions, scaled
  so that the softmax puts all weight on source position t; the value carries the word
  dimensions; the output projection maps each source piece's dimension to its target
  piece. The source gets `</s>` appended (`add_source_eos`), which maps to `</s>`, so
  decoding stops after the last word.

Other test suites (the router's chat test) use it as a fixture maker:
    from tests.i18n.tiny_model import build_tiny_package
    path = build_tiny_package(tmp_path, "es", "en")   # then i18n.translation.install_model
Call `i18n.argos.configure(tmp_dir)` before anything imports argostranslate, so that its
data, config and cache directories land in a temporary directory (else var/argos).
"""

from __future__ import annotations

import io
import json
import math
import tempfile
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

# Parallel word lists: the models translate the i-th word of one into the i-th of another.
WORDS: dict[str, list[str]] = {
    "en": ["hello", "my", "bag", "is", "lost", "where", "flight", "thanks", "help", "today"],
    "es": ["hola", "mi", "maleta", "está", "perdida", "dónde", "vuelo", "gracias", "ayuda", "hoy"],
    "fr": ["bonjour", "mon", "sac", "est", "perdu", "où", "vol", "merci", "aide", "aujourd'hui"],
    "de": ["hallo", "mein", "koffer", "ist", "weg", "wo", "flug", "danke", "hilfe", "heute"],
    "ja": ["こんにちは", "わたし", "にもつ", "は", "ない", "どこ", "びん", "ありがとう", "たすけて", "きょう"],
}  # fmt: skip


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

PUNCTUATION = [".", ",", "?", "!"]
MAX_POSITIONS = 512
FREQUENCIES = 16


def _sentencepiece(words: Sequence[str], spare_pieces: int = 60) -> bytes:
    """A unigram model whose pieces are the words, punctuation and single characters
    (`spare_pieces` beyond the words: more for lists of many distinct characters)."""
    import sentencepiece as spm

    model = io.BytesIO()
    sentences = [" ".join([*words[i:], *words[:i]]) for i in range(len(words))] * 4
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(sentences),
        model_writer=model,
        vocab_size=len(set(words)) + spare_pieces,
        hard_vocab_limit=False,
        model_type="unigram",
        character_coverage=1.0,
        user_defined_symbols=PUNCTUATION,
        minloglevel=2,
    )
    return model.getvalue()


def _angles() -> tuple[list[float], float]:
    """Angles of the position table, and by how much distance 0 beats every other distance."""
    golden = (math.sqrt(5) - 1) / 2
    angles = [math.pi * ((0.5 + k * golden) % 1.0) for k in range(FREQUENCIES)]
    distances = np.arange(1, MAX_POSITIONS)
    worst = float(np.max(np.sum(np.cos(np.outer(distances, angles)), axis=1)))
    return angles, FREQUENCIES - worst


def _dictionary_transformer(
    tokens: list[str], mapping: dict[int, int], out_dir: Path, seed: int
) -> None:
    """Save a Transformer that outputs token mapping[j] for each source token j, in order."""
    from ctranslate2.specs import transformer_spec

    rng = np.random.default_rng(seed)
    size = len(tokens)
    angles, margin = _angles()
    reference = 2 * FREQUENCIES  # always empty: subtracting it removes the layer norm's mean
    word_dims = range(reference + 1, reference + 1 + size)
    depth = 8 * math.ceil((reference + 1 + size) / 8)
    ffn = 8

    def near_zero(*shape: int) -> np.ndarray:
        # not exactly zero: int8 quantization divides by each row's largest value
        return rng.normal(0.0, 1e-3, size=shape).astype(np.float32)

    def zeros(n: int) -> np.ndarray:
        return np.zeros(n, dtype=np.float32)

    spec = transformer_spec.TransformerSpec.from_config(1, 1)
    encoder, decoder = spec.encoder, spec.decoder
    table = np.zeros((MAX_POSITIONS, depth), dtype=np.float32)
    positions = np.arange(MAX_POSITIONS)
    for k, angle in enumerate(angles):
        table[:, 2 * k] = np.cos(angle * positions)
        table[:, 2 * k + 1] = np.sin(angle * positions)
    encoder.position_encodings.encodings = table
    decoder.position_encodings.encodings = table.copy()
    source_embeddings = near_zero(size, depth)
    for index, dim in enumerate(word_dims):
        source_embeddings[index, dim] = 1.0
    encoder.embeddings[0].weight = source_embeddings
    decoder.embeddings.weight = near_zero(size, depth)
    for stack in (encoder, decoder):
        norms = [stack.layer_norm]
        for layer in stack.layer:
            attention, feed = layer.self_attention, layer.ffn
            attention.linear[0].weight, attention.linear[0].bias = (
                near_zero(3 * depth, depth),
                zeros(3 * depth),
            )
            attention.linear[1].weight, attention.linear[1].bias = (
                near_zero(depth, depth),
                zeros(depth),
            )
            feed.linear_0.weight, feed.linear_0.bias = near_zero(ffn, depth), zeros(ffn)
            feed.linear_1.weight, feed.linear_1.bias = near_zero(depth, ffn), zeros(depth)
            norms += [attention.layer_norm, feed.layer_norm]
        for norm in norms:
            norm.gamma, norm.beta = np.ones(depth, dtype=np.float32), zeros(depth)

    cross = decoder.layer[0].attention
    cross.layer_norm.gamma, cross.layer_norm.beta = np.ones(depth, dtype=np.float32), zeros(depth)
    # Layer-norm scales of the decoder input (positions) and the encoder output (word too);
    # the scale makes the right position win the softmax by about 40.
    sigma_decoder = math.sqrt(FREQUENCIES / depth)
    sigma_encoder = math.sqrt((depth + FREQUENCIES) / depth)
    scale = math.sqrt(40 * math.sqrt(depth) * sigma_decoder * sigma_encoder / margin)
    query, key_value, out = (
        near_zero(depth, depth),
        near_zero(2 * depth, depth),
        near_zero(depth, depth),
    )
    for row in range(reference):
        query[row, row] += scale
        query[row, reference] -= scale
        key_value[row, row] += scale
        key_value[row, reference] -= scale
    for dim in word_dims:
        key_value[depth + dim, dim] += 1.0
        key_value[depth + dim, reference] -= 1.0
        out[dim, dim] += 2.0
    cross.linear[0].weight, cross.linear[0].bias = query, zeros(depth)
    cross.linear[1].weight, cross.linear[1].bias = key_value, zeros(2 * depth)
    cross.linear[2].weight, cross.linear[2].bias = out, zeros(depth)

    projection, bias = near_zero(size, depth), zeros(size)
    for source, target in mapping.items():
        projection[target, word_dims[source]] += 5.0
    bias[tokens.index("<s>")] = -1e4
    decoder.projection.weight, decoder.projection.bias = projection, bias
    spec.register_source_vocabulary(tokens)
    spec.register_target_vocabulary(tokens)
    spec.config.add_source_eos = True
    spec.validate()
    out_dir.mkdir(parents=True, exist_ok=True)
    spec.save(str(out_dir))


def build_tiny_package(
    out_dir: Path,
    source: str,
    target: str,
    source_words: Sequence[str] | None = None,
    target_words: Sequence[str] | None = None,
    seed: int = 7,
    spare_pieces: int = 60,
) -> Path:
    """Write `translate-{source}_{target}.argosmodel` into out_dir and return its path.

    The model translates source_words[i] into target_words[i] (WORDS by default) and
    copies every other piece; `seed` only draws the near-zero weights. A word that does
    not become a piece of its own is copied: give long lists of many distinct characters
    (Chinese) more `spare_pieces`.
    """
    source_words = list(source_words or WORDS[source])
    target_words = list(target_words or WORDS[target])
    sp_bytes = _sentencepiece([*source_words, *target_words], spare_pieces)

    import sentencepiece as spm

    processor = spm.SentencePieceProcessor(model_proto=sp_bytes)
    tokens = [processor.id_to_piece(i) for i in range(processor.get_piece_size())]
    index = {token: i for i, token in enumerate(tokens)}
    mapping = {i: i for i in range(len(tokens))}
    for word, translated in zip(source_words, target_words, strict=False):
        if f"▁{word}" in index and f"▁{translated}" in index:
            mapping[index[f"▁{word}"]] = index[f"▁{translated}"]

    name = f"translate-{source}_{target}"
    out_dir.mkdir(parents=True, exist_ok=True)
    archive = out_dir / f"{name}.argosmodel"
    with tempfile.TemporaryDirectory() as scratch:
        model_dir = Path(scratch) / "model"
        _dictionary_transformer(tokens, mapping, model_dir, seed)
        metadata = {
            "package_version": "0.1",
            "argos_version": "1.12",
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


__all__ = ["WORDS", "build_tiny_package", "minisbd_onnx"]
