#!/usr/bin/env python3
"""Reference results of the frozen-feature evaluations (weighted kNN and the ridge probe).

Features: 7 classes, width 32; class means N(0, 1) and rows mean + N(0, 2.5²) (seed below), so
accuracies are well above chance but far from perfect. 300 training rows, 100 test rows, Float32.

kNN (DINO's eval_knn.py, k = 5 and 20, T = 0.07), computed twice and required to agree:
  - NumPy, as DINO: rows L2-normalised, cosine = dot product, the k most similar training rows,
    class score = sum of exp(sim / T) over the neighbours of that class; classes ranked by score;
  - scikit-learn: KNeighborsClassifier(n_neighbors=k, metric='cosine', algorithm='brute',
    weights=lambda d: exp((1 - d) / T)); predict() and predict_proba() ranked.
  Ties are broken as the Swift code does (lower training row, lower class index); the script
  checks that no test row is within 1e-5 of a tie at the k-th neighbour and no two positive class
  scores among the first five are within 1e-4 (relative), so Float32 arithmetic cannot reorder them.

Ridge: sklearn.linear_model.RidgeClassifier(alpha=α, fit_intercept=True) for α = 1 and 100, its
coef_, intercept_ and test predictions, checked against the closed form
(XcᵀXc + αI) W = XcᵀYc, intercept = ȳ − x̄W with Y ∈ {−1, 1}.

Writes Tests/TrainingTests/Fixtures/probes/probe_fixture.safetensors with
  train.features F32 [300, 32], train.labels I64 [300], test.features F32 [100, 32], test.labels I64 [100]
  knn.k{5,20}.ranked   I64 [100, 5]  the first five ranked classes of each test row
  knn.k{5,20}.accuracy F64 [2]       top-1, top-5 (top-5 over the first min(5, k) classes, as DINO)
  ridge.a{1,100}.coef F64 [7, 32], .intercept F64 [7], .predictions I64 [100]

Usage:  python3 Scripts/reference/make_probe_fixtures.py   (numpy, scikit-learn, torch, safetensors)
"""
import os

import numpy as np
import torch
from safetensors.torch import save_file
from sklearn.linear_model import RidgeClassifier
from sklearn.neighbors import KNeighborsClassifier

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "TrainingTests", "Fixtures", "probes",
                   "probe_fixture.safetensors")
SEED = 0
CLASSES, WIDTH, TRAIN, TEST = 7, 32, 300, 100
T = 0.07
KS = (5, 20)
ALPHAS = (1.0, 100.0)


def make_data(rng):
    means = rng.normal(0, 1, (CLASSES, WIDTH))
    def rows(n):
        labels = rng.integers(0, CLASSES, n)
        return (means[labels] + rng.normal(0, 2.5, (n, WIDTH))).astype(np.float32), labels
    return rows(TRAIN), rows(TEST)


def normalised(x):
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


def knn_numpy(xtr, ytr, xte, k):
    sims = normalised(xte) @ normalised(xtr).T
    order = np.argsort(-sims, axis=1, kind="stable")  # equal similarities: lower training row first
    near = order[:, :k]
    sorted_sims = np.take_along_axis(sims, order, axis=1)
    gap = sorted_sims[:, k - 1] - sorted_sims[:, k]
    assert gap.min() > 1e-5, f"k={k}: a test row is within {gap.min():.2e} of a neighbour tie; change SEED"
    scores = np.zeros((len(xte), CLASSES))
    for i in range(len(xte)):
        for j in near[i]:
            scores[i, ytr[j]] += np.exp(sims[i, j] / T)
    return scores


def ranked(scores):
    return np.argsort(-scores, axis=1, kind="stable")  # equal scores: lower class first


def check_score_margins(scores, k):
    for row in scores:
        top = np.sort(row)[::-1][:5]
        top = top[top > 0]
        if len(top) > 1:
            rel = (top[:-1] - top[1:]) / top[:-1]
            assert rel.min() > 1e-4, f"k={k}: two class scores within {rel.min():.2e}; change SEED"


