"""Writes the fuzz targets' seed corpora (corpus/NAME/*): small valid inputs of every format, and
a few damaged ones. Run once with the project's venv (torch, numpy, Pillow); the output is
committed, and inputs the fuzzers later find are added beside it.
    python tests/fuzz/make_seeds.py [CORPUS_DIR]"""
import gzip
import io
import json
import struct
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image

corpus = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).parent / "corpus")
SEP = b"\n#--#\n"  # FuzzInput.hpp's kPartSeparator


def put(target, name, data):
    d = corpus / target
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data if isinstance(data, bytes) else data.encode())


# --- CRC-32C and TFRecord framing ---
_table = []
for i in range(256):
    c = i
    for _ in range(8):
        c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
    _table.append(c)


def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c = _table[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def masked(data):
    c = crc32c(data)
    return ((((c >> 15) | (c << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF


def frame(payload):
    length = struct.pack("<Q", len(payload))
    return length + struct.pack("<I", masked(length)) + payload + struct.pack("<I", masked(payload))


# --- protobuf wire format, for tf.train.Example ---
def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def field(number, payload):
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def feature_bytes(value):
    return field(1, field(1, value))  # Feature.bytes_list.value


def feature_int(value):
    return field(3, field(1, varint(value)))  # Feature.int64_list.value (packed)


def example(features):
    entries = b"".join(field(1, field(1, k.encode()) + field(2, v)) for k, v in features.items())
    return field(1, entries)  # Example.features.feature (map entries)


def image_bytes(fmt, size=(12, 9), mode="RGB"):
    rng = np.random.default_rng(7)
    shape = (size[1], size[0], 3) if mode == "RGB" else (size[1], size[0])
    pixels = rng.integers(0, 255, shape, dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels, mode).save(out, format=fmt)
    return out.getvalue()


jpeg = image_bytes("JPEG")
png = image_bytes("PNG")
one_example = example({
    "image/encoded": feature_bytes(jpeg),
    "image/format": feature_bytes(b"JPEG"),
    "image/filename": feature_bytes(b"Women/Shoes/Sneakers/a.jpg"),
    "image/class/label": feature_int(3),
    "image/class/text": feature_bytes(b"Women > Shoes > Sneakers"),
    "image/height": feature_int(9),
    "image/width": feature_int(12),
})

# record_file: shards
put("record_file", "two-records", frame(b"first record") + frame(one_example))
put("record_file", "empty", b"")
damaged = bytearray(frame(b"payload one") + frame(b"payload two"))
damaged[14] ^= 0xFF
put("record_file", "damaged-payload", bytes(damaged))
put("record_file", "cut-short", frame(b"a longer payload that is cut")[:-7])
put("record_file", "huge-length", struct.pack("<Q", 1 << 62) + b"\0" * 12)

# example
put("example", "jpeg-example", one_example)
put("example", "png-example", example({"image/encoded": feature_bytes(png),
                                        "image/format": feature_bytes(b"PNG")}))
put("example", "no-image", example({"image/class/label": feature_int(1)}))

# image
put("image", "jpeg", jpeg)
put("image", "png", png)
put("image", "png-gray", image_bytes("PNG", mode="L"))
put("image", "webp", image_bytes("WEBP"))
put("image", "bmp", image_bytes("BMP"))
put("image", "tiff", image_bytes("TIFF"))
put("image", "jpeg-truncated", jpeg[: len(jpeg) // 2])
# a PNG header claiming 100000 x 100000 pixels
huge = bytearray(png)
huge[16:24] = struct.pack(">II", 100000, 100000)
put("image", "png-huge-header", bytes(huge))

# csv
put("csv", "manifest", "path,label,split\nimg/a.jpg,Women > Shoes > Sneakers,train\n"
    "\"img/b, c.jpg\",\"Men > Shoes > \"\"Boots\"\"\",test\nimg/d.png,Bags,\n")
put("csv", "no-header", "a.jpg,Shoes\nb.jpg,Bags\n")
put("csv", "semicolons", "path;label\na.jpg;Shoes\n")

# idx: images file, then labels file
def idx(count, rows, cols):
    images = struct.pack(">IIII", 0x803, count, rows, cols) + bytes(range(count * rows * cols))
    labels = struct.pack(">II", 0x801, count) + bytes([i % 10 for i in range(count)])
    return images, labels


images, labels = idx(3, 4, 5)
put("idx", "plain", images + SEP + labels)
put("idx", "gzip", gzip.compress(images, mtime=0) + SEP + gzip.compress(labels, mtime=0))
put("idx", "bad-label", images + SEP + struct.pack(">II", 0x801, 3) + bytes([1, 2, 200]))

# record_set: labels.txt, then manifest.json
labels_txt = "Women > Shoes > Sneakers\nMen > Shoes > Sneakers\nBags\n"
manifest = {"format": "tfrecord/tf.train.Example", "label_offset": 1, "num_classes": 3,
            "splits": {"train": {"records": 2, "shards": [
                {"bytes": 10, "file": "train-00000-of-00001", "records": 2}]}}}
put("record_set", "with-manifest", labels_txt.encode() + SEP + json.dumps(manifest).encode())
put("record_set", "labels-only", labels_txt)

# settings: a run's settings.json, written by the trainer
settings = {
    "aux_logits": False, "aux_weight": 0.4, "batch_norm_decay": 0.99, "batch_size": 64,
    "bucket_mib": 25.0, "channels_last": True, "collective_timeout_seconds": 1800.0,
    "colour_distort": False, "cudnn_benchmark": True, "data_dir": "/data/records",
    "decay_epochs": 30.0, "decay_factor": 0.16, "depth_multiplier": 0.25, "device": "cpu",
    "distort": True, "dropout": 0.0}
put("settings", "partial", json.dumps(settings, indent=2))
put("settings", "not-json", "{\"batch_size\": 64,")

# metrics_log
put("metrics_log", "run", "\n".join([
    '{"batch_precision_at_1":0.0625,"batch_recall_at_5":0.45,"cross_entropy":3.18,"epoch":0,'
    '"examples_per_sec":134.5,"learning_rate":0.0004,"loss":6.62,"sec_per_batch":0.47,"step":1,'
    '"time":1796017318.63}',
    '{"batch_precision_at_1":0.1,"batch_recall_at_5":0.5,"cross_entropy":3.0,"epoch":0,'
    '"examples_per_sec":240.1,"learning_rate":0.0008,"loss":6.0,"sec_per_batch":0.26,"step":2,'
    '"time":1796017318.90}',
    '{"eval":{"precision_at_1":0.41,"recall_at_5":0.9},"step":2}',
    '{"step":3,"loss":',
]) + "\n")

# report: summary.json, categories, levels, confusion, confused_pairs, mislabeled, predictions
summary = {"checkpoint": "run/model.ckpt-8.taxon", "data_dir": "records", "examples": 4,
           "files": {"categories": "categories.csv", "confused_pairs": "confused_pairs.csv",
                     "confusion": "confusion.csv", "levels": "levels.csv",
                     "mislabeled": "mislabeled.csv", "predictions": "predictions.csv"},
           "levels": [{"accuracy": 1.0, "correct": 4, "examples": 4, "level": 1},
                      {"accuracy": 0.5, "correct": 2, "examples": 4, "level": 2}],
           "mean_loss": 0.6, "num_classes": 2, "precision_at_1": 0.5, "recall_at_k": 1.0,
           "step": 8, "subset": "test", "top_k": 5}
report = [
    json.dumps(summary),
    "class,name,support,predicted,true_positives,precision,recall\n"
    "0,Shoes > Men,2,2,1,0.5,0.5\n1,Shoes > Women,2,2,1,0.5,0.5\n",
    "level,examples,correct,accuracy\n1,4,4,1\n2,4,2,0.5\n",
    "actual,predicted,count,actual_name,predicted_name\n0,0,1,Shoes > Men,Shoes > Men\n"
    "0,1,1,Shoes > Men,Shoes > Women\n1,0,1,Shoes > Women,Shoes > Men\n"
    "1,1,1,Shoes > Women,Shoes > Women\n",
    "a,a_name,b,b_name,a_as_b,b_as_a,total\n0,Shoes > Men,1,Shoes > Women,1,1,2\n",
    "key,label,label_name,label_probability,predicted,predicted_name,predicted_probability\n"
    "a.jpg,0,Shoes > Men,0.2,1,Shoes > Women,0.8\n",
    "key,label,predicted,label_probability,predicted_probability\na.jpg,0,1,0.2,0.8\n"
    "b.jpg,0,0,0.9,0.9\nc.jpg,1,0,0.4,0.6\nd.jpg,1,1,0.7,0.7\n",
]
put("report", "report", SEP.join(p.encode() for p in report))
put("report", "no-predictions", SEP.join(p.encode() for p in report[:-1]))


# checkpoint: format 2, sections of LibTorch archives (torch.save of a list of tensors)
def archive(tensors):
    out = io.BytesIO()
    torch.save(tensors, out)
    return out.getvalue()


def checkpoint(sections, meta, magic=b"TXC2"):
    body = b""
    index = {"format": "taxon-checkpoint/2", "sections": []}
    for name, data in [("meta", json.dumps(meta).encode())] + sections:
        index["sections"].append({"name": name, "offset": len(body), "size": len(data),
                                  "crc": crc32c(data)})
        body += data
    index_text = json.dumps(index).encode()
    return body + index_text + magic + struct.pack("<IQ", crc32c(index_text), len(index_text))


meta = {"format": "taxon-checkpoint/2", "step": 8, "epoch": 1, "position_records": 3,
        "position_batches": 1, "settings": settings, "categories": ["Shoes > Men", "Shoes > Women"],
        "metrics": {"loss": 0.5}, "model": ["fc.weight", "bn.running_mean"],
        "model_rest": ["bn.running_mean"], "model_averaged": ["fc.weight"],
        "average": ["fc.weight"], "optimizer": ["fc.weight.momentum"], "generators": ["cpu"]}
w = torch.arange(6, dtype=torch.float32).reshape(2, 3)
sections = [("average", archive([w])), ("model.rest", archive([torch.zeros(3)])),
            ("model.averaged", archive([w])), ("optimizer", archive([w * 0.1])),
            ("generators", archive([torch.zeros(8, dtype=torch.uint8)]))]
put("checkpoint", "v2", checkpoint(sections, meta))
put("checkpoint", "v2-missing-section", checkpoint(sections[:2], meta))
put("checkpoint", "not-a-checkpoint", b"PK\x03\x04 just some bytes TXC2" + b"\0" * 12)

# torchvision_weights: torch.save of a state dict
out = io.BytesIO()
torch.save({"conv.weight": torch.ones(2, 1, 3, 3), "conv.bias": torch.zeros(2),
            "bn.num_batches_tracked": torch.tensor(3)}, out)
put("torchvision_weights", "state-dict", out.getvalue())
from collections import OrderedDict  # noqa: E402
out = io.BytesIO()
base = torch.arange(8, dtype=torch.float64)
torch.save(OrderedDict([("a", base[:4]), ("b", base[4:]), ("h", torch.ones(2, dtype=torch.half))]),
           out)
put("torchvision_weights", "ordered-views", out.getvalue())
print("seeds written to", corpus)


# --- hostile archives: claims of sizes the file does not hold (regression seeds) ---
import re  # noqa: E402
import zipfile  # noqa: E402


def rezip(data, change):
    """torch.save's zip with each record's bytes passed through change(name, bytes)."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as dst:
        for info in src.infolist():
            dst.writestr(info, change(info.filename, src.read(info)))
    return out.getvalue()


def claim_record_size(data, suffix, size):
    """Sets the central directory's sizes of the record whose name ends in `suffix`."""
    data = bytearray(data)
    for m in re.finditer(rb"PK\x01\x02", bytes(data)):
        at = m.start()
        name_len = struct.unpack_from("<H", data, at + 28)[0]
        name = bytes(data[at + 46: at + 46 + name_len])
        if name.endswith(suffix):
            struct.pack_into("<II", data, at + 20, size, size)
    return bytes(data)


out = io.BytesIO()
torch.save({"w": torch.arange(6, dtype=torch.float32)}, out)
plain = out.getvalue()
put("torchvision_weights", "record-claims-2GiB", claim_record_size(plain, b"data/0", 0x7FFFFFF0))
# the storage's numel (BININT1 6 in data.pkl) raised to 2^31 - 1 (BININT)
put("torchvision_weights", "storage-claims-2G-elements",
    rezip(plain, lambda name, b: b.replace(b"K\x06t", b"J\xff\xff\xff\x7ft", 1)
          if name.endswith("data.pkl") else b))
hostile = [("average", claim_record_size(archive([w]), b"data/0", 0x7FFFFFF0))] + sections[1:]
put("checkpoint", "section-record-claims-2GiB", checkpoint(hostile, meta))
numel_claim = [("average", rezip(archive([w]), lambda name, b: b.replace(
    b"K\x06t", b"J\xff\xff\xff\x7ft", 1) if name.endswith("data.pkl") else b))] + sections[1:]
put("checkpoint", "section-storage-claims-2G-elements", checkpoint(numel_claim, meta))

# onnx_summary: a small model written with the onnx package (the tests' and benchmarks' peer)
import onnx  # noqa: E402
from onnx import TensorProto, helper  # noqa: E402
graph = helper.make_graph(
    [helper.make_node("Relu", ["image"], ["logits"]),
     helper.make_node("Softmax", ["logits"], ["probabilities"], axis=1)], "taxon",
    [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["batch", 3])],
    [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 3]),
     helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["batch", 3])])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
helper.set_model_props(model, {"taxon.categories": json.dumps(["a", "b > c", "d"]),
                               "taxon.image_size": "75"})
put("onnx_summary", "small", model.SerializeToString())

# embeddings: a store of 3 rows of 4 floats (unit rows as float16), one with a graph index
# claimed but absent, and damaged counts (rows beyond the files, a row count whose byte size
# overflows 64 bits).
def embeddings(rows, dim, meta_extra=None, n_ids=None, n_vectors=None):
    meta = {"format": "taxon-embeddings", "version": 1, "run": "/runs/a", "step": 10,
            "dim": dim, "rows": rows, "encoding": "float16", "normalized": True}
    meta.update(meta_extra or {})
    vectors = np.abs(np.random.default_rng(3).normal(size=(n_vectors or rows, dim)))
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    ids = np.arange(7, 7 + (n_ids or rows), dtype="<i8")
    return json.dumps(meta).encode() + SEP + ids.tobytes() + SEP + \
        vectors.astype("<f2").tobytes()


put("embeddings", "three-rows", embeddings(3, 4))
put("embeddings", "index-claimed", embeddings(3, 4, {"index": "hnswlib", "index_rows": 3,
                                                      "index_bytes": 100, "index_crc32c": 5}))
put("embeddings", "rows-beyond-files", embeddings(9, 4, n_ids=3, n_vectors=3))
put("embeddings", "rows-overflow", embeddings(2 ** 61, 4, n_ids=3, n_vectors=3))

# duplicates_report: duplicates.csv as `taxon duplicates` writes it (a near group crossing splits,
# an exact group with two labels), and one with a quoted path holding a comma.
DUP_HEADER = "group,kind,image_id,image,category,split,distance,hash\n"
put("duplicates_report", "two-groups", DUP_HEADER +
    "1,near,3,images/a.png,Shoes > Sneaker,train,0.000000,h1\n"
    "1,near,9,images/a-copy.jpg,Shoes > Sneaker,test,0.003100,h2\n"
    "2,exact,4,images/b.png,Bags > Bag,train,0.000000,h3\n"
    "2,exact,12,images/b2.png,Tops > Shirt,train,0.000000,h3\n")
put("duplicates_report", "quoted-path", DUP_HEADER +
    '1,exact,5,"images/a, b.png",,unassigned,0.000000,h\n'
    '1,exact,6,"images/""c"".png",Other,validation,0.000000,h\n')
