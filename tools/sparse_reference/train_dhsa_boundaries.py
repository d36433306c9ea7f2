"""Train DHSA's boundary predictor on recall-lm's layer-0 keys; write
public/models/recall-lm/calibration/dhsa-boundary-predictor.json.

    /usr/bin/python3 tools/sparse_reference/train_dhsa_boundaries.py [--steps 1500] [--seed 0]

Follows legacy/boundary_predictor/train.py + loss.py of xiongsiheng/DHSA, scaled down:
  labels   label_boundaries' ratio (dhsa.label_ratios: head-averaged softmax attention of layer 0, w = 4,
           smooth_ends), clamped to >= 1, soft label sigmoid(2 (log r - log 2)), binarised at 0.5 (so: r >= 2);
           loss mask t in [2w - 1, T - 2w)
  loss     focal BCE, gamma 2, pos_weight 1.3, mean over the mask
  model    dhsa.BoundaryPredictor (BoundarySimilarityAttn with a C -> E input projection [ours]), E = 32, 4 heads,
           MLP hidden 64 (theirs: E = C = 1024, hidden 256)
  optimiser Adam; theirs lr 1e-4 for 2 epochs of long documents, ours lr 1e-3 (cosine to 0) on generated text
  data     needle haystacks from tools/recall_lm_data.py (lengths 256-1024, seed 20261202; eval.json uses 1024)
At inference the logits go through the same selection as the training-free rule, with theta = 1.1 (the authors'
`dhsa_boundary_ratio_theta`, applied to logits) instead of 0.
"""
import argparse
import json
import os
import random
import sys
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, '..'))

import common  # noqa: E402
import dhsa  # noqa: E402
import recall_lm_data as data  # noqa: E402

OUT = common.MODEL_DIR / 'calibration' / 'dhsa-boundary-predictor.json'
W = 4
THETA = 1.1


def make_example(rng):
    length = rng.choice([256, 384, 512, 640, 768, 896, 1024])
    text, _, _ = data.haystack(rng, length, data.needle_count(length), 1, depth=rng.random())
    qkv, _ = common.recall_lm_qkv(text)
    _, heads, d = common.model_shape()
    c = heads * d
    q, k, _ = dhsa.heads64(qkv[0], heads)
    ratios = dhsa.label_ratios(q, k, W)
    ratios = ratios.clamp(min=1.0)
    soft = torch.sigmoid(2.0 * (torch.log(ratios + 1e-6) - torch.log(torch.tensor(2.0 + 1e-6, dtype=torch.float64))))
    target = (soft >= 0.5).to(torch.float32)
    mask = torch.zeros(length, dtype=torch.bool)
    mask[2 * W - 1: length - 2 * W] = True
    return {'feat': qkv[0][:, c:2 * c].clone(), 'target': target, 'mask': mask, 'ratios': ratios}


def focal_bce(logits, targets, mask, pos_weight=1.3, gamma=2.0):
    bce = torch.nn.functional.binary_cross_entropy_with_logits(
        logits, targets, pos_weight=torch.tensor(pos_weight), reduction='none')
    p = torch.sigmoid(logits)
    p_t = p * targets + (1 - p) * (1 - targets)
    loss = (1 - p_t).pow(gamma) * bce * mask.float()
    return loss.sum() / mask.float().sum().clamp_min(1.0)