def knn_sklearn(xtr, ytr, xte, k):
    clf = KNeighborsClassifier(n_neighbors=k, metric="cosine", algorithm="brute",
                               weights=lambda d: np.exp((1 - d) / T))
    clf.fit(xtr, ytr)
    assert list(clf.classes_) == list(range(CLASSES))
    return clf.predict(xte), clf.predict_proba(xte)


def ridge_closed_form(xtr, ytr, alpha):
    y = -np.ones((len(ytr), CLASSES))
    y[np.arange(len(ytr)), ytr] = 1
    xm, ym = xtr.mean(0), y.mean(0)
    xc, yc = xtr - xm, y - ym
    w = np.linalg.solve(xc.T @ xc + alpha * np.eye(WIDTH), xc.T @ yc)
    return w.T, ym - xm @ w


def main():
    rng = np.random.default_rng(SEED)
    (xtr, ytr), (xte, yte) = make_data(rng)
    x64tr, x64te = xtr.astype(np.float64), xte.astype(np.float64)
    out = {
        "train.features": torch.from_numpy(xtr), "train.labels": torch.from_numpy(ytr.astype(np.int64)),
        "test.features": torch.from_numpy(xte), "test.labels": torch.from_numpy(yte.astype(np.int64)),
    }
    for k in KS:
        scores = knn_numpy(x64tr, ytr, x64te, k)
        check_score_margins(scores, k)
        order = ranked(scores)
        predicted, proba = knn_sklearn(x64tr, ytr, x64te, k)
        assert (predicted == order[:, 0]).all(), f"k={k}: scikit-learn's predictions differ from NumPy's"
        assert (ranked(proba)[:, :5] == order[:, :5]).all(), f"k={k}: scikit-learn's ranking differs from NumPy's"
        assert np.allclose(proba, scores / scores.sum(1, keepdims=True), rtol=1e-9, atol=1e-12)
        top1 = (order[:, 0] == yte).mean()
        top5 = (order[:, :min(5, k)] == yte[:, None]).any(1).mean()
        print(f"kNN k={k}: top-1 {100 * top1:.1f}%, top-5 {100 * top5:.1f}%")
        out[f"knn.k{k}.ranked"] = torch.from_numpy(order[:, :5].astype(np.int64).copy())
        out[f"knn.k{k}.accuracy"] = torch.tensor([top1, top5], dtype=torch.float64)
    for alpha in ALPHAS:
        clf = RidgeClassifier(alpha=alpha, fit_intercept=True).fit(x64tr, ytr)
        coef, intercept = ridge_closed_form(x64tr, ytr, alpha)
        assert np.allclose(clf.coef_, coef, rtol=1e-9, atol=1e-12), "RidgeClassifier differs from the closed form"
        assert np.allclose(clf.intercept_, intercept, rtol=1e-9, atol=1e-12)
        decision = clf.decision_function(x64te)
        top2 = np.sort(decision, 1)[:, -2:]
        assert (top2[:, 1] - top2[:, 0]).min() > 1e-6, f"alpha={alpha}: a prediction is within 1e-6 of a tie"
        predicted = clf.predict(x64te)
        print(f"ridge alpha={alpha:g}: top-1 {100 * (predicted == yte).mean():.1f}%")
        name = f"ridge.a{alpha:g}"
        out[f"{name}.coef"] = torch.from_numpy(clf.coef_.copy())
        out[f"{name}.intercept"] = torch.from_numpy(clf.intercept_.copy())
        out[f"{name}.predictions"] = torch.from_numpy(predicted.astype(np.int64))
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    save_file(out, OUT, metadata={"script": "Scripts/reference/make_probe_fixtures.py", "seed": str(SEED)})
    print(f"wrote {os.path.normpath(OUT)} ({os.path.getsize(OUT)} bytes)")


if __name__ == "__main__":
    main()
