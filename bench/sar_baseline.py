#!/usr/bin/env python3
"""Baseline for bench/fit.ts: the fit step of Microsoft Recommenders' SAR
(SARSingleNode.fit with timedecay_formula=True), re-implemented in a few lines of
numpy/scipy so its time can be compared with ours on the same interactions file.

What is timed (time.perf_counter, median of --repeat runs; reading the file is not):
  1. index users and items (np.unique; SAR's fit does this too, via pandas),
  2. affinity: each rating times 0.5^((now - t) / half-life), now = the latest
     timestamp, summed per (user, item) into a sparse CSR user x item matrix,
  3. co-occurrence: C = H^T H over the binary user x item matrix H (one per distinct
     (user, item) pair), pairs below --threshold zeroed,
  4. similarity on C, densified to an items x items ndarray as SAR does
     (jaccard: c_ij / (c_ii + c_jj - c_ij); cosine, lift, cooccurrence also offered).
Memory: step 4 is dense, 8 * items^2 bytes per matrix (and temporaries of that size).

Input: the format jobs/lib/interactions-file.ts reads (user, item, rating or event
type, unix seconds or ISO 8601; tab, '::', ',', ';' or '|'; optional header).
Output: one JSON object on stdout.

  python3 bench/sar_baseline.py .tmp/ratings.tsv --repeat 5
"""
import argparse
import gzip
import json
import os
import platform
import resource
import statistics
import sys
import time
from datetime import datetime, timezone

import numpy as np
import scipy
from scipy import sparse

DELIMITERS = ["\t", "::", ",", ";", "|"]
DEFAULT_EVENT_WEIGHTS = {"purchase": 1.0, "cart": 0.5, "view": 0.25, "click": 0.0}
MILLIS_THRESHOLD = 1e11  # as jobs/lib/timestamps.ts: larger numbers are milliseconds


def parse_timestamp(text):
    """Unix seconds (or milliseconds), or ISO 8601 / 'YYYY-MM-DD HH:MM:SS[ UTC]'; None if neither."""
    text = text.strip()
    if not text:
        return None
    if text.replace(".", "", 1).isdigit():
        value = float(text)
        return value / 1000 if value >= MILLIS_THRESHOLD else value
    try:
        date = datetime.fromisoformat(text.removesuffix(" UTC").replace("Z", "+00:00"))
    except ValueError:
        return None
    return (date if date.tzinfo else date.replace(tzinfo=timezone.utc)).timestamp()


def unquote(field):
    f = field.strip()
    return f[1:-1].replace('""', '"') if len(f) >= 2 and f[0] == '"' and f[-1] == '"' else f


def read_interactions(path, event_weights):
    """(users, items, weights, times) as numpy arrays, as readInteractionsFile + addRecords build them."""
    users, items, weights, times = [], [], [], []
    delimiter = None
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8-sig", newline="") as f:
        for number, line in enumerate(f, 1):
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            if delimiter is None:
                delimiter = next((d for d in DELIMITERS if d in line), ",")
            fields = [unquote(x) for x in line.split(delimiter)]
            if number == 1 and len(fields) >= 4 and parse_timestamp(fields[3]) is None:
                continue  # header
            if len(fields) < 4 or not fields[0] or not fields[1]:
                sys.exit(f"{path}:{number}: expected user, item, weight or type, timestamp")
            ts = parse_timestamp(fields[3])
            if ts is None:
                sys.exit(f'{path}:{number}: bad timestamp "{fields[3]}"')
            try:
                weight = float(fields[2])
            except ValueError:
                if fields[2] not in event_weights:
                    sys.exit(f'{path}:{number}: "{fields[2]}" is neither a number nor an event type')
                weight = event_weights[fields[2]]
            if weight > 0:  # as addRecords: a weight of 0 or less leaves the event out
                users.append(fields[0])
                items.append(fields[1])
                weights.append(weight)
                times.append(ts)
    return np.array(users), np.array(items), np.array(weights, dtype=np.float64), np.array(times, dtype=np.float64)


def similarity_of(cooccurrence, measure):
    """SAR's similarity on the co-occurrence matrix: a dense items x items ndarray."""
    if measure == "cooccurrence":
        return cooccurrence  # SAR keeps this one sparse
    diag = cooccurrence.diagonal()
    rows, cols = diag[np.newaxis, :], diag[:, np.newaxis]
    dense = cooccurrence.toarray()
    with np.errstate(invalid="ignore", divide="ignore"):
        if measure == "jaccard":
            return dense / (rows + cols - dense)
        if measure == "cosine":
            return dense / np.sqrt(rows * cols)
        if measure == "lift":
            return dense / (rows * cols)
    raise ValueError(f"unknown similarity {measure}")


