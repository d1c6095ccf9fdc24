"""TensorBoard reads the event files EventFileWriter writes. Run by CTest with the TensorFlow venv
(with tensorboard) that packaging/setup-deps.sh creates:

    read_events.py WRITER WORK_DIR    runs WRITER (taxon_write_test_events) on WORK_DIR/run and
                                      checks every scalar it reports with TensorBoard's reader,
                                      once while the file is open and again after it is closed
    read_events.py EVENT_FILE_OR_DIR  prints {tag: [[step, value], ...]} as JSON

The check compares every tag, step and value (the value rounded to float32, as TensorBoard keeps
it; nan and infinities included), the wall times (exact where the writer was given one, else
within the run's time), the file_version, and reads the file once more with TensorFlow's strict
TFRecord reader, which fails on any bad checksum (TensorBoard's reader would only stop early).
"""
import json
import math
import os
import pathlib
import shutil
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

try:
    import tensorboard
    from tensorboard.backend.event_processing import event_accumulator
except ImportError as e:
    sys.exit(
        f"{sys.executable}: cannot import TensorBoard ({e}); TensorFlow 2.21 no longer brings it: "
        "packaging/requirements-tf.txt must list tensorboard"
    )

ALL_SCALARS = {event_accumulator.SCALARS: 0}  # 0: keep every event, no sampling


def load(path):
    return event_accumulator.EventAccumulator(str(path), size_guidance=ALL_SCALARS).Reload()


def scalars(accumulator):
    return {
        tag: [[e.step, e.value] for e in accumulator.Scalars(tag)]
        for tag in accumulator.Tags()[event_accumulator.SCALARS]
    }


def float32(value):
    with np.errstate(over="ignore"):
        return float(np.float32(value))


def same(a, b):
    return (math.isnan(a) and math.isnan(b)) or a == b


class Failures:
    def __init__(self):
        self.lines = []

    def check(self, ok, what):
        if not ok:
            self.lines.append(what)

    def exit_if_any(self, stage):
        if self.lines:
            shown = "\n  ".join(self.lines[:30])
            more = f"\n  ... and {len(self.lines) - 30} more" if len(self.lines) > 30 else ""
            sys.exit(f"FAILED ({stage}):\n  {shown}{more}")


def compare(accumulator, expected, started, finished, failures, stage):
    """expected: [{tag, step, value, wall_time}] in the order written."""
    failures.check(
        accumulator.file_version == 2.0,
        f"{stage}: file_version {accumulator.file_version!r}, expected 2 (brain.Event:2)",
    )
    by_tag = {}
    for scalar in expected:
        by_tag.setdefault(scalar["tag"], []).append(scalar)
    tags = set(accumulator.Tags()[event_accumulator.SCALARS])
    failures.check(tags == set(by_tag), f"{stage}: tags {sorted(tags)}, expected {sorted(by_tag)}")
    for tag, wanted in by_tag.items():
        got = accumulator.Scalars(tag) if tag in tags else []
        failures.check(
            len(got) == len(wanted), f"{stage}: {tag!r}: {len(got)} events, expected {len(wanted)}"
        )
        for have, want in zip(got, wanted):
            where = f"{stage}: {tag!r} step {want['step']}"
            value = float32(float(want["value"]))
            failures.check(have.step == want["step"], f"{where}: step {have.step}")
            failures.check(same(have.value, value), f"{where}: value {have.value!r}, not {value!r}")
            if want["wall_time"] is not None:
                failures.check(
                    have.wall_time == want["wall_time"],
                    f"{where}: wall time {have.wall_time!r}, not {want['wall_time']!r}",
                )
            else:
                failures.check(
                    started - 1 <= have.wall_time <= finished + 1,
                    f"{where}: wall time {have.wall_time!r} outside the run "
                    f"({started:.3f} to {finished:.3f})",
                )


def read_line(process):
    line = process.stdout.readline()
    if not line:
        process.wait(timeout=60)
        sys.exit(f"the writer stopped early (exit {process.returncode}):\n{process.stderr.read()}")
    return json.loads(line)


def check(writer, work):
    shutil.rmtree(work, ignore_errors=True)
    run_dir = work / "run"
    started = time.time()
    process = subprocess.Popen(
        [writer, str(run_dir)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    path = pathlib.Path(read_line(process)["file"])
    expected = []
    while "flushed" not in (line := read_line(process)):
        expected.append(line)
    failures = Failures()

    # Part one, read while the writer still has the file open.
    growing = load(path)
    compare(growing, expected, started, time.time(), failures, "open file")
    failures.exit_if_any("reading the file while it is being written")

    process.stdin.write("go on\n")
    process.stdin.flush()
    while "closed" not in (line := read_line(process)):
        expected.append(line)
    events = line["events"]
    process.wait(timeout=60)
    finished = time.time()
    if process.returncode != 0:
        sys.exit(f"the writer failed (exit {process.returncode}):\n{process.stderr.read()}")

    # The same accumulator picks up what was appended; a new one on the folder finds the file by
    # its name, as `tensorboard --logdir` does.
    compare(growing.Reload(), expected, started, finished, failures, "reloaded")
    compare(load(run_dir), expected, started, finished, failures, "folder")
    names = [p.name for p in run_dir.iterdir()]
    failures.check(names == [path.name], f"the run folder holds {names}, expected [{path.name}]")
    failures.check(
        path.name.startswith("events.out.tfevents."), f"{path.name}: not an event file name"
    )

    # Strict read: TensorFlow's TFRecord reader raises on any bad length or payload checksum.
    records = [tf.compat.v1.Event.FromString(r.numpy()) for r in tf.data.TFRecordDataset(str(path))]
    failures.check(len(records) == events, f"{len(records)} records, the writer wrote {events}")
    failures.check(
        bool(records) and records[0].file_version == "brain.Event:2",
        "the first event is not file_version brain.Event:2",
    )
    failures.check(
        all(r.HasField("summary") for r in records[1:]), "an event after the first has no summary"
    )
    failures.exit_if_any("reading the finished file")
    for tag, values in sorted(scalars(load(path)).items()):
        print(f"{tag}: {len(values)} events, first {values[:2]}")
    print(
        f"tensorboard_reads_events: OK, {len(expected)} scalars in {events} events read back by "
        f"TensorBoard {tensorboard.__version__}"
    )


def main(argv):
    if len(argv) == 3:
        check(argv[1], pathlib.Path(argv[2]))
    elif len(argv) == 2:
        print(json.dumps(scalars(load(argv[1])), sort_keys=True))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
