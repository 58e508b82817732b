// Command profgen runs small, deterministic-shaped workloads and writes the
// profiles that runtime/pprof produces for them, exactly as the runtime writes
// them (gzip-compressed profile.proto). Flamewright's tests read these files
// and compare their analysis with `go tool pprof` (see ../regenerate.sh).
//
// Usage: profgen -out DIR [-only-empty-block] [-cpu 3s]
//
// Files written to DIR:
//
//	block-empty.pb.gz  block profile taken while the block rate is 0 (no samples)
//	heap-a.pb.gz       heap profile while phase A data is live   (base of diff.pb.gz)
//	heap-b.pb.gz       heap profile after A is freed and B is live (new side of diff.pb.gz)
//	goroutine.pb.gz    goroutine profile (debug=0) with several parked goroutines
//	threadcreate.pb.gz threadcreate profile (one sample without locations)
//	heap.pb.gz         heap profile after the allocation and contention phases
//	allocs.pb.gz       allocs profile, same moment (same data, other default type)
//	block.pb.gz        block profile (rate 1): channels, select, WaitGroup, Mutex, RWMutex, Cond
//	mutex.pb.gz        mutex profile (fraction 1): Mutex, RWMutex
//	cpu.pb.gz          CPU profile (last phase), labelled workers: inlining,
//	                   generics, closures, method values, deep recursion
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

func init() {
	// Set before any interesting allocation so the heap profiles are rich
	// (the default samples one allocation per 512 KiB). A smaller rate would
	// mostly add runtime/pprof's own small allocations and bloat the oracles.
	runtime.MemProfileRate = 8192
}

var (
	outDir         = flag.String("out", "", "directory to write the profiles into (required)")
	onlyEmptyBlock = flag.Bool("only-empty-block", false, "write only block-empty.pb.gz and exit")
	cpuTarget      = flag.Duration("cpu", 3*time.Second, "process CPU time to burn while the CPU profiler runs")
	cpuMaxWall     = flag.Duration("cpu-max-wall", 12*time.Second, "upper bound on the wall time of the CPU phase")
)

// Labels used by the CPU and goroutine profiles. The values deliberately
// contain spaces, '=', ',' and non-ASCII characters.
const (
	handlerLabel = "handler=/api/v1, ünïcode"
	tenantLabel  = "acme corp"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("profgen: ")
	flag.Parse()
	if *outDir == "" || flag.NArg() != 0 {
		fmt.Fprintln(os.Stderr, "usage: profgen -out DIR [-only-empty-block] [-cpu 3s]")
		os.Exit(2)
	}
	if err := os.MkdirAll(*outDir, 0o755); err != nil {
		log.Fatal(err)
	}

	// Nothing has blocked yet and the block profile rate is still 0, so this
	// profile is valid but holds no samples.
	writeLookup("block-empty.pb.gz", "block")
	if *onlyEmptyBlock {
		return
	}

	lockThread()
	heapDiffPhase()
	allocPhase()
	contentionPhase()

	release := parkGoroutines()
	writeLookup("goroutine.pb.gz", "goroutine")
	writeLookup("threadcreate.pb.gz", "threadcreate")

	// The heap profile reflects the heap as of the last completed GC.
	runtime.GC()
	runtime.GC()
	writeLookup("heap.pb.gz", "heap")
	writeLookup("allocs.pb.gz", "allocs")
	writeLookup("block.pb.gz", "block")
	writeLookup("mutex.pb.gz", "mutex")
	release()
	runtime.KeepAlive(retained)
	runtime.KeepAlive(phaseB)

	// Last, so that the many allocation stacks of the CPU workers and of the
	// CPU profile writer stay out of the heap profiles (keeps oracles small).
	cpuPhase()
}

// ---------------------------------------------------------------------------
// Output helpers

func create(name string) *os.File {
	f, err := os.Create(filepath.Join(*outDir, name))
	if err != nil {
		log.Fatal(err)
	}
	return f
}

func closeFile(f *os.File) {
	if err := f.Close(); err != nil {
		log.Fatal(err)
	}
}

