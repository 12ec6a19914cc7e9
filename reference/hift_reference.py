# From the Fluoro project's shared reference code (shared/reference/hift_reference.py), public PyTorch reference written for this project; copied unchanged below this line. "../spec/METHOD.md" is docs/METHOD.md in this repository.
"""PyTorch reference of the HiFT tracker (METHOD §10): one fine-tuning step, the read-out and the
auto-initialisation detector, in executable form. The numerical and speed yardstick for the
Swift tracker, as fimae_sc_reference.py is for pretraining.

The encoder is FIMAE-SC's (VideoMAE names, `encoder.*`), run over all tokens of a window of W
frames; the queries are the tokens of the current (last) temporal slot; the correlation tokens
are appearance tokens (past slots' features in a 3x3 token window around each past estimate)
and trajectory tokens (each past estimate, quantised and embedded); a cross-attention decoder
relates them; a CNN head upsamples to a crop-sized heatmap; the loss is soft Dice (+ 0.5 x soft
Dice of an auxiliary catheter-body head where masks exist).

Needs: pip install torch safetensors   (CPU is enough)

  python hift_reference.py bench [--config bench] [--threads 1] [--steps 10]
      times one fine-tuning step (batch B) and one tracking step (batch 1, forward + read-out).
  python hift_reference.py fixture OUT.safetensors [--config tiny] [--seed 0]
      writes parameters, inputs, the heatmap logits, the loss terms, every gradient, the
      parameters after one AdamW step, and read-out cases, for a parity test.
"""
import argparse, json, math, os, statistics, sys, time
import torch, torch.nn as nn, torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fimae_sc_reference import Block, Encoder, sincos_table  # noqa: E402  (the same encoder)

CONFIGS = {
    # encoder (as FIMAE-SC) | W window frames, Sc crop, K landmarks, G trajectory bins,
    # Ld decoder blocks, head channels (one per stage: a conv at the token grid, then one per x2 upsampling), B batch
    "tiny":  dict(tt=2, p=8,  D=32,  depth=2, heads=2, W=4, Sc=32,  K=2, G=16, Ld=1, C=[16, 8, 8, 8], B=2),
    "bench": dict(tt=2, p=16, D=192, depth=4, heads=3, W=6, Sc=128, K=2, G=64, Ld=2, C=[64, 32, 16, 8, 8], B=8),
}
SIGMA = 2.0          # target Gaussian, crop pixels
W_CATHETER = 0.5     # auxiliary catheter-body loss weight
APP = 3              # appearance window side, tokens


class CrossAttention(nn.Module):
    """q = LN(x) Wq + q_bias; [k, v] = LN(c) Wkv + [0, v_bias]; proj(softmax(q k^T / sqrt(dh)) v)."""
    def __init__(s, d, h):
        super().__init__(); s.h = h
        s.q = nn.Linear(d, d, bias=False); s.q_bias = nn.Parameter(torch.zeros(d))
        s.kv = nn.Linear(d, 2 * d, bias=False); s.v_bias = nn.Parameter(torch.zeros(d))
        s.proj = nn.Linear(d, d)

    def forward(s, x, c):
        B, Nq, D = x.shape; Nk = c.shape[1]; dh = D // s.h
        q = F.linear(x, s.q.weight, s.q_bias).view(B, Nq, s.h, dh).transpose(1, 2)
        kv = F.linear(c, s.kv.weight, torch.cat([torch.zeros_like(s.v_bias), s.v_bias]))
        k, v = kv.view(B, Nk, 2, s.h, dh).permute(2, 0, 3, 1, 4)
        a = F.scaled_dot_product_attention(q, k, v)
        return s.proj(a.transpose(1, 2).reshape(B, Nq, D))


class MCABlock(nn.Module):
    """x = x + CrossAttn(LN_q(x), LN_kv(c)); x = x + MLP(LN2(x))."""
    def __init__(s, d, h):
        super().__init__()
        s.norm_q = nn.LayerNorm(d, eps=1e-6); s.norm_kv = nn.LayerNorm(d, eps=1e-6)
        s.cross_attn = CrossAttention(d, h)
        s.norm2 = nn.LayerNorm(d, eps=1e-6)
        s.mlp = nn.Module(); s.mlp.fc1 = nn.Linear(d, 4 * d); s.mlp.fc2 = nn.Linear(4 * d, d)

    def forward(s, x, c):
        x = x + s.cross_attn(s.norm_q(x), s.norm_kv(c))
        return x + s.mlp.fc2(F.gelu(s.mlp.fc1(s.norm2(x))))


