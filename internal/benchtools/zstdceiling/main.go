// Command zstdceiling is the encoder-ceiling row of scripts/bench.sh (issue
// 16): it compresses uncompressed tar streams (the layer blobs of
// `ocibundle pack -c none`) with pack's own encoder and settings
// (compress.NewWriter, zstd, the default level), so that pack's time can be
// compared with the time of its encoder alone on the same bytes.
//
//	zstdceiling [-jobs N] -o DIR FILE...
//
// Each FILE is read in 1 MiB reads and written, compressed, to DIR/BASE.zst
// in 1 MiB writes, up to N files at once (pack's --jobs, default the number
// of CPUs); nothing is hashed or synced. Nobody imports it; bench.sh builds it.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"

	"github.com/ocibundle/ocibundle/compress"
)

func main() {
	jobs := flag.Int("jobs", runtime.GOMAXPROCS(0), "files compressed at once")
	out := flag.String("o", "", "output directory")
	flag.Parse()
	if *out == "" || flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: zstdceiling [-jobs N] -o DIR FILE...")
		os.Exit(2)
	}
	sem := make(chan struct{}, max(*jobs, 1))
	errs := make([]error, flag.NArg())
	var wg sync.WaitGroup
	for i, name := range flag.Args() {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			errs[i] = encode(name, filepath.Join(*out, filepath.Base(name)+".zst"))
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			fmt.Fprintln(os.Stderr, "zstdceiling:", err)
			os.Exit(1)
		}
	}
}

// encode compresses the file in into the new file out, as pack compresses a
// layer's tar stream.
func encode(in, out string) error {
	r, err := os.Open(in)
	if err != nil {
		return err
	}
	defer r.Close()
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	enc, err := compress.NewWriter(w, compress.Zstd, compress.Default)
	if err != nil {
		return err
	}
	if _, err := io.CopyBuffer(struct{ io.Writer }{enc}, struct{ io.Reader }{r}, make([]byte, 1<<20)); err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	if err := enc.Close(); err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("%s: %w", out, err)
	}
	return f.Close()
}
