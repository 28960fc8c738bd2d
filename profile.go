package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
)

// startProfiles starts the profiles the environment asks for (make bench,
// issues 6 and 16) and returns what stops them; main calls it before
// os.Exit, which skips defers:
//   - OCIBUNDLE_CPUPROFILE=FILE: a CPU profile of the whole command;
//   - OCIBUNDLE_MEMPROFILE=FILE: a heap profile written when the command
//     ends (allocations sampled about once per 512 KiB, runtime.MemProfileRate;
//     `go tool pprof -sample_index=inuse_space` or alloc_space).
//
// A profile that cannot be created stops the command (exit 3).
func startProfiles() (stop func()) {
	var cpu *os.File
	if name := os.Getenv("OCIBUNDLE_CPUPROFILE"); name != "" {
		f, err := os.Create(name)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "ocibundle: cpu profile: %v\n", err)
			os.Exit(classOperational.Code)
		}
		cpu = f
	}
	mem := os.Getenv("OCIBUNDLE_MEMPROFILE")
	return func() {
		if cpu != nil {
			pprof.StopCPUProfile()
			if err := cpu.Close(); err != nil {
				fmt.Fprintf(os.Stderr, "ocibundle: cpu profile: %v\n", err)
			}
		}
		if mem != "" {
			if err := writeHeapProfile(mem); err != nil {
				fmt.Fprintf(os.Stderr, "ocibundle: memory profile: %v\n", err)
			}
		}
	}
}

func writeHeapProfile(name string) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	runtime.GC() // the heap as of the last collection: up to date
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
