"""The peers of bench/infer/run.sh, with the torch venv (torch, torchvision, onnx, onnxruntime).

  peers.py speed TAXON_ONNX TAXON_INT8_ONNX WORKDIR THREADS BATCH...
      Median latency of torch eager (torchvision's inception_v3 at the export's input size),
      ONNX Runtime fp32 on Taxon's export, ONNX Runtime fp32 on torch.onnx.export of torchvision's
      model, and ONNX Runtime int8 on Taxon's int8 export: lines "form batch median_ms images/s".
  peers.py accuracy PROJECT SPLIT FP32_ONNX INT8_ONNX
      precision@1 of both exports in ONNX Runtime on the project's split (labels from the
      catalog), and how often their top-1 agree.
"""
import json
import pathlib
import sqlite3
import statistics
import sys
import time

import numpy as np
import onnxruntime as ort

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[2] / "tests/engine/deploy"))
from onnx_preprocess import preprocess  # noqa: E402  (the tests' copy of the README's lines)


def session(path, threads):
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def median_ms(fn, rounds):
    fn()
    fn()
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def report(form, batch, ms):
    print(f"{form:<22} {batch:3d} {ms:9.1f} {1000 * batch / ms:8.1f}", flush=True)


def speed(taxon_onnx, int8_onnx, work, threads, batches):
    import torch
    import torchvision

    torch.set_num_threads(threads)
    fp32 = session(taxon_onnx, threads)
    size = int(fp32.get_modelmeta().custom_metadata_map["taxon.image_size"])
    int8 = session(int8_onnx, threads)
    model = torchvision.models.inception_v3(weights=None, aux_logits=False, init_weights=False)
    model.eval()
    exported = pathlib.Path(work) / "torchvision.onnx"
    if not exported.exists():
        torch.onnx.export(model, torch.zeros(1, 3, size, size), str(exported),
                          input_names=["image"], output_names=["logits"],
                          dynamic_axes={"image": {0: "batch"}}, opset_version=17, dynamo=False)
    torchvision_ort = session(exported, threads)
    for batch in batches:
        rounds = 21 if batch == 1 else 5
        x = np.random.default_rng(0).uniform(-1, 1, (batch, 3, size, size)).astype(np.float32)
        with torch.inference_mode():
            t = torch.from_numpy(x)
            report("torch-eager-fp32", batch, median_ms(lambda: model(t), rounds))
        report("ort-fp32-taxon-export", batch,
               median_ms(lambda: fp32.run(["logits"], {"image": x}), rounds))
        report("ort-fp32-torch-export", batch,
               median_ms(lambda: torchvision_ort.run(["logits"], {"image": x}), rounds))
        report("ort-int8-taxon-export", batch,
               median_ms(lambda: int8.run(["logits"], {"image": x}), rounds))


def accuracy(project, split, fp32_onnx, int8_onnx):
    project = pathlib.Path(project)
    catalog = sqlite3.connect(f"file:{project / 'taxon.sqlite'}?mode=ro", uri=True)
    rows = list(catalog.execute(
        "SELECT i.path, c.path FROM images i JOIN categories c ON c.id = i.category_id "
        "WHERE i.split = ? ORDER BY i.id", (split,)))
    sessions = [session(fp32_onnx, 2), session(int8_onnx, 2)]
    meta = sessions[0].get_modelmeta().custom_metadata_map
    labels = json.loads(meta["taxon.categories"])
    size = int(meta["taxon.image_size"])
    crop = json.loads(meta["taxon.preprocessing"])["central_crop_fraction"]
    index = {name: i for i, name in enumerate(labels)}
    truth = np.array([index[category] for _, category in rows])
    top1 = [[], []]
    for start in range(0, len(rows), 256):
        x = np.stack([preprocess(project / path, size, crop) for path, _ in rows[start:start + 256]])
        for k, s in enumerate(sessions):
            top1[k].append(s.run(["logits"], {"image": x})[0].argmax(1))
    fp32, int8 = (np.concatenate(t) for t in top1)
    print(f"images {len(rows)}")
    print(f"precision@1 fp32 {np.mean(fp32 == truth):.4f}")
    print(f"precision@1 int8 {np.mean(int8 == truth):.4f}")
    print(f"top-1 agreement int8/fp32 {np.mean(fp32 == int8):.4f}")


if __name__ == "__main__":
    if sys.argv[1] == "speed":
        speed(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), [int(b) for b in sys.argv[6:]])
    else:
        accuracy(*sys.argv[2:6])
