package testseed

import (
	"testing"
)

func TestSeedFromEnv(t *testing.T) {
	t.Setenv(EnvVar, "12345")
	if got := Seed(t); got != 12345 {
		t.Errorf("Seed() = %d, want 12345", got)
	}
}

func TestSeedFromClockDiffers(t *testing.T) {
	t.Setenv(EnvVar, "")
	a := Seed(t)
	b := Seed(t)
	if a == 0 || b == 0 {
		t.Errorf("Seed() = %d, %d; want non-zero clock seeds", a, b)
	}
}