def metrics(model, examples):
    tp = fp = fn = 0
    overlap = []
    hit = []
    with torch.no_grad():
        for ex in examples:
            logits = model(ex['feat'])
            m = ex['mask']
            pred = (torch.sigmoid(logits) >= 0.5) & m
            tgt = ex['target'].bool() & m
            tp += int((pred & tgt).sum())
            fp += int((pred & ~tgt).sum())
            fn += int((~pred & tgt).sum())
            # top-k overlap (metrics.topk_overlap): k = number of positives, ranking by logit vs by ratio
            kk = max(1, int(tgt.sum()))
            idx = torch.nonzero(m).squeeze(-1)
            top_l = set(idx[torch.topk(logits[idx], min(kk, idx.numel())).indices].tolist())
            top_r = set(idx[torch.topk(ex['ratios'][idx], min(kk, idx.numel())).indices].tolist())
            overlap.append(len(top_l & top_r) / kk)
            # boundaries chosen by the predictor vs by the attention labels (both through Step A's selection)
            t_len = logits.shape[0]
            params = dict(dhsa.DEFAULT_PARAMS)
            b_pred = set(dhsa.boundaries_from_keys(ex['feat'], params, predictor=model)[1:-1])
            z_lab = ex['ratios'].clone()
            z_lab[~m] = -100.0
            n_chunks = (t_len // params['queryBlock']) * params['chunkMultiplier']
            b_lab = set(dhsa.select_boundaries(z_lab, n_chunks, params['nmsWindow'], params['tailTokens'],
                                               THETA)[1:-1])
            hit.append(len(b_pred & b_lab) / max(1, len(b_lab)))
    prec = tp / max(1, tp + fp)
    rec = tp / max(1, tp + fn)
    f1 = 2 * prec * rec / max(1e-12, prec + rec)
    return {'precision': round(prec, 4), 'recall': round(rec, 4), 'f1': round(f1, 4),
            'topkOverlap': round(sum(overlap) / len(overlap), 4),
            'boundaryAgreement': round(sum(hit) / len(hit), 4)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--steps', type=int, default=1500)
    ap.add_argument('--train', type=int, default=192, help='training sequences')
    ap.add_argument('--val', type=int, default=32, help='validation sequences')
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--lr', type=float, default=1e-3)
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
    rng = random.Random(20261202)
    t0 = time.time()
    train_set = [make_example(rng) for _ in range(args.train)]
    val_set = [make_example(rng) for _ in range(args.val)]
    pos = sum(float((e['target'] * e['mask']).sum()) for e in train_set)
    tot = sum(float(e['mask'].sum()) for e in train_set)
    print(f'data: {args.train} + {args.val} sequences, positive rate {pos / tot:.4f} ({time.time() - t0:.1f} s)')

    _, heads, d = common.model_shape()
    model = dhsa.BoundaryPredictor(heads * d, width=32, heads=4, hidden=64, window=W)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, args.steps)
    order = list(range(len(train_set)))
    for step in range(args.steps):
        if step % len(order) == 0:
            random.Random(args.seed + step).shuffle(order)
        batch = [train_set[order[(step * 4 + j) % len(order)]] for j in range(4)]
        opt.zero_grad()
        loss = sum(focal_bce(model(ex['feat']), ex['target'], ex['mask']) for ex in batch) / len(batch)
        loss.backward()
        opt.step()
        sched.step()
        if (step + 1) % 250 == 0 or step == 0:
            print(f'step {step + 1:5d} loss {loss.item():.4f}')
    model.eval()
    train_m = metrics(model, train_set[:32])
    val_m = metrics(model, val_set)
    print('train', train_m)
    print('val  ', val_m)

    # a small golden check for other implementations: 64 tokens of layer-0 keys and their logits
    check_feat = val_set[0]['feat'][:64].contiguous()
    with torch.no_grad():
        check_logits = model(check_feat)
    obj = {
        'format': 'dhsa-boundary-predictor v1',
        'definition': 'tools/sparse_reference/dhsa.py::BoundaryPredictor (legacy/boundary_predictor/models.py::'
                      'BoundarySimilarityAttn with a C -> E input projection); torch state_dict names and layouts '
                      '(Linear weight [out, in]; mha.in_proj_weight [3E, E] = q, k, v rows; LayerNorm eps 1e-5)',
        'features': 'recall-lm layer-0 keys, all heads concatenated: the k part (columns C..2C-1) of the qkv rows',
        'theta': THETA,
        'flopsPerToken': model.flops_per_token(),
        'training': {'script': 'tools/sparse_reference/train_dhsa_boundaries.py', 'steps': args.steps,
                     'trainSequences': args.train, 'valSequences': args.val, 'lr': args.lr, 'seed': args.seed,
                     'positiveRate': round(pos / tot, 4), 'train': train_m, 'val': val_m},
        **dhsa.predictor_to_json(model),
        'check': {'tokens': 64, 'keys': common.b64_f32(check_feat), 'logits': common.b64_f32(check_logits)},
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(obj, separators=(',', ':')) + '\n')
    params = sum(p.numel() for p in model.parameters())
    print(f'wrote {OUT.relative_to(common.REPO)}: {OUT.stat().st_size} bytes, {params} parameters, '
          f'{obj["flopsPerToken"]} FLOPs/token ({time.time() - t0:.0f} s)')


if __name__ == '__main__':
    main()
