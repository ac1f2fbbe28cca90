"""Times implicit's CosineRecommender fit on a user x item matrix written by parallel-speed.ts.

    PYTHONPATH=../shared/peers/implicit-0.7.3 OPENBLAS_NUM_THREADS=1 /usr/bin/python3 \
        benchmarks/implicit-itemknn-fit.py DIR --threads 1 --k 50

DIR holds meta.json (nRows, nCols) and indptr.i32, indices.i32, values.f32 (raw little-endian).
Prints one JSON line: {"fitSeconds": ..., "cpuSeconds": ... (all threads), "neighbours": ...}.
"""
import argparse
import json
import os
import time

import numpy as np
import scipy.sparse as sp
from implicit.nearest_neighbours import CosineRecommender

parser = argparse.ArgumentParser()
parser.add_argument("dir")
parser.add_argument("--threads", type=int, required=True)
parser.add_argument("--k", type=int, default=50)
args = parser.parse_args()

with open(os.path.join(args.dir, "meta.json")) as f:
    meta = json.load(f)
indptr = np.fromfile(os.path.join(args.dir, "indptr.i32"), dtype="<i4")
indices = np.fromfile(os.path.join(args.dir, "indices.i32"), dtype="<i4")
values = np.fromfile(os.path.join(args.dir, "values.f32"), dtype="<f4")
user_items = sp.csr_matrix((values, indices, indptr), shape=(meta["nRows"], meta["nCols"]))

model = CosineRecommender(K=args.k, num_threads=args.threads)
t0 = time.perf_counter()
c0 = time.process_time()
model.fit(user_items, show_progress=False)
seconds = time.perf_counter() - t0
cpu = time.process_time() - c0
print(json.dumps({"fitSeconds": seconds, "cpuSeconds": cpu, "neighbours": int(model.similarity.nnz)}))