// writeLookup writes the named runtime/pprof profile in its proto form
// (debug=0), which runtime/pprof gzips itself.
func writeLookup(file, profile string) {
	p := pprof.Lookup(profile)
	if p == nil {
		log.Fatalf("no profile %q", profile)
	}
	f := create(file)
	if err := p.WriteTo(f, 0); err != nil {
		log.Fatalf("%s: %v", file, err)
	}
	closeFile(f)
}

// ---------------------------------------------------------------------------
// Small leaf functions that the compiler inlines into hot loops, so that a
// single Location carries several Line entries (callee first).

const (
	prime1 = 0x9E3779B185EBCA87
	prime2 = 0xC2B2AE3D27D4EB4F
)

func rotl(x uint64, r uint) uint64 { return x<<r | x>>(64-r) }

func mix(h, v uint64) uint64 { return rotl(h^(v*prime2), 31) * prime1 }

type vec3 struct{ x, y, z float64 }

func (a vec3) add(b vec3) vec3      { return vec3{a.x + b.x, a.y + b.y, a.z + b.z} }
func (a vec3) scale(k float64) vec3 { return vec3{a.x * k, a.y * k, a.z * k} }
func (a vec3) dot(b vec3) float64   { return a.x*b.x + a.y*b.y + a.z*b.z }
func clamp(v, lo, hi float64) float64 {
	if v < lo {
		return lo
	}
	if v > hi {
		return hi
	}
	return v
}

// mixFn calls mix through a function value, which the compiler does not
// inline: mix then has both inlined and real call sites.
var mixFn = mix

//go:noinline
func hashLoop(n int, seed uint64) uint64 {
	h := seed
	for i := 0; i < n; i++ {
		h = mix(h, uint64(i))
	}
	return h
}

//go:noinline
func integrate(n int) float64 {
	p, v := vec3{1, 2, 3}, vec3{0.1, 0.2, 0.3}
	var e float64
	for i := 0; i < n; i++ {
		v = v.add(p.scale(-0.001))
		p = p.add(v.scale(0.01))
		e += clamp(p.dot(v), -1e3, 1e3)
	}
	return e
}

//go:noinline
func inlineWork() uint64 {
	return hashLoop(40000, 1) + uint64(integrate(20000))
}

// ---------------------------------------------------------------------------
// Generics: names such as main.(*Stack[...]).Push and main.Map[...].

type Stack[T any] struct{ items []T }

//go:noinline
func (s *Stack[T]) Push(v T) { s.items = append(s.items, v) }

//go:noinline
func (s *Stack[T]) Pop() (T, bool) {
	var zero T
	if len(s.items) == 0 {
		return zero, false
	}
	v := s.items[len(s.items)-1]
	s.items = s.items[:len(s.items)-1]
	return v, true
}

func (s *Stack[T]) Len() int { return len(s.items) }

//go:noinline
func Map[T, U any](xs []T, f func(T) U) []U {
	out := make([]U, 0, len(xs))
	for _, x := range xs {
		out = append(out, f(x))
	}
	return out
}

//go:noinline
func genericWork(rounds int) uint64 {
	var sum uint64
	for r := 0; r < rounds; r++ {
		ints := &Stack[uint64]{}
		for i := 0; i < 256; i++ {
			ints.Push(hashLoop(16, uint64(i+r)))
		}
		hashed := Map(ints.items, func(x uint64) uint64 { return hashLoop(128, x) })
		names := Map(hashed[:32], func(x uint64) string { return strconv.FormatUint(x, 36) })
		strs := &Stack[string]{}
		for _, n := range names {
			strs.Push(n)
		}
		for strs.Len() > 0 {
			s, _ := strs.Pop()
			sum += uint64(len(s))
		}
		for ints.Len() > 0 {
			v, _ := ints.Pop()
			sum += v
		}
	}
	return sum
}

// ---------------------------------------------------------------------------
// Closures, including nested ones (main.closureWork.func1.1.1).

