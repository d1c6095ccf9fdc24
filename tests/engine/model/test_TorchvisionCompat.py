"""torchvision's side of test_model_inception (tests/engine/model/test_TorchvisionCompat.cpp).

  names OUT            writes "name shape" lines of inception_v3(aux_logits=True, 1000 classes)
  export DIR           torchvision -> taxon: DIR/torchvision.pt (state_dict of a model with 10
                       classes, random BN statistics and affine parameters) and DIR/reference.pt
                       ({"input": 2 x 3 x 299 x 299, "logits": its eval-mode logits})
  check DIR            taxon -> torchvision: loads DIR/taxon.pt with strict=True, runs
                       DIR/taxon_reference.pt's "input" in eval mode, prints the largest absolute
                       difference to its "logits" and fails above 1e-4
"""

import sys

import torch
import torchvision

NUM_CLASSES = 10
TOLERANCE = 1e-4


def model(num_classes, init_weights):
    return torchvision.models.inception_v3(
        weights=None, init_weights=init_weights, aux_logits=True, num_classes=num_classes
    )


def names(out):
    with open(out, "w") as f:
        for key, value in model(1000, False).state_dict().items():
            f.write(f"{key} {'x'.join(map(str, value.shape)) or 'scalar'}\n")


def export(directory):
    torch.manual_seed(7)
    net = model(NUM_CLASSES, True)
    # Batch norm statistics of real activations (so the logits stay of order 1), then perturbed
    # together with the affine parameters so that every tensor matters.
    bns = [m for m in net.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    for bn in bns:
        bn.reset_running_stats()
        bn.momentum = None
    net.train()
    with torch.no_grad():
        net(torch.rand(2, 3, 299, 299) * 2 - 1)
        for bn in bns:
            bn.running_mean += 0.05 * torch.randn_like(bn.running_mean)
            bn.running_var *= torch.empty_like(bn.running_var).uniform_(0.9, 1.1)
            bn.weight.copy_(1 + 0.05 * torch.randn_like(bn.weight))
            bn.bias.copy_(0.05 * torch.randn_like(bn.bias))
            bn.num_batches_tracked.fill_(3)
    net.eval()
    x = torch.rand(2, 3, 299, 299) * 2 - 1
    with torch.no_grad():
        logits = net(x)
    torch.save(net.state_dict(), f"{directory}/torchvision.pt")
    torch.save({"input": x, "logits": logits}, f"{directory}/reference.pt")


def check(directory):
    state = torch.load(f"{directory}/taxon.pt")  # weights_only=True
    assert type(state) is dict, type(state)
    reference = torch.load(f"{directory}/taxon_reference.pt")
    net = model(NUM_CLASSES, False)
    net.load_state_dict(state, strict=True)
    net.eval()
    with torch.no_grad():
        logits = net(reference["input"])
    diff = (logits - reference["logits"]).abs().max().item()
    scale = reference["logits"].abs().max().item()
    print(f"max abs logit difference {diff:.3g} (largest logit {scale:.3g})")
    return 0 if diff <= TOLERANCE else 1


def main(argv):
    if len(argv) != 3 or argv[1] not in ("names", "export", "check"):
        print(__doc__, file=sys.stderr)
        return 2
    torch.set_num_threads(2)
    if argv[1] == "names":
        names(argv[2])
    elif argv[1] == "export":
        export(argv[2])
    else:
        return check(argv[2])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
