// parked: the target program of the Go goroutine reader's component test. It parks goroutines in
// known ways (each parking line carries a "// marker:" comment the test greps for), runs GCs so
// the runtime records how long each has waited, prints "ready" and blocks until stdin closes or
// says "q". With the argument "dump", it instead times runtime.Stack(buf, true) (the runtime's own
// dump, the baseline) and prints the figure.
package main

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"runtime"
	"sync"
	"time"
)

const workers = 100

var (
	work    = make(chan int)
	never   = make(chan int)
	mu      sync.Mutex
	started sync.WaitGroup
)

//go:noinline
func receiveWork(id int) int {
	started.Done()
	return <-work + id // marker: chan-receive
}

//go:noinline
func lockShared() {
	started.Done()
	mu.Lock() // marker: mutex-lock
	mu.Unlock()
}

//go:noinline
func sleepLong() {
	started.Done()
	time.Sleep(time.Hour) // marker: sleep
}

//go:noinline
func selectForever() {
	started.Done()
	select { // marker: select
	case <-never:
	case <-work:
	}
}

//go:noinline
func acceptForever(l net.Listener) {
	started.Done()
	c, err := l.Accept() // marker: accept
	if err == nil {
		c.Close()
	}
}

func main() {
	mu.Lock()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fmt.Fprintln(os.Stderr, "listen:", err)
		os.Exit(1)
	}
	started.Add(workers + 4)
	for i := 0; i < workers; i++ {
		go receiveWork(i)
	}
	go lockShared()
	go sleepLong()
	go selectForever()
	go acceptForever(l)
	started.Wait()
	// Let every goroutine reach its parking point, then run two GCs: the runtime stamps g.waitsince
	// of blocked goroutines when a GC scans their stacks, with the start of the previous GC's mark
	// termination (0 during the first GC), and not otherwise.
	time.Sleep(200 * time.Millisecond)
	runtime.GC()
	runtime.GC()
	if len(os.Args) > 1 && os.Args[1] == "dump" {
		buf := make([]byte, 1<<22)
		var usage0, usage1 time.Duration
		usage0 = cpuTime()
		start := time.Now()
		n := runtime.Stack(buf, true)
		elapsed := time.Since(start)
		usage1 = cpuTime()
		fmt.Printf("runtime.Stack(all) bytes=%d wall_us=%d cpu_us=%d goroutines=%d\n", n,
			elapsed.Microseconds(), (usage1 - usage0).Microseconds(), runtime.NumGoroutine())
		return
	}
	fmt.Println("ready")
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() { // marker: main-wait
		if in.Text() == "q" {
			return
		}
	}
}
