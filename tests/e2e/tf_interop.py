"""TensorFlow reads the shards `taxon build-records` writes, and `taxon import` reads shards
TensorFlow writes the way the seed's build_image_data.py does. Run by CTest with the TensorFlow
venv that packaging/setup-deps.sh creates: tf_interop.py TAXON_BINARY WORK_DIR"""
import json
import os
import pathlib
import shutil
import subprocess
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import tensorflow as tf  # noqa: E402

taxon, work = sys.argv[1], pathlib.Path(sys.argv[2])
shutil.rmtree(work, ignore_errors=True)
work.mkdir(parents=True)


def jpeg(seed, h=40, w=56):
    g = tf.random.Generator.from_seed(seed)
    pixels = tf.cast(g.uniform([h, w, 3], 0, 255), tf.uint8)
    return tf.io.encode_jpeg(pixels).numpy()


def run(*args):
    result = subprocess.run([taxon, *args], capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"taxon {' '.join(args)} failed ({result.returncode}):\n{result.stderr}")
    return result


# 1. Taxon writes, TensorFlow reads (tf.data checks both CRCs of every record).
categories = ["Women/Shoes/Sneakers", "Men/Shoes/Sneakers", "婦人/靴"]
originals = {}
for c, category in enumerate(categories):
    for i in range(5):
        path = work / "train" / category / f"img {i}.jpg"
        path.parent.mkdir(parents=True, exist_ok=True)
        data = jpeg(c * 100 + i)
        path.write_bytes(data)
        originals[data] = " > ".join(category.split("/"))
run("build-records", "--train_directory", str(work / "train"), "--output_directory",
    str(work / "out"), "--train_shards=2", "--num_threads=2")
features = {
    "image/encoded": tf.io.FixedLenFeature([], tf.string),
    "image/format": tf.io.FixedLenFeature([], tf.string),
    "image/filename": tf.io.FixedLenFeature([], tf.string),
    "image/class/label": tf.io.FixedLenFeature([], tf.int64),
    "image/class/text": tf.io.FixedLenFeature([], tf.string),
    "image/height": tf.io.FixedLenFeature([], tf.int64),
    "image/width": tf.io.FixedLenFeature([], tf.int64),
    "image/channels": tf.io.FixedLenFeature([], tf.int64),
    "image/colorspace": tf.io.FixedLenFeature([], tf.string),
}
labels = (work / "out" / "labels.txt").read_text(encoding="utf-8").splitlines()
files = sorted(str(p) for p in (work / "out").glob("train-*-of-00002"))
assert len(files) == 2, files
seen = 0
for record in tf.data.TFRecordDataset(files):
    e = tf.io.parse_single_example(record, features)
    encoded = e["image/encoded"].numpy()
    text = e["image/class/text"].numpy().decode()
    assert originals[encoded] == text, (text, originals.get(encoded))
    assert labels[int(e["image/class/label"]) - 1] == text
    image = tf.io.decode_jpeg(e["image/encoded"], channels=3)
    assert image.shape == (int(e["image/height"]), int(e["image/width"]), 3)
    assert e["image/format"].numpy() == b"JPEG"
    seen += 1
assert seen == 15, seen
print(f"TensorFlow {tf.__version__} read {seen} records from Taxon's shards")

# 2. TensorFlow writes like build_image_data.py, Taxon imports.
shards = work / "seed-shards"
shards.mkdir()
names = ["Women > Shoes > Sneakers", "Men > Shoes > Sneakers"]
(shards / "labels.txt").write_text("\n".join(names) + "\n")


def feature_bytes(v):
    return tf.train.Feature(bytes_list=tf.train.BytesList(value=[v]))


def feature_int(v):
    return tf.train.Feature(int64_list=tf.train.Int64List(value=[v]))


for split, count in (("train", 8), ("validation", 4)):
    with tf.io.TFRecordWriter(str(shards / f"{split}-00000-of-00001")) as writer:
        for i in range(count):
            label = 1 + i % 2
            example = tf.train.Example(features=tf.train.Features(feature={
                "image/height": feature_int(40), "image/width": feature_int(56),
                "image/colorspace": feature_bytes(b"RGB"), "image/channels": feature_int(3),
                "image/class/label": feature_int(label),
                "image/class/text": feature_bytes(names[label - 1].encode()),
                "image/format": feature_bytes(b"JPEG"),
                "image/filename": feature_bytes(f"{split}_{i}.JPEG".encode()),
                "image/encoded": feature_bytes(jpeg(1000 + i + (100 if split == "train" else 0))),
            }))
            writer.write(example.SerializeToString())
result = run("import", str(work / "project"), str(shards))
assert "Imported 12 new images" in result.stdout, result.stdout
assert "2 categories; 8 train, 4 validation, 0 test" in result.stdout, result.stdout
print("Taxon imported TensorFlow's shards:", result.stdout.strip().splitlines()[-1])

# 3. Taxon trains straight on the seed's shards (labels.txt, no manifest), and TensorBoard reads
#    the event file it writes.
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator  # noqa: E402

train_dir = work / "train-run"
run("train", "--train_dir", str(train_dir), "--data_dir", str(shards), "--image_size", "75",
    "--depth_multiplier", "0.1", "--batch_size", "4", "--max_steps", "4",
    "--log_every_n_steps", "2", "--num_threads", "2")
events = EventAccumulator(str(train_dir), size_guidance={"scalars": 0})
events.Reload()
tags = set(events.Tags()["scalars"])
expected = {"loss", "learning_rate", "examples_per_sec", "train/precision_at_1",
            "train/recall_at_5", "eval/precision_at_1", "eval/recall_at_5"}
assert expected <= tags, tags
assert [e.step for e in events.Scalars("loss")] == [2, 4], events.Scalars("loss")
assert [e.step for e in events.Scalars("eval/precision_at_1")] == [4]
metrics = [json.loads(line) for line in (train_dir / "metrics.jsonl").read_text().splitlines()]
by_step = {m["step"]: m for m in metrics if "loss" in m}
for e in events.Scalars("loss"):
    assert abs(e.value - by_step[e.step]["loss"]) < 1e-5 * max(1.0, abs(e.value)), e
print(f"TensorBoard read {len(tags)} scalar series from Taxon's event file")
shutil.rmtree(work, ignore_errors=True)
