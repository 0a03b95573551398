package estimator

import (
	"sync"
	"sync/atomic"
)

// deployCache keeps the deployments New built, by the Spec it was given, so that a caller
// evaluating configurations one by one (plan, a sweep run twice, a service answering
// estimates) builds each distinct deployment once: New on a Spec it has seen returns a
// copy of the kept deployment, which shares its read-only shard (GEMMs, layer groups,
// warnings) and its memos (the closed form's sustainable rates, start-up bursts and GEMM
// table: serving.go, gemmtable.go). Every memo is exact (a kept value is the value the
// computation gives: TestGEMMTableExact, TestServeMemoized, TestDeployCacheExact), so
// what an estimate returns does not depend on what was built before it.
//
// The key is the Spec as given, pointers included: New reads the model, GPU and engine
// profile through them, so a Spec is kept only when all three are set, and, as for the
// deployment's own memos, they must not be modified after the first New that reads them
// (copy one to change it). Specs with speculative decoding or KV offload
// (pointers to mutable descriptions) are never kept. Errors are not kept.
//
// Bounded: at most deployCacheSize deployments (a new one past that empties the cache),
// each with its memos' own bounds (rateMemo 1,024 rates, burstMemo 2¹⁷ words ≈ 5 MiB,
// gemmTable 512 KiB), so at worst ~360 MiB and in practice a few KiB per deployment.
// Safe for concurrent use.
var deployCache struct {
	mu  sync.Mutex
	m   map[Spec]*Deployment
	off atomic.Bool // tests and benchmarks: build every deployment anew
}

const deployCacheSize = 64

// cachedNew is New through deployCache.
func cachedNew(s Spec) (*Deployment, error) {
	if s.Model == nil || s.GPU == nil || s.Profile == nil || s.Speculation != nil || s.Offload != nil || deployCache.off.Load() {
		return newDeployment(s)
	}
	deployCache.mu.Lock()
	d := deployCache.m[s]
	deployCache.mu.Unlock()
	if d == nil {
		var err error
		if d, err = newDeployment(s); err != nil {
			return nil, err
		}
		deployCache.mu.Lock()
		if deployCache.m == nil || len(deployCache.m) >= deployCacheSize {
			deployCache.m = make(map[Spec]*Deployment, deployCacheSize)
		}
		if kept := deployCache.m[s]; kept != nil {
			d = kept // built meanwhile by another goroutine: share its memos
		} else {
			deployCache.m[s] = d
		}
		deployCache.mu.Unlock()
	}
	c := *d
	return &c, nil
}
