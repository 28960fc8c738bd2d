package layer

import (
	"fmt"

	"github.com/ocibundle/ocibundle/units"
)

// DefaultMaxLayerSize caps, in bytes, the uncompressed tar of a layer that
// declares no uncompressed size (io.ocibundle.content.size): extract and
// verify --deep stop reading a layer there, so that a small compressed
// layer cannot write or hash an unbounded stream (a decompression bomb).
// The --max-layer-size flag sets another cap.
const DefaultMaxLayerSize = 16 << 30

// ContentLimit returns the most bytes a layer's uncompressed stream may
// have, and what says so: declared when >= 0 (the layer's
// io.ocibundle.content.size), otherwise max, or DefaultMaxLayerSize when
// max <= 0. The reason reads in a message after "more than N bytes".
func ContentLimit(declared, max int64) (int64, string) {
	if declared >= 0 {
		return declared, "its io.ocibundle.content.size"
	}
	if max <= 0 {
		max = DefaultMaxLayerSize
	}
	return max, fmt.Sprintf("the %s cap on a layer without io.ocibundle.content.size (--max-layer-size)", units.FormatBytes(max))
}
