// Package compress chooses a codec by layer media type (zstd, gzip or none)
// and builds deterministic encoders and bounded decoders for it.
//
// Determinism: encoder output depends only on the input, the codec, the level
// and the pinned klauspost/compress version (go.mod is part of the format).
// The zstd encoder runs in klauspost's concurrent-blocks mode with a fixed
// encoder concurrency (EncoderConcurrency), never the machine's core count:
// that mode cuts the input into fixed-size jobs, so the bytes are the same on
// one core or many, while large layers still compress on several cores.
package compress