//go:noinline
func makeAccumulator() func(uint64) uint64 {
	var total uint64
	return func(v uint64) uint64 {
		for i := uint64(0); i < 2048; i++ {
			total = mix(total, v+i)
		}
		return total
	}
}

//go:noinline
func apply(f func(int) uint64, n int) uint64 { return f(n) }

//go:noinline
func closureWork(rounds int) uint64 {
	acc := makeAccumulator()
	outer := func(k int) uint64 {
		inner := func(j int) uint64 {
			deepest := func(i int) uint64 {
				return hashLoop(i, uint64(j))
			}
			var s uint64
			for i := 0; i < 4; i++ {
				s += apply(deepest, 1024+i)
			}
			for i := 0; i < 1024; i++ { // some samples land in inner itself
				s = mix(s, uint64(i))
			}
			for i := 0; i < 4096; i++ { // mix called, not inlined: "(partial-inline)" in -top
				s = mixFn(s, uint64(i))
			}
			return s
		}
		return apply(inner, k) + acc(uint64(k))
	}
	var sum uint64
	for r := 0; r < rounds; r++ {
		sum += apply(outer, r)
	}
	return sum
}

// ---------------------------------------------------------------------------
// Method values: f := obj.Method; f() goes through a ...-fm wrapper.

type matrix struct {
	n       int
	a, b, c []float64
}

func newMatrix(n int) *matrix {
	m := &matrix{n: n, a: make([]float64, n*n), b: make([]float64, n*n), c: make([]float64, n*n)}
	for i := range m.a {
		m.a[i] = float64(i%7) * 0.5
		m.b[i] = float64(i%5) * 0.25
	}
	return m
}

var theMatrix = newMatrix(32)

//go:noinline
func (m *matrix) Multiply() float64 {
	n := m.n
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			var s float64
			for k := 0; k < n; k++ {
				s += m.a[i*n+k] * m.b[k*n+j]
			}
			m.c[i*n+j] = s
		}
	}
	return m.c[n*n-1]
}

//go:noinline
func (m *matrix) Trace() float64 {
	var t float64
	for rep := 0; rep < 64; rep++ {
		for i := 0; i < m.n; i++ {
			t += m.c[i*m.n+i] * float64(rep)
		}
	}
	return t
}

type hasher struct{ seed uint64 }

//go:noinline
func (h hasher) Sum(n int) uint64 { return hashLoop(n, h.seed) }

//go:noinline
func methodValueWork(rounds int) float64 {
	m := theMatrix
	mul := m.Multiply // main.(*matrix).Multiply-fm
	fns := []func() float64{mul, m.Trace}
	h := hasher{seed: 42}
	sum := h.Sum // main.hasher.Sum-fm
	var t float64
	for r := 0; r < rounds; r++ {
		for _, f := range fns {
			t += f()
		}
		t += float64(sum(4096) & 0xff)
	}
	return t
}

// ---------------------------------------------------------------------------
// Recursion deeper than the stack depth limits (64 for CPU, 32 for the rest).

//go:noinline
func recurse(depth int, leaf func() uint64) uint64 {
	if depth == 0 {
		return leaf()
	}
	return recurse(depth-1, leaf) + 1
}

//go:noinline
func deepRecursionWork(depth int) uint64 {
	return recurse(depth, func() uint64 { return hashLoop(30000, uint64(depth)) })
}

// ---------------------------------------------------------------------------
// CPU phase

// cpuSeconds returns the CPU time (user+system) used by this process so far.
func cpuSeconds() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		log.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

var sink uint64

