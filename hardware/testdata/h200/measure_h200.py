#!/usr/bin/env python3
"""Measure achievable ceilings and Llama-3.1-8B-shaped step times on one GPU with PyTorch.

Writes CSV files to the directory given as argv[1] (default "."):
  gemm.csv      dtype,m,n,k,ms,tflops          (CUDA-graph replay of 20 GEMMs rotating over >L2 weights)
  copy.csv      bytes,ms,gb_s_rw               (device-to-device copy; bytes read + written / time)
  launch.csv    mode,us_per_kernel             (eager launch vs CUDA-graph replay of a 1-element add)
  steps.csv     model,gpu,tp,weight_dtype,phase,batch,tokens,ms   (roofline's steps.csv format)
  env.txt       torch/CUDA versions, device name, clocks
Each section is independent: a failure in one is logged to errors.txt and the rest still runs.
Steps are a plain PyTorch Llama-3.1-8B-shaped forward (hidden 4096, 32 layers, 32 q heads, 8 kv heads,
head_dim 128, intermediate 14336, vocab 128256) with random weights, captured in a CUDA graph (as engines
run decode): RMSNorm, QKV GEMM, RoPE-free attention via scaled_dot_product_attention over a dense KV cache,
O GEMM, RMSNorm, gate_up GEMM, SiLU*mul, down GEMM, final norm and lm_head on the last token of each
sequence. No paged attention, no fused kernels: a lower bound on what an engine's kernels achieve.
"""
import os, sys, time, traceback
import torch
import torch.nn.functional as F

OUT = sys.argv[1] if len(sys.argv) > 1 else "."
os.makedirs(OUT, exist_ok=True)
dev = torch.device("cuda")
T0 = time.time()
BUDGET_S = float(os.environ.get("BUDGET_S", "330"))


def log_err(section):
    with open(os.path.join(OUT, "errors.txt"), "a") as f:
        f.write(f"== {section}\n{traceback.format_exc()}\n")