class HeatmapHead(nn.Module):
    """[B, g*g, D] tokens -> [B, D, g, g] -> conv3x3(D->C0)+ReLU, then per stage: bilinear x2
    (align_corners=False) -> conv3x3(C(i-1)->Ci)+ReLU; finally conv1x1(C_last->1): logits [B, Sc, Sc]."""
    def __init__(s, d, chans, stages):
        super().__init__()
        assert len(chans) == stages + 1, "one channel count for the grid conv and one per upsampling"
        ins = [d] + chans[:-1]
        s.convs = nn.ModuleList([nn.Conv2d(i, o, 3, padding=1) for i, o in zip(ins, chans)])
        s.out = nn.Conv2d(chans[-1], 1, 1)

    def forward(s, tokens, g):
        B, N, D = tokens.shape
        x = tokens.transpose(1, 2).reshape(B, D, g, g)
        for i, conv in enumerate(s.convs):
            if i > 0: x = F.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
            x = F.relu(conv(x))
        return s.out(x)[:, 0]


def init_new(module):
    """Deterministic init of everything outside the encoder: xavier-uniform matrices (conv: over
    [out, in*k*k]), normal(0.02) embeddings and biases (nonzero so parity tests see them), unit norms."""
    for n, prm in module.named_parameters():
        if n.startswith("encoder."): continue
        if "norm" in n and n.endswith("weight"): nn.init.ones_(prm)
        elif n.startswith("correlation.") or prm.dim() == 1: nn.init.normal_(prm, std=0.02)
        else: nn.init.xavier_uniform_(prm.view(prm.shape[0], -1))


class HiFT(nn.Module):
    def __init__(s, c):
        super().__init__(); s.c = c
        s.g = c["Sc"] // c["p"]; s.slots = c["W"] // c["tt"]
        s.stages = int(round(math.log2(c["p"])))
        enc = dict(tt=c["tt"], p=c["p"], D=c["D"], depth=c["depth"], heads=c["heads"])
        s.encoder = Encoder(enc)
        s.register_buffer("pos", sincos_table(s.slots * s.g * s.g, c["D"]), persistent=False)
        D, K, G, W = c["D"], c["K"], c["G"], c["W"]
        s.correlation = nn.Module()
        s.correlation.traj_x = nn.Parameter(torch.zeros(G + 1, D))   # index G: no estimate
        s.correlation.traj_y = nn.Parameter(torch.zeros(G + 1, D))
        s.correlation.landmark = nn.Parameter(torch.zeros(K, D))
        s.correlation.age = nn.Parameter(torch.zeros(W - 1, D))      # frames back, 1..W-1
        s.correlation.cell = nn.Parameter(torch.zeros(APP * APP, D))  # place in the appearance window
        s.correlation.kind = nn.Parameter(torch.zeros(2, D))          # 0 appearance, 1 trajectory
        s.decoder = nn.Module()
        s.decoder.blocks = nn.ModuleList([MCABlock(D, c["heads"]) for _ in range(c["Ld"])])
        s.decoder.norm = nn.LayerNorm(D, eps=1e-6)
        s.heatmap_head = HeatmapHead(D, c["C"], s.stages)
        s.catheter_head = HeatmapHead(D, c["C"], s.stages)
        for n, prm in s.encoder.named_parameters():  # as FIMAE-SC's init (a run loads the export instead)
            if prm.dim() > 1: nn.init.xavier_uniform_(prm.view(prm.shape[0], -1))
            elif "norm" in n and n.endswith("weight"): nn.init.ones_(prm)
            else: nn.init.normal_(prm, std=0.02)
        init_new(s)

    def encode(s, window):
        """window: [B, W, Sc, Sc], standardised -> features [B, slots, g, g, D] (final LayerNorm)."""
        x = s.encoder.patch_embed(window) + s.pos
        for b in s.encoder.blocks: x = b(x)
        x = s.encoder.norm(x)
        return x.view(window.shape[0], s.slots, s.g, s.g, -1)

    def correlation_tokens(s, feats, past):
        """feats: [B, slots, g, g, D]; past: [B, W-1, K, 2] (x, y) crop pixels of frames t-W+1..t-1
        (NaN = no estimate). Returns [B, (slots-1)*K*9 + (W-1)*K, D]: appearance then trajectory,
        each ordered (slot or frame, landmark, cell)."""
        c, cr = s.c, s.correlation; B, W, K, G, p, tt = feats.shape[0], c["W"], c["K"], c["G"], c["p"], c["tt"]
        toks = []
        for sl in range(s.slots - 1):            # past slots only; the current slot holds the queries
            f = tt * sl + tt - 1                  # the slot's last frame, index in past[:, f]
            back = W - 1 - f                      # frames back from the current frame
            for k in range(K):
                xy = torch.nan_to_num(past[:, f, k], nan=c["Sc"] / 2)
                cx = torch.clamp(torch.floor(xy[:, 0] / p).long(), 1, s.g - 2)
                cy = torch.clamp(torch.floor(xy[:, 1] / p).long(), 1, s.g - 2)
                for i in range(APP * APP):
                    dy, dx = i // APP - 1, i % APP - 1
                    t = feats[torch.arange(B), sl, cy + dy, cx + dx]          # [B, D]
                    toks.append(t + cr.cell[i] + cr.landmark[k] + cr.age[back - 1] + cr.kind[0])
        for f in range(W - 1):
            back = W - 1 - f
            for k in range(K):
                xy = past[:, f, k]; missing = torch.isnan(xy).any(-1)
                q = torch.clamp(torch.floor(torch.nan_to_num(xy, nan=0.0) / c["Sc"] * G).long(), 0, G - 1)
                qx = torch.where(missing, G, q[:, 0]); qy = torch.where(missing, G, q[:, 1])
                toks.append(cr.traj_x[qx] + cr.traj_y[qy] + cr.landmark[k] + cr.age[back - 1] + cr.kind[1])
        return torch.stack(toks, 1)

    def forward(s, window, past):
        """-> heatmap logits [B, Sc, Sc], catheter-mask logits [B, Sc, Sc]."""
        feats = s.encode(window)
        x = feats[:, -1].reshape(feats.shape[0], s.g * s.g, -1)  # queries: the current slot
        cor = s.correlation_tokens(feats, past)
        for b in s.decoder.blocks: x = b(x, cor)
        x = s.decoder.norm(x)
        return s.heatmap_head(x, s.g), s.catheter_head(x, s.g)