func cpuPhase() {
	f := create("cpu.pb.gz")
	if err := pprof.StartCPUProfile(f); err != nil {
		log.Fatal(err)
	}

	var stop atomic.Bool
	var wg sync.WaitGroup
	ctx := context.Background()
	worker := func(labels *pprof.LabelSet, steps ...func(context.Context)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := func(ctx context.Context) {
				for i := 0; !stop.Load(); i++ {
					steps[i%len(steps)](ctx)
				}
			}
			if labels == nil {
				body(ctx)
			} else {
				pprof.Do(ctx, *labels, body)
			}
		}()
	}
	handler := pprof.Labels("handler", handlerLabel, "tenant", tenantLabel)
	worker(&handler,
		func(context.Context) { atomic.AddUint64(&sink, inlineWork()) },
		func(ctx context.Context) {
			// Nested pprof.Do on the labelled ctx: samples carry handler,
			// tenant and phase; the outer labels come back afterwards.
			pprof.Do(ctx, pprof.Labels("phase", "generic Stack[T] & Map[T,U]"), func(context.Context) {
				atomic.AddUint64(&sink, genericWork(4))
			})
		},
		func(context.Context) { atomic.AddUint64(&sink, closureWork(8)) },
	)
	deep := pprof.Labels("job", "deep recursion", "kv", "a=1,b=2")
	worker(&deep,
		func(context.Context) { atomic.AddUint64(&sink, deepRecursionWork(100)) },
		func(context.Context) { atomic.AddUint64(&sink, uint64(methodValueWork(6))) },
	)
	worker(nil, // unlabelled samples
		func(context.Context) { atomic.AddUint64(&sink, inlineWork()) },
		func(context.Context) { atomic.AddUint64(&sink, closureWork(4)) },
		func(context.Context) { atomic.AddUint64(&sink, deepRecursionWork(80)) },
		func(context.Context) { atomic.AddUint64(&sink, genericWork(2)) },
	)

	start, wallStart := cpuSeconds(), time.Now()
	for cpuSeconds()-start < *cpuTarget && time.Since(wallStart) < *cpuMaxWall {
		time.Sleep(10 * time.Millisecond)
	}
	stop.Store(true)
	wg.Wait()
	pprof.StopCPUProfile()
	closeFile(f)
}

// ---------------------------------------------------------------------------
// Heap: allocations from several distinct stacks.

type node struct {
	next    *node
	payload [6]uint64
}

var (
	retained []any // live until the end: shows up in inuse_* of heap.pb.gz
	phaseA   []any // live in heap-a, freed before heap-b
	phaseB   []any // allocated after heap-a, live in heap-b
)

//go:noinline
func allocNodes(n int) *node {
	var head *node
	for i := 0; i < n; i++ {
		head = &node{next: head, payload: [6]uint64{uint64(i)}}
	}
	return head
}

//go:noinline
func allocBuffers(n, size int) [][]byte {
	bufs := make([][]byte, 0, n)
	for i := 0; i < n; i++ {
		bufs = append(bufs, make([]byte, size))
	}
	return bufs
}

//go:noinline
func allocStrings(n int) []string {
	out := make([]string, 0, n)
	for i := 0; i < n; i++ {
		out = append(out, fmt.Sprintf("key-%d=%s", i, strings.Repeat("x", i%64)))
	}
	return out
}

//go:noinline
func allocMap(n int) map[string][]int {
	m := make(map[string][]int)
	for i := 0; i < n; i++ {
		m[strconv.Itoa(i)] = make([]int, i%32)
	}
	return m
}

//go:noinline
func allocGenericStack(n int) *Stack[[4]uint64] {
	s := &Stack[[4]uint64]{}
	for i := 0; i < n; i++ {
		s.Push([4]uint64{uint64(i)})
	}
	return s
}

//go:noinline
func allocDeep(depth int) []byte {
	var b []byte
	recurse(depth, func() uint64 {
		b = make([]byte, 64<<10)
		return uint64(len(b))
	})
	return b
}

//go:noinline
func allocClosureGarbage(rounds int) int {
	total := 0
	mk := func(n int) func() []byte {
		return func() []byte { return make([]byte, n) }
	}
	for i := 0; i < rounds; i++ {
		total += len(mk(256 + i%512)())
	}
	return total
}

//go:noinline
func churn(rounds int) int {
	// Garbage: counted in alloc_*, but (after GC) not in inuse_*.
	n := 0
	for i := 0; i < rounds; i++ {
		n += len(allocStrings(64)) + len(allocBuffers(8, 1024))
	}
	return n
}

