//go:build !windows

package layer

// sparseHoles: Unix file systems leave a hole where a block is skipped.
const sparseHoles = true
