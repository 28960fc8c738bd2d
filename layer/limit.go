package layer

import (
	"fmt"

	"github.com/ocibundle/ocibundle/units"
)

// The default cap, in bytes, on the uncompressed tar of a layer that
// declares no uncompressed size (io.ocibundle.content.size: image layers,
// most ORAS layers): DefaultLayerRatio times its compressed size, at least
// MinLayerCap, at most DefaultMaxLayerSize. Extract and verify --deep stop
// reading a layer there, so a small compressed layer cannot write or hash
// an unbounded stream (a decompression bomb: 128 KiB of zstd is 4 GiB of
// zeros), while real layers, which seldom compress even 10 times, pass.
// --max-layer-size sets a cap of its own instead.
const (
	DefaultMaxLayerSize = 16 << 30
	MinLayerCap         = 1 << 30
	DefaultLayerRatio   = 100
)

// ContentLimit returns the most bytes the uncompressed stream of a layer
// of compressed bytes may have, and what says so (for a message, after
// "more than N bytes, "): declared when >= 0 (the layer's
// io.ocibundle.content.size); otherwise capSize when > 0
// (--max-layer-size);
// otherwise the default cap above.
func ContentLimit(declared, capSize, compressed int64) (int64, string) {
	switch {
	case declared >= 0:
		return declared, "its io.ocibundle.content.size"
	case capSize > 0:
		return capSize, fmt.Sprintf("the --max-layer-size cap (%s) on a layer without io.ocibundle.content.size", units.FormatBytes(capSize))
	}
	limit := int64(DefaultMaxLayerSize)
	if compressed < DefaultMaxLayerSize/DefaultLayerRatio {
		limit = max(MinLayerCap, compressed*DefaultLayerRatio)
	}
	return limit, fmt.Sprintf("the default cap on a layer without io.ocibundle.content.size (%d times its %s, at least %s, at most %s; --max-layer-size sets another)",
		DefaultLayerRatio, units.FormatBytes(compressed), units.FormatBytes(MinLayerCap), units.FormatBytes(DefaultMaxLayerSize))
}
