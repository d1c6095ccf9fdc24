#!/usr/bin/env python3
"""Active learning on Fashion-MNIST with a simulated labeler (issue 17's benchmark, not a test).

For each strategy (random, entropy, margin, diverse): a project starts from the same SEED labeled
training images and a pool of unlabeled ones; each round trains the same small model from scratch
for the same steps, evaluates precision@1 on the test images, then `taxon suggest --pick N
--strategy S` chooses N pool images, the simulated labeler gives them their true labels
(`taxon import --relabel` of a CSV), and the next round begins. Everything goes through the
`taxon` command line, as a user would run it.

  python3 bench/active/run.py [--taxon build/dev/app/taxon] [--work build/bench-active]
      [--seed_images 500] [--per_round 500] [--rounds 5] [--pool 4000] [--test 2000]
      [--steps 800] [--strategies random,entropy,margin,diverse] [--replicate 0] [--summarize]

A replicate is one draw of the starting images and one training seed; round 0 is trained once per
replicate and shared by the strategies. Results merge into WORK/curve.csv (strategy, replicate,
round, labeled, precision@1) across invocations, so replicates and strategies can be run apart;
WORK/curve.md (the table: mean and range over replicates) and WORK/curve.png (the plot;
matplotlib is installed into the torch venv if missing) are rewritten from all of it.
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
    parser.add_argument("--pool", type=int, default=4000)
    parser.add_argument("--test", type=int, default=2000)
    parser.add_argument("--steps", type=int, default=800)
    parser.add_argument("--depth_multiplier", default="0.25")
    parser.add_argument("--strategies", default="random,entropy,margin,diverse")
    parser.add_argument("--replicate", type=int, default=0,
                        help="which start draw and training seed (results of several merge)")
    parser.add_argument("--summarize", action="store_true",
                        help="only rewrite the table and the plot from WORK/curve.csv")
    args = parser.parse_args()
    os.makedirs(args.work, exist_ok=True)
    log = os.path.join(args.work, "log.txt")
    taxon = args.taxon
    if args.summarize:
        summarize(read_curve(os.path.join(args.work, "curve.csv")), args)
        return

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

    strategies = args.strategies.split(",")
    base_seed = 17 + args.replicate
    train_seed = str(3 + args.replicate)
    draw = random.Random(base_seed)
    draw.shuffle(train)
    seed_set = train[: args.seed_images]
    pool = train[args.seed_images: args.seed_images + args.pool]
    truth = dict(train)
    work = os.path.join(args.work, f"r{args.replicate}")
    os.makedirs(work, exist_ok=True)

    def train_round(project, round_):
        run([taxon, "build-records", project, "--train_shards", "2"], log)
        train_dir = os.path.join(project, "runs", f"round{round_}")
        _, took = run([taxon, "train", "--train_dir", train_dir, "--data_dir",
                       os.path.join(project, "records"), "--recipe", "small-data",
                       "--image_size", "75", "--depth_multiplier", args.depth_multiplier,
                       "--batch_size", "32", "--max_steps", str(args.steps), "--num_threads", "2",
                       "--num_preprocess_threads", "2", "--log_every_n_steps", "50",
                       "--seed", train_seed], log)
        out, _ = run([taxon, "eval", "--checkpoint_dir", train_dir, "--subset", "test"], log)
        return train_dir, float(re.search(r"precision @ 1 = ([0-9.]+)", out).group(1)), took

    # Round 0 is the same for every strategy (the same start, the same training seed): trained
    # once, in a start project that each strategy's project is copied from.
    start_project = os.path.join(work, "start")
    manifest = os.path.join(work, "start.csv")
    with open(manifest, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["path", "label", "split"])
        for path, label in seed_set:
            w.writerow([path, label, "train"])
        for path, _ in pool:
            w.writerow([path, "", "train"])
        for path, label in test:
            w.writerow([path, label, "test"])
    subprocess.run(["rm", "-rf", start_project])
    run([taxon, "import", start_project, manifest], log)
    start_run, start_precision, took = train_round(start_project, 0)
    print(f"replicate {args.replicate} round 0: {args.seed_images:5d} labeled, precision@1 "
          f"{start_precision:.4f} (train {took:.0f} s)", flush=True)

    results = []
    for strategy in strategies:
        results.append((strategy, args.replicate, 0, args.seed_images, start_precision))
        project = os.path.join(work, strategy)
        subprocess.run(["rm", "-rf", project])
        subprocess.run(["cp", "-a", start_project, project], check=True)
        train_dir = start_run
        for round_ in range(1, args.rounds + 1):
            picks = os.path.join(project, "picks.txt")
            run([taxon, "suggest", project, "--checkpoint_dir", train_dir, "--pick",
                 str(args.per_round), "--strategy", strategy, "--seed", str(round_ - 1),
                 "--pick_list", picks], log)
            labels = os.path.join(project, f"labels{round_ - 1}.csv")
            with open(picks) as f, open(labels, "w", newline="") as out_csv:
                w = csv.writer(out_csv)
                for line in f:
                    path = line.strip()
                    w.writerow([path, truth[path]])
            run([taxon, "import", project, labels, "--relabel"], log)
            train_dir, precision, took = train_round(project, round_)
            labeled = args.seed_images + round_ * args.per_round
            results.append((strategy, args.replicate, round_, labeled, precision))
            print(f"replicate {args.replicate} {strategy:8s} round {round_}: {labeled:5d} labeled, "
                  f"precision@1 {precision:.4f} (train {took:.0f} s)", flush=True)
        # Merged with earlier runs in the same WORK (other replicates or strategies) after each
        # strategy, so an interrupted run keeps what it finished; a rerun replaces its own rows.
        path = os.path.join(args.work, "curve.csv")
        rows = read_curve(path)
        for strategy_, replicate, round_, labeled, precision in results:
            rows[(strategy_, replicate, round_)] = (labeled, precision)
        with open(path, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["strategy", "replicate", "round", "labeled", "precision_at_1"])
            for (strategy_, replicate, round_), (labeled, precision) in sorted(rows.items()):
                w.writerow([strategy_, replicate, round_, labeled, precision])
    summarize(rows, args)


def read_curve(path):
    rows = {}
    if os.path.exists(path):
        with open(path) as f:
            for r in csv.DictReader(f):
                rows[(r["strategy"], int(r.get("replicate", 0)), int(r["round"]))] = (
                    int(r["labeled"]), float(r["precision_at_1"]))
    return rows


def summarize(rows, args):
    """The table and the plot of every strategy's mean over its replicates (with their range)."""
    order = ["random", "entropy", "margin", "diverse"]
    strategies = sorted({s for s, _, _ in rows}, key=lambda s: (order + [s]).index(s))
    curves = {}
    for (s, replicate, round_), (labeled, p) in rows.items():
        curves.setdefault(s, {}).setdefault(labeled, []).append(p)
    levels = sorted({labeled for c in curves.values() for labeled in c})
    counts = {s: len({rep for st, rep, _ in rows if st == s}) for s in strategies}
    table = ("| labeled | " + " | ".join(f"{s} (n={counts[s]})" for s in strategies) + " |\n"
             "| ---: |" + " ---: |" * len(strategies))
    for labeled in levels:
        cells = []
        for s in strategies:
            ps = curves[s].get(labeled, [])
            cells.append(f"{sum(ps) / len(ps):.3f} ({min(ps):.3f}-{max(ps):.3f})" if ps else "")
        table += f"\n| {labeled:,} | " + " | ".join(cells) + " |"
    means = {s: sum(sum(v) / len(v) for v in curves[s].values()) / len(curves[s])
             for s in strategies}
    table += "\n\nMean over all rounds: " + ", ".join(f"{s} {means[s]:.3f}" for s in strategies)
    with open(os.path.join(args.work, "curve.md"), "w") as f:
        f.write(table + "\n")
    print(table)
    plot(curves, strategies, os.path.join(args.work, "curve.png"), args, counts)


def plot(curves, strategies, path, args, counts):
    try:
        import matplotlib
    except ImportError:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "matplotlib"], check=True)
        import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6.4, 4.0), dpi=100)
    for s in strategies:
        levels = sorted(curves[s])
        mean = [sum(curves[s][x]) / len(curves[s][x]) for x in levels]
        line, = ax.plot(levels, mean, marker="o", label=f"{s} (n={counts[s]})")
        if counts[s] > 1:
            ax.fill_between(levels, [min(curves[s][x]) for x in levels],
                            [max(curves[s][x]) for x in levels], color=line.get_color(),
                            alpha=0.15, linewidth=0)
    ax.set_xlabel("labeled training images")
    ax.set_ylabel("test precision@1 (mean, band: min-max)")
    ax.set_title(f"Active learning on Fashion-MNIST (+{args.per_round} per round, "
                 f"{args.steps} steps each)")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    print("plot:", path)


if __name__ == "__main__":
    main()
