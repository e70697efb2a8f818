package audit

import (
	"path/filepath"
	"sync"
	"testing"
)

// BenchmarkRecord measures Record alone and with concurrent callers. The
// lock covers only the hash and one write (fsync happens after it, shared
// by the durable callers waiting), so parallel durable records cost far
// less than one fsync each, and a non-durable record beside durable ones
// does not wait for their fsyncs.
func BenchmarkRecord(b *testing.B) {
	e := sample(1)
	e.ArgumentsSHA256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	bench := func(name string, durable, parallel bool) {
		b.Run(name, func(b *testing.B) {
			l := open(b, Options{Path: filepath.Join(b.TempDir(), "audit.log"), MaxBytes: 64 << 20})
			b.ReportAllocs()
			if parallel {
				b.SetParallelism(16) // 16 × GOMAXPROCS callers
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if _, err := l.Record(e, durable); err != nil {
							b.Error(err)
							return
						}
					}
				})
				return
			}
			for b.Loop() {
				if _, err := l.Record(e, durable); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	bench("serial", false, false)
	bench("parallel", false, true)
	bench("durable", true, false)
	bench("durable-parallel", true, true)

	// Non-durable records while other goroutines keep fsyncing.
	b.Run("beside-durable", func(b *testing.B) {
		l := open(b, Options{Path: filepath.Join(b.TempDir(), "audit.log"), MaxBytes: 64 << 20})
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
						if _, err := l.Record(e, true); err != nil {
							b.Error(err)
							return
						}
					}
				}
			})
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := l.Record(e, false); err != nil {
				b.Fatal(err)
			}
		}
		close(stop)
		wg.Wait()
	})
}