def time_graph(fn, reps=5, inner=1):
    """Capture fn in a CUDA graph, replay reps times, return median ms per call of fn."""
    s = torch.cuda.Stream()
    s.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(s):
        for _ in range(2):
            fn()
    torch.cuda.current_stream().wait_stream(s)
    torch.cuda.synchronize()
    g = torch.cuda.CUDAGraph()
    with torch.cuda.graph(g):
        fn()
    g.replay()
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        a = torch.cuda.Event(enable_timing=True)
        b = torch.cuda.Event(enable_timing=True)
        a.record()
        g.replay()
        b.record()
        b.synchronize()
        times.append(a.elapsed_time(b))
    times.sort()
    del g
    return times[len(times) // 2] / inner


def env():
    p = torch.cuda.get_device_properties(0)
    with open(os.path.join(OUT, "env.txt"), "w") as f:
        f.write(f"torch {torch.__version__} cuda {torch.version.cuda}\n")
        f.write(f"device {p.name} sms {p.multi_processor_count} mem {p.total_memory}\n")
        f.write(os.popen("nvidia-smi --query-gpu=name,driver_version,clocks.max.sm,clocks.max.mem,power.limit --format=csv").read())


def gemm():
    rows = ["dtype,m,n,k,ms,tflops"]
    shapes = [(6144, 4096), (4096, 4096), (28672, 4096), (4096, 14336), (8192, 8192)]  # (n, k)
    ms_list = [1, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192]
    inner = 20
    for dtype in ["bf16", "fp8"]:
        for (n, k) in shapes:
            wbytes = n * k * (2 if dtype == "bf16" else 1)
            copies = max(2, int(2 * 256e6 // wbytes) + 1)  # rotate over >= 256 MB so L2 (60 MB) does not serve weights
            copies = min(copies, inner)
            if dtype == "bf16":
                ws = [torch.randn(n, k, device=dev, dtype=torch.bfloat16) for _ in range(copies)]
            else:
                ws = [torch.randn(n, k, device=dev, dtype=torch.bfloat16).to(torch.float8_e4m3fn) for _ in range(copies)]
                one = torch.ones((), device=dev, dtype=torch.float32)
            for m in ms_list:
                if time.time() - T0 > BUDGET_S * 0.3:
                    break
                mm = m
                if dtype == "fp8" and m % 16:
                    mm = 16  # _scaled_mm needs multiples of 16; record the padded M
                x = torch.randn(mm, k, device=dev, dtype=torch.bfloat16)
                if dtype == "bf16":
                    def fn():
                        for i in range(inner):
                            torch.mm(x, ws[i % copies].t())
                else:
                    xq = x.to(torch.float8_e4m3fn)
                    def fn():
                        for i in range(inner):
                            torch._scaled_mm(xq, ws[i % copies].t(), scale_a=one, scale_b=one, out_dtype=torch.bfloat16)
                ms = time_graph(fn, inner=inner)
                tflops = 2 * mm * n * k / (ms * 1e-3) / 1e12
                rows.append(f"{dtype},{mm},{n},{k},{ms:.5f},{tflops:.2f}")
            del ws
            torch.cuda.empty_cache()
    with open(os.path.join(OUT, "gemm.csv"), "w") as f:
        f.write("\n".join(rows) + "\n")


def copy():
    rows = ["bytes,ms,gb_s_rw"]
    for nbytes in [64 << 20, 256 << 20, 1 << 30, 4 << 30]:
        a = torch.empty(nbytes, dtype=torch.uint8, device=dev)
        b = torch.empty_like(a)
        ms = time_graph(lambda: b.copy_(a), reps=7)
        rows.append(f"{nbytes},{ms:.5f},{2 * nbytes / (ms * 1e-3) / 1e9:.1f}")
        del a, b
    torch.cuda.empty_cache()
    with open(os.path.join(OUT, "copy.csv"), "w") as f:
        f.write("\n".join(rows) + "\n")


def launch():
    rows = ["mode,us_per_kernel"]
    x = torch.zeros(1, device=dev)
    n = 2000
    for _ in range(200):
        x.add_(1)
    torch.cuda.synchronize()
    t = time.perf_counter()
    for _ in range(n):
        x.add_(1)
    torch.cuda.synchronize()
    rows.append(f"eager,{(time.perf_counter() - t) / n * 1e6:.3f}")
    def fn():
        for _ in range(500):
            x.add_(1)
    ms = time_graph(fn, reps=7, inner=500)
    rows.append(f"graph,{ms * 1e3:.3f}")
    with open(os.path.join(OUT, "launch.csv"), "w") as f:
        f.write("\n".join(rows) + "\n")


class Llama8B:
    H, L, NQ, NKV, D, I, V = 4096, 32, 32, 8, 128, 14336, 128256
    NAME = "meta-llama/Llama-3.1-8B-Instruct"

    def __init__(self, fp8=False):
        c = self
        self.fp8 = fp8
        def w(n, k):
            t = torch.randn(n, k, device=dev, dtype=torch.bfloat16) * 0.02
            return t.to(torch.float8_e4m3fn) if fp8 else t
        self.layers = []
        for _ in range(c.L):
            self.layers.append(dict(
                qkv=w((c.NQ + 2 * c.NKV) * c.D, c.H), o=w(c.H, c.NQ * c.D),
                gu=w(2 * c.I, c.H), down=w(c.H, c.I),
                n1=torch.ones(c.H, device=dev, dtype=torch.bfloat16), n2=torch.ones(c.H, device=dev, dtype=torch.bfloat16)))
        self.head = torch.randn(c.V, c.H, device=dev, dtype=torch.bfloat16) * 0.02
        self.nf = torch.ones(c.H, device=dev, dtype=torch.bfloat16)
        self.one = torch.ones((), device=dev, dtype=torch.float32)

    def lin(self, x, w):
        if not self.fp8:
            return x @ w.t()
        # dynamic per-tensor activation quantisation, as W8A8 serving kernels do
        s = x.abs().amax().float().clamp(min=1e-6) / 448.0
        xq = (x / s.to(x.dtype)).to(torch.float8_e4m3fn)
        m = xq.shape[0]
        if m % 16:
            xq = F.pad(xq.view(torch.uint8), (0, 0, 0, 16 - m % 16)).view(torch.float8_e4m3fn)
        y = torch._scaled_mm(xq, w.t(), scale_a=s, scale_b=self.one, out_dtype=torch.bfloat16)
        return y[:m]

    def forward(self, x, kcache, vcache, batch, q_len, ctx, causal):
        """x: (batch*q_len, H); kcache/vcache per layer: (batch, NKV, ctx, D) including the new tokens."""
        c = self
        for li, p in enumerate(self.layers):
            h = F.rms_norm(x, (c.H,), p["n1"])
            qkv = self.lin(h, p["qkv"])
            q = qkv[:, : c.NQ * c.D].view(batch, q_len, c.NQ, c.D).transpose(1, 2)
            kn = qkv[:, c.NQ * c.D: (c.NQ + c.NKV) * c.D].view(batch, q_len, c.NKV, c.D).transpose(1, 2)
            vn = qkv[:, (c.NQ + c.NKV) * c.D:].view(batch, q_len, c.NKV, c.D).transpose(1, 2)
            kcache[li][:, :, ctx - q_len:ctx].copy_(kn)
            vcache[li][:, :, ctx - q_len:ctx].copy_(vn)
            a = F.scaled_dot_product_attention(q, kcache[li][:, :, :ctx], vcache[li][:, :, :ctx],
                                               is_causal=causal, enable_gqa=True)
            a = a.transpose(1, 2).reshape(batch * q_len, c.NQ * c.D)
            x = x + self.lin(a, p["o"])
            h = F.rms_norm(x, (c.H,), p["n2"])
            gu = self.lin(h, p["gu"])
            x = x + self.lin(F.silu(gu[:, : c.I]) * gu[:, c.I:], p["down"])
        last = x.view(batch, q_len, c.H)[:, -1]
        return F.rms_norm(last, (c.H,), self.nf) @ self.head.t()


class Llama70B(Llama8B):
    H, L, NQ, NKV, D, I, V = 8192, 80, 64, 8, 128, 28672, 128256
    NAME = "meta-llama/Llama-3.1-70B-Instruct"


def steps(cls=Llama8B, dtypes=(False, True), decode_ts=(128, 1024, 4096, 16384), decode_bs=(1, 8, 32, 64, 128, 256),
          prefill=((1, 512), (1, 2048), (1, 8192), (4, 2048)), fname="steps.csv", kv_budget_tokens=300_000):
    rows = ["model,gpu,tp,weight_dtype,phase,batch,tokens,ms"]
    fout = os.path.join(OUT, fname)
    def flush():
        with open(fout, "w") as f:
            f.write("\n".join(rows) + "\n")
    c = cls
    for fp8 in dtypes:
        if time.time() - T0 > BUDGET_S:
            break
        model = cls(fp8=fp8)
        wd = "fp8" if fp8 else "bf16"
        decode = [(b, t) for t in decode_ts for b in decode_bs if b * t <= kv_budget_tokens]
        for phase, grid in [("decode", decode), ("prefill", prefill)]:
            for (b, t) in grid:
                if time.time() - T0 > BUDGET_S:
                    break
                try:
                    q_len = 1 if phase == "decode" else t
                    ctx = t + 1 if phase == "decode" else t
                    kc = [torch.empty(b, c.NKV, ctx, c.D, device=dev, dtype=torch.bfloat16).normal_() for _ in range(c.L)]
                    vc = [torch.empty(b, c.NKV, ctx, c.D, device=dev, dtype=torch.bfloat16).normal_() for _ in range(c.L)]
                    x = torch.randn(b * q_len, c.H, device=dev, dtype=torch.bfloat16)
                    with torch.inference_mode():
                        ms = time_graph(lambda: model.forward(x, kc, vc, b, q_len, ctx, phase == "prefill"), reps=5)
                    rows.append(f"{c.NAME},H200,1,{wd},{phase},{b},{t},{ms:.4f}")
                    flush()
                    del kc, vc, x
                    torch.cuda.empty_cache()
                except Exception:
                    log_err(f"step {wd} {phase} b={b} t={t}")
                    torch.cuda.empty_cache()
        del model
        torch.cuda.empty_cache()
    flush()


def warm_copy():
    # the first copy pass ran before the clocks rose; warm the GPU with GEMMs first
    a = torch.randn(8192, 8192, device=dev, dtype=torch.bfloat16)
    t = time.time()
    while time.time() - t < 3:
        a @ a
    torch.cuda.synchronize()
    copy()


def steps70():
    steps(Llama70B, dtypes=(True,), decode_ts=(1024, 4096), decode_bs=(1, 8, 32, 64, 128),
          prefill=((1, 2048),), fname="steps70b.csv", kv_budget_tokens=140_000)


SECTIONS = {"env": env, "launch": launch, "copy": warm_copy, "gemm": gemm, "steps": steps, "steps70": steps70}
for name in os.environ.get("SECTIONS", "env,launch,gemm,copy,steps,steps70").split(","):
    fn = SECTIONS[name]
    try:
        t = time.time()
        fn()
        print(f"{name}: {time.time() - t:.1f} s", flush=True)
    except Exception:
        log_err(name)
        print(f"{name}: FAILED", flush=True)
print(f"total {time.time() - T0:.1f} s")
