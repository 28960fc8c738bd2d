// Package testseed gives randomized tests one way to choose, print and
// accept their seed, so that any failure they find can be replayed.
package testseed

import (
	"os"
	"strconv"
	"testing"
	"time"
)

// EnvVar names the variable that replays a seed: OCIBUNDLE_TEST_SEED=N
// makes every randomized test use N instead of the clock.
const EnvVar = "OCIBUNDLE_TEST_SEED"

// Seed returns the seed for t's random choices: the value of EnvVar when it
// is set, else the current time in nanoseconds. It logs the seed and the
// way to replay it, and fails t at once when EnvVar is not a decimal uint64.
func Seed(t testing.TB) uint64 {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv(EnvVar); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("%s=%q: want a decimal seed", EnvVar, s)
		}
		seed = v
	}
	t.Logf("seed %d (replay with %s=%d)", seed, EnvVar, seed)
	return seed
}