def fit(users, items, ratings, times, half_life_seconds, threshold, measure, clock):
    """SAR's fit; returns (affinity, item_similarity, stage seconds)."""
    t0 = clock()
    user_ids, u = np.unique(users, return_inverse=True)
    item_ids, i = np.unique(items, return_inverse=True)
    shape = (len(user_ids), len(item_ids))
    t1 = clock()

    decayed = ratings * np.minimum(1.0, np.power(0.5, (times.max() - times) / half_life_seconds))
    affinity = sparse.coo_matrix((decayed, (u, i)), shape=shape).tocsr()  # duplicates summed
    t2 = clock()

    hits = sparse.csr_matrix((np.ones(affinity.nnz), affinity.indices, affinity.indptr), shape=shape)
    cooccurrence = hits.T.dot(hits)
    cooccurrence = cooccurrence.multiply(cooccurrence >= threshold).astype(np.float64)
    t3 = clock()

    item_similarity = similarity_of(cooccurrence, measure)
    t4 = clock()
    return affinity, item_similarity, {"index": t1 - t0, "affinity": t2 - t1, "cooccurrence": t3 - t2, "similarity": t4 - t3}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("file")
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--warmup", type=int, default=1, help="untimed runs first (default 1)")
    p.add_argument("--half-life-days", type=float, default=30)
    p.add_argument("--threshold", type=int, default=1)
    p.add_argument("--similarity", choices=["jaccard", "cosine", "lift", "cooccurrence"], default="jaccard")
    p.add_argument("--event-weights", help="JSON object event type -> weight (default purchase 1, cart 0.5, view 0.25, click 0)")
    a = p.parse_args()
    if a.threshold < 1:
        sys.exit("--threshold must be >= 1 (as SAR)")
    event_weights = {**DEFAULT_EVENT_WEIGHTS, **(json.loads(a.event_weights) if a.event_weights else {})}

    t0 = time.perf_counter()
    users, items, ratings, times = read_interactions(a.file, event_weights)
    read_seconds = time.perf_counter() - t0
    if len(users) == 0:
        sys.exit(f"{a.file}: no interactions")

    half_life = a.half_life_days * 86400
    for _ in range(a.warmup):  # untimed, as fit.ts warms up its JIT: first-call costs of numpy/scipy
        fit(users, items, ratings, times, half_life, a.threshold, a.similarity, time.perf_counter)
    runs, stages = [], {k: [] for k in ("index", "affinity", "cooccurrence", "similarity")}
    for _ in range(max(1, a.repeat)):
        affinity = similarity = None  # free the previous run's matrices before the next one
        t0 = time.perf_counter()
        affinity, similarity, split = fit(users, items, ratings, times, half_life, a.threshold, a.similarity, time.perf_counter)
        runs.append(time.perf_counter() - t0)
        for k, v in split.items():
            stages[k].append(v)

    # The result, for a parity check with ours (off-diagonal pairs with a positive score), untimed.
    dense = similarity.toarray() if sparse.issparse(similarity) else similarity
    np.fill_diagonal(dense, 0)
    positive = dense > 0
    print(json.dumps({
        "fit_seconds_median": statistics.median(runs),
        "fit_seconds_runs": runs,
        # Our fit starts from interactions indexed while reading; this is SAR's fit without step 1.
        "fit_seconds_median_without_index": statistics.median(r - s for r, s in zip(runs, stages["index"])),
        "stage_seconds_median": {k: statistics.median(v) for k, v in stages.items()},
        "read_seconds": read_seconds,
        "rows": int(len(users)),
        "users": int(affinity.shape[0]),
        "items": int(affinity.shape[1]),
        "affinity_nnz": int(affinity.nnz),
        "similarity": a.similarity,
        "similarity_pairs": int(positive.sum()),
        "similarity_sum": float(dense[positive].sum()),
        "similarity_matrix_mib": round(dense.nbytes / 2**20, 1),
        "threshold": a.threshold,
        "half_life_days": a.half_life_days,
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "env": {k: v for k, v in os.environ.items() if k.startswith(("OPENBLAS_", "OMP_", "MKL_"))},
    }))


if __name__ == "__main__":
    main()
