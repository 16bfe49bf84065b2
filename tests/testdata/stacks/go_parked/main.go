// go-parked: the Go program stack-capture tests build and unwind. Its main goroutine is locked to the
// main OS thread and sleeps in raw nanosleep system calls inside main.sleepInGo, so that thread's
// stack holds main.sleepInGo, main.main and runtime frames. It prints "ready <pid>", answers "p" on
// stdin with "pong <rounds>" and exits 0 on "q".
package main

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"sync/atomic"
	"syscall"
)

var rounds atomic.Uint64

// Prints "ready" from here, so that even a capture that catches the write sees this frame.
//
//go:noinline
func sleepInGo() {
	fmt.Printf("ready %d\n", os.Getpid())
	for {
		ts := syscall.Timespec{Nsec: 2_000_000}
		syscall.Nanosleep(&ts, nil)
		rounds.Add(1)
	}
}

func serveCommands() {
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		switch in.Text() {
		case "p":
			fmt.Printf("pong %d\n", rounds.Load())
		case "q":
			os.Exit(0)
		}
	}
	os.Exit(0)
}

func main() {
	runtime.LockOSThread()
	go serveCommands()
	sleepInGo()
}