def soft_dice(logits, target):
    """Per sample 1 - (2 sum(p g) + 1) / (sum p + sum g + 1), p = sigmoid(logits); [B]."""
    p = torch.sigmoid(logits).flatten(1); g = target.flatten(1)
    return 1 - (2 * (p * g).sum(1) + 1) / (p.sum(1) + g.sum(1) + 1)


def gaussian_targets(points, size, sigma=SIGMA):
    """points: [B, K, 2] (x, y) pixels -> [B, size, size], the max over landmarks of
    exp(-((u-x)^2 + (v-y)^2) / (2 sigma^2)) at pixel centres u, v = 0, 1, ..."""
    u = torch.arange(size, dtype=torch.float32)
    dx = (u[None, None, None, :] - points[..., 0, None, None]) ** 2
    dy = (u[None, None, :, None] - points[..., 1, None, None]) ** 2
    return torch.exp(-(dx + dy) / (2 * sigma * sigma)).amax(1)


def loss_fn(heat, cath, target, mask, has_mask):
    """Soft Dice of the heatmap (mean over the batch) + 0.5 x soft Dice of the catheter mask
    (mean over the samples that have one; 0 when none has)."""
    l_heat = soft_dice(heat, target).mean()
    n = has_mask.sum()
    l_cath = (soft_dice(cath, mask) * has_mask).sum() / n if n > 0 else heat.new_zeros(())
    return l_heat + W_CATHETER * l_cath, l_heat, l_cath


