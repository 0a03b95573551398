# Peak GPU memory of vLLM V1's dummy sampler pass, re-enacted in PyTorch.
#
# vLLM's start-up profiling (gpu_model_runner.profile_run -> _dummy_sampler_run) samples
# max_num_seqs dummy requests with temperature, top-k and top-p set, through the
# PyTorch-native path of vllm/v1/sample/sampler.py and ops/topk_topp_sampler.py: bf16
# logits -> fp32 copy -> greedy argmax -> temperature (in place) -> sort -> top-k mask ->
# softmax of the sorted logits -> cumsum (in place) -> top-p mask -> scatter back ->
# softmax -> exponential noise -> argmax. This runs the same tensor operations and prints
# the peak memory they allocate, per element of max_num_seqs x vocabulary.
# Usage (one CUDA GPU with PyTorch): python3 sampler_peak.py > sampler_peak.csv
import torch
def peak(S,V,d="cuda"):
    torch.cuda.empty_cache();torch.cuda.synchronize();torch.cuda.reset_peak_memory_stats()
    h=torch.randn(S,64,device=d,dtype=torch.bfloat16);w=torch.randn(64,V,device=d,dtype=torch.bfloat16)
    b=torch.cuda.memory_allocated();torch.cuda.reset_peak_memory_stats()
    x=h@w;x=x.to(torch.float32);g=x.argmax(dim=-1).view(-1)
    t=torch.full((S,),0.5,device=d);x=x.div_(t.unsqueeze(1))
    k=torch.full((S,),V-1,device=d,dtype=torch.int32);p=torch.full((S,),0.9,device=d)
    s,i=x.sort(dim=-1,descending=False)
    m=s.size(1)-k.to(torch.long);m=s.gather(1,m.unsqueeze(1));m=s<m;s.masked_fill_(m,-float("inf"))
    ps=s.softmax(dim=-1);pc=torch.cumsum(ps,dim=-1,out=ps)
    pm=pc<=1-p.unsqueeze(1);pm[:,-1]=False;s.masked_fill_(pm,-float("inf"))
    x=s.scatter(dim=-1,index=i,src=s);pr=x.softmax(dim=-1,dtype=torch.float32)
    q=torch.empty_like(pr);q.exponential_();o=pr.div_(q).argmax(dim=-1).view(-1);o=torch.where(t<1e-5,g,o)
    torch.cuda.synchronize();pk=torch.cuda.max_memory_allocated()-b
    del h,w,x,g,s,i,m,ps,pc,pm,pr,q,o
    return pk
print("max_num_seqs,vocab,peak_bytes,peak_gib,bytes_per_element")
print("# "+torch.cuda.get_device_name(0)+", torch "+torch.__version__)
for S,V in [(1024,151936),(1024,128256),(1024,201088),(1024,262208),(256,262208)]:
    b=peak(S,V);print(f"{S},{V},{b},{b/2**30:.3f},{b/(S*V):.2f}")
