"""The PyTorch-in-Python peer of `taxon-gpu-bench`: torchvision's inception_v3 trained as a user
would write it on one GPU (bf16 autocast, channels-last, cuDNN autotuning, RMSProp as the seed's
recipe, label smoothing and the auxiliary loss), on synthetic images. Prints one JSON line:
{"images_per_sec": ..., "batch": ..., "steps": ..., "torch": ...}.

    python3 bench/gpu/peer_train.py --batch_size 256 --steps 60 --warmup_steps 15
"""
import argparse
import json
import sys
import time

import torch
import torch.nn.functional as F


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--batch_size", type=int, default=256)
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--warmup_steps", type=int, default=15)
    ap.add_argument("--image_size", type=int, default=299)
    ap.add_argument("--num_classes", type=int, default=1000)
    ap.add_argument("--precision", choices=["bf16", "fp32"], default="bf16")
    ap.add_argument("--no_channels_last", action="store_true")
    args = ap.parse_args()
    try:
        import torchvision
    except ImportError:
        print(json.dumps({"error": "torchvision is not installed"}))
        return 1
    if not torch.cuda.is_available():
        print(json.dumps({"error": "no CUDA device"}))
        return 1
    device = torch.device("cuda")
    torch.backends.cudnn.benchmark = True
    model = torchvision.models.inception_v3(num_classes=args.num_classes, aux_logits=True,
                                            init_weights=True).to(device)
    fmt = torch.contiguous_format if args.no_channels_last else torch.channels_last
    model = model.to(memory_format=fmt)
    model.train()
    lr = 0.1 * args.batch_size / 256
    optimizer = torch.optim.RMSprop(model.parameters(), lr=lr, alpha=0.9, eps=1.0, momentum=0.9,
                                    weight_decay=4e-5)
    images = torch.randn(args.batch_size, 3, args.image_size, args.image_size,
                         device=device).contiguous(memory_format=fmt)
    labels = torch.randint(0, args.num_classes, (args.batch_size,), device=device)
    dtype = torch.bfloat16 if args.precision == "bf16" else torch.float32
    start = None
    for step in range(args.warmup_steps + args.steps):
        if step == args.warmup_steps:
            torch.cuda.synchronize()
            start = time.perf_counter()
        with torch.autocast("cuda", dtype=dtype, enabled=args.precision == "bf16"):
            logits, aux = model(images)
            loss = F.cross_entropy(logits.float(), labels, label_smoothing=0.1)
            loss = loss + 0.4 * F.cross_entropy(aux.float(), labels, label_smoothing=0.1)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    print(json.dumps({"images_per_sec": args.batch_size * args.steps / seconds,
                      "batch": args.batch_size, "steps": args.steps,
                      "precision": args.precision, "channels_last": not args.no_channels_last,
                      "torch": torch.__version__, "loss": float(loss)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
