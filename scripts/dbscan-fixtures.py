#!/usr/bin/env python3
"""Writes test/fixtures/dbscan-sklearn.json, the reference pul's density clustering is tested against
(test/clustering/density.test.ts reads it; the tests never run Python).

1. "jaccard": seeded clustered features, their k-reciprocal Jaccard distances by a dense numpy port of
   compute_jaccard_distance (SpCL / Cluster-Contrast, faiss_rerank.py: k1 neighbours of the set in itself,
   self first; softmax(-(2 - 2 cos)) weights; local query expansion over k2; 1 - m / (2 - m)), and
   scikit-learn's DBSCAN(metric='precomputed') labels on that dense matrix at several eps / min_samples.
2. "sparse": random sparse symmetric distance matrices (CSR, no diagonal stored) with sklearn's labels,
   where many border points are reachable from two clusters (sklearn's order decides).

Run: python3 scripts/dbscan-fixtures.py   (needs numpy and scikit-learn, e.g. apt install python3-sklearn)
"""
import json
import warnings
import os

import numpy as np
import scipy.sparse as sp
import sklearn
from sklearn.cluster import DBSCAN


def k_reciprocal_neigh(initial_rank, i, k1):
    forward = initial_rank[i, : k1 + 1]
    backward = initial_rank[forward, : k1 + 1]
    fi = np.where(backward == i)[0]
    return forward[fi]


def jaccard_dense(x, k1, k2):
    """compute_jaccard_distance of faiss_rerank.py with an exact search in place of faiss."""
    n = x.shape[0]
    x = x / np.linalg.norm(x, axis=1, keepdims=True)
    d = ((x[:, None, :] - x[None, :, :]) ** 2).sum(-1)
    np.fill_diagonal(d, -1.0)  # self first, as faiss returns it
    initial_rank = np.argsort(d, axis=1, kind="stable")[:, :k1]
    nn_k1 = [k_reciprocal_neigh(initial_rank, i, k1) for i in range(n)]
    nn_k1_half = [k_reciprocal_neigh(initial_rank, i, int(np.around(k1 / 2))) for i in range(n)]
    V = np.zeros((n, n))
    for i in range(n):
        recip = nn_k1[i]
        expansion = recip
        for c in recip:
            cand = nn_k1_half[c]
            if len(np.intersect1d(cand, recip)) > 2 / 3 * len(cand):
                expansion = np.append(expansion, cand)
        expansion = np.unique(expansion)
        dist = 2 - 2 * x[i] @ x[expansion].T
        w = np.exp(-dist - np.max(-dist))
        V[i, expansion] = w / w.sum()
    if k2 != 1:
        V = np.stack([V[initial_rank[i, :k2], :].mean(axis=0) for i in range(n)])
    jaccard = np.zeros((n, n))
    for i in range(n):
        m = np.minimum(V[i][None, :], V).sum(axis=1)
        jaccard[i] = 1 - m / (2 - m)
    jaccard[jaccard < 0] = 0
    return jaccard


def labels_of(matrix, eps, min_samples):
    return DBSCAN(eps=eps, min_samples=min_samples, metric="precomputed").fit_predict(matrix).tolist()


def margin(values, eps):
    return float(np.min(np.abs(values - eps)))


def jaccard_case(rng, n, dim, centres, spread, outliers, k1, k2, settings):
    means = rng.normal(size=(centres, dim)) * spread
    x = means[rng.integers(0, centres, n)] + rng.normal(size=(n, dim))
    x[:outliers] = rng.normal(size=(outliers, dim)) * 2.5 * spread  # scattered rows, likely noise
    x = np.round(x, 6).astype(np.float32)  # the values the JSON holds
    jd = jaccard_dense(x.astype(np.float64), k1, k2)
    rows, cols = np.nonzero(jd < 1)
    runs = []
    for eps, min_samples in settings:
        # the TS side recomputes the distances in other float order: keep eps clear of every distance
        assert margin(jd[jd < 1], eps) > 1e-5, f"a distance lies within 1e-5 of eps={eps}"
        labels = labels_of(jd, eps, min_samples)
        runs.append({"eps": eps, "minPts": min_samples, "labels": labels})
    return {
        "rows": n, "dim": dim, "k1": k1, "k2": k2,
        "features": [float(v) for v in np.round(x.astype(np.float64), 6).ravel()],
        # pairs with distance < 1, row-major (i, j, distance)
        "pairs": [[int(i), int(j), round(float(jd[i, j]), 7)] for i, j in zip(rows, cols)],
        "runs": runs,
    }


def sparse_case(rng, n, radius, settings):
    points = rng.uniform(0, 1, size=(n, 2))
    d = np.sqrt(((points[:, None, :] - points[None, :, :]) ** 2).sum(-1))
    np.fill_diagonal(d, np.inf)
    d = np.round(d, 6)
    mask = d < radius
    rows, cols = np.nonzero(mask)
    matrix = sp.csr_matrix((d[rows, cols], (rows, cols)), shape=(n, n))
    runs = []
    for eps, min_samples in settings:
        runs.append({"eps": eps, "minPts": min_samples, "labels": labels_of(matrix, eps, min_samples)})
    return {"rows": n, "offsets": matrix.indptr.tolist(), "index": matrix.indices.tolist(), "distance": matrix.data.tolist(), "runs": runs}


def main():
    warnings.filterwarnings("ignore", message="Precomputed sparse input was not sorted")
    rng = np.random.default_rng(16)
    out = {
        "generator": "scripts/dbscan-fixtures.py",
        "sklearn": sklearn.__version__,
        "jaccard": [
            jaccard_case(rng, 160, 8, 4, 2.0, 12, 30, 6, [(0.6, 4), (0.52, 4), (0.7, 6), (0.45, 2)]),
            jaccard_case(rng, 90, 6, 4, 1.6, 0, 11, 3, [(0.55, 4), (0.35, 3)]),
        ],
        "sparse": [
            sparse_case(rng, 300, 0.09, [(0.05, 4), (0.06, 6), (0.08, 10), (0.04, 2)]),
        ],
    }
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "dbscan-sklearn.json")
    with open(path, "w") as f:
        json.dump(out, f, separators=(",", ":"))
    for case in out["jaccard"] + out["sparse"]:
        for run in case["runs"]:
            labels = np.array(run["labels"])
            print(f"rows {case['rows']} pairs {len(case.get('pairs', case.get('index')))} eps {run['eps']} minPts {run['minPts']}: {labels.max() + 1} clusters, {(labels < 0).sum()} noise")
    print("wrote", os.path.normpath(path), os.path.getsize(path), "bytes")


if __name__ == "__main__":
    main()