func heapDiffPhase() {
	phaseA = append(phaseA, allocNodes(20000), allocBuffers(256, 4096))
	runtime.GC()
	runtime.GC()
	writeLookup("heap-a.pb.gz", "heap")

	phaseA = nil
	phaseB = append(phaseB, allocStrings(4000), allocMap(2000))
	runtime.GC()
	runtime.GC()
	writeLookup("heap-b.pb.gz", "heap")
}

func allocPhase() {
	retained = append(retained,
		allocNodes(5000),
		allocBuffers(64, 8192),
		allocStrings(1000),
		allocMap(500),
		allocGenericStack(3000),
		Map(make([]int, 4000), func(i int) [2]string { return [2]string{strconv.Itoa(i)} }),
	)
	for i := 0; i < 16; i++ {
		retained = append(retained, allocDeep(60+i))
	}
	atomic.AddUint64(&sink, uint64(churn(50)+allocClosureGarbage(2000)))
}

// ---------------------------------------------------------------------------
// Block and mutex contention.

func spinFor(d time.Duration) {
	end := time.Now().Add(d)
	for time.Now().Before(end) {
	}
}

//go:noinline
func blockOnChannel(ch <-chan int, done chan<- int) {
	s := 0
	for v := range ch { // blocks in chanrecv
		s += v
	}
	done <- s
}

//go:noinline
func produceSlowly(ch chan<- int, n int) {
	for i := 0; i < n; i++ {
		time.Sleep(200 * time.Microsecond)
		ch <- i
	}
	close(ch)
}

//go:noinline
func blockInSelect(a, b <-chan int, quit <-chan struct{}) int {
	n := 0
	for {
		select {
		case v := <-a:
			n += v
		case v := <-b:
			n -= v
		case <-quit:
			return n
		}
	}
}

//go:noinline
func sendBlocked(ch chan<- int, n int) {
	for i := 0; i < n; i++ {
		ch <- i // unbuffered, receiver is slow: blocks in chansend
	}
	close(ch)
}

//go:noinline
func slowReceiver(ch <-chan int) int {
	s := 0
	for v := range ch {
		time.Sleep(100 * time.Microsecond)
		s += v
	}
	return s
}

type counter struct {
	mu sync.Mutex
	n  int
}

//go:noinline
func (c *counter) incrementSlowly() {
	c.mu.Lock()
	spinFor(30 * time.Microsecond)
	c.n++
	c.mu.Unlock()
}

//go:noinline
func mutexWorker(c *counter, start <-chan struct{}, rounds int) {
	<-start
	for i := 0; i < rounds; i++ {
		c.incrementSlowly()
		time.Sleep(10 * time.Microsecond) // let the other workers in
	}
}

type cache struct {
	mu sync.RWMutex
	m  map[int]int
}

//go:noinline
func (c *cache) read(k int) int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	spinFor(10 * time.Microsecond)
	return c.m[k]
}

//go:noinline
func (c *cache) write(k, v int) {
	c.mu.Lock()
	spinFor(50 * time.Microsecond)
	c.m[k] = v
	c.mu.Unlock()
}

//go:noinline
func waitForCond(mu *sync.Mutex, cond *sync.Cond, ready *bool) {
	mu.Lock()
	for !*ready {
		cond.Wait()
	}
	mu.Unlock()
}