def read_out(heat_logits, K, threshold=0.5):
    """The K landmarks of one heatmap (METHOD §10): sigmoid, pixels > threshold, 8-connected
    components; the K components with the highest peak, strongest first; each landmark is the
    probability-weighted centroid of the 5x5 window around its component's peak (clipped at the
    border); ties between peaks go to the smaller (y, x). If fewer than K components pass, the threshold halves (down to 1/64 of it), then the
    rest are missing (None). Returns [(x, y) or None] * K, in pixels."""
    p = torch.sigmoid(heat_logits.detach().double()).tolist()
    H, Wd = len(p), len(p[0]); t = threshold
    while True:
        seen = [[False] * Wd for _ in range(H)]; comps = []
        for y0 in range(H):
            for x0 in range(Wd):
                if seen[y0][x0] or p[y0][x0] <= t: continue
                stack = [(y0, x0)]; seen[y0][x0] = True; best = (p[y0][x0], y0, x0)
                while stack:
                    y, x = stack.pop()
                    if p[y][x] > best[0]: best = (p[y][x], y, x)
                    for dy in (-1, 0, 1):
                        for dx in (-1, 0, 1):
                            v, u = y + dy, x + dx
                            if 0 <= v < H and 0 <= u < Wd and not seen[v][u] and p[v][u] > t:
                                seen[v][u] = True; stack.append((v, u))
                comps.append(best)
        if len(comps) >= K or t <= threshold / 64: break
        t /= 2
    comps.sort(key=lambda b: (-b[0], b[1], b[2])); out = []
    for _, y, x in comps[:K]:
        sw = sx = sy = 0.0
        for v in range(max(0, y - 2), min(H, y + 3)):
            for u in range(max(0, x - 2), min(Wd, x + 3)):
                sw += p[v][u]; sx += p[v][u] * u; sy += p[v][u] * v
        out.append((sx / sw, sy / sw))
    return out + [None] * (K - len(out))


class Detector(nn.Module):
    """Automatic initialisation: the encoder over the first frame resized to Sc x Sc and repeated
    tt times, all tokens, final LayerNorm, then a HeatmapHead (`detector_head.*`) -> logits [B, Sc, Sc];
    trained with the same soft Dice on Gaussian targets (sigma scaled by Sc / frame side)."""
    def __init__(s, c):
        super().__init__(); s.c = c; s.g = c["Sc"] // c["p"]
        enc = dict(tt=c["tt"], p=c["p"], D=c["D"], depth=c["depth"], heads=c["heads"])
        s.encoder = Encoder(enc)
        s.register_buffer("pos", sincos_table(s.g * s.g, c["D"]), persistent=False)
        s.detector_head = HeatmapHead(c["D"], c["C"], int(round(math.log2(c["p"]))))
        for n, prm in s.encoder.named_parameters():
            if prm.dim() > 1: nn.init.xavier_uniform_(prm.view(prm.shape[0], -1))
            elif "norm" in n and n.endswith("weight"): nn.init.ones_(prm)
            else: nn.init.normal_(prm, std=0.02)
        init_new(s)

    def forward(s, frame):  # frame: [B, Sc, Sc], standardised
        x = s.encoder.patch_embed(frame[:, None].expand(-1, s.c["tt"], -1, -1)) + s.pos
        for b in s.encoder.blocks: x = b(x)
        return s.detector_head(s.encoder.norm(x), s.g)


def optimizer(model, lr=2e-4):
    """AdamW with pretraining's betas (0.9, 0.95), eps 1e-8, lr 2e-4 (the paper's); weight decay
    0.05 on linear and conv weights only (not on biases, norms, q/v biases or the correlation embeddings)."""
    def decays(n, p): return p.dim() > 1 and not n.startswith("correlation.")
    decay = [p for n, p in model.named_parameters() if decays(n, p)]
    rest = [p for n, p in model.named_parameters() if not decays(n, p)]
    return torch.optim.AdamW([{"params": decay, "weight_decay": 0.05}, {"params": rest, "weight_decay": 0.0}],
                             lr=lr, betas=(0.9, 0.95), eps=1e-8)


def random_inputs(c, B, g):
    """A batch: standardised windows, past estimates drifting from a start point, the current
    frame's landmarks near the last ones, Gaussian targets, catheter masks on half the samples."""
    W, Sc, K = c["W"], c["Sc"], c["K"]
    window = torch.randn(B, W, Sc, Sc, generator=g)
    start = Sc * 0.25 + Sc * 0.5 * torch.rand(B, 1, K, 2, generator=g)
    steps = torch.randn(B, W, K, 2, generator=g).cumsum(1)
    pts = (start + steps).clamp(1, Sc - 2)
    past, now = pts[:, :W - 1], pts[:, W - 1]
    target = gaussian_targets(now, Sc)
    mask = (torch.rand(B, Sc, Sc, generator=g) > 0.8).float()
    has_mask = (torch.arange(B) % 2 == 0).float()
    return window, past, now, target, mask, has_mask


