#!/usr/bin/env python3
"""The kNN baseline of ProbeBenchmarks: DINO's weighted kNN on the same features, in NumPy or PyTorch.

  --impl numpy   rows L2-normalised, then per chunk of 1000 test rows one float32 matrix product,
                 np.argpartition for the k largest similarities, exp(sim / T) votes, class ranking.
  --impl torch   DINO's eval_knn.py knn_classifier as written (100 chunks, torch.mm, topk, one-hot
                 scatter, weighted sum, sort).

Prints one JSON object: median seconds over --repeats (normalisation included), top-1, top-5 and
the process's peak resident memory. The thread count is set for BLAS (the caller also sets
OMP_NUM_THREADS / OPENBLAS_NUM_THREADS) and torch.set_num_threads.

Usage: knn_baseline.py FEATURES.safetensors --impl numpy|torch [--k 20] [--classes 400] [--threads N] [--repeats 5]
"""
import argparse
import json
import resource
import time

import numpy as np
from safetensors.numpy import load_file

T = 0.07


def knn_numpy(xtr, ytr, xte, yte, k, classes, chunk=1000):
    xtr = xtr / np.maximum(np.linalg.norm(xtr, axis=1, keepdims=True), 1e-12)
    xte = xte / np.maximum(np.linalg.norm(xte, axis=1, keepdims=True), 1e-12)
    top1 = top5 = 0
    for s in range(0, len(xte), chunk):
        sims = xte[s:s + chunk] @ xtr.T
        idx = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        weights = np.exp(np.take_along_axis(sims, idx, 1) / T)
        scores = np.zeros((len(idx), classes), np.float32)
        np.add.at(scores, (np.arange(len(idx))[:, None], ytr[idx]), weights)
        ranked = np.argsort(-scores, 1, kind="stable")[:, :5]
        target = yte[s:s + chunk, None]
        top1 += int((ranked[:, :1] == target).sum())
        top5 += int((ranked[:, :min(5, k)] == target).any(1).sum())
    return top1 / len(xte), top5 / len(xte)


def knn_torch(xtr, ytr, xte, yte, k, classes):
    import torch
    import torch.nn.functional as F
    train_features = F.normalize(torch.from_numpy(xtr), dim=1, p=2)
    test_features = F.normalize(torch.from_numpy(xte), dim=1, p=2)
    train_labels, test_labels = torch.from_numpy(ytr), torch.from_numpy(yte)
    # DINO eval_knn.py knn_classifier, unchanged apart from the class count.
    top1, top5, total = 0.0, 0.0, 0
    train_features = train_features.t()
    num_test_images, num_chunks = test_labels.shape[0], 100
    imgs_per_chunk = num_test_images // num_chunks
    retrieval_one_hot = torch.zeros(k, classes)
    for idx in range(0, num_test_images, imgs_per_chunk):
        features = test_features[idx:min((idx + imgs_per_chunk), num_test_images), :]
        targets = test_labels[idx:min((idx + imgs_per_chunk), num_test_images)]
        batch_size = targets.shape[0]
        similarity = torch.mm(features, train_features)
        distances, indices = similarity.topk(k, largest=True, sorted=True)
        candidates = train_labels.view(1, -1).expand(batch_size, -1)
        retrieved_neighbors = torch.gather(candidates, 1, indices)
        retrieval_one_hot.resize_(batch_size * k, classes).zero_()
        retrieval_one_hot.scatter_(1, retrieved_neighbors.view(-1, 1), 1)
        distances_transform = distances.clone().div_(T).exp_()
        probs = torch.sum(torch.mul(retrieval_one_hot.view(batch_size, -1, classes),
                                    distances_transform.view(batch_size, -1, 1)), 1)
        _, predictions = probs.sort(1, True)
        correct = predictions.eq(targets.data.view(-1, 1))
        top1 = top1 + correct.narrow(1, 0, 1).sum().item()
        top5 = top5 + correct.narrow(1, 0, min(5, k)).sum().item()
        total += targets.size(0)
    return top1 / total, top5 / total


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("data")
    parser.add_argument("--impl", choices=["numpy", "torch"], required=True)
    parser.add_argument("--k", type=int, default=20)
    parser.add_argument("--classes", type=int, default=400)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    d = load_file(args.data)
    xtr, ytr = d["train.features"], d["train.labels"]
    xte, yte = d["test.features"], d["test.labels"]
    version = np.__version__
    if args.impl == "torch":
        import torch
        torch.set_num_threads(args.threads)
        version = torch.__version__
        run = lambda: knn_torch(xtr, ytr, xte, yte, args.k, args.classes)
    else:
        run = lambda: knn_numpy(xtr, ytr, xte, yte, args.k, args.classes)
    times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        top1, top5 = run()
        times.append(time.perf_counter() - start)
    print(json.dumps({
        "impl": args.impl, "version": version, "threads": args.threads,
        "seconds": sorted(times)[len(times) // 2], "secondsRuns": times, "top1": top1, "top5": top5,
        "peakResidentMiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }))


if __name__ == "__main__":
    main()
