#!/usr/bin/env python3
"""Active learning on Fashion-MNIST with a simulated labeler (issue 17's benchmark, not a test).

For each strategy (random, entropy, margin, diverse): a project starts from the same SEED labeled
training images and a pool of unlabeled ones; each round trains the same small model from scratch
for the same steps, evaluates precision@1 on the test images, then `taxon suggest --pick N
--strategy S` chooses N pool images, the simulated labeler gives them their true labels
(`taxon import --relabel` of a CSV), and the next round begins. Everything goes through the
`taxon` command line, as a user would run it.

  python3 bench/active/run.py [--taxon build/dev/app/taxon] [--work build/bench-active]
      [--seed_images 500] [--per_round 500] [--rounds 5] [--pool 6000] [--test 2000]
      [--steps 250] [--strategies random,entropy,margin,diverse]

Writes WORK/curve.csv (strategy, round, labeled, precision@1), WORK/curve.md (the table) and
WORK/curve.png (the plot; matplotlib is installed into the torch venv if missing).
"""
import argparse
import csv
import os
import random
import re
import sqlite3
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run(cmd, log):
    start = time.time()
    result = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    with open(log, "a") as out:
        out.write("$ " + " ".join(cmd) + "\n" + result.stdout + "\n")
    if result.returncode != 0:
        sys.exit(f"failed ({result.returncode}): {' '.join(cmd)}\n{result.stdout[-2000:]}")
    return result.stdout, time.time() - start


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--taxon", default=os.path.join(ROOT, "build/dev/app/taxon"))
    parser.add_argument("--work", default=os.path.join(ROOT, "build/bench-active"))
    parser.add_argument("--seed_images", type=int, default=500)
    parser.add_argument("--per_round", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--pool", type=int, default=6000)
    parser.add_argument("--test", type=int, default=2000)
    parser.add_argument("--steps", type=int, default=250)
    parser.add_argument("--depth_multiplier", default="0.25")
    parser.add_argument("--strategies", default="random,entropy,margin,diverse")
    args = parser.parse_args()
    os.makedirs(args.work, exist_ok=True)
    log = os.path.join(args.work, "log.txt")
    taxon = args.taxon

    # Fashion-MNIST as PNGs with their true labels, once.
    base = os.path.abspath(os.path.join(args.work, "fashion-mnist"))
    if not os.path.exists(os.path.join(base, "taxon.sqlite")):
        run([taxon, "import", base, "/usr/share/datasets/fashion-mnist",
             "--limit", str(args.seed_images + args.pool)], log)
    db = sqlite3.connect(os.path.join(base, "taxon.sqlite"))
    rows = db.execute("SELECT i.path, c.path, i.split FROM images i JOIN categories c "
                      "ON c.id = i.category_id ORDER BY i.id").fetchall()
    train = [(os.path.join(base, p), c) for p, c, s in rows if s != "test"]
    test = [(os.path.join(base, p), c) for p, c, s in rows if s == "test"][: args.test]
    draw = random.Random(17)
    draw.shuffle(train)
    seed_set = train[: args.seed_images]
    pool = train[args.seed_images: args.seed_images + args.pool]
    truth = dict(train)

    results = []
    for strategy in args.strategies.split(","):
        project = os.path.join(args.work, strategy)
        subprocess.run(["rm", "-rf", project])
        manifest = os.path.join(args.work, f"{strategy}-start.csv")
        with open(manifest, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["path", "label", "split"])
            for path, label in seed_set:
                w.writerow([path, label, "train"])
            for path, _ in pool:
                w.writerow([path, "", "train"])
            for path, label in test:
                w.writerow([path, label, "test"])
        run([taxon, "import", project, manifest], log)
        for round_ in range(args.rounds + 1):
            run([taxon, "build-records", project, "--train_shards", "2"], log)
            train_dir = os.path.join(project, "runs", f"round{round_}")
            _, took = run([taxon, "train", "--train_dir", train_dir, "--data_dir",
                           os.path.join(project, "records"), "--recipe", "small-data",
                           "--image_size", "75", "--depth_multiplier", args.depth_multiplier, "--batch_size", "32",
                           "--max_steps", str(args.steps), "--num_threads", "2",
                           "--num_preprocess_threads", "2", "--log_every_n_steps", "50",
                           "--seed", "3"], log)
            out, _ = run([taxon, "eval", "--checkpoint_dir", train_dir, "--subset", "test"], log)
            precision = float(re.search(r"precision @ 1 = ([0-9.]+)", out).group(1))
            labeled = args.seed_images + round_ * args.per_round
            results.append((strategy, round_, labeled, precision))
            print(f"{strategy:8s} round {round_}: {labeled:5d} labeled, precision@1 {precision:.4f} "
                  f"(train {took:.0f} s)", flush=True)
            if round_ == args.rounds:
                break
            picks = os.path.join(project, "picks.txt")
            run([taxon, "suggest", project, "--checkpoint_dir", train_dir, "--pick",
                 str(args.per_round), "--strategy", strategy, "--seed", str(round_),
                 "--pick_list", picks], log)
            labels = os.path.join(project, f"labels{round_}.csv")
            with open(picks) as f, open(labels, "w", newline="") as out_csv:
                w = csv.writer(out_csv)
                for line in f:
                    path = line.strip()
                    w.writerow([path, truth[path]])
            run([taxon, "import", project, labels, "--relabel"], log)

    with open(os.path.join(args.work, "curve.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["strategy", "round", "labeled", "precision_at_1"])
        w.writerows(results)
    strategies = args.strategies.split(",")
    table = "| labeled | " + " | ".join(strategies) + " |\n| ---: |" + " ---: |" * len(strategies)
    for round_ in range(args.rounds + 1):
        cells = [f"{p:.4f}" for s in strategies for (st, r, _, p) in results
                 if st == s and r == round_]
        table += f"\n| {args.seed_images + round_ * args.per_round} | " + " | ".join(cells) + " |"
    with open(os.path.join(args.work, "curve.md"), "w") as f:
        f.write(table + "\n")
    print(table)
    plot(results, strategies, os.path.join(args.work, "curve.png"), args)


def plot(results, strategies, path, args):
    try:
        import matplotlib
    except ImportError:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "matplotlib"], check=True)
        import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6.4, 4.0), dpi=100)
    for s in strategies:
        points = sorted((labeled, p) for st, _, labeled, p in results if st == s)
        ax.plot([x for x, _ in points], [y for _, y in points], marker="o", label=s)
    ax.set_xlabel("labeled training images")
    ax.set_ylabel("test precision@1")
    ax.set_title(f"Active learning on Fashion-MNIST (+{args.per_round} per round, "
                 f"{args.steps} steps each)")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    print("plot:", path)


if __name__ == "__main__":
    main()
