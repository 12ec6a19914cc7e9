# From the Fluoro project's shared reference code (shared/reference/fimae_sc_reference.py), public PyTorch reference written for this project; copied unchanged below this line. "../spec/METHOD.md" is docs/METHOD.md in this repository.
"""PyTorch reference of one FIMAE-SC pretraining step: the numerical and speed yardstick.

It defines, in executable form, the math that the Swift implementation must reproduce
(see ../spec/METHOD.md): tokenisation, sin-cos positions, tube + frame masks, the
encoder, the shared projection, the two decoders and the weighted loss, and AdamW.
Parameter names follow VideoMAE (encoder.blocks.0.attn.qkv.weight, ...), so an exported
encoder loads into VideoMAE-style PyTorch code.

Needs: pip install torch safetensors   (CPU is enough)

  python fimae_sc_reference.py bench [--config bench] [--threads 1] [--steps 10] [--amp]
      times forward+backward+AdamW on random data; prints step_ms and clips_per_s
      (--amp: under torch.autocast bf16, PyTorch's CPU mixed precision).
  python fimae_sc_reference.py fixture OUT.safetensors [--config tiny] [--seed 0]
      writes parameters, inputs, masks, the loss terms, every gradient and the
      parameters after one AdamW step, for a parity test.
"""
import argparse, json, math, statistics, time
import torch, torch.nn as nn, torch.nn.functional as F

CONFIGS = {
    # frames, size, tubelet, patch, enc dim/depth/heads, dec dim/depth/heads, batch, frame-masked slots
    "tiny":  dict(T=4,  S=48,  tt=2, p=8,  D=32,  depth=2, heads=2, Dd=16, ddepth=1, dheads=2, B=2, fslots=1),
    "bench": dict(T=16, S=128, tt=2, p=16, D=192, depth=4, heads=3, Dd=96, ddepth=2, dheads=3, B=4, fslots=2),
    "small": dict(T=16, S=224, tt=2, p=16, D=384, depth=12, heads=6, Dd=192, ddepth=4, dheads=3, B=2, fslots=2),
}
TUBE, FRAME = 0.75, 0.98
W_REC, W_VES = 1.0, 1.0


def sincos_table(n, d):
    """VideoMAE table: angle(pos, j) = pos / 10000^(2*(j//2)/d); sin on even j, cos on odd j."""
    pos = torch.arange(n, dtype=torch.float64)[:, None]
    j = torch.arange(d, dtype=torch.float64)[None]
    ang = pos / torch.pow(10000.0, 2 * torch.div(j, 2, rounding_mode="floor") / d)
    out = torch.empty(n, d, dtype=torch.float64)
    out[:, 0::2] = torch.sin(ang[:, 0::2]); out[:, 1::2] = torch.cos(ang[:, 1::2])
    return out.float()


