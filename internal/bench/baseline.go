package bench

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"slices"
	"time"
)

// Baseline is the committed record of allocations per call that the
// regression check compares a run with. Allocations, unlike times, hardly
// depend on the machine.
type Baseline struct {
	Comment   string                 `json:"comment"`
	Recorded  string                 `json:"recorded"`
	Threshold float64                `json:"threshold"` // a fraction: 0.25 fails on more than +25 %
	Measures  map[string]AllocFigure `json:"measures"`  // by [Latency.Key]
}

// AllocFigure is one measure's allocations per call.
type AllocFigure struct {
	BytesPerCall   float64 `json:"bytes_per_call"`
	ObjectsPerCall float64 `json:"objects_per_call"`
}

// defaultThreshold is the increase the check tolerates.
const defaultThreshold = 0.25

// readBaseline reads a baseline file.
func readBaseline(path string) (*Baseline, error) {
	b, err := os.ReadFile(path) // #nosec G304 -- the file the user named
	if err != nil {
		return nil, err
	}
	var base Baseline
	if err := json.Unmarshal(b, &base); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if base.Threshold <= 0 {
		base.Threshold = defaultThreshold
	}
	return &base, nil
}

// newBaseline records the allocations of a run's latency measures.
func newBaseline(lats []*Latency, comment string, now time.Time) *Baseline {
	if comment == "" {
		comment = "allocations per call recorded by aegis-bench -write-baseline"
	}
	base := &Baseline{Comment: comment, Recorded: now.UTC().Format(time.DateOnly), Threshold: defaultThreshold, Measures: map[string]AllocFigure{}}
	for _, l := range lats {
		base.Measures[l.Key()] = AllocFigure{BytesPerCall: roundTo(l.BytesPerCall, 0), ObjectsPerCall: roundTo(l.ObjectsPerCall, 1)}
	}
	return base
}

// roundTo rounds v to a multiple of 10^-digits.
func roundTo(v float64, digits int) float64 {
	p := math.Pow10(digits)
	return math.Round(v*p) / p
}

// write stores the baseline as indented JSON.
func (b *Baseline) write(path string) error {
	out, err := json.MarshalIndent(b, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(out, '\n'), 0o600)
}

// AllocCheck is one measure compared with the baseline.
type AllocCheck struct {
	Key        string  `json:"measure"`
	Bytes      float64 `json:"bytes_per_call"`
	BaseBytes  float64 `json:"baseline_bytes_per_call"`
	Objects    float64 `json:"objects_per_call"`
	BaseObjs   float64 `json:"baseline_objects_per_call"`
	Failed     bool    `json:"failed"`
	NoBaseline bool    `json:"no_baseline,omitempty"`
}

func (c *AllocCheck) String() string {
	if c.NoBaseline {
		return fmt.Sprintf("alloc-check %-31s %.1fKB %.0f objects/call | not in the baseline", c.Key, c.Bytes/1024, c.Objects)
	}
	verdict := "ok"
	if c.Failed {
		verdict = "FAIL"
	}
	return fmt.Sprintf("alloc-check %-31s %.1fKB (baseline %.1fKB, %+.1f%%) %.0f objects/call (baseline %.0f, %+.1f%%) | %s",
		c.Key, c.Bytes/1024, c.BaseBytes/1024, change(c.Bytes, c.BaseBytes), c.Objects, c.BaseObjs, change(c.Objects, c.BaseObjs), verdict)
}

func change(v, base float64) float64 {
	if base == 0 {
		return 0
	}
	return 100 * (v - base) / base
}

// compare checks every latency measure's allocations per call against the
// baseline: more bytes or more objects than (1+Threshold) times the
// baseline fail. Fewer are fine (record a new baseline to keep the gain).
func (b *Baseline) compare(lats []*Latency) (checks []*AllocCheck, failed bool) {
	for _, l := range lats {
		c := &AllocCheck{Key: l.Key(), Bytes: l.BytesPerCall, Objects: l.ObjectsPerCall}
		base, ok := b.Measures[c.Key]
		if !ok {
			c.NoBaseline = true
		} else {
			c.BaseBytes, c.BaseObjs = base.BytesPerCall, base.ObjectsPerCall
			limit := 1 + b.Threshold
			c.Failed = c.Bytes > base.BytesPerCall*limit || c.Objects > base.ObjectsPerCall*limit
		}
		failed = failed || c.Failed
		checks = append(checks, c)
	}
	slices.SortStableFunc(checks, func(x, y *AllocCheck) int {
		switch {
		case x.Failed == y.Failed:
			return 0
		case x.Failed:
			return 1 // failures last, next to the verdict
		}
		return -1
	})
	return checks, failed
}
