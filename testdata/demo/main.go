// Command demo is a small, long-running Go service for Flamewright's
// end-to-end tests: it serves net/http/pprof on a loopback address and runs
// steady workloads whose functions are easy to find in every kind of profile.
//
// Usage:
//
//	demo [-addr 127.0.0.1:0] [-block-rate 10000] [-mutex-fraction 1]
//	     [-cpu-goroutines 1] [-exit-after 0]
//
// Once the listener is bound and the workloads run, it prints exactly one line
// to stdout and nothing else afterwards:
//
//	listening on http://127.0.0.1:PORT
//
// (PORT is the port actually bound, so -addr 127.0.0.1:0 is the way to run
// several at once.) Diagnostics go to stderr. It exits with 0 on SIGTERM or
// SIGINT (and after -exit-after), 2 on bad flags, 1 if it cannot listen.
//
// Workloads, each in a named, non-inlined function (see README.md):
//
//	main.burnCPU        CPU-hot hashing loop, one goroutine per -cpu-goroutines
//	main.allocate       one 64 KiB buffer every 4 ms, the latest 64 kept live
//	main.contend        4 goroutines taking one sync.Mutex for ~1 ms each
//	main.waitOnChannel  receives what main.feedChannel sends every 5 ms
//	main.parked         3 goroutines waiting on a channel that never fires
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	_ "net/http/pprof" // registers /debug/pprof/* on http.DefaultServeMux
	"os"
	"os/signal"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

var (
	addr          = flag.String("addr", "127.0.0.1:0", "`host:port` to serve pprof on; the host must be a loopback IP, port 0 picks a free port")
	blockRate     = flag.Int("block-rate", 10000, "runtime.SetBlockProfileRate `ns`: blocking events of at least this long are all recorded, shorter ones sampled; 1 records everything, 0 disables the block profile")
	mutexFraction = flag.Int("mutex-fraction", 1, "runtime.SetMutexProfileFraction: on average 1 in `N` contention events is recorded; 0 disables the mutex profile")
	cpuGoroutines = flag.Int("cpu-goroutines", 1, "`number` of goroutines running main.burnCPU (each keeps one core busy); 0 for none")
	exitAfter     = flag.Duration("exit-after", 0, "exit by itself after this `duration` (a safety net for tests that may leak the process); 0 never")
)

// Workload shape. Constants rather than flags: the tests rely on this shape.
const (
	allocSize     = 64 << 10             // bytes per main.allocate buffer
	allocEvery    = 4 * time.Millisecond // ~16 MB/s allocated
	allocKeep     = 64                   // buffers kept live: ~4 MiB in use
	contenders    = 4                    // goroutines running main.contend
	lockHeld      = time.Millisecond     // how long main.contend holds the lock
	lockPause     = 200 * time.Microsecond
	feedEvery     = 5 * time.Millisecond // main.feedChannel's ticker
	parkedCount   = 3                    // goroutines in main.parked
	shutdownGrace = time.Second          // for in-flight /debug/pprof requests
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("demo: ")
	flag.Parse()
	if flag.NArg() != 0 {
		usageError("unexpected argument %q", flag.Arg(0))
	}
	if *blockRate < 0 || *mutexFraction < 0 || *cpuGoroutines < 0 || *exitAfter < 0 {
		usageError("-block-rate, -mutex-fraction, -cpu-goroutines and -exit-after must not be negative")
	}
	if err := checkLoopback(*addr); err != nil {
		usageError("-addr %s: %v", *addr, err)
	}

	// Before any workload starts, so that every event is subject to the rates.
	runtime.SetBlockProfileRate(*blockRate)
	runtime.SetMutexProfileFraction(*mutexFraction)

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err) // one line, exit 1
	}

	startWorkloads()

	// os.Stdout is unbuffered: this line is written (flushed) by this call.
	if _, err := fmt.Fprintf(os.Stdout, "listening on http://%s\n", ln.Addr()); err != nil {
		log.Fatal(err)
	}

	// No WriteTimeout: /debug/pprof/profile?seconds=N answers after N seconds.
	srv := &http.Server{Handler: http.DefaultServeMux, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if *exitAfter > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *exitAfter)
		defer cancel()
	}

	select {
	case err := <-served:
		log.Fatal(err) // Serve only returns early on an accept error
	case <-ctx.Done():
	}
	stop() // a second signal now kills the process the default way

	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		// A long profile request is still running: cut it off.
		_ = srv.Close()
	}
	// Workload goroutines end with the process.
}

func usageError(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "demo: "+format+"\n", args...)
	os.Exit(2)
}

