package compress

import "errors"

var (
	// ErrUnknownMediaType: no codec handles the media type.
	ErrUnknownMediaType = errors.New("unsupported layer media type")
	// ErrUnknownCodec: the codec name is not zstd, gzip or none.
	ErrUnknownCodec = errors.New("unknown compression")
	// ErrUnknownLevel: the level name is not fastest, default, better or best.
	ErrUnknownLevel = errors.New("unknown compression level")
	// ErrAborted: the encoder was stopped with Abort; its output is cut
	// off.
	ErrAborted = errors.New("compression aborted")
)