def bench(a):
    c = CONFIGS[a.config]; torch.set_num_threads(a.threads); torch.manual_seed(0)
    g = torch.Generator().manual_seed(0); m = HiFT(c); opt = optimizer(m); B = a.batch or c["B"]
    times = []
    for i in range(a.steps + 2):
        window, past, _, target, mask, has_mask = random_inputs(c, B, g)
        t = time.perf_counter()
        heat, cath = m(window, past); loss = loss_fn(heat, cath, target, mask, has_mask)[0]
        opt.zero_grad(set_to_none=True); loss.backward(); opt.step()
        if i >= 2: times.append(time.perf_counter() - t)
    train = statistics.median(times); times = []
    with torch.no_grad():
        for i in range(a.steps + 2):
            window, past = random_inputs(c, 1, g)[:2]
            t = time.perf_counter(); heat, _ = m(window, past); read_out(heat[0], c["K"])
            if i >= 2: times.append(time.perf_counter() - t)
    track = statistics.median(times)
    print(f"config={a.config} threads={a.threads} batch={B} params={sum(p.numel() for p in m.parameters())} "
          f"train_step_ms={train*1e3:.1f} train_windows_per_s={B/train:.2f} track_ms={track*1e3:.2f} track_fps={1/track:.1f}")


def tt_last(c):
    """Index in `past` of the first past slot's last frame (whose estimate centres its appearance window)."""
    return c["tt"] - 1


def fixture(a):
    from safetensors.torch import save_file
    c = CONFIGS[a.config]; torch.manual_seed(a.seed); g = torch.Generator().manual_seed(a.seed)
    m = HiFT(c); B = c["B"]
    window, past, now, target, mask, has_mask = random_inputs(c, B, g)
    past[-1, 0, 0] = float("nan")  # missing past estimates: the "no estimate" bin (frame 0) and
    past[0, tt_last(c), 1] = float("nan")  # the appearance window's fallback centre (a past slot's last frame)
    out = {"input.window": window, "input.past": past, "input.now": now, "input.target": target,
           "input.catheter": mask, "input.has_catheter": has_mask}
    out.update({f"param.{n}": p.detach().clone() for n, p in m.named_parameters()})
    heat, cath = m(window, past)
    loss, l_heat, l_cath = loss_fn(heat, cath, target, mask, has_mask); loss.backward()
    out.update({"output.heatmap": heat.detach(), "output.catheter": cath.detach(),
                "loss.total": loss.detach().view(1), "loss.heatmap": l_heat.detach().view(1),
                "loss.catheter": l_cath.detach().view(1)})
    out.update({f"grad.{n}": p.grad.detach().clone() for n, p in m.named_parameters()})
    opt = optimizer(m, lr=1e-3); opt.step()
    out.update({f"after_adamw.{n}": p.detach().clone() for n, p in m.named_parameters()})
    # read-out cases: heatmaps with K (and fewer) bumps, and the landmarks the read-out returns
    cases = []
    for i in range(4):
        pts = c["Sc"] * 0.15 + c["Sc"] * 0.7 * torch.rand(1, c["K"], 2, generator=g)
        h = gaussian_targets(pts, c["Sc"], sigma=1.5)[0] * (1 - 0.3 * torch.rand(1, generator=g))
        if i == 3: h = gaussian_targets(pts[:, :1], c["Sc"], sigma=1.5)[0] * 0.3  # weak, one bump: threshold halves
        logits = torch.logit(h.clamp(1e-4, 1 - 1e-4))
        r = read_out(logits, c["K"])
        out[f"readout.{i}.logits"] = logits
        out[f"readout.{i}.points"] = torch.tensor([[float("nan")] * 2 if q is None else list(q) for q in r])
    meta = dict(c, sigma=SIGMA, w_catheter=W_CATHETER, app=APP, lr=1e-3, seed=a.seed)
    save_file({k: v.contiguous() for k, v in out.items()}, a.out, metadata={"config": json.dumps(meta)})
    print(f"wrote {a.out}: {len(out)} tensors, loss={loss.item():.6f} (heatmap {l_heat.item():.6f}, catheter {l_cath.item():.6f})")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(); sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("bench"); b.add_argument("--config", default="bench", choices=CONFIGS)
    b.add_argument("--threads", type=int, default=1); b.add_argument("--steps", type=int, default=10)
    b.add_argument("--batch", type=int, default=0)
    f = sub.add_parser("fixture"); f.add_argument("out"); f.add_argument("--config", default="tiny", choices=CONFIGS)
    f.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(); bench(a) if a.cmd == "bench" else fixture(a)