// checkLoopback accepts host:port where host is a loopback IP literal
// (127.0.0.0/8 or ::1). Host names, including "localhost", and an empty host
// (all interfaces) are refused.
func checkLoopback(hostPort string) error {
	host, _, err := net.SplitHostPort(hostPort)
	if err != nil {
		return err
	}
	ip := net.ParseIP(host)
	if ip == nil {
		if host == "" {
			return errors.New("an empty host listens on every interface; use a loopback IP such as 127.0.0.1")
		}
		return fmt.Errorf("host %q is not an IP address; use a loopback IP such as 127.0.0.1", host)
	}
	if !ip.IsLoopback() {
		return fmt.Errorf("host %s is not a loopback IP", host)
	}
	return nil
}

// ---------------------------------------------------------------------------
// Workloads. Each goroutine is started with `go f(...)` on the named function
// itself, so that function is the root of its goroutine's stacks (Go 1.19
// protobuf stacks do not contain runtime.goexit).

func startWorkloads() {
	for i := 0; i < *cpuGoroutines; i++ {
		go burnCPU(uint64(i) + 1)
	}

	go allocate()

	var mu sync.Mutex
	var shared uint64
	for i := 0; i < contenders; i++ {
		go contend(&mu, &shared)
	}

	ch := make(chan uint64) // unbuffered: the receiver waits for every value
	go waitOnChannel(ch)
	go feedChannel(ch)

	never := make(chan struct{}) // never closed, never sent to
	for i := 0; i < parkedCount; i++ {
		go parked(never)
	}
}

const (
	prime1 = 0x9E3779B185EBCA87
	prime2 = 0xC2B2AE3D27D4EB4F
)

// sink keeps results observable so the compiler cannot drop the work.
var sink uint64

// burnCPU hashes in a loop forever. The arithmetic is written out here, not
// in a helper, so that every CPU sample's leaf is main.burnCPU itself (an
// inlined helper would appear as a function of its own in pprof).
//
//go:noinline
func burnCPU(seed uint64) {
	h := seed
	for {
		for i := uint64(0); i < 1<<20; i++ {
			h ^= i * prime2
			h = (h<<31 | h>>33) * prime1
		}
		atomic.StoreUint64(&sink, h)
	}
}

// allocate allocates a 64 KiB buffer every allocEvery and keeps the latest
// allocKeep of them live: alloc_* grows steadily, inuse_space stays ~4 MiB.
// It paces itself with time.Sleep, which the block profile does not record.
//
//go:noinline
func allocate() {
	for n := 0; ; n++ {
		buf := make([]byte, allocSize)
		for i := 0; i < len(buf); i += 4096 { // touch every page
			buf[i] = byte(n)
		}
		retained[n%allocKeep] = buf
		time.Sleep(allocEvery)
	}
}

// retained is main.allocate's ring of live buffers. A package variable: the
// compiler may drop stores to a local array that nothing reads.
var retained [allocKeep][]byte

// contend takes the shared lock, does a little hashing and a ~1 ms "slow
// call" (a sleep, so contention costs no CPU) while holding it, then pauses.
// With several contenders the lock is nearly always held and waited for: the
// mutex profile records the waiting at sync.(*Mutex).Unlock under
// main.contend, the block profile at sync.(*Mutex).Lock under main.contend.
//
//go:noinline
func contend(mu *sync.Mutex, shared *uint64) {
	for {
		mu.Lock()
		v := *shared
		for i := uint64(0); i < 1000; i++ {
			v = (v ^ i) * prime1
		}
		time.Sleep(lockHeld)
		*shared = v
		mu.Unlock()
		time.Sleep(lockPause)
	}
}

// waitOnChannel receives forever: it spends nearly all its time blocked in
// the channel receive, which the block profile records under it.
//
//go:noinline
func waitOnChannel(ch <-chan uint64) {
	var sum uint64
	for v := range ch {
		sum += v
		atomic.StoreUint64(&sink, sum)
	}
}

// feedChannel sends one value to ch on every tick of a feedEvery ticker. (Its
// own wait for the ticker is a channel receive too: it appears in the block
// profile under main.feedChannel.)
//
//go:noinline
func feedChannel(ch chan<- uint64) {
	t := time.NewTicker(feedEvery)
	defer t.Stop()
	for n := uint64(0); ; n++ {
		<-t.C
		ch <- n
	}
}

// parked blocks forever: it shows up in the goroutine profile only. (A block
// event is recorded when the wait ends, so it never reaches the block profile.)
//
//go:noinline
func parked(never <-chan struct{}) {
	<-never
}