class Attention(nn.Module):
    def __init__(s, d, h):
        super().__init__(); s.h = h
        s.qkv = nn.Linear(d, 3 * d, bias=False)
        s.q_bias = nn.Parameter(torch.zeros(d)); s.v_bias = nn.Parameter(torch.zeros(d))
        s.proj = nn.Linear(d, d)

    def forward(s, x):
        B, N, D = x.shape
        bias = torch.cat([s.q_bias, torch.zeros_like(s.v_bias), s.v_bias])
        q, k, v = F.linear(x, s.qkv.weight, bias).view(B, N, 3, s.h, D // s.h).permute(2, 0, 3, 1, 4)
        a = F.scaled_dot_product_attention(q, k, v)  # softmax(q k^T / sqrt(D/h)) v
        return s.proj(a.transpose(1, 2).reshape(B, N, D))


class Mlp(nn.Module):
    def __init__(s, d):
        super().__init__(); s.fc1 = nn.Linear(d, 4 * d); s.fc2 = nn.Linear(4 * d, d)

    def forward(s, x):
        return s.fc2(F.gelu(s.fc1(x)))  # exact (erf) GELU


class Block(nn.Module):
    def __init__(s, d, h):
        super().__init__()
        s.norm1 = nn.LayerNorm(d, eps=1e-6); s.attn = Attention(d, h)
        s.norm2 = nn.LayerNorm(d, eps=1e-6); s.mlp = Mlp(d)

    def forward(s, x):
        x = x + s.attn(s.norm1(x))
        return x + s.mlp(s.norm2(x))


class PatchEmbed(nn.Module):
    def __init__(s, tt, p, d):
        super().__init__(); s.proj = nn.Conv3d(1, d, (tt, p, p), stride=(tt, p, p))

    def forward(s, x):  # x: [B, T, H, W] -> [B, N, D], token order (t', h', w')
        return s.proj(x[:, None]).flatten(2).transpose(1, 2)


class Encoder(nn.Module):
    def __init__(s, c):
        super().__init__()
        s.patch_embed = PatchEmbed(c["tt"], c["p"], c["D"])
        s.blocks = nn.ModuleList([Block(c["D"], c["heads"]) for _ in range(c["depth"])])
        s.norm = nn.LayerNorm(c["D"], eps=1e-6)


class Decoder(nn.Module):
    def __init__(s, c):
        super().__init__()
        s.blocks = nn.ModuleList([Block(c["Dd"], c["dheads"]) for _ in range(c["ddepth"])])
        s.norm = nn.LayerNorm(c["Dd"], eps=1e-6)
        s.head = nn.Linear(c["Dd"], c["tt"] * c["p"] * c["p"])

    def forward(s, x):
        for b in s.blocks: x = b(x)
        return s.head(s.norm(x))


class FIMAESC(nn.Module):
    def __init__(s, c):
        super().__init__(); s.c = c
        s.N = (c["T"] // c["tt"]) * (c["S"] // c["p"]) ** 2
        s.encoder = Encoder(c)
        s.encoder_to_decoder = nn.Linear(c["D"], c["Dd"], bias=False)
        s.mask_token = nn.Parameter(torch.zeros(1, 1, c["Dd"]))
        s.vessel_mask_token = nn.Parameter(torch.zeros(1, 1, c["Dd"]))
        s.decoder = Decoder(c); s.vessel_decoder = Decoder(c)
        s.register_buffer("pos", sincos_table(s.N, c["D"]), persistent=False)
        s.register_buffer("dpos", sincos_table(s.N, c["Dd"]), persistent=False)
        for n, prm in s.named_parameters():  # deterministic, VideoMAE-like init
            if n.endswith("mask_token"): nn.init.trunc_normal_(prm, std=0.02)
            elif prm.dim() > 1: nn.init.xavier_uniform_(prm.view(prm.shape[0], -1))
            elif "norm" in n and n.endswith("weight"): nn.init.ones_(prm)
            else: nn.init.normal_(prm, std=0.02)  # biases nonzero so parity tests see them

    def patchify(s, x):  # [B, T, H, W] -> [B, N, tt*p*p], pixel order (dt, dy, dx)
        c = s.c; B, T, H, W = x.shape; tt, p = c["tt"], c["p"]
        x = x.reshape(B, T // tt, tt, H // p, p, W // p, p).permute(0, 1, 3, 5, 2, 4, 6)
        return x.reshape(B, -1, tt * p * p)

    def forward(s, clip, vessel, mask):
        """clip, vessel: [B, T, H, W]; mask: [B, N] bool, True = hidden from the encoder.
        Every row of mask has the same number of True entries."""
        B = clip.shape[0]
        x = s.encoder.patch_embed(clip) + s.pos
        vis = (~mask).nonzero()[:, 1].view(B, -1)          # visible indices, ascending
        x = torch.gather(x, 1, vis[..., None].expand(-1, -1, x.shape[-1]))
        for b in s.encoder.blocks: x = b(x)
        z = s.encoder_to_decoder(s.encoder.norm(x))        # [B, Nv, Dd]
        def decode(dec, tok):
            full = tok.expand(B, s.N, -1).clone()
            full = full.scatter(1, vis[..., None].expand(-1, -1, z.shape[-1]), z.to(full.dtype)) + s.dpos
            return dec(full)                                # [B, N, tt*p*p]
        rec, ves = decode(s.decoder, s.mask_token), decode(s.vessel_decoder, s.vessel_mask_token)
        tok = s.patchify(clip)
        mu = tok.mean(-1, keepdim=True); var = tok.var(-1, keepdim=True, unbiased=True)
        target = (tok - mu) / torch.sqrt(var + 1e-6)       # per-token normalised pixels
        l_rec = ((rec - target) ** 2)[mask].mean()          # masked tokens only
        l_ves = F.binary_cross_entropy_with_logits(ves, s.patchify(vessel))  # all tokens
        return W_REC * l_rec + W_VES * l_ves, l_rec, l_ves


def make_masks(c, B, g):
    """Tube mask: round(0.75*S) spatial cells hidden in every temporal slot, the same cells in
    each slot. Frame mask: fslots slots, drawn at random, instead hide round(0.98*S) cells
    drawn independently. Returns [B, N] bool, True = hidden."""
    slots, S = c["T"] // c["tt"], (c["S"] // c["p"]) ** 2
    m = torch.zeros(B, slots, S, dtype=torch.bool)
    for b in range(B):
        tube = torch.randperm(S, generator=g)[: round(TUBE * S)]
        frames = set(torch.randperm(slots, generator=g)[: c["fslots"]].tolist())
        for t in range(slots):
            cells = torch.randperm(S, generator=g)[: round(FRAME * S)] if t in frames else tube
            m[b, t, cells] = True
    return m.view(B, -1)


def optimizer(model, lr=1.5e-4):
    """AdamW, betas (0.9, 0.95), eps 1e-8, weight decay 0.05 on matrices only
    (no decay for biases, norms, q/v biases and mask tokens), bias-corrected."""
    decay = [p for n, p in model.named_parameters() if p.dim() > 1 and "mask_token" not in n]
    rest = [p for n, p in model.named_parameters() if not (p.dim() > 1 and "mask_token" not in n)]
    return torch.optim.AdamW([{"params": decay, "weight_decay": 0.05}, {"params": rest, "weight_decay": 0.0}],
                             lr=lr, betas=(0.9, 0.95), eps=1e-8)


def bench(a):
    c = CONFIGS[a.config]; torch.set_num_threads(a.threads); torch.manual_seed(0)
    g = torch.Generator().manual_seed(0); m = FIMAESC(c); opt = optimizer(m); B = a.batch or c["B"]
    times = []
    for i in range(a.steps + 2):
        clip = torch.randn(B, c["T"], c["S"], c["S"]); ves = torch.rand(B, c["T"], c["S"], c["S"])
        mask = make_masks(c, B, g)
        t = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=a.amp):  # --amp: bf16 mixed precision
            loss = m(clip, ves, mask)[0]
        opt.zero_grad(set_to_none=True); loss.float().backward(); opt.step()
        if i >= 2: times.append(time.perf_counter() - t)
    med = statistics.median(times)
    print(f"config={a.config} threads={a.threads} batch={B} amp={'bf16' if a.amp else 'off'} params={sum(p.numel() for p in m.parameters())} "
          f"visible={int((~mask[0]).sum())} step_ms={med*1e3:.1f} clips_per_s={B/med:.2f}")


def fixture(a):
    from safetensors.torch import save_file
    c = CONFIGS[a.config]; torch.manual_seed(a.seed); g = torch.Generator().manual_seed(a.seed)
    m = FIMAESC(c); B = c["B"]
    clip = torch.randn(B, c["T"], c["S"], c["S"]); ves = torch.rand(B, c["T"], c["S"], c["S"])
    mask = make_masks(c, B, g)
    out = {"input.clip": clip, "input.vessel": ves, "input.mask": mask.to(torch.uint8)}
    out.update({f"param.{n}": p.detach().clone() for n, p in m.named_parameters()})
    loss, l_rec, l_ves = m(clip, ves, mask); loss.backward()
    out.update({"loss.total": loss.detach().view(1), "loss.rec": l_rec.detach().view(1), "loss.ves": l_ves.detach().view(1)})
    out.update({f"grad.{n}": p.grad.detach().clone() for n, p in m.named_parameters()})
    opt = optimizer(m, lr=1e-3); opt.step()
    out.update({f"after_adamw.{n}": p.detach().clone() for n, p in m.named_parameters()})
    meta = dict(c, tube=TUBE, frame=FRAME, w_rec=W_REC, w_ves=W_VES, lr=1e-3, seed=a.seed)
    save_file({k: v.contiguous() for k, v in out.items()}, a.out, metadata={"config": json.dumps(meta)})
    print(f"wrote {a.out}: {len(out)} tensors, loss={loss.item():.6f}")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(); sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("bench"); b.add_argument("--config", default="bench", choices=CONFIGS)
    b.add_argument("--threads", type=int, default=1); b.add_argument("--steps", type=int, default=10)
    b.add_argument("--batch", type=int, default=0)
    b.add_argument("--amp", action="store_true", help="bf16 autocast (PyTorch's CPU mixed precision)")
    f = sub.add_parser("fixture"); f.add_argument("out"); f.add_argument("--config", default="tiny", choices=CONFIGS)
    f.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(); bench(a) if a.cmd == "bench" else fixture(a)