func contentionPhase() {
	runtime.SetBlockProfileRate(1)
	runtime.SetMutexProfileFraction(1)

	var wg sync.WaitGroup
	goWG := func(f func()) {
		wg.Add(1)
		go func() { defer wg.Done(); f() }()
	}

	// Channel receive.
	ch, done := make(chan int), make(chan int, 1)
	goWG(func() { blockOnChannel(ch, done) })
	goWG(func() { produceSlowly(ch, 200) })

	// Channel send.
	sc := make(chan int)
	goWG(func() { atomic.AddUint64(&sink, uint64(slowReceiver(sc))) })
	goWG(func() { sendBlocked(sc, 200) })

	// Select.
	a, b, quit := make(chan int), make(chan int), make(chan struct{})
	goWG(func() { atomic.AddUint64(&sink, uint64(blockInSelect(a, b, quit))) })
	goWG(func() {
		for i := 0; i < 100; i++ {
			time.Sleep(150 * time.Microsecond)
			if i%2 == 0 {
				a <- i
			} else {
				b <- i
			}
		}
		close(quit)
	})

	// sync.Mutex contention (block: Lock; mutex: Unlock).
	c := &counter{}
	startCounting := make(chan struct{})
	for i := 0; i < 4; i++ {
		goWG(func() { mutexWorker(c, startCounting, 200) })
	}
	close(startCounting)

	// sync.RWMutex: readers wait for the writer and the writer for readers
	// (block: RLock, Lock; mutex: Unlock, RUnlock).
	kv := &cache{m: map[int]int{}}
	var writerDone atomic.Bool
	goWG(func() {
		for i := 0; i < 200; i++ {
			kv.write(i%10, i)
			time.Sleep(50 * time.Microsecond)
		}
		writerDone.Store(true)
	})
	for i := 0; i < 3; i++ {
		goWG(func() {
			for j := 0; !writerDone.Load(); j++ {
				atomic.AddUint64(&sink, uint64(kv.read(j%10)))
			}
		})
	}

	// sync.Cond.
	var cmu sync.Mutex
	cond := sync.NewCond(&cmu)
	ready := false
	for i := 0; i < 3; i++ {
		goWG(func() { waitForCond(&cmu, cond, &ready) })
	}
	time.Sleep(20 * time.Millisecond)
	cmu.Lock()
	ready = true
	cond.Broadcast()
	cmu.Unlock()

	wg.Wait() // sync.(*WaitGroup).Wait shows up in the block profile too
	atomic.AddUint64(&sink, uint64(<-done))
}

// ---------------------------------------------------------------------------
// Threads. Threads the runtime starts from the scheduler (g0) have no creation
// stack, so they form one threadcreate sample without locations. The first
// runtime.LockOSThread starts the template thread from this goroutine, which
// gives a sample with a real stack.

//go:noinline
func lockThread() {
	done := make(chan struct{})
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		close(done)
	}()
	<-done
}

// ---------------------------------------------------------------------------
// Parked goroutines for the goroutine profile.

//go:noinline
func parkedReceiver(ch <-chan struct{}) { <-ch }

//go:noinline
func parkedSelect(a <-chan struct{}, b <-chan int) {
	select {
	case <-a:
	case <-b:
	}
}

//go:noinline
func parkedOnMutex(mu *sync.Mutex) {
	mu.Lock()
	mu.Unlock()
}

//go:noinline
func parkedSleeping(ch <-chan struct{}) {
	t := time.NewTimer(time.Hour)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ch:
	}
}

//go:noinline
func parkedDeep(depth int, ch <-chan struct{}) {
	recurse(depth, func() uint64 { <-ch; return 0 })
}

// parkGoroutines starts goroutines that stay parked until release is called.
func parkGoroutines() (release func()) {
	ch := make(chan struct{})
	never := make(chan int)
	var mu sync.Mutex
	mu.Lock()
	var started sync.WaitGroup
	start := func(f func()) {
		started.Add(1)
		go func() { started.Done(); f() }()
	}
	for i := 0; i < 3; i++ { // three goroutines with the same stack
		start(func() { parkedReceiver(ch) })
	}
	start(func() { parkedSelect(ch, never) })
	start(func() { parkedOnMutex(&mu) })
	start(func() { parkedSleeping(ch) })
	start(func() { parkedDeep(50, ch) })
	start(func() {
		pprof.Do(context.Background(), pprof.Labels("handler", handlerLabel), func(context.Context) {
			parkedReceiver(ch)
		})
	})
	started.Wait()
	time.Sleep(50 * time.Millisecond) // let them all park
	return func() {
		close(ch)
		mu.Unlock()
	}
}
